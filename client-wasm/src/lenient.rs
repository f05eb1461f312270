//! Second chances for responses the strict parser rejects (row N0004: strict sending,
//! lenient parsing).
//!
//! Real servers pad with extra spaces: runs of spaces or tabs, a space after `(` or before
//! `)`, a space before the line's CRLF. [`normalize_spacing`] rewrites only that padding,
//! outside quoted strings and literals, so the message keeps its meaning and its framing.
//! [`repair_line`] rewrites one-line shapes particular servers send (odd flags and
//! attributes, raw UTF-8, missing text or tag) into the strict form they stand for.

use imap_types::core::Text;
use imap_types::utils::indicators::is_atom_char;

/// Rewrites `message` into `out` with the padding removed; returns whether anything changed.
pub(crate) fn normalize_spacing(message: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    out.reserve(message.len());
    let mut rest = message;
    while let Some((&byte, tail)) = rest.split_first() {
        match byte {
            b'"' => rest = copy_quoted(rest, out),
            b'{' => rest = copy_literal(rest, out),
            b' ' | b'\t' => {
                let after = skip_blanks(tail);
                let next = after.first().copied();
                let prev = out.last().copied();
                if !matches!(next, Some(b')' | b'\r' | b'\n') | None) && prev != Some(b'(') {
                    out.push(b' ');
                }
                rest = after;
            }
            _ => {
                out.push(byte);
                rest = tail;
            }
        }
    }
    out.as_slice() != message
}

/// `* XLIST` replies (Gmail's pre-SPECIAL-USE extension, row V0061) have LIST's syntax:
/// renamed in place so the LIST parser reads them. Returns whether it was one.
pub(crate) fn xlist_as_list(message: &mut Vec<u8>) -> bool {
    let is_xlist = message
        .get(..8)
        .is_some_and(|start| start.eq_ignore_ascii_case(b"* XLIST "));
    if is_xlist {
        message.remove(2);
    }
    is_xlist
}

/// Rewrites a one-line response the decoder rejects into the strict shape it stands for;
/// returns whether `out` holds a rewrite. Each repair is one server's known shape; the
/// result is parsed strictly afterwards, so a repair that does not fit is still skipped.
pub(crate) fn repair_line(message: &[u8], out: &mut Vec<u8>) -> bool {
    let Some(line) = message
        .strip_suffix(b"\r\n")
        .filter(|line| !line.iter().any(|&b| b == b'\r' || b == b'\n'))
    else {
        return false;
    };
    out.clear();
    let (first, rest) = split_word(line);
    let (second, after) = split_word(rest);
    let repaired = match first {
        b"*" => match second.to_ascii_uppercase().as_slice() {
            b"FLAGS" => flags_without_odd_atoms(after, out),
            b"LIST" | b"LSUB" => attributes_with_backslash(second, after, out),
            b"STATUS" => status_name_as_literal(after, out),
            b"OK" | b"NO" | b"BAD" | b"BYE" | b"PREAUTH" => ascii_line(line, out),
            _ => false,
        },
        b"+" => false,
        // Exchange during MOVE: `[COPYUID 55 31 6]` alone, where RFC 6851 has `* OK [...]`.
        _ if first.starts_with(b"[") => {
            out.extend_from_slice(b"* OK ");
            out.extend_from_slice(line);
            true
        }
        // ppops.net: `A6 OK`, where RFC 3501's resp-text is required.
        _ if is_status_word(second) && after.is_empty() => {
            out.extend_from_slice(line);
            out.extend_from_slice(MISSING_TEXT);
            true
        }
        _ if is_status_word(second) => ascii_line(line, out),
        // Exchange's `Server Unavailable. 15`: neither tag and status nor `*`. Read as what
        // it is, a server error no command can be blamed for (an untagged BAD).
        _ => {
            out.extend_from_slice(b"* BAD ");
            ascii_text(line, out);
            true
        }
    };
    out.extend_from_slice(b"\r\n");
    repaired
}

