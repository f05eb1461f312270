//! Untagged responses after `* ` (RFC 3501 §7 and the extensions' data responses).

use super::cursor::{Cursor, MAX_DEPTH, Mismatch, Parsed};
use super::{bye, capability_data, fetch, flag, sequence_set, state};
use imap_types::core::{IString, NString, QuotedChar, Vec1, Vec2};
use imap_types::extensions::enable::CapabilityEnable;
use imap_types::extensions::namespace::{Namespace, NamespaceResponseExtension, Namespaces};
use imap_types::extensions::quota::{QuotaGet, Resource};
use imap_types::extensions::thread::Thread;
use imap_types::mailbox::Mailbox;
use imap_types::response::{Data, Response, Status};
use imap_types::status::StatusDataItem;
use imap_types::utils::indicators::{is_quoted_specials, is_text_char};
use std::num::{NonZeroU32, NonZeroU64};

/// Everything that may follow `* `, in imap-codec's order: the first that matches wins.
pub(crate) fn response_data<'a>(c: &mut Cursor<'a>) -> Parsed<Response<'a>> {
    if let Ok(body) = c.attempt(state) {
        return Ok(Response::Status(Status::Untagged(body)));
    }
    if let Ok(bye) = c.attempt(bye) {
        return Ok(Response::Status(Status::Bye(bye)));
    }
    let data = [mailbox_data, message_data, capability, enabled, id];
    data.into_iter()
        .find_map(|parse| c.attempt(parse).ok())
        .map(Response::Data)
        .ok_or(Mismatch)
}

fn mailbox_data<'a>(c: &mut Cursor<'a>) -> Parsed<Data<'a>> {
    if c.eat_tag(b"FLAGS ") {
        return flag::flag_list(c).map(Data::Flags);
    }
    if c.eat_tag(b"LIST ") {
        let (items, delimiter, mailbox) = mailbox_list(c)?;
        return Ok(Data::List {
            items,
            delimiter,
            mailbox,
        });
    }
    if c.eat_tag(b"LSUB ") {
        let (items, delimiter, mailbox) = mailbox_list(c)?;
        return Ok(Data::Lsub {
            items,
            delimiter,
            mailbox,
        });
    }
    if c.eat_tag(b"SEARCH") {
        let (found, modseq) = numbers_and_modseq(c);
        c.eat(b' ');
        return Ok(Data::Search(found, modseq));
    }
    if c.eat_tag(b"SORT") {
        let (found, modseq) = numbers_and_modseq(c);
        return Ok(Data::Sort(found, modseq));
    }
    if c.eat_tag(b"THREAD") {
        let threads = c
            .attempt(|c| {
                c.sp()?;
                c.at_least(1, |c| thread(c, MAX_DEPTH))
            })
            .unwrap_or_default();
        return Ok(Data::Thread(threads));
    }
    if c.eat_tag(b"STATUS ") {
        return status(c);
    }
    if c.eat_tag(b"NAMESPACE ") {
        return namespace_data(c);
    }
    if c.eat_tag(b"QUOTAROOT ") {
        let mailbox = mailbox(c)?;
        let roots = c.repeated(b' ', Cursor::astring);
        return Ok(Data::QuotaRoot { mailbox, roots });
    }
    if c.eat_tag(b"QUOTA ") {
        return quota(c);
    }
    let count = c.number()?;
    if c.eat_tag(b" EXISTS") {
        return Ok(Data::Exists(count));
    }
    c.tag(b" RECENT").map(|()| Data::Recent(count))
}

/// `"(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox`.
fn mailbox_list<'a>(
    c: &mut Cursor<'a>,
) -> Parsed<(
    Vec<imap_types::flag::FlagNameAttribute<'a>>,
    Option<QuotedChar>,
    Mailbox<'a>,
)> {
    let items = c.parenthesized(|c| Ok(c.attempt(flag::mbx_list_flags).unwrap_or_default()))?;
    c.sp()?;
    let delimiter = delimiter(c)?;
    c.sp()?;
    Ok((items, delimiter, mailbox(c)?))
}

