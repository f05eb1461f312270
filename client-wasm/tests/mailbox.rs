//! The selected-mailbox model and synchronisation: sequence numbers and UIDs through
//! unilateral responses, cache checks on open (UIDVALIDITY, CONDSTORE, QRESYNC), leaving a
//! mailbox, STATUS, polling and TRYCREATE. Transcripts follow Dovecot 2.3's wording.

#![cfg(not(target_arch = "wasm32"))]

// This binary drives no TLS upgrade or hang-up.
#[allow(dead_code)]
mod support;

use client_wasm::{
    AuthMethod, CacheWriter, CachedMailbox, Command, Credentials, Epoch, Event, Flag, FullMessage,
    Instant, MailStore, MailboxName, MessageSummary, Refusal, SearchQuery, SelectedMailbox,
    StoreAction, Uid, UidRange, UidSet,
};
use std::collections::BTreeMap;
use support::{Step, Step::*, encrypted, run, run_timed};

/// Greeted and logged in (tag `0000`) on a server whose post-login capabilities are
/// `IMAP4rev1 AUTH=PLAIN` plus `extra`.
fn logged_in(extra: &str) -> Vec<Step> {
    let ok = format!("0000 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN {extra}] Logged in\r\n");
    vec![
        Server(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] Dovecot ready.\r\n"),
        Submit(Command::LogIn {
            credentials: Credentials::new("alice", "alice-pass-1"),
            method: AuthMethod::Auto,
        }),
        Client(b"0000 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n"),
        Server(Box::leak(ok.into_bytes().into_boxed_slice())),
    ]
}

fn then(mut head: Vec<Step>, tail: Vec<Step>) -> Vec<Step> {
    head.extend(tail);
    head
}

fn uid(value: u32) -> Uid {
    Uid::new(value).unwrap()
}

fn uids(values: &[u32]) -> UidSet {
    UidSet::from_uids(values.iter().map(|&v| uid(v))).unwrap()
}

fn inbox() -> MailboxName {
    MailboxName::inbox()
}

fn open(read_only: bool, cached: Option<CachedMailbox>) -> Command {
    Command::Open {
        mailbox: inbox(),
        read_only,
        cached,
    }
}

/// Logs in with `extra` capabilities, submits `command` (an open), checks it went out as
/// `sent` (tag `0001`), answers `reply`, then runs `more`.
fn opened(
    extra: &str,
    command: Command,
    sent: &'static [u8],
    reply: &'static [u8],
    more: Vec<Step>,
) -> Vec<Event> {
    let head = vec![Submit(command), Client(sent), Server(reply)];
    run(encrypted(), &then(then(logged_in(extra), head), more))
}

/// The mailbox `MailboxSelected` reported, right after login.
fn selected_mailbox(events: &[Event]) -> &SelectedMailbox {
    match &events[2] {
        Event::MailboxSelected { mailbox, .. } => mailbox,
        _ => panic!("{events:?}"),
    }
}

fn all_flags_since(modseq: u64) -> Command {
    Command::FetchFlags {
        uids: UidRange {
            first: uid(1),
            last: None,
        },
        changed_since: Some(modseq),
    }
}

/// INBOX with three messages, UIDs 3, 5 and 8, their UIDs learned by a summary fetch; tags up
/// to `0002` used. `Select` is the plain SELECT whatever the server offers.
fn three_known(extra: &str) -> Vec<Step> {
    then(
        logged_in(extra),
        vec![
            Submit(Command::Select { mailbox: inbox() }),
            Client(b"0001 SELECT INBOX\r\n"),
            Server(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1764090000] UIDs valid\r\n* OK [UIDNEXT 9] Predicted next UID\r\n0001 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n"),
            Submit(Command::FetchSummaries {
                uids: UidRange {
                    first: uid(1),
                    last: None,
                },
            }),
            Client(b"0002 UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])\r\n"),
            Server(b"* 1 FETCH (UID 3 FLAGS () RFC822.SIZE 10 INTERNALDATE \"24-Nov-2026 10:00:00 +0100\" BODY[HEADER] {2}\r\n\r\n)\r\n* 2 FETCH (UID 5 FLAGS () RFC822.SIZE 10 INTERNALDATE \"24-Nov-2026 10:00:00 +0100\" BODY[HEADER] {2}\r\n\r\n)\r\n* 3 FETCH (UID 8 FLAGS () RFC822.SIZE 10 INTERNALDATE \"24-Nov-2026 10:00:00 +0100\" BODY[HEADER] {2}\r\n\r\n)\r\n0002 OK Fetch completed (0.001 + 0.000 secs).\r\n"),
        ],
    )
}