/// What stands in for a tagged status's missing text (ppops.net's `A6 OK`): the same text
/// the decoder gives a code without text (as imap-codec's `quirk_missing_text` does), as
/// imap-types' `Text` cannot be empty.
const MISSING_TEXT: &[u8] = b" ...";

fn is_status_word(word: &[u8]) -> bool {
    [b"OK".as_slice(), b"NO", b"BAD"]
        .iter()
        .any(|status| word.eq_ignore_ascii_case(status))
}

/// The first space-separated word and what follows its space.
pub(crate) fn split_word(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == b' ') {
        Some(at) => (&line[..at], &line[at + 1..]),
        None => (line, &[]),
    }
}

/// `(a b c) rest` as the words inside the parentheses and what follows `)`.
fn paren_list(bytes: &[u8]) -> Option<(impl Iterator<Item = &[u8]>, &[u8])> {
    let inner = bytes.strip_prefix(b"(")?;
    let close = inner.iter().position(|&b| b == b')')?;
    let words = inner[..close]
        .split(|&b| b == b' ')
        .filter(|w| !w.is_empty());
    Some((words, &inner[close + 1..]))
}

fn is_atom(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| is_atom_char(b))
}

/// Zoho puts PERMANENTFLAGS' `\*` into FLAGS (RFC 3501 §7.2.6 allows it only in
/// PERMANENTFLAGS); Gmail echoes client-made keywords with `]` and spaces unquoted, where
/// RFC 3501's flag-keyword is an atom. `\*` and words that are no atom are dropped (imap-types
/// cannot hold them), every other flag kept; a keyword with spaces comes out as its words.
fn flags_without_odd_atoms(after: &[u8], out: &mut Vec<u8>) -> bool {
    let Some((words, b"")) = paren_list(after) else {
        return false;
    };
    out.extend_from_slice(b"* FLAGS (");
    let kept =
        words.filter(|word| word != b"\\*" && is_atom(word.strip_prefix(b"\\").unwrap_or(word)));
    join(kept, out);
    out.push(b')');
    true
}

/// LIST attributes sent without their backslash (`(HasNoChildren UnMarked)`, reported to
/// ImapFlow): RFC 3501's mbx-list-flag is `"\" atom`, so the backslash is added back.
fn attributes_with_backslash(command: &[u8], after: &[u8], out: &mut Vec<u8>) -> bool {
    let Some((words, rest)) = paren_list(after) else {
        return false;
    };
    let mut added = false;
    out.extend_from_slice(b"* ");
    out.extend_from_slice(command);
    out.extend_from_slice(b" (");
    for (index, word) in words.enumerate() {
        if index > 0 {
            out.push(b' ');
        }
        if is_atom(word) {
            out.push(b'\\');
            added = true;
        }
        out.extend_from_slice(word);
    }
    out.push(b')');
    out.extend_from_slice(rest);
    added
}

/// A STATUS mailbox name with raw UTF-8 sent as an atom (8-bit bytes are no ATOM-CHAR,
/// reported to ImapFlow): the same bytes as a literal, which may carry them.
fn status_name_as_literal(after: &[u8], out: &mut Vec<u8>) -> bool {
    let Some(open) = after.windows(2).rposition(|w| w == b" (") else {
        return false;
    };
    let name = &after[..open];
    let bare_8bit = name.iter().any(|&b| b >= 0x80)
        && name
            .iter()
            .all(|&b| b >= 0x80 || (is_atom_char(b) && b != b'{'));
    if !bare_8bit {
        return false;
    }
    out.extend_from_slice(format!("* STATUS {{{}}}\r\n", name.len()).as_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&after[open..]);
    true
}

/// A status response whose text holds raw UTF-8 (Gmail's SELECT completion names the
/// mailbox: `F OK [READ-WRITE] [Gmail]/Visi laiškai selected.`) where RFC 3501's text is
/// 7-bit: imap-types' `Text` cannot hold it, so each such character reads as `?`.
fn ascii_line(line: &[u8], out: &mut Vec<u8>) -> bool {
    if line.is_ascii() {
        return false;
    }
    ascii_text(line, out);
    true
}

