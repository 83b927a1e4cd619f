//! Browser tests (wasm-bindgen-test in headless Chromium): the DOM adapters
//! render what the core decides, with the real English catalog, as text only;
//! values cross the JS boundary without losing integers.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]
#![cfg(target_arch = "wasm32")]
// The surfaces' modules: only in a build with the `ui` feature (the default).
#![cfg(feature = "ui")]

use ringside_core::browser::Browser;
use ringside_core::host_link::{HostStatus, LinkStats};
use ringside_core::protocol::{HelloResult, Incoming};
use ringside_core::surface::{PageSession, UiState};
use ringside_core::ui;
use ringside_extension::dom;
use ringside_extension::error::{JsError, js_to_json, json_to_js};
use ringside_extension::i18n::{Catalog, Translate};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use web_sys::{Document, Element};

wasm_bindgen_test_configure!(run_in_browser);

const ID: &str = "fempdkhheodefkjhkbekalfieneojckb";

fn en() -> Catalog {
    Catalog::from_json(include_str!("../static/_locales/en/messages.json")).unwrap()
}

fn fr() -> Catalog {
    Catalog::from_json(include_str!("../static/_locales/fr/messages.json")).unwrap()
}

fn doc() -> Document {
    web_sys::window().unwrap().document().unwrap()
}

/// A worker state with this host status and nothing else.
fn state(host: HostStatus) -> UiState {
    UiState {
        host,
        stats: LinkStats::default(),
        pages: vec![],
        calls: Default::default(),
        settings: Default::default(),
        switched_off: vec![],
        raw_options: serde_json::Value::Null,
        auth: Default::default(),
        mail: Default::default(),
        my_presence: None,
        panel_request: None,
        install_type: None,
        update_pending: None,
        contacts: Default::default(),
        caller: None,
        history: 0,
    }
}

fn fresh_app() -> Element {
    let d = doc();
    if let Some(old) = d.get_element_by_id("app") {
        old.remove();
    }
    let app = d.create_element("main").unwrap();
    app.set_id("app");
    d.body().unwrap().append_child(&app).unwrap();
    app
}

fn info() -> HelloResult {
    HelloResult {
        version: 1,
        host_version: "0.1.0".into(),
        capabilities: vec!["ping".into()],
        pid: 77,
        os: "linux".into(),
    }
}

fn statuses() -> Vec<HostStatus> {
    vec![
        HostStatus::Connecting,
        HostStatus::Connected { info: info() },
        HostStatus::NotInstalled,
        HostStatus::Blocked,
        HostStatus::Refused {
            message: "chrome-extension://x/ is not in this host's allow-list".into(),
        },
        HostStatus::Incompatible {
            message: "host speaks [2]".into(),
        },
        HostStatus::Reconnecting {
            attempt: 3,
            retry_in_ms: 1000,
        },
    ]
}

#[wasm_bindgen_test]
fn every_host_state_renders_localized_text() {
    for catalog in [en(), fr()] {
        for s in statuses() {
            let view = ui::host_view(&s, Browser::Chromium, ID);
            let card = dom::host_card(&doc(), &view, &catalog).unwrap();
            let text = card.text_content().unwrap();
            assert!(!text.contains('⟦'), "missing message in {text}");
            assert!(!text.contains("$1"), "unsubstituted placeholder in {text}");
            assert_eq!(card.get_attribute("role").as_deref(), Some("status"));
            // Every button has a type and visible text (its accessible name).
            let buttons = card.query_selector_all("button").unwrap();
            for i in 0..buttons.length() {
                let b: Element = buttons.item(i).unwrap().dyn_into().unwrap();
                assert_eq!(b.get_attribute("type").as_deref(), Some("button"));
                assert!(!b.text_content().unwrap().trim().is_empty());
            }
        }
    }
}

use wasm_bindgen::JsCast;

