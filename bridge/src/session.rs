//! One WebSocket session: subprotocol check and upgrade, the control
//! handshake (`connect` → `connected`), the relay, and the close.
//!
//! Nothing the browser sends (control text, IMAP bytes) is ever logged: it
//! contains credentials. Logs carry the peer address, the configured server
//! id, byte counts, duration and the close reason.

use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::config::{Config, Security, ServerConfig};
use crate::error::{ErrorCode, RelayError};
use crate::relay;
use crate::upstream::{Connector, Upstream};

/// The WebSocket subprotocol the client must offer.
pub const SUBPROTOCOL: &str = "imap-relay.v1";

/// tungstenite's read buffer; its default (128 KiB, zero-filled) would be
/// most of an idle session's memory. Larger frames still work: the buffer
/// grows to the frame being read.
const WS_READ_BUFFER: usize = 16 * 1024;

/// Bound on the closing exchange (error message, Close frame, the peer's
/// Close reply) so an unresponsive browser cannot hold a session open.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// State shared by all handlers.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) config: Arc<Config>,
    pub(crate) connector: Arc<Connector>,
    /// Cancelled when the bridge shuts down.
    pub(crate) shutdown: CancellationToken,
    /// Live WebSocket sessions (axum's graceful shutdown does not wait for
    /// upgraded connections).
    pub(crate) sessions: TaskTracker,
}

type WsSink = SplitSink<WebSocket, Message>;
type WsStream = SplitStream<WebSocket>;

/// `GET /imap`: checks the subprotocol and upgrades.
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ws: WebSocketUpgrade,
) -> Response {
    // (Origin checks will go here.)
    if state.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    let ws = ws.protocols([SUBPROTOCOL]);
    if ws.selected_protocol().is_none() {
        tracing::debug!(%peer, "WebSocket upgrade refused: subprotocol not offered");
        return (
            StatusCode::BAD_REQUEST,
            format!("the WebSocket subprotocol {SUBPROTOCOL} is required\n"),
        )
            .into_response();
    }
    let max = state.config.limits.max_message_bytes;
    // Taken now, not in the upgrade task, so a shutdown between the 101
    // response and the session start still waits for this session.
    let token = state.sessions.token();
    ws.read_buffer_size(WS_READ_BUFFER)
        .max_message_size(max)
        .max_frame_size(max)
        .on_failed_upgrade(move |e| tracing::debug!(%peer, error = %e, "WebSocket upgrade failed"))
        .on_upgrade(move |socket| async move {
            run(socket, peer, state).await;
            drop(token);
        })
}

/// First message from the client.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectRequest {
    #[serde(rename = "type")]
    kind: String,
    server: String,
}

/// Control messages sent by the bridge.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Control<'a> {
    Connected { server: &'a str, security: Security },
    Error { code: ErrorCode, message: &'a str },
}

/// How a session ended; decides the closing exchange and the logged reason.
enum Ending {
    /// The browser sent a Close frame (our reply still needs flushing).
    ClientClosed,
    /// The browser's connection failed; nothing can be sent.
    ClientGone,
    /// The IMAP server closed its side; everything it sent was delivered.
    UpstreamClosed,
    /// Error reported to the browser. `message` never contains data the
    /// client sent, so it may be logged.
    Failed { code: ErrorCode, message: String },
}

impl Ending {
    fn failed(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Failed {
            code,
            message: message.into(),
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::ClientClosed => "client_closed",
            Self::ClientGone => "client_gone",
            Self::UpstreamClosed => "upstream_closed",
            Self::Failed { code, .. } => code.as_str(),
        }
    }

    fn from_relay(err: RelayError) -> Self {
        if let RelayError::UpstreamRead(e) = &err
            && e.kind() == std::io::ErrorKind::UnexpectedEof
        {
            // A TLS peer that closes without close_notify: IMAP has its own
            // framing, treat it like a normal close.
            return Self::UpstreamClosed;
        }
        match err.code() {
            Some(code) => Self::failed(code, err.to_string()),
            None => Self::ClientGone,
        }
    }
}

/// Per-session counters, also the idle clock.
struct Activity {
    start: Instant,
    /// Milliseconds since `start` of the last frame or upstream read.
    last_ms: AtomicU64,
    from_client: AtomicU64,
    from_server: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            from_client: AtomicU64::new(0),
            from_server: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn client_frame(&self, msg: &Message) {
        if let Message::Binary(b) = msg {
            self.from_client
                .fetch_add(b.len() as u64, Ordering::Relaxed);
        }
        self.touch();
    }

    fn server_bytes(&self, n: usize) {
        self.from_server.fetch_add(n as u64, Ordering::Relaxed);
        self.touch();
    }

    /// Resolves once nothing happened for `idle`.
    async fn idle(&self, idle: Duration) {
        loop {
            let last = self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let deadline = last + idle;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// Upstream reader that records activity.
struct Tracked<'a, R> {
    inner: R,
    activity: &'a Activity,
}

impl<R: AsyncRead + Unpin> AsyncRead for Tracked<'_, R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            let n = buf.filled().len() - before;
            if n > 0 {
                this.activity.server_bytes(n);
            }
        }
        res
    }
}

