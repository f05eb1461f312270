//! BODYSTRUCTURE as a typed part tree (rows V0009, V0071, N0005): every part with the section
//! number that fetches it, its body-extension fields kept, and the attachments listed, so the
//! reader fetches only the parts it shows.

use crate::envelope::{Envelope, header_text, nstring, text};
use crate::message::{Flag, Uid};
use imap_types::body::{
    BasicFields, Body, BodyExtension, BodyStructure, Disposition as WireDisposition, SpecificFields,
};
use imap_types::core::IString;
use imap_types::fetch::MessageDataItem;
use mail_parser::{MessageParser, MimeHeaders};
use serde::Serialize;

/// What the reader needs before fetching any content: `UID FLAGS RFC822.SIZE ENVELOPE
/// BODYSTRUCTURE` (rows V0007, V0008, V0009).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageStructure {
    pub uid: Uid,
    pub flags: Vec<Flag>,
    pub size: Option<u32>,
    pub envelope: Option<Envelope>,
    pub body: Part,
    /// The parts to list as attachments, each fetched on demand by its section.
    pub attachments: Vec<Part>,
    /// The sections of the text and HTML bodies, when there are any.
    pub text_section: Option<String>,
    pub html_section: Option<String>,
    /// RFC822.SIZE is above `Config::whole_message_limit`: fetch the parts shown, and fetch
    /// the whole message only once the user agreed (row V0007).
    pub large: bool,
}

impl MessageStructure {
    /// `None` without a UID or a BODYSTRUCTURE.
    pub(crate) fn from_fetch(
        items: &[MessageDataItem<'_>],
        whole_message_limit: u32,
    ) -> Option<Self> {
        let mut uid = None;
        let mut flags = Vec::new();
        let mut size = None;
        let mut envelope = None;
        let mut body = None;
        for item in items {
            match item {
                MessageDataItem::Uid(value) => uid = Uid::new(value.get()),
                MessageDataItem::Flags(list) => flags = list.iter().map(Flag::from_fetch).collect(),
                MessageDataItem::Rfc822Size(value) => size = Some(*value),
                MessageDataItem::Envelope(wire) => envelope = Some(Envelope::from_wire(wire)),
                // Some servers answer BODYSTRUCTURE with the shorter BODY form.
                MessageDataItem::BodyStructure(wire) | MessageDataItem::Body(wire) => {
                    body = Some(Part::from_wire(wire));
                }
                _ => {}
            }
        }
        let body = body?;
        let section = |content_type| body.body_part(content_type).map(|p| p.section.clone());
        Some(Self {
            uid: uid?,
            flags,
            large: size.is_some_and(|s| s > whole_message_limit),
            size,
            envelope,
            attachments: body.attachments().into_iter().cloned().collect(),
            text_section: section("text/plain"),
            html_section: section("text/html"),
            body,
        })
    }
}

/// One MIME part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// The section that fetches this part (`1`, `2.1`); empty for a multipart message's root.
    pub section: String,
    /// Lower-case `type/subtype`.
    pub content_type: String,
    pub parameters: Vec<(String, String)>,
    pub id: Option<String>,
    pub description: Option<String>,
    /// Lower-case Content-Transfer-Encoding; `None` for a multipart.
    pub encoding: Option<String>,
    /// Octets as transferred (still encoded).
    pub size: u32,
    pub lines: Option<u32>,
    pub md5: Option<String>,
    pub disposition: Option<Disposition>,
    pub language: Vec<String>,
    pub location: Option<String>,
    /// Body extensions past the location, as sent.
    pub extensions: Vec<Extension>,
    /// The file name from the disposition or the type's `name`, decoded (RFC 2231, RFC 2047).
    pub filename: Option<String>,
    /// The embedded message's envelope, for `message/rfc822`.
    pub envelope: Option<Box<Envelope>>,
    pub children: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disposition {
    /// Lower case: `inline`, `attachment`...
    pub kind: String,
    pub parameters: Vec<(String, String)>,
}

/// A body extension (RFC 3501 `body-extension`), kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Extension {
    Text(Option<String>),
    Number(u32),
    List(Vec<Extension>),
}

