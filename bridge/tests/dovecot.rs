//! Integration tests against the real Dovecot rig (`tests/rig/dovecot.sh`):
//! relay fidelity in plain, STARTTLS and implicit-TLS modes, faults (upstream
//! killed mid-FETCH, silent upstream, a browser that stops reading, shutdown
//! and SIGTERM during live sessions), and certificate failures.
//!
//! The bridge runs in-process (`Bridge::bind` + `serve` on 127.0.0.1:0); a
//! tokio-tungstenite client offering `imap-relay.v1` plays the browser.
//!
//! The rig is read from `RIG_ENV` (path of a `rig.env` written by
//! `dovecot.sh start`) or from the `RIG_*` variables. Without a rig every test
//! prints "skipped: no Dovecot rig (set RIG_ENV)" and passes, unless
//! `REQUIRE_RIG=1`, which turns a missing rig into a failure. The fidelity
//! test uses the big mailbox (`--bulk N`, user carol) when `RIG_BULK > 0`.
//!
//! Tests in this file run one at a time (a shared lock): several of them
//! measure this process's memory, and the machine is small.
//!
//! Example:
//! ```text
//! tests/rig/dovecot.sh start /tmp/rig --plain-port 13143 --tls-port 13993 --bulk 100000
//! RIG_ENV=/tmp/rig/rig.env REQUIRE_RIG=1 cargo test -p bridge --test dovecot
//! ```

mod common;

use std::collections::HashMap;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use bridge::Config;
use common::xorshift::xorshift32;
use common::{
    Running, init_logging, next_msg_within, rss_bytes, serve_config, server_entry as server,
};
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const PROTOCOL: &str = "imap-relay.v1";
/// Bound on a single wait for one message or response line.
const WAIT: Duration = Duration::from_secs(20);
/// Bound on one whole test.
const TEST_LIMIT: Duration = Duration::from_secs(300);
/// The header sync of the fidelity test (and of the benchmark).
const HEADER_FETCH: &str = "UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])";

/// One test at a time (memory measurements, 2-core machine).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// --- the rig ---------------------------------------------------------------

#[derive(Debug, Clone)]
struct Rig {
    plain_port: u16,
    tls_port: u16,
    ca: PathBuf,
    user: String,
    pass: String,
    /// carol, with `bulk` messages (absent in rigs from before `--bulk`).
    bulk_user: Option<(String, String)>,
    bulk: u64,
}

impl Rig {
    fn from_vars(v: &HashMap<String, String>) -> Result<Self, String> {
        let get = |k: &str| {
            v.get(k)
                .filter(|s| !s.is_empty())
                .cloned()
                .ok_or_else(|| format!("{k} is not set"))
        };
        let port = |k: &str| -> Result<u16, String> {
            get(k)?
                .parse()
                .map_err(|e| format!("{k} is not a port: {e}"))
        };
        let bulk = match v.get("RIG_BULK") {
            Some(s) if !s.is_empty() => s
                .parse()
                .map_err(|e| format!("RIG_BULK is not a number: {e}"))?,
            _ => 0,
        };
        let bulk_user = match (get("RIG_USER3"), get("RIG_PASS3")) {
            (Ok(u), Ok(p)) => Some((u, p)),
            _ => None,
        };
        Ok(Self {
            plain_port: port("RIG_PLAIN_PORT")?,
            tls_port: port("RIG_TLS_PORT")?,
            ca: PathBuf::from(get("RIG_CA")?),
            user: get("RIG_USER")?,
            pass: get("RIG_PASS")?,
            bulk: if bulk_user.is_some() { bulk } else { 0 },
            bulk_user,
        })
    }

    /// The account with the most mail: carol when the rig has a bulk
    /// mailbox, else alice. Returns (user, pass, messages or None if unknown).
    fn big_account(&self) -> (String, String, Option<u64>) {
        match &self.bulk_user {
            Some((u, p)) if self.bulk > 0 => (u.clone(), p.clone(), Some(self.bulk)),
            _ => (self.user.clone(), self.pass.clone(), None),
        }
    }

    fn plain_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.plain_port))
    }

    fn tls_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.tls_port))
    }
}

/// Undoes `shq` of dovecot.sh: `'...'` segments and backslash escapes.
fn shell_unquote(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    out.push(q);
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '"' => {}
            c => out.push(c),
        }
    }
    out
}

fn parse_env_file(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), shell_unquote(v.trim())))
        .collect()
}

/// The rig, or `None` (after printing the skip line) when there is none and
/// `REQUIRE_RIG` is not `1`.
fn rig() -> Option<Rig> {
    let required = std::env::var("REQUIRE_RIG").is_ok_and(|v| v == "1");
    let vars = match std::env::var("RIG_ENV") {
        Ok(path) if !path.is_empty() => match std::fs::read_to_string(&path) {
            Ok(text) => parse_env_file(&text),
            Err(e) => panic!("RIG_ENV={path} cannot be read: {e}"),
        },
        _ => std::env::vars()
            .filter(|(k, _)| k.starts_with("RIG_"))
            .collect(),
    };
    match Rig::from_vars(&vars) {
        Ok(rig) => Some(rig),
        Err(why) if required => panic!("REQUIRE_RIG=1 but no usable Dovecot rig: {why}"),
        Err(_) => {
            println!("skipped: no Dovecot rig (set RIG_ENV)");
            None
        }
    }
}

