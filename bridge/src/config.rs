//! Configuration: a TOML file plus command-line flags (with environment
//! fallbacks) that override the file's values.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::origin::Origin;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default directory of static web files: the page as `build_web` (tests/lib.sh) builds it
/// from the sources in `web/`.
pub const DEFAULT_WEB_DIR: &str = "web/dist";
/// Upper bound for every timeout setting (one day).
const MAX_TIMEOUT_SECS: u64 = 86_400;
/// Bounds for `limits.max_message_bytes`.
const MIN_MESSAGE_BYTES: usize = 1024;
const MAX_MESSAGE_BYTES: usize = 64 << 20;
/// Upper bound for `limits.max_sessions`.
const MAX_SESSIONS: usize = 1_000_000;
/// The engine re-issues IDLE every 29 minutes; a shorter idle timeout cuts
/// quiet sessions that are working as intended.
const ENGINE_IDLE_REISSUE: Duration = Duration::from_secs(29 * 60);

/// Command-line interface. Flags (or their environment variables) override
/// the config file.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "bridge",
    version,
    about = "WebSocket-to-IMAP relay serving the webmail"
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, env = "BRIDGE_CONFIG", value_name = "PATH")]
    pub config: PathBuf,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "BRIDGE_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Directory of static web files [default: web/dist].
    #[arg(long = "web-dir", env = "BRIDGE_WEB_DIR", value_name = "PATH")]
    pub web_dir: Option<PathBuf>,
    /// Extra CA certificates (PEM) trusted for upstream TLS, besides the webpki roots.
    #[arg(long = "extra-ca", env = "BRIDGE_EXTRA_CA", value_name = "PATH")]
    pub extra_ca: Option<PathBuf>,
    /// Certificate chain (PEM) for serving https/wss directly; needs --tls-key.
    #[arg(long = "tls-cert", env = "BRIDGE_TLS_CERT", value_name = "PATH")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) for --tls-cert.
    #[arg(long = "tls-key", env = "BRIDGE_TLS_KEY", value_name = "PATH")]
    pub tls_key: Option<PathBuf>,
}

/// How the bridge talks to an IMAP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Implicit TLS (port 993 style). The default.
    Tls,
    /// Cleartext until the engine asks for the STARTTLS upgrade (port 143
    /// style); see `docs/bridge-protocol.md`.
    Starttls,
    /// Cleartext TCP. Must be spelled out, and on a server that is not
    /// `internal` also confirmed with `allow_cleartext`.
    Plain,
}

impl Security {
    /// Wire name (`"tls"` / `"starttls"` / `"plain"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::Starttls => "starttls",
            Self::Plain => "plain",
        }
    }

    /// Whether the bridge verifies a certificate for the configured host
    /// (at once or after STARTTLS).
    const fn uses_tls(self) -> bool {
        matches!(self, Self::Tls | Self::Starttls)
    }
}

fn default_security() -> Security {
    Security::Tls
}

/// One configured IMAP server (`[[servers]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Identifier used by the browser, `[a-z0-9-]{1,32}`.
    pub id: String,
    /// Human-readable name shown in the UI.
    pub name: String,
    /// Host name or IP address; also the TLS server name.
    pub host: String,
    /// TCP port, 1..=65535.
    pub port: u16,
    /// `"tls"` (default), `"starttls"` or `"plain"`.
    #[serde(default = "default_security")]
    pub security: Security,
    /// Operator's statement that this server is on a loopback or private
    /// network on purpose: its addresses skip the deny ranges of
    /// [`crate::netpolicy`].
    #[serde(default)]
    pub internal: bool,
    /// Confirms `security = "plain"` for a server that is not `internal`
    /// (passwords then cross the network in the clear).
    #[serde(default)]
    pub allow_cleartext: bool,
}

