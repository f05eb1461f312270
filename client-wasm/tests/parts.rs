//! The reader's structure-first path: BODYSTRUCTURE and ENVELOPE, then single parts, header
//! fields and partial ranges on demand (rows V0007, V0008, V0009, V0053, V0054, V0070).
//! Server bytes are Dovecot 2.3's answers for the message built in `MESSAGE_STRUCTURE`.

#![cfg(not(target_arch = "wasm32"))]

/// Shared with `tests/session.rs`; this file uses only part of it.
#[allow(dead_code)]
mod support;

use client_wasm::{Command, Event, PartPath, PartSection, Partial, Recipient, Uid};
use std::num::NonZeroU32;
use support::{Step::*, run};

const PREAUTH: &[u8] = b"* PREAUTH [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ IDLE UIDPLUS MOVE BINARY] Logged in as alice\r\n";
const SELECT: &[u8] = b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n* 1 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1764090000] UIDs valid\r\n* OK [UIDNEXT 8] Predicted next UID\r\n0000 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n";

/// multipart/mixed: multipart/alternative (text/plain, text/html), then a PDF whose name is
/// RFC 2231-encoded.
const MESSAGE_STRUCTURE: &[u8] = b"* 1 FETCH (UID 7 FLAGS (\\Seen) RFC822.SIZE 24310 ENVELOPE (\"Tue, 25 Nov 2026 10:00:00 +0100\" \"=?utf-8?Q?Bericht_f=C3=BCr_Q3?=\" ((\"=?utf-8?Q?J=C3=B6rg?=\" NIL \"joerg\" \"example.test\")) ((\"=?utf-8?Q?J=C3=B6rg?=\" NIL \"joerg\" \"example.test\")) ((\"=?utf-8?Q?J=C3=B6rg?=\" NIL \"joerg\" \"example.test\")) ((NIL NIL \"alice\" \"example.test\")) NIL NIL \"<q2@example.test>\" \"<q3@example.test>\") BODYSTRUCTURE (((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 120 4 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 310 9 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"alt\") NIL NIL NIL)(\"application\" \"pdf\" NIL NIL NIL \"base64\" 22960 NIL (\"attachment\" (\"filename*\" \"utf-8''Bericht%20f%C3%BCr%20Q3.pdf\")) NIL NIL) \"mixed\" (\"boundary\" \"mix\") NIL NIL NIL))\r\n0001 OK Fetch completed (0.001 + 0.000 secs).\r\n";

fn uid() -> Uid {
    Uid::new(7).unwrap()
}

fn path(text: &str) -> PartPath {
    PartPath::parse(text).unwrap()
}

fn selected() -> Vec<support::Step> {
    vec![
        Server(PREAUTH),
        Submit(Command::Select {
            mailbox: client_wasm::MailboxName::inbox(),
        }),
        Client(b"0000 SELECT INBOX\r\n"),
        Server(SELECT),
    ]
}

fn then(tail: Vec<support::Step>) -> Vec<support::Step> {
    let mut script = selected();
    script.extend(tail);
    script
}

fn config(whole_message_limit: u32) -> client_wasm::Config {
    let mut config = support::encrypted();
    config.whole_message_limit = whole_message_limit;
    config
}

