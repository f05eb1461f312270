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
    send_binary(&mut ws, b"a1 NOOP\r\n").await;
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
    let echoed = join_within_wait(imap_task).await;
    assert_eq!(echoed, 9 + data.len() as u64);
}

#[tokio::test]
async fn a_server_that_stops_reading_holds_the_browser_back() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (resume, resumed) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(GREETING).await.unwrap();
        resumed.await.unwrap();
        let mut sink = Vec::new();
        s.read_to_end(&mut sink).await.unwrap();
        sink.len()
    });
    let bridge = start(&server_entry("demo", "127.0.0.1", port, "plain")).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    read_binary(&mut ws, GREETING.len()).await;
    // Kernel socket buffers on the way hold some MB; a bridge that kept
    // reading the browser while the server does not would take all 64 MiB.
    let frame = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    loop {
        let send = ws.send(Message::binary(frame.clone()));
        match tokio::time::timeout(Duration::from_millis(500), send).await {
            Ok(done) => done.unwrap(),
            Err(_) => break,
        }
        sent += frame.len();
        assert!(
            sent < 64 << 20,
            "the bridge took {sent} bytes for a server that reads none"
        );
    }
    println!("blocked after {sent} bytes");
    // The server reads again: every byte arrives, the blocked frame too.
    resume.send(()).unwrap();
    ws.close(None).await.unwrap();
    drain(&mut ws).await;
    assert_eq!(join_within_wait(server).await, sent + frame.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_from_a_browser_that_never_reads_take_bounded_memory() {
    let (_bridge, mut ws, _task) = echo_session("").await;
    let before = rss_bytes();
    // 48 MiB of Pings. Each one queues a Pong; the browser reads none, so
    // after the socket buffers fill (some MB) they would pile up in memory.
    let ping = vec![b'p'; 125];
    for round in 0..384 {
        for _ in 0..1024 {
            ws.feed(Message::Ping(ping.clone().into())).await.unwrap();
        }
        ws.flush().await.unwrap();
        if round % 64 == 63 {
            tokio::task::yield_now().await;
        }
    }
    // The bridge reads them all (a NOOP is echoed only after them).
    ws.send(Message::binary(&b"a1 NOOP\r\n"[..])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let growth = rss_bytes().saturating_sub(before);
    println!("memory growth after 48 MiB of Pings: {} KiB", growth / 1024);
    assert!(growth < 16 << 20, "grew by {growth} bytes");
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
async fn connect_that_never_completes_gives_connect_timeout() {
    let (addr, _listener, _queued) = unanswering_listener().await;
    let entry = server_entry("demo", "127.0.0.1", addr.port(), "plain");
    let message = connect_timeout(&format!("{entry}[limits]\nconnect_timeout_secs = 1\n")).await;
    assert_eq!(message, "connecting to the server timed out after 1 s");
}

#[tokio::test]
async fn tls_server_that_never_speaks_gives_connect_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _silent = tokio::spawn(async move {
        let (conn, _) = listener.accept().await.unwrap();
        tokio::time::sleep(WAIT).await;
        drop(conn);
    });
    let entry = server_entry("demo", "localhost", port, "tls");
    let message = connect_timeout(&format!(
        "{entry}[limits]\ntls_handshake_timeout_secs = 1\n"
    ))
    .await;
    assert_eq!(message, "TLS handshake with the server timed out after 1 s");
}

/// Connects to "demo" of a bridge configured with `toml`; expects
/// `connect_timeout` within 3 s and returns its message.
async fn connect_timeout(toml: &str) -> String {
    let bridge = start(toml).await;
    let started = Instant::now();
    let mut ws = ws_connect(bridge.addr, "demo").await;
    let (message, close) = expect_error(&mut ws, "connect_timeout").await;
    assert_eq!(u16::from(close.unwrap().code), 1011);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
    message
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
    send_binary(&mut ws, b"a1 NOOP\r\n").await;
    expect_error(&mut ws, "bad_request").await;
}

#[tokio::test]
async fn text_frame_during_relay_is_bad_request() {
    let (_bridge, mut ws, _task) = echo_session("").await;
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
    let (_bridge, mut ws, _task) = echo_session("[limits]\nmax_message_bytes = 4096\n").await;
    // At the limit: fine.
    ws.send(Message::binary(vec![b'x'; 4096])).await.unwrap();
    read_binary(&mut ws, 4096).await;
    // Above: rejected.
    ws.send(Message::binary(vec![b'x'; 5000])).await.unwrap();
    let (_, close) = expect_error(&mut ws, "frame_too_large").await;
    assert_eq!(u16::from(close.unwrap().code), 1009);
}

#[tokio::test]
async fn oversized_fragmented_message_gives_frame_too_large() {
    use tungstenite::protocol::frame::Frame;
    use tungstenite::protocol::frame::coding::{Data, OpCode};
    let (_bridge, mut ws, _task) = echo_session("[limits]\nmax_message_bytes = 4096\n").await;
    // Three fragments of 2000 bytes: each under the limit, together over it.
    let fragment =
        |op, last| Message::Frame(Frame::message(vec![b'x'; 2000], OpCode::Data(op), last));
    ws.send(fragment(Data::Binary, false)).await.unwrap();
    ws.send(fragment(Data::Continue, false)).await.unwrap();
    ws.send(fragment(Data::Continue, true)).await.unwrap();
    let (_, close) = expect_error(&mut ws, "frame_too_large").await;
    assert_eq!(u16::from(close.unwrap().code), 1009);
}

#[tokio::test]
async fn websocket_protocol_violations_are_bad_requests() {
    use tungstenite::protocol::frame::Frame;
    use tungstenite::protocol::frame::coding::{Data, OpCode};
    let invalid = [
        // A reserved data opcode.
        Frame::message(&b"x"[..], OpCode::Data(Data::Reserved(3)), true),
        // A text frame that is not UTF-8.
        Frame::message(&[0xff, 0xfe][..], OpCode::Data(Data::Text), true),
    ];
    for frame in invalid {
        let (_bridge, mut ws, _task) = echo_session("").await;
        ws.send(Message::Frame(frame)).await.unwrap();
        let (message, _) = expect_error(&mut ws, "bad_request").await;
        assert!(
            message.starts_with("WebSocket protocol violation"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn idle_session_times_out() {
    let (_bridge, mut ws, _task) =
        echo_session("[limits]\nidle_timeout_secs = 1\nping_interval_secs = 1\n").await;
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
async fn v0074_untrusted_certificate_gives_tls_failed() {
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
    let (ca, _dir) = extra_ca_line(&pki);
    let (imap, _task) = tls_echo_server(&pki).await;
    let body = format!(
        "{ca}{}",
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
async fn v0074_certificate_name_mismatch_gives_tls_failed() {
    let pki = make_pki();
    let (ca, _dir) = extra_ca_line(&pki);
    let (imap, _task) = tls_echo_server(&pki).await;
    // The leaf is only valid for DNS:localhost.
    let body = format!(
        "{ca}{}",
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
    let (mut bridge, mut ws, imap_task) = echo_session("").await;

    let started = Instant::now();
    bridge.trigger_shutdown();
    let (_, close) = expect_error(&mut ws, "shutting_down").await;
    assert_eq!(u16::from(close.unwrap().code), 1001);
    // Keep polling, as a browser does, so the Close reply goes out.
    drain(&mut ws).await;
    bridge.served_within(Duration::from_secs(6)).await;
    // Well inside the 5 s grace: the session closed, nothing timed out.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    // The upstream connection was dropped.
    join_within_wait(imap_task).await;
}

#[tokio::test]
async fn shutdown_is_bounded_with_an_unresponsive_client() {
    let (mut bridge, _task) = echo_bridge("[limits]\nshutdown_grace_secs = 1\n").await;
    // This client reads nothing after `connected` and never answers Close.
    let mut ws = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    let started = Instant::now();
    bridge.trigger_shutdown();
    bridge.served_within(Duration::from_secs(4)).await;
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
    bridge.served_within(Duration::from_secs(6)).await;
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

#[tokio::test]
async fn loopback_without_internal_is_address_denied() {
    let (imap, _task) = echo_server().await;
    for host in ["127.0.0.1", "localhost"] {
        let body = external_server_entry("loop", host, imap.port(), "tls");
        let bridge = start(&body).await;
        let mut ws = ws_connect(bridge.addr, "loop").await;
        let (message, close) = expect_error(&mut ws, "address_denied").await;
        assert!(message.contains("not allowed"), "{message}");
        assert!(
            !message.contains("127.0.0.1"),
            "leaks the address: {message}"
        );
        assert_eq!(u16::from(close.unwrap().code), 1008);
    }
}

#[tokio::test]
async fn loopback_with_internal_connects() {
    let (imap, _task) = echo_server().await;
    let body = format!(
        "{}internal = true\n",
        external_server_entry("loop", "localhost", imap.port(), "plain")
    );
    let bridge = start(&body).await;
    let mut ws = ws_connect(bridge.addr, "loop").await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    assert_eq!(read_binary(&mut ws, GREETING.len()).await, GREETING);
}

fn http_status(
    res: Result<(Ws, tungstenite::handshake::client::Response), tungstenite::Error>,
) -> u16 {
    match res {
        Ok((_, resp)) => resp.status().as_u16(),
        Err(tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("unexpected {e:?}"),
    }
}

#[tokio::test]
async fn origin_must_be_in_the_allowed_list() {
    let body = format!(
        "allowed_origins = [\"https://mail.example.com\", \"http://127.0.0.1:18090\"]\n{}",
        server_entry("demo", "127.0.0.1", 1, "plain")
    );
    let bridge = start(&body).await;
    let open = |origin| ws_open_from(bridge.addr, Some(PROTOCOL), origin);
    assert_eq!(
        http_status(open(Some("https://mail.example.com")).await),
        101
    );
    assert_eq!(
        http_status(open(Some("https://MAIL.example.com:443")).await),
        101
    );
    assert_eq!(http_status(open(Some("http://127.0.0.1:18090")).await), 101);
    assert_eq!(
        http_status(open(Some("https://evil.example.com")).await),
        403
    );
    assert_eq!(
        http_status(open(Some("http://mail.example.com")).await),
        403
    );
    assert_eq!(http_status(open(Some("null")).await), 403);
    // The bridge's own origin is not implied once a list is configured.
    let own = format!("http://{}", bridge.addr);
    assert_eq!(http_status(open(Some(&own)).await), 403);
    // Not a browser: no Origin, allowed.
    assert_eq!(http_status(open(None).await), 101);
    // Two Origin headers, even with an allowed one first: refused.
    let twice = ["https://mail.example.com", "https://evil.example.com"];
    let opened = ws_open_with_origins(bridge.addr, Some(PROTOCOL), &twice).await;
    assert_eq!(http_status(opened), 403);
}

#[tokio::test]
async fn origin_defaults_to_same_origin() {
    let bridge = start(&server_entry("demo", "127.0.0.1", 1, "plain")).await;
    let open = |origin| ws_open_from(bridge.addr, Some(PROTOCOL), origin);
    let own = format!("http://{}", bridge.addr);
    assert_eq!(http_status(open(Some(&own)).await), 101);
    let other_port = format!("http://127.0.0.1:{}", bridge.addr.port() + 1);
    assert_eq!(http_status(open(Some(&other_port)).await), 403);
    assert_eq!(
        http_status(open(Some("https://evil.example.com")).await),
        403
    );
    assert_eq!(http_status(open(None).await), 101);
}

/// Runs the cleartext part of a STARTTLS session up to the server's OK.
async fn starttls_until_ok(addr: std::net::SocketAddr, after: AfterOk) -> Ws {
    let mut ws = ws_connect(addr, "st").await;
    assert_eq!(
        next_json(&mut ws).await,
        serde_json::json!({"type":"connected","server":"st","security":"starttls"})
    );
    assert_eq!(
        read_binary(&mut ws, STARTTLS_GREETING.len()).await,
        STARTTLS_GREETING
    );
    send_binary(&mut ws, b"a STARTTLS\r\n").await;
    let reply = after.reply();
    assert_eq!(read_binary(&mut ws, reply.len()).await, reply);
    ws
}

/// What the STARTTLS tests share: a bridge trusting the test CA in front of a fake
/// STARTTLS server, and a browser past the server's OK that has sent `starttls`.
struct UpgradeRequested {
    ws: Ws,
    imap_task: tokio::task::JoinHandle<()>,
    _bridge: Running,
    _ca_dir: tempfile::TempDir,
}

async fn upgrade_requested(after: AfterOk) -> UpgradeRequested {
    let pki = make_pki();
    let (ca, ca_dir) = extra_ca_line(&pki);
    let (imap, imap_task) = starttls_server(&pki, after).await;
    let body = format!(
        "{ca}{}",
        server_entry("st", "localhost", imap.port(), "starttls")
    );
    let bridge = start(&body).await;
    let mut ws = starttls_until_ok(bridge.addr, after).await;
    send_text(&mut ws, r#"{"type":"starttls"}"#).await;
    UpgradeRequested {
        ws,
        imap_task,
        _bridge: bridge,
        _ca_dir: ca_dir,
    }
}

#[tokio::test]
async fn starttls_discards_injected_plaintext_and_relays_over_tls() {
    injection_is_discarded(AfterOk::InjectThenTls).await;
}

#[tokio::test]
async fn starttls_discards_injected_plaintext_after_a_long_reply() {
    injection_is_discarded(AfterOk::InjectAfterLongReply).await;
}

async fn injection_is_discarded(after: AfterOk) {
    // Bound whole: the bridge and the CA file live as long as the test.
    let mut upgrade = upgrade_requested(after).await;
    let ws = &mut upgrade.ws;
    // The injected line would arrive here as binary data: next_json panics.
    assert_eq!(
        next_json(ws).await,
        serde_json::json!({"type":"tls_established"})
    );
    // Over TLS now: the fake server greets again, then echoes.
    let got = read_binary(ws, GREETING.len()).await;
    assert_eq!(got, GREETING, "{:?}", String::from_utf8_lossy(&got));
    send_binary(ws, b"a1 NOOP\r\n").await;
    assert_eq!(read_binary(ws, 9).await, b"a1 NOOP\r\n");
    // A second upgrade is refused.
    send_text(ws, r#"{"type":"starttls"}"#).await;
    let (message, _) = expect_error(ws, "bad_request").await;
    assert!(message.contains("already"), "{message}");
    join_within_wait(upgrade.imap_task).await;
}

#[tokio::test]
async fn starttls_with_untrusted_certificate_gives_tls_failed() {
    let pki = make_pki();
    let (imap, _task) = starttls_server(&pki, AfterOk::InjectThenTls).await;
    // No extra_ca: the test CA is unknown.
    let bridge = start(&server_entry("st", "localhost", imap.port(), "starttls")).await;
    let mut ws = starttls_until_ok(bridge.addr, AfterOk::InjectThenTls).await;
    send_text(&mut ws, r#"{"type":"starttls"}"#).await;
    let (message, close) = expect_error(&mut ws, "tls_failed").await;
    assert!(message.contains("UnknownIssuer"), "{message}");
    assert_eq!(u16::from(close.unwrap().code), 1011);
    let (status, _, body) = http_get(bridge.addr, "/metrics").await;
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("bridge_tls_handshake_failures_total 1"),
        "{text}"
    );
}

#[tokio::test]
async fn data_during_the_starttls_handshake_is_bad_request() {
    let mut upgrade = upgrade_requested(AfterOk::Hang).await;
    let ws = &mut upgrade.ws;
    send_binary(ws, b"a1 LOGIN x y\r\n").await;
    let (message, _) = expect_error(ws, "bad_request").await;
    assert!(message.contains("tls_established"), "{message}");
}

#[tokio::test]
async fn starttls_before_the_servers_ok_is_bad_request() {
    let (imap, _task) = echo_server().await;
    let bridge = start(&server_entry("demo", "localhost", imap.port(), "starttls")).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    read_binary(&mut ws, GREETING.len()).await;
    // The command went out, its OK has not come back (the echo server never
    // says OK): no TLS handshake may start.
    send_binary(&mut ws, b"a STARTTLS\r\n").await;
    read_binary(&mut ws, 12).await;
    send_text(&mut ws, r#"{"type":"starttls"}"#).await;
    let (message, _) = expect_error(&mut ws, "bad_request").await;
    assert!(message.contains("before the server's OK"), "{message}");
    let (_, _, body) = http_get(bridge.addr, "/metrics").await;
    let metrics = String::from_utf8(body).unwrap();
    assert!(
        metrics.contains("bridge_tls_handshake_failures_total 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn starttls_on_a_tls_or_plain_server_is_bad_request() {
    let (_bridge, mut ws, _task) = echo_session("").await;
    send_text(&mut ws, r#"{"type":"starttls"}"#).await;
    let (message, close) = expect_error(&mut ws, "bad_request").await;
    assert!(message.contains("STARTTLS"), "{message}");
    assert_eq!(u16::from(close.unwrap().code), 1008);
}

#[tokio::test]
async fn per_client_session_limit_gives_limit_reached() {
    let (bridge, _task) =
        echo_bridge("[limits]\nmax_sessions = 5\nmax_sessions_per_ip = 1\n").await;
    let mut first = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut first).await["type"], "connected");
    let (mut second, _) = ws_open(bridge.addr, Some(PROTOCOL)).await.unwrap();
    let (message, close) = expect_error(&mut second, "limit_reached").await;
    assert!(message.contains("too many sessions"), "{message}");
    assert_eq!(u16::from(close.unwrap().code), 1013);
    // Closing the first frees the place.
    first.close(None).await.unwrap();
    drain(&mut first).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let (mut ws, _) = ws_open(bridge.addr, Some(PROTOCOL)).await.unwrap();
        send_text(&mut ws, r#"{"type":"connect","server":"nope"}"#).await;
        let v = next_json(&mut ws).await;
        if v["code"] == "unknown_server" {
            break;
        }
        assert_eq!(v["code"], "limit_reached");
        assert!(Instant::now() < deadline, "the slot was never released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_flood_past_the_limit_is_refused_before_the_upgrade() {
    let (bridge, _task) =
        echo_bridge("[limits]\nmax_sessions = 1\nmax_sessions_per_ip = 1\n").await;
    let mut open = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut open).await["type"], "connected");
    // Refused sessions that never answer the bridge's Close stay open for the
    // closing timeout; only 64 of them at once.
    let mut unanswered = Vec::new();
    for _ in 0..64 {
        let (ws, resp) = ws_open(bridge.addr, Some(PROTOCOL)).await.unwrap();
        assert_eq!(resp.status().as_u16(), 101);
        unanswered.push(ws);
    }
    assert_eq!(http_status(ws_open(bridge.addr, Some(PROTOCOL)).await), 503);
    let (_, _, body) = http_get(bridge.addr, "/metrics").await;
    let metrics = String::from_utf8(body).unwrap();
    assert!(
        metrics.contains(r#"bridge_upgrades_refused_total{reason="limit_reached"} 1"#),
        "{metrics}"
    );
    // Once they are closed, refused pages are told why again.
    for mut ws in unanswered {
        drain(&mut ws).await;
    }
    let deadline = Instant::now() + WAIT;
    loop {
        match ws_open(bridge.addr, Some(PROTOCOL)).await {
            Ok((mut ws, _)) => {
                expect_error(&mut ws, "limit_reached").await;
                break;
            }
            Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 503),
            Err(e) => panic!("unexpected {e:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "the report places were never freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn quiet_sessions_get_pings_and_still_time_out() {
    let (_bridge, mut ws, _task) =
        echo_session("[limits]\nidle_timeout_secs = 2\nping_interval_secs = 1\n").await;
    let started = Instant::now();
    let mut pings = 0;
    let code = loop {
        // Reading also sends tungstenite's automatic Pong replies.
        match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Text(t))) => {
                break serde_json::from_str::<serde_json::Value>(&t).unwrap()["code"].clone();
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(pings >= 1, "no ping in {:?}", started.elapsed());
    // Pongs are not data: the idle timeout still fired.
    assert_eq!(code, "idle_timeout");
    assert!(started.elapsed() >= Duration::from_millis(1800));
}

#[tokio::test]
async fn metrics_count_a_relayed_session() {
    let (bridge, mut ws, imap_task) = echo_session("").await;
    send_binary(&mut ws, b"a1 NOOP\r\n").await;
    read_binary(&mut ws, 9).await;
    ws.close(None).await.unwrap();
    drain(&mut ws).await;
    join_within_wait(imap_task).await;
    let mut unknown = ws_connect(bridge.addr, "nope").await;
    expect_error(&mut unknown, "unknown_server").await;

    let expected = [
        "bridge_sessions_total 2".to_owned(),
        "bridge_sessions_open 0".to_owned(),
        "bridge_bytes_browser_to_server_total 9".to_owned(),
        format!(
            "bridge_bytes_server_to_browser_total {}",
            GREETING.len() + 9
        ),
        "bridge_errors_total{code=\"unknown_server\"} 1".to_owned(),
        "bridge_errors_total{code=\"address_denied\"} 0".to_owned(),
        "bridge_upstream_connect_seconds_count 1".to_owned(),
        "bridge_tls_handshake_failures_total 0".to_owned(),
    ];
    // Sessions finish their bookkeeping after the Close exchange.
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, headers, body) = http_get(bridge.addr, "/metrics").await;
        assert_eq!(status, 200);
        assert!(content_type(&headers).starts_with("text/plain"));
        let text = String::from_utf8(body).unwrap();
        let missing: Vec<_> = expected
            .iter()
            .filter(|l| !text.contains(l.as_str()))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "missing {missing:?} in:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
