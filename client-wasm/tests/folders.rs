//! Folder transcripts: namespaces, the LIST form chosen from the capabilities, new names
//! checked against the delimiter, and ID. Replies are in Dovecot 2.3's wording unless said
//! otherwise; each script is also fed one byte at a time.

#![cfg(not(target_arch = "wasm32"))]

#[allow(
    dead_code,
    reason = "the harness is shared; this file needs only part of it"
)]
mod support;

use client_wasm::{Command, Event, FolderQuery, ListedMailbox, MailboxName, Namespace, SpecialUse};
use support::{Step, Step::*, encrypted, run};

/// Dovecot 2.3's capabilities after login: NAMESPACE, LIST-EXTENDED, LIST-STATUS,
/// SPECIAL-USE, ID.
const DOVECOT_OK: &[u8] = b"0000 OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE] Logged in\r\n";

fn script(ok: &'static [u8], tail: Vec<Step>) -> Vec<Step> {
    let mut steps = support::logged_in_with(ok);
    steps.extend(tail);
    steps
}

fn name(wire: &str) -> MailboxName {
    MailboxName::from_wire(wire)
}

fn folders(query: FolderQuery) -> Command {
    Command::ListFolders(query)
}

/// The mailboxes of the `n`th `MailboxesListed` event.
fn listed(events: &[Event], n: usize) -> &[ListedMailbox] {
    events
        .iter()
        .filter_map(|event| match event {
            Event::MailboxesListed { mailboxes, .. } => Some(mailboxes.as_slice()),
            _ => None,
        })
        .nth(n)
        .unwrap_or_else(|| panic!("no listing {n}: {events:?}"))
}

fn names(mailboxes: &[ListedMailbox]) -> Vec<&str> {
    mailboxes.iter().map(|m| m.display.as_str()).collect()
}

#[test]
fn v0022_v0020_namespace_prefix_and_delimiter_shape_new_names() {
    // Courier-style: personal folders live under "INBOX." .
    let events = run(
        encrypted(),
        &script(
            b"0000 OK [CAPABILITY IMAP4rev1 NAMESPACE CHILDREN] Logged in\r\n",
            vec![
                Submit(Command::Namespace),
                Client(b"0001 NAMESPACE\r\n"),
                Server(b"* NAMESPACE ((\"INBOX.\" \".\")) NIL ((\"#shared.\" \".\"))\r\n0001 OK NAMESPACE completed\r\n"),
                SubmitFails(
                    Command::CreateChild {
                        parent: None,
                        name: "2026.Q1".into(),
                    },
                    "delimiter_in_name",
                ),
                Submit(Command::CreateChild {
                    parent: None,
                    name: "Entw\u{fc}rfe 2026".into(),
                }),
                Client(b"0002 CREATE \"INBOX.Entw&APw-rfe 2026\"\r\n"),
                Server(b"0002 OK Folder created\r\n"),
            ],
        ),
    );
    let namespaces = events
        .iter()
        .find_map(|event| match event {
            Event::NamespacesReceived { namespaces, .. } => Some(namespaces),
            _ => None,
        })
        .expect("namespaces");
    assert_eq!(
        namespaces.personal,
        [Namespace {
            prefix: name("INBOX."),
            delimiter: Some('.')
        }]
    );
    assert!(namespaces.other_users.is_empty());
    assert_eq!(namespaces.shared[0].prefix, name("#shared."));
}

