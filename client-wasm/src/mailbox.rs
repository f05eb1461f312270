//! Mailboxes: names as the server spells them, LIST entries, and the selected mailbox's state.

use crate::message::{Flag, Uid, UidSet};
use crate::sync::MessageMap;
use crate::utf7;
use imap_types::flag::FlagNameAttribute;
use imap_types::mailbox::Mailbox;
use serde::{Serialize, Serializer};

/// A mailbox name exactly as it travels on the wire (modified UTF-7 for non-ASCII).
///
/// Commands always reuse these bytes; decoding is for display only (row V0021).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailboxName(Vec<u8>);

impl MailboxName {
    pub fn from_wire(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub fn inbox() -> Self {
        Self(b"INBOX".to_vec())
    }

    pub fn as_wire(&self) -> &[u8] {
        &self.0
    }

    /// INBOX is the only name compared case-insensitively (row V0016).
    pub fn is_inbox(&self) -> bool {
        self.0.eq_ignore_ascii_case(b"INBOX")
    }

    /// The name for people: decoded modified UTF-7, or the raw bytes when malformed.
    pub fn display(&self) -> String {
        utf7::decode(&self.0).unwrap_or_else(|_| String::from_utf8_lossy(&self.0).into_owned())
    }

    pub(crate) fn from_imap(mailbox: &Mailbox<'_>) -> Self {
        match mailbox {
            Mailbox::Inbox => Self::inbox(),
            Mailbox::Other(other) => Self(other.as_ref().to_vec()),
        }
    }

    pub(crate) fn to_imap(&self) -> Result<Mailbox<'_>, crate::error::SubmitError> {
        Mailbox::try_from(self.0.as_slice()).map_err(|_| {
            crate::error::SubmitError::InvalidArgument {
                what: "mailbox name",
            }
        })
    }
}

/// Names one mailbox; only INBOX ignores case (row V0016).
pub(crate) fn same_mailbox(a: &MailboxName, b: &MailboxName) -> bool {
    a == b || (a.is_inbox() && b.is_inbox())
}

impl Serialize for MailboxName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&String::from_utf8_lossy(&self.0))
    }
}

/// RFC 6154 roles a mailbox can announce in its LIST attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpecialUse {
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
}

impl SpecialUse {
    fn from_attribute(attribute: &str) -> Option<Self> {
        Some(match attribute.to_ascii_lowercase().as_str() {
            // XLIST's names (row V0061) for the same roles.
            "\\all" | "\\allmail" => Self::All,
            "\\archive" => Self::Archive,
            "\\drafts" => Self::Drafts,
            "\\flagged" | "\\starred" => Self::Flagged,
            "\\junk" | "\\spam" => Self::Junk,
            "\\sent" => Self::Sent,
            "\\trash" => Self::Trash,
            _ => return None,
        })
    }
}

/// One LIST response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedMailbox {
    pub name: MailboxName,
    pub display: String,
    pub delimiter: Option<char>,
    pub attributes: Vec<String>,
    pub special_use: Option<SpecialUse>,
    pub selectable: bool,
    /// `\Subscribed` (LIST-EXTENDED) or listed by LSUB.
    pub subscribed: bool,
    /// From LIST-STATUS, when asked for.
    pub status: Option<MailboxStatus>,
}

