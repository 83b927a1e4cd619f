//! The side panel's lookups, one test per rule: each source asked in turn,
//! each fallback, the cache.

use serde_json::json;

use super::*;

pub(super) const NOW: f64 = 1_788_256_800_000.0; // 2026-09-01T10:00:00Z

pub(super) fn roots() -> ApiRoots {
    ApiRoots::under("http://api.test")
}

pub(super) fn google() -> PanelAgent {
    PanelAgent {
        kind: ProviderKind::Google,
        email: "agent@example.com".into(),
    }
}

pub(super) fn microsoft() -> PanelAgent {
    PanelAgent {
        kind: ProviderKind::Microsoft,
        email: "agent@contoso.com".into(),
    }
}

fn phone() -> ContactQuery {
    ContactQuery::Phone("+34612345678".into())
}

fn card(name: &str) -> Contact {
    Contact {
        resource: "people/c1".into(),
        name: name.into(),
        phones: vec!["+34612345678".into()],
        ..Contact::default()
    }
}

fn people_answer(name: &str) -> String {
    json!({"results": [{"person": {
        "resourceName": "people/c1",
        "names": [{"displayName": name}],
        "phoneNumbers": [{"value": "+34 612 34 56 78", "canonicalForm": "+34612345678"}],
    }}]})
    .to_string()
}

fn scope_missing() -> Failure {
    Failure::Api(ApiFailure::InsufficientScope)
}

pub(super) fn refused() -> Failure {
    Failure::Api(ApiFailure::Refused {
        status: 400,
        message: "bad".into(),
    })
}

fn lookup(agent: Option<&PanelAgent>, state: &PanelState) -> (ContactLookup, LookupStep) {
    ContactLookup::start(agent, phone(), state, &roots(), NOW)
}

fn call_url(step: &LookupStep) -> &str {
    match step {
        LookupStep::Call(r) => &r.url,
        other => panic!("expected a call, got {other:?}"),
    }
}

fn answer(step: LookupStep) -> (ContactAnswer, bool) {
    match step {
        LookupStep::Done(a, entry) => (a, entry.is_some()),
        other => panic!("expected an answer, got {other:?}"),
    }
}

// ---- Retry

#[test]
fn a_call_retries_429_and_5xx_then_gives_up() {
    let mut r = Retry::default();
    let busy = || Ok(HttpAnswer::new(503, ""));
    assert_eq!(r.answer(busy()), Retried::Wait(500));
    assert_eq!(r.answer(busy()), Retried::Wait(1000));
    assert_eq!(
        r.answer(busy()),
        Retried::Done(Err(Failure::Api(ApiFailure::Server {
            status: 503,
            retry_after: None
        })))
    );
    let mut r = Retry::default();
    let limited = HttpAnswer {
        retry_after: Some("2".into()),
        ..HttpAnswer::new(429, "")
    };
    assert_eq!(r.answer(Ok(limited)), Retried::Wait(2000));
    assert_eq!(
        r.answer(Ok(HttpAnswer::new(204, "x"))),
        Retried::Done(Ok("x".into()))
    );
}

#[test]
fn a_call_without_an_answer_is_signed_out_or_offline() {
    assert_eq!(
        Retry::default().answer(Err(Unanswered::SignedOut)),
        Retried::Done(Err(Failure::SignedOut))
    );
    assert_eq!(
        Retry::default().answer(Err(Unanswered::Network("down".into()))),
        Retried::Done(Err(Failure::Network("down".into())))
    );
}

// ---- contact

#[test]
fn signed_out_the_contact_is_not_looked_up() {
    let (_, step) = lookup(None, &PanelState::default());
    assert_eq!(answer(step), (ContactAnswer::SignedOut, false));
}

#[test]
fn a_microsoft_agent_gets_the_synced_outlook_contact_only() {
    let (mut l, step) = lookup(Some(&microsoft()), &PanelState::default());
    assert_eq!(step, LookupStep::Local(phone()));
    assert_eq!(
        answer(l.local(Some(card("Olivia")))),
        (
            ContactAnswer::NotGoogle {
                contact: Some(card("Olivia"))
            },
            false
        )
    );
    let (mut l, _) = lookup(Some(&microsoft()), &PanelState::default());
    assert_eq!(
        answer(l.local(None)).0,
        ContactAnswer::NotGoogle { contact: None }
    );
}

