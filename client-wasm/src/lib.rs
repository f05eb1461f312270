//! A sans-IO IMAP4rev1 client engine.
//!
//! Server bytes go in through [`Session::handle_input`], bytes to send come out of
//! [`Session::poll_transmit`], typed [`Event`]s out of [`Session::poll_event`], and time is
//! passed in ([`Instant`]). Nothing here touches a socket or a clock, so the same code runs
//! natively under `cargo test` and in the browser, where the `wasm` module drives it over a
//! WebSocket to the bridge.

pub mod auth;
pub mod capability;
pub mod clock;
mod codec;
pub mod command;
pub mod error;
pub mod event;
mod lenient;
pub mod listmodel;
pub mod mailbox;
pub mod message;
pub mod session;
mod summary_header;
pub mod tag;
mod utf7;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::ImapClient;

pub use auth::{AuthMethod, Credentials};
pub use capability::Capabilities;
pub use clock::Instant;
pub use codec::{Decoded, ResponseStream, StreamMessage};
pub use command::{Command, CommandId, SearchQuery, StoreAction};
pub use error::{CommandError, Refusal, SessionError, SubmitError};
pub use event::Event;
pub use listmodel::MessageList;
pub use mailbox::{ListedMailbox, MailboxName, MailboxStatus, SelectedMailbox, SpecialUse};
pub use message::{Attachment, Flag, FullMessage, MessageSummary, Sender, Uid, UidRange, UidSet};
pub use session::{Config, Session, State, TransportSecurity};
pub use summary_header::ThreadKeys;
