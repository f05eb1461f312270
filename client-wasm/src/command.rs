//! Commands a driver can submit, as typed values. The engine picks the wire form.

use crate::auth::{AuthMethod, Credentials};
use crate::error::ArgumentError;
use crate::gmail::{Label, LabelAction};
use crate::mailbox::MailboxName;
use crate::message::{Flag, UidRange, UidSet};
use crate::part::{PartSection, Partial};
use crate::sort::SortOrder;
use crate::sync::CachedMailbox;
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
    Select {
        mailbox: MailboxName,
    },
    /// `UID FETCH <uids> (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])`; answered by
    /// one `FetchReceived` per message, then `FetchCompleted`.
    FetchSummaries {
        uids: UidRange,
    },
    /// `UID FETCH <uid> (UID FLAGS BODY.PEEK[])`, parsed for the reader; answered by
    /// `MessageFetched`. Reading does not mark it seen: the caller decides (a setting).
    FetchMessage {
        uid: crate::message::Uid,
    },
    /// NOOP; answered by `NoopCompleted`. Lets the server report pending changes.
    Noop,
    /// `UID STORE <uids> ±FLAGS.SILENT (...)`, never a replace-all (row V0056); answered by
    /// `CommandCompleted`.
    Store {
        uids: UidSet,
        action: StoreAction,
        flags: Vec<Flag>,
    },
    /// UID COPY; answered by `Copied`.
    Copy {
        uids: UidSet,
        to: MailboxName,
    },
    /// UID MOVE (RFC 6851, needs MOVE); answered by `Copied`, with the COPYUID the server
    /// sends before its expunges (or in its tagged OK).
    Move {
        uids: UidSet,
        to: MailboxName,
    },
    /// UID EXPUNGE of exactly these messages (RFC 4315, needs UIDPLUS); answered by
    /// `CommandCompleted`.
    Expunge {
        uids: UidSet,
    },
    /// Mailbox management; each answered by `CommandCompleted`.
    Create {
        mailbox: MailboxName,
    },
    Delete {
        mailbox: MailboxName,
    },
    Rename {
        from: MailboxName,
        to: MailboxName,
    },
    Subscribe {
        mailbox: MailboxName,
    },
    Unsubscribe {
        mailbox: MailboxName,
    },
    /// `STATUS (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)` (row V0045); answered by
    /// `StatusReceived`.
    Status {
        mailbox: MailboxName,
    },
    /// UID SEARCH (row V0059); answered by `SearchCompleted`.
    Search {
        query: SearchQuery,
    },
    /// APPEND a complete RFC 5322 message; answered by `Appended`.
    Append {
        mailbox: MailboxName,
        flags: Vec<Flag>,
        message: Vec<u8>,
    },
    /// IDLE (RFC 2177): `IdleStarted` once the server agrees; news arrives as events. Submitting
    /// any other command ends it with DONE first; so does the re-IDLE interval (row V0025).
    /// Answered by `CommandCompleted` when it ends.
    Idle,
    /// LOGOUT; answered by `Closed` once the server's tagged OK arrived (row N0002).
    Logout,
    /// NAMESPACE (RFC 2342) when advertised, else `LIST "" ""` for the delimiter (row V0022);
    /// answered by `NamespacesReceived`.
    Namespace,
    /// CREATE `name` under `parent` (`None`: the top of the personal namespace), with the
    /// delimiter LIST or NAMESPACE reported; a name containing it is refused (row V0020).
    /// Answered by `CommandCompleted`.
    CreateChild {
        parent: Option<MailboxName>,
        name: String,
    },
    /// RENAME that changes only the last level of `mailbox`'s name (row V0020); answered by
    /// `CommandCompleted`.
    RenameLeaf {
        mailbox: MailboxName,
        name: String,
    },
    /// The folder tree in the richest form the server offers (rows V0019, V0041, V0043,
    /// V0061); answered by `MailboxesListed`.
    ListFolders(FolderQuery),
    /// ID (RFC 2971, needs ID) with the client's name and version; answered by
    /// `ServerIdentified`.
    Id {
        name: String,
        version: String,
    },
    /// UID SORT (RFC 5256) of the messages matching `query`; answered by `SortCompleted`.
    /// Without SORT (Gmail, Office 365) the engine searches, fetches the hits' summaries and
    /// orders them itself (`sort::sort_summaries`), with the same answer.
    Sort {
        order: Vec<SortOrder>,
        query: SearchQuery,
    },
    /// UID THREAD REFERENCES (RFC 5256); answered by `ThreadsReceived`. Without
    /// THREAD=REFERENCES the engine threads the search hits' summaries itself
    /// (`thread::thread_by_references`).
    Thread {
        query: SearchQuery,
    },
    /// SELECT, or EXAMINE when `read_only` (row V0040); answered by `MailboxSelected`. Before
    /// the session's first open, QRESYNC is enabled where advertised (RFC 5161, 7162). With
    /// `cached`, the server reports only changes: under QRESYNC as `FlagsChanged` and
    /// `MessagesVanished` after `MailboxSelected`; otherwise a `FetchFlags` with
    /// `changed_since` asks for them. A UIDVALIDITY unlike the cache's is reported first as
    /// `UidValidityChanged` (row V0003).
    Open {
        mailbox: MailboxName,
        read_only: bool,
        cached: Option<CachedMailbox>,
    },
    /// `UID FETCH <uids> (UID FLAGS)`, with `(CHANGEDSINCE m)` when the server has CONDSTORE
    /// (and `VANISHED` once QRESYNC is enabled); without CONDSTORE every flag is fetched.
    /// Answered by `FlagsChanged` per message, then `FetchCompleted`.
    FetchFlags {
        uids: UidRange,
        changed_since: Option<u64>,
    },
    /// Leaves the mailbox without expunging (row V0050): UNSELECT where advertised, else
    /// EXAMINE of the same mailbox and CLOSE. Answered by `CommandCompleted`.
    Unselect,
    /// CLOSE: expunges every `\Deleted` message, then leaves the mailbox. Only for that
    /// intent (row V0050). Answered by `CommandCompleted`.
    Close,
    /// As `Store`, but only for messages whose MODSEQ is at most `unchanged_since` (RFC 7162
    /// UNCHANGEDSINCE, needs CONDSTORE), so another client's newer change is not overwritten.
    /// Answered by `CommandCompleted`, or `StoreConflicted` naming the messages left as they
    /// were.
    StoreUnchangedSince {
        uids: UidSet,
        action: StoreAction,
        flags: Vec<Flag>,
        unchanged_since: u64,
    },
    /// `UID FETCH <uid> (UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE)`, for the reader to list
    /// attachments and fetch parts on demand (rows V0007, V0008, V0009); answered by
    /// `StructureFetched`.
    FetchStructure {
        uid: crate::message::Uid,
    },
    /// `UID FETCH <uid> (UID BODY.PEEK[<section>]<origin.length>)`: one section, or a range
    /// of its octets (rows V0053, V0054); answered by `PartFetched`.
    FetchPart {
        uid: crate::message::Uid,
        section: PartSection,
        partial: Option<Partial>,
    },
    /// `UID FETCH <uids> (UID X-GM-MSGID X-GM-THRID X-GM-LABELS)` (Gmail, X-GM-EXT-1);
    /// answered by `GmailFetched` per message, then `FetchCompleted`.
    FetchGmail {
        uids: UidSet,
    },
    /// `UID STORE <uids> +X-GM-LABELS (...)`, `-X-GM-LABELS` or `X-GM-LABELS` (Gmail,
    /// X-GM-EXT-1); answered by `LabelsChanged` per message (its labels now), then
    /// `CommandCompleted`.
    StoreLabels {
        uids: UidSet,
        action: LabelAction,
        labels: Vec<Label>,
    },
}

