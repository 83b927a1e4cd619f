//! Sign-in, restore after a restart, refresh and sign-out. The rules are in
//! `ringside_core::auth`; this module fetches, calls chrome.identity and the
//! host, and stores: the profile (not secret) in storage.local, tokens in
//! storage.session only, the refresh token in the OS secret store through the
//! host (or, with no host, in storage.session for this browser session).

use std::collections::HashMap;

use ringside_core::auth::idtoken::{self, Claims, Expectations, IdTokenError, Jwks};
use ringside_core::auth::keys::{KeyCache, KeyDecision};
use ringside_core::auth::pkce::{RANDOM_BYTES, RequestSecrets};
use ringside_core::auth::provider::{self, Discovery, ProviderConfig, ProviderKind, SetupProblem};
use ringside_core::auth::revocation::Cause;
use ringside_core::auth::session::{
    self as auth, Notice, Phase, PlatformRefusal, Profile, SignInFailure, TokenHome,
};
use ringside_core::auth::token::{self, TokenFailure};
use ringside_core::protocol::{
    AuthAccount, AuthExchangeParams, AuthForgetParams, AuthRefreshParams, ErrorCode, Request,
    TokenGrant,
};
use ringside_core::secret::Secret;
use serde_json::{Value, json};

use super::{broadcast, host_request, now_ms, wait_connected, with_worker};
use crate::chrome::{self, Area};
use crate::error::{JsError, log_warn};

/// storage.local: who is signed in (no tokens).
const KEY_PROFILE: &str = "profile";
/// storage.session: the access token, its expiry, and (no host only) the refresh token.
pub(super) const KEY_TOKENS: &str = "tokens";
/// Refresh this long before the access token expires.
const REFRESH_MARGIN_MS: f64 = 120_000.0;
/// Restore attempts while the host is missing or the provider unreachable.
const RESTORE_TRIES: u32 = 5;

/// The worker's sign-in state.
#[derive(Default)]
pub(super) struct SessionState {
    pub view: auth::AuthView,
    discovered: HashMap<String, Discovery>,
    keys: HashMap<String, KeyCache>,
    /// Milliseconds since the epoch when the access token expires.
    expires_at: f64,
}

impl SessionState {
    pub fn new(redirect_uri: String) -> SessionState {
        let mut s = SessionState::default();
        s.view.redirect_uri = redirect_uri;
        s
    }
}

pub(super) fn view(f: impl FnOnce(&mut auth::AuthView)) {
    with_worker(|w| f(&mut w.session.view));
}

fn failure_notice(f: &SignInFailure, email: &str) {
    view(|v| {
        v.phase = Phase::SignedOut;
        // A setup problem is shown as the admin warning, with the redirect URI.
        (v.setup, v.notice) = match f {
            SignInFailure::Setup(p) => (Some(p.clone()), None),
            SignInFailure::Cancelled => (
                None,
                Some(Notice::new("signinCancelled", &[&v.redirect_uri])),
            ),
            other => (None, Some(other.notice(email))),
        };
    });
}

fn js(e: wasm_bindgen::JsValue) -> String {
    JsError::from(e).to_string()
}

/// "Sign in with …" from the popup or the options page.
pub(super) async fn sign_in(kind: ProviderKind) {
    let busy =
        with_worker(|w| matches!(w.session.view.phase, Phase::SigningIn { .. })).unwrap_or(false);
    if busy {
        return;
    }
    view(|v| {
        v.phase = Phase::SigningIn { provider: kind };
        v.notice = None;
        v.setup = None;
    });
    broadcast();
    match run_flow(kind, None).await {
        Ok(()) => {
            view(|v| {
                v.phase = Phase::SignedIn;
                v.call_note = None;
            });
            // This agent's wrap-ups written while signed out go now (only
            // theirs, with their own platform session).
            broadcast();
            super::call_flow::flush_outbox().await;
        }
        Err((f, email)) => failure_notice(&f, &email),
    }
    broadcast();
}

