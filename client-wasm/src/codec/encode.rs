//! The engine's own command encoder: imap-types' `Command` to the bytes imap-codec's encoder
//! writes for it, byte for byte (every debug build checks each command against imap-codec),
//! in a fraction of its wasm size: imap-codec's reaches chrono's whole formatter for two
//! dates.
//!
//! Injection-proof by construction: caller text reaches the wire only as the imap-types
//! value it was validated into (atom, quoted string or literal, as its bytes require), and a
//! literal always ends the line before its bytes, so nothing caller-supplied can end a
//! command line.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{Datelike, Timelike};
use imap_types::command::{Command, CommandBody, FetchModifier, SelectParameter, StoreModifier};
use imap_types::core::{AString, Charset, IString, Literal, LiteralMode, NString, Quoted};
use imap_types::datetime::{DateTime, NaiveDate};
use imap_types::extensions::binary::LiteralOrLiteral8;
use imap_types::extensions::thread::ThreadingAlgorithm;
use imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName, Part, Section};
use imap_types::flag::{StoreResponse, StoreType};
use imap_types::mailbox::{ListMailbox, Mailbox};
use imap_types::search::SearchKey;
use imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};
use imap_types::status::StatusDataItemName;
use imap_types::utils::escape_quoted;
use std::fmt::Display;
use std::io::Write as _;

/// A piece of an encoded command: bytes to send as they are, or a literal's bytes, which a
/// synchronizing literal sends only after the server's `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fragment {
    Line(Vec<u8>),
    Literal { data: Vec<u8>, mode: LiteralMode },
}

/// Encodes `command` with its tag and final CRLF.
pub(crate) fn command(command: &Command<'_>) -> Vec<Fragment> {
    let mut w = Writer::default();
    w.raw(command.tag.inner().as_bytes());
    w.raw(b" ");
    w.body(&command.body);
    w.raw(b"\r\n");
    w.finish()
}

/// Accumulates the current line and the fragments already cut.
#[derive(Default)]
pub(crate) struct Writer {
    line: Vec<u8>,
    fragments: Vec<Fragment>,
}

impl Writer {
    pub(crate) fn finish(mut self) -> Vec<Fragment> {
        if !self.line.is_empty() {
            self.fragments.push(Fragment::Line(self.line));
        }
        self.fragments
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.line.extend_from_slice(bytes);
    }

    fn display(&mut self, value: impl Display) {
        // Writing into a Vec cannot fail.
        let _ = write!(self.line, "{value}");
    }

