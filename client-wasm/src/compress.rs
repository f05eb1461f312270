//! COMPRESS=DEFLATE (RFC 4978): once the server accepts `COMPRESS DEFLATE`, everything both
//! ways is one raw DEFLATE stream (RFC 1951) per direction. Mail headers and FETCH syntax
//! shrink several times over, which is most of a header sync's bytes on a slow link.
//!
//! Sans-IO like the rest: bytes in, bytes out. The inflated side is handed out in bounded
//! pieces so that a small compressed input cannot make a large allocation; the framing
//! limits then apply to the inflated bytes exactly as to uncompressed ones.
//!
//! What the client sends goes as DEFLATE *stored* blocks: valid DEFLATE that any inflater
//! reads, but not smaller. Commands are a few dozen bytes and uploads (draft APPENDs) rare,
//! while a compressor would add 9 KB gzipped to the browser's engine (measured: 323 KB with
//! flate2's compressor and inflater, 314 KB with miniz_oxide's inflater alone, 306 KB
//! without COMPRESS); the server-to-client direction, where the bytes are, is
//! inflated by miniz_oxide.

use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use crate::error::SessionError;

/// Largest piece of inflated bytes handed out at once.
const INFLATE_PIECE: usize = 64 * 1024;

/// Largest stored block's content (its length field has 16 bits).
const STORED_MAX: usize = u16::MAX as usize;

/// Both directions of a compressed session.
pub(crate) struct Deflate {
    incoming: Box<InflateState>,
    /// Reused for every inflated piece.
    piece: Vec<u8>,
    /// The server finished its stream (servers do at LOGOUT).
    ended: bool,
}

impl Deflate {
    pub(crate) fn new() -> Self {
        Self {
            incoming: InflateState::new_boxed(DataFormat::Raw),
            piece: vec![0; INFLATE_PIECE],
            ended: false,
        }
    }

    /// One transmission as non-final stored blocks; each ends on a byte boundary, so the
    /// server reads the command at once, as after a sync flush.
    pub(crate) fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 5 * (data.len() / STORED_MAX + 1));
        for block in data.chunks(STORED_MAX) {
            // BFINAL 0, BTYPE 00, then padding to the byte boundary: one zero byte.
            let length = u16::try_from(block.len()).unwrap_or(u16::MAX);
            out.push(0);
            out.extend_from_slice(&length.to_le_bytes());
            out.extend_from_slice(&(!length).to_le_bytes());
            out.extend_from_slice(block);
        }
        out
    }

    /// Inflates from the front of `input`, consuming what it used; returns the next piece of
    /// plain bytes, empty once `input` is used up (or holds only part of a block).
    pub(crate) fn inflate_piece(&mut self, input: &mut &[u8]) -> Result<&[u8], SessionError> {
        if self.ended {
            return self.nothing_after_end(input).map(|()| &[][..]);
        }
        let result = miniz_oxide::inflate::stream::inflate(
            &mut self.incoming,
            input,
            &mut self.piece,
            MZFlush::None,
        );
        let status = match result.status {
            Ok(status) => status,
            // No progress without input is only "nothing more for now".
            Err(MZError::Buf) if input.is_empty() => return Ok(&[]),
            Err(error) => return Err(inflate_error(error)),
        };
        // Dovecot ends its stream after LOGOUT's OK; nothing may follow.
        self.ended = status == MZStatus::StreamEnd;
        let (used, made) = (result.bytes_consumed, result.bytes_written);
        if used == 0 && made == 0 && !input.is_empty() {
            // Bytes that neither inflate nor wait for more would be lost: out of sync.
            return Err(inflate_error(MZError::Buf));
        }
        *input = input.get(used..).unwrap_or_default();
        if made == 0 {
            // An end that brings no bytes: what follows it in this input is refused now, as
            // it would be on the next call, which an empty piece tells the caller not to make.
            self.nothing_after_end(input)?;
        }
        Ok(self.piece.get(..made).unwrap_or_default())
    }

    /// Once the server's stream ended, any byte after it is out of protocol.
    fn nothing_after_end(&self, input: &[u8]) -> Result<(), SessionError> {
        match self.ended && !input.is_empty() {
            true => Err(SessionError::Decompression {
                reason: "bytes after the end of the compressed stream".to_owned(),
            }),
            false => Ok(()),
        }
    }
}

fn inflate_error(error: MZError) -> SessionError {
    let reason = match error {
        MZError::Data => "corrupt DEFLATE data",
        MZError::Buf => "the compressed stream made no progress",
        _ => "the inflater failed",
    };
    SessionError::Decompression {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate_all(stream: &mut Deflate, mut input: &[u8]) -> Result<Vec<u8>, SessionError> {
        let mut plain = Vec::new();
        loop {
            let piece = stream.inflate_piece(&mut input)?;
            if piece.is_empty() {
                return Ok(plain);
            }
            plain.extend_from_slice(piece);
        }
    }

    #[test]
    fn each_transmission_is_readable_on_its_own_large_ones_too() {
        let mut client = Deflate::new();
        let mut server = flate2::Decompress::new(false);
        let large: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for data in [&b"0002 SELECT INBOX\r\n"[..], b"0003 NOOP\r\n", &large, b""] {
            let wire = client.compress(data);
            let mut plain = Vec::with_capacity(data.len() + 1);
            server
                .decompress_vec(&wire, &mut plain, flate2::FlushDecompress::Sync)
                .unwrap();
            assert_eq!(plain, data);
        }
    }

    #[test]
    fn a_small_input_inflates_in_bounded_pieces() {
        let plain = vec![b'a'; 1 << 20];
        let wire = miniz_oxide::deflate::compress_to_vec(&plain, 6);
        assert!(wire.len() < 8 * 1024, "compressed to {} bytes", wire.len());
        let mut reader = Deflate::new();
        let mut input = &wire[..];
        let mut total = 0;
        loop {
            let piece = reader.inflate_piece(&mut input).unwrap();
            assert!(piece.len() <= INFLATE_PIECE);
            if piece.is_empty() {
                break;
            }
            total += piece.len();
        }
        assert_eq!(total, plain.len());
    }

    #[test]
    fn corrupt_input_is_an_error_not_a_panic() {
        let mut reader = Deflate::new();
        let mut input = &[0xff_u8; 32][..];
        let error = inflate_all(&mut reader, input).unwrap_err();
        assert_eq!(error.code(), "protocol_error");
        input = &[][..];
        assert!(reader.inflate_piece(&mut input).is_err(), "stays failed");
    }

    #[test]
    fn bytes_after_the_streams_end_are_refused_in_the_same_input_too() {
        // A final empty stored block ends the stream with no byte of output.
        const END: [u8; 5] = [0x01, 0x00, 0x00, 0xff, 0xff];
        let mut input = &[&END[..], b"* BYE"].concat()[..];
        let error = inflate_all(&mut Deflate::new(), input).unwrap_err();
        assert_eq!(error.code(), "protocol_error");
        let mut reader = Deflate::new();
        input = &END[..];
        assert_eq!(inflate_all(&mut reader, input).unwrap(), b"");
        input = &b"* BYE"[..];
        assert!(
            reader.inflate_piece(&mut input).is_err(),
            "and in the next one"
        );
    }
}