async fn discovery(issuer: &str) -> Result<Discovery, SignInFailure> {
    if let Some(d) = with_worker(|w| w.session.discovered.get(issuer).cloned()).flatten() {
        return Ok(d);
    }
    let url = provider::discovery_url(issuer);
    let a = chrome::http(&url, None, None, None)
        .await
        .map_err(|e| SignInFailure::Unreachable(format!("{url}: {}", js(e))))?;
    if a.status != 200 {
        return Err(SignInFailure::Setup(SetupProblem::BadDiscovery {
            reason: format!("{url} answered HTTP {}", a.status),
        }));
    }
    let d = provider::parse_discovery(&a.body, issuer).map_err(SignInFailure::Setup)?;
    with_worker(|w| w.session.discovered.insert(issuer.to_owned(), d.clone()));
    Ok(d)
}

/// The JWKS holding `kid`, from the cache or fetched (Cache-Control decides
/// how long; one refetch for an unknown kid).
async fn jwks_for(d: &Discovery, kid: &str) -> Result<Jwks, SignInFailure> {
    let now = (now_ms() / 1000.0) as u64;
    let decision = with_worker(|w| {
        w.session
            .keys
            .get(&d.jwks_uri)
            .map(|c| c.decide(kid, now))
            .unwrap_or(KeyDecision::Fetch)
    })
    .unwrap_or(KeyDecision::Fetch);
    if decision == KeyDecision::Fetch {
        let a = chrome::http(&d.jwks_uri, None, None, None)
            .await
            .map_err(|e| SignInFailure::Unreachable(format!("{}: {}", d.jwks_uri, js(e))))?;
        let jwks: Jwks = serde_json::from_str(&a.body).map_err(|e| {
            SignInFailure::IdToken(IdTokenError::Malformed(format!("the provider's keys: {e}")))
        })?;
        with_worker(|w| {
            w.session.keys.entry(d.jwks_uri.clone()).or_default().store(
                jwks,
                a.cache_control.as_deref(),
                now,
                Some(kid),
            )
        });
    }
    Ok(with_worker(|w| {
        w.session
            .keys
            .get(&d.jwks_uri)
            .and_then(|c| c.jwks().cloned())
    })
    .flatten()
    .unwrap_or(Jwks { keys: vec![] }))
}

fn account(p: &Profile) -> AuthAccount {
    AuthAccount {
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
    }
}

pub(super) type Failed = (SignInFailure, String);

use super::reauth::{Challenge, granted_scope};

