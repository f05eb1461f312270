//! `relay-bench`: measures direct TCP, the bridge and websockify side by side
//! in one run (see `tests/relay-bench/run.sh`, which starts the Dovecot rig,
//! the release bridge and websockify, then runs this driver).
//!
//! Sections:
//! - `idle`: memory per idle relayed session through the bridge (RSS of the
//!   bridge process before/after opening N sessions).
//! - `bulk`: a local source streams 1 GiB; direct vs bridge vs websockify.
//! - `latency`: NOOP round trips against Dovecot, and the time of a FETCH of
//!   a ~1 MB message (a Nagle stall adds ~40 ms).
//! - `sync`: the 100k-message header sync, direct vs bridge in plain,
//!   STARTTLS and TLS, websockify in plain.
//! - `wsidle`: websockify's memory per idle session, as far as it goes.
//!
//! The client is written not to be the bottleneck: large read buffers,
//! memchr-based response scanning that skips literals without looking at
//! them, no copies besides the WebSocket library's own.
//!
//! Beside websockify, the bulk and latency sections measure a minimal relay
//! on the bridge's own stack (see [`reference_relay`]): what two hops cost on
//! this machine before any of the bridge's checks.
//!
//! Helper modes: `relay-bench idle-server PORT` (spawned by the driver
//! itself), a fake IMAP server that greets and then idles; `relay-bench
//! ws-relay LISTEN_PORT TARGET_PORT` (started by `run.sh`), the minimal relay.

mod reference_relay;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const PROTOCOL: &str = "imap-relay.v1";
const HEADER_FETCH: &str = "UID FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER] INTERNALDATE)";
const LARGE_MAILBOX: &str = "BenchLarge";
/// Bound on any single network operation.
const OP_LIMIT: Duration = Duration::from_secs(60);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

fn err(msg: impl Into<String>) -> BoxError {
    msg.into().into()
}

async fn bounded<T>(what: &str, limit: Duration, f: impl Future<Output = Res<T>>) -> Res<T> {
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r,
        Err(_) => Err(err(format!("{what}: timed out after {limit:?}"))),
    }
}

// --- arguments ----------------------------------------------------------------

#[derive(Debug, Clone)]
struct Args {
    rig_env: PathBuf,
    bridge: SocketAddr,
    bridge_pid: u32,
    websockify_imap: SocketAddr,
    websockify_bulk: SocketAddr,
    websockify_pid: u32,
    minimal_imap: SocketAddr,
    minimal_bulk: SocketAddr,
    bulk_port: u16,
    idle_port: u16,
    bulk_bytes: u64,
    noops: usize,
    rounds: usize,
    idle_sessions: usize,
    websockify_idle_max: usize,
    bridge_starttls: bool,
    sections: Vec<String>,
    report: Option<PathBuf>,
    notes: Vec<String>,
    command: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: relay-bench --rig-env FILE --bridge ADDR --bridge-pid PID \
         --websockify-imap ADDR --websockify-bulk ADDR --websockify-pid PID \
         --minimal-imap ADDR --minimal-bulk ADDR --bulk-port N --idle-port N \
         [--bulk-bytes N] [--noops N] [--rounds N] \
         [--idle-sessions N] [--websockify-idle-max N] [--no-bridge-starttls] \
         [--sections idle,bulk,latency,sync,wsidle] [--report FILE] [--note TEXT]... \
         [--command TEXT]\n       relay-bench idle-server PORT\n       \
         relay-bench ws-relay LISTEN_PORT TARGET_PORT"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut map: HashMap<String, String> = HashMap::new();
    let mut notes = Vec::new();
    let mut bridge_starttls = true;
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let Some(key) = k.strip_prefix("--") else {
            usage()
        };
        match key {
            "no-bridge-starttls" => bridge_starttls = false,
            "help" => usage(),
            _ => {
                let v = it.next().unwrap_or_else(|| usage());
                if key == "note" {
                    notes.push(v);
                } else {
                    map.insert(key.to_owned(), v);
                }
            }
        }
    }
    fn get<T: std::str::FromStr>(map: &HashMap<String, String>, k: &str, d: Option<T>) -> T {
        match map.get(k) {
            Some(v) => v.parse().unwrap_or_else(|_| {
                eprintln!("relay-bench: bad value for --{k}: {v}");
                usage()
            }),
            None => d.unwrap_or_else(|| {
                eprintln!("relay-bench: --{k} is required");
                usage()
            }),
        }
    }
    Args {
        rig_env: get(&map, "rig-env", None),
        bridge: get(&map, "bridge", None),
        bridge_pid: get(&map, "bridge-pid", None),
        websockify_imap: get(&map, "websockify-imap", None),
        websockify_bulk: get(&map, "websockify-bulk", None),
        websockify_pid: get(&map, "websockify-pid", None),
        minimal_imap: get(&map, "minimal-imap", None),
        minimal_bulk: get(&map, "minimal-bulk", None),
        bulk_port: get(&map, "bulk-port", None),
        idle_port: get(&map, "idle-port", None),
        bulk_bytes: get(&map, "bulk-bytes", Some(1 << 30)),
        noops: get(&map, "noops", Some(5000)),
        rounds: get(&map, "rounds", Some(5)),
        idle_sessions: get(&map, "idle-sessions", Some(10_000)),
        websockify_idle_max: get(&map, "websockify-idle-max", Some(800)),
        bridge_starttls,
        sections: map
            .get("sections")
            .map_or("idle,bulk,latency,sync,wsidle", String::as_str)
            .split(',')
            .map(str::to_owned)
            .collect(),
        report: map.get("report").map(PathBuf::from),
        notes,
        command: map
            .get("command")
            .cloned()
            .unwrap_or_else(|| "bash tests/relay-bench/run.sh".to_owned()),
    }
}

// --- the rig ------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Rig {
    plain: SocketAddr,
    tls: SocketAddr,
    ca: PathBuf,
    user: String,
    pass: String,
    bulk_user: String,
    bulk_pass: String,
    bulk: u64,
}

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
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

