//! The connection state machine: RFC 3501's states, the command queue, and timers.
//!
//! Sans-IO: the driver feeds server bytes to `handle_input`, sends what `poll_transmit`
//! returns, acts on `poll_event`, and calls `handle_timeout` at `poll_timeout`. Commands go
//! out in the order submitted, several at a time where `pipeline` allows it; each is settled
//! by its own tagged completion.

use crate::auth::{AuthMethod, Credentials};
use crate::capability::Capabilities;
use crate::clock::Instant;
use crate::codec::{
    CommandTail, Frame, GmailFetch, NonSyncLiterals, OutgoingCommand, ResponseReader, SummaryFetch,
};
use crate::command::{Command, CommandId, FolderQuery};
use crate::command::{SearchQuery, StoreAction};
use crate::compress::Deflate;
use crate::error::{CommandError, Refusal, SessionError, SubmitError, invalid};
use crate::esearch::Esearch;
use crate::event::Event;
use crate::gmail::{self, GmailItems, Label, LabelAction};
use crate::lenient;
use crate::mailbox::{ListedMailbox, MailboxName, MailboxStatus, SelectedMailbox, same_mailbox};
use crate::message::{Copies, Flag, FullMessage, MessageSummary, Uid, UidSet};
use crate::namespace::{Hierarchy, Namespaces};
use crate::part::FetchedPart;
use crate::pipeline::{Lane, Pipelining, WINDOW};
use crate::sasl::{self, Answer, Exchange, Mechanism, Verdict};
use crate::sort::{SortOrder, sort_values};
use crate::structure::MessageStructure;
use crate::sync::{CachedMailbox, uid_set_from_wire};
use crate::tag::{Tag, TagGenerator};
use crate::thread::ThreadNode;
use imap_types::IntoStatic;
use imap_types::command::{Command as WireCommand, CommandBody};
use imap_types::command::{FetchModifier, SelectParameter, StoreModifier};
use imap_types::core::{AString, Atom, Charset, IString, NString, Text, Vec1};
use imap_types::extensions::compress::CompressionAlgorithm;
use imap_types::extensions::enable::CapabilityEnable;
use imap_types::extensions::sort::SortCriterion;
use imap_types::extensions::thread::ThreadingAlgorithm;
use imap_types::fetch::{MessageDataItem, MessageDataItemName, Section};
use imap_types::flag::{Flag as ImapFlag, StoreResponse, StoreType};
use imap_types::mailbox::{ListMailbox, Mailbox};
use imap_types::response::{
    Bye, Code, CommandContinuationRequest, Data, Greeting, GreetingKind, Response, Status,
    StatusBody, StatusKind, Tagged,
};
use imap_types::search::SearchKey;
use imap_types::sequence::SequenceSet;
use imap_types::status::StatusDataItemName;
use mail_parser::MessageParser;
use std::collections::VecDeque;
use std::num::{NonZeroU32, NonZeroU64};
use std::time::Duration;

/// Whether the bytes this engine produces travel encrypted to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportSecurity {
    /// TLS to the server (implicit TLS, or STARTTLS once upgraded; the bridge terminates it).
    Encrypted,
    /// Cleartext that must be upgraded with STARTTLS before anything else (row N0001): no
    /// silent fallback, no PREAUTH, nothing sent until the upgrade is done.
    StartTls,
    /// Cleartext. Credentials are sent only when `allow_credentials` (row V0031).
    Cleartext { allow_credentials: bool },
}

/// Settings for one connection.
#[derive(Debug, Clone)]
pub struct Config {
    /// The driver's random number; tags count up from it (row C0001).
    pub tag_seed: u32,
    /// At least `MIN_SCRAM_RANDOM` bytes from the driver's CSPRNG, for SCRAM's client nonce;
    /// with fewer, SCRAM is not offered. The engine has no randomness of its own.
    pub sasl_random: Vec<u8>,
    pub transport: TransportSecurity,
    /// Largest single response, literals included.
    pub max_response_size: u32,
    pub greeting_timeout: Duration,
    /// How long a command may go without any byte from the server.
    pub response_timeout: Duration,
    /// How long to wait for LOGOUT's tagged OK before closing anyway (row N0002).
    pub logout_timeout: Duration,
    /// NOOP after this long without a command (row V0025: at most 10 minutes).
    pub keepalive_interval: Duration,
    /// An IDLE is ended with DONE after this long, before servers' 30-minute autologout
    /// (row V0025: default 25 minutes, never 29 or more).
    pub idle_interval: Duration,
    /// With a mailbox selected and no IDLE, NOOP after this long so news arrives (row V0028).
    pub poll_interval: Duration,
    /// Messages larger than this are marked `large` in `StructureFetched`: the reader fetches
    /// their parts and asks before fetching them whole (row V0007).
    pub whole_message_limit: u32,
    /// COMPRESS=DEFLATE after login when the server offers it (RFC 4978): a header sync
    /// shrinks several times over on the wire, for some CPU in the tab.
    pub compress: bool,
}

impl Config {
    pub fn new(tag_seed: u32, transport: TransportSecurity) -> Self {
        Self {
            tag_seed,
            sasl_random: Vec::new(),
            transport,
            max_response_size: 64 * 1024 * 1024,
            greeting_timeout: Duration::from_secs(30),
            response_timeout: Duration::from_secs(60),
            logout_timeout: Duration::from_secs(5),
            keepalive_interval: Duration::from_secs(9 * 60),
            idle_interval: Duration::from_secs(25 * 60),
            poll_interval: Duration::from_secs(2 * 60),
            whole_message_limit: 10 * 1024 * 1024,
            compress: true,
        }
    }
}

/// RFC 3501 §3 connection states, plus the time before the greeting and after the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    AwaitingGreeting,
    NotAuthenticated,
    Authenticated,
    Selected,
    /// STARTTLS was accepted; the driver is upgrading the transport.
    AwaitingTls,
    LoggingOut,
    Closed,
}

impl State {
    fn describe(self) -> &'static str {
        match self {
            Self::AwaitingGreeting => "waiting for the greeting",
            Self::NotAuthenticated => "not authenticated",
            Self::Authenticated => "authenticated with no mailbox selected",
            Self::Selected => "in a selected mailbox",
            Self::AwaitingTls => "upgrading to TLS",
            Self::LoggingOut => "logging out",
            Self::Closed => "closed",
        }
    }
}

/// 120 bits: a SCRAM client nonce nobody can guess.
pub const MIN_SCRAM_RANDOM: usize = 15;

/// One IMAP client connection.
pub struct Session {
    reader: ResponseReader,
    core: Core,
    /// Both directions' DEFLATE streams once COMPRESS was accepted.
    compression: Option<Box<Deflate>>,
    /// Transmissions queued before COMPRESS was accepted, which go out as they are.
    plain_transmits: usize,
}

impl Session {
    pub fn new(config: Config, now: Instant) -> Self {
        Self {
            reader: ResponseReader::new(config.max_response_size),
            core: Core::new(config, now),
            compression: None,
            plain_transmits: 0,
        }
    }

    /// Bytes from the server, in any chunking.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        if matches!(self.core.state, State::Closed | State::AwaitingTls) {
            return;
        }
        self.core.last_received = now;
        if self.compression.is_some() {
            self.receive_compressed(now, bytes);
        } else {
            self.handle_frames(now, bytes);
        }
    }

    /// Handles every response `input` completes; false once nothing more may be read.
    fn handle_frames(&mut self, now: Instant, mut input: &[u8]) -> bool {
        let mut summaries = self.core.wants_summaries();
        while let Some((_, frame)) = self.reader.next_frame(&mut input, summaries) {
            // A summary ends no command, so the FETCH it belongs to is still in flight after
            // it: asked again only after other frames (per frame, a few percent in wasm).
            let summary = matches!(frame, Frame::Summary(_));
            self.core.handle_frame(frame, now);
            if !summary {
                summaries = self.core.wants_summaries();
            }
            match self.core.state {
                State::Closed => return false,
                // Whatever followed STARTTLS's OK in cleartext could be an attacker's
                // injection (CVE-2011-0411 class): it is dropped unread.
                State::AwaitingTls => {
                    self.reader.discard_buffered();
                    return false;
                }
                _ => {}
            }
            if let Some(plain_transmits) = self.core.compress_accepted.take() {
                // The server compresses from the byte after its OK's CRLF (RFC 4978 §3).
                self.compression = Some(Box::new(Deflate::new()));
                self.plain_transmits = plain_transmits;
                self.receive_compressed(now, input);
                return false;
            }
        }
        true
    }

    /// Inflates piece by piece, handling the responses each piece completes.
    fn receive_compressed(&mut self, now: Instant, mut bytes: &[u8]) {
        while let Some(mut stream) = self.compression.take() {
            let handled = match stream.inflate_piece(&mut bytes) {
                Ok([]) => false,
                Ok(plain) => self.handle_frames(now, plain),
                Err(error) => {
                    self.core.close(Some(error));
                    false
                }
            };
            self.compression = Some(stream);
            if !handled {
                return;
            }
        }
    }

    /// The driver finished the TLS upgrade that `TlsUpgradeRequested` asked for.
    pub fn handle_tls_established(&mut self, now: Instant) {
        self.core.handle_tls_established(now);
    }

    /// The transport closed (the server hung up or the bridge went away).
    pub fn handle_transport_closed(&mut self) {
        match self.core.state {
            State::Closed => {}
            State::LoggingOut => self.core.close(None),
            _ => self.core.close(Some(SessionError::ConnectionLost)),
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.core.handle_timeout(now);
    }

    /// Queues a command; its answer arrives as events naming the returned id.
    pub fn submit(&mut self, command: Command, now: Instant) -> Result<CommandId, SubmitError> {
        self.core.submit(command, now)
    }

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let bytes = self.core.transmit.pop_front()?;
        match self.compression.as_mut() {
            Some(stream) if self.plain_transmits == 0 => Some(stream.compress(&bytes)),
            _ => {
                self.plain_transmits = self.plain_transmits.saturating_sub(1);
                Some(bytes)
            }
        }
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.core.events.pop_front()
    }

    /// When `handle_timeout` must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.core.next_deadline()
    }

    pub fn state(&self) -> State {
        self.core.state
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.core.capabilities
    }

    pub fn selected(&self) -> Option<&SelectedMailbox> {
        self.core.selected.as_ref()
    }
}

/// A queued command. LOGIN is encoded only when it is sent, because the method depends on
/// capabilities that may not be known at submit time.
enum Job {
    Capability {
        then: AfterCapability,
    },
    LogIn(Box<Login>),
    /// The wire form depends on capabilities, which may change with the login.
    Folders(Box<FolderListing>),
    Namespace,
    Ready {
        body: CommandBody<'static>,
        gather: Gather,
    },
    /// Encoded when it is sent: its wire form depends on capabilities, on whether QRESYNC is
    /// enabled, or on the mailbox then selected.
    Later(Deferred),
    /// A command sent again after its target mailbox was created (TRYCREATE, row V0047);
    /// never retried a second time.
    Retry {
        body: CommandBody<'static>,
        gather: Gather,
    },
}

impl Job {
    /// Names messages by UID, so is void once UIDVALIDITY changes (row V0003).
    fn uses_uids(&self) -> bool {
        match self {
            Self::Ready { body, .. } | Self::Retry { body, .. } => matches!(
                body,
                CommandBody::Fetch { uid: true, .. }
                    | CommandBody::Store { uid: true, .. }
                    | CommandBody::Copy { uid: true, .. }
                    | CommandBody::Move { uid: true, .. }
                    | CommandBody::ExpungeUid { .. }
            ),
            Self::Later(deferred) => matches!(deferred, Deferred::FetchFlags { .. }),
            Self::Capability { .. } | Self::LogIn(_) | Self::Folders(_) | Self::Namespace => false,
        }
    }

    /// How the command will share the wire, known before it is encoded: the commands a
    /// deferred job may turn into (ENABLE before a SELECT, EXAMINE before a CLOSE) go alone too.
    fn pipelining(&self) -> Pipelining {
        match self {
            Self::Ready { body, gather } | Self::Retry { body, gather } => {
                Pipelining::of(body, gather.lane())
            }
            Self::Folders(_) => Pipelining::in_lane(Lane::Lists),
            Self::Namespace => Pipelining::in_lane(Lane::Gathers),
            Self::Later(Deferred::Status { mailbox }) => {
                Pipelining::status(MailboxName::from_imap(mailbox))
            }
            Self::Later(Deferred::FetchFlags { set, .. }) => Pipelining::reads(Some(set)),
            Self::Later(Deferred::Arrange { .. }) => Pipelining::reads(None),
            Self::Capability { .. }
            | Self::LogIn(_)
            | Self::Later(Deferred::Open { .. } | Deferred::Unselect) => Pipelining::alone(),
        }
    }

    /// Selects another mailbox or leaves this one: what follows is about another mailbox.
    fn switches_mailbox(&self) -> bool {
        match self {
            Self::Ready { body, .. } => matches!(
                body,
                CommandBody::Select { .. }
                    | CommandBody::Examine { .. }
                    | CommandBody::Close
                    | CommandBody::Unselect
            ),
            Self::Later(deferred) => {
                matches!(deferred, Deferred::Open { .. } | Deferred::Unselect)
            }
            _ => false,
        }
    }
}

