//! The fuzz targets' drivers, in one self-contained file so that
//! `client-wasm/tests/corpus.rs` can include it (`#[path]`) and replay every crash the
//! fuzzers found as an ordinary regression test, natively and without nightly.

use client_wasm::{
    AuthMethod, CachedMailbox, Command, CommandId, Config, Credentials, Decoded, Event, Instant,
    Label, LabelAction, MailboxName, PartPath, PartSection, Partial, ResponseStream, Session,
    State, TransportSecurity, Uid, UidRange, UidSet,
};
use imap_codec::decode::Decoder;
use imap_codec::{GreetingCodec, ResponseCodec};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Deterministic chunk sizes and choices derived from the input itself, so a crashing input
/// replays exactly (xorshift64*, seeded with FNV-1a of the input).
pub struct Rng(u64);

impl Rng {
    pub fn from_input(data: &[u8]) -> Self {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &byte in data {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        Self(hash | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `1..=max`.
    pub fn size(&mut self, max: usize) -> usize {
        1 + (self.next_u64() % max.max(1) as u64) as usize
    }

    /// True about one time in `n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.next_u64().is_multiple_of(n.max(1))
    }
}

/// Splits `data` into chunks whose sizes `rng` picks: mostly small, sometimes large.
pub fn chunks<'a>(data: &'a [u8], rng: &mut Rng) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let max = if rng.one_in(4) { 4096 } else { 16 };
        let (head, tail) = rest.split_at(rng.size(max).min(rest.len()));
        out.push(head);
        rest = tail;
    }
    out
}

/// (offset, length, what it decoded to).
type Seen = Vec<(u64, usize, String)>;

fn drain(stream: &mut ResponseStream, seen: &mut Seen) {
    while let Some(message) = stream.next_message() {
        let decoded = match &message.decoded {
            Decoded::Greeting(greeting) => format!("{greeting:?}"),
            Decoded::Response(response) => format!("{response:?}"),
            Decoded::Esearch(esearch) => format!("{esearch:?}"),
            Decoded::Skipped { reason } => format!("skipped: {reason}"),
        };
        seen.push((message.offset, message.length, decoded));
    }
}

fn run<'a>(max: u32, pieces: impl IntoIterator<Item = &'a [u8]>) -> (Seen, u64) {
    let mut stream = ResponseStream::new(max);
    let mut seen = Vec::new();
    for piece in pieces {
        stream.push(piece);
        drain(&mut stream, &mut seen);
    }
    let mut end = 0;
    for (offset, length, _) in &seen {
        assert_eq!(*offset, end, "messages must tile the stream");
        assert!(*length > 0);
        end += *length as u64;
    }
    assert_eq!(stream.bytes_framed(), end);
    assert_eq!(
        stream.bytes_framed() + stream.incomplete_tail_bytes(),
        stream.bytes_pushed()
    );
    (seen, stream.incomplete_tail_bytes())
}

/// Target `response_stream`: arbitrary bytes into the engine's response reader.
///
/// Invariants: no panic; the same messages come out whole, in chunks and byte by byte;
/// framing (offsets and lengths) does not depend on the size limit; messages tile the stream,
/// and what is not framed is the incomplete tail.
pub fn response_stream(data: &[u8]) {
    let mut rng = Rng::from_input(data);
    let max = ResponseStream::DEFAULT_MAX_MESSAGE_SIZE;
    let whole = run(max, [data]);
    let chunked = run(max, chunks(data, &mut rng));
    assert_eq!(whole, chunked, "chunking changed the result");
    if data.len() <= 4096 {
        let bytewise = run(max, data.chunks(1));
        assert_eq!(whole, bytewise, "byte-at-a-time changed the result");
    }
    // A tiny limit turns long messages into skips but must not move any boundary.
    let limited = run(48, [data]);
    let frames = |seen: &Seen| seen.iter().map(|m| (m.0, m.1)).collect::<Vec<_>>();
    assert_eq!(frames(&whole.0), frames(&limited.0));
    assert_eq!(whole.1, limited.1);
    agrees_with_imap_codec(data);
}

