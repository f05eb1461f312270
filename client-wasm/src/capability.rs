//! What the server says it can do, as it said it most recently.

use imap_types::response::Capability;
use serde::Serialize;
use std::collections::BTreeSet;

/// Capability atoms, upper-cased (RFC 3501 compares them case-insensitively).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Capabilities(BTreeSet<String>);

impl Capabilities {
    /// Builds from the decoded capability list of a CAPABILITY response or response code.
    pub fn from_wire<'a>(items: impl IntoIterator<Item = &'a Capability<'a>>) -> Self {
        // Inserted one by one: collecting into a BTreeSet stable-sorts first, a sort
        // instantiation that cost the wasm build ~1.5 KB gzip for a list of a few dozen atoms.
        let mut atoms = BTreeSet::new();
        for cap in items {
            atoms.insert(cap.to_string().to_ascii_uppercase());
        }
        Self(atoms)
    }

    pub fn has(&self, atom: &str) -> bool {
        self.0.contains(&atom.to_ascii_uppercase())
    }

    pub fn supports_auth(&self, mechanism: &str) -> bool {
        self.has(&format!("AUTH={mechanism}"))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v0027_auth_mechanisms_compare_case_insensitively() {
        let caps = Capabilities(
            ["IMAP4REV1", "AUTH=PLAIN", "SASL-IR"]
                .map(String::from)
                .into(),
        );
        assert!(caps.supports_auth("plain"));
        assert!(caps.has("sasl-ir"));
        assert!(!caps.supports_auth("LOGIN"));
    }
}
