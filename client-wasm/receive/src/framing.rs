//! Splits the server's bytes into complete messages (lines and the literals they announce),
//! so a message is handed to the parser as one borrowed slice.
//!
//! The rules are imap-codec's `Fragmentizer`'s: a line ends at LF (CRLF or bare LF), and a
//! line ending in `{N}` or `{N+}` (so also `~{N}`) is followed by N literal bytes that belong
//! to the same message. Lines are found with memchr and literals are jumped over, instead of
//! the Fragmentizer's byte-by-byte state machine and copy into a second buffer.
//!
//! A message that lies whole in the input is framed in place; only one cut off by the end of
//! an input is copied, into the framer's buffer, until its end arrives. A WebSocket message
//! holds many responses, so most are never copied. A message over the size limit is measured
//! to its end but not kept: once past the limit, only the tail of a line, which may announce
//! a literal, is copied, so a hostile server's endless line or literal costs no copying.

/// The longest literal announcement before a line end: `{4294967295+}\r`.
const ANNOUNCEMENT_TAIL: usize = 14;

/// A message the framer completed, or that it was too large.
pub enum Framed<'a> {
    Complete(&'a [u8]),
    /// Longer than the limit: its bytes were dropped as they arrived; `length` counts them all.
    TooLong {
        length: usize,
    },
}

/// How far a message has been scanned, counted from its first byte.
#[derive(Default)]
struct Scan {
    scanned: usize,
    /// Where the line being scanned starts (after the last literal).
    line_start: usize,
    /// Literal bytes still to come before the message's next line, if in a literal.
    literal_left: Option<usize>,
}

impl Scan {
    /// Scans on through `message` (the message so far); true once it is complete, which it
    /// is at `scanned`.
    fn run(&mut self, message: &[u8]) -> bool {
        loop {
            if let Some(left) = self.literal_left {
                let taken = left.min(message.len() - self.scanned);
                self.scanned += taken;
                if taken < left {
                    self.literal_left = Some(left - taken);
                    return false;
                }
                self.literal_left = None;
                self.line_start = self.scanned;
            }
            let Some(lf) = memchr::memchr(b'\n', &message[self.scanned..]) else {
                self.scanned = message.len();
                return false;
            };
            let line_end = self.scanned + lf + 1;
            self.literal_left = announced_literal(&message[self.line_start..line_end]);
            self.scanned = line_end;
            if self.literal_left.is_none() {
                return true;
            }
        }
    }
}

/// The framing state between inputs: the message an input ended inside.
pub struct Framer {
    /// The bytes of that message so far (or, once returned, of the message just framed).
    buffer: Vec<u8>,
    /// The buffer holds a message already returned: it is cleared on the next call.
    returned: bool,
    scan: Scan,
    /// Whether the buffered message is over the limit.
    too_long: bool,
    /// Bytes of the current (too long) message already dropped from `buffer`.
    dropped: usize,
    max_message_size: usize,
}

impl Framer {
    pub fn new(max_message_size: u32) -> Self {
        Self {
            buffer: Vec::new(),
            returned: false,
            scan: Scan::default(),
            too_long: false,
            dropped: 0,
            max_message_size: usize::try_from(max_message_size).unwrap_or(usize::MAX),
        }
    }

    /// Drops the message in progress.
    pub fn clear(&mut self) {
        self.buffer.clear();
        self.returned = false;
        self.scan = Scan::default();
        self.too_long = false;
        self.dropped = 0;
    }

