//! What the bridge logs: the session's summary, never what passes through it.
//! One test per binary: it installs the process-wide subscriber.

mod common;

use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

use common::*;
use tracing_subscriber::prelude::*;

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

const SECRET: &str = "S3cr3t-Pa55";

/// The ways a payload shows up in a log line: as text, as hex, as a byte list.
fn forms(secret: &str) -> [String; 4] {
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let bytes: Vec<u8> = secret.bytes().collect();
    [
        secret.to_owned(),
        hex.clone(),
        hex.to_uppercase(),
        format!("{bytes:?}").trim_matches(['[', ']']).to_owned(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_carry_the_session_summary_but_no_payload() {
    // A module-level directive too: the cap must hold whatever is named.
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(|| Capture)
                .with_filter(bridge::log_filter(Some(
                    "trace,tungstenite::protocol=trace",
                ))),
        )
        .init();
    let (bridge, mut ws, _imap) = echo_session("").await;
    let login = format!("a1 LOGIN alice {SECRET}\r\n");
    send_binary(&mut ws, login.as_bytes()).await;
    assert_eq!(read_binary(&mut ws, login.len()).await, login.as_bytes());
    ws.close(None).await.unwrap();
    drain(&mut ws).await;
    let deadline = Instant::now() + WAIT;
    while !logs().contains("session closed") {
        assert!(Instant::now() < deadline, "no summary logged:\n{}", logs());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(bridge);
    let text = logs();
    for form in forms(SECRET) {
        assert!(!text.contains(&form), "{form:?} logged:\n{text}");
    }
    let summary = text.lines().find(|l| l.contains("session closed")).unwrap();
    for field in [
        "server=\"demo\"",
        "reason=\"client_closed\"",
        &format!("from_client={}", login.len()),
        &format!("from_server={}", GREETING.len() + login.len()),
        "duration_ms=",
    ] {
        assert!(summary.contains(field), "{field} missing: {summary}");
    }
}
