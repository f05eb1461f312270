//! Engine transcripts: real server bytes (Dovecot 2.3 unless said otherwise) replayed against
//! the sans-IO session, each also fed one byte at a time.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use client_wasm::{
    AuthMethod, Command, CommandError, Copies, Credentials, Event, Flag, MailboxName,
    MessageSummary, Refusal, SearchDate, SearchQuery, SessionError, SpecialUse, StoreAction,
    TransportSecurity, Uid, UidRange, UidSet,
};
use support::{Step::*, encrypted, run};

const GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n";
const AUTH_OK: &[u8] = b"0000 OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE COMPRESS=DEFLATE] Logged in\r\n";
/// `AUTHENTICATE PLAIN` with SASL-IR for alice / alice-pass-1.
const AUTH_PLAIN_IR: &[u8] = b"0000 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n";

fn alice() -> Command {
    Command::LogIn {
        credentials: Credentials::new("alice", "alice-pass-1"),
        method: AuthMethod::Auto,
    }
}

/// `LIST "" *`: every mailbox.
fn list_all() -> Command {
    Command::List {
        reference: MailboxName::from_wire(""),
        pattern: "*".into(),
    }
}

fn inbox() -> MailboxName {
    MailboxName::inbox()
}

/// The script up to a logged-in session, tag `0000` used.
fn logged_in() -> Vec<support::Step> {
    vec![
        Server(GREETING),
        Submit(alice()),
        Client(AUTH_PLAIN_IR),
        Server(AUTH_OK),
    ]
}

fn with(mut head: Vec<support::Step>, tail: Vec<support::Step>) -> Vec<support::Step> {
    head.extend(tail);
    head
}

#[test]
fn v0033_v0065_greeting_capability_code_is_used_without_asking() {
    let events = run(encrypted(), &[Server(GREETING), Client(b"")]);
    let [
        Event::Greeted {
            preauthenticated: false,
            capabilities,
        },
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert!(capabilities.has("SASL-IR") && capabilities.supports_auth("PLAIN"));
}

#[test]
fn v0033_without_a_capability_code_the_engine_asks_once() {
    // Courier-style greeting without a code.
    let events = run(
        encrypted(),
        &[
            Server(b"* OK Courier-IMAP ready.\r\n"),
            Client(b"0000 CAPABILITY\r\n"),
            Server(b"* CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE AUTH=PLAIN\r\n0000 OK CAPABILITY completed\r\n"),
        ],
    );
    assert!(
        matches!(&events[..], [Event::Greeted { capabilities, .. }] if capabilities.has("UIDPLUS"))
    );
}

#[test]
fn v0030_v0035_login_ok_code_replaces_capabilities_and_sasl_ir_saves_a_round_trip() {
    let events = run(encrypted(), &logged_in());
    let Event::LoggedIn { capabilities, .. } = &events[1] else {
        panic!("{events:?}")
    };
    assert!(capabilities.has("SPECIAL-USE") && capabilities.has("COMPRESS=DEFLATE"));
    assert!(
        !capabilities.supports_auth("LOGIN"),
        "the new list replaces the old one"
    );
}

#[test]
fn e0001_authenticate_plain_without_sasl_ir_waits_for_the_continuation() {
    let events = run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"),
            Submit(alice()),
            Client(b"0000 AUTHENTICATE PLAIN\r\n"),
            Server(b"+ \r\n"),
            Client(b"AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n"),
            Server(b"0000 OK Logged in\r\n"),
            // No CAPABILITY code in the OK: ask (RFC 3501 §6.2.3 allows changes).
            Client(b"0001 CAPABILITY\r\n"),
            Server(b"* CAPABILITY IMAP4rev1 IDLE\r\n0001 OK done\r\n"),
        ],
    );
    assert!(matches!(&events[1], Event::LoggedIn { capabilities, .. } if capabilities.has("IDLE")));
}

#[test]
fn v0032_login_command_when_no_mechanism_is_advertised_with_quoting() {
    let events = run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1] ready\r\n"),
            Submit(Command::LogIn {
                credentials: Credentials::new("bob", "bob pass \"2\""),
                method: AuthMethod::Auto,
            }),
            Client(b"0000 LOGIN bob \"bob pass \\\"2\\\"\"\r\n"),
            Server(b"0000 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"),
        ],
    );
    assert!(matches!(events[1], Event::LoggedIn { .. }));
}

/// Submits alice's login after `greeting`; checks that nothing was sent and returns why the
/// login failed.
fn login_error_after(greeting: &'static [u8]) -> CommandError {
    let events = run(
        encrypted(),
        &[Server(greeting), Submit(alice()), Client(b"")],
    );
    match &events[1] {
        Event::CommandFailed { error, .. } => error.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn v0031_logindisabled_is_honoured_and_nothing_is_sent() {
    assert_eq!(
        login_error_after(b"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] ready\r\n"),
        CommandError::NoUsableMechanism
    );
}

#[test]
fn v0031_no_credentials_over_cleartext_unless_allowed() {
    let mut config = encrypted();
    config.transport = TransportSecurity::Cleartext {
        allow_credentials: false,
    };
    let events = run(config, &[Server(GREETING), Submit(alice()), Client(b"")]);
    assert!(matches!(
        &events[1],
        Event::CommandFailed {
            error: CommandError::InsecureTransport,
            ..
        }
    ));

    let mut config = encrypted();
    config.transport = TransportSecurity::Cleartext {
        allow_credentials: true,
    };
    let events = run(config, &logged_in());
    assert!(matches!(events[1], Event::LoggedIn { .. }));
}

#[test]
fn wrong_password_is_a_typed_failure_and_the_session_goes_on() {
    let events = run(
        encrypted(),
        &[
            Server(GREETING),
            Submit(alice()),
            Client(AUTH_PLAIN_IR),
            Server(b"0000 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
            // One more mechanism (row V0034), then the failure is reported.
            Client(b"0001 AUTHENTICATE LOGIN\r\n"),
            Server(b"0001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
            Submit(alice()),
            Client(b"0002 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n"),
        ],
    );
    let Event::CommandFailed {
        error: CommandError::AuthenticationFailed { text },
        ..
    } = &events[1]
    else {
        panic!("{events:?}")
    };
    assert_eq!(text, "Authentication failed.");
    assert_eq!(events.len(), 2);
}

#[test]
fn v0066_list_keeps_attributes_special_use_and_decodes_names() {
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Submit(list_all()),
                Client(b"0001 LIST \"\" *\r\n"),
                Server(b"* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n* LIST (\\Noselect \\HasChildren) \"/\" Archiv\r\n* LIST (\\HasNoChildren \\Trash) \"/\" \"Entw&APw-rfe\"\r\n0001 OK List completed (0.001 + 0.000 secs).\r\n"),
            ],
        ),
    );
    let Event::MailboxesListed { mailboxes, .. } = &events[2] else {
        panic!("{events:?}")
    };
    assert_eq!(mailboxes.len(), 5);
    assert!(mailboxes[0].name.is_inbox());
    assert_eq!(mailboxes[1].special_use, Some(SpecialUse::Drafts));
    assert_eq!(mailboxes[1].delimiter, Some('/'));
    assert!(!mailboxes[3].selectable);
    assert_eq!(mailboxes[3].attributes, vec!["\\Noselect", "\\HasChildren"]);
    assert_eq!(mailboxes[4].display, "Entw\u{fc}rfe");
    assert_eq!(mailboxes[4].name.as_wire(), b"Entw&APw-rfe");
}

const SELECT_INBOX: &[u8] = b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted.\r\n* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 2] First unseen.\r\n* OK [UIDVALIDITY 1764090000] UIDs valid\r\n* OK [UIDNEXT 4] Predicted next UID\r\n* OK [HIGHESTMODSEQ 5] Highest\r\n0001 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n";

