//! The engine's own response decoder: one framed message to imap-types' `Response` or
//! `Greeting`, by RFC 3501 §9's grammar plus the extensions the engine speaks.
//!
//! It reads what imap-codec's decoder reads, to the same values (the differential tests hold
//! it to that), in a fraction of the code: the browser downloads every byte of it.

mod body;
mod cursor;
mod fetch;
mod flag;

use cursor::{Cursor, Parsed};
use imap_types::response::{Greeting, Response};

/// One complete response, with nothing left over.
pub(crate) fn response(message: &[u8]) -> Option<Response<'_>> {
    whole(message, |_| todo!())
}

/// One complete greeting, with nothing left over.
pub(crate) fn greeting(message: &[u8]) -> Option<Greeting<'_>> {
    whole(message, |_| todo!())
}

fn whole<'a, T>(message: &'a [u8], parse: impl FnOnce(&mut Cursor<'a>) -> Parsed<T>) -> Option<T> {
    let mut cursor = Cursor::new(message);
    let parsed = parse(&mut cursor).ok()?;
    cursor.at_end().then_some(parsed)
}