impl ListedMailbox {
    pub(crate) fn from_list(
        attributes: &[FlagNameAttribute<'_>],
        delimiter: Option<char>,
        mailbox: &Mailbox<'_>,
    ) -> Self {
        let name = MailboxName::from_imap(mailbox);
        let attributes = distinct(attributes);
        let is = |wanted: &str| attributes.iter().any(|a| a.eq_ignore_ascii_case(wanted));
        Self {
            display: name.display(),
            selectable: !is("\\Noselect") && !is("\\NonExistent"),
            subscribed: is("\\Subscribed"),
            status: None,
            special_use: attributes
                .iter()
                .find_map(|a| SpecialUse::from_attribute(a)),
            delimiter,
            attributes,
            name,
        }
    }
}

/// The attributes as text, each once: Yandex's XLIST repeats them (`\Drafts \Drafts`).
fn distinct(attributes: &[FlagNameAttribute<'_>]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    attributes
        .iter()
        .map(ToString::to_string)
        .filter(|a| seen.insert(a.to_ascii_lowercase()))
        .collect()
}

/// What the client knows about the selected mailbox (row C0002 records these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelectedMailbox {
    pub name: MailboxName,
    pub exists: u32,
    pub recent: u32,
    pub uid_validity: Option<u32>,
    pub uid_next: Option<Uid>,
    pub unseen: Option<u32>,
    pub flags: Vec<Flag>,
    pub permanent_flags: Vec<Flag>,
    /// `\*` in PERMANENTFLAGS: new keywords may be created.
    pub can_create_keywords: bool,
    pub read_only: bool,
    /// HIGHESTMODSEQ (RFC 7162): what a cache stores to ask for only the changes next time.
    pub highest_modseq: Option<u64>,
    /// Which UID each sequence number holds.
    #[serde(skip)]
    pub(crate) messages: MessageMap,
    /// Whether PERMANENTFLAGS was sent; without it every flag is permanent (row V0037).
    #[serde(skip)]
    pub(crate) permanent_flags_seen: bool,
}

impl SelectedMailbox {
    pub(crate) fn new(name: MailboxName) -> Self {
        Self {
            name,
            exists: 0,
            recent: 0,
            uid_validity: None,
            uid_next: None,
            unseen: None,
            flags: Vec::new(),
            permanent_flags: Vec::new(),
            can_create_keywords: false,
            read_only: false,
            highest_modseq: None,
            messages: MessageMap::default(),
            permanent_flags_seen: false,
        }
    }

    /// The UID of the message at `seq`, when a FETCH has named it.
    pub fn uid(&self, seq: u32) -> Option<Uid> {
        self.messages.uid(seq)
    }

    /// The sequence number of the message with `uid`, when a FETCH has named it.
    pub fn seq(&self, uid: Uid) -> Option<u32> {
        self.messages.seq(uid)
    }

    /// Everything but the message map, which events do not carry.
    pub(crate) fn snapshot(&self) -> Self {
        Self {
            messages: MessageMap::default(),
            name: self.name.clone(),
            flags: self.flags.clone(),
            permanent_flags: self.permanent_flags.clone(),
            ..*self
        }
    }

    pub(crate) fn record_exists(&mut self, exists: u32) {
        self.exists = exists;
        self.messages.truncate(exists);
    }

    /// An EXPUNGE renumbers everything after it; the count drops by one. `None` for a
    /// sequence number the mailbox does not have; else the UID it had, if known.
    pub(crate) fn record_expunge(&mut self, seq: u32) -> Option<Option<Uid>> {
        if seq == 0 || seq > self.exists {
            return None;
        }
        self.exists -= 1;
        Some(self.messages.expunge(seq))
    }

    /// VANISHED without EARLIER: each UID was a message here (RFC 7162 §3.2.10).
    pub(crate) fn record_vanished(&mut self, gone: &UidSet) {
        let count = u32::try_from(gone.count()).unwrap_or(u32::MAX);
        self.exists = self.exists.saturating_sub(count);
        self.messages.vanish(gone);
    }

    /// A FETCH for `seq`: records its UID when it carries one, and returns the UID.
    pub(crate) fn record_fetch(&mut self, seq: u32, uid: Option<Uid>) -> Option<Uid> {
        match uid {
            Some(uid) => {
                self.messages.record(seq, uid, self.exists);
                Some(uid)
            }
            None => self.messages.uid(seq),
        }
    }