/// The script up to INBOX selected with `SELECT_INBOX`, tags `0000` and `0001` used.
fn selected() -> Vec<support::Step> {
    with(
        logged_in(),
        vec![
            Submit(Command::Select { mailbox: inbox() }),
            Client(b"0001 SELECT INBOX\r\n"),
            Server(SELECT_INBOX),
        ],
    )
}

#[test]
fn v0038_v0068_v0069_select_records_every_mailbox_datum() {
    let events = run(encrypted(), &with(selected(), vec![]));
    let Event::MailboxSelected { mailbox, .. } = &events[2] else {
        panic!("{events:?}")
    };
    assert_eq!(mailbox.exists, 3);
    assert_eq!(mailbox.recent, 0);
    assert_eq!(mailbox.unseen, Some(2));
    assert_eq!(mailbox.uid_validity, Some(1_764_090_000));
    assert_eq!(mailbox.uid_next, Uid::new(4));
    assert!(mailbox.flags.contains(&Flag::Keyword("$Forwarded".into())));
    assert!(mailbox.can_create_keywords);
    assert!(!mailbox.read_only);
}

#[test]
fn v0036_select_works_without_uidvalidity_and_read_only_is_recorded() {
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Submit(Command::Select { mailbox: inbox() }),
                Client(b"0001 SELECT INBOX\r\n"),
                Server(b"* 0 EXISTS\r\n0001 OK [READ-ONLY] done\r\n"),
            ],
        ),
    );
    let Event::MailboxSelected { mailbox, .. } = &events[2] else {
        panic!("{events:?}")
    };
    assert_eq!(
        (mailbox.exists, mailbox.uid_validity, mailbox.read_only),
        (0, None, true)
    );
}

const FETCH_TWO: &[u8] = b"* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE 1234 INTERNALDATE \"24-Nov-2026 10:00:00 +0100\" BODY[HEADER] {156}\r\nFrom: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.test>\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <1@x>\r\n\r\n)\r\n* 3 FETCH (UID 7 FLAGS () RFC822.SIZE 99 INTERNALDATE \"25-Nov-2026 08:30:00 +0000\" BODY[HEADER] {42}\r\nFrom: bob@example.test\r\nSubject: plain\r\n\r\n)\r\n0002 OK Fetch completed (0.001 + 0.000 secs).\r\n";

/// The events of `UID FETCH 1:*` for list summaries answered by `reply`, in INBOX.
fn summaries_fetched(reply: &'static [u8]) -> Vec<Event> {
    run(
        encrypted(),
        &with(
            selected(),
            vec![
                Submit(Command::FetchSummaries {
                    uids: UidRange {
                        first: Uid::new(1).unwrap(),
                        last: None,
                    },
                }),
                Client(b"0002 UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])\r\n"),
                Server(reply),
            ],
        ),
    )
}

/// The summaries the command asked for.
fn fetched(events: &[Event]) -> Vec<&MessageSummary> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::FetchReceived {
                id: Some(_),
                message,
            } => Some(message),
            _ => None,
        })
        .collect()
}

#[test]
fn c0003_v0052_fetch_sends_the_documented_item_list_and_decodes_headers() {
    let events = summaries_fetched(FETCH_TWO);
    let fetched = fetched(&events);
    assert_eq!(fetched.len(), 2);
    let first = fetched[0];
    assert_eq!((first.uid.get(), first.seq, first.size), (1, 1, Some(1234)));
    assert_eq!(first.flags, vec![Flag::Seen]);
    assert_eq!(first.subject.as_deref(), Some("Grüße"));
    let from = first.from.as_ref().unwrap();
    assert_eq!(from.name.as_deref(), Some("Jörg Müller"));
    assert_eq!(from.address.as_deref(), Some("joerg@example.test"));
    assert_eq!(first.internal_date, Some(1_795_510_800_000));
    assert_eq!(first.date, first.internal_date);
    assert_eq!(first.message_id.as_deref(), Some("1@x"));
    assert_eq!(fetched[1].uid.get(), 7);
    assert!(fetched[1].flags.is_empty());
    assert!(matches!(events.last(), Some(Event::FetchCompleted { .. })));
}

#[test]
fn summaries_mark_a_multipart_mixed_message_as_having_attachments() {
    let events = summaries_fetched(b"* 1 FETCH (UID 4 FLAGS () RFC822.SIZE 4096 INTERNALDATE \"24-Nov-2026 10:00:00 +0100\" BODY[HEADER] {160}\r\nMessage-ID: <4@example.test>\r\nFrom: Bob Builder <bob@example.test>\r\nSubject: Report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n boundary=\"=_rig_4m\"\r\n\r\n)\r\n* 2 FETCH (UID 5 FLAGS () RFC822.SIZE 900 INTERNALDATE \"24-Nov-2026 11:00:00 +0100\" BODY[HEADER] {95}\r\nSubject: Notes\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"=_rig_5a\"\r\n\r\n)\r\n0002 OK Fetch completed (0.001 + 0.000 secs).\r\n");
    let marked: Vec<_> = fetched(&events)
        .iter()
        .map(|m| (m.uid.get(), m.has_attachments))
        .collect();
    assert_eq!(marked, vec![(4, true), (5, false)]);
}

