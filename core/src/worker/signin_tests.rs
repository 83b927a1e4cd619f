//! ID tokens are signed here with the repository's development RSA key, as a
//! provider signs them; the discovery document and redirects are the wire
//! formats Google sends.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};

use super::*;
use crate::auth::idtoken::{IdTokenError, Jwk};
use crate::auth::pkce::RANDOM_BYTES;
use crate::settings::SignInMethod;

const PEM: &str = include_str!("../../../keys/dev-extension-key.pem");
const ISS: &str = "https://accounts.google.com";
const CLIENT: &str = "123.apps.googleusercontent.com";
const NOW: u64 = 1_763_800_000;
const REDIRECT: &str = "https://abc.chromiumapp.org/";

fn key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(PEM).expect("the dev key")
}

fn jwks() -> Jwks {
    let public = key().to_public_key();
    Jwks {
        keys: vec![Jwk {
            kty: "RSA".into(),
            kid: Some("k1".into()),
            alg: Some("RS256".into()),
            use_: Some("sig".into()),
            n: Some(URL_SAFE_NO_PAD.encode(public.n().to_bytes_be())),
            e: Some(URL_SAFE_NO_PAD.encode(public.e().to_bytes_be())),
            crv: None,
            x: None,
            y: None,
        }],
    }
}

