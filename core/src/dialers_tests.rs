//! The dialer setting, the url dialer's templates (hostile ones included)
//! and schemes, and where calls go.

use serde_json::json;

use super::*;
use crate::settings::{KEY_URL_SCHEMES, merge_for};

fn url_policy(template: &str) -> Value {
    json!({"dialer": {"adapter": "url", "urlTemplate": template}})
}

#[test]
fn good_templates_pass_and_are_filled_with_digits_only() {
    for t in [
        "https://phone.example.com/call?to={e164}&ext={extension}",
        "dialpad://call?phone={e164}",
        "tel:{e164}",
        "aircall://call/{digits}",
        "https://phone.example.com:8443/c/{digits}#x",
    ] {
        assert_eq!(check_template(t, false).as_deref(), Ok(t), "{t}");
    }
    let t = "https://phone.example.com/call?to={e164}&d={digits}&ext={extension}";
    assert_eq!(
        fill(t, "+33123456789", Some("227")).unwrap(),
        "https://phone.example.com/call?to=%2B33123456789&d=33123456789&ext=227"
    );
    assert_eq!(
        fill(t, "+33123456789", None).unwrap(),
        "https://phone.example.com/call?to=%2B33123456789&d=33123456789&ext="
    );
    // Only digits and + ever go in: anything else is refused, not encoded.
    for (n, x) in [
        ("33123456789", None),
        ("+33 1 23", None),
        ("+3312&x=1", None),
        ("+", None),
        ("+1234567890123456", None),
        ("+33123456789", Some("*72")),
        ("+33123456789", Some("#9")),
        ("+33123456789", Some("1&a=b")),
    ] {
        assert!(fill(t, n, x).is_err(), "{n} {x:?}");
    }
}

#[test]
fn hostile_templates_are_refused() {
    for t in [
        // Schemes that run code, read files or browser pages, whatever the list says.
        "javascript:alert({e164})",
        "JavaScript:alert({e164})",
        "data:text/html,<b>{e164}</b>",
        "data:text/html,{e164}",
        "vbscript:x({e164})",
        "file:///etc/passwd?{e164}",
        "chrome://settings/?{e164}",
        "chrome-extension://abc/page.html?{e164}",
        "about:blank#{e164}",
        "view-source:https://x.example/{e164}",
        "blob:https://x.example/{e164}",
        "filesystem:https://x.example/{e164}",
        "ws://x.example/{e164}",
        // Plain http outside the emulator build.
        "http://phone.example.com/?to={e164}",
        "http://127.0.0.1:8080/?to={e164}",
        // The number in the scheme or the host part (a DNS lookup of it).
        "{e164}:call",
        "https://{digits}.evil.example/",
        "https://x{digits}.example.com/",
        "dialpad://{e164}@call",
        // User info that disguises the host.
        "https://phone.example.com@evil.example/?to={e164}",
        // Unknown placeholders, stray braces, no number at all.
        "https://phone.example.com/?to={number}",
        "https://phone.example.com/?to={e164}}",
        "https://phone.example.com/?to={E164}",
        "https://phone.example.com/?ext={extension}",
        "https://phone.example.com/",
        // Spaces, quotes, control characters, no scheme.
        "https://phone.example.com/?to={e164} onclick=x",
        "https://phone.example.com/?to=\"{e164}\"",
        "https://phone.example.com/?to={e164}\n",
        "https://phone.example.com/\u{7f}{e164}",
        "phone.example.com/?to={e164}",
        "//phone.example.com/?to={e164}",
        "https:///?to={e164}",
        "",
    ] {
        // A trailing newline is trimmed, so test the control character inside.
        let t = if t.ends_with('\n') {
            "https://p.example/\n{e164}"
        } else {
            t
        };
        assert!(check_template(t, false).is_err(), "{t:?} passed");
    }
    // Plain http on loopback only, and only in the emulator build.
    assert!(check_template("http://127.0.0.1:8080/?to={e164}", true).is_ok());
    assert!(check_template("http://phone.example.com/?to={e164}", true).is_err());
    let long = format!("https://p.example/?to={{e164}}&pad={}", "a".repeat(2000));
    assert!(check_template(&long, false).is_err());
}