#[test]
fn v0001_unrequested_data_between_commands_updates_the_mailbox() {
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![Server(b"* 4 EXISTS\r\n* 1 RECENT\r\n* 2 EXPUNGE\r\n")],
        ),
    );
    let changes: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::MailboxChanged { exists, recent } => Some((*exists, *recent)),
            _ => None,
        })
        .collect();
    assert_eq!(changes, vec![(4, 0), (4, 1), (3, 1)]);
}

#[test]
fn v0062_alert_text_is_reported() {
    let events = run(
        encrypted(),
        &[
            Server(GREETING),
            Server(b"* OK [ALERT] System shutdown in 10 minutes\r\n"),
        ],
    );
    assert!(
        matches!(&events[1], Event::AlertReceived { text } if text == "System shutdown in 10 minutes")
    );
}

#[test]
fn n0002_logout_waits_for_the_tagged_ok() {
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Submit(Command::Logout),
                Client(b"0001 LOGOUT\r\n"),
                Server(b"* BYE Logging out\r\n"),
                Server(b"0001 OK Logout completed (0.001 + 0.000 secs).\r\n"),
                HangUp,
            ],
        ),
    );
    assert_eq!(events[2..], [Event::Closed { error: None }]);
}

#[test]
fn n0002_logout_gives_up_after_its_bounded_timeout() {
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![Submit(Command::Logout), Client(b"0001 LOGOUT\r\n"), Timeout],
        ),
    );
    assert_eq!(events[2..], [Event::Closed { error: None }]);
}

#[test]
fn v0011_v0064_unasked_bye_ends_the_session_with_its_text_and_no_logout() {
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Submit(Command::Noop),
                Client(b"0001 NOOP\r\n"),
                Server(b"* BYE Server shutting down.\r\n"),
            ],
        ),
    );
    let ended = SessionError::ServerBye {
        text: "Server shutting down.".into(),
    };
    assert!(
        matches!(&events[2], Event::CommandFailed { error: CommandError::SessionEnded(e), .. } if *e == ended)
    );
    assert_eq!(events[3], Event::Closed { error: Some(ended) });
}

#[test]
fn server_hanging_up_mid_response_fails_the_command_and_closes() {
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Submit(Command::Select { mailbox: inbox() }),
                Client(b"0001 SELECT INBOX\r\n"),
                Server(b"* FLAGS (\\Seen)\r\n* 3 EXI"),
                HangUp,
            ],
        ),
    );
    assert!(matches!(
        &events[2],
        Event::CommandFailed {
            error: CommandError::SessionEnded(SessionError::ConnectionLost),
            ..
        }
    ));
    assert_eq!(
        events[3],
        Event::Closed {
            error: Some(SessionError::ConnectionLost)
        }
    );
}

#[test]
fn a_silent_server_times_out_instead_of_hanging() {
    let events = run(encrypted(), &[Timeout]);
    assert_eq!(
        events,
        [Event::Closed {
            error: Some(SessionError::GreetingTimedOut)
        }]
    );
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![Submit(Command::Noop), Client(b"0001 NOOP\r\n"), Timeout],
        ),
    );
    assert!(matches!(
        events.last(),
        Some(Event::Closed {
            error: Some(SessionError::TimedOut { seconds: 60 })
        })
    ));
}

#[test]
fn v0025_keepalive_noop_after_nine_idle_minutes() {
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Timeout,
                Client(b"0001 NOOP\r\n"),
                Server(b"0001 OK NOOP completed.\r\n"),
            ],
        ),
    );
    assert_eq!(
        events.len(),
        2,
        "the internal NOOP reports nothing: {events:?}"
    );
}

#[test]
fn preauth_greeting_skips_login() {
    let events = run(
        encrypted(),
        &[
            Server(b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] Logged in as alice\r\n"),
            Submit(Command::Select { mailbox: inbox() }),
            Client(b"0000 SELECT INBOX\r\n"),
        ],
    );
    assert!(matches!(
        events[0],
        Event::Greeted {
            preauthenticated: true,
            ..
        }
    ));
}

#[test]
fn greeting_bye_is_a_refusal_with_the_servers_words() {
    let events = run(
        encrypted(),
        &[Server(b"* BYE Too many connections from your IP\r\n")],
    );
    assert_eq!(
        events,
        [Event::Closed {
            error: Some(SessionError::GreetingRejected {
                text: "Too many connections from your IP".into()
            })
        }]
    );
}

#[test]
fn an_unparseable_response_is_skipped_and_the_stream_stays_in_sync() {
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Submit(Command::Noop),
                Client(b"0001 NOOP\r\n"),
                Server(b"* 1 FETCH (X-UNKNOWN-ITEM {5}\r\n0001 )\r\n0001 OK NOOP completed.\r\n"),
            ],
        ),
    );
    assert!(matches!(events[2], Event::ResponseSkipped { .. }));
    assert!(matches!(events[3], Event::NoopCompleted { .. }));
}

#[test]
fn v0015_v0017_hostile_mailbox_name_goes_as_a_literal_and_cannot_inject_a_command() {
    let name = MailboxName::from_wire("x\r\n0002 DELETE INBOX");
    // Dovecot offers LITERAL+: the literal goes at once, announced with its length, so the
    // server still reads the CRLF and "0002 DELETE INBOX" as the name's bytes.
    run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Submit(Command::Select { mailbox: name }),
                Client(b"0001 SELECT {20+}\r\nx\r\n0002 DELETE INBOX\r\n"),
            ],
        ),
    );
}

#[test]
fn commands_in_the_wrong_state_are_refused_before_sending() {
    run(
        encrypted(),
        &[
            Server(GREETING),
            SubmitFails(Command::Select { mailbox: inbox() }, "wrong_state"),
            SubmitFails(
                Command::FetchSummaries {
                    uids: UidRange {
                        first: Uid::new(1).unwrap(),
                        last: None,
                    },
                },
                "wrong_state",
            ),
            Client(b""),
        ],
    );
}

fn starttls() -> client_wasm::Config {
    let mut config = encrypted();
    config.transport = TransportSecurity::StartTls;
    config
}

const PLAIN_GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n";

