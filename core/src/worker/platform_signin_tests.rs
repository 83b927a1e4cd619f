//! The platform's own sign-in: when password and SSO are offered, who may
//! use a password, the one request that carries it (and nothing else that
//! does), the SSO broker's request and redirect checks, the platform's
//! refusals as the agent reads them, and the sign-out request.

use super::*;
use crate::auth::pkce::challenge_s256;

const BASE: &str = "https://platform.example.com/platform";

fn settings(method: Option<SignInMethod>, privileged: &[&str]) -> Settings {
    Settings {
        platform_url: Some(BASE.into()),
        sign_in_method: method,
        privileged_users: privileged.iter().map(|s| (*s).to_owned()).collect(),
        ..Settings::default()
    }
}

fn secrets() -> RequestSecrets {
    RequestSecrets::from_random(&[7u8; crate::auth::pkce::RANDOM_BYTES])
}

const REDIRECT: &str = "https://abc.chromiumapp.org/";

fn pw(s: &str) -> Secret {
    Secret::new(s.to_owned())
}

fn ok_answer() -> HttpAnswer {
    HttpAnswer::new(
        200,
        r#"{"agent":{"login_email":"Boss@Example.com","name":"Boss","role":"admin","privileged":true},"method":"google","session":{"id":"s-1","expires_in":600}}"#,
    )
}

#[test]
fn password_is_offered_for_the_password_method_or_when_policy_lists_privileged_users() {
    assert!(password_offered(&settings(
        Some(SignInMethod::Password),
        &[]
    )));
    assert!(password_offered(&settings(
        Some(SignInMethod::Google),
        &["boss@example.com"]
    )));
    assert!(!password_offered(&settings(
        Some(SignInMethod::Google),
        &[]
    )));
    assert!(!password_offered(&settings(None, &[])));
    // No platform (policy did not set one): nowhere to send a password.
    let mut s = settings(Some(SignInMethod::Password), &[]);
    s.platform_url = None;
    assert!(!password_offered(&s));
}

#[test]
fn sso_is_offered_only_for_the_sso_method_with_a_platform() {
    assert!(sso_offered(&settings(Some(SignInMethod::Sso), &[])));
    assert!(!sso_offered(&settings(Some(SignInMethod::Password), &[])));
    assert!(!sso_offered(&settings(None, &[])));
    let mut s = settings(Some(SignInMethod::Sso), &[]);
    s.platform_url = None;
    assert!(!sso_offered(&s));
}

#[test]
fn under_another_method_only_listed_privileged_users_may_use_a_password() {
    let s = settings(Some(SignInMethod::Microsoft), &["boss@example.com"]);
    assert_eq!(password_allowed(&s, " Boss@Example.com "), Ok(()));
    assert_eq!(
        password_allowed(&s, "ana@example.com"),
        Err(PlatformRefusal::PasswordPrivilegedOnly)
    );
    let everyone = settings(Some(SignInMethod::Password), &[]);
    assert_eq!(password_allowed(&everyone, "ana@example.com"), Ok(()));
}

#[test]
fn a_refused_email_never_sends_the_password() {
    let s = settings(Some(SignInMethod::Google), &["boss@example.com"]);
    let (_, step) = PlatformSignIn::password(&s, "ana@example.com", &pw("hunter2"));
    assert_eq!(
        step,
        Step::Failed(
            SignInFailure::Platform(PlatformRefusal::PasswordPrivilegedOnly),
            "ana@example.com".into()
        )
    );
    for (email, password) in [("", "x"), ("ana@example.com", "")] {
        let everyone = settings(Some(SignInMethod::Password), &[]);
        let (_, step) = PlatformSignIn::password(&everyone, email, &pw(password));
        assert!(
            matches!(
                step,
                Step::Failed(
                    SignInFailure::Platform(PlatformRefusal::MissingCredentials),
                    _
                )
            ),
            "{email:?}"
        );
    }
}

