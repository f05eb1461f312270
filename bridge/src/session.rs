//! One WebSocket session: the checks before the upgrade (Origin,
//! subprotocol, session limits), the control handshake (`connect` →
//! `connected`), the relay with its optional STARTTLS upgrade, and the close.
//!
//! Nothing the browser sends (control text, IMAP bytes) is ever logged: it
//! contains credentials. Logs carry the peer address, the configured server
//! id, byte counts, duration and the close reason.

use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;
use tracing::field::Empty;

use crate::config::{Config, Security, ServerConfig};
use crate::error::{ErrorCode, RelayError, UpstreamError};
use crate::origin::origin_allowed;
use crate::relay::{self, BrowserEnd};
use crate::slots::{self, LimitReport, Refused, SessionSlot, SessionSlots};
use crate::starttls::{CommandWatch, ResponseGate, StarttlsTag};
use crate::telemetry::{Metrics, Refusal};
use crate::upstream::{Connector, Upstream};

/// The WebSocket subprotocol the client must offer.
pub const SUBPROTOCOL: &str = "imap-relay.v1";

/// tungstenite's read buffer, zero-filled on the first read; its default
/// (128 KiB) would be most of an idle session's memory. What the browser
/// sends is mostly short command lines; larger frames still work, the buffer
/// grows to the frame being read.
const WS_READ_BUFFER: usize = 4 * 1024;

/// tungstenite's write buffer: written out once it holds this much (its
/// default), and at most [`WS_MAX_WRITE_BUFFER`]. The relay waits for each
/// frame's flush, so the buffer only grows past one frame when the browser
/// stops reading while sending Pings: every Ping queues a Pong, and without a
/// cap that grows without end. With the cap, Pongs past it are dropped (the
/// latest one waits) and a data frame that does not fit ends the session.
const WS_WRITE_BUFFER: usize = 128 * 1024;
const WS_MAX_WRITE_BUFFER: usize = WS_WRITE_BUFFER + 2 * (crate::relay::READ_CHUNK + 16);

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
    /// Open sessions counted against the limits.
    pub(crate) slots: Arc<SessionSlots>,
    pub(crate) metrics: Metrics,
}

type WsSink = SplitSink<WebSocket, Message>;
type WsStream = SplitStream<WebSocket>;

/// `GET /imap`: checks Origin and subprotocol, takes a session slot, and
/// upgrades.
///
/// Refusals that a browser page cannot be helped by (shutdown, a foreign
/// Origin, a client that does not speak the protocol) are HTTP errors. A
/// reached session limit is reported after the upgrade, as the
/// `limit_reached` error, so the page can say why, unless too many such
/// reports are open already (a flood): then it is an HTTP error too.
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if state.shutdown.is_cancelled() {
        return refuse(
            &state,
            Refusal::ShuttingDown,
            StatusCode::SERVICE_UNAVAILABLE,
        );
    }
    // A header that is not even text is as bad as a foreign origin, and so
    // is a second one (browsers send one; a proxy or filter may read the
    // other).
    let mut origins = headers.get_all(header::ORIGIN).iter();
    let origin = origins.next().map(|v| v.to_str().unwrap_or_default());
    let repeated = origins.next().is_some();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if repeated || !origin_allowed(&state.config.allowed_origins, origin, host) {
        tracing::info!(%peer, ?origin, reason = "origin_denied", "WebSocket upgrade refused");
        return refuse(&state, Refusal::OriginDenied, StatusCode::FORBIDDEN);
    }
    let ws = ws.protocols([SUBPROTOCOL]);
    if ws.selected_protocol().is_none() {
        tracing::debug!(%peer, "WebSocket upgrade refused: subprotocol not offered");
        return refuse(&state, Refusal::NoSubprotocol, StatusCode::BAD_REQUEST);
    }
    let client = slots::client_addr(peer.ip(), &headers, &state.config.trusted_proxies);
    let slot = match state.slots.try_acquire(client) {
        Ok(slot) => Ok(slot),
        Err(Refused::Report(report)) => Err(report),
        Err(Refused::Busy(limit)) => {
            tracing::info!(%peer, %client, %limit, "WebSocket upgrade refused");
            return refuse(
                &state,
                Refusal::LimitReached,
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
    };
    let max = state.config.limits.max_message_bytes;
    // Taken now, not in the upgrade task, so a shutdown between the 101
    // response and the session start still waits for this session.
    let token = state.sessions.token();
    ws.read_buffer_size(WS_READ_BUFFER)
        .write_buffer_size(WS_WRITE_BUFFER)
        .max_write_buffer_size(WS_MAX_WRITE_BUFFER)
        .max_message_size(max)
        .max_frame_size(max)
        .on_failed_upgrade(move |e| tracing::debug!(%peer, error = %e, "WebSocket upgrade failed"))
        .on_upgrade(move |socket| async move {
            run(socket, peer, client, slot, state).await;
            drop(token);
        })
}

/// An HTTP refusal of the upgrade, counted by reason.
fn refuse(state: &AppState, why: Refusal, status: StatusCode) -> Response {
    state.metrics.refused(why);
    let body = match why {
        Refusal::ShuttingDown => "shutting down\n".to_owned(),
        Refusal::OriginDenied => "this page's origin may not use the bridge\n".to_owned(),
        Refusal::NoSubprotocol => format!("the WebSocket subprotocol {SUBPROTOCOL} is required\n"),
        Refusal::LimitReached => "the bridge is busy; try again later\n".to_owned(),
    };
    (status, body).into_response()
}

/// First message from the client.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectRequest {
    #[serde(rename = "type")]
    kind: String,
    server: String,
}

