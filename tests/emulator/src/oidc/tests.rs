//! The whole code flow through the router, driven by Ringside's own
//! sign-in rules (core::auth), as the extension will drive it.
use std::collections::HashMap;

use axum::http::Method;
use ringside_core::auth::idtoken::{self, Expectations, IdTokenError, Jwks};
use ringside_core::auth::pkce::{RANDOM_BYTES, RequestSecrets};
use ringside_core::auth::provider::{self, ProviderConfig, ProviderKind};

use super::web::form_body;
use super::*;
use crate::test_support::{HOST, REDIRECT, send};

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<(&str, String)>,
) -> (u16, HeaderMap, String) {
    send(app, method, uri, &[], body).await
}

fn form(pairs: &[(&str, &str)]) -> Option<(&'static str, String)> {
    Some(("application/x-www-form-urlencoded", form_body(pairs)))
}

/// Authorizes (auto-consent is on) and returns the code from the redirect.
async fn authorize(
    app: &Router,
    cfg: &ProviderConfig,
    d: &provider::Discovery,
    secrets: &RequestSecrets,
) -> String {
    let url = provider::authorization_url(cfg, d, REDIRECT, secrets, None).unwrap();
    let path = url.strip_prefix(&format!("http://{HOST}")).unwrap();
    let (status, headers, _) = call(app, Method::GET, path, None).await;
    assert_eq!(status, 303);
    provider::parse_redirect(headers[header::LOCATION].to_str().unwrap(), &secrets.state).unwrap()
}

/// The code exchange at `token_path`: (status, body).
async fn exchange(
    app: &Router,
    token_path: &str,
    client: &str,
    code: &str,
    verifier: &str,
) -> (u16, String) {
    let (status, _, body) = call(
        app,
        Method::POST,
        token_path,
        form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ]),
    )
    .await;
    (status, body)
}

/// A refresh at `token_path`: (status, body).
async fn refresh(app: &Router, token_path: &str, client: &str, token: &str) -> (u16, String) {
    let (status, _, body) = call(
        app,
        Method::POST,
        token_path,
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", client),
        ]),
    )
    .await;
    (status, body)
}

async fn setup() -> Router {
    let app = crate::app(crate::Options::default());
    let json = |v: Value| Some(("application/json", v.to_string()));
    call(
        &app,
        Method::PUT,
        "/control/oidc/clients",
        json(json!([{"client_id": "ringside-web", "redirect_uris": [REDIRECT]}])),
    )
    .await;
    call(
        &app,
        Method::PUT,
        "/control/oidc/users",
        json(json!([
            {"email": "ana@example.com", "name": "Ana Ruiz", "hd": "example.com"},
        ])),
    )
    .await;
    call(
        &app,
        Method::PUT,
        "/control/oidc/consent",
        json(json!({"auto": "ana@example.com"})),
    )
    .await;
    app
}