fn load_rig(path: &Path) -> Res<Rig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
    let vars: HashMap<String, String> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), shell_unquote(v.trim())))
        .collect();
    let get = |k: &str| {
        vars.get(k)
            .cloned()
            .ok_or_else(|| err(format!("{k} missing in {}", path.display())))
    };
    let port = |k: &str| -> Res<u16> { Ok(get(k)?.parse()?) };
    Ok(Rig {
        plain: SocketAddr::from(([127, 0, 0, 1], port("RIG_PLAIN_PORT")?)),
        tls: SocketAddr::from(([127, 0, 0, 1], port("RIG_TLS_PORT")?)),
        ca: PathBuf::from(get("RIG_CA")?),
        user: get("RIG_USER")?,
        pass: get("RIG_PASS")?,
        bulk_user: get("RIG_USER3")?,
        bulk_pass: get("RIG_PASS3")?,
        bulk: get("RIG_BULK")?.parse()?,
    })
}

fn tls_connector(ca: &Path) -> Res<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)? {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

// --- transports ---------------------------------------------------------------------

enum Conn {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Ws(Box<Ws>),
    Gone,
}

/// One IMAP connection, direct or through a relay.
struct Link {
    conn: Conn,
    buf: Vec<u8>,
    frame: Bytes,
}

fn ws_config(read_buffer: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(read_buffer)
        .write_buffer_size(0)
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20))
}

async fn ws_open(url: &str, protocol: Option<&str>, read_buffer: usize) -> Res<Ws> {
    let mut req = url.into_client_request()?;
    if let Some(p) = protocol {
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", p.parse()?);
    }
    let (ws, _) =
        tokio_tungstenite::connect_async_with_config(req, Some(ws_config(read_buffer)), true)
            .await?;
    Ok(ws)
}

/// A relayed session through the bridge to configured server `server`.
async fn bridge_ws(bridge: SocketAddr, server: &str, read_buffer: usize) -> Res<Ws> {
    let mut ws = ws_open(&format!("ws://{bridge}/imap"), Some(PROTOCOL), read_buffer).await?;
    ws.send(Message::text(format!(
        r#"{{"type":"connect","server":"{server}"}}"#
    )))
    .await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                let v: serde_json::Value = serde_json::from_str(t.as_str())?;
                if v["type"] == "connected" {
                    return Ok(ws);
                }
                return Err(err(format!("bridge refused: {t}")));
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => return Err(err(format!("bridge: unexpected {other:?}"))),
        }
    }
}

impl Link {
    fn new(conn: Conn) -> Self {
        Self {
            conn,
            buf: vec![0u8; 256 * 1024],
            frame: Bytes::new(),
        }
    }

    async fn direct(addr: SocketAddr, tls: Option<&TlsConnector>) -> Res<Self> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(Self::new(match tls {
            None => Conn::Tcp(tcp),
            Some(c) => Conn::Tls(Box::new(
                c.connect(ServerName::try_from("localhost")?, tcp).await?,
            )),
        }))
    }

    async fn bridge(bridge: SocketAddr, server: &str) -> Res<Self> {
        Ok(Self::new(Conn::Ws(Box::new(
            bridge_ws(bridge, server, 256 * 1024).await?,
        ))))
    }

    /// A session through a relay with one fixed server (websockify, the
    /// minimal relay): binary frames only, so no subprotocol is offered.
    async fn fixed_relay(addr: SocketAddr) -> Res<Self> {
        let ws = ws_open(&format!("ws://{addr}/"), None, 256 * 1024).await?;
        Ok(Self::new(Conn::Ws(Box::new(ws))))
    }

    async fn send(&mut self, data: &[u8]) -> Res<()> {
        match &mut self.conn {
            Conn::Tcp(s) => s.write_all(data).await?,
            Conn::Tls(s) => {
                s.write_all(data).await?;
                s.flush().await?;
            }
            Conn::Ws(ws) => ws.send(Message::binary(data.to_vec())).await?,
            Conn::Gone => return Err(err("connection gone")),
        }
        Ok(())
    }

    /// Next chunk of server bytes; `None` at the end of the stream.
    async fn recv(&mut self) -> Res<Option<&[u8]>> {
        let n = match &mut self.conn {
            Conn::Tcp(s) => s.read(&mut self.buf).await?,
            Conn::Tls(s) => match s.read(&mut self.buf).await {
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
                r => r?,
            },
            Conn::Ws(ws) => loop {
                match ws.next().await {
                    Some(Ok(Message::Binary(b))) => {
                        self.frame = b;
                        return Ok(Some(&self.frame));
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Text(t))) => {
                        return Err(err(format!("control message: {t}")));
                    }
                    Some(Ok(Message::Close(_))) | None => return Ok(None),
                    Some(Ok(Message::Frame(_))) => {}
                    Some(Err(e)) => return Err(e.into()),
                }
            },
            Conn::Gone => return Err(err("connection gone")),
        };
        Ok(if n == 0 { None } else { Some(&self.buf[..n]) })
    }

    /// Reads the response tagged `tag` (`*`: the greeting); returns the
    /// bytes read and whether it was OK.
    async fn response(&mut self, tag: &str) -> Res<(u64, bool)> {
        let mut scanner = Scanner::new(tag);
        let mut total = 0u64;
        loop {
            let Some(chunk) = self.recv().await? else {
                return Err(err(format!("closed before the response tagged {tag}")));
            };
            total += chunk.len() as u64;
            if let Some((end, ok)) = scanner.feed(chunk) {
                if end != chunk.len() {
                    return Err(err("unexpected bytes after a tagged response"));
                }
                return Ok((total, ok));
            }
        }
    }

    /// Like `response`, keeping the bytes (for small responses).
    async fn response_bytes(&mut self, tag: &str) -> Res<Vec<u8>> {
        let mut scanner = Scanner::new(tag);
        let mut all = Vec::new();
        loop {
            let Some(chunk) = self.recv().await? else {
                return Err(err(format!("closed before the response tagged {tag}")));
            };
            all.extend_from_slice(chunk);
            if scanner.feed(chunk).is_some() {
                return Ok(all);
            }
        }
    }

    async fn greeting(&mut self) -> Res<()> {
        match self.response("*").await? {
            (_, true) => Ok(()),
            _ => Err(err("no OK greeting")),
        }
    }

    async fn command(&mut self, tag: &str, command: &str) -> Res<u64> {
        self.send(format!("{tag} {command}\r\n").as_bytes()).await?;
        match self.response(tag).await? {
            (n, true) => Ok(n),
            _ => Err(err(format!("{tag} {command:.30}: not OK"))),
        }
    }

    async fn login(&mut self, user: &str, pass: &str) -> Res<()> {
        self.command("l1", &format!("LOGIN {} {}", quote(user), quote(pass)))
            .await
            .map(drop)
    }

    /// STARTTLS: direct → TLS handshake; bridge → control messages.
    async fn starttls(&mut self, tls: &TlsConnector) -> Res<()> {
        self.command("s1", "STARTTLS").await?;
        self.conn = match std::mem::replace(&mut self.conn, Conn::Gone) {
            Conn::Tcp(tcp) => Conn::Tls(Box::new(
                tls.connect(ServerName::try_from("localhost")?, tcp).await?,
            )),
            Conn::Ws(mut ws) => {
                ws.send(Message::text(r#"{"type":"starttls"}"#)).await?;
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str().contains("tls_established") => {}
                    other => return Err(err(format!("STARTTLS through the bridge: {other:?}"))),
                }
                Conn::Ws(ws)
            }
            _ => return Err(err("STARTTLS on a TLS link")),
        };
        Ok(())
    }

    async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            let _ = self.command("z9", "LOGOUT").await;
            while let Ok(Some(_)) = self.recv().await {}
        })
        .await;
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Finds the end of a tagged response, skipping literals without scanning
/// them.
struct Scanner {
    tag: Vec<u8>,
    head: Vec<u8>,
    tail: Vec<u8>,
    literal: usize,
}

