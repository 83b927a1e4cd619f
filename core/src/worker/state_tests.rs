//! The worker's state: one test per decision that reads or changes several
//! of its parts.

use serde_json::json;

use super::*;
use crate::auth::session::{Profile, TokenHome};
use crate::context::ContactQuery;

fn state() -> WorkerState {
    WorkerState::new(
        "ringside-extension/test",
        crate::surface::OwnExtension::new("ext", "chrome-extension://ext/"),
        "https://ext.chromiumapp.org/".into(),
    )
}

fn profile(provider: ProviderKind) -> Profile {
    Profile {
        name: "Agent".into(),
        email: "Agent@Example.com".into(),
        picture: None,
        provider,
        issuer: "https://accounts.example".into(),
        client_id: "client".into(),
        subject: "sub-1".into(),
        home: TokenHome::Host,
        agent: None,
        entra: None,
    }
}

fn signed_in(s: &mut WorkerState, provider: ProviderKind) {
    s.auth.apply(AuthEvent::SignInStarted { provider });
    s.auth.apply(AuthEvent::SignedIn {
        profile: profile(provider),
        expires_at_ms: 10_000_000.0,
        notice: None,
    });
}

fn policy(method: &str) -> Value {
    json!({"identityProviders": [{"kind": "google", "clientId": "c"}], "signInMethod": method})
}

#[test]
fn settings_apply_only_from_the_newest_read() {
    let mut s = state();
    s.settings_generation = 2;
    assert_eq!(
        s.apply_settings(1, json!({}), json!({}), vec![], true),
        None
    );
    assert!(!s.settings_loaded);
    let applied = s.apply_settings(2, json!({}), json!({}), vec!["https://a.test".into()], true);
    assert!(applied.is_some());
    assert!(s.settings_loaded);
    assert_eq!(s.switched_off, vec!["https://a.test".to_owned()]);
}

#[test]
fn a_sign_in_method_change_is_one_after_a_whole_policy_was_seen() {
    let mut s = state();
    // The first read is no change, whatever it says.
    let first = s.apply_settings(0, policy("google"), json!({}), vec![], true);
    assert_eq!(first.and_then(|a| a.method_change), None);
    let second = s.apply_settings(0, policy("microsoft"), json!({}), vec![], true);
    assert_eq!(
        second.and_then(|a| a.method_change),
        Some(SignInMethod::Microsoft)
    );
    // The same method again is no change.
    let third = s.apply_settings(0, policy("microsoft"), json!({}), vec![], true);
    assert_eq!(third.and_then(|a| a.method_change), None);
}

#[test]
fn the_startup_copy_of_the_site_lists_is_no_baseline_for_the_method() {
    let mut s = state();
    let startup = s.apply_settings(0, json!({}), json!({}), vec![], false);
    assert_eq!(startup.and_then(|a| a.method_change), None);
    let read = s.apply_settings(0, policy("password"), json!({}), vec![], true);
    assert_eq!(read.and_then(|a| a.method_change), None);
}

#[test]
fn a_changed_dialer_is_sent_to_the_host_again() {
    let mut s = state();
    s.dialer_sent = true;
    let options = json!({"dialer": {"adapter": "tel"}});
    let applied = s.apply_settings(0, json!({}), options.clone(), vec![], true);
    assert_eq!(applied.map(|a| a.dialer_changed), Some(true));
    assert!(!s.dialer_sent);
    s.dialer_sent = true;
    let again = s.apply_settings(0, json!({}), options, vec![], true);
    assert_eq!(again.map(|a| a.dialer_changed), Some(false));
    assert!(s.dialer_sent);
}

#[test]
fn the_call_state_follows_the_desk() {
    let mut s = state();
    assert_eq!(s.call_state(), CallState::Idle);
    s.desk
        .dial("+33123456789", "01 23 45 67 89", 1_000.0)
        .expect("dials");
    assert_eq!(s.call_state(), CallState::InCall);
}

#[test]
fn a_click_needs_sign_in_only_when_sign_in_is_set_up_and_nobody_is_in() {
    let mut s = state();
    assert!(!s.sign_in_required());
    s.apply_settings(0, policy("google"), json!({}), vec![], true);
    assert!(s.sign_in_required());
    signed_in(&mut s, ProviderKind::Google);
    assert!(!s.sign_in_required());
}

