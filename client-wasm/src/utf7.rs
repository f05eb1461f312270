//! Modified UTF-7 mailbox names (RFC 3501 §5.1.3).
//!
//! Names come from the server and are untrusted: malformed input is reported, never guessed
//! at, so the caller can show the raw name and keep using the exact wire bytes (row V0021).

use base64::Engine;
use base64::alphabet::Alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// RFC 3501's base64 variant: `,` instead of `/`, no padding.
fn engine() -> GeneralPurpose {
    let alphabet =
        Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,")
            .expect("static alphabet is valid");
    GeneralPurpose::new(
        &alphabet,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    )
}

/// Why a name is not valid modified UTF-7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Utf7Error {
    #[error("byte {0:#04x} is not allowed in a modified UTF-7 name")]
    ForbiddenByte(u8),
    #[error("a shifted run is not closed with '-'")]
    Unterminated,
    #[error("a shifted run is not valid base64 of UTF-16")]
    BadShiftedRun,
}

/// Decodes a wire name to Unicode.
pub fn decode(wire: &[u8]) -> Result<String, Utf7Error> {
    let mut out = String::with_capacity(wire.len());
    let mut rest = wire;
    while let Some((&byte, tail)) = rest.split_first() {
        match byte {
            b'&' => {
                let end = tail
                    .iter()
                    .position(|&b| b == b'-')
                    .ok_or(Utf7Error::Unterminated)?;
                decode_shifted(&tail[..end], &mut out)?;
                rest = &tail[end + 1..];
            }
            0x20..=0x7e => {
                out.push(char::from(byte));
                rest = tail;
            }
            other => return Err(Utf7Error::ForbiddenByte(other)),
        }
    }
    Ok(out)
}

/// Encodes a name the user typed: printable ASCII as itself (`&` as `&-`), everything else
/// as base64 of UTF-16BE between `&` and `-`.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut shifted: Vec<u16> = Vec::new();
    let flush = |shifted: &mut Vec<u16>, out: &mut Vec<u8>| {
        if shifted.is_empty() {
            return;
        }
        let bytes: Vec<u8> = shifted.drain(..).flat_map(u16::to_be_bytes).collect();
        out.push(b'&');
        out.extend_from_slice(engine().encode(bytes).as_bytes());
        out.push(b'-');
    };
    for ch in text.chars() {
        match ch {
            '&' => {
                flush(&mut shifted, &mut out);
                out.extend_from_slice(b"&-");
            }
            ' '..='~' => {
                flush(&mut shifted, &mut out);
                out.push(ch as u8);
            }
            other => shifted.extend(other.encode_utf16(&mut [0; 2]).iter()),
        }
    }
    flush(&mut shifted, &mut out);
    out
}

/// `&-` is a literal `&`; anything else between `&` and `-` is base64 of UTF-16BE.
fn decode_shifted(run: &[u8], out: &mut String) -> Result<(), Utf7Error> {
    if run.is_empty() {
        out.push('&');
        return Ok(());
    }
    let bytes = engine().decode(run).map_err(|_| Utf7Error::BadShiftedRun)?;
    if bytes.len() % 2 != 0 {
        return Err(Utf7Error::BadShiftedRun);
    }
    let units = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    for unit in char::decode_utf16(units) {
        let ch = unit.map_err(|_| Utf7Error::BadShiftedRun)?;
        if ch.is_ascii() && (0x20..=0x7e).contains(&(ch as u32)) {
            // RFC 3501 requires printable ASCII to be represented as itself.
            return Err(Utf7Error::BadShiftedRun);
        }
        out.push(ch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v0021_decodes_rfc3501_example_and_ampersand() {
        assert_eq!(
            decode(b"~peter/mail/&U,BTFw-/&ZeVnLIqe-").unwrap(),
            "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}"
        );
        assert_eq!(decode(b"Tom &- Jerry").unwrap(), "Tom & Jerry");
        assert_eq!(decode(b"Entw&APw-rfe").unwrap(), "Entw\u{fc}rfe");
    }

    #[test]
    fn v0021_encoding_round_trips_and_matches_rfc3501() {
        for name in [
            "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}",
            "Tom & Jerry",
            "Entw\u{fc}rfe",
            "\u{1f4e7} Mail",
        ] {
            assert_eq!(decode(&encode(name)).unwrap(), name);
        }
        assert_eq!(
            encode("~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}"),
            b"~peter/mail/&U,BTFw-/&ZeVnLIqe-".to_vec()
        );
        assert_eq!(encode("Entw\u{fc}rfe"), b"Entw&APw-rfe".to_vec());
    }

    #[test]
    fn v0021_malformed_names_are_errors_not_guesses() {
        assert_eq!(decode(b"a&AGE"), Err(Utf7Error::Unterminated));
        assert_eq!(decode(b"&AGE-"), Err(Utf7Error::BadShiftedRun));
        assert_eq!(decode(b"&!!-"), Err(Utf7Error::BadShiftedRun));
        assert_eq!(
            decode("Entwürfe".as_bytes()),
            Err(Utf7Error::ForbiddenByte(0xc3))
        );
    }
}
