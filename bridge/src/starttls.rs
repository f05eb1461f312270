//! The cleartext phase of a `starttls` server: where the bridge's
//! server→browser stream must end.
//!
//! The engine sends `{"type":"starttls"}` only after it has received the
//! server's tagged OK to its `STARTTLS` command. Anything the server sends
//! after that OK and before the TLS handshake is not from the TLS session the
//! engine is about to trust; a man in the middle can append it to the OK in
//! the same TCP segment (the CVE-2011-0411 family, here on the client side).
//! The bridge does not parse IMAP, except for this one thing: it notes the
//! tag of a `<tag> STARTTLS` command line from the browser ([`CommandWatch`])
//! and stops relaying from the server right after the line `<tag> OK ...`
//! ([`ResponseGate`]). What the gate holds back, what the socket still
//! holds, and what arrives later is never relayed: the session discards it
//! when it starts the handshake.

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, ReadBuf};

/// Longest command line inspected for `STARTTLS`; longer lines are other
/// commands.
const MAX_COMMAND_LINE: usize = 128;
/// Most bytes the gate holds while waiting for the end of a line that may be
/// the tagged OK; a longer one is treated as an upstream error.
const MAX_HELD: usize = 16 * 1024;

/// The tag of the browser's latest `STARTTLS` command, shared by the two
/// directions of one session, and whether the server's OK to it was relayed.
#[derive(Debug, Default)]
pub(crate) struct StarttlsTag {
    tag: Mutex<Option<Vec<u8>>>,
    ok_relayed: AtomicBool,
}

impl StarttlsTag {
    fn set(&self, tag: &[u8]) {
        *self.tag.lock().unwrap_or_else(|e| e.into_inner()) = Some(tag.to_vec());
    }

    fn get(&self) -> Option<Vec<u8>> {
        self.tag.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether the gate gave out the server's OK to `STARTTLS` (and closed):
    /// only then may the browser ask for the upgrade.
    pub(crate) fn ok_relayed(&self) -> bool {
        self.ok_relayed.load(Ordering::Acquire)
    }
}

/// Watches the bytes the browser sends for a `<tag> STARTTLS` line.
pub(crate) struct CommandWatch<'a> {
    tag: &'a StarttlsTag,
    line: Vec<u8>,
    too_long: bool,
}

impl<'a> CommandWatch<'a> {
    pub(crate) fn new(tag: &'a StarttlsTag) -> Self {
        Self {
            tag,
            line: Vec::new(),
            too_long: false,
        }
    }

    /// Feeds bytes as sent to the server (frame boundaries do not matter).
    pub(crate) fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let (part, rest, ends_line) = match data.iter().position(|&b| b == b'\n') {
                Some(i) => (&data[..i], &data[i + 1..], true),
                None => (data, &data[data.len()..], false),
            };
            if self.line.len() + part.len() <= MAX_COMMAND_LINE {
                self.line.extend_from_slice(part);
            } else {
                self.too_long = true;
            }
            if ends_line {
                if !self.too_long {
                    self.check_line();
                }
                self.line.clear();
                self.too_long = false;
            }
            data = rest;
        }
    }

    fn check_line(&self) {
        let line = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
        if let Some((tag, command)) = split_once(line, b' ')
            && !tag.is_empty()
            && command.eq_ignore_ascii_case(b"STARTTLS")
        {
            self.tag.set(tag);
        }
    }
}

fn split_once(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

/// Reader over the server's cleartext that ends (never yields again) after
/// the tagged OK to the browser's `STARTTLS` command. Until a `STARTTLS`
/// command was seen it passes bytes through as read.
pub(crate) struct ResponseGate<'a, R> {
    inner: R,
    tag: &'a StarttlsTag,
    /// Read from the server, not yet given to the caller.
    held: BytesMut,
    /// Whether the next byte given out starts a line.
    at_line_start: bool,
    /// Bytes of the tagged OK line still to give out when a short read
    /// buffer cut it: the gate closes right after them.
    owed_ok: Option<usize>,
    eof: bool,
    closed: bool,
}

impl<'a, R> ResponseGate<'a, R> {
    pub(crate) fn new(inner: R, tag: &'a StarttlsTag) -> Self {
        Self {
            inner,
            tag,
            held: BytesMut::new(),
            at_line_start: true,
            owed_ok: None,
            eof: false,
            closed: false,
        }
    }

