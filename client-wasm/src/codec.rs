//! Bytes to responses (`decode`) and commands to bytes (`encode`): the engine's own wire
//! format over imap-types' values, held to imap-codec's results by tests and debug checks.
//!
//! Framing (lines and literals) comes first and is independent of parsing, so a response the
//! parser rejects is skipped whole and the stream stays in sync.

mod decode;
mod encode;
#[cfg(test)]
mod summary_tests;

use crate::esearch::{self, Esearch};
use crate::gmail::GmailItems;
use crate::lenient::{self, normalize_spacing, repair_line, xlist_as_list};
use crate::lenient_fetch::rewrite_fetch;
use client_wasm_receive::framing::{Framed, Framer};
pub(crate) use client_wasm_receive::summary_fetch::{self, SummaryFetch};
use encode::{Fragment, Writer};
use imap_types::command::Command as WireCommand;
use imap_types::core::{AString, LiteralMode, Text};
use imap_types::fetch::MessageDataItem;
use imap_types::response::{Data, Greeting, Response};
use std::collections::VecDeque;

/// What one complete message from the server decoded to.
pub(crate) enum Frame<'a> {
    Greeting(Greeting<'a>),
    Response(Response<'a>),
    /// A message-list FETCH read by the fast path (only from [`ResponseReader::next_frame`],
    /// which the session uses).
    Summary(SummaryFetch<'a>),
    /// `* ESEARCH`, which the decoder leaves to `esearch` (imap-types has no type for it).
    Esearch(Esearch),
    /// A FETCH response with Gmail's X-GM items, which imap-types has no type for.
    Gmail(GmailFetch<'a>),
    /// A one-line response whose 8-bit text imap-types' `Text` cannot hold (Gmail's raw UTF-8
    /// mailbox names, capture 044): read with each such character as `?`, plus the line as
    /// sent, from which the session shows the text as written.
    Verbatim(Response<'a>, String),
    /// Framed but not understood, or larger than the limit: skipped.
    Skipped {
        reason: &'static str,
        length: usize,
    },
}

/// A FETCH response's Gmail items, and its other items as the decoder read them.
pub(crate) struct GmailFetch<'a> {
    pub(crate) seq: u32,
    pub(crate) gmail: GmailItems,
    pub(crate) others: Vec<MessageDataItem<'a>>,
}

/// How the first message of a stream is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstMessage {
    /// A connection's first message is its greeting (RFC 3501 §7.1).
    Greeting,
    /// A capture may start mid-session: the first message is a greeting if it decodes as one,
    /// else an ordinary response.
    GreetingIfAny,
}

/// Splits the server's byte stream into complete messages and decodes each.
pub(crate) struct ResponseReader {
    framer: Framer,
    first: FirstMessage,
    greeted: bool,
    /// The lenient rewrite of a message the strict parser rejected.
    scratch: Vec<u8>,
}

impl ResponseReader {
    /// `max_message_size` bounds one response including its literals.
    pub(crate) fn new(max_message_size: u32) -> Self {
        Self::with_first(max_message_size, FirstMessage::Greeting)
    }

    fn with_first(max_message_size: u32, first: FirstMessage) -> Self {
        Self {
            framer: Framer::new(max_message_size),
            first,
            greeted: false,
            scratch: Vec::new(),
        }
    }

    /// Drops the bytes of a message received only in part (after STARTTLS's OK).
    pub(crate) fn discard_buffered(&mut self) {
        self.framer.clear();
    }

    /// The next complete message from what is buffered and `input`, with its length on the
    /// wire, or `None` once `input` is used up. `input` is left with the bytes after the
    /// message. With `summaries` (a list FETCH is in flight), message-list FETCH responses
    /// come out as [`Frame::Summary`].
    pub(crate) fn next_frame<'a, 'b: 'a>(
        &'a mut self,
        input: &mut &'b [u8],
        summaries: bool,
    ) -> Option<(usize, Frame<'a>)> {
        let framed = self.framer.next(input)?;
        let greeting = match std::mem::replace(&mut self.greeted, true) {
            true => None,
            false => Some(self.first == FirstMessage::Greeting),
        };
        Some(match framed {
            Framed::Complete(message) => (
                message.len(),
                decode(message, &mut self.scratch, greeting, summaries),
            ),
            Framed::TooLong { length } => (
                length,
                Frame::Skipped {
                    reason: "response larger than the size limit",
                    length,
                },
            ),
        })
    }
}

/// `Frame::Verbatim` for a one-line response with 8-bit bytes, else `Frame::Response`.
fn with_line<'a>(message: &[u8], response: Response<'a>) -> Frame<'a> {
    let line = message.strip_suffix(b"\n").unwrap_or(message);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_ascii() || line.contains(&b'\n') {
        return Frame::Response(response);
    }
    Frame::Verbatim(response, String::from_utf8_lossy(line).into_owned())
}