    /// `items` written with `separator` between them.
    fn join<T>(&mut self, items: &[T], separator: &[u8], mut each: impl FnMut(&mut Self, &T)) {
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.raw(separator);
            }
            each(self, item);
        }
    }

    /// `" (" items ")"` unless `items` is empty.
    fn optional_list<T>(&mut self, items: &[T], each: impl FnMut(&mut Self, &T)) {
        if !items.is_empty() {
            self.raw(b" (");
            self.join(items, b" ", each);
            self.raw(b")");
        }
    }

    fn body(&mut self, body: &CommandBody<'_>) {
        match body {
            CommandBody::Capability => self.raw(b"CAPABILITY"),
            CommandBody::Noop => self.raw(b"NOOP"),
            CommandBody::Logout => self.raw(b"LOGOUT"),
            CommandBody::StartTLS => self.raw(b"STARTTLS"),
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } => {
                self.raw(b"AUTHENTICATE ");
                self.display(mechanism);
                if let Some(response) = initial_response {
                    // RFC 4959 §3: an empty initial response is sent as "=".
                    match response.declassify().as_ref() {
                        [] => self.raw(b" ="),
                        bytes => {
                            self.raw(b" ");
                            self.raw(BASE64.encode(bytes).as_bytes());
                        }
                    }
                }
            }
            CommandBody::Login { username, password } => {
                self.raw(b"LOGIN ");
                self.astring(username);
                self.raw(b" ");
                self.astring(password.declassify());
            }
            CommandBody::Select {
                mailbox,
                parameters,
            } => self.select(b"SELECT ", mailbox, parameters),
            CommandBody::Examine {
                mailbox,
                parameters,
            } => self.select(b"EXAMINE ", mailbox, parameters),
            CommandBody::Unselect => self.raw(b"UNSELECT"),
            CommandBody::Create { mailbox } => self.named(b"CREATE ", mailbox),
            CommandBody::Delete { mailbox } => self.named(b"DELETE ", mailbox),
            CommandBody::Rename { from, to } => {
                self.named(b"RENAME ", from);
                self.raw(b" ");
                self.mailbox(to);
            }
            CommandBody::Subscribe { mailbox } => self.named(b"SUBSCRIBE ", mailbox),
            CommandBody::Unsubscribe { mailbox } => self.named(b"UNSUBSCRIBE ", mailbox),
            CommandBody::List {
                reference,
                mailbox_wildcard,
            } => self.list(b"LIST ", reference, mailbox_wildcard),
            CommandBody::Lsub {
                reference,
                mailbox_wildcard,
            } => self.list(b"LSUB ", reference, mailbox_wildcard),
            CommandBody::Status {
                mailbox,
                item_names,
            } => {
                self.named(b"STATUS ", mailbox);
                self.raw(b" (");
                self.join(item_names, b" ", |w, item| w.raw(status_item(item)));
                self.raw(b")");
            }
            CommandBody::Append {
                mailbox,
                flags,
                date,
                message,
            } => {
                self.named(b"APPEND ", mailbox);
                self.optional_list(flags, |w, flag| w.display(flag));
                if let Some(date) = date {
                    self.raw(b" ");
                    self.date_time(date);
                }
                self.raw(b" ");
                match message {
                    LiteralOrLiteral8::Literal(literal) => self.literal(literal),
                    LiteralOrLiteral8::Literal8(literal) => {
                        self.literal_data("~", &literal.data, literal.mode);
                    }
                }
            }
            CommandBody::Check => self.raw(b"CHECK"),
            CommandBody::Close => self.raw(b"CLOSE"),
            CommandBody::Expunge => self.raw(b"EXPUNGE"),
            CommandBody::ExpungeUid { sequence_set } => {
                self.raw(b"UID EXPUNGE ");
                self.sequence_set(sequence_set);
            }
            CommandBody::Search {
                charset,
                criteria,
                uid,
            } => {
                self.uid(*uid, b"SEARCH");
                if let Some(charset) = charset {
                    self.raw(b" CHARSET ");
                    self.charset(charset);
                }
                self.raw(b" ");
                self.search_keys(criteria.as_ref());
            }
            CommandBody::Sort {
                sort_criteria,
                charset,
                search_criteria,
                uid,
            } => {
                self.uid(*uid, b"SORT (");
                self.join(sort_criteria.as_ref(), b" ", |w, criterion| {
                    if criterion.reverse {
                        w.raw(b"REVERSE ");
                    }
                    w.raw(criterion.key.as_ref().as_bytes());
                });
                self.raw(b")");
                self.charset_and_keys(charset, search_criteria.as_ref());
            }
            CommandBody::Thread {
                algorithm,
                charset,
                search_criteria,
                uid,
            } => {
                self.uid(*uid, b"THREAD ");
                self.raw(match algorithm {
                    ThreadingAlgorithm::OrderedSubject => b"ORDEREDSUBJECT",
                    ThreadingAlgorithm::References => b"REFERENCES",
                    ThreadingAlgorithm::Other(other) => other.as_ref().as_bytes(),
                });
                self.charset_and_keys(charset, search_criteria.as_ref());
            }
            CommandBody::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                modifiers,
            } => {
                self.uid(*uid, b"FETCH ");
                self.sequence_set(sequence_set);
                self.raw(b" ");
                self.item_names(macro_or_item_names);
                self.optional_list(modifiers, |w, modifier| match modifier {
                    FetchModifier::ChangedSince(since) => {
                        w.raw(b"CHANGEDSINCE ");
                        w.display(since);
                    }
                    FetchModifier::Vanished => w.raw(b"VANISHED"),
                });
            }
            CommandBody::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                modifiers,
            } => {
                self.uid(*uid, b"STORE ");
                self.sequence_set(sequence_set);
                self.raw(b" ");
                if !modifiers.is_empty() {
                    self.raw(b"(");
                    self.join(
                        modifiers,
                        b" ",
                        |w, StoreModifier::UnchangedSince(since)| {
                            w.raw(b"UNCHANGEDSINCE ");
                            w.display(since);
                        },
                    );
                    self.raw(b") ");
                }
                self.raw(match kind {
                    StoreType::Add => b"+FLAGS",
                    StoreType::Remove => b"-FLAGS",
                    StoreType::Replace => b"FLAGS",
                });
                if *response == StoreResponse::Silent {
                    self.raw(b".SILENT");
                }
                self.raw(b" (");
                self.join(flags, b" ", |w, flag| w.display(flag));
                self.raw(b")");
            }
            CommandBody::Copy {
                sequence_set,
                mailbox,
                uid,
            } => self.transfer(*uid, b"COPY ", sequence_set, mailbox),
            CommandBody::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.transfer(*uid, b"MOVE ", sequence_set, mailbox),
            CommandBody::Idle => self.raw(b"IDLE"),
            CommandBody::Enable { capabilities } => {
                self.raw(b"ENABLE ");
                self.join(capabilities.as_ref(), b" ", |w, capability| {
                    w.display(capability);
                });
            }
            CommandBody::Compress { algorithm } => {
                self.raw(b"COMPRESS ");
                self.display(algorithm);
            }
            CommandBody::GetQuota { root } => {
                self.raw(b"GETQUOTA ");
                self.astring(root);
            }
            CommandBody::GetQuotaRoot { mailbox } => self.named(b"GETQUOTAROOT ", mailbox),
            CommandBody::SetQuota { root, quotas } => {
                self.raw(b"SETQUOTA ");
                self.astring(root);
                self.raw(b" (");
                self.join(quotas, b" ", |w, quota| {
                    w.display(&quota.resource);
                    w.raw(b" ");
                    w.display(quota.limit);
                });
                self.raw(b")");
            }
            CommandBody::Id { parameters } => {
                self.raw(b"ID ");
                match parameters {
                    None => self.raw(b"NIL"),
                    Some(parameters) => {
                        self.raw(b"(");
                        self.join(parameters, b" ", |w, (key, value)| {
                            w.istring(key);
                            w.raw(b" ");
                            w.nstring(value);
                        });
                        self.raw(b")");
                    }
                }
            }
            CommandBody::Namespace => self.raw(b"NAMESPACE"),
        }
    }

    /// `name` then the mailbox, for the commands whose first argument is one.
    fn named(&mut self, name: &[u8], mailbox: &Mailbox<'_>) {
        self.raw(name);
        self.mailbox(mailbox);
    }

    /// `UID ` before `name` for the UID form.
    fn uid(&mut self, uid: bool, name: &[u8]) {
        if uid {
            self.raw(b"UID ");
        }
        self.raw(name);
    }

    fn select(&mut self, name: &[u8], mailbox: &Mailbox<'_>, parameters: &[SelectParameter]) {
        self.named(name, mailbox);
        self.optional_list(parameters, Self::select_parameter);
    }

    fn select_parameter(&mut self, parameter: &SelectParameter) {
        match parameter {
            SelectParameter::CondStore => self.raw(b"CONDSTORE"),
            SelectParameter::QResync {
                uid_validity,
                mod_sequence_value,
                known_uids,
                seq_match_data,
            } => {
                self.raw(b"QRESYNC (");
                self.display(uid_validity);
                self.raw(b" ");
                self.display(mod_sequence_value);
                if let Some(known_uids) = known_uids {
                    self.raw(b" ");
                    self.sequence_set(known_uids);
                }
                if let Some((sequences, uids)) = seq_match_data {
                    self.raw(b" (");
                    self.sequence_set(sequences);
                    self.raw(b" ");
                    self.sequence_set(uids);
                    self.raw(b")");
                }
                self.raw(b")");
            }
        }
    }

    fn list(&mut self, name: &[u8], reference: &Mailbox<'_>, wildcard: &ListMailbox<'_>) {
        self.named(name, reference);
        self.raw(b" ");
        match wildcard {
            ListMailbox::Token(token) => self.raw(token.as_ref()),
            ListMailbox::String(string) => self.istring(string),
        }
    }

    fn transfer(&mut self, uid: bool, name: &[u8], set: &SequenceSet, mailbox: &Mailbox<'_>) {
        self.uid(uid, name);
        self.sequence_set(set);
        self.raw(b" ");
        self.mailbox(mailbox);
    }

    fn mailbox(&mut self, mailbox: &Mailbox<'_>) {
        match mailbox {
            Mailbox::Inbox => self.raw(b"INBOX"),
            Mailbox::Other(other) => self.astring(other.inner()),
        }
    }

    pub(crate) fn astring(&mut self, value: &AString<'_>) {
        match value {
            AString::Atom(atom) => self.raw(atom.inner().as_bytes()),
            AString::String(string) => self.istring(string),
        }
    }

    fn istring(&mut self, value: &IString<'_>) {
        match value {
            IString::Literal(literal) => self.literal(literal),
            IString::Quoted(quoted) => self.quoted(quoted),
        }
    }

    fn nstring(&mut self, value: &NString<'_>) {
        match &value.0 {
            Some(string) => self.istring(string),
            None => self.raw(b"NIL"),
        }
    }

    fn quoted(&mut self, quoted: &Quoted<'_>) {
        self.raw(b"\"");
        self.raw(escape_quoted(quoted.inner()).as_bytes());
        self.raw(b"\"");
    }

    fn literal(&mut self, literal: &Literal<'_>) {
        self.literal_data("", literal.as_ref(), literal.mode());
    }

    /// `{N}` (`~{N}` for RFC 3516's literal8) ends the line; the bytes are a fragment of
    /// their own.
    fn literal_data(&mut self, marker: &str, data: &[u8], mode: LiteralMode) {
        let plus = if mode == LiteralMode::NonSync {
            "+"
        } else {
            ""
        };
        self.display(format_args!("{marker}{{{}{plus}}}\r\n", data.len()));
        self.fragments
            .push(Fragment::Line(std::mem::take(&mut self.line)));
        self.fragments.push(Fragment::Literal {
            data: data.to_vec(),
            mode,
        });
    }

    fn charset(&mut self, charset: &Charset<'_>) {
        match charset {
            Charset::Atom(atom) => self.raw(atom.inner().as_bytes()),
            Charset::Quoted(quoted) => self.quoted(quoted),
        }
    }

    /// As built: the engine's sets come from `UidSet`'s shortest ranges and `UidRange`,
    /// already in order. (imap-codec's `quirk_always_normalize_sequence_sets`, which the
    /// engine leaves off, re-sorts every set in quadratic time.)
    fn sequence_set(&mut self, set: &SequenceSet) {
        self.join(set.0.as_ref(), b",", |w, sequence| match sequence {
            Sequence::Single(value) => w.seq_or_uid(value),
            Sequence::Range(from, to) => {
                w.seq_or_uid(from);
                w.raw(b":");
                w.seq_or_uid(to);
            }
        });
    }

    fn seq_or_uid(&mut self, value: &SeqOrUid) {
        match value {
            SeqOrUid::Value(number) => self.display(number),
            SeqOrUid::Asterisk => self.raw(b"*"),
        }
    }

    /// SORT's and THREAD's ` charset keys`.
    fn charset_and_keys(&mut self, charset: &Charset<'_>, keys: &[SearchKey<'_>]) {
        self.raw(b" ");
        self.charset(charset);
        self.raw(b" ");
        self.search_keys(keys);
    }

    fn search_keys(&mut self, keys: &[SearchKey<'_>]) {
        self.join(keys, b" ", Self::search_key);
    }

    fn search_key(&mut self, key: &SearchKey<'_>) {
        use SearchKey as K;
        let (name, argument): (&[u8], Option<&AString<'_>>) = match key {
            K::And(keys) => {
                self.raw(b"(");
                self.search_keys(keys.as_ref());
                return self.raw(b")");
            }
            K::SequenceSet(set) => return self.sequence_set(set),
            K::Uid(set) => {
                self.raw(b"UID ");
                return self.sequence_set(set);
            }
            K::Not(key) => {
                self.raw(b"NOT ");
                return self.search_key(key);
            }
            K::Or(left, right) => {
                self.raw(b"OR ");
                self.search_key(left);
                self.raw(b" ");
                return self.search_key(right);
            }
            K::Header(field, value) => {
                self.raw(b"HEADER ");
                self.astring(field);
                self.raw(b" ");
                return self.astring(value);
            }
            K::Keyword(keyword) => return self.named_word(b"KEYWORD ", keyword.inner()),
            K::Unkeyword(keyword) => return self.named_word(b"UNKEYWORD ", keyword.inner()),
            K::Larger(size) => return self.named_word(b"LARGER ", size),
            K::Smaller(size) => return self.named_word(b"SMALLER ", size),
            K::Before(day) => return self.dated(b"BEFORE ", day),
            K::On(day) => return self.dated(b"ON ", day),
            K::Since(day) => return self.dated(b"SINCE ", day),
            K::SentBefore(day) => return self.dated(b"SENTBEFORE ", day),
            K::SentOn(day) => return self.dated(b"SENTON ", day),
            K::SentSince(day) => return self.dated(b"SENTSINCE ", day),
            K::ModSequence { entry, modseq } => {
                self.raw(b"MODSEQ");
                if let Some((flag, kind)) = entry {
                    self.display(format_args!(" \"/flags/{flag}\" {kind}"));
                }
                self.raw(b" ");
                return self.display(modseq);
            }
            K::Bcc(value) => (b"BCC ", Some(value)),
            K::Body(value) => (b"BODY ", Some(value)),
            K::Cc(value) => (b"CC ", Some(value)),
            K::From(value) => (b"FROM ", Some(value)),
            K::Subject(value) => (b"SUBJECT ", Some(value)),
            K::Text(value) => (b"TEXT ", Some(value)),
            K::To(value) => (b"TO ", Some(value)),
            K::All => (b"ALL", None),
            K::Answered => (b"ANSWERED", None),
            K::Deleted => (b"DELETED", None),
            K::Draft => (b"DRAFT", None),
            K::Flagged => (b"FLAGGED", None),
            K::New => (b"NEW", None),
            K::Old => (b"OLD", None),
            K::Recent => (b"RECENT", None),
            K::Seen => (b"SEEN", None),
            K::Unanswered => (b"UNANSWERED", None),
            K::Undeleted => (b"UNDELETED", None),
            K::Undraft => (b"UNDRAFT", None),
            K::Unflagged => (b"UNFLAGGED", None),
            K::Unseen => (b"UNSEEN", None),
        };
        self.raw(name);
        if let Some(argument) = argument {
            self.astring(argument);
        }
    }

    /// `name` and a word that needs no quoting (an atom, a number).
    fn named_word(&mut self, name: &[u8], word: impl Display) {
        self.raw(name);
        self.display(word);
    }

    /// A SEARCH day as imap-codec writes it: `"dd-Mon-yyyy"`, quoted.
    fn dated(&mut self, name: &[u8], day: &NaiveDate) {
        let day = day.as_ref();
        self.raw(name);
        self.display(format_args!(
            "\"{:02}-{}-{:04}\"",
            day.day(),
            month(day),
            day.year()
        ));
    }

    /// APPEND's date-time as imap-codec writes it: `"dd-Mon-yyyy hh:mm:ss +zzzz"`.
    fn date_time(&mut self, date: &DateTime) {
        let date = date.as_ref();
        let offset = date.offset().local_minus_utc();
        let (sign, offset) = if offset < 0 {
            ('-', -offset)
        } else {
            ('+', offset)
        };
        self.display(format_args!(
            "\"{:02}-{}-{:04} {:02}:{:02}:{:02} {sign}{:02}{:02}\"",
            date.day(),
            month(date),
            date.year(),
            date.hour(),
            date.minute(),
            date.second(),
            offset / 3600,
            offset / 60 % 60
        ));
    }

    fn item_names(&mut self, names: &MacroOrMessageDataItemNames<'_>) {
        match names {
            MacroOrMessageDataItemNames::Macro(name) => self.display(name),
            MacroOrMessageDataItemNames::MessageDataItemNames(names) => match names.as_slice() {
                [name] => self.item_name(name),
                names => {
                    self.raw(b"(");
                    self.join(names, b" ", Self::item_name);
                    self.raw(b")");
                }
            },
        }
    }

    fn item_name(&mut self, name: &MessageDataItemName<'_>) {
        use MessageDataItemName as N;
        match name {
            N::BodyExt {
                section,
                partial,
                peek,
            } => {
                self.raw(if *peek { b"BODY.PEEK[" } else { b"BODY[" });
                if let Some(section) = section {
                    self.section(section);
                }
                self.raw(b"]");
                self.partial(partial);
            }
            N::Binary {
                section,
                partial,
                peek,
            } => {
                self.raw(if *peek { b"BINARY.PEEK[" } else { b"BINARY[" });
                self.join(section, b".", |w, number| w.display(number));
                self.raw(b"]");
                self.partial(partial);
            }
            N::BinarySize { section } => {
                self.raw(b"BINARY.SIZE[");
                self.join(section, b".", |w, number| w.display(number));
                self.raw(b"]");
            }
            N::Body => self.raw(b"BODY"),
            N::BodyStructure => self.raw(b"BODYSTRUCTURE"),
            N::Envelope => self.raw(b"ENVELOPE"),
            N::Flags => self.raw(b"FLAGS"),
            N::InternalDate => self.raw(b"INTERNALDATE"),
            N::Rfc822 => self.raw(b"RFC822"),
            N::Rfc822Header => self.raw(b"RFC822.HEADER"),
            N::Rfc822Size => self.raw(b"RFC822.SIZE"),
            N::Rfc822Text => self.raw(b"RFC822.TEXT"),
            N::Uid => self.raw(b"UID"),
            N::ModSeq => self.raw(b"MODSEQ"),
        }
    }

    fn partial<T: Display>(&mut self, partial: &Option<(u32, T)>) {
        if let Some((offset, length)) = partial {
            self.display(format_args!("<{offset}.{length}>"));
        }
    }

    fn section(&mut self, section: &Section<'_>) {
        let (part, name, fields): (Option<&Part>, &[u8], _) = match section {
            Section::Part(part) => (Some(part), b"", None),
            Section::Header(part) => (part.as_ref(), b"HEADER", None),
            Section::HeaderFields(part, fields) => (part.as_ref(), b"HEADER.FIELDS", Some(fields)),
            Section::HeaderFieldsNot(part, fields) => {
                (part.as_ref(), b"HEADER.FIELDS.NOT", Some(fields))
            }
            Section::Text(part) => (part.as_ref(), b"TEXT", None),
            Section::Mime(part) => (Some(part), b"MIME", None),
        };
        if let Some(part) = part {
            self.join(part.0.as_ref(), b".", |w, number| w.display(number));
            if !name.is_empty() {
                self.raw(b".");
            }
        }
        self.raw(name);
        if let Some(fields) = fields {
            self.raw(b" (");
            self.join(fields.as_ref(), b" ", Self::astring);
            self.raw(b")");
        }
    }
}