    /// Gives out up to `n` held bytes; closes the gate after the tagged OK.
    fn give(&mut self, buf: &mut ReadBuf<'_>, n: usize, then_close: bool) {
        let k = n.min(buf.remaining());
        buf.put_slice(&self.held[..k]);
        if let Some(&last) = self.held[..k].last() {
            self.at_line_start = last == b'\n';
        }
        self.held.advance(k);
        self.owed_ok = (then_close && k < n).then_some(n - k);
        self.closed = then_close && k == n;
        if self.closed {
            self.tag.ok_relayed.store(true, Ordering::Release);
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for ResponseGate<'_, R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.closed {
                // The session ends the relay when `starttls` arrives.
                return Poll::Pending;
            }
            if !this.held.is_empty() {
                let tag = this.tag.get();
                let decision = if let Some(rest) = this.owed_ok {
                    Some((rest, true))
                } else if this.eof {
                    Some((this.held.len(), false))
                } else {
                    releasable(&this.held, this.at_line_start, tag.as_deref())
                };
                match decision {
                    Some((n, close)) if n > 0 => {
                        this.give(buf, n, close);
                        return Poll::Ready(Ok(()));
                    }
                    _ if this.held.len() >= MAX_HELD => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "the server's STARTTLS reply line is too long",
                        )));
                    }
                    _ => {}
                }
            } else if this.eof {
                return Poll::Ready(Ok(()));
            }
            this.held.reserve(4096);
            let n = std::task::ready!(tokio_util::io::poll_read_buf(
                Pin::new(&mut this.inner),
                cx,
                &mut this.held
            ))?;
            this.eof = n == 0;
        }
    }
}

/// How many of the `held` bytes may go to the browser now, and whether the
/// gate closes after them (they end with the tagged OK line). `None` while
/// the first undecided line might still turn out to be the tagged OK.
fn releasable(held: &[u8], at_line_start: bool, tag: Option<&[u8]>) -> Option<(usize, bool)> {
    let Some(tag) = tag else {
        return Some((held.len(), false));
    };
    let mut pos = 0;
    let mut line_start = at_line_start;
    loop {
        let line_end = held[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| pos + i + 1);
        if line_start {
            let line = &held[pos..line_end.unwrap_or(held.len())];
            match classify(line, tag, line_end.is_some()) {
                Line::TaggedOk => return line_end.map(|end| (end, true)),
                Line::Undecided => return (pos > 0).then_some((pos, false)),
                Line::Other => {}
            }
        }
        match line_end {
            Some(end) if end < held.len() => {
                pos = end;
                line_start = true;
            }
            _ => return Some((held.len(), false)),
        }
    }
}

enum Line {
    /// `<tag> OK ...` ending in LF.
    TaggedOk,
    /// Not complete yet, and could still be the tagged OK.
    Undecided,
    /// Anything else.
    Other,
}

