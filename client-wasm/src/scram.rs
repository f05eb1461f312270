//! The client side of SCRAM (RFC 5802, RFC 7677), without channel binding.
//!
//! The client nonce comes from the driver (no RNG or clock in the engine), so a whole exchange
//! is reproducible from a transcript. The server must prove it knows the password: a final
//! message whose signature does not match ends the session.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::digest::core_api::BlockSizeUser;
use hmac::digest::{Digest, FixedOutputReset};
use hmac::{Mac, SimpleHmac};

/// Iteration counts outside this range are refused: fewer make an eavesdropped exchange cheap
/// to brute-force (RFC 7677 §4 asks for at least 4096), more would freeze the tab.
const ITERATIONS: std::ops::RangeInclusive<u32> = 4096..=1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScramHash {
    Sha1,
    Sha256,
}

/// Why an exchange cannot go on. Every case cancels it; only `ServerNotVerified` also ends
/// the session, because then the server may not be who it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScramError {
    /// The server's message is not SCRAM as RFC 5802 §7 defines it, or it reported an error.
    Malformed,
    ServerNotVerified,
}

enum Stage {
    /// Sent the client-first message; waiting for the server-first one.
    First,
    /// Sent the proof; the server must answer with this signature.
    Final {
        expected: Vec<u8>,
    },
    Verified,
    /// The exchange was cancelled; nothing more is answered.
    Failed,
}

/// SASLprep (RFC 4013) of an ASCII string: the identity, except that control characters are
/// prohibited (table C.2.1); every other step (mapping, NFKC, bidi) leaves ASCII unchanged.
/// `None` for anything else, non-ASCII included: the full profile needs Unicode tables that
/// grew the gzipped engine by 57 KB (335 → 278 KB), so non-ASCII credentials go to PLAIN, whose
/// server applies SASLprep itself (RFC 4616), over TLS only (row V0013).
fn saslprep_ascii(text: &str) -> Option<&str> {
    (text.is_ascii() && !text.bytes().any(|b| b.is_ascii_control())).then_some(text)
}

pub(crate) struct ScramClient {
    hash: ScramHash,
    password: String,
    nonce: String,
    first_bare: String,
    stage: Stage,
}

impl ScramClient {
    /// `None` when the password or user name cannot be prepared with SASLprep (RFC 4013)
    /// here: see [`saslprep_ascii`].
    pub(crate) fn new(hash: ScramHash, user: &str, password: &str, nonce: String) -> Option<Self> {
        let user = saslprep_ascii(user)?;
        let password = saslprep_ascii(password)?.to_owned();
        let first_bare = format!("n={},r={nonce}", crate::sasl::saslname(user));
        Some(Self {
            hash,
            password,
            nonce,
            first_bare,
            stage: Stage::First,
        })
    }

    /// The client-first message: no channel binding, no authorization identity.
    pub(crate) fn first_message(&self) -> Vec<u8> {
        format!("n,,{}", self.first_bare).into_bytes()
    }

    /// Answers the server's next message: the proof after server-first, nothing after a
    /// verified server-final.
    pub(crate) fn respond(&mut self, challenge: &[u8]) -> Result<Vec<u8>, ScramError> {
        match std::mem::replace(&mut self.stage, Stage::Failed) {
            Stage::First => self.prove(challenge),
            Stage::Final { expected } => {
                verify(challenge, &expected)?;
                self.stage = Stage::Verified;
                Ok(Vec::new())
            }
            Stage::Verified | Stage::Failed => Err(ScramError::Malformed),
        }
    }

    /// Whether the server proved itself; a tagged OK before that does not count.
    pub(crate) fn is_verified(&self) -> bool {
        matches!(self.stage, Stage::Verified)
    }

    fn prove(&mut self, server_first: &[u8]) -> Result<Vec<u8>, ScramError> {
        let server_first = std::str::from_utf8(server_first).map_err(|_| ScramError::Malformed)?;
        let (nonce, salt, iterations) = parse_server_first(server_first)?;
        if nonce.len() <= self.nonce.len() || !nonce.starts_with(&self.nonce) {
            return Err(ScramError::Malformed);
        }
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.first_bare);
        let keys = Keys {
            password: self.password.as_bytes(),
            salt: &salt,
            iterations,
            auth_message: auth_message.as_bytes(),
        };
        let (proof, expected) = match self.hash {
            ScramHash::Sha1 => keys.derive::<sha1::Sha1>(),
            ScramHash::Sha256 => keys.derive::<sha2::Sha256>(),
        };
        self.stage = Stage::Final { expected };
        Ok(format!("{without_proof},p={}", STANDARD.encode(proof)).into_bytes())
    }
}

/// `r=<nonce>,s=<salt>,i=<count>[,ext]`; a leading `m=` (mandatory extension) is refused.
fn parse_server_first(message: &str) -> Result<(&str, Vec<u8>, u32), ScramError> {
    let mut fields = message.split(',');
    let mut next = |key: &str| {
        fields
            .next()
            .and_then(|field| field.strip_prefix(key))
            .ok_or(ScramError::Malformed)
    };
    let nonce = next("r=")?;
    let salt = STANDARD
        .decode(next("s=")?)
        .map_err(|_| ScramError::Malformed)?;
    let iterations = next("i=")?
        .parse::<u32>()
        .ok()
        .filter(|i| ITERATIONS.contains(i))
        .ok_or(ScramError::Malformed)?;
    Ok((nonce, salt, iterations))
}