#[test]
fn v0022_without_namespace_list_of_the_empty_name_gives_the_delimiter() {
    let events = run(
        encrypted(),
        &script(
            b"0000 OK [CAPABILITY IMAP4rev1] Logged in\r\n",
            vec![
                Submit(Command::Namespace),
                Client(b"0001 LIST \"\" \"\"\r\n"),
                Server(b"* LIST (\\Noselect) \"/\" \"\"\r\n0001 OK LIST completed\r\n"),
                Submit(Command::CreateChild {
                    parent: None,
                    name: "Projects".into(),
                }),
                Client(b"0002 CREATE Projects\r\n"),
            ],
        ),
    );
    let [.., Event::NamespacesReceived { namespaces, .. }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(
        namespaces.personal,
        [Namespace {
            prefix: name(""),
            delimiter: Some('/')
        }]
    );
}

#[test]
fn v0020_new_levels_are_checked_against_the_parents_delimiter_and_not_when_nil() {
    run(
        encrypted(),
        &script(
            DOVECOT_OK,
            vec![
                // Nothing listed yet: the delimiter is unknown.
                SubmitFails(
                    Command::CreateChild {
                        parent: Some(name("Work")),
                        name: "Reports".into(),
                    },
                    "hierarchy_unknown",
                ),
                Submit(folders(FolderQuery::default())),
                Client(b"0001 LIST \"\" * RETURN (SPECIAL-USE)\r\n"),
                Server(b"* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasChildren) \"/\" Work\r\n* LIST (\\HasNoChildren) \"/\" Work/Reports\r\n* LIST (\\HasNoChildren) NIL Flat\r\n0001 OK List completed (0.001 + 0.000 secs).\r\n"),
                SubmitFails(
                    Command::CreateChild {
                        parent: Some(name("Work")),
                        name: "2026/Q1".into(),
                    },
                    "delimiter_in_name",
                ),
                SubmitFails(
                    Command::RenameLeaf {
                        mailbox: name("Work/Reports"),
                        name: "Old/Reports".into(),
                    },
                    "delimiter_in_name",
                ),
                SubmitFails(
                    Command::CreateChild {
                        parent: Some(name("Flat")),
                        name: "x".into(),
                    },
                    "flat_hierarchy",
                ),
                Submit(Command::RenameLeaf {
                    mailbox: name("Work/Reports"),
                    name: "Archive".into(),
                }),
                Client(b"0002 RENAME Work/Reports Work/Archive\r\n"),
                Server(b"0002 OK Rename completed.\r\n"),
                // A mailbox with a NIL delimiter has no levels: its new name is not checked.
                Submit(Command::RenameLeaf {
                    mailbox: name("Flat"),
                    name: "Flat/with slash".into(),
                }),
                Client(b"0003 RENAME Flat \"Flat/with slash\"\r\n"),
            ],
        ),
    );
}

#[test]
fn v0043_v0061_list_extended_asks_special_use_and_list_status_in_one_round_trip() {
    let events = run(
        encrypted(),
        &script(
            DOVECOT_OK,
            vec![
                Submit(folders(FolderQuery {
                    with_status: true,
                    ..FolderQuery::default()
                })),
                Client(b"0001 LIST \"\" * RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN UIDNEXT UIDVALIDITY))\r\n"),
                Server(b"* LIST (\\HasNoChildren) \"/\" INBOX\r\n* STATUS INBOX (MESSAGES 3 UNSEEN 1 UIDNEXT 4 UIDVALIDITY 1700000000)\r\n* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n* STATUS Sent (MESSAGES 0 UNSEEN 0 UIDNEXT 1 UIDVALIDITY 1700000001)\r\n0001 OK List completed (0.001 + 0.000 secs).\r\n"),
                Submit(folders(FolderQuery {
                    subscribed_only: true,
                    ..FolderQuery::default()
                })),
                Client(b"0002 LIST (SUBSCRIBED) \"\" * RETURN (SPECIAL-USE)\r\n"),
                Server(b"* LIST (\\Subscribed \\HasNoChildren) \"/\" INBOX\r\n0002 OK List completed (0.001 + 0.000 secs).\r\n"),
            ],
        ),
    );
    let all = listed(&events, 0);
    assert_eq!(names(all), ["INBOX", "Sent"]);
    assert_eq!(all[1].special_use, Some(SpecialUse::Sent));
    let inbox = all[0].status.as_ref().expect("LIST-STATUS");
    assert_eq!((inbox.messages, inbox.unseen), (Some(3), Some(1)));
    assert_eq!(all[1].status.as_ref().and_then(|s| s.messages), Some(0));
    assert!(!all[0].subscribed);
    let subscribed = listed(&events, 1);
    assert!(subscribed[0].subscribed && subscribed[0].status.is_none());
}

#[test]
fn v0061_xlist_only_when_special_use_is_absent() {
    // Gmail before SPECIAL-USE: XLIST roles become special uses.
    let events = run(
        encrypted(),
        &script(
            b"0000 OK [CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1] alice authenticated (Success)\r\n",
            vec![
                Submit(folders(FolderQuery::default())),
                Client(b"0001 XLIST \"\" *\r\n"),
                Server(b"* XLIST (\\HasNoChildren \\Inbox) \"/\" \"Inbox\"\r\n* XLIST (\\Noselect \\HasChildren) \"/\" \"[Gmail]\"\r\n* XLIST (\\HasNoChildren \\AllMail) \"/\" \"[Gmail]/All Mail\"\r\n* XLIST (\\HasNoChildren \\Spam) \"/\" \"[Gmail]/Spam\"\r\n* XLIST (\\HasNoChildren \\Starred) \"/\" \"[Gmail]/Starred\"\r\n0001 OK Success\r\n"),
            ],
        ),
    );
    let uses: Vec<_> = listed(&events, 0).iter().map(|m| m.special_use).collect();
    assert_eq!(
        uses,
        [
            None,
            None,
            Some(SpecialUse::All),
            Some(SpecialUse::Junk),
            Some(SpecialUse::Flagged)
        ]
    );

    run(
        encrypted(),
        &script(
            b"0000 OK [CAPABILITY IMAP4rev1 XLIST SPECIAL-USE] Logged in\r\n",
            vec![
                Submit(folders(FolderQuery::default())),
                Client(b"0001 LIST \"\" *\r\n"),
            ],
        ),
    );
}

#[test]
fn v0019_wildcards_in_a_parent_name_are_filtered_to_that_exact_parent() {
    let events = run(
        encrypted(),
        &script(
            DOVECOT_OK,
            vec![
                Submit(folders(FolderQuery::default())),
                Client(b"0001 LIST \"\" * RETURN (SPECIAL-USE)\r\n"),
                Server(b"* LIST (\\HasChildren) \"/\" \"50%\"\r\n* LIST (\\HasChildren) \"/\" \"50 off\"\r\n0001 OK List completed (0.001 + 0.000 secs).\r\n"),
                Submit(folders(FolderQuery {
                    under: Some(name("50%")),
                    ..FolderQuery::default()
                })),
                Client(b"0002 LIST \"\" 50%/% RETURN (SPECIAL-USE)\r\n"),
                // The server matched "50 off/Deals" too: % is a wildcard to it.
                Server(b"* LIST (\\HasNoChildren) \"/\" \"50%/Receipts\"\r\n* LIST (\\HasNoChildren) \"/\" \"50 off/Deals\"\r\n0002 OK List completed (0.001 + 0.000 secs).\r\n"),
            ],
        ),
    );
    assert_eq!(names(listed(&events, 1)), ["50%/Receipts"]);
}

#[test]
fn v0041_subscribed_only_uses_lsub_and_a_hidden_mailbox_opens_by_its_typed_name() {
    let events = run(
        encrypted(),
        &script(
            b"0000 OK [CAPABILITY IMAP4rev1 CHILDREN] Logged in\r\n",
            vec![
                Submit(folders(FolderQuery {
                    subscribed_only: true,
                    ..FolderQuery::default()
                })),
                Client(b"0001 LSUB \"\" *\r\n"),
                Server(b"* LSUB () \"/\" INBOX\r\n0001 OK Lsub completed.\r\n"),
                // "Hidden" was in no listing; typing its full name still opens and subscribes it.
                Submit(Command::Select {
                    mailbox: name("Hidden"),
                }),
                Client(b"0002 SELECT Hidden\r\n"),
                Server(b"* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1700000002] UIDs valid\r\n0002 OK [READ-WRITE] Select completed.\r\n"),
                Submit(Command::Subscribe {
                    mailbox: name("Hidden"),
                }),
                Client(b"0003 SUBSCRIBE Hidden\r\n"),
            ],
        ),
    );
    let subscribed = listed(&events, 0);
    assert_eq!(names(subscribed), ["INBOX"]);
    assert!(subscribed[0].subscribed);
    assert!(events.iter().any(
        |e| matches!(e, Event::MailboxSelected { mailbox, .. } if mailbox.name == name("Hidden") && mailbox.exists == 2)
    ));
}

#[test]
fn id_sends_the_client_name_and_version_when_advertised() {
    let id = || Command::Id {
        name: "webmail".into(),
        version: "0.1 \"beta\"".into(),
    };
    let events = run(
        encrypted(),
        &script(
            DOVECOT_OK,
            vec![
                Submit(id()),
                Client(b"0001 ID (\"name\" \"webmail\" \"version\" \"0.1 \\\"beta\\\"\")\r\n"),
                Server(b"* ID (\"name\" \"Dovecot\")\r\n0001 OK ID completed (0.001 + 0.000 secs).\r\n"),
            ],
        ),
    );
    let [.., Event::ServerIdentified { fields, .. }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(fields, &[("name".to_owned(), Some("Dovecot".to_owned()))]);

    run(
        encrypted(),
        &script(
            b"0000 OK [CAPABILITY IMAP4rev1] Logged in\r\n",
            vec![SubmitFails(id(), "not_supported"), Client(b"")],
        ),
    );
}