/// A control message from the client during relay; the only one is
/// `{"type":"starttls"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RelayRequest {
    #[serde(rename = "type")]
    kind: String,
}

/// Control messages sent by the bridge.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Control<'a> {
    Connected { server: &'a str, security: Security },
    TlsEstablished,
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

    fn shutting_down() -> Self {
        Self::failed(ErrorCode::ShuttingDown, "the bridge is shutting down")
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

/// Per-session counters (also fed to the bridge's byte counters), and the
/// idle clock.
struct Activity {
    start: Instant,
    /// Milliseconds since `start` of the last data frame or upstream read.
    last_ms: AtomicU64,
    from_client: AtomicU64,
    from_server: AtomicU64,
    to_server_total: metrics::Counter,
    to_browser_total: metrics::Counter,
}

impl Activity {
    fn new(metrics: &Metrics) -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            from_client: AtomicU64::new(0),
            from_server: AtomicU64::new(0),
            to_server_total: metrics.bytes_to_server.clone(),
            to_browser_total: metrics.bytes_to_browser.clone(),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Only data counts as activity: Ping/Pong (the bridge's own keepalive
    /// among them) must not keep a dead session open forever.
    fn client_data(&self, data: &[u8]) {
        self.from_client
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        self.to_server_total.increment(data.len() as u64);
        self.touch();
    }

    fn server_bytes(&self, n: usize) {
        self.from_server.fetch_add(n as u64, Ordering::Relaxed);
        self.to_browser_total.increment(n as u64);
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

/// Runs a session to its end, logs the outcome and counts it.
pub(crate) async fn run(
    socket: WebSocket,
    peer: SocketAddr,
    client: IpAddr,
    slot: Result<SessionSlot, LimitReport>,
    state: AppState,
) {
    // The summary fields are recorded on the span when it ends, so that
    // span-based collectors get them as well as the closing log line.
    let span = tracing::info_span!(
        "session",
        %peer,
        %client,
        server = Empty,
        reason = Empty,
        from_client = Empty,
        from_server = Empty,
        duration_ms = Empty,
    );
    async move {
        tracing::debug!("session opened");
        let metrics = &state.metrics;
        metrics.sessions_total.increment(1);
        metrics.sessions_open.increment(1.0);
        let activity = Activity::new(metrics);
        let (mut sink, mut stream) = socket.split();
        let ending = match &slot {
            Ok(_) => drive(&mut sink, &mut stream, &state, &activity).await,
            Err(report) => Ending::failed(ErrorCode::LimitReached, report.limit.to_string()),
        };
        finish(&mut sink, &mut stream, &ending).await;
        drop(slot);
        metrics.sessions_open.decrement(1.0);
        log_ending(&ending, &activity);
        if let Ending::Failed { code, .. } = &ending {
            metrics.error(*code);
        }
    }
    .instrument(span)
    .await;
}

fn log_ending(ending: &Ending, activity: &Activity) {
    let span = tracing::Span::current();
    span.record("reason", ending.reason());
    span.record("from_client", activity.from_client.load(Ordering::Relaxed));
    span.record("from_server", activity.from_server.load(Ordering::Relaxed));
    let duration_ms = u64::try_from(activity.start.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.record("duration_ms", duration_ms);
    match ending {
        Ending::Failed { message, .. } => tracing::info!(detail = %message, "session closed"),
        _ => tracing::info!("session closed"),
    }
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

    let started = Instant::now();
    let connect = state.connector.connect(server);
    let upstream = match while_client_waits(
        stream,
        state,
        connect,
        "data sent before the connected reply",
    )
    .await
    {
        Ok(upstream) => upstream,
        Err(ending) => return ending,
    };
    state
        .metrics
        .connect_seconds
        .record(started.elapsed().as_secs_f64());

    let connected = Control::Connected {
        server: &server.id,
        security: server.security,
    };
    if let Err(ending) = reply(sink, &connected, state).await {
        return ending;
    }
    tracing::info!(security = server.security.as_str(), "relay established");
    activity.touch();
    relay(sink, stream, upstream, server, state, activity).await
}

/// Relays until the session ends, upgrading a `starttls` server's
/// connection when the client asks for it.
async fn relay(
    sink: &mut WsSink,
    stream: &mut WsStream,
    mut upstream: Upstream,
    server: &ServerConfig,
    state: &AppState,
    activity: &Activity,
) -> Ending {
    let starttls = server.security == Security::Starttls;
    loop {
        let tcp = match relay_phase(sink, stream, upstream, starttls, state, activity).await {
            Phase::Ended(ending) => return ending,
            Phase::Starttls(tcp) => tcp,
        };
        let handshake = state.connector.starttls(tcp, &server.host);
        let too_early = "data sent between starttls and tls_established";
        upstream = match while_client_waits(stream, state, handshake, too_early).await {
            Ok(tls) => tls,
            Err(ending) => return ending,
        };
        if let Err(ending) = reply(sink, &Control::TlsEstablished, state).await {
            return ending;
        }
        tracing::info!("STARTTLS upgrade done");
        activity.touch();
    }
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
                return Err(Ending::shutting_down());
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
            Some(Err(e)) => return Err(Ending::from_relay(RelayError::from_ws_read(e))),
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

/// Runs `work` (opening or upgrading the upstream connection) while
/// watching the browser, which must stay silent meanwhile (`too_early` is
/// the error message if it does not), and the shutdown. A browser that
/// closes abandons the work.
async fn while_client_waits<F>(
    stream: &mut WsStream,
    state: &AppState,
    work: F,
    too_early: &'static str,
) -> Result<Upstream, Ending>
where
    F: Future<Output = Result<Upstream, UpstreamError>>,
{
    let work = pin!(work);
    let watch = pin!(watch_client(stream, too_early));
    tokio::select! {
        () = state.shutdown.cancelled() => {
            Err(Ending::shutting_down())
        }
        res = work => res.map_err(|e| Ending::failed(e.code(), e.to_string())),
        ending = watch => Err(ending),
    }
}

/// Notices a browser that closes or sends data when it should wait. Never
/// resolves otherwise.
async fn watch_client(stream: &mut WsStream, too_early: &'static str) -> Ending {
    loop {
        match stream.next().await {
            None => return Ending::ClientGone,
            Some(Err(e)) => return Ending::from_relay(RelayError::from_ws_read(e)),
            Some(Ok(Message::Close(_))) => return Ending::ClientClosed,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                return Ending::failed(ErrorCode::BadRequest, too_early);
            }
        }
    }
}

/// How one stretch of relaying ended.
enum Phase {
    /// The session is over.
    Ended(Ending),
    /// The client asked for STARTTLS: the cleartext connection, for the
    /// upgrade. Whatever the server sent that was not relayed yet has been
    /// dropped with the pumps.
    Starttls(TcpStream),
}

/// Runs the two pumps over `upstream` until the session ends or the client
/// asks for STARTTLS. On a `starttls` server still in cleartext, the
/// server→browser direction goes through a [`ResponseGate`].
async fn relay_phase(
    sink: &mut WsSink,
    stream: &mut WsStream,
    upstream: Upstream,
    starttls: bool,
    state: &AppState,
    activity: &Activity,
) -> Phase {
    let gated = starttls && matches!(upstream, Upstream::Plain(_));
    let tag = StarttlsTag::default();
    let (mut up_read, mut up_write) = tokio::io::split(upstream);
    let outcome = {
        let reader = if gated {
            Either::Left(ResponseGate::new(&mut up_read, &tag))
        } else {
            Either::Right(&mut up_read)
        };
        let from_server = Tracked {
            inner: reader,
            activity,
        };
        let mut watch = gated.then(|| CommandWatch::new(&tag));
        let from_client = (&mut *stream).inspect(|m| {
            if let Ok(Message::Binary(data)) = m {
                activity.client_data(data);
                if let Some(w) = &mut watch {
                    w.feed(data);
                }
            }
        });
        let limits = &state.config.limits;
        let to_browser = pin!(relay::server_to_browser(
            from_server,
            &mut *sink,
            limits.ping_interval
        ));
        let to_server = pin!(relay::browser_to_server(from_client, &mut up_write));
        let idle = pin!(activity.idle(limits.idle_timeout));
        // `Ok(())`: the client asked for STARTTLS.
        tokio::select! {
            res = to_browser => Err(match res {
                Ok(_) => Ending::UpstreamClosed,
                Err(e) => Ending::from_relay(e),
            }),
            res = to_server => match res {
                Ok(BrowserEnd::Closed(_)) => Err(Ending::ClientClosed),
                Ok(BrowserEnd::Text(text)) => {
                    control_during_relay(&text, starttls, gated.then_some(&tag))
                }
                Err(e) => Err(Ending::from_relay(e)),
            },
            () = idle => Err(Ending::failed(
                ErrorCode::IdleTimeout,
                format!("no data in either direction for {} s", limits.idle_timeout.as_secs()),
            )),
            () = state.shutdown.cancelled() => {
                Err(Ending::shutting_down())
            }
        }
    };
    if let Err(ending) = outcome {
        return Phase::Ended(ending);
    }
    match up_read.unsplit(up_write).into_plain() {
        Some(tcp) => Phase::Starttls(tcp),
        None => Phase::Ended(Ending::failed(ErrorCode::BadRequest, STARTTLS_DONE)),
    }
}

const STARTTLS_DONE: &str = "starttls was already done on this connection";

/// Judges a text frame received during relay: `Ok` for
/// `{"type":"starttls"}` on a `starttls` server still in cleartext (`gate`)
/// once the server's OK to a `STARTTLS` command was relayed, else the
/// `bad_request` ending.
fn control_during_relay(
    text: &str,
    starttls_server: bool,
    gate: Option<&StarttlsTag>,
) -> Result<(), Ending> {
    let bad = |why| Err(Ending::failed(ErrorCode::BadRequest, why));
    match serde_json::from_str::<RelayRequest>(text) {
        Ok(r) if r.kind == "starttls" => match gate {
            Some(tag) if tag.ok_relayed() => Ok(()),
            Some(_) => bad("starttls before the server's OK to a STARTTLS command"),
            None if starttls_server => bad(STARTTLS_DONE),
            None => bad("starttls is only allowed on a server configured for STARTTLS"),
        },
        _ => bad(
            "text frame during relay; only binary frames and {\"type\":\"starttls\"} are allowed",
        ),
    }
}

/// Sends `connected` or `tls_established`. A browser that does not take it
/// within the handshake timeout (its socket is full: it stopped reading) is
/// treated as gone, and a shutdown does not wait for it.
async fn reply(sink: &mut WsSink, msg: &Control<'_>, state: &AppState) -> Result<(), Ending> {
    let limit = state.config.limits.handshake_timeout;
    tokio::select! {
        () = state.shutdown.cancelled() => Err(Ending::shutting_down()),
        sent = tokio::time::timeout(limit, send_control(sink, msg)) => match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(Ending::ClientGone),
        },
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
