//! Commands a driver can submit, as typed values. The engine picks the wire form.

use crate::auth::{AuthMethod, Credentials};
use crate::mailbox::MailboxName;
use crate::message::UidRange;
use serde::Serialize;

/// Names one submitted command in the events that answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CommandId(pub(crate) u64);

impl CommandId {
    pub fn get(self) -> u64 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Authenticate; answered by `LoggedIn` (capabilities refreshed) or `CommandFailed`.
    LogIn {
        credentials: Credentials,
        method: AuthMethod,
    },
    /// LIST; answered by `MailboxesListed`.
    List {
        reference: MailboxName,
        pattern: String,
    },
    /// SELECT; answered by `MailboxSelected`.
    Select { mailbox: MailboxName },
    /// `UID FETCH <uids> (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])`; answered by
    /// one `FetchReceived` per message, then `FetchCompleted`.
    FetchSummaries { uids: UidRange },
    /// NOOP; answered by `NoopCompleted`. Lets the server report pending changes.
    Noop,
    /// LOGOUT; answered by `Closed` once the server's tagged OK arrived (row N0002).
    Logout,
}

impl Command {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::LogIn { .. } => "LOGIN",
            Self::List { .. } => "LIST",
            Self::Select { .. } => "SELECT",
            Self::FetchSummaries { .. } => "UID FETCH",
            Self::Noop => "NOOP",
            Self::Logout => "LOGOUT",
        }
    }
}
