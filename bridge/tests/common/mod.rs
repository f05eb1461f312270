//! Helpers shared by the integration tests: a bridge on 127.0.0.1:0, fake
//! IMAP servers (plain and TLS), a WebSocket client, a test PKI.

#![allow(dead_code)]

pub mod xorshift;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bridge::{Bridge, BridgeError, Config};
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const PROTOCOL: &str = "imap-relay.v1";
/// Upper bound for any single wait in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A bridge serving in the background.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub handle: JoinHandle<Result<(), BridgeError>>,
}

impl Running {
    /// Triggers shutdown (the future given to `serve` resolves).
    pub fn trigger_shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Waits up to `bound` for `serve` to return; panics unless it returned
    /// `Ok`.
    pub async fn served_within(&mut self, bound: Duration) {
        tokio::time::timeout(bound, &mut self.handle)
            .await
            .expect("serve did not return within the bound")
            .unwrap()
            .unwrap();
    }
}

/// The task's output, which must come within [`WAIT`].
pub async fn join_within_wait<T>(task: JoinHandle<T>) -> T {
    tokio::time::timeout(WAIT, task).await.unwrap().unwrap()
}

impl Drop for Running {
    fn drop(&mut self) {
        self.trigger_shutdown();
    }
}

/// `[[servers]]` entry for a fake server on loopback (`internal = true`).
pub fn server_entry(id: &str, host: &str, port: u16, security: &str) -> String {
    format!(
        "{}internal = true\n",
        external_server_entry(id, host, port, security)
    )
}

/// `[[servers]]` entry without `internal`: the deny ranges apply.
pub fn external_server_entry(id: &str, host: &str, port: u16, security: &str) -> String {
    format!(
        "[[servers]]\nid = \"{id}\"\nname = \"Server {id}\"\nhost = \"{host}\"\nport = {port}\nsecurity = \"{security}\"\n"
    )
}

/// Writes each `(key, file name, contents)` to a temporary directory and
/// returns the `key = "path"` lines naming them, and the directory (keep it
/// alive).
pub fn file_lines(files: &[(&str, &str, &str)]) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for (key, name, contents) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        lines.push_str(&format!("{key} = {:?}\n", path.display().to_string()));
    }
    (lines, dir)
}

/// `extra_ca = ...` line trusting the test PKI's CA, and the directory
/// holding the file (keep it alive).
pub fn extra_ca_line(pki: &Pki) -> (String, tempfile::TempDir) {
    file_lines(&[("extra_ca", "ca.pem", &pki.ca_pem)])
}

/// `tls_cert = ...` and `tls_key = ...` lines for the test PKI's leaf, and
/// the directory holding the files (keep it alive).
pub fn tls_cert_lines(pki: &Pki) -> (String, tempfile::TempDir) {
    file_lines(&[
        ("tls_cert", "cert.pem", &pki.leaf_pem),
        ("tls_key", "key.pem", &pki.key_pem),
    ])
}

/// A bridge relaying to a fresh echo server as `demo` (plain, 127.0.0.1),
/// with `extra` (e.g. a `[limits]` table) after the entry.
pub async fn echo_bridge(extra: &str) -> (Running, JoinHandle<u64>) {
    echo_bridge_after("", extra).await
}

/// [`echo_bridge`] with top-level `settings` before the entry.
pub async fn echo_bridge_after(settings: &str, extra: &str) -> (Running, JoinHandle<u64>) {
    let (imap, imap_task) = echo_server().await;
    let body = format!(
        "{settings}{}{extra}",
        server_entry("demo", "127.0.0.1", imap.port(), "plain")
    );
    (start(&body).await, imap_task)
}

/// [`echo_bridge`], and a session to `demo` past `connected` and the
/// greeting.
pub async fn echo_session(extra: &str) -> (Running, Ws, JoinHandle<u64>) {
    let (bridge, imap_task) = echo_bridge(extra).await;
    let mut ws = ws_connect(bridge.addr, "demo").await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    read_binary(&mut ws, GREETING.len()).await;
    (bridge, ws, imap_task)
}

