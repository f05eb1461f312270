//! Keeping the selected mailbox in step with the server: which UID each message sequence
//! number holds (RFC 3501 §2.3.1.2), through EXISTS, EXPUNGE and VANISHED (RFC 7162 §3.2.10),
//! and what a driver's cache knows when it opens a mailbox again (rows C0002, V0003).

use crate::message::{Uid, UidSet};
use imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};
use serde::{Deserialize, Deserializer};

/// Sequence numbers past this are counted but their UIDs are not remembered, so a hostile
/// EXISTS cannot make the engine allocate without bound (4 bytes a message: 16 MiB at most).
const MAX_MAPPED: usize = 1 << 22;

/// Sequence number → UID for the selected mailbox. UIDs ascend with sequence numbers, so an
/// expunge only shifts the slots after it. Slots whose UID was never seen hold `None`; the tail
/// past the last seen UID is not stored at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MessageMap {
    uids: Vec<Option<Uid>>,
}

impl MessageMap {
    pub(crate) fn uid(&self, seq: u32) -> Option<Uid> {
        let index = usize::try_from(seq).ok()?.checked_sub(1)?;
        self.uids.get(index).copied().flatten()
    }

    pub(crate) fn seq(&self, uid: Uid) -> Option<u32> {
        let index = self.uids.iter().position(|slot| *slot == Some(uid))?;
        u32::try_from(index + 1).ok()
    }

    /// A FETCH told us the UID at `seq`; `exists` bounds what a server may name.
    pub(crate) fn record(&mut self, seq: u32, uid: Uid, exists: u32) {
        let Some(index) = usize::try_from(seq).ok().and_then(|s| s.checked_sub(1)) else {
            return;
        };
        if seq > exists || index >= MAX_MAPPED {
            return;
        }
        if self.uids.len() <= index {
            self.uids.resize(index + 1, None);
        }
        if let Some(slot) = self.uids.get_mut(index) {
            *slot = Some(uid);
        }
    }

    /// EXISTS never shrinks the mailbox without an expunge; a server that says otherwise
    /// has forgotten messages, and so do we.
    pub(crate) fn truncate(&mut self, exists: u32) {
        self.uids
            .truncate(usize::try_from(exists).unwrap_or(usize::MAX));
    }

    /// EXPUNGE of `seq`: later messages move down by one. Returns the UID it had, if known.
    pub(crate) fn expunge(&mut self, seq: u32) -> Option<Uid> {
        let index = usize::try_from(seq).ok()?.checked_sub(1)?;
        if index < self.uids.len() {
            self.uids.remove(index)
        } else {
            None
        }
    }

    /// VANISHED: removes the named UIDs this map holds. A vanished UID whose slot is unknown
    /// could be any unknown slot, so the map forgets from the first unknown slot on.
    pub(crate) fn vanish(&mut self, gone: &UidSet) {
        let before = self.uids.len();
        self.uids
            .retain(|slot| !slot.is_some_and(|uid| gone.contains(uid)));
        let known_gone = (before - self.uids.len()) as u64;
        if gone.count() > known_gone
            && let Some(first_unknown) = self.uids.iter().position(Option::is_none)
        {
            self.uids.truncate(first_unknown);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.uids.clear();
    }
}

/// What the driver's cache holds for a mailbox it opens again; with it the engine asks only
/// for what changed (QRESYNC or CONDSTORE) and says when the cache must go (UIDVALIDITY).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CachedMailbox {
    pub uid_validity: u32,
    /// The HIGHESTMODSEQ the cache is current to, if the server reported one.
    #[serde(default)]
    pub highest_modseq: Option<u64>,
    /// The UIDs the cache holds, so the server names only those of them that vanished.
    /// Drivers give them as a list of UIDs.
    #[serde(default, deserialize_with = "uid_list")]
    pub known_uids: Option<UidSet>,
}

fn uid_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<UidSet>, D::Error> {
    let values = Option::<Vec<u32>>::deserialize(deserializer)?;
    Ok(values.and_then(|values| UidSet::from_uids(values.into_iter().filter_map(Uid::new))))
}

/// A UID set from the wire; `*` stands for the largest UID there can be.
pub(crate) fn uid_set_from_wire(set: &SequenceSet) -> Option<UidSet> {
    let bound = |value: &SeqOrUid| match value {
        SeqOrUid::Value(n) => Uid::new(n.get()),
        SeqOrUid::Asterisk => Uid::new(u32::MAX),
    };
    UidSet::from_ranges(set.0.as_ref().iter().filter_map(|sequence| match sequence {
        Sequence::Single(value) => bound(value).map(|uid| (uid, uid)),
        Sequence::Range(from, to) => Some((bound(from)?, bound(to)?)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(value: u32) -> Uid {
        Uid::new(value).unwrap()
    }

    fn map(uids: &[u32]) -> MessageMap {
        let mut map = MessageMap::default();
        for (index, value) in uids.iter().enumerate() {
            map.record(index as u32 + 1, uid(*value), uids.len() as u32);
        }
        map
    }

    #[test]
    fn c0002_expunge_renumbers_the_messages_after_it() {
        let mut map = map(&[3, 5, 8, 9]);
        assert_eq!(map.expunge(2), Some(uid(5)));
        assert_eq!(
            (map.uid(2), map.uid(3), map.uid(4)),
            (Some(uid(8)), Some(uid(9)), None)
        );
        assert_eq!(map.seq(uid(9)), Some(3));
        assert_eq!(map.expunge(7), None);
    }

    #[test]
    fn c0002_vanished_removes_known_uids_and_forgets_what_it_cannot_place() {
        let mut known = map(&[3, 5, 8, 9]);
        known.vanish(&UidSet::from_uids([uid(5), uid(9)]).unwrap());
        assert_eq!(
            (known.uid(1), known.uid(2), known.uid(3)),
            (Some(uid(3)), Some(uid(8)), None)
        );

        let mut gappy = MessageMap::default();
        gappy.record(1, uid(3), 5);
        gappy.record(3, uid(8), 5);
        gappy.record(5, uid(12), 5);
        gappy.vanish(&UidSet::from_uids([uid(6), uid(12)]).unwrap());
        assert_eq!((gappy.uid(1), gappy.uid(3)), (Some(uid(3)), None));
    }

    #[test]
    fn v0003_a_drivers_cache_state_reads_known_uids_as_a_list() {
        let cached: CachedMailbox = serde_json::from_str(
            r#"{"uid_validity":7,"highest_modseq":30,"known_uids":[9,1,2,3]}"#,
        )
        .unwrap();
        assert_eq!(cached.highest_modseq, Some(30));
        assert_eq!(cached.known_uids.unwrap().to_string(), "1:3,9");
        let bare: CachedMailbox = serde_json::from_str(r#"{"uid_validity":7}"#).unwrap();
        assert_eq!((bare.highest_modseq, bare.known_uids), (None, None));
    }

    #[test]
    fn c0002_sequence_numbers_beyond_exists_or_the_bound_are_not_stored() {
        let mut map = MessageMap::default();
        map.record(4, uid(4), 3);
        map.record(u32::MAX, uid(4), u32::MAX);
        assert_eq!(map.uid(4), None);
        assert!(map.uids.is_empty());
    }
}
