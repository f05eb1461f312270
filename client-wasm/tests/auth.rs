//! Login transcripts: mechanism choice, SCRAM (RFC 5802 / RFC 7677 example exchanges with
//! their fixed nonces and salts), OAuth tokens, and what each refusal leads to. Each script is
//! also fed one byte at a time.

#![cfg(not(target_arch = "wasm32"))]

#[allow(
    dead_code,
    reason = "the harness is shared; this file needs only part of it"
)]
mod support;

use client_wasm::{
    AuthMethod, Command, CommandError, Config, Credentials, Event, LoginRefusal, SessionError,
    TransportSecurity,
};
use support::{Step::*, encrypted, run};

const OK_CAPS: &[u8] = b"0000 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n";

/// The client nonce `rOprNGfwEbeRWgbNEkqO` of RFC 7677 §3, as the driver's random bytes.
const RFC7677_RANDOM: [u8; 15] = [
    172, 234, 107, 52, 103, 240, 17, 183, 145, 90, 6, 205, 18, 74, 142,
];
/// The client nonce `fyko+d2lbbFgONRv9qkxdawL` of RFC 5802 §5.
const RFC5802_RANDOM: [u8; 18] = [
    127, 41, 40, 249, 221, 165, 109, 177, 96, 56, 212, 111, 246, 169, 49, 117, 172, 11,
];

fn with_random(random: &[u8]) -> Config {
    let mut config = encrypted();
    config.sasl_random = random.to_vec();
    config
}

fn login(user: &str, secret: &str) -> Command {
    Command::LogIn {
        credentials: Credentials::new(user, secret),
        method: AuthMethod::Auto,
    }
}

fn token_login() -> Command {
    Command::LogIn {
        credentials: Credentials::with_token("alice@example.com", "ya29.tok"),
        method: AuthMethod::Auto,
    }
}

fn failure(events: &[Event]) -> &CommandError {
    match events {
        [.., Event::CommandFailed { error, .. }] => error,
        _ => panic!("no failure last: {events:?}"),
    }
}

#[test]
fn e0002_scram_sha_256_comes_first_and_replays_rfc_7677() {
    let events = run(
        with_random(&RFC7677_RANDOM),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=SCRAM-SHA-1 AUTH=SCRAM-SHA-256] ready\r\n"),
            Submit(login("user", "pencil")),
            // n,,n=user,r=rOprNGfwEbeRWgbNEkqO
            Client(b"0000 AUTHENTICATE SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n"),
            Server(b"+ cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=\r\n"),
            // c=biws,r=...,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=
            Client(b"Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ==\r\n"),
            Server(b"+ dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==\r\n"),
            Client(b"\r\n"),
            Server(OK_CAPS),
        ],
    );
    assert!(matches!(&events[1], Event::LoggedIn { capabilities, .. } if capabilities.has("IDLE")));
}

#[test]
fn e0002_scram_sha_1_without_sasl_ir_replays_rfc_5802() {
    let events = run(
        with_random(&RFC5802_RANDOM),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=SCRAM-SHA-1] ready\r\n"),
            Submit(login("user", "pencil")),
            Client(b"0000 AUTHENTICATE SCRAM-SHA-1\r\n"),
            Server(b"+ \r\n"),
            Client(b"biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM\r\n"),
            Server(b"+ cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==\r\n"),
            Client(b"Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdMM3JmY05IWUpZMVpWdldWczdqLHA9djBYOHYzQnoyVDBDSkdiSlF5RjBYK0hJNFRzPQ==\r\n"),
            Server(b"+ dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9\r\n"),
            Client(b"\r\n"),
            Server(OK_CAPS),
        ],
    );
    assert!(matches!(events[1], Event::LoggedIn { .. }));
}

/// RFC 7677's exchange up to the client's proof; the server's last word follows.
fn scram_until_proof() -> Vec<support::Step> {
    vec![
        Server(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256 AUTH=PLAIN] ready\r\n"),
        Submit(login("user", "pencil")),
        Client(b"0000 AUTHENTICATE SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n"),
        Server(b"+ cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=\r\n"),
        Client(b"Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ==\r\n"),
    ]
}

fn assert_disconnected_unverified(events: &[Event]) {
    let unverified = SessionError::ServerNotVerified;
    let [
        _,
        Event::CommandFailed {
            error: CommandError::SessionEnded(ended),
            ..
        },
        Event::Closed {
            error: Some(closed),
        },
    ] = events
    else {
        panic!("{events:?}")
    };
    assert_eq!((ended, closed), (&unverified, &unverified));
}

