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
pub mod relay;
pub mod session;
pub mod upstream;
pub mod web;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::{Cli, Config, Limits, Security, ServerConfig};
pub use error::{BridgeError, ConfigError, ErrorCode, RelayError, UpstreamError};

use session::AppState;
use upstream::Connector;

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
        let connector = Connector::new(&config)?;
        if let Some(warning) = config.web_dir_warning() {
            tracing::warn!("{warning}; only the API will be served");
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
        Ok(Self {
            listener,
            local_addr,
            state: AppState {
                config: Arc::new(config),
                connector: Arc::new(connector),
                shutdown: CancellationToken::new(),
                sessions: TaskTracker::new(),
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
            state,
        } = self;
        let token = state.shutdown.clone();
        let sessions = state.sessions.clone();
        let grace = state.config.limits.shutdown_grace;
        let servers = state.config.servers.len();

        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY on accepted socket");
            }
        });
        let app = web::router(state).into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(listener, app)
            .with_graceful_shutdown(token.clone().cancelled_owned())
            .into_future();
        let mut server = pin!(server);
        tracing::info!(addr = %local_addr, servers, "bridge listening");

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
