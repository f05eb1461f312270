//! The code a header sync runs per message, kept apart from the rest of the engine
//! (`client-wasm`) so that Cargo, which sets optimisation per crate, can build it for speed
//! while the rest of the browser build is optimised for size: the root `Cargo.toml`'s
//! `release-wasm` profile. Measured in docs/benchmarks-engine.md ("A crate for the hot
//! path"). It knows nothing of sessions or commands: bytes in, messages and values out.
//!
//! - `framing`: the server's byte stream split into whole responses (every response passes
//!   through it);
//! - `summary_fetch`: the message list's FETCH shape read directly;
//! - `summary_header`: the header fields a list row shows.

mod encoded_word;
pub mod framing;
pub mod summary_fetch;
pub mod summary_header;

use std::borrow::Cow;

/// Text from the wire, invalid UTF-8 replaced. Header text is almost always ASCII, which
/// `ascii` reads fastest; `String::from_utf8_lossy` checks byte by byte.
pub fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match ascii(bytes) {
        Some(text) => Cow::Borrowed(text),
        None => std::str::from_utf8(bytes)
            .map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed),
    }
}

/// `bytes` as text when they are all ASCII. The one `unsafe` of the engine: on the short
/// strings of a header field `str::from_utf8` goes byte by byte, and was 5 % of a header
/// sync natively where `is_ascii`, a word at a time, leaves nothing to check
/// (docs/benchmarks-engine.md, "ASCII text without a second check").
#[expect(unsafe_code)]
pub(crate) fn ascii(bytes: &[u8]) -> Option<&str> {
    // SAFETY: a sequence of ASCII bytes is valid UTF-8.
    bytes
        .is_ascii()
        .then(|| unsafe { std::str::from_utf8_unchecked(bytes) })
}
