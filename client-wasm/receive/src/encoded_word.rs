//! RFC 2047 encoded words as most mail writes them: UTF-8, ISO-8859-1 or US-ASCII, Q or B
//! text without blanks. Anything else (other charsets, RFC 2231 language tags, blanks or a
//! stray `?` in the text, broken escapes) is `None`, and the field it stands in is read by
//! mail-parser's field parsers, whose results these equal (the tests compare the two).
//!
//! Written here rather than called from mail-parser because this crate is built for speed:
//! mail-parser's decoders, built for size in the browser, were about a tenth of a header
//! sync there (docs/benchmarks-engine.md, "The wasm goal reached"). The base64 crate's
//! decoder in place of `b_text` saved 128 bytes of the `.wasm` and was no faster.

/// `=?charset?Q|B?text?=` decoded, or `None` for mail-parser to read.
pub(crate) fn decode(word: &[u8]) -> Option<String> {
    let inner = word.strip_prefix(b"=?")?.strip_suffix(b"?=")?;
    let mut parts = inner.split(|&b| b == b'?');
    let (Some(charset), Some(encoding), Some(text), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let bytes = match encoding {
        b"Q" | b"q" => q_text(text)?,
        b"B" | b"b" => b_text(text)?,
        _ => return None,
    };
    charset_text(charset, bytes)
}

/// `_` for a space, `=` and two hex digits for a byte, printable ASCII as itself.
fn q_text(text: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        bytes.push(match b {
            b'_' => b' ',
            b'=' => {
                let ([high, low], tail) = rest.split_first_chunk::<2>()?;
                rest = tail;
                hex_digit(*high)? << 4 | hex_digit(*low)?
            }
            b'!'..=b'~' => b,
            _ => return None,
        });
    }
    Some(bytes)
}

fn hex_digit(b: u8) -> Option<u8> {
    // Both cases, as mail-parser's table.
    char::from(b)
        .to_digit(16)
        .and_then(|digit| u8::try_from(digit).ok())
}

/// Base64 in whole quads, padding only in the last. Bits past the last byte are dropped,
/// as mail-parser drops them.
fn b_text(text: &[u8]) -> Option<Vec<u8>> {
    let (quads, []) = text.as_chunks::<4>() else {
        return None;
    };
    let mut bytes = Vec::with_capacity(quads.len() * 3);
    for (at, quad) in quads.iter().enumerate() {
        let padding = match quad {
            [_, _, b'=', b'='] => 2,
            [_, _, _, b'='] => 1,
            _ => 0,
        };
        if padding > 0 && at + 1 != quads.len() {
            return None;
        }
        let word = quad[..4 - padding]
            .iter()
            .try_fold(0u32, |word, &b| Some(word << 6 | sextet(b)?))?;
        let word = word << (6 * padding);
        // Three bytes, then the padding's cut: a copy of a length known only at run time
        // would be a call to memcpy.
        bytes.extend_from_slice(&word.to_be_bytes()[1..]);
        bytes.truncate(bytes.len() - padding);
    }
    Some(bytes)
}

fn sextet(b: u8) -> Option<u32> {
    let value = match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(value))
}

/// The text in its charset. mail-parser reads an unknown charset as UTF-8, and ISO-8859-1
/// and US-ASCII as Windows-1252, which is Latin-1 but for 0x80–0x9F: those are left to it.
fn charset_text(charset: &[u8], bytes: Vec<u8>) -> Option<String> {
    // The three names differ in length: one comparison (each is unrolled, in bytes of code).
    let (name, latin): (&[u8], bool) = match charset.len() {
        5 => (b"utf-8", false),
        8 => (b"us-ascii", true),
        10 => (b"iso-8859-1", true),
        _ => return None,
    };
    if !charset.eq_ignore_ascii_case(name) {
        return None;
    }
    let utf8 = if latin { latin_as_utf8(&bytes)? } else { bytes };
    Some(
        String::from_utf8(utf8)
            .unwrap_or_else(|invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned()),
    )
}