/// The events after the setup's `FetchCompleted`.
fn after_fetch(events: &[Event]) -> &[Event] {
    let at = events
        .iter()
        .position(|e| matches!(e, Event::FetchCompleted { .. }))
        .expect("setup fetch completed");
    &events[at + 1..]
}

fn flags_changed(seq: u32, uid: Option<u32>, flags: Vec<Flag>) -> Event {
    Event::FlagsChanged {
        seq,
        uid: uid.map(self::uid),
        flags,
        modseq: None,
    }
}

#[test]
fn c0002_c0004_v0023_flag_changes_by_sequence_number_name_the_right_uid_through_expunges() {
    let events = run(
        encrypted(),
        &then(
            three_known("IDLE"),
            vec![
                // Another client sets \Seen on the second message, expunges the first, flags
                // what is now the second, and a new message arrives.
                Server(b"* 2 FETCH (FLAGS (\\Seen))\r\n"),
                Server(b"* 1 EXPUNGE\r\n"),
                Server(b"* 2 FETCH (FLAGS (\\Flagged))\r\n"),
                Server(b"* 3 EXISTS\r\n* 1 RECENT\r\n"),
                Server(b"* 3 FETCH (FLAGS (\\Recent))\r\n"),
                Server(b"* 9 EXPUNGE\r\n"),
                // MODSEQ alone says nothing about flags: no event.
                Server(b"* 2 FETCH (UID 8 MODSEQ (50))\r\n"),
            ],
        ),
    );
    assert_eq!(
        after_fetch(&events),
        [
            flags_changed(2, Some(5), vec![Flag::Seen]),
            Event::MessageExpunged {
                seq: 1,
                uid: Some(uid(3)),
            },
            Event::MailboxChanged {
                exists: 2,
                recent: 0
            },
            flags_changed(2, Some(8), vec![Flag::Flagged]),
            Event::MailboxChanged {
                exists: 3,
                recent: 0
            },
            Event::MailboxChanged {
                exists: 3,
                recent: 1
            },
            flags_changed(3, None, vec![Flag::Recent]),
            // A sequence number the mailbox does not have changes nothing.
            Event::MailboxChanged {
                exists: 3,
                recent: 1
            },
        ]
    );
}