impl Scanner {
    fn new(tag: &str) -> Self {
        Self {
            tag: tag.as_bytes().to_vec(),
            head: Vec::with_capacity(16),
            tail: Vec::with_capacity(64),
            literal: 0,
        }
    }

    /// `Some((end, ok))` when the tagged response ends in `data` at `end`.
    fn feed(&mut self, data: &[u8]) -> Option<(usize, bool)> {
        let want = self.tag.len() + 3;
        let mut i = 0;
        while i < data.len() {
            if self.literal > 0 {
                let n = self.literal.min(data.len() - i);
                self.literal -= n;
                i += n;
                continue;
            }
            let rest = &data[i..];
            let (line, complete) = match memchr::memchr(b'\n', rest) {
                Some(p) => (&rest[..=p], true),
                None => (rest, false),
            };
            i += line.len();
            if self.head.len() < want {
                let n = (want - self.head.len()).min(line.len());
                self.head.extend_from_slice(&line[..n]);
            }
            if line.len() >= 48 {
                self.tail.clear();
                self.tail.extend_from_slice(&line[line.len() - 48..]);
            } else {
                self.tail.extend_from_slice(line);
            }
            if !complete {
                continue;
            }
            if let Some(n) = literal_announced(&self.tail) {
                self.literal = n;
                self.tail.clear();
                continue;
            }
            let t = self.tag.len();
            let tagged =
                self.head.len() > t && self.head.starts_with(&self.tag) && self.head[t] == b' ';
            let ok = tagged && self.head.get(t + 1..t + 3) == Some(b"OK");
            self.head.clear();
            self.tail.clear();
            if tagged {
                return Some((i, ok));
            }
        }
        None
    }
}

