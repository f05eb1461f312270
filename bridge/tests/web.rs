//! HTTP side: static files, security headers, /api/servers, /healthz.

mod common;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-src 'self'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const FRAME_CSP: &str = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; \
    style-src 'unsafe-inline'; img-src data: blob:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'self'";

fn assert_security_headers(headers: &[(String, String)]) {
    assert_eq!(header(headers, "content-security-policy"), Some(CSP));
    assert_eq!(header(headers, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(headers, "referrer-policy"), Some("no-referrer"));
    assert_eq!(header(headers, "x-frame-options"), Some("DENY"));
    assert_eq!(
        header(headers, "cross-origin-opener-policy"),
        Some("same-origin")
    );
    // Plain HTTP (behind a TLS proxy, or a local run): HSTS is not ours to send.
    assert_eq!(header(headers, "strict-transport-security"), None);
}

async fn start_with_web_dir() -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>mail</title>",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("pkg")).unwrap();
    std::fs::write(
        dir.path().join("pkg/client_wasm_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    std::fs::write(dir.path().join("app.js"), "export {};").unwrap();
    let body = format!(
        "web_dir = {:?}\n{}{}",
        dir.path().display().to_string(),
        server_entry("demo", "imap.example.org", 993, "tls"),
        server_entry("loop", "127.0.0.1", 10143, "plain"),
    );
    (start(&body).await, dir)
}

#[tokio::test]
async fn healthz() {
    let (bridge, _dir) = start_with_web_dir().await;
    let (status, headers, body) = http_get(bridge.addr, "/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body, b"ok");
    assert_security_headers(&headers);
}

#[tokio::test]
async fn api_servers_lists_ids_names_security_only() {
    let (bridge, _dir) = start_with_web_dir().await;
    let (status, headers, body) = http_get(bridge.addr, "/api/servers").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_security_headers(&headers);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"servers":[
            {"id":"demo","name":"Server demo","security":"tls"},
            {"id":"loop","name":"Server loop","security":"plain"}
        ]})
    );
    let text = String::from_utf8(body).unwrap();
    assert!(!text.contains("imap.example.org") && !text.contains("993"));
}

#[tokio::test]
async fn static_files_with_headers_and_wasm_mime() {
    let (bridge, _dir) = start_with_web_dir().await;
    let (status, headers, body) = http_get(bridge.addr, "/").await;
    assert_eq!(status, 200);
    assert!(content_type(&headers).starts_with("text/html"));
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("<title>mail</title>")
    );
    assert_security_headers(&headers);

    let (status, headers, body) = http_get(bridge.addr, "/pkg/client_wasm_bg.wasm").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("application/wasm"));
    assert_eq!(body, b"\0asm\x01\0\0\0");
    assert_security_headers(&headers);

    let (status, headers, _) = http_get(bridge.addr, "/app.js").await;
    assert_eq!(status, 200);
    assert!(content_type(&headers).contains("javascript"));

    let (status, headers, _) = http_get(bridge.addr, "/missing.txt").await;
    assert_eq!(status, 404);
    assert_security_headers(&headers);

    let (status, _, _) = http_get(bridge.addr, "/../Cargo.toml").await;
    assert!(status == 404 || status == 400, "{status}");
}

#[tokio::test]
async fn imap_endpoint_without_upgrade_is_rejected() {
    let (bridge, _dir) = start_with_web_dir().await;
    let (status, headers, _) = http_get(bridge.addr, "/imap").await;
    assert!((400..500).contains(&status), "{status}");
    assert_security_headers(&headers);
}

/// Opens TLS to the bridge as `localhost`, trusting the test CA.
async fn tls_to(
    connector: &tokio_rustls::TlsConnector,
    addr: std::net::SocketAddr,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    connector.connect(name, tcp).await.unwrap()
}

/// `GET /healthz` over https; the raw response.
async fn https_healthz(
    connector: &tokio_rustls::TlsConnector,
    addr: std::net::SocketAddr,
) -> String {
    let s = tls_to(connector, addr).await;
    String::from_utf8(http_get_raw(s, "/healthz", "").await).unwrap()
}

