//! BODY and BODYSTRUCTURE (RFC 3501 §7.4.2) and the envelope a message/rfc822 part nests,
//! with imap-codec's quirks for what real servers send: NIL encodings and parameter values,
//! an empty parameter list, Dovecot's `-1` size and spaces between addresses.

use super::cursor::{Cursor, Mismatch, Parsed};
use imap_types::body::{
    BasicFields, Body, BodyExtension, BodyStructure, Disposition, Language, Location,
    MultiPartExtensionData, SinglePartExtensionData, SpecificFields,
};
use imap_types::core::{IString, Quoted, Vec1};
use imap_types::envelope::{Address, Envelope};

/// `body`: `"(" (body-type-1part / body-type-mpart) ")"`. `depth` bounds the nesting of
/// bodies and of their extensions together, so that hostile input cannot exhaust the stack.
pub(crate) fn body<'a>(c: &mut Cursor<'a>, depth: usize) -> Parsed<BodyStructure<'a>> {
    let depth = depth.checked_sub(1).ok_or(Mismatch)?;
    c.parenthesized(|c| {
        if c.peek() == Some(b'(') {
            multipart(c, depth)
        } else {
            single(c, depth)
        }
    })
}

/// `body-type-1part`: a message/rfc822 or text part where the fields say so, else a basic
/// one (a `"MESSAGE" "RFC822"` part without envelope is basic), then the extension data.
fn single<'a>(c: &mut Cursor<'a>, depth: usize) -> Parsed<BodyStructure<'a>> {
    let (basic, specific) = c
        .attempt(|c| message(c, depth))
        .or_else(|_| c.attempt(text))
        .or_else(|_| basic(c))?;
    let extension_data = c
        .attempt(|c| {
            c.sp()?;
            let md5 = c.nstring()?;
            Ok(SinglePartExtensionData {
                md5,
                tail: disposition(c, depth),
            })
        })
        .ok();
    Ok(BodyStructure::Single {
        body: Body { basic, specific },
        extension_data,
    })
}

/// `body-type-msg`: the fields, then the nested message's envelope, body and lines.
fn message<'a>(c: &mut Cursor<'a>, depth: usize) -> Parsed<(BasicFields<'a>, SpecificFields<'a>)> {
    c.tag(b"\"MESSAGE\" \"RFC822\" ")?;
    let basic = fields(c)?;
    c.sp()?;
    let envelope = Box::new(envelope(c)?);
    c.sp()?;
    let body_structure = Box::new(body(c, depth)?);
    c.sp()?;
    let number_of_lines = c.number()?;
    Ok((
        basic,
        SpecificFields::Message {
            envelope,
            body_structure,
            number_of_lines,
        },
    ))
}

/// `body-type-text`: the fields and the line count.
fn text<'a>(c: &mut Cursor<'a>) -> Parsed<(BasicFields<'a>, SpecificFields<'a>)> {
    c.tag(b"\"TEXT\" ")?;
    let subtype = c.string()?;
    c.sp()?;
    let basic = fields(c)?;
    c.sp()?;
    let number_of_lines = c.number()?;
    Ok((
        basic,
        SpecificFields::Text {
            subtype,
            number_of_lines,
        },
    ))
}

/// `body-type-basic`: any other type and subtype, then the fields.
fn basic<'a>(c: &mut Cursor<'a>) -> Parsed<(BasicFields<'a>, SpecificFields<'a>)> {
    let r#type = c.string()?;
    c.sp()?;
    let subtype = c.string()?;
    c.sp()?;
    Ok((fields(c)?, SpecificFields::Basic { r#type, subtype }))
}

/// `body-fields`; a negative size (Dovecot's `-1`) reads as 0.
fn fields<'a>(c: &mut Cursor<'a>) -> Parsed<BasicFields<'a>> {
    let parameter_list = params(c)?;
    c.sp()?;
    let id = c.nstring()?;
    c.sp()?;
    let description = c.nstring()?;
    c.sp()?;
    let content_transfer_encoding = string_or_empty(c)?;
    c.sp()?;
    let negative = c.eat(b'-');
    let size = c.number()?;
    Ok(BasicFields {
        parameter_list,
        id,
        description,
        content_transfer_encoding,
        size: if negative { 0 } else { size },
    })
}

/// `body-fld-param`: `"(" string SP string *(SP string SP string) ")" / nil`, where an empty
/// list (go-imap) and NIL values are taken too.
fn params<'a>(c: &mut Cursor<'a>) -> Parsed<Vec<(IString<'a>, IString<'a>)>> {
    if c.nil().is_ok() {
        return Ok(Vec::new());
    }
    c.parenthesized(|c| {
        c.separated0(|c| {
            let key = c.string()?;
            c.sp()?;
            Ok((key, string_or_empty(c)?))
        })
    })
}