#[test]
fn n0001_starttls_first_discards_injected_bytes_and_forgets_capabilities() {
    let events = run(
        starttls(),
        &[
            Server(PLAIN_GREETING),
            Submit(alice()),
            Client(b"0000 STARTTLS\r\n"),
            // An injected response after the OK, in the same segment: must be dropped unread.
            Server(b"0000 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Begin TLS negotiation now.\r\n* BYE injected\r\n0001 OK injected\r\n"),
            Server(b"* OK [ALERT] also injected\r\n"),
            Client(b""),
            TlsEstablished,
            Client(b"0001 CAPABILITY\r\n"),
            Server(b"* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n0001 OK Pre-login capabilities listed, post-login capabilities have more.\r\n"),
            Client(b"0002 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n"),
        ],
    );
    assert_eq!(events[0], Event::TlsUpgradeRequested);
    let Event::Greeted { capabilities, .. } = &events[1] else {
        panic!("{events:?}")
    };
    assert!(!capabilities.has("STARTTLS") && !capabilities.has("LOGINDISABLED"));
    assert_eq!(events.len(), 2, "nothing injected was acted on: {events:?}");
}

#[test]
fn n0001_starttls_missing_refused_or_preauth_ends_the_session() {
    let missing = run(
        starttls(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"),
            Client(b""),
        ],
    );
    assert!(matches!(
        missing.last(),
        Some(Event::Closed {
            error: Some(SessionError::StartTlsUnavailable)
        })
    ));

    let refused = run(
        starttls(),
        &[
            Server(PLAIN_GREETING),
            Client(b"0000 STARTTLS\r\n"),
            Server(b"0000 BAD TLS support isn't enabled.\r\n"),
        ],
    );
    assert!(matches!(
        refused.last(),
        Some(Event::Closed {
            error: Some(SessionError::StartTlsRefused { .. })
        })
    ));

    let preauth = run(
        starttls(),
        &[
            Server(b"* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome\r\n"),
            Client(b""),
        ],
    );
    assert_eq!(
        preauth,
        [Event::Closed {
            error: Some(SessionError::PreauthBeforeTls)
        }]
    );
}

/// Captured from the Dovecot 2.3.19 rig over TLS (`tests/rig/dovecot.sh`), answering the
/// exact commands this engine sends with tag seed 0.
const DOVECOT_SESSION: &[u8] = include_bytes!("transcripts/dovecot-2.3.19-tls-session.txt");

/// Splits a captured server stream after each tagged completion line.
fn exchanges(stream: &'static [u8]) -> Vec<&'static [u8]> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut line_start = 0;
    for (i, window) in stream.windows(2).enumerate() {
        if window != b"\r\n" {
            continue;
        }
        let line = &stream[line_start..i];
        let tagged =
            line.len() > 5 && line[..4].iter().all(u8::is_ascii_alphanumeric) && line[4] == b' ';
        if start == 0 && line_start == 0 || tagged {
            parts.push(&stream[start..i + 2]);
            start = i + 2;
        }
        line_start = i + 2;
    }
    parts
}

#[test]
fn c0001_real_dovecot_transcript_replays_to_the_expected_events() {
    let parts = exchanges(DOVECOT_SESSION);
    assert_eq!(parts.len(), 6, "greeting + five commands");
    let events = run(
        encrypted(),
        &[
            Server(parts[0]),
            Submit(alice()),
            Client(AUTH_PLAIN_IR),
            Server(parts[1]),
            Submit(list_all()),
            Client(b"0001 LIST \"\" *\r\n"),
            Server(parts[2]),
            Submit(Command::Select { mailbox: inbox() }),
            Client(b"0002 SELECT INBOX\r\n"),
            Server(parts[3]),
            Submit(Command::FetchSummaries {
                uids: UidRange {
                    first: Uid::new(198).unwrap(),
                    last: None,
                },
            }),
            Client(
                b"0003 UID FETCH 198:* (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])\r\n",
            ),
            Server(parts[4]),
            Submit(Command::Logout),
            Client(b"0004 LOGOUT\r\n"),
            Server(parts[5]),
            HangUp,
        ],
    );
    let Event::MailboxesListed { mailboxes, .. } = &events[2] else {
        panic!("{events:?}")
    };
    assert_eq!(mailboxes.len(), 6);
    let Event::MailboxSelected { mailbox, .. } = &events[3] else {
        panic!("{events:?}")
    };
    assert_eq!((mailbox.exists, mailbox.uid_next), (200, Uid::new(201)));
    let subjects: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::FetchReceived { message, .. } => message.subject.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(subjects.len(), 3);
    assert_eq!(subjects[2], "Newest test message 200");
    assert!(matches!(
        events[events.len() - 2],
        Event::FetchCompleted { .. }
    ));
    assert_eq!(events.last(), Some(&Event::Closed { error: None }));
}

#[test]
fn v0055_a_server_without_imap4rev1_is_refused_clearly() {
    let events = run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP2bis AUTH=PLAIN] old server\r\n"),
            Client(b""),
        ],
    );
    assert_eq!(
        events,
        [Event::Closed {
            error: Some(SessionError::UnsupportedServer)
        }]
    );
    // IMAP4REV1 spelled in upper case (UW-IMAP) is fine.
    let events = run(
        encrypted(),
        &[Server(b"* OK [CAPABILITY IMAP4REV1] UW\r\n")],
    );
    assert!(matches!(events[..], [Event::Greeted { .. }]));
}

#[test]
fn v0016_only_inbox_compares_case_insensitively() {
    assert!(MailboxName::from_wire("inbox").is_inbox());
    assert!(MailboxName::from_wire("InBoX").is_inbox());
    assert_ne!(
        MailboxName::from_wire("Sent"),
        MailboxName::from_wire("sent")
    );
    assert!(!MailboxName::from_wire("INBOX/Sub").is_inbox());
}

#[test]
fn n0006_extension_flags_and_keywords_are_kept_v0004_recent_is_not_unread() {
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![Server(
                b"* 3 FETCH (UID 3 FLAGS (\\Recent \\Seen \\XSpecial $Junk Custom::Flag))\r\n",
            )],
        ),
    );
    let Some(Event::FetchReceived { id: None, message }) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(
        message.flags,
        vec![
            Flag::Recent,
            Flag::Seen,
            Flag::Extension("\\XSpecial".into()),
            Flag::Keyword("$Junk".into()),
            Flag::Keyword("Custom::Flag".into()),
        ]
    );
}

#[test]
fn v0012_empty_literal_parses_and_v0063_plain_ok_text_is_not_shown() {
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![
                Server(b"* OK Still here\r\n"),
                Server(b"* 2 FETCH (UID 2 FLAGS () BODY[HEADER] {0}\r\n)\r\n"),
            ],
        ),
    );
    assert_eq!(events.len(), 4, "{events:?}");
    let Event::FetchReceived { message, .. } = &events[3] else {
        panic!("{events:?}")
    };
    assert_eq!((message.uid.get(), message.subject.as_deref()), (2, None));
}

