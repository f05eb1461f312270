//! Gmail's X-GM-EXT-1: message and thread ids, labels read and stored, raw search. Transcripts
//! follow Gmail's wording and capability list (developers.google.com/gmail/imap).

#![cfg(not(target_arch = "wasm32"))]

// This binary drives no TLS upgrade or hang-up.
#[allow(dead_code)]
mod support;

use client_wasm::{
    Command, Event, Flag, GmailId, Label, LabelAction, MailboxName, SearchQuery, SortKey,
    SortOrder, Uid,
};
use support::{Step, Step::*, encrypted, logged_in_with, run, then, uid, uids};

const GMAIL: &str = "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS ENABLE MOVE UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584";

/// Logged in with `capabilities` (tag `0000`), INBOX selected with three messages (`0001`).
fn selected(capabilities: &str) -> Vec<Step> {
    let ok =
        format!("0000 OK [CAPABILITY {capabilities}] alice@gmail.com authenticated (Success)\r\n");
    then(
        logged_in_with(Box::leak(ok.into_bytes().into_boxed_slice())),
        vec![
            Submit(Command::Select {
                mailbox: MailboxName::inbox(),
            }),
            Client(b"0001 SELECT INBOX\r\n"),
            Server(b"* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing \\*)] Flags permitted.\r\n* OK [UIDVALIDITY 1] UIDs valid.\r\n* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDNEXT 9] Predicted next UID.\r\n0001 OK [READ-WRITE] INBOX selected. (Success)\r\n"),
        ],
    )
}

/// `FetchGmail` of UID 3 on Gmail, answered by `replies`.
fn fetch_gmail_of_3(replies: Vec<Step>) -> Vec<Event> {
    let head = vec![
        Submit(Command::FetchGmail { uids: uids(&[3]) }),
        Client(b"0002 UID FETCH 3 (UID X-GM-MSGID X-GM-THRID X-GM-LABELS)\r\n"),
    ];
    run(encrypted(), &then(then(selected(GMAIL), head), replies))
}

/// The events after the SELECT's `MailboxSelected`.
fn after_select(events: &[Event]) -> &[Event] {
    let at = events
        .iter()
        .position(|e| matches!(e, Event::MailboxSelected { .. }))
        .expect("INBOX selected");
    &events[at + 1..]
}

fn labels(names: &[&str]) -> Vec<Label> {
    names.iter().map(|name| Label::parse(name)).collect()
}

fn store_labels(values: &[u32], action: LabelAction, names: &[&str]) -> Command {
    Command::StoreLabels {
        uids: uids(values),
        action,
        labels: labels(names),
    }
}

fn user(wire: &str) -> Label {
    Label::User(MailboxName::from_wire(wire))
}

fn system(name: &str) -> Label {
    Label::System(name.to_owned())
}

#[test]
fn c0003_fetch_gmail_sends_its_item_list_and_reads_ids_and_labels() {
    let events = run(
        encrypted(),
        &then(
            selected(GMAIL),
            vec![
                Submit(Command::FetchGmail {
                    uids: uids(&[3, 4, 5, 8]),
                }),
                Client(b"0002 UID FETCH 3:5,8 (UID X-GM-MSGID X-GM-THRID X-GM-LABELS)\r\n"),
                Server(b"* 1 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 1278455344230334865 X-GM-LABELS (\\Inbox \\Important \"Work/Q4 Plans\") UID 3)\r\n"),
                // Newer Gmail quotes system labels; user labels in modified UTF-7, or as a
                // literal.
                Server(b"* 2 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 1278455344230334866 X-GM-LABELS (\"\\\\Sent\" &AMk-t&AOk- {7}\r\nfoo bar) UID 5)\r\n"),
                Server(b"* 3 FETCH (X-GM-THRID 18446744073709551615 X-GM-MSGID 18446744073709551615 X-GM-LABELS () UID 8)\r\n0002 OK Success\r\n"),
            ],
        ),
    );
    let events = after_select(&events);
    assert_eq!(events.len(), 4, "{events:?}");
    let Event::GmailFetched {
        uid: first_uid,
        message_id,
        thread_id,
        labels: first,
        ..
    } = &events[0]
    else {
        panic!("{events:?}")
    };
    assert_eq!(*first_uid, uid(3));
    assert_eq!(*message_id, GmailId(1_278_455_344_230_334_865));
    assert_eq!(*thread_id, GmailId(1_266_894_439_832_287_888));
    assert_eq!(
        *first,
        vec![system("Inbox"), system("Important"), user("Work/Q4 Plans")]
    );
    let Event::GmailFetched { labels: second, .. } = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(
        *second,
        vec![system("Sent"), user("&AMk-t&AOk-"), user("foo bar")]
    );
    assert_eq!(second[1].display(), "Été");
    let Event::GmailFetched {
        uid: last_uid,
        message_id,
        labels: last,
        ..
    } = &events[2]
    else {
        panic!("{events:?}")
    };
    assert_eq!((*last_uid, *message_id), (uid(8), GmailId(u64::MAX)));
    assert!(last.is_empty());
    assert!(matches!(events[3], Event::FetchCompleted { .. }));
}

