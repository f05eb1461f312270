//! WebSocket-to-IMAP relay for the in-browser IMAP client, and the web server
//! for the webmail's static files.
//!
//! The browser opens `GET /imap` with the `imap-relay.v1` subprotocol, names
//! a configured server in a `connect` message, and from then on exchanges raw
//! IMAP bytes in binary frames; see `docs/bridge-protocol.md`.
//!
//! Use [`run`] in a binary, or [`Bridge::bind`] + [`Bridge::serve`] to learn
//! the bound address first (tests bind port 0).

pub mod config;
pub mod error;
pub mod netpolicy;
pub mod origin;
pub mod relay;
pub mod session;
mod slots;
mod starttls;
pub mod telemetry;
pub mod tls_listener;
pub mod upstream;
pub mod web;

use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::{Cli, Config, Limits, Security, ServerConfig};
pub use error::{BridgeError, ConfigError, ErrorCode, RelayError, UpstreamError};
pub use telemetry::log_filter;

use session::AppState;
use slots::SessionSlots;
use telemetry::Metrics;
use tls_listener::TlsListener;
use upstream::Connector;

/// The HTTP server future, whichever listener it runs on.
type ServerFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

/// Binds, serves until `shutdown` resolves, then closes live sessions.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BridgeError> {
    Bridge::bind(config).await?.serve(shutdown).await
}

/// A bound, not yet serving bridge.
pub struct Bridge {
    listener: TcpListener,
    local_addr: SocketAddr,
    /// Browser-side TLS (`tls_cert`/`tls_key`), else plain HTTP.
    browser_tls: Option<rustls::ServerConfig>,
    state: AppState,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Bridge {
    /// Validates the configuration, prepares TLS, and binds the listener.
    pub async fn bind(config: Config) -> Result<Self, BridgeError> {
        config.validate()?;
        let metrics = Metrics::new();
        let connector = Connector::new(&config, metrics.tls_failures.clone())?;
        let browser_tls = config.browser_tls()?;
        for warning in config.warnings() {
            tracing::warn!("{warning}");
        }
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| BridgeError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| BridgeError::Bind {
            addr: config.listen,
            source,
        })?;
        let slots = SessionSlots::new(
            config.limits.max_sessions,
            config.limits.max_sessions_per_ip,
        );
        Ok(Self {
            listener,
            local_addr,
            browser_tls,
            state: AppState {
                config: Arc::new(config),
                connector: Arc::new(connector),
                shutdown: CancellationToken::new(),
                sessions: TaskTracker::new(),
                slots,
                metrics,
            },
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves. Then stops accepting, tells every
    /// live WebSocket session to close (`shutting_down`), and waits for them
    /// at most `limits.shutdown_grace`.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), BridgeError> {
        let Self {
            listener,
            local_addr,
            browser_tls,
            state,
        } = self;
        let token = state.shutdown.clone();
        let sessions = state.sessions.clone();
        let grace = state.config.limits.shutdown_grace;
        let servers = state.config.servers.len();
        let tls = browser_tls.is_some();
        tokio::spawn(metrics_upkeep(state.metrics.clone(), token.clone()));

        let app = web::router(state.clone());
        let mut server = match browser_tls {
            Some(config) => {
                let timeout = state.config.limits.handshake_timeout;
                serve_on(TlsListener::new(listener, config, timeout), app, &token)
            }
            None => serve_on(listener, app, &token),
        };
        tracing::info!(addr = %local_addr, servers, tls, "bridge listening");

        let early = tokio::select! {
            res = &mut server => Some(res),
            () = shutdown => None,
        };
        token.cancel();
        sessions.close();
        if let Some(res) = early {
            // The server stopped on its own (only on an I/O error).
            let _ = tokio::time::timeout(grace, sessions.wait()).await;
            return res.map_err(BridgeError::Serve);
        }
        tracing::info!(sessions = sessions.len(), "shutting down");
        let drained = tokio::time::timeout(grace, async {
            let res = server.await;
            sessions.wait().await;
            res
        })
        .await;
        match drained {
            Ok(res) => {
                tracing::info!("shutdown complete");
                res.map_err(BridgeError::Serve)
            }
            Err(_) => {
                tracing::warn!(
                    sessions = sessions.len(),
                    grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
                    "sessions still open after the shutdown grace period; abandoning them"
                );
                Ok(())
            }
        }
    }
}

/// Serves `app` on `listener` until `token` is cancelled, with TCP_NODELAY
/// on every accepted connection: without it a relay stalls ~40 ms at the
/// end of each large response (Nagle plus delayed ACK).
fn serve_on<L>(listener: L, app: Router, token: &CancellationToken) -> ServerFuture
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    L::Io: NoDelay,
{
    let listener = listener.tap_io(|io: &mut L::Io| io.disable_nagle());
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    Box::pin(
        axum::serve(listener, app)
            .with_graceful_shutdown(token.clone().cancelled_owned())
            .into_future(),
    )
}

/// Accepted connections, plain or TLS, over TCP.
trait NoDelay {
    /// Sets TCP_NODELAY on the underlying socket.
    fn disable_nagle(&mut self);
}

impl NoDelay for tokio::net::TcpStream {
    fn disable_nagle(&mut self) {
        if let Err(e) = self.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on accepted socket");
        }
    }
}

impl NoDelay for tokio_rustls::server::TlsStream<tokio::net::TcpStream> {
    fn disable_nagle(&mut self) {
        self.get_mut().0.disable_nagle();
    }
}

/// Folds histogram samples periodically until shutdown, so that they do not
/// pile up when nobody scrapes `/metrics`.
async fn metrics_upkeep(metrics: Metrics, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(Metrics::UPKEEP_INTERVAL);
    loop {
        tokio::select! {
            _ = every.tick() => metrics.upkeep(),
            () = shutdown.cancelled() => return,
        }
    }
}
