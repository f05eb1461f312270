//! The two relay pumps, generic over streams so that tests can drive them
//! without sockets.
//!
//! Only binary frames carry data; text frames are control messages, handed
//! back to the caller. Neither pump buffers much: `server_to_browser` holds
//! at most one frame in the sink and reads at most one more meanwhile (that
//! is the backpressure towards the IMAP server), and `browser_to_server`
//! writes and flushes each frame before reading the next. Both take their streams by
//! value, so a caller that needs them back (the STARTTLS upgrade) passes
//! `&mut` references.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::{Instant, MissedTickBehavior};

use axum::extract::ws::{Message, Utf8Bytes};

use crate::error::RelayError;

/// Largest chunk read from the IMAP server, hence the largest binary frame
/// the bridge sends (the protocol promises browsers at most 64 KiB). Only
/// reached while the server streams faster than the browser reads.
pub const READ_CHUNK: usize = 64 * 1024;

/// Why [`browser_to_server`] stopped without an error.
#[derive(Debug, PartialEq, Eq)]
pub enum BrowserEnd {
    /// A Close frame or the end of the stream; the upstream writer was
    /// flushed and shut down (half-close). Carries the bytes relayed.
    Closed(u64),
    /// A text frame, i.e. a control message for the caller to judge. The
    /// upstream writer is left open.
    Text(Utf8Bytes),
}

/// Forwards binary frames from the browser to the IMAP server.
///
/// Ends at a Close frame, the end of the stream, or a text frame (see
/// [`BrowserEnd`]). Ping and Pong frames are ignored (the WebSocket layer
/// answers pings).
pub async fn browser_to_server<S, E, W>(
    mut frames: S,
    mut upstream: W,
) -> Result<BrowserEnd, RelayError>
where
    S: Stream<Item = Result<Message, E>> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
    W: AsyncWrite + Unpin,
{
    let mut total: u64 = 0;
    while let Some(item) = frames.next().await {
        match item.map_err(RelayError::from_ws_read)? {
            Message::Binary(data) => {
                upstream
                    .write_all(&data)
                    .await
                    .map_err(RelayError::UpstreamWrite)?;
                // TLS buffers inside rustls until flushed.
                upstream.flush().await.map_err(RelayError::UpstreamWrite)?;
                total += data.len() as u64;
            }
            Message::Text(text) => return Ok(BrowserEnd::Text(text)),
            Message::Ping(_) | Message::Pong(_) => {}
            Message::Close(_) => break,
        }
    }
    upstream.flush().await.map_err(RelayError::UpstreamWrite)?;
    upstream
        .shutdown()
        .await
        .map_err(RelayError::UpstreamWrite)?;
    Ok(BrowserEnd::Closed(total))
}

/// Forwards bytes from the IMAP server to the browser and sends a Ping every
/// `ping_every` so that proxies and NAT boxes see traffic on a quiet session.
///
/// Each frame carries what the server had sent by the time the bridge read
/// (see [`ChunkReader`]), at most [`READ_CHUNK`] bytes. While one frame is
/// being written to the browser the next one is read from the server, but no
/// further: at most one frame waits in the sink and one in the reader, which
/// is the backpressure towards the IMAP server.
///
/// Ends with `Ok(bytes)` at upstream EOF, after every frame has been accepted
/// (sent and flushed) by the sink. It does not close the sink: the caller
/// decides how to end the WebSocket.
pub async fn server_to_browser<R, K>(
    mut upstream: R,
    mut frames: K,
    ping_every: Duration,
) -> Result<u64, RelayError>
where
    R: AsyncRead + Unpin,
    K: Sink<Message> + Unpin,
    K::Error: std::error::Error + Send + Sync + 'static,
{
    let mut total: u64 = 0;
    let mut reader = ChunkReader::default();
    // Whether a frame was queued and not yet flushed.
    let mut unflushed = false;
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        // Flushing comes first (a small reply goes out at once); the read
        // overlaps a flush the browser's socket holds up. Both are cancel
        // safe: a completed branch loses nothing of the other.
        let chunk = tokio::select! {
            biased;
            res = frames.flush(), if unflushed => {
                res.map_err(RelayError::from_ws_write)?;
                unflushed = false;
                continue;
            }
            res = reader.read(&mut upstream) => res.map_err(RelayError::UpstreamRead)?,
            _ = ping.tick() => Some(Message::Ping(Bytes::new())),
        };
        let Some(message) = chunk else {
            frames.flush().await.map_err(RelayError::from_ws_write)?;
            return Ok(total);
        };
        if unflushed {
            // The previous frame is still being written: wait rather than
            // queue a second one.
            frames.flush().await.map_err(RelayError::from_ws_write)?;
        }
        if let Message::Binary(data) = &message {
            total += data.len() as u64;
        }
        frames
            .feed(message)
            .await
            .map_err(RelayError::from_ws_write)?;
        unflushed = true;
    }
}

