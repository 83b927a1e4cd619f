//! The contact store's decisions in the worker.

use serde_json::json;

use super::*;
use crate::contacts::from_person;

fn person(source: Source, id: &str, name: &str, phone: &str, email: &str) -> StoredContact {
    from_person(
        source,
        &json!({
            "resourceName": format!("people/{id}"),
            "names": [{"displayName": name}],
            "phoneNumbers": [{"value": phone, "canonicalForm": phone}],
            "emailAddresses": [{"value": email}],
        }),
    )
    .unwrap()
}

fn store() -> ContactStore {
    let mut s = ContactStore::default();
    s.load(
        "agent@example.com",
        vec![
            person(
                Source::Google,
                "c1",
                "Ana Ruiz",
                "+34612345678",
                "ana@example.com",
            ),
            person(
                Source::Directory,
                "d1",
                "Bob Stone",
                "+14155550100",
                "bob@example.com",
            ),
        ],
        Default::default(),
    );
    s
}

#[test]
fn each_provider_syncs_its_own_sources() {
    assert_eq!(sources(ProviderKind::Google, false), vec![Source::Google]);
    assert_eq!(
        sources(ProviderKind::Google, true),
        vec![Source::Google, Source::Directory]
    );
    assert_eq!(
        sources(ProviderKind::Microsoft, true),
        vec![Source::Outlook]
    );
    assert_eq!(sources(ProviderKind::Oidc, true), vec![]);
}

#[test]
fn a_popup_opening_syncs_only_after_a_few_seconds() {
    assert!(sync_due(None, 0.0), "never synced");
    assert!(!sync_due(Some(10_000), 10_000.0 + STALE_MS));
    assert!(sync_due(Some(10_000), 10_001.0 + STALE_MS));
}

#[test]
fn the_view_shows_the_run_in_progress_and_its_total_only_for_a_full_run() {
    let mut s = store();
    assert_eq!(s.view().count, 2);
    assert_eq!(s.view().syncing, None);
    s.syncing = true;
    assert_eq!(s.view().syncing, Some((0, None)), "starting");
    let st = &mut s.states[Source::Google.slot()];
    st.running = true;
    st.fetched = 40;
    st.total = Some(100);
    st.full = true;
    assert_eq!(s.view().syncing, Some((40, Some(100))));
    s.states[Source::Google.slot()].full = false;
    assert_eq!(s.view().syncing, Some((40, None)));
    s.states[Source::Directory.slot()].completed_ms = Some(5);
    s.states[Source::Google.slot()].completed_ms = Some(9);
    assert_eq!(s.view().synced_ms, Some(9));
}

#[test]
fn lookups_by_number_email_and_call() {
    let s = store();
    assert_eq!(
        s.lookup(&ContactQuery::Email("ANA@example.com".into()))
            .map(|c| c.name),
        Some("Ana Ruiz".into())
    );
    assert_eq!(
        s.lookup(&ContactQuery::Phone("+14155550100".into()))
            .map(|c| c.name),
        Some("Bob Stone".into())
    );
    assert_eq!(s.lookup(&ContactQuery::Name("Ana".into())), None);
    assert_eq!(
        s.caller("sip:+34612345678@pbx.example.com").map(|h| h.name),
        Some("Ana Ruiz".into())
    );
    assert_eq!(s.caller("sip:alice@pbx.example.com"), None);
    assert_eq!(s.search("bob").len(), 1);
}

#[test]
fn the_directory_is_dropped_when_policy_turns_it_off() {
    let mut s = store();
    let ids = s.directory_to_drop().unwrap();
    assert_eq!(ids, vec!["directory:people/d1".to_owned()]);
    s.drop_directory(&ids);
    assert_eq!(s.view().count, 1);
    assert_eq!(s.directory_to_drop(), None, "nothing left to drop");
}

#[test]
fn a_saved_contact_is_stamped_with_its_sources_generation() {
    let mut s = store();
    s.states[Source::Google.slot()].generation = 7;
    let c = person(
        Source::Google,
        "c2",
        "New",
        "+34600000000",
        "new@example.com",
    );
    let c = s.stamped(&c);
    assert_eq!(c.generation, 7);
    s.upsert(c);
    assert!(s.get("google:people/c2").is_some());
    s.remove("google:people/c2");
    assert!(s.get("google:people/c2").is_none());
}

#[test]
fn a_page_changes_memory_as_it_changed_the_database() {
    let mut s = store();
    let state = SyncState {
        completed_ms: Some(1),
        ..SyncState::default()
    };
    s.apply_page(
        Source::Google,
        &["google:people/c1".to_owned()],
        vec![person(
            Source::Google,
            "c3",
            "Carla",
            "+34600000003",
            "c@example.com",
        )],
        state.clone(),
    );
    assert!(s.get("google:people/c1").is_none());
    assert!(s.get("google:people/c3").is_some());
    assert_eq!(s.states[Source::Google.slot()], state);
    assert_eq!(meta_key(Source::Outlook), "sync:outlook");
    assert!(s.is_loaded_for("agent@example.com"));
}
