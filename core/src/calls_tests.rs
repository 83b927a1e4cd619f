//! The desk driven by event sequences baresip actually produces.
use super::*;

fn ev_ringing(id: &str) -> CallEvent {
    CallEvent::Ringing {
        call_id: id.into(),
        peer: "sip:+33123456789@127.0.0.1".into(),
    }
}
fn ev_est(id: &str, outgoing: bool) -> CallEvent {
    CallEvent::Established {
        call_id: id.into(),
        peer: "sip:+33123456789@127.0.0.1".into(),
        outgoing,
    }
}
fn ev_closed(id: &str) -> CallEvent {
    CallEvent::Closed {
        call_id: id.into(),
        peer: String::new(),
        reason: "Connection reset by user".into(),
    }
}

#[test]
fn outgoing_call_through_wrapup() {
    let mut d = CallDesk::default();
    d.dial("+33123456789", "01 23 45 67 89", 1000.0).unwrap();
    assert_eq!(d.dial("+1", "+1", 1001.0), Err(DeskRefusal::Busy));
    assert!(d.on_event(&ev_ringing("abc"), 1100.0).is_empty());
    assert_eq!(d.live.as_ref().unwrap().phase, Phase::Ringing);
    assert_eq!(d.live.as_ref().unwrap().call_id.as_deref(), Some("abc"));
    // Another call's events do not touch ours.
    d.on_event(&ev_closed("zzz"), 1200.0);
    assert!(d.live.is_some());
    d.on_event(&ev_est("abc", true), 2000.0);
    assert_eq!(d.live.as_ref().unwrap().phase, Phase::Established);
    d.on_event(&ev_closed("abc"), 63_600.0);
    assert!(d.live.is_none());
    let ended = &d.wrapups[0];
    assert_eq!(ended.talk_seconds, 62);
    assert!(ended.answered);
    assert_eq!(ended.display, "01 23 45 67 89");
    let id = ended.id.clone();
    let w = d
        .wrapup(
            &id,
            " sale, Follow-up ,sale,, ",
            "  called back  ",
            70_000.0,
        )
        .unwrap();
    assert_eq!(w.tags, vec!["sale", "Follow-up"]);
    assert_eq!(w.note, "called back");
    assert!(d.wrapup("nope", "", "", 0.0).is_none());
    d.wrapup_saved(&id, SavedTo::Local);
    assert_eq!(d.last_saved, Some(SavedTo::Local));
    assert!(d.wrapups.is_empty());
    d.dial("+1", "+1", 80_000.0).unwrap();
}

#[test]
fn unanswered_call_closed_before_any_event_is_still_ours() {
    let mut d = CallDesk::default();
    d.dial("+33123456789", "x", 0.0).unwrap();
    d.on_event(&ev_closed("q1"), 500.0);
    assert!(d.live.is_none());
    assert!(!d.wrapups[0].answered);
    assert_eq!(d.wrapups[0].talk_seconds, 0);
}

#[test]
fn failures_become_notices_with_keys() {
    let mut d = CallDesk::default();
    d.dial("+33123456789", "01 23 45 67 89", 0.0).unwrap();
    let err = ErrorBody::new(
        ErrorCode::SoftphoneUnreachable,
        "not reachable at 127.0.0.1:1",
    );
    d.dial_failed(error_key(&err), &err.message);
    assert!(d.live.is_none());
    let n = d.notice.clone().unwrap();
    assert_eq!(n.key, "errSoftphoneDown");
    assert_eq!(n.number, "01 23 45 67 89");
    assert_eq!(
        error_key(&ErrorBody::new(ErrorCode::NoTelHandler, "")),
        "errNoTelHandler"
    );
    assert_eq!(
        error_key(&ErrorBody::new(ErrorCode::Internal, "")),
        "errHostFailed"
    );
    // A failure while another call is live leaves that call alone.
    d.dial("+1", "+1", 0.0).unwrap();
    d.on_event(&ev_est("c", true), 1.0);
    d.dial_failed("errHostFailed", "x");
    assert!(d.live.is_some());
    d.dismiss_notice();
    assert!(d.notice.is_none());
}

#[test]
fn incoming_call_notifies_and_clears() {
    let mut d = CallDesk::default();
    let fx = d.on_event(
        &CallEvent::Incoming {
            call_id: "in1".into(),
            peer: "sip:+4930123456@127.0.0.1:5070".into(),
        },
        0.0,
    );
    assert_eq!(
        fx,
        vec![DeskEffect::NotifyIncoming {
            call_id: "in1".into(),
            caller: "+4930123456".into()
        }]
    );
    let fx = d.on_event(&ev_est("in1", false), 10.0);
    assert_eq!(
        fx,
        vec![DeskEffect::ClearIncoming {
            call_id: "in1".into()
        }]
    );
    assert_eq!(d.live.as_ref().unwrap().direction, Direction::Incoming);
    d.on_event(&ev_closed("in1"), 5010.0);
    assert_eq!(d.wrapups[0].talk_seconds, 5);
    // Declined: closed while still ringing clears the notification.
    d.on_event(
        &CallEvent::Incoming {
            call_id: "in2".into(),
            peer: "sip:bob@x".into(),
        },
        0.0,
    );
    let fx = d.on_event(&ev_closed("in2"), 1.0);
    assert_eq!(
        fx,
        vec![DeskEffect::ClearIncoming {
            call_id: "in2".into()
        }]
    );
    assert_eq!(d.wrapups.len(), 2);
}

