//! The few header fields a message-list row shows, read straight from the header bytes.
//!
//! A line scan (memchr for line ends, one byte to rule out most lines) finds the fields. Their
//! usual forms are read here (encoded words by `encoded_word`); any other value goes through
//! mail-parser's field parsers, which decode RFC 2047 words, unfold and read addresses, dates
//! and message IDs, and whose results the fast paths equal (the tests compare them). As in
//! mail-parser's whole-header parse, the last occurrence of a field wins. Received, List and
//! X- lines, most of a header, are never parsed.

use crate::summary_fetch::{clock_and_zone, digits_value, month as month_number, utc_seconds};
use crate::{ascii, encoded_word, lossy};
use mail_parser::parsers::MessageStream;
use mail_parser::{Addr, DateTime, HeaderName, MessageParser};
use serde::Serialize;

/// The fields, by their index in [`NAMES`].
const NAMES: [&[u8]; 7] = [
    b"From",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"In-Reply-To",
    b"References",
    b"Content-Type",
];
const FROM: usize = 0;
const SUBJECT: usize = 1;
const DATE: usize = 2;
const MESSAGE_ID: usize = 3;
const IN_REPLY_TO: usize = 4;
const REFERENCES: usize = 5;
const CONTENT_TYPE: usize = 6;

/// Hashes of the IDs threading needs; 0 when the field is absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ThreadKeys {
    pub message_id: u64,
    /// The parent: In-Reply-To's (last) ID.
    pub in_reply_to: u64,
    /// The thread's root: References' first ID.
    pub references: u64,
}

/// A sender as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Sender {
    pub name: Option<String>,
    pub address: Option<String>,
}

impl Sender {
    pub fn from_addr(addr: &Addr<'_>) -> Self {
        Self {
            name: addr.name().map(str::to_owned),
            address: addr.address().map(str::to_owned),
        }
    }
}

/// mail-parser's whole-header parser configured for the fields a summary uses: what the
/// summary read before this module (the benchmark and a test compare the two).
pub fn whole_header_parser() -> MessageParser {
    MessageParser::new()
        .header_address(HeaderName::From)
        .header_text(HeaderName::Subject)
        .header_date(HeaderName::Date)
        .header_id(HeaderName::MessageId)
        .header_id(HeaderName::InReplyTo)
        .header_id(HeaderName::References)
        .default_header_ignore()
}

/// What a list row takes from a message's header.
#[derive(Debug)]
pub struct HeaderSummary {
    pub subject: Option<String>,
    pub message_id: Option<String>,
    /// The Date header in milliseconds since the Unix epoch, when it parses.
    pub date: Option<i64>,
    pub from: Option<Sender>,
    /// The top-level type is multipart/mixed.
    pub has_attachments: bool,
    /// The IDs the message follows, oldest first (References, else In-Reply-To's first), as
    /// their [`id_hash`]: threading only compares them.
    pub references: Vec<u64>,
    pub thread: ThreadKeys,
}

impl HeaderSummary {
    /// Never inlined: the engine's callers are compiled for size, and this function's body
    /// inlined into one of them would be optimised as theirs is (lib.rs).
    #[inline(never)]
    pub fn read(header: &[u8]) -> Self {
        let fields = SummaryFields::find(header);
        let message_id = fields.message_id();
        let (references, thread) = fields.threading(message_id.as_deref());
        Self {
            subject: fields.subject(),
            date: fields.date(),
            from: fields.from(),
            has_attachments: fields.is_mixed(),
            message_id,
            references,
            thread,
        }
    }
}

/// The values of the summary fields, unparsed: each from after its colon to its end.
pub(crate) struct SummaryFields<'a> {
    values: [Option<&'a [u8]>; NAMES.len()],
}

impl<'a> SummaryFields<'a> {
    pub(crate) fn find(header: &'a [u8]) -> Self {
        let mut values = [None; NAMES.len()];
        let mut current = field_start(header);
        for lf in memchr::memchr_iter(b'\n', header) {
            let start = lf + 1;
            if matches!(header.get(start), None | Some(b' ' | b'\t')) {
                continue;
            }
            if let Some((field, value_start)) = current.take() {
                values[field] = header.get(value_start..start);
            }
            current = header
                .get(start..)
                .and_then(field_start)
                .map(|(field, value)| (field, start + value));
        }
        if let Some((field, value_start)) = current {
            values[field] = header.get(value_start..);
        }
        Self { values }
    }