/// `v=<signature>` must match; `e=<error>` is the server's refusal.
fn verify(server_final: &[u8], expected: &[u8]) -> Result<(), ScramError> {
    let signature = server_final
        .strip_prefix(b"v=")
        .ok_or(ScramError::Malformed)?;
    match STANDARD.decode(signature) {
        Ok(signature) if signature == expected => Ok(()),
        _ => Err(ScramError::ServerNotVerified),
    }
}

struct Keys<'a> {
    password: &'a [u8],
    salt: &'a [u8],
    iterations: u32,
    auth_message: &'a [u8],
}

impl Keys<'_> {
    /// RFC 5802 §3: the client proof and the server signature the server must send back.
    fn derive<D>(&self) -> (Vec<u8>, Vec<u8>)
    where
        D: Digest + BlockSizeUser + FixedOutputReset + Clone + Sync,
    {
        let mut salted = vec![0; <D as Digest>::output_size()];
        pbkdf2::pbkdf2::<SimpleHmac<D>>(self.password, self.salt, self.iterations, &mut salted)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        let client_key = hmac::<D>(&salted, b"Client Key");
        let stored_key = D::digest(&client_key);
        let client_signature = hmac::<D>(&stored_key, self.auth_message);
        let proof = client_key
            .iter()
            .zip(&client_signature)
            .map(|(key, signature)| key ^ signature)
            .collect();
        let server_key = hmac::<D>(&salted, b"Server Key");
        (proof, hmac::<D>(&server_key, self.auth_message))
    }
}

fn hmac<D>(key: &[u8], data: &[u8]) -> Vec<u8>
where
    D: Digest + BlockSizeUser + FixedOutputReset + Clone,
{
    let mut mac = <SimpleHmac<D> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(hash: ScramHash, nonce: &str, server_first: &str, server_final: &str) -> String {
        let mut client = ScramClient::new(hash, "user", "pencil", nonce.into()).unwrap();
        assert_eq!(
            client.first_message(),
            format!("n,,n=user,r={nonce}").into_bytes()
        );
        let proof = client.respond(server_first.as_bytes()).unwrap();
        assert!(!client.is_verified());
        assert_eq!(client.respond(server_final.as_bytes()), Ok(Vec::new()));
        assert!(client.is_verified());
        String::from_utf8(proof).unwrap()
    }

    #[test]
    fn e0001_scram_sha_256_reproduces_rfc_7677() {
        let proof = exchange(
            ScramHash::Sha256,
            "rOprNGfwEbeRWgbNEkqO",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        );
        assert_eq!(
            proof,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
    }

    #[test]
    fn e0001_scram_sha_1_reproduces_rfc_5802() {
        let proof = exchange(
            ScramHash::Sha1,
            "fyko+d2lbbFgONRv9qkxdawL",
            "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
        );
        assert_eq!(
            proof,
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
    }

    fn first_reply(server_first: &str) -> Result<Vec<u8>, ScramError> {
        let mut client = ScramClient::new(ScramHash::Sha256, "user", "pencil", "abc".into())
            .expect("ASCII prepares");
        client.respond(server_first.as_bytes())
    }

    #[test]
    fn e0002_server_first_must_extend_our_nonce_and_use_a_sane_count() {
        for bad in [
            "r=xyz123,s=c2FsdA==,i=4096",
            "r=abc,s=c2FsdA==,i=4096",
            "m=ext,r=abc123,s=c2FsdA==,i=4096",
            "r=abc123,s=c2FsdA==,i=1",
            "r=abc123,s=c2FsdA==,i=4000000000",
            "r=abc123,s=!!,i=4096",
            "r=abc123",
        ] {
            assert_eq!(first_reply(bad), Err(ScramError::Malformed), "{bad}");
        }
    }

    #[test]
    fn e0002_a_wrong_server_signature_is_not_accepted() {
        let mut client = ScramClient::new(
            ScramHash::Sha256,
            "user",
            "pencil",
            "rOprNGfwEbeRWgbNEkqO".into(),
        )
        .unwrap();
        client
            .respond(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            .unwrap();
        assert_eq!(
            client.respond(b"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Err(ScramError::ServerNotVerified)
        );
        assert!(!client.is_verified());
    }

    #[test]
    fn user_names_escape_comma_and_equals() {
        let client = ScramClient::new(ScramHash::Sha1, "a,b=c", "pw", "n".into()).unwrap();
        assert_eq!(client.first_message(), b"n,,n=a=2Cb=3Dc,r=n".to_vec());
    }

    #[test]
    fn e0002_saslprep_keeps_ascii_and_refuses_controls_and_non_ascii() {
        assert_eq!(saslprep_ascii("user pencil"), Some("user pencil"));
        assert_eq!(saslprep_ascii("tab\there"), None);
        assert_eq!(saslprep_ascii("del\u{7f}"), None);
        assert_eq!(saslprep_ascii("p\u{e4}ss"), None);
        assert!(ScramClient::new(ScramHash::Sha256, "jos\u{e9}", "pw", "n".into()).is_none());
    }
}
