//! Errors, each with a stable `code()` that drivers turn into words for people.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// Why a session ended other than by our own LOGOUT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the server did not send its greeting in time")]
    GreetingTimedOut,
    #[error("the server refused the connection: {text}")]
    GreetingRejected { text: String },
    #[error("the server stopped answering (no response for {seconds} s)")]
    TimedOut { seconds: u64 },
    #[error("the connection was lost")]
    ConnectionLost,
    #[error("the server closed the connection: {text}")]
    ServerBye { text: String },
    #[error("the server's response could not be understood: {reason}")]
    ProtocolViolation { reason: String },
    #[error("every command tag of this connection has been used")]
    TagsExhausted,
    #[error("the server does not offer STARTTLS, and this connection must be encrypted")]
    StartTlsUnavailable,
    #[error("the server refused STARTTLS: {text}")]
    StartTlsRefused { text: String },
    #[error("the server skipped login (PREAUTH) before the connection was encrypted")]
    PreauthBeforeTls,
    #[error("the server does not speak IMAP4rev1 or IMAP4rev2, which this client needs")]
    UnsupportedServer,
    #[error("the server could not prove it knows the password (SCRAM signature mismatch)")]
    ServerNotVerified,
    #[error("the server's compressed stream could not be read: {reason}")]
    Decompression { reason: String },
}

impl SessionError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::GreetingTimedOut | Self::TimedOut { .. } => "timeout",
            Self::GreetingRejected { .. } | Self::ServerBye { .. } => "server_bye",
            Self::ConnectionLost => "connection_lost",
            Self::ProtocolViolation { .. } | Self::Decompression { .. } => "protocol_error",
            Self::UnsupportedServer => "unsupported_server",
            Self::TagsExhausted => "tags_exhausted",
            Self::ServerNotVerified => "server_not_verified",
            Self::StartTlsUnavailable | Self::StartTlsRefused { .. } | Self::PreauthBeforeTls => {
                "starttls_failed"
            }
        }
    }
}

/// Whether the server answered NO (it declined) or BAD (it did not understand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Refusal {
    No,
    Bad,
}

/// Why one command did not succeed. The session goes on unless the variant says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("the server refused the command: {text}")]
    Rejected { refusal: Refusal, text: String },
    #[error("authentication failed: {text}")]
    AuthenticationFailed { text: String },
    #[error("the server allows no login method this client can use")]
    NoUsableMechanism,
    #[error(
        "a non-ASCII user name or password needs AUTHENTICATE PLAIN, which the server does not offer"
    )]
    NonAsciiCredentials,
    #[error("refusing to send the password over an unencrypted connection")]
    InsecureTransport,
    /// Further tries cannot help (row V0034): the account itself is refused.
    #[error("login refused ({reason}): {text}")]
    LoginRefused { reason: LoginRefusal, text: String },
    /// `[UNAVAILABLE]`: the server's authentication backend is down; try again later.
    #[error("authentication is temporarily unavailable: {text}")]
    AuthenticationUnavailable { text: String },
    #[error("the session ended before the command completed: {0}")]
    SessionEnded(SessionError),
    #[error("the mailbox's UIDs changed (new UIDVALIDITY) before this command was sent")]
    UidValidityChanged,
}

impl CommandError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rejected { .. } => "rejected",
            Self::AuthenticationFailed { .. } => "auth_failed",
            Self::NoUsableMechanism | Self::NonAsciiCredentials => "auth_unsupported",
            Self::InsecureTransport => "insecure_transport",
            Self::LoginRefused { .. } => "login_refused",
            Self::AuthenticationUnavailable { .. } => "auth_unavailable",
            Self::SessionEnded(inner) => inner.code(),
            Self::UidValidityChanged => "uid_validity_changed",
        }
    }
}

/// RFC 5530 response codes after which no other mechanism is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum LoginRefusal {
    #[error("this user may not use that identity")]
    AuthorizationFailed,
    #[error("the password or account has expired")]
    Expired,
    #[error("the server requires a more private connection")]
    PrivacyRequired,
}

/// Why the engine refused to queue a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("{command} cannot be sent while the session is {state}")]
    WrongState {
        command: &'static str,
        state: &'static str,
    },
    #[error("invalid {what}")]
    InvalidArgument { what: &'static str },
    #[error("the server does not support this ({capability} is not advertised)")]
    NotSupported { capability: &'static str },
    #[error("this mailbox is read-only: the server does not allow changes here")]
    ReadOnly,
    /// Row V0020: the name would silently create more levels than the user typed.
    #[error("a folder name cannot contain the hierarchy separator '{delimiter}'")]
    DelimiterInName { delimiter: char },
    #[error("the folder hierarchy is not known yet: list the folders first")]
    HierarchyUnknown,
    #[error("folders on this server have no subfolders (no hierarchy delimiter)")]
    FlatHierarchy,
    #[error("the session has ended")]
    Closed,
}

/// For `map_err`: the caller's `what` was refused by imap-types' validation.
pub(crate) fn invalid<E>(what: &'static str) -> impl FnOnce(E) -> SubmitError {
    move |_| SubmitError::InvalidArgument { what }
}

impl SubmitError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongState { .. } => "wrong_state",
            Self::InvalidArgument { .. } => "invalid_argument",
            Self::NotSupported { .. } => "not_supported",
            Self::ReadOnly => "read_only",
            Self::DelimiterInName { .. } => "delimiter_in_name",
            Self::HierarchyUnknown => "hierarchy_unknown",
            Self::FlatHierarchy => "flat_hierarchy",
            Self::Closed => "closed",
        }
    }
}

/// Errors reach drivers (and JavaScript) as `{code, message}`.
fn serialize_error<S: Serializer>(
    code: &str,
    message: String,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut out = serializer.serialize_struct("Error", 2)?;
    out.serialize_field("code", code)?;
    out.serialize_field("message", &message)?;
    out.end()
}

impl Serialize for SessionError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_error(self.code(), self.to_string(), serializer)
    }
}

impl Serialize for CommandError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_error(self.code(), self.to_string(), serializer)
    }
}

/// Why a caller's argument was refused: a property of a JavaScript object argument (search
/// query, section, draft, cached state), a section's kind, or a day. The driver turns it into
/// an `invalid_argument` error with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentError {
    #[error("`{key}` must be {expected}")]
    WrongType {
        key: &'static str,
        expected: &'static str,
    },
    #[error("missing `{0}`")]
    Missing(&'static str),
    #[error("unknown sort key {0:?}")]
    SortKey(String),
    #[error("unknown section kind {0:?}")]
    SectionKind(String),
    #[error("not a part number: {0:?}")]
    PartNumber(String),
    #[error("not a day as YYYY-MM-DD: {0:?}")]
    Day(String),
}