/// Decodes a framed message: strictly, then once more with its padding normalised; with
/// `summaries`, the list's FETCH shape first through the fast path. `greeting` is
/// `Some(required)` for a stream's first message.
fn decode<'a>(
    message: &'a [u8],
    scratch: &'a mut Vec<u8>,
    greeting: Option<bool>,
    summaries: bool,
) -> Frame<'a> {
    if summaries
        && greeting.is_none()
        && let Some(fetch) = summary_fetch::parse(message)
    {
        return Frame::Summary(fetch);
    }
    let skipped = |reason| Frame::Skipped {
        reason,
        length: message.len(),
    };
    if greeting != Some(true)
        && let Some(esearch) = esearch::parse(message)
    {
        return esearch.map_or_else(skipped, Frame::Esearch);
    }
    const NOT_UNDERSTOOD: &str = "response not understood";
    if let Some(required) = greeting {
        if let Some(greeting) = decode::greeting(message) {
            return Frame::Greeting(greeting);
        }
        if required {
            let parses = |m: &[u8]| decode::greeting(m).is_some();
            return repaired(parses, message, scratch)
                .then(|| decode::greeting(scratch))
                .flatten()
                .map_or_else(|| skipped(NOT_UNDERSTOOD), Frame::Greeting);
        }
    }
    if let Some(response) = decode::response(message) {
        return Frame::Response(response);
    }
    match GmailItems::split(message, scratch) {
        Some((seq, gmail)) => gmail_fetch(seq, gmail, scratch).map_or_else(
            || skipped("FETCH with Gmail items not understood"),
            Frame::Gmail,
        ),
        None => repaired(|m| decode::response(m).is_some(), message, scratch)
            .then(|| decode::response(scratch))
            .flatten()
            .map_or_else(
                || skipped(NOT_UNDERSTOOD),
                |response| with_line(message, response),
            ),
    }
}

/// The Gmail items `GmailItems::split` took out, with the FETCH items it left in `rest` (none
/// when `rest` is empty).
fn gmail_fetch(seq: u32, gmail: GmailItems, rest: &[u8]) -> Option<GmailFetch<'_>> {
    let others = match rest {
        [] => Vec::new(),
        _ => match decode::response(rest)? {
            Response::Data(Data::Fetch { items, .. }) => items.into_inner(),
            _ => return None,
        },
    };
    Some(GmailFetch { seq, gmail, others })
}

/// The second try: leaves in `scratch` the message with its padding normalised (and XLIST
/// read as LIST) when that changed something and `parses`, else (or when that still fails)
/// a FETCH response's shape repaired, else a one-line shape of a particular server's
/// (`lenient::repair_line`); false when there is nothing to try.
fn repaired(parses: fn(&[u8]) -> bool, message: &[u8], scratch: &mut Vec<u8>) -> bool {
    let respaced = normalize_spacing(message, scratch);
    let normalized = (xlist_as_list(scratch) || respaced) && parses(scratch);
    normalized || rewrite_fetch(message, scratch) || repair(message, scratch)
}