/// A login and the mechanisms it has tried (row V0034).
struct Login {
    credentials: Credentials,
    method: AuthMethod,
    tried: Vec<Mechanism>,
    /// The server rejected the credentials once and one more mechanism was granted.
    second_chance_used: bool,
}

/// A folder listing, resolved against the hierarchy when submitted.
struct FolderListing {
    reference: Mailbox<'static>,
    pattern: ListMailbox<'static>,
    children_of: Option<ChildrenOf>,
    subscribed_only: bool,
    with_status: bool,
}

#[derive(Clone, Copy)]
enum AfterCapability {
    Greeted {
        preauthenticated: bool,
    },
    /// The login whose id the CAPABILITY command carries.
    LoggedIn,
}

/// A command checked at submit time and encoded when sent (see `Job::Later`).
enum Deferred {
    Open {
        wire: Mailbox<'static>,
        name: MailboxName,
        read_only: bool,
        cached: Option<CachedMailbox>,
        resync: Option<Resync>,
    },
    FetchFlags {
        set: SequenceSet,
        changed_since: Option<NonZeroU64>,
    },
    Status {
        mailbox: Mailbox<'static>,
    },
    Unselect,
    /// SORT or THREAD: the server's when advertised, else the engine's own.
    Arrange {
        arrange: Arrange,
        criteria: Criteria,
        /// The charset SORT and THREAD must name (SEARCH may leave it out).
        named_charset: Charset<'static>,
    },
}

/// What a SORT or THREAD asks for; without the extension the engine fetches the matching
/// messages' summaries and orders them itself (RFC 5256 semantics, `sort`/`thread`).
enum Arrange {
    Sort(Vec<SortOrder>, Vec1<SortCriterion>),
    Thread,
}

/// The QRESYNC parameters a cache provides (RFC 7162 §3.2.5).
struct Resync {
    uid_validity: NonZeroU32,
    modseq: NonZeroU64,
    known_uids: Option<SequenceSet>,
}

impl Resync {
    /// `None` when the cache has no HIGHESTMODSEQ: QRESYNC cannot help then.
    fn from_cache(cached: &CachedMailbox) -> Result<Option<Self>, SubmitError> {
        let uid_validity =
            NonZeroU32::new(cached.uid_validity).ok_or(SubmitError::InvalidArgument {
                what: "cached UIDVALIDITY",
            })?;
        let Some(modseq) = cached.highest_modseq.and_then(NonZeroU64::new) else {
            return Ok(None);
        };
        Ok(Some(Self {
            uid_validity,
            modseq,
            known_uids: cached.known_uids.as_ref().map(uid_set).transpose()?,
        }))
    }
}

/// A command on the wire, with what its untagged responses are gathered into.
struct InFlight {
    tag: Tag,
    id: Option<CommandId>,
    rest: OutgoingCommand,
    /// The SASL exchange an AUTHENTICATE runs; it answers the server's `+` challenges.
    sasl: Option<Exchange>,
    sent_at: Instant,
    gather: Gather,
    /// The destination and the command itself, to create it and send it again on TRYCREATE.
    retry: Option<(Mailbox<'static>, CommandBody<'static>)>,
    pipelining: Pipelining,
    /// Whether an EXISTS arrived while it ran (row V0048).
    exists_seen: bool,
}

/// The commands on the wire, oldest first; `pipeline` keeps each untagged response's owner
/// unambiguous.
#[derive(Default)]
struct Window(VecDeque<InFlight>);

impl Window {
    fn iter(&self) -> impl Iterator<Item = &InFlight> {
        self.0.iter()
    }

    fn any(&self, gather: impl Fn(&Gather) -> bool) -> bool {
        self.0.iter().any(|flight| gather(&flight.gather))
    }

    /// The one command untagged data naming no command belongs to: the only one in flight
    /// outside `Lane::Tagged`.
    fn gatherer(&mut self) -> Option<&mut InFlight> {
        self.0
            .iter_mut()
            .find(|flight| flight.pipelining.lane != Lane::Tagged)
    }

    /// Gives an untagged COPYUID to the MOVE in flight whose UIDs cover its source. MOVEs
    /// sharing a UID never fly together (`Pipelining`), so at most one does. A server may
    /// name one MOVE's copies in several COPYUIDs: they add up, never beyond the UIDs moved.
    fn moved(&mut self, code: &Code<'_>) {
        for flight in &mut self.0 {
            if let Gather::Move(uids, found) = &mut flight.gather
                && let Some(copies) = copies(Some(code), uids)
            {
                let joined = match found.as_ref() {
                    Some(earlier) => earlier.joined(&copies),
                    None => Some(copies),
                };
                if let Some(joined) = joined.filter(|joined| joined.uids.count() <= uids.count()) {
                    *found = Some(joined);
                }
                return;
            }
        }
    }

    /// The STATUS in flight for `mailbox`: STATUS replies name their mailbox (row V0044).
    fn status_of(&mut self, mailbox: &MailboxName) -> Option<&mut MailboxStatus> {
        self.0
            .iter_mut()
            .find_map(|flight| match &mut flight.gather {
                Gather::Status(status) if flight.pipelining.names(mailbox) => Some(status),
                _ => None,
            })
    }

    /// Whether `next` may go out now: the window has room, no command in it still waits for
    /// `+` (RFC 3501 §5.5: continuations are negotiated before another command starts), and
    /// it shares the wire with each of them.
    fn admits(&self, next: &Pipelining) -> bool {
        self.0.len() < WINDOW
            && self.0.iter().all(|flight| {
                !flight.rest.waits_for_continuation() && flight.pipelining.shares_with(next)
            })
    }

    /// Takes the command `tag` settles.
    fn settle(&mut self, tag: &str) -> Option<InFlight> {
        let at = self
            .0
            .iter()
            .position(|flight| flight.tag.as_str() == tag)?;
        self.0.remove(at)
    }
}

/// A SELECT or EXAMINE under way: the mailbox it builds, what the cache knew, and the news
/// about it (QRESYNC) held back until `MailboxSelected` is out.
struct Opening {
    mailbox: SelectedMailbox,
    cached: Option<CachedMailbox>,
    deferred: Vec<Event>,
}

impl Opening {
    fn new(mailbox: MailboxName, read_only: bool, cached: Option<CachedMailbox>) -> Box<Self> {
        Box::new(Self {
            mailbox: Self::nothing_known(mailbox, read_only),
            cached,
            deferred: Vec::new(),
        })
    }

    fn nothing_known(name: MailboxName, read_only: bool) -> SelectedMailbox {
        let mut mailbox = SelectedMailbox::new(name);
        mailbox.read_only = read_only;
        mailbox
    }

    /// `[CLOSED]` (RFC 7162 §3.2.11): what came before was about the mailbox being left. Its
    /// news is returned to report now; its counts are forgotten.
    fn close_previous(&mut self) -> Vec<Event> {
        self.mailbox = Self::nothing_known(self.mailbox.name.clone(), self.mailbox.read_only);
        std::mem::take(&mut self.deferred)
    }
}

/// Whether QRESYNC was enabled (RFC 5161: only before the first SELECT of a session).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Qresync {
    NotAsked,
    Asked,
    Enabled,
}

enum Gather {
    Capability(AfterCapability),
    StartTls,
    LogIn(Box<Login>),
    List(Box<ListGather>),
    /// NAMESPACE, or `LIST "" ""` standing in for it.
    Namespace(Option<Namespaces>),
    Id(Vec<(String, Option<String>)>),
    Select(Box<Opening>),
    Fetch,
    Message(Option<Box<FullMessage>>),
    Structure(Option<Box<MessageStructure>>),
    Part(Option<FetchedPart>),
    Noop,
    /// Success is all there is to report.
    Done,
    Status(MailboxStatus),
    Search(Vec<Uid>),
    Sort(Vec<Uid>),
    Thread(Vec<ThreadNode>),
    /// The SEARCH standing in for SORT or THREAD, then the FETCH of its hits.
    ArrangeSearch(Arrange, Vec<Uid>),
    ArrangeFetch(Arrange, Vec<MessageSummary>),
    Append(MailboxName),
    /// UID COPY of these UIDs: COPYUID, if any, must stay within them.
    Copy(UidSet),
    /// UID MOVE of these UIDs, and the copies an untagged COPYUID named (RFC 6851 §4.3).
    Move(UidSet, Option<Copies>),
    Idle(IdlePhase),
    Logout,
    Enable,
    /// `FetchFlags`: every FETCH is a `FlagsChanged`.
    Flags,
    /// CLOSE or UNSELECT: back to the authenticated state.
    Leave,
    /// STORE with UNCHANGEDSINCE: MODIFIED names what was not changed.
    ConditionalStore,
    /// COMPRESS DEFLATE; nothing else may be in flight with it.
    Compress,
    /// `FetchGmail`: the item list imap-types cannot write, then each FETCH a
    /// `GmailFetched`.
    GmailFetch(CommandTail),
    /// `StoreLabels`: the labels imap-types cannot write, then each FETCH's labels a
    /// `LabelsChanged` naming the command.
    LabelStore(CommandTail),
}

impl Gather {
    /// Which untagged data the command claims, hence its lane. Untagged FETCH, SEARCH, SORT,
    /// THREAD, NAMESPACE, ID and LIST replies name no command, so one gatherer at a time gets
    /// them; state changes later commands depend on (login, TLS, SELECT and leaving it,
    /// ENABLE, COMPRESS, LOGOUT) and mid-command dialogues (AUTHENTICATE, IDLE) run alone; the rest
    /// need only their tagged status (a STATUS reply names its mailbox).
    fn lane(&self) -> Lane {
        match self {
            Self::Capability(_)
            | Self::StartTls
            | Self::LogIn(_)
            | Self::Select(_)
            | Self::Idle(_)
            | Self::Logout
            | Self::Enable
            | Self::Leave
            | Self::Compress => Lane::Alone,
            Self::List(_) => Lane::Lists,
            Self::Namespace(_)
            | Self::Id(_)
            | Self::Fetch
            | Self::Message(_)
            | Self::Structure(_)
            | Self::Part(_)
            | Self::Search(_)
            | Self::Sort(_)
            | Self::Thread(_)
            | Self::ArrangeSearch(..)
            | Self::ArrangeFetch(..)
            | Self::Flags
            | Self::ConditionalStore
            | Self::GmailFetch(_)
            | Self::LabelStore(_) => Lane::Gathers,
            Self::Noop
            | Self::Done
            | Self::Status(_)
            | Self::Append(_)
            | Self::Copy(_)
            | Self::Move(..) => Lane::Tagged,
        }
    }
}

/// A LIST in flight: its replies, and how its command differs from plain LIST.
#[derive(Default)]
struct ListGather {
    found: Vec<ListedMailbox>,
    statuses: Vec<MailboxStatus>,
    children_of: Option<ChildrenOf>,
    /// XLIST, LIST-EXTENDED options: syntax imap-types cannot express (engine constants).
    syntax: Option<ListSyntax>,
}

struct ListSyntax {
    name: &'static str,
    selection: &'static str,
    returns: String,
}

/// Row V0019: `%` or `*` in a parent's name are wildcards to the server too, so its replies
/// are kept only when they sit exactly one level below that parent.
struct ChildrenOf {
    /// The parent's name and its delimiter.
    prefix: Vec<u8>,
    delimiter: char,
}

impl ChildrenOf {
    fn contains(&self, name: &MailboxName) -> bool {
        name.as_wire()
            .strip_prefix(self.prefix.as_slice())
            .is_some_and(|rest| {
                !rest.is_empty() && !String::from_utf8_lossy(rest).contains(self.delimiter)
            })
    }
}

impl ListGather {
    fn finish(mut self) -> Vec<ListedMailbox> {
        if let Some(children_of) = &self.children_of {
            self.found.retain(|m| children_of.contains(&m.name));
        }
        for mailbox in &mut self.found {
            mailbox.status = self
                .statuses
                .iter()
                .find(|status| status.name.as_ref() == Some(&mailbox.name))
                .cloned();
        }
        self.found
    }
}

/// Where an IDLE is: waiting for `+`, idling, or ended with DONE and waiting for the OK.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IdlePhase {
    Requested,
    Idling,
    DoneSent,
}

struct Core {
    config: Config,
    tags: TagGenerator,
    state: State,
    capabilities: Capabilities,
    selected: Option<SelectedMailbox>,
    hierarchy: Hierarchy,
    queue: VecDeque<(Option<CommandId>, Job)>,
    in_flight: Window,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    next_id: u64,
    /// SCRAM exchanges so far; each gets its own client nonce.
    scram_count: u32,
    created: Instant,
    last_received: Instant,
    last_sent: Instant,
    bye: Option<String>,
    /// Full MIME parsing for the reader.
    message_parser: MessageParser,
    qresync: Qresync,
    /// Whether a SELECT or EXAMINE was ever sent; ENABLE must come before the first.
    ever_opened: bool,
    /// COMPRESS was queued; it is never asked twice.
    compress_asked: bool,
    /// COMPRESS's OK was just handled: the `Session` switches its streams. Holds how many
    /// transmissions were queued before the OK (the queue moves on in the same call).
    compress_accepted: Option<usize>,
    /// The line of the response being handled when it had 8-bit text (`Frame::Verbatim`).
    verbatim: Option<String>,
}

