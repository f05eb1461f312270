//! The mailbox hierarchy as the server described it: namespaces (RFC 2342) and the delimiter
//! each listed mailbox reported. New names are built and checked against it (rows V0020,
//! V0022).

use crate::error::SubmitError;
use crate::mailbox::{ListedMailbox, MailboxName};
use crate::utf7;
use serde::Serialize;
use std::collections::HashMap;

/// Mailboxes whose delimiter the session remembers; a server listing more still works, but
/// names beyond these need a LIST of their parent first.
const MAX_REMEMBERED: usize = 100_000;

/// Names starting with `prefix` form one hierarchy with `delimiter` (`None`: flat).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Namespace {
    pub prefix: MailboxName,
    pub delimiter: Option<char>,
}

/// RFC 2342's three kinds. Without NAMESPACE, one personal namespace at the root with the
/// delimiter `LIST "" ""` reported; a user-set root prefix is the driver's to add.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Namespaces {
    pub personal: Vec<Namespace>,
    pub other_users: Vec<Namespace>,
    pub shared: Vec<Namespace>,
}

impl Namespaces {
    pub(crate) fn from_wire(
        personal: &[imap_types::extensions::namespace::Namespace<'_>],
        other_users: &[imap_types::extensions::namespace::Namespace<'_>],
        shared: &[imap_types::extensions::namespace::Namespace<'_>],
    ) -> Self {
        let convert = |list: &[imap_types::extensions::namespace::Namespace<'_>]| {
            list.iter()
                .map(|ns| Namespace {
                    prefix: MailboxName::from_wire(ns.prefix.as_ref()),
                    delimiter: ns.delimiter.map(|d| d.inner()),
                })
                .collect()
        };
        Self {
            personal: convert(personal),
            other_users: convert(other_users),
            shared: convert(shared),
        }
    }

    pub(crate) fn root(delimiter: Option<char>) -> Self {
        Self {
            personal: vec![Namespace {
                prefix: MailboxName::from_wire(""),
                delimiter,
            }],
            ..Self::default()
        }
    }

    fn all(&self) -> impl Iterator<Item = &Namespace> {
        self.personal
            .iter()
            .chain(&self.other_users)
            .chain(&self.shared)
    }
}

/// One level of a name as the user typed it, in modified UTF-7: not empty, no control
/// characters, no delimiter (row V0020).
fn level(leaf: &str, delimiter: Option<char>) -> Result<Vec<u8>, SubmitError> {
    if leaf.is_empty() || leaf.chars().any(char::is_control) {
        return Err(SubmitError::InvalidArgument {
            what: "mailbox name (empty or control characters)",
        });
    }
    if let Some(delimiter) = delimiter.filter(|d| leaf.contains(*d)) {
        return Err(SubmitError::DelimiterInName { delimiter });
    }
    Ok(utf7::encode(leaf))
}

/// What the session learned about the hierarchy so far.
#[derive(Debug, Default)]
pub(crate) struct Hierarchy {
    namespaces: Option<Namespaces>,
    delimiters: HashMap<MailboxName, Option<char>>,
}

impl Hierarchy {
    pub(crate) fn record_namespaces(&mut self, namespaces: Namespaces) {
        self.namespaces = Some(namespaces);
    }

    pub(crate) fn record_listed(&mut self, mailbox: &ListedMailbox) {
        if self.delimiters.len() < MAX_REMEMBERED || self.delimiters.contains_key(&mailbox.name) {
            self.delimiters
                .insert(mailbox.name.clone(), mailbox.delimiter);
        }
    }

    /// The delimiter separating `parent` from its children; for the top level, the first
    /// personal namespace's.
    pub(crate) fn delimiter_below(
        &self,
        parent: Option<&MailboxName>,
    ) -> Result<Option<char>, SubmitError> {
        match parent {
            Some(parent) => self
                .delimiters
                .get(parent)
                .copied()
                .or_else(|| self.namespace_of(parent).map(|ns| ns.delimiter)),
            None => self.personal().map(|ns| ns.delimiter),
        }
        .ok_or(SubmitError::HierarchyUnknown)
    }

    /// The full wire name of a new mailbox `leaf` under `parent` (the personal namespace's
    /// prefix at the top level). The leaf may not contain the delimiter, which would create
    /// levels the user did not ask for (row V0020); with no delimiter nothing is checked.
    pub(crate) fn child(
        &self,
        parent: Option<&MailboxName>,
        leaf: &str,
    ) -> Result<MailboxName, SubmitError> {
        let delimiter = self.delimiter_below(parent)?;
        let mut wire = match parent {
            Some(_) if delimiter.is_none() => return Err(SubmitError::FlatHierarchy),
            Some(parent) => {
                let mut wire = parent.as_wire().to_vec();
                wire.extend(
                    delimiter
                        .map(|d| d.to_string().into_bytes())
                        .unwrap_or_default(),
                );
                wire
            }
            None => self
                .personal()
                .map(|ns| ns.prefix.as_wire().to_vec())
                .unwrap_or_default(),
        };
        wire.extend(level(leaf, delimiter)?);
        Ok(MailboxName::from_wire(wire))
    }

    /// `name` with its last level replaced by `leaf`, checked as for `child`.
    pub(crate) fn renamed(
        &self,
        name: &MailboxName,
        leaf: &str,
    ) -> Result<MailboxName, SubmitError> {
        let delimiter = self
            .delimiters
            .get(name)
            .copied()
            .or_else(|| self.namespace_of(name).map(|ns| ns.delimiter))
            .ok_or(SubmitError::HierarchyUnknown)?;
        let wire = name.as_wire();
        let kept = delimiter
            .and_then(|d| wire.iter().rposition(|&b| char::from(b) == d))
            .map_or(0, |at| at + 1);
        let mut renamed = wire[..kept].to_vec();
        renamed.extend(level(leaf, delimiter)?);
        Ok(MailboxName::from_wire(renamed))
    }

    fn personal(&self) -> Option<&Namespace> {
        self.namespaces.as_ref()?.personal.first()
    }

    /// The namespace with the longest prefix `name` starts with.
    fn namespace_of(&self, name: &MailboxName) -> Option<&Namespace> {
        self.namespaces
            .as_ref()?
            .all()
            .filter(|ns| name.as_wire().starts_with(ns.prefix.as_wire()))
            .max_by_key(|ns| ns.prefix.as_wire().len())
    }
}
