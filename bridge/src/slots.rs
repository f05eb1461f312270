//! Session limits: how many WebSocket sessions may be open at once, in
//! total and per client address, so that one client (or a flood) cannot
//! exhaust the bridge's sockets and memory.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::HeaderMap;

/// Which limit refused a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LimitExceeded {
    /// `limits.max_sessions`.
    #[error("the bridge has reached its session limit; try again later")]
    Global,
    /// `limits.max_sessions_per_ip`.
    #[error("too many sessions from your address; close one and try again")]
    PerClient,
}

/// Most sessions refused by a limit that may be open at once to tell the
/// browser `limit_reached`. Each lasts at most the closing timeout; past this
/// many, a flood of upgrades is refused with HTTP 503 and holds no socket.
pub(crate) const MAX_REPORTING: usize = 64;

/// Why a session may not open, and how to say so.
#[derive(Debug)]
pub(crate) enum Refused {
    /// Upgrade anyway and report the limit, so the page can say why.
    Report(LimitReport),
    /// Too many reports already open: refuse the upgrade itself.
    Busy(LimitExceeded),
}

impl Refused {
    #[cfg(test)]
    fn limit(&self) -> LimitExceeded {
        match self {
            Self::Report(report) => report.limit,
            Self::Busy(limit) => *limit,
        }
    }
}

/// A refused session's place among the [`MAX_REPORTING`]; given back when
/// dropped.
#[derive(Debug)]
pub(crate) struct LimitReport {
    pub(crate) limit: LimitExceeded,
    slots: Arc<SessionSlots>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
    reporting: usize,
}

/// Counts open sessions against the limits.
#[derive(Debug)]
pub(crate) struct SessionSlots {
    max_total: usize,
    max_per_client: usize,
    counts: Mutex<Counts>,
}

/// One open session's place; gives it back when dropped.
#[derive(Debug)]
pub(crate) struct SessionSlot {
    slots: Arc<SessionSlots>,
    client: IpAddr,
}

impl SessionSlots {
    pub(crate) fn new(max_total: usize, max_per_client: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_client,
            counts: Mutex::new(Counts::default()),
        })
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a place for a session from `client`, if both limits allow.
    pub(crate) fn try_acquire(self: &Arc<Self>, client: IpAddr) -> Result<SessionSlot, Refused> {
        let client = client_key(client);
        let mut counts = self.counts();
        let limit = if counts.total >= self.max_total {
            LimitExceeded::Global
        } else {
            let mine = counts.per_client.entry(client).or_insert(0);
            if *mine < self.max_per_client {
                *mine += 1;
                counts.total += 1;
                return Ok(SessionSlot {
                    slots: Arc::clone(self),
                    client,
                });
            }
            LimitExceeded::PerClient
        };
        if counts.reporting >= MAX_REPORTING {
            return Err(Refused::Busy(limit));
        }
        counts.reporting += 1;
        Err(Refused::Report(LimitReport {
            limit,
            slots: Arc::clone(self),
        }))
    }
}

impl Drop for LimitReport {
    fn drop(&mut self) {
        self.slots.counts().reporting -= 1;
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut counts = self.slots.counts();
        counts.total -= 1;
        if let Some(n) = counts.per_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                counts.per_client.remove(&self.client);
            }
        }
    }
}

/// The key a client is counted under: its IPv4 address (also when seen as
/// IPv4-mapped IPv6), or its IPv6 /64, since one IPv6 client commonly has a
/// whole /64 to pick addresses from.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

/// The client's address for the session limits: [`forwarded_client`], or
/// the proxy itself when it did not say who its client is.
pub(crate) fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    forwarded_client(peer, headers, trusted).unwrap_or_else(|| peer.to_canonical())
}