// --- the bridge --------------------------------------------------------------

/// Full TOML: listen on port 0, optional extra CA, servers, `[limits]` body.
fn bridge_toml(extra_ca: Option<&Path>, servers: &[String], limits: &str) -> String {
    let mut t = String::from("listen = \"127.0.0.1:0\"\n");
    if let Some(ca) = extra_ca {
        t.push_str(&format!("extra_ca = \"{}\"\n", ca.display()));
    }
    for s in servers {
        t.push_str(s);
    }
    if !limits.is_empty() {
        t.push_str("[limits]\n");
        t.push_str(limits);
    }
    t
}

/// Parses the config (loopback servers need `internal = true`).
fn parse_config(toml: &str) -> Config {
    Config::from_toml_str(toml).unwrap_or_else(|e| panic!("test config rejected: {e}\n{toml}"))
}

async fn start_bridge(toml: &str) -> Running {
    init_logging("bridge=info");
    serve_config(parse_config(toml)).await
}

// --- the browser ---------------------------------------------------------------

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn ws_open(addr: SocketAddr) -> Ws {
    let mut req = format!("ws://{addr}/imap").into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", PROTOCOL.parse().unwrap());
    let config = WebSocketConfig::default().read_buffer_size(256 * 1024);
    let (ws, resp) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async_with_config(req, Some(config), true),
    )
    .await
    .expect("WebSocket connect timed out")
    .expect("WebSocket upgrade");
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .map(|v| v.as_bytes()),
        Some(PROTOCOL.as_bytes())
    );
    ws
}

/// Next message other than Ping/Pong; `None` when the stream ended or failed.
async fn next_msg(ws: &mut Ws) -> Option<Message> {
    next_msg_within(ws, WAIT).await
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON {text:?}: {e}"))
}

/// Sends `connect` and returns the reply (`connected` or `error`).
async fn ws_connect_reply(addr: SocketAddr, server: &str) -> (Ws, serde_json::Value) {
    let mut ws = ws_open(addr).await;
    ws.send(Message::text(format!(
        r#"{{"type":"connect","server":"{server}"}}"#
    )))
    .await
    .unwrap();
    match next_msg(&mut ws).await {
        Some(Message::Text(t)) => {
            let v = json(t.as_str());
            (ws, v)
        }
        other => panic!("expected a control reply to connect, got {other:?}"),
    }
}

/// Opens a relayed session to `server`; panics unless `connected`.
async fn ws_connect(addr: SocketAddr, server: &str) -> Ws {
    let (ws, v) = ws_connect_reply(addr, server).await;
    assert_eq!(v["type"], "connected", "connect to {server}: {v}");
    ws
}

/// Expects an error message with `code` then a Close; returns the message.
async fn expect_error(ws: &mut Ws, code: &str) -> (String, Option<CloseFrame>) {
    loop {
        match next_msg(ws).await {
            Some(Message::Binary(_)) => continue,
            Some(Message::Text(t)) => {
                let v = json(t.as_str());
                assert_eq!(v["type"], "error", "{v}");
                assert_eq!(v["code"], code, "{v}");
                let message = v["message"].as_str().unwrap_or_default().to_owned();
                let close = match next_msg(ws).await {
                    Some(Message::Close(f)) => f,
                    None => None,
                    Some(other) => panic!("expected Close after the error, got {other:?}"),
                };
                // Reading on flushes our Close reply, as a browser sends it.
                let _ = tokio::time::timeout(Duration::from_secs(2), ws.next()).await;
                return (message, close);
            }
            other => panic!("expected an error message {code}, got {other:?}"),
        }
    }
}

// --- IMAP over any transport ---------------------------------------------------

enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    Ws(Box<Ws>),
    /// Only while STARTTLS swaps the transport.
    Gone,
}

enum Recv {
    Data(Vec<u8>),
    /// Direct: EOF. Bridge: a Close frame (or the end of the stream).
    Closed(Option<CloseFrame>),
    /// A text frame from the bridge.
    Control(String),
}

fn tls_connector(ca: &Path) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("read RIG_CA") {
        roots.add(cert.expect("PEM")).expect("CA usable");
    }
    common::tls_connector_with(roots)
}

async fn tls_wrap(tcp: TcpStream, ca: &Path) -> Conn {
    let name = ServerName::try_from("localhost").unwrap();
    let tls = tokio::time::timeout(WAIT, tls_connector(ca).connect(name, tcp))
        .await
        .expect("TLS handshake timed out")
        .expect("TLS handshake with Dovecot");
    Conn::Tls(Box::new(tls))
}

