//! The browser driver: a thin `#[wasm_bindgen]` shell that runs a [`Session`] over a
//! WebSocket to the bridge, with JavaScript timers and Promises.
//!
//! Every JS callback holds only a weak reference to the driver and is unregistered when the
//! client is freed, so nothing leaks and nothing fires into a dropped session.

use crate::auth::{AuthMethod, Credentials};
use crate::clock::Instant;
use crate::command::{Command, CommandId, FolderQuery, StoreAction};
use crate::compose::compose;
use crate::error::{ArgumentError, SessionError};
use crate::event::Event;
use crate::gmail::{Label, LabelAction};
use crate::js_args::{self, BridgeFrame};
use crate::listmodel::MessageList;
use crate::mailbox::MailboxName;
use crate::message::{Flag, Uid, UidRange, UidSet};
use crate::part::decode_content;
use crate::session::{Config, MIN_SCRAM_RANDOM, Session, TransportSecurity};
use futures_channel::oneshot;
use js_sys::{Function, Reflect, Uint8Array};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// JavaScript numbers are exact up to here.
pub(crate) const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// The WebSocket subprotocol of the bridge protocol (docs/bridge-protocol.md).
const SUBPROTOCOL: &str = "imap-relay.v1";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, millis: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(bytes: &mut [u8]);
}

fn now() -> Instant {
    Instant::from_millis(performance_now() as u64)
}

/// A JS `Error` with a stable `code` property the page maps to words.
fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

fn rejected(code: &str, message: &str) -> js_sys::Promise {
    js_sys::Promise::reject(&js_error(code, message))
}

fn invalid_argument(error: &ArgumentError) -> js_sys::Promise {
    rejected("invalid_argument", &error.to_string())
}

/// `value` as a JavaScript value; an `internal` error when it has none (a 64-bit number above
/// 2^53, such as a server's HIGHESTMODSEQ of 63 bits, is no exact JavaScript number), so a
/// promise rejects rather than resolving with the error object.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let serializer = serde_wasm_bindgen::Serializer::new()
        .serialize_missing_as_null(true)
        .serialize_maps_as_objects(true);
    value
        .serialize(&serializer)
        .map_err(|e| js_error("internal", &e.to_string()))
}

/// `{key: value}`, for the replies that wrap one value; a plain object built directly, so
/// the wasm build needs no JSON library (serde_json added ~7 KB gzip).
fn js_object<T: Serialize>(key: &str, value: &T) -> Result<JsValue, JsValue> {
    let object = js_sys::Object::new();
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(&object, &key.into(), &to_js(value)?);
    Ok(object.into())
}

/// Control messages to the bridge (text frames).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ToBridge<'a> {
    Connect { server: &'a str },
}

/// The listener's notice that the client ended, with the reason when it failed.
#[derive(Serialize)]
#[serde(tag = "type", rename = "closed")]
struct ClosedNotice<'a> {
    code: Option<&'a str>,
    message: Option<&'a str>,
}

/// Control messages from the bridge (text frames).
enum BridgeMessage {
    Connected { security: String },
    TlsEstablished,
    Error { code: String, message: String },
}

impl TryFrom<BridgeFrame> for BridgeMessage {
    type Error = &'static str;

    fn try_from(frame: BridgeFrame) -> Result<Self, &'static str> {
        match (
            frame.kind.as_str(),
            frame.security,
            frame.code,
            frame.message,
        ) {
            ("connected", Some(security), _, _) => Ok(Self::Connected { security }),
            ("tls_established", ..) => Ok(Self::TlsEstablished),
            ("error", _, Some(code), Some(message)) => Ok(Self::Error { code, message }),
            _ => Err("unexpected message from the bridge"),
        }
    }
}

type Reply = oneshot::Sender<Result<JsValue, JsValue>>;

/// A pending JS promise and what it gathers until its command completes.
struct Pending {
    reply: Reply,
    fetched: MessageList,
}

/// A JS timer that is cleared when dropped.
struct Timer {
    handle: JsValue,
    _callback: Closure<dyn FnMut()>,
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}