/// The one-line repairs, on the message with its padding normalised.
fn repair(message: &[u8], scratch: &mut Vec<u8>) -> bool {
    let respaced = normalize_spacing(message, scratch).then(|| std::mem::take(scratch));
    repair_line(respaced.as_deref().unwrap_or(message), scratch)
}

/// The engine's response reader on its own, for tools that look at a server's bytes without
/// a session: the `replay` binary, the corpus test and the fuzz targets.
///
/// Framing (lines and literals, by imap-codec's `Fragmentizer` rules) comes first and is independent of
/// parsing, so a message the parser rejects is reported as [`Decoded::Skipped`] and the next
/// one starts where it ended. Any chunking of the same bytes yields the same messages.
///
/// The first message is decoded as a greeting when it is one; captures that start
/// mid-session are read as ordinary responses from the start.
pub struct ResponseStream {
    reader: ResponseReader,
    /// Bytes pushed; those before `read` were framed or buffered by the reader.
    pending: Vec<u8>,
    read: usize,
    pushed: u64,
    framed: u64,
}

/// One complete message from the server.
#[derive(Debug)]
pub struct StreamMessage<'a> {
    /// Where the message starts in the stream, counted from the first byte pushed.
    pub offset: u64,
    /// Its length on the wire, literals included.
    pub length: usize,
    pub decoded: Decoded<'a>,
    /// The response's line when it held 8-bit text: see [`Self::shown_text`].
    line: Option<String>,
}

impl StreamMessage<'_> {
    /// A status text of this message as the server wrote it: 8-bit characters included
    /// (Gmail's UTF-8 mailbox names), which imap-types' `Text` reads as `?` each.
    pub fn shown_text(&self, text: &Text<'_>) -> String {
        lenient::shown_text(self.line.as_deref(), text)
    }
}

/// What a message decoded to.
#[derive(Debug)]
pub enum Decoded<'a> {
    Greeting(Greeting<'a>),
    Response(Response<'a>),
    Esearch(Esearch),
    /// Framed but not understood, or larger than the size limit: skipped whole.
    Skipped {
        reason: &'static str,
    },
}

impl ResponseStream {
    /// The size limit the engine's `Config::new` uses: 64 MiB per response, literals included.
    pub const DEFAULT_MAX_MESSAGE_SIZE: u32 = 64 * 1024 * 1024;

    /// `max_message_size` bounds one message including its literals; longer ones are framed
    /// to their end but not kept, and come out as [`Decoded::Skipped`].
    pub fn new(max_message_size: u32) -> Self {
        Self {
            reader: ResponseReader::with_first(max_message_size, FirstMessage::GreetingIfAny),
            pending: Vec::new(),
            read: 0,
            pushed: 0,
            framed: 0,
        }
    }

    /// Bytes from the server, in any chunking.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pushed = self.pushed.saturating_add(bytes.len() as u64);
        self.pending.drain(..self.read);
        self.read = 0;
        self.pending.extend_from_slice(bytes);
    }

    /// The next complete message, or `None` until more bytes are pushed.
    pub fn next_message(&mut self) -> Option<StreamMessage<'_>> {
        let mut input = &self.pending[self.read..];
        let next = self.reader.next_frame(&mut input, false);
        self.read = self.pending.len() - input.len();
        let (length, frame) = next?;
        let offset = self.framed;
        self.framed = self.framed.saturating_add(length as u64);
        let mut line = None;
        let decoded = match frame {
            Frame::Greeting(greeting) => Decoded::Greeting(greeting),
            Frame::Response(response) => Decoded::Response(response),
            Frame::Verbatim(response, verbatim) => {
                line = Some(verbatim);
                Decoded::Response(response)
            }
            Frame::Esearch(esearch) => Decoded::Esearch(esearch),
            Frame::Skipped { reason, .. } => Decoded::Skipped { reason },
            Frame::Summary(_) => Decoded::Skipped {
                reason: "read by the summary fast path",
            },
            Frame::Gmail(_) => Decoded::Skipped {
                reason: "Gmail's FETCH items, read by the session only",
            },
        };
        Some(StreamMessage {
            offset,
            length,
            decoded,
            line,
        })
    }

    /// Every byte pushed so far.
    pub fn bytes_pushed(&self) -> u64 {
        self.pushed
    }

    /// Bytes that belong to complete messages returned by `next_message` so far.
    pub fn bytes_framed(&self) -> u64 {
        self.framed
    }

    /// Bytes pushed that do not yet form a complete message (a cut-off capture's tail), once
    /// `next_message` has returned `None`.
    pub fn incomplete_tail_bytes(&self) -> u64 {
        self.pushed.saturating_sub(self.framed)
    }
}