impl Conn {
    async fn send(&mut self, data: &[u8]) {
        match self {
            Self::Plain(s) => s.write_all(data).await.unwrap(),
            Self::Tls(s) => {
                s.write_all(data).await.unwrap();
                s.flush().await.unwrap();
            }
            Self::Ws(ws) => ws.send(Message::binary(data.to_vec())).await.unwrap(),
            Self::Gone => unreachable!(),
        }
    }

    async fn recv(&mut self) -> Recv {
        let mut buf = vec![0u8; 64 * 1024];
        let res = match self {
            Self::Plain(s) => tokio::time::timeout(WAIT, s.read(&mut buf)).await,
            Self::Tls(s) => tokio::time::timeout(WAIT, s.read(&mut buf)).await,
            Self::Ws(ws) => return ws_recv(ws).await,
            Self::Gone => unreachable!(),
        };
        match res.expect("timed out reading from Dovecot") {
            Ok(0) => Recv::Closed(None),
            Ok(n) => {
                buf.truncate(n);
                Recv::Data(buf)
            }
            // A TLS peer closing without close_notify.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Recv::Closed(None),
            Err(e) => panic!("read from Dovecot: {e}"),
        }
    }
}

async fn ws_recv(ws: &mut Ws) -> Recv {
    match next_msg(ws).await {
        Some(Message::Binary(b)) => Recv::Data(b.to_vec()),
        Some(Message::Text(t)) => Recv::Control(t.as_str().to_owned()),
        Some(Message::Close(f)) => Recv::Closed(f),
        None => Recv::Closed(None),
        Some(other) => panic!("unexpected WebSocket message {other:?}"),
    }
}

/// Finds the end of the response with a given tag in an IMAP response
/// stream, skipping literals (`{N}\r\n` + N bytes), whatever the chunking.
struct Scanner {
    tag: Vec<u8>,
    /// First bytes of the current response (enough to compare the tag).
    head: Vec<u8>,
    /// Last bytes of the current line (enough to find a literal announcement).
    tail: Vec<u8>,
    /// Literal bytes still to skip.
    literal: usize,
    /// Responses completed so far (untagged and tagged).
    responses: u64,
}

impl Scanner {
    fn new(tag: &str) -> Self {
        Self {
            tag: tag.as_bytes().to_vec(),
            head: Vec::new(),
            tail: Vec::new(),
            literal: 0,
            responses: 0,
        }
    }

    /// Returns the offset just past the tagged response's final line if it
    /// ends within `data`.
    fn feed(&mut self, data: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < data.len() {
            if self.literal > 0 {
                let n = self.literal.min(data.len() - i);
                self.literal -= n;
                i += n;
                continue;
            }
            let rest = &data[i..];
            let (line, complete) = match rest.iter().position(|&b| b == b'\n') {
                Some(p) => (&rest[..=p], true),
                None => (rest, false),
            };
            i += line.len();
            let want = self.tag.len() + 1;
            if self.head.len() < want {
                let n = (want - self.head.len()).min(line.len());
                self.head.extend_from_slice(&line[..n]);
            }
            self.tail.extend_from_slice(line);
            if self.tail.len() > 40 {
                self.tail.drain(..self.tail.len() - 40);
            }
            if !complete {
                continue;
            }
            if let Some(n) = literal_announced(&self.tail) {
                self.literal = n;
                self.tail.clear();
                continue;
            }
            let tagged = self.head.len() == want
                && self.head.starts_with(&self.tag)
                && self.head[want - 1] == b' ';
            self.head.clear();
            self.tail.clear();
            self.responses += 1;
            if tagged {
                return Some(i);
            }
        }
        None
    }
}

