//! HTTP side: static files, `/api/servers`, `/healthz`, `/metrics`, the
//! `/imap` WebSocket endpoint, the `/frame` message document, and security headers on
//! every response.

use axum::Router;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Security;
use crate::session::{self, AppState};
use crate::slots;

/// Content-Security-Policy for the webmail. Its one form posts a sanitized message to
/// `/frame` (`form-action 'self'`).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; \
    script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; frame-src 'self'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Content-Security-Policy of the message frame: an opaque origin (`sandbox`, even when
/// opened on its own) that runs nothing and loads nothing remote but, when the reader chose
/// so for this message, images; the message's own inline styles apply.
macro_rules! frame_csp {
    ($img:literal) => {
        concat!(
            "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; ",
            "style-src 'unsafe-inline'; img-src ",
            $img,
            "; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
        )
    };
}
const FRAME_CSP: &str = frame_csp!("data: blob:");
const FRAME_CSP_REMOTE_IMAGES: &str = frame_csp!("data: blob: https: http:");

/// The largest sanitized message the frame takes.
const FRAME_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// `Strict-Transport-Security` when the bridge serves HTTPS itself: a year,
/// this host only (other hosts of the domain may not have HTTPS).
const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Headers set (overriding) on every response.
pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
];

#[derive(Serialize)]
struct ServerInfo<'a> {
    id: &'a str,
    name: &'a str,
    security: Security,
}

#[derive(Serialize)]
struct ServerList<'a> {
    servers: Vec<ServerInfo<'a>>,
}

/// `GET /api/servers`: ids, names and security of the configured servers,
/// never hosts or ports.
async fn servers(State(state): State<AppState>) -> impl IntoResponse {
    let list = ServerList {
        servers: state
            .config
            .servers
            .iter()
            .map(|s| ServerInfo {
                id: &s.id,
                name: &s.name,
                security: s.security,
            })
            .collect(),
    };
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(list),
    )
        .into_response()
}

/// The `/frame` form: sanitized HTML (the page runs DOMPurify) and the remote-images choice.
#[derive(Deserialize)]
struct FrameForm {
    html: String,
    #[serde(default)]
    remote: String,
}

/// `POST /frame`: the page's sanitized message as a document with its own CSP, so its
/// inline styles apply without loosening the page's. Only the page itself may post
/// (`Sec-Fetch-Site: same-origin`): nobody else gets a document shown on this origin.
async fn frame(request_headers: HeaderMap, Form(form): Form<FrameForm>) -> Response {
    let same_origin = request_headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"same-origin");
    if !same_origin {
        return StatusCode::FORBIDDEN.into_response();
    }
    let csp = if form.remote == "1" {
        FRAME_CSP_REMOTE_IMAGES
    } else {
        FRAME_CSP
    };
    // The posted document follows; the parser joins its <html> and <head> to these.
    let body = format!(
        "<!doctype html><meta charset=\"utf-8\"><meta name=\"color-scheme\" content=\"light\">{}",
        form.html
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(csp),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("SAMEORIGIN"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

/// `GET /metrics`: Prometheus text exposition format, for the
/// `metrics_allowed` networks only (an internet-facing bridge should not tell
/// everyone its load and error counts).
async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let config = &state.config;
    // Behind a trusted proxy that does not name its client, the client is
    // unknown: the proxy's own (often loopback) address must not stand in.
    let client = slots::forwarded_client(peer.ip(), &headers, &config.trusted_proxies);
    if !client.is_some_and(|ip| config.metrics_allowed.iter().any(|n| n.contains(&ip))) {
        tracing::debug!(%peer, ?client, "/metrics refused");
        return (
            StatusCode::FORBIDDEN,
            "metrics are served to the metrics_allowed networks only\n",
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Builds the application router: every route gets [`SECURITY_HEADERS`] except `/frame`,
/// which sets its own.
pub(crate) fn router(state: AppState) -> Router {
    let frame = Router::new()
        .route("/frame", post(frame))
        .layer(DefaultBodyLimit::max(FRAME_BODY_LIMIT));
    let static_files = ServeDir::new(&state.config.web_dir);
    let serves_https = state.config.tls_cert.is_some();
    let mut router = Router::new()
        .route("/imap", get(session::upgrade))
        .route("/api/servers", get(servers))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback_service(static_files)
        .with_state(state);
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    let router = router.merge(frame);
    if !serves_https {
        // Behind a proxy that terminates TLS, HSTS is the proxy's to send.
        return router;
    }
    router.layer(SetResponseHeaderLayer::overriding(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
    ))
}