fn id_token(sub: &str, nonce: &str) -> String {
    let header = serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"});
    let claims = serde_json::json!({
        "iss": ISS, "sub": sub, "aud": CLIENT, "azp": CLIENT,
        "exp": NOW + 3600, "iat": NOW - 5, "nonce": nonce,
        "email": "ana@example.com", "email_verified": true, "name": "Ana Ruiz",
    });
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

fn settings(platform: Option<&str>) -> Settings {
    Settings {
        identity_providers: vec![ProviderConfig {
            kind: ProviderKind::Google,
            issuer: None,
            client_id: Some(CLIENT.into()),
            allowed_domains: vec![],
            tenant: None,
        }],
        platform_url: platform.map(str::to_owned),
        ..Settings::default()
    }
}

fn secrets() -> RequestSecrets {
    RequestSecrets::from_random(&[7u8; RANDOM_BYTES])
}

fn discovery_body() -> String {
    serde_json::json!({
        "issuer": ISS,
        "authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_endpoint": "https://oauth2.googleapis.com/token",
        "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
        "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
        "revocation_endpoint": "https://oauth2.googleapis.com/revoke",
        "code_challenge_methods_supported": ["S256", "plain"],
    })
    .to_string()
}

fn redirect_ok() -> String {
    format!("{REDIRECT}?state={}&code=4%2F0AcodeX", secrets().state)
}

fn grant(sub: &str, stored: bool) -> Value {
    serde_json::json!({
        "access_token": "ya29.a", "id_token": id_token(sub, &secrets().nonce),
        "expires_in": 3599, "scope": "openid email profile", "stored": stored,
    })
}

/// Starts a Google sign-in and brings it to the provider's window.
fn to_window(s: &Settings, host: bool, challenge: Option<Challenge>) -> SignIn {
    let (mut flow, step) = SignIn::start(
        ProviderKind::Google,
        s,
        challenge,
        secrets(),
        REDIRECT.into(),
        host,
        |_| None,
    );
    assert_eq!(
        step,
        Step::Discover(HttpRequest::get(
            "https://accounts.google.com/.well-known/openid-configuration"
        ))
    );
    let step = flow.discovered(Ok(HttpAnswer::new(200, discovery_body())));
    let Step::OpenWindow(url) = step else {
        panic!("expected the window, got {step:?}");
    };
    assert!(url.starts_with("https://accounts.google.com/o/oauth2/v2/auth?"));
    assert!(url.contains(&format!("state={}", secrets().state)));
    flow
}

#[test]
fn a_sign_in_through_the_host() {
    let mut flow = to_window(&settings(None), true, None);
    let Step::ExchangeInHost(params) = flow.redirected(Ok(redirect_ok())) else {
        panic!("expected the host's exchange");
    };
    assert_eq!(params.code, "4/0AcodeX");
    assert_eq!(params.redirect_uri, REDIRECT);
    assert_eq!(params.code_verifier, secrets().verifier);
    assert_eq!(
        flow.exchanged_in_host(Ok(grant("sub-1", true))),
        Step::Keys {
            jwks_uri: "https://www.googleapis.com/oauth2/v3/certs".into(),
            kid: "k1".into()
        }
    );
    let Step::Done(done) = flow.keys(Ok(jwks()), NOW) else {
        panic!("expected a sign-in");
    };
    assert_eq!(done.profile.subject, "sub-1");
    assert_eq!(done.profile.email, "ana@example.com");
    assert_eq!(done.profile.home, TokenHome::Host);
    assert_eq!(done.notice, None);
    assert_eq!(done.refresh_token, None);
    assert_eq!(done.platform_session, None);
}

#[test]
fn a_cached_discovery_goes_straight_to_the_window() {
    let d = provider::parse_discovery(&discovery_body(), ISS).expect("parsed");
    let (_, step) = SignIn::start(
        ProviderKind::Google,
        &settings(None),
        None,
        secrets(),
        REDIRECT.into(),
        true,
        |issuer| (issuer == ISS).then(|| d.clone()),
    );
    assert!(matches!(step, Step::OpenWindow(_)));
}

#[test]
fn without_the_host_the_code_is_exchanged_here_and_the_session_ends_with_the_browser() {
    let mut flow = to_window(&settings(None), false, None);
    let Step::ExchangeHere(req) = flow.redirected(Ok(redirect_ok())) else {
        panic!("expected the exchange here");
    };
    assert_eq!(req.url, "https://oauth2.googleapis.com/token");
    let form = req.form.expect("a form body");
    assert!(form.contains(&("code_verifier".into(), secrets().verifier)));
    assert!(form.contains(&("client_id".into(), CLIENT.into())));
    assert!(
        !form.iter().any(|(k, _)| k == "client_secret"),
        "a public client"
    );
    let body = serde_json::json!({
        "access_token": "ya29.a", "id_token": id_token("sub-1", &secrets().nonce),
        "expires_in": 3599, "refresh_token": "1//r", "token_type": "Bearer",
    });
    assert!(matches!(
        flow.exchanged_here(Ok(HttpAnswer::new(200, body.to_string()))),
        Step::Keys { .. }
    ));
    let Step::Done(done) = flow.keys(Ok(jwks()), NOW) else {
        panic!("expected a sign-in");
    };
    assert_eq!(done.profile.home, TokenHome::Browser);
    assert_eq!(
        done.refresh_token.as_ref().map(Secret::expose),
        Some("1//r")
    );
    assert_eq!(done.notice, Some(Notice::new("signinBrowserOnly", &[])));
}

#[test]
fn closing_the_window_is_a_cancel() {
    let mut flow = to_window(&settings(None), true, None);
    assert_eq!(
        flow.redirected(Err("The user did not approve access.".into())),
        Step::Failed(SignInFailure::Cancelled, String::new())
    );
}

#[test]
fn a_redirect_for_another_request_is_refused() {
    let mut flow = to_window(&settings(None), true, None);
    let step = flow.redirected(Ok(format!("{REDIRECT}?state=forged&code=x")));
    assert_eq!(step, Step::Failed(SignInFailure::Replay, String::new()));
}

#[test]
fn a_token_that_fails_its_check_is_forgotten_in_the_host_first() {
    let mut flow = to_window(&settings(None), true, None);
    flow.redirected(Ok(redirect_ok()));
    let mut g = grant("sub-1", true);
    g["id_token"] = id_token("sub-1", "another-nonce").into();
    flow.exchanged_in_host(Ok(g));
    let step = flow.keys(Ok(jwks()), NOW);
    assert_eq!(
        step,
        Step::Forget(AuthAccount {
            issuer: ISS.into(),
            client_id: CLIENT.into()
        })
    );
    let Step::Failed(SignInFailure::IdToken(_), email) = flow.forgotten() else {
        panic!("expected an ID token failure");
    };
    assert_eq!(email, "ana@example.com", "the message names the account");
}

#[test]
fn a_challenge_answered_by_someone_else_is_refused() {
    let challenge = Challenge {
        claims: Some("{}".into()),
        scope: None,
        login_hint: "ana@example.com".into(),
        subject: "sub-1".into(),
        agent: None,
    };
    let mut flow = to_window(&settings(None), true, Some(challenge));
    flow.redirected(Ok(redirect_ok()));
    flow.exchanged_in_host(Ok(grant("sub-2", true)));
    assert!(matches!(flow.keys(Ok(jwks()), NOW), Step::Forget(_)));
    assert_eq!(
        flow.forgotten(),
        Step::Failed(
            SignInFailure::Exchange("another account".into()),
            "ana@example.com".into()
        )
    );
}

#[test]
fn a_provider_not_offered_is_a_setup_problem() {
    let mut s = settings(None);
    s.sign_in_method = Some(SignInMethod::Google);
    let (_, step) = SignIn::start(
        ProviderKind::Microsoft,
        &s,
        None,
        secrets(),
        REDIRECT.into(),
        true,
        |_| None,
    );
    assert_eq!(
        step,
        Step::Failed(
            SignInFailure::Setup(SetupProblem::NoProvider),
            String::new()
        )
    );
}

#[test]
fn a_discovery_error_is_a_setup_problem_with_the_url() {
    let (mut flow, _) = SignIn::start(
        ProviderKind::Google,
        &settings(None),
        None,
        secrets(),
        REDIRECT.into(),
        true,
        |_| None,
    );
    let Step::Failed(SignInFailure::Setup(SetupProblem::BadDiscovery { reason }), _) =
        flow.discovered(Ok(HttpAnswer::new(404, "")))
    else {
        panic!("expected a setup problem");
    };
    assert!(reason.contains("/.well-known/openid-configuration answered HTTP 404"));
}

#[test]
fn the_platform_session_comes_with_the_agent() {
    let mut flow = to_window(&settings(Some("https://platform.example/")), true, None);
    flow.redirected(Ok(redirect_ok()));
    flow.exchanged_in_host(Ok(grant("sub-1", true)));
    let Step::PlatformSession(req) = flow.keys(Ok(jwks()), NOW) else {
        panic!("expected the platform");
    };
    assert_eq!(req.url, "https://platform.example/v1/sessions");
    let body = serde_json::json!({
        "agent": {"login_email": "ana@example.com", "name": "Ana", "role": "agent"},
        "session": {"id": "ps-9"},
    });
    let Step::Done(done) = flow.platform_answered(Ok(HttpAnswer::new(201, body.to_string())))
    else {
        panic!("expected a sign-in");
    };
    assert_eq!(done.platform_session.as_deref(), Some("ps-9"));
    assert_eq!(done.profile.agent.map(|a| a.name).as_deref(), Some("Ana"));
}

#[test]
fn an_agent_the_platform_does_not_know_is_refused_and_forgotten() {
    let mut flow = to_window(&settings(Some("https://platform.example")), true, None);
    flow.redirected(Ok(redirect_ok()));
    flow.exchanged_in_host(Ok(grant("sub-1", true)));
    flow.keys(Ok(jwks()), NOW);
    let body = r#"{"error":{"code":"user_not_invited","message":"no"}}"#;
    assert!(matches!(
        flow.platform_answered(Ok(HttpAnswer::new(403, body))),
        Step::Forget(_)
    ));
    assert_eq!(
        flow.forgotten(),
        Step::Failed(
            SignInFailure::Platform(PlatformRefusal::NotInvited),
            "ana@example.com".into()
        )
    );
}

#[test]
fn adding_a_scope_keeps_the_platform_session_and_agent() {
    let agent = PlatformAgent {
        login_email: "ana@example.com".into(),
        name: "Ana".into(),
        role: "agent".into(),
        privileged: false,
    };
    let challenge = Challenge {
        claims: None,
        scope: Some("https://www.googleapis.com/auth/calendar.readonly"),
        login_hint: "ana@example.com".into(),
        subject: "sub-1".into(),
        agent: Some(agent.clone()),
    };
    let mut flow = to_window(
        &settings(Some("https://platform.example")),
        true,
        Some(challenge),
    );
    flow.redirected(Ok(redirect_ok()));
    flow.exchanged_in_host(Ok(grant("sub-1", true)));
    let Step::Done(done) = flow.keys(Ok(jwks()), NOW) else {
        panic!("no platform round for an added scope");
    };
    assert_eq!(done.profile.agent, Some(agent));
}

#[test]
fn a_secret_store_failure_is_said() {
    let mut flow = to_window(&settings(None), true, None);
    flow.redirected(Ok(redirect_ok()));
    let mut g = grant("sub-1", false);
    g["store_error"] = "the keyring is locked".into();
    flow.exchanged_in_host(Ok(g));
    let Step::Done(done) = flow.keys(Ok(jwks()), NOW) else {
        panic!("expected a sign-in");
    };
    assert_eq!(done.profile.home, TokenHome::Browser);
    assert_eq!(
        done.notice,
        Some(Notice::new(
            "signinStoreUnavailable",
            &["the keyring is locked"]
        ))
    );
}

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