#[wasm_bindgen_test]
fn not_installed_card_has_command_and_retry() {
    let view = ui::host_view(&HostStatus::NotInstalled, Browser::Edge, ID);
    let card = dom::host_card(&doc(), &view, &en()).unwrap();
    let code = card
        .query_selector("[data-testid=install-command]")
        .unwrap()
        .unwrap();
    assert_eq!(
        code.text_content().unwrap(),
        format!("ringside-host install --browser edge --extension-id {ID}")
    );
    let text = card.text_content().unwrap();
    assert!(text.contains("register it with Microsoft Edge"), "{text}");
    assert!(
        card.query_selector("[data-action=retry]")
            .unwrap()
            .is_some()
    );
}

#[wasm_bindgen_test]
fn popup_renders_into_app() {
    let app = fresh_app();
    let state = state(HostStatus::Connected { info: info() });
    ringside_extension::popup::render(&doc(), Some(&state), &en(), &cx()).unwrap();
    let text = app.text_content().unwrap();
    assert!(
        text.contains("Connected to the Ringside host 0.1.0"),
        "{text}"
    );
    assert!(text.contains("Settings"));
}

#[wasm_bindgen_test]
fn page_values_are_text_never_html() {
    let hostile = "https://evil.example\"><img src=x onerror=alert(1)>";
    let list = dom::pages(
        &doc(),
        &[PageSession {
            tab: 1,
            frame: 0,
            origin: hostile.into(),
            wasm: false,
            marked: None,
            scan_ms: None,
        }],
        &en(),
    )
    .unwrap();
    assert!(list.query_selector("img").unwrap().is_none());
    assert!(list.text_content().unwrap().contains(hostile));
}

#[wasm_bindgen_test]
fn diagnostics_show_the_host_process() {
    let state = UiState {
        stats: LinkStats {
            connects: 2,
            drops: 1,
            last_error: Some("Native host has exited.".into()),
        },
        ..state(HostStatus::Connected { info: info() })
    };
    let dl = dom::diagnostics(&doc(), &state, &en()).unwrap();
    let get = |id: &str| {
        dl.query_selector(&format!("[data-testid={id}]"))
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap()
    };
    assert_eq!(get("diag-state"), "connected");
    assert_eq!(get("diag-pid"), "77");
    assert_eq!(get("diag-drops"), "1");
    assert_eq!(get("diag-last-error"), "Native host has exited.");
}

#[wasm_bindgen_test]
fn port_messages_keep_integers_and_shapes() {
    let v = serde_json::json!({"id": 9007199254740991u64, "result": {"version": 1, "host_version": "0.1.0", "capabilities": [], "pid": 5, "os": "linux"}});
    let js = json_to_js(&v).unwrap();
    let back: Incoming = js_to_json(&js).unwrap();
    let Incoming::Response(r) = back else {
        panic!("not a response")
    };
    assert_eq!(r.id, Some(9007199254740991));
    assert_eq!(r.into_result::<HelloResult>().unwrap().pid, 5);
}

#[wasm_bindgen_test]
fn ui_state_round_trips_through_js() {
    let state = state(HostStatus::Reconnecting {
        attempt: 2,
        retry_in_ms: 500,
    });
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    let js = serde::Serialize::serialize(&state, &ser).unwrap();
    // Plain JSON-compatible object (no Map, no BigInt): it survives JSON.stringify.
    let text = String::from(js_sys::JSON::stringify(&js).unwrap());
    assert!(text.contains("\"state\":\"reconnecting\""), "{text}");
    let back: UiState = serde_wasm_bindgen::from_value(js).unwrap();
    assert_eq!(back, state);
}

#[wasm_bindgen_test]
fn thrown_errors_become_rust_errors_once() {
    let e: JsError = JsValue::from(js_sys::Error::new("boom")).into();
    assert_eq!(e.0, "boom");
    let e: JsError = JsValue::from_str("plain").into();
    assert_eq!(e.0, "plain");
    assert_eq!(
        en().message("hostReconnectingDetail", &["2".into(), "1".into()]),
        "Attempt 2; next try in 1 s."
    );
}

fn cx() -> ringside_extension::popup::Context {
    ringside_extension::popup::Context {
        browser: Browser::Chromium,
        extension_id: ID.into(),
        now_ms: 100_000.0,
        active_tabs: vec![3],
        locale: "en-US".into(),
    }
}

