//! Messages as the list shows them: UIDs, flags and the summary built from a header fetch.

use crate::sort::sort_values;
use client_wasm_receive::summary_fetch::{
    SYSTEM_FLAGS, SummaryFetch, system_flag, system_flag_set,
};
use client_wasm_receive::summary_header::{HeaderSummary, ThreadKeys};
use imap_types::IntoStatic;
use imap_types::fetch::MessageDataItem;
use imap_types::flag::{Flag as ImapFlag, FlagFetch, FlagPerm};
use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::OnceLock;

use client_wasm_receive::lossy;
pub use client_wasm_receive::summary_header::Sender;

/// A message's unique identifier within one UIDVALIDITY epoch of a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Uid(NonZeroU32);

impl From<NonZeroU32> for Uid {
    fn from(value: NonZeroU32) -> Self {
        Self(value)
    }
}

impl Uid {
    pub fn new(value: u32) -> Option<Self> {
        NonZeroU32::new(value).map(Self)
    }

    pub fn get(self) -> u32 {
        self.0.get()
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A contiguous UID range; `last: None` means "to the highest UID" (`*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UidRange {
    pub first: Uid,
    pub last: Option<Uid>,
}

impl fmt::Display for UidRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.last {
            Some(last) if last == self.first => write!(f, "{}", self.first),
            // The same range either way round (RFC 3501 §9); written in order.
            Some(last) => write!(f, "{}:{}", self.first.min(last), self.first.max(last)),
            None => write!(f, "{}:*", self.first),
        }
    }
}

/// An explicit set of UIDs, sent as the shortest list of ranges covering exactly them (row
/// V0060). Never open-ended: `*` is not allowed in STORE, COPY, MOVE or EXPUNGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidSet(Vec<(Uid, Uid)>);

impl UidSet {
    /// `None` when `uids` is empty: a command on no message is a caller bug.
    pub fn from_uids(uids: impl IntoIterator<Item = Uid>) -> Option<Self> {
        Self::from_ranges(uids.into_iter().map(|uid| (uid, uid)))
    }

    /// Ranges in any order, overlapping or reversed (as a server may send them in VANISHED).
    pub fn from_ranges(ranges: impl IntoIterator<Item = (Uid, Uid)>) -> Option<Self> {
        let mut sorted: Vec<(Uid, Uid)> = ranges
            .into_iter()
            .map(|(a, b)| (a.min(b), a.max(b)))
            .collect();
        sort_values(&mut sorted);
        let mut merged: Vec<(Uid, Uid)> = Vec::new();
        for (first, last) in sorted {
            match merged.last_mut() {
                Some((_, end)) if end.get().saturating_add(1) >= first.get() => {
                    *end = (*end).max(last);
                }
                _ => merged.push((first, last)),
            }
        }
        (!merged.is_empty()).then_some(Self(merged))
    }

    /// Ascending, disjoint, non-adjacent inclusive ranges.
    pub fn ranges(&self) -> &[(Uid, Uid)] {
        &self.0
    }

    pub fn contains(&self, uid: Uid) -> bool {
        self.holds(uid, uid)
    }

    /// Whether every UID of `other` is in this set.
    pub fn covers(&self, other: &UidSet) -> bool {
        other.0.iter().all(|&(first, last)| self.holds(first, last))
    }

    /// Whether `first..=last` is in the set: in one range, as ranges are never adjacent.
    fn holds(&self, first: Uid, last: Uid) -> bool {
        let after = self.0.partition_point(|(start, _)| *start <= first);
        after > 0 && self.0.get(after - 1).is_some_and(|(_, end)| last <= *end)
    }

    /// Whether some UID is in both sets: one walk over both sorted range lists.
    pub fn intersects(&self, other: &Self) -> bool {
        let (mut ours, mut theirs) = (self.0.iter().peekable(), other.0.iter().peekable());
        while let (Some((our_first, our_last)), Some((their_first, their_last))) =
            (ours.peek(), theirs.peek())
        {
            if our_last < their_first {
                ours.next();
            } else if their_last < our_first {
                theirs.next();
            } else {
                return true;
            }
        }
        false
    }

    /// How many UIDs the set names (up to 2^32, so not a `u32`).
    pub fn count(&self) -> u64 {
        self.0
            .iter()
            .map(|(first, last)| u64::from(last.get() - first.get()) + 1)
            .sum()
    }
}

/// Where a COPY put its copies (RFC 4315 COPYUID): what undoing it expunges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Copies {
    /// The destination's UIDVALIDITY: the UIDs mean nothing under another one.
    pub uid_validity: u32,
    /// The copies' UIDs in the destination; never more than the UIDs copied.
    pub uids: UidSet,
}

impl Copies {
    /// These copies and `more` of the same command, under one UIDVALIDITY: a server may name
    /// a command's copies in several COPYUIDs. `None` when the two disagree on UIDVALIDITY.
    pub(crate) fn joined(&self, more: &Copies) -> Option<Copies> {
        let ranges = self.uids.0.iter().chain(&more.uids.0).copied();
        (self.uid_validity == more.uid_validity).then_some(Copies {
            uid_validity: self.uid_validity,
            uids: UidSet::from_ranges(ranges)?,
        })
    }
}

/// `[[first, last], ...]`: ranges, because a VANISHED set may name billions of UIDs.
impl Serialize for UidSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|(first, last)| [first.get(), last.get()]))
    }
}

impl fmt::Display for UidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (first, last)) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            let range = UidRange {
                first: *first,
                last: Some(*last),
            };
            range.fmt(f)?;
        }
        Ok(())
    }
}

/// A message flag: system flags, `\Recent`, `\Extension` flags and keywords (row N0006 keeps
/// all of them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Flag {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
    Recent,
    /// `\*` in PERMANENTFLAGS.
    AnyKeyword,
    /// A backslash flag this engine has no name for, kept with its backslash.
    Extension(String),
    Keyword(String),
}

/// The system flags, in the order of the receive crate's `SYSTEM_FLAGS`. A `static`: a
/// `const` indexed at run time is a copy of the whole table.
static SYSTEM: [Flag; SYSTEM_FLAGS.len()] = [
    Flag::Seen,
    Flag::Answered,
    Flag::Flagged,
    Flag::Deleted,
    Flag::Draft,
    Flag::Recent,
];

/// Every list of system flags alone, by the bit set of their [`SYSTEM`] indexes: shared, so
/// that the usual flags of a list row cost no allocation (about a tenth of a header sync's
/// time natively when each row built its own, docs/benchmarks-engine.md).
fn system_lists() -> &'static [Vec<Flag>] {
    static LISTS: OnceLock<Vec<Vec<Flag>>> = OnceLock::new();
    LISTS.get_or_init(|| {
        (0..1u32 << SYSTEM.len())
            .map(|set| {
                let named = SYSTEM.iter().enumerate();
                let held = named.filter(|(index, _)| set & (1 << index) != 0);
                held.map(|(_, flag)| flag.clone()).collect()
            })
            .collect()
    })
}

/// A summary's flags as the generic decoder found them, shared as [`summary_flags`] shares
/// them, so that both paths give the same value.
pub(crate) fn shared_if_system(flags: Vec<Flag>) -> Cow<'static, [Flag]> {
    let set = flags.iter().try_fold(0, |set, flag| {
        let index = SYSTEM.iter().position(|system| system == flag)?;
        Some(set | 1 << index)
    });
    match set {
        Some(set) => Cow::Borrowed(&system_lists()[set]),
        None => Cow::Owned(flags),
    }
}

/// The flags of a summary FETCH as its fast path found them (the inside of the parentheses,
/// single spaces between). System flags alone come as a shared list in [`SYSTEM`]'s order (a
/// set has no order; repeats fold); with any other flag, the list is the server's.
pub(crate) fn summary_flags(list: Option<&[u8]>) -> Cow<'static, [Flag]> {
    let list = list.unwrap_or_default();
    match system_flag_set(list) {
        Some(set) => Cow::Borrowed(&system_lists()[usize::from(set)]),
        None => {
            let flags = list.split(|&b| b == b' ').filter(|flag| !flag.is_empty());
            Cow::Owned(flags.map(Flag::from_bytes).collect())
        }
    }
}

impl Flag {
    pub(crate) fn from_imap(flag: &ImapFlag<'_>) -> Self {
        match flag {
            ImapFlag::Seen => Self::Seen,
            ImapFlag::Answered => Self::Answered,
            ImapFlag::Flagged => Self::Flagged,
            ImapFlag::Deleted => Self::Deleted,
            ImapFlag::Draft => Self::Draft,
            ImapFlag::Extension(_) => Self::Extension(flag.to_string()),
            ImapFlag::Keyword(keyword) => Self::Keyword(keyword.inner().to_owned()),
        }
    }

    pub fn from_fetch(flag: &FlagFetch<'_>) -> Self {
        match flag {
            FlagFetch::Flag(flag) => Self::from_imap(flag),
            FlagFetch::Recent => Self::Recent,
        }
    }

    pub(crate) fn from_perm(flag: &FlagPerm<'_>) -> Self {
        match flag {
            FlagPerm::Flag(flag) => Self::from_imap(flag),
            FlagPerm::Asterisk => Self::AnyKeyword,
        }
    }
}

impl Flag {
    /// Reads a flag as it is written (`\Seen`, `$Forwarded`): system flags by name,
    /// other backslash names as extensions, the rest as keywords.
    pub fn parse(text: &str) -> Self {
        Self::from_bytes(text.as_bytes())
    }

    /// A flag as the server wrote it, read without a UTF-8 check for the system flags (the
    /// message list's fast path reads one or two per message); other bytes lossily.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Self {
        match (system_flag(bytes), bytes.first()) {
            (Some(index), _) => SYSTEM[index].clone(),
            (None, Some(b'\\')) => Self::Extension(lossy(bytes).into_owned()),
            (None, _) => Self::Keyword(lossy(bytes).into_owned()),
        }
    }

    /// The flag as the server takes it in STORE or APPEND. Keywords must be atoms (row
    /// V0005); `\Recent` and `\*` cannot be set.
    pub(crate) fn to_imap(&self) -> Option<ImapFlag<'static>> {
        match self {
            Self::Recent | Self::AnyKeyword => None,
            other => ImapFlag::try_from(other.to_string().as_str())
                .ok()
                .map(IntoStatic::into_static),
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Seen => "\\Seen",
            Self::Answered => "\\Answered",
            Self::Flagged => "\\Flagged",
            Self::Deleted => "\\Deleted",
            Self::Draft => "\\Draft",
            Self::Recent => "\\Recent",
            Self::AnyKeyword => "\\*",
            Self::Extension(name) | Self::Keyword(name) => name,
        })
    }
}

impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A message opened in the reader: headers, its text and HTML bodies as sent (HTML is
/// untrusted: the page sanitises it and shows it in a sandboxed frame), and what it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FullMessage {
    pub uid: Uid,
    pub flags: Vec<Flag>,
    pub subject: Option<String>,
    pub from: Option<Sender>,
    pub to: Vec<Sender>,
    pub cc: Vec<Sender>,
    /// The Date header in milliseconds since the Unix epoch.
    pub date: Option<i64>,
    pub message_id: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// An attachment as the reader lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub name: Option<String>,
    pub content_type: String,
    pub size: usize,
    /// For `cid:` references from the HTML body.
    pub content_id: Option<String>,
}

impl FullMessage {
    /// Builds the reader's view from a `UID FLAGS BODY[]` FETCH; `None` without a UID or body.
    pub(crate) fn from_fetch(
        items: &[MessageDataItem<'_>],
        parser: &MessageParser,
    ) -> Option<Self> {
        let mut uid = None;
        let mut flags = Vec::new();
        let mut raw = None;
        for item in items {
            match item {
                MessageDataItem::Uid(value) => uid = Some(Uid(*value)),
                MessageDataItem::Flags(list) => flags = list.iter().map(Flag::from_fetch).collect(),
                // Partial data is never taken for the whole message (row V0070).
                MessageDataItem::BodyExt {
                    data, origin: None, ..
                } => raw = data.0.as_ref(),
                _ => {}
            }
        }
        let parsed = parser.parse(raw?.as_ref())?;
        let senders = |list: Option<&mail_parser::Address<'_>>| -> Vec<Sender> {
            list.map(|a| a.iter().map(Sender::from_addr).collect())
                .unwrap_or_default()
        };
        Some(Self {
            uid: uid?,
            flags,
            subject: parsed.subject().map(str::to_owned),
            from: parsed.from().and_then(|f| f.first()).map(Sender::from_addr),
            to: senders(parsed.to()),
            cc: senders(parsed.cc()),
            date: parsed.date().map(|d| d.to_timestamp().saturating_mul(1000)),
            message_id: parsed.message_id().map(str::to_owned),
            text: parsed.text_bodies().find_map(|part| match &part.body {
                PartType::Text(text) => Some(text.to_string()),
                _ => None,
            }),
            html: parsed.html_bodies().find_map(|part| match &part.body {
                PartType::Html(html) => Some(html.to_string()),
                _ => None,
            }),
            attachments: parsed
                .attachments()
                .map(|part| Attachment {
                    name: part.attachment_name().map(str::to_owned),
                    content_type: part
                        .content_type()
                        .map(|ct| match ct.subtype() {
                            Some(sub) => format!("{}/{}", ct.ctype(), sub),
                            None => ct.ctype().to_owned(),
                        })
                        .unwrap_or_else(|| "application/octet-stream".into()),
                    size: part.len(),
                    content_id: part.content_id().map(str::to_owned),
                })
                .collect(),
        })
    }
}

/// One row of the message list, from `UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageSummary {
    pub uid: Uid,
    pub seq: u32,
    /// Shared when the flags are system flags alone (`message::summary_flags`).
    pub flags: Cow<'static, [Flag]>,
    pub size: Option<u32>,
    /// INTERNALDATE in milliseconds since the Unix epoch.
    pub internal_date: Option<i64>,
    /// The Date header in milliseconds since the Unix epoch, when it parses.
    pub date: Option<i64>,
    pub from: Option<Sender>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    /// The top-level type is multipart/mixed: the list's attachment marker. Sent only when
    /// true (most messages have none).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub has_attachments: bool,
    /// The Message-IDs this one follows, oldest first: References, else In-Reply-To's first
    /// (RFC 5256 threading), as their [`id_hash`](crate::id_hash): threading only compares
    /// them, and one allocation per message beats one per ID. Not sent to the page.
    #[serde(skip)]
    pub references: Vec<u64>,
    /// For threading in the list model; not sent to the page.
    #[serde(skip)]
    pub thread: ThreadKeys,
}

impl MessageSummary {
    /// Builds a summary from one FETCH response; `None` when the server left out the UID,
    /// which a UID FETCH response must carry (RFC 3501 §6.4.8).
    pub(crate) fn from_fetch(seq: u32, items: &[MessageDataItem<'_>]) -> Option<Self> {
        let uid = items.iter().find_map(|item| match item {
            MessageDataItem::Uid(uid) => Some(Uid(*uid)),
            _ => None,
        })?;
        let mut summary = Self::empty(uid, seq);
        for item in items {
            match item {
                MessageDataItem::Flags(flags) => {
                    summary.flags = shared_if_system(flags.iter().map(Flag::from_fetch).collect());
                }
                MessageDataItem::Rfc822Size(size) => summary.size = Some(*size),
                MessageDataItem::InternalDate(date) => {
                    summary.internal_date = Some(date.as_ref().timestamp_millis());
                }
                MessageDataItem::BodyExt { data, .. } | MessageDataItem::Rfc822Header(data) => {
                    if let Some(header) = &data.0 {
                        summary.read_header(header.as_ref());
                    }
                }
                _ => {}
            }
        }
        Some(summary)
    }

    /// Builds a summary from the reader's fast path for the list's FETCH shape.
    pub(crate) fn from_summary_fetch(fetch: &SummaryFetch<'_>) -> Self {
        let mut summary = Self {
            flags: summary_flags(fetch.flags),
            size: fetch.size,
            internal_date: fetch.internal_date,
            ..Self::empty(fetch.uid.into(), fetch.seq)
        };
        summary.read_header(fetch.header);
        summary
    }

    fn empty(uid: Uid, seq: u32) -> Self {
        Self {
            uid,
            seq,
            flags: Cow::Borrowed(&[]),
            size: None,
            internal_date: None,
            date: None,
            from: None,
            subject: None,
            message_id: None,
            has_attachments: false,
            references: Vec::new(),
            thread: ThreadKeys::default(),
        }
    }

    fn read_header(&mut self, header: &[u8]) {
        // Every field named: one added to `HeaderSummary` fails to compile here until used.
        let HeaderSummary {
            subject,
            message_id,
            date,
            from,
            has_attachments,
            references,
            thread,
        } = HeaderSummary::read(header);
        self.subject = subject;
        self.message_id = message_id;
        self.date = date;
        self.from = from;
        self.has_attachments = has_attachments;
        self.references = references;
        self.thread = thread;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uids(values: &[u32]) -> Option<UidSet> {
        UidSet::from_uids(values.iter().filter_map(|&v| Uid::new(v)))
    }

    #[test]
    fn v0060_uid_sets_are_the_shortest_exact_ranges() {
        assert_eq!(
            uids(&[7, 3, 4, 5, 9, 10, 4]).unwrap().to_string(),
            "3:5,7,9:10"
        );
        assert_eq!(uids(&[1]).unwrap().to_string(), "1");
        assert_eq!(uids(&[]), None);
    }

    #[test]
    fn uid_sets_intersect_only_where_a_range_overlaps() {
        let set = uids(&[3, 4, 5, 9]).unwrap();
        assert!(set.intersects(&uids(&[1, 5]).unwrap()));
        assert!(set.intersects(&uids(&[9, 20]).unwrap()));
        assert!(!set.intersects(&uids(&[1, 2, 6, 7, 8, 10]).unwrap()));
        assert!(!uids(&[10]).unwrap().intersects(&set));
    }

    #[test]
    fn uid_sets_cover_only_uids_they_hold() {
        let set = uids(&[3, 4, 5, 9]).unwrap();
        assert!(set.covers(&uids(&[4, 5, 9]).unwrap()));
        assert!(!set.covers(&uids(&[5, 6]).unwrap()));
        assert!(!set.covers(&uids(&[2]).unwrap()));
        assert!(
            !set.covers(&uids(&[5, 6, 7, 8, 9]).unwrap()),
            "a range across a gap"
        );
    }

    #[test]
    fn the_system_flags_pair_with_the_receive_crates_names() {
        for (flag, name) in SYSTEM.iter().zip(SYSTEM_FLAGS) {
            assert_eq!(flag.to_string().as_bytes(), [b"\\", name].concat());
        }
    }

    #[test]
    fn system_flags_alone_are_one_shared_list_in_one_order() {
        let read = |list: &[u8]| summary_flags(Some(list));
        let seen_answered = read(b"\\Answered \\seen \\Seen");
        assert!(matches!(seen_answered, Cow::Borrowed(_)));
        assert_eq!(*seen_answered, [Flag::Seen, Flag::Answered]);
        assert!(std::ptr::eq(&*seen_answered, &*read(b"\\Seen \\Answered")));
        assert!(matches!(read(b""), Cow::Borrowed([])));
        assert!(matches!(summary_flags(None), Cow::Borrowed([])));
        let mixed = read(b"$Junk \\Seen \\X");
        assert!(matches!(mixed, Cow::Owned(_)));
        let expected = [
            Flag::Keyword("$Junk".into()),
            Flag::Seen,
            Flag::Extension("\\X".into()),
        ];
        assert_eq!(*mixed, expected);
        // The generic decoder's lists are shared the same way.
        let generic = shared_if_system(vec![Flag::Answered, Flag::Seen]);
        assert!(std::ptr::eq(&*generic, &*seen_answered));
        assert!(matches!(shared_if_system(expected.to_vec()), Cow::Owned(_)));
    }

    #[test]
    fn n0006_flags_parse_from_their_written_form() {
        assert_eq!(Flag::parse("\\seen"), Flag::Seen);
        assert_eq!(
            Flag::parse("\\XSpecial"),
            Flag::Extension("\\XSpecial".into())
        );
        assert_eq!(Flag::parse("$Junk"), Flag::Keyword("$Junk".into()));
    }

    #[test]
    fn v0005_keywords_must_be_atoms() {
        assert!(Flag::Keyword("$Forwarded".into()).to_imap().is_some());
        assert!(Flag::Keyword("two words".into()).to_imap().is_none());
        assert!(Flag::Keyword("a)b".into()).to_imap().is_none());
        assert!(Flag::Recent.to_imap().is_none());
        assert_eq!(Flag::Seen.to_imap(), Some(ImapFlag::Seen));
    }
}
