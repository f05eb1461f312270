//! The summary FETCH fast path (`client_wasm_receive::summary_fetch`) against imap-codec:
//! what the fast path accepts, it reads as the generic path does.
use crate::message::{Flag, shared_if_system, summary_flags};
use client_wasm_receive::summary_fetch::parse;
use imap_codec::ResponseCodec;
use imap_codec::decode::Decoder;
use imap_types::fetch::{MessageDataItem, Section};
use imap_types::response::{Data, Response};

/// Sequence number, UID, flags, size, INTERNALDATE and the header's bytes.
type Read = (u32, u32, Vec<Flag>, Option<u32>, Option<i64>, Vec<u8>);

/// What imap-codec reads from the same bytes, in the reader's terms.
fn generic(message: &[u8]) -> Option<Read> {
    let Ok(([], Response::Data(Data::Fetch { seq, items }))) =
        ResponseCodec::default().decode(message)
    else {
        return None;
    };
    let (mut uid, mut flags, mut size, mut date) = (0, Vec::new(), None, None);
    let mut header = Vec::new();
    for item in items.as_ref() {
        match item {
            MessageDataItem::Uid(value) => uid = value.get(),
            MessageDataItem::Flags(list) => {
                let list = list.iter().map(Flag::from_fetch).collect();
                flags = shared_if_system(list).into_owned();
            }
            MessageDataItem::Rfc822Size(value) => size = Some(*value),
            MessageDataItem::InternalDate(value) => {
                date = Some(value.as_ref().timestamp_millis());
            }
            MessageDataItem::BodyExt {
                section: Some(Section::Header(None)),
                origin: None,
                data,
            } => header = data.0.as_ref().map(|d| d.as_ref().to_vec())?,
            _ => {}
        }
    }
    Some((seq.get(), uid, flags, size, date, header))
}

fn fast(message: &[u8]) -> Option<Read> {
    let fetch = parse(message)?;
    Some((
        fetch.seq,
        fetch.uid.get(),
        summary_flags(fetch.flags).into_owned(),
        fetch.size,
        fetch.internal_date,
        fetch.header.to_vec(),
    ))
}

#[test]
fn the_summary_shape_reads_as_imap_codec_reads_it() {
    for message in [
        &b"* 7 FETCH (UID 42 FLAGS (\\Seen $Forwarded \\XExt \\RECENT) RFC822.SIZE 1234 INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" BODY[HEADER] {4}\r\nA: b)\r\n"[..],
        b"* 1 FETCH (BODY[HEADER] {0}\r\n INTERNALDATE \" 1-feb-2024 23:59:59 +1400\" UID 1 FLAGS ())\r\n",
        b"* 2 FETCH (UID 4294967295 BODY[HEADER] {2}\r\n\r\n INTERNALDATE \"29-Feb-2000 00:00:00 +0000\")\r\n",
    ] {
        let expected = generic(message);
        assert!(expected.is_some(), "imap-codec reads {message:?}");
        assert_eq!(fast(message), expected, "{message:?}");
    }
}

#[test]
fn what_the_fast_path_accepts_imap_codec_reads_the_same() {
    let base: &[u8] = b"* 7 FETCH (UID 42 FLAGS (\\Seen $F) RFC822.SIZE 12 INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" BODY[HEADER] {4}\r\nA: b)\r\n";
    let alphabet = b" ()\\\"{}0123456789-:+\r\nAUIDSFLGeJj$*]";
    let mut rng = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
    let mut next = move || rng.u64(..);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let mut message = base.to_vec();
        for _ in 0..1 + next() % 3 {
            let at = (next() % message.len() as u64) as usize;
            let byte = alphabet[(next() % alphabet.len() as u64) as usize];
            match next() % 3 {
                0 => message[at] = byte,
                1 => message.insert(at, byte),
                _ => drop(message.remove(at)),
            }
        }
        if let Some(read) = fast(&message) {
            accepted += 1;
            assert_eq!(
                Some(read),
                generic(&message),
                "{:?}",
                String::from_utf8_lossy(&message)
            );
        }
    }
    assert!(accepted > 100, "only {accepted} mutations kept the shape");
}