/// Resource limits and timeouts (`[limits]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest WebSocket frame and message accepted from the browser.
    pub max_message_bytes: usize,
    /// TCP connect timeout (name resolution included).
    pub connect_timeout: Duration,
    /// TLS handshake timeout.
    pub tls_handshake_timeout: Duration,
    /// Time allowed between the WebSocket upgrade and the `connect` message.
    pub handshake_timeout: Duration,
    /// Session closed after this long without data in either direction.
    pub idle_timeout: Duration,
    /// On shutdown, how long to wait for live sessions to close.
    pub shutdown_grace: Duration,
    /// Most WebSocket sessions open at once.
    pub max_sessions: usize,
    /// Most WebSocket sessions open at once from one client address (an
    /// IPv6 client counts per /64).
    pub max_sessions_per_ip: usize,
    /// Interval of the bridge's WebSocket pings, which keep proxies and NAT
    /// boxes from dropping a quiet (IDLE) session. Pings and pongs are not
    /// data: they do not hold off the idle timeout.
    pub ping_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 1 << 20,
            connect_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            // Longer than the client's 29-minute IDLE re-issue.
            idle_timeout: Duration::from_secs(35 * 60),
            shutdown_grace: Duration::from_secs(5),
            max_sessions: 1000,
            max_sessions_per_ip: 20,
            ping_interval: Duration::from_secs(30),
        }
    }
}

/// The `[limits]` table as written in TOML (whole seconds).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct LimitsFile {
    max_message_bytes: usize,
    connect_timeout_secs: u64,
    tls_handshake_timeout_secs: u64,
    handshake_timeout_secs: u64,
    idle_timeout_secs: u64,
    shutdown_grace_secs: u64,
    max_sessions: usize,
    max_sessions_per_ip: usize,
    ping_interval_secs: u64,
}

impl Default for LimitsFile {
    fn default() -> Self {
        let d = Limits::default();
        Self {
            max_message_bytes: d.max_message_bytes,
            connect_timeout_secs: d.connect_timeout.as_secs(),
            tls_handshake_timeout_secs: d.tls_handshake_timeout.as_secs(),
            handshake_timeout_secs: d.handshake_timeout.as_secs(),
            idle_timeout_secs: d.idle_timeout.as_secs(),
            shutdown_grace_secs: d.shutdown_grace.as_secs(),
            max_sessions: d.max_sessions,
            max_sessions_per_ip: d.max_sessions_per_ip,
            ping_interval_secs: d.ping_interval.as_secs(),
        }
    }
}

/// The TOML file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    web_dir: Option<PathBuf>,
    extra_ca: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default)]
    trusted_proxies: Vec<IpAddr>,
    metrics_allowed: Option<Vec<String>>,
    #[serde(default)]
    servers: Vec<ServerConfig>,
    #[serde(default)]
    limits: LimitsFile,
}

/// Complete, effective configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// Directory of static web files (relative paths are relative to the
    /// working directory).
    pub web_dir: PathBuf,
    /// Extra CA certificates (PEM file) trusted for upstream TLS.
    pub extra_ca: Option<PathBuf>,
    /// Certificate chain (PEM) for serving https/wss; with `tls_key`.
    /// Without both, the bridge serves plain HTTP (behind a TLS proxy).
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Origins whose pages may open `/imap`; empty means same origin only
    /// (the `Origin` must match the `Host` header).
    pub allowed_origins: Vec<Origin>,
    /// Reverse proxies whose `X-Forwarded-For` is believed when counting
    /// sessions per client address.
    pub trusted_proxies: Vec<IpAddr>,
    /// Client networks that may read `/metrics` (the client address as for
    /// the session limits); loopback only unless configured.
    pub metrics_allowed: Vec<IpNet>,
    /// Configured IMAP servers.
    pub servers: Vec<ServerConfig>,
    /// Limits and timeouts.
    pub limits: Limits,
}

