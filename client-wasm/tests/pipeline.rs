//! Pipelining (row V0026, RFC 3501 §5.5): which commands go out before earlier ones are
//! answered, how replies find their command, and what always waits. Dovecot 2.3's wording;
//! every script is also fed one byte at a time.

#![cfg(not(target_arch = "wasm32"))]

#[allow(
    dead_code,
    reason = "the harness is shared; this file needs only part of it"
)]
mod support;

use client_wasm::{
    AuthMethod, Command, Credentials, Event, Flag, Instant, MailboxName, SearchQuery, StoreAction,
    TransportSecurity, Uid, UidRange, UidSet,
};
use support::{Step, Step::*, encrypted, run, run_timed};

/// Logged in (tag `0000`, id 0) and INBOX selected (tag `0001`, id 1): three messages, UIDs
/// 3, 5 and 8.
fn selected() -> Vec<Step> {
    let mut steps = support::logged_in_with(
        b"0000 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE UIDPLUS MOVE] Logged in\r\n",
    );
    steps.extend([
        Submit(Command::Select {
            mailbox: MailboxName::inbox(),
        }),
        Client(b"0001 SELECT INBOX\r\n"),
        Server(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1764090000] UIDs valid\r\n* OK [UIDNEXT 9] Predicted next UID\r\n0001 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n"),
    ]);
    steps
}

fn then(mut head: Vec<Step>, tail: Vec<Step>) -> Vec<Step> {
    head.extend(tail);
    head
}

fn uids(values: &[u32]) -> UidSet {
    UidSet::from_uids(values.iter().filter_map(|&v| Uid::new(v))).unwrap()
}

fn store(values: &[u32], action: StoreAction, flag: Flag) -> Command {
    Command::Store {
        uids: uids(values),
        action,
        flags: vec![flag],
    }
}

fn status(name: &str) -> Command {
    Command::Status {
        mailbox: MailboxName::from_wire(name),
    }
}

fn search_from(sender: &str) -> Command {
    Command::Search {
        query: SearchQuery {
            from: Some(sender.into()),
            ..SearchQuery::default()
        },
    }
}

/// Runs `tail` after `selected()`; the events after the SELECT, outlined.
fn replay(tail: Vec<Step>) -> Vec<String> {
    outline(&run(encrypted(), &then(selected(), tail)))
}

/// The events after INBOX was selected, each as `what id details`; ids count submissions
/// from 0 (the login) and 1 (the SELECT).
fn outline(events: &[Event]) -> Vec<String> {
    let at = events
        .iter()
        .position(|e| matches!(e, Event::MailboxSelected { .. }))
        .map_or(0, |at| at + 1);
    events[at..].iter().map(describe).collect()
}

fn describe(event: &Event) -> String {
    match event {
        Event::CommandCompleted { id } => format!("completed {}", id.get()),
        Event::CommandFailed { id, error } => format!("failed {} {}", id.get(), error.code()),
        Event::StatusReceived { id, status } => format!(
            "status {} {} {:?}",
            id.get(),
            status
                .name
                .as_ref()
                .map(MailboxName::display)
                .unwrap_or_default(),
            status.messages
        ),
        Event::SearchCompleted { id, uids } => format!("search {} {uids:?}", id.get()),
        Event::FetchReceived { id, message } => {
            format!("fetched {:?} {}", id.map(|id| id.get()), message.uid)
        }
        Event::FetchCompleted { id } => format!("fetch done {}", id.get()),
        Event::Appended { id, uid } => format!("appended {} {uid:?}", id.get()),
        Event::Copied { id, copies } => format!(
            "copied {} {:?}",
            id.get(),
            copies.as_ref().map(|c| c.uids.to_string())
        ),
        Event::MailboxSelected { id, mailbox } => {
            format!("selected {} {}", id.get(), mailbox.name.display())
        }
        Event::IdleStarted { id } => format!("idling {}", id.get()),
        Event::LoggedIn { id, .. } => format!("logged in {}", id.get()),
        Event::Closed { error } => format!("closed {:?}", error.as_ref().map(|e| e.code())),
        other => format!("{other:?}"),
    }
}