pub(super) async fn run_flow(
    kind: ProviderKind,
    challenge: Option<Challenge>,
) -> Result<(), Failed> {
    let fail = |f: SignInFailure| (f, String::new());
    let cfg: ProviderConfig = with_worker(|w| {
        w.settings
            .offered_providers()
            .into_iter()
            .find(|p| p.kind == kind)
            .cloned()
    })
    .flatten()
    .ok_or_else(|| fail(SignInFailure::Setup(SetupProblem::NoProvider)))?;
    let issuer = cfg.issuer().map_err(|p| fail(SignInFailure::Setup(p)))?;
    let client_id = cfg
        .client_id()
        .map_err(|p| fail(SignInFailure::Setup(p)))?
        .to_owned();
    let d = discovery(&issuer).await.map_err(fail)?;
    let mut random = [0u8; RANDOM_BYTES];
    chrome::random_bytes(&mut random);
    let secrets = RequestSecrets::from_random(&random);
    let redirect = chrome::identity_redirect_url();
    let extras = provider::Extras {
        login_hint: challenge.as_ref().map(|c| c.login_hint.as_str()),
        claims: challenge.as_ref().and_then(|c| c.claims.as_deref()),
        incremental: challenge.as_ref().and_then(|c| c.scope),
    };
    let url = provider::authorization_url_with(&cfg, &d, &redirect, &secrets, &extras)
        .map_err(|p| fail(SignInFailure::Setup(p)))?;
    // Closing the window rejects with "The user did not approve access.".
    let answer = chrome::launch_web_auth_flow(&url)
        .await
        .map_err(|_| fail(SignInFailure::Cancelled))?;
    let code = provider::parse_redirect(&answer, &secrets.state)
        .map_err(|e| fail(SignInFailure::from(e)))?;

    let acct = AuthAccount {
        issuer: issuer.clone(),
        client_id: client_id.clone(),
    };
    wait_connected().await;
    let host = with_worker(|w| w.link.is_connected()).unwrap_or(false);
    let (grant, refresh, home) = if host {
        let grant = exchange_in_host(&acct, code, &secrets.verifier, &redirect)
            .await
            .map_err(fail)?;
        let home = if grant.stored {
            TokenHome::Host
        } else {
            TokenHome::Browser
        };
        (grant, None, home)
    } else {
        let (grant, refresh) = exchange_here(&d, &client_id, &code, &secrets.verifier, &redirect)
            .await
            .map_err(fail)?;
        (grant, refresh, TokenHome::Browser)
    };
    let forget = || async {
        if home == TokenHome::Host {
            let _ = host_request(Request::AuthForget(AuthForgetParams {
                account: acct.clone(),
                revoke: true,
            }))
            .await;
        }
    };
    let Some(id_token) = grant.id_token.clone() else {
        forget().await;
        return Err(fail(SignInFailure::Exchange("no id_token".into())));
    };
    let email = idtoken::peek_claims(&id_token)
        .ok()
        .and_then(|c| c.login_email().map(str::to_owned))
        .unwrap_or_default();
    let claims = match check(&d, &cfg, &issuer, &id_token, &secrets.nonce).await {
        Ok(c) => c,
        Err(f) => {
            forget().await;
            return Err((f, email));
        }
    };
    let mut profile = Profile::from_claims(&claims, kind, &issuer, &client_id, home);
    let allowed = with_worker(|w| w.settings.method_allows(&profile)).unwrap_or(Ok(()));
    if let Err(method) = allowed {
        forget().await;
        let method = serde_json::to_value(method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        return Err((
            SignInFailure::Platform(PlatformRefusal::MethodNotAllowed { method }),
            email,
        ));
    }
    if challenge.as_ref().is_some_and(|c| c.subject != claims.sub) {
        // Someone else signed in to answer the challenge: not this session.
        forget().await;
        return Err((SignInFailure::Exchange("another account".into()), email));
    }
    let adding_scope = challenge.as_ref().is_some_and(|c| c.scope.is_some());
    if adding_scope {
        // The same session with one more scope: the platform already knows it.
        profile.agent = with_worker(|w| {
            w.session
                .view
                .profile
                .as_ref()
                .and_then(|p| p.agent.clone())
        })
        .flatten();
    }
    let platform = with_worker(|w| w.settings.platform_url.clone())
        .flatten()
        .filter(|_| !adding_scope);
    if let Some(base) = platform {
        match platform_session(&base, &id_token).await {
            Ok((agent, session)) => {
                profile.agent = Some(agent);
                if let Some(id) = session {
                    super::revocation::follow_platform(base.clone(), id).await;
                }
            }
            Err(r) => {
                forget().await;
                return Err((SignInFailure::Platform(r), email));
            }
        }
    }
    keep(&profile, &grant, refresh.as_ref().map(Secret::expose)).await;
    if let Some(e) = &grant.store_error {
        view(|v| v.notice = Some(Notice::new("signinStoreUnavailable", &[e])));
    } else if home == TokenHome::Browser {
        view(|v| v.notice = Some(Notice::new("signinBrowserOnly", &[])));
    }
    Ok(())
}

async fn exchange_in_host(
    acct: &AuthAccount,
    code: String,
    verifier: &str,
    redirect: &str,
) -> Result<TokenGrant, SignInFailure> {
    let v = host_request(Request::AuthExchange(AuthExchangeParams {
        account: acct.clone(),
        code,
        code_verifier: verifier.to_owned(),
        redirect_uri: redirect.to_owned(),
    }))
    .await
    .map_err(|e| match (e.kind(), &e.detail) {
        (Some(ErrorCode::ProviderRefused), Some(d)) => auth::exchange_failure(
            d["status"].as_u64().unwrap_or(400) as u16,
            d["body"].as_str().unwrap_or_default(),
        ),
        (Some(ErrorCode::ProviderMisconfigured), _) => {
            SignInFailure::Setup(SetupProblem::BadDiscovery { reason: e.message })
        }
        _ => SignInFailure::Unreachable(e.message),
    })?;
    serde_json::from_value(v).map_err(|e| SignInFailure::Exchange(e.to_string()))
}

/// No host: the code exchange as a public client (PKCE, no secret).
async fn exchange_here(
    d: &Discovery,
    client_id: &str,
    code: &str,
    verifier: &str,
    redirect: &str,
) -> Result<(TokenGrant, Option<Secret>), SignInFailure> {
    let a = chrome::http(
        &d.token_endpoint,
        Some(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("client_id", client_id),
            ("redirect_uri", redirect),
        ]),
        None,
        None,
    )
    .await
    .map_err(|e| SignInFailure::Unreachable(js(e)))?;
    if a.status != 200 {
        return Err(auth::exchange_failure(a.status, &a.body));
    }
    let t = token::parse_tokens(&a.body).map_err(SignInFailure::Exchange)?;
    Ok((
        TokenGrant {
            access_token: t.access_token.expose().to_owned(),
            id_token: t.id_token.as_ref().map(|s| s.expose().to_owned()),
            expires_in: t.expires_in,
            scope: t.scope,
            stored: false,
            store_error: None,
        },
        t.refresh_token,
    ))
}