impl Config {
    /// Reads the file named by `cli.config`, applies the CLI overrides and
    /// validates the result.
    pub fn load(cli: &Cli) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(&cli.config).map_err(|source| ConfigError::Read {
            path: cli.config.clone(),
            source,
        })?;
        let mut config = Self::parse(&text, &cli.config.display().to_string())?;
        if let Some(listen) = cli.listen {
            config.listen = listen;
        }
        if let Some(web_dir) = &cli.web_dir {
            config.web_dir.clone_from(web_dir);
        }
        if let Some(extra_ca) = &cli.extra_ca {
            config.extra_ca = Some(extra_ca.clone());
        }
        if let Some(cert) = &cli.tls_cert {
            config.tls_cert = Some(cert.clone());
        }
        if let Some(key) = &cli.tls_key {
            config.tls_key = Some(key.clone());
        }
        config.validate()?;
        Ok(config)
    }

    /// Parses and validates TOML text (no CLI overrides).
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config = Self::parse(text, "<string>")?;
        config.validate()?;
        Ok(config)
    }

    fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_owned(),
            source: Box::new(e),
        })?;
        let l = file.limits;
        let listen = match file.listen {
            Some(a) => a,
            None => DEFAULT_LISTEN
                .parse()
                .map_err(|_| ConfigError::invalid("listen", "bad built-in default"))?,
        };
        Ok(Self {
            listen,
            web_dir: file
                .web_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_WEB_DIR)),
            extra_ca: file.extra_ca,
            tls_cert: file.tls_cert,
            tls_key: file.tls_key,
            allowed_origins: parse_origins(&file.allowed_origins)?,
            trusted_proxies: file.trusted_proxies,
            metrics_allowed: match &file.metrics_allowed {
                Some(nets) => parse_networks(nets)?,
                None => LOOPBACK.to_vec(),
            },
            servers: file.servers,
            limits: Limits {
                max_message_bytes: l.max_message_bytes,
                connect_timeout: secs("limits.connect_timeout_secs", l.connect_timeout_secs)?,
                tls_handshake_timeout: secs(
                    "limits.tls_handshake_timeout_secs",
                    l.tls_handshake_timeout_secs,
                )?,
                handshake_timeout: secs("limits.handshake_timeout_secs", l.handshake_timeout_secs)?,
                idle_timeout: secs("limits.idle_timeout_secs", l.idle_timeout_secs)?,
                shutdown_grace: secs("limits.shutdown_grace_secs", l.shutdown_grace_secs)?,
                max_sessions: l.max_sessions,
                max_sessions_per_ip: l.max_sessions_per_ip,
                ping_interval: secs("limits.ping_interval_secs", l.ping_interval_secs)?,
            },
        })
    }

    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.servers.is_empty() {
            return Err(ConfigError::invalid(
                "servers",
                "at least one [[servers]] entry is required",
            ));
        }
        let mut ids = HashSet::new();
        for (i, s) in self.servers.iter().enumerate() {
            validate_server(i, s)?;
            if !ids.insert(s.id.as_str()) {
                return Err(ConfigError::invalid(
                    format!("servers[{i}].id"),
                    format!("duplicate server id {:?}", s.id),
                ));
            }
        }
        self.limits.validate()?;
        if let Some(path) = &self.extra_ca {
            crate::upstream::load_extra_ca(path)?;
        }
        self.browser_tls()?;
        Ok(())
    }

    /// The browser-side TLS configuration, if `tls_cert` and `tls_key` are
    /// set (both or neither).
    pub fn browser_tls(&self) -> Result<Option<rustls::ServerConfig>, ConfigError> {
        match (&self.tls_cert, &self.tls_key) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => crate::tls_listener::server_config(cert, key).map(Some),
            (Some(_), None) => Err(ConfigError::invalid("tls_key", "required with tls_cert")),
            (None, Some(_)) => Err(ConfigError::invalid("tls_cert", "required with tls_key")),
        }
    }

    /// Looks up a server by id.
    pub fn server(&self, id: &str) -> Option<&ServerConfig> {
        self.servers.iter().find(|s| s.id == id)
    }

    /// Settings that work but are probably mistakes: a missing web
    /// directory (only the API is served then) and an idle timeout that cuts
    /// the engine's IDLE. Human-readable, for the log.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let p: &Path = &self.web_dir;
        if !p.is_dir() {
            warnings.push(format!(
                "web_dir {} is not a directory; only the API will be served",
                p.display()
            ));
        }
        if self.limits.idle_timeout <= ENGINE_IDLE_REISSUE {
            warnings.push(format!(
                "limits.idle_timeout_secs = {} is not above the engine's {} s IDLE re-issue; \
                 idle mailboxes will be disconnected",
                self.limits.idle_timeout.as_secs(),
                ENGINE_IDLE_REISSUE.as_secs()
            ));
        }
        warnings
    }
}

