//! Drafts to RFC 5322 messages for APPEND (rows V0013, V0014).
//!
//! The result is 7-bit: non-ASCII header text becomes RFC 2047 encoded words, text bodies
//! stay 7bit when they are short-lined ASCII and go base64 otherwise, attachments always go
//! base64, so no 8-bit octet and no NUL is ever sent. Date, Message-ID and the MIME boundaries
//! come from the caller: the engine reads no clock and no randomness.
//!
//! Written here rather than with mail-builder: that crate builds for wasm32, but it added
//! 41 KB (gzip -9, after wasm-opt) to an engine whose budget is 250 KB, for what these few
//! functions do with the base64 and mail-parser code the engine already carries. mail-parser
//! reads every composed message back in the tests.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A message to save as a draft or to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub from: Option<DraftAddress>,
    pub to: Vec<DraftAddress>,
    pub cc: Vec<DraftAddress>,
    pub bcc: Vec<DraftAddress>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<DraftAttachment>,
    /// The Message-ID replied to, with or without angle brackets.
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first, with or without angle brackets.
    pub references: Vec<String>,
    /// Seconds since the Unix epoch, from the caller's clock; written in UTC.
    pub date: i64,
    /// `unique@domain`, the unique part from the caller's randomness.
    pub message_id: String,
    /// The caller's random token that makes the MIME boundaries: 16 to 60 characters of
    /// letters, digits, `-`, `_` and `.`.
    pub boundary: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftAddress {
    pub name: Option<String>,
    /// ASCII `local@domain` (8-bit headers are not sent, row V0013).
    pub address: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftAttachment {
    pub filename: String,
    /// `type/subtype`; `application/octet-stream` when empty.
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("invalid address {address:?}: ASCII local@domain without spaces or brackets")]
    InvalidAddress { address: String },
    #[error("invalid message id {id:?}: ASCII local@domain without spaces or brackets")]
    InvalidMessageId { id: String },
    #[error("invalid MIME boundary token: 16 to 60 letters, digits, '-', '_' or '.'")]
    InvalidBoundary,
    #[error("invalid content type {content_type:?}: type/subtype")]
    InvalidContentType { content_type: String },
}

impl ComposeError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidAddress { .. } => "invalid_address",
            Self::InvalidMessageId { .. } => "invalid_message_id",
            Self::InvalidBoundary => "invalid_boundary",
            Self::InvalidContentType { .. } => "invalid_content_type",
        }
    }
}

/// The draft as a complete RFC 5322 message, ready for `Command::Append`.
pub fn compose(draft: &Draft) -> Result<Vec<u8>, ComposeError> {
    let boundary = valid_boundary(&draft.boundary)?;
    let mut out = String::new();
    let date = mail_parser::DateTime::from_timestamp(draft.date).to_rfc822();
    header(&mut out, "Date", &[date]);
    header(&mut out, "Message-ID", &[angle(&draft.message_id)?]);
    if let Some(from) = &draft.from {
        header(&mut out, "From", &[address(from)?]);
    }
    for (list, name) in [(&draft.to, "To"), (&draft.cc, "Cc"), (&draft.bcc, "Bcc")] {
        let addresses = list.iter().map(address).collect::<Result<Vec<_>, _>>()?;
        header_list(&mut out, name, &addresses);
    }
    header(&mut out, "Subject", &words(&draft.subject));
    if let Some(id) = &draft.in_reply_to {
        header(&mut out, "In-Reply-To", &[angle(id)?]);
    }
    let references = draft
        .references
        .iter()
        .map(|id| angle(id))
        .collect::<Result<Vec<_>, _>>()?;
    if !references.is_empty() {
        header(&mut out, "References", &references);
    }
    out.push_str("MIME-Version: 1.0\r\n");
    body(&mut out, draft, boundary)?;
    Ok(out.into_bytes())
}

/// A header whose value is `items` separated by spaces, folded between items so lines stay
/// short (RFC 5322 §2.2.3).
fn header(out: &mut String, name: &str, items: &[String]) {
    fold(out, name, items, "");
}

/// An address list header: items separated by commas; nothing when the list is empty.
fn header_list(out: &mut String, name: &str, items: &[String]) {
    if !items.is_empty() {
        fold(out, name, items, ",");
    }
}