/// The WebSocket callbacks, kept alive as long as the driver and unregistered with it.
struct Callbacks {
    _open: Closure<dyn FnMut()>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

struct Driver {
    ws: WebSocket,
    server_id: String,
    allow_cleartext_login: bool,
    session: Option<Session>,
    connect_reply: Option<Reply>,
    pending: HashMap<CommandId, Pending>,
    listener: Option<Function>,
    /// Notices for the listener, delivered once the driver is no longer borrowed, so the
    /// listener may call back into the client.
    outbox: Vec<JsValue>,
    timer: Option<Timer>,
    callbacks: Option<Callbacks>,
    opened: bool,
    closed: bool,
}

/// Runs `f` on the driver if it still exists, then delivers its notices.
fn with_driver(weak: &Weak<RefCell<Driver>>, f: impl FnOnce(&mut Driver, &Weak<RefCell<Driver>>)) {
    let Some(driver) = weak.upgrade() else {
        return;
    };
    let (listener, notices) = {
        let mut driver = driver.borrow_mut();
        f(&mut driver, weak);
        (driver.listener.clone(), std::mem::take(&mut driver.outbox))
    };
    if let Some(listener) = listener {
        for notice in notices {
            let _ = listener.call1(&JsValue::NULL, &notice);
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

impl Driver {
    fn on_open(&mut self) {
        self.opened = true;
        let hello = ToBridge::Connect {
            server: &self.server_id,
        };
        let sent = to_js(&hello)
            .and_then(|hello| js_sys::JSON::stringify(&hello))
            .map(String::from)
            .is_ok_and(|text| self.ws.send_with_str(&text).is_ok());
        if !sent {
            self.fail_connect("bridge_unreachable", "could not talk to the bridge");
        }
    }

    fn on_message(&mut self, event: MessageEvent, this: &Weak<RefCell<Driver>>) {
        let data = event.data();
        if let Some(text) = data.as_string() {
            self.on_control(&text);
        } else if let Some(session) = self.session.as_mut() {
            let bytes = Uint8Array::new(&data).to_vec();
            session.handle_input(now(), &bytes);
        }
        self.drive(this);
    }

    fn on_control(&mut self, text: &str) {
        let message = js_sys::JSON::parse(text)
            .ok()
            .and_then(|value| js_args::bridge_frame(&value).ok())
            .and_then(|frame| BridgeMessage::try_from(frame).ok());
        match message {
            Some(BridgeMessage::Connected { security }) if self.session.is_none() => {
                let transport = match security.as_str() {
                    "tls" => TransportSecurity::Encrypted,
                    "starttls" => TransportSecurity::StartTls,
                    _ => TransportSecurity::Cleartext {
                        allow_credentials: self.allow_cleartext_login,
                    },
                };
                let seed = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
                let mut config = Config::new(seed, transport);
                // SCRAM's client nonce: the engine has no randomness of its own.
                config.sasl_random = vec![0; MIN_SCRAM_RANDOM];
                get_random_values(&mut config.sasl_random);
                self.session = Some(Session::new(config, now()));
            }
            Some(BridgeMessage::TlsEstablished) => {
                if let Some(session) = self.session.as_mut() {
                    session.handle_tls_established(now());
                }
            }
            Some(BridgeMessage::Error { code, message }) => self.fail_connect(&code, &message),
            _ => self.fail_connect("bridge_protocol", "unexpected message from the bridge"),
        }
    }

    fn on_close(&mut self, this: &Weak<RefCell<Driver>>) {
        if let Some(session) = self.session.as_mut() {
            session.handle_transport_closed();
            self.drive(this);
        } else if self.opened {
            self.fail_connect("connection_lost", "the bridge closed the connection");
        } else {
            self.fail_connect("bridge_unreachable", "could not reach the bridge");
        }
    }

    /// Rejects `connect()` and ends the client.
    fn fail_connect(&mut self, code: &str, message: &str) {
        if let Some(reply) = self.connect_reply.take() {
            let _ = reply.send(Err(js_error(code, message)));
        }
        self.finish(Some((code, message)));
    }

    fn finish(&mut self, error: Option<(&str, &str)>) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.timer = None;
        let _ = self.ws.close();
        for (_, pending) in self.pending.drain() {
            let _ = pending.reply.send(Err(js_error(
                "connection_lost",
                "the connection ended before the command completed",
            )));
        }
        let notice = ClosedNotice {
            code: error.map(|(code, _)| code),
            message: error.map(|(_, message)| message),
        };
        self.notify(&notice);
    }

    fn notify<T: Serialize>(&mut self, event: &T) {
        // A notice that cannot be written is dropped rather than delivered as an error.
        if let Ok(notice) = to_js(event) {
            self.outbox.push(notice);
        }
    }

    /// Sends what the engine wants sent, settles promises, and re-arms the timer.
    fn drive(&mut self, this: &Weak<RefCell<Driver>>) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let mut out = Vec::new();
        while let Some(bytes) = session.poll_transmit() {
            out.extend_from_slice(&bytes);
        }
        let events: Vec<Event> = std::iter::from_fn(|| session.poll_event()).collect();
        let deadline = session.poll_timeout();
        if !out.is_empty() && self.ws.send_with_u8_array(&out).is_err() {
            self.finish(Some((
                "connection_lost",
                "the connection to the bridge failed",
            )));
            return;
        }
        for event in events {
            self.dispatch(event);
        }
        self.arm_timer(deadline, this);
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::TlsUpgradeRequested => {
                if self.ws.send_with_str(r#"{"type":"starttls"}"#).is_err() {
                    self.finish(Some((
                        "connection_lost",
                        "the connection to the bridge failed",
                    )));
                }
            }
            Event::Greeted { .. } => {
                if let Some(reply) = self.connect_reply.take() {
                    let _ = reply.send(Ok(JsValue::UNDEFINED));
                }
            }
            Event::LoggedIn { id, capabilities } => {
                self.settle(id, js_object("capabilities", &capabilities));
            }
            Event::MailboxesListed { id, mailboxes } => self.settle(id, to_js(&mailboxes)),
            Event::NamespacesReceived { id, namespaces } => {
                self.settle(id, to_js(&namespaces));
            }
            Event::ServerIdentified { id, fields } => self.settle(id, to_js(&fields)),
            Event::MailboxSelected { id, mailbox } => self.settle(id, to_js(&mailbox)),
            Event::FetchReceived {
                id: Some(id),
                message,
            } => {
                if let Some(pending) = self.pending.get_mut(&id) {
                    pending.fetched.push(&message);
                }
            }
            Event::FetchCompleted { id } => {
                let fetched = self
                    .pending
                    .get_mut(&id)
                    .map(|p| std::mem::take(&mut p.fetched));
                self.settle(id, to_js(&fetched.unwrap_or_default()));
            }
            Event::NoopCompleted { id } | Event::CommandCompleted { id } => {
                self.settle(id, Ok(JsValue::UNDEFINED));
            }
            Event::StatusReceived { id, status } => self.settle(id, to_js(&status)),
            Event::MessageFetched { id, message } => self.settle(id, to_js(&message)),
            Event::StructureFetched { id, message } => self.settle(id, to_js(&message)),
            Event::PartFetched { id, part } => self.settle(id, to_js(&part)),
            Event::SearchCompleted { id, uids } | Event::SortCompleted { id, uids } => {
                self.settle(id, to_js(&uids));
            }
            Event::ThreadsReceived { id, threads } => self.settle(id, to_js(&threads)),
            Event::Copied { id, copies } => self.settle(id, to_js(&copies)),
            Event::Appended { id, uid } => {
                self.settle(id, js_object("uid", &uid));
            }
            Event::StoreConflicted { id, uids } => {
                self.settle(id, js_object("conflicted", &uids));
            }
            Event::CommandFailed { id, error } => {
                self.settle(id, Err(js_error(error.code(), &error.to_string())));
            }
            Event::Closed { error } => self.on_session_closed(error),
            other => self.notify(&other),
        }
    }

    fn on_session_closed(&mut self, error: Option<SessionError>) {
        // LOGOUT's promise is the one pending command that a clean close completes.
        let pending: Vec<CommandId> = self.pending.keys().copied().collect();
        if error.is_none() {
            for id in pending {
                self.settle(id, Ok(JsValue::UNDEFINED));
            }
        }
        match error {
            Some(error) => {
                let message = error.to_string();
                if let Some(reply) = self.connect_reply.take() {
                    let _ = reply.send(Err(js_error(error.code(), &message)));
                }
                self.finish(Some((error.code(), &message)));
            }
            None => self.finish(None),
        }
    }

    fn settle(&mut self, id: CommandId, result: Result<JsValue, JsValue>) {
        if let Some(pending) = self.pending.remove(&id) {
            let _ = pending.reply.send(result);
        }
    }

    fn arm_timer(&mut self, deadline: Option<Instant>, this: &Weak<RefCell<Driver>>) {
        self.timer = deadline.map(|deadline| {
            let weak = this.clone();
            let callback = Closure::<dyn FnMut()>::new(move || {
                with_driver(&weak, |driver, this| {
                    if let Some(session) = driver.session.as_mut() {
                        session.handle_timeout(now());
                    }
                    driver.drive(this);
                });
            });
            let delay = deadline.saturating_duration_since(now()).as_millis() as f64;
            let handle = set_timeout(callback.as_ref().unchecked_ref(), delay);
            Timer {
                handle,
                _callback: callback,
            }
        });
    }

    fn submit(
        &mut self,
        command: Command,
        this: &Weak<RefCell<Driver>>,
    ) -> Result<oneshot::Receiver<Result<JsValue, JsValue>>, JsValue> {
        let session = self
            .session
            .as_mut()
            .filter(|_| !self.closed)
            .ok_or_else(|| js_error("closed", "the connection has ended"))?;
        let id = session
            .submit(command, now())
            .map_err(|e| js_error(e.code(), &e.to_string()))?;
        let (reply, receiver) = oneshot::channel();
        self.pending.insert(
            id,
            Pending {
                reply,
                fetched: MessageList::new(),
            },
        );
        self.drive(this);
        Ok(receiver)
    }
}

/// An IMAP connection through the bridge, for JavaScript.
#[wasm_bindgen]
pub struct ImapClient {
    driver: Rc<RefCell<Driver>>,
}

#[wasm_bindgen]
impl ImapClient {
    /// Opens the WebSocket to the bridge at `url`, asks for the configured server
    /// `server_id`, and resolves once the server has greeted. Credentials go over a
    /// cleartext upstream only if `allow_cleartext_login` is true.
    pub async fn connect(
        url: String,
        server_id: String,
        allow_cleartext_login: Option<bool>,
    ) -> Result<ImapClient, JsValue> {
        let ws = WebSocket::new_with_str(&url, SUBPROTOCOL)
            .map_err(|_| js_error("bridge_unreachable", "invalid bridge address"))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let (reply, greeted) = oneshot::channel();
        let driver = Rc::new(RefCell::new(Driver {
            ws: ws.clone(),
            server_id,
            allow_cleartext_login: allow_cleartext_login.unwrap_or(false),
            session: None,
            connect_reply: Some(reply),
            pending: HashMap::new(),
            listener: None,
            outbox: Vec::new(),
            timer: None,
            callbacks: None,
            opened: false,
            closed: false,
        }));
        let callbacks = register_callbacks(&ws, Rc::downgrade(&driver));
        driver.borrow_mut().callbacks = Some(callbacks);
        let client = ImapClient { driver };
        greeted
            .await
            .unwrap_or_else(|_| Err(js_error("connection_lost", "the connection ended")))?;
        Ok(client)
    }