fn literal_announced(line: &[u8]) -> Option<usize> {
    let t = line.strip_suffix(b"\r\n").or(line.strip_suffix(b"\n"))?;
    let t = t.strip_suffix(b"}")?;
    let open = memchr::memrchr(b'{', t)?;
    let digits = &t[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

// --- statistics and process memory ---------------------------------------------------

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn median_f(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() { 0.0 } else { s[s.len() / 2] }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// A `/proc/PID/status`-style "Key:   N kB" value in bytes.
fn proc_kb(pid: u32, file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

fn rss(pid: u32) -> Option<u64> {
    proc_kb(pid, "status", "VmRSS:")
}

fn pss(pid: u32) -> Option<u64> {
    proc_kb(pid, "smaps_rollup", "Pss:")
}

/// PID and all its descendants.
fn process_tree(root: u32) -> Vec<u32> {
    let mut parent: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // The command is in parentheses and may hold spaces.
            let Some(after) = stat.rfind(')').map(|p| &stat[p + 1..]) else {
                continue;
            };
            let mut f = after.split_whitespace();
            let state = f.next().unwrap_or("");
            if state == "Z" {
                continue;
            }
            if let Some(ppid) = f.next().and_then(|s| s.parse().ok()) {
                parent.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    tree
}

/// (processes, sum of RSS, sum of PSS) of a process tree.
fn tree_memory(root: u32) -> (usize, u64, u64) {
    let tree = process_tree(root);
    let rss_sum = tree.iter().filter_map(|&p| rss(p)).sum();
    let pss_sum = tree.iter().filter_map(|&p| pss(p)).sum();
    (tree.len(), rss_sum, pss_sum)
}

/// CPU time (user + system) of a process, from /proc/PID/stat (clock ticks of
/// 1/100 s, the Linux default).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the command: state(0) ppid(1) ... utime(11) stime(12).
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn mib(b: f64) -> f64 {
    b / (1024.0 * 1024.0)
}

// --- report -----------------------------------------------------------------------------

#[derive(Default)]
struct Report {
    body: String,
    goals: Vec<(String, String, Option<bool>)>,
}

impl Report {
    fn section(&mut self, title: &str) {
        let _ = write!(self.body, "\n## {title}\n\n");
    }

    fn line(&mut self, s: impl AsRef<str>) {
        self.body.push_str(s.as_ref());
        self.body.push('\n');
        println!("{}", s.as_ref());
    }

    fn goal(&mut self, goal: &str, measured: String, pass: Option<bool>) {
        self.goals.push((goal.to_owned(), measured, pass));
    }
}

// --- section: bulk -------------------------------------------------------------------------

/// Serves `bytes` bytes to every connection, then closes.
async fn bulk_source(port: u16, bytes: u64) -> Res<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    Ok(tokio::spawn(async move {
        let chunk: Arc<Vec<u8>> = Arc::new((0..1 << 20).map(|i| (i % 251) as u8).collect());
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.set_nodelay(true);
            let chunk = Arc::clone(&chunk);
            tokio::spawn(async move {
                let mut left = bytes;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    if s.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    left -= n as u64;
                }
                let _ = s.shutdown().await;
            });
        }
    }))
}

async fn drain(mut link: Link) -> Res<u64> {
    let mut total = 0u64;
    while let Some(chunk) = link.recv().await? {
        total += chunk.len() as u64;
    }
    Ok(total)
}

async fn bulk(args: &Args, rep: &mut Report) -> Res<()> {
    let source = bulk_source(args.bulk_port, args.bulk_bytes).await?;
    let src = SocketAddr::from(([127, 0, 0, 1], args.bulk_port));
    let names = ["direct", "bridge", "websockify", Via::Minimal.name()];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    // CPU share (of one core) of the driver and of the bridge during each run.
    let mut cpu: Vec<Vec<(f64, f64)>> = vec![Vec::new(); names.len()];
    let me = std::process::id();
    // Round 0 is a warm-up and is not counted.
    for round in 0..=args.rounds {
        for (k, name) in names.iter().enumerate() {
            let cpu0 = (cpu_time(me), cpu_time(args.bridge_pid));
            let started = Instant::now();
            let got = bounded(name, OP_LIMIT, async {
                let link = match k {
                    0 => Link::direct(src, None).await?,
                    1 => Link::bridge(args.bridge, "bulk").await?,
                    2 => Link::fixed_relay(args.websockify_bulk).await?,
                    _ => Link::fixed_relay(args.minimal_bulk).await?,
                };
                drain(link).await
            })
            .await?;
            let secs = started.elapsed().as_secs_f64();
            let share = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
                (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64() / secs,
                _ => f64::NAN,
            };
            let shares = (
                share(cpu0.0, cpu_time(me)),
                share(cpu0.1, cpu_time(args.bridge_pid)),
            );
            if got != args.bulk_bytes {
                return Err(err(format!(
                    "{name}: got {got} of {} bytes",
                    args.bulk_bytes
                )));
            }
            let gbps = got as f64 / secs / 1e9;
            println!(
                "bulk round {round} {name}: {gbps:.2} GB/s ({secs:.2} s; CPU driver {:.0} %, bridge {:.0} %)",
                shares.0 * 100.0,
                shares.1 * 100.0
            );
            if round > 0 {
                rates[k].push(gbps);
                cpu[k].push(shares);
            }
        }
    }
    source.abort();
    let med: Vec<f64> = rates.iter().map(|r| median_f(r)).collect();
    rep.section(&format!(
        "Bulk relay: {:.0} MiB from a local source (median of {} rounds after a warm-up round)",
        mib(args.bulk_bytes as f64),
        args.rounds
    ));
    rep.line("| path | GB/s (median) | all rounds | vs direct | driver CPU | bridge CPU |");
    rep.line("|---|---:|---|---:|---:|---:|");
    for (k, name) in names.iter().enumerate() {
        let all: Vec<String> = rates[k].iter().map(|r| format!("{r:.2}")).collect();
        let drv = median_f(&cpu[k].iter().map(|c| c.0).collect::<Vec<_>>());
        let brg = median_f(&cpu[k].iter().map(|c| c.1).collect::<Vec<_>>());
        rep.line(format!(
            "| {name} | {:.2} | {} | {:.2}× | {:.0} % | {} |",
            med[k],
            all.join(", "),
            med[k] / med[0],
            drv * 100.0,
            if k == 1 {
                format!("{:.0} %", brg * 100.0)
            } else {
                "–".to_owned()
            }
        ));
    }
    rep.line(
        "\nCPU columns: share of one core over the run (the driver holds both the source and \
         the client; 200 % is the whole machine).",
    );
    let vs_direct = med[1] / med[0];
    let vs_ws = med[1] / med[2];
    rep.line(format!(
        "\nBridge / websockify: {vs_ws:.2}×. Bridge / minimal relay: {:.2}×; the minimal relay \
         reaches {:.2}× direct and {:.2}× websockify. (GB = 10^9 bytes.)",
        med[1] / med[3],
        med[3] / med[0],
        med[3] / med[2]
    ));
    rep.goal(
        "Bulk relay ≥ 0.45× direct",
        format!(
            "{vs_direct:.2}× direct ({:.2} vs {:.2} GB/s)",
            med[1], med[0]
        ),
        Some(vs_direct >= 0.45),
    );
    rep.goal(
        "Bulk relay ≈ 1.5× websockify (pass at ≥ 1.4×)",
        format!("{vs_ws:.2}× websockify ({:.2} GB/s)", med[2]),
        Some(vs_ws >= 1.4),
    );
    Ok(())
}

// --- section: latency ------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Via {
    Direct,
    Bridge,
    Websockify,
    /// The minimal relay of [`reference_relay`].
    Minimal,
}

impl Via {
    fn name(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Bridge => "bridge",
            Self::Websockify => "websockify",
            Self::Minimal => "minimal relay",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Plain,
    StartTls,
    Tls,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::StartTls => "STARTTLS",
            Self::Tls => "TLS",
        }
    }
}

/// Opens a logged-in IMAP session.
async fn session(
    args: &Args,
    rig: &Rig,
    tls: &TlsConnector,
    via: Via,
    mode: Mode,
    user: &str,
    pass: &str,
) -> Res<Link> {
    let mut link = match (via, mode) {
        (Via::Direct, Mode::Tls) => Link::direct(rig.tls, Some(tls)).await?,
        (Via::Direct, _) => Link::direct(rig.plain, None).await?,
        (Via::Bridge, Mode::Plain) => Link::bridge(args.bridge, "plain").await?,
        (Via::Bridge, Mode::StartTls) => Link::bridge(args.bridge, "starttls").await?,
        (Via::Bridge, Mode::Tls) => Link::bridge(args.bridge, "tls").await?,
        (Via::Websockify, Mode::Plain) => Link::fixed_relay(args.websockify_imap).await?,
        (Via::Minimal, Mode::Plain) => Link::fixed_relay(args.minimal_imap).await?,
        (Via::Websockify | Via::Minimal, _) => {
            return Err(err(format!("{} relays plain TCP only", via.name())));
        }
    };
    link.greeting().await?;
    if mode == Mode::StartTls {
        link.starttls(tls).await?;
    }
    link.login(user, pass).await?;
    Ok(link)
}