/// `{N}\r\n` (or `{N+}`) at the end of a line.
fn literal_announced(line: &[u8]) -> Option<usize> {
    let t = line.strip_suffix(b"\r\n").or(line.strip_suffix(b"\n"))?;
    let t = t.strip_suffix(b"}")?;
    let open = t.iter().rposition(|&b| b == b'{')?;
    let digits = &t[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// An IMAP session recording every byte the server sent.
struct Imap {
    conn: Conn,
    transcript: Vec<u8>,
    /// (start, end) of each tagged completion line in `transcript`.
    tagged: Vec<(usize, usize)>,
    leftover: Vec<u8>,
}

impl Imap {
    fn new(conn: Conn) -> Self {
        Self {
            conn,
            transcript: Vec::new(),
            tagged: Vec::new(),
            leftover: Vec::new(),
        }
    }

    /// Reads up to and including the response tagged `tag` (`*` for the
    /// greeting).
    async fn read_response(&mut self, tag: &str) {
        let mut scanner = Scanner::new(tag);
        let mut data = std::mem::take(&mut self.leftover);
        loop {
            if !data.is_empty() {
                if let Some(end) = scanner.feed(&data) {
                    self.transcript.extend_from_slice(&data[..end]);
                    self.leftover = data[end..].to_vec();
                    let t = &self.transcript;
                    let last = t.len();
                    let start = t[..last - 1]
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |p| p + 1);
                    self.tagged.push((start, last));
                    return;
                }
                self.transcript.extend_from_slice(&data);
            }
            data = match self.conn.recv().await {
                Recv::Data(d) => d,
                Recv::Closed(f) => panic!(
                    "connection closed (close frame {f:?}) before the response tagged {tag}; \
                     last bytes: {}",
                    show(&self.transcript[self.transcript.len().saturating_sub(200)..])
                ),
                Recv::Control(t) => panic!("unexpected control message before {tag}: {t}"),
            };
        }
    }

    async fn greeting(&mut self) {
        self.read_response("*").await;
        let line = &self.transcript[self.tagged.last().unwrap().0..];
        assert!(line.starts_with(b"* OK"), "greeting: {}", show(line));
    }

    /// Sends a command and reads its response; returns the tagged line.
    async fn command(&mut self, tag: &str, command: &str) -> Vec<u8> {
        self.conn
            .send(format!("{tag} {command}\r\n").as_bytes())
            .await;
        self.read_response(tag).await;
        let (s, e) = *self.tagged.last().unwrap();
        self.transcript[s..e].to_vec()
    }

    async fn command_ok(&mut self, tag: &str, command: &str) {
        let line = self.command(tag, command).await;
        assert!(
            line.starts_with(format!("{tag} OK").as_bytes()),
            "{command:.20}: {}",
            show(&line)
        );
    }

    async fn login(&mut self, tag: &str, user: &str, pass: &str) {
        self.command_ok(tag, &format!("LOGIN {} {}", quote(user), quote(pass)))
            .await;
    }

    /// STARTTLS: the command, then the TLS handshake (direct) or the
    /// `starttls` / `tls_established` control exchange (bridge).
    async fn starttls(&mut self, tag: &str, ca: &Path) {
        self.command_ok(tag, "STARTTLS").await;
        assert!(
            self.leftover.is_empty(),
            "bytes after the STARTTLS OK: {}",
            show(&self.leftover)
        );
        let conn = std::mem::replace(&mut self.conn, Conn::Gone);
        self.conn = match conn {
            Conn::Plain(tcp) => tls_wrap(tcp, ca).await,
            Conn::Ws(mut ws) => {
                ws.send(Message::text(r#"{"type":"starttls"}"#))
                    .await
                    .unwrap();
                match next_msg(&mut ws).await {
                    Some(Message::Text(t)) => {
                        let v = json(t.as_str());
                        assert_eq!(v["type"], "tls_established", "{v}");
                    }
                    other => panic!("expected tls_established, got {other:?}"),
                }
                Conn::Ws(ws)
            }
            Conn::Tls(_) | Conn::Gone => panic!("STARTTLS on a TLS connection"),
        };
    }

    /// After LOGOUT: the server closes. Direct: EOF. Bridge: Close 1000
    /// after every byte.
    async fn expect_closed(&mut self) {
        assert!(self.leftover.is_empty(), "{}", show(&self.leftover));
        loop {
            match self.conn.recv().await {
                Recv::Data(d) => self.transcript.extend_from_slice(&d),
                Recv::Closed(f) => {
                    if let Conn::Ws(_) = self.conn {
                        let code = f.map(|f| u16::from(f.code));
                        assert_eq!(code, Some(1000), "close after LOGOUT");
                    }
                    return;
                }
                Recv::Control(t) => panic!("control message instead of the close: {t}"),
            }
        }
    }

    /// The transcript with Dovecot's timing suffix of tagged lines
    /// (`(0.001 + 0.000 secs)`) made constant; every other byte as sent.
    fn normalized(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.transcript.len());
        let mut pos = 0;
        for &(s, e) in &self.tagged {
            out.extend_from_slice(&self.transcript[pos..s]);
            out.extend_from_slice(&strip_timing(&self.transcript[s..e]));
            pos = e;
        }
        out.extend_from_slice(&self.transcript[pos..]);
        out
    }
}

/// `... completed (0.001 + 0.000 + 0.001 secs).\r\n` → `... completed (T secs).\r\n`
fn strip_timing(line: &[u8]) -> Vec<u8> {
    const END: &[u8] = b" secs).\r\n";
    if let Some(body) = line.strip_suffix(END)
        && let Some(open) = body.windows(2).rposition(|w| w == b" (")
        && body[open + 2..]
            .iter()
            .all(|b| b.is_ascii_digit() || b" .+".contains(b))
    {
        let mut v = body[..open].to_vec();
        v.extend_from_slice(b" (T");
        v.extend_from_slice(END);
        return v;
    }
    line.to_vec()
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Printable excerpt of bytes.
fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(300)])
        .escape_debug()
        .to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    StartTls,
    Tls,
}

impl Mode {
    fn security(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::StartTls => "starttls",
            Self::Tls => "tls",
        }
    }
}