async fn check(
    d: &Discovery,
    cfg: &ProviderConfig,
    issuer: &str,
    id_token: &str,
    nonce: &str,
) -> Result<Claims, SignInFailure> {
    let kid = idtoken::peek_kid(id_token).map_err(SignInFailure::IdToken)?;
    let jwks = jwks_for(d, &kid).await?;
    let client_id = cfg.client_id().unwrap_or_default();
    idtoken::verify(
        id_token,
        &jwks,
        &Expectations {
            kind: cfg.kind,
            issuer,
            client_id,
            nonce,
            now: (now_ms() / 1000.0) as u64,
            allowed_domains: &cfg.allowed_domains,
            tenant: cfg.tenant.as_deref(),
        },
    )
    .map_err(SignInFailure::IdToken)
}

async fn platform_session(
    base: &str,
    id_token: &str,
) -> Result<(auth::PlatformAgent, Option<String>), PlatformRefusal> {
    let url = format!("{}/v1/sessions", base.trim_end_matches('/'));
    let a = chrome::http(&url, None, Some(&json!({ "id_token": id_token })), None)
        .await
        .map_err(|e| PlatformRefusal::Other(format!("{url}: {}", js(e))))?;
    auth::platform_session(a.status, &a.body)
}

/// The provider's userinfo endpoint, from its discovery document.
pub(super) async fn userinfo_endpoint(issuer: &str) -> Option<String> {
    discovery(issuer).await.ok()?.userinfo_endpoint
}

/// Replaces the stored profile (name and photo refreshed).
pub(super) async fn keep_profile(profile: &Profile) {
    if let Err(e) = chrome::storage_set(Area::Local, &json!({ KEY_PROFILE: profile })).await {
        log_warn(&format!("cannot keep the profile: {}", js(e)));
    }
    with_worker(|w| w.session.view.profile = Some(profile.clone()));
}

/// Stores the profile (local) and tokens (session), and schedules the refresh.
async fn keep(profile: &Profile, grant: &TokenGrant, refresh: Option<&str>) {
    let expires_at = now_ms() + grant.expires_in.unwrap_or(3600) as f64 * 1000.0;
    let mut tokens = json!({
        "access_token": grant.access_token,
        "expires_at": expires_at,
    });
    if let Some(r) = refresh {
        tokens["refresh_token"] = r.into();
    }
    // The scopes granted so far (incremental authorization adds to them); a
    // refresh that does not say keeps the ones known.
    let scope = match &grant.scope {
        Some(s) => Some(s.clone()),
        None => granted_scope().await,
    };
    if let Some(s) = scope {
        tokens["scope"] = s.into();
    }
    if let Err(e) = chrome::storage_set(Area::Session, &json!({ KEY_TOKENS: tokens })).await {
        log_warn(&format!("cannot keep the session: {}", js(e)));
    }
    if let Err(e) = chrome::storage_set(Area::Local, &json!({ KEY_PROFILE: profile })).await {
        log_warn(&format!("cannot keep the profile: {}", js(e)));
    }
    with_worker(|w| {
        w.session.view.profile = Some(profile.clone());
        w.session.expires_at = expires_at;
    });
    schedule_refresh(expires_at);
}

