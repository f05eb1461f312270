//! Differential tests: on every message imap-codec's decoder accepts, ours must return the
//! same value. Real captures, hand-written shapes, random mutations of both, and random
//! responses from imap-types' `Arbitrary` encoded by imap-codec.

use super::{greeting, response};
use client_wasm_receive::framing::{Framed, Framer};
use imap_codec::decode::Decoder;
use imap_codec::{GreetingCodec, ResponseCodec};
use imap_types::response::{Greeting, Response};
use std::path::Path;

/// Asserts agreement on `message`; true when imap-codec accepted it.
fn agree(message: &[u8]) -> bool {
    let shown = String::from_utf8_lossy(message);
    let mut accepted = false;
    if let Ok(([], expected)) = ResponseCodec::default().decode(message) {
        assert_eq!(response(message), Some(expected), "response {shown:?}");
        accepted = true;
    }
    if let Ok(([], expected)) = GreetingCodec::default().decode(message) {
        assert_eq!(greeting(message), Some(expected), "greeting {shown:?}");
        accepted = true;
    }
    accepted
}

/// The complete messages in `bytes`, framed as the engine frames them.
fn messages(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut framer = Framer::new(1 << 26);
    let mut input = bytes;
    let mut messages = Vec::new();
    while let Some(framed) = framer.next(&mut input) {
        if let Framed::Complete(message) = framed {
            messages.push(message.to_vec());
        }
    }
    messages
}

/// Every complete message of every capture in the shared corpus (none when it is absent).
pub(super) fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/imap-responses");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("corpus absent at {}: skipping its messages", dir.display());
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .flat_map(|bytes| messages(&bytes))
        .collect()
}

/// One of each shape the decoder knows, and near misses imap-codec reads in a particular way.
const SHAPES: &[&[u8]] = &[
    b"* OK IMAP4rev1 ready\r\n",
    b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] logged in\r\n",
    b"* BYE [ALERT] going down\r\n",
    b"* OK [ALERT] \r\n",
    b"* OK [ALERT]\r\n",
    b"* OK [ALERT-X] odd code\r\n",
    b"* OK [UNSEEN 0] zero is not a number here\r\n",
    b"* OK [UNSEEN 12] first unseen\r\n",
    b"* OK [UIDNEXT 4392] next\r\n",
    b"* OK [UIDVALIDITY 3857529045] valid\r\n",
    b"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] limited\r\n",
    b"* OK [PERMANENTFLAGS ()] none\r\n",
    b"* OK [HIGHESTMODSEQ 715194045007] mod\r\n",
    b"* OK [NOMODSEQ] no\r\n",
    b"* OK [CLOSED] closed\r\n",
    b"* OK [READ-ONLY] ro\r\n",
    b"a1 OK [READ-WRITE] SELECT completed\r\n",
    b"a2 NO [TRYCREATE] no such mailbox\r\n",
    b"a3 OK [APPENDUID 38505 3955] APPEND completed\r\n",
    b"a4 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
    b"a5 OK [MODIFIED 7,9:*] conditional store\r\n",
    b"a6 NO [BADCHARSET (UTF-8 \"X Y\")] charset\r\n",
    b"a6 NO [BADCHARSET] charset\r\n",
    b"a7 BAD [PARSE] no\r\n",
    b"a8 NO [OVERQUOTA] [TOOBIG] x\r\n",
    b"a9 OK [UIDNOTSTICKY] [UNKNOWN-CTE] [COMPRESSIONACTIVE]\r\n",
    b"a10 OK [X-GM-WEIRD 1 2] other\r\n",
    b"a11 ok lower case\r\n",
    b"A.b-c OK done\r\n",
    b"+ Ready for literal data\r\n",
    b"+\r\n",
    b"+ \r\n",
    b"+ YQ==\r\n",
    b"+ [ALERT] look\r\n",
    b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN AUTH=SCRAM-SHA-256 LOGINDISABLED \r\n",
    b"* CAPABILITY IMAP4rev1 SORT THREAD=REFERENCES COMPRESS=DEFLATE X-GM-EXT-1\r\n",
    b"* ENABLED CONDSTORE QRESYNC\r\n",
    b"* ENABLED\r\n",
    b"* ID (\"name\" \"Dovecot\" \"version\" NIL)\r\n",
    b"* ID NIL\r\n",
    b"* ID ()\r\n",
    b"* ID (\"name\" \"x\" )\r\n",
    b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n",
    b"* FLAGS ()\r\n",
    b"* LIST (\\HasNoChildren \\Noselect) \"/\" \"INBOX/Sub folder\"\r\n",
    b"* LIST () NIL inbox\r\n",
    b"* LIST (\\Marked) \"\\\\\" {4}\r\nDr\"x\r\n",
    b"* LSUB () \".\" Archive.2020\r\n",
    b"* LIST (\\Sent) \"/\" &AMk-t&AOk-\r\n",
    b"* SEARCH 2 84 882\r\n",
    b"* SEARCH\r\n",
    b"* SEARCH \r\n",
    b"* SEARCH 2 5 (MODSEQ 917162500)\r\n",
    b"* SORT 2 84 882\r\n",
    b"* SORT\r\n",
    b"* THREAD (2)(3 6 (4 23)(44 7 96))\r\n",
    b"* THREAD ((1)(2))\r\n",
    b"* THREAD\r\n",
    b"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
    b"* STATUS \"A b\" (MESSAGES 1 RECENT 0 UIDNEXT 2 UIDVALIDITY 3 UNSEEN 4 DELETED 5 DELETED-STORAGE 6 HIGHESTMODSEQ 7) \r\n",
    b"* STATUS x ()\r\n",
    b"* NAMESPACE ((\"\" \"/\")) NIL ((\"Public Folders/\" \"/\"))\r\n",
    b"* NAMESPACE ((\"INBOX.\" \".\" \"X-PARAM\" (\"a\" \"b\"))) ((\"~\" NIL)) NIL\r\n",
    b"* 23 EXISTS\r\n",
    b"* 0 RECENT\r\n",
    b"* 0 EXISTS\r\n",
    b"* 44 EXPUNGE\r\n",
    b"* VANISHED (EARLIER) 41,43:116,118\r\n",
    b"* VANISHED 405\r\n",
    b"* 12 FETCH (FLAGS (\\Seen) UID 4)\r\n",
    b"* QUOTA \"\" (STORAGE 10 512)\r\n",
    b"* QUOTA \"\" (STORAGE 0 2147483647 MESSAGE 0  2147483647)\r\n",
    b"* QUOTAROOT INBOX \"\" user.x\r\n",
    b"* QUOTAROOT INBOX\r\n",
];