#[test]
fn lost_softphone_ends_the_live_call_and_pending_is_bounded() {
    let mut d = CallDesk::default();
    for i in 0..(MAX_PENDING_WRAPUPS + 3) {
        d.dial("+1", "+1", i as f64).unwrap();
        d.softphone_lost(i as f64 + 1.0);
    }
    assert_eq!(d.wrapups.len(), MAX_PENDING_WRAPUPS);
    assert_eq!(d.wrapups[0].reason, "softphone connection lost");
}

#[test]
fn every_key_handed_out_is_listed() {
    for code in ErrorCode::ALL {
        let key = error_key(&ErrorBody::new(*code, ""));
        assert!(MESSAGE_KEYS.contains(&key), "{key}");
    }
    for r in [DeskRefusal::Busy, DeskRefusal::NoCall] {
        assert!(MESSAGE_KEYS.contains(&r.message_key()));
    }
    for s in [
        SavedTo::Platform,
        SavedTo::Local,
        SavedTo::Outbox,
        SavedTo::AfterSignIn,
        SavedTo::OtherAgent,
        SavedTo::Unauthorized,
        SavedTo::Unowned,
    ] {
        assert!(MESSAGE_KEYS.contains(&s.message_key()));
    }
}

#[test]
fn a_restored_desk_keeps_wrapups_and_ends_the_live_call() {
    let mut d = CallDesk::default();
    d.dial("+1", "+1", 0.0).unwrap();
    d.on_event(&ev_closed("x"), 1.0);
    d.dial("+33123456789", "01 23", 2.0).unwrap();
    d.on_event(&ev_est("y", true), 3.0);
    let json = serde_json::to_string(&d).unwrap();
    let back = CallDesk::restored(serde_json::from_str(&json).unwrap(), 10_003.0);
    assert!(back.live.is_none());
    assert_eq!(back.wrapups.len(), 2);
    assert_eq!(back.wrapups[1].talk_seconds, 10);
    assert_eq!(back.wrapups[1].reason, "Ringside restarted during the call");
    // Ids stay unique after a restore.
    assert_ne!(back.wrapups[0].id, back.wrapups[1].id);
}

#[test]
fn helpers() {
    assert_eq!(caller_display("sip:+33123@127.0.0.1:5070"), "+33123");
    assert_eq!(caller_display("<sip:bob@x>"), "bob");
    assert_eq!(caller_display("sip:@x"), "sip:@x");
    assert_eq!(format_duration(0), "0:00");
    assert_eq!(format_duration(62), "1:02");
    assert_eq!(format_duration(3723), "1:02:03");
    let many: String = (0..30).map(|i| format!("t{i},")).collect();
    assert_eq!(parse_tags(&many).len(), MAX_TAGS);
    assert_eq!(parse_tags(&"x".repeat(100))[0].len(), MAX_TAG_CHARS);
}

#[test]
fn a_call_belongs_to_the_agent_signed_in_when_it_started() {
    let ana = AgentKey::new("https://accounts.google.com", "111");
    let bo = AgentKey::new("https://accounts.google.com", "222");
    let mut d = CallDesk {
        agent: Some(ana.clone()),
        ..CallDesk::default()
    };
    d.dial("+33123456789", "x", 0.0).unwrap();
    // Ana is signed out mid-call, then Bo signs in before the call ends.
    d.agent = Some(bo.clone());
    d.on_event(&ev_closed("a1"), 10.0);
    let id = d.wrapups[0].id.clone();
    assert_eq!(d.owner(&id), Some(ana.clone()), "still Ana's call");
    // The body sent to the platform does not carry the owner.
    let w = d.wrapup(&id, "", "n", 11.0).unwrap();
    assert_eq!(w.call.agent, None);
    assert!(!serde_json::to_string(&w).unwrap().contains("111"));
    // It survives a worker restart (the desk is saved as JSON).
    let back: CallDesk = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
    assert_eq!(back.owner(&id), Some(ana));

    // An incoming call while nobody is signed in belongs to nobody yet.
    d.agent = None;
    d.on_event(
        &CallEvent::Incoming {
            call_id: "in".into(),
            peer: "sip:+4930@x".into(),
        },
        20.0,
    );
    d.on_event(&ev_closed("in"), 30.0);
    let id2 = d.wrapups[1].id.clone();
    assert_eq!(d.owner(&id2), None);
    d.outbox_refused();
    assert_eq!(d.last_saved, Some(SavedTo::Unauthorized));
}
