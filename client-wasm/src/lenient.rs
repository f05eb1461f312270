//! Second chances for responses the strict parser rejects (row N0004: strict sending,
//! lenient parsing).
//!
//! Real servers pad with extra spaces: runs of spaces or tabs, a space after `(` or before
//! `)`, a space before the line's CRLF. [`normalize_spacing`] rewrites only that padding,
//! outside quoted strings and literals, so the message keeps its meaning and its framing.

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

    #[test]
    fn unchanged_input_reports_no_change() {
        let mut out = Vec::new();
        assert!(!normalize_spacing(b"* 1 FETCH (UID 1)\r\n", &mut out));
        assert!(normalize_spacing(b"* 1 FETCH (UID 1 )\r\n", &mut out));
    }
}