/// Smallest read from the IMAP server, and the buffer an idle session keeps.
const MIN_READ: usize = 4 * 1024;

/// Reads from the IMAP server in chunks sized to what the server streams.
///
/// The read size starts at [`MIN_READ`] (an idle session holds no more) and
/// doubles after each read that filled it, up to [`READ_CHUNK`], so a bulk
/// transfer makes few large frames; a short read halves it again. One
/// `read` also drains whatever else is already readable (a TLS stream gives
/// out one record, at most 16 KiB, per poll), so that a stream of records
/// becomes one frame instead of one frame per record.
///
/// While the server streams a large response (the read size has grown), a
/// short chunk waits up to [`COALESCE`] for more unless it ends the
/// response (see [`ends_response`]). Servers behind a TLS terminator such as
/// Dovecot's send a few KiB per record; relaying each as its own frame costs
/// the browser and the bridge a wake-up per record, which on a busy machine
/// slowed a 100k-message header sync by a third. A quiet session (read size
/// [`MIN_READ`]) never waits, so a small reply goes out at once. Once the engine
/// has turned on COMPRESS=DEFLATE the bridge cannot see tagged lines, so the last
/// chunk of a large compressed response may wait the whole [`COALESCE`].
#[derive(Debug)]
struct ChunkReader {
    buf: BytesMut,
    want: usize,
    /// Upstream EOF or error seen after some bytes; reported by the next
    /// `read`, once those bytes are out.
    ended: Option<std::io::Result<()>>,
    /// Until when the chunk being gathered may wait for more bytes; kept
    /// across cancelled `read`s so that a retry does not wait longer.
    hold_until: Option<Instant>,
    /// Whether the last frame ended a line, i.e. `buf` starts one.
    at_line_start: bool,
}

/// Longest a short chunk of a streaming response waits for more bytes.
/// Tokio's timer ticks in milliseconds, so this is the smallest wait.
const COALESCE: Duration = Duration::from_millis(1);

impl Default for ChunkReader {
    fn default() -> Self {
        Self {
            buf: BytesMut::new(),
            want: MIN_READ,
            ended: None,
            hold_until: None,
            at_line_start: true,
        }
    }
}

impl ChunkReader {
    /// The next chunk as a binary frame, or `None` at EOF. Cancel safe: bytes
    /// read before a cancellation are returned by the next call.
    async fn read<R: AsyncRead + Unpin>(
        &mut self,
        upstream: &mut R,
    ) -> std::io::Result<Option<Message>> {
        if self.buf.is_empty() {
            if let Some(ended) = self.ended.take() {
                return ended.map(|()| None);
            }
            self.prepare();
        }
        std::future::poll_fn(|cx| self.poll_fill(Pin::new(&mut *upstream), cx)).await?;
        if self.buf.is_empty() {
            return Ok(None);
        }
        self.gather(upstream).await?;
        self.hold_until = None;
        self.at_line_start = self.buf.ends_with(b"\n");
        self.adapt(self.buf.len());
        Ok(Some(Message::Binary(self.buf.split().freeze())))
    }

