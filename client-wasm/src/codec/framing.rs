//! Splits the server's bytes into complete messages (lines and the literals they announce)
//! in one contiguous buffer, so a message is handed to the parser as a borrowed slice.
//!
//! The rules are imap-codec's `Fragmentizer`'s: a line ends at LF (CRLF or bare LF), and a
//! line ending in `{N}` or `{N+}` (so also `~{N}`) is followed by N literal bytes that belong
//! to the same message. Lines are found with memchr and literals are jumped over, instead of
//! the Fragmentizer's byte-by-byte state machine and copy into a second buffer.

/// The longest literal announcement before a line end: `{4294967295+}\r`.
const ANNOUNCEMENT_TAIL: usize = 14;

/// A message the framer completed: where it lies in the buffer, or that it was too large.
pub(crate) enum Framed {
    /// `start..end` of [`Framer::bytes`].
    Complete { start: usize, end: usize },
    /// Longer than the limit: its bytes were dropped as they arrived; `length` counts them all.
    TooLong { length: usize },
}

/// The framing state of the message being read.
pub(crate) struct Framer {
    buffer: Vec<u8>,
    /// Bytes before this belong to messages already returned; dropped at the next `push`.
    consumed: usize,
    /// Where the current message starts in `buffer`.
    start: usize,
    /// How far the current message has been scanned.
    scanned: usize,
    /// Where the line being scanned starts (after the last literal).
    line_start: usize,
    /// Literal bytes still to come before the current message's next line, if in a literal.
    literal_left: Option<usize>,
    /// Whether the current message is over the limit.
    too_long: bool,
    /// Bytes of the current (too long) message already dropped from `buffer`.
    dropped: usize,
    max_message_size: usize,
}

impl Framer {
    pub(crate) fn new(max_message_size: u32) -> Self {
        Self {
            buffer: Vec::new(),
            consumed: 0,
            start: 0,
            scanned: 0,
            line_start: 0,
            literal_left: None,
            too_long: false,
            dropped: 0,
            max_message_size: usize::try_from(max_message_size).unwrap_or(usize::MAX),
        }
    }

