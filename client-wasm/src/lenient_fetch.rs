//! A last chance for FETCH responses the strict parser rejects even with their padding
//! normalised (rows N0003, V0071, V0072).
//!
//! The message is read as a tree of lists, strings and atoms under looser rules than RFC 3501
//! (a quote inside a quoted string ends it only before a space or `)`), the shape errors real
//! servers make are repaired in the tree, and the result is written back in strict form for
//! the decoder (`codec::decode`) to parse. Meaning stays with the decoder; this module only
//! fixes shape:
//!
//! - FETCH items wrapped in an extra pair of parentheses (Domino);
//! - a `BODY[...]` with no value at all (Yandex): read as NIL;
//! - `MODSEQ (0)` or `(-1)`, which no mod-sequence can be (Zoho): dropped;
//! - a body disposition sent as a bare string (Exchange): `("inline" NIL)`;
//! - a disposition `(NIL NIL)` (Exchange): NIL;
//! - a multipart with no children: read as an empty single part of that type;
//! - a negative body size: 0.
//!
//! Items imap-types has no type for (Gmail's X-GM items) can be taken out of the tree for the
//! caller to read (`split_fetch`).

/// Deeper nesting than any real message has; bounds the recursion.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    List(Vec<Value>),
    /// A quoted string's or literal's content; `binary` for a literal8 (`~{N}`).
    Str {
        bytes: Vec<u8>,
        binary: bool,
    },
    Atom(Vec<u8>),
    /// A multipart's children, written with no space between them (`1*body SP
    /// media-subtype` in RFC 3501's grammar).
    Bodies(Vec<Value>),
}

impl Value {
    fn is_nil(&self) -> bool {
        matches!(self, Self::Atom(atom) if atom.eq_ignore_ascii_case(b"NIL"))
    }

    fn nil() -> Self {
        Self::Atom(b"NIL".to_vec())
    }

    fn is_str(&self, text: &str) -> bool {
        matches!(self, Self::Str { bytes, .. } if bytes.eq_ignore_ascii_case(text.as_bytes()))
    }
}

/// Rewrites `* N FETCH (...)` into its repaired strict form in `out`; `false` when `message`
/// is not a FETCH response or not even loosely readable.
pub(crate) fn rewrite_fetch(message: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let Some((seq, items)) = read_fetch(message) else {
        return false;
    };
    write_fetch(seq, repair_items(items), out);
    true
}

/// Takes the items `take` claims out of a FETCH response and writes the others to `out` as
/// `rewrite_fetch` does (`out` left empty when none are left); returns the sequence number.
/// `take` answers whether it claims an item, or `None` when it claims one it cannot read.
/// `None` when the message is no FETCH response, an item was unreadable, or none claimed.
pub(crate) fn split_fetch(
    message: &[u8],
    out: &mut Vec<u8>,
    mut take: impl FnMut(&[u8], &Value) -> Option<bool>,
) -> Option<u32> {
    out.clear();
    let (seq, items) = read_fetch(message)?;
    let number = std::str::from_utf8(seq)
        .ok()?
        .parse::<std::num::NonZeroU32>()
        .ok()?;
    let (mut claimed, mut others) = (false, Vec::new());
    let mut items = repair_items(items).into_iter();
    while let (Some(name), Some(value)) = (items.next(), items.next()) {
        let taken = match &name {
            Value::Atom(bytes) => take(bytes, &value)?,
            _ => false,
        };
        claimed |= taken;
        if !taken {
            others.extend([name, value]);
        }
    }
    if !claimed {
        return None;
    }
    if !others.is_empty() {
        write_fetch(seq, others, out);
    }
    Some(number.get())
}

fn write_fetch(seq: &[u8], items: Vec<Value>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"* ");
    out.extend_from_slice(seq);
    out.extend_from_slice(b" FETCH ");
    write(&Value::List(items), out);
    out.extend_from_slice(b"\r\n");
}

