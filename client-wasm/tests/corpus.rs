//! Real-server captures (`../shared/corpus/imap-responses/`, beside the clone) through the
//! engine's response reader and through a whole `Session`, each fed whole, in random chunks
//! and one byte at a time: no panic, no hang, the same result for every chunking, and framing
//! that agrees with an independent CRLF-and-literal walk. Also the regression inputs the fuzz
//! targets found (`fuzz/`, docs/fuzzing-and-replay.md), replayed through the same drivers.
//!
//! Skipped responses are printed, not asserted (`cargo test -p client-wasm --test corpus --
//! --nocapture`): that list is what the lenient parser has to win back.

#![cfg(not(target_arch = "wasm32"))]

/// The fuzz targets' drivers, shared so that every crash they find replays here on stable.
#[allow(dead_code)]
#[path = "../../fuzz/src/harness.rs"]
mod harness;

use client_wasm::{
    Config, Decoded, Event, Instant, ResponseStream, Session, State, TransportSecurity,
};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/imap-responses")
}

/// The `.txt` captures with their names and whether framing is exempt from the walk check.
fn cases() -> Option<Vec<Case>> {
    let dir = corpus_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("corpus absent at {}: skipping", dir.display());
        return None;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    paths.sort();
    let cases = paths
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let meta: serde_json::Value = std::fs::read(path.with_extension("json"))
                .ok()
                .and_then(|json| serde_json::from_slice(&json).ok())
                .unwrap_or_default();
            let flag = |name: &str| meta["transcription"][name].as_bool().unwrap_or(false);
            Case {
                name: path
                    .file_stem()
                    .map(|stem| stem.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                framing_exempt: flag("literal_count_mismatch_is_the_quirk")
                    || flag("truncated_or_tail_removed"),
                bytes,
            }
        })
        .collect();
    Some(cases)
}

struct Case {
    name: String,
    bytes: Vec<u8>,
    /// The capture's wrong literal count or cut-off tail is its point.
    framing_exempt: bool,
}

/// The three chunkings every case is fed in.
fn chunkings(bytes: &[u8], seed: u64) -> [(&'static str, Vec<&[u8]>); 3] {
    let mut rng = harness::Rng::from_input(&seed.to_le_bytes());
    let mut random = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let size = rng.size(97);
        let (head, tail) = rest.split_at(size.min(rest.len()));
        random.push(head);
        rest = tail;
    }
    [
        ("whole", vec![bytes]),
        ("random chunks", random),
        ("byte at a time", bytes.chunks(1).collect()),
    ]
}

/// Runs `work` on another thread and fails if it takes longer than `limit` (a hang).
fn within<T: Send + 'static>(
    limit: Duration,
    what: String,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
    });
    match result.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("{what}: still running after {limit:?}"),
    }
}

/// What the response reader made of a stream.
#[derive(Debug, PartialEq, Eq)]
struct StreamResult {
    /// (offset, length, decoded form or skip reason) per message.
    messages: Vec<(u64, usize, String)>,
    skipped: usize,
    tail: u64,
}

fn read_stream(pieces: &[&[u8]]) -> StreamResult {
    let mut stream = ResponseStream::default();
    let mut messages = Vec::new();
    let mut skipped = 0;
    for piece in pieces {
        stream.push(piece);
        while let Some(message) = stream.next_message() {
            let decoded = match &message.decoded {
                Decoded::Greeting(greeting) => format!("{greeting:?}"),
                Decoded::Response(response) => format!("{response:?}"),
                Decoded::Skipped { reason } => {
                    skipped += 1;
                    format!("skipped: {reason}")
                }
            };
            messages.push((message.offset, message.length, decoded));
        }
    }
    StreamResult {
        messages,
        skipped,
        tail: stream.incomplete_tail_bytes(),
    }
}

/// Top-level messages by a walk that knows only CRLF and `{N}` / `{N+}` / `~{N}` literals,
/// independent of imap-codec: (complete messages, bytes after the last one).
fn walk(bytes: &[u8]) -> (usize, usize) {
    let (mut count, mut pos, mut message_start) = (0, 0, 0);
    while let Some(found) = bytes[pos..].windows(2).position(|w| w == b"\r\n") {
        let line_end = pos + found;
        pos = line_end + 2;
        if let Some(length) = literal_announced(&bytes[..line_end]) {
            if pos + length > bytes.len() {
                break;
            }
            pos += length;
            continue;
        }
        count += 1;
        message_start = pos;
    }
    (count, bytes.len() - message_start)
}

/// `{N}` or `{N+}` at the very end of a line.
fn literal_announced(line: &[u8]) -> Option<usize> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = &inner[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

const SYNTHETIC_GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1] test\r\n";

