//! `* ESEARCH` responses (RFC 4731, with ESORT's and PARTIAL's forms from RFC 5267 and
//! RELEVANCY from RFC 6203), which imap-types has no type for: read from the line here.
//!
//! ```text
//! esearch-response = "ESEARCH" [SP "(" "TAG" SP tag-string ")"] [SP "UID"]
//!                    *(SP search-return-data)
//! ```

use crate::lenient::split_word;
use serde::Serialize;
use std::num::NonZeroU32;

/// At most this many numbers from one response's `ALL` and `PARTIAL` sets together: a set
/// like `1:4294967295` is a few bytes on the wire but billions once expanded. Twice a large
/// mailbox, as many as the sequence number map holds.
const MAX_NUMBERS: usize = 1 << 21;

/// One ESEARCH (or ESORT) response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Esearch {
    /// The tag of the command it answers (its search correlator); `None` answers no command.
    pub tag: Option<String>,
    /// Whether the numbers are UIDs rather than sequence numbers.
    pub uid: bool,
    pub min: Option<NonZeroU32>,
    pub max: Option<NonZeroU32>,
    pub count: Option<u32>,
    /// `ALL`'s numbers in the server's order (ESORT's is the sort order), ranges expanded.
    pub all: Vec<NonZeroU32>,
    pub partial: Option<PartialResult>,
    /// RELEVANCY's scores, one per number of `ALL`.
    pub relevancy: Vec<u8>,
    pub modseq: Option<u64>,
}

/// `PARTIAL (first:last set)`: the window asked for (negative counts from the last match)
/// and the numbers found in it; `NIL` (nothing in the window) reads as none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PartialResult {
    pub first: i64,
    pub last: i64,
    pub found: Vec<NonZeroU32>,
}

/// `None` unless `message` is an ESEARCH response; `Err` says why one could not be read.
pub(crate) fn parse(message: &[u8]) -> Option<Result<Esearch, &'static str>> {
    let line = message.strip_suffix(b"\r\n")?;
    let rest = strip_word(line, b"*")?;
    let rest = strip_word(rest, b"ESEARCH")?;
    Some(Reader::default().read(rest))
}

/// `line` after `word` (ASCII case-insensitive) and the space or end that follows it.
fn strip_word<'a>(line: &'a [u8], word: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..word.len())?;
    let rest = &line[word.len()..];
    if !head.eq_ignore_ascii_case(word) {
        return None;
    }
    separated(rest)
}

/// What follows a token: nothing, or a space and the rest; `None` if the token goes on.
fn separated(rest: &[u8]) -> Option<&[u8]> {
    match rest.split_first() {
        None => Some(rest),
        Some((b' ', tail)) => Some(tail),
        Some(_) => None,
    }
}

#[derive(Default)]
struct Reader {
    esearch: Esearch,
    numbers: usize,
}

const MALFORMED: &str = "ESEARCH response not understood";

impl Reader {
    fn read(mut self, mut rest: &[u8]) -> Result<Esearch, &'static str> {
        if let Some(after) = rest.strip_prefix(b"(") {
            rest = self.correlator(after).ok_or(MALFORMED)?;
        }
        if let Some(after) = strip_word(rest, b"UID") {
            self.esearch.uid = true;
            rest = after;
        }
        while !rest.is_empty() {
            let (name, after) = split_word(rest);
            let (value, after) = value(after).ok_or(MALFORMED)?;
            self.item(name, value)?;
            rest = after;
        }
        Ok(self.esearch)
    }

    /// `TAG "x")`, after the opening parenthesis.
    fn correlator<'a>(&mut self, bytes: &'a [u8]) -> Option<&'a [u8]> {
        let quoted = strip_word(bytes, b"TAG")?.strip_prefix(b"\"")?;
        let end = quoted.iter().position(|&b| b == b'"')?;
        let tag = std::str::from_utf8(&quoted[..end]).ok()?;
        self.esearch.tag = Some(tag.to_owned());
        separated(quoted[end + 1..].strip_prefix(b")")?)
    }

    fn item(&mut self, name: &[u8], value: &[u8]) -> Result<(), &'static str> {
        let esearch = &mut self.esearch;
        match name.to_ascii_uppercase().as_slice() {
            b"MIN" => esearch.min = Some(number(value).ok_or(MALFORMED)?),
            b"MAX" => esearch.max = Some(number(value).ok_or(MALFORMED)?),
            b"COUNT" => esearch.count = Some(number(value).ok_or(MALFORMED)?),
            b"MODSEQ" => esearch.modseq = Some(number(value).ok_or(MALFORMED)?),
            b"ALL" => {
                let mut all = Vec::new();
                self.expand(value, &mut all)?;
                self.esearch.all = all;
            }
            b"PARTIAL" => self.esearch.partial = Some(self.partial(value)?),
            b"RELEVANCY" => {
                esearch.relevancy = parenthesized(value)
                    .ok_or(MALFORMED)?
                    .split(|&b| b == b' ')
                    .filter(|score| !score.is_empty())
                    .map(|score| number(score).ok_or(MALFORMED))
                    .collect::<Result<_, _>>()?;
            }
            // RFC 4466's tagged-ext: another extension's data, read past.
            _ => {}
        }
        Ok(())
    }

    /// `(first:last set-or-NIL)`.
    fn partial(&mut self, value: &[u8]) -> Result<PartialResult, &'static str> {
        let (range, set) = split_word(parenthesized(value).ok_or(MALFORMED)?);
        let (first, last) = split_at_colon(range).ok_or(MALFORMED)?;
        let mut found = Vec::new();
        if !set.eq_ignore_ascii_case(b"NIL") {
            self.expand(set, &mut found)?;
        }
        Ok(PartialResult {
            first: number(first).ok_or(MALFORMED)?,
            last: number(last).ok_or(MALFORMED)?,
            found,
        })
    }

    /// A sequence set's numbers in its order; a range runs from its first number to its
    /// last, downwards if the first is larger.
    fn expand(&mut self, set: &[u8], out: &mut Vec<NonZeroU32>) -> Result<(), &'static str> {
        for element in set.split(|&b| b == b',') {
            let (first, last) = split_at_colon(element).unwrap_or((element, element));
            let first: NonZeroU32 = number(first).ok_or(MALFORMED)?;
            let last: NonZeroU32 = number(last).ok_or(MALFORMED)?;
            let span = first.get().abs_diff(last.get()) as usize + 1;
            self.numbers = self.numbers.saturating_add(span);
            if self.numbers > MAX_NUMBERS {
                return Err("ESEARCH result larger than the limit");
            }
            let (low, high) = (first.min(last).get(), first.max(last).get());
            let range = (low..=high).filter_map(NonZeroU32::new);
            if first <= last {
                out.extend(range);
            } else {
                out.extend(range.rev());
            }
        }
        Ok(())
    }
}