    /// Authenticates with the strongest advertised mechanism (SCRAM, PLAIN, then LOGIN);
    /// resolves to `{capabilities}`.
    pub fn login(&self, user: String, password: String) -> js_sys::Promise {
        self.request(Command::LogIn {
            credentials: Credentials::new(user, password),
            method: AuthMethod::Auto,
        })
    }

    /// Authenticates with an OAuth 2.0 access token (OAUTHBEARER, else XOAUTH2); resolves to
    /// `{capabilities}`.
    #[wasm_bindgen(js_name = loginWithToken)]
    pub fn login_with_token(&self, user: String, token: String) -> js_sys::Promise {
        self.request(Command::LogIn {
            credentials: Credentials::with_token(user, token),
            method: AuthMethod::Auto,
        })
    }

    /// Lists every mailbox; resolves to an array of listed mailboxes.
    #[wasm_bindgen(js_name = listMailboxes)]
    pub fn list_mailboxes(&self) -> js_sys::Promise {
        self.request(Command::List {
            reference: MailboxName::from_wire(""),
            pattern: "*".into(),
        })
    }

    /// Lists folders in the richest form the server offers: all, or the direct children of
    /// `under` (a wire name); subscribed ones only if asked; with counts when the server has
    /// LIST-STATUS. Resolves to an array of listed mailboxes.
    #[wasm_bindgen(js_name = listFolders)]
    pub fn list_folders(
        &self,
        under: Option<String>,
        subscribed_only: Option<bool>,
        with_status: Option<bool>,
    ) -> js_sys::Promise {
        self.request(Command::ListFolders(FolderQuery {
            under: under.map(MailboxName::from_wire),
            subscribed_only: subscribed_only.unwrap_or(false),
            with_status: with_status.unwrap_or(false),
        }))
    }

