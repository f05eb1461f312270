//! COMPRESS=DEFLATE (RFC 4978) replayed from a real Dovecot 2.3 session
//! (`transcripts/dovecot-compress.bin`, recorded by `tests/rig/capture-compress.py`): the
//! server's side was compressed by zlib, so our inflater is checked against an independent
//! deflater, and what the engine sends is inflated here and compared with the commands.

#[allow(
    dead_code,
    reason = "the harness is shared; this file needs only part of it"
)]
mod support;

use client_wasm::{
    AuthMethod, Command, Config, Credentials, Event, Instant, MailboxName, Session, Uid, UidRange,
};
use flate2::{Decompress, FlushDecompress};
use support::Step::{Client, Server, Submit};

/// The server's bytes, one segment per response: greeting, then one per command.
const CAPTURE: &[u8] = include_bytes!("transcripts/dovecot-compress.bin");

fn segments() -> Vec<&'static [u8]> {
    let mut rest = CAPTURE;
    let mut segments = Vec::new();
    while let Some((length, tail)) = rest.split_first_chunk::<4>() {
        let (segment, tail) = tail.split_at(u32::from_be_bytes(*length) as usize);
        segments.push(segment);
        rest = tail;
    }
    segments
}

fn config() -> Config {
    let mut config = support::encrypted();
    config.compress = true;
    config
}

/// The commands after login, one per segment after the third, as the server must read them.
fn commands() -> Vec<(Command, &'static [u8])> {
    vec![
        (
            Command::Select {
                mailbox: MailboxName::inbox(),
            },
            b"0002 SELECT INBOX\r\n",
        ),
        (
            Command::FetchSummaries {
                uids: UidRange {
                    first: Uid::new(1).unwrap(),
                    last: None,
                },
            },
            b"0003 UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])\r\n",
        ),
        (Command::Logout, b"0004 LOGOUT\r\n"),
    ]
}

/// Drives the replay, feeding the server's bytes in chunks of `chunk` bytes; returns the
/// events and what the server inflated from the engine's compressed bytes.
fn replay(chunk: usize) -> (Vec<Event>, Vec<u8>) {
    let now = Instant::from_millis(1_000);
    let mut session = Session::new(config(), now);
    let mut server_side = Decompress::new(false);
    let mut events = Vec::new();
    let mut inflated = Vec::new();
    let feed = |session: &mut Session, bytes: &[u8]| {
        for piece in bytes.chunks(chunk) {
            session.handle_input(now, piece);
        }
    };
    let sent = |session: &mut Session| -> Vec<u8> {
        std::iter::from_fn(|| session.poll_transmit())
            .flatten()
            .collect()
    };
    let segments = segments();
    assert_eq!(
        segments.len(),
        6,
        "greeting, login, COMPRESS and three commands"
    );
    feed(&mut session, segments[0]);
    let login = Command::LogIn {
        credentials: Credentials::new("alice", "alice-pass-1"),
        method: AuthMethod::Auto,
    };
    session.submit(login, now).unwrap();
    assert_eq!(
        sent(&mut session),
        b"0000 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n",
        "credentials go before compression"
    );
    feed(&mut session, segments[1]);
    assert_eq!(sent(&mut session), b"0001 COMPRESS DEFLATE\r\n");
    let mut commands = commands().into_iter();
    // The first command is queued before COMPRESS's OK, as a page does right after login:
    // it must still go compressed.
    let (mut command, mut expected) = commands.next().unwrap();
    session.submit(command, now).unwrap();
    assert!(
        sent(&mut session).is_empty(),
        "nothing goes with COMPRESS in flight"
    );
    feed(&mut session, segments[2]);
    for answer in &segments[3..] {
        let wire = sent(&mut session);
        assert_ne!(wire, expected, "sent compressed");
        let mut plain = Vec::with_capacity(4096);
        server_side
            .decompress_vec(&wire, &mut plain, FlushDecompress::Sync)
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&plain),
            String::from_utf8_lossy(expected)
        );
        inflated.extend_from_slice(&plain);
        feed(&mut session, answer);
        events.extend(std::iter::from_fn(|| session.poll_event()));
        if let Some(next) = commands.next() {
            (command, expected) = next;
            session.submit(command, now).unwrap();
        }
    }
    (events, inflated)
}