/// The sequence number and the item list of a FETCH response.
fn read_fetch(message: &[u8]) -> Option<(&[u8], Vec<Value>)> {
    let rest = message.strip_prefix(b"* ")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (seq, rest) = rest.split_at(digits);
    let rest = rest.strip_prefix(b" ")?;
    let keyword = rest.get(..6)?;
    if seq.is_empty() || !keyword.eq_ignore_ascii_case(b"FETCH ") {
        return None;
    }
    let mut reader = Reader {
        bytes: rest,
        pos: 6,
    };
    reader.skip_blanks();
    if reader.next_byte()? != b'(' {
        return None;
    }
    let items = reader.list(0)?;
    reader.skip_blanks();
    (reader.bytes.get(reader.pos..)? == b"\r\n").then_some((seq, items))
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next_byte(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// The values up to the `)` that closes a list whose `(` was just read.
    fn list(&mut self, depth: usize) -> Option<Vec<Value>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut values = Vec::new();
        loop {
            self.skip_blanks();
            let value = match self.peek()? {
                b')' => {
                    self.pos += 1;
                    return Some(values);
                }
                b'(' => {
                    self.pos += 1;
                    Value::List(self.list(depth + 1)?)
                }
                b'"' => self.quoted()?,
                b'{' => self.literal(false)?,
                b'~' if self.bytes.get(self.pos + 1) == Some(&b'{') => {
                    self.pos += 1;
                    self.literal(true)?
                }
                b'\r' | b'\n' => return None,
                _ => self.atom(),
            };
            values.push(value);
        }
    }

    /// A quoted string whose closing quote is the first one followed by a space, `)` or the
    /// line's end: servers leave quotes inside unescaped.
    fn quoted(&mut self) -> Option<Value> {
        self.pos += 1;
        let mut bytes = Vec::new();
        loop {
            match self.next_byte()? {
                b'\\' => bytes.push(self.next_byte()?),
                b'"' if matches!(self.peek(), Some(b' ' | b')' | b'\r') | None) => {
                    return Some(Value::Str {
                        bytes,
                        binary: false,
                    });
                }
                b'\r' | b'\n' => return None,
                byte => bytes.push(byte),
            }
        }
    }

    /// `{N}`, `{N+}` or `{N-}`, CRLF, then N octets (the `~` of a literal8 already read).
    fn literal(&mut self, binary: bool) -> Option<Value> {
        let rest = self.bytes.get(self.pos + 1..)?;
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let length: usize = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
        let after = &rest[digits..];
        let marker = usize::from(matches!(after.first(), Some(b'+' | b'-')));
        if after.get(marker..marker + 3)? != b"}\r\n" {
            return None;
        }
        let start = self.pos + 1 + digits + marker + 3;
        let end = start.checked_add(length)?;
        let bytes = self.bytes.get(start..end)?.to_vec();
        self.pos = end;
        Some(Value::Str { bytes, binary })
    }

    /// An atom, a number or NIL; a `[...]` section inside it is kept whole, spaces and
    /// parentheses included (`BODY[HEADER.FIELDS (FROM)]<0>`).
    fn atom(&mut self) -> Value {
        let start = self.pos;
        let mut in_section = false;
        while let Some(byte) = self.peek() {
            match byte {
                b'[' => in_section = true,
                b']' => in_section = false,
                b'\r' | b'\n' => break,
                b' ' | b'(' | b')' | b'"' if !in_section => break,
                _ => {}
            }
            self.pos += 1;
        }
        Value::Atom(self.bytes[start..self.pos].to_vec())
    }
}

/// Repairs a FETCH item list: name, value, name, value...
fn repair_items(items: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut items = items.into_iter().peekable();
    while let Some(item) = items.next() {
        let name = match item {
            // Items wrapped in parentheses of their own (Domino).
            Value::List(inner) => {
                out.extend(repair_items(inner));
                continue;
            }
            Value::Atom(name) => name,
            Value::Str { .. } | Value::Bodies(_) => return out,
        };
        let upper = name.to_ascii_uppercase();
        let is_section = upper.contains(&b'[');
        let value = match items.peek() {
            // A section item with no value before the next name or the end (Yandex).
            Some(Value::Atom(next)) if is_section && !next.eq_ignore_ascii_case(b"NIL") => {
                Value::nil()
            }
            None if is_section => Value::nil(),
            _ => match items.next() {
                Some(value) => value,
                None => return out,
            },
        };
        let value = match (upper.as_slice(), value) {
            (b"MODSEQ", Value::List(numbers)) if !valid_modseq(&numbers) => continue,
            (b"BODY" | b"BODYSTRUCTURE", Value::List(parts)) => Value::List(repair_body(parts)),
            (_, value) => value,
        };
        out.push(Value::Atom(name));
        out.push(value);
    }
    out
}

