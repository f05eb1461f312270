//! Gmail's IMAP extensions (X-GM-EXT-1): message and thread ids, labels, raw search.
//!
//! imap-types has no type for any of them. Their FETCH items are read loosely by
//! `lenient_fetch` and interpreted here; commands are imap-types' own with a constant end
//! replaced (`codec::CommandTail`), where caller strings keep the form imap-types chose.

use crate::codec::CommandTail;
use crate::error::{SubmitError, invalid};
use crate::lenient_fetch::{Value, split_fetch};
use crate::mailbox::MailboxName;
use imap_types::command::CommandBody;
use imap_types::core::{AString, Atom, IString};
use imap_types::search::SearchKey;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// The capability that announces every item here.
pub(crate) const CAPABILITY: &str = "X-GM-EXT-1";

/// Gmail allows a mailbox 10,000 labels (its API's Label resource): a message listing more
/// is not believed.
const MAX_LABELS: usize = 10_000;
/// Far above any real label name, with room for modified UTF-7's expansion.
const MAX_LABEL_BYTES: usize = 1024;

/// Gmail's 64-bit message or thread id. JavaScript numbers are exact only up to 2^53, so it
/// serializes as a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GmailId(pub u64);

impl GmailId {
    /// `1*DIGIT` that fits in 64 bits (`parse` alone would take a leading `+`).
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::Atom(digits) if digits.iter().all(u8::is_ascii_digit) => {
                std::str::from_utf8(digits).ok()?.parse().ok().map(Self)
            }
            _ => None,
        }
    }
}

impl Serialize for GmailId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// A Gmail label.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Label {
    /// A system label (`\Inbox`, `\Important`, `\Sent`, `\Starred`, ...), named without its
    /// backslash.
    System(String),
    /// A user label, as Gmail spells it: a mailbox name (modified UTF-7 when not ASCII).
    User(MailboxName),
}

impl Label {
    /// `\Name` is a system label; anything else is a user label's wire name.
    pub fn parse(text: &str) -> Self {
        match text.strip_prefix('\\') {
            Some(name) => Self::System(name.to_owned()),
            None => Self::User(MailboxName::from_wire(text)),
        }
    }

    fn from_wire(bytes: &[u8]) -> Self {
        match bytes.strip_prefix(b"\\") {
            Some(name) => Self::System(String::from_utf8_lossy(name).into_owned()),
            None => Self::User(MailboxName::from_wire(bytes)),
        }
    }

    /// The name for people: a system label's without the backslash, a user label's decoded.
    pub fn display(&self) -> String {
        match self {
            Self::System(name) => name.clone(),
            Self::User(name) => name.display(),
        }
    }

    /// As a STORE names it: a system label as `\` and an atom, a user label as an atom,
    /// quoted string or literal by its bytes.
    fn push_to(&self, tail: &mut CommandTail) -> Result<(), SubmitError> {
        match self {
            Self::System(name) => {
                let atom = Atom::try_from(name.as_str()).map_err(invalid("system label"))?;
                tail.push_line(format!("\\{atom}").as_bytes());
            }
            Self::User(name) => {
                let label = AString::try_from(name.as_wire()).map_err(invalid("label"))?;
                tail.push_astring(&label);
            }
        }
        Ok(())
    }
}

/// `{name, display, system}`: `name` is what `Label::parse` reads back.
impl Serialize for Label {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (name, system) = match self {
            Self::System(name) => (format!("\\{name}"), true),
            Self::User(name) => (String::from_utf8_lossy(name.as_wire()).into_owned(), false),
        };
        let mut out = serializer.serialize_struct("Label", 3)?;
        out.serialize_field("name", &name)?;
        out.serialize_field("display", &self.display())?;
        out.serialize_field("system", &system)?;
        out.end()
    }
}

/// What a label STORE does to the messages' labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelAction {
    Add,
    Remove,
    /// The labels given become the only ones.
    Replace,
}

/// One FETCH response's Gmail items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GmailItems {
    pub(crate) message_id: Option<GmailId>,
    pub(crate) thread_id: Option<GmailId>,
    pub(crate) labels: Option<Vec<Label>>,
}

impl GmailItems {
    /// Takes Gmail's items out of a FETCH response, which the decoder would refuse whole, and
    /// writes the others to `rest` for it (empty when none are left). `None` when
    /// the message is no FETCH response, has no X-GM item, or one is malformed or over a
    /// limit.
    pub(crate) fn split(message: &[u8], rest: &mut Vec<u8>) -> Option<(u32, Self)> {
        let mut gmail = Self::default();
        let seq = split_fetch(message, rest, |name, value| gmail.take(name, value))?;
        Some((seq, gmail))
    }

    /// Reads the item if it is Gmail's; items of Gmail's this client does not know are
    /// claimed and ignored.
    fn take(&mut self, name: &[u8], value: &Value) -> Option<bool> {
        let gmail = name
            .get(..5)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"X-GM-"));
        if !gmail {
            return Some(false);
        }
        match name.to_ascii_uppercase().as_slice() {
            b"X-GM-MSGID" => self.message_id = Some(GmailId::read(value)?),
            b"X-GM-THRID" => self.thread_id = Some(GmailId::read(value)?),
            b"X-GM-LABELS" => self.labels = Some(read_labels(value)?),
            _ => {}
        }
        Some(true)
    }
}