/// Which folders to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderQuery {
    /// Only the direct children of this mailbox, exactly it even when its name contains `%`
    /// or `*` (row V0019); `None`: the whole hierarchy.
    pub under: Option<MailboxName>,
    /// Subscribed folders only, else the full hierarchy (row V0041: a setting).
    pub subscribed_only: bool,
    /// Counts for each folder in the same round trip, when the server has LIST-STATUS.
    pub with_status: bool,
}

impl Command {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::LogIn { .. } => "LOGIN",
            Self::List { .. } => "LIST",
            Self::Select { .. } => "SELECT",
            Self::FetchSummaries { .. }
            | Self::FetchMessage { .. }
            | Self::FetchStructure { .. }
            | Self::FetchPart { .. } => "UID FETCH",
            Self::Noop => "NOOP",
            Self::Store { .. } => "UID STORE",
            Self::Copy { .. } => "UID COPY",
            Self::Move { .. } => "UID MOVE",
            Self::Expunge { .. } => "UID EXPUNGE",
            Self::Create { .. } => "CREATE",
            Self::Delete { .. } => "DELETE",
            Self::Rename { .. } => "RENAME",
            Self::Subscribe { .. } => "SUBSCRIBE",
            Self::Unsubscribe { .. } => "UNSUBSCRIBE",
            Self::Status { .. } => "STATUS",
            Self::Search { .. } => "UID SEARCH",
            Self::Append { .. } => "APPEND",
            Self::Idle => "IDLE",
            Self::Logout => "LOGOUT",
            Self::Namespace => "NAMESPACE",
            Self::CreateChild { .. } => "CREATE",
            Self::RenameLeaf { .. } => "RENAME",
            Self::ListFolders(_) => "LIST",
            Self::Id { .. } => "ID",
            Self::Sort { .. } => "UID SORT",
            Self::Thread { .. } => "UID THREAD",
            Self::Open {
                read_only: false, ..
            } => "SELECT",
            Self::Open {
                read_only: true, ..
            } => "EXAMINE",
            Self::FetchFlags { .. } => "UID FETCH",
            Self::Unselect => "UNSELECT",
            Self::Close => "CLOSE",
            Self::StoreUnchangedSince { .. } => "UID STORE",
            Self::FetchGmail { .. } => "UID FETCH",
            Self::StoreLabels { .. } => "UID STORE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreAction {
    Add,
    Remove,
}