#[test]
fn e0002_a_wrong_scram_server_signature_fails_and_disconnects() {
    let mut script = scram_until_proof();
    script.extend([
        // v= with the first bytes of the right signature changed.
        Server(b"+ dj1BQUFBVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==\r\n"),
        Client(b""),
        Server(OK_CAPS),
    ]);
    assert_disconnected_unverified(&run(with_random(&RFC7677_RANDOM), &script));
}

#[test]
fn e0002_a_scram_ok_without_the_server_proof_fails_and_disconnects() {
    let mut script = scram_until_proof();
    script.extend([Server(OK_CAPS), Client(b"")]);
    assert_disconnected_unverified(&run(with_random(&RFC7677_RANDOM), &script));
}

#[test]
fn e0002_without_driver_randomness_scram_is_skipped_for_plain() {
    let events = run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256 AUTH=PLAIN] ready\r\n"),
            Submit(login("alice", "alice-pass-1")),
            Client(b"0000 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n"),
            Server(OK_CAPS),
        ],
    );
    assert!(matches!(events[1], Event::LoggedIn { .. }));
}

#[test]
fn e0001_e0002_oauthbearer_first_and_its_error_challenge_answered_per_rfc_7628() {
    let events = run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER] ready\r\n"),
            Submit(token_login()),
            // n,a=alice@example.com,^Aauth=Bearer ya29.tok^A^A
            Client(b"0000 AUTHENTICATE OAUTHBEARER bixhPWFsaWNlQGV4YW1wbGUuY29tLAFhdXRoPUJlYXJlciB5YTI5LnRvawEB\r\n"),
            // {"status":"401",...}: answered with a lone ^A so the server can say NO.
            Server(b"+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n"),
            Client(b"AQ==\r\n"),
            Server(b"0000 NO [AUTHENTICATIONFAILED] Invalid token\r\n"),
            // One more mechanism after AUTHENTICATIONFAILED: XOAUTH2. Never PLAIN with a token.
            Client(b"0001 AUTHENTICATE XOAUTH2 dXNlcj1hbGljZUBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnRvawEB\r\n"),
            Server(b"+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n"),
            Client(b"\r\n"),
            Server(b"0001 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"),
            Client(b""),
        ],
    );
    assert_eq!(
        failure(&events),
        &CommandError::AuthenticationFailed {
            text: "Invalid credentials".into()
        }
    );
}

#[test]
fn e0001_xoauth2_without_sasl_ir_waits_for_the_continuation() {
    let events = run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=PLAIN] ready\r\n"),
            Submit(token_login()),
            Client(b"0000 AUTHENTICATE XOAUTH2\r\n"),
            Server(b"+ \r\n"),
            Client(b"dXNlcj1hbGljZUBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnRvawEB\r\n"),
            Server(OK_CAPS),
        ],
    );
    assert!(matches!(events[1], Event::LoggedIn { .. }));
}

#[test]
fn e0002_a_token_is_never_sent_without_an_oauth_mechanism_nor_in_cleartext() {
    let events = run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"),
            Submit(token_login()),
            Client(b""),
        ],
    );
    assert_eq!(failure(&events), &CommandError::NoUsableMechanism);

    let mut config = encrypted();
    config.transport = TransportSecurity::Cleartext {
        allow_credentials: false,
    };
    let events = run(
        config,
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] ready\r\n"),
            Submit(token_login()),
            Client(b""),
        ],
    );
    assert_eq!(failure(&events), &CommandError::InsecureTransport);
}

#[test]
fn v0034_no_further_tries_after_authorizationfailed_expired_or_privacyrequired() {
    for (code, reason) in [
        ("AUTHORIZATIONFAILED", LoginRefusal::AuthorizationFailed),
        ("EXPIRED", LoginRefusal::Expired),
        ("PRIVACYREQUIRED", LoginRefusal::PrivacyRequired),
    ] {
        let refusal = format!("0000 NO [{code}] Not for you\r\n");
        let events = run(
            encrypted(),
            &[
                Server(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN] ready\r\n"),
                Submit(login("alice", "alice-pass-1")),
                Client(b"0000 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n"),
                Server(refusal.leak().as_bytes()),
                Client(b""),
            ],
        );
        assert_eq!(
            failure(&events),
            &CommandError::LoginRefused {
                reason,
                text: "Not for you".into()
            },
            "{code}"
        );
    }
}