impl Default for ResponseStream {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_MESSAGE_SIZE)
    }
}

/// Which literals may go without waiting for the server's `+` (RFC 7888, row V0017).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum NonSyncLiterals {
    #[default]
    Never,
    /// LITERAL- (and IMAP4rev2): up to 4096 octets.
    Small,
    /// LITERAL+: any size.
    Any,
}

impl NonSyncLiterals {
    const SMALL_MAX: usize = 4096;

    fn allow(self, length: usize) -> bool {
        match self {
            Self::Never => false,
            Self::Small => length <= Self::SMALL_MAX,
            Self::Any => true,
        }
    }
}

/// A command ready to send: pieces separated where the server must first say `+`.
#[derive(Debug, Clone, Default)]
pub(crate) struct OutgoingCommand {
    pieces: VecDeque<Vec<u8>>,
}

impl OutgoingCommand {
    /// Encodes with the engine's encoder, which writes each caller string in the form
    /// imap-types validated it into (atom, quoted or literal, by content), so nothing
    /// caller-supplied can end the command line early.
    pub(crate) fn encode(command: &WireCommand<'_>, non_sync: NonSyncLiterals) -> Self {
        Self::from_fragments(encoded(command), non_sync)
    }

    /// Turns an encoded `<tag> LIST ...` into syntax imap-types cannot express: another
    /// command `name` (XLIST), RFC 5258 selection options after it, return options at the end.
    /// The engine passes constants only, so nothing caller-supplied is spliced in.
    pub(crate) fn extend_list(&mut self, name: &str, selection: &str, returns: &str) {
        self.replace_first(b" LIST ", format!(" {name}{selection} ").as_bytes());
        if let Some(last) = self.pieces.back_mut()
            && last.ends_with(b"\r\n")
        {
            let end = last.len() - 2;
            last.splice(end..end, returns.bytes());
        }
    }

    /// Turns an encoded `<tag> UID SEARCH ...` into RFC 4731's `<tag> UID SEARCH RETURN
    /// (options) ...`, which imap-types cannot express. `options` is an engine constant.
    pub(crate) fn extend_search(&mut self, options: &str) {
        let with_return = format!(" UID SEARCH RETURN ({options}) ");
        self.replace_first(b" UID SEARCH ", with_return.as_bytes());
    }

    /// Encodes as `encode` does, then replaces the end the encoder wrote, `tail.cut` (an
    /// engine constant), with `tail`: syntax imap-types cannot express.
    pub(crate) fn encode_with_tail(
        command: &WireCommand<'_>,
        non_sync: NonSyncLiterals,
        tail: &CommandTail,
    ) -> Self {
        let mut fragments = encoded(command);
        if let Some(Fragment::Line(data)) = fragments.last_mut()
            && data.ends_with(tail.cut)
        {
            data.truncate(data.len() - tail.cut.len());
            fragments.extend(tail.fragments.iter().cloned());
        }
        Self::from_fragments(fragments, non_sync)
    }