    /// Lets a short chunk of a streaming response wait for more bytes, up to
    /// the hold deadline, the read size, or the end of the response.
    async fn gather<R: AsyncRead + Unpin>(&mut self, upstream: &mut R) -> std::io::Result<()> {
        while self.should_hold() {
            let until = *self
                .hold_until
                .get_or_insert_with(|| Instant::now() + COALESCE);
            let more = std::future::poll_fn(|cx| self.poll_more(Pin::new(&mut *upstream), cx));
            match tokio::time::timeout_at(until, more).await {
                Ok(res) => res?,
                Err(_elapsed) => break,
            }
        }
        Ok(())
    }

    fn should_hold(&self) -> bool {
        self.want > MIN_READ
            && self.buf.len() < self.want
            && self.ended.is_none()
            && !ends_response(&self.buf, self.at_line_start)
    }

    /// Like [`Self::poll_fill`], but pending until it adds bytes or sees the
    /// end of the stream.
    fn poll_more<R: AsyncRead + Unpin>(
        &mut self,
        upstream: Pin<&mut R>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = self.buf.len();
        match self.poll_fill(upstream, cx) {
            Poll::Ready(Ok(())) if self.buf.len() == before && self.ended.is_none() => {
                Poll::Pending
            }
            other => other,
        }
    }

    /// Makes room for `want` bytes, reusing the allocation once the previous
    /// frames are dropped. At [`MIN_READ`] it holds no buffer at all: small
    /// reads go through the stack (see [`Self::poll_small`]), so a session
    /// waiting for the server, and one that went quiet after a big
    /// response, keeps no read buffer.
    fn prepare(&mut self) {
        if self.want == MIN_READ {
            self.buf = BytesMut::new();
        } else {
            self.buf.reserve(self.want);
        }
    }

    /// Grows the read size after a read that filled it, shrinks it after
    /// one that used less than a quarter.
    fn adapt(&mut self, got: usize) {
        if got >= self.want {
            self.want = (self.want * 2).min(READ_CHUNK);
        } else if got < self.want / 4 {
            self.want = (self.want / 2).max(MIN_READ);
        }
    }