#[test]
fn the_password_goes_once_in_the_session_request_body_and_nowhere_else() {
    let s = settings(Some(SignInMethod::Password), &[]);
    let (flow, step) = PlatformSignIn::password(&s, "Ana@Example.com", &pw("s3cret-pass"));
    let Step::Session(req) = &step else {
        panic!("{step:?}")
    };
    assert_eq!(req.url, format!("{BASE}/v1/sessions"));
    assert_eq!(req.method, None, "a POST");
    assert_eq!(
        req.json,
        Some(
            json!({"grant_type": "password", "login_email": "ana@example.com", "password": "s3cret-pass"})
        )
    );
    assert!(!req.url.contains("s3cret"));
    // Neither the step's nor the flow's Debug (logs) show it.
    assert!(!format!("{step:?}").contains("s3cret"));
    assert!(!format!("{flow:?}").contains("s3cret"));
}

#[test]
fn the_platform_answer_makes_a_browser_session_profile() {
    let s = settings(Some(SignInMethod::Google), &["boss@example.com"]);
    let (mut flow, _) = PlatformSignIn::password(&s, "boss@example.com", &pw("x"));
    let Step::Done(done) = flow.answered(Ok(ok_answer())) else {
        panic!()
    };
    assert_eq!(done.session, "s-1");
    assert_eq!(done.expires_in, 600);
    let p = &done.profile;
    assert_eq!(
        (p.email.as_str(), p.name.as_str(), p.provider, p.home),
        (
            "boss@example.com",
            "Boss",
            ProviderKind::Password,
            TokenHome::Browser
        )
    );
    assert!(is_platform(p));
    assert_eq!(p.agent.as_ref().map(|a| a.privileged), Some(true));
    // The privileged user keeps the session when the method changes.
    assert_eq!(s.method_allows(p), Ok(()));
    let (rec, at) = token_record(600, 1_000.0);
    assert_eq!(at, 601_000.0);
    assert_eq!(rec, json!({"tokens": {"expires_at": 601_000.0}}));
}