/// A capture as a session sees it: behind a greeting unless it starts with one.
fn with_greeting(bytes: &[u8]) -> Vec<u8> {
    let starts = |prefix: &[u8]| {
        bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    if starts(b"* OK") || starts(b"* PREAUTH") || starts(b"* BYE") {
        bytes.to_vec()
    } else {
        [SYNTHETIC_GREETING, bytes].concat()
    }
}

#[derive(Debug, PartialEq, Eq)]
struct SessionResult {
    events: Vec<Event>,
    sent: Vec<u8>,
    state: State,
}

fn run_session(pieces: &[&[u8]]) -> SessionResult {
    let now = Instant::from_millis(1_000);
    let mut session = Session::new(Config::new(0, TransportSecurity::Encrypted), now);
    let mut events = Vec::new();
    let mut sent = Vec::new();
    for piece in pieces {
        session.handle_input(now, piece);
        events.extend(std::iter::from_fn(|| session.poll_event()));
        while let Some(bytes) = session.poll_transmit() {
            sent.extend(bytes);
        }
    }
    SessionResult {
        events,
        sent,
        state: session.state(),
    }
}

#[test]
fn corpus_every_capture_reads_the_same_in_any_chunking_and_stays_in_sync() {
    let Some(cases) = cases() else { return };
    let mut table = Vec::new();
    let mut failures = Vec::new();
    for (index, case) in cases.into_iter().enumerate() {
        let name = case.name.clone();
        let outcome = within(Duration::from_secs(60), name.clone(), move || {
            check_case(&case, index as u64)
        });
        match outcome {
            Ok(row) => table.push(row),
            Err(failure) => failures.push(format!("{name}: {failure}")),
        }
    }
    println!("\n| case | responses | skipped | skipped by the session |");
    println!("|---|---:|---:|---:|");
    for (name, responses, skipped, session_skips) in &table {
        println!("| {name} | {responses} | {skipped} | {session_skips} |");
    }
    let (responses, skipped) = table
        .iter()
        .fold((0, 0), |(r, s), row| (r + row.1, s + row.2));
    println!(
        "{} captures, {responses} responses decoded, {skipped} skipped, {} captures with skips",
        table.len(),
        table.iter().filter(|row| row.2 > 0).count()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Checks one capture; returns its table row (name, decoded, skipped, session skips).
fn check_case(case: &Case, seed: u64) -> Result<(String, usize, usize, usize), String> {
    let [whole, random, bytewise] = chunkings(&case.bytes, seed);
    let reference = read_stream(&whole.1);
    for (how, pieces) in [&random, &bytewise] {
        if read_stream(pieces) != reference {
            return Err(format!("the response stream read {how} differs from whole"));
        }
    }
    let (walked, walked_tail) = walk(&case.bytes);
    if !case.framing_exempt
        && (walked != reference.messages.len() || walked_tail as u64 != reference.tail)
    {
        return Err(format!(
            "framing out of sync: {} messages and {} tail bytes framed, the walk found {walked} and {walked_tail}",
            reference.messages.len(),
            reference.tail
        ));
    }

    let fed = with_greeting(&case.bytes);
    let [whole, random, bytewise] = chunkings(&fed, seed);
    let session = run_session(&whole.1);
    for (how, pieces) in [&random, &bytewise] {
        let other = run_session(pieces);
        if other != session {
            return Err(format!(
                "the session fed {how} differs from whole:\n{:?}\nvs\n{:?}",
                other.events, session.events
            ));
        }
    }
    // Responses the session could not parse; not those it parsed but had no command for
    // (captures hold other clients' tags).
    let session_skips = session
        .events
        .iter()
        .filter(|event| {
            matches!(event, Event::ResponseSkipped { reason, .. }
                if !reason.contains("no command"))
        })
        .count();

    // The fuzz drivers on every capture: the seeds of the fuzz corpus must pass too.
    harness::response_stream(&case.bytes);
    harness::session(&case.bytes);

    Ok((
        case.name.clone(),
        reference.messages.len() - reference.skipped,
        reference.skipped,
        session_skips,
    ))
}

#[test]
fn corpus_walk_counts_lines_and_literals() {
    let tail: &[u8] = b"* 3 FETCH (BODY[] {9+}\r\nabc";
    let bytes = [
        b"* 1 FETCH (BODY[] {4}\r\na\r\nb)\r\n* 2 EXISTS\r\n".as_slice(),
        tail,
    ]
    .concat();
    assert_eq!(walk(&bytes), (2, tail.len()));
    assert_eq!(literal_announced(b"* 1 FETCH (BINARY[] ~{12}"), Some(12));
    assert_eq!(literal_announced(b"* OK {x}"), None);
}

// Regression inputs from the fuzz targets (docs/fuzzing-and-replay.md). Each runs through the
// fuzz target's own driver, so a fix is confirmed here on stable Rust.

/// Session fuzzing, 2026-11-25: a greeting without capabilities, LOGIN accepted, then the
/// CAPABILITY the engine asks after login is refused. The session closes with a protocol
/// error, but the LOGIN's `CommandId` never gets `LoggedIn` or `CommandFailed`.
const LOGIN_LOST_WHEN_CAPABILITY_AFTER_LOGIN_FAILS: &[u8] = b"* OK [BPACAILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n0000 OK Begin TLS\r\n* CAPABILITY'IMAP4rev1 AUTH=PLAIN SASL-IR\r\n0001 OK done\r\n0002 NO [ALERT] bad password\r\n";

/// Session fuzzing, 2026-11-25: the CAPABILITY after login names no IMAP4rev1 (`IMAP4re`v1`),
/// so the session ends as unsupported, but the LOGIN's `CommandId` was never answered.
const LOGIN_LOST_WHEN_SERVER_TURNS_OUT_UNSUPPORTED: &[u8] = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n+ \r\n0000 OK Logged in\r\n* CAPABILITY IMAP4re`v1 IDLE\r\n0001 OK done\r\n* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\Noselect) \"/\" \"&AOQ-rger\"\r\x1a0003 OK List ;ompleted\r\n* 2 E\xa6\xb6\xac\xabS\r\n* OK [UI\xbd\xa9\xbe\xb3\xb6\xbb\xb6\xabY 7] x\r\n0003 OK [READ-WRITE] Select completed\r\n* 1 FETCH (UID 5 FLAGS (\\Seen) RFC822.SIZE 10 INTERNALDATE \"01-Jan-2020 00:00 +0000\" BODY[HEADER] {11}\r\nSubject: x\n)\r\n0004 OK Fetch completed\xff\xff\x03\x00\r\n* BYE bye\r\n";

/// Every input the fuzzers ever failed on; all must at least not panic.
const FUZZ_REGRESSIONS: &[&[u8]] = &[
    LOGIN_LOST_WHEN_CAPABILITY_AFTER_LOGIN_FAILS,
    LOGIN_LOST_WHEN_SERVER_TURNS_OUT_UNSUPPORTED,
];

#[test]
fn fuzz_regressions_do_not_panic() {
    for input in FUZZ_REGRESSIONS {
        harness::response_stream(input);
        harness::session(input);
    }
}

/// Found by the session fuzzer: a LOGIN whose follow-up CAPABILITY was refused went
/// unanswered.
#[test]
fn fuzz_regression_session_login_answered_when_capability_after_login_fails() {
    harness::session(LOGIN_LOST_WHEN_CAPABILITY_AFTER_LOGIN_FAILS);
}

/// Found by the session fuzzer: a LOGIN whose follow-up CAPABILITY showed an unsupported
/// server went unanswered.
#[test]
fn fuzz_regression_session_login_answered_when_the_server_turns_out_unsupported() {
    harness::session(LOGIN_LOST_WHEN_SERVER_TURNS_OUT_UNSUPPORTED);
}

/// The `replay` tool end to end: JSON lines, decoded mailbox names, skips reported, exit 0;
/// an unreadable file is the one failure.
#[test]
fn replay_prints_json_lines_and_a_summary() {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let input = b"* OK [CAPABILITY IMAP4rev1] hi\r\n* LIST (\\HasNoChildren) \"/\" \"Entw&APw-rfe\"\r\n* 1 FETCH (BOGUS {3}\r\nx\r\n)\r\n* 2 EXISTS\r\nA1 OK done\r\n+ go\r\n* 3 EXI";
    let mut child = Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(["--seed", "3", "--max-chunk", "5", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("replay starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    let output = child.wait_with_output().expect("replay ends");
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let types: Vec<&str> = lines.iter().filter_map(|l| l["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "greeting",
            "data",
            "skipped",
            "data",
            "status",
            "continuation",
            "summary"
        ]
    );
    assert_eq!(lines[1]["mailbox"], "Entw\u{fc}rfe");
    assert_eq!(lines[1]["mailbox_wire"], "Entw&APw-rfe");
    assert_eq!(lines[2]["offset"], 76);
    assert_eq!(lines[2]["length"], 28);
    assert_eq!(lines[3]["count"], 2);
    assert_eq!(lines[4]["tag"], "A1");
    let summary = &lines[6];
    assert_eq!(summary["bytes"], input.len());
    assert_eq!(summary["responses"], 5);
    assert_eq!(summary["skipped"], 1);
    assert_eq!(summary["incomplete_tail_bytes"], 7);

    let missing = Command::new(env!("CARGO_BIN_EXE_replay"))
        .arg("/nonexistent/capture.txt")
        .output()
        .expect("replay runs");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
}