    /// Resolves to `{personal, other_users, shared}`, each `[{prefix, delimiter}]`.
    pub fn namespaces(&self) -> js_sys::Promise {
        self.request(Command::Namespace)
    }

    /// Creates folder `name` (as typed) under `parent` (a wire name; absent: top level).
    #[wasm_bindgen(js_name = createChild)]
    pub fn create_child(&self, parent: Option<String>, name: String) -> js_sys::Promise {
        self.request(Command::CreateChild {
            parent: parent.map(MailboxName::from_wire),
            name,
        })
    }

    /// Renames the last level of folder `mailbox` (a wire name) to `name` (as typed).
    #[wasm_bindgen(js_name = renameLeaf)]
    pub fn rename_leaf(&self, mailbox: String, name: String) -> js_sys::Promise {
        self.request(Command::RenameLeaf {
            mailbox: MailboxName::from_wire(mailbox),
            name,
        })
    }

    /// Sends ID (needs the server's ID) with this client's name and version; resolves to the
    /// server's `[name, value]` pairs.
    pub fn identify(&self, name: String, version: String) -> js_sys::Promise {
        self.request(Command::Id { name, version })
    }

    /// Selects the mailbox by its wire name (as listed); resolves to its state.
    pub fn select(&self, name: String) -> js_sys::Promise {
        self.request(Command::Select {
            mailbox: MailboxName::from_wire(name),
        })
    }