impl Core {
    fn new(config: Config, now: Instant) -> Self {
        Self {
            tags: TagGenerator::new(config.tag_seed),
            config,
            state: State::AwaitingGreeting,
            capabilities: Capabilities::default(),
            selected: None,
            hierarchy: Hierarchy::default(),
            queue: VecDeque::new(),
            in_flight: Window::default(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            next_id: 0,
            scram_count: 0,
            created: now,
            last_received: now,
            last_sent: now,
            bye: None,
            message_parser: MessageParser::new(),
            qresync: Qresync::NotAsked,
            ever_opened: false,
            compress_asked: false,
            compress_accepted: None,
            verbatim: None,
        }
    }

    fn submit(&mut self, command: Command, now: Instant) -> Result<CommandId, SubmitError> {
        self.check_allowed(&command)?;
        self.check_supported(&command)?;
        self.check_writable(&command)?;
        if let Some(status) = self.status_of_selected(&command) {
            let id = CommandId(self.next_id);
            self.next_id += 1;
            self.events.push_back(Event::StatusReceived { id, status });
            return Ok(id);
        }
        let job = into_job(command, &self.hierarchy)?;
        if matches!(
            job,
            Job::Ready {
                gather: Gather::Logout,
                ..
            }
        ) && self.state != State::AwaitingGreeting
        {
            self.state = State::LoggingOut;
        }
        let id = CommandId(self.next_id);
        self.next_id += 1;
        self.queue.push_back((Some(id), job));
        self.pump(now);
        Ok(id)
    }

    /// STATUS is never sent for the selected mailbox (row V0044): its untagged data already
    /// says the same, so the answer comes from there. `None` when STATUS must go out.
    fn status_of_selected(&self, command: &Command) -> Option<MailboxStatus> {
        let Command::Status { mailbox } = command else {
            return None;
        };
        let selected = self.selected.as_ref()?;
        let switching = self.queue.iter().any(|(_, job)| job.switches_mailbox())
            || self
                .in_flight
                .any(|gather| matches!(gather, Gather::Select(_) | Gather::Leave));
        if switching || !same_mailbox(&selected.name, mailbox) {
            return None;
        }
        Some(MailboxStatus {
            name: Some(selected.name.clone()),
            messages: Some(selected.exists),
            unseen: None,
            uid_next: selected.uid_next,
            uid_validity: selected.uid_validity,
            highest_modseq: selected.highest_modseq,
        })
    }

    fn check_allowed(&self, command: &Command) -> Result<(), SubmitError> {
        let login_pending = self
            .queue
            .iter()
            .any(|(_, job)| matches!(job, Job::LogIn(_)))
            || self
                .in_flight
                .any(|gather| matches!(gather, Gather::LogIn(_)));
        let allowed = match (command, self.state) {
            (_, State::Closed) => return Err(SubmitError::Closed),
            (_, State::LoggingOut) => false,
            (Command::Logout, _) => true,
            (
                Command::LogIn { .. },
                State::AwaitingGreeting | State::NotAuthenticated | State::AwaitingTls,
            ) => !login_pending,
            (
                Command::List { .. }
                | Command::Select { .. }
                | Command::Noop
                | Command::Create { .. }
                | Command::Delete { .. }
                | Command::Rename { .. }
                | Command::Subscribe { .. }
                | Command::Unsubscribe { .. }
                | Command::Status { .. }
                | Command::Append { .. }
                | Command::Idle
                | Command::Namespace
                | Command::CreateChild { .. }
                | Command::RenameLeaf { .. }
                | Command::ListFolders(_)
                | Command::Id { .. }
                | Command::Open { .. },
                state,
            ) => matches!(state, State::Authenticated | State::Selected),
            (
                Command::FetchSummaries { .. }
                | Command::FetchMessage { .. }
                | Command::Store { .. }
                | Command::Copy { .. }
                | Command::Move { .. }
                | Command::Expunge { .. }
                | Command::Search { .. }
                | Command::Sort { .. }
                | Command::Thread { .. }
                | Command::FetchFlags { .. }
                | Command::Unselect
                | Command::Close
                | Command::StoreUnchangedSince { .. }
                | Command::FetchStructure { .. }
                | Command::FetchPart { .. }
                | Command::FetchGmail { .. }
                | Command::StoreLabels { .. },
                state,
            ) => state == State::Selected,
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(SubmitError::WrongState {
                command: command.name(),
                state: self.state.describe(),
            })
        }
    }

    /// A READ-ONLY mailbox cannot change (row V0039): say so instead of letting the server
    /// refuse it.
    fn check_writable(&self, command: &Command) -> Result<(), SubmitError> {
        let modifies = matches!(
            command,
            Command::Store { .. }
                | Command::StoreUnchangedSince { .. }
                | Command::StoreLabels { .. }
                | Command::Move { .. }
                | Command::Expunge { .. }
        );
        match &self.selected {
            Some(mailbox) if modifies && mailbox.read_only => Err(SubmitError::ReadOnly),
            _ => Ok(()),
        }
    }

    /// Commands that exist only as extensions are refused unless advertised.
    fn check_supported(&self, command: &Command) -> Result<(), SubmitError> {
        let needed = match command {
            Command::Move { .. } => "MOVE",
            Command::Expunge { .. } => "UIDPLUS",
            Command::Idle => "IDLE",
            Command::Id { .. } => "ID",
            Command::StoreUnchangedSince { .. } => "CONDSTORE",
            Command::FetchGmail { .. } | Command::StoreLabels { .. } => gmail::CAPABILITY,
            Command::Search { query } | Command::Sort { query, .. } | Command::Thread { query }
                if query.gmail_raw.is_some() =>
            {
                gmail::CAPABILITY
            }
            _ => return Ok(()),
        };
        if self.capabilities.has(needed) {
            Ok(())
        } else {
            Err(SubmitError::NotSupported { capability: needed })
        }
    }

    /// Sends queued commands in order while the window admits the next (see `pipeline`);
    /// ends an IDLE first.
    fn pump(&mut self, now: Instant) {
        if !self.queue.is_empty() {
            self.end_idle(now);
        }
        while !matches!(self.state, State::AwaitingGreeting | State::AwaitingTls) {
            let admitted = self
                .queue
                .front()
                .is_some_and(|(_, job)| self.in_flight.admits(&job.pipelining()));
            if !admitted {
                return;
            }
            let Some((mut id, job)) = self.queue.pop_front() else {
                return;
            };
            let retryable = !matches!(job, Job::Retry { .. });
            let prepared = match job {
                Job::Capability { then } => {
                    Ok((CommandBody::Capability, Gather::Capability(then), None))
                }
                Job::LogIn(login) => self.prepare_login(*login),
                Job::Folders(listing) => Ok(self.prepare_folders(*listing)),
                Job::Namespace => Ok(self.prepare_namespace()),
                Job::Ready { body, gather } | Job::Retry { body, gather } => {
                    Ok((body, gather, None))
                }
                Job::Later(command) => {
                    let (later_id, body, gather) = self.prepare_later(id, command);
                    id = later_id;
                    Ok((body, gather, None))
                }
            };
            match prepared {
                Ok((body, gather, sasl)) => self.send(id, body, gather, sasl, retryable, now),
                Err(error) => {
                    if let Some(id) = id {
                        self.events.push_back(Event::CommandFailed { id, error });
                    }
                }
            }
            if self.state == State::Closed {
                return;
            }
        }
    }

    /// The richest LIST the server offers: RETURN (SPECIAL-USE) and LIST-STATUS with
    /// LIST-EXTENDED, XLIST only without SPECIAL-USE, LSUB for subscriptions without
    /// LIST-EXTENDED (rows V0041, V0043, V0061).
    fn prepare_folders(
        &self,
        listing: FolderListing,
    ) -> (CommandBody<'static>, Gather, Option<Exchange>) {
        let caps = &self.capabilities;
        let extended = caps.has("LIST-EXTENDED");
        let mut returns = Vec::new();
        if extended && caps.has("SPECIAL-USE") {
            returns.push("SPECIAL-USE");
        }
        if extended && listing.with_status && caps.has("LIST-STATUS") {
            returns.push("STATUS (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)");
        }
        let xlist = !extended && caps.has("XLIST") && !caps.has("SPECIAL-USE");
        let syntax = ListSyntax {
            name: if xlist && !listing.subscribed_only {
                "XLIST"
            } else {
                "LIST"
            },
            selection: if extended && listing.subscribed_only {
                " (SUBSCRIBED)"
            } else {
                ""
            },
            returns: if returns.is_empty() {
                String::new()
            } else {
                format!(" RETURN ({})", returns.join(" "))
            },
        };
        let (reference, pattern) = (listing.reference, listing.pattern);
        let body = if listing.subscribed_only && !extended {
            CommandBody::Lsub {
                reference,
                mailbox_wildcard: pattern,
            }
        } else {
            CommandBody::List {
                reference,
                mailbox_wildcard: pattern,
            }
        };
        let gather = ListGather {
            children_of: listing.children_of,
            syntax: Some(syntax),
            ..ListGather::default()
        };
        (body, Gather::List(Box::new(gather)), None)
    }

    /// NAMESPACE when advertised, else `LIST "" ""`, whose one reply names the delimiter
    /// (row V0022).
    fn prepare_namespace(&self) -> (CommandBody<'static>, Gather, Option<Exchange>) {
        let body = if self.capabilities.has("NAMESPACE") {
            CommandBody::Namespace
        } else {
            CommandBody::list("", "").unwrap_or_else(|_| unreachable!("constant arguments"))
        };
        (body, Gather::Namespace(None), None)
    }

    /// The strongest advertised mechanism not yet tried (rows E0001, E0002, V0013, V0031).
    fn prepare_login(
        &mut self,
        mut login: Login,
    ) -> Result<(CommandBody<'static>, Gather, Option<Exchange>), CommandError> {
        if matches!(
            self.config.transport,
            TransportSecurity::StartTls
                | TransportSecurity::Cleartext {
                    allow_credentials: false
                }
        ) {
            return Err(CommandError::InsecureTransport);
        }
        for mechanism in self.untried(&login)? {
            login.tried.push(mechanism);
            let Some(auth) = mechanism.to_imap() else {
                let credentials = &login.credentials;
                let password = credentials.password().unwrap_or_default().to_owned();
                let body = CommandBody::login(credentials.user().to_owned(), password)
                    .map_err(|_| CommandError::NoUsableMechanism)?;
                return Ok((body, Gather::LogIn(Box::new(login)), None));
            };
            let nonce = mechanism.is_scram().then(|| self.scram_nonce());
            let Some(mut exchange) =
                Exchange::start(mechanism, &login.credentials, nonce.as_deref())
            else {
                // SASLprep refused the password: the next mechanism may still carry it.
                continue;
            };
            let body = if self.capabilities.has("SASL-IR") && mechanism.has_initial_response() {
                // The encoder base64-encodes the initial response itself.
                CommandBody::authenticate_with_ir(auth, exchange.initial_response())
            } else {
                CommandBody::authenticate(auth)
            };
            return Ok((body, Gather::LogIn(Box::new(login)), Some(exchange)));
        }
        Err(CommandError::NoUsableMechanism)
    }

    /// The mechanisms `login` may still try, strongest first.
    fn untried(&self, login: &Login) -> Result<Vec<Mechanism>, CommandError> {
        let scram_ready = self.config.sasl_random.len() >= MIN_SCRAM_RANDOM;
        let mut plan = sasl::plan(
            &login.credentials,
            login.method,
            &self.capabilities,
            scram_ready,
        )?;
        plan.retain(|mechanism| !login.tried.contains(mechanism));
        Ok(plan)
    }

    /// The driver's randomness in base64 (printable, no comma, as RFC 5802 wants), made
    /// unique per exchange by a counter after the first.
    fn scram_nonce(&mut self) -> String {
        use base64::Engine;
        let mut nonce = base64::engine::general_purpose::STANDARD.encode(&self.config.sasl_random);
        if self.scram_count > 0 {
            nonce.push_str(&format!("-{}", self.scram_count));
        }
        self.scram_count += 1;
        nonce
    }

    /// Encodes a `Job::Later` now; may put ENABLE or EXAMINE in front of it, which then
    /// goes first under no id.
    fn prepare_later(
        &mut self,
        id: Option<CommandId>,
        deferred: Deferred,
    ) -> (Option<CommandId>, CommandBody<'static>, Gather) {
        match deferred {
            Deferred::Open {
                wire,
                name,
                read_only,
                cached,
                resync,
            } => {
                if self.qresync == Qresync::NotAsked
                    && !self.ever_opened
                    && self.capabilities.has("QRESYNC")
                {
                    self.qresync = Qresync::Asked;
                    let open = Deferred::Open {
                        wire,
                        name,
                        read_only,
                        cached,
                        resync,
                    };
                    self.queue.push_front((id, Job::Later(open)));
                    return (None, enable_qresync(), Gather::Enable);
                }
                let body = self.open_body(wire, read_only, resync);
                let opening = Opening::new(name, read_only, cached);
                (id, body, Gather::Select(opening))
            }
            Deferred::FetchFlags { set, changed_since } => {
                (id, self.fetch_flags_body(set, changed_since), Gather::Flags)
            }
            Deferred::Status { mailbox } => {
                let gather = Gather::Status(MailboxStatus::default());
                (id, self.status_body(mailbox), gather)
            }
            Deferred::Unselect => self.prepare_unselect(id),
            Deferred::Arrange {
                arrange,
                criteria,
                named_charset,
            } => {
                let (body, gather) = self.arrange_body(arrange, criteria, named_charset);
                (id, body, gather)
            }
        }
    }

    /// SORT / THREAD when the server has it, else a SEARCH whose hits are then fetched and
    /// ordered here (see [`Self::arrange_hits`]).
    fn arrange_body(
        &self,
        arrange: Arrange,
        (charset, search_criteria): Criteria,
        named_charset: Charset<'static>,
    ) -> (CommandBody<'static>, Gather) {
        match arrange {
            Arrange::Sort(_, sort_criteria) if self.capabilities.has("SORT") => {
                let body = CommandBody::Sort {
                    sort_criteria,
                    charset: named_charset,
                    search_criteria,
                    uid: true,
                };
                (body, Gather::Sort(Vec::new()))
            }
            Arrange::Thread if self.capabilities.has("THREAD=REFERENCES") => {
                let body = CommandBody::Thread {
                    algorithm: ThreadingAlgorithm::References,
                    charset: named_charset,
                    search_criteria,
                    uid: true,
                };
                (body, Gather::Thread(Vec::new()))
            }
            arrange => {
                let body = CommandBody::search(charset, search_criteria, true);
                (body, Gather::ArrangeSearch(arrange, Vec::new()))
            }
        }
    }

    /// The fallback's second step: the hits' summaries, fetched under the same id; none
    /// found, the empty answer at once.
    fn arrange_hits(&mut self, id: Option<CommandId>, arrange: Arrange, hits: Vec<Uid>) {
        let set = UidSet::from_uids(hits).and_then(|set| uid_set(&set).ok());
        let Some(set) = set else {
            self.arranged(id, arrange, Vec::new());
            return;
        };
        let body = CommandBody::fetch(set, summary_items(), true)
            .unwrap_or_else(|never: std::convert::Infallible| match never {});
        let gather = Gather::ArrangeFetch(arrange, Vec::new());
        self.queue.push_front((id, Job::Ready { body, gather }));
    }

    /// The engine's own SORT or THREAD answer over fetched summaries.
    fn arranged(
        &mut self,
        id: Option<CommandId>,
        arrange: Arrange,
        mut messages: Vec<MessageSummary>,
    ) {
        let Some(id) = id else { return };
        let event = match arrange {
            Arrange::Sort(order, _) => {
                crate::sort::sort_summaries(&mut messages, &order);
                let uids = messages.iter().map(|m| m.uid).collect();
                Event::SortCompleted { id, uids }
            }
            Arrange::Thread => {
                let threads = crate::thread::thread_by_references(&messages);
                Event::ThreadsReceived { id, threads }
            }
        };
        self.events.push_back(event);
    }

    /// SELECT/EXAMINE with QRESYNC data when enabled and cached, else CONDSTORE when offered so
    /// HIGHESTMODSEQ and MODSEQ are reported.
    fn open_body(
        &self,
        mailbox: Mailbox<'static>,
        read_only: bool,
        resync: Option<Resync>,
    ) -> CommandBody<'static> {
        let parameters = match (self.qresync, resync) {
            (Qresync::Enabled, Some(resync)) => vec![SelectParameter::QResync {
                uid_validity: resync.uid_validity,
                mod_sequence_value: resync.modseq,
                known_uids: resync.known_uids,
                seq_match_data: None,
            }],
            (Qresync::Enabled, None) => Vec::new(),
            _ if self.capabilities.has("CONDSTORE") => vec![SelectParameter::CondStore],
            _ => Vec::new(),
        };
        if read_only {
            CommandBody::Examine {
                mailbox,
                parameters,
            }
        } else {
            CommandBody::Select {
                mailbox,
                parameters,
            }
        }
    }

