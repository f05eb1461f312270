//! SORT and THREAD (RFC 5256): the server's when advertised, else the engine's own over the
//! fetched summaries, which must agree with what a server answers for the same messages.

#![cfg(not(target_arch = "wasm32"))]

#[allow(
    dead_code,
    reason = "the harness is shared; this file needs only part of it"
)]
mod support;

use client_wasm::{
    Command, Event, MessageSummary, SearchQuery, SortKey, SortOrder, ThreadNode, Uid, UidRange,
    sort_summaries, thread_by_references,
};
use support::{Step, Step::*, encrypted, run};

/// Five messages: 2 answers 1 by In-Reply-To; 3 follows 1 through a message that is not here;
/// 5 answers a missing message but shares 4's subject. Sent and arrival order differ.
const FETCH_FIVE: &[u8] = b"* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 900 INTERNALDATE \"03-Nov-2025 10:00:05 +0000\" BODY[HEADER] {118}\r\n\
From: Carol <carol@example.com>\r\n\
Date: Mon, 3 Nov 2025 10:00:00 +0000\r\n\
Subject: Lunch\r\n\
Message-ID: <a@example.com>\r\n\
\r\n\
)\r\n\
* 2 FETCH (UID 2 FLAGS () RFC822.SIZE 300 INTERNALDATE \"04-Nov-2025 09:00:00 +0000\" BODY[HEADER] {142}\r\n\
From: bob@example.com\r\n\
Date: Mon, 3 Nov 2025 11:00:00 +0000\r\n\
Subject: Re: Lunch\r\n\
Message-ID: <b@example.com>\r\n\
In-Reply-To: <a@example.com>\r\n\
\r\n\
)\r\n\
* 3 FETCH (UID 3 FLAGS () RFC822.SIZE 1200 INTERNALDATE \"03-Nov-2025 12:00:01 +0000\" BODY[HEADER] {173}\r\n\
From: Alice <alice@example.com>\r\n\
Date: Mon, 3 Nov 2025 12:00:00 +0000\r\n\
Subject: Re: Lunch\r\n\
Message-ID: <c@example.com>\r\n\
References: <a@example.com> <missing@example.com>\r\n\
\r\n\
)\r\n\
* 4 FETCH (UID 4 FLAGS () RFC822.SIZE 50 INTERNALDATE \"05-Nov-2025 08:00:00 +0000\" BODY[HEADER] {122}\r\n\
From: dave@example.com\r\n\
Date: Sun, 2 Nov 2025 08:00:00 +0000\r\n\
Subject: [dev] Build broken\r\n\
Message-ID: <d@example.com>\r\n\
\r\n\
)\r\n\
* 5 FETCH (UID 5 FLAGS () RFC822.SIZE 600 INTERNALDATE \"06-Nov-2025 08:00:00 +0000\" BODY[HEADER] {156}\r\n\
From: Erin <erin@example.com>\r\n\
Date: Thu, 6 Nov 2025 07:59:00 +0000\r\n\
Subject: Re: Build broken\r\n\
Message-ID: <e@example.com>\r\n\
References: <z@example.com>\r\n\
\r\n\
)\r\n\
0002 OK Fetch completed (0.001 + 0.000 secs).\r\n\
";

/// Logged in with the capabilities of `ok`, INBOX selected (tags 0000 and 0001).
fn selected(ok: &'static [u8]) -> Vec<Step> {
    let mut steps = support::logged_in_with(ok);
    steps.extend([
        Submit(Command::Select {
            mailbox: client_wasm::MailboxName::inbox(),
        }),
        Client(b"0001 SELECT INBOX\r\n"),
        Server(b"* 5 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1764090000] UIDs valid\r\n0001 OK [READ-WRITE] Select completed.\r\n"),
    ]);
    steps
}

const WITH_SORT: &[u8] =
    b"0000 OK [CAPABILITY IMAP4rev1 SORT THREAD=REFERENCES THREAD=ORDEREDSUBJECT] Logged in\r\n";
const WITHOUT_SORT: &[u8] = b"0000 OK [CAPABILITY IMAP4rev1] Logged in\r\n";

fn script(ok: &'static [u8], tail: Vec<Step>) -> Vec<Step> {
    let mut steps = selected(ok);
    steps.extend(tail);
    steps
}