impl Limits {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(MIN_MESSAGE_BYTES..=MAX_MESSAGE_BYTES).contains(&self.max_message_bytes) {
            return Err(ConfigError::invalid(
                "limits.max_message_bytes",
                format!("must be in {MIN_MESSAGE_BYTES}..={MAX_MESSAGE_BYTES}"),
            ));
        }
        for (name, d) in [
            ("limits.connect_timeout_secs", self.connect_timeout),
            (
                "limits.tls_handshake_timeout_secs",
                self.tls_handshake_timeout,
            ),
            ("limits.handshake_timeout_secs", self.handshake_timeout),
            ("limits.idle_timeout_secs", self.idle_timeout),
            ("limits.shutdown_grace_secs", self.shutdown_grace),
            ("limits.ping_interval_secs", self.ping_interval),
        ] {
            if d.is_zero() || d > Duration::from_secs(MAX_TIMEOUT_SECS) {
                return Err(ConfigError::invalid(
                    name,
                    format!("must be between 1 and {MAX_TIMEOUT_SECS} seconds"),
                ));
            }
        }
        if self.ping_interval > self.idle_timeout {
            return Err(ConfigError::invalid(
                "limits.ping_interval_secs",
                "must not exceed limits.idle_timeout_secs",
            ));
        }
        if !(1..=MAX_SESSIONS).contains(&self.max_sessions) {
            return Err(ConfigError::invalid(
                "limits.max_sessions",
                format!("must be in 1..={MAX_SESSIONS}"),
            ));
        }
        if !(1..=self.max_sessions).contains(&self.max_sessions_per_ip) {
            return Err(ConfigError::invalid(
                "limits.max_sessions_per_ip",
                "must be in 1..=limits.max_sessions",
            ));
        }
        Ok(())
    }
}

/// Checks one `[[servers]]` entry (not the uniqueness of its id).
fn validate_server(i: usize, s: &ServerConfig) -> Result<(), ConfigError> {
    let field = |name: &str| format!("servers[{i}].{name}");
    if !valid_id(&s.id) {
        return Err(ConfigError::invalid(
            field("id"),
            format!("{:?} must match [a-z0-9-]{{1,32}}", s.id),
        ));
    }
    if s.name.trim().is_empty() {
        return Err(ConfigError::invalid(field("name"), "must not be empty"));
    }
    if s.host.trim().is_empty() {
        return Err(ConfigError::invalid(field("host"), "must not be empty"));
    }
    if s.host.trim() != s.host {
        return Err(ConfigError::invalid(
            field("host"),
            "must not have leading or trailing whitespace",
        ));
    }
    if s.port == 0 {
        return Err(ConfigError::invalid(field("port"), "must be in 1..65535"));
    }
    if s.security.uses_tls() && rustls_pki_types::ServerName::try_from(s.host.as_str()).is_err() {
        return Err(ConfigError::invalid(
            field("host"),
            format!("{:?} is not a valid TLS server name", s.host),
        ));
    }
    if s.security == Security::Plain && !s.internal && !s.allow_cleartext {
        return Err(ConfigError::invalid(
            field("security"),
            "\"plain\" to a server that is not internal sends passwords in the clear; \
             use \"tls\" or \"starttls\", or set allow_cleartext = true",
        ));
    }
    if s.allow_cleartext && s.security != Security::Plain {
        return Err(ConfigError::invalid(
            field("allow_cleartext"),
            "only applies to security = \"plain\"",
        ));
    }
    Ok(())
}

fn parse_origins(origins: &[String]) -> Result<Vec<Origin>, ConfigError> {
    origins
        .iter()
        .enumerate()
        .map(|(i, o)| {
            Origin::parse(o)
                .map_err(|why| ConfigError::invalid(format!("allowed_origins[{i}]"), why))
        })
        .collect()
}

