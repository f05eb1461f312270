//! Keeping the selected mailbox in step with the server: which UID each message sequence
//! number holds (RFC 3501 §2.3.1.2), through EXISTS, EXPUNGE and VANISHED (RFC 7162 §3.2.10),
//! and what a driver's cache knows when it opens a mailbox again (rows C0002, V0003).

use crate::message::{Uid, UidSet};
use imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

/// Sequence numbers past this are counted but their UIDs are not remembered, so a hostile
/// EXISTS cannot make the engine allocate without bound (12 bytes a message: 24 MiB at most).
const MAX_MAPPED: usize = 1 << 21;

/// Below this many expunged slots the map is never compacted.
const COMPACT_AFTER: usize = 64;

/// Sequence number → UID for the selected mailbox. UIDs ascend with sequence numbers. An
/// expunged message's slot is only marked, and a Fenwick tree counting the live slots finds a
/// sequence number's slot in O(log n): a burst of EXPUNGEs costs O(n log n), not O(n²). The
/// tail past the last UID seen is not stored at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MessageMap {
    slots: Vec<Slot>,
    /// Node `i` (1-based) at `live[i - 1]` counts the live slots in `(i - lowbit(i), i]`.
    live: Vec<u32>,
    expunged: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Unknown,
    Known(Uid),
    Expunged,
}

fn lowbit(i: usize) -> usize {
    i & i.wrapping_neg()
}

impl MessageMap {
    pub(crate) fn uid(&self, seq: u32) -> Option<Uid> {
        match self.slots.get(self.slot_of(seq)?) {
            Some(Slot::Known(uid)) => Some(*uid),
            _ => None,
        }
    }

    pub(crate) fn seq(&self, uid: Uid) -> Option<u32> {
        let index = self
            .slots
            .iter()
            .position(|slot| *slot == Slot::Known(uid))?;
        u32::try_from(self.live_before(index + 1)).ok()
    }

    /// A FETCH told us the UID at `seq`; `exists` bounds what a server may name.
    pub(crate) fn record(&mut self, seq: u32, uid: Uid, exists: u32) {
        if seq > exists {
            return;
        }
        if let Some(index) = self.slot_of(seq) {
            if let Some(slot) = self.slots.get_mut(index) {
                *slot = Slot::Known(uid);
            }
            return;
        }
        let Some(missing) = usize::try_from(seq)
            .ok()
            .and_then(|seq| seq.checked_sub(self.live_count()))
        else {
            return;
        };
        if missing == 0 || self.slots.len().saturating_add(missing) > MAX_MAPPED {
            return;
        }
        for _ in 1..missing {
            self.push(Slot::Unknown);
        }
        self.push(Slot::Known(uid));
    }

    /// EXISTS never shrinks the mailbox without an expunge; a server that says otherwise
    /// has forgotten messages, and so do we.
    pub(crate) fn truncate(&mut self, exists: u32) {
        let Some(first_gone) = exists.checked_add(1).and_then(|seq| self.slot_of(seq)) else {
            return;
        };
        self.truncate_at(first_gone);
    }

    /// EXPUNGE of `seq`: later messages move down by one. Returns the UID it had, if known.
    pub(crate) fn expunge(&mut self, seq: u32) -> Option<Uid> {
        let index = self.slot_of(seq)?;
        let was = self.kill(index);
        self.compact();
        match was {
            Slot::Known(uid) => Some(uid),
            _ => None,
        }
    }

