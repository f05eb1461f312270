//! A scripted fake server and a virtual clock for driving the engine, in the style of
//! quinn-proto's `Pair`: every script runs twice, once in the chunks written and once one
//! byte at a time, and both runs must produce the same events and bytes.

use client_wasm::{
    AuthMethod, Command, Config, Credentials, Event, Instant, Session, TransportSecurity, Uid,
    UidSet,
};

/// One step of a conversation between the engine and a fake server.
pub enum Step {
    /// Bytes the server sends.
    Server(&'static [u8]),
    /// Bytes the engine must have sent since the last check, exactly.
    Client(&'static [u8]),
    /// A command the driver submits; `Err` expectations use `SubmitFails`.
    Submit(Command),
    SubmitFails(Command, &'static str),
    /// Jump the virtual clock to the engine's next deadline and fire it.
    Timeout,
    /// The server hangs up.
    HangUp,
    /// The driver finished the TLS upgrade the engine asked for.
    TlsEstablished,
}

/// Tag seed used by every script: tags read `0000`, `0001`, ...
pub const SEED: u32 = 0;

/// Transcripts are read as text, so COMPRESS stays off even where the server offers it;
/// tests/compress.rs replays a compressed session.
pub fn encrypted() -> Config {
    let mut config = Config::new(SEED, TransportSecurity::Encrypted);
    config.compress = false;
    config
}

/// alice logged in with AUTHENTICATE PLAIN (tag `0000`); `ok` is the server's tagged OK,
/// whose CAPABILITY code sets what the session may use next.
#[allow(
    dead_code,
    reason = "tests/session.rs logs in with its own Dovecot greeting"
)]
pub fn logged_in_with(ok: &'static [u8]) -> Vec<Step> {
    vec![
        Step::Server(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n"),
        Step::Submit(Command::LogIn {
            credentials: Credentials::new("alice", "alice-pass-1"),
            method: AuthMethod::Auto,
        }),
        Step::Client(b"0000 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n"),
        Step::Server(ok),
    ]
}

/// `head`, then `tail`.
#[allow(dead_code, reason = "not every test binary builds scripts from parts")]
pub fn then(mut head: Vec<Step>, tail: Vec<Step>) -> Vec<Step> {
    head.extend(tail);
    head
}

#[allow(dead_code, reason = "not every test binary names messages")]
pub fn uid(value: u32) -> Uid {
    Uid::new(value).unwrap()
}

#[allow(dead_code, reason = "not every test binary names messages")]
pub fn uids(values: &[u32]) -> UidSet {
    UidSet::from_uids(values.iter().map(|&v| uid(v))).unwrap()
}

/// What a run produced: the events, and the clock reading at the end.
pub struct Outcome {
    pub events: Vec<Event>,
    pub now: Instant,
    pub unsent: Vec<u8>,
}

fn run_once(config: Config, script: &[Step], byte_at_a_time: bool) -> Outcome {
    let mut now = Instant::from_millis(1_000);
    let mut session = Session::new(config, now);
    let mut events = Vec::new();
    let mut sent = Vec::new();
    for (index, step) in script.iter().enumerate() {
        match step {
            Step::Server(bytes) if byte_at_a_time => {
                for byte in bytes.iter() {
                    session.handle_input(now, std::slice::from_ref(byte));
                }
            }
            Step::Server(bytes) => session.handle_input(now, bytes),
            Step::Client(expected) => {
                drain_transmit(&mut session, &mut sent);
                assert_eq!(
                    String::from_utf8_lossy(&sent),
                    String::from_utf8_lossy(expected),
                    "step {index}: bytes sent by the engine"
                );
                sent.clear();
            }
            Step::Submit(command) => {
                session
                    .submit(command.clone(), now)
                    .unwrap_or_else(|e| panic!("step {index}: submit failed: {e}"));
            }
            Step::SubmitFails(command, code) => {
                let error = session.submit(command.clone(), now).unwrap_err();
                assert_eq!(error.code(), *code, "step {index}: {error}");
            }
            Step::Timeout => {
                now = session
                    .poll_timeout()
                    .unwrap_or_else(|| panic!("step {index}: no timer armed"));
                session.handle_timeout(now);
            }
            Step::HangUp => session.handle_transport_closed(),
            Step::TlsEstablished => session.handle_tls_established(now),
        }
        events.extend(std::iter::from_fn(|| session.poll_event()));
    }
    drain_transmit(&mut session, &mut sent);
    Outcome {
        events,
        now,
        unsent: sent,
    }
}

fn drain_transmit(session: &mut Session, sent: &mut Vec<u8>) {
    while let Some(bytes) = session.poll_transmit() {
        sent.extend_from_slice(&bytes);
    }
}

/// Runs `script` in its own chunks and byte by byte; returns the events after checking that
/// both runs agree and that nothing was left unchecked on the wire.
pub fn run(config: Config, script: &[Step]) -> Vec<Event> {
    run_timed(config, script).events
}

/// As `run`, with the virtual clock's reading at the end.
pub fn run_timed(config: Config, script: &[Step]) -> Outcome {
    let whole = run_once(config.clone(), script, false);
    let bytewise = run_once(config, script, true);
    assert_eq!(whole.events, bytewise.events, "byte-at-a-time run differs");
    assert_eq!(whole.now, bytewise.now);
    assert!(
        whole.unsent.is_empty(),
        "engine sent bytes the script did not check: {:?}",
        String::from_utf8_lossy(&whole.unsent)
    );
    whole
}
