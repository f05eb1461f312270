//! Flags as they appear in FLAGS, PERMANENTFLAGS, FETCH and LIST responses (RFC 3501 §9).

use super::cursor::{Cursor, Mismatch, Parsed};
use imap_types::flag::{Flag, FlagFetch, FlagNameAttribute, FlagPerm};

/// `flag`: `\Seen`-style system flags (others kept as extensions), or a keyword.
pub(crate) fn flag<'a>(c: &mut Cursor<'a>) -> Parsed<Flag<'a>> {
    if c.eat(b'\\') {
        return c.atom().map(Flag::system);
    }
    c.atom().map(Flag::Keyword)
}

/// `"(" [flag *(SP flag)] ")"`.
pub(crate) fn flag_list<'a>(c: &mut Cursor<'a>) -> Parsed<Vec<Flag<'a>>> {
    c.parenthesized(|c| c.separated0(flag))
}

/// `flag-fetch`: a flag, or `\Recent`.
pub(crate) fn flag_fetch<'a>(c: &mut Cursor<'a>) -> Parsed<FlagFetch<'a>> {
    let recent = c.attempt(|c| {
        c.byte(b'\\')?;
        let atom = c.atom()?;
        atom.as_ref()
            .eq_ignore_ascii_case("recent")
            .then_some(())
            .ok_or(Mismatch)
    });
    match recent {
        Ok(()) => Ok(FlagFetch::Recent),
        Err(_) => flag(c).map(FlagFetch::Flag),
    }
}

/// `flag-perm`: a flag, or `\*` (new keywords may be created).
pub(crate) fn flag_perm<'a>(c: &mut Cursor<'a>) -> Parsed<FlagPerm<'a>> {
    if c.eat_tag(b"\\*") {
        return Ok(FlagPerm::Asterisk);
    }
    flag(c).map(FlagPerm::Flag)
}

/// `mbx-list-flags`: LIST's attributes, each `\` and an atom.
pub(crate) fn mbx_list_flags<'a>(c: &mut Cursor<'a>) -> Parsed<Vec<FlagNameAttribute<'a>>> {
    c.separated1(|c| {
        c.byte(b'\\')?;
        c.atom().map(FlagNameAttribute::from)
    })
}