/// `bytes` with every character that is no TEXT-CHAR (8-bit, NUL) as `?`, and each run of
/// bytes that is no UTF-8 as one `?` (as `String::from_utf8_lossy` makes it one U+FFFD).
fn ascii_text(bytes: &[u8], out: &mut Vec<u8>) {
    for chunk in bytes.utf8_chunks() {
        out.extend(chunk.valid().chars().map(|c| ascii_char(c) as u8));
        if !chunk.invalid().is_empty() {
            out.push(b'?');
        }
    }
}

/// What `ascii_text` makes of one character.
fn ascii_char(c: char) -> char {
    if c.is_ascii() && c != '\0' { c } else { '?' }
}

/// The end of `line` (as `String::from_utf8_lossy` read it) that `ascii_text` turned into
/// `ascii`: the status text as the server wrote it, 8-bit characters included. `None` when
/// the line's end is not that text (another repair changed it).
pub(crate) fn verbatim_tail<'a>(line: &'a str, ascii: &str) -> Option<&'a str> {
    let chars = ascii.chars().count();
    let start = match chars {
        0 => line.len(),
        n => line.char_indices().rev().nth(n - 1)?.0,
    };
    let tail = &line[start..];
    tail.chars()
        .map(ascii_char)
        .eq(ascii.chars())
        .then_some(tail)
}

/// A status text to show: as the server wrote it when its response's `line` had 8-bit
/// characters (imap-types' `Text` holds ASCII only and reads `?` for each), else `text`.
pub(crate) fn shown_text(line: Option<&str>, text: &Text<'_>) -> String {
    let ascii = text.to_string();
    line.and_then(|line| verbatim_tail(line, &ascii))
        .map(str::to_owned)
        .unwrap_or(ascii)
}

fn join<'a>(words: impl Iterator<Item = &'a [u8]>, out: &mut Vec<u8>) {
    for (index, word) in words.enumerate() {
        if index > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
}

fn skip_blanks(bytes: &[u8]) -> &[u8] {
    let blanks = bytes
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    &bytes[blanks..]
}

/// Copies a quoted string (opening quote first) verbatim, backslash escapes included.
fn copy_quoted<'a>(bytes: &'a [u8], out: &mut Vec<u8>) -> &'a [u8] {
    let mut end = 1;
    while end < bytes.len() {
        match bytes[end] {
            b'\\' => end += 2,
            b'"' => {
                end += 1;
                break;
            }
            b'\r' | b'\n' => break,
            _ => end += 1,
        }
    }
    let end = end.min(bytes.len());
    out.extend_from_slice(&bytes[..end]);
    &bytes[end..]
}

