//! The emulated People sync driven by Ringside's own sync rules
//! (core::contacts): a paged full sync into a store kept the way the worker
//! keeps it, incremental changes and deletions, an expired sync token, a
//! 429 in the middle of a run, and edits with etags (stale ones merged).

use ringside_core::contacts::merge::{self, Draft};
use ringside_core::contacts::sync::{SyncFailure, SyncState, classify_failure};
use ringside_core::contacts::{Source, StoredContact};
use ringside_core::context::ApiRoots;
use ringside_core::context::google::ApiFailure;

use super::*;
use crate::test_support::{Stop, Store, sync};

const CONTACTS_SCOPE: &str = "https://www.googleapis.com/auth/contacts";

/// Runs (or resumes) one sync run to its end or its first stop.
async fn run(
    app: &Router,
    token: &str,
    source: Source,
    state: &mut SyncState,
    store: &mut Store,
) -> Result<(), Stop> {
    let roots = ApiRoots::under(&format!("{BASE}/googleapis"));
    sync(app, token, source, &roots, state, store).await
}

async fn post_control(app: &Router, path: &str, v: Value) -> (u16, String) {
    let (s, _, b) = call(
        app,
        Method::POST,
        path,
        Some(("application/json", v.to_string())),
        None,
    )
    .await;
    (s, b)
}