    /// Selects, or examines when `readOnly`, with what the cache knows (`{uid_validity,
    /// highest_modseq, known_uids}` or null); resolves to its state. Changes since the cache
    /// and `uid_validity_changed` arrive through `onEvent`.
    pub fn open(&self, name: String, read_only: bool, cached: JsValue) -> js_sys::Promise {
        match js_args::cached_mailbox(&cached) {
            Ok(cached) => self.request(Command::Open {
                mailbox: MailboxName::from_wire(name),
                read_only,
                cached,
            }),
            Err(error) => invalid_argument(&error),
        }
    }

    /// Flags of UIDs `first` and up, only those changed since `changedSince` where the server
    /// can tell; each arrives as `flags_changed` through `onEvent`.
    #[wasm_bindgen(js_name = fetchFlags)]
    pub fn fetch_flags(&self, first: u32, changed_since: Option<f64>) -> js_sys::Promise {
        let Some(first) = Uid::new(first.max(1)) else {
            return rejected("invalid_argument", "bad UID");
        };
        self.request(Command::FetchFlags {
            uids: UidRange { first, last: None },
            changed_since: changed_since
                .filter(|v| v.is_finite() && *v >= 1.0 && *v <= MAX_SAFE_INTEGER)
                .map(|v| v as u64),
        })
    }

    /// Leaves the mailbox without expunging anything.
    pub fn unselect(&self) -> js_sys::Promise {
        self.request(Command::Unselect)
    }

    /// Expunges every `\\Deleted` message and leaves the mailbox.
    pub fn close(&self) -> js_sys::Promise {
        self.request(Command::Close)
    }

    /// Fetches list summaries for UIDs `first..=last` (`last` absent: to the end).
    #[wasm_bindgen(js_name = fetchHeaders)]
    pub fn fetch_headers(&self, first: u32, last: Option<u32>) -> js_sys::Promise {
        let Some(first) = Uid::new(first.max(1)) else {
            return rejected("invalid_argument", "bad UID");
        };
        self.request(Command::FetchSummaries {
            uids: UidRange {
                first,
                last: last.and_then(Uid::new),
            },
        })
    }