#[test]
fn the_local_store_comes_first_and_is_cached() {
    let (mut l, step) = lookup(Some(&google()), &PanelState::default());
    assert_eq!(step, LookupStep::Local(phone()));
    let (a, cached) = answer(l.local(Some(card("Ana"))));
    assert_eq!(
        a,
        ContactAnswer::Found {
            contact: card("Ana")
        }
    );
    assert!(cached);
}

#[test]
fn a_fresh_cached_answer_is_reused_and_an_old_one_is_not() {
    let mut state = PanelState::default();
    let (mut l, _) = lookup(Some(&google()), &state);
    let LookupStep::Done(_, Some(entry)) = l.local(Some(card("Ana"))) else {
        panic!("cached");
    };
    state.remember(*entry, NOW);
    let (_, step) = lookup(Some(&google()), &state);
    assert_eq!(
        answer(step).0,
        ContactAnswer::Found {
            contact: card("Ana")
        }
    );
    let (_, step) = ContactLookup::start(
        Some(&google()),
        phone(),
        &state,
        &roots(),
        NOW + CACHE_TTL_MS,
    );
    assert_eq!(step, LookupStep::Local(phone()), "stale: asked again");
}

#[test]
fn people_is_asked_in_order_contacts_other_contacts_directory() {
    let (mut l, _) = lookup(Some(&google()), &PanelState::default());
    let urls = google::people_urls(&roots(), &phone());
    assert!(urls.len() >= 2);
    assert_eq!(call_url(&l.local(None)), urls[0]);
    // Nothing matching in the agent's contacts: the next source.
    let other = json!({"results": [{"person": {"resourceName": "people/c2",
        "names": [{"displayName": "Someone Else"}],
        "phoneNumbers": [{"value": "+1 415 555 0100", "canonicalForm": "+14155550100"}]}}]})
    .to_string();
    assert_eq!(call_url(&l.called(Ok(other))), urls[1]);
    let (a, cached) = answer(l.called(Ok(people_answer("Ana Found"))));
    assert!(matches!(a, ContactAnswer::Found { ref contact } if contact.name == "Ana Found"));
    assert!(cached);
}

#[test]
fn nobody_anywhere_is_unknown_and_cached() {
    let (mut l, _) = lookup(Some(&google()), &PanelState::default());
    let mut step = l.local(None);
    while let LookupStep::Call(_) = step {
        step = l.called(Ok("{}".into()));
    }
    assert_eq!(answer(step), (ContactAnswer::Unknown, true));
}

#[test]
fn a_missing_contacts_scope_asks_to_connect() {
    let (mut l, _) = lookup(Some(&google()), &PanelState::default());
    l.local(None);
    assert_eq!(
        answer(l.called(Err(scope_missing()))),
        (ContactAnswer::NeedsConnect, true)
    );
}

#[test]
fn the_directorys_missing_scope_or_failure_is_skipped() {
    let (mut l, _) = lookup(Some(&google()), &PanelState::default());
    l.local(None);
    let urls = google::people_urls(&roots(), &phone());
    assert_eq!(call_url(&l.called(Ok("{}".into()))), urls[1]);
    let step = l.called(Err(scope_missing()));
    let step = match step {
        LookupStep::Call(_) => l.called(Err(refused())),
        other => other,
    };
    assert_eq!(answer(step), (ContactAnswer::Unknown, true));
}

#[test]
fn the_first_lookups_failure_is_said_and_not_cached() {
    let (mut l, _) = lookup(Some(&google()), &PanelState::default());
    l.local(None);
    assert_eq!(
        answer(l.called(Err(refused()))),
        (
            ContactAnswer::Failed {
                key: "sectionRefused".into(),
                detail: "HTTP 400: bad".into()
            },
            false
        )
    );
}

