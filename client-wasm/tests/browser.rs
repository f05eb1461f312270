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

async fn logged_in_client() -> ImapClient {
    let client = connect("dovecot-tls").await.expect("connect");
    JsFuture::from(client.login(user().into(), password().into()))
        .await
        .expect("login");
    client
}

fn uids_of(value: JsValue) -> Vec<u32> {
    Array::from(&value)
        .iter()
        .map(|v| v.as_f64().unwrap() as u32)
        .collect()
}

#[wasm_bindgen_test]
async fn flags_search_status_and_append_work_against_dovecot() {
    let client = logged_in_client().await;
    let inbox = JsFuture::from(client.select("INBOX".into())).await.unwrap();
    let newest = get(&inbox, "uid_next").as_f64().unwrap() as u32 - 1;

    let full = JsFuture::from(client.fetch_message(newest))
        .await
        .expect("fetch message");
    let subject = get(&full, "subject").as_string().unwrap();
    assert!(subject.starts_with("Newest test message"), "{subject}");
    assert!(get(&full, "text").as_string().is_some() || get(&full, "html").as_string().is_some());

    let flag = || vec!["\\Flagged".to_string()];
    JsFuture::from(client.store(vec![newest], "add".into(), flag()))
        .await
        .expect("store");
    let query = js_sys::Object::new();
    Reflect::set(&query, &"flagged".into(), &true.into()).unwrap();
    let flagged = uids_of(JsFuture::from(client.search(query.into())).await.unwrap());
    assert!(flagged.contains(&newest), "{flagged:?}");
    JsFuture::from(client.store(vec![newest], "remove".into(), flag()))
        .await
        .expect("unstore");

    let status = JsFuture::from(client.status("Drafts".into()))
        .await
        .unwrap();
    let drafts_before = get(&status, "messages").as_f64().unwrap();
    let draft = b"From: alice@example.test\r\nSubject: browser draft\r\n\r\nHi\r\n".to_vec();
    let appended = JsFuture::from(client.append("Drafts".into(), vec!["\\Draft".into()], draft))
        .await
        .expect("append");
    assert!(
        get(&appended, "uid").as_f64().is_some(),
        "APPENDUID from Dovecot"
    );
    let status = JsFuture::from(client.status("Drafts".into()))
        .await
        .unwrap();
    assert_eq!(
        get(&status, "messages").as_f64().unwrap(),
        drafts_before + 1.0
    );
    JsFuture::from(client.logout()).await.expect("logout");
}

#[wasm_bindgen_test]
async fn idle_reports_a_message_appended_by_another_connection() {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;

    let watcher = logged_in_client().await;
    let junk = JsFuture::from(watcher.select("Junk".into())).await.unwrap();
    let before = get(&junk, "exists").as_f64().unwrap();
    let seen: Rc<RefCell<Vec<f64>>> = Rc::default();
    let sink = seen.clone();
    let listener = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        if get(&event, "type").as_string().as_deref() == Some("mailbox_changed") {
            sink.borrow_mut()
                .push(get(&event, "exists").as_f64().unwrap());
        }
    });
    watcher.on_event(Some(
        listener
            .as_ref()
            .unchecked_ref::<js_sys::Function>()
            .clone(),
    ));
    let idle = JsFuture::from(watcher.idle());

    let writer = logged_in_client().await;
    let message = b"From: bob@example.test\r\nSubject: live\r\n\r\nnew mail\r\n".to_vec();
    JsFuture::from(writer.append("Junk".into(), vec![], message))
        .await
        .expect("append from the other connection");
    JsFuture::from(writer.logout()).await.unwrap();

    // Dovecot notifies an idling client about 0.5 s after the change; allow 10 s.
    for _ in 0..100 {
        if seen.borrow().contains(&(before + 1.0)) {
            break;
        }
        sleep_ms(100).await;
    }
    assert!(
        seen.borrow().contains(&(before + 1.0)),
        "{:?}",
        seen.borrow()
    );
    JsFuture::from(watcher.noop())
        .await
        .expect("NOOP ends the IDLE first");
    idle.await.expect("the IDLE completed");
    JsFuture::from(watcher.logout()).await.unwrap();
}