    /// Adds (`action = "add"`) or removes (`"remove"`) flags such as `\\Seen` or keywords.
    pub fn store(&self, uids: Vec<u32>, action: String, flags: Vec<String>) -> js_sys::Promise {
        let action = match action.as_str() {
            "add" => StoreAction::Add,
            "remove" => StoreAction::Remove,
            _ => return rejected("invalid_argument", "action must be \"add\" or \"remove\""),
        };
        self.with_uids(uids, |uids| Command::Store {
            uids,
            action,
            flags: flags.iter().map(|f| Flag::parse(f)).collect(),
        })
    }

    /// Gmail's message id, thread id and labels of these messages (needs X-GM-EXT-1); each
    /// arrives as `gmail_fetched` through `onEvent`.
    #[wasm_bindgen(js_name = fetchGmail)]
    pub fn fetch_gmail(&self, uids: Vec<u32>) -> js_sys::Promise {
        self.with_uids(uids, |uids| Command::FetchGmail { uids })
    }

    /// Adds (`action = "add"`), removes (`"remove"`) or sets (`"replace"`) Gmail labels:
    /// `\\Important` style for system labels, else a label's wire name. The labels as they
    /// now are arrive as `labels_changed` through `onEvent`.
    #[wasm_bindgen(js_name = storeLabels)]
    pub fn store_labels(
        &self,
        uids: Vec<u32>,
        action: String,
        labels: Vec<String>,
    ) -> js_sys::Promise {
        let action = match action.as_str() {
            "add" => LabelAction::Add,
            "remove" => LabelAction::Remove,
            "replace" => LabelAction::Replace,
            _ => {
                let message = "action must be \"add\", \"remove\" or \"replace\"";
                return rejected("invalid_argument", message);
            }
        };
        self.with_uids(uids, |uids| Command::StoreLabels {
            uids,
            action,
            labels: labels.iter().map(|l| Label::parse(l)).collect(),
        })
    }

    /// Copies messages to another mailbox (by its wire name); resolves to `{uid_validity,
    /// uids: [[first, last], ...]}`, the copies there, or null when the server does not say.
    pub fn copy(&self, uids: Vec<u32>, to: String) -> js_sys::Promise {
        self.with_uids(uids, |uids| Command::Copy {
            uids,
            to: MailboxName::from_wire(to),
        })
    }

    /// Moves messages (needs the server's MOVE); resolves like `copy`, from the COPYUID the
    /// server sent with the MOVE.
    #[wasm_bindgen(js_name = moveMessages)]
    pub fn move_messages(&self, uids: Vec<u32>, to: String) -> js_sys::Promise {
        self.with_uids(uids, |uids| Command::Move {
            uids,
            to: MailboxName::from_wire(to),
        })
    }

    /// Expunges exactly these messages (needs UIDPLUS).
    pub fn expunge(&self, uids: Vec<u32>) -> js_sys::Promise {
        self.with_uids(uids, |uids| Command::Expunge { uids })
    }

    #[wasm_bindgen(js_name = createMailbox)]
    pub fn create_mailbox(&self, name: String) -> js_sys::Promise {
        self.request(Command::Create {
            mailbox: MailboxName::from_wire(name),
        })
    }

    #[wasm_bindgen(js_name = deleteMailbox)]
    pub fn delete_mailbox(&self, name: String) -> js_sys::Promise {
        self.request(Command::Delete {
            mailbox: MailboxName::from_wire(name),
        })
    }

    #[wasm_bindgen(js_name = renameMailbox)]
    pub fn rename_mailbox(&self, from: String, to: String) -> js_sys::Promise {
        self.request(Command::Rename {
            from: MailboxName::from_wire(from),
            to: MailboxName::from_wire(to),
        })
    }

    pub fn subscribe(&self, name: String) -> js_sys::Promise {
        self.request(Command::Subscribe {
            mailbox: MailboxName::from_wire(name),
        })
    }

    pub fn unsubscribe(&self, name: String) -> js_sys::Promise {
        self.request(Command::Unsubscribe {
            mailbox: MailboxName::from_wire(name),
        })
    }