#[test]
fn gmail_items_are_refused_without_x_gm_ext_1() {
    let raw = SearchQuery {
        gmail_raw: Some("has:attachment".into()),
        ..SearchQuery::default()
    };
    let events = run(
        encrypted(),
        &then(
            selected("IMAP4rev1 IDLE UIDPLUS"),
            vec![
                SubmitFails(Command::FetchGmail { uids: uids(&[3]) }, "not_supported"),
                SubmitFails(
                    store_labels(&[3], LabelAction::Add, &["\\Important"]),
                    "not_supported",
                ),
                SubmitFails(Command::Search { query: raw.clone() }, "not_supported"),
                SubmitFails(
                    Command::Sort {
                        order: vec![SortOrder {
                            key: SortKey::Arrival,
                            reverse: true,
                        }],
                        query: raw.clone(),
                    },
                    "not_supported",
                ),
                SubmitFails(Command::Thread { query: raw }, "not_supported"),
            ],
        ),
    );
    assert!(after_select(&events).is_empty(), "{events:?}");
}

#[test]
fn v0059_labels_are_stored_by_uid_and_their_new_state_reported() {
    let events = run(
        encrypted(),
        &then(
            selected(GMAIL),
            vec![
                Submit(store_labels(&[3, 5], LabelAction::Add, &["\\Important", "Work/Q4 Plans", "Team \"A\"", "&AMk-t&AOk-"])),
                Client(b"0002 UID STORE 3,5 +X-GM-LABELS (\\Important \"Work/Q4 Plans\" \"Team \\\"A\\\"\" &AMk-t&AOk-)\r\n"),
                Server(b"* 1 FETCH (X-GM-LABELS (\\Inbox \\Important \"Work/Q4 Plans\" \"Team \\\"A\\\"\" &AMk-t&AOk-) UID 3)\r\n* 2 FETCH (X-GM-LABELS (\\Important \"Work/Q4 Plans\" \"Team \\\"A\\\"\" &AMk-t&AOk-) UID 5)\r\n0002 OK Success\r\n"),
                Submit(store_labels(&[5], LabelAction::Remove, &["\\Important"])),
                Client(b"0003 UID STORE 5 -X-GM-LABELS (\\Important)\r\n"),
                Server(b"* 2 FETCH (X-GM-LABELS (\"Work/Q4 Plans\" \"Team \\\"A\\\"\" &AMk-t&AOk-) UID 5)\r\n0003 OK Success\r\n"),
                Submit(Command::StoreLabels {
                    uids: uids(&[3]),
                    action: LabelAction::Replace,
                    labels: Vec::new(),
                }),
                Client(b"0004 UID STORE 3 X-GM-LABELS ()\r\n"),
                Server(b"* 1 FETCH (X-GM-LABELS () UID 3)\r\n0004 OK Success\r\n"),
            ],
        ),
    );
    let events = after_select(&events);
    let changed = |index: usize| match &events[index] {
        Event::LabelsChanged {
            id: Some(_),
            seq,
            uid,
            labels,
        } => (*seq, uid.map(Uid::get), labels.clone()),
        other => panic!("{other:?} in {events:?}"),
    };
    let ours = vec![
        system("Important"),
        user("Work/Q4 Plans"),
        user("Team \"A\""),
        user("&AMk-t&AOk-"),
    ];
    let mut first = vec![system("Inbox")];
    first.extend(ours.clone());
    assert_eq!(changed(0), (1, Some(3), first));
    assert_eq!(changed(1), (2, Some(5), ours.clone()));
    assert!(matches!(events[2], Event::CommandCompleted { .. }));
    assert_eq!(changed(3), (2, Some(5), ours[1..].to_vec()));
    assert!(matches!(events[4], Event::CommandCompleted { .. }));
    assert_eq!(changed(5), (1, Some(3), Vec::new()));
    assert!(matches!(events[6], Event::CommandCompleted { .. }));
    assert_eq!(events.len(), 7, "{events:?}");
}

