//! Mailboxes: names as the server spells them, LIST entries, and the selected mailbox's state.

use crate::message::{Flag, Uid};
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
        let attributes: Vec<String> = attributes.iter().map(ToString::to_string).collect();
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
        }
    }

    /// An EXPUNGE renumbers everything after it; the count drops by one.
    pub(crate) fn record_expunge(&mut self) {
        self.exists = self.exists.saturating_sub(1);
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
}

impl MailboxStatus {
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
                _ => {}
            }
        }
        status
    }
}
