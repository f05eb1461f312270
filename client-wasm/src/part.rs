//! Single parts on demand (rows V0053, V0054, V0070): which section to fetch, the octets that
//! came back, placed by their origin, and decoded for display through mail-parser.

use crate::error::ArgumentError;
use crate::message::Uid;
use crate::structure::Part;
use imap_types::core::{AString, NString8, Vec1};
use imap_types::fetch::{MessageDataItem, Part as WirePart, Section};
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use serde::Serialize;
use std::fmt;
use std::num::NonZeroU32;

/// A part number as BODYSTRUCTURE gives it: `1`, `2.1`...
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct PartPath(Vec<NonZeroU32>);

impl PartPath {
    /// `None` unless dot-separated numbers from 1.
    pub fn parse(text: &str) -> Option<Self> {
        let numbers = text
            .split('.')
            .map(|n| n.parse::<NonZeroU32>().ok())
            .collect::<Option<Vec<_>>>()?;
        Some(Self(numbers))
    }

    fn to_imap(&self) -> Option<WirePart> {
        Vec1::try_from(self.0.clone()).ok().map(WirePart)
    }
}

impl From<PartPath> for String {
    fn from(path: PartPath) -> Self {
        path.to_string()
    }
}

impl fmt::Display for PartPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, number) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(".")?;
            }
            number.fmt(f)?;
        }
        Ok(())
    }
}

/// What `BODY.PEEK[...]` asks for (row V0054). `part: None` means the message itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PartSection {
    /// `[]`: the whole message, for a preview with `partial`.
    Whole,
    /// `[n]`: a part's content, still transfer-encoded.
    Content { part: PartPath },
    /// `[n.MIME]`: a part's own MIME header.
    Mime { part: PartPath },
    /// `[HEADER]` or `[n.HEADER]` of an attached message.
    Header { part: Option<PartPath> },
    /// `[HEADER.FIELDS (...)]`: only the named header fields.
    HeaderFields {
        part: Option<PartPath>,
        fields: Vec<String>,
    },
    /// `[TEXT]` or `[n.TEXT]`: the body after the header.
    Text { part: Option<PartPath> },
}

impl PartSection {
    /// The section as JavaScript writes it, `{kind, part, fields}` read flat; refuses a
    /// section without the part number or field list its kind needs.
    pub fn from_fields(
        kind: &str,
        part: Option<&str>,
        fields: Option<Vec<String>>,
    ) -> Result<Self, ArgumentError> {
        let part = part
            .map(|text| PartPath::parse(text).ok_or_else(|| ArgumentError::PartNumber(text.into())))
            .transpose()?;
        let required = |part: Option<PartPath>| part.ok_or(ArgumentError::Missing("part"));
        Ok(match kind {
            "whole" => Self::Whole,
            "content" => Self::Content {
                part: required(part)?,
            },
            "mime" => Self::Mime {
                part: required(part)?,
            },
            "header" => Self::Header { part },
            "header_fields" => Self::HeaderFields {
                part,
                fields: fields.ok_or(ArgumentError::Missing("fields"))?,
            },
            "text" => Self::Text { part },
            _ => return Err(ArgumentError::SectionKind(kind.into())),
        })
    }

    /// The section on the wire; `Err` names what is invalid.
    pub(crate) fn to_imap(&self) -> Result<Option<Section<'static>>, &'static str> {
        let path = |p: &Option<PartPath>| -> Result<Option<WirePart>, &'static str> {
            p.as_ref()
                .map(|p| p.to_imap().ok_or("part number"))
                .transpose()
        };
        Ok(Some(match self {
            Self::Whole => return Ok(None),
            Self::Content { part } => Section::Part(part.to_imap().ok_or("part number")?),
            Self::Mime { part } => Section::Mime(part.to_imap().ok_or("part number")?),
            Self::Header { part } => Section::Header(path(part)?),
            Self::HeaderFields { part, fields } => {
                Section::HeaderFields(path(part)?, header_fields(fields)?)
            }
            Self::Text { part } => Section::Text(path(part)?),
        }))
    }
}

