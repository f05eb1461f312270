//! Flags as they appear in FLAGS, PERMANENTFLAGS, FETCH and LIST responses (RFC 3501 §9).

use super::cursor::{Cursor, Parsed};
use imap_types::core::Atom;
use imap_types::flag::{Flag, FlagFetch, FlagNameAttribute, FlagPerm};

/// `flag`: `\Seen`-style system flags (others kept as extensions), or a keyword.
pub(crate) fn flag<'a>(c: &mut Cursor<'a>) -> Parsed<Flag<'a>> {
    let (system, atom) = flag_atom(c)?;
    Ok(as_flag(system, atom))
}

/// A flag's atom, and whether a `\` came before it (a system flag).
fn flag_atom<'a>(c: &mut Cursor<'a>) -> Parsed<(bool, Atom<'a>)> {
    let system = c.eat(b'\\');
    Ok((system, c.atom()?))
}

fn as_flag(system: bool, atom: Atom<'_>) -> Flag<'_> {
    if system {
        Flag::system(atom)
    } else {
        Flag::Keyword(atom)
    }
}

/// `"(" [flag *(SP flag)] ")"`.
pub(crate) fn flag_list<'a>(c: &mut Cursor<'a>) -> Parsed<Vec<Flag<'a>>> {
    c.parenthesized(|c| c.separated0(flag))
}

/// `flag-fetch`: a flag, or `\Recent`.
pub(crate) fn flag_fetch<'a>(c: &mut Cursor<'a>) -> Parsed<FlagFetch<'a>> {
    let (system, atom) = flag_atom(c)?;
    if system && atom.as_ref().eq_ignore_ascii_case("recent") {
        return Ok(FlagFetch::Recent);
    }
    Ok(FlagFetch::Flag(as_flag(system, atom)))
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