    /// VANISHED: removes the named UIDs this map holds. A vanished UID whose slot is unknown
    /// could be any unknown slot, so the map forgets from the first unknown slot on.
    pub(crate) fn vanish(&mut self, gone: &UidSet) {
        let mut known_gone: u64 = 0;
        for index in 0..self.slots.len() {
            if matches!(self.slots.get(index), Some(Slot::Known(uid)) if gone.contains(*uid)) {
                self.kill(index);
                known_gone += 1;
            }
        }
        if gone.count() > known_gone
            && let Some(first_unknown) = self.slots.iter().position(|s| *s == Slot::Unknown)
        {
            self.truncate_at(first_unknown);
        }
        self.compact();
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    fn live_count(&self) -> usize {
        self.live_before(self.slots.len())
    }

    /// How many of the first `end` slots are live: `end` itself until something is
    /// expunged, which spares a header sync a tree walk per message.
    fn live_before(&self, mut end: usize) -> usize {
        if self.expunged == 0 {
            return end.min(self.slots.len());
        }
        let mut count = 0;
        while end > 0 {
            count += self.live.get(end - 1).copied().unwrap_or(0) as usize;
            end -= lowbit(end);
        }
        count
    }

    /// The slot of the `seq`-th live message, if the map holds it.
    fn slot_of(&self, seq: u32) -> Option<usize> {
        let mut remaining = usize::try_from(seq).ok()?;
        if remaining == 0 || remaining > self.live_count() {
            return None;
        }
        if self.expunged == 0 {
            return Some(remaining - 1);
        }
        let mut before = 0;
        let mut step = self.live.len().checked_next_power_of_two()?;
        while step > 0 {
            let next = before + step;
            if let Some(&count) = self.live.get(next.wrapping_sub(1))
                && (count as usize) < remaining
            {
                before = next;
                remaining -= count as usize;
            }
            step >>= 1;
        }
        Some(before)
    }

    fn push(&mut self, slot: Slot) {
        let node = self.slots.len() + 1;
        let covered = self.live_before(node - 1) - self.live_before(node - lowbit(node));
        self.live
            .push(covered as u32 + u32::from(slot != Slot::Expunged));
        self.slots.push(slot);
    }

    fn kill(&mut self, index: usize) -> Slot {
        let Some(slot) = self.slots.get_mut(index) else {
            return Slot::Expunged;
        };
        let was = std::mem::replace(slot, Slot::Expunged);
        if was != Slot::Expunged {
            self.expunged += 1;
            let mut node = index + 1;
            while let Some(count) = self.live.get_mut(node - 1) {
                *count = count.saturating_sub(1);
                node += lowbit(node);
            }
        }
        was
    }

    /// Forgets slot `index` and everything after it. Tree nodes only cover slots at or
    /// before their own, so the rest of the tree stays right.
    fn truncate_at(&mut self, index: usize) {
        self.slots.truncate(index);
        self.live.truncate(index);
        self.expunged = self.slots.iter().filter(|s| **s == Slot::Expunged).count();
    }

    /// Drops expunged slots once they outnumber the live ones: O(n), amortised O(1) each.
    fn compact(&mut self) {
        if self.expunged < COMPACT_AFTER || self.expunged < self.slots.len() / 2 {
            return;
        }
        let slots = std::mem::take(&mut self.slots);
        *self = Self::default();
        for slot in slots.into_iter().filter(|s| *s != Slot::Expunged) {
            self.push(slot);
        }
    }
}

/// What the driver's cache holds for a mailbox it opens again; with it the engine asks only
/// for what changed (QRESYNC or CONDSTORE) and says when the cache must go (UIDVALIDITY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedMailbox {
    pub uid_validity: u32,
    /// The HIGHESTMODSEQ the cache is current to, if the server reported one.
    pub highest_modseq: Option<u64>,
    /// The UIDs the cache holds, so the server names only those of them that vanished.
    pub known_uids: Option<UidSet>,
}