async fn noop_loop(link: &mut Link, n: usize) -> Res<Vec<Duration>> {
    let mut times = Vec::with_capacity(n);
    let mut cmd = Vec::with_capacity(32);
    for i in 0..n {
        cmd.clear();
        let tag = format!("n{i}");
        cmd.extend_from_slice(tag.as_bytes());
        cmd.extend_from_slice(b" NOOP\r\n");
        let t = Instant::now();
        link.send(&cmd).await?;
        let (_, ok) = link.response(&tag).await?;
        times.push(t.elapsed());
        if !ok {
            return Err(err("NOOP not OK"));
        }
    }
    Ok(times)
}

/// Makes sure alice's BenchLarge mailbox holds one ~1 MB message.
async fn ensure_large_message(rig: &Rig, tls: &TlsConnector, args: &Args) -> Res<usize> {
    let mut link = session(
        args,
        rig,
        tls,
        Via::Direct,
        Mode::Plain,
        &rig.user,
        &rig.pass,
    )
    .await?;
    link.send(format!("c1 CREATE {LARGE_MAILBOX}\r\n").as_bytes())
        .await?;
    link.response("c1").await?; // NO when it exists
    link.send(format!("c2 STATUS {LARGE_MAILBOX} (MESSAGES)\r\n").as_bytes())
        .await?;
    let status = String::from_utf8_lossy(&link.response_bytes("c2").await?).into_owned();
    let has = status.contains("(MESSAGES 1)");
    let mut msg = String::from(
        "From: Bench <bench@example.test>\r\nTo: Alice <alice@example.test>\r\n\
         Subject: A large message\r\nDate: Mon, 24 Nov 2025 10:00:00 +0000\r\n\
         Message-ID: <large@example.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\r\n",
    );
    let line: String = (0..76).map(|i| (b'A' + (i % 26) as u8) as char).collect();
    while msg.len() < 1_000_000 {
        msg.push_str(&line);
        msg.push_str("\r\n");
    }
    if !has {
        let mut cmd =
            format!("c3 APPEND {LARGE_MAILBOX} (\\Seen) {{{}+}}\r\n", msg.len()).into_bytes();
        cmd.extend_from_slice(msg.as_bytes());
        cmd.extend_from_slice(b"\r\n");
        link.send(&cmd).await?;
        let (_, ok) = link.response("c3").await?;
        if !ok {
            return Err(err("APPEND of the large message failed"));
        }
    }
    link.logout().await;
    Ok(msg.len())
}

async fn large_fetches(link: &mut Link, n: usize) -> Res<(Vec<Duration>, u64)> {
    link.command("e1", &format!("EXAMINE {LARGE_MAILBOX}"))
        .await?;
    let mut times = Vec::with_capacity(n);
    let mut bytes = 0;
    for i in 0..n {
        let tag = format!("f{i}");
        let t = Instant::now();
        bytes = link.command(&tag, "FETCH 1 BODY.PEEK[]").await?;
        times.push(t.elapsed());
    }
    Ok((times, bytes))
}

async fn latency(args: &Args, rig: &Rig, tls: &TlsConnector, rep: &mut Report) -> Res<()> {
    let vias = [Via::Direct, Via::Bridge, Via::Websockify, Via::Minimal];
    let warm = args.noops / 10;
    // Interleaved blocks, so background load on the shared machine hits all
    // paths alike: a warm-up block each, then 10 blocks each in rotation.
    let mut links = Vec::new();
    for via in vias {
        links.push(
            bounded("login", OP_LIMIT, async {
                session(args, rig, tls, via, Mode::Plain, &rig.user, &rig.pass).await
            })
            .await?,
        );
    }
    let block = (args.noops / 10).max(1);
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); vias.len()];
    for b in 0..=10 {
        let n = if b == 0 { warm } else { block };
        for (k, link) in links.iter_mut().enumerate() {
            let t = bounded("NOOP block", Duration::from_secs(60), noop_loop(link, n)).await?;
            if b > 0 {
                samples[k].extend(t);
            }
        }
    }
    for link in links {
        link.logout().await;
    }
    let mut stats = Vec::new();
    for (k, via) in vias.into_iter().enumerate() {
        let t = &mut samples[k];
        t.sort();
        let (p50, p99, max) = (percentile(t, 0.5), percentile(t, 0.99), *t.last().unwrap());
        println!(
            "NOOP {}: p50 {:.0} µs p99 {:.0} µs",
            via.name(),
            us(p50),
            us(p99)
        );
        stats.push((via, p50, p99, max));
    }
    let (_, d50, d99, _) = stats[0];
    rep.section(&format!(
        "NOOP round trip against Dovecot ({} sequential NOOPs per path after login, in 10 interleaved blocks after {warm} warm-up ones)",
        block * 10
    ));
    rep.line("| path | p50 µs | p99 µs | max µs | added p50 µs | added p99 µs |");
    rep.line("|---|---:|---:|---:|---:|---:|");
    for &(via, p50, p99, max) in &stats {
        rep.line(format!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
            via.name(),
            us(p50),
            us(p99),
            us(max),
            us(p50) - us(d50),
            us(p99) - us(d99)
        ));
    }
    let added_b50 = us(stats[1].1) - us(d50);
    let added_w50 = us(stats[2].1) - us(d50);
    let added_b99 = us(stats[1].2) - us(d99);
    let added_m50 = us(stats[3].1) - us(d50);
    rep.line(format!(
        "\nAdded p50 against websockify's: bridge {:.2}×, minimal relay {:.2}×.",
        added_b50 / added_w50,
        added_m50 / added_w50
    ));
    rep.goal(
        "NOOP added latency p50 ≤ ¼ of websockify's added p50",
        format!(
            "bridge +{added_b50:.0} µs vs websockify +{added_w50:.0} µs ({:.2}×)",
            added_b50 / added_w50
        ),
        Some(added_b50 <= added_w50 / 4.0),
    );
    rep.goal(
        "NOOP added latency p99 ≤ 1 ms",
        format!(
            "bridge +{added_b99:.0} µs (p99 {:.0} µs vs direct {:.0} µs)",
            us(stats[1].2),
            us(d99)
        ),
        Some(added_b99 <= 1000.0),
    );

    // Large response: time from the FETCH to its tagged OK.
    let size = ensure_large_message(rig, tls, args).await?;
    let n = 20;
    let mut rows = Vec::new();
    for via in vias {
        let mut link = session(args, rig, tls, via, Mode::Plain, &rig.user, &rig.pass).await?;
        let (mut t, bytes) = bounded("large FETCH", OP_LIMIT, async {
            large_fetches(&mut link, n + 2).await
        })
        .await?;
        link.logout().await;
        let mut t = t.split_off(2);
        t.sort();
        rows.push((via, percentile(&t, 0.5), *t.last().unwrap(), bytes));
    }
    rep.line(String::new());
    rep.line(format!(
        "Large response: `FETCH 1 BODY.PEEK[]` of a {:.2} MB message, send → tagged OK, {n} times (after 2 warm-up):\n",
        size as f64 / 1e6
    ));
    rep.line("| path | median ms | max ms | response bytes |");
    rep.line("|---|---:|---:|---:|");
    for &(via, med, max, bytes) in &rows {
        rep.line(format!(
            "| {} | {:.2} | {:.2} | {bytes} |",
            via.name(),
            med.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        ));
    }
    let stall = rows[1].1.saturating_sub(rows[0].1);
    let stall_max = rows[1].2.saturating_sub(rows[0].2);
    rep.goal(
        "No stall at the end of a large response (Nagle + delayed ACK ≈ 40 ms)",
        format!(
            "bridge median +{:.2} ms, max +{:.2} ms over direct",
            stall.as_secs_f64() * 1e3,
            stall_max.as_secs_f64() * 1e3
        ),
        Some(stall < Duration::from_millis(20) && stall_max < Duration::from_millis(35)),
    );
    Ok(())
}