#[test]
fn n0004_runs_of_spaces_are_accepted_when_parsing() {
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![Server(
                b"* 5  EXISTS\r\n* 1 FETCH ( UID 1  FLAGS (\\Seen \\Answered ) )\r\n* OK [UIDNEXT 9] Predicted next UID \r\n",
            )],
        ),
    );
    assert!(
        matches!(events[3], Event::MailboxChanged { exists: 5, .. }),
        "{events:?}"
    );
    let Event::FetchReceived { message, .. } = &events[4] else {
        panic!("{events:?}")
    };
    assert_eq!(message.flags, vec![Flag::Seen, Flag::Answered]);
    assert!(
        matches!(&events[5], Event::MailboxUpdated { mailbox } if mailbox.uid_next == Uid::new(9)),
        "{events:?}"
    );
    assert_eq!(events.len(), 6, "{events:?}");
}

fn uids(values: &[u32]) -> UidSet {
    UidSet::from_uids(values.iter().filter_map(|&v| Uid::new(v))).unwrap()
}

fn completed(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::CommandCompleted { .. }))
        .count()
}

#[test]
fn v0056_store_adds_and_removes_flags_silently_by_uid() {
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![
                Submit(Command::Store {
                    uids: uids(&[7, 3, 4, 5]),
                    action: StoreAction::Add,
                    flags: vec![Flag::Seen, Flag::Keyword("$Forwarded".into())],
                }),
                Client(b"0002 UID STORE 3:5,7 +FLAGS.SILENT (\\Seen $Forwarded)\r\n"),
                Server(b"0002 OK Store completed (0.001 + 0.000 secs).\r\n"),
                Submit(Command::Store {
                    uids: uids(&[2]),
                    action: StoreAction::Remove,
                    flags: vec![Flag::Flagged],
                }),
                Client(b"0003 UID STORE 2 -FLAGS.SILENT (\\Flagged)\r\n"),
                Server(b"0003 OK Store completed.\r\n"),
                SubmitFails(
                    Command::Store {
                        uids: uids(&[2]),
                        action: StoreAction::Add,
                        flags: vec![Flag::Keyword("two words".into())],
                    },
                    "invalid_argument",
                ),
            ],
        ),
    );
    assert_eq!(completed(&events), 2, "{events:?}");
}

#[test]
fn v0057_v0059_move_by_uid_reports_the_expunge_and_needs_the_capability() {
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![
                Submit(Command::Move {
                    uids: uids(&[3]),
                    to: MailboxName::from_wire("Trash"),
                }),
                Client(b"0002 UID MOVE 3 Trash\r\n"),
                Server(b"* OK [COPYUID 1764090004 3 1] Moved UIDs.\r\n* 3 EXPUNGE\r\n0002 OK Move completed (0.002 + 0.000 secs).\r\n"),
                Submit(Command::Expunge { uids: uids(&[1, 2]) }),
                Client(b"0003 UID EXPUNGE 1:2\r\n"),
                Server(b"* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n0003 OK Expunge completed.\r\n"),
                Submit(Command::Copy {
                    uids: uids(&[9]),
                    to: MailboxName::from_wire("Archive"),
                }),
                Client(b"0004 UID COPY 9 Archive\r\n"),
                Server(b"0004 OK [COPYUID 1764090005 9 1] Copy completed.\r\n"),
            ],
        ),
    );
    let exists: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            Event::MailboxChanged { exists, .. } => Some(*exists),
            _ => None,
        })
        .collect();
    assert_eq!(exists, vec![2, 1, 0]);
    assert_eq!(completed(&events), 1);
    assert_eq!(copied(&events).len(), 2);

    run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"),
            Submit(alice()),
            Client(b"0000 AUTHENTICATE PLAIN\r\n"),
            Server(b"+ \r\n"),
            Client(b"AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n"),
            Server(b"0000 OK [CAPABILITY IMAP4rev1] Logged in\r\n"),
            Submit(Command::Select { mailbox: inbox() }),
            Client(b"0001 SELECT INBOX\r\n"),
            Server(b"* 1 EXISTS\r\n0001 OK done\r\n"),
            SubmitFails(
                Command::Move {
                    uids: uids(&[1]),
                    to: MailboxName::from_wire("Trash"),
                },
                "not_supported",
            ),
            SubmitFails(Command::Expunge { uids: uids(&[1]) }, "not_supported"),
            SubmitFails(Command::Idle, "not_supported"),
        ],
    );
}

/// What each `Copied` said, in order.
fn copied(events: &[Event]) -> Vec<Option<Copies>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Copied { copies, .. } => Some(copies.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn v0057_v0062_copy_reports_the_copies_from_copyuid_when_it_is_consistent() {
    let copy = |values: &[u32]| Command::Copy {
        uids: uids(values),
        to: MailboxName::from_wire("Archive"),
    };
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![
                Submit(copy(&[3, 4, 9])),
                Client(b"0002 UID COPY 3:4,9 Archive\r\n"),
                Server(b"0002 OK [COPYUID 1764090005 3:4,9 12:14] Copy completed (0.003 + 0.000 secs).\r\n"),
                // UID 3 was expunged meanwhile: the source names only what was copied.
                Submit(copy(&[3, 5])),
                Client(b"0003 UID COPY 3,5 Archive\r\n"),
                Server(b"0003 OK [COPYUID 1764090005 5 15] Copy completed (0.001 + 0.000 secs).\r\n"),
                // No UIDPLUS: nothing to go by.
                Submit(copy(&[5])),
                Client(b"0004 UID COPY 5 Archive\r\n"),
                Server(b"0004 OK Copy completed.\r\n"),
                // A source that was not copied, and one destination UID for two sources.
                Submit(copy(&[6])),
                Client(b"0005 UID COPY 6 Archive\r\n"),
                Server(b"0005 OK [COPYUID 1764090005 6:7 20:21] Copy completed.\r\n"),
                Submit(copy(&[6, 7])),
                Client(b"0006 UID COPY 6:7 Archive\r\n"),
                Server(b"0006 OK [COPYUID 1764090005 6:7 20] Copy completed.\r\n"),
            ],
        ),
    );
    let copies = |values: &[u32]| {
        Some(Copies {
            uid_validity: 1_764_090_005,
            uids: uids(values),
        })
    };
    assert_eq!(
        copied(&events),
        vec![copies(&[12, 13, 14]), copies(&[15]), None, None, None]
    );
    assert_eq!(completed(&events), 0);
}

