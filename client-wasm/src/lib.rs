//! A sans-IO IMAP4rev1 client engine.
//!
//! Server bytes go in through [`Session::handle_input`], bytes to send come out of
//! [`Session::poll_transmit`], typed [`Event`]s out of [`Session::poll_event`], and time is
//! passed in ([`Instant`]). Nothing here touches a socket or a clock, so the same code runs
//! natively under `cargo test` and in the browser, where the `wasm` module drives it over a
//! WebSocket to the bridge.

pub mod auth;
pub mod cache;
pub mod capability;
pub mod clock;
mod codec;
pub mod command;
pub mod compose;
mod compress;
pub mod envelope;
pub mod error;
pub mod esearch;
pub mod event;
pub mod gmail;
mod lenient;
mod lenient_fetch;
pub mod listmodel;
pub mod mailbox;
pub mod message;
pub mod namespace;
pub mod part;
mod pipeline;
mod sasl;
mod scram;
pub mod session;
pub mod sort;
pub mod structure;
pub mod sync;
pub mod tag;
pub mod thread;
mod utf7;

#[cfg(target_arch = "wasm32")]
mod js_args;
#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::{ImapClient, compose_message, decode_fetched_part};

pub use auth::{AuthMethod, Credentials};
pub use cache::{CacheWriter, Epoch, MailStore};
pub use capability::Capabilities;
pub use client_wasm_receive::summary_header::{ThreadKeys, id_hash};
pub use clock::Instant;
pub use codec::{Decoded, ResponseStream, StreamMessage};
pub use command::{Command, CommandId, FolderQuery, SearchDate, SearchQuery, StoreAction};
pub use compose::{ComposeError, Draft, DraftAddress, DraftAttachment, compose};
pub use envelope::{Envelope, Recipient};
pub use error::{ArgumentError, CommandError, LoginRefusal, Refusal, SessionError, SubmitError};
pub use esearch::Esearch;
pub use event::Event;
pub use gmail::{GmailId, Label, LabelAction};
pub use listmodel::MessageList;
pub use mailbox::{ListedMailbox, MailboxName, MailboxStatus, SelectedMailbox, SpecialUse};
pub use message::{
    Attachment, Copies, Flag, FullMessage, MessageSummary, Sender, Uid, UidRange, UidSet,
};
pub use namespace::{Namespace, Namespaces};
pub use part::{
    DecodedContent, FetchedPart, PartContent, PartPath, PartSection, Partial, decode_content,
    decode_part,
};
pub use session::{Config, MIN_SCRAM_RANDOM, Session, State, TransportSecurity};
pub use sort::{SortKey, SortOrder, sort_summaries};
pub use structure::{Disposition, Extension, MessageStructure, Part};
pub use sync::CachedMailbox;
pub use thread::{ThreadNode, thread_by_references};