#[tokio::test]
async fn full_then_incremental_sync_with_deletions_and_an_expired_token() {
    let app = setup().await;
    let (token, _) = grant(&app, None).await;
    let (s, b) = post_control(
        &app,
        "/control/google/people/generate",
        json!({"contacts": 2500, "directory": 300}),
    )
    .await;
    assert_eq!(s, 204, "{b}");

    let mut state = SyncState::default();
    let mut store = Store::default();
    run(&app, &token, Source::Google, &mut state, &mut store)
        .await
        .unwrap();
    assert_eq!(store.count(Source::Google), 2500);
    assert_eq!(store.pages, 3, "1000 per page");
    assert_eq!((state.fetched, state.total), (2500, Some(2500)));
    let odd = &store.contacts["google:people/c7"];
    assert!(
        odd.phones
            .iter()
            .any(|p| p.raw == "ext. 12" && p.e164.is_none()),
        "a number that does not parse is kept as written"
    );
    assert_eq!(
        store.contacts["google:people/c5"].phones.len(),
        31,
        "a contact with dozens of numbers"
    );
    assert_eq!(
        store.contacts["google:people/c1"].phones[0].e164.as_deref(),
        Some("+34601000001")
    );

    let mut dir_state = SyncState::default();
    run(&app, &token, Source::Directory, &mut dir_state, &mut store)
        .await
        .unwrap();
    assert_eq!(store.count(Source::Directory), 300);

    // An edit and a deletion at the source come with the next incremental run.
    let (s, _, _) = call(
        &app,
        Method::PATCH,
        "/control/google/people/contacts/c10",
        Some((
            "application/json",
            json!({"names": [{"unstructuredName": "Renamed Person"}]}).to_string(),
        )),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _, _) = call(
        &app,
        Method::DELETE,
        "/control/google/people/contacts/c11",
        None,
        None,
    )
    .await;
    assert_eq!(s, 204);
    store.pages = 0;
    run(&app, &token, Source::Google, &mut state, &mut store)
        .await
        .unwrap();
    assert_eq!(store.pages, 1);
    assert_eq!(state.fetched, 2, "only the changes");
    assert_eq!(store.contacts["google:people/c10"].name, "Renamed Person");
    assert!(!store.contacts.contains_key("google:people/c11"));
    assert_eq!(store.count(Source::Google), 2499);

    // The token expires (and one more deletion happens meanwhile): a clean full resync.
    let (s, _, _) = call(
        &app,
        Method::DELETE,
        "/control/google/people/contacts/c12",
        None,
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = post_control(&app, "/control/google/people/expire-sync-tokens", json!({})).await;
    assert_eq!(s, 204);
    // EXPIRED_SYNC_TOKEN, then the full listing, in the same run.
    let generation = state.generation;
    run(&app, &token, Source::Google, &mut state, &mut store)
        .await
        .unwrap();
    assert_eq!(state.generation, generation + 1, "a full run");
    assert_eq!(
        store.count(Source::Google),
        2498,
        "no duplicates, and the deletion is swept"
    );
    assert!(!store.contacts.contains_key("google:people/c12"));
    assert!(state.sync_token.is_some());
    // And the new token works.
    run(&app, &token, Source::Google, &mut state, &mut store)
        .await
        .unwrap();
    assert_eq!(state.fetched, 0);
}

#[tokio::test]
async fn a_429_in_the_middle_of_a_run_resumes_where_it_stopped() {
    let app = setup().await;
    let (token, _) = grant(&app, None).await;
    post_control(
        &app,
        "/control/google/people/generate",
        json!({"contacts": 2100}),
    )
    .await;
    put(&app, "/control/faults", json!([{"path_prefix": "/googleapis/people/v1/people/me/connections",
        "status": 429, "retry_after": 1, "count": 1, "after": 1,
        "body": {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}}])).await;
    let mut state = SyncState::default();
    let mut store = Store::default();
    let err = run(&app, &token, Source::Google, &mut state, &mut store)
        .await
        .unwrap_err();
    assert_eq!(err, Stop::Wait(1000), "Retry-After: 1");
    assert_eq!(store.count(Source::Google), 1000, "the first page is kept");
    assert!(state.running && state.page_token.is_some());
    run(&app, &token, Source::Google, &mut state, &mut store)
        .await
        .unwrap();
    assert_eq!(store.pages, 3, "page 1 once, then pages 2 and 3");
    assert_eq!(store.count(Source::Google), 2100);
}

#[tokio::test]
async fn edits_carry_the_etag_and_a_stale_one_is_merged() {
    let app = setup().await;
    post_control(
        &app,
        "/control/google/people/generate",
        json!({"contacts": 3, "directory": 1}),
    )
    .await;
    let (read_only, _) = grant(&app, None).await;
    let mut state = SyncState::default();
    let mut store = Store::default();
    run(&app, &read_only, Source::Google, &mut state, &mut store)
        .await
        .unwrap();
    let ana = store.contacts["google:people/c0"].clone();
    let base = Draft::of(&ana);
    let mut mine = base.clone();
    mine.name = "Ana Ruiz Editada".into();
    mine.phones.push("+34 699 00 00 01".into());
    let url = format!(
        "/googleapis/people/v1/{}:updateContact?updatePersonFields={}&personFields=names,phoneNumbers,emailAddresses,metadata",
        ana.resource,
        merge::UPDATE_FIELDS
    );
    let body = |d: &Draft, etag: &str| {
        Some((
            "application/json",
            merge::person_body(d, Some(etag), &|_: &str| None).to_string(),
        ))
    };

    // Editing needs the contacts scope, granted incrementally.
    let (s, _, b) = call(
        &app,
        Method::PATCH,
        &url,
        body(&mine, &ana.etag),
        Some(&read_only),
    )
    .await;
    assert_eq!(
        classify_failure(Source::Google, s, &b, None),
        SyncFailure::Api(ApiFailure::InsufficientScope)
    );
    let (token, scope) = grant(&app, Some(CONTACTS_SCOPE)).await;
    assert!(scope.split(' ').any(|s| s == CONTACTS_SCOPE));

    // Someone changes the email at the source first: the agent's etag is stale.
    let (s, _, _) = call(
        &app,
        Method::PATCH,
        "/control/google/people/contacts/c0",
        Some((
            "application/json",
            json!({"emailAddresses": [{"value": "ana@new.example"}]}).to_string(),
        )),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _, b) = call(
        &app,
        Method::PATCH,
        &url,
        body(&mine, &ana.etag),
        Some(&token),
    )
    .await;
    assert!(merge::is_stale_etag(s, &b), "{s} {b}");

    // Refetch, merge, send again with the fresh etag.
    let (s, _, b) = call(
        &app,
        Method::GET,
        &format!(
            "/googleapis/people/v1/{}?personFields=names,phoneNumbers,emailAddresses,metadata",
            ana.resource
        ),
        None,
        Some(&token),
    )
    .await;
    assert_eq!(s, 200);
    let theirs =
        ringside_core::contacts::from_person(Source::Google, &serde_json::from_str(&b).unwrap())
            .unwrap();
    let merged = merge::merge(&base, &mine, &Draft::of(&theirs));
    assert!(merged.lost.is_empty());
    let (s, _, b) = call(
        &app,
        Method::PATCH,
        &url,
        body(&merged.draft, &theirs.etag),
        Some(&token),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let saved =
        ringside_core::contacts::from_person(Source::Google, &serde_json::from_str(&b).unwrap())
            .unwrap();
    assert_eq!(saved.name, "Ana Ruiz Editada");
    assert_eq!(saved.emails, vec!["ana@new.example"]);
    assert_eq!(
        saved
            .phones
            .iter()
            .filter_map(|p| p.e164.clone())
            .collect::<Vec<_>>(),
        vec!["+34600000000", "+34699000001"]
    );
    assert_ne!(saved.etag, theirs.etag);

    let (_, _, writes) = call(
        &app,
        Method::GET,
        "/control/google/people/writes",
        None,
        None,
    )
    .await;
    let writes: Vec<Value> = serde_json::from_str(&writes).unwrap();
    let sent: Vec<(u64, &str)> = writes
        .iter()
        .map(|w| (w["status"].as_u64().unwrap(), w["etag"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sent,
        vec![(400, ana.etag.as_str()), (200, theirs.etag.as_str())]
    );

    // The incremental sync brings the saved version (once).
    run(&app, &read_only, Source::Google, &mut state, &mut store)
        .await
        .unwrap();
    assert_eq!(
        store.contacts["google:people/c0"],
        StoredContact {
            generation: state.generation,
            ..saved
        }
    );

    // Directory people are read-only; no etag is refused.
    let (s, _, _) = call(
        &app,
        Method::PATCH,
        "/googleapis/people/v1/people/d0:updateContact?updatePersonFields=names",
        body(&mine, "x"),
        Some(&token),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _, b) = call(
        &app,
        Method::PATCH,
        &url,
        Some(("application/json", json!({"names": []}).to_string())),
        Some(&token),
    )
    .await;
    assert_eq!(s, 400);
    assert!(b.contains("must set person.etag"));
}