fn schedule_refresh(expires_at: f64) {
    let wait = (expires_at - REFRESH_MARGIN_MS - now_ms()).max(5_000.0);
    chrome::set_timeout(wait.min(f64::from(i32::MAX)) as u32, move || {
        let due = with_worker(|w| w.session.expires_at == expires_at).unwrap_or(false);
        if due {
            wasm_bindgen_futures::spawn_local(async {
                refresh().await;
            });
        }
    });
}

/// Why a stored session could not be renewed, for the sign-out message.
fn ended(key: &str, subs: &[&str]) {
    view(|v| {
        v.phase = Phase::SignedOut;
        v.profile = None;
        v.notice = Some(Notice::new(key, subs));
    });
}

pub(super) async fn forget_locally() {
    // The agent's contacts go with the session (a shared machine's next agent).
    super::contacts::forget().await;
    let _ = chrome::storage_remove(Area::Session, &[KEY_TOKENS, "platformSession"]).await;
    let _ = chrome::storage_remove(Area::Local, &[KEY_PROFILE]).await;
    with_worker(|w| w.session.expires_at = 0.0);
}

/// A new access token through the host. Returns whether the session goes on.
pub(super) async fn refresh() -> bool {
    let Some(profile) = with_worker(|w| w.session.view.profile.clone()).flatten() else {
        return false;
    };
    if profile.home == TokenHome::Browser {
        // No host: the session lasts as long as the access token.
        return now_ms() < with_worker(|w| w.session.expires_at).unwrap_or(0.0);
    }
    let started = now_ms();
    let answer = host_request(Request::AuthRefresh(AuthRefreshParams {
        account: account(&profile),
        scope: None,
    }))
    .await;
    match answer.and_then(|v| {
        serde_json::from_value::<TokenGrant>(v).map_err(|e| {
            ringside_core::protocol::ErrorBody::new(ErrorCode::Internal, e.to_string())
        })
    }) {
        Ok(grant) => {
            keep(&profile, &grant, None).await;
            // After a restart the platform session (in storage.session) is gone:
            // present the new ID token again, which also re-checks the agent.
            let platform = with_worker(|w| w.settings.platform_url.clone()).flatten();
            if let (Some(base), Some(id_token)) = (platform, grant.id_token.as_deref())
                && !super::revocation::following_platform().await
            {
                match platform_session(&base, id_token).await {
                    Ok((_, Some(id))) => {
                        super::revocation::follow_platform(base, id).await;
                        // The session is back: this agent's outbox can go.
                        wasm_bindgen_futures::spawn_local(super::call_flow::flush_outbox());
                    }
                    Ok((_, None)) => {}
                    Err(PlatformRefusal::NotInvited) => {
                        super::revocation::session_ends(Cause::AgentRemoved).await;
                        return false;
                    }
                    Err(PlatformRefusal::MethodNotAllowed { .. }) => {
                        super::revocation::session_ends(Cause::PlatformRevoked).await;
                        return false;
                    }
                    Err(e) => log_warn(&format!("platform session not renewed: {e:?}")),
                }
            }
            with_worker(|w| {
                w.session.view.phase = Phase::SignedIn;
                w.session.view.last_refresh_ms = Some((now_ms() - started).round() as u32);
                w.session.view.last_refresh_at = Some(now_ms() as u64);
            });
            broadcast();
            true
        }
        Err(e) => {
            let cause = match e.kind() {
                Some(ErrorCode::NoRefreshToken) => Some(Cause::SecretStoreEmpty),
                Some(ErrorCode::SecretStoreUnavailable) => Some(Cause::SecretStoreLocked),
                Some(ErrorCode::ProviderRefused) => {
                    let d = e.detail.as_deref().cloned().unwrap_or(Value::Null);
                    match token::classify(
                        d["status"].as_u64().unwrap_or(400) as u16,
                        d["body"].as_str().unwrap_or_default(),
                        d["retry_after"].as_str(),
                    ) {
                        TokenFailure::GrantRevoked(reason) => Some(Cause::GrantRevoked { reason }),
                        // A claims challenge on refresh needs the agent: sign in again.
                        TokenFailure::InteractionRequired { .. } => {
                            Some(Cause::ClaimsChallengeFailed)
                        }
                        TokenFailure::InvalidClient(_) | TokenFailure::Other(_) => {
                            Some(Cause::Unauthorized)
                        }
                        TokenFailure::Transient { .. } => None,
                    }
                }
                _ => None,
            };
            match cause {
                Some(cause) => {
                    super::revocation::session_ends(cause).await;
                    false
                }
                None => {
                    log_warn(&format!("refresh failed, will retry: {}", e.message));
                    false
                }
            }
        }
    }
}