#[wasm_bindgen_test]
fn popup_shows_contact_sync_progress_then_the_count_and_the_caller_by_name() {
    use ringside_core::auth::provider::ProviderKind;
    use ringside_core::auth::session::{AuthView, Phase as AuthPhase, Profile, TokenHome};
    use ringside_core::contacts::{ContactHit, ContactsView};
    let app = fresh_app();
    let signed_in = AuthView {
        phase: AuthPhase::SignedIn,
        profile: Some(Profile {
            name: "Agent".into(),
            email: "agent@example.com".into(),
            picture: None,
            provider: ProviderKind::Google,
            issuer: "https://accounts.google.com".into(),
            client_id: "c".into(),
            subject: "1".into(),
            home: TokenHome::Host,
            agent: None,
            entra: None,
        }),
        ..AuthView::default()
    };
    let mut state = UiState {
        auth: signed_in,
        contacts: ContactsView {
            count: 1000,
            syncing: Some((1000, Some(2500))),
            ..ContactsView::default()
        },
        ..state(HostStatus::Connected { info: info() })
    };
    ringside_extension::popup::render(&doc(), Some(&state), &en(), &cx()).unwrap();
    let status = app
        .query_selector("[data-testid=contacts-status]")
        .unwrap()
        .unwrap();
    assert_eq!(status.get_attribute("role").as_deref(), Some("status"));
    assert_eq!(
        status.text_content().unwrap(),
        "Syncing contacts: 1,000 of 2,500"
    );
    let bar = status.query_selector("progress").unwrap().unwrap();
    assert_eq!(bar.get_attribute("value").as_deref(), Some("1000"));
    assert_eq!(
        bar.get_attribute("aria-label").as_deref(),
        Some("Contact sync progress")
    );
    // The dial pad: a labelled field and a call button.
    assert!(
        app.query_selector("label[for=dial-query]")
            .unwrap()
            .is_some()
    );
    assert!(
        app.query_selector("#dial-query[data-keep]")
            .unwrap()
            .is_some()
    );

    state.contacts = ContactsView {
        count: 2500,
        synced_ms: Some(100_000 - 3 * 60_000),
        ..ContactsView::default()
    };
    ringside_extension::popup::render(&doc(), Some(&state), &en(), &cx()).unwrap();
    let status = app
        .query_selector("[data-testid=contacts-status]")
        .unwrap()
        .unwrap();
    assert_eq!(
        status.text_content().unwrap(),
        "2,500 contacts, synced 3 min ago"
    );

    // An incoming call from a known number shows the name and organization.
    let mut desk = ringside_core::calls::CallDesk::default();
    desk.on_event(
        &ringside_core::dial::CallEvent::Incoming {
            call_id: "c".into(),
            peer: "sip:+34612345678@127.0.0.1".into(),
        },
        1.0,
    );
    state.calls = desk;
    state.caller = Some(ContactHit {
        id: "google:people/c1".into(),
        name: "Ana Ruiz <b>".into(),
        organization: Some("Client Co".into()),
        ..ContactHit::default()
    });
    ringside_extension::popup::render(&doc(), Some(&state), &en(), &cx()).unwrap();
    let live = app
        .query_selector("[data-testid=live-call]")
        .unwrap()
        .unwrap();
    let who = live
        .query_selector("[data-testid=call-contact]")
        .unwrap()
        .unwrap();
    assert_eq!(
        who.text_content().unwrap(),
        "Ana Ruiz <b>",
        "as text, never HTML"
    );
    assert!(live.text_content().unwrap().contains("Client Co"));
    assert!(
        app.query_selector("#dial-query").unwrap().is_none(),
        "no dial pad during a call"
    );
}