/// Header field names (RFC 5322 `ftext`), at least one, sent as atoms.
fn header_fields(fields: &[String]) -> Result<Vec1<AString<'static>>, &'static str> {
    let valid = |f: &String| !f.is_empty() && f.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    if !fields.iter().all(valid) {
        return Err("header field name");
    }
    let names = fields
        .iter()
        .map(|f| AString::try_from(f.clone()).map_err(|_| "header field name"))
        .collect::<Result<Vec<_>, _>>()?;
    Vec1::try_from(names).map_err(|_| "header field list (empty)")
}

/// `<origin.length>`: only these octets of the section (row V0053).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Partial {
    pub origin: u32,
    pub length: NonZeroU32,
}

/// The octets of one section as the server sent them (still transfer-encoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchedPart {
    pub uid: Uid,
    /// Where these octets start in the section, for a partial fetch.
    pub origin: Option<u32>,
    /// `None` when the server had nothing (NIL).
    #[serde(with = "serde_bytes")]
    pub data: Option<Vec<u8>>,
}

impl FetchedPart {
    /// From the FETCH response to `UID FETCH uid (UID BODY.PEEK[...])`; `None` without a UID
    /// or a section item.
    pub(crate) fn from_fetch(items: &[MessageDataItem<'_>]) -> Option<Self> {
        let mut uid = None;
        let mut found = None;
        for item in items {
            match item {
                MessageDataItem::Uid(value) => uid = Uid::new(value.get()),
                MessageDataItem::BodyExt { origin, data, .. } => {
                    found = Some((*origin, data.0.as_ref().map(|d| d.as_ref().to_vec())));
                }
                MessageDataItem::Binary { value, .. } => {
                    let data = match value {
                        NString8::NString(n) => n.0.as_ref().map(|d| d.as_ref().to_vec()),
                        NString8::Literal8(literal) => Some(literal.data.to_vec()),
                    };
                    found = Some((None, data));
                }
                _ => {}
            }
        }
        let (origin, data) = found?;
        Some(Self {
            uid: uid?,
            origin,
            data,
        })
    }
}

/// A section's octets put together from whole and partial fetches (row V0070): partial data
/// lands at its origin octet, and once the whole section arrived, partial data is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartContent {
    bytes: Vec<u8>,
    complete: bool,
}

impl PartContent {
    /// Largest section this puts together; a larger origin is refused, not allocated.
    pub const MAX_LEN: usize = 64 * 1024 * 1024;

    /// Adds fetched octets; `false` when refused (past `MAX_LEN`, or partial after whole).
    pub fn place(&mut self, origin: Option<u32>, data: &[u8]) -> bool {
        let Some(origin) = origin else {
            self.bytes = data.to_vec();
            self.complete = true;
            return true;
        };
        let start = origin as usize;
        let end = start.saturating_add(data.len());
        if self.complete || end > Self::MAX_LEN {
            return false;
        }
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        self.bytes[start..end].copy_from_slice(data);
        true
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the whole section arrived, not only ranges of it.
    pub fn is_complete(&self) -> bool {
        self.complete
    }
}

/// A part's content decoded for display: transfer encoding undone, text in its charset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecodedContent {
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
    /// For `text/*` parts.
    pub text: Option<String>,
}

/// Undoes `part`'s base64 or quoted-printable and, for text, its charset.
pub fn decode_part(part: &Part, raw: &[u8]) -> DecodedContent {
    decode_content(
        &part.content_type,
        part.encoding.as_deref(),
        part.parameter("charset"),
        raw,
    )
}