/// Runs a session to its end and logs the outcome.
pub(crate) async fn run(socket: WebSocket, peer: SocketAddr, state: AppState) {
    let span = tracing::info_span!("session", %peer, server = tracing::field::Empty);
    async move {
        tracing::debug!("session opened");
        let activity = Activity::new();
        let (mut sink, mut stream) = socket.split();
        let ending = drive(&mut sink, &mut stream, &state, &activity).await;
        finish(&mut sink, &mut stream, &ending).await;
        let from_client = activity.from_client.load(Ordering::Relaxed);
        let from_server = activity.from_server.load(Ordering::Relaxed);
        let duration_ms = u64::try_from(activity.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &ending {
            Ending::Failed { code, message } => tracing::info!(
                reason = code.as_str(),
                detail = %message,
                from_client,
                from_server,
                duration_ms,
                "session closed"
            ),
            other => tracing::info!(
                reason = other.reason(),
                from_client,
                from_server,
                duration_ms,
                "session closed"
            ),
        }
    }
    .instrument(span)
    .await;
}

async fn drive(
    sink: &mut WsSink,
    stream: &mut WsStream,
    state: &AppState,
    activity: &Activity,
) -> Ending {
    let server = match handshake(stream, state).await {
        Ok(server) => server,
        Err(ending) => return ending,
    };
    tracing::Span::current().record("server", server.id.as_str());

    let upstream = {
        let connect = pin!(state.connector.connect(server));
        let watch = pin!(watch_client(stream));
        tokio::select! {
            () = state.shutdown.cancelled() => {
                return Ending::failed(ErrorCode::ShuttingDown, "the bridge is shutting down");
            }
            res = connect => match res {
                Ok(upstream) => upstream,
                Err(e) => return Ending::failed(e.code(), e.to_string()),
            },
            ending = watch => return ending,
        }
    };

    let connected = Control::Connected {
        server: &server.id,
        security: server.security,
    };
    if send_control(sink, &connected).await.is_err() {
        return Ending::ClientGone;
    }
    tracing::info!(security = server.security.as_str(), "relay established");
    activity.touch();
    relay_phase(sink, stream, upstream, state, activity).await
}

/// Waits for `{"type":"connect","server":"<id>"}` and resolves the server.
async fn handshake<'s>(
    stream: &mut WsStream,
    state: &'s AppState,
) -> Result<&'s ServerConfig, Ending> {
    let limit = state.config.limits.handshake_timeout;
    let mut deadline = pin!(tokio::time::sleep(limit));
    loop {
        let msg = tokio::select! {
            () = state.shutdown.cancelled() => {
                return Err(Ending::failed(ErrorCode::ShuttingDown, "the bridge is shutting down"));
            }
            () = &mut deadline => {
                return Err(Ending::failed(
                    ErrorCode::BadRequest,
                    format!("no connect message received within {} s", limit.as_secs()),
                ));
            }
            msg = stream.next() => msg,
        };
        let text = match msg {
            None => return Err(Ending::ClientGone),
            Some(Err(e)) => return Err(Ending::from_relay(RelayError::from_ws(e))),
            Some(Ok(Message::Close(_))) => return Err(Ending::ClientClosed),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                return Err(Ending::failed(
                    ErrorCode::BadRequest,
                    "expected a text connect message before any binary frame",
                ));
            }
            Some(Ok(Message::Text(text))) => text,
        };
        let request: ConnectRequest = match serde_json::from_str(text.as_str()) {
            Ok(r) => r,
            Err(_) => {
                return Err(Ending::failed(
                    ErrorCode::BadRequest,
                    r#"malformed control message; expected {"type":"connect","server":"<id>"}"#,
                ));
            }
        };
        if request.kind != "connect" {
            return Err(Ending::failed(
                ErrorCode::BadRequest,
                r#"unknown control message type; expected "connect""#,
            ));
        }
        return state.config.server(&request.server).ok_or_else(|| {
            Ending::failed(
                ErrorCode::UnknownServer,
                "no server with the requested id is configured",
            )
        });
    }
}