/// The engine's own decoder (`client-wasm/src/codec/decode.rs`) reads every message that
/// imap-codec's decoder accepts whole to the same value, and skips none of them.
fn agrees_with_imap_codec(data: &[u8]) {
    let mut stream = ResponseStream::default();
    stream.push(data);
    while let Some(message) = stream.next_message() {
        let Some(bytes) = usize::try_from(message.offset)
            .ok()
            .and_then(|start| data.get(start..start + message.length))
        else {
            panic!("message outside the input");
        };
        let shown = String::from_utf8_lossy(bytes);
        let theirs = match ResponseCodec::default().decode(bytes) {
            Ok(([], response)) => Some(response),
            _ => None,
        };
        match &message.decoded {
            Decoded::Greeting(ours) => {
                if let Ok(([], greeting)) = GreetingCodec::default().decode(bytes) {
                    assert_eq!(ours, &greeting, "greeting {shown:?}");
                }
            }
            Decoded::Response(ours) => {
                if let Some(theirs) = theirs {
                    assert_eq!(ours, &theirs, "response {shown:?}");
                }
            }
            Decoded::Skipped { .. } => assert!(theirs.is_none(), "skipped {shown:?}"),
            Decoded::Esearch(_) => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    LogIn,
    Logout,
    Other,
}

#[derive(Default)]
struct Checks {
    tags: HashSet<Vec<u8>>,
    closed: bool,
    /// Submitted ids and what each was.
    submitted: HashMap<CommandId, Kind>,
    answered: HashSet<CommandId>,
    fetches: HashSet<CommandId>,
}

impl Checks {
    fn transmit(&mut self, session: &mut Session) {
        while let Some(bytes) = session.poll_transmit() {
            // A command's first piece starts with its tag; continuation pieces (SASL
            // responses, "*" to cancel) never contain a space in their first five bytes.
            if bytes.len() > 5
                && bytes[4] == b' '
                && bytes[..4]
                    .iter()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            {
                let tag = bytes[..4].to_vec();
                assert!(
                    self.tags.insert(tag.clone()),
                    "tag {:?} sent twice",
                    String::from_utf8_lossy(&tag)
                );
            }
        }
    }

    fn events(&mut self, session: &mut Session) {
        while let Some(event) = session.poll_event() {
            assert!(!self.closed, "event after Closed: {event:?}");
            let answered = match &event {
                Event::LoggedIn { id, .. }
                | Event::MailboxesListed { id, .. }
                | Event::MailboxSelected { id, .. }
                | Event::FetchCompleted { id }
                | Event::NoopCompleted { id }
                | Event::CommandCompleted { id }
                | Event::Copied { id, .. }
                | Event::StatusReceived { id, .. }
                | Event::StoreConflicted { id, .. }
                | Event::StructureFetched { id, .. }
                | Event::PartFetched { id, .. }
                | Event::CommandFailed { id, .. } => Some(*id),
                Event::FetchReceived { id: Some(id), .. } => {
                    assert!(self.fetches.contains(id), "FETCH data for {id:?}");
                    None
                }
                Event::GmailFetched { id, .. } | Event::LabelsChanged { id: Some(id), .. } => {
                    let pending = self.submitted.contains_key(id) && !self.answered.contains(id);
                    assert!(pending, "Gmail data for {id:?}");
                    None
                }
                Event::Closed { .. } => {
                    self.closed = true;
                    None
                }
                _ => None,
            };
            if let Some(id) = answered {
                assert!(
                    self.submitted.contains_key(&id),
                    "answer for unknown {id:?}"
                );
                assert!(self.answered.insert(id), "{id:?} answered twice: {event:?}");
            }
        }
        if self.closed {
            assert_eq!(session.state(), State::Closed);
            assert_eq!(session.poll_timeout(), None);
        }
    }

    fn submit(&mut self, session: &mut Session, command: Command, now: Instant) {
        let kind = match command {
            Command::LogIn { .. } => Kind::LogIn,
            Command::Logout => Kind::Logout,
            _ => Kind::Other,
        };
        let fetch = matches!(command, Command::FetchSummaries { .. });
        if let Ok(id) = session.submit(command, now) {
            assert!(!self.closed, "submit accepted after Closed");
            assert!(self.submitted.insert(id, kind).is_none(), "{id:?} reused");
            if fetch {
                self.fetches.insert(id);
            }
        }
    }
}

/// The commands a webmail sends on opening, in order; each goes out once the state allows.
fn plan() -> Vec<Command> {
    vec![
        Command::LogIn {
            credentials: Credentials::new("alice", "alice-pass-1"),
            method: AuthMethod::Auto,
        },
        Command::List {
            reference: MailboxName::from_wire(""),
            pattern: "*".into(),
        },
        Command::Select {
            mailbox: MailboxName::inbox(),
        },
        Command::FetchSummaries {
            uids: UidRange {
                first: first_uid(),
                last: None,
            },
        },
    ]
}

fn first_uid() -> Uid {
    Uid::new(1).expect("1 is a valid UID")
}

fn allowed(command: &Command, state: State) -> bool {
    match command {
        Command::LogIn { .. } => state == State::NotAuthenticated,
        Command::FetchSummaries { .. } => state == State::Selected,
        _ => matches!(state, State::Authenticated | State::Selected),
    }
}

fn fire_timer(session: &mut Session, now: &mut Instant) {
    if let Some(deadline) = session.poll_timeout() {
        *now = (*now).max(deadline);
        session.handle_timeout(*now);
        if let Some(next) = session.poll_timeout() {
            assert!(
                next > *now,
                "timer at {deadline:?} fired at {now:?} and is due again at {next:?}"
            );
        }
    }
}

/// Target `session`: arbitrary server bytes into a whole `Session`, driven like a real client
/// would: LOGIN once greeted, then LIST, SELECT INBOX and a UID FETCH as the state allows,
/// with a virtual clock that moves on and fires the engine's timers. Chunking, clock steps,
/// the transport mode and extra submissions are all derived from the input, so every crash
/// replays exactly.
///
/// Invariants: no panic in any `handle_*`, `submit` or `poll_*`; no command tag is ever sent
/// twice; a fired timer moves on (no busy loop); `Closed` comes once and nothing after it;
/// every submitted command is answered at most once, and by the end (after the transport
/// closes) every one except LOGOUT has been answered.
///
pub fn session(data: &[u8]) {
    let mut rng = Rng::from_input(data);
    let transport = match rng.next_u64() % 8 {
        0 => TransportSecurity::StartTls,
        1 => TransportSecurity::Cleartext {
            allow_credentials: rng.one_in(2),
        },
        _ => TransportSecurity::Encrypted,
    };
    let mut now = Instant::from_millis(1_000);
    let mut session = Session::new(Config::new(0, transport), now);
    let mut checks = Checks::default();
    let mut plan = plan().into_iter().peekable();
    let first = Uid::new(1).expect("1 is a valid UID");
    let extras = [
        Command::Noop,
        Command::Logout,
        Command::Select {
            mailbox: MailboxName::from_wire("Archive"),
        },
        // The synchronisation paths: a cached open (ENABLE, QRESYNC or CONDSTORE), changed
        // flags, leaving, STATUS of the selected mailbox, and COPY that may meet TRYCREATE.
        Command::Open {
            mailbox: MailboxName::inbox(),
            read_only: rng.one_in(2),
            cached: Some(CachedMailbox {
                uid_validity: 1,
                highest_modseq: Some(5),
                known_uids: UidSet::from_uids([first]),
            }),
        },
        Command::FetchFlags {
            uids: UidRange { first, last: None },
            changed_since: Some(5),
        },
        Command::Unselect,
        Command::Status {
            mailbox: MailboxName::inbox(),
        },
        Command::Copy {
            uids: UidSet::from_uids([first]).expect("one UID"),
            to: MailboxName::from_wire("Archive"),
        },
        // MOVE, whose copies may come in several COPYUIDs before its expunges.
        Command::Move {
            uids: UidSet::from_ranges([(first, Uid::new(3).expect("3 is a valid UID"))])
                .expect("a range"),
            to: MailboxName::from_wire("Archive"),
        },
        Command::FetchStructure { uid: first_uid() },
        // Gmail's X-GM items, read from the loose FETCH tree.
        Command::FetchGmail {
            uids: UidSet::from_uids([first]).expect("one UID"),
        },
        Command::StoreLabels {
            uids: UidSet::from_uids([first]).expect("one UID"),
            action: LabelAction::Add,
            labels: vec![Label::parse("\\Starred"), Label::parse("x)\r\n")],
        },
        Command::FetchPart {
            uid: first_uid(),
            section: PartSection::Content {
                part: PartPath::parse("1.2").expect("a part number"),
            },
            partial: Some(Partial {
                origin: 0,
                length: std::num::NonZeroU32::MIN,
            }),
        },
    ];

    for chunk in chunks(data, &mut rng) {
        session.handle_input(now, chunk);
        checks.transmit(&mut session);
        checks.events(&mut session);
        if session.state() == State::AwaitingTls && rng.one_in(2) {
            session.handle_tls_established(now);
        }
        if let Some(command) = plan.peek()
            && allowed(command, session.state())
        {
            let command = plan.next().expect("peeked");
            checks.submit(&mut session, command, now);
        }
        if rng.one_in(16) {
            let command = extras[(rng.next_u64() % extras.len() as u64) as usize].clone();
            checks.submit(&mut session, command, now);
        }
        match rng.next_u64() % 16 {
            0 => fire_timer(&mut session, &mut now),
            1..=3 => now = now + Duration::from_millis(rng.next_u64() % 120_000),
            _ => {}
        }
        checks.transmit(&mut session);
        checks.events(&mut session);
    }

    // The server goes quiet: the timers must end the session or keep it alive, never spin.
    for _ in 0..4 {
        fire_timer(&mut session, &mut now);
        checks.transmit(&mut session);
        checks.events(&mut session);
    }
    session.handle_transport_closed();
    checks.transmit(&mut session);
    checks.events(&mut session);
    assert!(checks.closed, "no Closed event after the transport closed");
    for (id, kind) in &checks.submitted {
        assert!(
            matches!(kind, Kind::Logout) || checks.answered.contains(id),
            "{id:?} ({kind:?}) was never answered"
        );
    }
}