#[test]
fn v0024_unilateral_flags_permanentflags_read_only_and_modseq_update_the_mailbox() {
    let events = run(
        encrypted(),
        &then(
            three_known("IDLE"),
            vec![
                Server(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)\r\n"),
                Server(b"* OK [PERMANENTFLAGS (\\Seen)] Limited\r\n"),
                Server(b"* OK [HIGHESTMODSEQ 40] Highest\r\n"),
                Server(b"* OK [READ-ONLY] Mailbox is now read-only\r\n"),
                Server(b"* NO Mailbox is at 95% of quota\r\n* BAD Line too long\r\n"),
                SubmitFails(
                    Command::Store {
                        uids: uids(&[3]),
                        action: StoreAction::Add,
                        flags: vec![Flag::Seen],
                    },
                    "read_only",
                ),
            ],
        ),
    );
    let tail = after_fetch(&events);
    let updates: Vec<_> = tail[..4]
        .iter()
        .map(|e| match e {
            Event::MailboxUpdated { mailbox } => mailbox,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        tail[4..],
        [
            Event::WarningReceived {
                refusal: Refusal::No,
                text: "Mailbox is at 95% of quota".into()
            },
            Event::WarningReceived {
                refusal: Refusal::Bad,
                text: "Line too long".into()
            },
        ]
    );
    assert!(updates[0].flags.contains(&Flag::Keyword("$Label1".into())));
    assert_eq!(updates[1].permanent_flags, vec![Flag::Seen]);
    assert!(!updates[1].can_create_keywords);
    assert_eq!(updates[2].highest_modseq, Some(40));
    assert!(updates[3].read_only);
}

#[test]
fn v0037_without_permanentflags_every_flag_is_permanent_and_uidnext_is_unknown() {
    let events = opened(
        "IDLE",
        open(false, None),
        b"0001 SELECT INBOX\r\n",
        b"* FLAGS (\\Seen \\Deleted $Junk)\r\n* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] UIDs valid\r\n0001 OK [READ-WRITE] Select completed.\r\n",
        vec![],
    );
    let mailbox = selected_mailbox(&events);
    assert_eq!(
        mailbox.permanent_flags,
        vec![Flag::Seen, Flag::Deleted, Flag::Keyword("$Junk".into())]
    );
    assert_eq!((mailbox.uid_next, mailbox.highest_modseq), (None, None));

    // PERMANENTFLAGS () is not the same as no PERMANENTFLAGS: nothing is permanent.
    let events = opened(
        "IDLE",
        open(false, None),
        b"0001 SELECT INBOX\r\n",
        b"* FLAGS (\\Seen)\r\n* OK [PERMANENTFLAGS ()] None\r\n* 0 EXISTS\r\n0001 OK Select completed.\r\n",
        vec![],
    );
    assert!(selected_mailbox(&events).permanent_flags.is_empty());
}

fn cached(uid_validity: u32, modseq: Option<u64>, known: Option<&[u32]>) -> Option<CachedMailbox> {
    Some(CachedMailbox {
        uid_validity,
        highest_modseq: modseq,
        known_uids: known.map(uids),
    })
}

#[test]
fn v0003_a_new_uidvalidity_is_reported_and_queued_uid_commands_are_dropped() {
    let events = run(
        encrypted(),
        &then(
            logged_in("CONDSTORE IDLE"),
            vec![
                Submit(open(false, None)),
                Client(b"0001 SELECT INBOX (CONDSTORE)\r\n"),
                Server(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 1764000000] UIDs valid\r\n0001 OK [READ-WRITE] Select completed.\r\n"),
                // Opened again (another tab's cache), with UID commands queued behind it.
                Submit(open(false, cached(1_764_000_000, Some(30), None))),
                Submit(all_flags_since(30)),
                Submit(Command::Store {
                    uids: uids(&[4]),
                    action: StoreAction::Add,
                    flags: vec![Flag::Seen],
                }),
                Submit(Command::Noop),
                Submit(open(false, None)),
                Submit(Command::Store {
                    uids: uids(&[6]),
                    action: StoreAction::Add,
                    flags: vec![Flag::Seen],
                }),
                Client(b"0002 SELECT INBOX (CONDSTORE)\r\n"),
                Server(b"* FLAGS (\\Seen)\r\n* 1 EXISTS\r\n* OK [UIDVALIDITY 1764099999] UIDs valid\r\n* OK [HIGHESTMODSEQ 2] Highest\r\n0002 OK [READ-WRITE] Select completed.\r\n"),
                // Only the NOOP and what follows the next open are left.
                Client(b"0003 NOOP\r\n"),
                Server(b"0003 OK NOOP completed.\r\n"),
                Client(b"0004 SELECT INBOX (CONDSTORE)\r\n"),
                Server(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 1764099999] UIDs valid\r\n0004 OK [READ-WRITE] Select completed.\r\n"),
                Client(b"0005 UID STORE 6 +FLAGS.SILENT (\\Seen)\r\n"),
                Server(b"0005 OK Store completed.\r\n"),
                // Mid-session, the server renumbers its UIDs.
                Server(b"* OK [UIDVALIDITY 1764100000] UIDs renumbered\r\n"),
            ],
        ),
    );
    let kinds: Vec<String> = events[3..]
        .iter()
        .map(|e| match e {
            Event::UidValidityChanged {
                previous, current, ..
            } => format!("changed {previous} -> {current:?}"),
            Event::CommandFailed { id, error } => format!("failed {} {}", id.get(), error.code()),
            Event::MailboxSelected { mailbox, .. } => {
                format!("selected {:?}", mailbox.highest_modseq)
            }
            Event::NoopCompleted { .. } => "noop".into(),
            Event::CommandCompleted { id } => format!("completed {}", id.get()),
            Event::MailboxUpdated { mailbox } => format!("updated {:?}", mailbox.uid_validity),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "changed 1764000000 -> Some(1764099999)",
            "failed 3 uid_validity_changed",
            "failed 4 uid_validity_changed",
            "selected Some(2)",
            "noop",
            "selected None",
            "completed 7",
            "changed 1764099999 -> Some(1764100000)",
            "updated Some(1764100000)",
        ]
    );
}

#[test]
fn v0003_c0002_qresync_is_enabled_then_select_sends_the_cache_state_and_vanished_is_applied() {
    let events = run(
        encrypted(),
        &then(
            logged_in("ENABLE CONDSTORE QRESYNC IDLE"),
            vec![
                Submit(open(
                    false,
                    cached(1_764_090_000, Some(10), Some(&[1, 2, 3, 4, 5, 7, 9])),
                )),
                Client(b"0001 ENABLE QRESYNC\r\n"),
                Server(b"* ENABLED QRESYNC\r\n0001 OK Enabled.\r\n"),
                Client(b"0002 SELECT INBOX (QRESYNC (1764090000 10 1:5,7,9))\r\n"),
                Server(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n* 4 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1764090000] UIDs valid\r\n* OK [UIDNEXT 10] Predicted next UID\r\n* OK [HIGHESTMODSEQ 12] Highest\r\n* VANISHED (EARLIER) 2,4:5\r\n* 3 FETCH (UID 7 FLAGS (\\Seen) MODSEQ (12))\r\n0002 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n"),
                // Now expunges come as VANISHED: the map drops UID 7, the third message.
                Server(b"* VANISHED 7\r\n"),
                Server(b"* 3 FETCH (FLAGS (\\Flagged))\r\n"),
                // Switching: news before [CLOSED] is about INBOX, and comes before the new
                // mailbox's MailboxSelected; INBOX's counts do not leak into it.
                Submit(Command::Open {
                    mailbox: MailboxName::from_wire("Archive"),
                    read_only: false,
                    cached: None,
                }),
                Client(b"0003 SELECT Archive\r\n"),
                Server(b"* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\n* 3 RECENT\r\n* OK [CLOSED] Previous mailbox closed.\r\n* 2 EXISTS\r\n* OK [UIDVALIDITY 3] UIDs valid\r\n0003 OK [READ-WRITE] Select completed.\r\n"),
            ],
        ),
    );
    let mailbox = selected_mailbox(&events);
    assert_eq!((mailbox.exists, mailbox.highest_modseq), (4, Some(12)));
    assert_eq!(
        events[3..events.len() - 1],
        [
            Event::MessagesVanished {
                uids: uids(&[2, 4, 5]),
                earlier: true,
            },
            Event::FlagsChanged {
                seq: 3,
                uid: Some(uid(7)),
                flags: vec![Flag::Seen],
                modseq: Some(12),
            },
            Event::MessagesVanished {
                uids: uids(&[7]),
                earlier: false,
            },
            Event::MailboxChanged {
                exists: 3,
                recent: 0
            },
            flags_changed(3, None, vec![Flag::Flagged]),
            flags_changed(1, Some(1), vec![Flag::Deleted]),
        ]
    );
    let Some(Event::MailboxSelected {
        mailbox: archive, ..
    }) = events.last()
    else {
        panic!("{events:?}")
    };
    assert_eq!(
        (
            archive.name.as_wire(),
            archive.exists,
            archive.recent,
            archive.uid_validity
        ),
        (&b"Archive"[..], 2, 0, Some(3))
    );
}

#[test]
fn v0003_condstore_only_fetches_flags_changed_since_and_without_it_all_flags() {
    let events = opened(
        "CONDSTORE IDLE",
        open(false, cached(7, Some(30), None)),
        b"0001 SELECT INBOX (CONDSTORE)\r\n",
        b"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] UIDs valid\r\n* OK [HIGHESTMODSEQ 33] Highest\r\n0001 OK [READ-WRITE] Select completed.\r\n",
        vec![
            Submit(all_flags_since(30)),
            Client(b"0002 UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 30)\r\n"),
            Server(b"* 2 FETCH (UID 11 FLAGS (\\Answered) MODSEQ (33))\r\n0002 OK Fetch completed.\r\n"),
        ],
    );
    assert_eq!(selected_mailbox(&events).highest_modseq, Some(33));
    assert_eq!(
        events[3],
        Event::FlagsChanged {
            seq: 2,
            uid: Some(uid(11)),
            flags: vec![Flag::Answered],
            modseq: Some(33),
        }
    );
    assert!(matches!(events[4], Event::FetchCompleted { .. }));

    opened(
        "IDLE",
        open(false, cached(7, Some(30), None)),
        b"0001 SELECT INBOX\r\n",
        b"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] UIDs valid\r\n0001 OK Select completed.\r\n",
        vec![
            Submit(all_flags_since(30)),
            Client(b"0002 UID FETCH 1:* (UID FLAGS)\r\n"),
        ],
    );
}

#[test]
fn v0040_examine_opens_read_only() {
    let events = opened(
        "IDLE",
        open(true, None),
        b"0001 EXAMINE INBOX\r\n",
        b"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] UIDs valid\r\n0001 OK [READ-ONLY] Examine completed.\r\n",
        vec![SubmitFails(
            Command::Store {
                uids: uids(&[1]),
                action: StoreAction::Remove,
                flags: vec![Flag::Seen],
            },
            "read_only",
        )],
    );
    assert!(selected_mailbox(&events).read_only);
}

#[test]
fn v0049_v0050_leaving_uses_unselect_or_examine_then_close_and_close_only_to_expunge() {
    let fetch_all = || Command::FetchSummaries {
        uids: UidRange {
            first: uid(1),
            last: None,
        },
    };
    run(
        encrypted(),
        &then(
            three_known("UNSELECT IDLE"),
            vec![
                Submit(Command::Unselect),
                Client(b"0003 UNSELECT\r\n"),
                Server(b"0003 OK Unselect completed.\r\n"),
                SubmitFails(fetch_all(), "wrong_state"),
            ],
        ),
    );
    let events = run(
        encrypted(),
        &then(
            three_known("IDLE"),
            vec![
                Submit(Command::Unselect),
                Client(b"0003 EXAMINE INBOX\r\n"),
                Server(b"* 3 EXISTS\r\n0003 OK [READ-ONLY] Examine completed.\r\n"),
                Client(b"0004 CLOSE\r\n"),
                Server(b"0004 OK Close completed.\r\n"),
                SubmitFails(fetch_all(), "wrong_state"),
                Submit(open(false, None)),
                Client(b"0005 SELECT INBOX\r\n"),
                Server(b"* 3 EXISTS\r\n0005 OK [READ-WRITE] Select completed.\r\n"),
                Submit(Command::Close),
                Client(b"0006 CLOSE\r\n"),
                Server(b"0006 OK Close completed.\r\n"),
            ],
        ),
    );
    let tail = after_fetch(&events);
    assert!(
        matches!(tail[0], Event::CommandCompleted { .. }),
        "{tail:?}"
    );
    assert!(matches!(tail[1], Event::MailboxSelected { .. }), "{tail:?}");
    assert!(
        matches!(tail[2], Event::CommandCompleted { .. }),
        "{tail:?}"
    );
    assert_eq!(tail.len(), 3);
}

#[test]
fn v0044_status_of_the_selected_mailbox_is_answered_from_its_data_without_sending() {
    let events = run(
        encrypted(),
        &then(
            three_known("IDLE"),
            vec![
                Server(b"* 4 EXISTS\r\n"),
                Submit(Command::Status {
                    mailbox: MailboxName::from_wire("inbox"),
                }),
                Submit(Command::Status {
                    mailbox: MailboxName::from_wire("Sent"),
                }),
                Client(b"0003 STATUS Sent (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"),
                Server(b"* STATUS Sent (MESSAGES 2 UNSEEN 0 UIDNEXT 3 UIDVALIDITY 5)\r\n0003 OK Status completed.\r\n"),
            ],
        ),
    );
    let statuses: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::StatusReceived { status, .. } => Some(status),
            _ => None,
        })
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses[0].name.as_ref().is_some_and(MailboxName::is_inbox));
    assert_eq!(
        (
            statuses[0].messages,
            statuses[0].uid_next,
            statuses[0].uid_validity
        ),
        (Some(4), Uid::new(9), Some(1_764_090_000))
    );
    assert_eq!(statuses[1].messages, Some(2));
}

