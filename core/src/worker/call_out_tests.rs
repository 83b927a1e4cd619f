//! The platform dialer's request, answers and events, and the desk that
//! follows them.

use serde_json::json;

use super::*;
use crate::calls::{CallDesk, Direction, Phase};

#[test]
fn the_request_carries_the_workers_number_only() {
    let (url, body) = place("https://phone.example.com/api/", "+33123456789", None).unwrap();
    assert_eq!(url, "https://phone.example.com/api/v1/calls");
    assert_eq!(body, json!({"to": "+33123456789"}));
    let (_, body) = place("https://p.example", "+33123456789", Some("227")).unwrap();
    assert_eq!(body, json!({"to": "+33123456789", "extension": "227"}));
    for (n, x) in [
        ("33123456789", None),
        ("+33 1 23", None),
        ("sip:alice@example.com", None),
        ("+33123456789", Some("*72")),
        ("+33123456789", Some("#31#")),
    ] {
        assert!(place("https://p.example", n, x).is_err(), "{n} {x:?}");
    }
}

#[test]
fn answers_become_a_call_id_or_a_message() {
    assert_eq!(
        placed(Some(201), &json!({"call": {"id": "c-1_a"}})),
        Ok("c-1_a".into())
    );
    let key = |status: Option<u16>, body: Value| placed(status, &body).unwrap_err().key;
    // A call id that could smuggle a path or a query is not one.
    assert_eq!(
        key(Some(201), json!({"call": {"id": "../admin"}})),
        "errPlatformUnreachable"
    );
    assert_eq!(
        key(Some(201), json!({"call": {"id": "a?b=c"}})),
        "errPlatformUnreachable"
    );
    assert_eq!(
        key(Some(201), json!({"call": {"id": "x".repeat(65)}})),
        "errPlatformUnreachable"
    );
    assert_eq!(key(Some(201), json!({})), "errPlatformUnreachable");
    assert_eq!(
        key(Some(401), json!({"error": {"code": "session_revoked"}})),
        "errPlatformSession"
    );
    assert_eq!(key(Some(400), json!({})), "errInvalidNumber");
    assert_eq!(key(Some(409), json!({})), "errCallInProgress");
    assert_eq!(key(Some(403), json!({})), "errPlatformRefused");
    assert_eq!(key(Some(500), json!({})), "errPlatformUnreachable");
    assert_eq!(key(None, Value::Null), "errPlatformUnreachable");
    let r = placed(
        Some(403),
        &json!({"error": {"message": "International calls are off for you."}}),
    );
    assert_eq!(
        r.unwrap_err().detail,
        "International calls are off for you."
    );
    // Hang up: an ended call is fine.
    assert_eq!(
        hangup_url("https://p.example/", "c-1").as_deref(),
        Some("https://p.example/v1/calls/c-1")
    );
    assert_eq!(hangup_url("https://p.example", "c/../1"), None);
    assert_eq!(hung_up(Some(204), &Value::Null, "c-1"), Ok(None));
    assert!(
        matches!(hung_up(Some(404), &Value::Null, "c-1"), Ok(Some(CallEvent::Closed { call_id, .. })) if call_id == "c-1")
    );
    assert_eq!(
        hung_up(Some(401), &Value::Null, "c-1").unwrap_err().key,
        "errPlatformSession"
    );
    assert_eq!(
        hung_up(None, &Value::Null, "c-1").unwrap_err().key,
        "errPlatformUnreachable"
    );
}

fn ev(id: &str, state: &str) -> String {
    json!({"type": "call.state", "call": {"id": id, "to": "+33123456789", "state": state, "reason": "remote hung up"}}).to_string()
}

#[test]
fn platform_events_map_to_desk_events() {
    assert_eq!(call_event(&ev("c1", "agent_ringing")), None);
    assert_eq!(
        call_event(&ev("c1", "callee_ringing")),
        Some(CallEvent::Ringing {
            call_id: "c1".into(),
            peer: "+33123456789".into()
        })
    );
    assert_eq!(
        call_event(&ev("c1", "established")),
        Some(CallEvent::Established {
            call_id: "c1".into(),
            peer: "+33123456789".into(),
            outgoing: true
        })
    );
    assert!(
        matches!(call_event(&ev("c1", "ended")), Some(CallEvent::Closed { reason, .. }) if reason == "remote hung up")
    );
    for other in [
        r#"{"type":"session.revoked"}"#.to_owned(),
        ev("c1", "exploded"),
        ev("a b", "established"),
        "not json".to_owned(),
        r#"{"type":"call.state"}"#.to_owned(),
    ] {
        assert_eq!(call_event(&other), None, "{other}");
    }
}