#[wasm_bindgen_test]
fn popup_shows_the_live_call_the_wrapup_and_the_site_switch() {
    use ringside_core::calls::CallDesk;
    use ringside_core::dial::CallEvent;
    let app = fresh_app();
    let mut desk = CallDesk::default();
    // An earlier call that ended and awaits its wrap-up ...
    desk.dial("+33612345678", "06 12 34 56 78", 0.0).unwrap();
    desk.on_event(
        &CallEvent::Established {
            call_id: "a".into(),
            peer: String::new(),
            outgoing: true,
        },
        1_000.0,
    );
    desk.on_event(
        &CallEvent::Closed {
            call_id: "a".into(),
            peer: String::new(),
            reason: "bye".into(),
        },
        63_000.0,
    );
    // ... and the live one, connected 38 s ago.
    desk.dial("+33123456789", "01 23 45 67 89", 50_000.0)
        .unwrap();
    desk.on_event(
        &CallEvent::Established {
            call_id: "b".into(),
            peer: String::new(),
            outgoing: true,
        },
        62_000.0,
    );
    let state = UiState {
        pages: vec![PageSession {
            tab: 3,
            frame: 0,
            origin: "https://crm.example".into(),
            wasm: true,
            marked: Some(4),
            scan_ms: Some(12),
        }],
        calls: desk,
        ..state(HostStatus::Connected { info: info() })
    };
    ringside_extension::popup::render(&doc(), Some(&state), &en(), &cx()).unwrap();
    let live = app
        .query_selector("[data-testid=live-call]")
        .unwrap()
        .unwrap();
    assert_eq!(
        live.get_attribute("data-phase").as_deref(),
        Some("established")
    );
    let text = live.text_content().unwrap();
    assert!(
        text.contains("On a call") && text.contains("01 23 45 67 89") && text.contains("0:38"),
        "{text}"
    );
    assert!(
        live.query_selector("[data-action=hangup]")
            .unwrap()
            .is_some()
    );
    let wrap = app.query_selector("[data-testid=wrapup]").unwrap().unwrap();
    let text = wrap.text_content().unwrap();
    assert!(
        text.contains("06 12 34 56 78") && text.contains("Outgoing call, 1:02"),
        "{text}"
    );
    // Labelled fields: every control has an accessible name.
    for id in ["wrap-tags", "wrap-note"] {
        assert!(
            app.query_selector(&format!("label[for={id}]"))
                .unwrap()
                .is_some(),
            "{id}"
        );
    }
    let switch = app.query_selector("#site-switch").unwrap().unwrap();
    assert_eq!(switch.get_attribute("role").as_deref(), Some("switch"));
    assert!(switch.has_attribute("checked"));
    assert!(
        app.text_content()
            .unwrap()
            .contains("Call buttons on https://crm.example")
    );
}

#[wasm_bindgen_test]
fn popup_notice_says_what_happened_and_what_to_do() {
    use ringside_core::calls::CallDesk;
    let app = fresh_app();
    let mut desk = CallDesk::default();
    desk.dial("+33123456789", "01 23 45 67 89", 0.0).unwrap();
    desk.dial_failed("errSoftphoneDown", "not reachable at 127.0.0.1:4444");
    let state = UiState {
        calls: desk,
        ..state(HostStatus::Connected { info: info() })
    };
    ringside_extension::popup::render(&doc(), Some(&state), &en(), &cx()).unwrap();
    let notice = app
        .query_selector("[data-testid=call-notice]")
        .unwrap()
        .unwrap();
    assert_eq!(notice.get_attribute("role").as_deref(), Some("alert"));
    let text = notice.text_content().unwrap();
    assert!(
        text.contains("Your softphone is not running or not reachable, so 01 23 45 67 89 was not called. Start it, then try again."),
        "{text}"
    );
    assert!(text.contains("127.0.0.1:4444"));
    assert!(
        app.query_selector("[data-testid=live-call]")
            .unwrap()
            .is_none()
    );
}