#[test]
fn v0009_v0008_v0007_structure_lists_attachments_and_flags_large_messages() {
    let script = then(vec![
        Submit(Command::FetchStructure { uid: uid() }),
        Client(b"0001 UID FETCH 7 (UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE)\r\n"),
        Server(MESSAGE_STRUCTURE),
    ]);
    let events = run(config(20_000), &script);
    let [
        ..,
        Event::StructureFetched {
            message: Some(message),
            ..
        },
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(message.uid, uid());
    assert_eq!(message.size, Some(24310));
    assert!(message.large, "24310 octets is above the 20000 limit");
    let envelope = message.envelope.as_ref().unwrap();
    assert_eq!(envelope.subject.as_deref(), Some("Bericht f\u{fc}r Q3"));
    let Recipient::Mailbox(from) = &envelope.from[0] else {
        panic!("{envelope:?}")
    };
    assert_eq!(from.name.as_deref(), Some("J\u{f6}rg"));
    assert_eq!(from.address.as_deref(), Some("joerg@example.test"));
    assert_eq!(envelope.in_reply_to.as_deref(), Some("<q2@example.test>"));
    assert_eq!(message.text_section.as_deref(), Some("1.1"));
    assert_eq!(message.html_section.as_deref(), Some("1.2"));
    let [pdf] = message.attachments.as_slice() else {
        panic!("{message:?}")
    };
    assert_eq!(pdf.section, "2");
    assert_eq!(pdf.content_type, "application/pdf");
    assert_eq!(pdf.filename.as_deref(), Some("Bericht f\u{fc}r Q3.pdf"));

    let small = run(config(10 * 1024 * 1024), &script);
    assert!(matches!(
        small.last(),
        Some(Event::StructureFetched { message: Some(m), .. }) if !m.large
    ));
}

#[test]
fn v0054_v0053_single_parts_mime_headers_header_fields_and_ranges() {
    let length = NonZeroU32::new(1024).unwrap();
    let events = run(
        config(u32::MAX),
        &then(vec![
            Submit(Command::FetchPart {
                uid: uid(),
                section: PartSection::Content { part: path("1.1") },
                partial: None,
            }),
            Client(b"0001 UID FETCH 7 (UID BODY.PEEK[1.1])\r\n"),
            Server(b"* 1 FETCH (UID 7 BODY[1.1] {15}\r\nGr=C3=BC=C3=9Fe)\r\n0001 OK Fetch completed (0.001 + 0.000 secs).\r\n"),
            Submit(Command::FetchPart {
                uid: uid(),
                section: PartSection::Mime { part: path("2") },
                partial: None,
            }),
            Client(b"0002 UID FETCH 7 (UID BODY.PEEK[2.MIME])\r\n"),
            Server(b"* 1 FETCH (UID 7 BODY[2.MIME] {33}\r\nContent-Type: application/pdf\r\n\r\n)\r\n0002 OK Fetch completed (0.001 + 0.000 secs).\r\n"),
            Submit(Command::FetchPart {
                uid: uid(),
                section: PartSection::HeaderFields {
                    part: None,
                    fields: vec!["From".into(), "Subject".into()],
                },
                partial: None,
            }),
            Client(b"0003 UID FETCH 7 (UID BODY.PEEK[HEADER.FIELDS (From Subject)])\r\n"),
            Server(b"* 1 FETCH (UID 7 BODY[HEADER.FIELDS (FROM SUBJECT)] {27}\r\nFrom: joerg@x\r\nSubject:\r\n\r\n)\r\n0003 OK Fetch completed (0.001 + 0.000 secs).\r\n"),
            Submit(Command::FetchPart {
                uid: uid(),
                section: PartSection::Content { part: path("2") },
                partial: Some(Partial { origin: 0, length }),
            }),
            Client(b"0004 UID FETCH 7 (UID BODY.PEEK[2]<0.1024>)\r\n"),
            Server(b"* 1 FETCH (UID 7 BODY[2]<0> {8}\r\nJVBERi0x)\r\n0004 OK Fetch completed (0.001 + 0.000 secs).\r\n"),
        ]),
    );
    let parts: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            Event::PartFetched {
                part: Some(part), ..
            } => Some(part),
            _ => None,
        })
        .collect();
    let data: Vec<(Option<u32>, &[u8])> = parts
        .iter()
        .map(|p| (p.origin, p.data.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(
        data,
        [
            (None, b"Gr=C3=BC=C3=9Fe".as_slice()),
            (None, b"Content-Type: application/pdf\r\n\r\n"),
            (None, b"From: joerg@x\r\nSubject:\r\n\r\n"),
            (Some(0), b"JVBERi0x"),
        ]
    );
    assert!(parts.iter().all(|p| p.uid == uid()));
}

#[test]
fn v0054_header_field_names_and_part_numbers_are_checked_before_sending() {
    let fields = |fields: &[&str]| Command::FetchPart {
        uid: uid(),
        section: PartSection::HeaderFields {
            part: None,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        },
        partial: None,
    };
    run(
        config(u32::MAX),
        &then(vec![
            SubmitFails(fields(&["From)] X"]), "invalid_argument"),
            SubmitFails(fields(&["Subject:"]), "invalid_argument"),
            SubmitFails(fields(&[]), "invalid_argument"),
            Client(b""),
        ]),
    );
    assert_eq!(PartPath::parse("0.1"), None);
    assert_eq!(PartPath::parse("1..2"), None);
    assert_eq!(
        PartPath::parse("2.10").map(|p| p.to_string()),
        Some("2.10".into())
    );
}

#[test]
fn v0070_a_partial_body_never_stands_in_for_the_whole_message() {
    let events = run(
        config(u32::MAX),
        &then(vec![
            Submit(Command::FetchMessage { uid: uid() }),
            Client(b"0001 UID FETCH 7 (UID FLAGS BODY.PEEK[])\r\n"),
            Server(b"* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[]<0> {9}\r\nSubject: )\r\n0001 OK Fetch completed (0.001 + 0.000 secs).\r\n"),
        ]),
    );
    assert!(
        matches!(
            events.last(),
            Some(Event::MessageFetched { message: None, .. })
        ),
        "{events:?}"
    );
}

#[test]
fn v0009_a_server_answering_with_body_still_gives_the_structure() {
    let events = run(
        config(u32::MAX),
        &then(vec![
            Submit(Command::FetchStructure { uid: uid() }),
            Client(b"0001 UID FETCH 7 (UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE)\r\n"),
            Server(b"* 1 FETCH (UID 7 RFC822.SIZE 10 BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 1))\r\n0001 OK Fetch completed.\r\n"),
        ]),
    );
    let [
        ..,
        Event::StructureFetched {
            message: Some(message),
            ..
        },
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(message.text_section.as_deref(), Some("1"));
    assert_eq!(message.envelope, None);
    assert!(message.attachments.is_empty());
}
