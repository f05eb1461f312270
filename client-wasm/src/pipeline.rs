//! Which commands may be on the wire together (RFC 3501 §5.5, row V0026): a bounded window,
//! and no two commands in it whose responses or effects could be mistaken for each other's.

use crate::mailbox::{MailboxName, same_mailbox};
use crate::message::{Uid, UidSet};
use imap_types::command::CommandBody;
use imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

/// At most this many commands in flight: enough to hide round trips for background STATUS
/// and flag changes (row V0044), few enough that a slow server is not flooded.
pub(crate) const WINDOW: usize = 8;

/// How a command shares the wire, by which responses only it can claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    /// Changes what later commands mean or talks with the server mid-command: nothing else is
    /// in flight with it.
    Alone,
    /// Gathers untagged data that names no command: one such command at a time.
    Gathers,
    /// A LIST: gathers LIST replies, and STATUS replies under LIST-STATUS.
    Lists,
    /// Its tagged status is its result (a STATUS reply names its mailbox).
    Tagged,
}

/// What a command in flight must not share with another.
pub(crate) struct Pipelining {
    pub(crate) lane: Lane,
    /// The mailbox it asks about or adds to, other than the selected one: STATUS's, or the
    /// destination of COPY, MOVE and APPEND.
    mailbox: Option<MailboxName>,
    /// The messages whose flags it reads, changes or removes.
    messages: Option<Touch>,
}

struct Touch {
    /// `None`: any message.
    uids: Option<UidSet>,
    writes: bool,
}

impl Touch {
    fn conflicts(&self, other: &Self) -> bool {
        let overlap = match (&self.uids, &other.uids) {
            (Some(ours), Some(theirs)) => ours.intersects(theirs),
            _ => true,
        };
        (self.writes || other.writes) && overlap
    }
}

impl Pipelining {
    pub(crate) fn alone() -> Self {
        Self::in_lane(Lane::Alone)
    }

    pub(crate) fn in_lane(lane: Lane) -> Self {
        Self {
            lane,
            mailbox: None,
            messages: None,
        }
    }

    /// A STATUS of `mailbox`.
    pub(crate) fn status(mailbox: MailboxName) -> Self {
        Self {
            mailbox: Some(mailbox),
            ..Self::in_lane(Lane::Tagged)
        }
    }

    /// A command that gathers what it learns about the messages in `set` (FETCH FLAGS) or in
    /// the whole mailbox (`None`: SEARCH, SORT, THREAD).
    pub(crate) fn reads(set: Option<&SequenceSet>) -> Self {
        Self {
            messages: Some(Touch {
                uids: set.and_then(reach),
                writes: false,
            }),
            ..Self::in_lane(Lane::Gathers)
        }
    }

    /// An encoded command whose responses gather as `lane` says. Sequence numbers are only
    /// meaningful with nothing else in flight (an EXPUNGE meanwhile renumbers, RFC 3501
    /// §5.5); mailbox-list changes alter what every following command names.
    pub(crate) fn of(body: &CommandBody<'_>, lane: Lane) -> Self {
        use CommandBody as B;
        let alone = match body {
            B::Fetch { uid, .. }
            | B::Store { uid, .. }
            | B::Copy { uid, .. }
            | B::Move { uid, .. }
            | B::Search { uid, .. }
            | B::Sort { uid, .. }
            | B::Thread { uid, .. } => !uid,
            B::Expunge
            | B::Create { .. }
            | B::Delete { .. }
            | B::Rename { .. }
            | B::Subscribe { .. }
            | B::Unsubscribe { .. } => true,
            _ => false,
        };
        let touch = |set: &SequenceSet, writes| {
            Some(Touch {
                uids: reach(set),
                writes,
            })
        };
        let messages = match body {
            B::Store { sequence_set, .. }
            | B::Move { sequence_set, .. }
            | B::ExpungeUid { sequence_set } => touch(sequence_set, true),
            B::Fetch { sequence_set, .. } | B::Copy { sequence_set, .. } => {
                touch(sequence_set, false)
            }
            B::Search { .. } | B::Sort { .. } | B::Thread { .. } => Some(Touch {
                uids: None,
                writes: false,
            }),
            _ => None,
        };
        let mailbox = match body {
            B::Status { mailbox, .. }
            | B::Copy { mailbox, .. }
            | B::Move { mailbox, .. }
            | B::Append { mailbox, .. } => Some(MailboxName::from_imap(mailbox)),
            _ => None,
        };
        Self {
            lane: if alone { Lane::Alone } else { lane },
            mailbox,
            messages,
        }
    }