    /// RFC 3501 §6.3.1: without PERMANENTFLAGS, all flags can be changed permanently.
    pub(crate) fn apply_defaults(&mut self) {
        if !self.permanent_flags_seen {
            self.permanent_flags = self.flags.clone();
        }
    }
}

/// A STATUS answer for a mailbox that is not selected (rows V0002, V0045).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MailboxStatus {
    pub name: Option<MailboxName>,
    pub messages: Option<u32>,
    pub unseen: Option<u32>,
    pub uid_next: Option<Uid>,
    pub uid_validity: Option<u32>,
    /// With CONDSTORE (row V0002): unchanged with the rest means nothing changed at all.
    pub highest_modseq: Option<u64>,
}

impl MailboxStatus {
    /// Whether a mailbox must be opened to sync it, given the STATUS its cache was synced at
    /// (row V0002): any change does; so does an unchanged one without HIGHESTMODSEQ, whose
    /// flags may have changed unseen.
    pub fn needs_sync(&self, synced: &MailboxStatus) -> bool {
        self.highest_modseq.is_none()
            || (
                self.messages,
                self.unseen,
                self.uid_next,
                self.uid_validity,
                self.highest_modseq,
            ) != (
                synced.messages,
                synced.unseen,
                synced.uid_next,
                synced.uid_validity,
                synced.highest_modseq,
            )
    }

    pub(crate) fn from_status(
        mailbox: &Mailbox<'_>,
        items: &[imap_types::status::StatusDataItem],
    ) -> Self {
        use imap_types::status::StatusDataItem as Item;
        let mut status = Self {
            name: Some(MailboxName::from_imap(mailbox)),
            ..Self::default()
        };
        for item in items {
            match item {
                Item::Messages(n) => status.messages = Some(*n),
                Item::Unseen(n) => status.unseen = Some(*n),
                Item::UidNext(n) => status.uid_next = Uid::new(n.get()),
                Item::UidValidity(n) => status.uid_validity = Some(n.get()),
                Item::HighestModSeq(n) => status.highest_modseq = Some(*n),
                _ => {}
            }
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c0002_counts_and_uids_move_together_and_hostile_numbers_change_nothing() {
        let uid = |n| Uid::new(n).unwrap();
        let mut mailbox = SelectedMailbox::new(MailboxName::inbox());
        mailbox.record_exists(3);
        for (seq, value) in [(1, 4), (2, 6), (3, 9)] {
            mailbox.record_fetch(seq, Some(uid(value)));
        }
        assert_eq!(mailbox.record_fetch(2, None), Some(uid(6)));
        assert_eq!(mailbox.record_expunge(0), None);
        assert_eq!(mailbox.record_expunge(4), None);
        assert_eq!(mailbox.record_expunge(1), Some(Some(uid(4))));
        assert_eq!(
            (mailbox.exists, mailbox.uid(1), mailbox.seq(uid(9))),
            (2, Some(uid(6)), Some(2))
        );
        let everything = UidSet::from_ranges([(uid(1), uid(u32::MAX))]).unwrap();
        mailbox.record_vanished(&everything);
        assert_eq!((mailbox.exists, mailbox.uid(1)), (0, None));
    }

    #[test]
    fn v0002_only_an_unchanged_status_with_highestmodseq_skips_the_sync() {
        let synced = MailboxStatus {
            name: Some(MailboxName::from_wire("Sent")),
            messages: Some(5),
            unseen: Some(1),
            uid_next: Uid::new(6),
            uid_validity: Some(9),
            highest_modseq: Some(40),
        };
        assert!(!synced.clone().needs_sync(&synced));
        let flag_changed = MailboxStatus {
            highest_modseq: Some(41),
            ..synced.clone()
        };
        assert!(flag_changed.needs_sync(&synced));
        let new_mail = MailboxStatus {
            uid_next: Uid::new(7),
            ..synced.clone()
        };
        assert!(new_mail.needs_sync(&synced));
        let without_condstore = MailboxStatus {
            highest_modseq: None,
            ..synced.clone()
        };
        assert!(without_condstore.needs_sync(&without_condstore));
    }
}
