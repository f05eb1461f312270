//! `relay-bench ws-relay LISTEN_PORT TARGET_PORT`: the smallest WebSocket
//! relay the bridge's stack allows, measured beside the bridge as the
//! two-hop reference of this machine.
//!
//! Same runtime (Tokio, multi-threaded), same WebSocket library
//! (tokio-tungstenite, as under axum) and the same largest frame (64 KiB)
//! as the bridge, with TCP_NODELAY on both sockets. Everything that makes
//! the bridge a service is left out: no Origin or subprotocol check, no
//! control messages, no configured servers or address checks, no limits,
//! timeouts, pings, coalescing, metrics or logs. Like websockify it speaks
//! binary frames only and connects each session to one fixed target.
//!
//! It listens on 127.0.0.1 and only ever connects to 127.0.0.1:TARGET_PORT.

use bytes::{BufMut, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::{Res, err};

/// Largest frame, as the bridge's `READ_CHUNK`.
const READ_CHUNK: usize = 64 * 1024;

/// Relays every accepted WebSocket session to 127.0.0.1:`target`.
pub async fn serve(listen: u16, target: u16) -> Res<()> {
    let listener = TcpListener::bind(("127.0.0.1", listen)).await?;
    loop {
        let (browser, _) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = session(browser, target).await {
                eprintln!("ws-relay: session ended: {e}");
            }
        });
    }
}

async fn session(browser: TcpStream, target: u16) -> Res<()> {
    browser.set_nodelay(true)?;
    let ws = tokio_tungstenite::accept_async(browser).await?;
    let upstream = TcpStream::connect(("127.0.0.1", target)).await?;
    upstream.set_nodelay(true)?;
    let (mut from_server, mut to_server) = upstream.into_split();
    let (mut to_browser, mut from_browser) = ws.split();
    let upward = async {
        while let Some(message) = from_browser.next().await {
            match message? {
                Message::Binary(data) => to_server.write_all(&data).await?,
                Message::Close(_) => break,
                Message::Text(_) => return Err(err("text frame: this relay is binary only")),
                _ => {}
            }
        }
        to_server.shutdown().await?;
        Ok::<_, crate::BoxError>(())
    };
    let downward = async {
        let mut buf = BytesMut::new();
        loop {
            buf.reserve(READ_CHUNK);
            if from_server
                .read_buf(&mut (&mut buf).limit(READ_CHUNK))
                .await?
                == 0
            {
                break;
            }
            to_browser
                .send(Message::Binary(buf.split().freeze()))
                .await?;
        }
        to_browser.close().await?;
        Ok::<_, crate::BoxError>(())
    };
    tokio::select! {
        res = upward => res,
        res = downward => res,
    }
}

/// Parses `LISTEN_PORT TARGET_PORT`.
pub fn ports(mut argv: impl Iterator<Item = String>) -> Option<(u16, u16)> {
    let listen = argv.next()?.parse().ok()?;
    let target = argv.next()?.parse().ok()?;
    Some((listen, target))
}