#[test]
fn hand_written_shapes_decode_as_imap_codec_decodes_them() {
    let accepted = SHAPES.iter().filter(|shape| agree(shape)).count();
    assert!(accepted > SHAPES.len() * 3 / 4, "only {accepted} accepted");
}

#[test]
fn every_corpus_message_decodes_as_imap_codec_decodes_it() {
    for message in corpus() {
        agree(&message);
    }
}

/// `rounds` messages, each one of `seeds` (in turn) with one to three bytes of `alphabet`
/// replaced, inserted or deleted at random places.
pub(super) fn mutations(
    seeds: &[Vec<u8>],
    rounds: usize,
    seed: u64,
    alphabet: &[u8],
) -> impl Iterator<Item = Vec<u8>> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut next = move || rng.u64(..);
    (0..rounds).map(move |round| {
        let mut message = seeds[round % seeds.len()].clone();
        for _ in 0..=next() % 3 {
            let at = (next() as usize) % (message.len() + 1);
            let byte = alphabet[(next() as usize) % alphabet.len()];
            match next() % 3 {
                0 if at < message.len() => {
                    message.remove(at);
                }
                1 if at < message.len() => message[at] = byte,
                _ => message.insert(at, byte),
            }
        }
        message
    })
}

#[test]
fn mutated_messages_decode_as_imap_codec_decodes_them() {
    let seeds: Vec<Vec<u8>> = SHAPES
        .iter()
        .map(|shape| shape.to_vec())
        .chain(corpus())
        .collect();
    let alphabet = b" ()[]{}\"\\*+:,.0123456789NILnil\r\nABCxyz%&~\x00\x80";
    for message in mutations(&seeds, 20_000, 0x5851_f42d_4c95_7f2d, alphabet) {
        agree(&message);
    }
}

#[test]
fn arbitrary_responses_decode_as_imap_codec_decodes_them() {
    use arbitrary::{Arbitrary, Unstructured};
    use imap_codec::encode::Encoder;
    let mut rng = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
    let mut next = move || rng.u64(..);
    let mut agreed = 0;
    for _ in 0..20_000 {
        let noise: Vec<u8> = (0..512).map(|_| next() as u8).collect();
        if let Ok(generated) = Response::arbitrary(&mut Unstructured::new(&noise)) {
            agreed += usize::from(agree(&ResponseCodec::default().encode(&generated).dump()));
        }
        if let Ok(generated) = Greeting::arbitrary(&mut Unstructured::new(&noise)) {
            agreed += usize::from(agree(&GreetingCodec::default().encode(&generated).dump()));
        }
    }
    assert!(agreed > 15_000, "only {agreed} random responses decoded");
}
