//! The connection state machine: RFC 3501's states, the command queue, and timers.
//!
//! Sans-IO: the driver feeds server bytes to `handle_input`, sends what `poll_transmit`
//! returns, acts on `poll_event`, and calls `handle_timeout` at `poll_timeout`. Commands are
//! sent one at a time; each waits for its tagged completion before the next goes out.

use crate::auth::{AuthMethod, Credentials};
use crate::capability::Capabilities;
use crate::clock::Instant;
use crate::codec::{Frame, OutgoingCommand, ResponseReader, SummaryFetch};
use crate::command::{Command, CommandId};
use crate::command::{SearchQuery, StoreAction};
use crate::error::{CommandError, Refusal, SessionError, SubmitError};
use crate::event::Event;
use crate::mailbox::{ListedMailbox, MailboxStatus, SelectedMailbox};
use crate::message::{Flag, FullMessage, MessageSummary, Uid, UidSet};
use crate::tag::{Tag, TagGenerator};
use imap_types::IntoStatic;
use imap_types::auth::AuthMechanism;
use imap_types::command::{Command as WireCommand, CommandBody};
use imap_types::core::{AString, Charset, Vec1};
use imap_types::fetch::{MessageDataItemName, Section};
use imap_types::flag::{Flag as ImapFlag, StoreResponse, StoreType};
use imap_types::mailbox::ListMailbox;
use imap_types::response::{
    Bye, Code, CommandContinuationRequest, Data, Greeting, GreetingKind, Response, Status,
    StatusBody, StatusKind, Tagged,
};
use imap_types::search::SearchKey;
use imap_types::sequence::SequenceSet;
use imap_types::status::StatusDataItemName;
use mail_parser::MessageParser;
use std::collections::VecDeque;
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
}