#[test]
fn v0026_v0044_uid_stores_and_statuses_go_out_together_and_replies_find_their_command() {
    let events = replay(vec![
        Submit(store(&[3], StoreAction::Add, Flag::Seen)),
        Submit(store(&[5], StoreAction::Add, Flag::Flagged)),
        Submit(status("Archive")),
        Submit(status("Sent")),
        Client(b"0002 UID STORE 3 +FLAGS.SILENT (\\Seen)\r\n0003 UID STORE 5 +FLAGS.SILENT (\\Flagged)\r\n0004 STATUS Archive (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n0005 STATUS Sent (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"),
        // Both STATUS replies before either tagged OK, in the other order.
        Server(b"* STATUS Sent (MESSAGES 2 UNSEEN 0 UIDNEXT 3 UIDVALIDITY 1764090002)\r\n* STATUS Archive (MESSAGES 7 UNSEEN 1 UIDNEXT 8 UIDVALIDITY 1764090001)\r\n"),
        Server(b"0005 OK Status completed.\r\n"),
        Server(b"0003 OK Store completed.\r\n"),
        Server(b"0004 OK Status completed.\r\n"),
        Server(b"0002 OK Store completed.\r\n"),
    ]);
    assert_eq!(
        events,
        [
            "status 5 Sent Some(2)",
            "completed 3",
            "status 4 Archive Some(7)",
            "completed 2",
        ]
    );
}

#[test]
fn v0026_a_no_fails_only_its_own_command() {
    let events = replay(vec![
        Submit(store(&[3], StoreAction::Add, Flag::Seen)),
        Submit(Command::Copy {
            uids: uids(&[5]),
            to: MailboxName::from_wire("Archive"),
        }),
        Submit(store(&[8], StoreAction::Remove, Flag::Seen)),
        Client(b"0002 UID STORE 3 +FLAGS.SILENT (\\Seen)\r\n0003 UID COPY 5 Archive\r\n0004 UID STORE 8 -FLAGS.SILENT (\\Seen)\r\n"),
        Server(b"0002 OK Store completed.\r\n0003 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)\r\n0004 OK Store completed.\r\n"),
    ]);
    assert_eq!(events, ["completed 2", "failed 3 rejected", "completed 4"]);
}

#[test]
fn v0026_bye_fails_every_command_in_flight_and_queued() {
    let events = replay(vec![
        Submit(store(&[3], StoreAction::Add, Flag::Seen)),
        Submit(status("Archive")),
        // Touches message 3 again: queued behind the first STORE.
        Submit(store(&[3], StoreAction::Add, Flag::Flagged)),
        Client(b"0002 UID STORE 3 +FLAGS.SILENT (\\Seen)\r\n0003 STATUS Archive (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"),
        Server(b"* BYE Server shutting down.\r\n"),
    ]);
    assert_eq!(
        events,
        [
            "failed 2 server_bye",
            "failed 3 server_bye",
            "failed 4 server_bye",
            "closed Some(\"server_bye\")",
        ]
    );
}

#[test]
fn v0026_a_response_timeout_fails_every_command_in_flight() {
    let outcome = run_timed(
        encrypted(),
        &then(
            selected(),
            vec![
                Submit(store(&[3], StoreAction::Add, Flag::Seen)),
                Submit(status("Archive")),
                Client(b"0002 UID STORE 3 +FLAGS.SILENT (\\Seen)\r\n0003 STATUS Archive (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"),
                Timeout,
            ],
        ),
    );
    assert_eq!(
        outline(&outcome.events),
        [
            "failed 2 timeout",
            "failed 3 timeout",
            "closed Some(\"timeout\")",
        ]
    );
    // The default 60 s response timeout, from when both went out (1 s on the clock).
    assert_eq!(outcome.now, Instant::from_millis(61_000));
}

#[test]
fn v0026_overlapping_flag_changes_wait_and_disjoint_ones_do_not() {
    let events = replay(vec![
        Submit(store(&[3], StoreAction::Add, Flag::Seen)),
        Submit(store(&[5], StoreAction::Add, Flag::Flagged)),
        Submit(store(&[3, 8], StoreAction::Remove, Flag::Seen)),
        Client(b"0002 UID STORE 3 +FLAGS.SILENT (\\Seen)\r\n0003 UID STORE 5 +FLAGS.SILENT (\\Flagged)\r\n"),
        // Message 5 is done; message 3's first change is not.
        Server(b"0003 OK Store completed.\r\n"),
        Client(b""),
        Server(b"0002 OK Store completed.\r\n"),
        Client(b"0004 UID STORE 3,8 -FLAGS.SILENT (\\Seen)\r\n"),
        Server(b"0004 OK Store completed.\r\n"),
    ]);
    assert_eq!(events, ["completed 3", "completed 2", "completed 4"]);
}