#[test]
fn v0002_status_asks_highestmodseq_where_condstore_exists() {
    let events = run(
        encrypted(),
        &then(
            logged_in("CONDSTORE"),
            vec![
                Submit(Command::Status {
                    mailbox: MailboxName::from_wire("Sent"),
                }),
                Client(b"0001 STATUS Sent (MESSAGES UNSEEN UIDNEXT UIDVALIDITY HIGHESTMODSEQ)\r\n"),
                Server(b"* STATUS Sent (MESSAGES 2 UNSEEN 0 UIDNEXT 3 UIDVALIDITY 5 HIGHESTMODSEQ 81)\r\n0001 OK Status completed.\r\n"),
            ],
        ),
    );
    assert!(
        matches!(&events[2], Event::StatusReceived { status, .. } if status.highest_modseq == Some(81)),
        "{events:?}"
    );
}

#[test]
fn v0028_without_idle_a_selected_mailbox_is_polled_with_noop() {
    let outcome = run_timed(
        encrypted(),
        &then(
            three_known(""),
            vec![
                Timeout,
                Client(b"0003 NOOP\r\n"),
                Server(b"* 4 EXISTS\r\n0003 OK NOOP completed.\r\n"),
            ],
        ),
    );
    assert_eq!(
        after_fetch(&outcome.events),
        [Event::MailboxChanged {
            exists: 4,
            recent: 0
        }]
    );
    // The poll came at the two-minute interval after the last command, not the nine-minute
    // keep-alive (the script starts at 1 s on the virtual clock).
    assert_eq!(outcome.now, Instant::from_millis(1_000 + 120_000));
}