/// Starts a bridge from TOML (without `listen`; port 0 is used).
pub async fn start(toml_body: &str) -> Running {
    let toml = format!("listen = \"127.0.0.1:0\"\n{toml_body}");
    let config = Config::from_toml_str(&toml).expect("test config");
    start_config(config).await
}

pub async fn start_config(config: Config) -> Running {
    init_logging("bridge=debug");
    serve_config(config).await
}

/// Logs go to the test writer: shown for failing tests only (and with
/// --nocapture). `default_filter` applies unless `RUST_LOG` is set.
pub fn init_logging(default_filter: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_test_writer()
        .try_init();
}

/// Binds a bridge for `config` and serves it in the background.
pub async fn serve_config(config: Config) -> Running {
    let bridge = Bridge::bind(config).await.expect("bind");
    let addr = bridge.local_addr();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(bridge.serve(async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        handle,
    }
}

/// Opens `/imap`, offering `protocol` if given.
pub async fn ws_open(
    addr: SocketAddr,
    protocol: Option<&str>,
) -> Result<(Ws, tungstenite::handshake::client::Response), tungstenite::Error> {
    ws_open_from(addr, protocol, None).await
}

/// Opens `/imap` as a page of `origin` would (no `Origin` header if `None`).
pub async fn ws_open_from(
    addr: SocketAddr,
    protocol: Option<&str>,
    origin: Option<&str>,
) -> Result<(Ws, tungstenite::handshake::client::Response), tungstenite::Error> {
    ws_open_with_origins(addr, protocol, origin.as_slice()).await
}

/// Opens `/imap` with one `Origin` header per entry of `origins`.
pub async fn ws_open_with_origins(
    addr: SocketAddr,
    protocol: Option<&str>,
    origins: &[&str],
) -> Result<(Ws, tungstenite::handshake::client::Response), tungstenite::Error> {
    let mut req = format!("ws://{addr}/imap").into_client_request().unwrap();
    if let Some(p) = protocol {
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", p.parse().unwrap());
    }
    for o in origins {
        req.headers_mut().append("Origin", o.parse().unwrap());
    }
    tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
        .await
        .expect("ws connect timed out")
}

/// Opens `/imap` with the subprotocol and sends `connect`.
pub async fn ws_connect(addr: SocketAddr, server: &str) -> Ws {
    let (mut ws, resp) = ws_open(addr, Some(PROTOCOL)).await.expect("upgrade");
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        PROTOCOL
    );
    send_text(
        &mut ws,
        &format!(r#"{{"type":"connect","server":"{server}"}}"#),
    )
    .await;
    ws
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
}

pub async fn send_binary(ws: &mut Ws, data: &[u8]) {
    ws.send(Message::binary(data.to_vec())).await.unwrap();
}

/// Reads until the stream ends, fails or stays quiet for [`WAIT`] (so a
/// Close reply goes out, as a browser's does).
pub async fn drain(ws: &mut Ws) {
    while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, ws.next()).await {}
}

/// Next message that is not a ping/pong.
pub async fn next_msg(ws: &mut Ws) -> Option<Message> {
    next_msg_within(ws, WAIT).await
}

/// Next message that is not a ping/pong, each wait bounded by `wait`;
/// `None` when the stream ended or failed.
pub async fn next_msg_within(ws: &mut Ws, wait: Duration) -> Option<Message> {
    loop {
        let m = tokio::time::timeout(wait, ws.next())
            .await
            .expect("timed out waiting for a message");
        match m {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(m)) => return Some(m),
            Some(Err(_)) | None => return None,
        }
    }
}