fn valid_modseq(numbers: &[Value]) -> bool {
    matches!(numbers, [Value::Atom(n)] if n.iter().all(u8::is_ascii_digit) && n.iter().any(|&d| d != b'0'))
}

/// Repairs one body structure (the contents of its parentheses).
fn repair_body(mut parts: Vec<Value>) -> Vec<Value> {
    let children = parts
        .iter()
        .take_while(|part| matches!(part, Value::List(_)))
        .count();
    if children > 0 {
        let rest = parts.split_off(children);
        let bodies = parts
            .into_iter()
            .map(|child| match child {
                Value::List(inner) => Value::List(repair_body(inner)),
                other => other,
            })
            .collect();
        let mut parts = vec![Value::Bodies(bodies)];
        parts.extend(rest);
        // subtype, parameters, then the disposition.
        repair_disposition(&mut parts, 3);
        return parts;
    }
    if let [first, Value::Str { bytes: subtype, .. }, rest @ ..] = parts.as_slice()
        && first.is_nil()
    {
        // A multipart with no children: an empty part of its type.
        let parameters = match rest.first() {
            Some(list @ Value::List(_)) => list.clone(),
            _ => Value::nil(),
        };
        let text = |s: &[u8]| Value::Str {
            bytes: s.to_vec(),
            binary: false,
        };
        return vec![
            text(b"multipart"),
            text(subtype),
            parameters,
            Value::nil(),
            Value::nil(),
            text(b"7bit"),
            Value::Atom(b"0".to_vec()),
        ];
    }
    if let Some(Value::Atom(size)) = parts.get_mut(6)
        && size.first() == Some(&b'-')
    {
        *size = b"0".to_vec();
    }
    let is_text = parts.first().is_some_and(|t| t.is_str("text"));
    let is_message = parts.first().is_some_and(|t| t.is_str("message"))
        && parts.get(1).is_some_and(|s| s.is_str("rfc822"));
    let extensions = if is_message {
        if let Some(Value::List(inner)) = parts.get_mut(8) {
            *inner = repair_body(std::mem::take(inner));
        }
        10
    } else if is_text {
        8
    } else {
        7
    };
    // MD5, then the disposition.
    repair_disposition(&mut parts, extensions + 1);
    parts
}

fn repair_disposition(parts: &mut [Value], index: usize) {
    let Some(disposition) = parts.get_mut(index) else {
        return;
    };
    match disposition {
        Value::Str { .. } => {
            let kind = std::mem::replace(disposition, Value::nil());
            *disposition = Value::List(vec![kind, Value::nil()]);
        }
        Value::List(fields) if fields.first().is_none_or(Value::is_nil) => {
            *disposition = Value::nil();
        }
        _ => {}
    }
}