fn mailbox<'a>(c: &mut Cursor<'a>) -> Parsed<Mailbox<'a>> {
    c.astring().map(Mailbox::from)
}

/// A hierarchy delimiter: one quoted character, or NIL for a flat namespace.
fn delimiter(c: &mut Cursor<'_>) -> Parsed<Option<QuotedChar>> {
    if !c.eat(b'"') {
        return c.nil().map(|()| None);
    }
    let escaped = c.eat(b'\\');
    let byte = c.peek().ok_or(Mismatch)?;
    let valid = if escaped {
        is_quoted_specials(byte)
    } else {
        is_text_char(byte) && !is_quoted_specials(byte)
    };
    if !valid {
        return Err(Mismatch);
    }
    c.take(1)?;
    c.byte(b'"')?;
    Ok(Some(QuotedChar::unvalidated(char::from(byte))))
}

/// SEARCH's and SORT's numbers, then RFC 7162's `(MODSEQ n)`.
fn numbers_and_modseq(c: &mut Cursor<'_>) -> (Vec<NonZeroU32>, Option<NonZeroU64>) {
    let found = c.repeated(b' ', Cursor::nz_number);
    let modseq = c
        .attempt(|c| {
            c.tag(b" (MODSEQ ")?;
            let modseq = c.mod_sequence_value()?;
            c.byte(b')').map(|()| modseq)
        })
        .ok();
    (found, modseq)
}

/// `"(" ... ")"`: a thread's members and its branches (at least two), or only branches.
fn thread(c: &mut Cursor<'_>, depth: usize) -> Parsed<Thread> {
    let depth = depth.checked_sub(1).ok_or(Mismatch)?;
    c.parenthesized(|c| {
        let branches = |c: &mut Cursor<'_>| c.at_least(2, |c| thread(c, depth));
        match c.attempt(|c| c.separated1(Cursor::nz_number)) {
            Ok(prefix) => {
                let answers = c
                    .attempt(|c| c.sp().and_then(|()| branches(c)))
                    .ok()
                    .map(Vec2::unvalidated);
                Ok(Thread::Members {
                    prefix: Vec1::unvalidated(prefix),
                    answers,
                })
            }
            Err(_) => branches(c).map(|answers| Thread::Nested {
                answers: Vec2::unvalidated(answers),
            }),
        }
    })
}

/// `mailbox SP "(" [status-att-list] ")"`, after `STATUS `; a trailing space allowed.
fn status<'a>(c: &mut Cursor<'a>) -> Parsed<Data<'a>> {
    let mailbox = mailbox(c)?;
    c.tag(b" (")?;
    let items = c.attempt(|c| c.separated1(status_item)).unwrap_or_default();
    c.byte(b')')?;
    c.eat(b' ');
    Ok(Data::Status {
        mailbox,
        items: items.into(),
    })
}

fn status_item(c: &mut Cursor<'_>) -> Parsed<StatusDataItem> {
    if c.eat_tag(b"MESSAGES ") {
        return c.number().map(StatusDataItem::Messages);
    }
    if c.eat_tag(b"RECENT ") {
        return c.number().map(StatusDataItem::Recent);
    }
    if c.eat_tag(b"UNSEEN ") {
        return c.number().map(StatusDataItem::Unseen);
    }
    if c.eat_tag(b"DELETED ") {
        return c.number().map(StatusDataItem::Deleted);
    }
    if c.eat_tag(b"UIDNEXT ") {
        return c.nz_number().map(StatusDataItem::UidNext);
    }
    if c.eat_tag(b"UIDVALIDITY ") {
        return c.nz_number().map(StatusDataItem::UidValidity);
    }
    if c.eat_tag(b"DELETED-STORAGE ") {
        return c.number64().map(StatusDataItem::DeletedStorage);
    }
    c.tag(b"HIGHESTMODSEQ ")?;
    c.number64().map(StatusDataItem::HighestModSeq)
}