// --- section: header sync --------------------------------------------------------------------------

async fn header_sync(
    args: &Args,
    rig: &Rig,
    tls: &TlsConnector,
    via: Via,
    mode: Mode,
) -> Res<(Duration, u64)> {
    bounded("header sync", Duration::from_secs(120), async {
        let mut link = session(args, rig, tls, via, mode, &rig.bulk_user, &rig.bulk_pass).await?;
        link.command("h1", "SELECT INBOX").await?;
        let t = Instant::now();
        let bytes = link.command("h2", HEADER_FETCH).await?;
        let took = t.elapsed();
        link.logout().await;
        Ok((took, bytes))
    })
    .await
}

async fn sync(args: &Args, rig: &Rig, tls: &TlsConnector, rep: &mut Report) -> Res<()> {
    if rig.bulk < 1000 {
        return Err(err(
            "the rig has no bulk mailbox (dovecot.sh start --bulk 100000)",
        ));
    }
    let (t, b) = header_sync(args, rig, tls, Via::Direct, Mode::Plain).await?;
    println!("header sync warm-up: {b} bytes in {:.2} s", t.as_secs_f64());
    let mut cases = vec![
        (Via::Direct, Mode::Plain),
        (Via::Bridge, Mode::Plain),
        (Via::Websockify, Mode::Plain),
        (Via::Direct, Mode::StartTls),
    ];
    if args.bridge_starttls {
        cases.push((Via::Bridge, Mode::StartTls));
    }
    cases.push((Via::Direct, Mode::Tls));
    cases.push((Via::Bridge, Mode::Tls));
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    let mut sizes = vec![0u64; cases.len()];
    for round in 0..args.rounds {
        for (k, &(via, mode)) in cases.iter().enumerate() {
            let (t, b) = header_sync(args, rig, tls, via, mode).await?;
            println!(
                "header sync round {round} {} {}: {:.3} s, {b} bytes",
                via.name(),
                mode.name(),
                t.as_secs_f64()
            );
            times[k].push(t.as_secs_f64());
            sizes[k] = b;
        }
    }
    rep.section(&format!(
        "Header sync of {} messages: `{HEADER_FETCH}` (send → tagged OK; median of {} rounds after one warm-up)",
        rig.bulk, args.rounds
    ));
    rep.line("| mode | path | seconds (median) | all rounds | MB | vs direct |");
    rep.line("|---|---|---:|---|---:|---:|");
    let median_of = |via: Via, mode: Mode| {
        cases
            .iter()
            .position(|&c| c == (via, mode))
            .map(|k| median_f(&times[k]))
    };
    for (k, &(via, mode)) in cases.iter().enumerate() {
        let m = median_f(&times[k]);
        let d = median_of(Via::Direct, mode).unwrap_or(m);
        let all: Vec<String> = times[k].iter().map(|t| format!("{t:.3}")).collect();
        rep.line(format!(
            "| {} | {} | {m:.3} | {} | {:.1} | {:.3}× |",
            mode.name(),
            via.name(),
            all.join(", "),
            sizes[k] as f64 / 1e6,
            m / d
        ));
    }
    for mode in [Mode::Plain, Mode::StartTls, Mode::Tls] {
        let goal = format!(
            "Header sync through the bridge ≤ 1.05× direct ({})",
            mode.name()
        );
        match (median_of(Via::Bridge, mode), median_of(Via::Direct, mode)) {
            (Some(b), Some(d)) => rep.goal(
                &goal,
                format!("{:.3}× ({b:.3} s vs {d:.3} s)", b / d),
                Some(b / d <= 1.05),
            ),
            _ => rep.goal(
                &goal,
                "not measured: the bridge under test has no STARTTLS".to_owned(),
                None,
            ),
        }
    }
    Ok(())
}

// --- section: idle sessions ------------------------------------------------------------------------

struct Idle {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    opened: usize,
    failed: usize,
    first_error: Option<String>,
}

impl Idle {
    async fn close(mut self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(60), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        self.tasks.abort_all();
    }
}

