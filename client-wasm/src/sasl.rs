//! Choosing a login mechanism, running its SASL exchange, and deciding what a refusal means.

use crate::auth::{AuthMethod, Credentials};
use crate::capability::Capabilities;
use crate::error::{CommandError, LoginRefusal};
use crate::scram::{ScramClient, ScramError, ScramHash};
use imap_types::auth::AuthMechanism;
use imap_types::response::{Code, StatusBody, StatusKind};
use std::collections::VecDeque;

/// Ways to log in, strongest first (row E0002). `LoginCommand` is RFC 3501's LOGIN; `Login`
/// is the SASL mechanism of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mechanism {
    OAuthBearer,
    XOAuth2,
    ScramSha256,
    ScramSha1,
    Plain,
    Login,
    LoginCommand,
}

const STRONGEST_FIRST: [Mechanism; 7] = [
    Mechanism::OAuthBearer,
    Mechanism::XOAuth2,
    Mechanism::ScramSha256,
    Mechanism::ScramSha1,
    Mechanism::Plain,
    Mechanism::Login,
    Mechanism::LoginCommand,
];

impl Mechanism {
    pub(crate) fn to_imap(self) -> Option<AuthMechanism<'static>> {
        Some(match self {
            Self::OAuthBearer => AuthMechanism::OAuthBearer,
            Self::XOAuth2 => AuthMechanism::XOAuth2,
            Self::ScramSha256 => AuthMechanism::ScramSha256,
            Self::ScramSha1 => AuthMechanism::ScramSha1,
            Self::Plain => AuthMechanism::Plain,
            Self::Login => AuthMechanism::Login,
            Self::LoginCommand => return None,
        })
    }

    /// Only what the server advertises (row V0032); LOGIN unless LOGINDISABLED (row V0031).
    fn offered(self, caps: &Capabilities) -> bool {
        match self.to_imap() {
            Some(mechanism) => caps.supports_auth(mechanism.as_ref()),
            None => !caps.has("LOGINDISABLED"),
        }
    }

    pub(crate) fn is_scram(self) -> bool {
        matches!(self, Self::ScramSha256 | Self::ScramSha1)
    }

    fn takes_token(self) -> bool {
        matches!(self, Self::OAuthBearer | Self::XOAuth2)
    }

    /// Whether SASL-IR may carry the first response: LOGIN's first message is the server's
    /// prompt, so it never starts with one.
    pub(crate) fn has_initial_response(self) -> bool {
        self != Self::Login
    }
}

/// The mechanisms to try for `credentials`, in order. A token goes only to the OAuth
/// mechanisms; LOGIN carries only ASCII (row V0013); SCRAM needs the driver's randomness.
pub(crate) fn plan(
    credentials: &Credentials,
    method: AuthMethod,
    caps: &Capabilities,
    scram_ready: bool,
) -> Result<Vec<Mechanism>, CommandError> {
    let usable = |mechanism: Mechanism| {
        mechanism.takes_token() == credentials.token().is_some()
            && (mechanism != Mechanism::LoginCommand || credentials.is_ascii())
            && (!matches!(mechanism, Mechanism::ScramSha256 | Mechanism::ScramSha1) || scram_ready)
    };
    let plan: Vec<Mechanism> = match method {
        AuthMethod::Auto => STRONGEST_FIRST
            .into_iter()
            .filter(|m| usable(*m) && m.offered(caps))
            .collect(),
        AuthMethod::Plain => vec![Mechanism::Plain],
        AuthMethod::Login if caps.has("LOGINDISABLED") => vec![],
        AuthMethod::Login => vec![Mechanism::LoginCommand],
    };
    if plan.iter().all(|m| usable(*m)) && !plan.is_empty() {
        Ok(plan)
    } else if !credentials.is_ascii() && !caps.has("LOGINDISABLED") {
        Err(CommandError::NonAsciiCredentials)
    } else {
        Err(CommandError::NoUsableMechanism)
    }
}

/// A user name inside a GS2 header (RFC 5801 §4): `,` and `=` escaped so they cannot end it.
pub(crate) fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// What to do after the server refused one mechanism (row V0034).
pub(crate) enum Verdict {
    /// Stop here and report this.
    Stop(CommandError),
    /// The server rejected the credentials: at most one more mechanism, then ask the user.
    CredentialsRejected(CommandError),
    /// The mechanism itself did not work (BAD): the next one may.
    MechanismFailed(CommandError),
}

