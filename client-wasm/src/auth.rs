//! Credentials and the SASL exchanges that carry them.

use std::fmt;

/// A user name with a password or an OAuth 2.0 access token. Debug prints no secret, so a
/// credential that ends up in a log or an error message leaks nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    secret: Secret,
}

#[derive(Clone, PartialEq, Eq)]
enum Secret {
    Password(String),
    Token(String),
}

impl Credentials {
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            secret: Secret::Password(password.into()),
        }
    }

    /// An access token instead of a password: only OAUTHBEARER and XOAUTH2 carry it.
    pub fn with_token(user: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            secret: Secret::Token(token.into()),
        }
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub(crate) fn password(&self) -> Option<&str> {
        match &self.secret {
            Secret::Password(password) => Some(password),
            Secret::Token(_) => None,
        }
    }

    pub(crate) fn token(&self) -> Option<&str> {
        match &self.secret {
            Secret::Token(token) => Some(token),
            Secret::Password(_) => None,
        }
    }

    /// LOGIN cannot carry non-ASCII safely (row V0013): only AUTHENTICATE may.
    pub(crate) fn is_ascii(&self) -> bool {
        let secret = match &self.secret {
            Secret::Password(secret) | Secret::Token(secret) => secret,
        };
        self.user.is_ascii() && secret.is_ascii()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.secret {
            Secret::Password(_) => "password",
            Secret::Token(_) => "token",
        };
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field(kind, &"<redacted>")
            .finish()
    }
}

/// How to authenticate. `Auto` tries the advertised mechanisms strongest first (row E0002);
/// `Plain` and `Login` force AUTHENTICATE PLAIN or the LOGIN command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
    fn e0001_debug_output_redacts_a_token_too() {
        let creds = Credentials::with_token("alice", "ya29.secret-token");
        let shown = format!("{creds:?}");
        assert!(shown.contains("alice") && shown.contains("token"));
        assert!(!shown.contains("ya29"));
    }
}
