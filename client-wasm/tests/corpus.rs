//! Real-server captures (`../shared/corpus/imap-responses/`, beside the clone) through the
//! engine's response reader and through a whole `Session`, each fed whole, in random chunks
//! and one byte at a time: no panic, no hang, the same result for every chunking, and framing
//! that agrees with an independent CRLF-and-literal walk. Also the regression inputs the fuzz
//! targets found (`fuzz/`, docs/fuzzing-and-replay.md), replayed through the same drivers.
//!
//! No response may be skipped, by the reader or by a session: the table (`cargo test -p
//! client-wasm --test corpus -- --nocapture`) shows per capture what was decoded.

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
                Decoded::Esearch(esearch) => format!("{esearch:?}"),
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
    let with_skips: Vec<&str> = table
        .iter()
        .filter(|row| row.2 > 0 || row.3 > 0)
        .map(|row| row.0.as_str())
        .collect();
    assert!(with_skips.is_empty(), "responses skipped in {with_skips:?}");
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

/// Raw UTF-8 in status texts (capture 044, Gmail): the response reader and `replay` show
/// them as written, as the session does, where imap-types' text has `?` for each character.
#[test]
fn n0003_status_texts_with_8_bit_characters_read_as_written_by_the_stream_and_replay() {
    let Some(case) = capture("044") else { return };
    let expected = [
        "[Gmail]/Visi lai\u{161}kai selected. (Success) [THROTTLED]",
        "[Gmail]/\u{412}\u{441}\u{44f} \u{43f}\u{43e}\u{447}\u{442}\u{430} selected. (Success) [THROTTLED]",
    ];
    let mut stream = ResponseStream::default();
    stream.push(&case.bytes);
    let mut shown = Vec::new();
    while let Some(message) = stream.next_message() {
        if let Decoded::Response(Response::Status(Status::Tagged(tagged))) = &message.decoded {
            shown.push(message.shown_text(&tagged.body.text));
        }
    }
    assert_eq!(shown, expected);

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_replay"))
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("replay starts");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &case.bytes).expect("write");
    let output = child.wait_with_output().expect("replay ends");
    assert!(output.status.success());
    let texts: Vec<String> = String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON"))
        .filter_map(|line| line["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(texts, expected);
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

// The captures' `expected` values for FETCH data (rows N0003, V0071, V0072, N0005): each
// capture's FETCH responses through the response reader, then through the engine's envelope
// and part-tree readers.

use client_wasm::{Envelope, Part, Recipient, envelope::Mailbox};
use imap_types::IntoStatic;
use imap_types::fetch::MessageDataItem;
use imap_types::response::{Data, Response};

type Items = Vec<MessageDataItem<'static>>;

/// The capture whose name starts with `prefix`; `None` when the corpus is absent.
fn capture(prefix: &str) -> Option<Case> {
    cases()?.into_iter().find(|c| c.name.starts_with(prefix))
}

/// What `pick` takes from each message the reader decoded in the capture whose name starts
/// with `prefix`; `None` when the corpus is absent.
fn decoded<T>(prefix: &str, mut pick: impl FnMut(Decoded<'_>) -> Option<T>) -> Option<Vec<T>> {
    let case = capture(prefix)?;
    let mut stream = ResponseStream::default();
    stream.push(&case.bytes);
    let mut out = Vec::new();
    while let Some(message) = stream.next_message() {
        out.extend(pick(message.decoded));
    }
    Some(out)
}

/// Every FETCH response in the capture, with its sequence number.
fn fetches(prefix: &str) -> Option<Vec<(u32, Items)>> {
    decoded(prefix, |message| match message {
        Decoded::Response(Response::Data(Data::Fetch { seq, items })) => {
            Some((seq.get(), items.into_static().into_inner()))
        }
        _ => None,
    })
}

fn uid(items: &Items) -> Option<u32> {
    items.iter().find_map(|item| match item {
        MessageDataItem::Uid(uid) => Some(uid.get()),
        _ => None,
    })
}

fn envelope(items: &Items) -> Envelope {
    items
        .iter()
        .find_map(|item| match item {
            MessageDataItem::Envelope(envelope) => Some(Envelope::from_wire(envelope)),
            _ => None,
        })
        .expect("an ENVELOPE")
}

fn body(items: &Items) -> Part {
    items
        .iter()
        .find_map(|item| match item {
            MessageDataItem::BodyStructure(body) | MessageDataItem::Body(body) => {
                Some(Part::from_wire(body))
            }
            _ => None,
        })
        .expect("a BODY or BODYSTRUCTURE")
}

/// `(section, type, size, lines)` of every part, depth first.
fn shape(part: &Part) -> Vec<(String, String, u32, Option<u32>)> {
    let mut out = vec![(
        part.section.clone(),
        part.content_type.clone(),
        part.size,
        part.lines,
    )];
    out.extend(part.children.iter().flat_map(shape));
    out
}

fn row(
    section: &str,
    content_type: &str,
    size: u32,
    lines: Option<u32>,
) -> (String, String, u32, Option<u32>) {
    (section.into(), content_type.into(), size, lines)
}

fn mailbox(name: Option<&str>, address: Option<&str>) -> Recipient {
    Recipient::Mailbox(Mailbox {
        name: name.map(str::to_owned),
        address: address.map(str::to_owned),
    })
}

fn sections(parts: Vec<&Part>) -> Vec<&str> {
    parts.into_iter().map(|p| p.section.as_str()).collect()
}

#[test]
fn v0072_corpus_envelopes_reach_their_expected_values() {
    let Some(garbled) = fetches("059") else {
        return;
    };
    let e = envelope(&garbled[0].1);
    assert_eq!(e.date, Some(1_491_829_440_000), "2017-04-10 06:04 -0700");
    assert_eq!(e.subject.as_deref(), Some("This is the subject"));
    assert_eq!(
        e.from,
        [mailbox(Some("From_DisplayName"), Some("from@domain.com"))]
    );
    assert_eq!(
        e.to,
        [mailbox(Some("To_DisplayName"), Some("to@domain.com"))]
    );
    assert_eq!(
        e.sender,
        [mailbox(
            Some("Dummy\u{ed}a Pa\u{e1}ndez Algo"),
            Some("sender@domain.com")
        )]
    );

    let nil_addresses = fetches("060").expect("corpus");
    assert_eq!(nil_addresses.len(), 21);
    assert!(
        nil_addresses
            .iter()
            .all(|(_, items)| uid(items).is_some_and(|u| (1..=50).contains(&u)))
    );
    let e = envelope(&nil_addresses[0].1);
    assert_eq!(e.subject.as_deref(), Some("Star Trek Party!"));
    assert!(e.from.is_empty(), "{:?}", e.from);
    assert_eq!(e.to.len(), 18);
    assert_eq!(e.to[0], mailbox(None, Some("abel")));
    assert_eq!(e.to[16], mailbox(None, Some("stornett@flash")));

    let exchange = envelope(&fetches("062").expect("corpus")[0].1);
    let apple = [mailbox(Some("Apple"), Some("appleid@id.apple.com"))];
    assert_eq!(exchange.sender, apple, "a NIL sender falls back to From");
    assert_eq!(exchange.from, apple);

    let placeholder = envelope(&fetches("064").expect("corpus")[0].1);
    assert_eq!(placeholder.date, None);
    assert_eq!(
        placeholder.subject.as_deref(),
        Some("Retrieval using the IMAP4 protocol failed for the following message: 3")
    );
    assert_eq!(
        placeholder.from,
        [mailbox(Some("Microsoft Exchange Server"), None)]
    );
    assert_eq!(
        placeholder.to,
        [mailbox(
            Some("username@testdomain.com"),
            Some("username@testdomain.com")
        )]
    );

    let empty_host = envelope(&fetches("073").expect("corpus")[0].1);
    assert_eq!(
        empty_host.from,
        [mailbox(None, Some("Mail Delivery System"))]
    );

    let groups = envelope(&fetches("074").expect("corpus")[0].1);
    let members = |names: &[&str]| -> Vec<Mailbox> {
        names
            .iter()
            .map(|n| Mailbox {
                name: None,
                address: Some((*n).to_owned()),
            })
            .collect()
    };
    assert_eq!(
        groups.to,
        [
            Recipient::Group {
                name: "boys".into(),
                members: members(&["aaron", "jeff", "zach"])
            },
            Recipient::Group {
                name: "girls".into(),
                members: members(&["alice", "hailey", "jenny"])
            },
        ]
    );

    let domino = fetches("077").expect("corpus");
    assert!(
        domino
            .iter()
            .all(|(_, items)| envelope(items) == Envelope::default())
    );

    let rfc = fetches("112").expect("corpus");
    let e = envelope(&rfc[0].1);
    assert_eq!(
        e.subject.as_deref(),
        Some("IMAP4rev1 WG mtg summary and minutes")
    );
    assert_eq!(
        e.from,
        [mailbox(Some("Terry Gray"), Some("gray@cac.washington.edu"))]
    );
    assert_eq!(e.cc.len(), 2);
    assert_eq!(
        e.message_id.as_deref(),
        Some("<B27397-0100000@cac.washington.edu>")
    );
}

#[test]
fn v0071_n0005_corpus_bodystructures_reach_their_expected_trees() {
    let Some(gmail) = fetches("060") else { return };
    let types: Vec<String> = shape(&body(&gmail[0].1)).into_iter().map(|r| r.1).collect();
    assert_eq!(
        types,
        [
            "multipart/mixed",
            "multipart/parallel",
            "text/plain",
            "audio/basic",
            "multipart/mixed",
            "image/gif",
            "image/gif",
            "text/plain",
            "application/atomicmail",
            "audio/basic",
        ]
    );

    let alternative = body(&fetches("062").expect("corpus")[0].1);
    assert_eq!(
        shape(&alternative),
        [
            row("", "multipart/alternative", 0, None),
            row("1", "text/plain", 850, Some(31)),
            row("2", "text/html", 14692, Some(502)),
        ]
    );
    assert!(
        alternative
            .children
            .iter()
            .all(|p| p.encoding.as_deref() == Some("quoted-printable")
                && p.disposition.as_ref().is_some_and(|d| d.kind == "inline"))
    );
    assert_eq!(
        alternative
            .body_part("text/html")
            .map(|p| p.section.as_str()),
        Some("2")
    );
    assert!(alternative.attachments().is_empty());

    let exchange = body(&fetches("063").expect("corpus")[0].1);
    let [text, word, named] = exchange.children.as_slice() else {
        panic!("{exchange:?}")
    };
    assert_eq!(text.description.as_deref(), Some("Mail message body"));
    assert_eq!(
        (word.content_type.as_str(), word.size, &word.disposition),
        ("application/msword", 50446, &None)
    );
    assert_eq!(
        named.filename.as_deref(),
        Some("PREIS ANSPRUCHS FORMULAR.doc")
    );
    assert_eq!(sections(exchange.attachments()), ["2", "3"]);
    assert_eq!(
        exchange.body_part("text/plain").map(|p| p.section.as_str()),
        Some("1")
    );

    let negative = body(&fetches("065").expect("corpus")[0].1);
    assert_eq!(
        shape(&negative),
        [
            row("", "multipart/mixed", 0, None),
            row("1", "multipart/alternative", 0, None),
            row("1.1", "text/plain", 6, Some(3)),
            row("1.2", "text/html", 314, Some(5)),
            row("2", "multipart/appledouble", 0, None),
        ]
    );

    let report = body(&fetches("073").expect("corpus")[0].1);
    assert_eq!(
        shape(&report),
        [
            row("", "multipart/report", 0, None),
            row("1", "text/plain", 727, Some(16)),
            row("2", "message/delivery-status", 416, None),
            row("3", "message/rfc822", 903, Some(17)),
            // No children: read as an empty single part, the embedded message's body.
            row("3.1", "multipart/alternative", 0, None),
        ]
    );
    assert_eq!(report.parameter("report-type"), Some("delivery-status"));

    let latin1 = body(&fetches("089").expect("corpus")[0].1);
    assert_eq!(
        (latin1.content_type.as_str(), latin1.size),
        ("image/png", 15440)
    );
    assert_eq!(latin1.id.as_deref(), Some("<part1@example.com>"));
    assert_eq!(latin1.filename.as_deref(), Some("G\u{f6}r\u{fc}nt\u{fc}1"));
    assert_eq!(sections(latin1.attachments()), ["1"]);

    let nested = body(&fetches("091").expect("corpus")[0].1);
    assert_eq!(
        shape(&nested),
        [
            row("", "multipart/mixed", 0, None),
            row("1", "multipart/alternative", 0, None),
            row("1.1", "text/plain", 28, Some(2)),
            row("1.2", "text/html", 1707, Some(65)),
            row("2", "message/rfc822", 641, Some(31)),
            row("2.1", "text/plain", 185, Some(18)),
            row("3", "message/rfc822", 50592, Some(1669)),
            row("3.TEXT", "multipart/alternative", 0, None),
            row("3.1", "text/plain", 4296, Some(345)),
            row("3.2", "text/html", 45069, Some(1295)),
        ]
    );
    // Body-extension fields kept (N0005): languages, dispositions, multipart parameters.
    assert_eq!(nested.language, ["cs"]);
    assert_eq!(nested.children[1].children[0].language, ["cs"]);
    assert_eq!(nested.children[2].children[0].language, ["cs"]);
    assert_eq!(
        nested.children[1]
            .disposition
            .as_ref()
            .map(|d| d.kind.as_str()),
        Some("attachment")
    );
    assert_eq!(
        nested.parameter("boundary"),
        Some("----=_NextPart_000_0077_01CBB179.57530990")
    );
    let subjects: Vec<_> = nested.children[1..]
        .iter()
        .map(|p| p.envelope.as_ref().and_then(|e| e.subject.clone()))
        .collect();
    assert_eq!(subjects, [Some("Subj 2".into()), Some("Subj 1".into())]);
    let name = nested.children[1].envelope.as_ref().map(|e| e.from.clone());
    assert_eq!(
        name,
        Some(vec![mailbox(
            Some("Some Name, SOMECOMPANY"),
            Some("recipient@example.com")
        )])
    );
    assert_eq!(sections(nested.attachments()), ["2", "3"]);
    assert_eq!(
        nested.body_part("text/plain").map(|p| p.section.as_str()),
        Some("1.1")
    );

    let domino = fetches("077").expect("corpus");
    assert!(
        domino
            .iter()
            .all(|(_, items)| shape(&body(items)) == [row("1", "text/plain", 0, Some(0))])
    );

    let rfc = body(&fetches("112").expect("corpus")[0].1);
    assert_eq!(shape(&rfc), [row("1", "text/plain", 3028, Some(92))]);
    assert_eq!(rfc.parameter("charset"), Some("US-ASCII"));
}

fn flags(items: &Items) -> Vec<client_wasm::Flag> {
    items
        .iter()
        .find_map(|item| match item {
            MessageDataItem::Flags(flags) => {
                Some(flags.iter().map(client_wasm::Flag::from_fetch).collect())
            }
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn n0003_corpus_fetch_items_reach_their_expected_values() {
    use client_wasm::Flag;
    let Some(domino) = fetches("077") else { return };
    assert_eq!(domino.len(), 29);
    assert!(
        domino
            .iter()
            .all(|(seq, items)| uid(items) == Some(seq + 14933))
    );

    let big = fetches("061").expect("corpus");
    assert_eq!(uid(&big[0].1), Some(1));
    let data = big[0].1.iter().find_map(|item| match item {
        MessageDataItem::BodyExt { data, .. } => data.0.as_ref().map(|d| d.as_ref().len()),
        _ => None,
    });
    assert_eq!(data, Some(181_614));

    let two = fetches("085").expect("corpus");
    let names: Vec<Vec<String>> = two
        .iter()
        .map(|(_, items)| {
            items
                .iter()
                .filter_map(|item| match item {
                    MessageDataItem::BodyExt { section, data, .. } => Some(format!(
                        "{section:?}={}",
                        data.0.as_ref().map_or(0, |d| d.as_ref().len())
                    )),
                    _ => None,
                })
                .collect()
        })
        .collect();
    assert_eq!(names.len(), 2);
    assert!(
        names[0][0].starts_with("Some(Mime(") && names[0][0].ends_with("=43"),
        "{names:?}"
    );
    assert!(
        names[0][1].starts_with("Some(Part(") && names[0][1].ends_with("=27"),
        "{names:?}"
    );
    assert!(names[1][0].ends_with("=43"));
    assert!(
        two.iter()
            .all(|(seq, items)| *seq == 2 && uid(items) == Some(2))
    );

    let yandex = fetches("086").expect("corpus");
    let (_, items) = &yandex[0];
    assert_eq!(uid(items), Some(3016));
    let sections: Vec<(bool, Option<usize>)> = items
        .iter()
        .filter_map(|item| match item {
            MessageDataItem::BodyExt { section, data, .. } => Some((
                format!("{section:?}").contains("Mime"),
                data.0.as_ref().map(|d| d.as_ref().len()),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        sections,
        [(true, Some(145)), (false, None)],
        "BODY[2] without a value reads as NIL"
    );

    let size = |items: &Items| {
        items.iter().find_map(|item| match item {
            MessageDataItem::Rfc822Size(size) => Some(*size),
            _ => None,
        })
    };
    let exchange = fetches("062").expect("corpus");
    let (seq, items) = &exchange[0];
    assert_eq!((*seq, uid(items), size(items)), (37, Some(67), Some(14801)));
    assert_eq!(flags(items), [Flag::Seen, Flag::Recent]);
    let negative = fetches("065").expect("corpus");
    let (seq, items) = &negative[0];
    assert_eq!((*seq, uid(items), size(items)), (5, Some(581), Some(35149)));
    let body_text = two[0].1.iter().find_map(|item| match item {
        MessageDataItem::BodyExt {
            section: Some(imap_types::fetch::Section::Part(_)),
            data,
            ..
        } => data.0.as_ref().map(|d| d.as_ref().to_vec()),
        _ => None,
    });
    assert_eq!(
        body_text.as_deref(),
        Some(b"This is the message body.\r\n".as_slice())
    );

    let zoho = fetches("087").expect("corpus");
    assert_eq!(zoho.len(), 74, "every FETCH parsed");
    assert!(
        zoho.iter()
            .all(|(_, items)| uid(items).is_some() && !flags(items).is_empty())
    );
    assert!(zoho.iter().any(|(_, items)| {
        flags(items)
            .iter()
            .any(|f| matches!(f, Flag::Keyword(k) if k.eq_ignore_ascii_case("$Forwarded")))
    }));

    let binary = fetches("090").expect("corpus");
    let value = binary[0].1.iter().find_map(|item| match item {
        MessageDataItem::Binary {
            value: imap_types::core::NString8::Literal8(literal),
            ..
        } => Some(literal.data.to_vec()),
        _ => None,
    });
    assert_eq!(value.as_deref(), Some(b"hel\0o".as_slice()));

    let cyrus = fetches("055").expect("corpus");
    assert_eq!((cyrus[0].0, uid(&cyrus[0].1)), (2934, Some(3041)));
    assert_eq!(
        flags(&cyrus[0].1),
        [
            Flag::Answered,
            Flag::Seen,
            Flag::Keyword("$Quuxo::Spam::Trained".into())
        ]
    );

    let rfc = fetches("112").expect("corpus");
    assert_eq!(size(&rfc[0].1), Some(4286));
    let header = rfc.iter().find_map(|(_, items)| {
        items.iter().find_map(|item| match item {
            MessageDataItem::BodyExt { data, .. } => data.0.as_ref().map(|d| d.as_ref().len()),
            _ => None,
        })
    });
    assert_eq!(header, Some(342));
    assert_eq!(flags(&rfc[2].1), [Flag::Seen, Flag::Deleted]);
}

/// Captures whose FETCH responses go through the shape repair.
const REPAIRED_FETCH_CAPTURES: [&str; 8] = ["059", "062", "063", "073", "077", "086", "087", "091"];

/// Captures whose lines go through the one-line repairs or the ESEARCH reader.
const REPAIRED_LINE_CAPTURES: [&str; 9] = [
    "041", "044", "047", "049", "054", "095", "096", "101", "105",
];

#[test]
fn n0003_cut_or_mangled_repaired_captures_are_incomplete_or_skipped_never_a_panic() {
    let Some(all) = cases() else { return };
    let repaired = REPAIRED_FETCH_CAPTURES
        .iter()
        .chain(&REPAIRED_LINE_CAPTURES);
    for case in all
        .iter()
        .filter(|c| repaired.clone().any(|p| c.name.starts_with(p)))
    {
        let whole = read_stream(&[&case.bytes]);
        // Every cut inside the first message leaves it incomplete: nothing decoded, all
        // bytes pending.
        let first = whole.messages.first().map_or(0, |m| m.1);
        for cut in 1..first {
            let cut_short = read_stream(&[&case.bytes[..cut]]);
            assert!(cut_short.messages.is_empty(), "{} cut at {cut}", case.name);
            assert_eq!(cut_short.tail, cut as u64, "{} cut at {cut}", case.name);
        }
        // Mangled bytes: any result but a panic, and the stream keeps its framing.
        let mut rng = harness::Rng::from_input(case.name.as_bytes());
        let alphabet = b"()\" {}~[]\r\n0N";
        for _ in 0..100 {
            let mut mangled = case.bytes.clone();
            let at = rng.size(mangled.len()) - 1;
            mangled[at] = alphabet[rng.size(alphabet.len()) - 1];
            let _ = read_stream(&[&mangled]);
            harness::session(&mangled);
        }
    }
}

// The captures' `expected` values for the one-line shapes the lenient reader repairs, for
// ESEARCH and for the rest of the SEARCH / SORT / THREAD capture (rows N0003, V0067).

use client_wasm::{Esearch, MailboxName, Refusal, SpecialUse, esearch::PartialResult};
use imap_types::mailbox::Mailbox as WireMailbox;
use imap_types::response::{Status, StatusBody, StatusKind, Tagged};
use std::num::NonZeroU32;

fn responses(prefix: &str) -> Option<Vec<Response<'static>>> {
    decoded(prefix, |message| match message {
        Decoded::Response(response) => Some(response.into_static()),
        _ => None,
    })
}

fn name(mailbox: &WireMailbox<'_>) -> String {
    match mailbox {
        WireMailbox::Inbox => "INBOX".into(),
        WireMailbox::Other(other) => MailboxName::from_wire(other.as_ref()).display(),
    }
}

/// `(tag, kind, code, text)` of a status response; untagged ones have the tag `*`.
fn status(response: &Response<'_>) -> Option<(String, StatusKind, Option<String>, String)> {
    let (tag, StatusBody { kind, code, text }) = match response {
        Response::Status(Status::Tagged(Tagged { tag, body })) => (tag.inner().to_owned(), body),
        Response::Status(Status::Untagged(body)) => ("*".to_owned(), body),
        _ => return None,
    };
    let code = code.as_ref().map(|code| format!("{code:?}"));
    Some((tag, *kind, code, text.inner().to_owned()))
}

/// A response as imap-codec writes it back.
fn encoded(response: &Response<'_>) -> String {
    use imap_codec::encode::Encoder;
    let bytes = imap_codec::ResponseCodec::default().encode(response).dump();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn flag_names(response: &Response<'_>) -> Vec<String> {
    match response {
        Response::Data(Data::Flags(flags)) => flags.iter().map(ToString::to_string).collect(),
        other => panic!("not FLAGS: {other:?}"),
    }
}

fn numbers(values: impl IntoIterator<Item = u32>) -> Vec<NonZeroU32> {
    values.into_iter().filter_map(NonZeroU32::new).collect()
}

#[test]
fn n0003_corpus_odd_lines_reach_their_expected_values() {
    let Some(list) = responses("041") else { return };
    let [
        Response::Data(Data::List {
            items,
            delimiter,
            mailbox,
        }),
    ] = list.as_slice()
    else {
        panic!("{list:?}")
    };
    let attributes: Vec<String> = items.iter().map(ToString::to_string).collect();
    assert_eq!(attributes, ["\\HasNoChildren", "\\Unmarked"]);
    assert_eq!(delimiter.as_ref().map(|d| d.inner()), Some('/'));
    assert_eq!(name(mailbox), "'a");

    // Raw UTF-8 cannot be held by imap-types' `Text`: each such character reads as `?` here;
    // the session, `StreamMessage::shown_text` and `replay` show it as written (below and
    // tests/session.rs, n0003_status_texts_...).
    let gmail: Vec<_> = responses("044")
        .expect("corpus")
        .iter()
        .filter_map(status)
        .collect();
    let read_write = Some("ReadWrite".to_owned());
    assert_eq!(
        gmail,
        [
            (
                "F".to_owned(),
                StatusKind::Ok,
                read_write.clone(),
                "[Gmail]/Visi lai?kai selected. (Success) [THROTTLED]".to_owned()
            ),
            (
                "E".to_owned(),
                StatusKind::Ok,
                read_write,
                "[Gmail]/??? ????? selected. (Success) [THROTTLED]".to_owned()
            ),
        ]
    );

    let zoho = responses("047").expect("corpus");
    assert_eq!(
        flag_names(&zoho[0]),
        ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"]
    );

    // Keywords with `]` are no atoms and imap-types keeps atoms only: they are dropped, and
    // the keyword with spaces leaves its last words.
    let gmail = responses("049").expect("corpus");
    assert_eq!(
        flag_names(&gmail[0]),
        [
            "\\Answered",
            "\\Flagged",
            "\\Draft",
            "\\Deleted",
            "\\Seen",
            "$Forwarded",
            "$MDNSent",
            "$NotPhishing",
            "$Phishing",
            "Junk",
            "LoadRemoteImages",
            "NonJunk",
            "OIB-Seen-INBOX",
            "OIB-Seen-Unsubscribe",
            "les",
            "messages",
        ]
    );

    let statuses: Vec<(String, String)> = responses("054")
        .expect("corpus")
        .iter()
        .map(|response| match response {
            Response::Data(Data::Status { mailbox, items }) => {
                (name(mailbox), format!("{items:?}"))
            }
            other => panic!("not STATUS: {other:?}"),
        })
        .collect();
    let items = "[Messages(0), UidNext(1), UidValidity(1)]".to_owned();
    assert_eq!(
        statuses,
        [
            (
                "Segregator/Spo\u{142}eczno\u{15b}ci".to_owned(),
                items.clone()
            ),
            (
                "\u{160}egregator/Spo\u{142}eczno\u{15b}ci".to_owned(),
                items
            ),
        ]
    );

    let exchange = responses("096").expect("corpus");
    let [
        copyuid,
        Response::Data(Data::Expunge(seq)),
        Response::Data(Data::Exists(0)),
        done,
    ] = exchange.as_slice()
    else {
        panic!("{exchange:?}")
    };
    assert_eq!(encoded(copyuid), "* OK [COPYUID 55 31 6] ...\r\n");
    assert_eq!(seq.get(), 1);
    assert_eq!(
        status(done),
        Some((
            "A00000007".to_owned(),
            StatusKind::Ok,
            None,
            "MOVE completed.".to_owned()
        ))
    );

    let unavailable = responses("101").expect("corpus");
    assert_eq!(
        status(&unavailable[0]),
        Some((
            "*".to_owned(),
            StatusKind::Bad,
            None,
            "Server Unavailable. 15".to_owned()
        ))
    );

    // imap-types' `Text` cannot be empty: a missing text reads as imap-codec's own "...".
    let ppops = responses("105").expect("corpus");
    assert_eq!(
        status(&ppops[0]),
        Some(("A6".to_owned(), StatusKind::Ok, None, "...".to_owned()))
    );
}

/// Exchange's bare "Server Unavailable. 15" reaches the driver as a server error (BAD) that no
/// command is blamed for.
#[test]
fn n0003_corpus_line_without_tag_is_a_server_warning() {
    let Some(case) = capture("101") else { return };
    let session = run_session(&[&with_greeting(&case.bytes)]);
    assert!(
        session.events.iter().any(|event| matches!(event,
            Event::WarningReceived { refusal: Refusal::Bad, text } if text == "Server Unavailable. 15")),
        "{:?}",
        session.events
    );
}

#[test]
fn v0067_corpus_esearch_esort_sort_and_thread_reach_their_expected_values() {
    let Some(found) = decoded("095", |message| match message {
        Decoded::Esearch(esearch) => Some(esearch),
        _ => None,
    }) else {
        return;
    };
    let esearch = |tag: &str| Esearch {
        tag: Some(tag.into()),
        uid: true,
        ..Esearch::default()
    };
    assert_eq!(
        found,
        [
            Esearch {
                min: NonZeroU32::new(2),
                max: NonZeroU32::new(13),
                all: numbers((2..=6).chain(9..=13)),
                count: Some(10),
                relevancy: vec![2, 3, 4, 5, 6, 9, 10, 11, 12, 13],
                ..esearch("A00000011")
            },
            Esearch {
                partial: Some(PartialResult {
                    first: -1,
                    last: -10,
                    found: numbers(5..=14)
                }),
                ..esearch("A00000012")
            },
            Esearch {
                partial: Some(PartialResult {
                    first: 100,
                    last: 110,
                    found: Vec::new()
                }),
                ..esearch("A00000013")
            },
            Esearch {
                min: NonZeroU32::new(7),
                max: NonZeroU32::new(1),
                all: numbers((1..=7).rev()),
                count: Some(7),
                relevancy: vec![7, 6, 5, 4, 3, 2, 1],
                ..esearch("A00000014")
            },
        ]
    );

    let rest = responses("095").expect("corpus");
    let sorted = rest.iter().find_map(|response| match response {
        Response::Data(Data::Sort(found, _)) => Some(found.iter().map(|n| n.get()).collect()),
        _ => None,
    });
    assert_eq!(
        sorted,
        Some(vec![7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8])
    );
    let thread = rest
        .iter()
        .find(|response| matches!(response, Response::Data(Data::Thread(_))))
        .expect("a THREAD");
    assert_eq!(encoded(thread), "* THREAD (1 (2 (3 5)(6))(4))(7)\r\n");
}

// The captures' `expected` values for everything else (greetings, capabilities, LIST and
// XLIST, SELECT data, STATUS, SEARCH / SORT / THREAD, errors, ID, QUOTA; row N0003), read
// through the `replay` tool's JSON, the engine reader's public rendering.

use serde_json::{Value, json};

/// The `replay` tool's JSON lines, its summary left out, for the capture `prefix`.
fn replayed(prefix: &str) -> Option<Vec<Value>> {
    let case = capture(prefix)?;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_replay"))
        .arg(corpus_dir().join(format!("{}.txt", case.name)))
        .output()
        .expect("replay runs");
    let lines = String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("one JSON object per line"))
        .filter(|line| line["type"] != "summary")
        .collect();
    Some(lines)
}

/// Each field of `expected` has that value in `actual`; other fields are not compared.
fn assert_fields(capture: &str, actual: &Value, expected: Value) {
    for (key, value) in expected.as_object().expect("an object") {
        assert_eq!(&actual[key], value, "{capture}, field {key}: {actual}");
    }
}

/// The capabilities a session learns from the capture's greeting.
fn greeted(prefix: &str) -> client_wasm::Capabilities {
    let case = capture(prefix).expect("corpus");
    let session = run_session(&[&case.bytes]);
    match session.events.first() {
        Some(Event::Greeted { capabilities, .. }) => capabilities.clone(),
        other => panic!("{prefix}: {other:?}"),
    }
}

/// Whether the JSON list `list` holds each of `items`.
fn holds(list: &Value, items: &[&str]) -> bool {
    let list = list.as_array().map(Vec::as_slice).unwrap_or_default();
    items.iter().all(|item| list.iter().any(|v| v == item))
}

#[test]
fn n0003_corpus_greetings_and_capabilities_reach_their_expected_values() {
    let Some(courier) = replayed("003") else {
        return;
    };
    let courier_caps = [
        "IMAP4REV1",
        "UIDPLUS",
        "CHILDREN",
        "NAMESPACE",
        "THREAD=ORDEREDSUBJECT",
        "THREAD=REFERENCES",
        "SORT",
        "QUOTA",
        "IDLE",
        "ACL",
        "ACL2=UNION",
    ];
    assert_fields(
        "003",
        &courier[0],
        json!({"type": "greeting", "kind": "ok",
            "text": "Courier-IMAP ready. Copyright 1998-2011 Double Precision, Inc.  See COPYING for distribution information."}),
    );
    assert!(holds(&courier[0]["code"]["capabilities"], &courier_caps));
    assert!(holds(&courier[0]["code"]["capabilities"], &["STARTTLS"]));
    assert!(holds(&courier[1]["capabilities"], &courier_caps));
    assert!(holds(&courier[1]["capabilities"], &["AUTH=PLAIN"]));
    assert!(!holds(&courier[1]["capabilities"], &["STARTTLS"]));

    let cyrus = replayed("004").expect("corpus");
    let greeting_caps = [
        "IMAP4",
        "IMAP4REV1",
        "LITERAL+",
        "ID",
        "STARTTLS",
        "AUTH=PLAIN",
        "SASL-IR",
    ];
    assert_eq!(cyrus[0]["code"]["capabilities"], json!(greeting_caps));
    assert_fields(
        "004",
        &cyrus[3],
        json!({"tag": "A00000001", "kind": "ok", "text": "Success (no protection)"}),
    );
    assert!(holds(
        &cyrus[3]["code"]["capabilities"],
        &["LOGINDISABLED", "CONDSTORE", "SORT=MODSEQ"]
    ));

    let dovecot = replayed("005").expect("corpus");
    assert_fields(
        "005",
        &dovecot[0],
        json!({"type": "greeting", "kind": "preauth", "text": "Logged in as user"}),
    );
    assert!(holds(
        &dovecot[0]["code"]["capabilities"],
        &[
            "CONDSTORE",
            "QRESYNC",
            "ESEARCH",
            "ESORT",
            "LIST-STATUS",
            "BINARY",
            "MOVE",
            "SPECIAL-USE",
            "NOTIFY"
        ]
    ));

    // IMAP4REV1 upper case: capabilities compare case-insensitively in the engine.
    let uw = replayed("006").expect("corpus");
    assert_eq!(
        uw[0]["code"]["capabilities"],
        json!([
            "IMAP4REV1",
            "I18NLEVEL=1",
            "LITERAL+",
            "SASL-IR",
            "LOGIN-REFERRALS",
            "AUTH=PLAIN",
            "AUTH=LOGIN"
        ])
    );
    let caps = greeted("006");
    assert!(
        caps.has("IMAP4rev1") && caps.supports_auth("plain"),
        "{caps:?}"
    );
    let caps = greeted("030");
    assert!(caps.has("imap4rev1") && caps.has("special-use"), "{caps:?}");

    let yandex = replayed("007").expect("corpus");
    assert_fields(
        "007",
        &yandex[0],
        json!({"type": "greeting", "kind": "ok", "code": null}),
    );
    assert!(holds(
        &yandex[1]["capabilities"],
        &["XLIST", "MOVE", "IDLE", "ENABLE", "AUTH=XOAUTH2"]
    ));

    let zoho = replayed("010").expect("corpus");
    assert!(holds(
        &zoho[1]["capabilities"],
        &["LITERAL-", "APPENDLIMIT=10485760", "CONDSTORE", "ESEARCH"]
    ));
    assert!(holds(&zoho[3]["capabilities"], &["APPENDLIMIT=26214400"]));

    let aliyun = replayed("012").expect("corpus");
    assert_fields(
        "012",
        &aliyun[0],
        json!({"kind": "ok", "code": null, "text": "AliYun IMAP Server Ready(10.147.40.164)"}),
    );

    let proton = replayed("016").expect("corpus");
    assert!(holds(
        &proton[1]["capabilities"],
        &["APPENDLIMIT", "XSTOP", "AUTH=LOGIN"]
    ));

    let strato = replayed("017").expect("corpus");
    assert!(holds(
        &strato[2]["capabilities"],
        &[
            "PREVIEW=FUZZY",
            "SNIPPET=FUZZY",
            "STATUS=SIZE",
            "QUOTA=RES-MAILBOX"
        ]
    ));

    let lower = replayed("030").expect("corpus");
    assert_eq!(
        lower[1]["capabilities"],
        json!(["IMAP4REV1", "STARTTLS", "login", "special-use"])
    );
}

/// What `pick` takes from the events of a session that sends `command` and gets the
/// capture's bytes, then the tagged OK, as the answer (the capture's own tagged responses
/// answer no command here).
fn answered<T>(
    prefix: &str,
    command: client_wasm::Command,
    pick: impl FnMut(Event) -> Option<T>,
) -> T {
    let case = capture(prefix).expect("corpus");
    let now = Instant::from_millis(1_000);
    let mut session = Session::new(Config::new(0, TransportSecurity::Encrypted), now);
    session.handle_input(now, b"* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n");
    session.submit(command, now).expect("command accepted");
    let sent = session.poll_transmit().expect("command sent");
    session.handle_input(now, &case.bytes);
    session.handle_input(now, &[&sent[..4], b" OK done\r\n"].concat());
    std::iter::from_fn(|| session.poll_event())
        .find_map(pick)
        .expect("the command answered")
}

/// The mailboxes a session's `LIST "" *` reports when the capture answers it.
fn listed(prefix: &str) -> Vec<client_wasm::ListedMailbox> {
    let list = client_wasm::Command::List {
        reference: MailboxName::from_wire(""),
        pattern: "*".into(),
    };
    answered(prefix, list, |event| match event {
        Event::MailboxesListed { mailboxes, .. } => Some(mailboxes),
        _ => None,
    })
}

/// `(display name, delimiter, special use, selectable)` of each listed mailbox.
fn roles(
    mailboxes: &[client_wasm::ListedMailbox],
) -> Vec<(String, Option<char>, Option<SpecialUse>, bool)> {
    mailboxes
        .iter()
        .map(|m| (m.display.clone(), m.delimiter, m.special_use, m.selectable))
        .collect()
}

fn role(
    name: &str,
    delimiter: char,
    special_use: Option<SpecialUse>,
) -> (String, Option<char>, Option<SpecialUse>, bool) {
    (name.to_owned(), Some(delimiter), special_use, true)
}

#[test]
fn n0003_v0061_corpus_lists_and_namespaces_reach_their_expected_values() {
    use SpecialUse::{All, Drafts, Flagged, Junk, Sent, Trash};
    let Some(yandex) = replayed("007") else {
        return;
    };
    assert_eq!(
        yandex[5]["value"]["content"]["personal"][0],
        json!({"prefix": {"type": "Quoted", "content": ""}, "delimiter": "|", "extensions": []})
    );
    let inbox = &listed("007")[0];
    assert_eq!((inbox.name.is_inbox(), inbox.delimiter), (true, Some('|')));
    assert_eq!(
        inbox.attributes,
        ["\\HasNoChildren", "\\Marked", "\\Noinferiors"]
    );

    let domino = replayed("009").expect("corpus");
    let namespace = &domino[3]["value"]["content"];
    let prefix = |kind: &str| namespace[kind][0]["prefix"]["content"].clone();
    assert_eq!(
        (prefix("personal"), prefix("other"), prefix("shared")),
        (json!(""), json!("Other\\"), json!("Shared\\"))
    );
    assert_eq!(namespace["personal"][0]["delimiter"], "\\");
    let inbox = &listed("009")[0];
    assert_eq!((inbox.name.is_inbox(), inbox.delimiter), (true, Some('\\')));

    let zoho = &listed("010")[0];
    assert!(zoho.name.is_inbox() && zoho.subscribed && zoho.delimiter == Some('/'));

    let strato = listed("017");
    assert_eq!(roles(&strato), [role("INBOX", '.', None)]);
    assert!(strato[0].attributes == ["\\HasChildren"]);
    let xlist = replayed("017").expect("corpus");
    assert_fields("017", &xlist[8], json!({"tag": "A00000005", "kind": "ok"}));

    assert_eq!(
        roles(&listed("030")),
        [role("INBOX", '/', None), role("Trash", '/', Some(Trash))]
    );

    let gmail = listed("031");
    assert_eq!(gmail.len(), 9);
    assert!(gmail[0].name.is_inbox());
    assert_eq!(
        (gmail[1].display.as_str(), gmail[1].selectable),
        ("[Gmail]", false)
    );
    let uses: Vec<_> = gmail
        .iter()
        .map(|m| (m.display.as_str(), m.special_use))
        .collect();
    for expected in [
        ("[Gmail]/All Mail", Some(All)),
        ("[Gmail]/Spam", Some(Junk)),
        ("[Gmail]/Starred", Some(Flagged)),
    ] {
        assert!(uses.contains(&expected), "{expected:?} in {uses:?}");
    }

    let yandex = listed("032");
    assert_eq!(
        roles(&yandex),
        [
            role("Drafts", '|', Some(Drafts)),
            role("Drafts|template", '|', None),
            role("INBOX", '|', None),
            role("Outbox", '|', None),
            role("Sent", '|', Some(Sent)),
            role("Spam", '|', Some(Junk)),
            role("Trash", '|', Some(Trash)),
        ]
    );
    assert_eq!(
        yandex[0].attributes,
        ["\\HasChildren", "\\Unmarked", "\\Drafts"]
    );
    assert!(yandex[1].attributes.contains(&"\\Templates".to_owned()));

    let zoho = listed("033");
    assert_eq!(
        roles(&zoho),
        [
            role("Posteingang", '/', None),
            role("Entw\u{fc}rfe", '/', Some(Drafts)),
            role("Vorlagen", '/', None),
            role("Gesendet", '/', Some(Sent)),
            role("Spam", '/', Some(Junk)),
            role("Papierkorb", '/', Some(Trash)),
        ]
    );
    assert!(zoho[0].attributes.contains(&"\\Inbox".to_owned()));
    assert!(zoho[2].attributes.contains(&"\\Templates".to_owned()));

    let literal = replayed("035").expect("corpus");
    assert_fields(
        "035",
        &literal[1],
        json!({"kind": "list", "attributes": ["\\HasNoChildren"], "delimiter": "/", "mailbox": "Literal Folder Name"}),
    );
    assert_fields(
        "035",
        &literal[3],
        json!({"kind": "status", "mailbox": "Literal Folder Name", "items": {"MESSAGES": 60}}),
    );

    // UTF-8 in a literal (UTF8=ACCEPT) is the name as is, not modified UTF-7.
    let utf8 = &listed("036")[0];
    assert_eq!(
        utf8.display,
        "\u{418}\u{441}\u{445}\u{43e}\u{434}\u{44f}\u{449}\u{438}\u{435}"
    );
    assert_eq!(utf8.name.as_wire(), utf8.display.as_bytes());
    assert_eq!(utf8.delimiter, Some('/'));
    assert!(utf8.attributes[0].eq_ignore_ascii_case("\\HasNoChildren"));

    assert_eq!(roles(&listed("039")), [role("[FolderName]", '.', None)]);
    let airmail = listed("040");
    assert_eq!(roles(&airmail), [role("INBOX.[Airmail].Snooze", '.', None)]);
    assert!(airmail[0].attributes[0].eq_ignore_ascii_case("\\Unmarked"));

    let dovecot = listed("042");
    let names: Vec<&str> = dovecot.iter().map(|m| m.display.as_str()).collect();
    assert_eq!(
        names,
        [
            "Archives",
            "Drafts",
            "Junk",
            "Sent Messages",
            "Trash",
            "INBOX",
            "NIL"
        ]
    );
    let status = |index: usize| {
        let s = dovecot[index].status.clone().expect("LIST-STATUS");
        (
            s.messages,
            s.uid_next.map(|u| u.get()),
            s.uid_validity,
            s.highest_modseq,
        )
    };
    assert_eq!(status(6), (Some(0), Some(1), Some(1_436_832_057), Some(1)));
    assert_eq!(status(5), (Some(4), Some(5), Some(1_436_832_057), Some(15)));

    let empty = replayed("051").expect("corpus");
    assert_fields(
        "051",
        &empty[0],
        json!({"kind": "status", "mailbox": "INBOX", "items": {}}),
    );
}

/// The mailbox a session's `SELECT INBOX` reports when the capture answers it.
fn selected(prefix: &str) -> client_wasm::SelectedMailbox {
    let select = client_wasm::Command::Select {
        mailbox: MailboxName::inbox(),
    };
    answered(prefix, select, |event| match event {
        Event::MailboxSelected { mailbox, .. } => Some(mailbox),
        _ => None,
    })
}

/// `(exists, recent, unseen, uid_validity, uid_next, highest_modseq)`.
fn counts(
    mailbox: &client_wasm::SelectedMailbox,
) -> (u32, u32, Option<u32>, Option<u32>, Option<u32>, Option<u64>) {
    (
        mailbox.exists,
        mailbox.recent,
        mailbox.unseen,
        mailbox.uid_validity,
        mailbox.uid_next.map(|u| u.get()),
        mailbox.highest_modseq,
    )
}

fn flag_texts(flags: &[client_wasm::Flag]) -> Vec<String> {
    flags.iter().map(ToString::to_string).collect()
}

#[test]
fn n0003_corpus_select_data_reaches_its_expected_values() {
    let Some(gmail) = capture("043").map(|_| selected("043")) else {
        return;
    };
    assert_eq!(
        counts(&gmail),
        (0, 0, None, Some(23), Some(1), Some(25_742))
    );
    assert!(holds(
        &json!(flag_texts(&gmail.flags)),
        &["$Phishing", "$NotPhishing"]
    ));
    assert_fields(
        "043",
        &replayed("043").expect("corpus")[7],
        json!({"code": {"name": "READ-WRITE"}}),
    );

    let yandex = selected("045");
    assert_eq!(
        counts(&yandex),
        (49, 1, Some(8), Some(1_679_853_140), Some(3065), None)
    );
    assert_eq!(
        flag_texts(&yandex.flags),
        ["\\Answered", "\\Seen", "\\Draft", "\\Deleted", "$Forwarded"]
    );
    assert!(flag_texts(&yandex.permanent_flags).contains(&"\\Flagged".to_owned()));
    assert!(yandex.can_create_keywords, "\\* in PERMANENTFLAGS");

    let zoho = selected("046");
    assert_eq!(
        counts(&zoho),
        (
            5348,
            5333,
            None,
            Some(2),
            Some(6212),
            Some(1_706_092_971_947_030_001)
        )
    );
    assert!(zoho.permanent_flags.is_empty() && !zoho.can_create_keywords);
    assert_fields(
        "046",
        &replayed("046").expect("corpus")[7],
        json!({"code": {"name": "READ-ONLY"}}),
    );

    let surgemail = selected("048");
    assert_eq!(
        flag_texts(&surgemail.flags),
        [
            "\\Answered",
            "\\Flagged",
            "\\Deleted",
            "\\Draft",
            "\\Seen",
            "$Forwarded"
        ]
    );

    // QRESYNC: the reopening's VANISHED (EARLIER) and FETCH updates, then EXPUNGE's VANISHED.
    let dovecot = replayed("052").expect("corpus");
    let kinds = |kind: &str| dovecot.iter().filter(|l| l["kind"] == kind).count();
    assert_eq!(kinds("fetch"), 7);
    assert!(dovecot.iter().filter(|l| l["kind"] == "fetch").all(|l| {
        let modseq = &l["items"][2];
        modseq["name"] == "MODSEQ" && (modseq["value"] == 3 || modseq["value"] == 4)
    }));
    assert_fields("052", &dovecot[2], json!({"kind": "exists", "count": 7}));
    assert_fields(
        "052",
        &dovecot[4],
        json!({"code": {"name": "UIDVALIDITY", "value": 1_436_832_084_u32}}),
    );
    assert_fields(
        "052",
        &dovecot[5],
        json!({"code": {"name": "UIDNEXT", "value": 9}}),
    );
    assert_fields(
        "052",
        &dovecot[6],
        json!({"code": {"name": "HIGHESTMODSEQ", "value": 6}}),
    );
    assert_fields(
        "052",
        &dovecot[7],
        json!({"kind": "vanished", "earlier": true, "uids": [{"type": "Single", "content": {"type": "Value", "content": 8}}]}),
    );
    assert_fields(
        "052",
        &dovecot[16],
        json!({"kind": "vanished", "earlier": false}),
    );
    assert_fields("052", &dovecot[17], json!({"kind": "recent", "count": 0}));
    assert_fields(
        "052",
        &dovecot[18],
        json!({"tag": "A00000018", "code": {"name": "HIGHESTMODSEQ", "value": 7}}),
    );

    // The RFC's sample session ends with BYE, so it is read response by response.
    let rfc = replayed("112").expect("corpus");
    assert_fields("112", &rfc[2], json!({"kind": "exists", "count": 18}));
    assert_fields("112", &rfc[4], json!({"kind": "recent", "count": 2}));
    assert_fields(
        "112",
        &rfc[5],
        json!({"code": {"name": "UNSEEN", "value": 17}}),
    );
    assert_fields(
        "112",
        &rfc[6],
        json!({"code": {"name": "UIDVALIDITY", "value": 3_857_529_045_u32}}),
    );
    assert_fields("112", &rfc[14], json!({"kind": "bye"}));
    assert_fields("112", &rfc[15], json!({"tag": "a006", "kind": "ok"}));
}

#[test]
fn n0003_corpus_search_sort_thread_and_errors_reach_their_expected_values() {
    let Some(empty) = replayed("093") else {
        return;
    };
    assert_fields("093", &empty[0], json!({"kind": "search", "numbers": []}));
    let modseq = replayed("094").expect("corpus");
    assert_fields(
        "094",
        &modseq[0],
        json!({"kind": "search", "numbers": (1..=14).collect::<Vec<u32>>(), "modseq": 12_345_678}),
    );

    let rfc = replayed("114").expect("corpus");
    let sorts: Vec<&Value> = rfc
        .iter()
        .filter(|l| l["kind"] == "sort")
        .map(|l| &l["numbers"])
        .collect();
    assert_eq!(
        sorts,
        [&json!([2, 84, 882]), &json!([5, 3, 4, 1, 2]), &json!([])]
    );
    let threads: Vec<usize> = rfc
        .iter()
        .filter(|l| l["kind"] == "thread")
        .map(|l| l["value"]["content"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(threads, [25, 0, 23], "ORDEREDSUBJECT, empty, REFERENCES");
    let references = responses("114")
        .expect("corpus")
        .into_iter()
        .rfind(|r| matches!(r, Response::Data(Data::Thread(_))))
        .map(|r| encoded(&r))
        .unwrap_or_default();
    assert!(references.contains("((170)(179))"), "{references}");

    // imap-types' `Text` cannot be empty: the bare `+` reads with imap-codec's "...".
    let plus = replayed("098").expect("corpus");
    assert_fields(
        "098",
        &plus[0],
        json!({"type": "continuation", "code": null, "text": "..."}),
    );

    let throttled = replayed("102").expect("corpus");
    assert_fields(
        "102",
        &throttled[0],
        json!({"tag": "X", "kind": "bad", "text": "Request is throttled. Suggested Backoff Time: 92415 milliseconds"}),
    );

    let gmail = replayed("104").expect("corpus");
    let webalert = gmail[0]["code"]["raw"].as_str().unwrap_or_default();
    assert!(
        webalert.starts_with(
            "WEBALERT https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=AKgnsbsNd6RU3"
        ),
        "{webalert}"
    );
    assert_fields(
        "104",
        &gmail[1],
        json!({"tag": "A00000001", "kind": "no", "code": {"name": "ALERT"},
            "text": "Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)"}),
    );

    let geary = replayed("106").expect("corpus");
    assert_fields(
        "106",
        &geary[0],
        json!({"tag": "a008", "kind": "bad", "text": "Missing ] in: header.fields"}),
    );

    let id = replayed("107").expect("corpus");
    assert_fields(
        "107",
        &id[0],
        json!({"kind": "id", "parameters": {"name": "GImap", "vendor": "Google, Inc.",
            "support-url": "http://support.google.com/mail", "version": "gmail_imap_150623.03_p1",
            "remote-host": "127.0.0.1"}}),
    );

    let quota = replayed("108").expect("corpus");
    let content = &quota[0]["value"]["content"];
    assert_eq!(content["root"]["content"]["content"], "");
    assert_eq!(
        content["quotas"],
        json!([
            {"resource": {"type": "Storage"}, "usage": 0, "limit": 2_147_483_647},
            {"resource": {"type": "Message"}, "usage": 0, "limit": 2_147_483_647},
        ])
    );
}
