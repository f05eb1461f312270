//! What the engine tells its driver. Each event is past tense and implies the next step.

use crate::capability::Capabilities;
use crate::command::CommandId;
use crate::error::{CommandError, SessionError};
use crate::mailbox::MailboxStatus;
use crate::mailbox::{ListedMailbox, SelectedMailbox};
use crate::message::{FullMessage, MessageSummary, Uid};
use crate::part::FetchedPart;
use crate::structure::MessageStructure;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The server greeted and its capabilities are known: submit `LogIn` next, unless
    /// `preauthenticated`.
    Greeted {
        preauthenticated: bool,
        capabilities: Capabilities,
    },
    /// The server accepted STARTTLS: upgrade the transport to TLS (the engine already
    /// dropped any cleartext that followed), then call `Session::handle_tls_established`.
    TlsUpgradeRequested,
    /// Authentication succeeded; mailbox commands may follow.
    LoggedIn {
        id: CommandId,
        capabilities: Capabilities,
    },
    MailboxesListed {
        id: CommandId,
        mailboxes: Vec<ListedMailbox>,
    },
    /// The mailbox is now selected; fetch from it.
    MailboxSelected {
        id: CommandId,
        mailbox: SelectedMailbox,
    },
    /// One message's summary; `id` is `None` when the server sent it unasked.
    FetchReceived {
        id: Option<CommandId>,
        message: MessageSummary,
    },
    FetchCompleted {
        id: CommandId,
    },
    NoopCompleted {
        id: CommandId,
    },
    /// A command with nothing to report but success (STORE, COPY, MOVE, EXPUNGE, mailbox
    /// management, the end of IDLE) completed.
    CommandCompleted {
        id: CommandId,
    },
    StatusReceived {
        id: CommandId,
        status: MailboxStatus,
    },
    /// UIDs matching a search, ascending.
    SearchCompleted {
        id: CommandId,
        uids: Vec<Uid>,
    },
    /// The message was stored; `uid` from APPENDUID when the server has UIDPLUS.
    Appended {
        id: CommandId,
        uid: Option<Uid>,
    },
    /// The message the reader asked for; `None` when it no longer exists.
    MessageFetched {
        id: CommandId,
        message: Option<Box<FullMessage>>,
    },
    /// The server is idling: changes now arrive as events without asking.
    IdleStarted {
        id: CommandId,
    },
    /// The command failed; the session goes on unless a `Closed` event follows.
    CommandFailed {
        id: CommandId,
        error: CommandError,
    },
    /// The selected mailbox's counts changed unasked (another client, new mail).
    MailboxChanged {
        exists: u32,
        recent: u32,
    },
    /// The server sent an ALERT: show `text` to the user (RFC 3501 §7.1).
    AlertReceived {
        text: String,
    },
    /// A response was not understood and was skipped whole; the stream stays in sync.
    ResponseSkipped {
        reason: &'static str,
        length: usize,
    },
    /// The session is over: close the transport. `error` is `None` after our own LOGOUT.
    Closed {
        error: Option<SessionError>,
    },
    /// The structure `FetchStructure` asked for; `None` when the message no longer exists.
    StructureFetched {
        id: CommandId,
        message: Option<Box<MessageStructure>>,
    },
    /// The octets `FetchPart` asked for; `None` when the message no longer exists.
    PartFetched {
        id: CommandId,
        part: Option<FetchedPart>,
    },
}
