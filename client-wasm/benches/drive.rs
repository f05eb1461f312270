//! The engine's receive path as the benchmark drives it, shared by `benches/receive.rs`
//! (native) and `client-wasm/browser/tests/wasm_receive.rs` (the same code compiled to
//! wasm32 as the page's build compiles it, run in Node).

use client_wasm::{
    AuthMethod, Command, Config, Credentials, Event, Instant, MailboxName, MessageList, Session,
    State, TransportSecurity, Uid, UidRange,
};
use std::hint::black_box;

/// Server bytes fed in this many at a time, as a WebSocket delivers them.
pub const CHUNK: usize = 64 * 1024;
/// The session's tag seed: LOGIN is `0000`, SELECT `0001`, UID FETCH `0002`.
const SEED: u32 = 0;

/// The server's side of the conversation, one slice per command answered.
pub struct Sections<'a> {
    pub greeting: &'a [u8],
    pub login: &'a [u8],
    pub select: &'a [u8],
    pub fetch: &'a [u8],
}

/// A session driven to Selected, `FetchSummaries` submitted, then the FETCH bytes in
/// `CHUNK`s with the events drained after each. Returns how many rows arrived and, when
/// `keep`, the list model holding them.
pub fn engine(sections: Sections<'_>, keep: bool) -> (usize, MessageList) {
    let now = Instant::from_millis(1_000);
    // The stream is uncompressed FETCH responses: no COMPRESS, though the captured
    // Dovecot login offers it.
    let mut config = Config::new(SEED, TransportSecurity::Encrypted);
    config.compress = false;
    let mut session = Session::new(config, now);
    session.handle_input(now, sections.greeting);
    session
        .submit(
            Command::LogIn {
                credentials: Credentials::new("alice", "alice-pass-1"),
                method: AuthMethod::Auto,
            },
            now,
        )
        .expect("LOGIN is allowed after the greeting");
    session.handle_input(now, sections.login);
    session
        .submit(
            Command::Select {
                mailbox: MailboxName::inbox(),
            },
            now,
        )
        .expect("SELECT is allowed once logged in");
    session.handle_input(now, sections.select);
    assert_eq!(session.state(), State::Selected);
    session
        .submit(
            Command::FetchSummaries {
                uids: UidRange {
                    first: Uid::new(1).expect("1 is a UID"),
                    last: None,
                },
            },
            now,
        )
        .expect("UID FETCH is allowed in Selected");
    while session.poll_transmit().is_some() {}
    while session.poll_event().is_some() {}

    let mut received = 0;
    let mut completed = false;
    let mut kept = MessageList::new();
    for chunk in sections.fetch.chunks(CHUNK) {
        session.handle_input(now, chunk);
        while let Some(event) = session.poll_event() {
            match event {
                Event::FetchReceived { message, .. } => {
                    received += 1;
                    if keep {
                        kept.push(&message);
                    } else {
                        black_box(&message);
                    }
                }
                Event::FetchCompleted { .. } => completed = true,
                other => panic!("unexpected event {other:?}"),
            }
        }
    }
    assert!(completed, "the UID FETCH's tagged OK was not seen");
    (received, kept)
}
