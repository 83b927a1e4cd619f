//! The desk kept across browser restarts.
use super::*;
use crate::calls::Direction;
use crate::dial::CallEvent;
use crate::outbox::AgentKey;

fn ended_desk() -> CallDesk {
    let mut d = CallDesk::default();
    d.agent = Some(AgentKey::new("https://idp", "alice"));
    d.dial("+33123456789", "01 23 45 67 89", 1000.0).unwrap();
    d.on_event(
        &CallEvent::Established {
            call_id: "a".into(),
            peer: "sip:+33123456789@127.0.0.1".into(),
            outgoing: true,
        },
        2000.0,
    );
    d.on_event(
        &CallEvent::Closed {
            call_id: "a".into(),
            peer: String::new(),
            reason: "bye".into(),
        },
        12_000.0,
    );
    d
}

/// Through JSON text, as storage keeps it.
fn kept(d: &CallDesk) -> CallDesk {
    serde_json::from_str(&serde_json::to_string(d).unwrap()).unwrap()
}

#[test]
fn nothing_is_written_before_the_kept_desk_was_read() {
    let mut s = DeskStore::default();
    // The worker's first broadcasts come before the read: an empty desk must
    // not erase what the last browser session kept.
    assert_eq!(s.changed(&ended_desk()), None);
    s.ready();
    assert_eq!(s.changed(&CallDesk::default()), Some(vec![]));
}

#[test]
fn reports_each_ended_call_once() {
    let mut s = DeskStore::default();
    s.ready();
    let desk = ended_desk();
    let ended = s.changed(&desk).unwrap();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].talk_seconds, 10);
    assert_eq!(s.changed(&desk), Some(vec![]));
    // Its wrap-up saved, then the same call again (it cannot be, but the
    // history must not get a call twice from a desk that shrank and grew).
    let mut done = desk.clone();
    let id = done.wrapups[0].id.clone();
    done.wrapup_saved(&id, crate::calls::SavedTo::Platform);
    assert_eq!(s.changed(&done), Some(vec![]));
}

#[test]
fn a_browser_restart_brings_back_the_calls_waiting_for_their_wrapup() {
    let desk = ended_desk();
    let back = restore(None, Some(kept(&desk)), 50_000.0).unwrap();
    assert_eq!(back.wrapups, desk.wrapups);
    // Still the agent's who took it, and it can be wrapped up.
    assert_eq!(back.owner(&desk.wrapups[0].id), desk.wrapups[0].agent);
    assert!(
        back.wrapup(&desk.wrapups[0].id, "a", "b", 60_000.0)
            .is_some()
    );
}

#[test]
fn a_call_live_when_the_browser_died_waits_for_its_wrapup() {
    let mut desk = CallDesk::default();
    desk.dial("+33123456789", "0123", 1000.0).unwrap();
    let back = restore(None, Some(kept(&desk)), 9000.0).unwrap();
    assert!(back.live.is_none());
    assert_eq!(back.wrapups.len(), 1);
    assert_eq!(back.wrapups[0].direction, Direction::Outgoing);
    assert_eq!(back.wrapups[0].ended_ms, 9000.0);
}

#[test]
fn the_session_copy_wins_and_nothing_means_nothing() {
    let session = ended_desk();
    let mut other = ended_desk();
    other.wrapups.clear();
    let back = restore(Some(session.clone()), Some(other), 1.0).unwrap();
    assert_eq!(back.wrapups, session.wrapups);
    assert_eq!(restore(None, None, 1.0), None);
    assert_eq!(restore(None, Some(CallDesk::default()), 1.0), None);
}