/// The client's address: the TCP peer, or, when the peer is one of the
/// `trusted` proxies, the right-most `X-Forwarded-For` entry that is not a
/// trusted proxy (entries further left are whatever the client claimed).
/// `None` when a trusted proxy sent no such entry, or garbage where it should
/// have written one: the client is unknown. IPv4-mapped addresses (a
/// dual-stack listener's IPv4 peers) count as their IPv4 address.
pub(crate) fn forwarded_client(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.to_canonical() == ip);
    let peer = peer.to_canonical();
    if !is_trusted(peer) {
        return Some(peer);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for entry in forwarded.iter().rev() {
        // Garbage where the proxy should have written an address: do not
        // guess further left.
        let ip = entry.parse::<IpAddr>().ok()?.to_canonical();
        if !is_trusted(ip) {
            return Some(ip);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn per_client_and_global_limits() {
        let slots = SessionSlots::new(3, 2);
        let a1 = slots.try_acquire(ip("192.0.2.1")).unwrap();
        let _a2 = slots.try_acquire(ip("192.0.2.1")).unwrap();
        assert_eq!(
            slots.try_acquire(ip("192.0.2.1")).unwrap_err().limit(),
            LimitExceeded::PerClient
        );
        // IPv4-mapped is the same client.
        assert_eq!(
            slots
                .try_acquire(ip("::ffff:192.0.2.1"))
                .unwrap_err()
                .limit(),
            LimitExceeded::PerClient
        );
        let _b = slots.try_acquire(ip("192.0.2.2")).unwrap();
        assert_eq!(
            slots.try_acquire(ip("192.0.2.3")).unwrap_err().limit(),
            LimitExceeded::Global
        );
        drop(a1);
        let _a3 = slots.try_acquire(ip("192.0.2.1")).unwrap();
    }

    #[test]
    fn limit_reports_are_bounded() {
        let slots = SessionSlots::new(1, 1);
        let _open = slots.try_acquire(ip("192.0.2.1")).unwrap();
        let mut reports: Vec<_> = (0..MAX_REPORTING)
            .map(|_| slots.try_acquire(ip("192.0.2.2")).unwrap_err())
            .collect();
        assert!(reports.iter().all(|r| matches!(r, Refused::Report(_))));
        assert!(matches!(
            slots.try_acquire(ip("192.0.2.3")),
            Err(Refused::Busy(LimitExceeded::Global))
        ));
        // A finished report frees its place; the open session's is untouched.
        reports.pop();
        assert!(matches!(
            slots.try_acquire(ip("192.0.2.3")),
            Err(Refused::Report(_))
        ));
    }

    #[test]
    fn ipv6_counts_per_64() {
        let slots = SessionSlots::new(10, 1);
        let _a = slots.try_acquire(ip("2001:db8:1:2::1")).unwrap();
        assert!(slots.try_acquire(ip("2001:db8:1:2:ffff::9")).is_err());
        let _b = slots.try_acquire(ip("2001:db8:1:3::1")).unwrap();
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 203.0.113.5, 10.0.0.2"),
        );
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        // Untrusted peer: the header is ignored.
        assert_eq!(
            client_addr(ip("198.51.100.1"), &h, &trusted),
            ip("198.51.100.1")
        );
        // Trusted peer: right-most untrusted entry.
        assert_eq!(client_addr(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.5"));
        // No header, or garbage: the peer.
        assert_eq!(
            client_addr(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
        h.insert("x-forwarded-for", HeaderValue::from_static("1.1.1.1, junk"));
        assert_eq!(client_addr(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
        // ...for which the client is unknown.
        assert_eq!(forwarded_client(ip("10.0.0.1"), &h, &trusted), None);
        let only_proxies = HeaderValue::from_static("10.0.0.2");
        h.insert("x-forwarded-for", only_proxies);
        assert_eq!(forwarded_client(ip("10.0.0.1"), &h, &trusted), None);
        // A dual-stack listener sees IPv4 peers as IPv4-mapped.
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("::ffff:203.0.113.5"),
        );
        assert_eq!(
            forwarded_client(ip("::ffff:10.0.0.1"), &h, &trusted),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(
            forwarded_client(ip("::ffff:198.51.100.1"), &h, &trusted),
            Some(ip("198.51.100.1"))
        );
    }
}
