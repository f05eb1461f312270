//! Connections to the configured IMAP servers: name resolution checked
//! against the deny ranges of [`crate::netpolicy`], TCP connect with a
//! timeout to one of the checked addresses, then TLS (implicit, or later on
//! the engine's STARTTLS request) verified against the webpki roots plus an
//! optional extra CA file.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::config::{Config, Security, ServerConfig};
use crate::error::{ConfigError, UpstreamError};
use crate::netpolicy;

/// Reads the PEM file of extra CA certificates; fails (naming `extra_ca`) if
/// it is unreadable, holds no certificate, or a certificate is not usable as
/// a trust anchor.
pub fn load_extra_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let shown = path.display();
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|e| ConfigError::invalid("extra_ca", format!("cannot read {shown}: {e}")))?;
    let certs = iter
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError::invalid("extra_ca", format!("{shown}: bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(ConfigError::invalid(
            "extra_ca",
            format!("{shown} contains no certificate (expected PEM \"BEGIN CERTIFICATE\")"),
        ));
    }
    let mut store = RootCertStore::empty();
    for cert in &certs {
        store.add(cert.clone()).map_err(|e| {
            ConfigError::invalid("extra_ca", format!("{shown}: unusable certificate: {e}"))
        })?;
    }
    Ok(certs)
}

/// Builds the rustls client configuration: ring provider, TLS 1.2 and 1.3
/// only, webpki roots plus the extra CA file.
pub fn tls_client_config(extra_ca: Option<&Path>) -> Result<ClientConfig, ConfigError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = extra_ca {
        for cert in load_extra_ca(path)? {
            roots.add(cert).map_err(|e| {
                ConfigError::invalid("extra_ca", format!("unusable certificate: {e}"))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ConfigError::invalid("extra_ca", format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Opens connections to configured servers.
#[derive(Clone)]
pub struct Connector {
    tls: TlsConnector,
    connect_timeout: Duration,
    tls_timeout: Duration,
    tls_failures: metrics::Counter,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("connect_timeout", &self.connect_timeout)
            .field("tls_timeout", &self.tls_timeout)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// Builds the connector (loads the extra CA file). Failed handshakes
    /// are counted on `tls_failures`.
    pub fn new(config: &Config, tls_failures: metrics::Counter) -> Result<Self, ConfigError> {
        let tls = tls_client_config(config.extra_ca.as_deref())?;
        Ok(Self {
            tls: TlsConnector::from(Arc::new(tls)),
            connect_timeout: config.limits.connect_timeout,
            tls_timeout: config.limits.tls_handshake_timeout,
            tls_failures,
        })
    }

    /// Resolves and checks the addresses, connects (trying each checked
    /// address in turn within the connect timeout), sets TCP_NODELAY, and
    /// performs implicit TLS if configured. A `starttls` server is returned
    /// as [`Upstream::Plain`]; see [`Connector::starttls`].
    pub async fn connect(&self, server: &ServerConfig) -> Result<Upstream, UpstreamError> {
        let tcp = tokio::time::timeout(self.connect_timeout, connect_tcp(server))
            .await
            .map_err(|_| UpstreamError::ConnectTimeout(self.connect_timeout.as_secs()))??;
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on upstream socket");
        }
        match server.security {
            Security::Plain | Security::Starttls => Ok(Upstream::Plain(tcp)),
            Security::Tls => self.tls_handshake(tcp, &server.host).await,
        }
    }

    /// The STARTTLS upgrade: discards whatever cleartext the server sent
    /// that has not been read yet (nothing may legitimately follow its OK;
    /// anything there was injected), then performs the same verified TLS
    /// handshake as for implicit TLS on the same TCP connection.
    pub async fn starttls(&self, tcp: TcpStream, host: &str) -> Result<Upstream, UpstreamError> {
        let discarded = discard_pending(&tcp);
        if discarded > 0 {
            tracing::warn!(
                discarded,
                "discarded cleartext the server sent after its STARTTLS reply"
            );
        }
        self.tls_handshake(tcp, host).await
    }

    async fn tls_handshake(&self, tcp: TcpStream, host: &str) -> Result<Upstream, UpstreamError> {
        let result = async {
            let name = ServerName::try_from(host.to_owned())
                .map_err(|e| UpstreamError::Tls(format!("invalid server name: {e}")))?;
            let tls = tokio::time::timeout(self.tls_timeout, self.tls.connect(name, tcp))
                .await
                .map_err(|_| UpstreamError::TlsTimeout(self.tls_timeout.as_secs()))?
                .map_err(|e| UpstreamError::Tls(tls_reason(&e)))?;
            Ok(Upstream::Tls(Box::new(tls)))
        }
        .await;
        if result.is_err() {
            self.tls_failures.increment(1);
        }
        result
    }
}

/// Reads and drops every byte already received on `tcp`, without waiting;
/// returns how many.
fn discard_pending(tcp: &TcpStream) -> usize {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    while let Ok(n @ 1..) = tcp.try_read(&mut buf) {
        total += n;
    }
    total
}

/// Resolves the server's host and checks every address against the deny
/// ranges, unless the server is `internal`. One denied address refuses the
/// whole name: a name that mixes public and private addresses is a
/// rebinding attempt or a misconfiguration.
async fn resolve_checked(server: &ServerConfig) -> Result<Vec<SocketAddr>, UpstreamError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((server.host.as_str(), server.port))
        .await
        .map_err(UpstreamError::Resolve)?
        .collect();
    if !server.internal {
        check_addrs(&addrs)?;
    }
    Ok(addrs)
}

/// Refuses the whole list if any address is in a deny range.
fn check_addrs(addrs: &[SocketAddr]) -> Result<(), UpstreamError> {
    for addr in addrs {
        if let Some(range) = netpolicy::denied_range(addr.ip()) {
            tracing::warn!(
                %addr,
                range,
                "server address denied (mark the server internal = true if intended)"
            );
            return Err(UpstreamError::AddressDenied);
        }
    }
    Ok(())
}

/// Connects to the first checked address that accepts. There is no second
/// lookup: the connection goes to an address that passed the check.
async fn connect_tcp(server: &ServerConfig) -> Result<TcpStream, UpstreamError> {
    let addrs = resolve_checked(server).await?;
    let mut last_err = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => {
                tracing::debug!(%addr, error = %e, "upstream connect attempt failed");
                last_err = Some(e);
            }
        }
    }
    Err(match last_err {
        Some(e) => UpstreamError::Connect(e),
        None => UpstreamError::Resolve(io::Error::new(io::ErrorKind::NotFound, "no address found")),
    })
}

/// rustls's own reason when the handshake failed inside rustls (e.g.
/// "invalid peer certificate: UnknownIssuer"), else the I/O error.
fn tls_reason(err: &io::Error) -> String {
    match err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(tls) => tls.to_string(),
        None => err.to_string(),
    }
}