fn refusal(status: u16, body: &str) -> (SignInFailure, Notice) {
    let s = settings(Some(SignInMethod::Password), &[]);
    let (mut flow, _) = PlatformSignIn::password(&s, "ana@example.com", &pw("x"));
    match flow.answered(Ok(HttpAnswer::new(status, body))) {
        Step::Failed(f, email) => {
            let n = f.notice(&email);
            (f, n)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_platform_refusals_read_as_actionable_messages() {
    let (_, n) = refusal(
        401,
        r#"{"error":{"code":"invalid_credentials","message":"x"},"remaining_attempts":2}"#,
    );
    assert_eq!(n, Notice::new("signinWrongPasswordRemaining", &["2"]));
    let (_, n) = refusal(401, r#"{"error":{"code":"invalid_credentials"}}"#);
    assert_eq!(n, Notice::new("signinWrongPassword", &[]));
    let (_, n) = refusal(
        423,
        r#"{"error":{"code":"locked_out","message":"x"},"retry_after":61}"#,
    );
    assert_eq!(n, Notice::new("signinLockedOutMinutes", &["2"]));
    let (_, n) = refusal(423, r#"{"error":{"code":"locked_out"}}"#);
    assert_eq!(n, Notice::new("signinLockedOut", &[]));
    let (_, n) = refusal(
        403,
        r#"{"error":{"code":"method_not_allowed"},"method":"google"}"#,
    );
    assert_eq!(n, Notice::new("signinMethodNotAllowed", &["google"]));
    let (_, n) = refusal(403, r#"{"error":{"code":"user_not_invited"}}"#);
    assert_eq!(n, Notice::new("signinNotInvited", &["ana@example.com"]));
    let (_, n) = refusal(503, "");
    assert_eq!(n.key, "signinPlatformFailed");
}

#[test]
fn no_platform_url_is_a_setup_problem_and_nothing_is_sent() {
    let mut s = settings(Some(SignInMethod::Password), &[]);
    s.platform_url = None;
    let (_, step) = PlatformSignIn::password(&s, "ana@example.com", &pw("x"));
    assert!(matches!(step, Step::Failed(SignInFailure::Setup(_), _)));
    let (_, step) = PlatformSignIn::sso(&s, secrets(), REDIRECT.into());
    assert!(matches!(step, Step::Failed(SignInFailure::Setup(_), _)));
}

fn sso_flow() -> (PlatformSignIn, String) {
    let s = settings(Some(SignInMethod::Sso), &[]);
    let (flow, step) = PlatformSignIn::sso(&s, secrets(), REDIRECT.into());
    let Step::OpenWindow(url) = step else {
        panic!()
    };
    (flow, url)
}

#[test]
fn the_broker_is_opened_with_the_redirect_uri_state_and_an_s256_challenge() {
    let (_, url) = sso_flow();
    let s = secrets();
    let (path, query) = url.split_once('?').unwrap();
    assert_eq!(path, format!("{BASE}/sso/start"));
    let q: std::collections::HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(q["redirect_uri"], REDIRECT);
    assert_eq!(q["state"], s.state);
    assert_eq!(q["code_challenge"], challenge_s256(&s.verifier));
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(!url.contains(&s.verifier), "the verifier never leaves");
}

#[test]
fn the_one_time_code_is_exchanged_with_the_verifier_after_the_redirect_checks() {
    let (mut flow, _) = sso_flow();
    let s = secrets();
    let step = flow.redirected(Ok(format!("{REDIRECT}?code=c-1&state={}", s.state)));
    let Step::Session(req) = step else {
        panic!("{step:?}")
    };
    assert_eq!(req.url, format!("{BASE}/v1/sessions"));
    assert_eq!(
        req.json,
        Some(
            json!({"grant_type": "sso_code", "code": "c-1", "code_verifier": s.verifier, "redirect_uri": REDIRECT})
        )
    );
    let Step::Done(done) = flow.answered(Ok(ok_answer())) else {
        panic!()
    };
    assert_eq!(done.profile.provider, ProviderKind::Sso);
}

#[test]
fn a_wrong_state_another_redirect_or_a_closed_window_is_refused() {
    let s = secrets();
    let (mut flow, _) = sso_flow();
    assert_eq!(
        flow.redirected(Ok(format!("{REDIRECT}?code=c-1&state=forged"))),
        Step::Failed(SignInFailure::Replay, String::new())
    );
    let (mut flow, _) = sso_flow();
    assert_eq!(
        flow.redirected(Ok(format!(
            "https://evil.example/?code=c-1&state={}",
            s.state
        ))),
        Step::Failed(SignInFailure::Replay, String::new())
    );
    let (mut flow, _) = sso_flow();
    assert_eq!(
        flow.redirected(Err("The user did not approve access.".into())),
        Step::Failed(SignInFailure::Cancelled, String::new())
    );
    let (mut flow, _) = sso_flow();
    assert!(matches!(
        flow.redirected(Err("Authorization page could not be loaded.".into())),
        Step::Failed(SignInFailure::Setup(_), _)
    ));
}

#[test]
fn sso_not_set_up_at_the_platform_tells_the_agent_to_ask_the_admin() {
    let (mut flow, _) = sso_flow();
    let step = flow.redirected(Ok(format!(
        "{REDIRECT}?error=sso_not_configured&state={}",
        secrets().state
    )));
    let Step::Failed(f, e) = step else { panic!() };
    assert_eq!(f.notice(&e), Notice::new("signinSsoNotConfigured", &[]));
    // Also when the platform says so at the exchange.
    let (mut flow, _) = sso_flow();
    let step = flow.answered(Ok(HttpAnswer::new(
        400,
        r#"{"error":{"code":"sso_not_configured","message":"x"}}"#,
    )));
    let Step::Failed(f, e) = step else { panic!() };
    assert_eq!(f.notice(&e).key, "signinSsoNotConfigured");
}

#[test]
fn sign_out_deletes_the_platform_session_and_says_when_it_could_not() {
    assert_eq!(sign_out_request(BASE, None), None);
    let req = sign_out_request(BASE, Some("s-1")).unwrap();
    assert_eq!(req.method.as_deref(), Some("DELETE"));
    assert_eq!(req.url, format!("{BASE}/v1/sessions/current"));
    assert_eq!(
        req.headers,
        vec![("Authorization".to_owned(), "Bearer s-1".to_owned())]
    );
    let ok = Ok(HttpAnswer::new(204, ""));
    assert_eq!(sign_out_notice(BASE, &ok).key, "signedOut");
    let gone = Ok(HttpAnswer::new(401, ""));
    assert_eq!(sign_out_notice(BASE, &gone).key, "signedOut");
    let down = Err("offline".to_owned());
    assert_eq!(sign_out_notice(BASE, &down).key, "signedOutNotRevoked");
}

#[test]
fn password_and_sso_are_methods_not_configurable_providers() {
    let managed = json!({
        "identityProviders": [{"kind": "password", "clientId": "x"}, {"kind": "google", "clientId": "g"}],
        "signInMethod": "sso",
    });
    let s = crate::settings::merge_for(&managed, &json!({}), false);
    let kinds: Vec<_> = s.identity_providers.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, vec![ProviderKind::Google]);
    assert!(s.problems.iter().any(|p| p.key == "identityProviders"));
    assert_eq!(s.sign_in_method, Some(SignInMethod::Sso));
}

#[test]
fn a_company_signing_in_at_the_platform_needs_no_provider_and_requires_sign_in() {
    for method in [SignInMethod::Password, SignInMethod::Sso] {
        let s = settings(Some(method), &[]);
        assert_eq!(s.setup_problem(None), None, "{method:?}");
        assert!(s.platform_sign_in());
    }
    // Without the platform's URL nobody can sign in: the admin warning stays.
    let mut s = settings(Some(SignInMethod::Password), &[]);
    s.platform_url = None;
    assert_eq!(s.setup_problem(None), Some(SetupProblem::NoProvider));
    // A Google company with privileged users still needs its provider.
    let s = settings(Some(SignInMethod::Google), &["boss@example.com"]);
    assert_eq!(s.setup_problem(None), Some(SetupProblem::NoProvider));
}

#[test]
fn a_method_change_keeps_a_password_session_only_when_the_method_or_privilege_allows_it() {
    use crate::auth::revocation::{CallState, Cause, Context, decide};
    let change = |method| Cause::MethodChanged {
        method,
        effective_at_ms: Some(10),
    };
    let cx = |provider, privileged| Context {
        now_ms: 1,
        grace_minutes: 60,
        provider,
        privileged,
    };
    let kept = |cause: &Cause, provider, privileged| {
        decide(cause, CallState::Idle, &cx(provider, privileged))
            .sign_out_at_ms
            .is_none()
    };
    assert!(kept(
        &change(SignInMethod::Password),
        ProviderKind::Password,
        false
    ));
    assert!(kept(&change(SignInMethod::Sso), ProviderKind::Sso, false));
    assert!(!kept(
        &change(SignInMethod::Google),
        ProviderKind::Password,
        false
    ));
    assert!(!kept(
        &change(SignInMethod::Password),
        ProviderKind::Sso,
        false
    ));
    assert!(kept(
        &change(SignInMethod::Google),
        ProviderKind::Password,
        true
    ));
    // The platform revoking the session ends it now, whoever the agent is.
    assert!(!kept(&Cause::PlatformRevoked, ProviderKind::Password, true));
}