#[test]
fn hostile_labels_cannot_inject_and_bad_system_labels_are_refused() {
    let events = run(
        encrypted(),
        &then(
            selected(GMAIL),
            vec![
                SubmitFails(
                    store_labels(&[3], LabelAction::Add, &["\\Inbox) 0009 DELETE INBOX"]),
                    "invalid_argument",
                ),
                SubmitFails(
                    Command::StoreLabels {
                        uids: uids(&[3]),
                        action: LabelAction::Add,
                        labels: Vec::new(),
                    },
                    "invalid_argument",
                ),
                // A line break cannot travel quoted: the label goes as a literal, whose length
                // the server counts, so nothing in it starts a command. Gmail's LITERAL- lets
                // it go without waiting for `+`.
                Submit(store_labels(
                    &[3],
                    LabelAction::Add,
                    &["x)\r\n0009 DELETE INBOX"],
                )),
                Client(b"0002 UID STORE 3 +X-GM-LABELS ({21+}\r\nx)\r\n0009 DELETE INBOX)\r\n"),
                Server(b"0002 NO [CANNOT] Invalid label (Failure)\r\n"),
            ],
        ),
    );
    assert!(
        matches!(after_select(&events), [Event::CommandFailed { .. }]),
        "{events:?}"
    );
}

#[test]
fn without_non_synchronizing_literals_a_label_literal_waits_for_the_continuation() {
    run(
        encrypted(),
        &then(
            selected("IMAP4rev1 X-GM-EXT-1"),
            vec![
                Submit(store_labels(
                    &[3],
                    LabelAction::Add,
                    &["\\Starred", "caf\u{e9}"],
                )),
                Client(b"0002 UID STORE 3 +X-GM-LABELS (\\Starred {5}\r\n"),
                Server(b"+ go ahead\r\n"),
                Client("caf\u{e9})\r\n".as_bytes()),
                Server(b"* 1 FETCH (X-GM-LABELS (\\Starred) UID 3)\r\n0002 OK Success\r\n"),
            ],
        ),
    );
}

#[test]
fn c0004_unasked_labels_keep_the_sequence_map_and_flags_apart() {
    let events = run(
        encrypted(),
        &then(
            selected(GMAIL),
            vec![
                Submit(Command::Idle),
                Client(b"0002 IDLE\r\n"),
                Server(b"+ idling\r\n"),
                // Another client labels message 2, then message 1 goes away: message 2 is now
                // number 1, and Gmail names it without its UID.
                Server(b"* 2 FETCH (X-GM-LABELS (\\Inbox Receipts) UID 5)\r\n"),
                Server(b"* 1 EXPUNGE\r\n"),
                Server(b"* 1 FETCH (FLAGS (\\Seen) X-GM-LABELS (Receipts))\r\n"),
                Server(b"* 1 FETCH (X-GM-MSGID 1278455344230334866)\r\n"),
            ],
        ),
    );
    assert_eq!(
        after_select(&events)[1..],
        [
            Event::LabelsChanged {
                id: None,
                seq: 2,
                uid: Some(uid(5)),
                labels: vec![system("Inbox"), user("Receipts")],
            },
            Event::MessageExpunged { seq: 1, uid: None },
            Event::MailboxChanged {
                exists: 2,
                recent: 0,
            },
            Event::FlagsChanged {
                seq: 1,
                uid: Some(uid(5)),
                flags: vec![Flag::Seen],
                modseq: None,
            },
            Event::LabelsChanged {
                id: None,
                seq: 1,
                uid: Some(uid(5)),
                labels: vec![user("Receipts")],
            },
        ],
        "{events:?}"
    );
}