#[test]
fn v0047_v0058_trycreate_creates_the_mailbox_and_retries_once() {
    let message = b"Subject: x\r\n\r\nbody\r\n";
    let events = run(
        encrypted(),
        &then(
            three_known("UIDPLUS MOVE IDLE"),
            vec![
                Submit(Command::Copy {
                    uids: uids(&[3]),
                    to: MailboxName::from_wire("Archive"),
                }),
                Client(b"0003 UID COPY 3 Archive\r\n"),
                Server(b"0003 NO [TRYCREATE] Mailbox doesn't exist: Archive\r\n"),
                Client(b"0004 CREATE Archive\r\n"),
                Server(b"0004 OK Create completed.\r\n"),
                Client(b"0005 UID COPY 3 Archive\r\n"),
                Server(b"0005 OK [COPYUID 5 3 1] Copy completed.\r\n"),
                Submit(Command::Append {
                    mailbox: MailboxName::from_wire("Sent"),
                    flags: vec![Flag::Seen],
                    message: message.to_vec(),
                }),
                Client(b"0006 APPEND Sent (\\Seen) {20}\r\n"),
                Server(b"0006 NO [TRYCREATE] Mailbox doesn't exist: Sent\r\n"),
                Client(b"0007 CREATE Sent\r\n"),
                Server(b"0007 NO Permission denied\r\n"),
                Client(b"0008 APPEND Sent (\\Seen) {20}\r\n"),
                Server(b"+ OK\r\n"),
                Client(b"Subject: x\r\n\r\nbody\r\n\r\n"),
                // A second TRYCREATE is the command's failure: no loop.
                Server(b"0008 NO [TRYCREATE] Mailbox doesn't exist: Sent\r\n"),
            ],
        ),
    );
    let tail = after_fetch(&events);
    assert!(
        matches!(&tail[0], Event::Copied { copies: Some(copies), .. }
            if copies.uid_validity == 5 && copies.uids == uids(&[1])),
        "the retry's COPYUID: {tail:?}"
    );
    assert!(
        matches!(&tail[1], Event::CommandFailed { error, .. } if error.code() == "rejected"),
        "{tail:?}"
    );
    assert_eq!(tail.len(), 2);
}