#[test]
fn who_is_signed_in_for_the_desk_the_store_and_the_panel() {
    let mut s = state();
    assert_eq!(s.signed_in_agent(), None);
    assert_eq!(s.store_agent(), None);
    assert_eq!(s.panel_agent(), None);
    signed_in(&mut s, ProviderKind::Google);
    assert_eq!(
        s.signed_in_agent(),
        Some(AgentKey::new("https://accounts.example", "sub-1"))
    );
    assert_eq!(
        s.store_agent(),
        Some(("agent@example.com".to_owned(), ProviderKind::Google))
    );
    let panel = s.panel_agent().expect("an agent");
    assert_eq!(
        (panel.kind, panel.email.as_str()),
        (ProviderKind::Google, "Agent@Example.com")
    );
}

#[test]
fn a_cause_carries_the_call_state_and_the_grace() {
    let mut s = state();
    s.desk.dial("+33123456789", "x", 1_000.0).expect("dials");
    let AuthEvent::Cause {
        call,
        now_ms,
        privileged,
        ..
    } = s.cause(Cause::PlatformRevoked, 42)
    else {
        panic!("a cause");
    };
    assert_eq!((call, now_ms, privileged), (CallState::InCall, 42, false));
}

#[test]
fn the_region_is_the_settings_else_the_browser_language_else_us() {
    let mut s = state();
    assert_eq!(s.region("fr-FR"), "FR");
    assert_eq!(s.region("xx"), "US");
    s.settings.default_region = Some("DE".into());
    assert_eq!(s.region("fr-FR"), "DE");
}

#[test]
fn pages_check_in_report_their_scan_and_follow_site_switches() {
    let mut s = state();
    let page = |tab, origin: &str| PageSession {
        tab,
        frame: 0,
        origin: origin.into(),
        wasm: true,
        marked: None,
        scan_ms: None,
    };
    assert_eq!(
        s.page_hello(page(1, "https://a.test")),
        SiteDecision::Allowed
    );
    s.page_hello(page(2, "https://b.test"));
    s.page_scanned(1, 0, 12.6, 3);
    // A frame that never checked in changes nothing.
    s.page_scanned(9, 0, 1.0, 1);
    let first = s.pages.iter().find(|p| p.tab == 1).expect("page 1");
    assert_eq!((first.marked, first.scan_ms), (Some(3), Some(13)));
    assert_eq!(s.pages.len(), 2);
    assert_eq!(
        s.switch_site("https://B.test", false),
        vec!["https://B.test"]
    );
    let switches = s.page_switches();
    assert!(switches.contains(&(1, 0, true)));
    assert!(switches.contains(&(2, 0, false)));
    assert_eq!(
        s.page_hello(page(3, "https://b.test")),
        SiteDecision::SwitchedOff
    );
    assert!(s.switch_site("https://b.test", true).is_empty());
}

#[test]
fn each_show_contact_click_is_numbered() {
    let mut s = state();
    s.show_contact(ContactQuery::Phone("+33123456789".into()));
    s.show_contact(ContactQuery::Phone("+33987654321".into()));
    assert_eq!(
        s.panel_request,
        Some((2, ContactQuery::Phone("+33987654321".into())))
    );
}

#[test]
fn the_page_state_names_the_live_calls_other_party() {
    let mut s = state();
    assert_eq!(s.ui_state(ContactsView::default(), |_| None).caller, None);
    s.desk.dial("+33123456789", "x", 1_000.0).expect("dials");
    let asked = std::cell::RefCell::new(None);
    let ui = s.ui_state(ContactsView::default(), |n| {
        *asked.borrow_mut() = Some(n.to_owned());
        None
    });
    assert_eq!(ui.calls, s.desk);
    assert_eq!(asked.into_inner().as_deref(), Some("+33123456789"));
}

#[test]
fn a_pages_detect_request_needs_its_site_on_and_fits_its_budget() {
    let mut s = state();
    s.switch_site("https://off.test", false);
    let off = s.admit_detect(
        1,
        "https://off.test",
        vec!["01 23".into()],
        vec![],
        0.0,
        "fr-FR",
    );
    assert_eq!(
        off.map_err(|r| (r.key, r.over_budget)),
        Err(("errSiteSwitchedOff", false))
    );
    let ok = s
        .admit_detect(
            1,
            "https://a.test",
            vec!["01 23".into()],
            vec![],
            0.0,
            "fr-FR",
        )
        .expect("admitted");
    assert_eq!((ok.region.as_str(), ok.texts.len()), ("FR", 1));
    let huge = vec!["x".repeat(1024 * 1024); 9];
    let refused = s.admit_detect(1, "https://a.test", huge, vec![], 0.0, "fr-FR");
    assert!(refused.is_err_and(|r| r.over_budget));
}
