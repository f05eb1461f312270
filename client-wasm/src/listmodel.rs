//! The message list of one mailbox, kept compact: a 64-byte row per message, the text of all
//! subjects and message IDs in one arena, and each distinct sender and flag list stored once
//! per mailbox (a folder has few of either). [`MessageSummary`] values, the page's view, are
//! derived from it on demand and are equal to the ones pushed.

use crate::message::{Flag, MessageSummary, Sender, Uid};
use client_wasm_receive::summary_header::{ThreadKeys, id_hash};
use serde::ser::{Serialize, SerializeSeq, Serializer};
use std::borrow::Cow;
use std::collections::HashMap;

/// Which optional values a row holds.
mod present {
    pub(super) const SIZE: u16 = 1;
    pub(super) const INTERNAL_DATE: u16 = 1 << 1;
    pub(super) const DATE: u16 = 1 << 2;
    pub(super) const SUBJECT: u16 = 1 << 3;
    pub(super) const MESSAGE_ID: u16 = 1 << 4;
    pub(super) const FROM: u16 = 1 << 5;
    /// The date is outside u32 seconds (before 1970 or after 2106): see `wide_dates`.
    pub(super) const WIDE_INTERNAL_DATE: u16 = 1 << 6;
    pub(super) const WIDE_DATE: u16 = 1 << 7;
    /// Not a value but the summary's `has_attachments` (the row's padding has room).
    pub(super) const ATTACHMENTS: u16 = 1 << 8;
}

/// One message in 64 bytes. Dates are in seconds (IMAP and RFC 5322 dates have no finer
/// precision); the message ID's thread hash is recomputed from its text.
#[derive(Debug, Clone, Copy)]
struct Row {
    uid: Uid,
    seq: u32,
    size: u32,
    /// Where the subject starts in the arena; the message ID follows it.
    text: u32,
    subject_len: u32,
    message_id_len: u32,
    sender: u32,
    flags: u32,
    internal_date: u32,
    date: u32,
    in_reply_to: u64,
    references: u64,
    present: u16,
}

/// A sender's name and address, one after the other in the senders' arena.
#[derive(Debug, Clone, Copy)]
struct SenderEntry {
    start: u32,
    name_len: Option<u32>,
    address_len: Option<u32>,
}

/// Each distinct sender once: a folder has few next to its messages.
#[derive(Debug, Default)]
struct Senders {
    text: String,
    entries: Vec<SenderEntry>,
    /// By a hash of the sender; a colliding sender is simply stored again.
    index: HashMap<u64, u32>,
}

impl Senders {
    fn intern(&mut self, sender: &Sender) -> Option<u32> {
        let (name, address) = (sender.name.as_deref(), sender.address.as_deref());
        let key = sender_hash(name, address);
        if let Some(&index) = self.index.get(&key)
            && self.parts(index) == Some((name, address))
        {
            return Some(index);
        }
        let index = u32::try_from(self.entries.len()).ok()?;
        let start = u32::try_from(self.text.len()).ok()?;
        let name_len = append(&mut self.text, name);
        let address_len = append(&mut self.text, address);
        self.entries.push(SenderEntry {
            start,
            name_len,
            address_len,
        });
        self.index.entry(key).or_insert(index);
        Some(index)
    }

    fn get(&self, index: u32) -> Option<Sender> {
        let (name, address) = self.parts(index)?;
        Some(Sender {
            name: name.map(str::to_owned),
            address: address.map(str::to_owned),
        })
    }

    /// The name and address stored at `index`, borrowed: interning compares them without
    /// copying them out.
    fn parts(&self, index: u32) -> Option<(Option<&str>, Option<&str>)> {
        let entry = self.entries.get(usize::try_from(index).ok()?)?;
        let name_len = entry.name_len.unwrap_or(0);
        Some((
            entry
                .name_len
                .and_then(|length| str_at(&self.text, entry.start, length)),
            entry
                .address_len
                .and_then(|length| str_at(&self.text, entry.start.checked_add(name_len)?, length)),
        ))
    }
}