#[test]
fn v0048_v0049_append_to_the_selected_mailbox_noops_only_when_no_exists_came() {
    let message = b"Subject: x\r\n\r\nbody\r\n";
    let append = || Command::Append {
        mailbox: inbox(),
        flags: vec![],
        message: message.to_vec(),
    };
    let events = run(
        encrypted(),
        &then(
            three_known("IDLE"),
            vec![
                Submit(append()),
                Client(b"0003 APPEND INBOX {20}\r\n"),
                Server(b"+ OK\r\n"),
                Client(b"Subject: x\r\n\r\nbody\r\n\r\n"),
                Server(b"* 4 EXISTS\r\n0003 OK Append completed.\r\n"),
                Submit(append()),
                Client(b"0004 APPEND INBOX {20}\r\n"),
                Server(b"+ OK\r\n"),
                Client(b"Subject: x\r\n\r\nbody\r\n\r\n"),
                Server(b"0004 OK Append completed.\r\n"),
                Client(b"0005 NOOP\r\n"),
                Server(b"* 5 EXISTS\r\n0005 OK NOOP completed.\r\n"),
                Submit(Command::Append {
                    mailbox: MailboxName::from_wire("Drafts"),
                    flags: vec![],
                    message: message.to_vec(),
                }),
                Client(b"0006 APPEND Drafts {20}\r\n"),
                Server(b"+ OK\r\n"),
                Client(b"Subject: x\r\n\r\nbody\r\n\r\n"),
                Server(b"0006 OK Append completed.\r\n"),
            ],
        ),
    );
    let exists: Vec<u32> = after_fetch(&events)
        .iter()
        .filter_map(|e| match e {
            Event::MailboxChanged { exists, .. } => Some(*exists),
            _ => None,
        })
        .collect();
    assert_eq!(exists, [4, 5]);
}

#[test]
fn a_conditional_store_reports_the_messages_another_client_changed_first() {
    let conditional = |unchanged_since| Command::StoreUnchangedSince {
        uids: uids(&[3, 5, 8]),
        action: StoreAction::Add,
        flags: vec![Flag::Seen],
        unchanged_since,
    };
    let events = run(
        encrypted(),
        &then(
            three_known("CONDSTORE IDLE"),
            vec![
                Submit(conditional(40)),
                Client(b"0003 UID STORE 3,5,8 (UNCHANGEDSINCE 40) +FLAGS.SILENT (\\Seen)\r\n"),
                Server(b"* 1 FETCH (UID 3 MODSEQ (41))\r\n* 3 FETCH (UID 8 MODSEQ (42))\r\n0003 OK [MODIFIED 5] Conditional STORE failed\r\n"),
                Submit(conditional(45)),
                Client(b"0004 UID STORE 3,5,8 (UNCHANGEDSINCE 45) +FLAGS.SILENT (\\Seen)\r\n"),
                Server(b"0004 OK [HIGHESTMODSEQ 46] Store completed.\r\n"),
            ],
        ),
    );
    let tail = after_fetch(&events);
    assert!(
        matches!(&tail[0], Event::StoreConflicted { uids: conflicted, .. } if *conflicted == uids(&[5])),
        "{tail:?}"
    );
    assert!(
        matches!(&tail[1], Event::MailboxUpdated { mailbox } if mailbox.highest_modseq == Some(46)),
        "{tail:?}"
    );
    assert!(matches!(tail[2], Event::CommandCompleted { .. }));
    assert_eq!(tail.len(), 3);

    run(
        encrypted(),
        &then(
            three_known("IDLE"),
            vec![SubmitFails(conditional(40), "not_supported")],
        ),
    );
}