/// RFC 9208's `quota-root-name SP "(" quota-resource *(SP quota-resource) ")"`, after
/// `QUOTA `; more than one space between a resource's words allowed (Archiveopteryx).
fn quota<'a>(c: &mut Cursor<'a>) -> Parsed<Data<'a>> {
    let root = c.astring()?;
    c.tag(b" (")?;
    let quotas = c.separated1(|c| {
        let resource = c.atom().map(Resource::from)?;
        let mut number = || {
            c.take_while1(|b| b == b' ')?;
            c.number64()
        };
        let usage = number()?;
        let limit = number()?;
        Ok(QuotaGet {
            resource,
            usage,
            limit,
        })
    })?;
    c.byte(b')')?;
    Ok(Data::Quota {
        root,
        quotas: Vec1::unvalidated(quotas),
    })
}

/// RFC 2342's three namespace lists, after `NAMESPACE `.
fn namespace_data<'a>(c: &mut Cursor<'a>) -> Parsed<Data<'a>> {
    let personal = namespaces(c)?;
    c.sp()?;
    let other = namespaces(c)?;
    c.sp()?;
    let shared = namespaces(c)?;
    Ok(Data::Namespace {
        personal,
        other,
        shared,
    })
}

fn namespaces<'a>(c: &mut Cursor<'a>) -> Parsed<Namespaces<'a>> {
    if c.attempt(Cursor::nil).is_ok() {
        return Ok(Vec::new());
    }
    c.parenthesized(|c| c.at_least(1, namespace))
}

fn namespace<'a>(c: &mut Cursor<'a>) -> Parsed<Namespace<'a>> {
    c.parenthesized(|c| {
        let prefix = c.string()?;
        c.sp()?;
        let delimiter = delimiter(c)?;
        let extensions = c.repeated(b' ', |c| {
            let key = c.string()?;
            c.sp()?;
            let values = c.parenthesized(|c| c.separated1(Cursor::string))?;
            Ok(NamespaceResponseExtension {
                key,
                values: Vec1::unvalidated(values),
            })
        });
        Ok(Namespace {
            prefix,
            delimiter,
            extensions,
        })
    })
}

/// `nz-number SP (EXPUNGE / FETCH msg-att)`, or RFC 7162's VANISHED.
fn message_data<'a>(c: &mut Cursor<'a>) -> Parsed<Data<'a>> {
    if c.eat_tag(b"VANISHED") {
        let earlier = c.eat_tag(b" (EARLIER)");
        c.sp()?;
        let known_uids = sequence_set(c)?;
        return Ok(Data::Vanished {
            earlier,
            known_uids,
        });
    }
    let seq = c.nz_number()?;
    c.sp()?;
    if c.eat_tag(b"EXPUNGE") {
        return Ok(Data::Expunge(seq));
    }
    c.tag(b"FETCH ")?;
    let items = fetch::msg_att(c)?;
    Ok(Data::Fetch { seq, items })
}

fn capability<'a>(c: &mut Cursor<'a>) -> Parsed<Data<'a>> {
    capability_data(c).map(Data::Capability)
}

/// RFC 5161's `ENABLED` and the capabilities now on.
fn enabled<'a>(c: &mut Cursor<'a>) -> Parsed<Data<'a>> {
    c.tag(b"ENABLED")?;
    let capabilities = c.repeated(b' ', |c| c.atom().map(CapabilityEnable::from));
    Ok(Data::Enabled { capabilities })
}

/// RFC 2971's `ID` and its parameters (NIL for none); a trailing space allowed.
fn id<'a>(c: &mut Cursor<'a>) -> Parsed<Data<'a>> {
    c.tag(b"ID ")?;
    let parameters = match c.attempt(Cursor::nil) {
        Ok(()) => None,
        Err(_) => Some(c.parenthesized(|c| {
            let parameters = c.separated0(|c| -> Parsed<(IString<'a>, NString<'a>)> {
                let key = c.string()?;
                c.sp()?;
                Ok((key, c.nstring()?))
            })?;
            c.eat(b' ');
            Ok(parameters)
        })?),
    };
    Ok(Data::Id { parameters })
}