#[test]
fn offline_or_signed_out_during_a_lookup() {
    let (mut l, _) = lookup(Some(&google()), &PanelState::default());
    l.local(None);
    l.called(Ok("{}".into()));
    assert_eq!(
        answer(l.called(Err(Failure::Network("down".into())))),
        (
            ContactAnswer::Failed {
                key: "sectionOffline".into(),
                detail: "down".into()
            },
            false
        )
    );
    let (mut l, _) = lookup(Some(&google()), &PanelState::default());
    l.local(None);
    assert_eq!(
        answer(l.called(Err(Failure::SignedOut))),
        (ContactAnswer::SignedOut, false)
    );
}

// ---- section

fn granted_all() -> String {
    Integration::ALL
        .iter()
        .map(|i| i.scope())
        .collect::<Vec<_>>()
        .join(" ")
}

fn sources() -> SectionSources {
    SectionSources {
        granted: granted_all(),
        ..SectionSources::default()
    }
}

fn emails() -> Vec<String> {
    vec!["Bob@Contoso.com".into()]
}

fn section(
    agent: Option<&PanelAgent>,
    integration: Integration,
    sources: &SectionSources,
    state: &PanelState,
    now: f64,
) -> (SectionLoad, SectionStep) {
    SectionLoad::start(agent, integration, emails(), sources, state, &roots(), now)
}

fn section_answer(step: SectionStep) -> (SectionAnswer, Option<CacheEntry>) {
    match step {
        SectionStep::Done(a, e) => (a, e.map(|e| *e)),
        other => panic!("expected an answer, got {other:?}"),
    }
}

fn calls(step: &SectionStep) -> Vec<String> {
    match step {
        SectionStep::Call(rs) => rs.iter().map(|r| r.url.clone()).collect(),
        other => panic!("expected calls, got {other:?}"),
    }
}

#[test]
fn no_email_no_section() {
    let (_, step) = SectionLoad::start(
        Some(&google()),
        Integration::Drive,
        vec![],
        &sources(),
        &PanelState::default(),
        &roots(),
        NOW,
    );
    assert_eq!(section_answer(step).0, SectionAnswer::NoEmail);
}

#[test]
fn sections_need_a_google_agent_and_the_scope() {
    let state = PanelState::default();
    let (_, step) = section(None, Integration::Drive, &sources(), &state, NOW);
    assert_eq!(section_answer(step).0, SectionAnswer::SignedOut);
    let (_, step) = section(
        Some(&microsoft()),
        Integration::Drive,
        &sources(),
        &state,
        NOW,
    );
    assert_eq!(section_answer(step).0, SectionAnswer::NotGoogle);
    let none = SectionSources {
        granted: "openid email".into(),
        ..SectionSources::default()
    };
    let (_, step) = section(Some(&google()), Integration::Drive, &none, &state, NOW);
    assert_eq!(section_answer(step).0, SectionAnswer::NeedsConnect);
}

#[test]
fn a_disconnected_integration_asks_to_connect_and_forgets_its_cache() {
    let mut state = PanelState::default();
    state.remember(
        CacheEntry {
            key: "agent@example.com Drive bob@contoso.com".into(),
            value: Cached::Section(SectionData::Docs {
                items: vec![],
                see_all: String::new(),
            }),
        },
        NOW,
    );
    assert_eq!(
        state.disconnect(Integration::Drive),
        vec![Integration::Drive]
    );
    assert_eq!(
        state.connected(&granted_all()),
        vec![Integration::Gmail, Integration::Calendar]
    );
    let (_, step) = section(Some(&google()), Integration::Drive, &sources(), &state, NOW);
    assert_eq!(section_answer(step).0, SectionAnswer::NeedsConnect);
    assert_eq!(state.connect(Integration::Drive), vec![]);
    let (_, step) = section(Some(&google()), Integration::Drive, &sources(), &state, NOW);
    assert!(
        matches!(step, SectionStep::Call(_)),
        "the cache went with it"
    );
}