#[test]
fn v0057_v0062_move_reports_the_copies_from_copyuid_before_its_expunges() {
    let move_to = |values: &[u32], to: &str| Command::Move {
        uids: uids(values),
        to: MailboxName::from_wire(to),
    };
    let in_inbox = |steps| run(encrypted(), &with(selected(), steps));
    let dovecot = in_inbox(vec![
        // Dovecot's answer: COPYUID in an untagged OK before the expunges (RFC 6851).
        Submit(move_to(&[1], "Archive")),
        Client(b"0002 UID MOVE 1 Archive\r\n"),
        Server(b"* OK [COPYUID 1764090005 1 7] Moved UIDs.\r\n* 1 EXPUNGE\r\n0002 OK Move completed (0.004 + 0.000 + 0.003 secs).\r\n"),
        // Two MOVEs in flight, run out of order (RFC 3501 §5.5 lets a server): each
        // COPYUID goes to the MOVE whose UIDs it names.
        Submit(move_to(&[2], "Archive")),
        Submit(move_to(&[3], "Trash")),
        Client(b"0003 UID MOVE 2 Archive\r\n0004 UID MOVE 3 Trash\r\n"),
        Server(b"* OK [COPYUID 1764090006 3 2] Moved UIDs.\r\n* 2 EXPUNGE\r\n0004 OK Move completed.\r\n* OK [COPYUID 1764090005 2 8] Moved UIDs.\r\n* 1 EXPUNGE\r\n0003 OK Move completed.\r\n"),
    ]);
    let others = in_inbox(vec![
        // COPYUID in the tagged OK counts too; one naming a UID not moved does not.
        Submit(move_to(&[1], "Archive")),
        Client(b"0002 UID MOVE 1 Archive\r\n"),
        Server(b"* 1 EXPUNGE\r\n0002 OK [COPYUID 1764090005 1 9] Move completed.\r\n"),
        Submit(move_to(&[2], "Archive")),
        Client(b"0003 UID MOVE 2 Archive\r\n"),
        Server(b"* OK [COPYUID 1764090005 3 10] Moved UIDs.\r\n* 1 EXPUNGE\r\n0003 OK Move completed.\r\n"),
        // One MOVE's copies in two COPYUIDs add up; a third naming a UID again does not
        // make the copies outnumber the messages moved.
        Submit(move_to(&[3, 4], "Archive")),
        Client(b"0004 UID MOVE 3:4 Archive\r\n"),
        Server(b"* OK [COPYUID 1764090005 3 11] Moved.\r\n* 1 EXPUNGE\r\n* OK [COPYUID 1764090005 4 12] Moved.\r\n* OK [COPYUID 1764090005 4 20] Moved.\r\n* 1 EXPUNGE\r\n0004 OK Move completed.\r\n"),
    ]);
    let copies = |uid_validity, uid: u32| {
        Some(Copies {
            uid_validity,
            uids: uids(&[uid]),
        })
    };
    assert_eq!(
        copied(&dovecot),
        vec![
            copies(1_764_090_005, 7),
            copies(1_764_090_006, 2),
            copies(1_764_090_005, 8),
        ]
    );
    assert_eq!(
        copied(&others),
        vec![
            copies(1_764_090_005, 9),
            None,
            Some(Copies {
                uid_validity: 1_764_090_005,
                uids: uids(&[11, 12]),
            }),
        ]
    );
    assert_eq!(completed(&dovecot) + completed(&others), 0);
}

#[test]
fn v0045_status_asks_the_documented_items() {
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Submit(Command::Status {
                    mailbox: MailboxName::from_wire("Sent"),
                }),
                Client(b"0001 STATUS Sent (MESSAGES UNSEEN UIDNEXT UIDVALIDITY HIGHESTMODSEQ)\r\n"),
                Server(b"* STATUS Sent (MESSAGES 5 UNSEEN 1 UIDNEXT 6 UIDVALIDITY 1764090002)\r\n0001 OK Status completed (0.001 + 0.000 secs).\r\n"),
            ],
        ),
    );
    let Event::StatusReceived { status, .. } = &events[2] else {
        panic!("{events:?}")
    };
    assert_eq!(
        (
            status.messages,
            status.unseen,
            status.uid_next,
            status.uid_validity
        ),
        (Some(5), Some(1), Uid::new(6), Some(1_764_090_002))
    );
}

#[test]
fn search_by_sent_day_sends_sentsince_and_sentbefore() {
    let day = |text: &str| Some(text.parse::<SearchDate>().expect("a day"));
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![
                Submit(Command::Search {
                    query: SearchQuery {
                        unseen: true,
                        sent_since: day("2021-01-01"),
                        sent_before: day("2021-12-31"),
                        ..SearchQuery::default()
                    },
                }),
                Client(b"0002 UID SEARCH RETURN (ALL) UNSEEN SENTSINCE \"01-Jan-2021\" SENTBEFORE \"31-Dec-2021\"\r\n"),
                Server(b"* ESEARCH (TAG \"0002\") UID ALL 7\r\n0002 OK Search completed.\r\n"),
            ],
        ),
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::SearchCompleted { uids, .. } if uids.len() == 1)),
        "{events:?}"
    );
    for bad in ["2021-02-30", "21-01-01", "2021-1-1x", "10000-01-01", ""] {
        assert!(bad.parse::<SearchDate>().is_err(), "{bad:?}");
    }
}

/// Each search's UIDs, in the order the searches completed.
fn searched(events: &[Event]) -> Vec<Vec<u32>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::SearchCompleted { uids, .. } => Some(uids.iter().map(|u| u.get()).collect()),
            _ => None,
        })
        .collect()
}

#[test]
fn v0051_uid_search_uses_charset_only_for_non_ascii_text() {
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![
                Submit(Command::Search {
                    query: SearchQuery {
                        from: Some("alice".into()),
                        unseen: true,
                        ..SearchQuery::default()
                    },
                }),
                Client(b"0002 UID SEARCH RETURN (ALL) FROM alice UNSEEN\r\n"),
                Server(b"* ESEARCH (TAG \"0002\") UID ALL 12,4,9\r\n0002 OK Search completed (0.001 + 0.000 secs).\r\n"),
                Submit(Command::Search {
                    query: SearchQuery {
                        subject: Some("Grüße".into()),
                        ..SearchQuery::default()
                    },
                }),
                Client("0003 UID SEARCH RETURN (ALL) CHARSET UTF-8 SUBJECT {7+}\r\nGrüße\r\n".as_bytes()),
                Server(b"* ESEARCH (TAG \"0003\") UID\r\n0003 OK Search completed.\r\n"),
            ],
        ),
    );
    assert_eq!(searched(&events), vec![vec![4, 9, 12], vec![]]);
}