#[tokio::test]
async fn code_flow_with_pkce_refresh_and_revocation() {
    let app = setup().await;
    let iss = format!("http://{HOST}/google");
    let (_, _, doc) = call(
        &app,
        Method::GET,
        "/google/.well-known/openid-configuration",
        None,
    )
    .await;
    let d = provider::parse_discovery(&doc, &iss).unwrap();
    let cfg = ProviderConfig {
        kind: ProviderKind::Google,
        issuer: Some(iss.clone()),
        client_id: Some("ringside-web".into()),
        allowed_domains: vec!["example.com".into()],
        tenant: None,
    };
    let secrets = RequestSecrets::from_random(&[9u8; RANDOM_BYTES]);
    let code = authorize(&app, &cfg, &d, &secrets).await;

    // A wrong verifier is refused, and the code is then spent.
    let (status, body) = exchange(
        &app,
        "/google/token",
        "ringside-web",
        &code,
        &"x".repeat(43),
    )
    .await;
    assert_eq!(
        (status, body.contains("Invalid code verifier.")),
        (400, true),
        "{body}"
    );

    let secrets = RequestSecrets::from_random(&[10u8; RANDOM_BYTES]);
    let code = authorize(&app, &cfg, &d, &secrets).await;
    let (status, body) = exchange(
        &app,
        "/google/token",
        "ringside-web",
        &code,
        &secrets.verifier,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let tokens: HashMap<String, Value> = serde_json::from_str(&body).unwrap();
    let (_, headers, jwks) = call(&app, Method::GET, "/google/oauth2/v3/certs", None).await;
    assert_eq!(
        idtoken::max_age(headers[header::CACHE_CONTROL].to_str().unwrap()),
        Some(3600)
    );
    let jwks: Jwks = serde_json::from_str(&jwks).unwrap();
    let domains = vec!["example.com".to_owned()];
    let expect = Expectations {
        kind: ProviderKind::Google,
        issuer: &iss,
        client_id: "ringside-web",
        nonce: &secrets.nonce,
        now: now(),
        allowed_domains: &domains,
        tenant: None,
    };
    let id_token = tokens["id_token"].as_str().unwrap();
    let claims = idtoken::verify(id_token, &jwks, &expect).unwrap();
    assert_eq!(claims.email.as_deref(), Some("ana@example.com"));
    assert_eq!(claims.hd.as_deref(), Some("example.com"));

    // After a key rotation the old key stays published; an unknown kid is
    // what makes the extension refetch.
    call(&app, Method::POST, "/control/oidc/rotate", None).await;
    let (_, _, jwks2) = call(&app, Method::GET, "/google/oauth2/v3/certs", None).await;
    let jwks2: Jwks = serde_json::from_str(&jwks2).unwrap();
    assert_eq!(jwks2.keys.len(), 2);
    assert!(idtoken::verify(id_token, &jwks2, &expect).is_ok());

    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = refresh(&app, "/google/token", "ringside-web", &refresh_token).await;
    assert_eq!(status, 200, "{body}");
    let refreshed: HashMap<String, Value> = serde_json::from_str(&body).unwrap();
    let Err(IdTokenError::UnknownKey(_)) =
        idtoken::verify(refreshed["id_token"].as_str().unwrap(), &jwks, &expect)
    else {
        panic!("a token signed with the new key is unknown to the old JWKS");
    };

    call(
        &app,
        Method::POST,
        "/control/oidc/revoke-user",
        Some((
            "application/json",
            json!({"email": "ana@example.com"}).to_string(),
        )),
    )
    .await;
    let (status, body) = refresh(&app, "/google/token", "ringside-web", &refresh_token).await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );
}