    /// Replaces the first `from` in the command's first piece with `to`, both engine
    /// constants; the caller knows only constants come before the one it means (a LIST's or
    /// SEARCH's name, Gmail's X-GM-RAW key), never anything caller-supplied.
    pub(crate) fn replace_first(&mut self, from: &[u8], to: &[u8]) {
        if let Some(first) = self.pieces.front_mut()
            && let Some(at) = first.windows(from.len()).position(|w| w == from)
        {
            first.splice(at..at + from.len(), to.iter().copied());
        }
    }

    fn from_fragments(fragments: Vec<Fragment>, non_sync: NonSyncLiterals) -> Self {
        let mut pieces = VecDeque::new();
        let mut current = Vec::new();
        for fragment in fragments {
            match fragment {
                Fragment::Line(data) => current.extend_from_slice(&data),
                Fragment::Literal { data, mode } => {
                    let waits = mode == LiteralMode::Sync
                        && !(non_sync.allow(data.len()) && make_non_sync(&mut current, data.len()));
                    if waits {
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

/// The end of a command in syntax imap-types has no type for (Gmail's X-GM items): what
/// replaces `cut`, the constant end the encoder wrote. Caller strings enter it only as
/// imap-types values, in the form imap-types chose for their bytes.
#[derive(Debug, Clone)]
pub(crate) struct CommandTail {
    cut: &'static [u8],
    fragments: Vec<Fragment>,
}

impl CommandTail {
    pub(crate) fn new(cut: &'static [u8]) -> Self {
        Self {
            cut,
            fragments: Vec::new(),
        }
    }

    /// Engine constants, or bytes imap-types validated (an atom).
    pub(crate) fn push_line(&mut self, data: &[u8]) {
        self.fragments.push(Fragment::Line(data.to_vec()));
    }

    /// `value` written as the encoder writes an astring in a command.
    pub(crate) fn push_astring(&mut self, value: &AString<'_>) {
        let mut writer = Writer::default();
        writer.astring(value);
        self.fragments.extend(writer.finish());
    }
}

/// The engine's encoding of `command`; in debug builds (every test) checked byte for byte
/// against imap-codec's, the reference it was written to.
fn encoded(command: &WireCommand<'_>) -> Vec<Fragment> {
    let ours = encode::command(command);
    #[cfg(debug_assertions)]
    {
        use imap_codec::encode::{Encoder, Fragment as Theirs};
        let theirs: Vec<Fragment> = imap_codec::CommandCodec::default()
            .encode(command)
            .map(|fragment| match fragment {
                Theirs::Line { data } => Fragment::Line(data),
                Theirs::Literal { data, mode } => Fragment::Literal { data, mode },
            })
            .collect();
        assert_eq!(
            ours, theirs,
            "the engine's command encoding is not imap-codec's"
        );
    }
    ours
}

/// Turns the `{N}` announcement ending `line` into `{N+}`; false if it is not there.
fn make_non_sync(line: &mut Vec<u8>, length: usize) -> bool {
    let announcement = format!("{{{length}}}\r\n");
    if !line.ends_with(announcement.as_bytes()) {
        return false;
    }
    line.insert(line.len() - 3, b'+');
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_types::command::CommandBody;

    fn pieces(command: &WireCommand<'_>) -> Vec<Vec<u8>> {
        pieces_with(command, NonSyncLiterals::Never)
    }

    fn pieces_with(command: &WireCommand<'_>, non_sync: NonSyncLiterals) -> Vec<Vec<u8>> {
        let mut out = OutgoingCommand::encode(command, non_sync);
        std::iter::from_fn(|| out.next_piece()).collect()
    }

    #[test]
    fn v0017_non_synchronizing_literals_only_as_literal_plus_or_minus_allow() {
        let append = |size: usize| {
            let body = CommandBody::append("Drafts", vec![], None, vec![b'x'; size]).unwrap();
            WireCommand::new("a001", body).unwrap()
        };
        let small = append(4096);
        let large = append(4097);
        assert_eq!(
            pieces_with(&small, NonSyncLiterals::Small)[0],
            b"a001 APPEND Drafts {4096+}\r\n"
                .iter()
                .chain(&[b'x'; 4096])
                .chain(b"\r\n")
                .copied()
                .collect::<Vec<u8>>()
        );
        let minus = pieces_with(&large, NonSyncLiterals::Small);
        assert_eq!(
            minus.len(),
            2,
            "LITERAL- allows at most 4096 octets without '+'"
        );
        assert_eq!(minus[0], b"a001 APPEND Drafts {4097}\r\n");
        let plus = pieces_with(&large, NonSyncLiterals::Any);
        assert_eq!(plus.len(), 1);
        assert!(plus[0].starts_with(b"a001 APPEND Drafts {4097+}\r\nxxx"));
        assert_eq!(pieces_with(&small, NonSyncLiterals::Never).len(), 2);
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
        let mut input = &b"* OK hi\r\n* 1 FETCH (BOGUS {3}\r\nx\r\n)\r\n* 2 EXISTS\r\n"[..];
        let mut kinds = Vec::new();
        while let Some((_, frame)) = reader.next_frame(&mut input, true) {
            kinds.push(match frame {
                Frame::Greeting(_) => "greeting",
                Frame::Skipped { .. } => "skipped",
                Frame::Response(_) => "response",
                _ => "other",
            });
        }
        assert_eq!(kinds, ["greeting", "skipped", "response"]);
    }

    fn summarise(stream: &mut ResponseStream) -> Vec<(u64, usize, &'static str)> {
        let mut out = Vec::new();
        while let Some(message) = stream.next_message() {
            let kind = match message.decoded {
                Decoded::Greeting(_) => "greeting",
                Decoded::Response(_) | Decoded::Esearch(_) => "response",
                Decoded::Skipped { .. } => "skipped",
            };
            out.push((message.offset, message.length, kind));
        }
        out
    }

    #[test]
    fn response_stream_reports_offsets_lengths_and_the_incomplete_tail() {
        let bytes: &[u8] = b"* OK hi\r\n* 1 FETCH (BOGUS {3}\r\nx\r\n)\r\n* 2 EXISTS\r\n* 3 EXI";
        let mut whole = ResponseStream::default();
        whole.push(bytes);
        let expected = vec![(0, 9, "greeting"), (9, 28, "skipped"), (37, 12, "response")];
        assert_eq!(summarise(&mut whole), expected);
        assert_eq!(whole.incomplete_tail_bytes(), 7);

        let mut bytewise = ResponseStream::default();
        let mut got = Vec::new();
        for byte in bytes {
            bytewise.push(std::slice::from_ref(byte));
            got.extend(summarise(&mut bytewise));
        }
        assert_eq!(got, expected);
        assert_eq!(bytewise.bytes_framed(), 49);
    }

    #[test]
    fn response_stream_reads_a_capture_that_starts_mid_session() {
        let mut stream = ResponseStream::default();
        stream.push(b"* 3 EXISTS\r\n* OK [UIDNEXT 4] x\r\n");
        let kinds: Vec<_> = summarise(&mut stream).into_iter().map(|m| m.2).collect();
        assert_eq!(kinds, ["response", "response"]);
    }

    #[test]
    fn response_stream_frames_an_oversized_message_to_its_true_end() {
        let mut stream = ResponseStream::new(16);
        stream
            .push(b"* OK hi\r\n* 1 FETCH (BODY[] {20}\r\n01234567890123456789)\r\n* 1 EXISTS\r\n");
        assert_eq!(
            summarise(&mut stream),
            vec![(0, 9, "greeting"), (9, 47, "skipped"), (56, 12, "response")]
        );
    }
}
