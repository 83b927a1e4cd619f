//! The side panel's meeting status and the agent's own, one test per rule
//! (moved unchanged from `panel_tests.rs`).

use serde_json::json;

use super::tests::{NOW, google, microsoft, refused, roots};
use super::*;
use crate::context::section::{PRESENCE_TTL_MS, PresenceAnswer};

fn freebusy_busy(email: &str) -> String {
    json!({"calendars": {email: {"busy": [
        {"start": "2026-09-01T09:30:00Z", "end": "2026-09-01T10:30:00Z"}
    ]}}})
    .to_string()
}

fn calendar_only() -> String {
    Integration::Calendar.scope().to_owned()
}

#[test]
fn presence_needs_a_google_agent_with_calendar_connected() {
    let state = PanelState::default();
    for (agent, granted) in [
        (None, calendar_only()),
        (Some(microsoft()), calendar_only()),
        (Some(google()), "openid".to_owned()),
    ] {
        let (_, step) = PresenceCheck::start(
            agent.as_ref(),
            "bob@contoso.com".into(),
            &granted,
            &state,
            &roots(),
            NOW,
        );
        assert_eq!(step, PresenceStep::Done(PresenceAnswer::Unknown, None));
    }
}

#[test]
fn presence_asks_freebusy_then_the_visible_events() {
    let (mut p, step) = PresenceCheck::start(
        Some(&google()),
        "bob@contoso.com".into(),
        &calendar_only(),
        &PanelState::default(),
        &roots(),
        NOW,
    );
    let PresenceStep::Call(r) = step else {
        panic!("freebusy");
    };
    assert_eq!(r.url, google::freebusy_url(&roots()));
    assert!(r.json.is_some(), "a POST");
    let PresenceStep::Call(r) = p.called(Ok(freebusy_busy("bob@contoso.com"))) else {
        panic!("events");
    };
    assert!(r.url.contains("/calendars/"), "{}", r.url);
    // The events cannot be read: busy, without a name.
    let step = p.called(Err(refused()));
    let PresenceStep::Done(PresenceAnswer::Known { presence }, Some(_)) = step else {
        panic!("known, got {step:?}");
    };
    assert_eq!(
        presence,
        Presence::InMeeting {
            until: "2026-09-01T10:30:00Z".into(),
            event: None
        }
    );
}

#[test]
fn presence_is_unknown_when_freebusy_fails() {
    let (mut p, _) = PresenceCheck::start(
        Some(&google()),
        "bob@contoso.com".into(),
        &calendar_only(),
        &PanelState::default(),
        &roots(),
        NOW,
    );
    assert_eq!(
        p.called(Err(Failure::Network("down".into()))),
        PresenceStep::Done(PresenceAnswer::Unknown, None)
    );
}

#[test]
fn presence_is_cached_a_minute_except_the_agents_own() {
    let mut state = PanelState::default();
    let busy = Presence::InMeeting {
        until: "2026-09-01T10:30:00Z".into(),
        event: None,
    };
    for who in ["bob@contoso.com", "agent@example.com"] {
        state.remember(
            CacheEntry {
                key: format!("agent@example.com presence {who}"),
                value: Cached::Presence(busy.clone()),
            },
            NOW,
        );
    }
    let start = |who: &str, now: f64| {
        PresenceCheck::start(
            Some(&google()),
            who.into(),
            &calendar_only(),
            &state,
            &roots(),
            now,
        )
        .1
    };
    assert_eq!(
        start("Bob@Contoso.com", NOW + 1.0),
        PresenceStep::Done(
            PresenceAnswer::Known {
                presence: busy.clone()
            },
            None
        )
    );
    assert!(matches!(
        start("bob@contoso.com", NOW + PRESENCE_TTL_MS),
        PresenceStep::Call(_)
    ));
    assert!(matches!(
        start("agent@example.com", NOW + 1.0),
        PresenceStep::Call(_)
    ));
}

#[test]
fn the_agents_own_meeting_is_shown_and_looked_at_again_when_it_ends() {
    let busy = Presence::InMeeting {
        until: "2026-09-01T10:30:00Z".into(),
        event: Some("Standup".into()),
    };
    assert_eq!(
        own_presence(
            PresenceAnswer::Known {
                presence: busy.clone()
            },
            NOW
        ),
        (Some(busy.clone()), Some(30 * 60_000))
    );
    // Ended already: looked at again in a second; far away: in an hour.
    assert_eq!(
        own_presence(
            PresenceAnswer::Known {
                presence: busy.clone()
            },
            NOW + 3_600_000.0
        )
        .1,
        Some(1_000)
    );
    assert_eq!(
        own_presence(PresenceAnswer::Known { presence: busy }, NOW - 86_400_000.0).1,
        Some(3_600_000)
    );
    assert_eq!(
        own_presence(
            PresenceAnswer::Known {
                presence: Presence::Free
            },
            NOW
        ),
        (None, None)
    );
    assert_eq!(own_presence(PresenceAnswer::Unknown, NOW), (None, None));
}

#[test]
fn the_saved_disconnections_are_read_leniently() {
    assert_eq!(
        disconnected_of(&json!(["drive", "gmail"])),
        vec![Integration::Drive, Integration::Gmail]
    );
    assert_eq!(disconnected_of(&json!("garbage")), vec![]);
}
