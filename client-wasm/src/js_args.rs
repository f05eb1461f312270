//! The object arguments JavaScript passes (search queries, sort orders, sections, the cache's
//! state, drafts, the bridge's control frames), read property by property with `Reflect`.
//! serde-wasm-bindgen's deserializer, which did this before, cost the wasm build 24.5 KB gzip
//! more: visitor instantiations per type and field, serde's error texts, and the float
//! formatting those keep (docs/benchmarks-engine.md, "Wasm size"). `undefined` and `null` read
//! as absent.

use crate::command::{SearchDate, SearchQuery};
use crate::compose::{Draft, DraftAddress, DraftAttachment};
use crate::error::ArgumentError;
use crate::part::{PartSection, Partial};
use crate::sort::{SortKey, SortOrder};
use crate::sync::CachedMailbox;
use js_sys::{Array, ArrayBuffer, Reflect, Uint8Array};
use std::num::NonZeroU32;
use wasm_bindgen::{JsCast, JsValue};

type Invalid = ArgumentError;

fn expected(key: &'static str, expected: &'static str) -> Invalid {
    ArgumentError::WrongType { key, expected }
}

/// `value` itself, unless it is not an object.
fn object<'a>(value: &'a JsValue, key: &'static str) -> Result<&'a JsValue, Invalid> {
    if value.is_object() {
        Ok(value)
    } else {
        Err(expected(key, "an object"))
    }
}

/// `undefined` and `null` both read as an absent value.
fn absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// Property `key` of `object`, `None` when absent, `undefined` or `null`.
fn prop(object: &JsValue, key: &'static str) -> Option<JsValue> {
    Reflect::get(object, &JsValue::from_str(key))
        .ok()
        .filter(|value| !absent(value))
}

fn string(object: &JsValue, key: &'static str) -> Result<Option<String>, Invalid> {
    prop(object, key)
        .map(|value| value.as_string().ok_or_else(|| expected(key, "a string")))
        .transpose()
}

/// A boolean property; absent is `false`.
fn flag(object: &JsValue, key: &'static str) -> Result<bool, Invalid> {
    prop(object, key).map_or(Ok(false), |value| {
        value.as_bool().ok_or_else(|| expected(key, "a boolean"))
    })
}

/// `value` if it is a whole number in `min..=max` (both exact in an f64).
fn whole(value: &JsValue, key: &'static str, min: f64, max: f64) -> Result<f64, Invalid> {
    value
        .as_f64()
        .filter(|n| n.fract() == 0.0 && (min..=max).contains(n))
        .ok_or_else(|| expected(key, "a whole number in range"))
}

fn number(object: &JsValue, key: &'static str, min: f64, max: f64) -> Result<Option<f64>, Invalid> {
    prop(object, key)
        .map(|value| whole(&value, key, min, max))
        .transpose()
}

fn as_u32(value: &JsValue, key: &'static str) -> Result<u32, Invalid> {
    Ok(whole(value, key, 0.0, f64::from(u32::MAX))? as u32)
}

fn u32_prop(object: &JsValue, key: &'static str) -> Result<Option<u32>, Invalid> {
    prop(object, key)
        .map(|value| as_u32(&value, key))
        .transpose()
}

/// A list property; absent is empty.
fn list(object: &JsValue, key: &'static str) -> Result<Vec<JsValue>, Invalid> {
    match prop(object, key) {
        None => Ok(Vec::new()),
        Some(value) if Array::is_array(&value) => Ok(Array::from(&value).to_vec()),
        Some(_) => Err(expected(key, "an array")),
    }
}

fn strings(object: &JsValue, key: &'static str) -> Result<Vec<String>, Invalid> {
    list(object, key)?
        .into_iter()
        .map(|value| value.as_string().ok_or_else(|| expected(key, "strings")))
        .collect()
}

fn required<T>(value: Option<T>, key: &'static str) -> Result<T, Invalid> {
    value.ok_or(ArgumentError::Missing(key))
}

/// What `search`, `sort` and `threads` take: `{text, from, to, subject, unseen, flagged,
/// sent_since, sent_before, gmail_raw}`, all optional.
pub(crate) fn search_query(value: &JsValue) -> Result<SearchQuery, Invalid> {
    if absent(value) {
        return Ok(SearchQuery::default());
    }
    let query = object(value, "query")?;
    let day = |key: &'static str| -> Result<Option<SearchDate>, Invalid> {
        string(query, key)?.map(|text| text.parse()).transpose()
    };
    Ok(SearchQuery {
        text: string(query, "text")?,
        from: string(query, "from")?,
        to: string(query, "to")?,
        subject: string(query, "subject")?,
        unseen: flag(query, "unseen")?,
        flagged: flag(query, "flagged")?,
        sent_since: day("sent_since")?,
        sent_before: day("sent_before")?,
        gmail_raw: string(query, "gmail_raw")?,
    })
}

/// `[{key, reverse}]`.
pub(crate) fn sort_orders(value: &JsValue) -> Result<Vec<SortOrder>, Invalid> {
    if !Array::is_array(value) {
        return Err(expected("order", "an array"));
    }
    Array::from(value)
        .iter()
        .map(|item| {
            let item = object(&item, "order")?;
            let key = required(string(item, "key")?, "key")?;
            Ok(SortOrder {
                key: SortKey::parse(&key).ok_or(ArgumentError::SortKey(key))?,
                reverse: flag(item, "reverse")?,
            })
        })
        .collect()
}