    /// CHANGEDSINCE needs CONDSTORE; VANISHED with it needs QRESYNC enabled (RFC 7162 §3.2.6).
    fn fetch_flags_body(
        &self,
        set: SequenceSet,
        changed_since: Option<NonZeroU64>,
    ) -> CommandBody<'static> {
        let items = vec![MessageDataItemName::Uid, MessageDataItemName::Flags];
        let mut body = CommandBody::fetch(set, items, true)
            .unwrap_or_else(|never: std::convert::Infallible| match never {});
        let enabled = self.qresync == Qresync::Enabled;
        if let Some(since) = changed_since
            && (enabled || self.capabilities.has("CONDSTORE"))
            && let CommandBody::Fetch { modifiers, .. } = &mut body
        {
            modifiers.push(FetchModifier::ChangedSince(since));
            if enabled {
                modifiers.push(FetchModifier::Vanished);
            }
        }
        body
    }

    /// Row V0045's items, and HIGHESTMODSEQ where CONDSTORE makes it exist (row V0002).
    fn status_body(&self, mailbox: Mailbox<'static>) -> CommandBody<'static> {
        let mut items = vec![
            StatusDataItemName::Messages,
            StatusDataItemName::Unseen,
            StatusDataItemName::UidNext,
            StatusDataItemName::UidValidity,
        ];
        if self.capabilities.has("CONDSTORE") {
            items.push(StatusDataItemName::HighestModSeq);
        }
        CommandBody::status(mailbox, items)
            .unwrap_or_else(|never: std::convert::Infallible| match never {})
    }

    /// UNSELECT where offered; else EXAMINE the same mailbox and CLOSE, which expunges
    /// nothing in a read-only mailbox (row V0050). Never a bare CLOSE.
    fn prepare_unselect(
        &mut self,
        id: Option<CommandId>,
    ) -> (Option<CommandId>, CommandBody<'static>, Gather) {
        let current = self
            .selected
            .as_ref()
            .and_then(|m| Some((m.name.clone(), m.name.to_imap().ok()?.into_static())));
        match current {
            Some((name, mailbox)) if !self.capabilities.has("UNSELECT") => {
                let close = Job::Ready {
                    body: CommandBody::Close,
                    gather: Gather::Leave,
                };
                self.queue.push_front((id, close));
                let body = CommandBody::Examine {
                    mailbox,
                    parameters: Vec::new(),
                };
                (None, body, Gather::Select(Opening::new(name, true, None)))
            }
            _ => (id, CommandBody::Unselect, Gather::Leave),
        }
    }

    fn send(
        &mut self,
        id: Option<CommandId>,
        body: CommandBody<'static>,
        gather: Gather,
        sasl: Option<Exchange>,
        retryable: bool,
        now: Instant,
    ) {
        let Some(tag) = self.tags.next_tag() else {
            self.close(Some(SessionError::TagsExhausted));
            return;
        };
        let pipelining = Pipelining::of(&body, gather.lane());
        let wire = WireCommand::new(tag.as_str(), body)
            .expect("four characters of [a-z0-9] are always a valid IMAP tag");
        let raw = gmail::searches_raw(&wire.body);
        let mut rest = match &gather {
            Gather::GmailFetch(tail) | Gather::LabelStore(tail) => {
                OutgoingCommand::encode_with_tail(&wire, self.non_sync_literals(), tail)
            }
            _ => OutgoingCommand::encode(&wire, self.non_sync_literals()),
        };
        if raw {
            rest.replace_first(gmail::RAW_MARKER.0, gmail::RAW_MARKER.1);
        }
        if let Gather::List(list) = &gather
            && let Some(syntax) = &list.syntax
        {
            rest.extend_list(syntax.name, syntax.selection, &syntax.returns);
        }
        self.ask_esearch(&gather, &mut rest);
        if let Some(first) = rest.next_piece() {
            self.transmit.push_back(first);
        }
        // Kept for a TRYCREATE retry, moved rather than copied: an APPEND's body may be large.
        let retry = retryable
            .then(|| trycreate_destination(&wire.body).map(|to| (to, wire.body.into_static())))
            .flatten();
        self.last_sent = now;
        self.ever_opened |= matches!(gather, Gather::Select(_));
        self.in_flight.0.push_back(InFlight {
            tag,
            id,
            rest,
            sasl,
            sent_at: now,
            gather,
            retry,
            pipelining,
            exists_seen: false,
        });
    }

    fn non_sync_literals(&self) -> NonSyncLiterals {
        let caps = &self.capabilities;
        if caps.has("LITERAL+") {
            NonSyncLiterals::Any
        } else if caps.has("LITERAL-") || caps.has("IMAP4rev2") {
            NonSyncLiterals::Small
        } else {
            NonSyncLiterals::Never
        }
    }

    /// With ESEARCH, a search asks for `RETURN (ALL)`: the reply names the command's tag, so
    /// it cannot be taken for another command's (RFC 4731, row V0067).
    fn ask_esearch(&self, gather: &Gather, command: &mut OutgoingCommand) {
        if matches!(gather, Gather::Search(_)) && self.capabilities.has("ESEARCH") {
            command.extend_search("ALL");
        }
    }

    /// An ESEARCH adds its UIDs to the search whose tag it names; any other is ignored.
    fn handle_esearch(&mut self, esearch: Esearch) {
        let Some(correlator) = esearch.tag.as_deref().filter(|_| esearch.uid) else {
            return;
        };
        if let Some(InFlight {
            gather: Gather::Search(uids),
            ..
        }) = self
            .in_flight
            .0
            .iter_mut()
            .find(|flight| flight.tag.as_str() == correlator)
        {
            uids.extend(esearch.all.iter().filter_map(|n| Uid::new(n.get())));
        }
    }

    /// Sends DONE if an IDLE is running; its tagged OK then lets the queue move.
    fn end_idle(&mut self, now: Instant) {
        if let Some(flight) = self.in_flight.gatherer()
            && let Gather::Idle(phase @ IdlePhase::Idling) = &mut flight.gather
        {
            *phase = IdlePhase::DoneSent;
            flight.sent_at = now;
            self.transmit.push_back(b"DONE\r\n".to_vec());
        }
    }

    fn handle_frame(&mut self, frame: Frame<'_>, now: Instant) {
        match frame {
            Frame::Greeting(greeting) => self.handle_greeting(greeting),
            Frame::Response(response) => self.handle_response(response),
            Frame::Verbatim(response, line) => {
                self.verbatim = Some(line);
                self.handle_response(response);
                self.verbatim = None;
            }
            Frame::Summary(fetch) => self.handle_summary(&fetch),
            Frame::Esearch(esearch) => self.handle_esearch(esearch),
            Frame::Gmail(fetch) => self.handle_gmail(fetch),
            Frame::Skipped { reason, length } => self.handle_skipped(reason, length),
        }
        self.pump(now);
    }

    fn handle_response(&mut self, response: Response<'_>) {
        match response {
            Response::Status(status) => self.handle_status(status),
            Response::Data(data) => self.handle_data(data),
            Response::CommandContinuationRequest(request) => self.handle_continuation(&request),
        }
    }

    /// A status text to show: as the server wrote it when the line had 8-bit characters
    /// (`Frame::Verbatim`), else imap-types' (ASCII) text.
    fn shown_text(&self, text: &Text<'_>) -> String {
        lenient::shown_text(self.verbatim.as_deref(), text)
    }

    fn handle_skipped(&mut self, reason: &'static str, length: usize) {
        if self.state == State::AwaitingGreeting {
            self.close(Some(SessionError::ProtocolViolation {
                reason: "the greeting is not IMAP".into(),
            }));
            return;
        }
        self.events
            .push_back(Event::ResponseSkipped { reason, length });
    }

    fn handle_greeting(&mut self, greeting: Greeting<'_>) {
        let preauthenticated = match greeting.kind {
            GreetingKind::Ok => false,
            GreetingKind::PreAuth if self.config.transport == TransportSecurity::StartTls => {
                self.close(Some(SessionError::PreauthBeforeTls));
                return;
            }
            GreetingKind::PreAuth => true,
            GreetingKind::Bye => {
                let text = greeting.text.to_string();
                self.close(Some(SessionError::GreetingRejected { text }));
                return;
            }
        };
        self.enter(if preauthenticated {
            State::Authenticated
        } else {
            State::NotAuthenticated
        });
        let then = AfterCapability::Greeted { preauthenticated };
        match greeting.code {
            Some(Code::Capability(caps)) => {
                self.capabilities = Capabilities::from_wire(caps.as_ref());
                self.after_capability(then, None);
            }
            _ => self.queue.push_front((None, Job::Capability { then })),
        }
    }

    /// The state a greeting or a completed command leads to, unless a LOGOUT is already
    /// submitted: then the session stays logging out, and the server's BYE is expected.
    fn enter(&mut self, state: State) {
        if self.state != State::LoggingOut {
            self.state = state;
        }
    }

    /// `id` is the command the capabilities complete: the login, for `LoggedIn`.
    fn after_capability(&mut self, then: AfterCapability, id: Option<CommandId>) {
        if !(self.capabilities.has("IMAP4rev1") || self.capabilities.has("IMAP4rev2")) {
            // No RFC822.* fallbacks for older servers (row V0055): say so instead.
            self.close_answering(id, SessionError::UnsupportedServer);
            return;
        }
        if let AfterCapability::Greeted { .. } = then
            && self.config.transport == TransportSecurity::StartTls
        {
            self.start_tls();
            return;
        }
        let logged_in = matches!(
            then,
            AfterCapability::LoggedIn
                | AfterCapability::Greeted {
                    preauthenticated: true
                }
        );
        if logged_in {
            self.ask_compress();
        }
        let capabilities = self.capabilities.clone();
        match (then, id) {
            (AfterCapability::Greeted { preauthenticated }, _) => {
                self.events.push_back(Event::Greeted {
                    preauthenticated,
                    capabilities,
                });
            }
            (AfterCapability::LoggedIn, Some(id)) => {
                self.events.push_back(Event::LoggedIn { id, capabilities });
            }
            (AfterCapability::LoggedIn, None) => {}
        }
    }

    /// COMPRESS before anything the driver queued once logged in: credentials never travel
    /// compressed, and the rest of the session does.
    fn ask_compress(&mut self) {
        if !self.config.compress
            || self.compress_asked
            || !self.capabilities.has("COMPRESS=DEFLATE")
        {
            return;
        }
        self.compress_asked = true;
        let job = Job::Ready {
            body: CommandBody::Compress {
                algorithm: CompressionAlgorithm::Deflate,
            },
            gather: Gather::Compress,
        };
        self.queue.push_front((None, job));
    }

    /// Upgrades before anything else is sent, or ends the session: never a silent fallback
    /// to cleartext (row N0001).
    fn start_tls(&mut self) {
        if !self.capabilities.has("STARTTLS") {
            self.close(Some(SessionError::StartTlsUnavailable));
            return;
        }
        let job = Job::Ready {
            body: CommandBody::StartTLS,
            gather: Gather::StartTls,
        };
        self.queue.push_front((None, job));
    }

    fn handle_tls_established(&mut self, now: Instant) {
        if self.state != State::AwaitingTls {
            return;
        }
        self.config.transport = TransportSecurity::Encrypted;
        self.state = State::NotAuthenticated;
        self.last_received = now;
        // Capabilities are re-read over TLS (row V0033).
        let then = AfterCapability::Greeted {
            preauthenticated: false,
        };
        self.queue.push_front((None, Job::Capability { then }));
        self.pump(now);
    }

    /// The newest command gets `+`: nothing is sent behind one that may wait for it.
    fn handle_continuation(&mut self, request: &CommandContinuationRequest<'_>) {
        let Some(flight) = self.in_flight.0.back_mut() else {
            self.events.push_back(Event::ResponseSkipped {
                reason: "continuation request with no command waiting",
                length: 0,
            });
            return;
        };
        if let Gather::Idle(phase) = &mut flight.gather {
            if *phase == IdlePhase::Requested {
                *phase = IdlePhase::Idling;
                if let Some(id) = flight.id {
                    self.events.push_back(Event::IdleStarted { id });
                }
            }
        } else if flight.rest.waits_for_continuation() {
            if let Some(piece) = flight.rest.next_piece() {
                self.transmit.push_back(piece);
            }
        } else if let Some(exchange) = flight.sasl.as_mut() {
            let challenge = match request {
                CommandContinuationRequest::Base64(data) => data.as_ref(),
                CommandContinuationRequest::Basic(_) => &[],
            };
            match exchange.answer(challenge) {
                Answer::Send(mut line) => {
                    line.extend_from_slice(b"\r\n");
                    self.transmit.push_back(line);
                }
                // The server wants something we cannot give: cancel the exchange
                // (RFC 3501 §6.2.2) and let the tagged BAD end it.
                Answer::Cancel => self.transmit.push_back(b"*\r\n".to_vec()),
                Answer::ServerNotVerified => self.close(Some(SessionError::ServerNotVerified)),
            }
        } else {
            self.transmit.push_back(b"*\r\n".to_vec());
        }
    }

    fn handle_status(&mut self, status: Status<'_>) {
        match status {
            Status::Tagged(tagged) => self.handle_tagged(tagged),
            Status::Untagged(body) => self.handle_untagged_status(&body),
            Status::Bye(Bye { text, .. }) => {
                let text = self.shown_text(&text);
                if self.state == State::LoggingOut {
                    self.bye = Some(text);
                } else {
                    self.close(Some(SessionError::ServerBye { text }));
                }
            }
        }
    }

    fn handle_untagged_status(&mut self, body: &StatusBody<'_>) {
        let refusal = match body.kind {
            StatusKind::Ok => None,
            StatusKind::No => Some(Refusal::No),
            StatusKind::Bad => Some(Refusal::Bad),
        };
        if let Some(refusal) = refusal
            && !matches!(body.code, Some(Code::Alert))
        {
            // RFC 3501 §7.1.2-3: a warning, or an error no command can be blamed for.
            self.events.push_back(Event::WarningReceived {
                refusal,
                text: self.shown_text(&body.text),
            });
        }
        let Some(code) = &body.code else {
            return;
        };
        if matches!(code, Code::Alert) {
            self.events.push_back(Event::AlertReceived {
                text: self.shown_text(&body.text),
            });
            return;
        }
        if let Code::Capability(caps) = code {
            self.capabilities = Capabilities::from_wire(caps.as_ref());
            return;
        }
        if let Some(opening) = self.opening() {
            if matches!(code, Code::Closed) {
                let previous = opening.close_previous();
                self.events.extend(previous);
            } else {
                apply_select_code(&mut opening.mailbox, code);
            }
            return;
        }
        if let Code::UidValidity(value) = code {
            self.check_uid_validity(value.get());
        }
        if matches!(code, Code::CopyUid { .. }) {
            self.in_flight.moved(code);
        }
        self.update_selected(code);
    }

    /// A response code about the selected mailbox, outside a SELECT: news for the driver.
    fn update_selected(&mut self, code: &Code<'_>) {
        if let Some(mailbox) = self.selected.as_mut()
            && apply_select_code(mailbox, code)
        {
            let mailbox = mailbox.snapshot();
            self.events.push_back(Event::MailboxUpdated { mailbox });
        }
    }

    /// A new UIDVALIDITY while selected: every UID known for the mailbox is void.
    fn check_uid_validity(&mut self, current: u32) {
        let Some(mailbox) = self.selected.as_mut() else {
            return;
        };
        match mailbox.uid_validity {
            Some(previous) if previous != current => {
                mailbox.messages.clear();
                let name = mailbox.name.clone();
                self.uid_validity_changed(name, previous, Some(current));
            }
            _ => {}
        }
    }

    /// Reports the change and fails the queued commands that name messages by UID, up to the
    /// next command that switches mailboxes (row V0003).
    fn uid_validity_changed(&mut self, mailbox: MailboxName, previous: u32, current: Option<u32>) {
        self.events.push_back(Event::UidValidityChanged {
            mailbox,
            previous,
            current,
        });
        let switch = self
            .queue
            .iter()
            .position(|(_, job)| job.switches_mailbox())
            .unwrap_or(self.queue.len());
        let later = self.queue.split_off(switch);
        let (void, kept): (VecDeque<_>, VecDeque<_>) =
            self.queue.drain(..).partition(|(_, job)| job.uses_uids());
        self.queue = kept;
        self.queue.extend(later);
        for id in void.into_iter().filter_map(|(id, _)| id) {
            self.events.push_back(Event::CommandFailed {
                id,
                error: CommandError::UidValidityChanged,
            });
        }
    }

    /// The SELECT or EXAMINE in flight, if any.
    fn opening(&mut self) -> Option<&mut Opening> {
        match self.in_flight.gatherer() {
            Some(InFlight {
                gather: Gather::Select(opening),
                ..
            }) => Some(opening),
            _ => None,
        }
    }

    /// The mailbox a SELECT in flight is gathering, else the selected one.
    fn mailbox_being_built(&mut self) -> Option<&mut SelectedMailbox> {
        match self.in_flight.gatherer() {
            Some(InFlight {
                gather: Gather::Select(opening),
                ..
            }) => Some(&mut opening.mailbox),
            _ => self.selected.as_mut(),
        }
    }

    /// News about messages: held back while a mailbox opens (it follows `MailboxSelected`),
    /// else reported now.
    fn report(&mut self, event: Event) {
        match self.opening() {
            Some(opening) => opening.deferred.push(event),
            None => self.events.push_back(event),
        }
    }

    fn handle_data(&mut self, data: Data<'_>) {
        match data {
            Data::Capability(caps) => {
                self.capabilities = Capabilities::from_wire(caps.as_ref());
            }
            Data::List {
                items,
                delimiter,
                mailbox,
            } => {
                let listed =
                    ListedMailbox::from_list(&items, delimiter.map(|d| d.inner()), &mailbox);
                self.handle_listed(listed);
            }
            Data::Lsub {
                items,
                delimiter,
                mailbox,
            } => {
                let mut listed =
                    ListedMailbox::from_list(&items, delimiter.map(|d| d.inner()), &mailbox);
                listed.subscribed = true;
                self.handle_listed(listed);
            }
            Data::Namespace {
                personal,
                other,
                shared,
            } => {
                if let Some(InFlight {
                    gather: Gather::Namespace(slot),
                    ..
                }) = self.in_flight.gatherer()
                {
                    *slot = Some(Namespaces::from_wire(&personal, &other, &shared));
                }
            }
            Data::Id { parameters } => {
                if let Some(InFlight {
                    gather: Gather::Id(fields),
                    ..
                }) = self.in_flight.gatherer()
                {
                    fields.extend(parameters.into_iter().flatten().map(|(key, value)| {
                        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
                        (
                            text(key.as_ref()),
                            value.into_option().map(|v| text(v.as_ref())),
                        )
                    }));
                }
            }
            Data::Flags(flags) => {
                let flags: Vec<Flag> = flags.iter().map(Flag::from_imap).collect();
                if let Some(opening) = self.opening() {
                    opening.mailbox.flags = flags;
                } else if let Some(mailbox) = self.selected.as_mut() {
                    mailbox.flags = flags;
                    let mailbox = mailbox.snapshot();
                    self.events.push_back(Event::MailboxUpdated { mailbox });
                }
            }
            Data::Exists(count) => {
                for flight in &mut self.in_flight.0 {
                    flight.exists_seen = true;
                }
                self.update_counts(|m| {
                    m.record_exists(count);
                    None
                });
            }
            Data::Recent(count) => self.update_counts(|m| {
                m.recent = count;
                None
            }),
            Data::Expunge(seq) => self.update_counts(|m| {
                let uid = m.record_expunge(seq.get())?;
                Some(Event::MessageExpunged {
                    seq: seq.get(),
                    uid,
                })
            }),
            Data::Vanished {
                earlier,
                known_uids,
            } => {
                if let Some(uids) = uid_set_from_wire(&known_uids) {
                    self.handle_vanished(earlier, uids);
                }
            }
            Data::Enabled { capabilities }
                if capabilities
                    .iter()
                    .any(|cap| cap.to_string().eq_ignore_ascii_case("QRESYNC")) =>
            {
                self.qresync = Qresync::Enabled;
            }
            Data::Fetch { seq, items } => self.handle_fetch(seq.get(), items.as_ref()),
            Data::Search(found, ..) => {
                if let Some(InFlight {
                    gather: Gather::Search(uids) | Gather::ArrangeSearch(_, uids),
                    ..
                }) = self.in_flight.gatherer()
                {
                    uids.extend(found.iter().filter_map(|n| Uid::new(n.get())));
                }
            }
            Data::Sort(found, ..) => {
                if let Some(InFlight {
                    gather: Gather::Sort(uids),
                    ..
                }) = self.in_flight.gatherer()
                {
                    uids.extend(found.iter().filter_map(|n| Uid::new(n.get())));
                }
            }
            Data::Thread(threads) => {
                if let Some(InFlight {
                    gather: Gather::Thread(found),
                    ..
                }) = self.in_flight.gatherer()
                {
                    found.extend(crate::thread::from_wire(&threads));
                }
            }
            Data::Status { mailbox, items } => self.handle_status_data(&mailbox, &items),
            _ => {}
        }
    }

    /// A STATUS reply goes to the STATUS that asked about its mailbox, else to a LIST with
    /// LIST-STATUS.
    fn handle_status_data(
        &mut self,
        mailbox: &Mailbox<'_>,
        items: &[imap_types::status::StatusDataItem],
    ) {
        let status = MailboxStatus::from_status(mailbox, items);
        let asked = (status.name.as_ref()).and_then(|name| self.in_flight.status_of(name));
        if let Some(asked) = asked {
            *asked = status;
        } else if let Some(InFlight {
            gather: Gather::List(list),
            ..
        }) = self.in_flight.gatherer()
        {
            list.statuses.push(status);
        }
    }

    /// A LIST or LSUB reply: its delimiter is remembered for new names (row V0020).
    fn handle_listed(&mut self, listed: ListedMailbox) {
        self.hierarchy.record_listed(&listed);
        match self.in_flight.gatherer().map(|flight| &mut flight.gather) {
            Some(Gather::List(list)) => list.found.push(listed),
            Some(Gather::Namespace(slot)) if slot.is_none() => {
                *slot = Some(Namespaces::root(listed.delimiter));
            }
            _ => {}
        }
    }

    /// VANISHED (EARLIER) names UIDs gone before now: counts stay. Without EARLIER they were
    /// messages here, like EXPUNGE (RFC 7162 §3.2.10).
    fn handle_vanished(&mut self, earlier: bool, uids: UidSet) {
        if earlier {
            self.report(Event::MessagesVanished { uids, earlier });
        } else {
            self.update_counts(|m| {
                m.record_vanished(&uids);
                Some(Event::MessagesVanished { uids, earlier })
            });
        }
    }

    /// Applies a size change; outside a SELECT it is news for the driver: the event `change`
    /// returns, then the new counts.
    fn update_counts(&mut self, change: impl FnOnce(&mut SelectedMailbox) -> Option<Event>) {
        let selecting = self.opening().is_some();
        let Some(mailbox) = self.mailbox_being_built() else {
            return;
        };
        let news = change(mailbox);
        let (exists, recent) = (mailbox.exists, mailbox.recent);
        if !selecting {
            self.events.extend(news);
            self.events
                .push_back(Event::MailboxChanged { exists, recent });
        }
    }

    /// The UID a FETCH names, recorded for `seq`, else the one recorded before.
    fn record_uid(&mut self, seq: u32, items: &[MessageDataItem<'_>]) -> Option<Uid> {
        let named = items.iter().find_map(|item| match item {
            MessageDataItem::Uid(uid) => Uid::new(uid.get()),
            _ => None,
        });
        match self.mailbox_being_built() {
            Some(mailbox) => mailbox.record_fetch(seq, named),
            None => named,
        }
    }

    /// A FETCH with Gmail's items: its other items as any FETCH's, then a `FetchGmail`
    /// answer, or the labels as they now are.
    fn handle_gmail(&mut self, fetch: GmailFetch<'_>) {
        let GmailFetch { seq, gmail, others } = fetch;
        if !others.is_empty() {
            self.handle_fetch(seq, &others);
        }
        let uid = self.record_uid(seq, &others);
        let (asked, labels_asked) = match self.in_flight.gatherer() {
            Some(InFlight {
                gather: Gather::GmailFetch(_),
                id,
                ..
            }) => (*id, None),
            Some(InFlight {
                gather: Gather::LabelStore(_),
                id,
                ..
            }) => (None, *id),
            _ => (None, None),
        };
        match (asked, uid, gmail) {
            (
                Some(id),
                Some(uid),
                GmailItems {
                    message_id: Some(message_id),
                    thread_id: Some(thread_id),
                    labels: Some(labels),
                },
            ) => self.events.push_back(Event::GmailFetched {
                id,
                uid,
                message_id,
                thread_id,
                labels,
            }),
            (
                _,
                uid,
                GmailItems {
                    labels: Some(labels),
                    ..
                },
            ) => self.report(Event::LabelsChanged {
                id: labels_asked,
                seq,
                uid,
                labels,
            }),
            _ => {}
        }
    }

    fn handle_fetch(&mut self, seq: u32, items: &[imap_types::fetch::MessageDataItem<'_>]) {
        let uid = self.record_uid(seq, items);
        match self.in_flight.gatherer().map(|flight| &mut flight.gather) {
            Some(Gather::Structure(slot @ None)) => {
                let limit = self.config.whole_message_limit;
                *slot = MessageStructure::from_fetch(items, limit).map(Box::new);
                if slot.is_some() {
                    return;
                }
            }
            Some(Gather::Part(slot @ None)) => {
                *slot = FetchedPart::from_fetch(items);
                if slot.is_some() {
                    return;
                }
            }
            // Only the asked-for summaries (they carry the header); another client's flag
            // change meanwhile goes on to be reported as one.
            Some(Gather::ArrangeFetch(_, messages)) if has_header(items) => {
                messages.extend(MessageSummary::from_fetch(seq, items));
                return;
            }
            _ => {}
        }
        if let Some(InFlight {
            gather: Gather::Message(slot),
            ..
        }) = self.in_flight.gatherer()
            && slot.is_none()
        {
            *slot = FullMessage::from_fetch(items, &self.message_parser).map(Box::new);
            if slot.is_some() {
                return;
            }
        }
        let (summaries, id) = match self.in_flight.gatherer() {
            // Only the asked-for summaries carry the header; a change a pipelined STORE or
            // another client made meanwhile is not one of them.
            Some(InFlight {
                gather: Gather::Fetch,
                id,
                ..
            }) if has_header(items) => (true, *id),
            Some(InFlight {
                gather: Gather::Flags | Gather::Select(_),
                ..
            }) => (false, None),
            // Unasked: a FETCH of only UID and MODSEQ says nothing about flags.
            _ => (has_flags(items), None),
        };
        if summaries && let Some(message) = MessageSummary::from_fetch(seq, items) {
            self.events.push_back(Event::FetchReceived { id, message });
            return;
        }
        self.report_flags(seq, uid, items);
    }

    /// A message-list FETCH read by the codec's fast path (only while a summary FETCH is in
    /// flight, see [`Core::wants_summaries`]).
    fn handle_summary(&mut self, fetch: &SummaryFetch<'_>) {
        if let Some(mailbox) = self.mailbox_being_built() {
            mailbox.record_fetch(fetch.seq, Some(Uid::from(fetch.uid)));
        }
        let message = MessageSummary::from_summary_fetch(fetch);
        match self.in_flight.gatherer() {
            Some(InFlight {
                gather: Gather::ArrangeFetch(_, messages),
                ..
            }) => messages.push(message),
            flight => {
                let id = flight.and_then(|flight| flight.id);
                self.events.push_back(Event::FetchReceived { id, message });
            }
        }
    }

    /// Whether a FETCH in flight asks for list summaries: then the codec may read them by
    /// its fast path.
    fn wants_summaries(&self) -> bool {
        self.in_flight
            .any(|gather| matches!(gather, Gather::Fetch | Gather::ArrangeFetch(..)))
    }

    /// A FETCH with FLAGS that names no UID (another client's change, row V0023; the UID
    /// comes from the map), or a `FetchFlags` or QRESYNC answer.
    fn report_flags(
        &mut self,
        seq: u32,
        uid: Option<Uid>,
        items: &[imap_types::fetch::MessageDataItem<'_>],
    ) {
        let mut flags = None;
        let mut modseq = None;
        for item in items {
            match item {
                MessageDataItem::Flags(list) => {
                    flags = Some(list.iter().map(Flag::from_fetch).collect());
                }
                MessageDataItem::ModSeq(value) => modseq = Some(value.get()),
                _ => {}
            }
        }
        if let Some(flags) = flags {
            self.report(Event::FlagsChanged {
                seq,
                uid,
                flags,
                modseq,
            });
        }
    }

    fn handle_tagged(&mut self, tagged: Tagged<'_>) {
        let Some(flight) = self.in_flight.settle(tagged.tag.inner()) else {
            self.events.push_back(Event::ResponseSkipped {
                reason: "tagged response for no command in flight",
                length: 0,
            });
            return;
        };
        let body = tagged.body;
        if let Some(Code::Capability(caps)) = &body.code {
            self.capabilities = Capabilities::from_wire(caps.as_ref());
        }
        if let Some(Code::Alert) = &body.code {
            self.events.push_back(Event::AlertReceived {
                text: self.shown_text(&body.text),
            });
        }
        // With QRESYNC, an EXPUNGE's or STORE's OK carries the new HIGHESTMODSEQ (RFC 7162).
        if let Some(code @ Code::HighestModSeq(_)) = &body.code
            && !matches!(flight.gather, Gather::Select(_))
        {
            self.update_selected(code);
        }
        match body.kind {
            StatusKind::Ok => self.complete(flight, &body),
            StatusKind::No | StatusKind::Bad => self.fail(flight, &body),
        }
    }

    fn complete(&mut self, flight: InFlight, body: &StatusBody<'_>) {
        if flight
            .sasl
            .as_ref()
            .is_some_and(|sasl| !sasl.server_verified())
        {
            // A SCRAM OK without the server's proof (row E0002): the login fails with the
            // session.
            self.in_flight.0.push_back(flight);
            self.close(Some(SessionError::ServerNotVerified));
            return;
        }
        let id = flight.id;
        let exists_seen = flight.exists_seen;
        match flight.gather {
            Gather::Capability(then) => self.after_capability(then, id),
            Gather::StartTls => {
                // Anything learned in cleartext, including a code in this OK, is forgotten.
                self.capabilities = Capabilities::default();
                self.state = State::AwaitingTls;
                self.events.push_back(Event::TlsUpgradeRequested);
            }
            Gather::LogIn(_) => {
                let Some(id) = id else { return };
                self.enter(State::Authenticated);
                let caps_in_ok = matches!(body.code, Some(Code::Capability(_)));
                if caps_in_ok {
                    self.after_capability(AfterCapability::LoggedIn, Some(id));
                } else {
                    // Capabilities may change after login (RFC 3501 §6.2.3): ask again. The
                    // CAPABILITY carries the login's id, so the login is answered even if it
                    // fails or the session ends first.
                    let then = AfterCapability::LoggedIn;
                    self.queue.push_front((Some(id), Job::Capability { then }));
                }
            }
            Gather::List(list) => {
                if let Some(id) = id {
                    let mailboxes = list.finish();
                    self.events
                        .push_back(Event::MailboxesListed { id, mailboxes });
                }
            }
            Gather::Namespace(namespaces) => {
                let namespaces = namespaces.unwrap_or_default();
                self.hierarchy.record_namespaces(namespaces.clone());
                if let Some(id) = id {
                    self.events
                        .push_back(Event::NamespacesReceived { id, namespaces });
                }
            }
            Gather::Sort(uids) => {
                if let Some(id) = id {
                    self.events.push_back(Event::SortCompleted { id, uids });
                }
            }
            Gather::Thread(threads) => {
                if let Some(id) = id {
                    self.events
                        .push_back(Event::ThreadsReceived { id, threads });
                }
            }
            Gather::Id(fields) => {
                if let Some(id) = id {
                    self.events
                        .push_back(Event::ServerIdentified { id, fields });
                }
            }
            Gather::Select(opening) => self.opened(id, *opening, body),
            Gather::Fetch => {
                if let Some(id) = id {
                    self.events.push_back(Event::FetchCompleted { id });
                }
            }
            Gather::Noop => {
                if let Some(id) = id {
                    self.events.push_back(Event::NoopCompleted { id });
                }
            }
            Gather::Message(message) => {
                if let Some(id) = id {
                    self.events.push_back(Event::MessageFetched { id, message });
                }
            }
            Gather::Structure(message) => {
                if let Some(id) = id {
                    self.events
                        .push_back(Event::StructureFetched { id, message });
                }
            }
            Gather::Part(part) => {
                if let Some(id) = id {
                    self.events.push_back(Event::PartFetched { id, part });
                }
            }
            Gather::Done | Gather::Idle(_) => {
                if let Some(id) = id {
                    self.events.push_back(Event::CommandCompleted { id });
                }
            }
            Gather::Status(status) => {
                if let Some(id) = id {
                    self.events.push_back(Event::StatusReceived { id, status });
                }
            }
            Gather::Search(mut uids) => {
                sort_values(&mut uids);
                uids.dedup();
                if let Some(id) = id {
                    self.events.push_back(Event::SearchCompleted { id, uids });
                }
            }
            Gather::ArrangeSearch(arrange, hits) => self.arrange_hits(id, arrange, hits),
            Gather::ArrangeFetch(arrange, messages) => self.arranged(id, arrange, messages),
            Gather::Append(target) => {
                let uid = match body.code {
                    Some(Code::AppendUid { uid, .. }) => Uid::new(uid.get()),
                    _ => None,
                };
                if let Some(id) = id {
                    self.events.push_back(Event::Appended { id, uid });
                }
                self.after_append(&target, exists_seen);
            }
            Gather::Copy(copied) => {
                if let Some(id) = id {
                    let copies = copies(body.code.as_ref(), &copied);
                    self.events.push_back(Event::Copied { id, copies });
                }
            }
            Gather::Move(moved, untagged) => {
                if let Some(id) = id {
                    let copies = untagged.or_else(|| copies(body.code.as_ref(), &moved));
                    self.events.push_back(Event::Copied { id, copies });
                }
            }
            Gather::Logout => self.close(None),
            Gather::Enable => {}
            Gather::Compress => self.compress_accepted = Some(self.transmit.len()),
            Gather::Flags | Gather::GmailFetch(_) => {
                if let Some(id) = id {
                    self.events.push_back(Event::FetchCompleted { id });
                }
            }
            Gather::LabelStore(_) => {
                if let Some(id) = id {
                    self.events.push_back(Event::CommandCompleted { id });
                }
            }
            Gather::ConditionalStore => {
                let conflicted = match &body.code {
                    Some(Code::Modified(set)) => uid_set_from_wire(set),
                    _ => None,
                };
                if let Some(id) = id {
                    self.events.push_back(match conflicted {
                        Some(uids) => Event::StoreConflicted { id, uids },
                        None => Event::CommandCompleted { id },
                    });
                }
            }
            Gather::Leave => {
                self.enter(State::Authenticated);
                self.selected = None;
                if let Some(id) = id {
                    self.events.push_back(Event::CommandCompleted { id });
                }
            }
        }
    }

    /// SELECT or EXAMINE completed: the cache check first, then `MailboxSelected`, then the
    /// QRESYNC news held back while opening.
    fn opened(&mut self, id: Option<CommandId>, opening: Opening, body: &StatusBody<'_>) {
        let Opening {
            mut mailbox,
            cached,
            mut deferred,
        } = opening;
        match body.code {
            Some(Code::ReadOnly) => mailbox.read_only = true,
            Some(Code::ReadWrite) => mailbox.read_only = false,
            _ => {}
        }
        mailbox.apply_defaults();
        self.enter(State::Selected);
        if let Some(cached) = cached
            && mailbox.uid_validity != Some(cached.uid_validity)
        {
            deferred.clear();
            let (name, current) = (mailbox.name.clone(), mailbox.uid_validity);
            self.uid_validity_changed(name, cached.uid_validity, current);
        }
        let snapshot = mailbox.snapshot();
        self.selected = Some(mailbox);
        if let Some(id) = id {
            self.events.push_back(Event::MailboxSelected {
                id,
                mailbox: snapshot,
            });
        }
        self.events.extend(deferred);
    }

    /// A message appended to the selected mailbox shows up by EXISTS; if none came with the
    /// OK, a NOOP asks for it (row V0048). Never CHECK (row V0049).
    fn after_append(&mut self, target: &MailboxName, exists_seen: bool) {
        let here = self
            .selected
            .as_ref()
            .is_some_and(|m| same_mailbox(&m.name, target));
        if here && !exists_seen {
            let noop = Job::Ready {
                body: CommandBody::Noop,
                gather: Gather::Noop,
            };
            self.queue.push_front((None, noop));
        }
    }

    fn fail(&mut self, mut flight: InFlight, body: &StatusBody<'_>) {
        if matches!(body.code, Some(Code::TryCreate))
            && let Some((destination, command)) = flight.retry.take()
        {
            self.create_and_retry(flight, destination, command);
            return;
        }
        let text = self.shown_text(&body.text);
        let refusal = if body.kind == StatusKind::No {
            Refusal::No
        } else {
            Refusal::Bad
        };
        let error = match flight.gather {
            Gather::LogIn(login) => match self.next_login(login, body) {
                Ok(next) => {
                    self.queue.push_front((flight.id, Job::LogIn(next)));
                    return;
                }
                Err(error) => error,
            },
            Gather::Select(_) => {
                // A failed SELECT leaves no mailbox selected (RFC 3501 §6.3.1).
                self.enter(State::Authenticated);
                self.selected = None;
                CommandError::Rejected { refusal, text }
            }
            Gather::Logout => {
                self.close(None);
                return;
            }
            Gather::StartTls => {
                self.close(Some(SessionError::StartTlsRefused { text }));
                return;
            }
            Gather::Capability(_) => {
                let error = SessionError::ProtocolViolation {
                    reason: format!("CAPABILITY was refused: {text}"),
                };
                self.close_answering(flight.id, error);
                return;
            }
            _ => CommandError::Rejected { refusal, text },
        };
        if let Some(id) = flight.id {
            self.events.push_back(Event::CommandFailed { id, error });
        }
    }

    /// After a refused login: the same login with the next mechanism, or why not (row V0034).
    fn next_login(
        &self,
        mut login: Box<Login>,
        body: &StatusBody<'_>,
    ) -> Result<Box<Login>, CommandError> {
        let (error, credentials_rejected) = match sasl::judge(body) {
            Verdict::Stop(error) => return Err(error),
            Verdict::CredentialsRejected(error) => (error, true),
            Verdict::MechanismFailed(error) => (error, false),
        };
        // After [AUTHENTICATIONFAILED], one more mechanism and no more.
        if login.second_chance_used {
            return Err(error);
        }
        login.second_chance_used = credentials_rejected;
        // The one more try goes to another family: the other SCRAM hash checks the same
        // stored secret, while PLAIN lets the server verify however it stores the password.
        if credentials_rejected && login.tried.last().is_some_and(|m| m.is_scram()) {
            login
                .tried
                .extend([Mechanism::ScramSha256, Mechanism::ScramSha1]);
        }
        match self.untried(&login) {
            Ok(left) if !left.is_empty() => Ok(login),
            _ => Err(error),
        }
    }

    /// NO [TRYCREATE]: CREATE the destination, then send the command once more (rows V0047,
    /// V0058). A failed CREATE shows as the retry's failure.
    fn create_and_retry(
        &mut self,
        flight: InFlight,
        destination: Mailbox<'static>,
        command: CommandBody<'static>,
    ) {
        let retry = Job::Retry {
            body: command,
            gather: flight.gather,
        };
        self.queue.push_front((flight.id, retry));
        let create = Job::Ready {
            body: CommandBody::Create {
                mailbox: destination,
            },
            gather: Gather::Done,
        };
        self.queue.push_front((None, create));
    }

    fn next_deadline(&self) -> Option<Instant> {
        match self.state {
            State::Closed => None,
            State::AwaitingGreeting => Some(self.created + self.config.greeting_timeout),
            State::AwaitingTls => Some(self.last_received + self.config.response_timeout),
            _ => Some(match self.due_flight() {
                Some(flight) => self.flight_deadline(flight),
                None => self.last_sent + self.quiet_interval(),
            }),
        }
    }

    /// The command in flight whose deadline comes first.
    fn due_flight(&self) -> Option<&InFlight> {
        self.in_flight
            .iter()
            .min_by_key(|flight| self.flight_deadline(flight))
    }

    fn flight_deadline(&self, flight: &InFlight) -> Instant {
        // An idling server may stay silent: only the re-IDLE interval applies.
        if matches!(flight.gather, Gather::Idle(IdlePhase::Idling)) {
            return flight.sent_at + self.config.idle_interval;
        }
        flight.sent_at.max(self.last_received) + self.flight_timeout(flight)
    }

    /// How long the connection may stay without a command: the poll interval while a mailbox
    /// is open on a server without IDLE (row V0028), else the keep-alive interval.
    fn quiet_interval(&self) -> Duration {
        if self.state == State::Selected && !self.capabilities.has("IDLE") {
            self.config
                .poll_interval
                .min(self.config.keepalive_interval)
        } else {
            self.config.keepalive_interval
        }
    }

    fn flight_timeout(&self, flight: &InFlight) -> Duration {
        match flight.gather {
            Gather::Logout => self.config.logout_timeout,
            _ => self.config.response_timeout,
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        let Some(deadline) = self.next_deadline() else {
            return;
        };
        if now < deadline {
            return;
        }
        match (&self.state, self.due_flight()) {
            (State::AwaitingGreeting, _) => self.close(Some(SessionError::GreetingTimedOut)),
            (State::AwaitingTls, _) => {
                let seconds = self.config.response_timeout.as_secs();
                self.close(Some(SessionError::TimedOut { seconds }));
            }
            (_, Some(flight)) if matches!(flight.gather, Gather::Logout) => self.close(None),
            (_, Some(flight)) if matches!(flight.gather, Gather::Idle(IdlePhase::Idling)) => {
                self.end_idle(now);
            }
            (_, Some(flight)) => {
                let seconds = self.flight_timeout(flight).as_secs();
                self.close(Some(SessionError::TimedOut { seconds }));
            }
            (State::Authenticated | State::Selected, None) if self.queue.is_empty() => {
                self.queue.push_back((
                    None,
                    Job::Ready {
                        body: CommandBody::Noop,
                        gather: Gather::Noop,
                    },
                ));
                self.pump(now);
            }
            _ => self.last_sent = now,
        }
    }

    /// Ends the session from a command's completion: `id` (the login a CAPABILITY carries) is
    /// no longer pending, so it is answered here.
    fn close_answering(&mut self, id: Option<CommandId>, error: SessionError) {
        if let Some(id) = id {
            let ended = CommandError::SessionEnded(error.clone());
            self.events
                .push_back(Event::CommandFailed { id, error: ended });
        }
        self.close(Some(error));
    }

    /// Ends the session: every pending command fails, then `Closed` tells the driver to drop
    /// the transport.
    fn close(&mut self, error: Option<SessionError>) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        let ended = error.clone().unwrap_or(SessionError::ConnectionLost);
        let pending = std::mem::take(&mut self.in_flight.0)
            .into_iter()
            .filter(|flight| !matches!(flight.gather, Gather::Logout))
            .map(|flight| flight.id)
            .chain(self.queue.drain(..).map(|(id, _)| id));
        let failures: Vec<Event> = pending
            .flatten()
            .map(|id| Event::CommandFailed {
                id,
                error: CommandError::SessionEnded(ended.clone()),
            })
            .collect();
        self.events.extend(failures);
        self.events.push_back(Event::Closed { error });
    }
}

/// The list view's fixed item set (row C0003: one documented set, compared byte for byte in
/// tests).
fn summary_items() -> Vec<MessageDataItemName<'static>> {
    vec![
        MessageDataItemName::Uid,
        MessageDataItemName::Flags,
        MessageDataItemName::Rfc822Size,
        MessageDataItemName::InternalDate,
        MessageDataItemName::BodyExt {
            section: Some(Section::Header(None)),
            partial: None,
            peek: true,
        },
    ]
}

fn has_header(items: &[MessageDataItem<'_>]) -> bool {
    items.iter().any(|item| {
        matches!(
            item,
            MessageDataItem::BodyExt {
                section: Some(Section::Header(None)),
                ..
            }
        )
    })
}

fn has_flags(items: &[MessageDataItem<'_>]) -> bool {
    items
        .iter()
        .any(|item| matches!(item, MessageDataItem::Flags(_)))
}

/// Records a response code about the mailbox; `false` when the code is about something else.
fn apply_select_code(mailbox: &mut SelectedMailbox, code: &Code<'_>) -> bool {
    match code {
        Code::UidValidity(value) => mailbox.uid_validity = Some(value.get()),
        Code::UidNext(value) => mailbox.uid_next = crate::message::Uid::new(value.get()),
        Code::Unseen(value) => mailbox.unseen = Some(value.get()),
        Code::PermanentFlags(flags) => {
            mailbox.permanent_flags = flags.iter().map(Flag::from_perm).collect();
            mailbox.can_create_keywords = mailbox.permanent_flags.contains(&Flag::AnyKeyword);
            mailbox.permanent_flags_seen = true;
        }
        Code::ReadOnly => mailbox.read_only = true,
        Code::ReadWrite => mailbox.read_only = false,
        Code::HighestModSeq(value) => mailbox.highest_modseq = Some(value.get()),
        Code::NoModSeq => mailbox.highest_modseq = None,
        _ => return false,
    }
    true
}

/// Checks a command's arguments and encodes what does not depend on capabilities.
fn into_job(command: Command, hierarchy: &Hierarchy) -> Result<Job, SubmitError> {
    let (body, gather) = match command {
        Command::Namespace => return Ok(Job::Namespace),
        Command::ListFolders(query) => {
            return Ok(Job::Folders(Box::new(folder_listing(query, hierarchy)?)));
        }
        Command::CreateChild { parent, name } => {
            let mailbox = hierarchy.child(parent.as_ref(), &name)?;
            return into_job(Command::Create { mailbox }, hierarchy);
        }
        Command::RenameLeaf { mailbox, name } => {
            let to = hierarchy.renamed(&mailbox, &name)?;
            return into_job(Command::Rename { from: mailbox, to }, hierarchy);
        }
        Command::Id { name, version } => {
            let field = |text: String| IString::try_from(text).map_err(invalid("ID field"));
            let value = |text: String| field(text).map(|v| NString(Some(v)));
            let parameters = vec![
                (field("name".into())?, value(name)?),
                (field("version".into())?, value(version)?),
            ];
            let body = CommandBody::Id {
                parameters: Some(parameters),
            };
            (body, Gather::Id(Vec::new()))
        }
        Command::LogIn {
            credentials,
            method,
        } => {
            return Ok(Job::LogIn(Box::new(Login {
                credentials,
                method,
                tried: Vec::new(),
                second_chance_used: false,
            })));
        }
        Command::List { reference, pattern } => {
            let reference = reference.to_imap()?.into_static();
            let pattern = ListMailbox::try_from(pattern).map_err(invalid("LIST pattern"))?;
            let body = CommandBody::list(reference, pattern.into_static())
                .map_err(invalid("LIST arguments"))?;
            (body, Gather::List(Box::default()))
        }
        Command::Select { mailbox } => {
            let body = CommandBody::select(mailbox.to_imap()?.into_static())
                .map_err(invalid("mailbox name"))?;
            (body, Gather::Select(Opening::new(mailbox, false, None)))
        }
        Command::FetchSummaries { uids } => {
            let set =
                SequenceSet::try_from(uids.to_string().as_str()).map_err(invalid("UID range"))?;
            let body = CommandBody::fetch(set, summary_items(), true)
                .unwrap_or_else(|never: std::convert::Infallible| match never {});
            (body, Gather::Fetch)
        }
        Command::FetchMessage { uid } => {
            let items = vec![
                MessageDataItemName::Uid,
                MessageDataItemName::Flags,
                MessageDataItemName::BodyExt {
                    section: None,
                    partial: None,
                    peek: true,
                },
            ];
            (uid_fetch(uid, items)?, Gather::Message(None))
        }
        Command::FetchStructure { uid } => {
            let items = vec![
                MessageDataItemName::Uid,
                MessageDataItemName::Flags,
                MessageDataItemName::Rfc822Size,
                MessageDataItemName::Envelope,
                MessageDataItemName::BodyStructure,
            ];
            (uid_fetch(uid, items)?, Gather::Structure(None))
        }
        Command::FetchPart {
            uid,
            section,
            partial,
        } => {
            let section = section
                .to_imap()
                .map_err(|what| SubmitError::InvalidArgument { what })?;
            let items = vec![
                MessageDataItemName::Uid,
                MessageDataItemName::BodyExt {
                    section,
                    partial: partial.map(|p| (p.origin, p.length)),
                    peek: true,
                },
            ];
            (uid_fetch(uid, items)?, Gather::Part(None))
        }
        Command::Noop => (CommandBody::Noop, Gather::Noop),
        Command::Logout => (CommandBody::Logout, Gather::Logout),
        Command::Store {
            uids,
            action,
            flags,
        } => (store_body(&uids, action, &flags)?, Gather::Done),
        Command::Copy { uids, to } => {
            let body = CommandBody::copy(uid_set(&uids)?, to.to_imap()?.into_static(), true)
                .map_err(invalid("COPY arguments"))?;
            (body, Gather::Copy(uids))
        }
        Command::Move { uids, to } => {
            let body = CommandBody::Move {
                sequence_set: uid_set(&uids)?,
                mailbox: to.to_imap()?.into_static(),
                uid: true,
            };
            (body, Gather::Move(uids, None))
        }
        Command::Expunge { uids } => (
            CommandBody::ExpungeUid {
                sequence_set: uid_set(&uids)?,
            },
            Gather::Done,
        ),
        Command::Create { mailbox } => {
            let body = CommandBody::create(user_named(&mailbox)?.into_static())
                .map_err(invalid("mailbox name"))?;
            (body, Gather::Done)
        }
        Command::Delete { mailbox } => {
            let body = CommandBody::delete(mailbox.to_imap()?.into_static())
                .map_err(invalid("mailbox name"))?;
            (body, Gather::Done)
        }
        Command::Rename { from, to } => {
            let body = CommandBody::rename(
                from.to_imap()?.into_static(),
                user_named(&to)?.into_static(),
            )
            .map_err(invalid("mailbox name"))?;
            (body, Gather::Done)
        }
        Command::Subscribe { mailbox } => {
            let body = CommandBody::subscribe(mailbox.to_imap()?.into_static())
                .map_err(invalid("mailbox name"))?;
            (body, Gather::Done)
        }
        Command::Unsubscribe { mailbox } => {
            let body = CommandBody::unsubscribe(mailbox.to_imap()?.into_static())
                .map_err(invalid("mailbox name"))?;
            (body, Gather::Done)
        }
        Command::Status { mailbox } => {
            let mailbox = mailbox.to_imap()?.into_static();
            return Ok(Job::Later(Deferred::Status { mailbox }));
        }
        Command::Search { query } => (search_body(&query)?, Gather::Search(Vec::new())),
        Command::Sort { order, query } => {
            let wire = crate::sort::to_imap(&order)
                .ok_or(SubmitError::InvalidArgument { what: "sort order" })?;
            return arrange_job(Arrange::Sort(order, wire), &query);
        }
        Command::Thread { query } => return arrange_job(Arrange::Thread, &query),
        Command::Append {
            mailbox,
            flags,
            message,
        } => {
            let target = mailbox.clone();
            // NUL is never sent (row V0014); the literal is synchronizing unless LITERAL+.
            let body = CommandBody::append(
                mailbox.to_imap()?.into_static(),
                imap_flags(&flags)?,
                None,
                message,
            )
            .map_err(invalid("message (NUL bytes or mailbox name)"))?;
            (body, Gather::Append(target))
        }
        Command::Idle => (CommandBody::Idle, Gather::Idle(IdlePhase::Requested)),
        Command::Open {
            mailbox,
            read_only,
            cached,
        } => {
            let resync = cached
                .as_ref()
                .map(Resync::from_cache)
                .transpose()?
                .flatten();
            return Ok(Job::Later(Deferred::Open {
                wire: mailbox.to_imap()?.into_static(),
                name: mailbox,
                read_only,
                cached,
                resync,
            }));
        }
        Command::FetchFlags {
            uids,
            changed_since,
        } => {
            let set =
                SequenceSet::try_from(uids.to_string().as_str()).map_err(invalid("UID range"))?;
            let changed_since = changed_since.and_then(NonZeroU64::new);
            return Ok(Job::Later(Deferred::FetchFlags { set, changed_since }));
        }
        Command::Unselect => return Ok(Job::Later(Deferred::Unselect)),
        Command::Close => (CommandBody::Close, Gather::Leave),
        Command::StoreUnchangedSince {
            uids,
            action,
            flags,
            unchanged_since,
        } => {
            let mut body = store_body(&uids, action, &flags)?;
            if let CommandBody::Store { modifiers, .. } = &mut body {
                modifiers.push(StoreModifier::UnchangedSince(unchanged_since));
            }
            (body, Gather::ConditionalStore)
        }
        Command::FetchGmail { uids } => {
            let body = CommandBody::fetch(uid_set(&uids)?, vec![MessageDataItemName::Uid], true)
                .unwrap_or_else(|never: std::convert::Infallible| match never {});
            (body, Gather::GmailFetch(gmail::fetch_tail()))
        }
        Command::StoreLabels {
            uids,
            action,
            labels,
        } => label_store(&uids, action, &labels)?,
    };
    Ok(Job::Ready { body, gather })
}

/// `UID STORE <uids> ±X-GM-LABELS (...)`: imap-types' STORE with no flags, its end replaced.
/// Not SILENT: the labels as they now are come back.
fn label_store(
    uids: &UidSet,
    action: LabelAction,
    labels: &[Label],
) -> Result<(CommandBody<'static>, Gather), SubmitError> {
    let kind = match action {
        LabelAction::Add if !labels.is_empty() => StoreType::Add,
        LabelAction::Remove if !labels.is_empty() => StoreType::Remove,
        LabelAction::Replace => StoreType::Replace,
        _ => return Err(SubmitError::InvalidArgument { what: "no labels" }),
    };
    let body = CommandBody::store(uid_set(uids)?, kind, StoreResponse::Answer, vec![], true)
        .unwrap_or_else(|never: std::convert::Infallible| match never {});
    Ok((body, Gather::LabelStore(gmail::labels_tail(labels)?)))
}

/// The LIST pattern for `query`: everything, or the direct children of one mailbox.
fn folder_listing(query: FolderQuery, hierarchy: &Hierarchy) -> Result<FolderListing, SubmitError> {
    let (pattern, children_of) = match &query.under {
        None => (b"*".to_vec(), None),
        Some(parent) => {
            let delimiter = hierarchy
                .delimiter_below(Some(parent))?
                .ok_or(SubmitError::FlatHierarchy)?;
            let mut prefix = parent.as_wire().to_vec();
            prefix.extend(delimiter.to_string().into_bytes());
            let mut pattern = prefix.clone();
            pattern.push(b'%');
            (pattern, Some(ChildrenOf { prefix, delimiter }))
        }
    };
    Ok(FolderListing {
        reference: Mailbox::try_from("").map_err(invalid("LIST reference"))?,
        pattern: String::from_utf8(pattern)
            .ok()
            .and_then(|pattern| ListMailbox::try_from(pattern).ok())
            .ok_or(SubmitError::InvalidArgument {
                what: "LIST pattern",
            })?,
        children_of,
        subscribed_only: query.subscribed_only,
        with_status: query.with_status,
    })
}

/// `UID STORE <uids> ±FLAGS.SILENT (...)`, never a replace-all (row V0056).
fn store_body(
    uids: &UidSet,
    action: StoreAction,
    flags: &[Flag],
) -> Result<CommandBody<'static>, SubmitError> {
    let kind = match action {
        StoreAction::Add => StoreType::Add,
        StoreAction::Remove => StoreType::Remove,
    };
    Ok(CommandBody::store(
        uid_set(uids)?,
        kind,
        StoreResponse::Silent,
        imap_flags(flags)?,
        true,
    )
    .unwrap_or_else(|never: std::convert::Infallible| match never {}))
}

fn enable_qresync() -> CommandBody<'static> {
    let qresync = CapabilityEnable::from(Atom::unvalidated("QRESYNC"));
    CommandBody::Enable {
        capabilities: Vec1::from(qresync),
    }
}

/// The mailbox a COPY, MOVE or APPEND writes to: created on TRYCREATE (row V0047).
fn trycreate_destination(body: &CommandBody<'_>) -> Option<Mailbox<'static>> {
    match body {
        CommandBody::Copy { mailbox, .. }
        | CommandBody::Move { mailbox, .. }
        | CommandBody::Append { mailbox, .. } => Some(mailbox.clone().into_static()),
        _ => None,
    }
}

/// `UID FETCH <uid> (<items>)` for one message.
fn uid_fetch(
    uid: Uid,
    items: Vec<MessageDataItemName<'static>>,
) -> Result<CommandBody<'static>, SubmitError> {
    let set = SequenceSet::try_from(uid.to_string().as_str()).map_err(invalid("UID"))?;
    Ok(CommandBody::fetch(set, items, true)
        .unwrap_or_else(|never: std::convert::Infallible| match never {}))
}

fn uid_set(uids: &UidSet) -> Result<SequenceSet, SubmitError> {
    SequenceSet::try_from(uids.to_string().as_str()).map_err(invalid("UID set"))
}

/// The copies COPYUID names, when it is consistent: its source within the UIDs copied (it
/// leaves out those already expunged) and one destination UID per source UID (RFC 4315).
/// Anything else is not trusted for an undo that expunges.
fn copies(code: Option<&Code<'_>>, copied: &UidSet) -> Option<Copies> {
    let Some(Code::CopyUid {
        uid_validity,
        source,
        destination,
    }) = code
    else {
        return None;
    };
    let (source, uids) = (
        uid_set_from_uidplus(source)?,
        uid_set_from_uidplus(destination)?,
    );
    (copied.covers(&source) && source.count() == uids.count()).then(|| Copies {
        uid_validity: uid_validity.get(),
        uids,
    })
}

fn uid_set_from_uidplus(set: &imap_types::extensions::uidplus::UidSet) -> Option<UidSet> {
    use imap_types::extensions::uidplus::UidElement;
    let uid = |value: &NonZeroU32| Uid::new(value.get());
    UidSet::from_ranges(set.0.as_ref().iter().filter_map(|element| match element {
        UidElement::Single(value) => uid(value).map(|uid| (uid, uid)),
        UidElement::Range(from, to) => Some((uid(from)?, uid(to)?)),
    }))
}

fn imap_flags(flags: &[Flag]) -> Result<Vec<ImapFlag<'static>>, SubmitError> {
    flags
        .iter()
        .map(|flag| {
            flag.to_imap().ok_or(SubmitError::InvalidArgument {
                what: "flag or keyword",
            })
        })
        .collect()
}

/// Names the user typed for a new mailbox: no control characters (row V0018).
fn user_named(
    name: &crate::mailbox::MailboxName,
) -> Result<imap_types::mailbox::Mailbox<'_>, SubmitError> {
    if name.as_wire().iter().any(u8::is_ascii_control) {
        return Err(SubmitError::InvalidArgument {
            what: "mailbox name (control characters)",
        });
    }
    name.to_imap()
}