#[test]
fn the_desk_follows_a_platform_call_to_its_wrap_up() {
    let mut desk = CallDesk::default();
    desk.dial("+33123456789", "01 23 45 67 89", 1_000.0)
        .unwrap();
    // The event of the agent's phone may come before the POST's answer.
    assert_eq!(call_event(&ev("c7", "agent_ringing")), None);
    desk.placed("c7");
    assert_eq!(desk.live.as_ref().unwrap().call_id.as_deref(), Some("c7"));
    assert_eq!(desk.live.as_ref().unwrap().phase, Phase::Dialing);
    // Another call's events are not this one's.
    desk.on_event(&call_event(&ev("other", "established")).unwrap(), 1_500.0);
    assert_eq!(desk.live.as_ref().unwrap().phase, Phase::Dialing);
    desk.on_event(&call_event(&ev("c7", "callee_ringing")).unwrap(), 2_000.0);
    assert_eq!(desk.live.as_ref().unwrap().phase, Phase::Ringing);
    desk.on_event(&call_event(&ev("c7", "established")).unwrap(), 3_000.0);
    assert_eq!(desk.live.as_ref().unwrap().phase, Phase::Established);
    desk.on_event(&call_event(&ev("c7", "ended")).unwrap(), 63_000.0);
    assert!(desk.live.is_none());
    let ended = &desk.wrapups[0];
    assert_eq!(
        (ended.talk_seconds, ended.answered, ended.direction),
        (60, true, Direction::Outgoing)
    );
    assert_eq!(ended.softphone_call_id.as_deref(), Some("c7"));
    assert_eq!(ended.display, "01 23 45 67 89");
}

#[test]
fn hostless_dials_open_the_workers_number_or_ask_the_platform() {
    let url_dialer = crate::dialers::validate_dialer(
        &json!({"adapter": "url", "urlTemplate": "https://phone.example.com/call?to={e164}&ext={extension}", "appName": "PhoneWeb"}),
        false,
        false,
    )
    .unwrap();
    let tel = hostless(
        &CallPath::BrowserTel,
        None,
        None,
        (Some("+33123456789"), Some("227")),
        "01 23 45 67 89",
        None,
        false,
    );
    assert_eq!(
        tel,
        Ok(Hostless::Open {
            url: "tel:+33123456789;ext=227".into(),
            key: "callOpenedPhoneApp",
            sub: "01 23 45 67 89".into()
        })
    );
    let path = CallPath::Url {
        template: url_dialer.template.clone().unwrap(),
    };
    let url = hostless(
        &path,
        Some(&url_dialer),
        None,
        (Some("+33123456789"), None),
        "x",
        None,
        false,
    );
    assert_eq!(
        url,
        Ok(Hostless::Open {
            url: "https://phone.example.com/call?to=%2B33123456789&ext=".into(),
            key: "callOpened",
            sub: "PhoneWeb".into()
        })
    );
    let platform = hostless(
        &CallPath::Platform,
        None,
        Some("https://p.example/api"),
        (Some("+33123456789"), None),
        "x",
        None,
        false,
    );
    assert_eq!(
        platform,
        Ok(Hostless::Platform {
            url: "https://p.example/api/v1/calls".into(),
            body: json!({"to": "+33123456789"})
        })
    );
    // A costly number from a page waits for the agent; once confirmed, it goes.
    let held = hostless(
        &CallPath::BrowserTel,
        None,
        None,
        (Some("+449098790000"), None),
        "x",
        Some(DialRisk::PremiumRate),
        false,
    );
    assert_eq!(held.unwrap_err().risk, Some(DialRisk::PremiumRate));
    assert!(
        hostless(
            &CallPath::BrowserTel,
            None,
            None,
            (Some("+449098790000"), None),
            "x",
            Some(DialRisk::PremiumRate),
            true
        )
        .is_ok()
    );
    // What a compromised page could send instead of a number.
    for (n, x) in [
        (None, None),
        (Some("javascript:alert(1)"), None),
        (Some("+33123456789?x=1"), None),
        (Some("+33123456789"), Some("1;foo=bar")),
        (Some("+33123456789"), Some("*72")),
    ] {
        for path in [CallPath::BrowserTel, path.clone(), CallPath::Platform] {
            let r = hostless(
                &path,
                Some(&url_dialer),
                Some("https://p.example"),
                (n, x),
                "x",
                None,
                false,
            );
            assert_eq!(
                r.unwrap_err().key,
                "errInvalidNumber",
                "{path:?} {n:?} {x:?}"
            );
        }
    }
    assert_eq!(
        hostless(
            &CallPath::HostMissing,
            None,
            None,
            (Some("+33123456789"), None),
            "x",
            None,
            false
        )
        .unwrap_err()
        .key,
        "errHostMissing"
    );
}