#[test]
fn gmail_falls_back_to_imap_without_the_api_even_signed_out() {
    let imap = SectionSources {
        granted: String::new(),
        imap: Some("agent@gmail.com".into()),
        imap_reconnect: None,
    };
    let (mut load, step) = section(None, Integration::Gmail, &imap, &PanelState::default(), NOW);
    assert_eq!(step, SectionStep::Imap(emails()));
    let found = MailSearchResult {
        messages: vec![],
        see_all: "https://mail.google.com/".into(),
    };
    let (a, entry) = section_answer(load.imap(Ok(found)));
    assert_eq!(
        a,
        SectionAnswer::Ready {
            data: SectionData::ImapEmails {
                items: vec![],
                see_all: "https://mail.google.com/".into(),
                account: "agent@gmail.com".into()
            },
            fetched_ms: NOW,
            offline: false
        }
    );
    assert_eq!(entry, None, "IMAP answers are not cached");
    let (a, _) = section_answer(load.imap(Err((MailFailure::Revoked, "no".into()))));
    assert_eq!(
        a,
        SectionAnswer::Failed {
            key: MailFailure::Revoked.message_key().into(),
            detail: "no".into()
        }
    );
}

#[test]
fn gmail_says_when_the_imap_password_must_be_typed_again() {
    let told = SectionSources {
        granted: String::new(),
        imap: None,
        imap_reconnect: Some((MailFailure::ServerChanged, "imap.example.com".into())),
    };
    let (_, step) = section(
        Some(&google()),
        Integration::Gmail,
        &told,
        &PanelState::default(),
        NOW,
    );
    assert_eq!(
        section_answer(step).0,
        SectionAnswer::Failed {
            key: MailFailure::ServerChanged.message_key().into(),
            detail: "imap.example.com".into()
        }
    );
}

#[test]
fn the_gmail_api_wins_over_imap_when_connected() {
    let both = SectionSources {
        imap: Some("agent@gmail.com".into()),
        ..sources()
    };
    let (_, step) = section(
        Some(&google()),
        Integration::Gmail,
        &both,
        &PanelState::default(),
        NOW,
    );
    assert_eq!(
        calls(&step),
        vec![google::gmail_list_url(&roots(), &emails(), SHARED_LIMIT)]
    );
}

#[test]
fn gmail_lists_then_reads_each_message_newest_first_and_caches() {
    let (mut load, _) = section(
        Some(&google()),
        Integration::Gmail,
        &sources(),
        &PanelState::default(),
        NOW,
    );
    let list = json!({"messages": [{"id": "m1"}, {"id": "m2"}]}).to_string();
    let step = load.called(vec![Ok(list)]);
    assert_eq!(
        calls(&step),
        vec![
            google::gmail_message_url(&roots(), "m1"),
            google::gmail_message_url(&roots(), "m2")
        ]
    );
    let msg = |id: &str, date: i64, subject: &str| {
        json!({"id": id, "internalDate": date.to_string(),
            "payload": {"headers": [{"name": "Subject", "value": subject}]}})
        .to_string()
    };
    let (a, entry) = section_answer(load.called(vec![
        Ok(msg("m1", 1_000, "Older")),
        Ok(msg("m2", 2_000, "Newer")),
    ]));
    let SectionAnswer::Ready {
        data: SectionData::Emails { items, .. },
        offline: false,
        ..
    } = a
    else {
        panic!("emails, got {a:?}");
    };
    let subjects: Vec<&str> = items.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, ["Newer", "Older"]);
    assert_eq!(
        entry.map(|e| e.key),
        Some("agent@example.com Gmail bob@contoso.com".into())
    );
}

#[test]
fn gmail_with_nothing_shared_is_an_empty_list() {
    let (mut load, _) = section(
        Some(&google()),
        Integration::Gmail,
        &sources(),
        &PanelState::default(),
        NOW,
    );
    let (a, _) = section_answer(load.called(vec![Ok("{}".into())]));
    assert!(
        matches!(a, SectionAnswer::Ready { data: SectionData::Emails { ref items, .. }, .. } if items.is_empty())
    );
}

#[test]
fn one_message_failing_fails_the_section() {
    let (mut load, _) = section(
        Some(&google()),
        Integration::Gmail,
        &sources(),
        &PanelState::default(),
        NOW,
    );
    load.called(vec![Ok(json!({"messages": [{"id": "m1"}]}).to_string())]);
    let (a, _) = section_answer(load.called(vec![Err(refused())]));
    assert_eq!(
        a,
        SectionAnswer::Failed {
            key: "sectionRefused".into(),
            detail: "HTTP 400: bad".into()
        }
    );
}

