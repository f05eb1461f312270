//! Browser-side TLS: serving `https://` and `wss://` directly, for
//! deployments without a TLS-terminating proxy in front.
//!
//! Handshakes run concurrently, each bounded by a timeout, so a client that
//! opens TCP and never speaks cannot hold up accepting other connections.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::error::ConfigError;

/// Bound on handshakes in progress; further connections wait in the
/// kernel's accept queue.
const MAX_PENDING_HANDSHAKES: usize = 256;

/// Builds the rustls server configuration from PEM files (ring provider,
/// TLS 1.2 and 1.3, HTTP/1.1 only: the WebSocket upgrade needs it).
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, ConfigError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ConfigError::invalid("tls_cert", format!("{}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(ConfigError::invalid(
            "tls_cert",
            format!("{} contains no certificate", cert.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ConfigError::invalid("tls_key", format!("{}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ConfigError::invalid("tls_cert", format!("TLS setup failed: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| ConfigError::invalid("tls_key", format!("does not fit tls_cert: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// An [`axum::serve::Listener`] yielding connections whose TLS handshake
/// has completed. Failed or slow handshakes are dropped (logged at debug).
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    timeout: Duration,
    pending: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl TlsListener {
    /// Wraps a bound listener.
    pub fn new(tcp: TcpListener, config: rustls::ServerConfig, timeout: Duration) -> Self {
        Self {
            tcp,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            timeout,
            pending: JoinSet::new(),
        }
    }

    fn start_handshake(&mut self, tcp: TcpStream, peer: SocketAddr) {
        let handshake = tokio::time::timeout(self.timeout, self.acceptor.accept(tcp));
        self.pending.spawn(async move {
            match handshake.await {
                Ok(Ok(tls)) => Some((tls, peer)),
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "browser TLS handshake failed");
                    None
                }
                Err(_) => {
                    tracing::debug!(%peer, "browser TLS handshake timed out");
                    None
                }
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let room = self.pending.len() < MAX_PENDING_HANDSHAKES;
            tokio::select! {
                accepted = self.tcp.accept(), if room => match accepted {
                    Ok((tcp, peer)) => self.start_handshake(tcp, peer),
                    Err(e) => {
                        // As axum does for plain TCP: e.g. EMFILE, back off.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some(done) = self.pending.join_next() => {
                    if let Ok(Some(conn)) = done {
                        return conn;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