/// Writes a value in strict form: strings quoted when they can be, else as literals.
fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::List(values) => {
            out.push(b'(');
            for (index, value) in values.iter().enumerate() {
                if index > 0 {
                    out.push(b' ');
                }
                write(value, out);
            }
            out.push(b')');
        }
        Value::Bodies(bodies) => {
            for body in bodies {
                write(body, out);
            }
        }
        Value::Atom(atom) => out.extend_from_slice(atom),
        Value::Str { bytes, binary } => {
            if bytes.iter().all(|&b| (0x20..0x7f).contains(&b)) {
                out.push(b'"');
                for &byte in bytes {
                    if matches!(byte, b'"' | b'\\') {
                        out.push(b'\\');
                    }
                    out.push(byte);
                }
                out.push(b'"');
            } else {
                if *binary {
                    out.push(b'~');
                }
                out.extend_from_slice(format!("{{{}}}\r\n", bytes.len()).as_bytes());
                out.extend_from_slice(bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(input: &[u8]) -> Option<String> {
        let mut out = Vec::new();
        rewrite_fetch(input, &mut out).then(|| String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn n0003_shape_errors_are_repaired() {
        let cases: [(&[u8], &str); 6] = [
            (
                b"* 2 FETCH (UID 5 (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)))\r\n",
                "* 2 FETCH (UID 5 ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
            ),
            (
                b"* 1 FETCH (UID 3 BODY[2] )\r\n",
                "* 1 FETCH (UID 3 BODY[2] NIL)\r\n",
            ),
            (
                b"* 1 FETCH (MODSEQ (0) FLAGS (\\Seen) UID 1 MODSEQ (-1))\r\n",
                "* 1 FETCH (FLAGS (\\Seen) UID 1)\r\n",
            ),
            (
                b"* 1 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 8 1 NIL \"inline\" NIL NIL)(\"a\" \"b\" NIL NIL NIL \"base64\" -1 NIL (NIL NIL)) \"mixed\" NIL \"x\"))\r\n",
                "* 1 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 8 1 NIL (\"inline\" NIL) NIL NIL)(\"a\" \"b\" NIL NIL NIL \"base64\" 0 NIL NIL) \"mixed\" NIL (\"x\" NIL)))\r\n",
            ),
            (
                b"* 1 FETCH (BODY (NIL \"alternative\" (\"boundary\" \"b\") NIL))\r\n",
                "* 1 FETCH (BODY (\"multipart\" \"alternative\" (\"boundary\" \"b\") NIL NIL \"7bit\" 0))\r\n",
            ),
            (
                b"* 1 FETCH (ENVELOPE (NIL \"=?Q?\"x y\"?=\" NIL))\r\n",
                "* 1 FETCH (ENVELOPE (NIL \"=?Q?\\\"x y\\\"?=\" NIL))\r\n",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(rewritten(input).as_deref(), Some(expected));
        }
    }

    #[test]
    fn n0003_eight_bit_and_binary_strings_become_literals() {
        assert_eq!(
            rewritten(b"* 1 FETCH (BINARY[1] ~{3}\r\na\0b X (1))\r\n").as_deref(),
            Some("* 1 FETCH (BINARY[1] ~{3}\r\na\0b X (1))\r\n")
        );
        assert_eq!(
            rewritten("* 1 FETCH (X \"\u{e9}\")\r\n".as_bytes()).as_deref(),
            Some("* 1 FETCH (X {2}\r\n\u{e9})\r\n")
        );
    }

    #[test]
    fn n0003_claimed_items_are_taken_out_and_the_rest_written_strictly() {
        let split = |input: &[u8]| {
            let (mut out, mut taken) = (Vec::new(), Vec::new());
            let seq = split_fetch(input, &mut out, |name, value| {
                let claims = name.starts_with(b"X-");
                if claims {
                    taken.push(value.clone());
                }
                (!value.is_nil()).then_some(claims)
            });
            (seq, taken.len(), String::from_utf8_lossy(&out).into_owned())
        };
        assert_eq!(
            split(b"* 4 FETCH (X-A 1 (X-B (a)) FLAGS (\\Seen) UID 9)\r\n"),
            (
                Some(4),
                2,
                "* 4 FETCH (FLAGS (\\Seen) UID 9)\r\n".to_owned()
            )
        );
        assert_eq!(
            split(b"* 1 FETCH (X-A ())\r\n"),
            (Some(1), 1, String::new())
        );
        for input in [
            b"* 1 FETCH (UID 3 FLAGS ())\r\n".as_slice(),
            b"* 0 FETCH (X-A 1)\r\n",
            b"* 1 FETCH (X-A NIL UID 3)\r\n",
            b"* 1 EXISTS\r\n",
        ] {
            assert_eq!(split(input).0, None, "{input:?}");
        }
    }

    #[test]
    fn n0003_unreadable_or_other_responses_are_left_alone() {
        for input in [
            b"* 1 EXISTS\r\n".as_slice(),
            b"* 1 FETCH (UID 1\r\n",
            b"* 1 FETCH (X {9}\r\nab)\r\n",
            b"* 1 FETCH (X \"open\r\n",
            b"* FETCH (UID 1)\r\n",
            b"* 1 FETCH (UID 1) junk\r\n",
        ] {
            assert_eq!(rewritten(input), None, "{input:?}");
        }
        let deep = [
            b"* 1 FETCH ".as_slice(),
            &[b'('; 100],
            &[b')'; 100],
            b"\r\n",
        ]
        .concat();
        assert_eq!(rewritten(&deep), None);
    }
}
