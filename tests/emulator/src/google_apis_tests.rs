//! The emulated Google APIs through the whole router, driven by Ringside's
//! own request builders and parsers (core::context): tokens from the
//! provider's code flow, scopes added by incremental authorization, Google's
//! insufficient-scope answer, and a fault with Retry-After.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use axum::http::Method;
use ringside_core::auth::pkce::{RANDOM_BYTES, RequestSecrets};
use ringside_core::auth::provider::{self, Extras, ProviderConfig, ProviderKind};
use ringside_core::context::google::{self, ApiFailure};
use ringside_core::context::{ApiRoots, ContactQuery, Integration, Presence, matches};

use super::*;
use crate::test_support::{BASE, REDIRECT, send};

const ANA: &str = "ana@example.com";
const BOB: &str = "bob@contoso.com";

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<(&str, String)>,
    bearer: Option<&str>,
) -> (u16, HeaderMap, String) {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    send(app, method, uri, &headers, body).await
}

async fn put(app: &Router, path: &str, v: Value) {
    let (s, _, b) = call(
        app,
        Method::PUT,
        path,
        Some(("application/json", v.to_string())),
        None,
    )
    .await;
    assert!(s < 300, "{path}: {s} {b}");
}

fn cfg() -> ProviderConfig {
    ProviderConfig {
        kind: ProviderKind::Google,
        issuer: Some(format!("{BASE}/google")),
        client_id: Some("ringside".into()),
        allowed_domains: vec![],
        tenant: None,
    }
}

/// One code flow; returns (access token, granted scope).
async fn grant(app: &Router, incremental: Option<&str>) -> (String, String) {
    let (_, _, d) = call(
        app,
        Method::GET,
        "/google/.well-known/openid-configuration",
        None,
        None,
    )
    .await;
    let d: provider::Discovery = serde_json::from_str(&d).unwrap();
    let secrets = RequestSecrets::from_random(&[7u8; RANDOM_BYTES]);
    let extras = Extras {
        incremental,
        ..Extras::default()
    };
    let url = provider::authorization_url_with(&cfg(), &d, REDIRECT, &secrets, &extras).unwrap();
    let (status, headers, _) = call(app, Method::GET, &url, None, None).await;
    assert_eq!(status, 303);
    let code =
        provider::parse_redirect(headers[header::LOCATION].to_str().unwrap(), &secrets.state)
            .unwrap();
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", "ringside"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", secrets.verifier.as_str()),
        ])
        .finish();
    let (s, _, body) = call(
        app,
        Method::POST,
        "/google/token",
        Some(("application/x-www-form-urlencoded", form)),
        None,
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
    put(
        &app,
        "/control/oidc/clients",
        json!([{"client_id": "ringside", "redirect_uris": [REDIRECT]}]),
    )
    .await;
    put(
        &app,
        "/control/oidc/users",
        json!([{"email": ANA, "name": "Ana Ruiz", "hd": "example.com"}]),
    )
    .await;
    put(&app, "/control/oidc/consent", json!({"auto": ANA})).await;
    let messages: Vec<Value> = (0..12)
        .map(|i| {
            let (from, to) = if i % 3 == 0 { (BOB, ANA) } else if i % 3 == 1 { (ANA, BOB) } else { ("carol@example.com", ANA) };
            json!({"id": format!("m{i}"), "from": from, "to": [to], "subject": format!("Subject {i}"), "date_ms": 1_788_000_000_000i64 + i * 60_000})
        })
        .collect();
    put(
        &app,
        "/control/google/fixtures",
        json!({
            "contacts": [{"resourceName": "people/c1", "names": [{"displayName": "Bob Stone"}],
                "emailAddresses": [{"value": BOB}], "phoneNumbers": [{"value": "+34 612 34 56 78", "canonicalForm": "+34612345678"}],
                "organizations": [{"name": "Contoso"}]}],
            "other_contacts": [{"resourceName": "otherContacts/c9", "names": [{"displayName": "Carol Other"}],
                "emailAddresses": [{"value": "carol@example.com"}]}],
            "directory": [{"resourceName": "people/d1", "names": [{"displayName": "Carol Directory"}],
                "emailAddresses": [{"value": "carol@example.com"}]}],
            "messages": messages,
            "files": [
                {"id": "f1", "name": "Old plan", "modified_time": "2026-08-01T10:00:00Z", "owners": [ANA], "readers": [BOB]},
                {"id": "f2", "name": "Bob's sheet", "modified_time": "2026-09-01T10:00:00Z", "owners": [BOB], "writers": [ANA]},
                {"id": "f3", "name": "Private", "modified_time": "2026-09-02T10:00:00Z", "owners": [ANA]},
                {"id": "f4", "name": "Trashed", "modified_time": "2026-09-03T10:00:00Z", "owners": [ANA], "readers": [BOB], "trashed": true}
            ],
            "events": [
                {"id": "e1", "summary": "Contract review", "start": "2026-09-01T10:00:00Z", "end": "2026-09-01T11:00:00Z", "attendees": [ANA, BOB]},
                {"id": "e2", "summary": "Team sync", "start": "2026-09-01T12:00:00Z", "end": "2026-09-01T13:00:00Z", "attendees": [ANA]}
            ],
            "busy": {"bob@contoso.com": [{"start": "2026-09-01T14:00:00Z", "end": "2026-09-01T15:00:00Z"}]}
        }),
    )
    .await;
    app
}