#[test]
fn compressed_dovecot_session_replays_to_the_same_events_in_any_chunking() {
    let (events, _) = replay(usize::MAX);
    assert_eq!(events, replay(1).0, "byte at a time");
    assert_eq!(events, replay(7).0, "seven bytes at a time");
    let selected = events
        .iter()
        .find_map(|event| match event {
            Event::MailboxSelected { mailbox, .. } => Some(mailbox),
            _ => None,
        })
        .expect("INBOX selected");
    assert_eq!(
        (selected.exists, selected.uid_validity),
        (3, Some(1795658026))
    );
    let subjects: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            Event::FetchReceived { message, .. } => Some(message.subject.as_deref()),
            _ => None,
        })
        .collect();
    assert_eq!(subjects.len(), 3);
    assert_eq!(subjects[0], Some("Welcome to the test mailbox"));
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Event::FetchCompleted { .. }))
    );
    assert!(
        matches!(events.last(), Some(Event::Closed { error: None })),
        "logged out cleanly: {:?}",
        events.last()
    );
}

/// A session of the capture logged in, its COMPRESS sent and not yet answered.
fn awaiting_compress(now: Instant) -> Session {
    let mut session = Session::new(config(), now);
    let segments = segments();
    session.handle_input(now, segments[0]);
    let login = Command::LogIn {
        credentials: Credentials::new("alice", "alice-pass-1"),
        method: AuthMethod::Auto,
    };
    session.submit(login, now).unwrap();
    session.handle_input(now, segments[1]);
    session
}

#[test]
fn a_corrupt_compressed_stream_closes_the_session_with_a_protocol_error() {
    let now = Instant::from_millis(1_000);
    let mut session = awaiting_compress(now);
    let segments = segments();
    // The OK and, in the same read, bytes that are not DEFLATE at all.
    let mut input = segments[2].to_vec();
    input.extend_from_slice(&[0xff; 16]);
    session.handle_input(now, &input);
    let events: Vec<Event> = std::iter::from_fn(|| session.poll_event()).collect();
    let Some(Event::Closed { error: Some(error) }) = events.last() else {
        panic!("not closed: {events:?}");
    };
    assert_eq!(error.code(), "protocol_error", "{error}");
    assert!(error.to_string().contains("compressed stream"), "{error}");
}

#[test]
fn a_refused_compress_leaves_the_session_uncompressed() {
    let mut script =
        support::logged_in_with(b"0000 OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] Logged in\r\n");
    script.extend([
        Client(b"0001 COMPRESS DEFLATE\r\n"),
        Server(b"0001 NO [COMPRESSIONACTIVE] already\r\n"),
        Submit(Command::Noop),
        Client(b"0002 NOOP\r\n"),
        Server(b"0002 OK done\r\n"),
    ]);
    let events = support::run(config(), &script);
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Event::NoopCompleted { .. }))
    );
}

#[test]
fn compress_is_not_asked_when_turned_off_or_not_offered() {
    let offered = b"0000 OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] Logged in\r\n";
    let not_offered = b"0000 OK [CAPABILITY IMAP4rev1] Logged in\r\n";
    for (config, ok) in [
        (support::encrypted(), &offered[..]),
        (config(), &not_offered[..]),
    ] {
        let mut script = support::logged_in_with(ok);
        script.extend([Submit(Command::Noop), Client(b"0001 NOOP\r\n")]);
        script.push(Server(b"0001 OK done\r\n"));
        support::run(config, &script);
    }
}

/// The server's first compressed bytes can arrive in the same input as COMPRESS's OK (a
/// WebSocket message holds whatever the bridge read): wherever that input is cut, the session
/// inflates from the byte after the OK's CRLF and selects INBOX as when the two came apart.
#[test]
fn compress_ok_and_the_first_compressed_bytes_in_one_input_at_any_cut() {
    let now = Instant::from_millis(1_000);
    let segments = segments();
    let events_after = |inputs: &[&[u8]]| {
        let mut session = awaiting_compress(now);
        let (select, _) = commands().into_iter().next().unwrap();
        session.submit(select, now).unwrap();
        for input in inputs {
            session.handle_input(now, input);
        }
        std::iter::from_fn(|| session.poll_event()).collect::<Vec<Event>>()
    };
    let apart = events_after(&[segments[2], segments[3]]);
    assert!(
        apart
            .iter()
            .any(|event| matches!(event, Event::MailboxSelected { .. })),
        "{apart:?}"
    );
    let joined = [segments[2], segments[3]].concat();
    for cut in 0..=joined.len() {
        let (head, tail) = joined.split_at(cut);
        assert_eq!(events_after(&[head, tail]), apart, "cut at {cut}");
    }
}