#[test]
fn v0026_expunge_and_move_wait_for_a_store_on_the_same_messages() {
    let events = replay(vec![
        Submit(store(&[3, 5], StoreAction::Add, Flag::Deleted)),
        Submit(Command::Expunge { uids: uids(&[3]) }),
        Submit(Command::Move {
            uids: uids(&[8]),
            to: MailboxName::from_wire("Trash"),
        }),
        Client(b"0002 UID STORE 3,5 +FLAGS.SILENT (\\Deleted)\r\n"),
        Server(b"0002 OK Store completed.\r\n"),
        // Disjoint from each other, so both go.
        Client(b"0003 UID EXPUNGE 3\r\n0004 UID MOVE 8 Trash\r\n"),
        Submit(Command::Move {
            uids: uids(&[5, 8]),
            to: MailboxName::from_wire("Trash"),
        }),
        Client(b""),
        Server(b"* 1 EXPUNGE\r\n0003 OK Expunge completed.\r\n"),
        Client(b""),
        Server(b"* OK [COPYUID 1764090005 8 1] Moved UIDs.\r\n* 2 EXPUNGE\r\n0004 OK Move completed.\r\n"),
        Client(b"0005 UID MOVE 5,8 Trash\r\n"),
        Server(b"0005 OK Move completed.\r\n"),
    ]);
    let settled: Vec<String> = events
        .into_iter()
        .filter(|line| line.starts_with("completed") || line.starts_with("copied"))
        .collect();
    assert_eq!(
        settled,
        [
            "completed 2",
            "completed 3",
            "copied 4 Some(\"1\")",
            "copied 5 None"
        ]
    );
}

#[test]
fn v0026_a_literal_waiting_for_its_continuation_holds_back_what_follows() {
    let events = replay(vec![
        Submit(store(&[3], StoreAction::Add, Flag::Seen)),
        Submit(Command::Append {
            mailbox: MailboxName::from_wire("Drafts"),
            flags: vec![],
            message: b"Subject: x\r\n\r\nbody\r\n".to_vec(),
        }),
        Submit(store(&[5], StoreAction::Add, Flag::Seen)),
        // The APPEND may follow the STORE; the STORE after it waits for `+`.
        Client(b"0002 UID STORE 3 +FLAGS.SILENT (\\Seen)\r\n0003 APPEND Drafts {20}\r\n"),
        Server(b"0002 OK Store completed.\r\n"),
        Client(b""),
        Server(b"+ OK\r\n"),
        Client(b"Subject: x\r\n\r\nbody\r\n\r\n0004 UID STORE 5 +FLAGS.SILENT (\\Seen)\r\n"),
        Server(
            b"0004 OK Store completed.\r\n0003 OK [APPENDUID 1764090003 4] Append completed.\r\n",
        ),
    ]);
    assert_eq!(
        events,
        ["completed 2", "completed 4", "appended 3 Some(Uid(4))"]
    );
}

#[test]
fn v0026_select_waits_for_the_commands_before_it_and_holds_back_those_after() {
    let events = replay(vec![
        Submit(status("Archive")),
        Submit(Command::Select {
            mailbox: MailboxName::from_wire("Drafts"),
        }),
        Submit(status("Sent")),
        Client(b"0002 STATUS Archive (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"),
        Server(b"* STATUS Archive (MESSAGES 7)\r\n0002 OK Status completed.\r\n"),
        Client(b"0003 SELECT Drafts\r\n"),
        Server(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 1764090004] UIDs valid\r\n"),
        Client(b""),
        Server(b"0003 OK [READ-WRITE] Select completed.\r\n"),
        Client(b"0004 STATUS Sent (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"),
        Server(b"* STATUS Sent (MESSAGES 2)\r\n0004 OK Status completed.\r\n"),
    ]);
    assert_eq!(
        events,
        [
            "status 2 Archive Some(7)",
            "selected 3 Drafts",
            "status 4 Sent Some(2)",
        ]
    );
}

#[test]
fn v0026_idle_starts_alone_and_only_done_follows_it() {
    let events = replay(vec![
        Submit(store(&[3], StoreAction::Add, Flag::Seen)),
        Submit(Command::Idle),
        Client(b"0002 UID STORE 3 +FLAGS.SILENT (\\Seen)\r\n"),
        Server(b"0002 OK Store completed.\r\n"),
        Client(b"0003 IDLE\r\n"),
        Server(b"+ idling\r\n"),
        Submit(store(&[5], StoreAction::Add, Flag::Seen)),
        Submit(status("Archive")),
        Client(b"DONE\r\n"),
        Server(b"0003 OK Idle completed.\r\n"),
        Client(b"0004 UID STORE 5 +FLAGS.SILENT (\\Seen)\r\n0005 STATUS Archive (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"),
        Server(b"* STATUS Archive (MESSAGES 7)\r\n0005 OK Status completed.\r\n0004 OK Store completed.\r\n"),
    ]);
    assert_eq!(
        events,
        [
            "completed 2",
            "idling 3",
            "completed 3",
            "status 5 Archive Some(7)",
            "completed 4",
        ]
    );
}

