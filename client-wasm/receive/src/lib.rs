//! The code a header sync runs per message, kept apart from the rest of the engine
//! (`client-wasm`) so that Cargo, which sets optimisation per crate, can build it for speed
//! while the rest of the browser build is optimised for size: the root `Cargo.toml`'s
//! `release-wasm` profile. Measured in docs/benchmarks-engine.md ("A crate for the hot
//! path"). It holds no state and knows nothing of sessions: borrowed bytes in, values out.

pub mod summary_fetch;
pub mod summary_header;

use std::borrow::Cow;

/// Text from the wire, invalid UTF-8 replaced. `String::from_utf8_lossy` checks byte by byte;
/// `str::from_utf8` goes a word at a time through ASCII, which header text almost always is.
pub fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    std::str::from_utf8(bytes).map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed)
}