impl Part {
    /// The part tree of a message's BODYSTRUCTURE.
    pub fn from_wire(wire: &BodyStructure<'_>) -> Self {
        Self::build(wire, Vec::new())
    }

    /// `path` holds the part numbers leading here; a non-multipart message's body is `1`.
    fn build(wire: &BodyStructure<'_>, path: Vec<u32>) -> Self {
        match wire {
            BodyStructure::Single {
                body,
                extension_data,
            } => {
                let path = if path.is_empty() { vec![1] } else { path };
                let mut part = Self::single(body, &path);
                if let Some(ext) = extension_data {
                    part.md5 = nstring(&ext.md5).map(|m| text(&m));
                    part.read_tail(ext.tail.as_ref());
                }
                part.filename = filename(&part);
                part
            }
            BodyStructure::Multi {
                bodies,
                subtype,
                extension_data,
            } => {
                let children = bodies
                    .as_ref()
                    .iter()
                    .zip(1..)
                    .map(|(child, n)| Self::build(child, [path.as_slice(), &[n]].concat()))
                    .collect();
                let mut part = Self::empty(&path, format!("multipart/{}", lower(subtype)));
                part.children = children;
                if let Some(ext) = extension_data {
                    part.parameters = pairs(&ext.parameter_list);
                    part.read_tail(ext.tail.as_ref());
                }
                part
            }
        }
    }

    fn empty(path: &[u32], content_type: String) -> Self {
        let section = path
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(".");
        Self {
            section,
            content_type,
            parameters: Vec::new(),
            id: None,
            description: None,
            encoding: None,
            size: 0,
            lines: None,
            md5: None,
            disposition: None,
            language: Vec::new(),
            location: None,
            extensions: Vec::new(),
            filename: None,
            envelope: None,
            children: Vec::new(),
        }
    }