fn fold(out: &mut String, name: &str, items: &[String], separator: &str) {
    out.push_str(name);
    out.push(':');
    let mut column = name.len() + 1;
    for (index, item) in items.iter().enumerate() {
        let separator = if index + 1 < items.len() {
            separator
        } else {
            ""
        };
        if index > 0 && column + 1 + item.len() + separator.len() > 76 {
            out.push_str("\r\n");
            column = 0;
        }
        out.push(' ');
        out.push_str(item);
        out.push_str(separator);
        column += 1 + item.len() + separator.len();
    }
    out.push_str("\r\n");
}

/// Header text as words: ASCII words as they are, anything else as RFC 2047 encoded words of
/// UTF-8 (base64, at most 64 characters each, so a line with a header name stays under 78),
/// so the header stays 7-bit.
fn words(text: &str) -> Vec<String> {
    let text = one_line(text);
    let plain = |word: &str| {
        word.len() <= 60 && word.bytes().all(|b| b.is_ascii_graphic()) && !word.contains("=?")
    };
    if text.split(' ').all(plain) {
        return text
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
    }
    let mut encoded = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 39 {
            encoded.push(format!("=?utf-8?B?{}?=", STANDARD.encode(&chunk)));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        encoded.push(format!("=?utf-8?B?{}?=", STANDARD.encode(&chunk)));
    }
    encoded
}

/// text/plain, in multipart/alternative with the HTML, in multipart/mixed with attachments.
fn body(out: &mut String, draft: &Draft, boundary: &str) -> Result<(), ComposeError> {
    let mut content = String::new();
    match &draft.html {
        Some(html) => multipart(
            &mut content,
            "alternative",
            boundary,
            &[text_part("plain", &draft.text), text_part("html", html)],
        ),
        None => content = text_part("plain", &draft.text),
    }
    if draft.attachments.is_empty() {
        out.push_str(&content);
        return Ok(());
    }
    let mut parts = vec![content];
    for attachment in &draft.attachments {
        parts.push(attachment_part(attachment)?);
    }
    multipart(out, "mixed", boundary, &parts);
    Ok(())
}

/// Headers and body of a multipart entity whose parts are complete entities.
fn multipart(out: &mut String, subtype: &str, boundary: &str, parts: &[String]) {
    let boundary = format!("{boundary}.{subtype}");
    out.push_str(&format!(
        "Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\n"
    ));
    for part in parts {
        out.push_str(&format!("--{boundary}\r\n{part}\r\n"));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
}

/// UTF-8 text with CRLF line ends: 7bit when it is short-lined ASCII, else base64; NUL is
/// dropped, never sent (row V0014).
fn text_part(subtype: &str, text: &str) -> String {
    let text = crlf(&text.replace('\0', ""));
    let seven_bit = text.is_ascii() && text.split("\r\n").all(|line| line.len() <= 998);
    let (encoding, body) = if seven_bit {
        ("7bit", text)
    } else {
        ("base64", base64_lines(text.as_bytes()))
    };
    format!(
        "Content-Type: text/{subtype}; charset=utf-8\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n{body}"
    )
}

/// Line ends as CRLF, whatever the caller used.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n")
}

fn base64_lines(data: &[u8]) -> String {
    let encoded = STANDARD.encode(data);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .filter_map(|line| std::str::from_utf8(line).ok())
        .collect();
    lines.join("\r\n")
}

/// Attachments go base64 whatever their type (row V0014); the file name as an RFC 2231
/// UTF-8 parameter.
fn attachment_part(attachment: &DraftAttachment) -> Result<String, ComposeError> {
    let content_type = match attachment.content_type.trim() {
        "" => "application/octet-stream".to_owned(),
        given if is_media_type(given) => given.to_ascii_lowercase(),
        _ => {
            return Err(ComposeError::InvalidContentType {
                content_type: attachment.content_type.clone(),
            });
        }
    };
    let filename = percent_encode(&one_line(&attachment.filename));
    Ok(format!(
        "Content-Type: {content_type}\r\nContent-Disposition: attachment;\r\n filename*=utf-8''{filename}\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
        base64_lines(&attachment.data)
    ))
}

/// RFC 2231 `value-chars`: attribute characters as they are, every other octet `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn is_media_type(text: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    matches!(text.split_once('/'), Some((kind, sub)) if token(kind) && token(sub))
}

fn valid_boundary(token: &str) -> Result<&str, ComposeError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if (16..=60).contains(&token.len()) && token.bytes().all(allowed) {
        Ok(token)
    } else {
        Err(ComposeError::InvalidBoundary)
    }
}