#[test]
fn v0034_unavailable_is_a_temporary_failure_to_retry_later() {
    let events = run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN] ready\r\n"),
            Submit(login("alice", "alice-pass-1")),
            Client(b"0000 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n"),
            Server(b"0000 NO [UNAVAILABLE] Backend down\r\n"),
            Client(b""),
            // Retrying later is a new login; the session allows it.
            Submit(login("alice", "alice-pass-1")),
            Client(b"0001 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXBhc3MtMQ==\r\n"),
        ],
    );
    let error = failure(&events);
    assert_eq!(error.code(), "auth_unavailable");
}

#[test]
fn v0034_after_authenticationfailed_one_more_mechanism_then_the_user_is_asked() {
    let events = run(
        with_random(&RFC7677_RANDOM),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-1 AUTH=PLAIN AUTH=LOGIN] ready\r\n"),
            Submit(login("user", "pencil")),
            Client(b"0000 AUTHENTICATE SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n"),
            // BAD: the mechanism is broken, not the password; the next one is free to try.
            Server(b"0000 BAD Mechanism not available\r\n"),
            // The second SCRAM exchange gets a nonce of its own: rOprNGfwEbeRWgbNEkqO-1.
            Client(b"0001 AUTHENTICATE SCRAM-SHA-1 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8tMQ==\r\n"),
            Server(b"0001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
            // One more, and from another family than SCRAM: PLAIN (user / pencil).
            Client(b"0002 AUTHENTICATE PLAIN AHVzZXIAcGVuY2ls\r\n"),
            Server(b"0002 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
            // Not AUTHENTICATE LOGIN: the credentials were refused twice.
            Client(b""),
        ],
    );
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(failure(&events).code(), "auth_failed");
}

#[test]
fn v0034_mechanisms_that_fail_fall_back_in_decreasing_strength_to_login_last() {
    let events = run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN] ready\r\n"),
            Submit(login("alice", "alice-pass-1")),
            Client(b"0000 AUTHENTICATE PLAIN\r\n"),
            Server(b"0000 BAD Mechanism broken\r\n"),
            Client(b"0001 AUTHENTICATE LOGIN\r\n"),
            Server(b"+ VXNlcm5hbWU6\r\n"),
            Client(b"YWxpY2U=\r\n"),
            Server(b"+ UGFzc3dvcmQ6\r\n"),
            Client(b"YWxpY2UtcGFzcy0x\r\n"),
            Server(b"0001 BAD Mechanism broken too\r\n"),
            Client(b"0002 LOGIN alice alice-pass-1\r\n"),
            Server(b"0002 OK [CAPABILITY IMAP4rev1] Logged in\r\n"),
        ],
    );
    assert!(matches!(events[1], Event::LoggedIn { .. }), "{events:?}");
}

#[test]
fn v0013_v0034_non_ascii_credentials_go_only_through_authenticate() {
    let events = run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"),
            Submit(login("jos\u{e9}", "p\u{e4}ss")),
            Client(b"0000 AUTHENTICATE PLAIN\r\n"),
            Server(b"0000 BAD Mechanism broken\r\n"),
            // No LOGIN command to fall back to.
            Client(b""),
        ],
    );
    assert_eq!(failure(&events).code(), "auth_failed");

    let events = run(
        encrypted(),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1] ready\r\n"),
            Submit(login("jos\u{e9}", "p\u{e4}ss")),
            Client(b""),
        ],
    );
    assert_eq!(failure(&events), &CommandError::NonAsciiCredentials);

    // SCRAM offered: non-ASCII credentials skip it for PLAIN (see scram::saslprep_ascii).
    let events = run(
        with_random(&RFC7677_RANDOM),
        &[
            Server(b"* OK [CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-256 AUTH=PLAIN SASL-IR] ready\r\n"),
            Submit(login("jos\u{e9}", "p\u{e4}ss")),
            Client(b"0000 AUTHENTICATE PLAIN AGpvc8OpAHDDpHNz\r\n"),
            Server(OK_CAPS),
        ],
    );
    assert!(
        matches!(events.last(), Some(Event::LoggedIn { .. })),
        "{events:?}"
    );
}