/// The five summaries as a server without SORT lets the engine fetch them.
fn fetched() -> Vec<MessageSummary> {
    let events = run(
        encrypted(),
        &script(
            WITHOUT_SORT,
            vec![
                Submit(Command::FetchSummaries {
                    uids: UidRange {
                        first: Uid::new(1).unwrap(),
                        last: None,
                    },
                }),
                Client(b"0002 UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])\r\n"),
                Server(FETCH_FIVE),
            ],
        ),
    );
    events
        .into_iter()
        .filter_map(|event| match event {
            Event::FetchReceived { message, .. } => Some(message),
            _ => None,
        })
        .collect()
}

fn sorted(key: SortKey, reverse: bool) -> Vec<u32> {
    let mut messages = fetched();
    sort_summaries(&mut messages, &[SortOrder { key, reverse }]);
    messages.iter().map(|m| m.uid.get()).collect()
}

#[test]
fn v0006_fallback_sorts_by_arrival_or_sent_date_as_rfc_5256_defines() {
    assert_eq!(sorted(SortKey::Arrival, false), [1, 3, 2, 4, 5]);
    assert_eq!(sorted(SortKey::Date, false), [4, 1, 2, 3, 5]);
    assert_eq!(sorted(SortKey::Date, true), [5, 3, 2, 1, 4]);
}

#[test]
fn fallback_sorts_by_sender_mailbox_base_subject_and_size() {
    assert_eq!(sorted(SortKey::From, false), [3, 2, 1, 4, 5]);
    assert_eq!(sorted(SortKey::From, true), [5, 4, 1, 2, 3]);
    // "[dev] Build broken" and "Re: Build broken" share a base subject; ties keep
    // sequence order.
    assert_eq!(sorted(SortKey::Subject, false), [4, 5, 1, 2, 3]);
    assert_eq!(sorted(SortKey::Size, false), [4, 2, 5, 1, 3]);
}

#[test]
fn v0006_server_sort_is_used_when_advertised() {
    let by_date = || Command::Sort {
        order: vec![SortOrder {
            key: SortKey::Date,
            reverse: true,
        }],
        query: SearchQuery {
            unseen: true,
            ..SearchQuery::default()
        },
    };
    let events = run(
        encrypted(),
        &script(
            WITH_SORT,
            vec![
                Submit(by_date()),
                Client(b"0002 UID SORT (REVERSE DATE) US-ASCII UNSEEN\r\n"),
                Server(b"* SORT 5 3 2\r\n0002 OK Sort completed (0.001 + 0.000 secs).\r\n"),
            ],
        ),
    );
    let [.., Event::SortCompleted { uids, .. }] = events.as_slice() else {
        panic!("{events:?}")
    };
    let uids: Vec<u32> = uids.iter().map(|u| u.get()).collect();
    assert_eq!(uids, [5, 3, 2], "the server's order is kept");
}

/// A server without SORT and THREAD: the engine searches, fetches the hits' summaries under
/// the same command and answers `command` itself.
fn without_extensions(command: Command) -> Vec<Event> {
    without_extensions_meanwhile(command, "")
}

/// As `without_extensions`, with `meanwhile` (unasked responses) before the FETCH answer.
fn without_extensions_meanwhile(command: Command, meanwhile: &str) -> Vec<Event> {
    let fetch_answer =
        meanwhile.to_owned() + &String::from_utf8_lossy(FETCH_FIVE).replace("0002 OK", "0003 OK");
    let fetch_answer: &'static [u8] = Box::leak(fetch_answer.into_bytes().into_boxed_slice());
    run(
        encrypted(),
        &script(
            WITHOUT_SORT,
            vec![
                Submit(command),
                Client(b"0002 UID SEARCH ALL\r\n"),
                Server(b"* SEARCH 5 3 1 2 4\r\n0002 OK Search completed.\r\n"),
                Client(b"0003 UID FETCH 1:5 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])\r\n"),
                Server(fetch_answer),
            ],
        ),
    )
}

