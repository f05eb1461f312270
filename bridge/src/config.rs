//! Configuration: a TOML file plus command-line flags (with environment
//! fallbacks) that override the file's values.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default directory of static web files.
pub const DEFAULT_WEB_DIR: &str = "web";
/// Upper bound for every timeout setting (one day).
const MAX_TIMEOUT_SECS: u64 = 86_400;
/// Bounds for `limits.max_message_bytes`.
const MIN_MESSAGE_BYTES: usize = 1024;
const MAX_MESSAGE_BYTES: usize = 64 << 20;

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
    /// Directory of static web files [default: web].
    #[arg(long = "web-dir", env = "BRIDGE_WEB_DIR", value_name = "PATH")]
    pub web_dir: Option<PathBuf>,
    /// Extra CA certificates (PEM) trusted for upstream TLS, besides the webpki roots.
    #[arg(long = "extra-ca", env = "BRIDGE_EXTRA_CA", value_name = "PATH")]
    pub extra_ca: Option<PathBuf>,
}

/// How the bridge talks to an IMAP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Implicit TLS (port 993 style). The default.
    Tls,
    /// Cleartext TCP. Must be spelled out; meant for loopback tests.
    Plain,
}

impl Security {
    /// Wire name (`"tls"` / `"plain"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::Plain => "plain",
        }
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
    /// `"tls"` (default) or `"plain"`.
    #[serde(default = "default_security")]
    pub security: Security,
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
            let field = |name: &str| format!("servers[{i}].{name}");
            if !valid_id(&s.id) {
                return Err(ConfigError::invalid(
                    field("id"),
                    format!("{:?} must match [a-z0-9-]{{1,32}}", s.id),
                ));
            }
            if !ids.insert(s.id.as_str()) {
                return Err(ConfigError::invalid(
                    field("id"),
                    format!("duplicate server id {:?}", s.id),
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
            if s.security == Security::Tls
                && rustls_pki_types::ServerName::try_from(s.host.as_str()).is_err()
            {
                return Err(ConfigError::invalid(
                    field("host"),
                    format!("{:?} is not a valid TLS server name", s.host),
                ));
            }
        }
        let l = &self.limits;
        if !(MIN_MESSAGE_BYTES..=MAX_MESSAGE_BYTES).contains(&l.max_message_bytes) {
            return Err(ConfigError::invalid(
                "limits.max_message_bytes",
                format!("must be in {MIN_MESSAGE_BYTES}..={MAX_MESSAGE_BYTES}"),
            ));
        }
        for (name, d) in [
            ("limits.connect_timeout_secs", l.connect_timeout),
            ("limits.tls_handshake_timeout_secs", l.tls_handshake_timeout),
            ("limits.handshake_timeout_secs", l.handshake_timeout),
            ("limits.idle_timeout_secs", l.idle_timeout),
            ("limits.shutdown_grace_secs", l.shutdown_grace),
        ] {
            if d.is_zero() || d > Duration::from_secs(MAX_TIMEOUT_SECS) {
                return Err(ConfigError::invalid(
                    name,
                    format!("must be between 1 and {MAX_TIMEOUT_SECS} seconds"),
                ));
            }
        }
        if let Some(path) = &self.extra_ca {
            crate::upstream::load_extra_ca(path)?;
        }
        Ok(())
    }

    /// Looks up a server by id.
    pub fn server(&self, id: &str) -> Option<&ServerConfig> {
        self.servers.iter().find(|s| s.id == id)
    }

    /// Checks the web directory (a missing one is not fatal: only the API is
    /// served then). Returns a human-readable warning if it is unusable.
    pub fn web_dir_warning(&self) -> Option<String> {
        let p: &Path = &self.web_dir;
        (!p.is_dir()).then(|| format!("web_dir {} is not a directory", p.display()))
    }
}

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
        assert!(e.contains("tls") && e.contains("plain"), "{e}");
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
        // Plain servers are not checked for TLS name syntax.
        Config::from_toml_str(
            &server("security = \"plain\"").replace("\"localhost\"", "\"127.0.0.1\""),
        )
        .unwrap();
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