#[wasm_bindgen_test]
fn account_card_warns_the_admin_and_shows_who_is_signed_in() {
    use ringside_core::auth::provider::ProviderKind;
    use ringside_core::auth::session::{AuthView, Phase, Profile, TokenHome};
    use ringside_extension::account::{self, Place};
    let redirect = format!("https://{ID}.chromiumapp.org/");
    let mut state = UiState {
        auth: AuthView {
            redirect_uri: redirect.clone(),
            ..Default::default()
        },
        ..state(HostStatus::Connecting)
    };
    // No provider configured: the warning names the redirect URI, no button.
    let card = account::card(&doc(), &state, &en(), Place::Popup).unwrap();
    let warn = card
        .query_selector("[data-testid=setup-warning]")
        .unwrap()
        .unwrap();
    assert_eq!(
        warn.get_attribute("data-problem").unwrap(),
        "setupNoProvider"
    );
    assert!(warn.text_content().unwrap().contains(&redirect));
    assert!(card.query_selector("button").unwrap().is_none());

    // A hostile name is text, the photo is decorative, sign-out only in options.
    state.auth.phase = Phase::SignedIn;
    state.auth.profile = Some(Profile {
        name: "<b>Ana</b>".into(),
        email: "ana@example.com".into(),
        picture: Some("https://example.com/a.png".into()),
        provider: ProviderKind::Google,
        issuer: "https://accounts.google.com".into(),
        client_id: "c".into(),
        subject: "1".into(),
        home: TokenHome::Host,
        agent: None,
        entra: None,
    });
    let popup = account::card(&doc(), &state, &en(), Place::Popup).unwrap();
    assert!(popup.query_selector("b").unwrap().is_none());
    assert!(popup.text_content().unwrap().contains("<b>Ana</b>"));
    assert!(
        popup
            .text_content()
            .unwrap()
            .contains("Signed in with Google")
    );
    assert_eq!(
        popup
            .query_selector("img")
            .unwrap()
            .unwrap()
            .get_attribute("alt")
            .unwrap(),
        ""
    );
    assert!(
        popup
            .query_selector("[data-action=sign-out]")
            .unwrap()
            .is_none()
    );
    let options = account::card(&doc(), &state, &en(), Place::Options).unwrap();
    let out = options
        .query_selector("[data-action=sign-out]")
        .unwrap()
        .unwrap();
    assert_eq!(out.text_content().unwrap(), "Sign out");
}

#[wasm_bindgen_test]
fn the_mail_section_offers_the_form_then_the_connected_address_and_says_why_it_disconnected() {
    use ringside_core::mail::{MailFailure, MailView};
    let d = doc();
    let mut s = state(HostStatus::Connected { info: info() });
    let form = ringside_extension::mail::options_section(&d, &s, &en()).unwrap();
    let password = form.query_selector("#mail-password").unwrap().unwrap();
    assert_eq!(password.get_attribute("type").as_deref(), Some("password"));
    assert_eq!(
        password.get_attribute("autocomplete").as_deref(),
        Some("off")
    );
    let label = form
        .query_selector("label[for=mail-password]")
        .unwrap()
        .unwrap();
    assert_eq!(label.text_content().unwrap(), "App password (16 letters)");
    let connect = form
        .query_selector("[data-action=mail-connect]")
        .unwrap()
        .unwrap();
    assert_eq!(
        connect.text_content().unwrap(),
        "Connect Gmail with an app password"
    );

    s.mail = MailView {
        connected: Some("ana@example.com".into()),
        ..MailView::default()
    };
    let connected = ringside_extension::mail::options_section(&d, &s, &en()).unwrap();
    assert!(
        connected
            .query_selector("#mail-password")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        connected
            .query_selector("[data-testid=mail-connected]")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        "Gmail is connected as ana@example.com with an app password."
    );
    assert!(
        connected
            .query_selector("[data-action=mail-disconnect]")
            .unwrap()
            .is_some()
    );

    let mut gone = MailView::default();
    gone.failed(MailFailure::Revoked, "NO [AUTHENTICATIONFAILED]".into());
    s.mail = gone;
    let revoked = ringside_extension::mail::options_section(&d, &s, &fr()).unwrap();
    let alert = revoked.query_selector("[role=alert]").unwrap().unwrap();
    assert_eq!(
        alert.get_attribute("data-failure").as_deref(),
        Some("mailRevoked")
    );
    assert!(
        alert
            .text_content()
            .unwrap()
            .starts_with("Gmail n'accepte plus")
    );
    // The form is back, to connect with a new app password.
    assert!(revoked.query_selector("#mail-password").unwrap().is_some());
}
