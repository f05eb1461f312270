//! FETCH's message data items (RFC 3501 §7.4.2, RFC 3516's BINARY, RFC 7162's MODSEQ):
//! envelopes, body structures, sections and literals.

use super::body::{body, envelope};
use super::cursor::{Cursor, MAX_DEPTH, Mismatch, Parsed};
use super::flag::flag_fetch;
use chrono::{FixedOffset, NaiveDate, TimeZone};
use client_wasm_receive::summary_fetch::month;
use imap_types::core::{AString, NString8, Vec1};
use imap_types::datetime::DateTime;
use imap_types::extensions::binary::Literal8;
use imap_types::fetch::{MessageDataItem, Part, Section};
use std::borrow::Cow;
use std::num::NonZeroU32;

/// `msg-att`: `"(" item *(SP item) ")"`.
pub(crate) fn msg_att<'a>(c: &mut Cursor<'a>) -> Parsed<Vec1<MessageDataItem<'a>>> {
    c.parenthesized(|c| c.separated1(item))
        .map(Vec1::unvalidated)
}

/// One `msg-att-dynamic` or `msg-att-static` item. With the space or `[` after it, no item
/// name is a prefix of another, so the first name that matches decides, as in imap-codec's
/// alternatives.
fn item<'a>(c: &mut Cursor<'a>) -> Parsed<MessageDataItem<'a>> {
    use MessageDataItem as Item;
    if c.eat_tag(b"FLAGS ") {
        return c
            .parenthesized(|c| c.separated0(flag_fetch))
            .map(Item::Flags);
    }
    if c.eat_tag(b"MODSEQ ") {
        return c
            .parenthesized(Cursor::mod_sequence_value)
            .map(Item::ModSeq);
    }
    if c.eat_tag(b"ENVELOPE ") {
        return envelope(c).map(Item::Envelope);
    }
    if c.eat_tag(b"INTERNALDATE ") {
        return date_time(c).map(Item::InternalDate);
    }
    if c.eat_tag(b"RFC822.HEADER ") {
        return c.nstring().map(Item::Rfc822Header);
    }
    if c.eat_tag(b"RFC822.TEXT ") {
        return c.nstring().map(Item::Rfc822Text);
    }
    if c.eat_tag(b"RFC822.SIZE ") {
        return c.number().map(Item::Rfc822Size);
    }
    if c.eat_tag(b"RFC822 ") {
        return c.nstring().map(Item::Rfc822);
    }
    if c.eat_tag(b"BODYSTRUCTURE ") {
        return body(c, MAX_DEPTH).map(Item::BodyStructure);
    }
    if c.eat_tag(b"BODY ") {
        return body(c, MAX_DEPTH).map(Item::Body);
    }
    if c.eat_tag(b"BODY[") {
        let section = section(c)?;
        let origin = if c.eat(b'<') {
            let origin = c.number()?;
            c.byte(b'>')?;
            Some(origin)
        } else {
            None
        };
        c.sp()?;
        let data = c.nstring()?;
        return Ok(Item::BodyExt {
            section,
            origin,
            data,
        });
    }
    if c.eat_tag(b"UID ") {
        return c.nz_number().map(Item::Uid);
    }
    if c.eat_tag(b"BINARY[") {
        let section = section_binary(c)?;
        c.sp()?;
        let value = if c.eat(b'~') {
            let (data, mode) = c.literal_data(true)?;
            NString8::Literal8(Literal8 {
                data: Cow::Borrowed(data),
                mode,
            })
        } else {
            NString8::NString(c.nstring()?)
        };
        return Ok(Item::Binary { section, value });
    }
    if c.eat_tag(b"BINARY.SIZE[") {
        let section = section_binary(c)?;
        c.sp()?;
        let size = c.number()?;
        return Ok(Item::BinarySize { section, size });
    }
    Err(Mismatch)
}