    /// Counts for a mailbox that is not selected; resolves to `{messages, unseen, ...}`.
    pub fn status(&self, name: String) -> js_sys::Promise {
        self.request(Command::Status {
            mailbox: MailboxName::from_wire(name),
        })
    }

    /// UID SEARCH in the selected mailbox; `query` is `{text, from, to, subject, unseen,
    /// flagged, gmail_raw}` (all optional; `gmail_raw` needs X-GM-EXT-1); resolves to the
    /// matching UIDs, ascending.
    pub fn search(&self, query: JsValue) -> js_sys::Promise {
        match js_args::search_query(&query) {
            Ok(query) => self.request(Command::Search { query }),
            Err(error) => invalid_argument(&error),
        }
    }

    /// UID SORT (the engine sorts itself without SORT): `order` is `[{key, reverse}]` with
    /// keys `arrival`, `date`, `from`, `subject`, `size`; `query` as for `search`. Resolves to
    /// the UIDs in order.
    pub fn sort(&self, order: JsValue, query: JsValue) -> js_sys::Promise {
        match (js_args::sort_orders(&order), js_args::search_query(&query)) {
            (Ok(order), Ok(query)) => self.request(Command::Sort { order, query }),
            (Err(error), _) | (_, Err(error)) => invalid_argument(&error),
        }
    }

    /// UID THREAD REFERENCES (the engine threads itself without it); resolves to
    /// `[{uid, children}]`.
    pub fn threads(&self, query: JsValue) -> js_sys::Promise {
        match js_args::search_query(&query) {
            Ok(query) => self.request(Command::Thread { query }),
            Err(error) => invalid_argument(&error),
        }
    }

    /// Stores a complete message (e.g. a draft); resolves to `{uid}` (null without UIDPLUS).
    pub fn append(&self, mailbox: String, flags: Vec<String>, message: Vec<u8>) -> js_sys::Promise {
        self.request(Command::Append {
            mailbox: MailboxName::from_wire(mailbox),
            flags: flags.iter().map(|f| Flag::parse(f)).collect(),
            message,
        })
    }

    /// Starts IDLE: news arrives through `onEvent`; the promise resolves when the IDLE ends
    /// (another call, or the re-IDLE interval).
    pub fn idle(&self) -> js_sys::Promise {
        self.request(Command::Idle)
    }

    /// The whole message for the reader (`{uid, flags, subject, from, to, cc, date, text,
    /// html, attachments}`), or null when it no longer exists. Does not mark it read.
    #[wasm_bindgen(js_name = fetchMessage)]
    pub fn fetch_message(&self, uid: u32) -> js_sys::Promise {
        match Uid::new(uid) {
            Some(uid) => self.request(Command::FetchMessage { uid }),
            None => rejected("invalid_argument", "bad UID"),
        }
    }

    /// The reader's first step: resolves to `{uid, flags, size, envelope, body, attachments,
    /// text_section, html_section, large}` or null when the message no longer exists. `body`
    /// and each attachment are parts `{section, content_type, parameters, id, description,
    /// encoding, size, lines, md5, disposition: {kind, parameters}, language, location,
    /// extensions, filename, envelope, children}`; `envelope` is `{date, subject, from,
    /// sender, reply_to, to, cc, bcc, in_reply_to, message_id}` with each address
    /// `{kind: "mailbox", name, address}` or `{kind: "group", name, members}`. When `large`,
    /// fetch the parts shown and ask the user before `fetchMessage`.
    #[wasm_bindgen(js_name = fetchStructure)]
    pub fn fetch_structure(&self, uid: u32) -> js_sys::Promise {
        match Uid::new(uid) {
            Some(uid) => self.request(Command::FetchStructure { uid }),
            None => rejected("invalid_argument", "bad UID"),
        }
    }