/// Dovecot 2.3 advertises ESEARCH: the search asks for `RETURN (ALL)` and takes only the
/// ESEARCH carrying its own tag; one for another tag, one without a tag and one with sequence
/// numbers instead of UIDs are ignored.
#[test]
fn v0067_esearch_results_are_matched_by_their_tag_correlator() {
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![
                Submit(Command::Search {
                    query: SearchQuery {
                        from: Some("alice".into()),
                        ..SearchQuery::default()
                    },
                }),
                Client(b"0002 UID SEARCH RETURN (ALL) FROM alice\r\n"),
                Server(b"* ESEARCH (TAG \"0001\") UID ALL 99\r\n"),
                Server(b"* ESEARCH UID ALL 98\r\n"),
                Server(b"* ESEARCH (TAG \"0002\") ALL 97\r\n"),
                Server(b"* ESEARCH (TAG \"0002\") UID ALL 7:5,12\r\n0002 OK Search completed (0.001 + 0.000 secs).\r\n"),
            ],
        ),
    );
    assert_eq!(searched(&events), vec![vec![5, 6, 7, 12]]);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::ResponseSkipped { .. })),
        "{events:?}"
    );
}

/// Gmail writes raw UTF-8 into status texts (corpus capture 044): an ALERT, a refusal and a
/// BYE reach the driver as written, not with `?` for each 8-bit character.
#[test]
fn n0003_status_texts_with_8_bit_characters_are_shown_as_the_server_wrote_them() {
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![
                Server("* OK [ALERT] Pašto dėžutė beveik pilna\r\n".as_bytes()),
                Submit(Command::Select {
                    mailbox: MailboxName::from_wire("Archive"),
                }),
                Client(b"0002 SELECT Archive\r\n"),
                Server("0002 NO [NONEXISTENT] Нет такой папки\r\n".as_bytes()),
                Server("* BYE Сеанс завершён\r\n".as_bytes()),
            ],
        ),
    );
    let texts: Vec<String> = events
        .iter()
        .filter_map(|event| match event {
            Event::AlertReceived { text } => Some(text.clone()),
            Event::CommandFailed { error, .. } => Some(error.to_string()),
            Event::Closed {
                error: Some(SessionError::ServerBye { text }),
            } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts.len(), 3, "{events:?}");
    assert_eq!(texts[0], "Pašto dėžutė beveik pilna");
    assert!(texts[1].contains("Нет такой папки"), "{}", texts[1]);
    assert_eq!(texts[2], "Сеанс завершён");
}

/// Lines no grammar allows, each from the corpus: Exchange's bare `[COPYUID ...]` during MOVE,
/// ppops.net's `OK` without text, Exchange's `Server Unavailable. 15`. The commands still
/// complete in order, the expunge still counts, the bare COPYUID still names the MOVE's copy,
/// and the bare line is a server warning.
#[test]
fn n0003_odd_lines_from_real_servers_keep_the_session_in_step() {
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![
                Submit(Command::Move {
                    uids: uids(&[1]),
                    to: MailboxName::from_wire("Deleted Items"),
                }),
                Client(b"0002 UID MOVE 1 \"Deleted Items\"\r\n"),
                Server(b"[COPYUID 55 1 6]\r\n* 1 EXPUNGE\r\n0002 OK MOVE completed.\r\n"),
                Submit(Command::Copy {
                    uids: uids(&[2]),
                    to: MailboxName::from_wire("Archive"),
                }),
                Client(b"0003 UID COPY 2 Archive\r\n"),
                Server(b"0003 OK\r\n"),
                Submit(Command::Noop),
                Client(b"0004 NOOP\r\n"),
                Server(b"Server Unavailable. 15\r\n0004 OK NOOP completed.\r\n"),
            ],
        ),
    );
    let tail = &events[3..];
    assert!(
        matches!(
            tail,
            [
                Event::MessageExpunged { seq: 1, .. },
                Event::MailboxChanged { exists: 2, .. },
                Event::Copied {
                    copies: Some(Copies { uid_validity: 55, .. }),
                    ..
                },
                Event::Copied { copies: None, .. },
                Event::WarningReceived { refusal: Refusal::Bad, text },
                Event::NoopCompleted { .. },
            ] if text == "Server Unavailable. 15"
        ),
        "{tail:?}"
    );
}

#[test]
fn v0046_v0017_append_goes_at_once_with_literal_plus_and_records_appenduid() {
    let message = b"From: alice@example.test\r\nSubject: draft\r\n\r\nHello\r\n";
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Submit(Command::Append {
                    mailbox: MailboxName::from_wire("Drafts"),
                    flags: vec![Flag::Draft, Flag::Seen],
                    message: message.to_vec(),
                }),
                Client(b"0001 APPEND Drafts (\\Draft \\Seen) {51+}\r\nFrom: alice@example.test\r\nSubject: draft\r\n\r\nHello\r\n\r\n"),
                Server(
                    b"0001 OK [APPENDUID 1764090003 4] Append completed (0.004 + 0.000 secs).\r\n",
                ),
                SubmitFails(
                    Command::Append {
                        mailbox: MailboxName::from_wire("Drafts"),
                        flags: vec![],
                        message: b"nul\0byte".to_vec(),
                    },
                    "invalid_argument",
                ),
            ],
        ),
    );
    assert!(
        matches!(&events[2], Event::Appended { uid, .. } if *uid == Uid::new(4)),
        "{events:?}"
    );
}

