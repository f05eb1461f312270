//! Credentials and the SASL exchanges that carry them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use std::fmt;

/// A user name and password. Debug and Display print no secret, so a credential that ends up
/// in a log or an error message leaks nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub(crate) fn password(&self) -> &str {
        &self.password
    }

    /// RFC 4616 PLAIN message (no authorization identity), base64 as IMAP sends it.
    pub(crate) fn sasl_plain(&self) -> Vec<u8> {
        let message = format!("\0{}\0{}", self.user, self.password);
        STANDARD.encode(message).into_bytes()
    }

    /// LOGIN cannot carry non-ASCII safely (row V0013): only AUTHENTICATE may.
    pub(crate) fn is_ascii(&self) -> bool {
        self.user.is_ascii() && self.password.is_ascii()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// How to authenticate. `Auto` prefers AUTHENTICATE PLAIN, then LOGIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    #[default]
    Auto,
    Plain,
    Login,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_the_password() {
        let creds = Credentials::new("alice", "s3cret-pw");
        let shown = format!("{creds:?}");
        assert!(shown.contains("alice"));
        assert!(!shown.contains("s3cret-pw"));
    }

    #[test]
    fn sasl_plain_is_base64_of_nul_separated_fields() {
        let creds = Credentials::new("tim", "tanstaaftanstaaf");
        // RFC 4616 §4 example without the authorization identity.
        assert_eq!(creds.sasl_plain(), b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm".to_vec());
    }
}