    /// Frames the next complete message from the message in progress and `input`, or `None`
    /// once all of `input` is used up (buffered) without completing one. `input` is left
    /// with what comes after what was used.
    #[inline(never)]
    pub fn next<'a, 'b: 'a>(&'a mut self, input: &mut &'b [u8]) -> Option<Framed<'a>> {
        if std::mem::take(&mut self.returned) {
            self.buffer.clear();
        }
        let bytes: &'b [u8] = input;
        if self.buffer.is_empty() && !self.too_long {
            let mut scan = Scan::default();
            if scan.run(bytes) {
                if scan.scanned <= self.max_message_size {
                    let (message, rest) = bytes.split_at(scan.scanned);
                    *input = rest;
                    return Some(Framed::Complete(message));
                }
            } else if bytes.len() <= self.max_message_size {
                // Cut off by the input's end: kept with its scan, which need not run again.
                self.buffer.extend_from_slice(bytes);
                self.scan = scan;
                *input = &[];
                return None;
            }
        }
        // Over the limit: `buffered` copies no more of it than shows that.
        self.buffered(input)
    }

    /// Copies the message in progress from `input` into the buffer, a line or a literal at a
    /// time, so that nothing after the message is copied.
    fn buffered<'a>(&'a mut self, input: &mut &[u8]) -> Option<Framed<'a>> {
        while !input.is_empty() {
            if self.skip_dropped_literal(input) || self.skip_dropped_line(input) {
                continue;
            }
            let wanted = match self.scan.literal_left {
                Some(left) => left.min(input.len()),
                None => line_length(input),
            };
            // No more than one byte past the limit: the rest, if any, is then skipped.
            let wanted = match self.too_long {
                true => wanted,
                false => wanted.min(self.room()),
            };
            let (piece, rest) = input.split_at(wanted);
            self.buffer.extend_from_slice(piece);
            *input = rest;
            let complete = self.scan.run(&self.buffer);
            self.limit();
            if complete {
                return Some(self.finish());
            }
        }
        None
    }

    /// How many more bytes the message in progress may take before it is over the limit,
    /// plus the one that shows it is.
    fn room(&self) -> usize {
        self.max_message_size
            .saturating_sub(self.length())
            .saturating_add(1)
    }

    /// The message's length so far, dropped bytes included. Saturating: a hostile server may
    /// stream more than 4 GiB into one message on wasm32.
    fn length(&self) -> usize {
        self.dropped.saturating_add(self.scan.scanned)
    }

    /// Counts a too-long message's literal bytes out of `input` without copying them: by
    /// then `limit` has emptied the buffer, and a literal holds no line end to scan for.
    fn skip_dropped_literal(&mut self, input: &mut &[u8]) -> bool {
        let (true, Some(left)) = (self.too_long, self.scan.literal_left) else {
            return false;
        };
        let taken = left.min(input.len());
        *input = input.get(taken..).unwrap_or_default();
        self.dropped = self.dropped.saturating_add(taken);
        self.scan.literal_left = (taken < left).then(|| left - taken);
        if self.scan.literal_left.is_none() {
            self.scan.line_start = self.scan.scanned;
        }
        true
    }

    /// Counts a too-long message's line bytes out of `input` without copying them, all but
    /// the line's last [`ANNOUNCEMENT_TAIL`] and its LF, which may announce a literal. The
    /// buffer (the line's earlier tail, all `limit` kept) is dropped with them.
    fn skip_dropped_line(&mut self, input: &mut &[u8]) -> bool {
        let (true, None) = (self.too_long, self.scan.literal_left) else {
            return false;
        };
        let skipped = line_length(input).saturating_sub(ANNOUNCEMENT_TAIL + 1);
        if skipped == 0 {
            return false;
        }
        self.dropped = self
            .dropped
            .saturating_add(self.buffer.len())
            .saturating_add(skipped);
        self.buffer.clear();
        self.scan = Scan::default();
        *input = input.get(skipped..).unwrap_or_default();
        true
    }

    /// Once the message is over the limit, its scanned bytes are dropped as they come, but
    /// for a line's tail that may still hold a literal announcement.
    fn limit(&mut self) {
        if self.length() <= self.max_message_size {
            return;
        }
        self.too_long = true;
        let keep = if self.scan.literal_left.is_some() {
            0
        } else {
            ANNOUNCEMENT_TAIL
        };
        let drop_to = self.scan.scanned.saturating_sub(keep);
        self.buffer.drain(..drop_to);
        self.dropped = self.dropped.saturating_add(drop_to);
        self.scan.scanned -= drop_to;
        self.scan.line_start = self.scan.line_start.saturating_sub(drop_to);
    }

    fn finish(&mut self) -> Framed<'_> {
        let length = self.length();
        self.dropped = 0;
        self.scan = Scan::default();
        self.returned = true;
        if std::mem::take(&mut self.too_long) {
            Framed::TooLong { length }
        } else {
            Framed::Complete(&self.buffer)
        }
    }
}