    fn stream(&self, field: usize) -> Option<MessageStream<'a>> {
        self.values
            .get(field)
            .copied()
            .flatten()
            .map(MessageStream::new)
    }

    /// A one-line subject without encoded words is its trimmed text, as mail-parser reads it;
    /// one of plain ASCII and encoded words is read as mail-parser's unstructured parser
    /// reads it (`encoded_text`).
    pub(crate) fn subject(&self) -> Option<String> {
        let raw = self.values[SUBJECT]?;
        if let Some(subject) = plain_text(raw).or_else(|| encoded_text(raw)) {
            return Some(subject);
        }
        let value = self.stream(SUBJECT)?.parse_unstructured();
        value.as_text().map(str::to_owned)
    }

    /// A plain `<id>` is taken as it is; anything else (comments, several IDs, no angle
    /// brackets) goes through mail-parser.
    pub(crate) fn message_id(&self) -> Option<String> {
        let raw = self.values[MESSAGE_ID]?;
        if let Some(id) = plain_id(raw) {
            return Some(id.to_owned());
        }
        let value = self.stream(MESSAGE_ID)?.parse_id();
        value.as_text().map(str::to_owned)
    }

    /// The Date field in milliseconds since the Unix epoch; the usual form directly, the
    /// rest (comments, zone names, two-digit years) through mail-parser.
    pub(crate) fn date(&self) -> Option<i64> {
        if let Some(seconds) = self.values[DATE].and_then(plain_date) {
            return Some(seconds * 1000);
        }
        let value = self.stream(DATE)?.parse_date();
        value
            .as_datetime()
            .map(|date: &DateTime| date.to_timestamp().saturating_mul(1000))
    }

    /// The first From address; `Name <addr>`, `<addr>` and `addr` in plain ASCII directly,
    /// the rest (quotes, comments, encoded words, lists, groups) through mail-parser.
    pub(crate) fn from(&self) -> Option<Sender> {
        let raw = self.values[FROM]?;
        if let Some((name, address)) = plain_sender(raw) {
            return Some(Sender {
                name: name.map(str::to_owned),
                address: Some(address.to_owned()),
            });
        }
        if let Some(sender) = phrase_sender(raw) {
            return Some(sender);
        }
        let value = self.stream(FROM)?.parse_address();
        value.as_address()?.first().map(Sender::from_addr)
    }

    /// Whether the top-level type is multipart/mixed: the hint of attachments that needs no
    /// body structure, as Thunderbird and Apple Mail take it. A plain `type/subtype` is
    /// compared directly, anything else (comments, quotes, blanks) goes through mail-parser.
    pub(crate) fn is_mixed(&self) -> bool {
        let Some(raw) = self.values[CONTENT_TYPE] else {
            return false;
        };
        // The type comes first: `text/...` and most others are ruled out by one byte.
        if !matches!(
            raw.trim_ascii_start().first(),
            Some(b'm' | b'M' | b'(' | b'"')
        ) {
            return false;
        }
        let media = raw.split(|&b| b == b';').next().unwrap_or_default();
        let media = media.trim_ascii();
        if media.eq_ignore_ascii_case(b"multipart/mixed") {
            return true;
        }
        // Only a comment, quoting or folding can spell multipart/mixed otherwise; one match
        // per byte, as a per-byte set lookup cost this scan 10 % of the receive path.
        let spelled_otherwise = media
            .iter()
            .any(|&b| matches!(b, b'(' | b'"' | b'\\' | b' ' | b'\t' | b'\r' | b'\n'));
        if !spelled_otherwise {
            return false;
        }
        let value = MessageStream::new(raw).parse_content_type();
        value.as_content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|sub| sub.eq_ignore_ascii_case("mixed"))
        })
    }

    /// What threading needs, each ID hashed once: the IDs the message follows, oldest first
    /// (References, else In-Reply-To's first: RFC 5256's REFERENCES threading), and the
    /// thread keys, given the message's own ID as [`Self::message_id`] read it.
    pub(crate) fn threading(&self, message_id: Option<&str>) -> (Vec<u64>, ThreadKeys) {
        let ids = |field: usize| angle_id_hashes(self.values[field].unwrap_or_default());
        let (references, mut replies_to) = (ids(REFERENCES), ids(IN_REPLY_TO));
        let keys = ThreadKeys {
            message_id: message_id.map_or(0, |id| id_hash(id.as_bytes())),
            in_reply_to: replies_to.last().copied().unwrap_or(0),
            references: references.first().copied().unwrap_or(0),
        };
        if references.is_empty() {
            replies_to.truncate(1);
            (replies_to, keys)
        } else {
            (references, keys)
        }
    }
}

