//! The local message cache, behind a storage interface the driver implements (row L0001; the
//! web host keeps it in IndexedDB). Entries are keyed by account, mailbox, UIDVALIDITY and
//! UID, so a message cached under an old UIDVALIDITY can never be served for a new one.
//! `CacheWriter` turns the engine's events into store calls.

use crate::command::Command;
use crate::event::Event;
use crate::mailbox::{MailboxName, SelectedMailbox};
use crate::message::{Flag, FullMessage, MessageSummary, Uid, UidSet};
use crate::sync::CachedMailbox;

/// One mailbox of one account under one UIDVALIDITY: UIDs mean something only within it.
/// `mailbox` is the name's wire bytes, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Epoch {
    pub account: String,
    pub mailbox: Vec<u8>,
    pub uid_validity: u32,
}

/// Where cached mail lives. Implemented by the driver: IndexedDB in the browser.
pub trait MailStore {
    /// What `Command::Open` needs to ask only for changes; `None` when nothing is cached.
    fn load_state(&self, account: &str, mailbox: &MailboxName) -> Option<CachedMailbox>;
    /// The mailbox's current epoch and the HIGHESTMODSEQ the cache is now current to.
    fn save_state(&mut self, epoch: &Epoch, highest_modseq: Option<u64>);
    fn put_summary(&mut self, epoch: &Epoch, summary: &MessageSummary);
    fn put_message(&mut self, epoch: &Epoch, message: &FullMessage);
    fn set_flags(&mut self, epoch: &Epoch, uid: Uid, flags: &[Flag]);
    fn remove(&mut self, epoch: &Epoch, uids: &UidSet);
    /// Everything cached under `epoch`: its UIDVALIDITY is gone (row V0003).
    fn drop_epoch(&mut self, epoch: &Epoch);
}

/// Applies one account's events to a `MailStore`, for the mailbox selected at the time.
///
/// The HIGHESTMODSEQ the store keeps says the cache holds every change up to it, so it moves
/// only once the driver says it caught up ([`CacheWriter::caught_up`]): a catch-up cut short
/// (the tab closed mid-FETCH) is then redone from the older value, never skipped.
#[derive(Debug, Clone)]
pub struct CacheWriter {
    account: String,
    /// `None` while no mailbox with persistent UIDs is selected: nothing is cached then.
    epoch: Option<Epoch>,
    /// The selected mailbox's HIGHESTMODSEQ as last reported.
    modseq: Option<u64>,
    /// The driver caught up with the selected mailbox: its HIGHESTMODSEQ may be saved.
    current: bool,
}

impl CacheWriter {
    pub fn new(account: impl Into<String>) -> Self {
        Self {
            account: account.into(),
            epoch: None,
            modseq: None,
            current: false,
        }
    }

    /// `Command::Open` with what the store knows of `mailbox`, so only changes come back.
    pub fn open(&self, store: &impl MailStore, mailbox: MailboxName, read_only: bool) -> Command {
        let cached = store.load_state(&self.account, &mailbox);
        Command::Open {
            mailbox,
            read_only,
            cached,
        }
    }

    /// Call for every event, in order. A message expunged before any FETCH named its UID
    /// stays cached until a QRESYNC open reports it vanished.
    pub fn apply(&mut self, store: &mut impl MailStore, event: &Event) {
        match event {
            Event::UidValidityChanged {
                mailbox, previous, ..
            } => {
                store.drop_epoch(&self.epoch_of(mailbox, *previous));
                self.epoch = None;
            }
            Event::MailboxSelected { mailbox, .. } => self.opened(store, mailbox),
            Event::MailboxUpdated { mailbox } => {
                self.modseq = mailbox.highest_modseq;
                if self.current {
                    self.save(store);
                }
            }
            _ => {
                if let Some(epoch) = &self.epoch {
                    record(store, epoch, event);
                }
            }
        }
    }

    /// Call once what changed since the cached state is in the store: after the events of a
    /// QRESYNC open (they arrive with it), or when the CHANGEDSINCE flag fetch, or for a
    /// mailbox not cached before the fetch of its messages, completed.
    pub fn caught_up(&mut self, store: &mut impl MailStore) {
        self.current = true;
        self.save(store);
    }

    fn save(&self, store: &mut impl MailStore) {
        if let Some(epoch) = &self.epoch {
            store.save_state(epoch, self.modseq);
        }
    }

    /// The new epoch is recorded with what the cache is current to so far: the stored
    /// HIGHESTMODSEQ of the same UIDVALIDITY, else none.
    fn opened(&mut self, store: &mut impl MailStore, mailbox: &SelectedMailbox) {
        self.epoch = mailbox
            .uid_validity
            .map(|uid_validity| self.epoch_of(&mailbox.name, uid_validity));
        self.modseq = mailbox.highest_modseq;
        self.current = false;
        if let Some(epoch) = &self.epoch {
            let known = store
                .load_state(&self.account, &mailbox.name)
                .filter(|cached| Some(cached.uid_validity) == mailbox.uid_validity)
                .and_then(|cached| cached.highest_modseq);
            store.save_state(epoch, known);
        }
    }

    fn epoch_of(&self, mailbox: &MailboxName, uid_validity: u32) -> Epoch {
        Epoch {
            account: self.account.clone(),
            mailbox: mailbox.as_wire().to_vec(),
            uid_validity,
        }
    }
}

/// Message news for the selected mailbox's epoch.
fn record(store: &mut impl MailStore, epoch: &Epoch, event: &Event) {
    match event {
        Event::FetchReceived { message, .. } => store.put_summary(epoch, message),
        Event::MessageFetched {
            message: Some(message),
            ..
        } => store.put_message(epoch, message),
        Event::FlagsChanged {
            uid: Some(uid),
            flags,
            ..
        } => store.set_flags(epoch, *uid, flags),
        Event::MessageExpunged { uid: Some(uid), .. } => {
            if let Some(gone) = UidSet::from_uids([*uid]) {
                store.remove(epoch, &gone);
            }
        }
        Event::MessagesVanished { uids, .. } => store.remove(epoch, uids),
        _ => {}
    }
}
