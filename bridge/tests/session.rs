//! End-to-end session tests: a bridge on 127.0.0.1:0, fake IMAP servers on
//! loopback, a tokio-tungstenite client.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{self, Message};

#[tokio::test]
async fn relays_bytes_both_ways() {
    let (imap, imap_task) = echo_server().await;
    let bridge = start(&server_entry("demo", "127.0.0.1", imap.port(), "plain")).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;

    let v = next_json(&mut ws).await;
    assert_eq!(
        v,
        serde_json::json!({"type":"connected","server":"demo","security":"plain"})
    );
    assert_eq!(read_binary(&mut ws, GREETING.len()).await, GREETING);

    // A command and its reply.
    ws.send(Message::binary(b"a1 NOOP\r\n".to_vec()))
        .await
        .unwrap();
    assert_eq!(read_binary(&mut ws, 9).await, b"a1 NOOP\r\n");

    // A multi-MB payload, sent in 100 KB frames while the echo is read back.
    let data = pattern(3 * 1024 * 1024 + 17);
    let (mut tx, mut rx) = ws.split();
    let to_send = data.clone();
    let sender = tokio::spawn(async move {
        for chunk in to_send.chunks(100_000) {
            tx.send(Message::binary(chunk.to_vec())).await.unwrap();
        }
        tx
    });
    let mut got = Vec::with_capacity(data.len());
    while got.len() < data.len() {
        let m = tokio::time::timeout(WAIT, rx.next()).await.unwrap();
        match m {
            Some(Ok(Message::Binary(b))) => {
                assert!(b.len() <= 64 * 1024);
                got.extend_from_slice(&b);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(got == data, "echoed payload differs");
    let tx = sender.await.unwrap();
    let mut ws = tx.reunite(rx).unwrap();

    // Browser closes: the upstream sees EOF.
    ws.close(None).await.unwrap();
    let echoed = tokio::time::timeout(WAIT, imap_task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(echoed, 9 + data.len() as u64);
}

#[tokio::test]
async fn upstream_close_flushes_then_closes_1000() {
    let mut data = b"* BYE logging out\r\n".to_vec();
    data.extend(pattern(500_000));
    let imap = send_and_close_server(data.clone()).await;
    let bridge = start(&server_entry("demo", "localhost", imap.port(), "plain")).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    assert!(read_binary(&mut ws, data.len()).await == data);
    match next_msg(&mut ws).await {
        Some(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1000),
        other => panic!("expected Close 1000, got {other:?}"),
    }
}

#[tokio::test]
async fn unknown_server_is_reported() {
    let bridge = start(&server_entry("demo", "127.0.0.1", 1, "plain")).await;
    let mut ws = ws_connect(bridge.addr, "nope").await;
    let (_, close) = expect_error(&mut ws, "unknown_server").await;
    assert_eq!(u16::from(close.unwrap().code), 1008);
}

#[tokio::test]
async fn closed_port_gives_connect_failed() {
    let port = closed_port().await;
    let bridge = start(&server_entry("demo", "127.0.0.1", port, "plain")).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;
    let (message, close) = expect_error(&mut ws, "connect_failed").await;
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(
        !message.contains(&port.to_string()),
        "leaks the port: {message}"
    );
    assert_eq!(u16::from(close.unwrap().code), 1011);
}

#[tokio::test]
async fn missing_subprotocol_is_refused() {
    let bridge = start(&server_entry("demo", "127.0.0.1", 1, "plain")).await;
    match ws_open(bridge.addr, None).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 400),
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    match ws_open(bridge.addr, Some("binary")).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 400),
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    // Offering several, including ours, works.
    let (_ws, resp) = ws_open(bridge.addr, Some("binary, imap-relay.v1"))
        .await
        .unwrap();
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        PROTOCOL
    );
}

#[tokio::test]
async fn malformed_control_messages_are_bad_requests() {
    let bridge = start(&server_entry("demo", "127.0.0.1", 1, "plain")).await;
    for bad in [
        "not json",
        r#"{"type":"connect"}"#,
        r#"{"type":"hello","server":"demo"}"#,
        r#"{"type":"connect","server":"demo","password":"secret"}"#,
    ] {
        let (mut ws, _) = ws_open(bridge.addr, Some(PROTOCOL)).await.unwrap();
        send_text(&mut ws, bad).await;
        let (message, close) = expect_error(&mut ws, "bad_request").await;
        assert!(!message.contains("secret"));
        assert_eq!(u16::from(close.unwrap().code), 1008);
    }
    // Binary before connect.
    let (mut ws, _) = ws_open(bridge.addr, Some(PROTOCOL)).await.unwrap();
    ws.send(Message::binary(b"a1 NOOP\r\n".to_vec()))
        .await
        .unwrap();
    expect_error(&mut ws, "bad_request").await;
}

#[tokio::test]
async fn text_frame_during_relay_is_bad_request() {
    let (imap, _task) = echo_server().await;
    let bridge = start(&server_entry("demo", "127.0.0.1", imap.port(), "plain")).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    read_binary(&mut ws, GREETING.len()).await;
    send_text(&mut ws, "a1 NOOP").await;
    let v = loop {
        match next_msg(&mut ws).await {
            Some(Message::Text(t)) => break serde_json::from_str::<serde_json::Value>(&t).unwrap(),
            Some(Message::Binary(_)) => continue,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(v["code"], "bad_request");
    assert!(expect_close(&mut ws).await.is_some());
}

#[tokio::test]
async fn oversized_frame_gives_frame_too_large() {
    let (imap, _task) = echo_server().await;
    let body = format!(
        "{}[limits]\nmax_message_bytes = 4096\n",
        server_entry("demo", "127.0.0.1", imap.port(), "plain")
    );
    let bridge = start(&body).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    read_binary(&mut ws, GREETING.len()).await;
    // At the limit: fine.
    ws.send(Message::binary(vec![b'x'; 4096])).await.unwrap();
    read_binary(&mut ws, 4096).await;
    // Above: rejected.
    ws.send(Message::binary(vec![b'x'; 5000])).await.unwrap();
    let (_, close) = expect_error(&mut ws, "frame_too_large").await;
    assert_eq!(u16::from(close.unwrap().code), 1009);
}

#[tokio::test]
async fn idle_session_times_out() {
    let (imap, _task) = echo_server().await;
    let body = format!(
        "{}[limits]\nidle_timeout_secs = 1\n",
        server_entry("demo", "127.0.0.1", imap.port(), "plain")
    );
    let bridge = start(&body).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    read_binary(&mut ws, GREETING.len()).await;
    let started = Instant::now();
    let (_, close) = expect_error(&mut ws, "idle_timeout").await;
    assert!(started.elapsed() >= Duration::from_millis(800));
    assert_eq!(u16::from(close.unwrap().code), 1001);
}

#[tokio::test]
async fn silent_client_times_out_in_handshake() {
    let body = format!(
        "{}[limits]\nhandshake_timeout_secs = 1\n",
        server_entry("demo", "127.0.0.1", 1, "plain")
    );
    let bridge = start(&body).await;
    let (mut ws, _) = ws_open(bridge.addr, Some(PROTOCOL)).await.unwrap();
    expect_error(&mut ws, "bad_request").await;
}

#[tokio::test]
async fn untrusted_certificate_gives_tls_failed() {
    let pki = make_pki();
    let (imap, _task) = tls_echo_server(&pki).await;
    // No extra_ca: the test CA is unknown to the webpki roots.
    let bridge = start(&server_entry("secure", "localhost", imap.port(), "tls")).await;
    let mut ws = ws_connect(bridge.addr, "secure").await;
    let (message, close) = expect_error(&mut ws, "tls_failed").await;
    assert!(message.contains("UnknownIssuer"), "{message}");
    assert_eq!(u16::from(close.unwrap().code), 1011);
}

#[tokio::test]
async fn trusted_certificate_via_extra_ca() {
    let pki = make_pki();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let (imap, _task) = tls_echo_server(&pki).await;
    let body = format!(
        "extra_ca = {:?}\n{}",
        ca.display().to_string(),
        server_entry("secure", "localhost", imap.port(), "tls")
    );
    let bridge = start(&body).await;
    let mut ws = ws_connect(bridge.addr, "secure").await;
    assert_eq!(
        next_json(&mut ws).await,
        serde_json::json!({"type":"connected","server":"secure","security":"tls"})
    );
    assert_eq!(read_binary(&mut ws, GREETING.len()).await, GREETING);
    let data = pattern(1024 * 1024);
    for chunk in data.chunks(60_000) {
        ws.send(Message::binary(chunk.to_vec())).await.unwrap();
    }
    assert!(read_binary(&mut ws, data.len()).await == data);
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn certificate_name_mismatch_gives_tls_failed() {
    let pki = make_pki();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let (imap, _task) = tls_echo_server(&pki).await;
    // The leaf is only valid for DNS:localhost.
    let body = format!(
        "extra_ca = {:?}\n{}",
        ca.display().to_string(),
        server_entry("secure", "127.0.0.1", imap.port(), "tls")
    );
    let bridge = start(&body).await;
    let mut ws = ws_connect(bridge.addr, "secure").await;
    let (message, _) = expect_error(&mut ws, "tls_failed").await;
    assert!(message.contains("not valid for name"), "{message}");
}

#[tokio::test]
async fn plain_server_on_tls_entry_gives_tls_failed() {
    let (imap, _task) = echo_server().await;
    let bridge = start(&server_entry("demo", "localhost", imap.port(), "tls")).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;
    expect_error(&mut ws, "tls_failed").await;
}

#[tokio::test]
async fn shutdown_closes_live_sessions() {
    let (imap, imap_task) = echo_server().await;
    let mut bridge = start(&server_entry("demo", "127.0.0.1", imap.port(), "plain")).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    read_binary(&mut ws, GREETING.len()).await;

    let started = Instant::now();
    bridge.trigger_shutdown();
    let (_, close) = expect_error(&mut ws, "shutting_down").await;
    assert_eq!(u16::from(close.unwrap().code), 1001);
    // Keep polling, as a browser does, so the Close reply goes out.
    while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, ws.next()).await {}
    let handle = &mut bridge.handle;
    tokio::time::timeout(Duration::from_secs(6), handle)
        .await
        .expect("serve did not return within the bound")
        .unwrap()
        .unwrap();
    // Well inside the 5 s grace: the session closed, nothing timed out.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    // The upstream connection was dropped.
    tokio::time::timeout(WAIT, imap_task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_is_bounded_with_an_unresponsive_client() {
    let (imap, _task) = echo_server().await;
    let body = format!(
        "{}[limits]\nshutdown_grace_secs = 1\n",
        server_entry("demo", "127.0.0.1", imap.port(), "plain")
    );
    let mut bridge = start(&body).await;
    // This client reads nothing after `connected` and never answers Close.
    let mut ws = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    let started = Instant::now();
    bridge.trigger_shutdown();
    let handle = &mut bridge.handle;
    tokio::time::timeout(Duration::from_secs(4), handle)
        .await
        .expect("serve did not return within the bound")
        .unwrap()
        .unwrap();
    // The session was still waiting for the Close reply: the grace period,
    // not the session, ended `serve`.
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(ws);
}

#[tokio::test]
async fn shutdown_with_no_sessions_is_quick() {
    let mut bridge = start(&server_entry("demo", "127.0.0.1", 1, "plain")).await;
    // An idle keep-alive HTTP connection must not hold shutdown up.
    let _idle = tokio::net::TcpStream::connect(bridge.addr).await.unwrap();
    let started = Instant::now();
    bridge.trigger_shutdown();
    let handle = &mut bridge.handle;
    tokio::time::timeout(Duration::from_secs(6), handle)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn client_close_during_connect_is_quiet() {
    // A server that accepts TCP but never speaks TLS: the handshake hangs.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _hold = tokio::spawn(async move {
        let _conn = listener.accept().await;
        tokio::time::sleep(WAIT).await;
    });
    let bridge = start(&server_entry("demo", "localhost", port, "tls")).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws.close(None).await.unwrap();
    // The bridge answers the Close promptly, without an error message.
    match next_msg(&mut ws).await {
        Some(Message::Close(_)) | None => {}
        other => panic!("unexpected {other:?}"),
    }
}