    /// Appends bytes, first dropping the messages already returned (one move per push, of
    /// the incomplete message only).
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.consumed > 0 {
            self.buffer.drain(..self.consumed);
            self.start -= self.consumed;
            self.scanned -= self.consumed;
            self.line_start -= self.consumed;
            self.consumed = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// Drops everything buffered, the message in progress included.
    pub(crate) fn clear(&mut self) {
        self.buffer.clear();
        self.consumed = 0;
        self.start = 0;
        self.scanned = 0;
        self.line_start = 0;
        self.literal_left = None;
        self.too_long = false;
        self.dropped = 0;
    }

    /// The bytes after the messages already returned; the framer then starts afresh.
    pub(crate) fn take_rest(&mut self) -> Vec<u8> {
        let rest = self.buffer.split_off(self.consumed.min(self.buffer.len()));
        self.clear();
        rest
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buffer
    }

    /// Frames the next complete message, or `None` until more bytes arrive.
    pub(crate) fn next(&mut self) -> Option<Framed> {
        loop {
            if let Some(left) = self.literal_left {
                let taken = left.min(self.buffer.len() - self.scanned);
                self.scanned += taken;
                self.literal_left = Some(left - taken);
                self.limit();
                if taken < left {
                    return None;
                }
                self.literal_left = None;
                self.line_start = self.scanned;
            }
            let Some(lf) = memchr::memchr(b'\n', &self.buffer[self.scanned..]) else {
                self.scanned = self.buffer.len();
                self.limit();
                return None;
            };
            let line_end = self.scanned + lf + 1;
            self.literal_left = announced_literal(&self.buffer[self.line_start..line_end]);
            self.scanned = line_end;
            self.limit();
            if self.literal_left.is_none() {
                return Some(self.finish());
            }
        }
    }

    /// Once the current message is over the limit, its scanned bytes are dropped as they
    /// come, but for a line's tail that may still hold a literal announcement.
    fn limit(&mut self) {
        let length = self.dropped + (self.scanned - self.start);
        if length <= self.max_message_size {
            return;
        }
        self.too_long = true;
        let keep = if self.literal_left.is_some() {
            0
        } else {
            ANNOUNCEMENT_TAIL
        };
        let drop_to = self.scanned.saturating_sub(keep).max(self.start);
        let dropped = drop_to - self.start;
        self.buffer.drain(self.start..drop_to);
        self.dropped += dropped;
        self.scanned -= dropped;
        self.line_start = self.line_start.saturating_sub(dropped).max(self.start);
    }

    fn finish(&mut self) -> Framed {
        let (start, end) = (self.start, self.scanned);
        let dropped = std::mem::take(&mut self.dropped);
        self.start = end;
        self.line_start = end;
        self.consumed = end;
        if std::mem::take(&mut self.too_long) {
            Framed::TooLong {
                length: dropped + (end - start),
            }
        } else {
            Framed::Complete { start, end }
        }
    }
}

/// The literal length a line announces at its end (`{N}` or `{N+}` before CRLF or LF).
fn announced_literal(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_suffix(b"}")?;
    let line = line.strip_suffix(b"+").unwrap_or(line);
    let digits = line
        .iter()
        .rev()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    let (head, digits) = line.split_at(line.len() - digits);
    if digits.is_empty() || !head.ends_with(b"{") {
        return None;
    }
    digits
        .iter()
        .try_fold(0u32, |length, &digit| {
            length.checked_mul(10)?.checked_add(u32::from(digit - b'0'))
        })
        .map(|length| length as usize)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn frames(max: u32, chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, usize>> {
        let mut framer = Framer::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            framer.push(chunk);
            while let Some(framed) = framer.next() {
                out.push(match framed {
                    Framed::Complete { start, end } => Ok(framer.bytes()[start..end].to_vec()),
                    Framed::TooLong { length } => Err(length),
                });
            }
        }
        out
    }

    #[test]
    fn literals_belong_to_their_message_whatever_they_contain() {
        let stream: &[u8] = b"* 1 FETCH (BODY[] {5}\r\na\r{2}\r\n* 2 X ~{2+}\nxy\n* 3 {0}\r\n\r\n";
        let expected = vec![
            Ok(b"* 1 FETCH (BODY[] {5}\r\na\r{2}\r\n".to_vec()),
            Ok(b"* 2 X ~{2+}\nxy\n".to_vec()),
            Ok(b"* 3 {0}\r\n\r\n".to_vec()),
        ];
        assert_eq!(frames(100, &[stream]), expected);
        let bytewise: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(frames(100, &bytewise), expected);
    }

    #[test]
    fn malformed_announcements_are_plain_line_ends() {
        for line in [
            &b"* OK {}\r\n"[..],
            b"* OK {x}\r\n",
            b"* OK {+}\r\n",
            b"* OK {5} \r\n",
            b"* OK {5}\r\r\n",
            b"* OK {99999999999}\r\n",
        ] {
            assert_eq!(frames(100, &[line]), vec![Ok(line.to_vec())], "{line:?}");
        }
    }

    /// Deterministic pseudo-random numbers for the codec's differential tests (xorshift64).
    pub(in crate::codec) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// What imap-codec's `Fragmentizer` (the framing this replaces) makes of the same bytes:
    /// whole messages within the limit, the full length of longer ones.
    fn fragmentizer_frames(max: u32, chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, usize>> {
        let mut fragmentizer = imap_codec::fragmentizer::Fragmentizer::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            fragmentizer.enqueue_bytes(chunk);
            while let Some(fragment) = fragmentizer.progress() {
                let length = fragment.range().end;
                if fragmentizer.is_message_complete() {
                    out.push(if fragmentizer.is_max_message_size_exceeded() {
                        Err(length)
                    } else {
                        Ok(fragmentizer.message_bytes().to_vec())
                    });
                }
            }
        }
        out
    }

    #[test]
    fn frames_as_imap_codecs_fragmentizer_does_on_random_input() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let alphabet = b"{}{}+~0123\r\n\n\nab ";
        for _ in 0..3000 {
            let length = (next() % 60) as usize;
            let bytes: Vec<u8> = (0..length)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let max = (next() % 24) as u32;
            let mut chunks = Vec::new();
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let (head, tail) = rest.split_at((1 + next() % 8).min(rest.len() as u64) as usize);
                chunks.push(head);
                rest = tail;
            }
            assert_eq!(
                frames(max, &chunks),
                fragmentizer_frames(max, &chunks),
                "{:?} with limit {max}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn a_message_over_the_limit_is_measured_to_its_end_and_dropped() {
        let stream: &[u8] = b"* 1 FETCH (BODY[] {20}\r\n01234567890123456789)\r\n* 2 EXISTS\r\n";
        let expected = vec![Err(47), Ok(b"* 2 EXISTS\r\n".to_vec())];
        assert_eq!(frames(16, &[stream]), expected);
        let bytewise: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(frames(16, &bytewise), expected);
        let long_line = [&[b'x'; 40][..], b"{3}\r\nabc\r\n* 3 EXISTS\r\n"].concat();
        let bytewise: Vec<&[u8]> = long_line.chunks(1).collect();
        assert_eq!(
            frames(16, &bytewise),
            vec![Err(50), Ok(b"* 3 EXISTS\r\n".to_vec())]
        );
    }
}