#[test]
fn v0067_searches_go_one_at_a_time_and_a_stray_search_response_is_ignored() {
    let by_sender = |from: &str| Command::Search {
        query: SearchQuery {
            from: Some(from.into()),
            ..SearchQuery::default()
        },
    };
    let events = run(
        encrypted(),
        &then(
            three_known("IDLE"),
            vec![
                Submit(Command::Noop),
                Client(b"0003 NOOP\r\n"),
                Server(b"* SEARCH 3 5\r\n0003 OK NOOP completed.\r\n"),
                Submit(by_sender("alice")),
                Submit(by_sender("bob")),
                Client(b"0004 UID SEARCH FROM alice\r\n"),
                Server(b"* SEARCH 8\r\n0004 OK Search completed.\r\n"),
                Client(b"0005 UID SEARCH FROM bob\r\n"),
                Server(b"* SEARCH\r\n0005 OK Search completed.\r\n"),
            ],
        ),
    );
    // The stray SEARCH during the NOOP reached no search's results.
    let tail = after_fetch(&events);
    assert!(
        matches!(
            tail,
            [
                Event::NoopCompleted { .. },
                Event::SearchCompleted { uids: first, .. },
                Event::SearchCompleted { uids: second, .. },
            ] if *first == [uid(8)] && second.is_empty()
        ),
        "{tail:?}"
    );
}

/// The cache as a driver might keep it: in memory, keyed as the interface says.
#[derive(Default)]
struct MemoryStore {
    states: BTreeMap<(String, Vec<u8>), (u32, Option<u64>)>,
    flags: BTreeMap<(Epoch, Uid), Vec<Flag>>,
}

impl MailStore for MemoryStore {
    fn load_state(&self, account: &str, mailbox: &MailboxName) -> Option<CachedMailbox> {
        let key = (account.to_owned(), mailbox.as_wire().to_vec());
        let &(uid_validity, highest_modseq) = self.states.get(&key)?;
        let known = self
            .flags
            .keys()
            .filter(|(epoch, _)| (&epoch.account, &epoch.mailbox) == (&key.0, &key.1))
            .filter(|(epoch, _)| epoch.uid_validity == uid_validity)
            .map(|(_, uid)| *uid);
        Some(CachedMailbox {
            uid_validity,
            highest_modseq,
            known_uids: UidSet::from_uids(known),
        })
    }

    fn save_state(&mut self, epoch: &Epoch, highest_modseq: Option<u64>) {
        let key = (epoch.account.clone(), epoch.mailbox.clone());
        self.states
            .insert(key, (epoch.uid_validity, highest_modseq));
    }

    fn put_summary(&mut self, epoch: &Epoch, summary: &MessageSummary) {
        self.set_flags(epoch, summary.uid, &summary.flags);
    }

    fn put_message(&mut self, epoch: &Epoch, message: &FullMessage) {
        self.set_flags(epoch, message.uid, &message.flags);
    }

    fn set_flags(&mut self, epoch: &Epoch, uid: Uid, flags: &[Flag]) {
        self.flags.insert((epoch.clone(), uid), flags.to_vec());
    }

    fn remove(&mut self, epoch: &Epoch, uids: &UidSet) {
        self.flags
            .retain(|(held, uid), _| held != epoch || !uids.contains(*uid));
    }

    fn drop_epoch(&mut self, epoch: &Epoch) {
        self.flags.retain(|(held, _), _| held != epoch);
    }
}

