//! The generic `oidc` kind's sign-in, a window that could not load, and ID
//! tokens in algorithms Ringside cannot verify (moved unchanged from
//! `signin_tests.rs`, whose helpers these tests share).
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::Pkcs1v15Sign;
use sha2::{Digest, Sha256};

use super::tests::{NOW, REDIRECT, jwks, key, redirect_ok, secrets, settings, to_window};
use super::*;
use crate::auth::idtoken::IdTokenError;
use crate::settings::SignInMethod;

// The generic `oidc` kind: a provider that gives the identity claims only
// at userinfo (OpenID Connect Core §5.4).

const OIDC_ISS: &str = "https://idp.example.com/realms/acme";
const USERINFO: &str = "https://idp.example.com/realms/acme/userinfo";

fn signed(claims: Value) -> String {
    let header = serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key()
        .sign(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(input.as_bytes()),
        )
        .expect("signed");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// An ID token with `sub` alone (and what makes it this sign-in's).
fn sub_only(sub: &str) -> String {
    signed(serde_json::json!({
        "iss": OIDC_ISS, "sub": sub, "aud": "ringside", "exp": NOW + 3600,
        "iat": NOW - 5, "nonce": secrets().nonce,
    }))
}

fn oidc_settings() -> Settings {
    Settings {
        identity_providers: vec![ProviderConfig {
            kind: ProviderKind::Oidc,
            issuer: Some(OIDC_ISS.into()),
            client_id: Some("ringside".into()),
            allowed_domains: vec![],
            tenant: None,
        }],
        ..Settings::default()
    }
}

fn oidc_discovery(scopes: &[&str]) -> String {
    serde_json::json!({
        "issuer": OIDC_ISS,
        "authorization_endpoint": format!("{OIDC_ISS}/auth"),
        "token_endpoint": format!("{OIDC_ISS}/token"),
        "jwks_uri": format!("{OIDC_ISS}/certs"),
        "userinfo_endpoint": USERINFO,
        "scopes_supported": scopes,
    })
    .to_string()
}

/// An `oidc` sign-in through the host up to the keys, with this ID token.
fn oidc_to_keys(s: &Settings, id_token: String) -> SignIn {
    let (mut flow, _) = SignIn::start(
        ProviderKind::Oidc,
        s,
        None,
        secrets(),
        REDIRECT.into(),
        true,
        |_| None,
    );
    assert!(matches!(
        flow.discovered(Ok(HttpAnswer::new(200, oidc_discovery(&[])))),
        Step::OpenWindow(_)
    ));
    assert!(matches!(
        flow.redirected(Ok(redirect_ok())),
        Step::ExchangeInHost(_)
    ));
    let g = serde_json::json!({
        "access_token": "at-1", "id_token": id_token, "expires_in": 300, "stored": true,
    });
    assert!(matches!(flow.exchanged_in_host(Ok(g)), Step::Keys { .. }));
    flow
}

fn userinfo_answer(body: Value) -> Result<HttpAnswer, String> {
    Ok(HttpAnswer::new(200, body.to_string()))
}

#[test]
fn oidc_identity_claims_missing_from_the_id_token_come_from_userinfo() {
    let mut flow = oidc_to_keys(&oidc_settings(), sub_only("u-1"));
    let Step::Userinfo(req) = flow.keys(Ok(jwks()), NOW) else {
        panic!("expected userinfo");
    };
    assert_eq!(req.url, USERINFO);
    assert!(
        req.headers
            .contains(&("Authorization".into(), "Bearer at-1".into())),
        "the access token goes with it"
    );
    let Step::Done(done) = flow.userinfo(userinfo_answer(serde_json::json!({
        "sub": "u-1", "email": "ana@acme.test", "email_verified": true,
        "name": "Ana Ruiz", "picture": "https://idp.example.com/ana.png",
    }))) else {
        panic!("expected a sign-in");
    };
    assert_eq!(done.profile.email, "ana@acme.test");
    assert_eq!(done.profile.name, "Ana Ruiz");
    assert_eq!(
        done.profile.picture.as_deref(),
        Some("https://idp.example.com/ana.png")
    );
    assert_eq!(done.profile.subject, "u-1");
}

#[test]
fn userinfo_about_another_subject_is_refused_and_forgotten() {
    let mut flow = oidc_to_keys(&oidc_settings(), sub_only("u-1"));
    assert!(matches!(flow.keys(Ok(jwks()), NOW), Step::Userinfo(_)));
    let step = flow.userinfo(userinfo_answer(serde_json::json!({
        "sub": "u-2", "email": "eve@acme.test", "email_verified": true,
    })));
    assert!(
        matches!(step, Step::Forget(_)),
        "the host forgets the grant"
    );
    let Step::Failed(SignInFailure::IdToken(IdTokenError::UserinfoSubject { got, expected }), _) =
        flow.forgotten()
    else {
        panic!("expected a subject mismatch");
    };
    assert_eq!((got.as_str(), expected.as_str()), ("u-2", "u-1"));
}

#[test]
fn the_checks_run_on_the_merged_claims() {
    // Unverified at userinfo: refused as if the token had said it.
    let mut flow = oidc_to_keys(&oidc_settings(), sub_only("u-1"));
    flow.keys(Ok(jwks()), NOW);
    flow.userinfo(userinfo_answer(serde_json::json!({
        "sub": "u-1", "email": "ana@acme.test", "email_verified": false,
    })));
    assert_eq!(
        flow.forgotten(),
        Step::Failed(
            SignInFailure::IdToken(IdTokenError::EmailNotVerified),
            "ana@acme.test".into()
        )
    );
    // The company's sign-in method is checked on the merged email.
    let mut s = oidc_settings();
    s.sign_in_method = Some(SignInMethod::Password);
    s.privileged_users = vec!["ana@acme.test".into()];
    let mut flow = oidc_to_keys(&s, sub_only("u-1"));
    flow.keys(Ok(jwks()), NOW);
    assert!(matches!(
        flow.userinfo(userinfo_answer(serde_json::json!({
            "sub": "u-1", "email": "ana@acme.test", "email_verified": true,
        }))),
        Step::Done(_)
    ));
}

#[test]
fn a_token_claim_is_not_replaced_by_userinfo() {
    let token = signed(serde_json::json!({
        "iss": OIDC_ISS, "sub": "u-1", "aud": "ringside", "exp": NOW + 3600,
        "iat": NOW - 5, "nonce": secrets().nonce, "email": "ana@acme.test",
        "email_verified": true,
    }));
    let mut flow = oidc_to_keys(&oidc_settings(), token);
    assert!(matches!(flow.keys(Ok(jwks()), NOW), Step::Userinfo(_)));
    let Step::Done(done) = flow.userinfo(userinfo_answer(serde_json::json!({
        "sub": "u-1", "email": "other@acme.test", "email_verified": true, "name": "Ana",
    }))) else {
        panic!("expected a sign-in");
    };
    assert_eq!(done.profile.email, "ana@acme.test");
    assert_eq!(done.profile.name, "Ana");
}

#[test]
fn userinfo_unreachable_fails_only_when_the_email_is_missing() {
    let mut flow = oidc_to_keys(&oidc_settings(), sub_only("u-1"));
    flow.keys(Ok(jwks()), NOW);
    assert!(matches!(
        flow.userinfo(Ok(HttpAnswer::new(401, ""))),
        Step::Forget(_)
    ));
    assert!(matches!(
        flow.forgotten(),
        Step::Failed(SignInFailure::Unreachable(d), _) if d.contains(USERINFO) && d.contains("HTTP 401")
    ));
    let token = signed(serde_json::json!({
        "iss": OIDC_ISS, "sub": "u-1", "aud": "ringside", "exp": NOW + 3600,
        "iat": NOW - 5, "nonce": secrets().nonce, "email": "ana@acme.test",
        "email_verified": true,
    }));
    let mut flow = oidc_to_keys(&oidc_settings(), token);
    flow.keys(Ok(jwks()), NOW);
    assert!(matches!(
        flow.userinfo(Err("offline".into())),
        Step::Done(_)
    ));
}

#[test]
fn a_token_for_another_sign_in_is_refused_before_userinfo() {
    let token = signed(serde_json::json!({
        "iss": OIDC_ISS, "sub": "u-1", "aud": "ringside", "exp": NOW + 3600,
        "iat": NOW - 5, "nonce": "another",
    }));
    let mut flow = oidc_to_keys(&oidc_settings(), token);
    assert!(matches!(flow.keys(Ok(jwks()), NOW), Step::Forget(_)));
}

fn oidc_window_url(scopes: &[&str]) -> String {
    let (mut flow, _) = SignIn::start(
        ProviderKind::Oidc,
        &oidc_settings(),
        None,
        secrets(),
        REDIRECT.into(),
        true,
        |_| None,
    );
    let Step::OpenWindow(url) = flow.discovered(Ok(HttpAnswer::new(200, oidc_discovery(scopes))))
    else {
        panic!("expected the window");
    };
    url
}

fn query(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[test]
fn oidc_asks_offline_access_with_consent_where_discovery_allows_it() {
    for scopes in [
        &["openid", "email", "profile", "offline_access"][..],
        // Not advertised (scopes_supported is only RECOMMENDED): asked.
        &[][..],
    ] {
        let url = oidc_window_url(scopes);
        assert_eq!(
            query(&url, "scope").as_deref(),
            Some("openid email profile offline_access")
        );
        assert_eq!(query(&url, "prompt").as_deref(), Some("consent"));
    }
    // Listed without offline_access: the provider would refuse the scope.
    let url = oidc_window_url(&["openid", "email", "profile"]);
    assert_eq!(
        query(&url, "scope").as_deref(),
        Some("openid email profile")
    );
    assert_eq!(query(&url, "prompt"), None);
}

#[test]
fn with_the_host_but_no_refresh_token_the_agent_is_told_so() {
    let token = signed(serde_json::json!({
        "iss": OIDC_ISS, "sub": "u-1", "aud": "ringside", "exp": NOW + 3600,
        "iat": NOW - 5, "nonce": secrets().nonce, "email": "ana@acme.test",
        "email_verified": true, "name": "Ana", "picture": "https://idp.example.com/a.png",
    }));
    let mut flow = oidc_to_keys(&oidc_settings(), token);
    // oidc_to_keys's grant says stored: true; again with stored: false.
    let (mut flow2, _) = SignIn::start(
        ProviderKind::Oidc,
        &oidc_settings(),
        None,
        secrets(),
        REDIRECT.into(),
        true,
        |_| None,
    );
    flow2.discovered(Ok(HttpAnswer::new(200, oidc_discovery(&[]))));
    flow2.redirected(Ok(redirect_ok()));
    let id = flow.id_token();
    flow2.exchanged_in_host(Ok(serde_json::json!({
        "access_token": "at-1", "id_token": id, "expires_in": 300, "stored": false,
    })));
    let Step::Done(done) = flow2.keys(Ok(jwks()), NOW) else {
        panic!("expected a sign-in");
    };
    assert_eq!(done.profile.home, TokenHome::Browser);
    assert_eq!(done.notice, Some(Notice::new("signinNoRefreshToken", &[])));
    // And with one: nothing to say.
    let Step::Done(done) = flow.keys(Ok(jwks()), NOW) else {
        panic!("expected a sign-in");
    };
    assert_eq!(done.notice, None);
}

#[test]
fn a_window_that_could_not_load_is_a_setup_problem_not_a_cancel() {
    let mut flow = to_window(&settings(None), true, None);
    assert_eq!(
        flow.redirected(Err("Authorization page could not be loaded.".into())),
        Step::Failed(
            SignInFailure::Setup(SetupProblem::AuthPageNotLoaded {
                detail: "Authorization page could not be loaded.".into()
            }),
            String::new()
        )
    );
}

#[test]
fn a_provider_advertising_only_algorithms_ringside_cannot_verify_is_a_setup_problem() {
    let mut doc: Value = serde_json::from_str(&oidc_discovery(&[])).unwrap();
    doc["id_token_signing_alg_values_supported"] = serde_json::json!(["HS256", "RS512"]);
    let (mut flow, _) = SignIn::start(
        ProviderKind::Oidc,
        &oidc_settings(),
        None,
        secrets(),
        REDIRECT.into(),
        true,
        |_| None,
    );
    assert_eq!(
        flow.discovered(Ok(HttpAnswer::new(200, doc.to_string()))),
        Step::Failed(
            SignInFailure::Setup(SetupProblem::UnsupportedAlgorithm {
                alg: "HS256, RS512".into()
            }),
            String::new()
        )
    );
}

#[test]
fn a_token_in_an_algorithm_ringside_cannot_verify_warns_the_admin_but_none_is_invalid() {
    let unsigned = |alg: &str| {
        let header = serde_json::json!({"alg": alg, "kid": "k1"});
        let claims = serde_json::json!({"iss": OIDC_ISS, "sub": "u-1"});
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    };
    let mut flow = oidc_to_keys(&oidc_settings(), unsigned("RS512"));
    flow.keys(Ok(jwks()), NOW);
    assert_eq!(
        flow.forgotten(),
        Step::Failed(
            SignInFailure::Setup(SetupProblem::UnsupportedAlgorithm {
                alg: "RS512".into()
            }),
            String::new()
        )
    );
    for alg in ["none", "HS256"] {
        let mut flow = oidc_to_keys(&oidc_settings(), unsigned(alg));
        flow.keys(Ok(jwks()), NOW);
        assert_eq!(
            flow.forgotten(),
            Step::Failed(
                SignInFailure::IdToken(IdTokenError::UnsupportedAlg(alg.into())),
                String::new()
            )
        );
    }
}