fn status_item(item: &StatusDataItemName) -> &'static [u8] {
    match item {
        StatusDataItemName::Messages => b"MESSAGES",
        StatusDataItemName::Recent => b"RECENT",
        StatusDataItemName::UidNext => b"UIDNEXT",
        StatusDataItemName::UidValidity => b"UIDVALIDITY",
        StatusDataItemName::Unseen => b"UNSEEN",
        StatusDataItemName::Deleted => b"DELETED",
        StatusDataItemName::DeletedStorage => b"DELETED-STORAGE",
        StatusDataItemName::HighestModSeq => b"HIGHESTMODSEQ",
    }
}

fn month(date: &impl Datelike) -> &'static str {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // chrono keeps `month0` within 0..=11.
    MONTHS[date.month0() as usize]
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use arbitrary::{Arbitrary, Unstructured};
    use imap_codec::CommandCodec;
    use imap_codec::encode::{Encoder, Fragment as Theirs};

    /// Random commands of every kind from imap-types' `Arbitrary` (hostile strings included:
    /// quotes, backslashes, CRLF and 8-bit bytes, in whatever form imap-types validated
    /// them into) encode exactly as imap-codec encodes them.
    #[test]
    fn arbitrary_commands_encode_as_imap_codec_encodes_them() {
        let mut rng = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
        let mut next = move || rng.u64(..);
        let mut compared = 0;
        for _ in 0..20_000 {
            let noise: Vec<u8> = (0..2048).map(|_| next() as u8).collect();
            let Ok(body) = CommandBody::arbitrary(&mut Unstructured::new(&noise)) else {
                continue;
            };
            let generated = Command {
                tag: imap_types::core::Tag::unvalidated("a1"),
                body,
            };
            let theirs: Vec<Fragment> = CommandCodec::default()
                .encode(&generated)
                .map(|fragment| match fragment {
                    Theirs::Line { data } => Fragment::Line(data),
                    Theirs::Literal { data, mode } => Fragment::Literal { data, mode },
                })
                .collect();
            assert_eq!(command(&generated), theirs, "{generated:?}");
            compared += 1;
        }
        assert!(compared > 10_000, "only {compared} commands generated");
    }

    /// A literal ends its line, so the bytes of a caller's string never share a line with
    /// the command; a name with CRLF is never written inline.
    #[test]
    fn v0017_caller_strings_with_line_ends_become_literals_on_their_own() {
        let body = CommandBody::create("a\r\nx DELETE INBOX").unwrap();
        let fragments = command(&Command::new("t1", body).unwrap());
        assert_eq!(
            fragments,
            [
                Fragment::Line(b"t1 CREATE {17}\r\n".to_vec()),
                Fragment::Literal {
                    data: b"a\r\nx DELETE INBOX".to_vec(),
                    mode: LiteralMode::Sync,
                },
                Fragment::Line(b"\r\n".to_vec()),
            ]
        );
    }
}