/// Reopened with CONDSTORE but no QRESYNC, the server's new HIGHESTMODSEQ is kept back until
/// the driver fetched what changed: a catch-up cut short is redone from the old value.
#[test]
fn l0001_v0002_the_stored_highestmodseq_moves_only_once_the_driver_caught_up() {
    let mut store = MemoryStore::default();
    let epoch = Epoch {
        account: "alice@example.test".into(),
        mailbox: b"INBOX".to_vec(),
        uid_validity: 1_764_090_000,
    };
    store.save_state(&epoch, Some(50));
    let mut writer = CacheWriter::new("alice@example.test");
    let events = opened(
        "CONDSTORE IDLE",
        writer.open(&store, inbox(), false),
        b"0001 SELECT INBOX (CONDSTORE)\r\n",
        b"* 3 EXISTS\r\n* OK [UIDVALIDITY 1764090000] UIDs valid\r\n* OK [HIGHESTMODSEQ 90] Highest\r\n0001 OK [READ-WRITE] Select completed.\r\n",
        vec![Server(b"* OK [HIGHESTMODSEQ 95] Highest\r\n")],
    );
    for event in &events {
        writer.apply(&mut store, event);
    }
    let modseq = |store: &MemoryStore| {
        store
            .load_state("alice@example.test", &inbox())
            .and_then(|cached| cached.highest_modseq)
    };
    assert_eq!(modseq(&store), Some(50), "moved before the catch-up");
    writer.caught_up(&mut store);
    assert_eq!(modseq(&store), Some(95));
}

#[test]
fn l0001_the_cache_follows_events_per_uidvalidity_and_reopens_with_what_it_knows() {
    let mut store = MemoryStore::default();
    let mut writer = CacheWriter::new("alice@example.test");
    let first = run(
        encrypted(),
        &then(
            three_known("CONDSTORE IDLE"),
            vec![
                Server(b"* 2 FETCH (FLAGS (\\Seen))\r\n* 1 EXPUNGE\r\n"),
                Server(b"* OK [HIGHESTMODSEQ 77] Highest\r\n"),
            ],
        ),
    );
    for event in &first {
        writer.apply(&mut store, event);
    }
    // Until the driver says it caught up, the store claims no HIGHESTMODSEQ: a fetch cut
    // short must be redone, not skipped.
    let before = store.load_state("alice@example.test", &inbox()).unwrap();
    assert_eq!(before.highest_modseq, None);
    writer.caught_up(&mut store);
    let Command::Open {
        cached: Some(cached),
        ..
    } = writer.open(&store, inbox(), false)
    else {
        panic!("nothing cached for INBOX")
    };
    assert_eq!(
        (
            cached.uid_validity,
            cached.highest_modseq,
            cached.known_uids
        ),
        (1_764_090_000, Some(77), Some(uids(&[5, 8])))
    );
    let epoch = Epoch {
        account: "alice@example.test".into(),
        mailbox: b"INBOX".to_vec(),
        uid_validity: 1_764_090_000,
    };
    assert_eq!(store.flags[&(epoch, uid(5))], [Flag::Seen]);

    // Opened again, the server has new UIDs: the old epoch goes, whatever it held.
    let second = opened(
        "CONDSTORE IDLE",
        writer.open(&store, inbox(), false),
        b"0001 SELECT INBOX (CONDSTORE)\r\n",
        b"* 1 EXISTS\r\n* OK [UIDVALIDITY 1764099999] UIDs valid\r\n0001 OK [READ-WRITE] Select completed.\r\n",
        vec![],
    );
    for event in &second {
        writer.apply(&mut store, event);
    }
    assert!(store.flags.is_empty());
    let reopened = store.load_state("alice@example.test", &inbox()).unwrap();
    assert_eq!(
        (reopened.uid_validity, reopened.known_uids),
        (1_764_099_999, None)
    );
}

#[test]
fn v0003_enable_comes_only_before_the_first_open_and_a_refusal_falls_back_to_condstore() {
    let caps = "ENABLE CONDSTORE QRESYNC IDLE";
    run(
        encrypted(),
        &then(
            logged_in(caps),
            vec![
                Submit(open(false, cached(7, Some(9), None))),
                Client(b"0001 ENABLE QRESYNC\r\n"),
                Server(b"0001 NO Not now\r\n"),
                Client(b"0002 SELECT INBOX (CONDSTORE)\r\n"),
                Server(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] UIDs valid\r\n0002 OK Select completed.\r\n"),
                Submit(open(false, cached(7, Some(9), None))),
                Client(b"0003 SELECT INBOX (CONDSTORE)\r\n"),
            ],
        ),
    );
    run(
        encrypted(),
        &then(
            logged_in(caps),
            vec![
                Submit(Command::Select { mailbox: inbox() }),
                Client(b"0001 SELECT INBOX\r\n"),
                Server(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] UIDs valid\r\n0001 OK Select completed.\r\n"),
                // Too late for ENABLE (RFC 5161 §3.1): CONDSTORE it is.
                Submit(open(true, cached(7, Some(9), None))),
                Client(b"0002 EXAMINE INBOX (CONDSTORE)\r\n"),
            ],
        ),
    );
}