impl Config {
    pub fn new(tag_seed: u32, transport: TransportSecurity) -> Self {
        Self {
            tag_seed,
            transport,
            max_response_size: 64 * 1024 * 1024,
            greeting_timeout: Duration::from_secs(30),
            response_timeout: Duration::from_secs(60),
            logout_timeout: Duration::from_secs(5),
            keepalive_interval: Duration::from_secs(9 * 60),
            idle_interval: Duration::from_secs(25 * 60),
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

/// One IMAP client connection.
pub struct Session {
    reader: ResponseReader,
    core: Core,
}

impl Session {
    pub fn new(config: Config, now: Instant) -> Self {
        Self {
            reader: ResponseReader::new(config.max_response_size),
            core: Core::new(config, now),
        }
    }

    /// Bytes from the server, in any chunking.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        if matches!(self.core.state, State::Closed | State::AwaitingTls) {
            return;
        }
        self.core.last_received = now;
        self.reader.push(bytes);
        while let Some(frame) = self.reader.next_frame() {
            self.core.handle_frame(frame, now);
            match self.core.state {
                State::Closed => return,
                // Whatever followed STARTTLS's OK in cleartext could be an attacker's
                // injection (CVE-2011-0411 class): it is dropped unread.
                State::AwaitingTls => {
                    self.reader.discard_buffered();
                    return;
                }
                _ => {}
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
        self.core.transmit.pop_front()
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
    LogIn {
        credentials: Credentials,
        method: AuthMethod,
    },
    Ready {
        body: CommandBody<'static>,
        gather: Gather,
    },
}

#[derive(Clone, Copy)]
enum AfterCapability {
    Greeted {
        preauthenticated: bool,
    },
    /// The login whose id the CAPABILITY command carries.
    LoggedIn,
}

/// A command on the wire, with what its untagged responses are gathered into.
struct InFlight {
    tag: Tag,
    id: Option<CommandId>,
    rest: OutgoingCommand,
    /// Sent once the server answers `+`: a SASL response after AUTHENTICATE.
    sasl_response: Option<OutgoingCommand>,
    sent_at: Instant,
    gather: Gather,
}

enum Gather {
    Capability(AfterCapability),
    StartTls,
    LogIn,
    List(Vec<ListedMailbox>),
    Select(Box<SelectedMailbox>),
    Fetch,
    Message(Option<Box<FullMessage>>),
    Noop,
    /// Success is all there is to report.
    Done,
    Status(MailboxStatus),
    Search(Vec<Uid>),
    Append,
    Idle(IdlePhase),
    Logout,
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
    queue: VecDeque<(Option<CommandId>, Job)>,
    in_flight: Option<InFlight>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    next_id: u64,
    created: Instant,
    last_received: Instant,
    last_sent: Instant,
    bye: Option<String>,
    /// Full MIME parsing for the reader.
    message_parser: MessageParser,
}

impl Core {
    fn new(config: Config, now: Instant) -> Self {
        Self {
            tags: TagGenerator::new(config.tag_seed),
            config,
            state: State::AwaitingGreeting,
            capabilities: Capabilities::default(),
            selected: None,
            queue: VecDeque::new(),
            in_flight: None,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            next_id: 0,
            created: now,
            last_received: now,
            last_sent: now,
            bye: None,
            message_parser: MessageParser::new(),
        }
    }

    fn submit(&mut self, command: Command, now: Instant) -> Result<CommandId, SubmitError> {
        self.check_allowed(&command)?;
        self.check_supported(&command)?;
        self.check_writable(&command)?;
        let job = into_job(command)?;
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

    fn check_allowed(&self, command: &Command) -> Result<(), SubmitError> {
        let login_pending = self
            .queue
            .iter()
            .any(|(_, job)| matches!(job, Job::LogIn { .. }))
            || self
                .in_flight
                .as_ref()
                .is_some_and(|f| matches!(f.gather, Gather::LogIn));
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
                | Command::Idle,
                state,
            ) => matches!(state, State::Authenticated | State::Selected),
            (
                Command::FetchSummaries { .. }
                | Command::FetchMessage { .. }
                | Command::Store { .. }
                | Command::Copy { .. }
                | Command::Move { .. }
                | Command::Expunge { .. }
                | Command::Search { .. },
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
            Command::Store { .. } | Command::Move { .. } | Command::Expunge { .. }
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
            _ => return Ok(()),
        };
        if self.capabilities.has(needed) {
            Ok(())
        } else {
            Err(SubmitError::NotSupported { capability: needed })
        }
    }

    /// Sends the next queued command when nothing is in flight; ends an IDLE first.
    fn pump(&mut self, now: Instant) {
        if !self.queue.is_empty() {
            self.end_idle(now);
        }
        while self.in_flight.is_none()
            && !matches!(self.state, State::AwaitingGreeting | State::AwaitingTls)
        {
            let Some((id, job)) = self.queue.pop_front() else {
                return;
            };
            let prepared = match job {
                Job::Capability { then } => {
                    Ok((CommandBody::Capability, Gather::Capability(then), None))
                }
                Job::LogIn {
                    credentials,
                    method,
                } => self.prepare_login(&credentials, method),
                Job::Ready { body, gather } => Ok((body, gather, None)),
            };
            match prepared {
                Ok((body, gather, sasl_response)) => {
                    self.send(id, body, gather, sasl_response, now)
                }
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

    /// AUTHENTICATE PLAIN where offered, else LOGIN (rows E0001, V0013, V0031).
    fn prepare_login(
        &self,
        credentials: &Credentials,
        method: AuthMethod,
    ) -> Result<(CommandBody<'static>, Gather, Option<OutgoingCommand>), CommandError> {
        if matches!(
            self.config.transport,
            TransportSecurity::StartTls
                | TransportSecurity::Cleartext {
                    allow_credentials: false
                }
        ) {
            return Err(CommandError::InsecureTransport);
        }
        let caps = &self.capabilities;
        let use_plain = match method {
            AuthMethod::Plain => true,
            AuthMethod::Login => false,
            AuthMethod::Auto => caps.supports_auth("PLAIN") || !credentials.is_ascii(),
        };
        if use_plain {
            if !caps.supports_auth("PLAIN") && method == AuthMethod::Auto {
                return Err(CommandError::NonAsciiCredentials);
            }
            let response = credentials.sasl_plain();
            if caps.has("SASL-IR") {
                // imap-codec base64-encodes the initial response itself.
                let raw = format!("\0{}\0{}", credentials.user(), credentials.password());
                let body =
                    CommandBody::authenticate_with_ir(AuthMechanism::Plain, raw.into_bytes());
                return Ok((body, Gather::LogIn, None));
            }
            let body = CommandBody::authenticate(AuthMechanism::Plain);
            return Ok((body, Gather::LogIn, Some(OutgoingCommand::line(response))));
        }
        if caps.has("LOGINDISABLED") {
            return Err(CommandError::NoUsableMechanism);
        }
        if !credentials.is_ascii() {
            return Err(CommandError::NonAsciiCredentials);
        }
        let body = CommandBody::login(
            credentials.user().to_owned(),
            credentials.password().to_owned(),
        )
        .map_err(|_| CommandError::NoUsableMechanism)?;
        Ok((body, Gather::LogIn, None))
    }

    fn send(
        &mut self,
        id: Option<CommandId>,
        body: CommandBody<'static>,
        gather: Gather,
        sasl_response: Option<OutgoingCommand>,
        now: Instant,
    ) {
        let Some(tag) = self.tags.next_tag() else {
            self.close(Some(SessionError::TagsExhausted));
            return;
        };
        let wire = WireCommand::new(tag.as_str(), body)
            .expect("four characters of [a-z0-9] are always a valid IMAP tag");
        let mut rest = OutgoingCommand::encode(&wire);
        if let Some(first) = rest.next_piece() {
            self.transmit.push_back(first);
        }
        self.last_sent = now;
        self.in_flight = Some(InFlight {
            tag,
            id,
            rest,
            sasl_response,
            sent_at: now,
            gather,
        });
    }

    /// Sends DONE if an IDLE is running; its tagged OK then lets the queue move.
    fn end_idle(&mut self, now: Instant) {
        if let Some(flight) = self.in_flight.as_mut()
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
            Frame::Response(Response::Status(status)) => self.handle_status(status),
            Frame::Response(Response::Data(data)) => self.handle_data(data),
            Frame::Response(Response::CommandContinuationRequest(request)) => {
                self.handle_continuation(&request);
            }
            Frame::Summary(fetch) => self.handle_summary(&fetch),
            Frame::Skipped { reason, length } => self.handle_skipped(reason, length),
        }
        self.pump(now);
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
        self.state = if self.state == State::LoggingOut {
            State::LoggingOut
        } else if preauthenticated {
            State::Authenticated
        } else {
            State::NotAuthenticated
        };
        let then = AfterCapability::Greeted { preauthenticated };
        match greeting.code {
            Some(Code::Capability(caps)) => {
                self.capabilities = Capabilities::from_wire(caps.as_ref());
                self.after_capability(then, None);
            }
            _ => self.queue.push_front((None, Job::Capability { then })),
        }
    }

    /// `id` is the command the capabilities complete: the login, for `LoggedIn`.
    fn after_capability(&mut self, then: AfterCapability, id: Option<CommandId>) {
        if !(self.capabilities.has("IMAP4rev1") || self.capabilities.has("IMAP4rev2")) {
            // No RFC822.* fallbacks for older servers (row V0055): say so instead.
            self.close(Some(SessionError::UnsupportedServer));
            return;
        }
        if let AfterCapability::Greeted { .. } = then
            && self.config.transport == TransportSecurity::StartTls
        {
            self.start_tls();
            return;
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

    fn handle_continuation(&mut self, _request: &CommandContinuationRequest<'_>) {
        let Some(flight) = self.in_flight.as_mut() else {
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
        } else if let Some(mut response) = flight.sasl_response.take() {
            if let Some(piece) = response.next_piece() {
                self.transmit.push_back(piece);
            }
        } else {
            // A second challenge in PLAIN means the server wants something we cannot give:
            // cancel the exchange (RFC 3501 §6.2.2) and let the tagged BAD end it.
            self.transmit.push_back(b"*\r\n".to_vec());
        }
    }

    fn handle_status(&mut self, status: Status<'_>) {
        match status {
            Status::Tagged(tagged) => self.handle_tagged(tagged),
            Status::Untagged(body) => self.handle_untagged_status(&body),
            Status::Bye(Bye { text, .. }) => {
                let text = text.to_string();
                if self.state == State::LoggingOut {
                    self.bye = Some(text);
                } else {
                    self.close(Some(SessionError::ServerBye { text }));
                }
            }
        }
    }

    fn handle_untagged_status(&mut self, body: &StatusBody<'_>) {
        let Some(code) = &body.code else {
            return;
        };
        if matches!(code, Code::Alert) {
            self.events.push_back(Event::AlertReceived {
                text: body.text.to_string(),
            });
            return;
        }
        if let Code::Capability(caps) = code {
            self.capabilities = Capabilities::from_wire(caps.as_ref());
            return;
        }
        if let Some(mailbox) = self.mailbox_being_built() {
            apply_select_code(mailbox, code);
        }
    }

    /// The mailbox a SELECT in flight is gathering, else the selected one.
    fn mailbox_being_built(&mut self) -> Option<&mut SelectedMailbox> {
        match self.in_flight.as_mut() {
            Some(InFlight {
                gather: Gather::Select(mailbox),
                ..
            }) => Some(mailbox),
            _ => self.selected.as_mut(),
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
                if let Some(InFlight {
                    gather: Gather::List(found),
                    ..
                }) = self.in_flight.as_mut()
                {
                    let delimiter = delimiter.map(|d| d.inner());
                    found.push(ListedMailbox::from_list(&items, delimiter, &mailbox));
                }
            }
            Data::Flags(flags) => {
                if let Some(mailbox) = self.mailbox_being_built() {
                    mailbox.flags = flags.iter().map(Flag::from_imap).collect();
                }
            }
            Data::Exists(count) => self.update_counts(|m| m.exists = count),
            Data::Recent(count) => self.update_counts(|m| m.recent = count),
            Data::Expunge(_) => self.update_counts(SelectedMailbox::record_expunge),
            Data::Fetch { seq, items } => self.handle_fetch(seq.get(), items.as_ref()),
            Data::Search(found, ..) => {
                if let Some(InFlight {
                    gather: Gather::Search(uids),
                    ..
                }) = self.in_flight.as_mut()
                {
                    uids.extend(found.iter().filter_map(|n| Uid::new(n.get())));
                }
            }
            Data::Status { mailbox, items } => {
                if let Some(InFlight {
                    gather: Gather::Status(status),
                    ..
                }) = self.in_flight.as_mut()
                {
                    *status = MailboxStatus::from_status(&mailbox, &items);
                }
            }
            _ => {}
        }
    }

    /// Applies a size change; outside a SELECT it is news for the driver.
    fn update_counts(&mut self, change: impl FnOnce(&mut SelectedMailbox)) {
        let selecting = matches!(
            self.in_flight,
            Some(InFlight {
                gather: Gather::Select(_),
                ..
            })
        );
        let Some(mailbox) = self.mailbox_being_built() else {
            return;
        };
        change(mailbox);
        let (exists, recent) = (mailbox.exists, mailbox.recent);
        if !selecting {
            self.events
                .push_back(Event::MailboxChanged { exists, recent });
        }
    }

    fn handle_fetch(&mut self, seq: u32, items: &[imap_types::fetch::MessageDataItem<'_>]) {
        if let Some(InFlight {
            gather: Gather::Message(slot),
            ..
        }) = self.in_flight.as_mut()
            && slot.is_none()
        {
            *slot = FullMessage::from_fetch(items, &self.message_parser).map(Box::new);
            if slot.is_some() {
                return;
            }
        }
        if let Some(message) = MessageSummary::from_fetch(seq, items) {
            let id = self.fetch_id();
            self.events.push_back(Event::FetchReceived { id, message });
        }
    }

    fn handle_summary(&mut self, fetch: &SummaryFetch<'_>) {
        let message = MessageSummary::from_summary_fetch(fetch);
        let id = self.fetch_id();
        self.events.push_back(Event::FetchReceived { id, message });
    }

    /// The command a FETCH response belongs to, if a FetchSummaries is in flight.
    fn fetch_id(&self) -> Option<CommandId> {
        match &self.in_flight {
            Some(InFlight {
                gather: Gather::Fetch,
                id,
                ..
            }) => *id,
            _ => None,
        }
    }

    fn handle_tagged(&mut self, tagged: Tagged<'_>) {
        let matches = self
            .in_flight
            .as_ref()
            .is_some_and(|flight| flight.tag.as_str() == tagged.tag.inner());
        if !matches {
            self.events.push_back(Event::ResponseSkipped {
                reason: "tagged response for no command in flight",
                length: 0,
            });
            return;
        }
        let Some(flight) = self.in_flight.take() else {
            return;
        };
        let body = tagged.body;
        if let Some(Code::Capability(caps)) = &body.code {
            self.capabilities = Capabilities::from_wire(caps.as_ref());
        }
        if let Some(Code::Alert) = &body.code {
            self.events.push_back(Event::AlertReceived {
                text: body.text.to_string(),
            });
        }
        match body.kind {
            StatusKind::Ok => self.complete(flight, &body),
            StatusKind::No | StatusKind::Bad => self.fail(flight, &body),
        }
    }

    fn complete(&mut self, flight: InFlight, body: &StatusBody<'_>) {
        let id = flight.id;
        match flight.gather {
            Gather::Capability(then) => self.after_capability(then, id),
            Gather::StartTls => {
                // Anything learned in cleartext, including a code in this OK, is forgotten.
                self.capabilities = Capabilities::default();
                self.state = State::AwaitingTls;
                self.events.push_back(Event::TlsUpgradeRequested);
            }
            Gather::LogIn => {
                let Some(id) = id else { return };
                self.state = State::Authenticated;
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
            Gather::List(mailboxes) => {
                if let Some(id) = id {
                    self.events
                        .push_back(Event::MailboxesListed { id, mailboxes });
                }
            }
            Gather::Select(mut mailbox) => {
                match body.code {
                    Some(Code::ReadOnly) => mailbox.read_only = true,
                    Some(Code::ReadWrite) => mailbox.read_only = false,
                    _ => {}
                }
                self.state = State::Selected;
                self.selected = Some((*mailbox).clone());
                if let Some(id) = id {
                    self.events.push_back(Event::MailboxSelected {
                        id,
                        mailbox: *mailbox,
                    });
                }
            }
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
                uids.sort_unstable();
                uids.dedup();
                if let Some(id) = id {
                    self.events.push_back(Event::SearchCompleted { id, uids });
                }
            }
            Gather::Append => {
                let uid = match body.code {
                    Some(Code::AppendUid { uid, .. }) => Uid::new(uid.get()),
                    _ => None,
                };
                if let Some(id) = id {
                    self.events.push_back(Event::Appended { id, uid });
                }
            }
            Gather::Logout => self.close(None),
        }
    }

    fn fail(&mut self, flight: InFlight, body: &StatusBody<'_>) {
        let text = body.text.to_string();
        let refusal = if body.kind == StatusKind::No {
            Refusal::No
        } else {
            Refusal::Bad
        };
        let error = match flight.gather {
            Gather::LogIn => CommandError::AuthenticationFailed { text },
            Gather::Select(_) => {
                // A failed SELECT leaves no mailbox selected (RFC 3501 §6.3.1).
                self.state = State::Authenticated;
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
                if let Some(id) = flight.id {
                    let ended = CommandError::SessionEnded(error.clone());
                    self.events
                        .push_back(Event::CommandFailed { id, error: ended });
                }
                self.close(Some(error));
                return;
            }
            _ => CommandError::Rejected { refusal, text },
        };
        if let Some(id) = flight.id {
            self.events.push_back(Event::CommandFailed { id, error });
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        match self.state {
            State::Closed => None,
            State::AwaitingGreeting => Some(self.created + self.config.greeting_timeout),
            State::AwaitingTls => Some(self.last_received + self.config.response_timeout),
            _ => Some(match &self.in_flight {
                // An idling server may stay silent: only the re-IDLE interval applies.
                Some(flight) if matches!(flight.gather, Gather::Idle(IdlePhase::Idling)) => {
                    flight.sent_at + self.config.idle_interval
                }
                Some(flight) => {
                    let since = flight.sent_at.max(self.last_received);
                    since + self.flight_timeout(flight)
                }
                None => self.last_sent + self.config.keepalive_interval,
            }),
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
        match (&self.state, &self.in_flight) {
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

    /// Ends the session: every pending command fails, then `Closed` tells the driver to drop
    /// the transport.
    fn close(&mut self, error: Option<SessionError>) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        let ended = error.clone().unwrap_or(SessionError::ConnectionLost);
        let pending = self
            .in_flight
            .take()
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

fn apply_select_code(mailbox: &mut SelectedMailbox, code: &Code<'_>) {
    match code {
        Code::UidValidity(value) => mailbox.uid_validity = Some(value.get()),
        Code::UidNext(value) => mailbox.uid_next = crate::message::Uid::new(value.get()),
        Code::Unseen(value) => mailbox.unseen = Some(value.get()),
        Code::PermanentFlags(flags) => {
            mailbox.permanent_flags = flags.iter().map(Flag::from_perm).collect();
            mailbox.can_create_keywords = mailbox.permanent_flags.contains(&Flag::AnyKeyword);
        }
        Code::ReadOnly => mailbox.read_only = true,
        Code::ReadWrite => mailbox.read_only = false,
        _ => {}
    }
}

/// Checks a command's arguments and encodes what does not depend on capabilities.
fn into_job(command: Command) -> Result<Job, SubmitError> {
    let (body, gather) = match command {
        Command::LogIn {
            credentials,
            method,
        } => {
            return Ok(Job::LogIn {
                credentials,
                method,
            });
        }
        Command::List { reference, pattern } => {
            let reference = reference.to_imap()?.into_static();
            let pattern = ListMailbox::try_from(pattern).map_err(invalid("LIST pattern"))?;
            let body = CommandBody::list(reference, pattern.into_static())
                .map_err(invalid("LIST arguments"))?;
            (body, Gather::List(Vec::new()))
        }
        Command::Select { mailbox } => {
            let body = CommandBody::select(mailbox.to_imap()?.into_static())
                .map_err(invalid("mailbox name"))?;
            (
                body,
                Gather::Select(Box::new(SelectedMailbox::new(mailbox))),
            )
        }
        Command::FetchSummaries { uids } => {
            let set =
                SequenceSet::try_from(uids.to_string().as_str()).map_err(invalid("UID range"))?;
            let body = CommandBody::fetch(set, summary_items(), true)
                .unwrap_or_else(|never: std::convert::Infallible| match never {});
            (body, Gather::Fetch)
        }
        Command::FetchMessage { uid } => {
            let set = SequenceSet::try_from(uid.to_string().as_str()).map_err(invalid("UID"))?;
            let items = vec![
                MessageDataItemName::Uid,
                MessageDataItemName::Flags,
                MessageDataItemName::BodyExt {
                    section: None,
                    partial: None,
                    peek: true,
                },
            ];
            let body = CommandBody::fetch(set, items, true)
                .unwrap_or_else(|never: std::convert::Infallible| match never {});
            (body, Gather::Message(None))
        }
        Command::Noop => (CommandBody::Noop, Gather::Noop),
        Command::Logout => (CommandBody::Logout, Gather::Logout),
        Command::Store {
            uids,
            action,
            flags,
        } => {
            let kind = match action {
                StoreAction::Add => StoreType::Add,
                StoreAction::Remove => StoreType::Remove,
            };
            let body = CommandBody::store(
                uid_set(&uids)?,
                kind,
                StoreResponse::Silent,
                imap_flags(&flags)?,
                true,
            )
            .unwrap_or_else(|never: std::convert::Infallible| match never {});
            (body, Gather::Done)
        }
        Command::Copy { uids, to } => {
            let body = CommandBody::copy(uid_set(&uids)?, to.to_imap()?.into_static(), true)
                .map_err(invalid("COPY arguments"))?;
            (body, Gather::Done)
        }
        Command::Move { uids, to } => {
            let body = CommandBody::Move {
                sequence_set: uid_set(&uids)?,
                mailbox: to.to_imap()?.into_static(),
                uid: true,
            };
            (body, Gather::Done)
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
            let items = [
                StatusDataItemName::Messages,
                StatusDataItemName::Unseen,
                StatusDataItemName::UidNext,
                StatusDataItemName::UidValidity,
            ];
            let body = CommandBody::status(mailbox.to_imap()?.into_static(), items.to_vec())
                .map_err(invalid("mailbox name"))?;
            (body, Gather::Status(MailboxStatus::default()))
        }
        Command::Search { query } => (search_body(&query)?, Gather::Search(Vec::new())),
        Command::Append {
            mailbox,
            flags,
            message,
        } => {
            // NUL is never sent (row V0014); the literal is synchronizing unless LITERAL+.
            let body = CommandBody::append(
                mailbox.to_imap()?.into_static(),
                imap_flags(&flags)?,
                None,
                message,
            )
            .map_err(invalid("message (NUL bytes or mailbox name)"))?;
            (body, Gather::Append)
        }
        Command::Idle => (CommandBody::Idle, Gather::Idle(IdlePhase::Requested)),
    };
    Ok(Job::Ready { body, gather })
}

fn invalid<E>(what: &'static str) -> impl FnOnce(E) -> SubmitError {
    move |_| SubmitError::InvalidArgument { what }
}

fn uid_set(uids: &UidSet) -> Result<SequenceSet, SubmitError> {
    SequenceSet::try_from(uids.to_string().as_str()).map_err(invalid("UID set"))
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
    let text = |value: &Option<String>| -> Result<Option<AString<'static>>, SubmitError> {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| AString::try_from(v.to_owned()).map_err(invalid("search text")))
            .transpose()
    };
    let mut keys = Vec::new();
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
    let non_ascii = [&query.text, &query.from, &query.to, &query.subject]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.is_ascii()));
    let charset = non_ascii
        .then(|| Charset::try_from("UTF-8").map_err(invalid("charset")))
        .transpose()?;
    let criteria = Vec1::try_from(keys).unwrap_or_else(|_| Vec1::from(SearchKey::All));
    Ok(CommandBody::search(charset, criteria, true))
}