/// At worker start: the signed-in agent of the last run, without a prompt.
pub(super) async fn restore() {
    let local = chrome::storage_get(Area::Local, Some(&[KEY_PROFILE]))
        .await
        .unwrap_or_default();
    let Ok(profile) = serde_json::from_value::<Profile>(local[KEY_PROFILE].clone()) else {
        broadcast();
        // A purge the host could not do before (crash, missing) is retried.
        super::revocation::restore().await;
        return;
    };
    let tokens = chrome::storage_get(Area::Session, Some(&[KEY_TOKENS]))
        .await
        .unwrap_or_default();
    let expires_at = tokens[KEY_TOKENS]["expires_at"].as_f64().unwrap_or(0.0);
    with_worker(|w| {
        w.session.view.profile = Some(profile.clone());
        w.session.expires_at = expires_at;
    });
    // A sign-out pending from before the restart: carried out if due, else re-armed.
    super::revocation::restore().await;
    if with_worker(|w| w.session.view.profile.is_none()).unwrap_or(true) {
        return;
    }
    if expires_at > now_ms() + REFRESH_MARGIN_MS {
        // The worker restarted within the browser session.
        view(|v| v.phase = Phase::SignedIn);
        schedule_refresh(expires_at);
        super::revocation::resume_platform().await;
        broadcast();
        return;
    }
    if profile.home == TokenHome::Browser {
        forget_locally().await;
        ended("sessionEndedWithBrowser", &[]);
        broadcast();
        return;
    }
    view(|v| v.phase = Phase::Restoring);
    broadcast();
    for attempt in 0..RESTORE_TRIES {
        wait_connected().await;
        if refresh().await {
            super::api::refresh_profile().await;
            return;
        }
        let still = with_worker(|w| w.session.view.phase == Phase::Restoring).unwrap_or(false);
        if !still {
            return;
        }
        sleep(2_000 * (attempt + 1)).await;
    }
}

pub(super) async fn sleep(ms: u32) {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    chrome::set_timeout(ms, move || {
        let _ = tx.send(());
    });
    let _ = rx.await;
}

/// Sign out: revoke at the provider, delete the secret store entry, clear
/// storage.session.
pub(super) async fn sign_out() {
    let Some(profile) = with_worker(|w| w.session.view.profile.clone()).flatten() else {
        return;
    };
    let mut notice = Notice::new("signedOut", &[]);
    match profile.home {
        TokenHome::Host => {
            let r = host_request(Request::AuthForget(AuthForgetParams {
                account: account(&profile),
                revoke: true,
            }))
            .await;
            match r {
                Ok(v) if v["revoked"] == true => {}
                Ok(v) => {
                    let why = v["revoke_error"].as_str().unwrap_or_default().to_owned();
                    notice = Notice::new("signedOutNotRevoked", &[&why]);
                }
                Err(e) => notice = Notice::new("signedOutNotRevoked", &[&e.message]),
            }
        }
        TokenHome::Browser => {
            let tokens = chrome::storage_get(Area::Session, Some(&[KEY_TOKENS]))
                .await
                .unwrap_or_default();
            let t = &tokens[KEY_TOKENS];
            let token = t["refresh_token"].as_str().or(t["access_token"].as_str());
            if let (Some(token), Ok(d)) = (token, discovery(&profile.issuer).await)
                && let Some(url) = d.revocation_endpoint
            {
                let r = chrome::http(
                    &url,
                    Some(&[("token", token), ("client_id", &profile.client_id)]),
                    None,
                    None,
                )
                .await;
                if !matches!(r, Ok(ref a) if a.status == 200) {
                    notice = Notice::new("signedOutNotRevoked", &[&url]);
                }
            }
        }
    }
    forget_locally().await;
    view(|v| {
        v.phase = Phase::SignedOut;
        v.profile = None;
        v.notice = Some(notice);
    });
    broadcast();
}
