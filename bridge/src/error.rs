//! Error types. Every error that reaches a browser carries an [`ErrorCode`]
//! whose string form is part of the `imap-relay.v1` protocol and never changes.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Serialize;

/// Boxed error used for WebSocket transport failures.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Stable error codes sent to the browser in `{"type":"error","code":...}`.
///
/// The string forms (see [`ErrorCode::as_str`]) are part of the protocol
/// described in `docs/bridge-protocol.md`; add codes, never rename them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed or unexpected control message, or a text frame during relay.
    BadRequest,
    /// The `server` id in `connect` is not configured.
    UnknownServer,
    /// Name resolution or the TCP connection to the IMAP server failed.
    ConnectFailed,
    /// The TCP connection or the TLS handshake did not finish in time.
    ConnectTimeout,
    /// The TLS handshake failed (certificate, name, protocol).
    TlsFailed,
    /// A WebSocket frame or message from the browser exceeded the limit.
    FrameTooLarge,
    /// No data in either direction for the idle timeout.
    IdleTimeout,
    /// The bridge is shutting down.
    ShuttingDown,
    /// Reading from or writing to the IMAP server failed during relay.
    UpstreamError,
    /// The configured server resolved to an address in a denied range
    /// (loopback, private, link-local, ...) and is not marked `internal`.
    AddressDenied,
    /// The bridge's global or per-client session limit is reached.
    LimitReached,
}

impl ErrorCode {
    /// Every code, for per-code metrics.
    pub const ALL: [Self; 11] = [
        Self::BadRequest,
        Self::UnknownServer,
        Self::ConnectFailed,
        Self::ConnectTimeout,
        Self::TlsFailed,
        Self::FrameTooLarge,
        Self::IdleTimeout,
        Self::ShuttingDown,
        Self::UpstreamError,
        Self::AddressDenied,
        Self::LimitReached,
    ];

