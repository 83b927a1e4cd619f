//! The desk's controls, with the event sequences baresip produces.
use super::super::*;
use crate::protocol::{CallAction, CallControlParams};

fn est(id: &str, outgoing: bool) -> CallEvent {
    CallEvent::Established {
        call_id: id.into(),
        peer: "sip:+33123456789@127.0.0.1".into(),
        outgoing,
    }
}
fn incoming(id: &str) -> CallEvent {
    CallEvent::Incoming {
        call_id: id.into(),
        peer: "sip:third@127.0.0.1:5062".into(),
    }
}
fn closed(id: &str) -> CallEvent {
    CallEvent::Closed {
        call_id: id.into(),
        peer: String::new(),
        reason: "Connection reset by peer".into(),
    }
}
fn actions(plan: &[CallControlParams]) -> Vec<(&str, CallAction)> {
    plan.iter()
        .map(|p| (p.call_id.as_str(), p.action))
        .collect()
}
/// A desk with an established outgoing call `a`.
fn on_call() -> CallDesk {
    let mut d = CallDesk::default();
    d.dial("+33123456789", "01 23 45 67 89", 0.0).unwrap();
    d.on_event(&est("a", true), 100.0);
    d
}
fn apply_all(d: &mut CallDesk, plan: &[CallControlParams]) {
    for p in plan {
        d.applied(p);
    }
}

#[test]
fn hold_and_resume_toggle_and_show() {
    let mut d = on_call();
    let plan = d.toggle_hold().unwrap();
    assert_eq!(actions(&plan), vec![("a", CallAction::Hold)]);
    apply_all(&mut d, &plan);
    assert!(d.live.as_ref().unwrap().held);
    let plan = d.toggle_hold().unwrap();
    assert_eq!(actions(&plan), vec![("a", CallAction::Resume)]);
    apply_all(&mut d, &plan);
    assert!(!d.live.as_ref().unwrap().held);
}

#[test]
fn mute_toggles_and_no_control_without_an_established_call() {
    let mut d = on_call();
    let plan = d.toggle_mute().unwrap();
    assert_eq!(actions(&plan), vec![("a", CallAction::Mute)]);
    apply_all(&mut d, &plan);
    assert!(d.live.as_ref().unwrap().muted);
    assert_eq!(
        actions(&d.toggle_mute().unwrap()),
        vec![("a", CallAction::Unmute)]
    );
    let mut ringing = CallDesk::default();
    ringing.dial("+33123456789", "x", 0.0).unwrap();
    assert_eq!(ringing.toggle_hold(), Err(DeskRefusal::NoCall));
    assert_eq!(ringing.toggle_mute(), Err(DeskRefusal::NoCall));
    assert_eq!(ringing.dtmf("1"), Err(DeskRefusal::NoCall));
    assert_eq!(CallDesk::default().swap(), Err(DeskRefusal::NoCall));
}

#[test]
fn keypad_digits_are_checked() {
    let d = on_call();
    let plan = d.dtmf("12#").unwrap();
    assert_eq!(plan[0].digits.as_deref(), Some("12#"));
    assert!(d.dtmf("1;x").unwrap().is_empty());
}

#[test]
fn the_extension_is_sent_once_the_call_is_established() {
    let mut d = CallDesk::default();
    d.dial("+33123456789", "x", 0.0).unwrap();
    d.set_extension(Some("227"));
    assert!(
        d.on_event(&est("a", true), 10.0)
            .contains(&DeskEffect::SendDtmf {
                call_id: "a".into(),
                digits: "227".into()
            })
    );
    assert!(d.live.as_ref().unwrap().extension.is_none());
    // A bad extension is never sent.
    let mut d = CallDesk::default();
    d.dial("+33123456789", "x", 0.0).unwrap();
    d.set_extension(Some("22;7"));
    assert!(
        !d.on_event(&est("b", true), 10.0)
            .iter()
            .any(|e| matches!(e, DeskEffect::SendDtmf { .. }))
    );
}

#[test]
fn a_second_call_rings_beside_the_first_and_answering_holds_the_first() {
    let mut d = on_call();
    let fx = d.on_event(&incoming("b"), 200.0);
    assert!(matches!(&fx[0], DeskEffect::NotifyIncoming { call_id, .. } if call_id == "b"));
    assert_eq!(d.live.as_ref().unwrap().call_id.as_deref(), Some("a"));
    assert_eq!(d.other.as_ref().unwrap().phase, Phase::Incoming);
    assert_eq!(
        actions(&d.answer().unwrap()),
        vec![("b", CallAction::Answer)]
    );
    let fx = d.on_event(&est("b", false), 300.0);
    assert_eq!(
        fx,
        vec![DeskEffect::ClearIncoming {
            call_id: "b".into()
        }]
    );
    let (live, other) = (d.live.as_ref().unwrap(), d.other.as_ref().unwrap());
    assert_eq!(live.call_id.as_deref(), Some("b"));
    assert!(!live.held);
    assert_eq!(other.call_id.as_deref(), Some("a"));
    assert!(other.held);
    // Swap: hold b (the agent's), resume a, which becomes the agent's call.
    let plan = d.swap().unwrap();
    assert_eq!(
        actions(&plan),
        vec![("b", CallAction::Hold), ("a", CallAction::Resume)]
    );
    apply_all(&mut d, &plan);
    assert_eq!(d.live.as_ref().unwrap().call_id.as_deref(), Some("a"));
    assert!(!d.live.as_ref().unwrap().held);
    assert!(d.other.as_ref().unwrap().held);
    // Ending the agent's call resumes nothing: b waits, held (and is held
    // again at the softphone, which resumes it by itself).
    assert_eq!(
        d.on_event(&closed("a"), 900.0),
        vec![DeskEffect::KeepHeld {
            call_id: "b".into()
        }]
    );
    let l = d.live.as_ref().unwrap();
    assert_eq!(l.call_id.as_deref(), Some("b"));
    assert!(l.held);
    assert!(d.other.is_none());
    assert_eq!(d.wrapups.len(), 1);
    // Resuming it is the agent's choice.
    assert_eq!(
        actions(&d.toggle_hold().unwrap()),
        vec![("b", CallAction::Resume)]
    );
}