/// `metrics_allowed` entries: a network (`10.0.0.0/8`) or one address.
fn parse_networks(nets: &[String]) -> Result<Vec<IpNet>, ConfigError> {
    nets.iter()
        .enumerate()
        .map(|(i, n)| {
            n.parse::<IpNet>()
                .or_else(|_| n.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError::invalid(
                        format!("metrics_allowed[{i}]"),
                        "must be an IP network such as 10.0.0.0/8, or an IP address",
                    )
                })
        })
        .collect()
}

/// The default `metrics_allowed`: a scraper on the bridge's own host.
const LOOPBACK: [IpNet; 2] = [
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8)),
    IpNet::V6(Ipv6Net::new_assert(Ipv6Addr::LOCALHOST, 128)),
];

fn secs(field: &str, value: u64) -> Result<Duration, ConfigError> {
    if value == 0 || value > MAX_TIMEOUT_SECS {
        return Err(ConfigError::invalid(
            field,
            format!("must be between 1 and {MAX_TIMEOUT_SECS} seconds"),
        ));
    }
    Ok(Duration::from_secs(value))
}

fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    const GOOD: &str = r#"
listen = "127.0.0.1:9000"
web_dir = "site"

[[servers]]
id = "demo"
name = "Demo mailbox"
host = "localhost"
port = 10993
security = "tls"

[[servers]]
id = "loop-1"
name = "Loopback"
host = "127.0.0.1"
port = 10143
security = "plain"
internal = true