/// The bytes of `input` up to and with its first LF, or all of them.
fn line_length(input: &[u8]) -> usize {
    memchr::memchr(b'\n', input).map_or(input.len(), |lf| lf + 1)
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
mod tests {
    use super::*;

    fn frames(max: u32, chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, usize>> {
        frames_checked(max, chunks, |_| {})
    }

    /// What the framer makes of `chunks`, with `check` run on it after each chunk.
    fn frames_checked(
        max: u32,
        chunks: &[&[u8]],
        check: impl Fn(&Framer),
    ) -> Vec<Result<Vec<u8>, usize>> {
        let mut framer = Framer::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            let mut input = *chunk;
            while let Some(framed) = framer.next(&mut input) {
                out.push(match framed {
                    Framed::Complete(message) => Ok(message.to_vec()),
                    Framed::TooLong { length } => Err(length),
                });
            }
            assert!(input.is_empty(), "an input is used up before `None`");
            check(&framer);
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
        let mut rng = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
        let mut next = move || rng.u64(..);
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
                let (head, tail) = rest.split_at((1 + next() % 24).min(rest.len() as u64) as usize);
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

    #[test]
    fn a_dropped_line_is_counted_not_copied() {
        // A 1 MiB line that ends by announcing a literal, in 64 KiB inputs, over a 1 KiB limit.
        let line = [&vec![b'x'; 1 << 20][..], b"{3}\r\n"].concat();
        let stream = [&line[..], b"abc)\r\n* 2 EXISTS\r\n"].concat();
        let chunks: Vec<&[u8]> = stream.chunks(64 * 1024).collect();
        let framed = frames_checked(1024, &chunks, |framer| {
            let capacity = framer.buffer.capacity();
            assert!(capacity < 4096, "{capacity}");
        });
        let expected = vec![Err(line.len() + 6), Ok(b"* 2 EXISTS\r\n".to_vec())];
        assert_eq!(framed, expected);
    }

    #[test]
    fn a_dropped_literal_is_counted_not_copied() {
        let line = b"* 1 FETCH (BODY[] {1048576}\r\n";
        let literal = vec![b'a'; 1 << 20];
        let stream = [&line[..], &literal, b")\r\n* 2 EXISTS\r\n"].concat();
        let whole = line.len() + literal.len() + 3;
        // The announcement alone first, then the rest; the announcement with half the literal
        // first (a message cut off by its first input's end), then the rest.
        for cut in [line.len(), line.len() + literal.len() / 2] {
            let mut framer = Framer::new(1024);
            let mut input = &stream[..cut];
            assert!(framer.next(&mut input).is_none());
            assert!(
                framer.buffer.capacity() < 4096,
                "{}",
                framer.buffer.capacity()
            );
            input = &stream[cut..];
            assert!(matches!(
                framer.next(&mut input),
                Some(Framed::TooLong { length }) if length == whole
            ));
            assert!(
                framer.buffer.capacity() < 4096,
                "{}",
                framer.buffer.capacity()
            );
            let next = framer.next(&mut input);
            assert!(matches!(next, Some(Framed::Complete(b"* 2 EXISTS\r\n"))));
        }
    }
}