/// Opens up to `n` idle sessions with `open` (which returns once the
/// greeting arrived), `concurrency` at a time, stopping after `max_failures`
/// failures or `budget`. Each session then just answers pings until stopped.
async fn open_idle<F, Fut>(
    n: usize,
    concurrency: usize,
    max_failures: usize,
    budget: Duration,
    open: F,
    mut progress: impl FnMut(usize),
) -> Idle
where
    F: Fn() -> Fut,
    Fut: Future<Output = Res<Ws>> + Send + 'static,
{
    let (stop, stop_rx) = watch::channel(false);
    let sem = Arc::new(Semaphore::new(concurrency));
    let (tx, mut rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    let (mut opened, mut failed, mut first_error) = (0usize, 0usize, None);
    let mut launched = 0;
    let mut note = |r: Result<(), String>, opened: &mut usize, failed: &mut usize| match r {
        Ok(()) => *opened += 1,
        Err(e) => {
            *failed += 1;
            first_error.get_or_insert(e);
        }
    };
    while launched < n && failed < max_failures && started.elapsed() < budget {
        let Ok(permit) = Arc::clone(&sem).acquire_owned().await else {
            break;
        };
        while let Ok(r) = rx.try_recv() {
            note(r, &mut opened, &mut failed);
            progress(opened);
        }
        if failed >= max_failures {
            break;
        }
        let fut = open();
        let tx = tx.clone();
        let mut stop_rx = stop_rx.clone();
        tasks.spawn(async move {
            let ws = tokio::time::timeout(Duration::from_secs(20), fut).await;
            let mut ws = match ws {
                Ok(Ok(ws)) => ws,
                Ok(Err(e)) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
                Err(_) => {
                    let _ = tx.send(Err("timed out opening the session".into()));
                    return;
                }
            };
            let _ = tx.send(Ok(()));
            drop(permit);
            loop {
                tokio::select! {
                    _ = stop_rx.changed() => break,
                    m = ws.next() => match m {
                        Some(Ok(_)) => {}
                        _ => return,
                    },
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), ws.close(None)).await;
        });
        launched += 1;
    }
    drop(tx);
    // Wait for the launched ones to report.
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        while opened + failed < launched {
            match rx.recv().await {
                Some(r) => {
                    note(r, &mut opened, &mut failed);
                    progress(opened);
                }
                None => break,
            }
        }
    })
    .await;
    Idle {
        stop,
        tasks,
        opened,
        failed,
        first_error,
    }
}

/// Waits for the first binary frame (the IMAP greeting).
async fn await_greeting(ws: &mut Ws) -> Res<()> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) if b.starts_with(b"* OK") => return Ok(()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => return Err(err(format!("expected the greeting, got {other:?}"))),
        }
    }
}

/// Fake IMAP server: greets, then idles until the peer closes.
async fn idle_server(port: u16) -> Res<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (mut s, _) = listener.accept().await?;
        tokio::spawn(async move {
            if s.write_all(b"* OK [CAPABILITY IMAP4rev1] idle fake\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut b = [0u8; 64];
            while let Ok(n) = s.read(&mut b).await {
                if n == 0 {
                    break;
                }
            }
        });
    }
}

