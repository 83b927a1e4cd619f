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
use crate::auth::idtoken::Jwk;
use crate::auth::pkce::RANDOM_BYTES;
use crate::settings::SignInMethod;

const PEM: &str = include_str!("../../../keys/dev-extension-key.pem");
const ISS: &str = "https://accounts.google.com";
const CLIENT: &str = "123.apps.googleusercontent.com";
pub(super) const NOW: u64 = 1_763_800_000;
pub(super) const REDIRECT: &str = "https://abc.chromiumapp.org/";

pub(super) fn key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(PEM).expect("the dev key")
}

pub(super) fn jwks() -> Jwks {
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

pub(super) fn settings(platform: Option<&str>) -> Settings {
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

pub(super) fn secrets() -> RequestSecrets {
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

pub(super) fn redirect_ok() -> String {
    format!("{REDIRECT}?state={}&code=4%2F0AcodeX", secrets().state)
}

fn grant(sub: &str, stored: bool) -> Value {
    serde_json::json!({
        "access_token": "ya29.a", "id_token": id_token(sub, &secrets().nonce),
        "expires_in": 3599, "scope": "openid email profile", "stored": stored,
    })
}

/// Starts a Google sign-in and brings it to the provider's window.
pub(super) fn to_window(s: &Settings, host: bool, challenge: Option<Challenge>) -> SignIn {
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
