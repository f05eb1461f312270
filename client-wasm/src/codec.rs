//! Bytes to responses and commands to bytes, through imap-codec.
//!
//! Framing (lines and literals) comes first and is independent of parsing, so a response the
//! parser rejects is skipped whole and the stream stays in sync.

use imap_codec::fragmentizer::{DecodeMessageError, Fragmentizer};
use imap_codec::{
    CommandCodec, GreetingCodec, ResponseCodec,
    encode::{Encoder, Fragment},
};
use imap_types::command::Command as WireCommand;
use imap_types::core::LiteralMode;
use imap_types::response::{Greeting, Response};
use std::collections::VecDeque;

/// What one complete message from the server decoded to.
pub(crate) enum Frame<'a> {
    Greeting(Greeting<'a>),
    Response(Response<'a>),
    /// Framed but not understood, or larger than the limit: skipped.
    Skipped {
        reason: &'static str,
        length: usize,
    },
}

/// Splits the server's byte stream into complete messages and decodes each.
pub(crate) struct ResponseReader {
    fragmentizer: Fragmentizer,
    max_message_size: u32,
    greeted: bool,
}

impl ResponseReader {
    /// `max_message_size` bounds one response including its literals.
    pub(crate) fn new(max_message_size: u32) -> Self {
        Self {
            fragmentizer: Fragmentizer::new(max_message_size),
            max_message_size,
            greeted: false,
        }
    }

    /// Drops every byte received but not yet framed (after STARTTLS's OK).
    pub(crate) fn discard_buffered(&mut self) {
        self.fragmentizer = Fragmentizer::new(self.max_message_size);
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.fragmentizer.enqueue_bytes(bytes);
    }

    /// The next complete message, or `None` until more bytes arrive.
    pub(crate) fn next_frame(&mut self) -> Option<Frame<'_>> {
        loop {
            self.fragmentizer.progress()?;
            if self.fragmentizer.is_message_complete() {
                break;
            }
        }
        let length = self.fragmentizer.message_bytes().len();
        if !self.greeted {
            self.greeted = true;
            return Some(
                match self.fragmentizer.decode_message(&GreetingCodec::default()) {
                    Ok(greeting) => Frame::Greeting(greeting),
                    Err(error) => Frame::Skipped {
                        reason: skip_reason(&error),
                        length,
                    },
                },
            );
        }
        Some(
            match self.fragmentizer.decode_message(&ResponseCodec::default()) {
                Ok(response) => Frame::Response(response),
                Err(error) => Frame::Skipped {
                    reason: skip_reason(&error),
                    length,
                },
            },
        )
    }
}

fn skip_reason<C: imap_codec::decode::Decoder>(error: &DecodeMessageError<'_, C>) -> &'static str {
    match error {
        DecodeMessageError::MessageTooLong { .. } => "response larger than the size limit",
        DecodeMessageError::MessagePoisoned { .. } => "response poisoned",
        DecodeMessageError::DecodingFailure(_) => "response not understood",
        DecodeMessageError::DecodingRemainder { .. } => "trailing bytes after a response",
    }
}

/// A command ready to send: pieces separated where the server must first say `+`.
#[derive(Debug, Clone, Default)]
pub(crate) struct OutgoingCommand {
    pieces: VecDeque<Vec<u8>>,
}

impl OutgoingCommand {
    /// Encodes with imap-codec's strict encoder, which picks atom, quoted or literal by
    /// content, so nothing caller-supplied can end the command line early.
    pub(crate) fn encode(command: &WireCommand<'_>) -> Self {
        Self::from_fragments(CommandCodec::default().encode(command))
    }

    /// A raw line the engine built itself (a SASL response).
    pub(crate) fn line(mut bytes: Vec<u8>) -> Self {
        bytes.extend_from_slice(b"\r\n");
        Self {
            pieces: VecDeque::from([bytes]),
        }
    }

    fn from_fragments(fragments: impl Iterator<Item = Fragment>) -> Self {
        let mut pieces = VecDeque::new();
        let mut current = Vec::new();
        for fragment in fragments {
            match fragment {
                Fragment::Line { data } => current.extend_from_slice(&data),
                Fragment::Literal { data, mode } => {
                    if mode == LiteralMode::Sync {
                        pieces.push_back(std::mem::take(&mut current));
                    }
                    current.extend_from_slice(&data);
                }
            }
        }
        pieces.push_back(current);
        Self { pieces }
    }

    /// Bytes to send now; afterwards `waits_for_continuation` tells whether more remain.
    pub(crate) fn next_piece(&mut self) -> Option<Vec<u8>> {
        self.pieces.pop_front()
    }

    pub(crate) fn waits_for_continuation(&self) -> bool {
        !self.pieces.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_types::command::CommandBody;

    fn pieces(command: &WireCommand<'_>) -> Vec<Vec<u8>> {
        let mut out = OutgoingCommand::encode(command);
        std::iter::from_fn(|| out.next_piece()).collect()
    }

    #[test]
    fn v0017_password_with_specials_is_quoted_and_crlf_forces_a_literal() {
        let login =
            WireCommand::new("a001", CommandBody::login("bob", "pa ss\"2").unwrap()).unwrap();
        assert_eq!(
            pieces(&login),
            vec![b"a001 LOGIN bob \"pa ss\\\"2\"\r\n".to_vec()]
        );

        let hostile = WireCommand::new(
            "a002",
            CommandBody::login("bob", "x\r\na003 DELETE INBOX").unwrap(),
        )
        .unwrap();
        let sent = pieces(&hostile);
        assert_eq!(sent.len(), 2, "the literal must wait for '+'");
        assert_eq!(sent[0], b"a002 LOGIN bob {20}\r\n".to_vec());
        assert_eq!(sent[1], b"x\r\na003 DELETE INBOX\r\n".to_vec());
    }

    #[test]
    fn framing_skips_an_unparseable_response_and_keeps_sync() {
        let mut reader = ResponseReader::new(1 << 20);
        reader.push(b"* OK hi\r\n* 1 FETCH (BOGUS {3}\r\nx\r\n)\r\n* 2 EXISTS\r\n");
        assert!(matches!(reader.next_frame(), Some(Frame::Greeting(_))));
        assert!(matches!(reader.next_frame(), Some(Frame::Skipped { .. })));
        assert!(matches!(reader.next_frame(), Some(Frame::Response(_))));
        assert!(reader.next_frame().is_none());
    }
}
