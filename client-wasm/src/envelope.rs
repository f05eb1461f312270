//! ENVELOPE as the reader shows it (rows V0008, V0072): addresses with groups, names and
//! subjects decoded (RFC 2047, raw UTF-8, else Latin-1), and the placeholders servers put
//! where a value is missing read as missing.

use imap_types::core::NString;
use imap_types::envelope::{Address as WireAddress, Envelope as WireEnvelope};
use mail_parser::MessageParser;
use serde::Serialize;

/// A message's envelope, from the server's parse of its header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Envelope {
    /// The Date header in milliseconds since the Unix epoch, when it parses.
    pub date: Option<i64>,
    pub subject: Option<String>,
    pub from: Vec<Recipient>,
    /// From when the server left it out (RFC 3501 §7.4.2 says it fills it in).
    pub sender: Vec<Recipient>,
    /// From when the server left it out.
    pub reply_to: Vec<Recipient>,
    pub to: Vec<Recipient>,
    pub cc: Vec<Recipient>,
    pub bcc: Vec<Recipient>,
    pub in_reply_to: Option<String>,
    pub message_id: Option<String>,
}

/// One entry of an address list: a mailbox, or an RFC 5322 group of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recipient {
    Mailbox(Mailbox),
    Group { name: String, members: Vec<Mailbox> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub name: Option<String>,
    /// `local@domain`, or only the local part when the server had no domain.
    pub address: Option<String>,
}

/// Hosts servers put where the address had none (Dovecot, Exchange).
const PLACEHOLDER_HOSTS: [&str; 3] = ["", "MISSING_DOMAIN", ".MISSING-HOST-NAME."];

impl Envelope {
    pub fn from_wire(wire: &WireEnvelope<'_>) -> Self {
        let from = recipients(&wire.from);
        let or_from = |list: Vec<Recipient>| {
            if list.is_empty() { from.clone() } else { list }
        };
        Self {
            date: nstring(&wire.date).and_then(|date| header_date(&date)),
            subject: nstring(&wire.subject).map(|s| header_text(&s)),
            sender: or_from(recipients(&wire.sender)),
            reply_to: or_from(recipients(&wire.reply_to)),
            to: recipients(&wire.to),
            cc: recipients(&wire.cc),
            bcc: recipients(&wire.bcc),
            in_reply_to: nstring(&wire.in_reply_to).map(|s| text(&s)),
            message_id: nstring(&wire.message_id).map(|s| text(&s)),
            from,
        }
    }
}

/// The bytes of an NString, `None` for NIL.
pub(crate) fn nstring(value: &NString<'_>) -> Option<Vec<u8>> {
    value.0.as_ref().map(|s| s.as_ref().to_vec())
}

/// Bytes as text: UTF-8 when they are, else Latin-1 (servers pass 8-bit headers through).
pub(crate) fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// A header value with RFC 2047 encoded words decoded, through mail-parser.
pub(crate) fn header_text(bytes: &[u8]) -> String {
    let raw = text(bytes);
    if !raw.contains("=?") {
        return raw;
    }
    let header = format!("Subject: {}\r\n\r\n", raw.replace(['\r', '\n'], " "));
    MessageParser::new()
        .parse_headers(header.as_bytes())
        .and_then(|message| message.subject().map(str::to_owned))
        .unwrap_or(raw)
}

fn header_date(bytes: &[u8]) -> Option<i64> {
    let header = format!("Date: {}\r\n\r\n", text(bytes).replace(['\r', '\n'], " "));
    let message = MessageParser::new().parse_headers(header.as_bytes())?;
    Some(message.date()?.to_timestamp().saturating_mul(1000))
}

/// An address list: `(NIL NIL "name" NIL)` opens a group that `(NIL NIL NIL NIL)` closes. A
/// start with no end after it is a local address without a host (Gmail), not a group.
fn recipients(list: &[WireAddress<'_>]) -> Vec<Recipient> {
    let is_end = |a: &WireAddress<'_>| a.mailbox.0.is_none() && a.host.0.is_none();
    let mut out = Vec::new();
    let mut group: Option<(String, Vec<Mailbox>)> = None;
    for (index, address) in list.iter().enumerate() {
        if is_end(address) {
            if let Some((name, members)) = group.take() {
                out.push(Recipient::Group { name, members });
            }
            continue;
        }
        if group.is_none()
            && address.host.0.is_none()
            && list[index + 1..].iter().any(is_end)
            && let Some(name) = nstring(&address.mailbox)
        {
            group = Some((header_text(&name), Vec::new()));
            continue;
        }
        let Some(mailbox) = Mailbox::from_wire(address) else {
            continue;
        };
        match &mut group {
            Some((_, members)) => members.push(mailbox),
            None => out.push(Recipient::Mailbox(mailbox)),
        }
    }
    if let Some((name, members)) = group {
        out.push(Recipient::Group { name, members });
    }
    out
}

impl Mailbox {
    /// `None` when nothing usable is left.
    fn from_wire(address: &WireAddress<'_>) -> Option<Self> {
        let name = nstring(&address.name)
            .map(|n| header_text(&n))
            .filter(|n| !n.is_empty());
        let local = nstring(&address.mailbox).map(|m| text(&m));
        let host = nstring(&address.host)
            .map(|h| text(&h))
            .filter(|h| !PLACEHOLDER_HOSTS.contains(&h.as_str()));
        let mailbox = match (name, local, host) {
            // Gmail's shuffled sender: the address in the name slot, the name in the mailbox.
            (Some(name), Some(local), None)
                if name.starts_with('<') && name.ends_with('>') && name.contains('@') =>
            {
                Self {
                    name: Some(header_text(local.as_bytes()).trim_matches('"').to_owned()),
                    address: Some(name.trim_matches(['<', '>']).to_owned()),
                }
            }
            (name, Some(local), Some(host)) => Self {
                name,
                address: Some(format!("{local}@{host}")),
            },
            (name, local, None) => Self {
                name,
                address: local,
            },
            (name, None, Some(_)) => Self {
                name,
                address: None,
            },
        };
        (mailbox.name.is_some() || mailbox.address.is_some()).then_some(mailbox)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v0072_names_decode_from_rfc2047_utf8_and_latin1() {
        assert_eq!(header_text(b"=?utf-8?Q?Justyna?="), "Justyna");
        assert_eq!(header_text("Gr\u{fc}n".as_bytes()), "Gr\u{fc}n");
        assert_eq!(header_text(b"G\xf6r\xfcnt\xfc1"), "G\u{f6}r\u{fc}nt\u{fc}1");
    }

    #[test]
    fn v0072_dates_parse_and_garbage_is_none() {
        assert_eq!(
            header_date(b"Mon, 10 Apr 2017 06:04:00 -0700"),
            Some(1_491_829_440_000)
        );
        assert_eq!(header_date(b"not a date"), None);
    }
}