/// While the upstream connection is being opened, notices a browser that
/// closes or sends data too early. Never resolves otherwise.
async fn watch_client(stream: &mut WsStream) -> Ending {
    loop {
        match stream.next().await {
            None => return Ending::ClientGone,
            Some(Err(e)) => return Ending::from_relay(RelayError::from_ws(e)),
            Some(Ok(Message::Close(_))) => return Ending::ClientClosed,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                return Ending::failed(
                    ErrorCode::BadRequest,
                    "data sent before the connected reply",
                );
            }
        }
    }
}

async fn relay_phase(
    sink: &mut WsSink,
    stream: &mut WsStream,
    upstream: Upstream,
    state: &AppState,
    activity: &Activity,
) -> Ending {
    let (up_read, up_write) = tokio::io::split(upstream);
    let from_server = Tracked {
        inner: up_read,
        activity,
    };
    let from_client = stream.inspect(|m| {
        if let Ok(m) = m {
            activity.client_frame(m);
        }
    });
    let to_browser = pin!(relay::server_to_browser(from_server, sink));
    let to_server = pin!(relay::browser_to_server(from_client, up_write));
    let idle_limit = state.config.limits.idle_timeout;
    let idle = pin!(activity.idle(idle_limit));
    tokio::select! {
        res = to_browser => match res {
            Ok(_) => Ending::UpstreamClosed,
            Err(e) => Ending::from_relay(e),
        },
        res = to_server => match res {
            Ok(_) => Ending::ClientClosed,
            Err(e) => Ending::from_relay(e),
        },
        () = idle => Ending::failed(
            ErrorCode::IdleTimeout,
            format!("no data in either direction for {} s", idle_limit.as_secs()),
        ),
        () = state.shutdown.cancelled() => {
            Ending::failed(ErrorCode::ShuttingDown, "the bridge is shutting down")
        }
    }
}

async fn send_control(sink: &mut WsSink, msg: &Control<'_>) -> Result<(), axum::Error> {
    let text = serde_json::to_string(msg).map_err(axum::Error::new)?;
    sink.send(Message::Text(text.into())).await
}

/// The closing exchange, bounded by [`CLOSE_TIMEOUT`].
async fn finish(sink: &mut WsSink, stream: &mut WsStream, ending: &Ending) {
    let closing = async {
        let frame = match ending {
            Ending::ClientGone => return,
            Ending::ClientClosed => {
                // Flushes the Close reply queued when the browser's Close was read.
                let _ = sink.close().await;
                return;
            }
            Ending::UpstreamClosed => CloseFrame {
                code: 1000,
                reason: "".into(),
            },
            Ending::Failed { code, message } => {
                let msg = Control::Error {
                    code: *code,
                    message,
                };
                if send_control(sink, &msg).await.is_err() {
                    return;
                }
                CloseFrame {
                    code: code.close_code(),
                    reason: code.as_str().into(),
                }
            }
        };
        if sink.send(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        // Wait for the browser's Close reply, then drop the connection.
        while let Some(Ok(msg)) = stream.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    };
    if tokio::time::timeout(CLOSE_TIMEOUT, closing).await.is_err() {
        tracing::debug!("closing handshake timed out");
    }
}