#[test]
fn n0003_malformed_or_oversized_gmail_items_are_skipped_whole() {
    let too_many = format!(
        "* 1 FETCH (X-GM-LABELS ({}) UID 3)\r\n",
        vec!["L"; 10_001].join(" ")
    );
    let too_long = format!("* 1 FETCH (X-GM-LABELS ({}) UID 3)\r\n", "L".repeat(1025));
    let events = fetch_gmail_of_3(vec![
                // One more than 64 bits, a negative id, labels not a list, over the limits.
                Server(b"* 1 FETCH (X-GM-MSGID 18446744073709551616 X-GM-THRID 1 X-GM-LABELS () UID 3)\r\n"),
                Server(b"* 1 FETCH (X-GM-MSGID -1 X-GM-THRID 1 X-GM-LABELS () UID 3)\r\n"),
                Server(b"* 1 FETCH (X-GM-MSGID 1 X-GM-THRID 1 X-GM-LABELS \\Inbox UID 3)\r\n"),
                Server(Box::leak(too_many.into_bytes().into_boxed_slice())),
                Server(Box::leak(too_long.into_bytes().into_boxed_slice())),
                Server(b"* 1 FETCH (X-GM-MSGID 7 X-GM-THRID 7 X-GM-LABELS (\\Inbox) UID 3 FLAGS (\\Seen))\r\n0002 OK Success\r\n"),
    ]);
    let events = after_select(&events);
    for skipped in &events[..5] {
        assert!(
            matches!(skipped, Event::ResponseSkipped { .. }),
            "{events:?}"
        );
    }
    // The FLAGS beside them go the way of any FETCH naming a UID.
    assert!(
        matches!(&events[5], Event::FetchReceived { id: None, message }
            if message.uid == uid(3) && *message.flags == [Flag::Seen]),
        "{events:?}"
    );
    assert_eq!(
        events[6..],
        [
            Event::GmailFetched {
                id: match events[7] {
                    Event::FetchCompleted { id } => id,
                    _ => panic!("{events:?}"),
                },
                uid: uid(3),
                message_id: GmailId(7),
                thread_id: GmailId(7),
                labels: vec![system("Inbox")],
            },
            events[7].clone(),
        ]
    );
}

