//! What the engine tells its driver. Each event is past tense and implies the next step.

use crate::capability::Capabilities;
use crate::command::CommandId;
use crate::error::{CommandError, Refusal, SessionError};
use crate::gmail::{GmailId, Label};
use crate::mailbox::MailboxStatus;
use crate::mailbox::{ListedMailbox, MailboxName, SelectedMailbox};
use crate::message::{Copies, Flag, FullMessage, MessageSummary, Uid, UidSet};
use crate::namespace::Namespaces;
use crate::part::FetchedPart;
use crate::structure::MessageStructure;
use crate::thread::ThreadNode;
use serde::Serialize;

/// Serialized for the page's `onEvent` listener. The variants marked `skip_serializing` reach
/// JavaScript only as their command's promise result, which `wasm.rs` builds from the
/// payload, so their serializing code stays out of the wasm (1.6 KB gzip); serializing one
/// is an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The server greeted and its capabilities are known: submit `LogIn` next, unless
    /// `preauthenticated`.
    #[serde(skip_serializing)]
    Greeted {
        preauthenticated: bool,
        capabilities: Capabilities,
    },
    /// The server accepted STARTTLS: upgrade the transport to TLS (the engine already
    /// dropped any cleartext that followed), then call `Session::handle_tls_established`.
    #[serde(skip_serializing)]
    TlsUpgradeRequested,
    /// Authentication succeeded; mailbox commands may follow.
    #[serde(skip_serializing)]
    LoggedIn {
        id: CommandId,
        capabilities: Capabilities,
    },
    #[serde(skip_serializing)]
    MailboxesListed {
        id: CommandId,
        mailboxes: Vec<ListedMailbox>,
    },
    /// The mailbox is now selected; fetch from it.
    #[serde(skip_serializing)]
    MailboxSelected {
        id: CommandId,
        mailbox: SelectedMailbox,
    },
    /// One message's summary; `id` is `None` when the server sent it unasked.
    FetchReceived {
        id: Option<CommandId>,
        message: MessageSummary,
    },
    #[serde(skip_serializing)]
    FetchCompleted { id: CommandId },
    #[serde(skip_serializing)]
    NoopCompleted { id: CommandId },
    /// A command with nothing to report but success (STORE, EXPUNGE, mailbox
    /// management, the end of IDLE) completed.
    #[serde(skip_serializing)]
    CommandCompleted { id: CommandId },
    #[serde(skip_serializing)]
    StatusReceived {
        id: CommandId,
        status: MailboxStatus,
    },
    /// The COPY or MOVE completed; `copies` from COPYUID when the server has UIDPLUS and its
    /// answer is consistent with what was copied or moved.
    #[serde(skip_serializing)]
    Copied {
        id: CommandId,
        copies: Option<Copies>,
    },
    /// UIDs matching a search, ascending.
    #[serde(skip_serializing)]
    SearchCompleted { id: CommandId, uids: Vec<Uid> },
    /// The message was stored; `uid` from APPENDUID when the server has UIDPLUS.
    #[serde(skip_serializing)]
    Appended { id: CommandId, uid: Option<Uid> },
    /// The message the reader asked for; `None` when it no longer exists.
    #[serde(skip_serializing)]
    MessageFetched {
        id: CommandId,
        message: Option<Box<FullMessage>>,
    },
    /// The server is idling: changes now arrive as events without asking.
    IdleStarted { id: CommandId },
    /// The command failed; the session goes on unless a `Closed` event follows.
    #[serde(skip_serializing)]
    CommandFailed { id: CommandId, error: CommandError },
    /// The selected mailbox's counts changed unasked (another client, new mail).
    MailboxChanged { exists: u32, recent: u32 },
    /// The server sent an ALERT: show `text` to the user (RFC 3501 §7.1).
    AlertReceived { text: String },
    /// A response was not understood and was skipped whole; the stream stays in sync.
    ResponseSkipped { reason: &'static str, length: usize },
    /// UIDs in the order asked for.
    #[serde(skip_serializing)]
    SortCompleted { id: CommandId, uids: Vec<Uid> },
    /// Conversations, oldest first.
    #[serde(skip_serializing)]
    ThreadsReceived {
        id: CommandId,
        threads: Vec<ThreadNode>,
    },
    /// The hierarchy's prefixes and delimiters (row V0022).
    #[serde(skip_serializing)]
    NamespacesReceived {
        id: CommandId,
        namespaces: Namespaces,
    },
    /// The server's ID answer (RFC 2971): field names and values, as sent.
    #[serde(skip_serializing)]
    ServerIdentified {
        id: CommandId,
        fields: Vec<(String, Option<String>)>,
    },
    /// The session is over: close the transport. `error` is `None` after our own LOGOUT.
    #[serde(skip_serializing)]
    Closed { error: Option<SessionError> },
    /// A message of the selected mailbox was expunged; every later sequence number dropped by
    /// one. `uid` is known when a FETCH had named it. `MailboxChanged` follows.
    MessageExpunged { seq: u32, uid: Option<Uid> },
    /// These UIDs are gone (RFC 7162 VANISHED). `earlier`: they went before this session
    /// looked (a QRESYNC open or a `FetchFlags`), so counts are unchanged; else
    /// `MailboxChanged` follows.
    MessagesVanished { uids: UidSet, earlier: bool },
    /// A message's flags as they are now: another client changed them and the server named
    /// only the sequence number (with a UID it is a `FetchReceived` with no id), or a
    /// `FetchFlags` or QRESYNC open reported them. `uid` is `None` only for a message no
    /// FETCH has named yet.
    FlagsChanged {
        seq: u32,
        uid: Option<Uid>,
        flags: Vec<Flag>,
        modseq: Option<u64>,
    },
    /// The selected mailbox's FLAGS, PERMANENTFLAGS, READ-ONLY, UIDNEXT or HIGHESTMODSEQ
    /// changed unasked.
    MailboxUpdated { mailbox: SelectedMailbox },
    /// The mailbox's UIDVALIDITY is not the cache's (row V0003): drop the cached messages and
    /// any UID-based action not yet sent, then resync. The engine has already failed its own
    /// queued UID commands. `current` is `None` when the server has no persistent UIDs.
    UidValidityChanged {
        mailbox: MailboxName,
        previous: u32,
        current: Option<u32>,
    },
    /// An untagged NO (a warning, such as a nearly full quota) or BAD (an error the server
    /// blames on no command): show `text` if the driver shows such things.
    WarningReceived { refusal: Refusal, text: String },
    /// A `StoreUnchangedSince` changed all but `uids`, which another client changed after
    /// the given MODSEQ: fetch their flags and decide again.
    #[serde(skip_serializing)]
    StoreConflicted { id: CommandId, uids: UidSet },
    /// The structure `FetchStructure` asked for; `None` when the message no longer exists.
    #[serde(skip_serializing)]
    StructureFetched {
        id: CommandId,
        message: Option<Box<MessageStructure>>,
    },
    /// One message's Gmail ids and labels, as `FetchGmail` asked.
    GmailFetched {
        id: CommandId,
        uid: Uid,
        message_id: GmailId,
        thread_id: GmailId,
        labels: Vec<Label>,
    },
    /// A message's Gmail labels as they are now: a `StoreLabels` answer (`id`), or sent
    /// unasked (`None`: another client, or Gmail after a change). `uid` is `None` only for a
    /// message no FETCH has named yet.
    LabelsChanged {
        id: Option<CommandId>,
        seq: u32,
        uid: Option<Uid>,
        labels: Vec<Label>,
    },
    /// The octets `FetchPart` asked for; `None` when the message no longer exists.
    #[serde(skip_serializing)]
    PartFetched {
        id: CommandId,
        part: Option<FetchedPart>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_serialize_and_promise_results_do_not() {
        let notice = Event::IdleStarted { id: CommandId(3) };
        assert_eq!(
            serde_json::to_string(&notice).unwrap(),
            r#"{"type":"idle_started","id":3}"#
        );
        let result = Event::NoopCompleted { id: CommandId(3) };
        assert!(serde_json::to_string(&result).is_err());
    }
}