/// What the search box can ask; all given criteria must match. Text is sent as the user typed
/// it: as a literal with CHARSET UTF-8 when it is not ASCII (row V0051).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub subject: Option<String>,
    pub unseen: bool,
    pub flagged: bool,
    /// Sent on or after this day (the Date header's day: SENTSINCE).
    pub sent_since: Option<SearchDate>,
    /// Sent before this day (SENTBEFORE).
    pub sent_before: Option<SearchDate>,
    /// Gmail's own search syntax (`X-GM-RAW`, needs X-GM-EXT-1), e.g. `has:attachment`.
    pub gmail_raw: Option<String>,
}

/// A calendar day for SEARCH, given as `YYYY-MM-DD` (what an `<input type=date>` holds);
/// refused when it is no such day or outside IMAP's years 0–9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchDate(chrono::NaiveDate);

impl SearchDate {
    pub(crate) fn to_imap(self) -> imap_types::datetime::NaiveDate {
        imap_types::datetime::NaiveDate::unvalidated(self.0)
    }
}

impl std::str::FromStr for SearchDate {
    type Err = ArgumentError;

    /// Read by hand: chrono's `parse_from_str` brings its whole format parser into the
    /// wasm build for these ten characters.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let number = |at: std::ops::Range<usize>| {
            let digits = text
                .get(at)
                .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
            digits.parse::<u32>().ok()
        };
        let dashes = text.len() == 10 && text.get(4..5) == Some("-") && text.get(7..8) == Some("-");
        dashes
            .then(|| {
                let year = i32::try_from(number(0..4)?).ok()?;
                chrono::NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
            })
            .flatten()
            .filter(|day| imap_types::datetime::NaiveDate::validate(day).is_ok())
            .map(Self)
            .ok_or_else(|| ArgumentError::Day(text.into()))
    }
}