/// A string where servers send NIL for it (maddy's encoding, NIL parameter values): "".
fn string_or_empty<'a>(c: &mut Cursor<'a>) -> Parsed<IString<'a>> {
    let string = c.nstring()?.0;
    Ok(string.unwrap_or(IString::Quoted(Quoted::unvalidated(""))))
}

/// `body-type-mpart`: `1*body SP media-subtype [SP body-ext-mpart]`.
fn multipart<'a>(c: &mut Cursor<'a>, depth: usize) -> Parsed<BodyStructure<'a>> {
    let mut bodies = vec![body(c, depth)?];
    while c.peek() == Some(b'(') {
        bodies.push(body(c, depth)?);
    }
    c.sp()?;
    let subtype = c.string()?;
    let extension_data = c
        .attempt(|c| {
            c.sp()?;
            let parameter_list = params(c)?;
            Ok(MultiPartExtensionData {
                parameter_list,
                tail: disposition(c, depth),
            })
        })
        .ok();
    Ok(BodyStructure::Multi {
        bodies: Vec1::unvalidated(bodies),
        subtype,
        extension_data,
    })
}

/// `[SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]]`, the tail
/// both kinds of extension data share.
fn disposition<'a>(c: &mut Cursor<'a>, depth: usize) -> Option<Disposition<'a>> {
    c.attempt(|c| {
        c.sp()?;
        let disposition = if c.nil().is_ok() {
            None
        } else {
            Some(c.parenthesized(|c| {
                let kind = c.string()?;
                c.sp()?;
                Ok((kind, params(c)?))
            })?)
        };
        Ok(Disposition {
            disposition,
            tail: language(c, depth),
        })
    })
    .ok()
}

/// `SP body-fld-lang [SP body-fld-loc *(SP body-extension)]`.
fn language<'a>(c: &mut Cursor<'a>, depth: usize) -> Option<Language<'a>> {
    c.attempt(|c| {
        c.sp()?;
        let language = if c.peek() == Some(b'(') {
            c.parenthesized(|c| c.separated1(Cursor::string))?
        } else {
            c.nstring()?.0.into_iter().collect()
        };
        let tail = c
            .attempt(|c| {
                c.sp()?;
                let location = c.nstring()?;
                let extensions = c.repeated(b' ', |c| extension(c, depth));
                Ok(Location {
                    location,
                    extensions,
                })
            })
            .ok();
        Ok(Language { language, tail })
    })
    .ok()
}

/// `body-extension`: `nstring / number / "(" body-extension *(SP body-extension) ")"`.
fn extension<'a>(c: &mut Cursor<'a>, depth: usize) -> Parsed<BodyExtension<'a>> {
    let depth = depth.checked_sub(1).ok_or(Mismatch)?;
    match c.peek() {
        Some(b'(') => c
            .parenthesized(|c| c.separated1(|c| extension(c, depth)))
            .map(|list| BodyExtension::List(Vec1::unvalidated(list))),
        Some(b'0'..=b'9') => c.number().map(BodyExtension::Number),
        _ => c.nstring().map(BodyExtension::NString),
    }
}

/// `envelope`: date, subject, six address lists, In-Reply-To and Message-ID.
pub(crate) fn envelope<'a>(c: &mut Cursor<'a>) -> Parsed<Envelope<'a>> {
    c.parenthesized(|c| {
        let date = c.nstring()?;
        c.sp()?;
        let subject = c.nstring()?;
        let mut lists: [Vec<Address<'a>>; 6] = Default::default();
        for list in &mut lists {
            c.sp()?;
            *list = addresses(c)?;
        }
        let [from, sender, reply_to, to, cc, bcc] = lists;
        c.sp()?;
        let in_reply_to = c.nstring()?;
        c.sp()?;
        let message_id = c.nstring()?;
        Ok(Envelope {
            date,
            subject,
            from,
            sender,
            reply_to,
            to,
            cc,
            bcc,
            in_reply_to,
            message_id,
        })
    })
}

/// `"(" 1*address ")" / nil`.
fn addresses<'a>(c: &mut Cursor<'a>) -> Parsed<Vec<Address<'a>>> {
    if c.nil().is_ok() {
        return Ok(Vec::new());
    }
    c.parenthesized(|c| {
        let mut list = vec![address(c)?];
        while let Ok(next) = c.attempt(address) {
            list.push(next);
        }
        Ok(list)
    })
}