/// Copies `{N}\r\n` and the N octets after it verbatim; anything else starting with `{` is
/// copied as one ordinary byte.
fn copy_literal<'a>(bytes: &'a [u8], out: &mut Vec<u8>) -> &'a [u8] {
    let digits = bytes[1..].iter().take_while(|b| b.is_ascii_digit()).count();
    let header_end = 1 + digits;
    let length = std::str::from_utf8(&bytes[1..header_end])
        .ok()
        .and_then(|d| d.parse::<usize>().ok());
    match (length, bytes.get(header_end..header_end + 3)) {
        (Some(length), Some(b"}\r\n")) => {
            let end = (header_end + 3).saturating_add(length).min(bytes.len());
            out.extend_from_slice(&bytes[..end]);
            &bytes[end..]
        }
        _ => {
            out.push(bytes[0]);
            &bytes[1..]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n0003_a_status_text_with_8_bit_characters_is_found_again_in_its_line() {
        let line = "F OK [READ-WRITE] [Gmail]/Visi laiškai selected. (Success) [THROTTLED]";
        let mut ascii = Vec::new();
        ascii_text(line.as_bytes(), &mut ascii);
        let ascii = String::from_utf8(ascii).unwrap();
        let text = ascii.strip_prefix("F OK [READ-WRITE] ").unwrap();
        assert_eq!(
            verbatim_tail(line, text),
            Some("[Gmail]/Visi laiškai selected. (Success) [THROTTLED]")
        );
        // Bytes that are no UTF-8 read as one U+FFFD each run, as `ascii_text` makes one `?`.
        let lossy = String::from_utf8_lossy(b"* BYE bad \xff\xfe end");
        assert_eq!(
            verbatim_tail(&lossy, "bad ?? end"),
            Some("bad \u{fffd}\u{fffd} end")
        );
        // A text another repair changed (runs of spaces) is not taken from the line.
        assert_eq!(verbatim_tail("* NO  über  voll", "?ber voll"), None);
        assert_eq!(verbatim_tail("* OK é", ""), Some(""));
    }

    fn normalized(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        normalize_spacing(input, &mut out);
        out
    }

    #[test]
    fn n0004_padding_is_removed_outside_strings_and_literals() {
        assert_eq!(normalized(b"* 5  EXISTS\r\n"), b"* 5 EXISTS\r\n");
        assert_eq!(
            normalized(b"* FLAGS ( \\Seen\t\\Answered )  \r\n"),
            b"* FLAGS (\\Seen \\Answered)\r\n"
        );
        let literal = b"* OK [ALERT] \"a  b \" {4}\r\n  ) \r\n";
        assert_eq!(normalized(literal), literal.to_vec());
    }

    #[test]
    fn v0061_xlist_replies_read_as_list() {
        let mut message =
            b"* XLIST (\\HasNoChildren \\AllMail) \"/\" \"[Gmail]/All Mail\"\r\n".to_vec();
        assert!(xlist_as_list(&mut message));
        assert!(message.starts_with(b"* LIST (\\HasNoChildren"));
        assert!(!xlist_as_list(&mut message));
    }

    fn repaired(input: &[u8]) -> Option<String> {
        let mut out = Vec::new();
        repair_line(input, &mut out).then(|| String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn n0003_one_line_shapes_are_rewritten_strictly() {
        let cases: [(&[u8], &str); 7] = [
            (
                b"* LIST (HasNoChildren \\Marked) \"/\" 'a\r\n",
                "* LIST (\\HasNoChildren \\Marked) \"/\" 'a\r\n",
            ),
            (
                b"* FLAGS (\\Seen \\* $Junk [GMail]/Sent OIB-[Gmail]/Tous les)\r\n",
                "* FLAGS (\\Seen $Junk les)\r\n",
            ),
            (
                "* STATUS Š/ł (MESSAGES 0)\r\n".as_bytes(),
                "* STATUS {5}\r\nŠ/ł (MESSAGES 0)\r\n",
            ),
            (
                "F OK [READ-WRITE] Š selected\r\n".as_bytes(),
                "F OK [READ-WRITE] ? selected\r\n",
            ),
            (b"[COPYUID 55 31 6]\r\n", "* OK [COPYUID 55 31 6]\r\n"),
            (b"A6 ok\r\n", "A6 ok ...\r\n"),
            (
                b"Server Unavailable. 15\r\n",
                "* BAD Server Unavailable. 15\r\n",
            ),
        ];
        for (input, output) in cases {
            assert_eq!(repaired(input).as_deref(), Some(output));
        }
    }

    #[test]
    fn n0003_one_line_repairs_leave_other_shapes_alone() {
        for input in [
            b"* FLAGS (\\Seen) x\r\n".as_slice(),
            b"* LIST (\\Marked) \"/\" a\r\n",
            b"* STATUS abc (MESSAGES 0)\r\n",
            b"* OK plain\r\n",
            b"A1 NO plain\r\n",
            b"+ go\r\n",
            b"* 1 FETCH (BODY[] {3}\r\nabc)\r\n",
            b"no line end",
        ] {
            assert_eq!(repaired(input), None, "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn unchanged_input_reports_no_change() {
        let mut out = Vec::new();
        assert!(!normalize_spacing(b"* 1 FETCH (UID 1)\r\n", &mut out));
        assert!(normalize_spacing(b"* 1 FETCH (UID 1 )\r\n", &mut out));
    }
}
