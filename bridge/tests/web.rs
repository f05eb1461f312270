//! HTTP side: static files, security headers, /api/servers, /healthz.

mod common;

use common::*;

const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn assert_security_headers(headers: &[(String, String)]) {
    assert_eq!(header(headers, "content-security-policy"), Some(CSP));
    assert_eq!(header(headers, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(headers, "referrer-policy"), Some("no-referrer"));
    assert_eq!(header(headers, "x-frame-options"), Some("DENY"));
    assert_eq!(
        header(headers, "cross-origin-opener-policy"),
        Some("same-origin")
    );
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
    assert!(
        header(&headers, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
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
    assert!(
        header(&headers, "content-type")
            .unwrap()
            .contains("javascript")
    );

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