    /// Whether this command asks about or adds to `mailbox`.
    pub(crate) fn names(&self, mailbox: &MailboxName) -> bool {
        self.mailbox
            .as_ref()
            .is_some_and(|own| same_mailbox(own, mailbox))
    }

    /// Whether `next` may join this command in flight: each untagged response still has one
    /// command to go to, and neither command's result depends on whether the server ran the
    /// other first (RFC 3501 §5.5). Flag changes and removals wait for anything touching the
    /// same messages; two commands never name the same other mailbox.
    pub(crate) fn shares_with(&self, next: &Self) -> bool {
        let lanes = match (self.lane, next.lane) {
            (Lane::Alone, _) | (_, Lane::Alone) => false,
            (Lane::Gathers | Lane::Lists, Lane::Gathers | Lane::Lists) => false,
            (Lane::Lists, _) => next.mailbox.is_none(),
            (_, Lane::Lists) => self.mailbox.is_none(),
            (Lane::Gathers | Lane::Tagged, Lane::Gathers | Lane::Tagged) => true,
        };
        let mailboxes = next.mailbox.as_ref().is_none_or(|m| !self.names(m));
        let messages = match (&self.messages, &next.messages) {
            (Some(ours), Some(theirs)) => !ours.conflicts(theirs),
            _ => true,
        };
        lanes && mailboxes && messages
    }
}

/// The UIDs a set names; `None` (any) when it has `*`: the largest UID is unknown here, and
/// `n:*` reaches it even when it is below `n`.
fn reach(set: &SequenceSet) -> Option<UidSet> {
    let uid = |n: &std::num::NonZeroU32| Uid::new(n.get());
    let ranges = set.0.as_ref().iter().map(|sequence| match sequence {
        Sequence::Single(SeqOrUid::Value(n)) => Some((uid(n)?, uid(n)?)),
        Sequence::Range(SeqOrUid::Value(a), SeqOrUid::Value(b)) => Some((uid(a)?, uid(b)?)),
        _ => None,
    });
    UidSet::from_ranges(ranges.collect::<Option<Vec<_>>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_types::fetch::MessageDataItemName;
    use imap_types::flag::{Flag, StoreResponse, StoreType};

    fn set(text: &str) -> SequenceSet {
        SequenceSet::try_from(text).unwrap()
    }

    fn fetch(text: &str, uid: bool) -> Pipelining {
        let body = CommandBody::fetch(set(text), vec![MessageDataItemName::Flags], uid).unwrap();
        Pipelining::of(&body, Lane::Gathers)
    }

    fn store(text: &str, uid: bool) -> Pipelining {
        let body = CommandBody::store(
            set(text),
            StoreType::Add,
            StoreResponse::Silent,
            vec![Flag::Seen],
            uid,
        )
        .unwrap();
        Pipelining::of(&body, Lane::Tagged)
    }

    // No `Command` builds a sequence-number command; were one built, it would go alone.
    #[test]
    fn v0026_sequence_number_commands_go_alone() {
        assert_eq!(fetch("1:3", false).lane, Lane::Alone);
        assert_eq!(store("2", false).lane, Lane::Alone);
        assert_eq!(fetch("1:3", true).lane, Lane::Gathers);
        assert_eq!(store("2", true).lane, Lane::Tagged);
        assert!(!store("7", true).shares_with(&store("2", false)));
        assert!(store("7", true).shares_with(&store("2", true)));
    }

    #[test]
    fn v0026_a_set_with_star_may_reach_any_message() {
        // `9:*` names the largest UID even when that is below 9.
        assert!(!store("4", true).shares_with(&fetch("9:*", true)));
        assert!(store("4", true).shares_with(&fetch("9:20", true)));
        // Two reads never conflict: a COPY may join a FETCH of the same messages.
        let copy = CommandBody::copy(set("1:*"), "Archive", true).unwrap();
        assert!(fetch("9:*", true).shares_with(&Pipelining::of(&copy, Lane::Tagged)));
    }
}
