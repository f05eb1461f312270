//! Message order as RFC 5256 SORT defines it: the server's when it has SORT, otherwise the
//! engine's own over the summaries already fetched.

use crate::message::MessageSummary;
use imap_types::core::Vec1;
use imap_types::extensions::sort::{SortCriterion, SortKey as ImapSortKey};
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// INTERNALDATE.
    Arrival,
    /// The Date header, INTERNALDATE when it is missing or invalid.
    Date,
    /// The first From address's mailbox (local part), case-insensitively.
    From,
    /// The base subject (RFC 5256 §2.1), case-insensitively.
    Subject,
    Size,
}

impl SortKey {
    /// The key by its lower-case name, as drivers give it (`"arrival"`, `"date"`...).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "arrival" => Self::Arrival,
            "date" => Self::Date,
            "from" => Self::From,
            "subject" => Self::Subject,
            "size" => Self::Size,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortOrder {
    pub key: SortKey,
    pub reverse: bool,
}

/// The criteria as SORT sends them; `None` when there are none.
pub(crate) fn to_imap(order: &[SortOrder]) -> Option<Vec1<SortCriterion>> {
    let criteria: Vec<SortCriterion> = order
        .iter()
        .map(|o| SortCriterion {
            reverse: o.reverse,
            key: match o.key {
                SortKey::Arrival => ImapSortKey::Arrival,
                SortKey::Date => ImapSortKey::Date,
                SortKey::From => ImapSortKey::From,
                SortKey::Subject => ImapSortKey::Subject,
                SortKey::Size => ImapSortKey::Size,
            },
        })
        .collect();
    Vec1::try_from(criteria).ok()
}

/// Sorts like a server's SORT would: each key in turn, then the sequence number (RFC 5256
/// §3: the final tie-breaker), which `reverse` does not affect. Each message's keys are
/// computed once (a base subject costs a pass over the subject), not per comparison.
pub fn sort_summaries(messages: &mut [MessageSummary], order: &[SortOrder]) {
    let keys: Vec<(Vec<Directed>, u32)> = messages
        .iter()
        .map(|m| {
            let keys = order
                .iter()
                .map(|o| Directed {
                    value: key_of(m, o.key),
                    reverse: o.reverse,
                })
                .collect();
            (keys, m.seq)
        })
        .collect();
    sort_by_keys(messages, &keys);
}

/// Stably sorts `items` by their `keys` (one per item, in the same order).
///
/// The engine's own sorts (UID sets, SEARCH results, these summaries, thread siblings) all
/// go through [`sorted_indexes`], so the wasm build carries one copy of the standard
/// library's sort instead of one per element type (docs/benchmarks-engine.md, "Wasm size").
pub(crate) fn sort_by_keys<T, K: Ord>(items: &mut [T], keys: &[K]) {
    let order = sorted_indexes(keys.len(), &|a, b| keys[a].cmp(&keys[b]));
    permute(items, order);
}

/// Sorts `items` into ascending order (stably, as [`sort_by_keys`]).
pub(crate) fn sort_values<T: Ord>(items: &mut [T]) {
    let order = sorted_indexes(items.len(), &|a, b| items[a].cmp(&items[b]));
    permute(items, order);
}

/// The indexes `0..len` in the order `compare` gives, equal ones in index order. Not
/// generic: its one sort instantiation serves every caller.
fn sorted_indexes(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_unstable_by(|&a, &b| compare(a, b).then(a.cmp(&b)));
    order
}

/// Moves `items[order[i]]` to `i` for every `i` by swaps (as `slice::sort_by_cached_key`
/// does): an index below `i` has been swapped away already, so it is followed to where its
/// item went.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for i in 0..order.len() {
        let mut source = order[i];
        while source < i {
            source = order[source];
        }
        order[i] = source;
        items.swap(i, source);
    }
}

/// One message's value for one sort key.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum KeyValue {
    Time(Option<i64>),
    Text(String),
    Size(Option<u32>),
}

/// A key value in its key's direction.
#[derive(PartialEq, Eq)]
struct Directed {
    value: KeyValue,
    reverse: bool,
}

impl Ord for Directed {
    fn cmp(&self, other: &Self) -> Ordering {
        let ordering = self.value.cmp(&other.value);
        if self.reverse {
            ordering.reverse()
        } else {
            ordering
        }
    }
}

impl PartialOrd for Directed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn key_of(message: &MessageSummary, key: SortKey) -> KeyValue {
    match key {
        SortKey::Arrival => KeyValue::Time(message.internal_date),
        SortKey::Date => KeyValue::Time(sent_date(message)),
        SortKey::From => KeyValue::Text(from_mailbox(message)),
        SortKey::Subject => {
            KeyValue::Text(base_subject(message.subject.as_deref().unwrap_or_default()).0)
        }
        SortKey::Size => KeyValue::Size(message.size),
    }
}