#[test]
fn drive_and_calendar_ask_one_request_each() {
    let state = PanelState::default();
    let (mut load, step) = section(Some(&google()), Integration::Drive, &sources(), &state, NOW);
    assert_eq!(
        calls(&step),
        vec![google::drive_url(&roots(), &emails(), 3)]
    );
    let (a, _) = section_answer(load.called(vec![Ok(json!({"files": []}).to_string())]));
    assert!(matches!(
        a,
        SectionAnswer::Ready {
            data: SectionData::Docs { .. },
            ..
        }
    ));
    let (mut load, step) = section(
        Some(&google()),
        Integration::Calendar,
        &sources(),
        &state,
        NOW,
    );
    let url = &calls(&step)[0];
    assert!(url.starts_with("http://api.test/calendar/v3/"), "{url}");
    let (a, _) = section_answer(load.called(vec![Ok(json!({"items": []}).to_string())]));
    assert!(matches!(
        a,
        SectionAnswer::Ready {
            data: SectionData::Events { .. },
            ..
        }
    ));
}

fn cached_docs(state: &mut PanelState, at: f64) {
    state.remember(
        CacheEntry {
            key: "agent@example.com Drive bob@contoso.com".into(),
            value: Cached::Section(SectionData::Docs {
                items: vec![],
                see_all: "cached".into(),
            }),
        },
        at,
    );
}

#[test]
fn a_fresh_section_comes_from_the_cache() {
    let mut state = PanelState::default();
    cached_docs(&mut state, NOW - 1_000.0);
    let (_, step) = section(Some(&google()), Integration::Drive, &sources(), &state, NOW);
    assert_eq!(
        section_answer(step).0,
        SectionAnswer::Ready {
            data: SectionData::Docs {
                items: vec![],
                see_all: "cached".into()
            },
            fetched_ms: NOW - 1_000.0,
            offline: false
        }
    );
}

#[test]
fn offline_an_old_section_is_shown_with_its_age() {
    let mut state = PanelState::default();
    let then = NOW - CACHE_TTL_MS * 2.0;
    cached_docs(&mut state, then);
    let (mut load, step) = section(Some(&google()), Integration::Drive, &sources(), &state, NOW);
    assert!(matches!(step, SectionStep::Call(_)), "stale: asked again");
    let (a, entry) = section_answer(load.called(vec![Err(Failure::Network("down".into()))]));
    assert_eq!(
        a,
        SectionAnswer::Ready {
            data: SectionData::Docs {
                items: vec![],
                see_all: "cached".into()
            },
            fetched_ms: then,
            offline: true
        }
    );
    assert_eq!(entry, None);
}

#[test]
fn offline_without_a_cache_says_so() {
    let (mut load, _) = section(
        Some(&google()),
        Integration::Drive,
        &sources(),
        &PanelState::default(),
        NOW,
    );
    assert_eq!(
        section_answer(load.called(vec![Err(Failure::Network("down".into()))])).0,
        SectionAnswer::Failed {
            key: "sectionOffline".into(),
            detail: "down".into()
        }
    );
}

#[test]
fn a_section_whose_scope_went_missing_asks_to_connect() {
    let (mut load, _) = section(
        Some(&google()),
        Integration::Drive,
        &sources(),
        &PanelState::default(),
        NOW,
    );
    assert_eq!(
        section_answer(load.called(vec![Err(scope_missing())])).0,
        SectionAnswer::NeedsConnect
    );
    let (mut load, _) = section(
        Some(&google()),
        Integration::Drive,
        &sources(),
        &PanelState::default(),
        NOW,
    );
    assert_eq!(
        section_answer(load.called(vec![Err(Failure::SignedOut)])).0,
        SectionAnswer::SignedOut
    );
}

#[test]
fn the_cache_drops_entries_far_older_than_its_lifetime() {
    let mut state = PanelState::default();
    cached_docs(&mut state, NOW);
    state.remember(
        CacheEntry {
            key: "other".into(),
            value: Cached::Presence(Presence::Free),
        },
        NOW + CACHE_TTL_MS * 12.0,
    );
    assert!(
        state
            .cached("agent@example.com Drive bob@contoso.com")
            .is_none()
    );
    assert!(state.cached("other").is_some());
}
