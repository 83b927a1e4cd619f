//! Sign-in, a claims challenge, an added scope and sign-out: runs
//! `ringside_core::worker::signin::SignIn`, carrying out each step it asks
//! (a fetch, the provider's window, the host's code exchange, the key set)
//! and handing the result to the auth session (`super::session`).

use ringside_core::auth::idtoken::{IdTokenError, Jwks};
use ringside_core::auth::keys::KeyDecision;
use ringside_core::auth::pkce::{RANDOM_BYTES, RequestSecrets};
use ringside_core::auth::provider::{self, Discovery, ProviderKind};
use ringside_core::auth::session::SignInFailure;
use ringside_core::protocol::{AuthForgetParams, Request};
use ringside_core::secret::Secret;
use ringside_core::worker::auth::AuthEvent;
use ringside_core::worker::http::{HttpAnswer, HttpRequest};
use ringside_core::worker::signin::{Challenge, SignIn, SignedIn, Step};

use super::kernel::{host_request, now_ms, wait_connected, with_worker};
use super::session;
use crate::chrome;
use crate::error::JsError;

/// One `fetch` for a flow's request (no access token).
pub(super) async fn http(req: &HttpRequest, bearer: Option<&str>) -> Result<HttpAnswer, String> {
    let form: Option<Vec<(&str, &str)>> = req
        .form
        .as_ref()
        .map(|f| f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect());
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    chrome::http_with(
        req.method.as_deref(),
        &req.url,
        form.as_deref(),
        req.json.as_ref(),
        bearer,
        &headers,
    )
    .await
    .map_err(|e| JsError::from(e).to_string())
}

/// "Sign in with …" from the popup or the options page.
pub(super) async fn sign_in(kind: ProviderKind) {
    if with_worker(|w| w.auth.signing_in()).unwrap_or(true) {
        return;
    }
    if kind == ProviderKind::Sso {
        return platform(None).await;
    }
    session::apply(AuthEvent::SignInStarted { provider: kind }).await;
    if let Err((failure, email)) = run(kind, None).await {
        session::apply(AuthEvent::SignInFailed { failure, email }).await;
    }
}

/// The platform's own sign-in: email and password, or (None) its SSO broker.
pub(super) async fn platform(password: Option<(String, Secret)>) {
    use ringside_core::worker::platform_signin::{self as ps, PlatformSignIn, Step as P};
    let kind = match password {
        Some(_) => ProviderKind::Password,
        None => ProviderKind::Sso,
    };
    if with_worker(|w| w.auth.signing_in()).unwrap_or(true) {
        return;
    }
    session::apply(AuthEvent::SignInStarted { provider: kind }).await;
    let mut random = [0u8; RANDOM_BYTES];
    chrome::random_bytes(&mut random);
    let redirect = chrome::identity_redirect_url();
    let Some((mut flow, mut step)) = with_worker(|w| match &password {
        Some((email, pw)) => PlatformSignIn::password(&w.settings, email, pw),
        None => PlatformSignIn::sso(&w.settings, RequestSecrets::from_random(&random), redirect),
    }) else {
        return;
    };
    drop(password);
    loop {
        step = match step {
            P::OpenWindow(url) => flow.redirected(
                chrome::launch_web_auth_flow(&url)
                    .await
                    .map_err(|e| JsError::from(e).to_string()),
            ),
            P::Session(req) => flow.answered(http(&req, None).await),
            P::Done(done) => {
                let (tokens, expires_at_ms) = ps::token_record(done.expires_in, now_ms());
                let _ = chrome::storage_set(chrome::Area::Session, &tokens).await;
                session::keep_profile(&done.profile).await;
                session::apply(AuthEvent::PlatformSession(done.session)).await;
                let (profile, notice) = (done.profile, None);
                let event = AuthEvent::SignedIn {
                    profile,
                    expires_at_ms,
                    notice,
                };
                return session::apply(event).await;
            }
            P::Failed(failure, email) => {
                return session::apply(AuthEvent::SignInFailed { failure, email }).await;
            }
        }
    }
}

/// Answers a claims challenge (Microsoft continuous access evaluation) with
/// the interactive flow. True when the same agent came back with new tokens.
pub(super) async fn reauthenticate(claims: String) -> bool {
    again(Some(claims), None).await.is_ok()
}

/// Adds one scope to the agent's grant (the side panel's Connect): the
/// consent page asks for that scope alone; the same agent must come back.
pub(super) async fn add_scope(scope: &'static str) -> Result<(), SignInFailure> {
    again(None, Some(scope)).await
}

async fn again(claims: Option<String>, scope: Option<&'static str>) -> Result<(), SignInFailure> {
    let Some(p) = session::profile() else {
        return Err(SignInFailure::Cancelled);
    };
    let challenge = Challenge {
        claims,
        scope,
        login_hint: p.email.clone(),
        subject: p.subject.clone(),
        agent: p.agent.clone(),
    };
    run(p.provider, Some(challenge)).await.map_err(|(f, _)| f)
}