/// Which summary field a line starts (`line` may run on past the line's end: no name, blank
/// or colon is a `\n`), and where its value starts in the line.
fn field_start(line: &[u8]) -> Option<(usize, usize)> {
    // Most lines are other fields: their first byte tells, before any slice comparison.
    let field = usize::from(*FIELD_BY_FIRST.get(usize::from(*line.first()?))?).checked_sub(1)?;
    let name = NAMES.get(field)?;
    // Near the header's end a line may hold fewer than 16 bytes: zeros after it match no name
    // byte, so one comparison serves both.
    let start = line.first_chunk::<16>().copied().unwrap_or_else(|| {
        let mut padded = [0; 16];
        padded[..line.len()].copy_from_slice(line);
        padded
    });
    let named = NAME_WORDS.get(field)?.starts(u128::from_le_bytes(start));
    let rest = named.then(|| line.get(name.len()..)).flatten()?;
    let blanks = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    (rest.get(blanks) == Some(&b':')).then_some((field, name.len() + blanks + 1))
}

/// A name as one 16-byte word, so that a line's start is compared in a few instructions
/// rather than a byte-by-byte case fold (a third of the header scan's time).
struct NameWord {
    /// The name in lower case, zero after its end.
    lower: u128,
    /// 0x20 in each byte that is a letter of the name: or-ed in, it folds case there only.
    fold: u128,
    /// 0xff in each byte of the name.
    mask: u128,
}

impl NameWord {
    const fn new(name: &[u8]) -> Self {
        assert!(name.len() <= 16, "a name fits one word");
        let mut word = Self {
            lower: 0,
            fold: 0,
            mask: 0,
        };
        let mut at = 0;
        while at < name.len() {
            let shift = 8 * at;
            word.lower |= (name[at].to_ascii_lowercase() as u128) << shift;
            if name[at].is_ascii_alphabetic() {
                word.fold |= 0x20 << shift;
            }
            word.mask |= 0xff << shift;
            at += 1;
        }
        word
    }

    /// Whether the 16 bytes `start` (little-endian) begin with the name, in either case.
    fn starts(&self, start: u128) -> bool {
        (start | self.fold) & self.mask == self.lower
    }
}

const NAME_WORDS: [NameWord; NAMES.len()] = {
    let mut words = [const { NameWord::new(b"") }; NAMES.len()];
    let mut field = 0;
    while field < NAMES.len() {
        words[field] = NameWord::new(NAMES[field]);
        field += 1;
    }
    words
};

/// For a line's first byte, 1 + the index in [`NAMES`] of the only field starting with it
/// (in either case), or 0: the names' first letters differ.
const FIELD_BY_FIRST: [u8; 256] = {
    let mut table = [0; 256];
    let mut field = 0;
    while field < NAMES.len() {
        let first = NAMES[field][0];
        assert!(
            table[first as usize] == 0,
            "two names start with the same letter"
        );
        table[first.to_ascii_uppercase() as usize] = field as u8 + 1;
        table[first.to_ascii_lowercase() as usize] = field as u8 + 1;
        field += 1;
    }
    table
};

/// `[Www, ]d Mon yyyy hh:mm:ss +zzzz` and blanks, in seconds since the Unix epoch.
fn plain_date(raw: &[u8]) -> Option<i64> {
    let text = raw.trim_ascii();
    let text = match text.get(3) {
        Some(b',') => text.get(4..)?.trim_ascii_start(),
        _ => text,
    };
    let day_digits = if text.get(1) == Some(&b' ') { 1 } else { 2 };
    let (day, rest) = text.split_at_checked(day_digits)?;
    let rest = rest.strip_prefix(b" ")?;
    let (month, rest) = rest.split_at_checked(3)?;
    let rest = rest.strip_prefix(b" ")?;
    let (year, rest) = rest.split_at_checked(4)?;
    let rest = rest.strip_prefix(b" ")?;
    utc_seconds(
        digits_value(year)?,
        month_number(month)?,
        digits_value(day)?,
        clock_and_zone(rest)?,
    )
}

/// The value of a one-line field without encoded words (`=?`), trimmed; `None` when it
/// needs mail-parser (or is empty, which mail-parser also reads as no text).
fn plain_text(raw: &[u8]) -> Option<String> {
    let line = raw.strip_suffix(b"\n")?;
    if memchr::memchr(b'\n', line).is_some() || has_pair(line, *b"=?") {
        return None;
    }
    let is_blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
    let start = line.iter().position(|b| !is_blank(b))?;
    let end = line.iter().rposition(|b| !is_blank(b))? + 1;
    Some(lossy(line.get(start..end)?).into_owned())
}