pub(crate) fn judge(body: &StatusBody<'_>) -> Verdict {
    let text = body.text.to_string();
    let code = match &body.code {
        Some(Code::Other(other)) => other
            .inner()
            .split(|b| *b == b' ')
            .next()
            .map(|atom| atom.to_ascii_uppercase()),
        _ => None,
    };
    let refused = |reason| {
        Verdict::Stop(CommandError::LoginRefused {
            reason,
            text: text.clone(),
        })
    };
    match code.as_deref() {
        Some(b"AUTHORIZATIONFAILED") => refused(LoginRefusal::AuthorizationFailed),
        Some(b"EXPIRED") => refused(LoginRefusal::Expired),
        Some(b"PRIVACYREQUIRED") => refused(LoginRefusal::PrivacyRequired),
        Some(b"UNAVAILABLE") => Verdict::Stop(CommandError::AuthenticationUnavailable { text }),
        _ if body.kind == StatusKind::Bad => {
            Verdict::MechanismFailed(CommandError::AuthenticationFailed { text })
        }
        _ => Verdict::CredentialsRejected(CommandError::AuthenticationFailed { text }),
    }
}

/// One SASL exchange in progress.
pub(crate) struct Exchange {
    steps: Steps,
    /// The first client message went out (as SASL-IR or after the first `+`).
    started: bool,
}

enum Steps {
    /// One prepared response per challenge. A further challenge is the server reporting an
    /// error: OAuth answers it with `after` (RFC 7628 §3.2.3) so the server can send its NO;
    /// the others cancel.
    Scripted {
        responses: VecDeque<Vec<u8>>,
        after: Option<Vec<u8>>,
    },
    Scram(Box<ScramClient>),
}

/// How to answer a challenge.
pub(crate) enum Answer {
    Send(Vec<u8>),
    /// `*`: end the exchange; the server then fails the command.
    Cancel,
    /// SCRAM: the server could not prove it knows the password. End the session.
    ServerNotVerified,
}

impl Exchange {
    /// `None` for the LOGIN command, which is no SASL exchange, or when SCRAM cannot prepare
    /// the credentials.
    pub(crate) fn start(
        mechanism: Mechanism,
        credentials: &Credentials,
        nonce: Option<&str>,
    ) -> Option<Self> {
        let user = credentials.user();
        let password = credentials.password().unwrap_or_default();
        let token = credentials.token().unwrap_or_default();
        let scripted = |responses: Vec<String>, after: Option<&[u8]>| {
            Some(Steps::Scripted {
                responses: responses.into_iter().map(String::into_bytes).collect(),
                after: after.map(<[u8]>::to_vec),
            })
        };
        let scram = |hash| {
            ScramClient::new(hash, user, password, nonce?.to_owned())
                .map(|client| Steps::Scram(Box::new(client)))
        };
        let steps = match mechanism {
            Mechanism::OAuthBearer => scripted(
                vec![format!(
                    "n,a={},\x01auth=Bearer {token}\x01\x01",
                    saslname(user)
                )],
                Some(b"\x01"),
            ),
            Mechanism::XOAuth2 => scripted(
                vec![format!("user={user}\x01auth=Bearer {token}\x01\x01")],
                Some(b""),
            ),
            Mechanism::ScramSha256 => scram(ScramHash::Sha256),
            Mechanism::ScramSha1 => scram(ScramHash::Sha1),
            Mechanism::Plain => scripted(vec![format!("\0{user}\0{password}")], None),
            Mechanism::Login => scripted(vec![user.to_owned(), password.to_owned()], None),
            Mechanism::LoginCommand => None,
        }?;
        Some(Self {
            steps,
            started: false,
        })
    }

    /// The first client message, unencoded, for SASL-IR (RFC 4959).
    pub(crate) fn initial_response(&mut self) -> Vec<u8> {
        self.started = true;
        match &mut self.steps {
            Steps::Scripted { responses, .. } => responses.pop_front().unwrap_or_default(),
            Steps::Scram(client) => client.first_message(),
        }
    }

    /// Answers a decoded server challenge. Responses are base64 lines, as RFC 3501 §6.2.2
    /// wants them.
    pub(crate) fn answer(&mut self, challenge: &[u8]) -> Answer {
        use base64::Engine;
        let raw = match &mut self.steps {
            _ if !self.started => Ok(self.initial_response()),
            Steps::Scripted { responses, after } => responses
                .pop_front()
                .or_else(|| after.clone())
                .ok_or(ScramError::Malformed),
            Steps::Scram(client) => client.respond(challenge),
        };
        match raw {
            Ok(raw) => Answer::Send(base64::engine::general_purpose::STANDARD.encode(raw).into()),
            Err(ScramError::Malformed) => Answer::Cancel,
            Err(ScramError::ServerNotVerified) => Answer::ServerNotVerified,
        }
    }

    /// SCRAM succeeds only once the server's signature checked out; a tagged OK alone does
    /// not prove the server knows the password.
    pub(crate) fn server_verified(&self) -> bool {
        match &self.steps {
            Steps::Scripted { .. } => true,
            Steps::Scram(client) => client.is_verified(),
        }
    }
}