    /// Reads until `want` bytes are held or the upstream has nothing ready;
    /// pending only while nothing at all was read.
    fn poll_fill<R: AsyncRead + Unpin>(
        &mut self,
        mut upstream: Pin<&mut R>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.buf.capacity() == 0 {
            return self.poll_small(upstream, cx);
        }
        while self.buf.len() < self.want {
            let had = self.buf.len();
            let mut limited = (&mut self.buf).limit(self.want - had);
            let res = tokio_util::io::poll_read_buf(upstream.as_mut(), cx, &mut limited);
            if let Some(done) = self.settle(res.map_ok(|n| n > 0), had) {
                return done;
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Like [`Self::poll_fill`] for at most [`MIN_READ`] bytes, into a stack
    /// buffer that is copied out once something was read: the heap holds
    /// nothing while waiting.
    fn poll_small<R: AsyncRead + Unpin>(
        &mut self,
        mut upstream: Pin<&mut R>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        let mut stack = [0u8; MIN_READ];
        let mut read = ReadBuf::new(&mut stack);
        let done = loop {
            let had = read.filled().len();
            if had == MIN_READ {
                break Poll::Ready(Ok(()));
            }
            let res = upstream.as_mut().poll_read(cx, &mut read);
            let progressed = read.filled().len() > had;
            if let Some(done) = self.settle(res.map_ok(|()| progressed), had) {
                break done;
            }
        };
        self.buf.extend_from_slice(read.filled());
        done
    }

    /// Judges one read (`Ok(true)`: it gave bytes) when `had` bytes were
    /// already read: `None` to read on, else the outcome of the fill. An EOF
    /// or error after some bytes is kept for the next call.
    fn settle(
        &mut self,
        res: Poll<std::io::Result<bool>>,
        had: usize,
    ) -> Option<Poll<std::io::Result<()>>> {
        match res {
            Poll::Ready(Ok(true)) => None,
            Poll::Pending if had == 0 => Some(Poll::Pending),
            Poll::Pending => Some(Poll::Ready(Ok(()))),
            Poll::Ready(end) if had == 0 => Some(Poll::Ready(end.map(drop))),
            Poll::Ready(end) => {
                self.ended = Some(end.map(drop));
                Some(Poll::Ready(Ok(())))
            }
        }
    }
}

/// Whether `buf` ends with a tagged status line (`A1 OK ...`) or a
/// continuation request (`+ ...`): the end of what the browser is waiting
/// for. Only a hint for when to stop gathering: a literal that happens to
/// contain such a line merely ends a frame early. `at_line_start`: `buf`
/// begins a line.
fn ends_response(buf: &[u8], at_line_start: bool) -> bool {
    let Some(body) = buf.strip_suffix(b"\r\n") else {
        return false;
    };
    let line = match body.iter().rposition(|&b| b == b'\n') {
        Some(i) => &body[i + 1..],
        None if at_line_start => body,
        None => return false,
    };
    if line == b"+" || line.starts_with(b"+ ") {
        return true;
    }
    let mut words = line.splitn(3, |&b| b == b' ');
    let tag = words.next().unwrap_or_default();
    let status = words.next().unwrap_or_default();
    !tag.is_empty() && tag != b"*" && matches!(status, b"OK" | b"NO" | b"BAD")
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use bytes::Bytes;
    use futures_channel::mpsc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A ping interval that never fires during a test.
    const LONG: Duration = Duration::from_secs(3600);

    /// The integration tests' payload generator.
    mod xorshift {
        include!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/common/xorshift.rs"
        ));
    }

    fn pattern(len: usize) -> Vec<u8> {
        // Deterministic, non-repeating at small periods.
        xorshift::pattern_from(0x1234_5678, len)
    }

    #[tokio::test]
    async fn browser_to_server_is_byte_identical() {
        let data = pattern(5 * 1024 * 1024 + 123);
        let frames: Vec<Result<Message, io::Error>> = data
            .chunks(100_000)
            .map(|c| Ok(Message::Binary(Bytes::copy_from_slice(c))))
            .chain([Ok(Message::Ping(Bytes::new())), Ok(Message::Close(None))])
            .collect();
        let (mut far, near) = tokio::io::duplex(64 * 1024);
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            far.read_to_end(&mut got).await.unwrap(); // EOF proves the half-close
            got
        });
        let end = browser_to_server(futures_util::stream::iter(frames), near)
            .await
            .unwrap();
        assert_eq!(end, BrowserEnd::Closed(data.len() as u64));
        assert!(reader.await.unwrap() == data);
    }

    #[tokio::test]
    async fn browser_to_server_stream_end_is_ok() {
        let frames = futures_util::stream::iter(vec![Ok::<_, io::Error>(Message::Binary(
            Bytes::from_static(b"a1 NOOP\r\n"),
        ))]);
        let (mut far, near) = tokio::io::duplex(1024);
        let end = browser_to_server(frames, near).await.unwrap();
        assert_eq!(end, BrowserEnd::Closed(9));
        let mut got = Vec::new();
        far.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"a1 NOOP\r\n");
    }

    #[tokio::test]
    async fn text_frame_is_handed_back_without_half_close() {
        let frames = futures_util::stream::iter(vec![
            Ok::<_, io::Error>(Message::Binary(Bytes::from_static(b"a1 NOOP\r\n"))),
            Ok(Message::Text(r#"{"type":"starttls"}"#.into())),
            Ok(Message::Binary(Bytes::from_static(b"never sent\r\n"))),
        ]);
        let (mut far, mut near) = tokio::io::duplex(1024);
        let end = browser_to_server(frames, &mut near).await.unwrap();
        assert_eq!(end, BrowserEnd::Text(r#"{"type":"starttls"}"#.into()));
        // Still open: the caller may go on using the connection.
        near.write_all(b"later\r\n").await.unwrap();
        drop(near);
        let mut got = Vec::new();
        far.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"a1 NOOP\r\nlater\r\n");
    }

    #[tokio::test]
    async fn browser_stream_error_is_reported() {
        let frames = futures_util::stream::iter(vec![Err::<Message, _>(io::Error::other("reset"))]);
        let (_far, near) = tokio::io::duplex(1024);
        let err = browser_to_server(frames, near).await.unwrap_err();
        assert!(matches!(err, RelayError::WebSocket(_)), "{err:?}");
    }

    #[tokio::test]
    async fn server_to_browser_is_byte_identical_and_ends_on_eof() {
        let data = pattern(6 * 1024 * 1024 + 7);
        let (mut far, near) = tokio::io::duplex(256 * 1024);
        let to_send = data.clone();
        let writer = tokio::spawn(async move {
            far.write_all(&to_send).await.unwrap();
            // Dropping `far` is the upstream EOF.
        });
        let (tx, mut rx) = mpsc::channel::<Message>(4);
        let collector = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut frames = 0usize;
            while let Some(m) = rx.next().await {
                match m {
                    Message::Binary(b) => {
                        assert!(!b.is_empty() && b.len() <= READ_CHUNK);
                        got.extend_from_slice(&b);
                        frames += 1;
                    }
                    other => panic!("unexpected frame {other:?}"),
                }
            }
            (got, frames)
        });
        let n = server_to_browser(near, tx, LONG).await.unwrap();
        writer.await.unwrap();
        assert_eq!(n, data.len() as u64);
        let (got, frames) = collector.await.unwrap();
        assert!(got == data);
        assert!(frames >= data.len() / READ_CHUNK);
    }

    /// Gives out one piece per read, like a TLS stream gives out one
    /// record, then EOF.
    struct Pieces(std::collections::VecDeque<Vec<u8>>);

    impl AsyncRead for Pieces {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if let Some(mut piece) = self.0.pop_front() {
                let n = piece.len().min(buf.remaining());
                buf.put_slice(&piece[..n]);
                if n < piece.len() {
                    self.0.push_front(piece.split_off(n));
                }
            }
            Poll::Ready(Ok(()))
        }
    }

    async fn collect_frames(upstream: impl AsyncRead + Unpin) -> (u64, Vec<Bytes>) {
        let (tx, rx) = mpsc::channel::<Message>(1024);
        let n = server_to_browser(upstream, tx, LONG).await.unwrap();
        let frames = rx.map(Message::into_data).collect().await;
        (n, frames)
    }

    #[tokio::test]
    async fn readable_pieces_are_joined_and_frames_grow() {
        let data = pattern(3 * READ_CHUNK + 5);
        let pieces = data.chunks(1000).map(<[u8]>::to_vec).collect();
        let (n, frames) = collect_frames(Pieces(pieces)).await;
        assert_eq!(n, data.len() as u64);
        assert!(frames.concat() == data);
        // One frame per read would be one per 1000-byte piece.
        assert!(frames.len() < 20, "{} frames", frames.len());
        assert_eq!(frames[0].len(), MIN_READ);
        assert!(frames.iter().any(|f| f.len() == READ_CHUNK));
    }

    #[tokio::test]
    async fn small_replies_go_out_as_read() {
        let (mut far, near) = tokio::io::duplex(1024);
        let (tx, mut rx) = mpsc::channel::<Message>(4);
        let pump = tokio::spawn(server_to_browser(near, tx, LONG));
        for line in [&b"* OK hi\r\n"[..], b"a1 OK NOOP\r\n"] {
            far.write_all(line).await.unwrap();
            assert_eq!(rx.next().await.unwrap().into_data(), line);
        }
        drop(far);
        assert_eq!(pump.await.unwrap().unwrap(), 21);
    }

    #[tokio::test]
    async fn upstream_error_after_data_comes_after_the_data() {
        let (mut far, near) = tokio::io::duplex(1024);
        far.write_all(b"* BYE\r\n").await.unwrap();
        drop(far);
        let failing = near.chain(Failing);
        let (tx, mut rx) = mpsc::channel::<Message>(4);
        let err = server_to_browser(failing, tx, LONG).await.unwrap_err();
        assert!(matches!(err, RelayError::UpstreamRead(_)), "{err:?}");
        assert_eq!(rx.next().await.unwrap().into_data(), &b"* BYE\r\n"[..]);
    }

    /// A reader that fails.
    struct Failing;

    impl AsyncRead for Failing {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Ready(Err(io::Error::other("reset")))
        }
    }

    #[tokio::test]
    async fn server_to_browser_eof_without_data() {
        let (far, near) = tokio::io::duplex(1024);
        drop(far);
        let (tx, mut rx) = mpsc::channel::<Message>(1);
        assert_eq!(server_to_browser(near, tx, LONG).await.unwrap(), 0);
        assert!(rx.next().await.is_none());
    }

    #[tokio::test]
    async fn server_to_browser_sink_failure_is_reported() {
        let (mut far, near) = tokio::io::duplex(1024);
        far.write_all(b"* OK hello\r\n").await.unwrap();
        let (tx, rx) = mpsc::channel::<Message>(1);
        drop(rx);
        let err = server_to_browser(near, tx, LONG).await.unwrap_err();
        assert!(matches!(err, RelayError::WebSocket(_)), "{err:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn quiet_upstream_gets_pings() {
        let (_far, near) = tokio::io::duplex(1024);
        let (tx, mut rx) = mpsc::channel::<Message>(4);
        let _pump = tokio::spawn(server_to_browser(near, tx, Duration::from_secs(30)));
        for _ in 0..2 {
            let m = rx.next().await.unwrap();
            assert!(matches!(m, Message::Ping(_)), "{m:?}");
        }
    }

    #[tokio::test]
    async fn slow_sink_applies_backpressure() {
        const TOTAL: usize = 16 * 1024 * 1024;
        const DUPLEX: usize = 64 * 1024;
        let (mut far, near) = tokio::io::duplex(DUPLEX);
        let written = Arc::new(AtomicU64::new(0));
        let w = written.clone();
        let writer = tokio::spawn(async move {
            let block = pattern(16 * 1024);
            let mut sent = 0;
            while sent < TOTAL {
                far.write_all(&block).await.unwrap();
                sent += block.len();
                w.store(sent as u64, Ordering::SeqCst);
            }
        });
        // A sink with room for very few frames, not drained at first.
        let (tx, mut rx) = mpsc::channel::<Message>(0);
        let pump = tokio::spawn(server_to_browser(near, tx, LONG));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stalled_at = written.load(Ordering::SeqCst);
        // Channel holds at most 1 frame, the pump holds one in flight, the
        // duplex holds DUPLEX bytes, the writer one block.
        let bound = (DUPLEX + 3 * READ_CHUNK + 16 * 1024) as u64;
        assert!(
            stalled_at <= bound,
            "pump consumed {stalled_at} bytes without the sink accepting them (bound {bound})"
        );
        assert!(!writer.is_finished());
        // Now drain: everything arrives.
        let mut got = 0usize;
        while let Some(m) = rx.next().await {
            got += m.into_data().len();
        }
        writer.await.unwrap();
        assert_eq!(pump.await.unwrap().unwrap(), TOTAL as u64);
        assert_eq!(got, TOTAL);
    }

    #[test]
    fn ends_response_knows_completions_from_other_lines() {
        assert!(ends_response(
            b"* 1 FETCH (FLAGS ())\r\nA1 OK done\r\n",
            false
        ));
        assert!(ends_response(b"A1 NO [TRYCREATE] no\r\n", true));
        assert!(ends_response(b"x BAD what\r\n", true));
        assert!(ends_response(b"+ idling\r\n", true));
        assert!(ends_response(b"+\r\n", true));
        // Untagged data, header lines in a literal, partial lines.
        assert!(!ends_response(b"* 3 EXISTS\r\n", true));
        assert!(!ends_response(b"Subject: A1 OK\r\n", true));
        assert!(!ends_response(b"A1 OK done", true));
        assert!(!ends_response(b"A1 OK done\r\n", false));
        assert!(!ends_response(b"\r\n", true));
    }

    /// Writes enough that the pump's read size grows (it is streaming), the
    /// last line complete, and waits until it was relayed.
    async fn stream_big(far: &mut tokio::io::DuplexStream, rx: &mut mpsc::Receiver<Message>) {
        let mut big = pattern(4 * READ_CHUNK);
        big.extend_from_slice(b"\r\n");
        far.write_all(&big).await.unwrap();
        let mut got = 0;
        while got < big.len() {
            got += rx.next().await.unwrap().into_data().len();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn streaming_response_pieces_are_gathered_into_one_frame() {
        let (mut far, near) = tokio::io::duplex(8 * READ_CHUNK);
        let (tx, mut rx) = mpsc::channel::<Message>(8);
        let _pump = tokio::spawn(server_to_browser(near, tx, LONG));
        stream_big(&mut far, &mut rx).await;
        far.write_all(b"* 9 FETCH (UID 9 FLAGS (\\Seen")
            .await
            .unwrap();
        for _ in 0..20 {
            tokio::task::yield_now().await; // the pump reads the piece and waits
        }
        far.write_all(b"))\r\nA1 OK done\r\n").await.unwrap();
        let frame = rx.next().await.unwrap().into_data();
        assert_eq!(
            &frame[..],
            b"* 9 FETCH (UID 9 FLAGS (\\Seen))\r\nA1 OK done\r\n"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn completion_of_a_streaming_response_goes_out_at_once() {
        let (mut far, near) = tokio::io::duplex(8 * READ_CHUNK);
        let (tx, mut rx) = mpsc::channel::<Message>(8);
        let _pump = tokio::spawn(server_to_browser(near, tx, LONG));
        stream_big(&mut far, &mut rx).await;
        let start = Instant::now();
        far.write_all(b"A1 OK done\r\n").await.unwrap();
        assert_eq!(&rx.next().await.unwrap().into_data()[..], b"A1 OK done\r\n");
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "waited for the coalescing timer"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unfinished_streaming_piece_waits_at_most_the_coalescing_time() {
        let (mut far, near) = tokio::io::duplex(8 * READ_CHUNK);
        let (tx, mut rx) = mpsc::channel::<Message>(8);
        let _pump = tokio::spawn(server_to_browser(near, tx, LONG));
        stream_big(&mut far, &mut rx).await;
        let start = Instant::now();
        far.write_all(b"* 9 FETCH (UID 9").await.unwrap();
        assert_eq!(
            &rx.next().await.unwrap().into_data()[..],
            b"* 9 FETCH (UID 9"
        );
        let waited = start.elapsed();
        assert!(waited >= COALESCE && waited < 2 * COALESCE, "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn quiet_session_reply_is_not_held() {
        let (mut far, near) = tokio::io::duplex(1024);
        let (tx, mut rx) = mpsc::channel::<Message>(8);
        let _pump = tokio::spawn(server_to_browser(near, tx, LONG));
        let start = Instant::now();
        far.write_all(b"* 4 EXISTS\r\n").await.unwrap();
        assert_eq!(&rx.next().await.unwrap().into_data()[..], b"* 4 EXISTS\r\n");
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