#[test]
fn v0006_without_sort_the_engine_sorts_the_search_hits_itself() {
    let by_subject = Command::Sort {
        order: vec![SortOrder {
            key: SortKey::Subject,
            reverse: false,
        }],
        query: SearchQuery::default(),
    };
    let events = without_extensions(by_subject);
    let [.., Event::SortCompleted { uids, .. }] = events.as_slice() else {
        panic!("{events:?}")
    };
    let uids: Vec<u32> = uids.iter().map(|u| u.get()).collect();
    assert_eq!(uids, sorted(SortKey::Subject, false));
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::FetchReceived { .. }))
            .count(),
        0
    );
}

#[test]
fn another_clients_flag_change_during_the_fallback_is_reported_not_sorted() {
    let by_size = Command::Sort {
        order: vec![SortOrder {
            key: SortKey::Size,
            reverse: false,
        }],
        query: SearchQuery::default(),
    };
    let events = without_extensions_meanwhile(by_size, "* 5 FETCH (UID 5 FLAGS (\\Seen))\r\n");
    let [.., Event::SortCompleted { uids, .. }] = events.as_slice() else {
        panic!("{events:?}")
    };
    let uids: Vec<u32> = uids.iter().map(|u| u.get()).collect();
    assert_eq!(
        uids,
        sorted(SortKey::Size, false),
        "the flag change was taken for a hit"
    );
    assert!(
        events.iter().any(
            |e| matches!(e, Event::FetchReceived { id: None, message } if message.uid.get() == 5)
        ),
        "the flag change was lost: {events:?}"
    );
}

#[test]
fn without_thread_the_engine_threads_the_search_hits_itself() {
    let events = without_extensions(Command::Thread {
        query: SearchQuery::default(),
    });
    let [.., Event::ThreadsReceived { threads, .. }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(threads, &thread_by_references(&fetched()));
}

#[test]
fn without_sort_no_hits_means_an_empty_answer_and_no_fetch() {
    let events = run(
        encrypted(),
        &script(
            WITHOUT_SORT,
            vec![
                Submit(Command::Thread {
                    query: SearchQuery {
                        unseen: true,
                        ..SearchQuery::default()
                    },
                }),
                Client(b"0002 UID SEARCH UNSEEN\r\n"),
                Server(b"* SEARCH\r\n0002 OK Search completed.\r\n"),
                Client(b""),
            ],
        ),
    );
    assert!(
        matches!(events.as_slice(), [.., Event::ThreadsReceived { threads, .. }] if threads.is_empty()),
        "{events:?}"
    );
}

fn leaf(uid: u32) -> ThreadNode {
    node(uid, vec![])
}

fn node(uid: u32, children: Vec<ThreadNode>) -> ThreadNode {
    ThreadNode {
        uid: Uid::new(uid),
        children,
    }
}

/// The threads a THREAD command reports when the server answers `answer`.
fn server_threads(answer: &'static [u8]) -> Vec<ThreadNode> {
    let events = run(
        encrypted(),
        &script(
            WITH_SORT,
            vec![
                Submit(Command::Thread {
                    query: SearchQuery::default(),
                }),
                Client(b"0002 UID THREAD REFERENCES US-ASCII ALL\r\n"),
                Server(answer),
            ],
        ),
    );
    match events.as_slice() {
        [.., Event::ThreadsReceived { threads, .. }] => threads.clone(),
        _ => panic!("{events:?}"),
    }
}

#[test]
fn server_thread_and_the_fallback_agree_on_the_same_messages() {
    let threads = server_threads(b"* THREAD (4 5)(1 (2)(3))\r\n0002 OK Thread completed.\r\n");
    let expected = vec![node(4, vec![leaf(5)]), node(1, vec![leaf(2), leaf(3)])];
    assert_eq!(threads, expected);
    assert_eq!(thread_by_references(&fetched()), expected);
}

#[test]
fn server_thread_dummies_and_chains_convert_to_trees() {
    // RFC 5256 §4's example answer.
    let threads =
        server_threads(b"* THREAD (2)(3 6 (4 23)(44 7 96))\r\n0002 OK Thread completed.\r\n");
    assert_eq!(
        threads,
        [
            leaf(2),
            node(
                3,
                vec![node(
                    6,
                    vec![
                        node(4, vec![leaf(23)]),
                        node(44, vec![node(7, vec![leaf(96)])])
                    ]
                )]
            ),
        ]
    );
}
