//! The engine's own response decoder: one framed message to imap-types' `Response` or
//! `Greeting`, by RFC 3501 §9's grammar plus the extensions the engine speaks.
//!
//! It reads what imap-codec's decoder reads, to the same values (the differential tests hold
//! it to that), in a fraction of the code: the browser downloads every byte of it. Where the
//! grammar has alternatives it keeps the first that matches, as nom's `alt` does, trying them
//! in imap-codec's order wherever two could match the same bytes (elsewhere, as in `code` and
//! `data::mailbox_data`, no name is a prefix of another and the order does not matter).

mod body;
mod cursor;
mod data;
mod fetch;
mod flag;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cursor::{Cursor, Mismatch, Parsed};
use imap_types::core::{Charset, Tag, Text, Vec1};
use imap_types::extensions::uidplus::{UidElement, UidSet};
use imap_types::response::{
    Bye, Capability, Code, CodeOther, CommandContinuationRequest, Greeting, GreetingKind, Response,
    Status, StatusBody, StatusKind, Tagged,
};
use imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};
use imap_types::utils::indicators::is_astring_char;

/// One complete response, with nothing left over.
pub(crate) fn response(message: &[u8]) -> Option<Response<'_>> {
    whole(message, |c| {
        let response = match c.peek() {
            Some(b'+') => continue_req(c).map(Response::CommandContinuationRequest)?,
            Some(b'*') => {
                c.tag(b"* ")?;
                data::response_data(c)?
            }
            _ => Response::Status(tagged(c)?),
        };
        c.crlf()?;
        Ok(response)
    })
}

/// One complete greeting, with nothing left over.
pub(crate) fn greeting(message: &[u8]) -> Option<Greeting<'_>> {
    whole(message, |c| {
        c.tag(b"* ")?;
        let kind = if c.eat_tag(b"OK ") {
            GreetingKind::Ok
        } else if c.eat_tag(b"PREAUTH ") {
            GreetingKind::PreAuth
        } else {
            c.tag(b"BYE ")?;
            GreetingKind::Bye
        };
        let (code, text) = resp_text(c)?;
        c.crlf()?;
        Ok(Greeting { kind, code, text })
    })
}

fn whole<'a, T>(message: &'a [u8], parse: impl FnOnce(&mut Cursor<'a>) -> Parsed<T>) -> Option<T> {
    let mut cursor = Cursor::new(message);
    let parsed = parse(&mut cursor).ok()?;
    cursor.at_end().then_some(parsed)
}

/// `tag SP resp-cond-state`.
fn tagged<'a>(c: &mut Cursor<'a>) -> Parsed<Status<'a>> {
    let tag = c.str_of(|b| is_astring_char(b) && b != b'+')?;
    c.sp()?;
    Ok(Status::Tagged(Tagged {
        tag: Tag::unvalidated(tag),
        body: state(c)?,
    }))
}

/// `resp-cond-state`: OK, NO or BAD with a response text.
pub(crate) fn state<'a>(c: &mut Cursor<'a>) -> Parsed<StatusBody<'a>> {
    let kind = if c.eat_tag(b"OK ") {
        StatusKind::Ok
    } else if c.eat_tag(b"NO ") {
        StatusKind::No
    } else {
        c.tag(b"BAD ")?;
        StatusKind::Bad
    };
    let (code, text) = resp_text(c)?;
    Ok(StatusBody { kind, code, text })
}

/// `resp-cond-bye`, after `* `.
pub(crate) fn bye<'a>(c: &mut Cursor<'a>) -> Parsed<Bye<'a>> {
    c.tag(b"BYE ")?;
    let (code, text) = resp_text(c)?;
    Ok(Bye { code, text })
}

/// `continue-req`: base64 when the whole line decodes as base64, else a response text; a
/// bare `+` (some servers send it) reads as `+ ...`.
fn continue_req<'a>(c: &mut Cursor<'a>) -> Parsed<CommandContinuationRequest<'a>> {
    c.byte(b'+')?;
    if c.rest() == b"\r\n" {
        return CommandContinuationRequest::basic(None, "...").map_err(|_| Mismatch);
    }
    c.sp()?;
    let line = c.rest().strip_suffix(b"\r\n").ok_or(Mismatch)?;
    if let Ok(data) = BASE64.decode(line) {
        c.take(line.len())?;
        return Ok(CommandContinuationRequest::base64(data));
    }
    let (code, text) = resp_text(c)?;
    CommandContinuationRequest::basic(code, text).map_err(|_| Mismatch)
}

/// `resp-text`: an optional `[code]` and a text; an unknown or malformed code is kept whole
/// as `Code::Other`, and a code with no text after it reads as `...`.
fn resp_text<'a>(c: &mut Cursor<'a>) -> Parsed<(Option<Code<'a>>, Text<'a>)> {
    if !c.eat(b'[') {
        return Ok((None, c.text()?));
    }
    let code = match c.attempt(|c| {
        let code = code(c)?;
        c.byte(b']').map(|()| code)
    }) {
        Ok(code) => code,
        Err(_) => {
            let other = c.take_while(|b| !matches!(b, b']' | b'\r' | b'\n'));
            c.byte(b']')?;
            Code::Other(CodeOther::unvalidated(other))
        }
    };
    let text = match c.attempt(|c| c.sp().and_then(|()| c.text())) {
        Ok(text) => text,
        Err(_) if c.rest().starts_with(b"\r\n") => Text::unvalidated("..."),
        Err(mismatch) => return Err(mismatch),
    };
    Ok((Some(code), text))
}