async fn run(
    kind: ProviderKind,
    challenge: Option<Challenge>,
) -> Result<(), (SignInFailure, String)> {
    let mut random = [0u8; RANDOM_BYTES];
    chrome::random_bytes(&mut random);
    let secrets = RequestSecrets::from_random(&random);
    wait_connected().await;
    let redirect = chrome::identity_redirect_url();
    let started = with_worker(|w| {
        SignIn::start(
            kind,
            &w.settings,
            challenge,
            secrets,
            redirect,
            w.link.is_connected(),
            |issuer| w.providers.discovered.get(issuer).cloned(),
        )
    });
    let Some((mut flow, mut step)) = started else {
        return Err((SignInFailure::Cancelled, String::new()));
    };
    loop {
        step = match step {
            Step::Discover(req) => {
                let step = flow.discovered(http(&req, None).await);
                if let Some(d) = flow.discovery().cloned() {
                    with_worker(|w| w.providers.discovered.insert(d.issuer.clone(), d));
                }
                step
            }
            Step::OpenWindow(url) => flow.redirected(
                // Closing the window rejects with "The user did not approve access.".
                chrome::launch_web_auth_flow(&url)
                    .await
                    .map_err(|e| JsError::from(e).to_string()),
            ),
            Step::ExchangeInHost(params) => {
                flow.exchanged_in_host(host_request(Request::AuthExchange(params)).await)
            }
            Step::ExchangeHere(req) => flow.exchanged_here(http(&req, None).await),
            Step::Keys { jwks_uri, kid } => {
                flow.keys(jwks_for(&jwks_uri, &kid).await, (now_ms() / 1000.0) as u64)
            }
            Step::Userinfo(req) => flow.userinfo(http(&req, None).await),
            Step::PlatformSession(req) => flow.platform_answered(http(&req, None).await),
            Step::Forget(account) => {
                let _ = host_request(Request::AuthForget(AuthForgetParams {
                    account,
                    revoke: true,
                    access_token: None,
                }))
                .await;
                flow.forgotten()
            }
            Step::Done(done) => {
                keep(*done).await;
                return Ok(());
            }
            Step::Failed(failure, email) => return Err((failure, email)),
        }
    }
}

/// The sign-in took: tokens and profile kept, the platform session first
/// (the wrap-ups this agent wrote while signed out go with it), then every
/// surface told.
async fn keep(done: SignedIn) {
    let expires_at_ms = session::keep(
        &done.profile,
        &done.grant,
        done.refresh_token.as_ref().map(Secret::expose),
    )
    .await;
    if let Some(id) = done.platform_session {
        session::apply(AuthEvent::PlatformSession(id)).await;
    }
    session::apply(AuthEvent::SignedIn {
        profile: done.profile,
        expires_at_ms,
        notice: done.notice,
    })
    .await;
}

/// The key set holding `kid`, from the cache or fetched (Cache-Control
/// decides how long; one refetch for an unknown kid).
async fn jwks_for(uri: &str, kid: &str) -> Result<Jwks, SignInFailure> {
    let now = (now_ms() / 1000.0) as u64;
    let decision = with_worker(|w| {
        w.providers
            .keys
            .get(uri)
            .map_or(KeyDecision::Fetch, |c| c.decide(kid, now))
    })
    .unwrap_or(KeyDecision::Fetch);
    if decision == KeyDecision::Fetch {
        let a = http(&HttpRequest::get(uri), None)
            .await
            .map_err(|e| SignInFailure::Unreachable(format!("{uri}: {e}")))?;
        let jwks: Jwks = serde_json::from_str(&a.body).map_err(|e| {
            SignInFailure::IdToken(IdTokenError::Malformed(format!("the provider's keys: {e}")))
        })?;
        with_worker(|w| {
            w.providers.keys.entry(uri.to_owned()).or_default().store(
                jwks,
                a.cache_control.as_deref(),
                now,
                Some(kid),
            )
        });
    }
    Ok(
        with_worker(|w| w.providers.keys.get(uri).and_then(|c| c.jwks().cloned()))
            .flatten()
            .unwrap_or_default(),
    )
}

/// The issuer's discovery document, from the cache or fetched.
async fn discovery(issuer: &str) -> Option<Discovery> {
    if let Some(d) = with_worker(|w| w.providers.discovered.get(issuer).cloned()).flatten() {
        return Some(d);
    }
    let a = http(&HttpRequest::get(provider::discovery_url(issuer)), None)
        .await
        .ok()
        .filter(|a| a.status == 200)?;
    let d = provider::parse_discovery(&a.body, issuer).ok()?;
    with_worker(|w| w.providers.discovered.insert(issuer.to_owned(), d.clone()));
    Some(d)
}

/// The provider's userinfo endpoint, from its discovery document.
pub(super) async fn userinfo_endpoint(issuer: &str) -> Option<String> {
    discovery(issuer).await?.userinfo_endpoint
}

/// Sign out from the popup or options page (the revocation endpoint is
/// needed when there is no host to revoke).
pub(super) async fn sign_out() {
    let Some(p) = session::profile() else {
        return;
    };
    if ringside_core::worker::platform_signin::is_platform(&p) {
        use ringside_core::worker::platform_signin::{sign_out_notice, sign_out_request};
        let base = with_worker(|w| w.settings.platform_url.clone()).flatten();
        let base = base.unwrap_or(p.issuer);
        let notice = match sign_out_request(&base, session::platform_session_id().as_deref()) {
            Some(req) => sign_out_notice(&base, &http(&req, None).await),
            None => ringside_core::auth::session::Notice::new("signedOut", &[]),
        };
        return session::apply(AuthEvent::SignedOut { notice }).await;
    }
    let endpoint = discovery(&p.issuer)
        .await
        .and_then(|d| d.revocation_endpoint);
    session::sign_out(endpoint).await;
}