/// `address`: name, route, mailbox and host; spaces before it are skipped (servers that
/// separate addresses with them).
fn address<'a>(c: &mut Cursor<'a>) -> Parsed<Address<'a>> {
    c.take_while(|byte| byte == b' ');
    c.parenthesized(|c| {
        let name = c.nstring()?;
        c.sp()?;
        let adl = c.nstring()?;
        c.sp()?;
        let mailbox = c.nstring()?;
        c.sp()?;
        let host = c.nstring()?;
        Ok(Address {
            name,
            adl,
            mailbox,
            host,
        })
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::super::cursor::MAX_DEPTH;
    use super::super::fetch::tests::{agree, both_reject, only_ours};

    fn bodystructure(body: &str) -> Vec<u8> {
        format!("* 1 FETCH (BODYSTRUCTURE {body})\r\n").into_bytes()
    }

    #[test]
    fn real_servers_body_structures_read_as_imap_codec_reads_them() {
        for body in [
            // RFC 3501's example, as Cyrus and UW send it.
            r#"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")"#,
            // Gmail: alternative inside mixed, attachment disposition, no languages.
            r#"((("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 1234 30 NIL NIL NIL)("TEXT" "HTML" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 5678 90 NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "000000000000abc") NIL NIL)("APPLICATION" "PDF" ("NAME" "a.pdf") "<f_k1>" NIL "BASE64" 10000 NIL ("ATTACHMENT" ("FILENAME" "a.pdf")) NIL) "MIXED" ("BOUNDARY" "000000000000def") NIL NIL)"#,
            // Dovecot: a forwarded message/rfc822 with its own multipart, full extension data.
            r#"(("text" "plain" ("charset" "utf-8" "format" "flowed") NIL NIL "7bit" 40 2 NIL NIL NIL NIL)("message" "rfc822" ("name" "fwd.eml") NIL NIL "7bit" 900 ("Sat, 8 Jan 2011 14:16:36 +0100" "Subj" (("Some Name" NIL "a" "example.com")) (("Some Name" NIL "a" "example.com")) (("Some Name" NIL "a" "example.com")) ((NIL NIL "b" "example.org")) NIL NIL NIL "<x@y>") (("text" "plain" ("charset" "iso-8859-2") NIL NIL "quoted-printable" 185 18 NIL NIL ("cs" "sk") "http://loc")("image" "png" ("name" "i.png") "<cid>" "desc" "base64" 3000 "md5sum" ("inline" ("filename" "i.png" "size" "3000")) "en" NIL) "related" ("boundary" "r") ("inline" NIL) NIL NIL) 30 NIL ("attachment" ("filename" "fwd.eml")) NIL NIL) "mixed" ("boundary" "m") NIL "de" "http://x" 7 ("ext" 1))"#,
            // Exchange: lower case throughout, every extension NIL.
            r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 27 1 NIL NIL NIL NIL)"#,
            // maddy: a NIL encoding; go-imap: an empty parameter list; NIL parameter values.
            r#"("text" "plain" ("charset" "utf-8") NIL NIL NIL 10 1)"#,
            r#"("application" "octet-stream" () NIL NIL "base64" 10)"#,
            r#"("application" "octet-stream" ("name" NIL "x" nil) NIL NIL "base64" 10 NIL ("attachment" ("filename" NIL)))"#,
            // Dovecot's -1 size, numbers with leading zeros, NIL in any case.
            r#"("multipart" "appledouble" ("boundary" "B") NIL NIL "7BIT" -1 NIL NIL NIL NIL)"#,
            r#"("TEXT" "PLAIN" nil Nil nIL "7BIT" 00012 007 nil NIL Nil nil)"#,
            // A message/rfc822 without envelope and a text part without lines are basic.
            r#"("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 12)"#,
            r#"("message" "rfc822" NIL NIL NIL "7BIT" 12 NIL)"#,
            r#"("TEXT" "PLAIN" NIL NIL NIL "7BIT" 12)"#,
            "({4}\r\nTEXT {5}\r\nPLAIN NIL {2}\r\nid NIL {4}\r\n7BIT 1)",
            // Every form of the extension tail, with nested body extensions.
            "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1 {3}\r\nmd5)",
            r#"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL)"#,
            r#"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL ("en" "de"))"#,
            r#"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL "en" NIL (1 (2 ("x" NIL)) NIL) 5 "s")"#,
            r#"(("text" "plain" NIL NIL NIL "7bit" 1 1) "mixed" NIL NIL NIL NIL 4294967295)"#,
            r#"(("text" "plain" NIL NIL NIL "7bit" 1 1)("text" "plain" NIL NIL NIL "7bit" 1 1) "mixed" ("a" "b") ("x" ()))"#,
        ] {
            agree(&bodystructure(body));
            agree(format!("* 1 FETCH (BODY {body})\r\n").as_bytes());
        }
    }

    #[test]
    fn malformed_body_structures_are_refused_by_both() {
        for body in [
            // Exchange: a disposition that is no list, and one without a type.
            r#"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL "inline" NIL NIL)"#,
            r#"("application" "msword" NIL NIL NIL "base64" 50446 NIL (NIL NIL) NIL NIL)"#,
            r#"("text" "plain" NIL NIL NIL "7bit" 4294967296 1)"#,
            r#"("text" "plain" NIL NIL NIL "7bit" 1 -1)"#,
            r#"("text" "plain" NIL NIL NIL "7bit" - 1)"#,
            r#"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL ())"#,
            r#"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL ())"#,
            r#"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL )"#,
            r#"("text" "plain" ("charset") NIL NIL "7bit" 1 1)"#,
            r#"("text" "plain" ( "a" "b") NIL NIL "7bit" 1 1)"#,
            r#"("text" "plain" NIL NIL NIL "7bit")"#,
            r#"(NIL "plain" NIL NIL NIL "7bit" 1)"#,
            r#"(("text" "plain" NIL NIL NIL "7bit" 1 1))"#,
            r#"(("text" "plain" NIL NIL NIL "7bit" 1 1) ("text" "plain" NIL NIL NIL "7bit" 1 1) "mixed")"#,
            r#"(("text" "plain" NIL NIL NIL "7bit" 1 1) NIL)"#,
            r#"("message" "rfc822" NIL NIL NIL "7bit" 1 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" NIL NIL NIL "7bit" 1 1))"#,
            "()",
        ] {
            both_reject(&bodystructure(body));
        }
    }

    fn envelope(from: &str) -> Vec<u8> {
        format!("* 1 FETCH (ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" {{4}}\r\na\r\nb {from} NIL NIL {from} NIL NIL \"a b\" \"<B27397-0100000@cac.washington.edu>\"))\r\n").into_bytes()
    }

    #[test]
    fn envelopes_read_as_imap_codec_reads_them() {
        for from in [
            "NIL",
            "nil",
            r#"(("Terry Gray" NIL "gray" "cac.washington.edu"))"#,
            r#"((NIL "@a,@b" "x" "y")(NIL NIL "z" "w"))"#,
            r#"((NIL NIL "x" "y") (NIL NIL "z" "w"))"#,
            r#"((NIL NIL "x" "y")   (NIL NIL "z" "w"))"#,
            r#"( (NIL NIL "x" "y"))"#,
            r#"((NIL NIL "undisclosed" NIL)(NIL NIL NIL NIL))"#,
            r#"((NIL NIL "team" NIL)("A" NIL "a" "x.org") ("B" NIL "b" "x.org")(NIL NIL NIL NIL)(NIL NIL "c" ""))"#,
            "(({3}\r\nA B NIL {1}\r\na \"x\"))",
        ] {
            agree(&envelope(from));
        }
        for from in [
            "()",
            r#"((NIL NIL "x" "y") )"#,
            r#"(NIL NIL "x" "y")"#,
            r#"((NIL NIL "x"))"#,
            r#"((NIL NIL "x" "y" NIL))"#,
            r#"((NIL  NIL "x" "y"))"#,
        ] {
            both_reject(&envelope(from));
        }
        both_reject(b"* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n");
        both_reject(b"* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n");
    }

    const LEAF: &str = r#"("text" "plain" NIL NIL NIL "7bit" 1 1)"#;

    /// `levels` bodies, each but the innermost a multipart or message/rfc822 around the next.
    fn nested(levels: usize, message: bool) -> Vec<u8> {
        let mut body = LEAF.to_owned();
        for _ in 1..levels {
            body = if message {
                format!(
                    r#"("message" "rfc822" NIL NIL NIL "7bit" 1 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) {body} 1)"#
                )
            } else {
                format!(r#"({body} "mixed")"#)
            };
        }
        bodystructure(&body)
    }

    /// imap-codec allows seven levels of bodies (and of body extensions); the engine allows
    /// up to `MAX_DEPTH`, as deeply nested forwards occur, and stays bounded beyond.
    #[test]
    fn nesting_is_bounded_more_loosely_than_imap_codecs() {
        for message in [false, true] {
            agree(&nested(7, message));
            for levels in [8, 20, MAX_DEPTH] {
                only_ours(&nested(levels, message));
            }
            both_reject(&nested(MAX_DEPTH + 1, message));
            both_reject(&nested(10_000, message));
        }
        let extension = |levels| {
            let list = format!("{}NIL{}", "(".repeat(levels), ")".repeat(levels));
            bodystructure(&format!(
                r#"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL {list})"#
            ))
        };
        agree(&extension(7));
        only_ours(&extension(8));
        only_ours(&extension(MAX_DEPTH - 2));
        both_reject(&extension(MAX_DEPTH));
        both_reject(&extension(10_000));
    }
}