#[test]
fn v0026_logout_waits_for_every_command_before_it() {
    let events = replay(vec![
        Submit(store(&[3], StoreAction::Add, Flag::Seen)),
        Submit(status("Archive")),
        Submit(Command::Logout),
        Client(b"0002 UID STORE 3 +FLAGS.SILENT (\\Seen)\r\n0003 STATUS Archive (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"),
        Server(b"0002 OK Store completed.\r\n"),
        Client(b""),
        Server(b"* STATUS Archive (MESSAGES 7)\r\n0003 OK Status completed.\r\n"),
        Client(b"0004 LOGOUT\r\n"),
        Server(b"* BYE Logging out\r\n0004 OK Logout completed.\r\n"),
    ]);
    assert_eq!(
        events,
        ["completed 2", "status 3 Archive Some(7)", "closed None"]
    );
}

#[test]
fn v0026_nothing_goes_out_behind_starttls_or_authenticate() {
    let mut config = encrypted();
    config.transport = TransportSecurity::StartTls;
    let events = run(
        config,
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.\r\n"),
            Client(b"0000 STARTTLS\r\n"),
            Submit(Command::LogIn {
                credentials: Credentials::new("alice", "alice-pass-1"),
                method: AuthMethod::Auto,
            }),
            Client(b""),
            Server(b"0000 OK Begin TLS negotiation now.\r\n"),
            TlsEstablished,
            Client(b"0001 CAPABILITY\r\n"),
            Server(
                b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n0001 OK Pre-login capabilities listed.\r\n",
            ),
            Client(b"0002 AUTHENTICATE PLAIN\r\n"),
            Submit(Command::Logout),
            Client(b""),
            Server(b"+ \r\n"),
            Client(b"AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n"),
            Server(b"0002 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"),
            Client(b"0003 LOGOUT\r\n"),
            // The LOGOUT submitted during the login is still what the session is doing.
            Server(b"* BYE Logging out\r\n0003 OK Logout completed.\r\n"),
        ],
    );
    let described: Vec<String> = events.iter().map(describe).collect();
    assert_eq!(described[2..], ["logged in 0", "closed None"], "{events:?}");
}

#[test]
fn v0026_v0067_a_second_search_waits_while_a_status_joins_the_first() {
    let events = replay(vec![
        Submit(search_from("alice")),
        Submit(status("Archive")),
        Submit(search_from("bob")),
        Client(b"0002 UID SEARCH FROM alice\r\n0003 STATUS Archive (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"),
        Server(b"* STATUS Archive (MESSAGES 7)\r\n0003 OK Status completed.\r\n"),
        Client(b""),
        Server(b"* SEARCH 8\r\n0002 OK Search completed.\r\n"),
        Client(b"0004 UID SEARCH FROM bob\r\n"),
        Server(b"* SEARCH 3\r\n0004 OK Search completed.\r\n"),
    ]);
    assert_eq!(
        events,
        [
            "status 3 Archive Some(7)",
            "search 2 [Uid(8)]",
            "search 4 [Uid(3)]",
        ]
    );
}

#[test]
fn v0026_a_summary_fetch_shares_the_wire_with_status_but_not_with_a_store() {
    let events = replay(vec![
        Submit(Command::FetchSummaries {
            uids: UidRange {
                first: Uid::new(1).unwrap(),
                last: None,
            },
        }),
        Submit(status("Archive")),
        // `1:*` reaches every message, so the STORE waits for the FETCH.
        Submit(store(&[3], StoreAction::Add, Flag::Seen)),
        Client(b"0002 UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])\r\n0003 STATUS Archive (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"),
        Server(b"* 1 FETCH (UID 3 FLAGS () RFC822.SIZE 10 INTERNALDATE \"24-Nov-2026 10:00:00 +0100\" BODY[HEADER] {2}\r\n\r\n)\r\n* STATUS Archive (MESSAGES 7)\r\n* 2 FETCH (UID 5 FLAGS () RFC822.SIZE 10 INTERNALDATE \"24-Nov-2026 10:00:00 +0100\" BODY[HEADER] {2}\r\n\r\n)\r\n0003 OK Status completed.\r\n"),
        Client(b""),
        Server(b"0002 OK Fetch completed.\r\n"),
        Client(b"0004 UID STORE 3 +FLAGS.SILENT (\\Seen)\r\n"),
        Server(b"0004 OK Store completed.\r\n"),
    ]);
    assert_eq!(
        events,
        [
            "fetched Some(2) 3",
            "fetched Some(2) 5",
            "status 3 Archive Some(7)",
            "fetch done 2",
            "completed 4",
        ]
    );
}