    /// The stable wire name of the code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::UnknownServer => "unknown_server",
            Self::ConnectFailed => "connect_failed",
            Self::ConnectTimeout => "connect_timeout",
            Self::TlsFailed => "tls_failed",
            Self::FrameTooLarge => "frame_too_large",
            Self::IdleTimeout => "idle_timeout",
            Self::ShuttingDown => "shutting_down",
            Self::UpstreamError => "upstream_error",
            Self::AddressDenied => "address_denied",
            Self::LimitReached => "limit_reached",
        }
    }

    /// The WebSocket close code sent after the error message.
    pub const fn close_code(self) -> u16 {
        match self {
            // 1008: policy violation (the peer broke the relay protocol, or
            // asked for something the bridge's policy forbids).
            Self::BadRequest | Self::UnknownServer | Self::AddressDenied => 1008,
            // 1009: message too big.
            Self::FrameTooLarge => 1009,
            // 1011: the bridge could not fulfil the request (upstream trouble).
            Self::ConnectFailed | Self::ConnectTimeout | Self::TlsFailed | Self::UpstreamError => {
                1011
            }
            // 1001: going away.
            Self::IdleTimeout | Self::ShuttingDown => 1001,
            // 1013: try again later.
            Self::LimitReached => 1013,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Top-level error of [`crate::run`], [`crate::Bridge::bind`] and [`crate::Bridge::serve`].
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address that was requested.
        addr: SocketAddr,
        /// OS error.
        #[source]
        source: io::Error,
    },
    /// The HTTP server stopped with an I/O error.
    #[error("HTTP server failed: {0}")]
    Serve(#[source] io::Error),
}

/// Configuration errors. Each message names the offending field.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// Path of the file.
        path: PathBuf,
        /// OS error.
        #[source]
        source: io::Error,
    },
    /// The config file is not valid TOML or does not match the schema
    /// (unknown field, wrong type, unknown `security` value, ...). toml's
    /// message quotes the offending line, so it names the field.
    #[error("config file {path}: {source}")]
    Parse {
        /// Path of the file (or `<string>`).
        path: String,
        /// Parser error.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A value failed validation.
    #[error("{field}: {message}")]
    Invalid {
        /// Dotted path of the field, e.g. `servers[0].port`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Failure to open a connection to the configured IMAP server.
///
/// Messages never include the configured host or port: they go to the browser.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// DNS resolution failed or returned no address.
    #[error("could not resolve the server's address: {0}")]
    Resolve(#[source] io::Error),
    /// Every resolved address refused or failed.
    #[error("could not connect to the server: {0}")]
    Connect(#[source] io::Error),
    /// The TCP connect did not finish in time.
    #[error("connecting to the server timed out after {0} s")]
    ConnectTimeout(u64),
    /// The TLS handshake did not finish in time.
    #[error("TLS handshake with the server timed out after {0} s")]
    TlsTimeout(u64),
    /// The TLS handshake failed; the string is rustls's (or the I/O) reason.
    #[error("TLS handshake with the server failed: {0}")]
    Tls(String),
    /// A resolved address is in a denied range (the address itself is only
    /// logged, never sent to the browser).
    #[error("the server's address is not allowed by this bridge's network policy")]
    AddressDenied,
}

impl UpstreamError {
    /// The protocol error code for this failure.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Resolve(_) | Self::Connect(_) => ErrorCode::ConnectFailed,
            Self::ConnectTimeout(_) | Self::TlsTimeout(_) => ErrorCode::ConnectTimeout,
            Self::Tls(_) => ErrorCode::TlsFailed,
            Self::AddressDenied => ErrorCode::AddressDenied,
        }
    }
}

/// Why a relay pump stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The browser sent a frame or message above the configured limit.
    #[error("WebSocket message of {size} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// Announced size.
        size: usize,
        /// Configured limit.
        max: usize,
    },
    /// The browser broke the WebSocket protocol (a reserved opcode, a text
    /// frame that is not UTF-8, ...). The text is tungstenite's description,
    /// which never quotes the payload.
    #[error("WebSocket protocol violation: {0}")]
    Protocol(String),
    /// The WebSocket failed (browser gone, send failure).
    #[error("WebSocket error: {0}")]
    WebSocket(#[source] BoxError),
    /// Reading from the IMAP server failed.
    #[error("reading from the server failed: {0}")]
    UpstreamRead(#[source] io::Error),
    /// Writing to the IMAP server failed.
    #[error("writing to the server failed: {0}")]
    UpstreamWrite(#[source] io::Error),
}

impl RelayError {
    /// The protocol error code to report to the browser, or `None` when the
    /// browser side itself failed and cannot be told anything.
    pub const fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::FrameTooLarge { .. } => Some(ErrorCode::FrameTooLarge),
            Self::Protocol(_) => Some(ErrorCode::BadRequest),
            Self::UpstreamRead(_) | Self::UpstreamWrite(_) => Some(ErrorCode::UpstreamError),
            Self::WebSocket(_) => None,
        }
    }

    /// Turns an error reading the browser's WebSocket into a [`RelayError`],
    /// recognising tungstenite's size-limit and protocol errors anywhere in
    /// the `source()` chain (axum wraps tungstenite's errors).
    pub fn from_ws_read<E>(err: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(e) = cur {
            match e.downcast_ref::<tungstenite::Error>() {
                Some(tungstenite::Error::Capacity(
                    tungstenite::error::CapacityError::MessageTooLong { size, max_size },
                )) => {
                    return Self::FrameTooLarge {
                        size: *size,
                        max: *max_size,
                    };
                }
                // A browser that vanished without a Close is gone, not wrong.
                Some(tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                )) => {}
                Some(tungstenite::Error::Protocol(p)) => return Self::Protocol(p.to_string()),
                Some(tungstenite::Error::Utf8(why)) => {
                    return Self::Protocol(format!("text frame is not UTF-8: {why}"));
                }
                _ => {}
            }
            cur = e.source();
        }
        Self::WebSocket(Box::new(err))
    }

    /// Turns an error writing to the browser's WebSocket into a
    /// [`RelayError`]: whatever it is (including tungstenite's refusal to
    /// send after the browser's Close), the browser cannot be told.
    pub fn from_ws_write<E>(err: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Self::WebSocket(Box::new(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let all = [
            (ErrorCode::BadRequest, "bad_request"),
            (ErrorCode::UnknownServer, "unknown_server"),
            (ErrorCode::ConnectFailed, "connect_failed"),
            (ErrorCode::ConnectTimeout, "connect_timeout"),
            (ErrorCode::TlsFailed, "tls_failed"),
            (ErrorCode::FrameTooLarge, "frame_too_large"),
            (ErrorCode::IdleTimeout, "idle_timeout"),
            (ErrorCode::ShuttingDown, "shutting_down"),
            (ErrorCode::UpstreamError, "upstream_error"),
            (ErrorCode::AddressDenied, "address_denied"),
            (ErrorCode::LimitReached, "limit_reached"),
        ];
        assert_eq!(all.map(|(c, _)| c), ErrorCode::ALL);
        for (code, s) in all {
            assert_eq!(code.as_str(), s);
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{s}\""));
        }
    }

    #[test]
    fn capacity_error_is_recognised_through_wrappers() {
        let inner =
            tungstenite::Error::Capacity(tungstenite::error::CapacityError::MessageTooLong {
                size: 10,
                max_size: 5,
            });
        let wrapped = axum::Error::new(inner);
        match RelayError::from_ws_read(wrapped) {
            RelayError::FrameTooLarge { size: 10, max: 5 } => {}
            other => panic!("unexpected {other:?}"),
        }
        let protocol = tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::UnknownDataFrameType(3),
        );
        let read = RelayError::from_ws_read(axum::Error::new(protocol));
        assert_eq!(read.code(), Some(ErrorCode::BadRequest), "{read:?}");
        let protocol =
            tungstenite::Error::Protocol(tungstenite::error::ProtocolError::SendAfterClosing);
        let write = RelayError::from_ws_write(axum::Error::new(protocol));
        assert_eq!(write.code(), None, "{write:?}");
        let reset = tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        );
        let gone = RelayError::from_ws_read(axum::Error::new(reset));
        assert_eq!(gone.code(), None, "{gone:?}");
        let other = RelayError::from_ws_read(io::Error::other("x"));
        assert!(matches!(other, RelayError::WebSocket(_)));
    }
}