/// `(label ...)`: each an atom or a string, within the limits.
fn read_labels(value: &Value) -> Option<Vec<Label>> {
    let Value::List(items) = value else {
        return None;
    };
    if items.len() > MAX_LABELS {
        return None;
    }
    items
        .iter()
        .map(|item| match item {
            Value::Atom(bytes) | Value::Str { bytes, .. }
                if !bytes.is_empty() && bytes.len() <= MAX_LABEL_BYTES =>
            {
                Some(Label::from_wire(bytes))
            }
            _ => None,
        })
        .collect()
}

/// `UID FETCH <set> UID` as imap-types writes it, its item turned into Gmail's three.
pub(crate) fn fetch_tail() -> CommandTail {
    let mut tail = CommandTail::new(b" UID\r\n");
    tail.push_line(b" (UID X-GM-MSGID X-GM-THRID X-GM-LABELS)\r\n");
    tail
}

/// `UID STORE <set> ±FLAGS ()` as imap-types writes it, its flags turned into `labels`.
pub(crate) fn labels_tail(labels: &[Label]) -> Result<CommandTail, SubmitError> {
    let mut tail = CommandTail::new(b"FLAGS ()\r\n");
    tail.push_line(b"X-GM-LABELS (");
    for (index, label) in labels.iter().enumerate() {
        if index > 0 {
            tail.push_line(b" ");
        }
        label.push_to(&mut tail)?;
    }
    tail.push_line(b")\r\n");
    Ok(tail)
}

/// The search key that stands for `X-GM-RAW <query>` until the command is encoded: a HEADER
/// key whose field is the constant `X-GM-RAW` (see [`RAW_MARKER`]). The query is always a
/// quoted string or a literal, as Gmail's examples send it.
pub(crate) fn raw_key(query: &str) -> Result<SearchKey<'static>, SubmitError> {
    let field = AString::try_from("X-GM-RAW").map_err(invalid("search key"))?;
    let query = IString::try_from(query.to_owned()).map_err(invalid("Gmail search"))?;
    Ok(SearchKey::Header(field, AString::String(query)))
}

/// How the encoder writes [`raw_key`]'s key, and what Gmail expects instead.
pub(crate) const RAW_MARKER: (&[u8], &[u8]) = (b" HEADER X-GM-RAW ", b" X-GM-RAW ");

/// Whether `body` searches with [`raw_key`], which `search_criteria` puts first: then the
/// first `RAW_MARKER` in the encoded command is that key (only constants come before it).
pub(crate) fn searches_raw(body: &CommandBody<'_>) -> bool {
    let criteria = match body {
        CommandBody::Search { criteria, .. } => criteria,
        CommandBody::Sort {
            search_criteria, ..
        }
        | CommandBody::Thread {
            search_criteria, ..
        } => search_criteria,
        _ => return false,
    };
    matches!(
        criteria.as_ref().first(),
        Some(SearchKey::Header(AString::Atom(field), _)) if field.inner() == "X-GM-RAW"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n0003_gmail_items_are_taken_out_and_the_rest_left_for_imap_codec() {
        let split = |input: &[u8]| {
            let mut out = Vec::new();
            GmailItems::split(input, &mut out).map(|(seq, gmail)| {
                let labels = gmail.labels.map(|l| l.iter().map(Label::display).collect());
                let rest = String::from_utf8_lossy(&out).into_owned();
                (seq, gmail.message_id.map(|id| id.0), labels, rest)
            })
        };
        assert_eq!(
            split(b"* 4 FETCH (X-GM-MSGID 12 (X-GM-LABELS (\\Inbox \"a b\")) FLAGS (\\Seen) UID 9)\r\n"),
            Some((
                4,
                Some(12),
                Some(vec!["Inbox".to_owned(), "a b".to_owned()]),
                "* 4 FETCH (FLAGS (\\Seen) UID 9)\r\n".to_owned()
            ))
        );
        assert_eq!(
            split(b"* 1 FETCH (x-gm-labels ())\r\n"),
            Some((1, None, Some(Vec::new()), String::new()))
        );
        // The limits themselves are allowed.
        let widest = format!(
            "* 1 FETCH (X-GM-LABELS ({} {}))\r\n",
            vec!["L"; 9_999].join(" "),
            "L".repeat(1024)
        );
        let labels = split(widest.as_bytes()).and_then(|(_, _, labels, _)| labels);
        assert_eq!(labels.map(|labels| labels.len()), Some(10_000));
        for input in [
            b"* 1 FETCH (UID 3 FLAGS ())\r\n".as_slice(),
            b"* 0 FETCH (X-GM-MSGID 1)\r\n",
            b"* 1 FETCH (X-GM-MSGID 1x)\r\n",
            b"* 1 FETCH (X-GM-MSGID +5)\r\n",
            b"* 1 FETCH (X-GM-THRID \"5\")\r\n",
            b"* 1 FETCH (X-GM-LABELS ((nested)))\r\n",
            b"* 1 FETCH (X-GM-LABELS (\"\"))\r\n",
            b"* 1 EXISTS\r\n",
        ] {
            assert_eq!(split(input), None, "{input:?}");
        }
    }
}