    /// One section, without marking the message read. `section` is `{kind: "whole"}`,
    /// `{kind: "content" | "mime", part: "1.2"}`, `{kind: "header" | "text", part?}` or
    /// `{kind: "header_fields", part?, fields: ["From", ...]}`; `partial` is `{origin, length}`
    /// or undefined. Resolves to `{uid, origin, data: Uint8Array | null}` (still
    /// transfer-encoded: see `decodePart`), or null when the message no longer exists.
    #[wasm_bindgen(js_name = fetchPart)]
    pub fn fetch_part(&self, uid: u32, section: JsValue, partial: JsValue) -> js_sys::Promise {
        let section = js_args::part_section(&section);
        match (Uid::new(uid), section, js_args::partial(&partial)) {
            (Some(uid), Ok(section), Ok(partial)) => self.request(Command::FetchPart {
                uid,
                section,
                partial,
            }),
            (None, _, _) => rejected("invalid_argument", "bad UID"),
            (_, Err(error), _) | (_, _, Err(error)) => invalid_argument(&error),
        }
    }

    /// Asks the server for news (new mail, flag changes).
    pub fn noop(&self) -> js_sys::Promise {
        self.request(Command::Noop)
    }

    /// Logs out, waiting for the server's tagged OK (bounded).
    pub fn logout(&self) -> js_sys::Promise {
        self.request(Command::Logout)
    }

    /// Registers the callback for unsolicited events (`alert`, `mailbox_changed`, `closed`,
    /// ...), replacing any earlier one.
    #[wasm_bindgen(js_name = onEvent)]
    pub fn on_event(&self, listener: Option<Function>) {
        self.driver.borrow_mut().listener = listener;
    }

    fn with_uids(
        &self,
        uids: Vec<u32>,
        command: impl FnOnce(UidSet) -> Command,
    ) -> js_sys::Promise {
        match UidSet::from_uids(uids.into_iter().filter_map(Uid::new)) {
            Some(uids) => self.request(command(uids)),
            None => rejected("invalid_argument", "no messages given"),
        }
    }

    fn request(&self, command: Command) -> js_sys::Promise {
        let weak = Rc::downgrade(&self.driver);
        let receiver = self.driver.borrow_mut().submit(command, &weak);
        future_to_promise(async move {
            receiver?
                .await
                .unwrap_or_else(|_| Err(js_error("closed", "the client was closed")))
        })
    }
}

fn register_callbacks(ws: &WebSocket, driver: Weak<RefCell<Driver>>) -> Callbacks {
    let weak = driver.clone();
    let open = Closure::<dyn FnMut()>::new(move || with_driver(&weak, |d, _| d.on_open()));
    let weak = driver.clone();
    let message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        with_driver(&weak, |d, this| d.on_message(event, this));
    });
    let close = Closure::<dyn FnMut(CloseEvent)>::new(move |_event: CloseEvent| {
        with_driver(&driver, |d, this| d.on_close(this));
    });
    ws.set_onopen(Some(open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(close.as_ref().unchecked_ref()));
    Callbacks {
        _open: open,
        _message: message,
        _close: close,
    }
}

/// A draft as an RFC 5322 message for `append` (7-bit, attachments base64). `draft` is
/// `{from?: {name?, address}, to?: [{name?, address}], cc?, bcc?, subject?, text?, html?,
/// attachments?: [{filename, content_type, data: Uint8Array}], in_reply_to?, references?:
/// [ids], date: seconds since the epoch, message_id: "unique@domain", boundary: 16-60
/// random characters [A-Za-z0-9._-]}`; the page supplies the clock and the randomness.
/// Throws an Error with `code` (`invalid_address`, `invalid_message_id`, `invalid_boundary`,
/// `invalid_content_type`, `invalid_argument`).
#[wasm_bindgen(js_name = composeMessage)]
pub fn compose_message(draft: JsValue) -> Result<Uint8Array, JsValue> {
    let draft =
        js_args::draft(&draft).map_err(|error| js_error("invalid_argument", &error.to_string()))?;
    let message = compose(&draft).map_err(|error| js_error(error.code(), &error.to_string()))?;
    Ok(Uint8Array::from(message.as_slice()))
}

/// A fetched part's octets decoded for display: `{bytes: Uint8Array, text: string | null}`,
/// with the part's `content_type`, `encoding` and `charset` parameter from `fetchStructure`.
#[wasm_bindgen(js_name = decodePart)]
pub fn decode_fetched_part(
    content_type: String,
    encoding: Option<String>,
    charset: Option<String>,
    data: Vec<u8>,
) -> Result<JsValue, JsValue> {
    to_js(&decode_content(
        &content_type,
        encoding.as_deref(),
        charset.as_deref(),
        &data,
    ))
}
