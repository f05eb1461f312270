//! Prometheus metrics, served at `/metrics`, and the log filter.
//!
//! Each [`crate::Bridge`] owns its own recorder instead of installing the
//! process-global one: the handles below are registered on it once, so two
//! bridges in one process (tests) never mix their numbers, and the hot path
//! is an atomic add on a handle, with no registry lookup.

use std::collections::HashMap;
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::layer::Filter;
use tracing_subscriber::registry::LookupSpan;

use crate::error::ErrorCode;

const SESSIONS_OPEN: &str = "bridge_sessions_open";
const SESSIONS_TOTAL: &str = "bridge_sessions_total";
const BYTES_TO_SERVER: &str = "bridge_bytes_browser_to_server_total";
const BYTES_TO_BROWSER: &str = "bridge_bytes_server_to_browser_total";
const ERRORS: &str = "bridge_errors_total";
const TLS_FAILURES: &str = "bridge_tls_handshake_failures_total";
const CONNECT_SECONDS: &str = "bridge_upstream_connect_seconds";
const REFUSED: &str = "bridge_upgrades_refused_total";

/// The log filter from `directives` (`RUST_LOG` syntax; `info` when absent
/// or invalid). Whatever they say, nothing from tungstenite at `trace`: that
/// output prints every frame's payload, which holds passwords. (A directive
/// can name any of its modules, so the cap is a filter of its own.)
pub fn log_filter<S>(directives: Option<&str>) -> impl Filter<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let env = directives
        .and_then(|d| EnvFilter::try_new(d).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    env.and(filter_fn(|meta| !prints_payload(meta)))
}

fn prints_payload(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::TRACE
        && (meta.target() == "tungstenite" || meta.target().starts_with("tungstenite::"))
}

/// Histogram buckets for the upstream connect latency (seconds).
const CONNECT_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Why an upgrade request was refused before any WebSocket existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// The `Origin` is not allowed.
    OriginDenied,
    /// The `imap-relay.v1` subprotocol was not offered.
    NoSubprotocol,
    /// The bridge is shutting down.
    ShuttingDown,
    /// A session limit is reached and too many refused sessions are still
    /// being told so.
    LimitReached,
}

impl Refusal {
    const ALL: [Self; 4] = [
        Self::OriginDenied,
        Self::NoSubprotocol,
        Self::ShuttingDown,
        Self::LimitReached,
    ];

    /// Label value, also the logged reason.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OriginDenied => "origin_denied",
            Self::NoSubprotocol => "no_subprotocol",
            Self::ShuttingDown => "shutting_down",
            Self::LimitReached => "limit_reached",
        }
    }
}

/// The bridge's metrics; cheap to clone (handles are reference-counted).
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    /// Sessions currently open (upgraded WebSockets).
    pub sessions_open: Gauge,
    /// Sessions ever opened.
    pub sessions_total: Counter,
    /// IMAP bytes relayed browser → server.
    pub bytes_to_server: Counter,
    /// IMAP bytes relayed server → browser.
    pub bytes_to_browser: Counter,
    /// Failed upstream TLS handshakes (implicit TLS and STARTTLS).
    pub tls_failures: Counter,
    /// Time from `connect` to an open upstream connection (TCP + TLS).
    pub connect_seconds: Histogram,
    errors: HashMap<ErrorCode, Counter>,
    refused: HashMap<Refusal, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh recorder with every series registered (so they show as 0
    /// before the first event).
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(CONNECT_SECONDS.into()), CONNECT_BUCKETS)
            .expect("the connect buckets are a non-empty constant")
            .build_recorder();
        let handle = recorder.handle();
        let metrics = metrics::with_local_recorder(&recorder, || {
            describe();
            Self {
                handle: handle.clone(),
                sessions_open: metrics::gauge!(SESSIONS_OPEN),
                sessions_total: metrics::counter!(SESSIONS_TOTAL),
                bytes_to_server: metrics::counter!(BYTES_TO_SERVER),
                bytes_to_browser: metrics::counter!(BYTES_TO_BROWSER),
                tls_failures: metrics::counter!(TLS_FAILURES),
                connect_seconds: metrics::histogram!(CONNECT_SECONDS),
                errors: ErrorCode::ALL
                    .into_iter()
                    .map(|c| (c, metrics::counter!(ERRORS, "code" => c.as_str())))
                    .collect(),
                refused: Refusal::ALL
                    .into_iter()
                    .map(|r| (r, metrics::counter!(REFUSED, "reason" => r.as_str())))
                    .collect(),
            }
        });
        // Publishes the descriptions (HELP lines).
        handle.run_upkeep();
        metrics
    }

    /// Counts a session that ended with an error sent to the browser.
    pub fn error(&self, code: ErrorCode) {
        if let Some(c) = self.errors.get(&code) {
            c.increment(1);
        }
    }

    /// Counts an upgrade refused with an HTTP status.
    pub fn refused(&self, why: Refusal) {
        if let Some(c) = self.refused.get(&why) {
            c.increment(1);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds recorded histogram samples into their buckets; run
    /// periodically so samples do not pile up between scrapes.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// How often [`Metrics::upkeep`] should run.
    pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// HELP text and units, on the recorder current during [`Metrics::new`].
fn describe() {
    metrics::describe_gauge!(SESSIONS_OPEN, "WebSocket sessions currently open");
    metrics::describe_counter!(SESSIONS_TOTAL, "WebSocket sessions opened");
    metrics::describe_counter!(
        BYTES_TO_SERVER,
        Unit::Bytes,
        "IMAP bytes relayed from browsers to servers"
    );
    metrics::describe_counter!(
        BYTES_TO_BROWSER,
        Unit::Bytes,
        "IMAP bytes relayed from servers to browsers"
    );
    metrics::describe_counter!(
        ERRORS,
        "Sessions ended with an error, by protocol error code"
    );
    metrics::describe_counter!(TLS_FAILURES, "Failed TLS handshakes with IMAP servers");
    metrics::describe_histogram!(
        CONNECT_SECONDS,
        Unit::Seconds,
        "Time to open the connection to the IMAP server (TCP and TLS)"
    );
    metrics::describe_counter!(
        REFUSED,
        "WebSocket upgrades refused before the upgrade, by reason"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series() {
        let m = Metrics::new();
        m.sessions_total.increment(2);
        m.error(ErrorCode::AddressDenied);
        m.connect_seconds.record(0.003);
        m.refused(Refusal::OriginDenied);
        let text = m.render();
        for line in [
            "bridge_sessions_total 2",
            "bridge_sessions_open 0",
            "bridge_errors_total{code=\"address_denied\"} 1",
            "bridge_errors_total{code=\"bad_request\"} 0",
            "bridge_upstream_connect_seconds_bucket{le=\"0.005\"} 1",
            "bridge_upgrades_refused_total{reason=\"origin_denied\"} 1",
            "# HELP bridge_sessions_open WebSocket sessions currently open",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        // A second instance starts from zero.
        assert!(Metrics::new().render().contains("bridge_sessions_total 0"));
    }
}