/// `[section-spec] "]"`, after the `[`.
fn section<'a>(c: &mut Cursor<'a>) -> Parsed<Option<Section<'a>>> {
    if c.eat(b']') {
        return Ok(None);
    }
    let section = if c.peek().is_some_and(|byte| byte.is_ascii_digit()) {
        let part = Part(Vec1::unvalidated(part_numbers(c)?));
        if c.eat(b'.') {
            section_text(c, Some(part))?
        } else {
            Section::Part(part)
        }
    } else {
        section_text(c, None)?
    };
    c.byte(b']')?;
    Ok(Some(section))
}

/// `section-msgtext`, or after part numbers also `MIME`.
fn section_text<'a>(c: &mut Cursor<'a>, part: Option<Part>) -> Parsed<Section<'a>> {
    Ok(if c.eat_tag(b"HEADER.FIELDS.NOT ") {
        Section::HeaderFieldsNot(part, header_list(c)?)
    } else if c.eat_tag(b"HEADER.FIELDS ") {
        Section::HeaderFields(part, header_list(c)?)
    } else if c.eat_tag(b"HEADER") {
        Section::Header(part)
    } else if c.eat_tag(b"TEXT") {
        Section::Text(part)
    } else {
        match part {
            Some(part) if c.eat_tag(b"MIME") => Section::Mime(part),
            _ => return Err(Mismatch),
        }
    })
}

/// `header-list`: `"(" astring *(SP astring) ")"`.
fn header_list<'a>(c: &mut Cursor<'a>) -> Parsed<Vec1<AString<'a>>> {
    c.parenthesized(|c| c.separated1(Cursor::astring))
        .map(Vec1::unvalidated)
}

/// `section-part`: `nz-number *("." nz-number)`, ending before a dot that no number follows.
fn part_numbers(c: &mut Cursor<'_>) -> Parsed<Vec<NonZeroU32>> {
    let mut numbers = vec![c.nz_number()?];
    while let Ok(number) = c.attempt(|c| {
        c.byte(b'.')?;
        c.nz_number()
    }) {
        numbers.push(number);
    }
    Ok(numbers)
}

/// `section-binary`: `[section-part] "]"`, after the `[`.
fn section_binary(c: &mut Cursor<'_>) -> Parsed<Vec<NonZeroU32>> {
    if c.eat(b']') {
        return Ok(Vec::new());
    }
    let numbers = part_numbers(c)?;
    c.byte(b']')?;
    Ok(numbers)
}

/// `date-time`: `"dd-Mon-yyyy hh:mm:ss +hhmm"`, the day possibly a space and one digit.
fn date_time(c: &mut Cursor<'_>) -> Parsed<DateTime> {
    c.byte(b'"')?;
    let day = if c.eat(b' ') {
        digits(c, 1)?
    } else {
        digits(c, 2)?
    };
    c.byte(b'-')?;
    let month = month(c.take(3)?).ok_or(Mismatch)?;
    c.byte(b'-')?;
    let year = digits(c, 4)?;
    c.sp()?;
    let hour = digits(c, 2)?;
    c.byte(b':')?;
    let minute = digits(c, 2)?;
    c.byte(b':')?;
    let second = digits(c, 2)?;
    c.sp()?;
    let sign = if c.eat(b'-') {
        -1
    } else {
        c.byte(b'+')?;
        1
    };
    let offset = sign * (digits(c, 2)? * 3600 + digits(c, 2)? * 60) as i32;
    c.byte(b'"')?;
    let datetime = NaiveDate::from_ymd_opt(year as i32, month, day)
        .and_then(|date| date.and_hms_opt(hour, minute, second))
        .zip(FixedOffset::east_opt(offset))
        .and_then(|(local, zone)| zone.from_local_datetime(&local).single())
        .ok_or(Mismatch)?;
    // Valid by construction: a four-digit local year, whole seconds, an offset in minutes.
    Ok(DateTime::unvalidated(datetime))
}

