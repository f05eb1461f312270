//! FETCH's message data items (RFC 3501 §7.4.2, RFC 3516's BINARY, RFC 7162's MODSEQ):
//! envelopes, body structures, sections and literals.

use super::cursor::{Cursor, Mismatch, Parsed};
use imap_types::core::Vec1;
use imap_types::fetch::MessageDataItem;

/// `msg-att`: `"(" item *(SP item) ")"`.
pub(crate) fn msg_att<'a>(_c: &mut Cursor<'a>) -> Parsed<Vec1<MessageDataItem<'a>>> {
    Err(Mismatch)
}