/// A sender's parts hashed apart and combined, present or not, without building a key.
fn sender_hash(name: Option<&str>, address: Option<&str>) -> u64 {
    let part = |text: Option<&str>| text.map_or(0, |text| id_hash(text.as_bytes()));
    part(name).rotate_left(32) ^ part(address)
}

/// Appends text to an arena of at most 4 GiB; its length, if it fits.
fn append(arena: &mut String, text: Option<&str>) -> Option<u32> {
    let text = text?;
    let length = u32::try_from(text.len()).ok()?;
    u32::try_from(arena.len().checked_add(text.len())?).ok()?;
    arena.push_str(text);
    Some(length)
}

fn str_at(arena: &str, offset: u32, length: u32) -> Option<&str> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(length).ok()?)?;
    arena.get(start..end)
}

/// A table of distinct values, each stored once, referred to by index.
#[derive(Debug)]
struct Interned<T> {
    values: Vec<T>,
    index: HashMap<T, u32>,
}

impl<T: Clone + Eq + std::hash::Hash> Interned<T> {
    fn new() -> Self {
        Self {
            values: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn intern(&mut self, value: &T) -> Option<u32> {
        if let Some(&index) = self.index.get(value) {
            return Some(index);
        }
        let index = u32::try_from(self.values.len()).ok()?;
        self.values.push(value.clone());
        self.index.insert(value.clone(), index);
        Some(index)
    }

    fn get(&self, index: u32) -> Option<&T> {
        self.values.get(usize::try_from(index).ok()?)
    }
}

/// The compact message list of one mailbox, in the order messages were pushed.
#[derive(Debug)]
pub struct MessageList {
    rows: Vec<Row>,
    /// Subjects and message IDs.
    text: String,
    senders: Senders,
    flag_lists: Interned<Cow<'static, [Flag]>>,
    /// Dates that do not fit a row's u32 seconds: (row, whether the Date field, seconds), in
    /// row order.
    wide_dates: Vec<(u32, bool, i64)>,
}

impl Default for MessageList {
    fn default() -> Self {
        Self::new()
    }
}

/// What the list occupies, for the benchmark's memory figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUse {
    /// Bytes of the list value itself.
    pub inline: usize,
    /// Heap bytes reserved (capacities), hash tables estimated from their capacity.
    pub heap: usize,
    /// Live heap allocations, to estimate the allocator's overhead.
    pub allocations: usize,
}

impl MessageList {
    pub fn new() -> Self {
        Self {
            rows: Vec::new(),
            text: String::new(),
            senders: Senders::default(),
            flag_lists: Interned::new(),
            wide_dates: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds a message. Values the compact form cannot hold (more than 4 GiB of text, 2³²
    /// messages, senders or flag lists) are left out of the row rather than kept wrong.
    pub fn push(&mut self, summary: &MessageSummary) {
        let Ok(row_index) = u32::try_from(self.rows.len()) else {
            return;
        };
        let mut present = 0;
        let mut mark = |bit, value: Option<()>| {
            if value.is_some() {
                present |= bit;
            }
        };
        let start = u32::try_from(self.text.len()).ok();
        let subject_len = start.and(append(&mut self.text, summary.subject.as_deref()));
        let message_id_len = start.and(append(&mut self.text, summary.message_id.as_deref()));
        mark(present::SUBJECT, subject_len.map(drop));
        mark(present::MESSAGE_ID, message_id_len.map(drop));
        let sender = summary
            .from
            .as_ref()
            .and_then(|from| self.senders.intern(from));
        mark(present::FROM, sender.map(drop));
        mark(present::SIZE, summary.size.map(drop));
        mark(present::ATTACHMENTS, summary.has_attachments.then_some(()));
        let mut seconds = |millis: Option<i64>, bit, wide_bit, is_date| {
            let seconds = millis?.div_euclid(1000);
            present |= bit;
            u32::try_from(seconds).ok().or_else(|| {
                present |= wide_bit;
                self.wide_dates.push((row_index, is_date, seconds));
                None
            })
        };
        let internal_date = seconds(
            summary.internal_date,
            present::INTERNAL_DATE,
            present::WIDE_INTERNAL_DATE,
            false,
        );
        let date = seconds(summary.date, present::DATE, present::WIDE_DATE, true);
        let flags = self.flag_lists.intern(&summary.flags);
        self.rows.push(Row {
            uid: summary.uid,
            seq: summary.seq,
            size: summary.size.unwrap_or(0),
            text: start.unwrap_or(0),
            subject_len: subject_len.unwrap_or(0),
            message_id_len: message_id_len.unwrap_or(0),
            sender: sender.unwrap_or(0),
            flags: flags.unwrap_or(u32::MAX),
            internal_date: internal_date.unwrap_or(0),
            date: date.unwrap_or(0),
            in_reply_to: summary.thread.in_reply_to,
            references: summary.thread.references,
            present,
        });
    }

    /// Releases the spare capacity of growing, once a fetch is complete.
    pub fn shrink_to_fit(&mut self) {
        self.rows.shrink_to_fit();
        self.text.shrink_to_fit();
        self.senders.text.shrink_to_fit();
        self.senders.entries.shrink_to_fit();
        self.senders.index.shrink_to_fit();
        self.wide_dates.shrink_to_fit();
    }

    /// The message at `index` in push order, as the page sees it.
    pub fn get(&self, index: usize) -> Option<MessageSummary> {
        let row_index = u32::try_from(index).ok()?;
        self.rows.get(index).map(|row| self.summary(row_index, row))
    }

    pub fn iter(&self) -> impl Iterator<Item = MessageSummary> + '_ {
        (0..)
            .zip(&self.rows)
            .map(|(index, row)| self.summary(index, row))
    }

    fn summary(&self, index: u32, row: &Row) -> MessageSummary {
        let has = |bit| row.present & bit != 0;
        let subject = has(present::SUBJECT)
            .then(|| str_at(&self.text, row.text, row.subject_len))
            .flatten()
            .map(str::to_owned);
        let message_id = has(present::MESSAGE_ID)
            .then(|| {
                str_at(
                    &self.text,
                    row.text.checked_add(row.subject_len)?,
                    row.message_id_len,
                )
            })
            .flatten()
            .map(str::to_owned);
        let millis = |bit, wide_bit, seconds: u32, is_date| {
            if !has(bit) {
                return None;
            }
            let seconds = if has(wide_bit) {
                let at = self
                    .wide_dates
                    .binary_search_by_key(&(index, is_date), |&(row, date, _)| (row, date))
                    .ok()?;
                self.wide_dates.get(at)?.2
            } else {
                i64::from(seconds)
            };
            Some(seconds.saturating_mul(1000))
        };
        MessageSummary {
            uid: row.uid,
            seq: row.seq,
            flags: self.flag_lists.get(row.flags).cloned().unwrap_or_default(),
            size: has(present::SIZE).then_some(row.size),
            internal_date: millis(
                present::INTERNAL_DATE,
                present::WIDE_INTERNAL_DATE,
                row.internal_date,
                false,
            ),
            date: millis(present::DATE, present::WIDE_DATE, row.date, true),
            from: has(present::FROM)
                .then(|| self.senders.get(row.sender))
                .flatten(),
            // The full chain is for the engine's own THREAD over freshly fetched summaries;
            // the list keeps only the hashed keys.
            references: Vec::new(),
            thread: ThreadKeys {
                message_id: message_id.as_deref().map_or(0, |id| id_hash(id.as_bytes())),
                in_reply_to: row.in_reply_to,
                references: row.references,
            },
            subject,
            message_id,
            has_attachments: has(present::ATTACHMENTS),
        }
    }

    /// Bytes in use, by capacity: rows, arenas and tables; hash tables as capacity × (key +
    /// value + 1 control byte); every owned flag list's allocations counted twice (table and
    /// index hold a copy each; lists of system flags alone are shared statics).
    pub fn memory(&self) -> MemoryUse {
        let vectors = [
            self.rows.capacity() * size_of::<Row>(),
            self.text.capacity(),
            self.senders.text.capacity(),
            self.senders.entries.capacity() * size_of::<SenderEntry>(),
            self.senders.index.capacity() * (size_of::<(u64, u32)>() + 1),
            self.wide_dates.capacity() * size_of::<(u32, bool, i64)>(),
            self.flag_lists.values.capacity() * size_of::<Cow<'static, [Flag]>>(),
            self.flag_lists.index.capacity() * (size_of::<(Cow<'static, [Flag]>, u32)>() + 1),
        ];
        let mut heap: usize = vectors.iter().sum();
        let mut allocations = vectors.iter().filter(|&&bytes| bytes > 0).count();
        // Lists of system flags alone are shared statics (`message::summary_flags`).
        let owned = self
            .flag_lists
            .values
            .iter()
            .filter_map(|flags| match flags {
                Cow::Owned(flags) => Some(flags),
                Cow::Borrowed(_) => None,
            });
        for flags in owned {
            heap += 2 * flags.capacity() * size_of::<Flag>();
            allocations += 2 * usize::from(flags.capacity() > 0);
            for flag in flags {
                if let Flag::Keyword(name) | Flag::Extension(name) = flag {
                    heap += 2 * name.capacity();
                    allocations += 2;
                }
            }
        }
        MemoryUse {
            inline: size_of::<Self>(),
            heap,
            allocations,
        }
    }
}

/// The page's JSON: the same array of summaries a `Vec<MessageSummary>` gives.
impl Serialize for MessageList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for summary in self.iter() {
            seq.serialize_element(&summary)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(uid: u32) -> MessageSummary {
        MessageSummary {
            uid: Uid::new(uid).unwrap(),
            seq: uid + 10,
            flags: vec![Flag::Seen, Flag::Keyword("$Label1".into())].into(),
            size: Some(uid * 100),
            internal_date: Some(86_400_000 + i64::from(uid) * 1000),
            date: Some(1_764_090_000_000),
            from: Some(Sender {
                name: Some("Jürgen".into()),
                address: Some("j@example.org".into()),
            }),
            subject: Some(format!("café {uid}")),
            message_id: Some(format!("{uid}@example.org")),
            has_attachments: uid.is_multiple_of(2),
            references: Vec::new(),
            thread: ThreadKeys {
                message_id: id_hash(format!("{uid}@example.org").as_bytes()),
                in_reply_to: 7,
                references: 9,
            },
        }
    }

    #[test]
    fn summaries_come_back_as_they_were_pushed() {
        let mut sparse = summary(3);
        sparse.flags = Cow::Borrowed(&[]);
        sparse.size = Some(0);
        sparse.subject = Some(String::new());
        sparse.message_id = None;
        sparse.thread = ThreadKeys::default();
        sparse.from = Some(Sender {
            name: None,
            address: Some("x@y".into()),
        });
        let mut wide = summary(5);
        (wide.internal_date, wide.date) = (Some(-86_400_000), Some(5_000_000_000_000));
        let mut empty = summary(4);
        (empty.size, empty.internal_date, empty.date) = (None, None, None);
        (empty.from, empty.subject) = (None, None);
        let pushed = vec![summary(1), summary(2), sparse, wide, empty];
        let mut list = MessageList::new();
        pushed.iter().for_each(|s| list.push(s));
        assert_eq!(list.iter().collect::<Vec<_>>(), pushed);
        assert_eq!(list.get(2).as_ref(), pushed.get(2));
        assert_eq!(list.get(5), None);
        assert_eq!(list.wide_dates.len(), 2);
        list.shrink_to_fit();
        assert_eq!(list.iter().collect::<Vec<_>>(), pushed);
        assert_eq!(
            list.senders.entries.len(),
            2,
            "one copy per distinct sender"
        );
        assert_eq!(list.flag_lists.values.len(), 2);
        assert_eq!(size_of::<Row>(), 64);
    }

    #[test]
    fn the_list_serializes_as_the_summaries_do() {
        let pushed = vec![summary(1), summary(2)];
        let mut list = MessageList::new();
        pushed.iter().for_each(|s| list.push(s));
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            serde_json::to_string(&pushed).unwrap()
        );
    }
}