#[test]
fn v0051_gmail_raw_search_is_quoted_or_a_literal_and_comes_first() {
    let raw = |text: &str| SearchQuery {
        gmail_raw: Some(text.into()),
        unseen: true,
        ..SearchQuery::default()
    };
    let events = run(
        encrypted(),
        &then(
            selected(GMAIL),
            vec![
                Submit(Command::Search {
                    query: raw("has:attachment in:unread"),
                }),
                Client(b"0002 UID SEARCH X-GM-RAW \"has:attachment in:unread\" UNSEEN\r\n"),
                Server(b"* SEARCH 8 3\r\n0002 OK SEARCH completed (Success)\r\n"),
                // The marker's own words in the query stay inside its quotes.
                Submit(Command::Search {
                    query: raw("subject:\"HEADER X-GM-RAW \""),
                }),
                Client(b"0003 UID SEARCH X-GM-RAW \"subject:\\\"HEADER X-GM-RAW \\\"\" UNSEEN\r\n"),
                Server(b"* SEARCH\r\n0003 OK SEARCH completed (Success)\r\n"),
                Submit(Command::Search {
                    query: raw("\u{e9}t\u{e9}"),
                }),
                Client(
                    "0004 UID SEARCH CHARSET UTF-8 X-GM-RAW {5+}\r\n\u{e9}t\u{e9} UNSEEN\r\n"
                        .as_bytes(),
                ),
                Server(b"* SEARCH 5\r\n0004 OK SEARCH completed (Success)\r\n"),
                // Gmail has no SORT: the engine searches (with the raw query) and sorts.
                Submit(Command::Sort {
                    order: vec![SortOrder {
                        key: SortKey::Arrival,
                        reverse: true,
                    }],
                    query: SearchQuery {
                        gmail_raw: Some("label:receipts".into()),
                        ..SearchQuery::default()
                    },
                }),
                Client(b"0005 UID SEARCH X-GM-RAW \"label:receipts\"\r\n"),
                Server(b"* SEARCH\r\n0005 OK SEARCH completed (Success)\r\n"),
            ],
        ),
    );
    let answers: Vec<Vec<u32>> = after_select(&events)
        .iter()
        .map(|event| match event {
            Event::SearchCompleted { uids, .. } | Event::SortCompleted { uids, .. } => {
                uids.iter().map(|u| u.get()).collect()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(answers, [vec![3, 8], vec![], vec![5], vec![]]);
}

#[test]
fn v0026_label_commands_gather_so_they_wait_for_another_gatherer() {
    run(
        encrypted(),
        &then(
            selected(GMAIL),
            vec![
                Submit(Command::FetchGmail { uids: uids(&[3]) }),
                Submit(store_labels(&[8], LabelAction::Add, &["\\Starred"])),
                // A flag STORE of other messages needs only its tagged status: it may go along.
                Submit(Command::Store {
                    uids: uids(&[5]),
                    action: client_wasm::StoreAction::Add,
                    flags: vec![Flag::Seen],
                }),
                Client(b"0002 UID FETCH 3 (UID X-GM-MSGID X-GM-THRID X-GM-LABELS)\r\n"),
                Server(b"* 1 FETCH (X-GM-THRID 1 X-GM-MSGID 2 X-GM-LABELS () UID 3)\r\n0002 OK Success\r\n"),
                Client(b"0003 UID STORE 8 +X-GM-LABELS (\\Starred)\r\n0004 UID STORE 5 +FLAGS.SILENT (\\Seen)\r\n"),
                Server(b"* 3 FETCH (X-GM-LABELS (\\Starred) UID 8)\r\n0003 OK Success\r\n0004 OK Success\r\n"),
            ],
        ),
    );
}

#[test]
fn gmail_events_serialize_with_ids_as_decimal_strings() {
    let events = fetch_gmail_of_3(vec![Server(
        b"* 1 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 18446744073709551615 X-GM-LABELS (\\Important &AMk-t&AOk-) UID 3)\r\n0002 OK Success\r\n",
    )]);
    assert_eq!(
        serde_json::to_value(&after_select(&events)[0]).unwrap(),
        serde_json::json!({
            "type": "gmail_fetched",
            "id": 2,
            "uid": 3,
            "message_id": "18446744073709551615",
            "thread_id": "1266894439832287888",
            "labels": [
                {"name": "\\Important", "display": "Important", "system": true},
                {"name": "&AMk-t&AOk-", "display": "Été", "system": false},
            ],
        })
    );
}

#[test]
fn v0039_labels_are_not_stored_in_a_read_only_mailbox() {
    let ok = format!("0000 OK [CAPABILITY {GMAIL}] alice@gmail.com authenticated (Success)\r\n");
    let events = run(
        encrypted(),
        &then(
            logged_in_with(Box::leak(ok.into_bytes().into_boxed_slice())),
            vec![
                Submit(Command::Open {
                    mailbox: MailboxName::inbox(),
                    read_only: true,
                    cached: None,
                }),
                Client(b"0001 EXAMINE INBOX\r\n"),
                Server(b"* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen)\r\n* OK [PERMANENTFLAGS ()] Flags permitted.\r\n* OK [UIDVALIDITY 1] UIDs valid.\r\n* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDNEXT 9] Predicted next UID.\r\n0001 OK [READ-ONLY] INBOX selected. (Success)\r\n"),
                SubmitFails(
                    store_labels(&[3], LabelAction::Add, &["\\Starred"]),
                    "read_only",
                ),
                // Reading them is fine.
                Submit(Command::FetchGmail { uids: uids(&[3]) }),
                Client(b"0002 UID FETCH 3 (UID X-GM-MSGID X-GM-THRID X-GM-LABELS)\r\n"),
            ],
        ),
    );
    assert!(after_select(&events).is_empty(), "{events:?}");
}