/// `Name <addr>`, `<addr>` or `addr` on one line: printable ASCII without the characters
/// that start quotes, comments, lists, groups or encoded words; words single-spaced.
fn plain_sender(raw: &[u8]) -> Option<(Option<&str>, &str)> {
    let line = raw.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line).trim_ascii();
    let shape = SenderShape::scan(line)?;
    let text = ascii(line)?;
    let (name, address) = match text.strip_suffix('>') {
        // The only `<` and `>` delimit the address; the name, the address and the blanks
        // before it hold no other.
        Some(head) if shape.angles == (1, 1) => {
            let (name, address) = head.split_at(shape.last_lt?);
            let name = name.strip_suffix(' ').unwrap_or(name);
            (
                Some(name).filter(|name| !name.is_empty()),
                address.strip_prefix('<')?,
            )
        }
        None if shape.angles == (0, 0) => (None, text),
        _ => return None,
    };
    // The address's own blanks and `@` come after its `<` (or anywhere without one).
    let after = shape.last_lt.unwrap_or(0);
    let valid = shape.last_at.is_some_and(|at| at >= after)
        && shape.last_blank.is_none_or(|blank| blank < after);
    valid.then_some((name, address))
}

/// What [`plain_sender`] needs to know of a line, found in one pass.
struct SenderShape {
    /// How many `<` and `>` the line holds.
    angles: (u8, u8),
    last_lt: Option<usize>,
    last_at: Option<usize>,
    last_blank: Option<usize>,
}

/// Bytes a plain sender cannot hold: controls, 8-bit, and those that start quotes,
/// comments, lists, groups, escapes or encoded words.
const NOT_PLAIN: [bool; 256] = {
    let mut table = [true; 256];
    let mut b = b' ';
    while b < 0x7f {
        table[b as usize] = matches!(
            b,
            b'"' | b'(' | b')' | b',' | b';' | b':' | b'\\' | b'=' | b'[' | b']'
        );
        b += 1;
    }
    table
};

impl SenderShape {
    /// `None` when a byte is not plain or two blanks follow each other.
    fn scan(line: &[u8]) -> Option<Self> {
        let mut shape = Self {
            angles: (0, 0),
            last_lt: None,
            last_at: None,
            last_blank: None,
        };
        for (at, &b) in line.iter().enumerate() {
            if NOT_PLAIN[usize::from(b)] {
                return None;
            }
            match b {
                b' ' if shape.last_blank.is_some_and(|blank| blank + 1 == at) => return None,
                b' ' => shape.last_blank = Some(at),
                b'<' => {
                    (shape.angles.0, shape.last_lt) = (shape.angles.0.saturating_add(1), Some(at))
                }
                b'>' => shape.angles.1 = shape.angles.1.saturating_add(1),
                b'@' => shape.last_at = Some(at),
                _ => {}
            }
        }
        Some(shape)
    }
}

/// `=?charset?Q|B?text?= <addr>` or `"text" <addr>`: a name of one encoded word that
/// `encoded_word` decodes or one plain quoted string, without mail-parser's address
/// tokenizer around it.
fn phrase_sender(raw: &[u8]) -> Option<Sender> {
    let raw = raw.trim_ascii_start();
    let (name, rest) = match raw.first()? {
        b'"' => {
            let close = 1 + memchr::memchr(b'"', raw.get(1..)?)?;
            let (quoted, rest) = raw.split_at(close + 1);
            (plain_quoted(quoted.get(1..close)?)?, rest)
        }
        _ => {
            let (word, rest) = raw.split_at(memchr::memchr(b' ', raw)?);
            (
                encoded_word::decode(word).filter(|name| !name.is_empty())?,
                rest,
            )
        }
    };
    let (None, address) = plain_sender(rest.strip_prefix(b" ")?)? else {
        return None;
    };
    Some(Sender {
        name: Some(name),
        address: Some(address.to_owned()),
    })
}

/// A quoted name's text when it is printable ASCII, single-spaced inside, with nothing that
/// mail-parser would unescape, decode or trim.
fn plain_quoted(text: &[u8]) -> Option<String> {
    let plain = text
        .iter()
        .all(|&b| b.is_ascii_graphic() && !matches!(b, b'\\' | b'=' | b'<' | b'>') || b == b' ');
    let trimmed = text.first() != Some(&b' ') && text.last() != Some(&b' ');
    let valid = plain && trimmed && !text.is_empty() && !has_pair(text, *b"  ");
    valid.then(|| lossy(text).into_owned())
}

