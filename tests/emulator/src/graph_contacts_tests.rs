//! The emulated Graph contacts driven by Ringside's own sync rules
//! (core::contacts::graph): the folder lookup, a paged full delta round, an
//! edit and a removal in the next round, an expired delta link (410) and a
//! clean full resync, the scope checks, and edits with If-Match.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use axum::http::Method;
use ringside_core::auth::pkce::{RANDOM_BYTES, RequestSecrets};
use ringside_core::auth::provider::{self, Extras, ProviderConfig, ProviderKind};
use ringside_core::contacts::Source;
use ringside_core::contacts::sync::{SyncFailure, SyncState, classify_failure};
use ringside_core::context::ApiRoots;
use ringside_core::context::google::ApiFailure;

use super::*;
use crate::test_support::{BASE, REDIRECT, Stop, Store, send, sync};

const ANA: &str = "ana@contoso.com";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, HeaderMap, String) {
    let body = body.map(|v| ("application/json", v.to_string()));
    send(app, method, uri, headers, body).await
}

fn cfg() -> ProviderConfig {
    ProviderConfig {
        kind: ProviderKind::Microsoft,
        issuer: Some(format!("{BASE}/microsoft/{TENANT}/v2.0")),
        client_id: Some("ringside-entra".into()),
        allowed_domains: vec![],
        tenant: Some(TENANT.into()),
    }
}

/// One code flow at the Microsoft provider (sign-in scopes, or one more
/// scope); returns the access token and its scope.
async fn grant(app: &Router, incremental: Option<&str>) -> (String, String) {
    let (_, _, d) = call(
        app,
        Method::GET,
        &format!("/microsoft/{TENANT}/v2.0/.well-known/openid-configuration"),
        None,
        &[],
    )
    .await;
    let d: provider::Discovery = serde_json::from_str(&d).unwrap();
    let secrets = RequestSecrets::from_random(&[9u8; RANDOM_BYTES]);
    let extras = Extras {
        incremental,
        ..Extras::default()
    };
    let url = provider::authorization_url_with(&cfg(), &d, REDIRECT, &secrets, &extras).unwrap();
    let (status, headers, _) = call(app, Method::GET, &url, None, &[]).await;
    assert_eq!(status, 303);
    let code =
        provider::parse_redirect(headers[header::LOCATION].to_str().unwrap(), &secrets.state)
            .unwrap();
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", "ringside-entra"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", secrets.verifier.as_str()),
        ])
        .finish();
    let (s, _, body) = send(
        app,
        Method::POST,
        &d.token_endpoint,
        &[],
        Some(("application/x-www-form-urlencoded", form)),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    (
        v["access_token"].as_str().unwrap().to_owned(),
        v["scope"].as_str().unwrap().to_owned(),
    )
}

async fn setup() -> Router {
    let app = crate::app(crate::Options::default());
    for (path, v) in [
        (
            "/control/oidc-microsoft/clients",
            json!([{"client_id": "ringside-entra", "redirect_uris": [REDIRECT]}]),
        ),
        (
            "/control/oidc-microsoft/users",
            json!([{"email": ANA, "name": "Ana Ruiz", "tid": TENANT}]),
        ),
        ("/control/oidc-microsoft/consent", json!({"auto": ANA})),
    ] {
        let (s, _, b) = call(&app, Method::PUT, path, Some(v), &[]).await;
        assert!(s < 300, "{path}: {s} {b}");
    }
    app
}

fn roots() -> ApiRoots {
    let mut r = ApiRoots::under(&format!("{BASE}/googleapis"));
    r.graph = format!("{BASE}/graph/v1.0");
    r
}

/// Runs one sync round the way the worker does (folder first when unknown).
async fn run(
    app: &Router,
    token: &str,
    state: &mut SyncState,
    store: &mut Store,
) -> Result<(), Stop> {
    sync(app, token, Source::Outlook, &roots(), state, store).await
}