fn split_at_colon(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|&b| b == b':')?;
    Some((&bytes[..at], &bytes[at + 1..]))
}

fn parenthesized(value: &[u8]) -> Option<&[u8]> {
    value.strip_prefix(b"(")?.strip_suffix(b")")
}

/// One search-return-value: a parenthesised group (nested groups included) or a single
/// word; returns it and what follows its space.
fn value(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    if bytes.starts_with(b"(") {
        let mut depth = 0usize;
        let close = bytes.iter().position(|&b| {
            match b {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            depth == 0
        })?;
        let (group, after) = bytes.split_at(close + 1);
        Some((group, separated(after)?))
    } else {
        let (word, after) = split_word(bytes);
        (!word.is_empty()).then_some((word, after))
    }
}

/// A decimal number of the target type, `-` allowed where the type is signed.
fn number<T: std::str::FromStr>(bytes: &[u8]) -> Option<T> {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(values: &[u32]) -> Vec<NonZeroU32> {
        values.iter().filter_map(|&v| NonZeroU32::new(v)).collect()
    }

    #[test]
    fn v0067_esearch_reads_tag_uid_and_every_return_item() {
        let line = b"* ESEARCH (TAG \"a1\") UID MIN 2 MAX 13 ALL 2:4,9,13:12 COUNT 6 RELEVANCY (2 3 4 9 13 12) X-FUTURE (1 (2 3) 4) MODSEQ 7\r\n";
        let Some(Ok(read)) = parse(line) else {
            panic!("not read")
        };
        assert_eq!(read.tag.as_deref(), Some("a1"));
        assert!(read.uid);
        assert_eq!(
            (read.min, read.max),
            (NonZeroU32::new(2), NonZeroU32::new(13))
        );
        assert_eq!(read.count, Some(6));
        assert_eq!(read.all, nz(&[2, 3, 4, 9, 13, 12]));
        assert_eq!(read.relevancy, [2, 3, 4, 9, 13, 12]);
        assert_eq!(read.modseq, Some(7));

        let Some(Ok(empty)) = parse(b"* esearch\r\n") else {
            panic!("not read")
        };
        assert_eq!(empty, Esearch::default());
        let Some(Ok(partial)) = parse(b"* ESEARCH UID PARTIAL (-1:-10 NIL)\r\n") else {
            panic!("not read")
        };
        assert_eq!(
            partial.partial,
            Some(PartialResult {
                first: -1,
                last: -10,
                found: Vec::new()
            })
        );
    }

    #[test]
    fn v0067_other_lines_malformed_sets_and_huge_sets_are_refused() {
        assert!(parse(b"* SEARCH 1 2\r\n").is_none());
        assert!(parse(b"* ESEARCHING\r\n").is_none());
        for bad in [
            b"* ESEARCH (TAG a1) ALL 1\r\n".as_slice(),
            b"* ESEARCH ALL 0:3\r\n",
            b"* ESEARCH ALL 1:*\r\n",
            b"* ESEARCH ALL\r\n",
            b"* ESEARCH MIN x\r\n",
            b"* ESEARCH PARTIAL (1:10\r\n",
            b"* ESEARCH ALL 1:4294967295\r\n",
            b"* ESEARCH ALL 1:2000000,1:2000000\r\n",
        ] {
            assert!(
                matches!(parse(bad), Some(Err(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