/// Next message, which must be a JSON text message.
pub async fn next_json(ws: &mut Ws) -> serde_json::Value {
    match next_msg(ws).await {
        Some(Message::Text(t)) => serde_json::from_str(t.as_str()).expect("json"),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// Expects `{"type":"error","code":code}` then a Close frame; returns the
/// error message and the close frame.
pub async fn expect_error(ws: &mut Ws, code: &str) -> (String, Option<CloseFrame>) {
    let v = next_json(ws).await;
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(v["code"], code, "{v}");
    let message = v["message"].as_str().expect("message").to_owned();
    assert!(!message.is_empty());
    let close = expect_close(ws).await;
    (message, close)
}

/// Skips binary data until a Close frame; returns it.
pub async fn expect_close(ws: &mut Ws) -> Option<CloseFrame> {
    loop {
        match next_msg(ws).await {
            Some(Message::Close(frame)) => return frame,
            Some(Message::Binary(_)) => continue,
            other => panic!("expected a Close frame, got {other:?}"),
        }
    }
}

/// Reads binary frames until `n` bytes have arrived.
pub async fn read_binary(ws: &mut Ws, n: usize) -> Vec<u8> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        match next_msg(ws).await {
            Some(Message::Binary(b)) => got.extend_from_slice(&b),
            other => panic!(
                "expected binary data, got {other:?} after {} bytes",
                got.len()
            ),
        }
    }
    got
}

pub fn pattern(len: usize) -> Vec<u8> {
    xorshift::pattern_from(0x9e37_79b9, len)
}

pub const GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1] fake ready\r\n";

/// Serves one connection: greeting, then echoes everything until EOF.
/// Resolves to the number of bytes echoed.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) -> u64 {
    s.write_all(GREETING).await.unwrap();
    let mut buf = vec![0u8; 32 * 1024];
    let mut total = 0u64;
    loop {
        let n = match s.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if s.write_all(&buf[..n]).await.is_err() {
            break;
        }
        total += n as u64;
    }
    let _ = s.shutdown().await;
    total
}

/// A plain fake IMAP server accepting one connection (greeting + echo).
pub async fn echo_server() -> (SocketAddr, JoinHandle<u64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        echo(s).await
    });
    (addr, handle)
}

/// A plain fake server that sends `data` and closes.
pub async fn send_and_close_server(data: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(&data).await.unwrap();
        s.shutdown().await.unwrap();
        // Keep reading until the bridge goes away.
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink).await;
    });
    addr
}

/// A port with nothing listening on it.
pub async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

/// A loopback listener whose accept queue is full, so that a further
/// connect to it hangs (the kernel drops its SYNs); keep the result alive.
pub async fn unanswering_listener() -> (SocketAddr, TcpListener, Vec<TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    for _ in 0..16 {
        let attempt = TcpStream::connect(addr);
        match tokio::time::timeout(Duration::from_millis(300), attempt).await {
            Ok(conn) => queued.push(conn.unwrap()),
            Err(_) => return (addr, listener, queued),
        }
    }
    panic!("the kernel took 16 connections on a listener with backlog 0");
}

/// Test PKI: a CA and a leaf (CA:FALSE, serverAuth, SAN DNS:localhost)
/// signed by it.
pub struct Pki {
    pub ca_pem: String,
    pub leaf: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
    pub leaf_pem: String,
    pub key_pem: String,
}

pub fn make_pki() -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "bridge test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        leaf_pem: leaf.pem(),
        key_pem: leaf_key.serialize_pem(),
        leaf: leaf.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
    }
}

/// A TLS acceptor presenting the test PKI's leaf (DNS:localhost).
pub fn tls_acceptor(pki: &Pki) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![pki.leaf.clone()], pki.key.clone_key())
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A rustls client trusting only the test PKI's CA.
pub fn tls_connector(pki: &Pki) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pki.ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    tls_connector_with(roots)
}