/// Reads `<tag>`, spaces or tabs, `OK`, then a space, tab or line end: as
/// leniently as the engine reads a tagged status, so that every OK the engine
/// acts on closes the gate.
fn classify(line: &[u8], tag: &[u8], complete: bool) -> Line {
    // A line that stops while it still matches may become the tagged OK.
    let cut_short = |matches: bool| {
        if !complete && matches {
            Line::Undecided
        } else {
            Line::Other
        }
    };
    let n = tag.len();
    if line.len() <= n {
        return cut_short(line.eq_ignore_ascii_case(&tag[..line.len()]));
    }
    if !line[..n].eq_ignore_ascii_case(tag) {
        return Line::Other;
    }
    let rest = &line[n..];
    let gap = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    if gap == 0 {
        return Line::Other;
    }
    let status = &rest[gap..];
    if status.len() <= 2 {
        return cut_short(status.eq_ignore_ascii_case(&b"OK"[..status.len()]));
    }
    if !status[..2].eq_ignore_ascii_case(b"OK")
        || !matches!(status[2], b' ' | b'\t' | b'\r' | b'\n')
    {
        return Line::Other;
    }
    if complete {
        Line::TaggedOk
    } else {
        Line::Undecided
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn tag(t: &str) -> StarttlsTag {
        let tag = StarttlsTag::default();
        tag.set(t.as_bytes());
        tag
    }

    #[test]
    fn watch_finds_the_starttls_tag_across_frames() {
        let t = StarttlsTag::default();
        let mut w = CommandWatch::new(&t);
        w.feed(b"a1 CAPABILITY\r\n");
        assert_eq!(t.get(), None);
        w.feed(b"a2 STA");
        w.feed(b"RTTLS\r");
        assert_eq!(t.get(), None);
        w.feed(b"\n");
        assert_eq!(t.get(), Some(b"a2".to_vec()));
        w.feed(b"x starttls\r\n");
        assert_eq!(t.get(), Some(b"x".to_vec()));
    }

    #[test]
    fn watch_ignores_other_lines() {
        let t = StarttlsTag::default();
        let mut w = CommandWatch::new(&t);
        w.feed(b"a LOGIN STARTTLS x\r\n STARTTLS\r\n");
        w.feed(&[b'x'; 200]);
        w.feed(b" STARTTLS\r\n");
        w.feed(b"a STARTTLS extra\r\n");
        assert_eq!(t.get(), None);
    }

    #[test]
    fn releasable_cases() {
        let t = Some(&b"a"[..]);
        // No STARTTLS seen: everything.
        assert_eq!(releasable(b"* OK x\r\n", true, None), Some((8, false)));
        // The tagged OK ends the release, the rest is held.
        let data = b"* OK fine\r\na OK Begin TLS\r\n* OK injected\r\n";
        assert_eq!(releasable(data, true, t), Some((27, true)));
        assert_eq!(releasable(b"A ok\r\nmore", true, t), Some((6, true)));
        // NO/BAD and other tags pass.
        assert_eq!(releasable(b"a NO nope\r\n", true, t), Some((11, false)));
        assert_eq!(releasable(b"ab OK\r\n", true, t), Some((7, false)));
        assert_eq!(releasable(b"a OKAY\r\n", true, t), Some((8, false)));
        // Blanks as the engine reads them.
        assert_eq!(releasable(b"a  OK go\r\nx", true, t), Some((10, true)));
        assert_eq!(releasable(b"a\tOK\tgo\r\nx", true, t), Some((9, true)));
        assert_eq!(releasable(b"a \t", true, t), None);
        assert_eq!(releasable(b"aOK\r\n", true, t), Some((5, false)));
        // A line that may become the tagged OK is held until complete.
        assert_eq!(releasable(b"a O", true, t), None);
        assert_eq!(releasable(b"a OK Begin", true, t), None);
        assert_eq!(releasable(b"* OK\r\na O", true, t), Some((6, false)));
        assert_eq!(releasable(b"b", true, t), Some((1, false)));
        // Mid-line text is never a line start.
        assert_eq!(releasable(b"a OK\r\n", false, t), Some((6, false)));
    }

    /// Reads the gate in `chunk`-byte reads until it stops yielding.
    async fn read_until_closed(gate: &mut (impl AsyncRead + Unpin), chunk: usize) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            let read =
                tokio::time::timeout(std::time::Duration::from_millis(100), gate.read(&mut buf))
                    .await;
            match read {
                Ok(Ok(0)) => panic!("the gate ended instead of closing"),
                Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                Ok(Err(e)) => panic!("{e}"),
                Err(_) => return got, // the gate is closed
            }
        }
    }

    #[tokio::test]
    async fn gate_stops_after_the_tagged_ok() {
        // Short reads cut the OK line: the rest of it is still the last
        // thing given out (a relay's read buffer may have little room left).
        for chunk in [1, 5, 11, 14, 100] {
            let t = tag("a");
            let (mut far, near) = tokio::io::duplex(1024);
            far.write_all(b"* OK ready\r\na OK Begin TLS\r\n* OK injected\r\n")
                .await
                .unwrap();
            let mut gate = ResponseGate::new(near, &t);
            assert!(!t.ok_relayed());
            let got = read_until_closed(&mut gate, chunk).await;
            assert!(t.ok_relayed());
            assert_eq!(
                got, b"* OK ready\r\na OK Begin TLS\r\n",
                "read in {chunk}-byte pieces"
            );
        }
    }

    #[tokio::test]
    async fn gate_waits_for_a_split_reply_line() {
        let t = tag("a");
        let (mut far, near) = tokio::io::duplex(1024);
        let mut gate = ResponseGate::new(near, &t);
        far.write_all(b"a O").await.unwrap();
        let mut buf = [0u8; 64];
        let pending =
            tokio::time::timeout(std::time::Duration::from_millis(50), gate.read(&mut buf)).await;
        assert!(pending.is_err(), "gave out a partial reply line");
        far.write_all(b"K go\r\n* OK injected\r\n").await.unwrap();
        let n = gate.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"a OK go\r\n");
    }

    #[tokio::test]
    async fn gate_passes_through_and_ends_at_eof() {
        let t = StarttlsTag::default();
        let (mut far, near) = tokio::io::duplex(1024);
        far.write_all(b"* OK hi\r\na O").await.unwrap();
        drop(far);
        let mut gate = ResponseGate::new(near, &t);
        let mut got = Vec::new();
        gate.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"* OK hi\r\na O");
    }
}