impl CachedMailbox {
    /// The state as drivers give it, the known UIDs as a list (zeros ignored).
    pub fn from_driver(
        uid_validity: u32,
        highest_modseq: Option<u64>,
        known_uids: Option<Vec<u32>>,
    ) -> Self {
        let known_uids = known_uids
            .and_then(|values| UidSet::from_uids(values.into_iter().filter_map(Uid::new)));
        Self {
            uid_validity,
            highest_modseq,
            known_uids,
        }
    }
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
        let cached = CachedMailbox::from_driver(7, Some(30), Some(vec![9, 1, 0, 2, 3]));
        assert_eq!(cached.highest_modseq, Some(30));
        assert_eq!(cached.known_uids.unwrap().to_string(), "1:3,9");
        let bare = CachedMailbox::from_driver(7, None, None);
        assert_eq!((bare.highest_modseq, bare.known_uids), (None, None));
        assert_eq!(
            CachedMailbox::from_driver(7, None, Some(vec![])).known_uids,
            None
        );
    }

    #[test]
    fn c0002_sequence_numbers_beyond_exists_or_the_bound_are_not_stored() {
        let mut map = MessageMap::default();
        map.record(4, uid(4), 3);
        map.record(u32::MAX, uid(4), u32::MAX);
        assert_eq!(map.uid(4), None);
        assert!(map.slots.is_empty());
    }

    /// The map's meaning, spelled out on a plain vector.
    #[derive(Default)]
    struct Model(Vec<Option<Uid>>);

    impl Model {
        fn record(&mut self, seq: u32, uid: Uid, exists: u32) {
            let index = seq as usize - 1;
            if seq <= exists {
                if self.0.len() <= index {
                    self.0.resize(index + 1, None);
                }
                self.0[index] = Some(uid);
            }
        }

        fn expunge(&mut self, seq: u32) -> Option<Uid> {
            let index = seq as usize - 1;
            (index < self.0.len())
                .then(|| self.0.remove(index))
                .flatten()
        }

        fn vanish(&mut self, gone: &UidSet) {
            let before = self.0.len();
            self.0
                .retain(|slot| !slot.is_some_and(|uid| gone.contains(uid)));
            if gone.count() > (before - self.0.len()) as u64
                && let Some(first) = self.0.iter().position(Option::is_none)
            {
                self.0.truncate(first);
            }
        }
    }

    #[test]
    fn c0002_the_map_agrees_with_a_plain_vector_under_random_changes() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |bound: u32| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % u64::from(bound)) as u32
        };
        let (mut map, mut model, mut exists) = (MessageMap::default(), Model::default(), 0u32);
        for _ in 0..5_000 {
            match next(10) {
                0 if exists < 400 => {
                    exists += next(40);
                    map.truncate(exists);
                    model.0.truncate(exists as usize);
                }
                // A summary fetch of the whole mailbox.
                1 => {
                    let base = next(1000);
                    for seq in 1..=exists {
                        map.record(seq, uid(base + seq), exists);
                        model.record(seq, uid(base + seq), exists);
                    }
                }
                2..=6 if exists > 0 => {
                    let seq = 1 + next(exists);
                    assert_eq!(map.expunge(seq), model.expunge(seq));
                    exists -= 1;
                }
                7 if exists > 0 => {
                    let (seq, value) = (1 + next(exists), uid(1 + next(1500)));
                    map.record(seq, value, exists);
                    model.record(seq, value, exists);
                }
                8 => {
                    let first = uid(1 + next(1500));
                    let gone = UidSet::from_ranges([(first, uid(first.get() + next(9)))]).unwrap();
                    map.vanish(&gone);
                    model.vanish(&gone);
                }
                _ => {}
            }
            for seq in 1..=exists + 1 {
                let expected = model.0.get(seq as usize - 1).copied().flatten();
                assert_eq!(map.uid(seq), expected, "seq {seq}");
            }
            // Back from UID to sequence number at a few places (each is a linear search).
            for seq in (1..=exists).step_by(1 + exists as usize / 8) {
                if let Some(uid) = model.0.get(seq as usize - 1).copied().flatten() {
                    // The random changes may put one UID at several sequence numbers.
                    let first = model.0.iter().position(|held| *held == Some(uid));
                    let first = first.and_then(|at| u32::try_from(at + 1).ok());
                    assert_eq!(map.seq(uid), first, "seq of {uid:?}");
                }
            }
            // The fast paths while nothing is expunged rely on this count.
            let expunged = map.slots.iter().filter(|s| **s == Slot::Expunged).count();
            assert_eq!(map.expunged, expunged);
        }
    }

    #[test]
    fn c0002_a_burst_of_expunges_keeps_every_number_right() {
        let count = 10_000;
        let mut map = MessageMap::default();
        for seq in 1..=count {
            map.record(seq, uid(seq * 2), count);
        }
        // Expunge every odd-numbered message, one EXPUNGE each, as a server would number
        // them: after each, the next odd one has moved down by one.
        for step in 0..count / 2 {
            assert_eq!(map.expunge(step + 1), Some(uid((2 * step + 1) * 2)));
        }
        for seq in 1..=count / 2 {
            assert_eq!(map.uid(seq), Some(uid(seq * 4)), "seq {seq}");
        }
        assert_eq!(map.uid(count / 2 + 1), None);
        assert_eq!(map.seq(uid(40)), Some(10));
        assert!(map.slots.len() < count as usize);
        map.truncate(3);
        assert_eq!((map.uid(3), map.uid(4)), (Some(uid(12)), None));
    }
}