#[tokio::test]
async fn people_then_each_integration_after_its_own_consent() {
    let app = setup().await;
    let roots = ApiRoots::under(&format!("{BASE}/googleapis"));
    let (token, scope) = grant(&app, None).await;
    assert!(!Integration::Gmail.granted_in(&scope));

    // The contact by phone, from the sign-in scopes.
    let q = ContactQuery::Phone("+34612345678".into());
    let (s, _, body) = call(
        &app,
        Method::GET,
        &google::people_urls(&roots, &q)[0],
        None,
        Some(&token),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let people = google::parse_people(&body);
    assert_eq!(people.len(), 1);
    assert!(matches(&people[0], &q));
    // Other contacts and the directory, from the sign-in scopes too.
    let carol = ContactQuery::Email("carol@example.com".into());
    for (i, name) in [(1, "Carol Other"), (2, "Carol Directory")] {
        let url = &google::people_urls(&roots, &carol)[i];
        let (s, _, body) = call(&app, Method::GET, url, None, Some(&token)).await;
        assert_eq!(s, 200, "{url}: {body}");
        assert_eq!(google::parse_people(&body)[0].name, name);
    }
    // A later incremental grant keeps them.
    let (s, _, body) = call(
        &app,
        Method::GET,
        &google::people_urls(&roots, &q)[2],
        None,
        Some(&grant(&app, Some(Integration::Gmail.scope())).await.0),
    )
    .await;
    assert_eq!(s, 200, "incremental grants keep the earlier scopes: {body}");

    // Gmail before consent: Google's insufficient-scope answer.
    let list = google::gmail_list_url(&roots, &[BOB.into()], 5);
    let (s, h, body) = call(&app, Method::GET, &list, None, Some(&token)).await;
    assert_eq!(
        google::classify(s, &body, None),
        ApiFailure::InsufficientScope
    );
    assert!(
        h[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("gmail.readonly")
    );

    // Incremental consent: the new token carries both.
    let (token, scope) = grant(&app, Some(Integration::Gmail.scope())).await;
    assert!(Integration::Gmail.granted_in(&scope), "{scope}");
    assert!(
        scope.contains("contacts.readonly"),
        "earlier scopes kept: {scope}"
    );
    let (s, _, body) = call(&app, Method::GET, &list, None, Some(&token)).await;
    assert_eq!(s, 200, "{body}");
    let ids = google::parse_gmail_ids(&body);
    assert_eq!(
        ids,
        vec!["m10", "m9", "m7", "m6", "m4"],
        "from or to Bob, newest first"
    );
    let (_, _, body) = call(
        &app,
        Method::GET,
        &google::gmail_message_url(&roots, "m10"),
        None,
        Some(&token),
    )
    .await;
    let m = google::parse_gmail_message(&body).unwrap();
    assert_eq!(
        (m.subject.as_str(), m.date_ms),
        ("Subject 10", 1_788_000_600_000)
    );

    // Drive: either direction, not trashed, newest first.
    let drive = google::drive_url(&roots, &[BOB.into()], 3);
    let (s, _, body) = call(&app, Method::GET, &drive, None, Some(&token)).await;
    assert_eq!(
        google::classify(s, &body, None),
        ApiFailure::InsufficientScope
    );
    let (token, _) = grant(&app, Some(Integration::Drive.scope())).await;
    let (_, _, body) = call(&app, Method::GET, &drive, None, Some(&token)).await;
    let titles: Vec<String> = google::parse_drive(&body)
        .into_iter()
        .map(|d| d.title)
        .collect();
    assert_eq!(titles, vec!["Bob's sheet", "Old plan"]);

    // Calendar: shared events and who is busy now.
    let (token, scope) = grant(&app, Some(Integration::Calendar.scope())).await;
    assert!(Integration::Gmail.granted_in(&scope) && Integration::Drive.granted_in(&scope));
    let url = google::events_url(&roots, BOB, "2026-08-01T00:00:00Z", "2026-10-01T00:00:00Z");
    let (_, _, body) = call(&app, Method::GET, &url, None, Some(&token)).await;
    let events = google::parse_events(&body, BOB);
    assert_eq!(
        events.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        vec!["Contract review"]
    );
    for (at, expected) in [
        (
            "2026-09-01T10:30:00Z",
            Some(Presence::InMeeting {
                until: "2026-09-01T11:00:00Z".into(),
                event: Some("Contract review".into()),
            }),
        ),
        (
            "2026-09-01T14:30:00Z",
            Some(Presence::InMeeting {
                until: "2026-09-01T15:00:00Z".into(),
                event: None,
            }),
        ),
        ("2026-09-01T12:30:00Z", Some(Presence::Free)),
    ] {
        let now = google::rfc3339_ms(at).unwrap();
        let body = google::freebusy_body(&[BOB.into()], now, 1).to_string();
        let (s, _, fb) = call(
            &app,
            Method::POST,
            &google::freebusy_url(&roots),
            Some(("application/json", body)),
            Some(&token),
        )
        .await;
        assert_eq!(s, 200, "{fb}");
        assert_eq!(google::presence(&fb, BOB, now, &events), expected, "{at}");
    }
}

#[tokio::test]
async fn faults_unknown_tokens_and_a_revoked_grant() {
    let app = setup().await;
    let roots = ApiRoots::under(&format!("{BASE}/googleapis"));
    let (token, _) = grant(&app, Some(Integration::Gmail.scope())).await;
    let list = google::gmail_list_url(&roots, &[BOB.into()], 5);
    put(
        &app,
        "/control/faults",
        json!([{"path_prefix": "/googleapis/gmail", "status": 429, "retry_after": 2, "count": 1,
            "body": {"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}}}]),
    )
    .await;
    let (s, h, body) = call(&app, Method::GET, &list, None, Some(&token)).await;
    let retry = h.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok());
    assert_eq!(
        google::classify(s, &body, retry),
        ApiFailure::RateLimited {
            retry_after: Some(2)
        }
    );
    let (s, _, _) = call(&app, Method::GET, &list, None, Some(&token)).await;
    assert_eq!(s, 200, "the fault applied once");

    let (s, _, body) = call(&app, Method::GET, &list, None, Some("ya29.unknown")).await;
    assert_eq!(google::classify(s, &body, None), ApiFailure::Unauthorized);
}

#[path = "people_sync_tests.rs"]
mod people_sync_tests;