/// A one-line value of printable ASCII words between spaces, some of them whole encoded
/// words, read as mail-parser's unstructured parser reads it (`Unstructured`); `None` for
/// anything else (tabs, CR inside, 8-bit bytes, folding), when a word holds `=?` without
/// being one encoded word that `encoded_word::decode` reads, or when there is no word.
fn encoded_text(raw: &[u8]) -> Option<String> {
    let line = raw.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = ascii(line).filter(|line| line.bytes().all(|b| b >= b' ' && b != 0x7f))?;
    let mut text = Unstructured::default();
    // The plain words since the last encoded word, written as one run with its spaces.
    let mut plain: Option<(usize, usize)> = None;
    let mut start = 0;
    for word in line.split(' ') {
        let (word_start, end) = (start, start + word.len());
        start = end + 1;
        if word.is_empty() {
            continue;
        }
        if !has_pair(word.as_bytes(), *b"=?") {
            plain = Some((plain.map_or(word_start, |(run_start, _)| run_start), end));
            continue;
        }
        let decoded = encoded_word::decode(word.as_bytes())?;
        if let Some((run_start, run_end)) = plain.take() {
            text.plain(line.get(run_start..run_end)?);
        }
        text.encoded(&decoded);
    }
    if let Some((run_start, run_end)) = plain {
        text.plain(line.get(run_start..run_end)?);
    }
    text.written.then_some(text.text)
}

/// mail-parser's joining of an unstructured value's pieces: a space before plain text that
/// follows anything, and before an encoded word that follows plain text; none between
/// encoded words (RFC 2047 section 6.2).
struct Unstructured {
    text: String,
    written: bool,
    last_encoded: bool,
}

impl Default for Unstructured {
    fn default() -> Self {
        Self {
            text: String::new(),
            written: false,
            // Nothing before a first encoded word.
            last_encoded: true,
        }
    }
}

impl Unstructured {
    fn plain(&mut self, run: &str) {
        if self.written {
            self.text.push(' ');
        }
        self.text.push_str(run);
        (self.written, self.last_encoded) = (true, false);
    }

    fn encoded(&mut self, decoded: &str) {
        if !self.last_encoded {
            self.text.push(' ');
        }
        self.text.push_str(decoded);
        (self.written, self.last_encoded) = (true, true);
    }
}

/// Whether `pair` occurs in `bytes` (memmem would build a searcher per call: too slow for
/// one short field, in wasm above all).
fn has_pair(bytes: &[u8], [first, second]: [u8; 2]) -> bool {
    memchr::memchr_iter(first, bytes).any(|at| bytes.get(at + 1) == Some(&second))
}

/// `<id>` alone (blanks and line ends around it), the ID printable ASCII.
fn plain_id(raw: &[u8]) -> Option<&str> {
    let id = raw.trim_ascii().strip_prefix(b"<")?.strip_suffix(b">")?;
    // A fold without early exit, which the compiler turns into vector compares.
    let plain = !id.is_empty()
        && id.iter().fold(true, |plain, &b| {
            plain & b.is_ascii_graphic() & (b != b'<') & (b != b'>')
        });
    plain.then(|| ascii(id)).flatten()
}

/// The hashes of the IDs between angle brackets, in order (threading compares only those):
/// each `<` starts a piece that runs to the next, and a piece with a `>` holds an ID up to
/// it. Byte loops, not memchr: IDs are short, and each memchr inlined here added half a KB
/// of `.wasm` (this function was 2.8 KB as iterator adapters).
fn angle_id_hashes(raw: &[u8]) -> Vec<u64> {
    let find = |bytes: &[u8], byte: u8| bytes.iter().position(|&b| b == byte);
    let mut hashes = Vec::new();
    let mut rest = raw;
    while let Some(open) = find(rest, b'<') {
        rest = rest.get(open + 1..).unwrap_or_default();
        let piece = rest
            .get(..find(rest, b'<').unwrap_or(rest.len()))
            .unwrap_or_default();
        if let Some(close) = find(piece, b'>') {
            hashes.push(id_hash(piece.get(..close).unwrap_or_default()));
        }
    }
    hashes
}