#[test]
fn a_second_call_declined_or_given_up_leaves_the_first_alone() {
    let mut d = on_call();
    d.on_event(&incoming("b"), 200.0);
    assert_eq!(
        actions(&d.hang_up(Some("b")).unwrap()),
        vec![("b", CallAction::Hangup)]
    );
    let fx = d.on_event(&closed("b"), 300.0);
    assert_eq!(
        fx,
        vec![DeskEffect::ClearIncoming {
            call_id: "b".into()
        }]
    );
    assert!(d.other.is_none());
    assert_eq!(d.live.as_ref().unwrap().call_id.as_deref(), Some("a"));
    assert!(!d.wrapups[0].answered);
    // A third call while two are on the desk is left to ring elsewhere.
    d.on_event(&incoming("c"), 400.0);
    d.on_event(&incoming("d"), 400.0);
    assert_eq!(d.other.as_ref().unwrap().call_id.as_deref(), Some("c"));
}

#[test]
fn do_not_disturb_declines_incoming_calls_and_policy_can_forbid_it() {
    let mut d = CallDesk::default();
    assert_eq!(d.set_dnd(true, false), Err(DeskRefusal::DndForbidden));
    assert!(!d.dnd);
    d.set_dnd(true, true).unwrap();
    let fx = d.on_event(&incoming("b"), 0.0);
    assert_eq!(
        fx,
        vec![DeskEffect::Decline {
            call_id: "b".into()
        }]
    );
    assert!(d.live.is_none());
    assert_eq!(d.declined, 1);
    d.on_event(&closed("b"), 10.0);
    assert!(d.wrapups.is_empty());
    d.set_dnd(false, true).unwrap();
    d.on_event(&incoming("c"), 20.0);
    assert_eq!(d.live.as_ref().unwrap().phase, Phase::Incoming);
}

#[test]
fn blind_transfer_names_the_target() {
    let d = on_call();
    let plan = d.transfer("sip:third@127.0.0.1:5062").unwrap();
    assert_eq!(actions(&plan), vec![("a", CallAction::Transfer)]);
    assert_eq!(plan[0].uri.as_deref(), Some("sip:third@127.0.0.1:5062"));
    let plan = d.transfer("+33987654321").unwrap();
    assert_eq!(plan[0].number.as_deref(), Some("+33987654321"));
}

#[test]
fn attended_transfer_consults_then_completes_or_returns() {
    let mut d = on_call();
    let plan = d.consult_plan().unwrap();
    assert_eq!(actions(&plan), vec![("a", CallAction::Hold)]);
    apply_all(&mut d, &plan);
    d.consult("sip:third@127.0.0.1:5062", "Third", 500.0)
        .unwrap();
    assert_eq!(d.live.as_ref().unwrap().phase, Phase::Dialing);
    assert!(d.other.as_ref().unwrap().held);
    d.on_event(&est("c", true), 600.0);
    assert_eq!(d.live.as_ref().unwrap().consult_for.as_deref(), Some("a"));
    // Return to the caller: the consultation ends, the caller is resumed.
    let back = d.return_to_caller().unwrap();
    assert_eq!(
        actions(&back),
        vec![("a", CallAction::Resume), ("c", CallAction::Hangup)]
    );
    // Complete: the consultation ends, the caller goes to the third party.
    let done = d.complete_transfer().unwrap();
    assert_eq!(
        actions(&done),
        vec![("a", CallAction::Transfer), ("c", CallAction::Hangup)]
    );
    assert_eq!(done[0].uri.as_deref(), Some("sip:third@127.0.0.1:5062"));
    // Returning: once a is resumed it is the agent's call again.
    apply_all(&mut d, &back);
    assert_eq!(d.live.as_ref().unwrap().call_id.as_deref(), Some("a"));
    // The consultation ends as the other call: nothing to hold again.
    assert!(d.on_event(&closed("c"), 700.0).is_empty());
    assert!(d.other.is_none());
    assert!(!d.live.as_ref().unwrap().held);
    assert_eq!(d.complete_transfer(), Err(DeskRefusal::NoCall));
}

#[test]
fn a_consultation_that_fails_gives_the_caller_back() {
    let mut d = on_call();
    let plan = d.consult_plan().unwrap();
    apply_all(&mut d, &plan);
    d.consult("+33987654321", "x", 500.0).unwrap();
    d.dial_failed("errSoftphoneRejected", "486 Busy");
    assert_eq!(d.live.as_ref().unwrap().call_id.as_deref(), Some("a"));
    assert!(d.other.is_none());
}

#[test]
fn losing_the_softphone_closes_both_calls() {
    let mut d = on_call();
    d.on_event(&incoming("b"), 200.0);
    d.softphone_lost(300.0);
    assert!(d.live.is_none() && d.other.is_none());
    assert_eq!(d.wrapups.len(), 2);
}
