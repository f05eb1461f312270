//! The engine in headless Chromium, through the real bridge, against real Dovecot.
//!
//! `tests/all.sh` starts the rig and the bridge and sets, at compile time:
//! `E2E_BRIDGE_WS` (the bridge's WebSocket URL), `E2E_USER`, `E2E_PASS`, `E2E_MESSAGES`
//! (messages in the user's INBOX). Run alone with
//! `wasm-pack test --headless --chrome client-wasm` once those are exported.
#![cfg(target_arch = "wasm32")]

use client_wasm::ImapClient;
use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn rig(name: &str, value: Option<&'static str>) -> &'static str {
    value.unwrap_or_else(|| {
        panic!("{name} is not set: start the rig with tests/all.sh (it builds these tests)")
    })
}

fn bridge() -> &'static str {
    rig("E2E_BRIDGE_WS", option_env!("E2E_BRIDGE_WS"))
}

fn user() -> &'static str {
    rig("E2E_USER", option_env!("E2E_USER"))
}

fn password() -> &'static str {
    rig("E2E_PASS", option_env!("E2E_PASS"))
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).expect("property")
}

fn code_of(error: &JsValue) -> String {
    get(error, "code").as_string().unwrap_or_default()
}

async fn connect(server: &str) -> Result<ImapClient, JsValue> {
    ImapClient::connect(bridge().into(), server.into(), None).await
}

#[wasm_bindgen_test]
async fn logs_in_over_tls_lists_selects_fetches_and_logs_out() {
    let client = connect("dovecot-tls").await.expect("connect");
    let login = JsFuture::from(client.login(user().into(), password().into()))
        .await
        .expect("login");
    let caps: Array = get(&login, "capabilities").dyn_into().unwrap();
    assert!(caps.includes(&"IMAP4REV1".into(), 0));

    let folders: Array = JsFuture::from(client.list_mailboxes())
        .await
        .expect("list")
        .dyn_into()
        .unwrap();
    let specials: Vec<String> = folders
        .iter()
        .filter_map(|f| get(&f, "special_use").as_string())
        .collect();
    for wanted in ["drafts", "sent", "trash"] {
        assert!(
            specials.iter().any(|s| s == wanted),
            "{wanted} in {specials:?}"
        );
    }

    let inbox = JsFuture::from(client.select("INBOX".into()))
        .await
        .expect("select");
    let exists = get(&inbox, "exists").as_f64().unwrap() as u32;
    let expected: u32 = rig("E2E_MESSAGES", option_env!("E2E_MESSAGES"))
        .parse()
        .unwrap();
    assert_eq!(exists, expected);

    let newest = exists.saturating_sub(4).max(1);
    let messages: Array = JsFuture::from(client.fetch_headers(newest, None))
        .await
        .expect("fetch")
        .dyn_into()
        .unwrap();
    assert_eq!(messages.length(), exists - newest + 1);
    let last = messages.get(messages.length() - 1);
    assert_eq!(
        get(&last, "subject").as_string().unwrap(),
        format!("Newest test message {exists}")
    );
    assert!(get(&last, "internal_date").as_f64().unwrap() > 0.0);

    JsFuture::from(client.logout()).await.expect("logout");
    let after = JsFuture::from(client.noop()).await.unwrap_err();
    assert_eq!(code_of(&after), "closed");
}

#[wasm_bindgen_test]
async fn wrong_password_is_auth_failed_and_does_not_echo_the_password() {
    let client = connect("dovecot-tls").await.expect("connect");
    let error = JsFuture::from(client.login(user().into(), "not-the-password-42".into()))
        .await
        .unwrap_err();
    assert_eq!(code_of(&error), "auth_failed");
    let message = get(&error, "message").as_string().unwrap();
    assert!(!message.contains("not-the-password-42"));
}

#[wasm_bindgen_test]
async fn server_not_in_the_bridge_list_is_refused() {
    let error = connect("not-configured").await.err().expect("must fail");
    assert_eq!(code_of(&error), "unknown_server");
}

#[wasm_bindgen_test]
async fn unreachable_server_is_a_connect_failure() {
    let error = connect("closed-port").await.err().expect("must fail");
    assert_eq!(code_of(&error), "connect_failed");
}

#[wasm_bindgen_test]
async fn certificate_for_another_name_is_refused_with_the_reason() {
    let error = connect("wrong-name").await.err().expect("must fail");
    assert_eq!(code_of(&error), "tls_failed");
    let message = get(&error, "message").as_string().unwrap();
    assert!(message.to_lowercase().contains("name"), "{message}");
}

#[wasm_bindgen_test]
async fn starttls_upgrades_before_login_and_the_session_works() {
    let client = connect("dovecot-starttls").await.expect("connect");
    let login = JsFuture::from(client.login(user().into(), password().into()))
        .await
        .expect("login over the upgraded connection");
    let caps: Array = get(&login, "capabilities").dyn_into().unwrap();
    assert!(
        !caps.includes(&"STARTTLS".into(), 0),
        "post-login capabilities come over TLS"
    );
    let inbox = JsFuture::from(client.select("INBOX".into()))
        .await
        .expect("select");
    assert!(get(&inbox, "exists").as_f64().unwrap() > 0.0);
    JsFuture::from(client.logout()).await.expect("logout");
}
