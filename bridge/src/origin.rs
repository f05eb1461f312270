//! The `Origin` check made before the WebSocket upgrade.
//!
//! Browsers attach cookies and client certificates to cross-site WebSocket
//! handshakes and let any page open them (the same-origin policy does not
//! apply to WebSockets), so without this check any web page could use a
//! visitor's bridge ("cross-site WebSocket hijacking"). Clients that are not
//! browsers send no `Origin` and cannot be told apart by it; they are let
//! through, which grants them nothing a plain TCP client could not do.

use std::fmt;

use axum::http::Uri;
use axum::http::uri::Authority;

/// A web origin, `scheme://host[:port]`, normalised: lower-case scheme and
/// host, explicit port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses `http(s)://host[:port]` (no path, query or user info), as
    /// browsers send it and operators write it.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        const SHAPE: &str = "must be scheme://host[:port] with scheme http or https, no path";
        let uri: Uri = text.parse().map_err(|_| SHAPE)?;
        let scheme = uri.scheme_str().ok_or(SHAPE)?.to_ascii_lowercase();
        let default_port = default_port(&scheme).ok_or(SHAPE)?;
        let authority = uri.authority().ok_or(SHAPE)?;
        if authority.as_str().contains('@')
            || uri.path_and_query().is_some_and(|p| p.as_str() != "/")
        {
            return Err(SHAPE);
        }
        if text.ends_with('/') {
            return Err(SHAPE);
        }
        Ok(Self {
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(default_port),
            scheme,
        })
    }

    /// Whether this origin names the host the request was sent to (its
    /// `Host` header), i.e. the page was served by this bridge.
    fn is_same_host(&self, host_header: &str) -> bool {
        let Ok(authority) = host_header.parse::<Authority>() else {
            return false;
        };
        authority.host().eq_ignore_ascii_case(&self.host)
            && authority.port_u16().unwrap_or(self.default_port()) == self.port
    }

    fn default_port(&self) -> u16 {
        default_port(&self.scheme).unwrap_or(0)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// Decides whether a WebSocket upgrade may proceed.
///
/// - no `Origin` header (not a browser): allowed;
/// - `allowed` non-empty: the origin must be one of them;
/// - `allowed` empty: the origin's host and port must be the request's
///   `Host` (same origin; behind a proxy, the proxy must pass `Host` on).
///
/// An `Origin` that does not parse (including `null`) is refused.
pub fn origin_allowed(allowed: &[Origin], origin: Option<&str>, host: Option<&str>) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let Ok(origin) = Origin::parse(origin) else {
        return false;
    };
    if allowed.is_empty() {
        host.is_some_and(|h| origin.is_same_host(h))
    } else {
        allowed.contains(&origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(origins: &[&str]) -> Vec<Origin> {
        origins.iter().map(|o| Origin::parse(o).unwrap()).collect()
    }

    #[test]
    fn parses_and_normalises() {
        let o = Origin::parse("HTTPS://Mail.Example.COM").unwrap();
        assert_eq!(o, Origin::parse("https://mail.example.com:443").unwrap());
        assert_eq!(o.to_string(), "https://mail.example.com:443");
        assert_eq!(
            Origin::parse("http://127.0.0.1:18090").unwrap().to_string(),
            "http://127.0.0.1:18090"
        );
        Origin::parse("http://[::1]:8080").unwrap();
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "null",
            "",
            "mail.example.com",
            "ftp://mail.example.com",
            "https://mail.example.com/",
            "https://mail.example.com/app",
            "https://mail.example.com?x=1",
            "https://user@mail.example.com",
            "https://",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn allow_list() {
        let allowed = list(&["https://mail.example.com", "http://127.0.0.1:18090"]);
        let ok = |o| origin_allowed(&allowed, Some(o), Some("bridge.internal:8080"));
        assert!(ok("https://mail.example.com"));
        assert!(ok("https://MAIL.example.com:443"));
        assert!(ok("http://127.0.0.1:18090"));
        assert!(!ok("http://mail.example.com"));
        assert!(!ok("https://mail.example.com:8443"));
        assert!(!ok("https://evil.example.com"));
        assert!(!ok("https://mail.example.com.evil.test"));
        assert!(!ok("null"));
        // The Host header plays no part once a list is configured.
        assert!(!origin_allowed(
            &allowed,
            Some("http://bridge.internal:8080"),
            Some("bridge.internal:8080")
        ));
    }

    #[test]
    fn missing_origin_is_allowed() {
        assert!(origin_allowed(&[], None, None));
        assert!(origin_allowed(
            &list(&["https://mail.example.com"]),
            None,
            Some("x")
        ));
    }

    #[test]
    fn same_origin_by_default() {
        let same = |o, h| origin_allowed(&[], Some(o), h);
        assert!(same("http://127.0.0.1:8080", Some("127.0.0.1:8080")));
        assert!(same("https://Mail.Example.com", Some("mail.example.com")));
        assert!(same(
            "https://mail.example.com",
            Some("mail.example.com:443")
        ));
        assert!(same("http://[::1]:8080", Some("[::1]:8080")));
        assert!(!same("http://127.0.0.1:8081", Some("127.0.0.1:8080")));
        assert!(!same("https://evil.example.com", Some("mail.example.com")));
        assert!(!same(
            "http://mail.example.com",
            Some("mail.example.com:443")
        ));
        assert!(!same("http://127.0.0.1:8080", None));
        assert!(!same("null", Some("127.0.0.1:8080")));
    }
}