/// Kills the helper child (spawned by this driver) on drop.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn idle_bridge_once(args: &Args, server: &'static str, n: usize) -> (Idle, u64, u64) {
    let before = rss(args.bridge_pid).unwrap_or(0);
    let bridge = args.bridge;
    let mut last_print = Instant::now();
    let idle = open_idle(
        n,
        64,
        50,
        Duration::from_secs(120),
        move || async move {
            let mut ws = bridge_ws(bridge, server, 4096).await?;
            await_greeting(&mut ws).await?;
            Ok(ws)
        },
        |opened| {
            if last_print.elapsed() > Duration::from_secs(2) {
                println!("  {opened} sessions open");
                last_print = Instant::now();
            }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss(args.bridge_pid).unwrap_or(0);
    (idle, before, after)
}

async fn idle(args: &Args, rep: &mut Report) -> Res<()> {
    let n = args.idle_sessions;
    rep.section(&format!(
        "Memory per idle session: {n} idle relayed sessions through the bridge"
    ));
    let (idle_d, before, after) = idle_bridge_once(args, "plain-ip", n).await;
    let held_d = idle_d.opened;
    println!(
        "idle via Dovecot: {held_d} open, {} failed ({:?}); RSS {before} → {after}",
        idle_d.failed, idle_d.first_error
    );
    let mut rows = vec![(
        "bridge → Dovecot (greeted, not logged in)",
        held_d,
        idle_d.failed,
        idle_d.first_error.clone(),
        before,
        after,
    )];
    idle_d.close().await;
    let mut best = (held_d, before, after);
    if held_d < n {
        // Fall back to a fake server that greets and idles (its own process:
        // the fd limit is per process).
        tokio::time::sleep(Duration::from_secs(3)).await;
        let exe = std::env::current_exe()?;
        let child = Child(
            std::process::Command::new(exe)
                .arg("idle-server")
                .arg(args.idle_port.to_string())
                .stdin(std::process::Stdio::null())
                .spawn()?,
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (idle_f, before, after) = idle_bridge_once(args, "idle-fake", n).await;
        println!(
            "idle via fake server: {} open, {} failed ({:?}); RSS {before} → {after}",
            idle_f.opened, idle_f.failed, idle_f.first_error
        );
        rows.push((
            "bridge → fake server (greets and idles)",
            idle_f.opened,
            idle_f.failed,
            idle_f.first_error.clone(),
            before,
            after,
        ));
        if idle_f.opened > best.0 {
            best = (idle_f.opened, before, after);
        }
        idle_f.close().await;
        drop(child);
    }
    rep.line("| upstream | sessions held | failed | bridge RSS before | after | per session |");
    rep.line("|---|---:|---:|---:|---:|---:|");
    for (name, held, failed, e, before, after) in &rows {
        let per = after.saturating_sub(*before) as f64 / (*held).max(1) as f64;
        rep.line(format!(
            "| {name} | {held} | {failed}{} | {:.1} MiB | {:.1} MiB | {:.1} KiB |",
            e.as_ref()
                .map(|e| format!(" (first: {})", e.chars().take(120).collect::<String>()))
                .unwrap_or_default(),
            mib(*before as f64),
            mib(*after as f64),
            per / 1024.0
        ));
    }
    let (held, before, after) = best;
    let per = after.saturating_sub(before) as f64 / held.max(1) as f64;
    rep.goal(
        "Memory per idle session ≤ 16 KiB, 10,000 sessions held",
        format!(
            "{:.1} KiB per session with {held} sessions held",
            per / 1024.0
        ),
        Some(per <= 16.0 * 1024.0 && held >= n),
    );
    Ok(())
}

async fn websockify_idle(args: &Args, rep: &mut Report) -> Res<()> {
    let pid = args.websockify_pid;
    let (procs0, rss0, pss0) = tree_memory(pid);
    let addr = args.websockify_imap;
    let mut checkpoints: Vec<(usize, usize, u64, u64)> = Vec::new();
    let mut next_check = 50;
    let mut last_print = Instant::now();
    let idle = open_idle(
        args.websockify_idle_max,
        4,
        1,
        Duration::from_secs(90),
        move || async move {
            let mut ws = ws_open(&format!("ws://{addr}/"), None, 4096).await?;
            await_greeting(&mut ws).await?;
            Ok(ws)
        },
        |opened| {
            if opened >= next_check {
                let (p, r, s) = tree_memory(pid);
                checkpoints.push((opened, p, r, s));
                next_check += 50;
            }
            if last_print.elapsed() > Duration::from_secs(2) {
                println!("  websockify: {opened} sessions open");
                last_print = Instant::now();
            }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (procs, rss1, pss1) = tree_memory(pid);
    let held = idle.opened;
    let failed = idle.failed;
    let e = idle.first_error.clone();
    println!("websockify idle: {held} held, {failed} failed ({e:?})");
    idle.close().await;
    rep.section("websockify, idle sessions (forks one process per session)");
    rep.line(format!(
        "Opened sessions one after another (4 at a time) up to {} or the first failure.\n",
        args.websockify_idle_max
    ));
    rep.line("| sessions | processes | RSS sum | PSS sum |");
    rep.line("|---:|---:|---:|---:|");
    rep.line(format!(
        "| 0 | {procs0} | {:.1} MiB | {:.1} MiB |",
        mib(rss0 as f64),
        mib(pss0 as f64)
    ));
    for &(n, p, r, s) in checkpoints.iter().filter(|c| c.0 % 100 == 0) {
        rep.line(format!(
            "| {n} | {p} | {:.1} MiB | {:.1} MiB |",
            mib(r as f64),
            mib(s as f64)
        ));
    }
    rep.line(format!(
        "| {held} (final) | {procs} | {:.1} MiB | {:.1} MiB |",
        mib(rss1 as f64),
        mib(pss1 as f64)
    ));
    let per_rss = rss1.saturating_sub(rss0) as f64 / held.max(1) as f64;
    let per_pss = pss1.saturating_sub(pss0) as f64 / held.max(1) as f64;
    rep.line(format!(
        "\nPer session: {:.2} MiB PSS (proportional set size: shared copy-on-write pages \
         split between the processes); summed RSS counts each fork's shared pages again, \
         {:.2} MiB. Held {held}; {}.",
        mib(per_pss),
        mib(per_rss),
        match (failed, e) {
            (0, _) => format!("no failure up to the cap of {}", args.websockify_idle_max),
            (_, Some(e)) => format!(
                "first failure after {held}: {}",
                e.chars().take(160).collect::<String>()
            ),
            _ => "failed".to_owned(),
        }
    ));
    Ok(())
}

// --- machine and main --------------------------------------------------------------------------

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let mem = proc_kb_self_meminfo().unwrap_or(0);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "- nproc: {cores}\n- CPU: {cpu}\n- kernel: Linux {kernel}\n- memory: {:.1} GiB",
        mem as f64 / (1u64 << 30) as f64
    )
}

fn proc_kb_self_meminfo() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

async fn run(args: Args) -> Res<()> {
    let rig = load_rig(&args.rig_env)?;
    let tls = tls_connector(&rig.ca)?;
    let mut rep = Report::default();
    let started = Instant::now();
    let mut failures = Vec::new();
    for s in &args.sections {
        println!("\n=== {s} ===");
        let res = match s.as_str() {
            "idle" => idle(&args, &mut rep).await,
            "bulk" => bulk(&args, &mut rep).await,
            "latency" => latency(&args, &rig, &tls, &mut rep).await,
            "sync" => sync(&args, &rig, &tls, &mut rep).await,
            "wsidle" => websockify_idle(&args, &mut rep).await,
            other => Err(err(format!("unknown section {other}"))),
        };
        if let Err(e) = res {
            eprintln!("section {s} failed: {e}");
            rep.section(&format!("{s}: failed"));
            rep.line(format!("The section failed: {e}"));
            failures.push(s.clone());
        }
    }
    let mut doc = String::from(
        "# Relay benchmarks\n\nDirect TCP, the bridge and websockify side by side in one run, all on \
         loopback. Written by `tests/relay-bench` (a Rust driver, so the client is not the \
         bottleneck); numbers vary ±15–25 % between runs, so compare within one run.\n\n\
         The bulk and latency sections also measure a minimal relay built on the bridge's own \
         stack (Tokio and tokio-tungstenite, 64 KiB frames, none of the bridge's checks; \
         `relay-bench ws-relay`): what two hops cost on this machine before anything the bridge \
         adds.\n\n\
         What was changed or tried to make the relay faster, and why the unmet goals stay \
         unmet: [relay-tuning.md](relay-tuning.md).\n\n\
         The other benchmarks: the engine's receive path, memory and `.wasm` size in \
         [benchmarks-engine.md](benchmarks-engine.md); the webmail's page timing and page \
         weight in [benchmarks-web.md](benchmarks-web.md).\n\n\
         Reproduce: `",
    );
    doc.push_str(&args.command);
    doc.push_str("`\n\n## Machine\n\n");
    doc.push_str(&machine());
    doc.push('\n');
    for n in &args.notes {
        doc.push_str(&format!("- {n}\n"));
    }
    doc.push_str("\n## Goals (issue 4)\n\n| goal | measured | result |\n|---|---|---|\n");
    for (g, m, p) in &rep.goals {
        let r = match p {
            Some(true) => "pass",
            Some(false) => "**fail**",
            None => "not measured",
        };
        doc.push_str(&format!("| {g} | {m} | {r} |\n"));
    }
    doc.push_str(&rep.body);
    doc.push_str(&format!(
        "\nTotal driver time: {:.0} s.\n",
        started.elapsed().as_secs_f64()
    ));
    println!("\n{doc}");
    if let Some(path) = &args.report {
        std::fs::write(path, &doc)?;
        println!("report written to {}", path.display());
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(err(format!("sections failed: {}", failures.join(", "))))
    }
}

fn main() -> std::process::ExitCode {
    let mut argv = std::env::args().skip(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (name, res) = match argv.next().as_deref() {
        Some("idle-server") => {
            let port: u16 = argv
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| usage());
            ("idle-server", rt.block_on(idle_server(port)))
        }
        Some("ws-relay") => {
            let (listen, target) = reference_relay::ports(argv).unwrap_or_else(|| usage());
            (
                "ws-relay",
                rt.block_on(reference_relay::serve(listen, target)),
            )
        }
        _ => ("relay-bench", rt.block_on(run(parse_args()))),
    };
    match res {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