#[test]
fn v0025_idle_reports_news_ends_with_done_for_the_next_command_and_before_25_minutes() {
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![
                Submit(Command::Idle),
                Client(b"0002 IDLE\r\n"),
                Server(b"+ idling\r\n"),
                Server(b"* 4 EXISTS\r\n* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n"),
                Submit(Command::Noop),
                Client(b"DONE\r\n"),
                Server(b"0002 OK Idle completed (0.001 + 1.042 + 1.041 secs).\r\n"),
                Client(b"0003 NOOP\r\n"),
                Server(b"0003 OK NOOP completed.\r\n"),
                Submit(Command::Idle),
                Client(b"0004 IDLE\r\n"),
                Server(b"+ idling\r\n"),
                Timeout,
                Client(b"DONE\r\n"),
                Server(b"0004 OK Idle completed.\r\n"),
            ],
        ),
    );
    let kinds: Vec<&str> = events[3..]
        .iter()
        .map(|e| match e {
            Event::IdleStarted { .. } => "idle",
            Event::MailboxChanged { .. } => "changed",
            Event::FetchReceived { id: None, .. } => "fetch",
            Event::CommandCompleted { .. } => "completed",
            Event::NoopCompleted { .. } => "noop",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "idle",
            "changed",
            "fetch",
            "completed",
            "noop",
            "idle",
            "completed"
        ]
    );
}

#[test]
fn v0018_new_mailbox_names_with_control_characters_are_refused() {
    run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                SubmitFails(
                    Command::Create {
                        mailbox: MailboxName::from_wire("bad\x07name"),
                    },
                    "invalid_argument",
                ),
                Submit(Command::Create {
                    mailbox: MailboxName::from_wire("Projects/2026"),
                }),
                Client(b"0001 CREATE Projects/2026\r\n"),
                Server(b"0001 OK Create completed.\r\n"),
                Submit(Command::Rename {
                    from: MailboxName::from_wire("Projects/2026"),
                    to: MailboxName::from_wire("Old projects"),
                }),
                Client(b"0002 RENAME Projects/2026 \"Old projects\"\r\n"),
                Server(b"0002 OK Rename completed.\r\n"),
                Submit(Command::Subscribe {
                    mailbox: MailboxName::from_wire("Old projects"),
                }),
                Client(b"0003 SUBSCRIBE \"Old projects\"\r\n"),
                Server(b"0003 OK Subscribe completed.\r\n"),
                Submit(Command::Delete {
                    mailbox: MailboxName::from_wire("Old projects"),
                }),
                Client(b"0004 DELETE \"Old projects\"\r\n"),
                Server(b"0004 OK Delete completed.\r\n"),
            ],
        ),
    );
}

const MULTIPART: &[u8] = b"From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.test>\r\nTo: alice@example.test, \"Bob\" <bob@example.test>\r\nSubject: Report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello see https://example.test\r\n--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <script>x()</script></p>\r\n--b2--\r\n--b1\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n";

#[test]
fn v0010_whole_message_fetch_for_the_reader_keeps_text_html_and_attachments() {
    let fetch = format!(
        "* 3 FETCH (UID 3 FLAGS (\\Seen) BODY[] {{{}}}\r\n",
        MULTIPART.len()
    );
    let mut server = fetch.into_bytes();
    server.extend_from_slice(MULTIPART);
    server.extend_from_slice(b")\r\n0002 OK Fetch completed.\r\n");
    let server: &'static [u8] = Box::leak(server.into_boxed_slice());
    let events = run(
        encrypted(),
        &with(
            selected(),
            vec![
                Submit(Command::FetchMessage {
                    uid: Uid::new(3).unwrap(),
                }),
                Client(b"0002 UID FETCH 3 (UID FLAGS BODY.PEEK[])\r\n"),
                Server(server),
            ],
        ),
    );
    let Event::MessageFetched {
        message: Some(message),
        ..
    } = &events[3]
    else {
        panic!("{events:?}")
    };
    assert_eq!(message.subject.as_deref(), Some("Report"));
    assert_eq!(message.from.as_ref().unwrap().name.as_deref(), Some("Jörg"));
    assert_eq!(message.to.len(), 2);
    assert_eq!(
        message.text.as_deref().map(str::trim),
        Some("Hello see https://example.test")
    );
    assert!(
        message.html.as_deref().unwrap().contains("<script>"),
        "HTML is passed on raw for the sanitizer"
    );
    assert_eq!(message.attachments.len(), 1);
    assert_eq!(message.attachments[0].name.as_deref(), Some("report.pdf"));
    assert_eq!(message.attachments[0].content_type, "application/pdf");
    assert_eq!(
        events.len(),
        4,
        "no list summary for the reader's fetch: {events:?}"
    );
}

#[test]
fn v0029_anonymous_is_never_used() {
    assert_eq!(
        login_error_after(b"* OK [CAPABILITY IMAP4rev1 AUTH=ANONYMOUS LOGINDISABLED] ready\r\n"),
        CommandError::NoUsableMechanism
    );
}

#[test]
fn v0042_a_server_without_inbox_still_lists_and_selects() {
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Submit(list_all()),
                Client(b"0001 LIST \"\" *\r\n"),
                Server(b"* LIST (\\HasNoChildren) \"/\" Archive\r\n0001 OK List completed.\r\n"),
                Submit(Command::Select {
                    mailbox: MailboxName::from_wire("Archive"),
                }),
                Client(b"0002 SELECT Archive\r\n"),
                Server(b"* 0 EXISTS\r\n0002 OK [READ-WRITE] Select completed.\r\n"),
            ],
        ),
    );
    assert!(matches!(&events[2], Event::MailboxesListed { mailboxes, .. } if mailboxes.len() == 1));
    assert!(matches!(&events[3], Event::MailboxSelected { .. }));
}

#[test]
fn v0039_read_only_mailboxes_refuse_changes_before_sending() {
    let events = run(
        encrypted(),
        &with(
            logged_in(),
            vec![
                Submit(Command::Select { mailbox: inbox() }),
                Client(b"0001 SELECT INBOX\r\n"),
                Server(b"* 3 EXISTS\r\n0001 OK [READ-ONLY] Select completed.\r\n"),
                SubmitFails(
                    Command::Store {
                        uids: uids(&[1]),
                        action: StoreAction::Add,
                        flags: vec![Flag::Seen],
                    },
                    "read_only",
                ),
                SubmitFails(
                    Command::Move {
                        uids: uids(&[1]),
                        to: MailboxName::from_wire("Trash"),
                    },
                    "read_only",
                ),
                SubmitFails(Command::Expunge { uids: uids(&[1]) }, "read_only"),
                // Copying out of a read-only mailbox changes nothing in it.
                Submit(Command::Copy {
                    uids: uids(&[1]),
                    to: MailboxName::from_wire("Archive"),
                }),
                Client(b"0002 UID COPY 1 Archive\r\n"),
            ],
        ),
    );
    assert!(matches!(&events[2], Event::MailboxSelected { mailbox, .. } if mailbox.read_only));
}