#[tokio::test]
async fn serves_https_and_wss_with_tls_cert() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let pki = make_pki();
    let (cert_lines, _dir) = tls_cert_lines(&pki);
    let (bridge, _task) = echo_bridge_after(&cert_lines, "").await;
    let connector = tls_connector(&pki);

    // A client that never finishes its handshake does not block others.
    let _silent = tokio::net::TcpStream::connect(bridge.addr).await.unwrap();
    let text = https_healthz(&connector, bridge.addr).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("ok"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("\r\nstrict-transport-security: max-age=31536000\r\n"),
        "{text}"
    );

    // wss, from the bridge's own https origin.
    let mut req = format!("wss://localhost:{}/imap", bridge.addr.port())
        .into_client_request()
        .unwrap();
    let headers = req.headers_mut();
    headers.insert("Sec-WebSocket-Protocol", PROTOCOL.parse().unwrap());
    let origin = format!("https://localhost:{}", bridge.addr.port());
    headers.insert("Origin", origin.parse().unwrap());
    let tls = tls_to(&connector, bridge.addr).await;
    let (mut ws, _) = tokio_tungstenite::client_async(req, tls).await.unwrap();
    ws.send(Message::text(r#"{"type":"connect","server":"demo"}"#))
        .await
        .unwrap();
    let Some(Ok(Message::Text(t))) = ws.next().await else {
        panic!("expected connected");
    };
    assert!(t.contains("connected"), "{t}");
    let Some(Ok(Message::Binary(b))) = ws.next().await else {
        panic!("expected the greeting");
    };
    assert_eq!(&b[..], GREETING);
}

#[tokio::test]
async fn metrics_endpoint_is_prometheus_text() {
    let (bridge, _dir) = start_with_web_dir().await;
    let (status, headers, body) = http_get(bridge.addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(content_type(&headers).starts_with("text/plain; version=0.0.4"));
    assert_security_headers(&headers);
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("# TYPE bridge_sessions_open gauge"), "{text}");
    assert!(text.contains("bridge_sessions_total 0"), "{text}");
}

#[tokio::test]
async fn metrics_only_for_the_allowed_networks() {
    let body = format!(
        "metrics_allowed = [\"10.0.0.0/8\", \"2001:db8::7\"]\n\
         trusted_proxies = [\"127.0.0.1\"]\n{}",
        server_entry("demo", "127.0.0.1", 1, "plain")
    );
    let bridge = start(&body).await;
    // The proxy itself is not in the list once a list is configured.
    assert_eq!(metrics_status(&bridge, None).await, 403);
    for (client, status) in [
        ("10.20.30.40", 200),
        ("2001:db8::7", 200),
        ("::ffff:10.0.0.1", 200),
        ("203.0.113.9", 403),
        ("2001:db8::8", 403),
    ] {
        assert_eq!(
            metrics_status(&bridge, Some(client)).await,
            status,
            "{client}"
        );
    }
    // A proxy on loopback (in the default list) that does not name its
    // client: the client is unknown, not the proxy.
    let body = format!(
        "trusted_proxies = [\"127.0.0.1\"]\n{}",
        server_entry("demo", "127.0.0.1", 1, "plain")
    );
    let bridge = start(&body).await;
    for (client, status) in [
        (None, 403),
        (Some("127.0.0.1"), 403),
        (Some("203.0.113.9:4711"), 403),
        (Some("::1"), 200),
    ] {
        assert_eq!(metrics_status(&bridge, client).await, status, "{client:?}");
    }
}

/// The status of `GET /metrics`, through a proxy naming `forwarded_for` if given.
async fn metrics_status(bridge: &Running, forwarded_for: Option<&str>) -> u16 {
    let extra = forwarded_for.map_or(String::new(), |c| format!("X-Forwarded-For: {c}\r\n"));
    http_get_with(bridge.addr, "/metrics", &extra).await.0
}

async fn post_frame(bridge: &Running, extra: &str, body: &str) -> String {
    let mut s = TcpStream::connect(bridge.addr).await.unwrap();
    let request = format!(
        "POST /frame HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut raw))
        .await
        .expect("http timed out")
        .unwrap();
    String::from_utf8(raw).unwrap()
}

#[tokio::test]
async fn frame_serves_the_posted_message_under_its_own_csp() {
    let (bridge, _dir) = start_with_web_dir().await;
    let same = "Sec-Fetch-Site: same-origin\r\n";
    let html = "html=%3Cp+style%3D%22color%3Ared%22%3Ehi%3C%2Fp%3E";
    let text = post_frame(&bridge, same, html).await.to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(
        text.contains(&format!("content-security-policy: {FRAME_CSP}\r\n")),
        "{text}"
    );
    assert!(text.contains("x-frame-options: sameorigin\r\n"), "{text}");
    assert!(text.contains("cache-control: no-store\r\n"), "{text}");
    assert!(
        text.contains("content-type: text/html; charset=utf-8\r\n"),
        "{text}"
    );
    assert!(text.ends_with("<p style=\"color:red\">hi</p>"), "{text}");

    let text = post_frame(&bridge, same, &format!("{html}&remote=1")).await;
    assert!(
        text.contains("img-src data: blob: https: http:; base-uri 'none'"),
        "{text}"
    );

    for other in [
        "",
        "Sec-Fetch-Site: cross-site\r\n",
        "Sec-Fetch-Site: same-site\r\n",
    ] {
        let text = post_frame(&bridge, other, html).await;
        assert!(text.starts_with("HTTP/1.1 403"), "{other}: {text}");
        assert!(!text.contains("color:red"), "{text}");
    }
}