/// `resp-text-code`, the known ones. No name is a prefix of another (with the space after
/// it where an argument follows), so the order of the tries does not matter.
fn code<'a>(c: &mut Cursor<'a>) -> Parsed<Code<'a>> {
    const BARE: [(&[u8], Code<'static>); 12] = [
        (b"ALERT", Code::Alert),
        (b"PARSE", Code::Parse),
        (b"READ-ONLY", Code::ReadOnly),
        (b"READ-WRITE", Code::ReadWrite),
        (b"TRYCREATE", Code::TryCreate),
        (b"COMPRESSIONACTIVE", Code::CompressionActive),
        (b"OVERQUOTA", Code::OverQuota),
        (b"TOOBIG", Code::TooBig),
        (b"UNKNOWN-CTE", Code::UnknownCte),
        (b"UIDNOTSTICKY", Code::UidNotSticky),
        (b"NOMODSEQ", Code::NoModSeq),
        (b"CLOSED", Code::Closed),
    ];
    if c.eat_tag(b"BADCHARSET") {
        let allowed = c
            .attempt(|c| {
                c.tag(b" (")?;
                let charsets = c.separated1(charset)?;
                c.byte(b')').map(|()| charsets)
            })
            .unwrap_or_default();
        return Ok(Code::BadCharset { allowed });
    }
    if let Ok(capabilities) = c.attempt(capability_data) {
        return Ok(Code::Capability(capabilities));
    }
    if c.eat_tag(b"PERMANENTFLAGS ") {
        return c
            .parenthesized(|c| c.separated0(flag::flag_perm))
            .map(Code::PermanentFlags);
    }
    if c.eat_tag(b"UIDNEXT ") {
        return c.nz_number().map(Code::UidNext);
    }
    if c.eat_tag(b"UIDVALIDITY ") {
        return c.nz_number().map(Code::UidValidity);
    }
    if c.eat_tag(b"UNSEEN ") {
        return c.nz_number().map(Code::Unseen);
    }
    if c.eat_tag(b"APPENDUID ") {
        let uid_validity = c.nz_number()?;
        c.sp()?;
        let uid = c.nz_number()?;
        return Ok(Code::AppendUid { uid_validity, uid });
    }
    if c.eat_tag(b"COPYUID ") {
        let uid_validity = c.nz_number()?;
        c.sp()?;
        let source = uid_set(c)?;
        c.sp()?;
        let destination = uid_set(c)?;
        return Ok(Code::CopyUid {
            uid_validity,
            source,
            destination,
        });
    }
    if c.eat_tag(b"HIGHESTMODSEQ ") {
        return c.mod_sequence_value().map(Code::HighestModSeq);
    }
    if c.eat_tag(b"MODIFIED ") {
        return sequence_set(c).map(Code::Modified);
    }
    BARE.into_iter()
        .find(|(name, _)| c.eat_tag(name))
        .map(|(_, code)| code)
        .ok_or(Mismatch)
}

fn charset<'a>(c: &mut Cursor<'a>) -> Parsed<Charset<'a>> {
    match c.peek() {
        Some(b'"') => c.quoted().map(Charset::Quoted),
        _ => c.atom().map(Charset::Atom),
    }
}

/// `capability-data` (also the CAPABILITY code): `CAPABILITY` and atoms, a trailing space
/// allowed.
pub(crate) fn capability_data<'a>(c: &mut Cursor<'a>) -> Parsed<Vec1<Capability<'a>>> {
    c.tag(b"CAPABILITY ")?;
    let capabilities = c.separated1(|c| c.atom().map(Capability::from))?;
    c.eat(b' ');
    Ok(Vec1::unvalidated(capabilities))
}

/// `sequence-set`, numbers and `*`.
pub(crate) fn sequence_set(c: &mut Cursor<'_>) -> Parsed<SequenceSet> {
    let set = c.separated1_by(b',', |c| {
        let from = seq_number(c)?;
        match c.attempt(|c| c.byte(b':').and_then(|()| seq_number(c))) {
            Ok(to) => Ok(Sequence::Range(from, to)),
            Err(_) => Ok(Sequence::Single(from)),
        }
    })?;
    Ok(SequenceSet(Vec1::unvalidated(set)))
}

fn seq_number(c: &mut Cursor<'_>) -> Parsed<SeqOrUid> {
    if c.eat(b'*') {
        return Ok(SeqOrUid::Asterisk);
    }
    c.nz_number().map(SeqOrUid::Value)
}

/// UIDPLUS's `uid-set`: numbers only.
fn uid_set(c: &mut Cursor<'_>) -> Parsed<UidSet> {
    let set = c.separated1_by(b',', |c| {
        let from = c.nz_number()?;
        match c.attempt(|c| c.byte(b':').and_then(|()| c.nz_number())) {
            Ok(to) => Ok(UidElement::Range(from, to)),
            Err(_) => Ok(UidElement::Single(from)),
        }
    })?;
    Ok(UidSet(Vec1::unvalidated(set)))
}