    fn single(body: &Body<'_>, path: &[u32]) -> Self {
        let (content_type, lines) = match &body.specific {
            SpecificFields::Basic { r#type, subtype } => {
                (format!("{}/{}", lower(r#type), lower(subtype)), None)
            }
            SpecificFields::Text {
                subtype,
                number_of_lines,
            } => (format!("text/{}", lower(subtype)), Some(*number_of_lines)),
            SpecificFields::Message {
                number_of_lines, ..
            } => ("message/rfc822".to_owned(), Some(*number_of_lines)),
        };
        let mut part = Self::empty(path, content_type);
        part.lines = lines;
        part.read_basic(&body.basic);
        if let SpecificFields::Message {
            envelope,
            body_structure,
            ..
        } = &body.specific
        {
            part.envelope = Some(Box::new(Envelope::from_wire(envelope)));
            // The embedded message's parts are numbered below this one (RFC 3501 §6.4.5); a
            // multipart body has no number of its own and is fetched as `n.TEXT`.
            let inner = match body_structure.as_ref() {
                multi @ BodyStructure::Multi { .. } => {
                    let mut inner = Self::build(multi, path.to_vec());
                    inner.section = format!("{}.TEXT", part.section);
                    inner
                }
                single => Self::build(single, [path, &[1]].concat()),
            };
            part.children = vec![inner];
        }
        part
    }

    fn read_basic(&mut self, basic: &BasicFields<'_>) {
        self.parameters = pairs(&basic.parameter_list);
        self.id = nstring(&basic.id).map(|s| text(&s));
        self.description = nstring(&basic.description).map(|s| header_text(&s));
        self.encoding = Some(lower(&basic.content_transfer_encoding));
        self.size = basic.size;
    }

    fn read_tail(&mut self, tail: Option<&WireDisposition<'_>>) {
        let Some(tail) = tail else { return };
        self.disposition = tail
            .disposition
            .as_ref()
            .map(|(kind, parameters)| Disposition {
                kind: lower(kind),
                parameters: pairs(parameters),
            });
        let Some(language) = &tail.tail else { return };
        self.language = language.language.iter().map(|l| text(l.as_ref())).collect();
        let Some(location) = &language.tail else {
            return;
        };
        self.location = nstring(&location.location).map(|s| text(&s));
        self.extensions = location
            .extensions
            .iter()
            .map(Extension::from_wire)
            .collect();
    }

    /// Whether the reader lists this part as an attachment: a disposition of `attachment`, an
    /// attached message, a named part other than inline text, or an unnamed part that is
    /// neither text nor shown inline.
    pub fn is_attachment(&self) -> bool {
        let kind = self.disposition.as_ref().map(|d| d.kind.as_str());
        let text = self.content_type.starts_with("text/");
        let leaf = self.children.is_empty() && !self.content_type.starts_with("multipart/");
        kind == Some("attachment")
            || self.content_type == "message/rfc822"
            || (self.filename.is_some() && !(text && kind == Some("inline")))
            || (leaf && !text && kind != Some("inline"))
    }

    /// The attachments, in order; an attached message counts as one, its parts not again.
    pub fn attachments(&self) -> Vec<&Part> {
        if self.is_attachment() && !self.section.is_empty() {
            return vec![self];
        }
        self.children.iter().flat_map(Part::attachments).collect()
    }

    /// The first part of this type that is not an attachment, outside attached messages: the
    /// text or HTML body the reader fetches.
    pub fn body_part(&self, content_type: &str) -> Option<&Part> {
        if self.is_attachment() && !self.section.is_empty() {
            return None;
        }
        if self.children.is_empty() {
            return (self.content_type == content_type).then_some(self);
        }
        self.children
            .iter()
            .find_map(|child| child.body_part(content_type))
    }

    /// A parameter of the type, by case-insensitive name.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

impl Extension {
    fn from_wire(wire: &BodyExtension<'_>) -> Self {
        match wire {
            BodyExtension::NString(value) => Self::Text(nstring(value).map(|s| text(&s))),
            BodyExtension::Number(number) => Self::Number(*number),
            BodyExtension::List(list) => {
                Self::List(list.as_ref().iter().map(Self::from_wire).collect())
            }
        }
    }
}

fn lower(value: &IString<'_>) -> String {
    text(value.as_ref()).to_ascii_lowercase()
}

fn pairs(list: &[(IString<'_>, IString<'_>)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(key, value)| (lower(key), text(value.as_ref())))
        .collect()
}

/// The part's file name as mail-parser reads it from the same parameters in a header
/// (RFC 2231 continuations and charsets, RFC 2047 words).
fn filename(part: &Part) -> Option<String> {
    let named = |params: &[(String, String)]| {
        params
            .iter()
            .any(|(key, _)| key.starts_with("filename") || key.starts_with("name"))
    };
    let disposition = part.disposition.as_ref();
    if !named(&part.parameters) && !disposition.is_some_and(|d| named(&d.parameters)) {
        return None;
    }
    let mut header = format!("Content-Type: {}", part.content_type);
    write_parameters(&mut header, &part.parameters);
    if let Some(disposition) = disposition {
        header.push_str("\r\nContent-Disposition: ");
        header.push_str(&disposition.kind);
        write_parameters(&mut header, &disposition.parameters);
    }
    header.push_str("\r\n\r\n");
    let parsed = MessageParser::new().parse_headers(header.as_bytes())?;
    let name = parsed.attachment_name()?;
    Some(header_text(name.as_bytes()))
}

fn write_parameters(header: &mut String, parameters: &[(String, String)]) {
    for (key, value) in parameters {
        let value = value.replace(['\r', '\n'], " ");
        if key.ends_with('*') {
            // RFC 2231 extended values are sent bare.
            header.push_str(&format!("; {key}={value}"));
        } else {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            header.push_str(&format!("; {key}=\"{escaped}\""));
        }
    }
}