async fn direct(rig: &Rig, mode: Mode) -> Imap {
    let addr = if mode == Mode::Tls {
        rig.tls_addr()
    } else {
        rig.plain_addr()
    };
    let tcp = tokio::time::timeout(WAIT, TcpStream::connect(addr))
        .await
        .expect("connect timed out")
        .expect("connect to Dovecot");
    tcp.set_nodelay(true).unwrap();
    let conn = if mode == Mode::Tls {
        tls_wrap(tcp, &rig.ca).await
    } else {
        Conn::Plain(tcp)
    };
    Imap::new(conn)
}

/// One run of the fidelity script; returns the session (transcript inside).
async fn fidelity_script(mut imap: Imap, rig: &Rig, mode: Mode) -> Imap {
    let (user, pass, _) = rig.big_account();
    imap.greeting().await;
    if mode == Mode::StartTls {
        imap.starttls("s1", &rig.ca).await;
    }
    imap.login("a1", &user, &pass).await;
    imap.command_ok("a2", "SELECT INBOX").await;
    imap.command_ok("a3", HEADER_FETCH).await;
    imap.command_ok("a4", "LOGOUT").await;
    imap.expect_closed().await;
    imap
}

/// Where two byte strings first differ, with context.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = at.saturating_sub(80);
    format!(
        "lengths {} vs {}; first difference at byte {at}:\n direct: {}\n bridge: {}",
        a.len(),
        b.len(),
        show(&a[from..(at + 80).min(a.len())]),
        show(&b[from..(at + 80).min(b.len())]),
    )
}

async fn fidelity(mode: Mode) {
    let Some(rig) = rig() else { return };
    let _serial = SERIAL.lock().await;
    let test = async {
        let (user, pass, expected) = rig.big_account();
        // Warm-up: builds Dovecot's index and claims \Recent, so both
        // measured sessions see the same flags.
        let mut warm = direct(&rig, Mode::Plain).await;
        warm.greeting().await;
        warm.login("w1", &user, &pass).await;
        warm.command_ok("w2", "SELECT INBOX").await;
        warm.command_ok("w3", "LOGOUT").await;

        let started = Instant::now();
        let direct_run = fidelity_script(direct(&rig, mode).await, &rig, mode).await;
        let direct_time = started.elapsed();

        let bridge = start_bridge(&bridge_toml(
            Some(&rig.ca),
            &[if mode == Mode::Tls {
                server("imap", "localhost", rig.tls_port, "tls")
            } else {
                server("imap", "localhost", rig.plain_port, mode.security())
            }],
            "",
        ))
        .await;
        let started = Instant::now();
        let ws = ws_connect(bridge.addr, "imap").await;
        let bridge_run = fidelity_script(Imap::new(Conn::Ws(Box::new(ws))), &rig, mode).await;
        let bridge_time = started.elapsed();

        let (a, b) = (direct_run.normalized(), bridge_run.normalized());
        println!(
            "{mode:?}: {} bytes, direct {direct_time:?}, bridge {bridge_time:?}",
            a.len()
        );
        assert!(a == b, "{mode:?}: {}", first_difference(&a, &b));
        // The header FETCH really carried the whole mailbox.
        if let Some(n) = expected {
            assert_eq!(
                count_fetch_responses(&a),
                n,
                "FETCH responses in the transcript"
            );
        }
    };
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .expect("fidelity test timed out");
}