/// Exactly `count` decimal digits.
fn digits(c: &mut Cursor<'_>, count: usize) -> Parsed<u32> {
    c.take(count)?.iter().try_fold(0, |value, &digit| {
        digit
            .is_ascii_digit()
            .then(|| value * 10 + u32::from(digit - b'0'))
            .ok_or(Mismatch)
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(super) mod tests {
    use super::*;
    use crate::codec::decode::tests::{corpus, mutations};
    use imap_codec::ResponseCodec;
    use imap_codec::decode::Decoder;
    use imap_types::response::{Data, Response};

    type Items<'a> = Option<Vec1<MessageDataItem<'a>>>;

    /// The engine's reading of a whole `* N FETCH (...)\r\n` line.
    fn ours(line: &[u8]) -> Items<'_> {
        let mut c = Cursor::new(line);
        c.tag(b"* ").ok()?;
        c.nz_number().ok()?;
        c.tag(b" FETCH ").ok()?;
        let items = msg_att(&mut c).ok()?;
        c.crlf().ok()?;
        c.at_end().then_some(items)
    }

    /// imap-codec's reading of the same line, if it reads it as a FETCH.
    fn theirs(line: &[u8]) -> Items<'_> {
        match ResponseCodec::default().decode(line) {
            Ok(([], Response::Data(Data::Fetch { items, .. }))) => Some(items),
            _ => None,
        }
    }

    fn show(line: &[u8]) -> String {
        String::from_utf8_lossy(line).into_owned()
    }

    /// Both decoders read `line`, to the same items.
    pub(in crate::codec::decode) fn agree(line: &[u8]) -> Vec1<MessageDataItem<'_>> {
        let expected = theirs(line);
        assert!(expected.is_some(), "imap-codec rejects {}", show(line));
        assert_eq!(ours(line), expected, "{}", show(line));
        ours(line).unwrap()
    }

    pub(in crate::codec::decode) fn both_reject(line: &[u8]) {
        assert_eq!(theirs(line), None, "imap-codec reads {}", show(line));
        assert_eq!(ours(line), None, "{}", show(line));
    }

    /// imap-codec refuses `line`, the engine reads it (a documented, deliberate difference).
    pub(in crate::codec::decode) fn only_ours(line: &[u8]) {
        assert_eq!(theirs(line), None, "imap-codec reads {}", show(line));
        assert!(ours(line).is_some(), "{}", show(line));
    }

    #[test]
    fn every_item_kind_reads_as_imap_codec_reads_it() {
        for line in [
            &b"* 1 FETCH (FLAGS (\\Seen \\Recent $Forwarded \\Draft \\XCustom))\r\n"[..],
            b"* 1 FETCH (FLAGS ())\r\n",
            b"* 1 FETCH (flags (\\seen \\RECENT))\r\n",
            b"* 1 FETCH (MODSEQ (624140003))\r\n",
            b"* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
            b"* 1 FETCH (INTERNALDATE \"17-Jul-1996 02:44:25 -0700\")\r\n",
            b"* 1 FETCH (RFC822 {5}\r\nab\r\nc)\r\n",
            b"* 1 FETCH (RFC822.HEADER \"A: b\" RFC822.TEXT NIL RFC822.SIZE 44827)\r\n",
            b"* 1 FETCH (rfc822.size 0 Rfc822 nil)\r\n",
            b"* 1 FETCH (UID 4294967295)\r\n",
            b"* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n",
            b"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92 NIL NIL NIL NIL))\r\n",
            b"* 1 FETCH (BODY[] NIL)\r\n",
            b"* 1 FETCH (BINARY[1] \"abc\" BINARY[] NIL BINARY.SIZE[1.2] 12 BINARY.SIZE[] 0)\r\n",
            b"* 12 FETCH (UID 9 FLAGS (\\Seen) MODSEQ (1) RFC822.SIZE 3 BODY[TEXT]<0> {3}\r\nabc INTERNALDATE \" 1-Jan-2020 00:00:00 +0000\")\r\n",
        ] {
            agree(line);
        }
    }

    #[test]
    fn sections_and_origins_read_as_imap_codec_reads_them() {
        for line in [
            &b"* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT \"From\" {2}\r\nTo)] {0}\r\n)\r\n"[..],
            b"* 1 FETCH (BODY[HEADER.FIELDS.NOT (DATE)] \"\")\r\n",
            b"* 1 FETCH (BODY[header.fields.not (A B)] \"\")\r\n",
            b"* 1 FETCH (BODY[1.2.MIME] \"x\" BODY[TEXT] \"y\" BODY[1.TEXT] \"z\")\r\n",
            b"* 1 FETCH (BODY[HEADER] NIL BODY[2.HEADER] NIL BODY[3.HEADER.FIELDS (X)] NIL)\r\n",
            b"* 1 FETCH (BODY[3.HEADER.FIELDS.NOT (X Y)] NIL BODY[4.1.2] NIL BODY[01] NIL)\r\n",
            b"* 1 FETCH (BODY[]<0> \"\" BODY[1]<4294967295> NIL BODY[TEXT]<10> \"abc\")\r\n",
        ] {
            agree(line);
        }
        let items = agree(b"* 1 FETCH (BODY[1.2.MIME]<7> NIL)\r\n");
        let part = Part(Vec1::unvalidated(
            [1, 2].map(|n| NonZeroU32::new(n).unwrap()).to_vec(),
        ));
        assert_eq!(
            items.as_ref(),
            [MessageDataItem::BodyExt {
                section: Some(Section::Mime(part)),
                origin: Some(7),
                data: imap_types::core::NString(None),
            }]
        );
        for line in [
            &b"* 1 FETCH (BODY[MIME] NIL)\r\n"[..],
            b"* 1 FETCH (BODY[0] NIL)\r\n",
            b"* 1 FETCH (BODY[1.] NIL)\r\n",
            b"* 1 FETCH (BODY[1.0] NIL)\r\n",
            b"* 1 FETCH (BODY[HEADER.FIELDS ()] NIL)\r\n",
            b"* 1 FETCH (BODY[HEADER.FIELDS.NOT] NIL)\r\n",
            b"* 1 FETCH (BODY[HEADER.FIELDS(A)] NIL)\r\n",
            b"* 1 FETCH (BODY[TEXT.MIME] NIL)\r\n",
            b"* 1 FETCH (BODY[]<0.5> NIL)\r\n",
            b"* 1 FETCH (BODY[]<> NIL)\r\n",
            b"* 1 FETCH (BODY[] <0> NIL)\r\n",
            b"* 1 FETCH (BODY[]NIL)\r\n",
            b"* 1 FETCH (BODY.PEEK[] NIL)\r\n",
            b"* 1 FETCH (BINARY[TEXT] NIL)\r\n",
            b"* 1 FETCH (BINARY.SIZE[1] NIL)\r\n",
            b"* 1 FETCH (BINARY[1]<0> NIL)\r\n",
        ] {
            both_reject(line);
        }
    }

    #[test]
    fn literals_of_both_kinds_read_as_imap_codec_reads_them() {
        for line in [
            &b"* 1 FETCH (BODY[] {0}\r\n)\r\n"[..],
            b"* 1 FETCH (BODY[] {3+}\r\na)b UID 2)\r\n",
            b"* 1 FETCH (BODY[1] {4}\r\n\r\n\r\n)\r\n",
            b"* 1 FETCH (BINARY[] ~{0}\r\n)\r\n",
            b"* 1 FETCH (BINARY[2] ~{2+}\r\n\xff\xfe)\r\n",
            b"* 1 FETCH (BINARY[1] {3}\r\nabc)\r\n",
        ] {
            agree(line);
        }
        let items = agree(b"* 1 FETCH (BINARY[1] ~{3}\r\na\0b)\r\n");
        let [MessageDataItem::Binary { section, value }] = items.as_ref() else {
            panic!("{items:?}");
        };
        assert_eq!(section, &[NonZeroU32::MIN]);
        assert!(matches!(value, NString8::Literal8(literal) if literal.data == &b"a\0b"[..]));
        for line in [
            &b"* 1 FETCH (BODY[] {3}\r\na\0b)\r\n"[..],
            b"* 1 FETCH (BINARY[] {3}\r\na\0b)\r\n",
            b"* 1 FETCH (BODY[] ~{3}\r\nabc)\r\n",
            b"* 1 FETCH (BODY[] {4}\r\nabc)\r\n",
            b"* 1 FETCH (BODY[] {3}\nabc)\r\n",
            b"* 1 FETCH (BODY[] {-3}\r\nabc)\r\n",
            b"* 1 FETCH (BINARY[] ~{4}\r\nabc)\r\n",
        ] {
            both_reject(line);
        }
    }

    #[test]
    fn internal_dates_read_as_imap_codec_reads_them() {
        for zone in [
            "+0000", "-0000", "+0130", "-1200", "+1400", "+2359", "-2359",
        ] {
            for day in [" 1", "01", "31", "29"] {
                agree(
                    format!("* 1 FETCH (INTERNALDATE \"{day}-Jan-2020 23:59:59 {zone}\")\r\n")
                        .as_bytes(),
                );
            }
        }
        agree(b"* 1 FETCH (INTERNALDATE \"29-feb-2000 00:00:00 +0000\")\r\n");
        agree(b"* 1 FETCH (INTERNALDATE \"31-DEC-9999 23:59:59 -2359\")\r\n");
        agree(b"* 1 FETCH (INTERNALDATE \"01-Jan-0000 00:00:00 +2359\")\r\n");
        let items = agree(b"* 1 FETCH (INTERNALDATE \" 1-Jan-2020 00:30:00 +0100\")\r\n");
        let [MessageDataItem::InternalDate(date)] = items.as_ref() else {
            panic!("{items:?}");
        };
        assert_eq!(date.as_ref().to_rfc3339(), "2020-01-01T00:30:00+01:00");
        assert_eq!(date.as_ref().timestamp(), 1_577_835_000);
        for date in [
            "1-Jan-2020 00:00:00 +0000",
            " 1-Jan-20 00:00:00 +0000",
            "29-Feb-2001 00:00:00 +0000",
            "31-Apr-2020 00:00:00 +0000",
            "00-Jan-2020 00:00:00 +0000",
            "01-Jan-2020 24:00:00 +0000",
            "01-Jan-2020 00:60:00 +0000",
            "01-Jan-2020 00:00:60 +0000",
            "01-Jan-2020 00:00:00 +2400",
            "01-Jan-2020 00:00:00 -9999",
            "01-Jan-2020 00:00:00 0000",
            "01-Jan-2020 00:00:00 +000",
            "01-Jan-2020 00:00:00  +0000",
            "01-Jan-2020 0:00:00 +0000",
            "01-Jna-2020 00:00:00 +0000",
            "01-January-2020 00:00:00 +0000",
            "01-Jan-2020 00:00:00 +0000 ",
            "01-Jan-2020T00:00:00 +0000",
        ] {
            both_reject(format!("* 1 FETCH (INTERNALDATE \"{date}\")\r\n").as_bytes());
        }
        both_reject(b"* 1 FETCH (INTERNALDATE 01-Jan-2020 00:00:00 +0000)\r\n");
    }

    #[test]
    fn malformed_item_lists_are_refused_by_both() {
        for line in [
            &b"* 1 FETCH ()\r\n"[..],
            b"* 1 FETCH (UID 1 )\r\n",
            b"* 1 FETCH ( UID 1)\r\n",
            b"* 1 FETCH (UID 1  FLAGS ())\r\n",
            b"* 1 FETCH (UID 0)\r\n",
            b"* 1 FETCH (UID 4294967296)\r\n",
            b"* 1 FETCH (RFC822.SIZE -1)\r\n",
            b"* 1 FETCH (UID  1)\r\n",
            b"* 1 FETCH (UID)\r\n",
            b"* 1 FETCH (FLAGS (\\Seen ))\r\n",
            b"* 1 FETCH (FLAGS \\Seen)\r\n",
            b"* 1 FETCH (FLAGS (\\*))\r\n",
            b"* 1 FETCH (MODSEQ 1)\r\n",
            b"* 1 FETCH (MODSEQ (0))\r\n",
            b"* 1 FETCH (MODSEQ ())\r\n",
            b"* 1 FETCH (RFC822.PEEK NIL)\r\n",
            b"* 1 FETCH (RFC822 \"a\\x\")\r\n",
            b"* 1 FETCH (BODY NIL)\r\n",
            b"* 1 FETCH (BODYSTRUCTURE NIL)\r\n",
            b"* 1 FETCH (ENVELOPE NIL)\r\n",
            b"* 1 FETCH (X-GM-MSGID 1)\r\n",
            b"* 1 FETCH (UID 1)(UID 2)\r\n",
            b"* 1 FETCH UID 1\r\n",
        ] {
            both_reject(line);
        }
    }

    /// The messages of every capture in the corpus and random edits of its FETCH lines:
    /// wherever imap-codec reads a FETCH, the engine reads the same items, and it reads no
    /// other message as a FETCH.
    #[test]
    fn corpus_fetches_read_as_imap_codec_reads_them() {
        let mut fetches = Vec::new();
        for message in corpus() {
            let expected = theirs(&message);
            assert_eq!(ours(&message), expected, "{}", show(&message));
            if expected.is_some() {
                fetches.push(message);
            }
        }
        if fetches.is_empty() {
            return;
        }
        assert!(
            fetches.len() >= 40,
            "only {} FETCH responses",
            fetches.len()
        );
        let accepted = mutations_agree(&fetches, 0x1234_5678_9abc_def1);
        assert!(
            accepted > 1000,
            "only {accepted} mutations still read as FETCH"
        );
    }

    /// Random edits of valid lines of every item kind: never a panic, and wherever either
    /// decoder reads the result as a FETCH, both read it to the same items.
    #[test]
    fn mutated_fetches_read_as_imap_codec_reads_them() {
        let bases: [&[u8]; 6] = [
            b"* 7 FETCH (UID 42 FLAGS (\\Seen \\Recent $F) MODSEQ (17) RFC822.SIZE 12 INTERNALDATE \" 7-Jul-1996 02:44:25 -0700\" BODY[HEADER.FIELDS (A B)]<0> {4}\r\nA: b)\r\n",
            b"* 1 FETCH (ENVELOPE (\"Mon, 1 Jan 2024\" {3}\r\nSub ((\"A\" NIL \"a\" \"x.org\")) NIL ((NIL NIL \"g\" NIL)(NIL NIL \"b\" \"y\") (NIL NIL NIL NIL)) NIL NIL NIL NIL \"<id>\"))\r\n",
            b"* 2 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 12 1 NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 9 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"image\" \"png\" (\"name\" NIL) NIL NIL NIL -1) 2 NIL (\"inline\" NIL) \"en\" NIL) \"mixed\" (\"boundary\" \"b\") NIL (\"de\" \"fr\") \"loc\" 1 (2 \"x\" (NIL))))\r\n",
            b"* 3 FETCH (BODY (\"application\" \"pdf\" () \"<id>\" \"desc\" \"base64\" 0100) BINARY[1.2] ~{3}\r\na\0b BINARY.SIZE[] 3)\r\n",
            b"* 4 FETCH (BODY[1.2.MIME] NIL BODY[HEADER.FIELDS.NOT (X)] \"q\\\"\" BODY[2.TEXT] {2+}\r\nhi RFC822.HEADER NIL RFC822.TEXT \"\" RFC822 NIL)\r\n",
            b"* 5 FETCH (BODYSTRUCTURE (\"TEXT\" \"HTML\" NIL NIL NIL NIL 5 1 \"md5\" (\"attachment\" (\"filename\" \"f\")) ({2}\r\nen \"de\") {3}\r\nloc))\r\n",
        ];
        for base in bases {
            agree(base);
        }
        let bases: Vec<Vec<u8>> = bases.iter().map(|base| base.to_vec()).collect();
        let accepted = mutations_agree(&bases, 0xd1b5_4a32_d192_ed03);
        assert!(
            accepted > 1000,
            "only {accepted} mutations still read as FETCH"
        );
    }

    /// 20 000 lines, each one of `bases` with one to three bytes replaced, inserted or
    /// deleted, read by both decoders; how many imap-codec read as a FETCH.
    fn mutations_agree(bases: &[Vec<u8>], seed: u64) -> usize {
        let alphabet = b" ()[]<>.\"{}~+-\\0123456789NILnil\r\n\0ABTXY";
        let mut accepted = 0;
        for line in mutations(bases, 20_000, seed, alphabet) {
            let expected = theirs(&line);
            accepted += usize::from(expected.is_some());
            assert_eq!(ours(&line), expected, "{}", show(&line));
        }
        accepted
    }
}