/// Header text on one line: line breaks and other controls become spaces, so no caller text
/// can start a header of its own.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// ASCII `local@domain` with no space, bracket, quote or control.
fn is_addr_spec(text: &str) -> bool {
    let plain = |b: u8| b.is_ascii_graphic() && !b"<>()[]\\,;:\"".contains(&b);
    matches!(text.rsplit_once('@'), Some((local, domain))
        if !local.is_empty() && !domain.is_empty() && text.bytes().filter(|&b| b == b'@').count() == 1)
        && text.bytes().all(|b| plain(b) || b == b'@')
}

/// `Name <local@domain>`: the name as a quoted string when it is ASCII, else encoded words.
fn address(given: &DraftAddress) -> Result<String, ComposeError> {
    let address = given.address.trim();
    if !is_addr_spec(address) {
        return Err(ComposeError::InvalidAddress {
            address: given.address.clone(),
        });
    }
    let name = given.name.as_deref().map(one_line).unwrap_or_default();
    let name = name.trim();
    Ok(if name.is_empty() {
        address.to_owned()
    } else if name.is_ascii() {
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\" <{address}>")
    } else {
        format!("{} <{address}>", words(name).join(" "))
    })
}

/// A Message-ID in angle brackets, given with or without them.
fn angle(id: &str) -> Result<String, ComposeError> {
    let trimmed = id.trim();
    let bare = trimmed
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(trimmed);
    if is_addr_spec(bare) {
        Ok(format!("<{bare}>"))
    } else {
        Err(ComposeError::InvalidMessageId { id: id.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::{MessageParser, MimeHeaders};

    fn draft() -> Draft {
        Draft {
            from: Some(DraftAddress {
                name: Some("J\u{f6}rg M\u{fc}ller".into()),
                address: "joerg@example.test".into(),
            }),
            to: vec![DraftAddress {
                name: None,
                address: "alice@example.test".into(),
            }],
            subject: "Gr\u{fc}\u{df}e \u{2014} Bericht".into(),
            text: "Hallo Alice,\r\nanbei der Bericht f\u{fc}r Q3.\r\n".into(),
            date: 1_795_000_000,
            message_id: "m1.4f2a@example.test".into(),
            boundary: "b7Qe0c1d2e3f4a5b6c7d".into(),
            ..Draft::default()
        }
    }

    fn is_seven_bit(bytes: &[u8]) -> bool {
        bytes.iter().all(|&b| b != 0 && b < 0x80)
    }

    #[test]
    fn v0013_a_plain_draft_is_seven_bit_and_reads_back() {
        let bytes = compose(&draft()).unwrap();
        assert!(is_seven_bit(&bytes), "{}", String::from_utf8_lossy(&bytes));
        let parsed = MessageParser::new().parse(&bytes).unwrap();
        assert_eq!(parsed.subject(), Some("Gr\u{fc}\u{df}e \u{2014} Bericht"));
        let from = parsed.from().and_then(|f| f.first()).unwrap();
        assert_eq!(from.name(), Some("J\u{f6}rg M\u{fc}ller"));
        assert_eq!(from.address(), Some("joerg@example.test"));
        assert_eq!(parsed.message_id(), Some("m1.4f2a@example.test"));
        assert_eq!(parsed.date().map(|d| d.to_timestamp()), Some(1_795_000_000));
        assert_eq!(
            parsed.body_text(0).as_deref(),
            Some("Hallo Alice,\r\nanbei der Bericht f\u{fc}r Q3.\r\n")
        );
        assert_eq!(compose(&draft()).unwrap(), bytes, "no clock, no randomness");
    }

    #[test]
    fn v0013_replies_carry_in_reply_to_and_references() {
        let reply = Draft {
            in_reply_to: Some("<q3@example.test>".into()),
            references: vec!["<q1@example.test>".into(), "q3@example.test".into()],
            ..draft()
        };
        let bytes = compose(&reply).unwrap();
        let parsed = MessageParser::new().parse(&bytes).unwrap();
        assert_eq!(parsed.in_reply_to().as_text(), Some("q3@example.test"));
        let references: Vec<&str> = parsed
            .references()
            .as_text_list()
            .unwrap_or_default()
            .iter()
            .map(|id| id.as_ref())
            .collect();
        assert_eq!(references, ["q1@example.test", "q3@example.test"]);
    }

    #[test]
    fn v0014_binary_attachments_go_base64_and_no_nul_is_sent() {
        let with_files = Draft {
            text: "a\0b".into(),
            html: Some("<p>Gr\u{fc}\u{df}e</p>".into()),
            attachments: vec![
                DraftAttachment {
                    filename: "Bericht f\u{fc}r Q3.pdf".into(),
                    content_type: "application/pdf".into(),
                    data: b"%PDF-1.4\n\0\x01\xff\xfe binary".to_vec(),
                },
                DraftAttachment {
                    filename: "notes.txt".into(),
                    content_type: "text/plain".into(),
                    data: b"a\0b\r\n".to_vec(),
                },
            ],
            ..draft()
        };
        let bytes = compose(&with_files).unwrap();
        assert!(is_seven_bit(&bytes), "{}", String::from_utf8_lossy(&bytes));
        let parsed = MessageParser::new().parse(&bytes).unwrap();
        assert_eq!(
            parsed.body_html(0).as_deref(),
            Some("<p>Gr\u{fc}\u{df}e</p>")
        );
        let attachment = parsed.attachment(0).unwrap();
        assert_eq!(
            attachment.attachment_name(),
            Some("Bericht f\u{fc}r Q3.pdf")
        );
        assert_eq!(attachment.content_transfer_encoding(), Some("base64"));
        assert_eq!(attachment.contents(), b"%PDF-1.4\n\0\x01\xff\xfe binary");
        assert_eq!(parsed.attachment(1).unwrap().contents(), b"a\0b\r\n");
        assert_eq!(parsed.body_text(0).as_deref(), Some("ab"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("boundary=\"b7Qe0c1d2e3f4a5b6c7d.mixed\""),
            "{text}"
        );
    }

    #[test]
    fn v0013_long_headers_fold_and_read_back_whole() {
        let subject = "Quartalsbericht \u{fc}ber die Entwicklung der Ums\u{e4}tze ".repeat(4);
        let many = (0..12)
            .map(|n| DraftAddress {
                name: Some(format!("Person \"{n}\", Team")),
                address: format!("person{n}@example.test"),
            })
            .collect();
        let long = Draft {
            subject: subject.clone(),
            to: many,
            text: format!("{}\nsecond line\rthird", "x".repeat(1200)),
            ..draft()
        };
        let bytes = compose(&long).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let head = &text[..text.find("\r\n\r\n").unwrap()];
        assert!(head.split("\r\n").all(|line| line.len() <= 78), "{head}");
        assert!(
            !text.replace("\r\n", "").contains(['\r', '\n']),
            "CRLF only"
        );
        let parsed = MessageParser::new().parse(&bytes).unwrap();
        assert_eq!(parsed.subject(), Some(subject.as_str()));
        let to = parsed.to().unwrap();
        assert_eq!(to.iter().count(), 12);
        let last = to.iter().last().unwrap();
        assert_eq!(last.name(), Some("Person \"11\", Team"));
        assert_eq!(last.address(), Some("person11@example.test"));
        assert_eq!(
            parsed.body_text(0).as_deref(),
            Some(format!("{}\r\nsecond line\r\nthird", "x".repeat(1200)).as_str())
        );
    }

    #[test]
    fn v0013_caller_text_cannot_add_headers_and_bad_values_are_refused() {
        let injected = Draft {
            subject: "Hi\r\nBcc: eve@example.test".into(),
            ..draft()
        };
        let bytes = compose(&injected).unwrap();
        let parsed = MessageParser::new().parse(&bytes).unwrap();
        assert!(parsed.bcc().is_none());
        assert_eq!(parsed.subject(), Some("Hi Bcc: eve@example.test"));

        let bad_address = |address: &str| Draft {
            to: vec![DraftAddress {
                name: None,
                address: address.into(),
            }],
            ..draft()
        };
        for address in [
            "a b@x",
            "j\u{f6}rg@x",
            "a@b@c",
            "<a@b>",
            "a@b\r\nBcc: e@x",
            "nobody",
        ] {
            assert_eq!(
                compose(&bad_address(address)).unwrap_err().code(),
                "invalid_address",
                "{address}"
            );
        }
        let short = Draft {
            boundary: "short".into(),
            ..draft()
        };
        assert_eq!(compose(&short), Err(ComposeError::InvalidBoundary));
        let id = Draft {
            message_id: "no-at-sign".into(),
            ..draft()
        };
        assert_eq!(compose(&id).unwrap_err().code(), "invalid_message_id");
    }
}