/// Latin-1 bytes in UTF-8, `None` for the C1 range.
fn latin_as_utf8(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut utf8 = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        match b {
            0..0x80 => utf8.push(b),
            0x80..0xa0 => return None,
            _ => utf8.extend_from_slice(&[0xc0 | b >> 6, 0x80 | (b & 0x3f)]),
        }
    }
    Some(utf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use mail_parser::parsers::MessageStream;

    /// mail-parser's reading of a whole word (`None` if it stops before the word's end).
    fn theirs(word: &[u8]) -> Option<String> {
        let mut stream = MessageStream::new(word.strip_prefix(b"=")?);
        let text = stream.decode_rfc2047()?;
        stream.is_eof().then_some(text)
    }

    #[test]
    fn common_words_decode_as_mail_parser_decodes_them() {
        for word in [
            &b"=?UTF-8?Q?Fran=C3=A7oise_Lef=C3=A8vre?="[..],
            b"=?utf-8?q?caf=c3=a9?=",
            b"=?UTF-8?B?5bGx55Sw5aSq6YOO?=",
            b"=?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=",
            b"=?UTF-8?B?QQ==?=",
            b"=?UTF-8?B?QR==?=",
            b"=?UTF-8?B??=",
            b"=?UTF-8?Q??=",
            b"=?UTF-8?Q?=FF=FE?=",
            b"=?ISO-8859-1?Q?J=F6rg_M=FCller?=",
            b"=?iso-8859-1?b?SvZyZw==?=",
            b"=?US-ASCII?Q?Keith_Moore?=",
            b"=?us-ascii?Q?=E9t=E9?=",
        ] {
            let ours = decode(word);
            assert!(ours.is_some(), "{}", String::from_utf8_lossy(word));
            assert_eq!(ours, theirs(word), "{}", String::from_utf8_lossy(word));
        }
    }

    #[test]
    fn anything_else_is_left_to_mail_parser() {
        for word in [
            &b"=?ISO-8859-2?Q?=B1?="[..],
            b"=?UTF-8*en?Q?a?=",
            b"=?ISO-8859-1?Q?=80?=",
            b"=?UTF-8?Q?a b?=",
            b"=?UTF-8?Q?a?b?=",
            b"=?UTF-8?Q?=4?=",
            b"=?UTF-8?Q?=4G?=",
            b"=?UTF-8?B?QUJD=?=",
            b"=?UTF-8?B?QQ==QQ==?=",
            b"=?UTF-8?B?QU JD?=",
            b"=?UTF-8?X?a?=",
            b"=?UTF-8?Q?a?= ",
            b"=?UTF-8?Q?a",
        ] {
            assert_eq!(decode(word), None, "{}", String::from_utf8_lossy(word));
        }
    }

    /// Random words over an alphabet of the syntax's characters: every word this module
    /// decodes, mail-parser decodes the same.
    #[test]
    fn random_words_decode_as_mail_parser_decodes_them() {
        let mut rng = fastrand::Rng::with_seed(0x5eed_2047);
        let charsets: [&[u8]; 6] = [
            b"UTF-8",
            b"utf-8",
            b"ISO-8859-1",
            b"us-ascii",
            b"ISO-8859-15",
            b"UTF-8*de",
        ];
        let alphabet = b"AQZaqz09+/=_?-. \t\x80\xc3\xa9Ee4F";
        let mut decoded = 0;
        for _ in 0..50_000 {
            let encoding: &[u8] = [&b"Q"[..], b"B", b"q", b"b"][rng.usize(..4)];
            let text: Vec<u8> = match rng.u8(..4) {
                // Well-formed base64 of random bytes.
                0 => {
                    let bytes: Vec<u8> = (0..rng.usize(..12)).map(|_| rng.u8(..)).collect();
                    STANDARD.encode(bytes).into_bytes()
                }
                _ => (0..rng.usize(..16))
                    .map(|_| alphabet[rng.usize(..alphabet.len())])
                    .collect(),
            };
            let charset = charsets[rng.usize(..charsets.len())];
            let word = [b"=?", charset, b"?", encoding, b"?", &text, b"?="].concat();
            if let Some(ours) = decode(&word) {
                decoded += 1;
                assert_eq!(
                    Some(ours),
                    theirs(&word),
                    "{}",
                    String::from_utf8_lossy(&word)
                );
            }
        }
        assert!(decoded > 5_000, "only {decoded} words decoded");
    }
}