/// `{uid_validity, highest_modseq, known_uids: [uid]}`, or null.
pub(crate) fn cached_mailbox(value: &JsValue) -> Result<Option<CachedMailbox>, Invalid> {
    if absent(value) {
        return Ok(None);
    }
    let cached = object(value, "cached")?;
    let known_uids = match prop(cached, "known_uids") {
        None => None,
        Some(_) => Some(
            list(cached, "known_uids")?
                .iter()
                .map(|uid| as_u32(uid, "known_uids"))
                .collect::<Result<_, _>>()?,
        ),
    };
    let modseq = number(cached, "highest_modseq", 0.0, crate::wasm::MAX_SAFE_INTEGER)?;
    Ok(Some(CachedMailbox::from_driver(
        required(u32_prop(cached, "uid_validity")?, "uid_validity")?,
        modseq.map(|n| n as u64),
        known_uids,
    )))
}

/// `{kind, part, fields}` (see `PartSection::from_fields`).
pub(crate) fn part_section(value: &JsValue) -> Result<PartSection, Invalid> {
    let section = object(value, "section")?;
    let fields = match prop(section, "fields") {
        None => None,
        Some(_) => Some(strings(section, "fields")?),
    };
    PartSection::from_fields(
        &required(string(section, "kind")?, "kind")?,
        string(section, "part")?.as_deref(),
        fields,
    )
}

/// `{origin, length}` with `length` at least 1, or undefined.
pub(crate) fn partial(value: &JsValue) -> Result<Option<Partial>, Invalid> {
    if absent(value) {
        return Ok(None);
    }
    let partial = object(value, "partial")?;
    let length = required(u32_prop(partial, "length")?, "length")?;
    Ok(Some(Partial {
        origin: required(u32_prop(partial, "origin")?, "origin")?,
        length: NonZeroU32::new(length).ok_or(expected("length", "at least 1"))?,
    }))
}

fn address(value: &JsValue) -> Result<DraftAddress, Invalid> {
    let address = object(value, "address")?;
    Ok(DraftAddress {
        name: string(address, "name")?,
        address: string(address, "address")?.unwrap_or_default(),
    })
}

fn addresses(draft: &JsValue, key: &'static str) -> Result<Vec<DraftAddress>, Invalid> {
    list(draft, key)?.iter().map(address).collect()
}

/// A `Uint8Array` or `ArrayBuffer`.
fn bytes(object: &JsValue, key: &'static str) -> Result<Vec<u8>, Invalid> {
    match prop(object, key) {
        None => Ok(Vec::new()),
        Some(value) if value.is_instance_of::<Uint8Array>() => {
            Ok(value.unchecked_into::<Uint8Array>().to_vec())
        }
        Some(value) if value.is_instance_of::<ArrayBuffer>() => {
            Ok(Uint8Array::new(&value).to_vec())
        }
        Some(_) => Err(expected(key, "a Uint8Array")),
    }
}

fn attachment(value: &JsValue) -> Result<DraftAttachment, Invalid> {
    let attachment = object(value, "attachments")?;
    Ok(DraftAttachment {
        filename: string(attachment, "filename")?.unwrap_or_default(),
        content_type: string(attachment, "content_type")?.unwrap_or_default(),
        data: bytes(attachment, "data")?,
    })
}

/// `composeMessage`'s draft (its doc comment in `wasm.rs` has the shape).
pub(crate) fn draft(value: &JsValue) -> Result<Draft, Invalid> {
    let draft = object(value, "draft")?;
    let text = |key: &'static str| -> Result<String, Invalid> {
        Ok(string(draft, key)?.unwrap_or_default())
    };
    let seconds = crate::wasm::MAX_SAFE_INTEGER;
    Ok(Draft {
        from: prop(draft, "from").as_ref().map(address).transpose()?,
        to: addresses(draft, "to")?,
        cc: addresses(draft, "cc")?,
        bcc: addresses(draft, "bcc")?,
        subject: text("subject")?,
        text: text("text")?,
        html: string(draft, "html")?,
        attachments: list(draft, "attachments")?
            .iter()
            .map(attachment)
            .collect::<Result<_, _>>()?,
        in_reply_to: string(draft, "in_reply_to")?,
        references: strings(draft, "references")?,
        date: number(draft, "date", -seconds, seconds)?.map_or(0, |n| n as i64),
        message_id: text("message_id")?,
        boundary: text("boundary")?,
    })
}

/// A control frame from the bridge: `{type, security, code, message}`.
pub(crate) struct BridgeFrame {
    pub(crate) kind: String,
    pub(crate) security: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) message: Option<String>,
}

pub(crate) fn bridge_frame(value: &JsValue) -> Result<BridgeFrame, Invalid> {
    let frame = object(value, "frame")?;
    Ok(BridgeFrame {
        kind: required(string(frame, "type")?, "type")?,
        security: string(frame, "security")?,
        code: string(frame, "code")?,
        message: string(frame, "message")?,
    })
}