/// UID SEARCH with the given criteria ANDed; CHARSET UTF-8 only when a key is not ASCII.
fn search_body(query: &SearchQuery) -> Result<CommandBody<'static>, SubmitError> {
    let (charset, criteria) = search_criteria(query)?;
    Ok(CommandBody::search(charset, criteria, true))
}

/// A SORT or THREAD, decided when it is sent (the server's or the engine's).
fn arrange_job(arrange: Arrange, query: &SearchQuery) -> Result<Job, SubmitError> {
    let criteria = search_criteria(query)?;
    let named_charset = charset_or_ascii(criteria.0.clone())?;
    Ok(Job::Later(Deferred::Arrange {
        arrange,
        criteria,
        named_charset,
    }))
}

/// SORT and THREAD name a charset always: US-ASCII unless a key needs UTF-8.
fn charset_or_ascii(charset: Option<Charset<'static>>) -> Result<Charset<'static>, SubmitError> {
    charset.map_or_else(
        || Charset::try_from("US-ASCII").map_err(invalid("charset")),
        Ok,
    )
}

type Criteria = (Option<Charset<'static>>, Vec1<SearchKey<'static>>);

/// The search keys ANDed, and CHARSET UTF-8 when one is not ASCII (row V0051).
fn search_criteria(query: &SearchQuery) -> Result<Criteria, SubmitError> {
    let text = |value: &Option<String>| -> Result<Option<AString<'static>>, SubmitError> {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| AString::try_from(v.to_owned()).map_err(invalid("search text")))
            .transpose()
    };
    let mut keys = Vec::new();
    // First, so only constants precede it on the wire (`gmail::searches_raw`).
    if let Some(raw) = query.gmail_raw.as_deref().filter(|raw| !raw.is_empty()) {
        keys.push(gmail::raw_key(raw)?);
    }
    keys.extend(text(&query.text)?.map(SearchKey::Text));
    keys.extend(text(&query.from)?.map(SearchKey::From));
    keys.extend(text(&query.to)?.map(SearchKey::To));
    keys.extend(text(&query.subject)?.map(SearchKey::Subject));
    if query.unseen {
        keys.push(SearchKey::Unseen);
    }
    if query.flagged {
        keys.push(SearchKey::Flagged);
    }
    keys.extend(query.sent_since.map(|d| SearchKey::SentSince(d.to_imap())));
    keys.extend(
        query
            .sent_before
            .map(|d| SearchKey::SentBefore(d.to_imap())),
    );
    let non_ascii = [
        &query.text,
        &query.from,
        &query.to,
        &query.subject,
        &query.gmail_raw,
    ]
    .iter()
    .any(|v| v.as_deref().is_some_and(|v| !v.is_ascii()));
    let charset = non_ascii
        .then(|| Charset::try_from("UTF-8").map_err(invalid("charset")))
        .transpose()?;
    let criteria = Vec1::try_from(keys).unwrap_or_else(|_| Vec1::from(SearchKey::All));
    Ok((charset, criteria))
}