/// A rustls client (ring, safe default versions) trusting only `roots`.
pub fn tls_connector_with(roots: rustls::RootCertStore) -> tokio_rustls::TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// What a fake STARTTLS server does after its `a OK Begin TLS`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AfterOk {
    /// Appends `* OK injected` to the OK in the same write (a man in the
    /// middle's injection), then does TLS and greeting + echo over it.
    InjectThenTls,
    /// Like `InjectThenTls`, with [`LONG_UNTAGGED`] before the OK in that
    /// write, so that the OK line straddles the bridge's 4 KiB read.
    InjectAfterLongReply,
    /// Never starts TLS (holds the connection).
    Hang,
}

pub const INJECTED: &[u8] = b"* OK injected\r\n";
pub const STARTTLS_OK: &[u8] = b"a OK Begin TLS\r\n";
/// An untagged line of 4085 bytes: the OK after it starts 11 bytes before
/// the 4096th.
pub const LONG_UNTAGGED: &[u8] = &{
    let mut line = [b'x'; 4085];
    line[0] = b'*';
    line[1] = b' ';
    line[4083] = b'\r';
    line[4084] = b'\n';
    line
};

impl AfterOk {
    /// What the server sends after the STARTTLS command, up to its OK.
    pub fn reply(self) -> Vec<u8> {
        match self {
            Self::InjectAfterLongReply => [LONG_UNTAGGED, STARTTLS_OK].concat(),
            Self::InjectThenTls | Self::Hang => STARTTLS_OK.to_vec(),
        }
    }
}
pub const STARTTLS_GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n";

/// A fake STARTTLS IMAP server on 127.0.0.1 for one connection: greets in
/// cleartext, expects exactly `a STARTTLS\r\n`, answers `a OK Begin TLS`,
/// then behaves as `after` says.
pub async fn starttls_server(pki: &Pki, after: AfterOk) -> (SocketAddr, JoinHandle<()>) {
    let acceptor = tls_acceptor(pki);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(STARTTLS_GREETING).await.unwrap();
        let mut cmd = [0u8; 12];
        s.read_exact(&mut cmd).await.unwrap();
        assert_eq!(&cmd, b"a STARTTLS\r\n");
        match after {
            AfterOk::InjectThenTls | AfterOk::InjectAfterLongReply => {
                s.write_all(&[&after.reply()[..], INJECTED].concat())
                    .await
                    .unwrap();
                if let Ok(tls) = acceptor.accept(s).await {
                    echo(tls).await;
                }
            }
            AfterOk::Hang => {
                s.write_all(&after.reply()).await.unwrap();
                tokio::time::sleep(WAIT).await;
            }
        }
    });
    (addr, handle)
}

/// A TLS fake IMAP server (greeting + echo) on 127.0.0.1, accepting
/// connections until dropped. Handshake failures are ignored.
pub async fn tls_echo_server(pki: &Pki) -> (SocketAddr, JoinHandle<()>) {
    let acceptor = tls_acceptor(pki);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(s).await {
                    echo(tls).await;
                }
            });
        }
    });
    (addr, handle)
}

/// Minimal HTTP/1.1 GET; returns status, lower-cased headers, body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    http_get_with(addr, path, "").await
}

/// [`http_get`] with `extra` header lines, each ending in CRLF.
pub async fn http_get_with(
    addr: SocketAddr,
    path: &str,
    extra: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let s = TcpStream::connect(addr).await.unwrap();
    let raw = http_get_raw(s, path, extra).await;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body)
}

/// Sends `GET path` (`Connection: close`, `extra` header lines) on `s`; the
/// raw response.
pub async fn http_get_raw<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    path: &str,
    extra: &str,
) -> Vec<u8> {
    let head =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut raw))
        .await
        .expect("http timed out")
        .unwrap();
    raw
}

/// The `content-type` header, which must be there.
pub fn content_type(headers: &[(String, String)]) -> &str {
    header(headers, "content-type").unwrap()
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// VmRSS of this process in bytes.
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}