/// A 64-bit hash of an ID, stable across builds and platforms, never 0 for an ID in
/// practice. Eight bytes a step, each a multiply and a rotate, then a final avalanche
/// (MurmurHash3's `fmix64`): FNV-1a's byte steps were one long chain of multiplies, 3–5 % of
/// the receive path.
pub fn id_hash(id: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let step = |hash: u64, word: u64| (hash ^ word).wrapping_mul(K).rotate_left(29);
    let words = id.chunks_exact(8);
    let mut tail = [0; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    let hash = words
        .map(|word| u64::from_le_bytes(word.try_into().unwrap_or_default()))
        .fold(K ^ id.len() as u64, step);
    let mut hash = step(hash, u64::from_le_bytes(tail));
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders;

    const HEADER: &[u8] = b"Received: from a\r\n\tby b; Tue, 1 Jul 2025 10:00:00 +0000\r\n\
        FROM: =?UTF-8?Q?J=C3=BCrgen?= <j@example.org>\r\n\
        X-Subject: decoy\r\n\
        Subject: first\r\n\
        Subject : =?ISO-8859-1?Q?caf=E9?=\r\n  folded\r\n\
        Date: Tue, 1 Jul 2025 12:00:00 +0200\r\n\
        In-Reply-To: <b@x>\r\n\
        References: <a@x>\r\n <b@x>\r\n\
        Message-Id: <c@x>\r\n\r\n";

    #[test]
    fn fields_read_as_mail_parser_reads_the_whole_header() {
        let fields = SummaryFields::find(HEADER);
        let whole = whole_header_parser().parse_headers(HEADER).unwrap();
        assert_eq!(fields.subject().as_deref(), whole.subject());
        assert_eq!(fields.subject().as_deref(), Some("café folded"));
        assert_eq!(fields.message_id().as_deref(), whole.message_id());
        assert_eq!(fields.date(), whole.date().map(|d| d.to_timestamp() * 1000));
        let whole_from = whole.from().and_then(|f| f.first());
        assert_eq!(
            fields.from().map(|s| (s.name, s.address)),
            whole_from.map(|a| (a.name().map(str::to_owned), a.address().map(str::to_owned)))
        );
        assert_eq!(fields.from().unwrap().name.as_deref(), Some("Jürgen"));
    }

    #[test]
    fn a_name_word_matches_exactly_where_a_case_fold_does() {
        for (name, word) in NAMES.iter().zip(&NAME_WORDS) {
            let mut line = [b'x'; 16];
            line[..name.len()].copy_from_slice(name);
            for at in 0..name.len() {
                for byte in 0..=u8::MAX {
                    let mut changed = line;
                    changed[at] = byte;
                    assert_eq!(
                        word.starts(u128::from_le_bytes(changed)),
                        changed[..name.len()].eq_ignore_ascii_case(name),
                        "{changed:?}"
                    );
                }
            }
            // A line cut short before the name's end, zero-padded as `field_start` pads it.
            for cut in 0..name.len() {
                let mut padded = [0; 16];
                padded[..cut].copy_from_slice(&name[..cut]);
                assert!(!word.starts(u128::from_le_bytes(padded)), "{padded:?}");
            }
        }
        assert_eq!(field_start(b"From: a"), Some((FROM, 5)));
        assert_eq!(field_start(b"Fro"), None);
    }

    #[test]
    fn plain_senders_read_as_mail_parser_reads_them() {
        for from in [
            &b" Ann Lee <ann@example.org>\r\n"[..],
            b" <ann@example.org>\r\n",
            b" ann@example.org \r\n",
            b" A.N. O'Neil-Smith <a+b@x.example>\n",
        ] {
            let fast = plain_sender(from);
            assert!(fast.is_some(), "{from:?}");
            let slow = MessageStream::new(from).parse_address();
            let slow = slow.as_address().and_then(|a| a.first());
            assert_eq!(
                fast,
                slow.map(|a| (a.name(), a.address().unwrap_or_default()))
            );
        }
        for from in [
            &b" \"Lee, Ann\" <ann@x>\r\n"[..],
            b" Ann  Lee <ann@x>\r\n",
            b" ann@x (Ann)\r\n",
            b" =?utf-8?q?Ann?= <ann@x>\r\n",
            b" a@x, b@x\r\n",
            b" Ann <ann@x>\r\n <more>\r\n",
            b" Ann Lee\r\n",
            b" Ann <a <b@x>\r\n",
        ] {
            assert_eq!(plain_sender(from), None, "{from:?}");
        }
    }

    #[test]
    fn encoded_and_quoted_names_read_as_mail_parser_reads_them() {
        let read = |from: &[u8]| {
            let fields = SummaryFields {
                values: [Some(from), None, None, None, None, None, None],
            };
            fields.from().map(|s| (s.name, s.address))
        };
        let slow = |from: &[u8]| {
            let value = MessageStream::new(from).parse_address();
            let first = value.as_address().and_then(|a| a.first());
            first.map(|a| (a.name().map(str::to_owned), a.address().map(str::to_owned)))
        };
        for from in [
            &b" =?ISO-8859-1?Q?J=F6rg_M=FCller?= <j@x.example>\r\n"[..],
            b" =?utf-8?b?5bGx55Sw5aSq6YOO?= <y@x.example>\n",
            b" \"Smith, Alice\" <alice.smith@example.com>\r\n",
            b" \"A. (B) [C]; d:e\" <a@x>\r\n",
        ] {
            assert!(phrase_sender(from).is_some(), "{from:?}");
            assert_eq!(read(from), slow(from), "{from:?}");
        }
        for from in [
            &b" =?UTF-8?Q?A?= =?UTF-8?Q?B?= <ab@x>\r\n"[..],
            b" =?UTF-8?Q?A?=x <a@x>\r\n",
            b" =?UTF-8?Q??= <a@x>\r\n",
            b" =?UTF-8?X?A?= <a@x>\r\n",
            b" =?UTF-8?Q?A?= <a@x>, b@x\r\n",
            b" =?UTF-8?Q?A?= Lee <a@x>\r\n",
            b" \"=?UTF-8?Q?A?=\" <a@x>\r\n",
            b" \"a\\\"b\" <a@x>\r\n",
            b" \" a\" <a@x>\r\n",
            b" \"a  b\" <a@x>\r\n",
            b" \"\" <a@x>\r\n",
            b" \"a\"<a@x>\r\n",
            b" \"a\" b <a@x>\r\n",
            b" \"caf\xc3\xa9\" <a@x>\r\n",
        ] {
            assert_eq!(phrase_sender(from), None, "{from:?}");
            assert_eq!(read(from), slow(from), "{from:?}");
        }
    }

    #[test]
    fn plain_dates_and_subjects_read_as_mail_parser_reads_them() {
        for date in [
            &b" Tue, 1 Jul 2025 12:00:00 +0200\r\n"[..],
            b" 31 Dec 1999 23:59:59 -0730\r\n",
            b"Sat,  29 Feb 2020 00:00:01 +0000 \r\n",
            b" Mon, 17 Nov 2025 08:15:42 -0000\r\n",
        ] {
            let fast = plain_date(date);
            assert!(fast.is_some(), "{date:?}");
            let slow = MessageStream::new(date).parse_date();
            assert_eq!(
                fast,
                slow.as_datetime().map(|d| d.to_timestamp()),
                "{date:?}"
            );
        }
        for date in [
            &b" 30 Feb 2020 00:00:00 +0000\r\n"[..],
            b" 1 Jul 2025 12:00 +0200\r\n",
        ] {
            assert_eq!(plain_date(date), None, "{date:?}");
        }
        for subject in [&b" Re: a  b\t\r\n"[..], b" x\r\n", b" caf\xc3\xa9 =x\r\n"] {
            let fast = plain_text(subject);
            assert!(fast.is_some(), "{subject:?}");
            let slow = MessageStream::new(subject).parse_unstructured();
            assert_eq!(fast.as_deref(), slow.as_text(), "{subject:?}");
        }
        for subject in [&b" =?utf-8?q?a?=\r\n"[..], b" a\r\n b\r\n", b" \r\n", b" a"] {
            assert_eq!(plain_text(subject), None, "{subject:?}");
        }
        for (subject, decoded) in [
            (&b" =?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=\r\n"[..], true),
            (b" =?iso-8859-1?q?caf=E9_au_lait?= \n", true),
            (b" =?UTF-8?Q?_a?=\r\n", true),
            (b" =?UTF-8?Q?a?= =?UTF-8?Q?b?=\r\n", true),
            (b" Re: =?UTF-8?Q?a?=  x  y \r\n", true),
            (b" =?ISO-8859-2?Q?=B1?=\r\n", false),
            (b" =?UTF-8?Q?a\r\n b?=\r\n", false),
            (b" a=?UTF-8?Q?b?=\r\n", false),
            (b" =?UTF-8?Q?a b?=\r\n", false),
            (b" =?UTF-8?Q?a?=\t=?UTF-8?Q?b?=\r\n", false),
            (b" \r\n", false),
        ] {
            assert_eq!(encoded_text(subject).is_some(), decoded, "{subject:?}");
            let fields = SummaryFields {
                values: [None, Some(subject), None, None, None, None, None],
            };
            let slow = MessageStream::new(subject).parse_unstructured();
            assert_eq!(fields.subject().as_deref(), slow.as_text(), "{subject:?}");
        }
    }

    /// Random one-line subjects of plain and encoded words, blanks or none between them:
    /// whatever the fast path reads, it reads as mail-parser's unstructured parser does.
    #[test]
    fn random_subjects_read_as_mail_parser_reads_them() {
        let mut rng = fastrand::Rng::with_seed(0x5eed_5b7e);
        let words: [&[u8]; 15] = [
            b"Re:",
            b"a",
            b"caf\xc3\xa9",
            b"=x",
            b"x?=",
            b"=?",
            b"=?UTF-8?Q?Caf=C3=A9?=",
            b"=?utf-8?b?w6k=?=",
            b"=?ISO-8859-1?Q?=E9_t?=",
            b"=?ISO-8859-2?Q?=B1?=",
            b"=?UTF-8?Q??=",
            b"=?UTF-8?Q?_?=",
            b"=?UTF-8?Q?a?=b",
            b"=?US-ASCII?Q?=80?=",
            b"=?UTF-8*en?Q?a?=",
        ];
        let blanks: [&[u8]; 4] = [b" ", b"  ", b"\t", b""];
        let mut fast = 0;
        for _ in 0..20_000 {
            let mut subject = blanks[rng.usize(..blanks.len())].to_vec();
            for _ in 0..rng.usize(..5) {
                subject.extend_from_slice(words[rng.usize(..words.len())]);
                subject.extend_from_slice(blanks[rng.usize(..blanks.len())]);
            }
            subject.extend_from_slice([&b"\r\n"[..], b"\n"][rng.usize(..2)]);
            fast += usize::from(encoded_text(&subject).is_some());
            let fields = SummaryFields {
                values: [None, Some(&subject), None, None, None, None, None],
            };
            let slow = MessageStream::new(&subject).parse_unstructured();
            let shown = String::from_utf8_lossy(&subject);
            assert_eq!(fields.subject().as_deref(), slow.as_text(), "{shown:?}");
        }
        assert!(fast > 1_000, "only {fast} subjects read by the fast path");
    }

    #[test]
    fn multipart_mixed_reads_as_mail_parser_reads_the_content_type() {
        let mixed = |header: &[u8]| {
            let whole = MessageParser::new().parse_headers(header).unwrap();
            let expected = whole.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("multipart")
                    && ct
                        .subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case("mixed"))
            });
            let found = SummaryFields::find(header).is_mixed();
            assert_eq!(found, expected, "{:?}", String::from_utf8_lossy(header));
            found
        };
        for header in [
            &b"Subject: x\r\nContent-Type: multipart/mixed;\r\n boundary=\"=_b\"\r\n\r\n"[..],
            b"content-type : Multipart/MIXED; boundary=b\r\n\r\n",
            b"Content-Type: multipart/mixed\r\n\r\n",
            b"Content-Type: multipart/mixed (with a comment); boundary=b\r\n\r\n",
            b"Content-Type: text/plain\r\nContent-Type:\r\n\tmultipart/mixed; boundary=b\r\n\r\n",
        ] {
            assert!(mixed(header));
        }
        for header in [
            &b"Subject: x\r\n\r\n"[..],
            b"Content-Type: multipart/alternative; boundary=b\r\n\r\n",
            b"Content-Type: text/plain; name=\"multipart/mixed\"\r\n\r\n",
            b"Content-Type: multipart/mixed\r\nContent-Type: text/plain\r\n\r\n",
            b"Content-Transfer-Encoding: 7bit\r\nX-Content-Type: multipart/mixed\r\n\r\n",
            b"Content-Type: multipart/mixedup\r\n\r\n",
        ] {
            assert!(!mixed(header));
        }
    }

    #[test]
    fn id_hashes_differ_for_different_ids_and_padding() {
        let mut ids: Vec<Vec<u8>> = [&b""[..], b"a", b"a\0", b"\0", b"12345678", b"12345678\0"]
            .map(<[u8]>::to_vec)
            .into();
        ids.extend((0..20_000).map(|n| format!("{n}.{}@example.org", n % 7).into_bytes()));
        let hashes: std::collections::HashSet<u64> = ids.iter().map(|id| id_hash(id)).collect();
        assert_eq!(hashes.len(), ids.len());
        assert!(!hashes.contains(&0));
    }

    #[test]
    fn thread_keys_hash_the_parent_and_the_root() {
        let fields = SummaryFields::find(HEADER);
        let (references, keys) = fields.threading(fields.message_id().as_deref());
        assert_eq!(references, [id_hash(b"a@x"), id_hash(b"b@x")]);
        assert_eq!(keys.message_id, id_hash(b"c@x"));
        assert_eq!(keys.in_reply_to, id_hash(b"b@x"));
        assert_eq!(keys.references, id_hash(b"a@x"));
        assert_eq!(
            SummaryFields::find(b"Subject: x\r\n\r\n").threading(None),
            (Vec::new(), ThreadKeys::default())
        );
        let odd = b"Message-ID: (comment) <d@x>\r\nReferences: <r1@x> junk <r2\r\n\r\n";
        let fields = SummaryFields::find(odd);
        assert_eq!(fields.message_id().as_deref(), Some("d@x"));
        assert_eq!(fields.threading(None).1.references, id_hash(b"r1@x"));
        let reply_only = SummaryFields::find(b"In-Reply-To: <p1@x> <p2@x>\r\n\r\n").threading(None);
        assert_eq!(
            reply_only.0,
            [id_hash(b"p1@x")],
            "In-Reply-To's first, without References"
        );
        assert_eq!(
            reply_only.1.in_reply_to,
            id_hash(b"p2@x"),
            "the parent is its last"
        );
    }
}