/// Undoes a transfer encoding (case-insensitive) and, for `text/*`, the charset (unknown
/// charsets are read as UTF-8 with replacement characters). Undecodable octets stay as they
/// came.
pub fn decode_content(
    content_type: &str,
    encoding: Option<&str>,
    charset: Option<&str>,
    raw: &[u8],
) -> DecodedContent {
    let decoded = match encoding.map(str::to_ascii_lowercase).as_deref() {
        Some("base64") => base64_decode(raw),
        Some("quoted-printable") => quoted_printable_decode(raw),
        _ => None,
    }
    .unwrap_or_else(|| raw.to_vec());
    let is_text = content_type
        .get(..5)
        .is_some_and(|t| t.eq_ignore_ascii_case("text/"));
    let text = is_text.then(|| {
        charset
            .and_then(|charset| charset_decoder(charset.as_bytes()))
            .map_or_else(
                || String::from_utf8_lossy(&decoded).into_owned(),
                |decode| decode(&decoded),
            )
    });
    DecodedContent {
        bytes: decoded,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_types::body::{BasicFields, Body, BodyStructure, SpecificFields};
    use imap_types::core::{IString, NString};

    /// The flat reading accepts exactly what the tagged writing produces, and refuses a
    /// section without the part number or field list it needs.
    #[test]
    fn part_section_reads_back_what_it_writes() {
        let path = || PartPath::parse("1.2").unwrap();
        for section in [
            PartSection::Whole,
            PartSection::Content { part: path() },
            PartSection::Mime { part: path() },
            PartSection::Header { part: None },
            PartSection::HeaderFields {
                part: Some(path()),
                fields: vec!["Subject".into()],
            },
            PartSection::Text { part: Some(path()) },
        ] {
            let json = serde_json::to_value(&section).unwrap();
            let fields = json.get("fields").map(|f| {
                let names = f.as_array().unwrap().iter();
                names.map(|n| n.as_str().unwrap().to_owned()).collect()
            });
            let read = PartSection::from_fields(
                json["kind"].as_str().unwrap(),
                json.get("part").and_then(|p| p.as_str()),
                fields,
            );
            assert_eq!(read, Ok(section));
        }
        for (kind, part, fields) in [
            ("content", None, None),
            ("mime", None, None),
            ("header_fields", None, None),
            ("body", None, None),
            ("content", Some("0"), None),
            ("text", Some("1."), Some(vec![])),
        ] {
            let read = PartSection::from_fields(kind, part, fields);
            assert!(read.is_err(), "{kind} {part:?}");
        }
    }

    fn part(content_type: (&str, &str), charset: Option<&str>, encoding: &str) -> Part {
        let s = |v: &str| IString::try_from(v.to_owned()).unwrap();
        let specific = if content_type.0 == "text" {
            SpecificFields::Text {
                subtype: s(content_type.1),
                number_of_lines: 1,
            }
        } else {
            SpecificFields::Basic {
                r#type: s(content_type.0),
                subtype: s(content_type.1),
            }
        };
        let wire = BodyStructure::Single {
            body: Body {
                basic: BasicFields {
                    parameter_list: charset.map(|c| (s("charset"), s(c))).into_iter().collect(),
                    id: NString(None),
                    description: NString(None),
                    content_transfer_encoding: s(encoding),
                    size: 0,
                },
                specific,
            },
            extension_data: None,
        };
        Part::from_wire(&wire)
    }

    #[test]
    fn v0054_parts_decode_from_base64_and_quoted_printable_in_their_charset() {
        let latin1 = part(("text", "plain"), Some("iso-8859-1"), "QUOTED-PRINTABLE");
        let decoded = decode_part(&latin1, b"Gr=FC=DFe aus K=F6ln=\r\n!");
        assert_eq!(
            decoded.text.as_deref(),
            Some("Gr\u{fc}\u{df}e aus K\u{f6}ln!")
        );

        let pdf = part(("application", "pdf"), None, "base64");
        let decoded = decode_part(&pdf, b"JVBERi0x\r\nLjQK\r\n");
        assert_eq!(decoded.bytes, b"%PDF-1.4\n");
        assert_eq!(decoded.text, None);

        let utf8 = part(("text", "html"), Some("utf-8"), "8bit");
        let decoded = decode_part(&utf8, "<p>\u{e9}</p>".as_bytes());
        assert_eq!(decoded.text.as_deref(), Some("<p>\u{e9}</p>"));
    }

    #[test]
    fn v0070_partial_data_lands_at_its_origin_and_never_replaces_a_whole_body() {
        let mut content = PartContent::default();
        assert!(content.place(Some(4), b"5678"));
        assert!(content.place(Some(0), b"1234"));
        assert_eq!(content.bytes(), b"12345678");
        assert!(!content.is_complete());
        assert!(content.place(None, b"whole body"));
        assert!(
            !content.place(Some(0), b"XXXX"),
            "partial after whole is refused"
        );
        assert_eq!(content.bytes(), b"whole body");
        assert!(content.is_complete());
        let mut hostile = PartContent::default();
        assert!(!hostile.place(Some(u32::MAX), b"x"));
        assert!(hostile.bytes().is_empty());
    }
}