/// The Date header's time, INTERNALDATE when there is none (RFC 5256 §3, DATE).
pub(crate) fn sent_date(message: &MessageSummary) -> Option<i64> {
    message.date.or(message.internal_date)
}

fn from_mailbox(message: &MessageSummary) -> String {
    let address = message
        .from
        .as_ref()
        .and_then(|from| from.address.as_deref())
        .unwrap_or_default();
    let mailbox = address.split_once('@').map_or(address, |(local, _)| local);
    mailbox.to_lowercase()
}

/// RFC 5256 §2.1's base subject, lower-cased for comparison, and whether the subject was
/// a reply or forward (`Re:`, `Fwd:`, a trailing `(fwd)`), which threading needs. Works on
/// slices of one normalised copy: the subject comes from the server, and a long run of
/// leaders must cost one pass, not one copy per leader.
pub(crate) fn base_subject(subject: &str) -> (String, bool) {
    let normalised = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut text = normalised.as_str();
    let mut reply = false;
    loop {
        let before = text.len();
        // (2) trailing "(fwd)" and blanks.
        while let Some(rest) = strip_suffix_ignore_case(text, "(fwd)") {
            text = rest.trim_end();
            reply = true;
        }
        // (3) leading "[blob]" and "re:"/"fw:"/"fwd:" leaders, a blob only when text remains.
        loop {
            let trimmed = text.trim_start();
            if let Some(rest) = strip_leader(trimmed) {
                text = rest;
                reply = true;
            } else if let Some(rest) = strip_blob(trimmed).filter(|rest| !rest.trim().is_empty()) {
                text = rest;
            } else {
                text = trimmed;
                break;
            }
        }
        // (4) "[fwd: ... ]" wrapping the whole subject.
        if let Some(inner) =
            strip_prefix_ignore_case(text, "[fwd:").and_then(|t| t.strip_suffix(']'))
        {
            text = inner.trim();
            reply = true;
        }
        if text.len() == before {
            break;
        }
    }
    (text.to_lowercase(), reply)
}

/// `re:`, `fw:` or `fwd:`, optionally with `[blob]`s before the colon.
fn strip_leader(text: &str) -> Option<&str> {
    let word = ["fwd", "fw", "re"]
        .into_iter()
        .find(|word| strip_prefix_ignore_case(text, word).is_some())?;
    let mut rest = text.get(word.len()..)?.trim_start();
    while let Some(after) = strip_blob(rest) {
        rest = after.trim_start();
    }
    rest.strip_prefix(':')
}

/// A leading `[...]` without nested brackets.
fn strip_blob(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('[')?;
    let end = inner.find(']')?;
    inner[..end].find('[').is_none().then(|| &inner[end + 1..])
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let start = text.len().checked_sub(suffix.len())?;
    let tail = text.get(start..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..start])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_follow_their_keys_and_equal_keys_keep_their_order() {
        let mut items = ['a', 'b', 'c', 'd', 'e', 'f'];
        sort_by_keys(&mut items, &[3, 1, 3, 0, 1, 2]);
        assert_eq!(items, ['d', 'b', 'e', 'f', 'a', 'c']);
        let mut values = [5, 2, 9, 2, 0, 7, 1];
        sort_values(&mut values);
        assert_eq!(values, [0, 1, 2, 2, 5, 7, 9]);
    }

    #[test]
    fn sort_keys_are_read_by_their_lower_case_names_only() {
        assert_eq!(SortKey::parse("arrival"), Some(SortKey::Arrival));
        assert_eq!(SortKey::parse("size"), Some(SortKey::Size));
        assert_eq!(SortKey::parse("Date"), None);
        assert_eq!(SortKey::parse("cc"), None);
    }

    #[test]
    fn a_hostile_run_of_leaders_costs_one_pass() {
        // 100,000 leaders: one copy of the subject per leader would move about 30 GB.
        let subject = format!("{}Lunch (fwd)", "Re: [a] ".repeat(100_000));
        assert_eq!(base_subject(&subject), ("lunch".to_owned(), true));
    }

    #[test]
    fn base_subject_strips_rfc_5256_leaders_blobs_and_trailers() {
        for (subject, base, reply) in [
            ("Re: Lunch", "lunch", true),
            ("RE: [dev] Fwd: Lunch (fwd)", "lunch", true),
            ("[dev]   Lunch  plans", "lunch plans", false),
            ("Re[2]: Lunch", "lunch", true),
            ("[Fwd: Lunch]", "lunch", true),
            ("[only a blob]", "[only a blob]", false),
            ("Reply needed", "reply needed", false),
            ("", "", false),
        ] {
            assert_eq!(base_subject(subject), (base.to_owned(), reply), "{subject}");
        }
    }
}