[limits]
idle_timeout_secs = 60
"#;

    fn err(text: &str) -> String {
        Config::from_toml_str(text).unwrap_err().to_string()
    }

    fn server(extra: &str) -> String {
        format!(
            "[[servers]]\nid = \"a\"\nname = \"A\"\nhost = \"localhost\"\nport = 993\n{extra}\n"
        )
    }

    #[test]
    fn good_config() {
        let c = Config::from_toml_str(GOOD).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(c.web_dir, PathBuf::from("site"));
        assert_eq!(c.extra_ca, None);
        assert_eq!(c.servers.len(), 2);
        assert_eq!(c.servers[0].security, Security::Tls);
        assert_eq!(c.servers[1].security, Security::Plain);
        assert_eq!(c.server("loop-1").unwrap().port, 10143);
        assert_eq!(c.limits.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.limits.connect_timeout, Duration::from_secs(10));
        assert_eq!(c.limits.max_message_bytes, 1 << 20);
    }

    #[test]
    fn defaults() {
        let c = Config::from_toml_str(&server("")).unwrap();
        assert_eq!(c.listen, DEFAULT_LISTEN.parse().unwrap());
        assert_eq!(c.web_dir, PathBuf::from(DEFAULT_WEB_DIR));
        assert_eq!(c.servers[0].security, Security::Tls);
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.limits.idle_timeout, Duration::from_secs(35 * 60));
    }

    #[test]
    fn no_servers() {
        assert!(err("listen = \"127.0.0.1:1\"").contains("servers"));
    }

    #[test]
    fn bad_id() {
        let e = err(&server("").replace("\"a\"", "\"Bad_Id\""));
        assert!(e.contains("servers[0].id"), "{e}");
        let long = "x".repeat(33);
        let e = err(&server("").replace("\"a\"", &format!("\"{long}\"")));
        assert!(e.contains("servers[0].id"), "{e}");
    }

    #[test]
    fn duplicate_id() {
        let e = err(&format!("{}{}", server(""), server("")));
        assert!(
            e.contains("servers[1].id") && e.contains("duplicate"),
            "{e}"
        );
    }

    #[test]
    fn empty_host() {
        let e = err(&server("").replace("\"localhost\"", "\"\""));
        assert!(e.contains("servers[0].host"), "{e}");
    }

    #[test]
    fn empty_name() {
        let e = err(&server("").replace("\"A\"", "\" \""));
        assert!(e.contains("servers[0].name"), "{e}");
    }

    #[test]
    fn bad_ports() {
        let e = err(&server("").replace("993", "0"));
        assert!(e.contains("servers[0].port"), "{e}");
        let e = err(&server("").replace("993", "70000"));
        assert!(e.contains("port"), "{e}");
        let e = err(&server("").replace("port = 993\n", ""));
        assert!(e.contains("port"), "{e}");
    }

    #[test]
    fn unknown_security() {
        let e = err(&server("security = \"ssl\""));
        assert!(e.contains("security") && e.contains("ssl"), "{e}");
        assert!(
            e.contains("tls") && e.contains("starttls") && e.contains("plain"),
            "{e}"
        );
    }

    #[test]
    fn unknown_fields() {
        let e = err(&server("hots = \"x\""));
        assert!(e.contains("hots"), "{e}");
        let e = err(&format!("lisen = \"127.0.0.1:1\"\n{}", server("")));
        assert!(e.contains("lisen"), "{e}");
        let e = err(&format!("{}[limits]\nidle = 3\n", server("")));
        assert!(e.contains("idle"), "{e}");
    }

    #[test]
    fn bad_listen() {
        let e = err(&format!("listen = \"nope\"\n{}", server("")));
        assert!(e.contains("listen"), "{e}");
    }

    #[test]
    fn bad_limits() {
        let e = err(&format!(
            "{}[limits]\nconnect_timeout_secs = 0\n",
            server("")
        ));
        assert!(e.contains("limits.connect_timeout_secs"), "{e}");
        let e = err(&format!("{}[limits]\nmax_message_bytes = 10\n", server("")));
        assert!(e.contains("limits.max_message_bytes"), "{e}");
    }

    #[test]
    fn tls_host_must_be_a_server_name() {
        let e = err(&server("").replace("\"localhost\"", "\"bad host!\""));
        assert!(e.contains("servers[0].host"), "{e}");
        let e = err(&server("security = \"starttls\"").replace("\"localhost\"", "\"bad host!\""));
        assert!(e.contains("servers[0].host"), "{e}");
        // Plain servers are not checked for TLS name syntax.
        Config::from_toml_str(
            &server("security = \"plain\"\ninternal = true")
                .replace("\"localhost\"", "\"127.0.0.1\""),
        )
        .unwrap();
    }

    #[test]
    fn security_and_internal() {
        let c = Config::from_toml_str(&server("security = \"starttls\"")).unwrap();
        assert_eq!(c.servers[0].security, Security::Starttls);
        assert!(!c.servers[0].internal);
        // Cleartext to a server that is not internal must be confirmed.
        let e = err(&server("security = \"plain\""));
        assert!(
            e.contains("servers[0].security") && e.contains("allow_cleartext"),
            "{e}"
        );
        let c =
            Config::from_toml_str(&server("security = \"plain\"\nallow_cleartext = true")).unwrap();
        assert!(c.servers[0].allow_cleartext);
        let c = Config::from_toml_str(&server("security = \"plain\"\ninternal = true")).unwrap();
        assert!(c.servers[0].internal);
        let e = err(&server("allow_cleartext = true"));
        assert!(e.contains("servers[0].allow_cleartext"), "{e}");
    }

    #[test]
    fn allowed_origins_and_proxies() {
        let c = Config::from_toml_str(&format!(
            "allowed_origins = [\"https://mail.example.com\", \"http://127.0.0.1:18090\"]\n\
             trusted_proxies = [\"10.0.0.1\", \"::1\"]\n{}",
            server("")
        ))
        .unwrap();
        assert_eq!(c.allowed_origins.len(), 2);
        assert_eq!(c.allowed_origins[1].to_string(), "http://127.0.0.1:18090");
        assert_eq!(c.trusted_proxies.len(), 2);
        let e = err(&format!(
            "allowed_origins = [\"https://ok.example\", \"https://mail.example.com/\"]\n{}",
            server("")
        ));
        assert!(e.contains("allowed_origins[1]"), "{e}");
        let e = err(&format!(
            "trusted_proxies = [\"10.0.0.0/8\"]\n{}",
            server("")
        ));
        assert!(e.contains("trusted_proxies"), "{e}");
    }

    #[test]
    fn metrics_allowed_defaults_to_loopback() {
        let c = Config::from_toml_str(&server("")).unwrap();
        let allowed = |ip: &str| {
            let ip: IpAddr = ip.parse().unwrap();
            c.metrics_allowed.iter().any(|n| n.contains(&ip))
        };
        assert!(allowed("127.0.0.1") && allowed("127.9.9.9") && allowed("::1"));
        assert!(!allowed("10.0.0.1") && !allowed("::2"));
        let c = Config::from_toml_str(&format!(
            "metrics_allowed = [\"10.0.0.0/8\", \"192.0.2.7\"]\n{}",
            server("")
        ))
        .unwrap();
        assert_eq!(c.metrics_allowed.len(), 2);
        assert_eq!(c.metrics_allowed[1].to_string(), "192.0.2.7/32");
        let e = err(&format!(
            "metrics_allowed = [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n{}",
            server("")
        ));
        assert!(e.contains("metrics_allowed[1]"), "{e}");
    }

    #[test]
    fn session_limits_and_ping() {
        let d = Limits::default();
        assert_eq!((d.max_sessions, d.max_sessions_per_ip), (1000, 20));
        assert_eq!(d.ping_interval, Duration::from_secs(30));
        let limits = |body: &str| err(&format!("{}[limits]\n{body}\n", server("")));
        let e = limits("max_sessions = 0");
        assert!(e.contains("limits.max_sessions"), "{e}");
        let e = limits("max_sessions = 10\nmax_sessions_per_ip = 11");
        assert!(e.contains("limits.max_sessions_per_ip"), "{e}");
        let e = limits("ping_interval_secs = 0");
        assert!(e.contains("limits.ping_interval_secs"), "{e}");
        let e = limits("idle_timeout_secs = 10\nping_interval_secs = 11");
        assert!(
            e.contains("limits.ping_interval_secs") && e.contains("idle_timeout"),
            "{e}"
        );
    }

    #[test]
    fn warns_about_an_idle_timeout_that_cuts_idle() {
        let c = Config::from_toml_str(&format!("{}[limits]\nidle_timeout_secs = 60\n", server("")))
            .unwrap();
        assert!(c.warnings().iter().any(|w| w.contains("idle_timeout_secs")));
        let c = Config::from_toml_str(&server("")).unwrap();
        assert!(!c.warnings().iter().any(|w| w.contains("idle_timeout_secs")));
    }

    #[test]
    fn browser_tls_needs_cert_and_key() {
        let e = err(&format!(
            "tls_cert = \"/nonexistent/cert.pem\"\n{}",
            server("")
        ));
        assert!(e.contains("tls_key") && e.contains("required"), "{e}");
        let e = err(&format!(
            "tls_key = \"/nonexistent/key.pem\"\n{}",
            server("")
        ));
        assert!(e.contains("tls_cert") && e.contains("required"), "{e}");
        let e = err(&format!(
            "tls_cert = \"/nonexistent/cert.pem\"\ntls_key = \"/nonexistent/key.pem\"\n{}",
            server("")
        ));
        assert!(
            e.contains("tls_cert") && e.contains("/nonexistent/cert.pem"),
            "{e}"
        );
    }

    #[test]
    fn extra_ca_missing_or_empty() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = err(&format!(
            "extra_ca = {:?}\n{}",
            missing.display().to_string(),
            server("")
        ));
        assert!(e.contains("extra_ca"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = err(&format!(
            "extra_ca = {:?}\n{}",
            empty.display().to_string(),
            server("")
        ));
        assert!(
            e.contains("extra_ca") && e.contains("no certificate"),
            "{e}"
        );
    }

    #[test]
    fn cli_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bridge.toml");
        std::fs::write(&path, GOOD).unwrap();
        let cli = Cli::try_parse_from([
            "bridge",
            "--config",
            path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:7000",
            "--web-dir",
            "other",
        ])
        .unwrap();
        let c = Config::load(&cli).unwrap();
        assert_eq!(c.listen, "127.0.0.1:7000".parse().unwrap());
        assert_eq!(c.web_dir, PathBuf::from("other"));
        let cli = Cli::try_parse_from(["bridge", "--config", path.to_str().unwrap()]).unwrap();
        let c = Config::load(&cli).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000".parse().unwrap());
    }

    #[test]
    fn missing_file_is_named() {
        let cli = Cli::try_parse_from(["bridge", "--config", "/nonexistent/bridge.toml"]).unwrap();
        let e = Config::load(&cli).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/bridge.toml"), "{e}");
    }
}