/// Number of `* N FETCH` responses in a transcript (literal-aware).
fn count_fetch_responses(transcript: &[u8]) -> u64 {
    let mut i = 0;
    let mut n = 0;
    let mut line_start = true;
    while i < transcript.len() {
        let rest = &transcript[i..];
        let Some(p) = rest.iter().position(|&b| b == b'\n') else {
            break;
        };
        let line = &rest[..=p];
        if line_start && line.starts_with(b"* ") && line.windows(7).any(|w| w == b" FETCH ") {
            n += 1;
        }
        i += line.len();
        line_start = true;
        if let Some(lit) = literal_announced(line) {
            i += lit;
            line_start = false;
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_plain() {
    fidelity(Mode::Plain).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_starttls() {
    fidelity(Mode::StartTls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_implicit_tls() {
    fidelity(Mode::Tls).await;
}

// --- faults ----------------------------------------------------------------------

const FAKE_GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1] fake upstream ready\r\n";

fn pattern(len: usize) -> Vec<u8> {
    xorshift32(0x2545_f491)
        .take(len)
        .map(|x| b'a' + (x % 26) as u8)
        .collect()
}

/// A fake upstream that greets, waits for one command line, sends the start
/// of a 100000-byte literal and dies: a FIN (`reset = false`) or a RST.
async fn dying_upstream(reset: bool) -> (SocketAddr, Vec<u8>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut sent = FAKE_GREETING.to_vec();
    let partial = [
        b"* 1 FETCH (UID 1 BODY[] {100000}\r\n".as_slice(),
        &pattern(40_000),
    ]
    .concat();
    sent.extend_from_slice(&partial);
    let handle = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(FAKE_GREETING).await.unwrap();
        let mut buf = [0u8; 256];
        let mut got = Vec::new();
        while !got.ends_with(b"\r\n") {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "the bridge closed before sending the command");
            got.extend_from_slice(&buf[..n]);
        }
        s.write_all(&partial).await.unwrap();
        s.flush().await.unwrap();
        if reset {
            // Let the data leave before the RST, as when a process is killed
            // right after writing.
            tokio::time::sleep(Duration::from_millis(200)).await;
            s.set_zero_linger().unwrap();
        }
        drop(s);
    });
    (addr, sent, handle)
}

async fn upstream_dies_mid_fetch(reset: bool) {
    let _serial = SERIAL.lock().await;
    let test = async {
        let (addr, sent, upstream) = dying_upstream(reset).await;
        let bridge = start_bridge(&bridge_toml(
            None,
            &[server("fake", "127.0.0.1", addr.port(), "plain")],
            "",
        ))
        .await;
        let mut ws = ws_connect(bridge.addr, "fake").await;
        let mut got = Vec::new();
        while got.len() < FAKE_GREETING.len() {
            match next_msg(&mut ws).await {
                Some(Message::Binary(b)) => got.extend_from_slice(&b),
                other => panic!("expected the greeting, got {other:?}"),
            }
        }
        ws.send(Message::binary(b"f1 FETCH 1 BODY[]\r\n".to_vec()))
            .await
            .unwrap();
        let (close, error) = loop {
            match next_msg(&mut ws).await {
                Some(Message::Binary(b)) => got.extend_from_slice(&b),
                Some(Message::Text(t)) => {
                    let v = json(t.as_str());
                    assert_eq!(v["type"], "error", "{v}");
                    let f = match next_msg(&mut ws).await {
                        Some(Message::Close(f)) => f,
                        other => panic!("expected Close after the error, got {other:?}"),
                    };
                    break (f, Some(v["code"].as_str().unwrap_or_default().to_owned()));
                }
                Some(Message::Close(f)) => break (f, None),
                None => break (None, None),
                Some(other) => panic!("unexpected {other:?}"),
            }
        };
        upstream.await.unwrap();
        let code = close.as_ref().map(|f| u16::from(f.code));
        if reset {
            // A reset may discard what the bridge had not read yet: what
            // arrived is a prefix, and the end is reported.
            assert!(sent.starts_with(&got), "received bytes are not a prefix");
            assert!(
                code == Some(1000) || error.as_deref() == Some("upstream_error"),
                "close {close:?}, error {error:?}"
            );
            println!(
                "reset: {} of {} bytes, close {code:?}, error {error:?}",
                got.len(),
                sent.len()
            );
        } else {
            assert_eq!(got.len(), sent.len(), "every byte the server sent arrives");
            assert!(got == sent, "bytes differ");
            assert_eq!(error, None);
            assert_eq!(code, Some(1000), "{close:?}");
        }
    };
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("test timed out (hang)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_closes_mid_fetch() {
    upstream_dies_mid_fetch(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_reset_mid_fetch() {
    upstream_dies_mid_fetch(true).await;
}

/// A fake upstream that accepts and never speaks; reports when the bridge's
/// side of the connection ends (EOF or error), with the time.
async fn silent_upstream() -> (SocketAddr, oneshot::Receiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = tx.send(Instant::now());
    });
    (addr, rx)
}

/// A bridge (with `limits` added to its config) whose one server, "silent", never speaks;
/// the receiver tells when that server saw its connection end.
async fn bridge_to_silent_upstream(limits: &str) -> (Running, oneshot::Receiver<Instant>) {
    let (addr, ended) = silent_upstream().await;
    let bridge = start_bridge(&bridge_toml(
        None,
        &[server("silent", "127.0.0.1", addr.port(), "plain")],
        limits,
    ))
    .await;
    (bridge, ended)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_upstream_then_browser_closes() {
    let _serial = SERIAL.lock().await;
    let test = async {
        let (bridge, ended) = bridge_to_silent_upstream("").await;
        let mut ws = ws_connect(bridge.addr, "silent").await;
        // Nothing arrives.
        let quiet = tokio::time::timeout(Duration::from_secs(1), ws.next()).await;
        assert!(quiet.is_err(), "expected silence, got {quiet:?}");
        let closed_at = Instant::now();
        ws.close(None).await.unwrap();
        // The bridge answers the Close and drops the upstream connection.
        match next_msg(&mut ws).await {
            Some(Message::Close(_)) | None => {}
            other => panic!("expected the Close reply, got {other:?}"),
        }
        let upstream_end = tokio::time::timeout(Duration::from_secs(5), ended)
            .await
            .expect("the bridge kept the upstream connection open")
            .unwrap();
        let took = upstream_end.duration_since(closed_at);
        println!("upstream connection closed {took:?} after the browser's Close");
        assert!(took < Duration::from_secs(3), "{took:?}");
    };
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("test timed out (hang)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_upstream_idle_timeout() {
    let _serial = SERIAL.lock().await;
    let test = async {
        // Pings (every second) are not data: they must not keep it open.
        let (bridge, ended) =
            bridge_to_silent_upstream("idle_timeout_secs = 1\nping_interval_secs = 1\n").await;
        let started = Instant::now();
        let mut ws = ws_connect(bridge.addr, "silent").await;
        let (_, close) = expect_error(&mut ws, "idle_timeout").await;
        let took = started.elapsed();
        println!("idle_timeout after {took:?}, close {close:?}");
        assert!(took >= Duration::from_millis(900), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert_eq!(close.map(|f| u16::from(f.code)), Some(1001));
        tokio::time::timeout(Duration::from_secs(5), ended)
            .await
            .expect("the bridge kept the upstream connection open")
            .unwrap();
    };
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("test timed out (hang)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_stops_reading_memory_stays_bounded() {
    let Some(rig) = rig() else { return };
    let (user, pass, expected) = rig.big_account();
    let Some(expected) = expected.filter(|&n| n >= 10_000) else {
        println!(
            "skipped: browser_stops_reading needs a bulk mailbox of at least 10000 messages \
             (dovecot.sh start --bulk 100000)"
        );
        return;
    };
    let _serial = SERIAL.lock().await;
    let test = async {
        let bridge = start_bridge(&bridge_toml(
            None,
            &[server("plain", "localhost", rig.plain_port, "plain")],
            "",
        ))
        .await;
        let ws = ws_connect(bridge.addr, "plain").await;
        let mut imap = Imap::new(Conn::Ws(Box::new(ws)));
        imap.greeting().await;
        imap.login("a1", &user, &pass).await;
        imap.command_ok("a2", "SELECT INBOX").await;
        // A small FETCH first, so buffers reach their working size.
        imap.command_ok("a3", "UID FETCH 1:200 (UID FLAGS BODY.PEEK[HEADER])")
            .await;
        let before = rss_bytes();
        imap.conn
            .send(format!("a4 {HEADER_FETCH}\r\n").as_bytes())
            .await;
        // The browser stops reading while Dovecot streams ~90 MB.
        let mut peak = before;
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            peak = peak.max(rss_bytes());
        }
        let growth = peak.saturating_sub(before);
        println!(
            "RSS before {} KiB, peak while stalled {} KiB, growth {} KiB",
            before / 1024,
            peak / 1024,
            growth / 1024
        );
        // The response is ~90 MB; a relay that buffered it would grow by most
        // of that (minus kernel socket buffers, a few MB).
        assert!(
            growth < 16 << 20,
            "memory grew by {growth} bytes while the browser was not reading"
        );
        // Resume: everything arrives.
        let mut scanner = Scanner::new("a4");
        let mut total = 0usize;
        loop {
            match imap.conn.recv().await {
                Recv::Data(d) => {
                    total += d.len();
                    if let Some(end) = scanner.feed(&d) {
                        assert_eq!(end, d.len(), "bytes after the tagged response");
                        break;
                    }
                }
                Recv::Closed(f) => panic!("closed after {total} bytes: {f:?}"),
                Recv::Control(t) => panic!("control message after {total} bytes: {t}"),
            }
        }
        println!(
            "after resuming: {total} bytes, {} responses",
            scanner.responses
        );
        assert_eq!(
            scanner.responses,
            expected + 1,
            "every FETCH response arrived"
        );
    };
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .expect("test timed out (hang)");
}

/// Logs in over a fresh relayed session and opens INBOX read-only
/// (EXAMINE leaves \Recent alone for other tests sharing the rig).
async fn logged_in(addr: SocketAddr, server: &str, user: &str, pass: &str) -> Imap {
    let ws = ws_connect(addr, server).await;
    let mut imap = Imap::new(Conn::Ws(Box::new(ws)));
    imap.greeting().await;
    imap.login("a1", user, pass).await;
    imap.command_ok("a2", "EXAMINE INBOX").await;
    imap
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_dovecot_sessions() {
    let Some(rig) = rig() else { return };
    let _serial = SERIAL.lock().await;
    let test = async {
        let grace = Duration::from_secs(3);
        let mut bridge = start_bridge(&bridge_toml(
            Some(&rig.ca),
            &[
                server("plain", "localhost", rig.plain_port, "plain"),
                server("tls", "localhost", rig.tls_port, "tls"),
            ],
            &format!("shutdown_grace_secs = {}\n", grace.as_secs()),
        ))
        .await;
        let (big_user, big_pass, _) = rig.big_account();
        let mut idle_plain = logged_in(bridge.addr, "plain", &rig.user, &rig.pass).await;
        let mut idle_tls = logged_in(bridge.addr, "tls", &rig.user, &rig.pass).await;
        let mut busy = logged_in(bridge.addr, "tls", &big_user, &big_pass).await;
        busy.conn
            .send(format!("a3 {HEADER_FETCH}\r\n").as_bytes())
            .await;
        // Let the FETCH get going.
        match busy.conn.recv().await {
            Recv::Data(_) => {}
            _ => panic!("expected FETCH data"),
        }
        let fired = Instant::now();
        bridge.trigger_shutdown();
        let handle = &mut bridge.handle;
        for (name, imap) in [
            ("idle plain", &mut idle_plain),
            ("idle tls", &mut idle_tls),
            ("busy tls", &mut busy),
        ] {
            let Conn::Ws(ws) = &mut imap.conn else {
                unreachable!()
            };
            let (message, close) = expect_error(ws, "shutting_down").await;
            println!("{name}: {message:?} {close:?} after {:?}", fired.elapsed());
            assert_eq!(close.map(|f| u16::from(f.code)), Some(1001), "{name}");
        }
        let res = tokio::time::timeout(grace + Duration::from_secs(2), handle)
            .await
            .expect("serve did not return within its grace")
            .expect("serve task");
        res.expect("serve result");
        let took = fired.elapsed();
        println!("serve returned {took:?} after the shutdown signal");
        assert!(took <= grace, "{took:?}");
    };
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("test timed out (hang)");
}

/// Kills the child (a bridge this test started) if the test fails early.
struct ChildGuard(Option<std::process::Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_real_binary_during_session() {
    let Some(rig) = rig() else { return };
    let _serial = SERIAL.lock().await;
    let test = async {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bridge.toml");
        std::fs::write(
            &config,
            bridge_toml(
                None,
                &[server("plain", "localhost", rig.plain_port, "plain")],
                "shutdown_grace_secs = 2\n",
            ),
        )
        .unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bridge"))
            .arg("--config")
            .arg(&config)
            .arg("--web-dir")
            .arg(dir.path())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn the bridge binary");
        let pid = child.id();
        let stderr = child.stderr.take().unwrap();
        let mut guard = ChildGuard(Some(child));
        let log = Arc::new(StdMutex::new(Vec::<String>::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel::<SocketAddr>();
        let log2 = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let line = strip_ansi(&line);
                if line.contains("bridge listening")
                    && let Some(a) = line
                        .split_whitespace()
                        .find_map(|w| w.strip_prefix("addr="))
                        .and_then(|a| a.parse().ok())
                {
                    let _ = addr_tx.send(a);
                }
                log2.lock().unwrap().push(line);
            }
        });
        let addr = tokio::task::spawn_blocking(move || addr_rx.recv_timeout(WAIT))
            .await
            .unwrap()
            .unwrap_or_else(|_| {
                panic!(
                    "the bridge did not report its address:\n{}",
                    log.lock().unwrap().join("\n")
                )
            });
        let mut imap = logged_in(addr, "plain", &rig.user, &rig.pass).await;
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid}");
        let sent = Instant::now();
        let Conn::Ws(ws) = &mut imap.conn else {
            unreachable!()
        };
        let (_, close) = expect_error(ws, "shutting_down").await;
        assert_eq!(close.map(|f| u16::from(f.code)), Some(1001));
        drop(imap);
        let child = guard.0.as_mut().unwrap();
        let exit = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(10),
                "the bridge did not exit within 10 s of SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        guard.0 = None;
        let took = sent.elapsed();
        println!("bridge exited {took:?} after SIGTERM: {exit}");
        assert!(
            exit.success(),
            "exit status {exit}; log:\n{}",
            log.lock().unwrap().join("\n")
        );
        assert!(took < Duration::from_secs(4), "{took:?}");
    };
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("test timed out (hang)");
}

// --- certificates ------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificate_is_refused() {
    let Some(rig) = rig() else { return };
    let _serial = SERIAL.lock().await;
    // No extra_ca: the rig's CA is unknown to the webpki roots.
    let toml = bridge_toml(None, &[server("tls", "localhost", rig.tls_port, "tls")], "");
    expect_tls_refused(&toml, ["UnknownIssuer", "unknown issuer"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_host_name_is_refused() {
    let Some(rig) = rig() else { return };
    let _serial = SERIAL.lock().await;
    // The rig's certificate names only localhost.
    let toml = bridge_toml(
        Some(&rig.ca),
        &[server("tls", "127.0.0.1", rig.tls_port, "tls")],
        "",
    );
    expect_tls_refused(&toml, ["NotValidForName", "not valid for name"]).await;
}

/// Starts a bridge from `toml`, connects to its `tls` entry and expects
/// `tls_failed` with a message containing one of `reasons`, then the end of
/// the session; all within 30 s.
async fn expect_tls_refused(toml: &str, reasons: [&str; 2]) {
    let test = async {
        let bridge = start_bridge(toml).await;
        let (mut ws, v) = ws_connect_reply(bridge.addr, "tls").await;
        assert_eq!(v["type"], "error", "{v}");
        assert_eq!(v["code"], "tls_failed", "{v}");
        let message = v["message"].as_str().unwrap();
        println!("{message}");
        assert!(reasons.iter().any(|r| message.contains(r)), "{message}");
        assert!(matches!(
            next_msg(&mut ws).await,
            Some(Message::Close(_)) | None
        ));
    };
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("test timed out (hang)");
}
