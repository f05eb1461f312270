//! Drafts to RFC 5322 messages for APPEND (rows V0013, V0014), through mail-builder.
//!
//! The result is 7-bit: non-ASCII header text becomes RFC 2047 encoded words, text bodies
//! quoted-printable or base64 as mail-builder finds shorter, attachments base64, so no 8-bit
//! octet and no NUL is ever sent. Date, Message-ID and the MIME boundaries come from the
//! caller: the engine reads no clock and no randomness.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::message_id::MessageId;
use mail_builder::mime::{BodyPart, MimePart};
use serde::Deserialize;

/// A message to save as a draft or to send.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DraftAddress {
    pub name: Option<String>,
    /// ASCII `local@domain` (8-bit headers are not sent, row V0013).
    pub address: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DraftAttachment {
    pub filename: String,
    /// `type/subtype`; `application/octet-stream` when empty.
    pub content_type: String,
    #[serde(with = "serde_bytes")]
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
    let mut builder = MessageBuilder::new()
        .date(draft.date)
        .message_id(message_id(&draft.message_id)?)
        .subject(one_line(&draft.subject));
    if let Some(from) = &draft.from {
        builder = builder.from(address(from)?);
    }
    for (list, header) in [(&draft.to, "To"), (&draft.cc, "Cc"), (&draft.bcc, "Bcc")] {
        if !list.is_empty() {
            let addresses = list.iter().map(address).collect::<Result<Vec<_>, _>>()?;
            builder = builder.header(header, Address::new_list(addresses));
        }
    }
    if let Some(id) = &draft.in_reply_to {
        builder = builder.in_reply_to(message_id(id)?);
    }
    if !draft.references.is_empty() {
        let ids = draft
            .references
            .iter()
            .map(|id| bare_id(id).map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()?;
        builder = builder.references(MessageId::new_list(ids.into_iter()));
    }
    let body = body(draft, boundary)?;
    // mail-builder writes to a Vec without I/O errors.
    Ok(builder.body(body).write_to_vec().unwrap_or_default())
}

/// text/plain, in multipart/alternative with the HTML, in multipart/mixed with attachments.
fn body<'a>(draft: &'a Draft, boundary: &str) -> Result<MimePart<'a>, ComposeError> {
    let text = MimePart::new("text/plain", BodyPart::Text(without_nul(&draft.text)));
    let content = match &draft.html {
        Some(html) => multipart(
            "alternative",
            boundary,
            vec![
                text,
                MimePart::new("text/html", BodyPart::Text(without_nul(html))),
            ],
        ),
        None => text,
    };
    if draft.attachments.is_empty() {
        return Ok(content);
    }
    let mut parts = vec![content];
    for attachment in &draft.attachments {
        parts.push(attachment_part(attachment)?);
    }
    Ok(multipart("mixed", boundary, parts))
}

/// NUL is never sent (row V0014), and mail-builder passes it through in 7-bit text.
fn without_nul(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        text.replace('\0', "").into()
    } else {
        text.into()
    }
}

fn multipart<'a>(subtype: &str, boundary: &str, parts: Vec<MimePart<'a>>) -> MimePart<'a> {
    let content_type = ContentType::new(format!("multipart/{subtype}"))
        .attribute("boundary", format!("{boundary}.{subtype}"));
    MimePart::new(content_type, BodyPart::Multipart(parts))
}

/// Attachments go base64 whatever their type (row V0014): mail-builder would send a text
/// type's NUL octets as they are.
fn attachment_part(attachment: &DraftAttachment) -> Result<MimePart<'static>, ComposeError> {
    let content_type = match attachment.content_type.trim() {
        "" => "application/octet-stream".to_owned(),
        given if is_media_type(given) => given.to_ascii_lowercase(),
        _ => {
            return Err(ComposeError::InvalidContentType {
                content_type: attachment.content_type.clone(),
            });
        }
    };
    let encoded = STANDARD.encode(&attachment.data);
    let lines: Vec<&[u8]> = encoded.as_bytes().chunks(76).collect();
    let data = BodyPart::Binary(lines.join(&b"\r\n"[..]).into());
    Ok(MimePart::new(ContentType::new(content_type), data)
        .transfer_encoding("base64")
        .attachment(one_line(&attachment.filename)))
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

fn address(given: &DraftAddress) -> Result<Address<'static>, ComposeError> {
    let address = given.address.trim();
    if !is_addr_spec(address) {
        return Err(ComposeError::InvalidAddress {
            address: given.address.clone(),
        });
    }
    let name = given
        .name
        .as_deref()
        .map(one_line)
        .filter(|n| !n.trim().is_empty());
    Ok(Address::new_address(name, address.to_owned()))
}

fn bare_id(id: &str) -> Result<&str, ComposeError> {
    let trimmed = id.trim();
    let bare = trimmed
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(trimmed);
    if is_addr_spec(bare) {
        Ok(bare)
    } else {
        Err(ComposeError::InvalidMessageId { id: id.to_owned() })
    }
}

fn message_id(id: &str) -> Result<MessageId<'static>, ComposeError> {
    bare_id(id).map(|bare| MessageId::new(bare.to_owned()))
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
    fn v0013_caller_text_cannot_add_headers_and_bad_values_are_refused() {
        let injected = Draft {
            subject: "Hi\r\nBcc: eve@example.test".into(),
            ..draft()
        };
        let bytes = compose(&injected).unwrap();
        let parsed = MessageParser::new().parse(&bytes).unwrap();
        assert!(parsed.bcc().is_none());
        assert_eq!(parsed.subject(), Some("Hi  Bcc: eve@example.test"));

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