#[tokio::test]
async fn bad_clients_and_redirects_get_googles_error_pages() {
    let app = setup().await;
    let (status, _, page) = call(
        &app,
        Method::GET,
        "/google/o/oauth2/v2/auth?client_id=nope&redirect_uri=x",
        None,
    )
    .await;
    assert_eq!(status, 401);
    assert!(page.contains("Error 401: invalid_client"), "{page}");
    let (status, _, page) = call(&app, Method::GET, "/google/o/oauth2/v2/auth?client_id=ringside-web&redirect_uri=https%3A%2F%2Fevil.example%2F", None).await;
    assert_eq!(status, 400);
    assert!(page.contains("Error 400: redirect_uri_mismatch"), "{page}");
    let (status, _, body) = call(
        &app,
        Method::POST,
        "/google/token",
        form(&[("grant_type", "authorization_code"), ("client_id", "nope")]),
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("The OAuth client was not found."));
    // Revoking an unknown token is Google's invalid_token.
    let (status, _, _) = call(
        &app,
        Method::POST,
        "/google/revoke",
        form(&[("token", "nope")]),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_consent_page_lists_accounts_and_cancel_denies() {
    let app = setup().await;
    call(
        &app,
        Method::PUT,
        "/control/oidc/consent",
        Some(("application/json", json!({"auto": null}).to_string())),
    )
    .await;
    let q = format!(
        "/google/o/oauth2/v2/auth?client_id=ringside-web&redirect_uri={}&response_type=code&code_challenge=abc&code_challenge_method=S256&state=s1",
        form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let (status, _, page) = call(&app, Method::GET, &q, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Continue as Ana Ruiz (ana@example.com)"));
    let (status, headers, _) = call(
        &app,
        Method::POST,
        "/google/consent",
        form(&[
            ("account", ""),
            ("redirect_uri", REDIRECT),
            ("state", "s1"),
            ("client_id", "ringside-web"),
        ]),
    )
    .await;
    assert_eq!(status, 303);
    let location = headers[header::LOCATION].to_str().unwrap();
    assert_eq!(
        provider::parse_redirect(location, "s1"),
        Err(provider::RedirectError::Cancelled)
    );
}

#[tokio::test]
async fn microsoft_flavour_multi_tenant_flow_and_aadsts_bodies() {
    let app = crate::app(crate::Options::default());
    let json_body = |v: Value| Some(("application/json", v.to_string()));
    let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    call(
        &app,
        Method::PUT,
        "/control/oidc-microsoft/clients",
        json_body(json!([{"client_id": "ringside-entra", "redirect_uris": [REDIRECT]}])),
    )
    .await;
    call(
        &app,
        Method::PUT,
        "/control/oidc-microsoft/users",
        json_body(json!([{"email": "ana@contoso.com", "name": "Ana Ruiz", "tid": tid}])),
    )
    .await;
    call(
        &app,
        Method::PUT,
        "/control/oidc-microsoft/consent",
        json_body(json!({"auto": "ana@contoso.com"})),
    )
    .await;
    let iss = format!("http://{HOST}/microsoft/organizations/v2.0");
    let (_, _, doc) = call(
        &app,
        Method::GET,
        "/microsoft/organizations/v2.0/.well-known/openid-configuration",
        None,
    )
    .await;
    let d = provider::parse_discovery(&doc, &iss).unwrap();
    let cfg = ProviderConfig {
        kind: ProviderKind::Microsoft,
        issuer: Some(iss.clone()),
        client_id: Some("ringside-entra".into()),
        allowed_domains: vec![],
        tenant: Some(tid.into()),
    };
    let secrets = RequestSecrets::from_random(&[11u8; RANDOM_BYTES]);
    let url = provider::authorization_url(&cfg, &d, REDIRECT, &secrets, None).unwrap();
    assert!(url.contains("offline_access"));
    let code = authorize(&app, &cfg, &d, &secrets).await;
    let token_path = "/microsoft/organizations/oauth2/v2.0/token";
    let (status, body) =
        exchange(&app, token_path, "ringside-entra", &code, &secrets.verifier).await;
    assert_eq!(status, 200, "{body}");
    let tokens: HashMap<String, Value> = serde_json::from_str(&body).unwrap();
    let (_, _, jwks) = call(
        &app,
        Method::GET,
        "/microsoft/organizations/discovery/v2.0/keys",
        None,
    )
    .await;
    let jwks: Jwks = serde_json::from_str(&jwks).unwrap();
    let expect = Expectations {
        kind: ProviderKind::Microsoft,
        issuer: &iss,
        client_id: "ringside-entra",
        nonce: &secrets.nonce,
        now: now(),
        allowed_domains: &[],
        tenant: Some(tid),
    };
    let claims = idtoken::verify(tokens["id_token"].as_str().unwrap(), &jwks, &expect).unwrap();
    assert_eq!(claims.tid.as_deref(), Some(tid));
    assert_eq!(claims.login_email(), Some("ana@contoso.com"));
    // Another tenant's token is refused by Ringside's rules.
    let other = Expectations {
        tenant: Some("00000000-0000-0000-0000-000000000001"),
        ..expect.clone()
    };
    assert!(matches!(
        idtoken::verify(tokens["id_token"].as_str().unwrap(), &jwks, &other),
        Err(IdTokenError::WrongTenant { .. })
    ));
    // Refresh rotates the refresh token; the old one is then revoked (AADSTS50173).
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = refresh(&app, token_path, "ringside-entra", &first).await;
    assert_eq!(status, 200, "{body}");
    let rotated: HashMap<String, Value> = serde_json::from_str(&body).unwrap();
    assert_ne!(rotated["refresh_token"].as_str().unwrap(), first);
    let (status, body) = refresh(&app, token_path, "ringside-entra", &first).await;
    assert_eq!(status, 400);
    assert_eq!(
        ringside_core::auth::token::classify(status, &body, None),
        ringside_core::auth::token::TokenFailure::GrantRevoked(
            ringside_core::auth::token::RevokeReason::PasswordChanged
        )
    );
    // Unknown app and a foreign redirect URI: AADSTS pages that core maps to admin fixes.
    let (status, _, page) = call(
        &app,
        Method::GET,
        "/microsoft/organizations/oauth2/v2.0/authorize?client_id=nope&redirect_uri=x",
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(page.contains("AADSTS700016"), "{page}");
    let (status, _, body) = call(
        &app,
        Method::POST,
        token_path,
        form(&[("grant_type", "authorization_code"), ("client_id", "nope")]),
    )
    .await;
    assert_eq!(status, 401);
    assert!(matches!(
        ringside_core::auth::token::classify(status, &body, None),
        ringside_core::auth::token::TokenFailure::InvalidClient(d) if d.contains("AADSTS700016")
    ));
}

#[tokio::test]
async fn behaviours_claims_at_userinfo_and_refresh_tokens_only_with_consent() {
    let app = setup().await;
    let json = |v: Value| Some(("application/json", v.to_string()));
    call(
        &app,
        Method::PUT,
        "/control/oidc/behaviour",
        json(json!({"claims_at_userinfo": true, "offline_needs_consent": true})),
    )
    .await;
    let iss = format!("http://{HOST}/google");
    let (_, _, doc) = call(
        &app,
        Method::GET,
        "/google/.well-known/openid-configuration",
        None,
    )
    .await;
    assert!(doc.contains("offline_access"), "{doc}");
    let d = provider::parse_discovery(&doc, &iss).unwrap();
    let cfg = ProviderConfig {
        kind: ProviderKind::Oidc,
        issuer: Some(iss.clone()),
        client_id: Some("ringside-web".into()),
        allowed_domains: vec![],
        tenant: None,
    };
    // Ringside's oidc request asks offline_access with prompt=consent.
    let secrets = RequestSecrets::from_random(&[11u8; RANDOM_BYTES]);
    let code = authorize(&app, &cfg, &d, &secrets).await;
    let (status, body) = exchange(
        &app,
        "/google/token",
        "ringside-web",
        &code,
        &secrets.verifier,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let t: Value = serde_json::from_str(&body).unwrap();
    assert!(t["refresh_token"].is_string(), "{body}");
    let claims = idtoken::peek_claims(t["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(
        (claims.email, claims.name, claims.email_verified),
        (None, None, None)
    );
    let (status, _, info) = send(
        &app,
        Method::GET,
        "/google/v1/userinfo",
        &[(
            "authorization",
            &format!("Bearer {}", t["access_token"].as_str().unwrap()),
        )],
        None,
    )
    .await;
    assert_eq!(status, 200);
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(
        (info["sub"].as_str(), info["email"].as_str()),
        (Some(claims.sub.as_str()), Some("ana@example.com"))
    );

    // Without prompt=consent: no refresh token.
    let url = provider::authorization_url(&cfg, &d, REDIRECT, &secrets, None)
        .unwrap()
        .replace("prompt=consent", "prompt=login");
    let path = url.strip_prefix(&format!("http://{HOST}")).unwrap();
    let (_, headers, _) = call(&app, Method::GET, path, None).await;
    let code =
        provider::parse_redirect(headers[header::LOCATION].to_str().unwrap(), &secrets.state)
            .unwrap();
    let (_, body) = exchange(
        &app,
        "/google/token",
        "ringside-web",
        &code,
        &secrets.verifier,
    )
    .await;
    let t: Value = serde_json::from_str(&body).unwrap();
    assert!(t["refresh_token"].is_null(), "{body}");
    assert!(t["access_token"].is_string(), "{body}");
}

#[tokio::test]
async fn id_tokens_in_ps256_and_es256_verify_with_ringsides_rules() {
    let app = setup().await;
    let iss = format!("http://{HOST}/google");
    for alg in ["PS256", "ES256"] {
        let json = |v: Value| Some(("application/json", v.to_string()));
        call(
            &app,
            Method::PUT,
            "/control/oidc/behaviour",
            json(json!({ "id_token_alg": alg })),
        )
        .await;
        let (_, _, doc) = call(
            &app,
            Method::GET,
            "/google/.well-known/openid-configuration",
            None,
        )
        .await;
        let d = provider::parse_discovery(&doc, &iss).unwrap();
        assert_eq!(d.id_token_signing_alg_values_supported, [alg]);
        let cfg = ProviderConfig {
            kind: ProviderKind::Oidc,
            issuer: Some(iss.clone()),
            client_id: Some("ringside-web".into()),
            allowed_domains: vec![],
            tenant: None,
        };
        let secrets = RequestSecrets::from_random(&[12u8; RANDOM_BYTES]);
        let code = authorize(&app, &cfg, &d, &secrets).await;
        let (status, body) = exchange(
            &app,
            "/google/token",
            "ringside-web",
            &code,
            &secrets.verifier,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let t: Value = serde_json::from_str(&body).unwrap();
        let token = t["id_token"].as_str().unwrap();
        assert_eq!(idtoken::peek_alg(token).unwrap(), alg);
        let (_, _, certs) = call(&app, Method::GET, "/google/oauth2/v3/certs", None).await;
        let jwks: Jwks = serde_json::from_str(&certs).unwrap();
        let claims = idtoken::verify(
            token,
            &jwks,
            &Expectations {
                kind: ProviderKind::Oidc,
                issuer: &iss,
                client_id: "ringside-web",
                nonce: &secrets.nonce,
                now: now(),
                allowed_domains: &[],
                tenant: None,
            },
        )
        .unwrap();
        assert_eq!(claims.email.as_deref(), Some("ana@example.com"));
    }
}