#[tokio::test]
async fn delta_rounds_with_changes_removals_and_an_expired_link() {
    let app = setup().await;
    let (token, scope) = grant(&app, None).await;
    assert!(
        scope.split_whitespace().any(|s| s == "Contacts.Read"),
        "{scope}"
    );
    let (s, _, _) = call(
        &app,
        Method::POST,
        "/control/graph/generate",
        Some(json!({"contacts": 2500})),
        &[],
    )
    .await;
    assert_eq!(s, 204);

    let mut state = SyncState::default();
    let mut store = Store::default();
    run(&app, &token, &mut state, &mut store).await.unwrap();
    assert_eq!(store.contacts.len(), 2500);
    assert_eq!(store.pages, 3, "1000 per page, as Prefer asked");
    assert_eq!(state.folder.as_deref(), Some(FOLDER));
    let c1 = &store.contacts["outlook:AAMkOl00001"];
    assert_eq!(c1.name, "Rémi Keller 1");
    assert_eq!(c1.organization.as_deref(), Some("Fabrikam"));
    assert_eq!(c1.phones[0].e164.as_deref(), Some("+33612010000"));
    let national = &store.contacts["outlook:AAMkOl00007"];
    assert_eq!(
        (
            national.phones[0].raw.as_str(),
            national.phones[0].e164.as_deref()
        ),
        ("06 12 07 00 07", None),
        "kept as typed"
    );
    assert!(
        state.sync_token.as_deref().is_some_and(|l| l
            .starts_with(&format!("{BASE}/graph/v1.0/me/contactFolders/"))
            && l.contains("$deltatoken=")),
        "{:?}",
        state.sync_token
    );

    // An edit and a removal in Outlook arrive with the next round, alone.
    let (s, _, _) = call(
        &app,
        Method::PATCH,
        "/control/graph/contacts/AAMkOl00010",
        Some(json!({"displayName": "Renamed Person"})),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let (s, _, _) = call(
        &app,
        Method::DELETE,
        "/control/graph/contacts/AAMkOl00011",
        None,
        &[],
    )
    .await;
    assert_eq!(s, 204);
    store.pages = 0;
    run(&app, &token, &mut state, &mut store).await.unwrap();
    assert_eq!(store.pages, 1);
    assert_eq!(state.fetched, 2, "only the two changes");
    assert_eq!(store.contacts["outlook:AAMkOl00010"].name, "Renamed Person");
    assert!(!store.contacts.contains_key("outlook:AAMkOl00011"));

    // The delta link expires: 410 Gone, then a full round with no duplicates.
    let (s, _, _) = call(
        &app,
        Method::POST,
        "/control/graph/expire-delta-links",
        None,
        &[],
    )
    .await;
    assert_eq!(s, 204);
    let (s, _, body) = call(
        &app,
        Method::GET,
        state.sync_token.as_deref().unwrap(),
        None,
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(s, 410, "{body}");
    let generation = state.generation;
    run(&app, &token, &mut state, &mut store).await.unwrap();
    assert_eq!(state.generation, generation + 1, "a full round");
    assert_eq!(store.contacts.len(), 2499);
    assert!(
        store
            .contacts
            .values()
            .all(|c| c.generation == state.generation)
    );
}

#[tokio::test]
async fn scopes_and_if_match_are_checked() {
    let app = setup().await;
    call(
        &app,
        Method::POST,
        "/control/graph/generate",
        Some(json!({"contacts": 3})),
        &[],
    )
    .await;
    // No token: Graph's 401.
    let (s, _, body) = call(&app, Method::GET, "/graph/v1.0/me/contacts", None, &[]).await;
    assert_eq!(s, 401);
    assert!(body.contains("InvalidAuthenticationToken"));

    let (read, _) = grant(&app, None).await;
    let bearer = format!("Bearer {read}");
    let url = "/graph/v1.0/me/contacts/AAMkOl00001";
    let (s, _, body) = call(&app, Method::GET, url, None, &[("authorization", &bearer)]).await;
    assert_eq!(s, 200);
    let etag = serde_json::from_str::<Value>(&body).unwrap()["@odata.etag"]
        .as_str()
        .unwrap()
        .to_owned();
    // Contacts.Read cannot write.
    let (s, _, body) = call(
        &app,
        Method::PATCH,
        url,
        Some(json!({"displayName": "X"})),
        &[("authorization", &bearer), ("if-match", &etag)],
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(
        classify_failure(Source::Outlook, s, &body, None),
        SyncFailure::Api(ApiFailure::InsufficientScope)
    );
    // One more scope (consent is cumulative at Microsoft): writes go through.
    let (write, scope) = grant(&app, Some("Contacts.ReadWrite")).await;
    assert!(
        scope.contains("Contacts.Read ") || scope.ends_with("Contacts.Read"),
        "the earlier scopes stay: {scope}"
    );
    let bearer = format!("Bearer {write}");
    let (s, _, body) = call(
        &app,
        Method::PATCH,
        url,
        Some(json!({"displayName": "Ana Edited"})),
        &[("authorization", &bearer), ("if-match", &etag)],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    // The old etag is now stale: 412.
    let (s, _, body) = call(
        &app,
        Method::PATCH,
        url,
        Some(json!({"displayName": "Late"})),
        &[("authorization", &bearer), ("if-match", &etag)],
    )
    .await;
    assert_eq!(s, 412, "{body}");
    assert!(body.contains("ErrorIrresolvableConflict"));
    let (_, _, writes) = call(&app, Method::GET, "/control/graph/writes", None, &[]).await;
    let writes: Vec<Value> = serde_json::from_str(&writes).unwrap();
    let seen: Vec<(u64, &str)> = writes
        .iter()
        .map(|w| {
            (
                w["status"].as_u64().unwrap(),
                w["etag"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [(200, etag.as_str()), (412, etag.as_str())],
        "a refused token writes nothing"
    );
}