#[test]
fn v0026_v0047_trycreate_creates_alone_then_retries() {
    let events = replay(vec![
        Submit(Command::Copy {
            uids: uids(&[3]),
            to: MailboxName::from_wire("Archive"),
        }),
        Submit(status("Sent")),
        Client(b"0002 UID COPY 3 Archive\r\n0003 STATUS Sent (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"),
        Server(b"0002 NO [TRYCREATE] Mailbox doesn't exist: Archive\r\n"),
        Client(b""),
        Server(b"* STATUS Sent (MESSAGES 2)\r\n0003 OK Status completed.\r\n"),
        Client(b"0004 CREATE Archive\r\n"),
        Server(b"0004 OK Create completed.\r\n"),
        Client(b"0005 UID COPY 3 Archive\r\n"),
        Server(b"0005 OK [COPYUID 5 3 1] Copy completed.\r\n"),
    ]);
    assert_eq!(events, ["status 3 Sent Some(2)", "copied 2 Some(\"1\")"]);
}

#[test]
fn v0026_a_logout_behind_a_select_is_still_a_logout_when_the_select_completes() {
    let events = replay(vec![
        Submit(Command::Select {
            mailbox: MailboxName::from_wire("Drafts"),
        }),
        Submit(Command::Logout),
        Client(b"0002 SELECT Drafts\r\n"),
        Server(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 1764090004] UIDs valid\r\n0002 OK [READ-WRITE] Select completed.\r\n"),
        Client(b"0003 LOGOUT\r\n"),
        Server(b"* BYE Logging out\r\n0003 OK Logout completed.\r\n"),
    ]);
    assert_eq!(events, ["selected 2 Drafts", "closed None"]);
}

#[test]
fn v0026_a_flag_change_during_a_summary_fetch_is_not_one_of_its_summaries() {
    let events = replay(vec![
        Submit(Command::FetchSummaries {
            uids: UidRange {
                first: Uid::new(3).unwrap(),
                last: Uid::new(5),
            },
        }),
        Submit(store(&[8], StoreAction::Add, Flag::Seen)),
        Client(b"0002 UID FETCH 3:5 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])\r\n0003 UID STORE 8 +FLAGS.SILENT (\\Seen)\r\n"),
        // The STORE's change echoed with its UID (.SILENT only asks), amid the FETCH.
        Server(b"* 1 FETCH (UID 3 FLAGS () RFC822.SIZE 10 INTERNALDATE \"24-Nov-2026 10:00:00 +0100\" BODY[HEADER] {2}\r\n\r\n)\r\n* 3 FETCH (UID 8 FLAGS (\\Seen))\r\n0003 OK Store completed.\r\n"),
        Server(b"* 2 FETCH (UID 5 FLAGS () RFC822.SIZE 10 INTERNALDATE \"24-Nov-2026 10:00:00 +0100\" BODY[HEADER] {2}\r\n\r\n)\r\n0002 OK Fetch completed.\r\n"),
    ]);
    assert_eq!(
        events,
        [
            "fetched Some(2) 3",
            "fetched None 8",
            "completed 3",
            "fetched Some(2) 5",
            "fetch done 2",
        ]
    );
}

/// `STATUS` command lines as sent, one per `(tag, mailbox)`.
fn status_lines(sent: &[(&str, &str)]) -> &'static [u8] {
    let lines: String = sent
        .iter()
        .map(|(tag, name)| format!("{tag} STATUS {name} (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n"))
        .collect();
    Box::leak(lines.into_bytes().into_boxed_slice())
}

#[test]
fn v0026_v0044_at_most_eight_commands_are_in_flight() {
    let names = ["F0", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9"];
    let tags = [
        "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009",
    ];
    let mut tail: Vec<Step> = names.iter().map(|name| Submit(status(name))).collect();
    let first: Vec<(&str, &str)> = tags.into_iter().zip(names).collect();
    tail.extend([
        Client(status_lines(&first)),
        Server(b"* STATUS F1 (MESSAGES 1)\r\n0003 OK Status completed.\r\n"),
        Client(status_lines(&[("000a", "F8")])),
        Server(b"* STATUS F0 (MESSAGES 0)\r\n0002 OK Status completed.\r\n"),
        Client(status_lines(&[("000b", "F9")])),
    ]);
    assert_eq!(replay(tail), ["status 3 F1 Some(1)", "status 2 F0 Some(0)"]);
}