async fn sleep_ms(millis: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = Reflect::get(&global, &"setTimeout".into()).unwrap();
        let set_timeout: js_sys::Function = set_timeout.dyn_into().unwrap();
        set_timeout
            .call2(&JsValue::NULL, &resolve, &millis.into())
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// A draft composed by the engine, appended, then read back structure first: the attachment
/// listed from BODYSTRUCTURE, fetched alone and decoded, header fields and a range on demand.
#[wasm_bindgen_test]
async fn v0009_v0013_v0054_composed_draft_reads_back_by_structure_and_parts() {
    use client_wasm::{compose_message, decode_fetched_part};
    use js_sys::{JSON, Uint8Array};

    let client = logged_in_client().await;
    let draft = JSON::parse(
        r#"{"from": {"name": "Alice", "address": "alice@example.test"},
            "to": [{"name": "J\u00f6rg", "address": "joerg@example.test"}],
            "subject": "Entwurf f\u00fcr Q3", "text": "Hello Joerg,\r\nthe report.\r\n",
            "html": "<p>Hallo</p>", "in_reply_to": "<q2@example.test>",
            "date": 1795000000, "message_id": "draft.7f3e9a@example.test",
            "boundary": "browserTestBoundary01"}"#,
    )
    .unwrap();
    let pdf: &[u8] = b"%PDF-1.4\n\0\x01\xfe binary";
    let attachment =
        JSON::parse(r#"{"filename": "Bericht.pdf", "content_type": "application/pdf"}"#).unwrap();
    Reflect::set(&attachment, &"data".into(), &Uint8Array::from(pdf)).unwrap();
    Reflect::set(&draft, &"attachments".into(), &Array::of1(&attachment)).unwrap();
    let message = compose_message(draft).expect("compose").to_vec();
    assert!(message.iter().all(|&b| b != 0 && b < 0x80), "7-bit, no NUL");

    let appended = JsFuture::from(client.append("Drafts".into(), vec!["\\Draft".into()], message))
        .await
        .expect("append");
    let uid = get(&appended, "uid").as_f64().expect("APPENDUID") as u32;
    JsFuture::from(client.select("Drafts".into()))
        .await
        .unwrap();

    let structure = JsFuture::from(client.fetch_structure(uid))
        .await
        .expect("structure");
    let envelope = get(&structure, "envelope");
    assert_eq!(
        get(&envelope, "subject").as_string().as_deref(),
        Some("Entwurf f\u{fc}r Q3")
    );
    assert_eq!(
        get(&structure, "text_section").as_string().as_deref(),
        Some("1.1")
    );
    let attachments = Array::from(&get(&structure, "attachments"));
    assert_eq!(attachments.length(), 1);
    let listed = attachments.get(0);
    assert_eq!(
        get(&listed, "filename").as_string().as_deref(),
        Some("Bericht.pdf")
    );
    let section = get(&listed, "section");
    assert_eq!(section.as_string().as_deref(), Some("2"));

    let content = JSON::parse(r#"{"kind": "content"}"#).unwrap();
    Reflect::set(&content, &"part".into(), &section).unwrap();
    let fetched = JsFuture::from(client.fetch_part(uid, content, JsValue::UNDEFINED))
        .await
        .expect("part");
    let raw = Uint8Array::new(&get(&fetched, "data")).to_vec();
    let decoded = decode_fetched_part(
        "application/pdf".into(),
        get(&listed, "encoding").as_string(),
        None,
        raw,
    )
    .expect("a decoded part is a JavaScript value");
    assert_eq!(Uint8Array::new(&get(&decoded, "bytes")).to_vec(), pdf);

    let fields =
        JSON::parse(r#"{"kind": "header_fields", "fields": ["Subject", "In-Reply-To"]}"#).unwrap();
    let header = JsFuture::from(client.fetch_part(uid, fields, JsValue::UNDEFINED))
        .await
        .expect("header fields");
    let header = String::from_utf8(Uint8Array::new(&get(&header, "data")).to_vec()).unwrap();
    assert!(
        header.contains("In-Reply-To: <q2@example.test>"),
        "{header}"
    );
    assert!(!header.contains("From:"), "{header}");

    let text = JSON::parse(r#"{"kind": "content", "part": "1.1"}"#).unwrap();
    let range = JSON::parse(r#"{"origin": 6, "length": 5}"#).unwrap();
    let preview = JsFuture::from(client.fetch_part(uid, text, range))
        .await
        .expect("range");
    assert_eq!(get(&preview, "origin").as_f64(), Some(6.0));
    assert_eq!(Uint8Array::new(&get(&preview, "data")).to_vec(), b"Joerg");
    JsFuture::from(client.logout()).await.expect("logout");
}

#[wasm_bindgen_test]
async fn gmail_commands_are_refused_by_a_server_without_x_gm_ext_1() {
    let client = logged_in_client().await;
    JsFuture::from(client.select("INBOX".into())).await.unwrap();
    let refused = |promise| async move { code_of(&JsFuture::from(promise).await.unwrap_err()) };
    assert_eq!(refused(client.fetch_gmail(vec![1])).await, "not_supported");
    let starred = vec!["\\Starred".to_string()];
    let store = client.store_labels(vec![1], "add".into(), starred.clone());
    assert_eq!(refused(store).await, "not_supported");
    let store = client.store_labels(vec![1], "toggle".into(), starred);
    assert_eq!(refused(store).await, "invalid_argument");
    let query = js_sys::Object::new();
    Reflect::set(&query, &"gmail_raw".into(), &"has:attachment".into()).unwrap();
    assert_eq!(refused(client.search(query.into())).await, "not_supported");
    JsFuture::from(client.logout()).await.expect("logout");
}

/// The object arguments are read property by property (src/js_args.rs): a draft that is no
/// object, or a property of the wrong type, is refused as `invalid_argument` before anything
/// is composed.
#[wasm_bindgen_test]
fn compose_message_refuses_a_draft_with_wrong_types() {
    use client_wasm::compose_message;
    use js_sys::JSON;

    for bad in [
        r#""a draft""#,
        r#"{"subject": 5}"#,
        r#"{"to": {"address": "b@example.test"}}"#,
        r#"{"to": ["b@example.test"]}"#,
        r#"{"date": 1.5}"#,
        r#"{"attachments": [{"data": [1, 2]}]}"#,
        r#"{"references": [7]}"#,
    ] {
        let error = compose_message(JSON::parse(bad).unwrap()).unwrap_err();
        assert_eq!(code_of(&error), "invalid_argument", "{bad}");
    }
}

/// Queries, sort orders, sections, ranges and the cache's state with a wrong or missing
/// property are refused as `invalid_argument`, and nothing is sent for them.
#[wasm_bindgen_test]
async fn object_arguments_of_the_wrong_shape_are_invalid_arguments() {
    use js_sys::JSON;

    let client = logged_in_client().await;
    let json = |text: &str| JSON::parse(text).unwrap();
    let refused = |promise| async move { code_of(&JsFuture::from(promise).await.unwrap_err()) };
    let cached = json(r#"{"uid_validity": -1}"#);
    assert_eq!(
        refused(client.open("INBOX".into(), false, cached)).await,
        "invalid_argument"
    );
    JsFuture::from(client.select("INBOX".into())).await.unwrap();
    for query in [
        r#"{"unseen": "yes"}"#,
        r#"{"text": 5}"#,
        r#"{"sent_since": "2021-02-30"}"#,
    ] {
        assert_eq!(
            refused(client.search(json(query))).await,
            "invalid_argument",
            "{query}"
        );
    }
    for order in [
        r#"[{"key": "cc"}]"#,
        r#"[{"reverse": true}]"#,
        r#"{"key": "date"}"#,
    ] {
        let sort = client.sort(json(order), JsValue::UNDEFINED);
        assert_eq!(refused(sort).await, "invalid_argument", "{order}");
    }
    for (section, partial) in [
        (r#"{"kind": "content"}"#, "null"),
        (r#"{"kind": "body", "part": "1"}"#, "null"),
        (r#"{"kind": "whole"}"#, r#"{"origin": 0, "length": 0}"#),
    ] {
        let fetch = client.fetch_part(1, json(section), json(partial));
        assert_eq!(
            refused(fetch).await,
            "invalid_argument",
            "{section} {partial}"
        );
    }
    let sorted =
        JsFuture::from(client.sort(json(r#"[{"key": "size", "reverse": true}]"#), json("{}")))
            .await
            .expect("a well-formed sort is taken");
    assert!(Array::is_array(&sorted));
    JsFuture::from(client.logout()).await.expect("logout");
}
