//! HTTP side: static files, `/api/servers`, `/healthz`, `/metrics`, the
//! `/imap` WebSocket endpoint, and security headers on every response.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use serde::Serialize;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Security;
use crate::session::{self, AppState};

/// Content-Security-Policy for the webmail.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; \
    script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; frame-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

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

async fn healthz() -> &'static str {
    "ok"
}

/// `GET /metrics`: Prometheus text exposition format.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(),
    )
}

/// Builds the application router.
pub(crate) fn router(state: AppState) -> Router {
    let static_files = ServeDir::new(&state.config.web_dir);
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
    router
}
