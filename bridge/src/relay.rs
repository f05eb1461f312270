//! The two relay pumps, generic over streams so that tests can drive them
//! without sockets.
//!
//! Only binary frames carry data; text frames are control messages, handed
//! back to the caller. Neither pump buffers more than one read or one frame:
//! `server_to_browser` awaits the sink for every frame (that is the
//! backpressure towards the IMAP server), and `browser_to_server` writes and
//! flushes each frame before reading the next. Both take their streams by
//! value, so a caller that needs them back (the STARTTLS upgrade) passes
//! `&mut` references.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, MissedTickBehavior};

use axum::extract::ws::{Message, Utf8Bytes};

use crate::error::RelayError;

/// Largest single read from the IMAP server, hence the largest binary frame
/// the bridge sends.
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
        match item.map_err(RelayError::from_ws)? {
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

/// Forwards bytes from the IMAP server to the browser, one binary frame per
/// read of at most [`READ_CHUNK`] bytes, and sends a Ping every
/// `ping_every` so that proxies and NAT boxes see traffic on a quiet
/// session.
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
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        // Reuses the allocation once the previous frame's bytes are dropped.
        buf.reserve(READ_CHUNK);
        let read = async {
            let mut limited = (&mut buf).limit(READ_CHUNK);
            upstream.read_buf(&mut limited).await
        };
        // `read_buf` is cancel safe: a tick loses no upstream bytes.
        let n = tokio::select! {
            res = read => res.map_err(RelayError::UpstreamRead)?,
            _ = ping.tick() => {
                frames
                    .send(Message::Ping(Bytes::new()))
                    .await
                    .map_err(RelayError::from_ws)?;
                continue;
            }
        };
        if n == 0 {
            return Ok(total);
        }
        let chunk = buf.split().freeze();
        frames
            .send(Message::Binary(chunk))
            .await
            .map_err(RelayError::from_ws)?;
        total += n as u64;
    }
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

    fn pattern(len: usize) -> Vec<u8> {
        // Deterministic, non-repeating at small periods.
        let mut x: u32 = 0x1234_5678;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
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
}