/// An open connection to an IMAP server.
#[derive(Debug)]
pub enum Upstream {
    /// Cleartext TCP (a `plain` server, or a `starttls` one before the
    /// upgrade).
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Upstream {
    /// The TCP stream of a cleartext connection, for the STARTTLS upgrade.
    pub fn into_plain(self) -> Option<TcpStream> {
        match self {
            Self::Plain(tcp) => Some(tcp),
            Self::Tls(_) => None,
        }
    }
}

impl AsyncRead for Upstream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Upstream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            Self::Tls(s) => s.is_write_vectored(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_denied_address_refuses_the_whole_name() {
        let addrs = |list: &[&str]| -> Vec<SocketAddr> {
            list.iter().map(|a| a.parse().unwrap()).collect()
        };
        assert!(
            check_addrs(&addrs(&[
                "93.184.215.14:993",
                "[2606:2800:21f:cb07::1]:993"
            ]))
            .is_ok()
        );
        // A rebinding answer mixes a public address with an internal one,
        // in either order and family.
        for mixed in [
            &["93.184.215.14:993", "10.0.0.5:993"][..],
            &["169.254.169.254:993", "93.184.215.14:993"],
            &["[2606:2800:21f:cb07::1]:993", "[::ffff:127.0.0.1]:993"],
        ] {
            assert!(
                matches!(
                    check_addrs(&addrs(mixed)),
                    Err(UpstreamError::AddressDenied)
                ),
                "{mixed:?}"
            );
        }
    }

    #[test]
    fn n0007_v0073_tls_is_1_2_or_1_3_with_aead_suites_only() {
        let config = super::tls_client_config(None).expect("config");
        let suites = &config.crypto_provider().cipher_suites;
        assert!(!suites.is_empty());
        for suite in suites {
            let name = format!("{:?}", suite.suite());
            assert!(
                [
                    rustls::version::TLS12.version,
                    rustls::version::TLS13.version
                ]
                .contains(&suite.version().version),
                "{name}"
            );
            for weak in ["RC4", "3DES", "DES", "CBC", "NULL", "EXPORT"] {
                assert!(!name.contains(weak), "{name} offered");
            }
        }
    }
}