#[test]
fn the_scheme_list_is_checked_and_defaults_to_https() {
    assert_eq!(check_scheme_entry(&json!("Dialpad:")), Ok("dialpad".into()));
    for bad in [
        json!("javascript"),
        json!("data"),
        json!("file"),
        json!("http"),
        json!("a b"),
        json!(3),
        json!(""),
    ] {
        assert!(check_scheme_entry(&bad).is_err(), "{bad}");
    }
    // https by default: an app scheme needs the policy's list.
    let s = merge_for(
        &url_policy("https://phone.example.com/call?to={e164}"),
        &json!({}),
        false,
    );
    assert_eq!(s.dialer.as_ref().map(|d| d.adapter), Some(DialerKind::Url));
    assert!(s.locked.contains(&KEY_DIALER.to_owned()));
    let s = merge_for(
        &url_policy("dialpad://call?phone={e164}"),
        &json!({}),
        false,
    );
    assert_eq!(s.dialer, None);
    assert!(!s.locked.contains(&KEY_DIALER.to_owned()));
    assert_eq!(s.problems.len(), 1);
    assert_eq!(
        (s.problems[0].key.as_str(), s.problems[0].source.as_str()),
        ("dialer", "policy")
    );
    assert!(
        s.problems[0]
            .message
            .contains("`dialpad:` is not one of the schemes"),
        "{}",
        s.problems[0].message
    );
    let mut policy = url_policy("dialpad://call?phone={e164}");
    policy[KEY_URL_SCHEMES] = json!(["dialpad", "javascript"]);
    let s = merge_for(&policy, &json!({}), false);
    assert_eq!(
        s.dialer.as_ref().and_then(|d| d.template.as_deref()),
        Some("dialpad://call?phone={e164}")
    );
    assert_eq!(s.dialer_url_schemes, vec!["dialpad"]);
    // The bad entry is reported and skipped.
    assert_eq!(s.problems.len(), 1);
    assert_eq!(s.problems[0].key, KEY_URL_SCHEMES);
    // A list without https: https templates are not allowed any more.
    let mut policy = url_policy("https://phone.example.com/call?to={e164}");
    policy[KEY_URL_SCHEMES] = json!(["dialpad"]);
    assert_eq!(merge_for(&policy, &json!({}), false).dialer, None);
    // A forbidden scheme is refused as the dialer's own problem, even if listed.
    let mut policy = url_policy("javascript:alert({e164})");
    policy[KEY_URL_SCHEMES] = json!(["javascript"]);
    let s = merge_for(&policy, &json!({}), false);
    assert_eq!(s.dialer, None);
    assert!(
        s.problems
            .iter()
            .any(|p| p.key == "dialer" && p.message.contains("never allowed"))
    );
}

#[test]
fn the_url_and_platform_dialers_come_from_policy_only() {
    let local = url_policy("https://evil.example/?to={e164}");
    let s = merge_for(&json!({}), &local, false);
    assert_eq!(s.dialer, None);
    assert_eq!(s.problems[0].source, "options");
    let s = merge_for(
        &json!({}),
        &json!({"dialer": {"adapter": "platform"}}),
        false,
    );
    assert_eq!(s.dialer, None);
    // The platform dialer needs the platform.
    let s = merge_for(
        &json!({"dialer": {"adapter": "platform"}}),
        &json!({}),
        false,
    );
    assert_eq!(s.dialer, None);
    assert!(s.problems[0].message.contains("platformUrl"));
    let s = merge_for(
        &json!({"dialer": {"adapter": "platform"}, "platformUrl": "https://phone.example.com/api"}),
        &json!({}),
        false,
    );
    assert_eq!(
        s.dialer.as_ref().map(|d| d.adapter),
        Some(DialerKind::Platform)
    );
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    // A url dialer without its template, or with a bad app name type.
    assert!(validate_dialer(&json!({"adapter": "url"}), false, false).is_err());
    assert!(validate_dialer(&json!({"adapter": "url", "urlTemplate": 3}), false, false).is_err());
}

#[test]
fn where_calls_go() {
    let d = |v: Value| validate_dialer(&v, false, false).ok();
    let baresip = d(json!({"adapter": "baresip", "address": "127.0.0.1:4444"}));
    let tel = d(json!({"adapter": "tel"}));
    let url = d(
        json!({"adapter": "url", "urlTemplate": "dialpad://call?phone={e164}", "appName": " Dialpad\u{7}"}),
    );
    let web = d(
        json!({"adapter": "url", "urlTemplate": "https://phone.example.com:8443/call?to={e164}"}),
    );
    let platform = d(json!({"adapter": "platform"}));
    assert_eq!(call_path(None, false), CallPath::BrowserTel);
    assert_eq!(call_path(None, true), CallPath::BrowserTel);
    assert_eq!(call_path(tel.as_ref(), false), CallPath::BrowserTel);
    assert_eq!(call_path(tel.as_ref(), true), CallPath::Host);
    assert_eq!(call_path(baresip.as_ref(), true), CallPath::Host);
    assert_eq!(call_path(baresip.as_ref(), false), CallPath::HostMissing);
    for connected in [false, true] {
        assert_eq!(call_path(platform.as_ref(), connected), CallPath::Platform);
        assert_eq!(
            call_path(url.as_ref(), connected),
            CallPath::Url {
                template: "dialpad://call?phone={e164}".into()
            }
        );
    }
    assert_eq!(app_label(url.as_ref().unwrap()), "Dialpad");
    assert_eq!(app_label(web.as_ref().unwrap()), "phone.example.com");
    let settings = |dialer: Option<DialerConfig>| Settings {
        dialer,
        ..Settings::default()
    };
    let go = calls_go(&settings(url.clone()), false);
    assert_eq!(
        (go.key.as_str(), go.subs.clone()),
        ("callsGoUrl", vec!["Dialpad".to_owned()])
    );
    assert_eq!(go.host_adds.as_deref(), Some("hostAddsSecrets"));
    assert_eq!(calls_go(&settings(url), true).host_adds, None);
    assert_eq!(calls_go(&settings(platform), false).key, "callsGoPlatform");
    assert_eq!(calls_go(&settings(None), false).key, "callsGoTel");
    let go = calls_go(&settings(baresip.clone()), false);
    assert_eq!(
        (go.key.as_str(), go.host_adds.as_deref()),
        ("callsGoSoftphoneNoHost", Some("hostAddsSoftphone"))
    );
    assert_eq!(calls_go(&settings(baresip), true).key, "callsGoSoftphone");
}
