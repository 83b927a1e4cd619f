//! The signed-in session: carries out what `ringside_core::worker::auth`
//! decides (storage, timers, the host's secret store purge, the platform's
//! event stream), keeps the tokens (storage.session; the refresh token in
//! the OS secret store through the host), renews them and signs out.

use ringside_core::auth::revocation::{
    CallState, Cause, EventStream, PendingSignOut, platform_event,
};
use ringside_core::auth::session::{Notice, Profile, TokenHome};
use ringside_core::auth::token::{self, TokenFailure};
use ringside_core::protocol::{
    AuthAccount, AuthForgetParams, AuthRefreshParams, ErrorBody, ErrorCode, Request, TokenGrant,
};
use ringside_core::worker::auth::{AuthEffect, AuthEvent};
use ringside_core::worker::call_out;
use serde_json::{Value, json};
use wasm_bindgen_futures::spawn_local;

use super::kernel::{
    Up, Worker, broadcast, host_connected, host_request, now_ms, sleep, up, with_worker,
};
use crate::chrome::{self, Area};
use crate::error::{JsError, log_warn};

/// storage.local: who is signed in (no tokens).
pub(super) const KEY_PROFILE: &str = "profile";
/// storage.session: the access token, its expiry, its scopes and (no host
/// only) the refresh token.
const KEY_TOKENS: &str = "tokens";
/// storage.local: a sign-out waiting for its time (survives a browser restart).
const KEY_PENDING: &str = "pendingSignOut";
/// storage.local: a secret store entry the host could not delete yet.
const KEY_PURGE: &str = "purgePending";
/// storage.session: the platform session whose event stream the worker follows.
const KEY_PLATFORM_SESSION: &str = "platformSession";
/// Refresh this long before the access token expires.
pub(super) const REFRESH_MARGIN_MS: f64 = 120_000.0;

pub(super) fn call_state(w: &Worker) -> CallState {
    if w.desk.live.is_some() {
        CallState::InCall
    } else if !w.desk.wrapups.is_empty() {
        CallState::WrapUp
    } else {
        CallState::Idle
    }
}

pub(super) fn profile() -> Option<Profile> {
    with_worker(|w| w.auth.profile().cloned()).flatten()
}

pub(super) fn account(p: &Profile) -> AuthAccount {
    AuthAccount {
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
    }
}

/// Whether a click may start a call: sign-in is set up and nobody is signed in.
pub(super) fn sign_in_required(w: &Worker) -> bool {
    !w.settings.identity_providers.is_empty() && !w.auth.view().signed_in()
}

/// The platform session of this browser session (the signed-in agent's):
/// the bearer credential of platform requests.
pub(super) fn platform_session_id() -> Option<String> {
    with_worker(|w| w.auth.platform_session().map(str::to_owned)).flatten()
}

/// Tells the auth session what happened and carries out what it decides.
pub(super) async fn apply(event: AuthEvent) {
    let effects = with_worker(|w| w.auth.apply(event)).unwrap_or_default();
    for fx in effects {
        carry_out(fx).await;
    }
}

/// A reason the session may end.
pub(super) async fn ends(cause: Cause) {
    let event = with_worker(|w| {
        let privileged = w
            .auth
            .profile()
            .is_some_and(|p| w.settings.is_privileged(p));
        AuthEvent::Cause {
            cause,
            call: call_state(w),
            now_ms: now_ms() as u64,
            grace_minutes: w.settings.grace_minutes(),
            privileged,
        }
    });
    if let Some(event) = event {
        apply(event).await;
    }
}

async fn carry_out(fx: AuthEffect) {
    let stored = match fx {
        AuthEffect::Broadcast => {
            broadcast();
            Ok(())
        }
        AuthEffect::StorePending(p) => {
            chrome::storage_set(Area::Local, &json!({ KEY_PENDING: p })).await
        }
        AuthEffect::ClearPending => chrome::storage_remove(Area::Local, &[KEY_PENDING]).await,
        AuthEffect::ArmCountdown { generation, at_ms } => {
            let wait = at_ms.saturating_sub(now_ms() as u64).min(i32::MAX as u64) as u32;
            chrome::set_timeout(wait, move || {
                spawn_local(async move {
                    let call = with_worker(|w| call_state(w)).unwrap_or(CallState::Idle);
                    apply(AuthEvent::CountdownDue { generation, call }).await;
                });
            });
            Ok(())
        }
        AuthEffect::ForgetLocally => {
            // The agent's contacts go with the session (a shared machine's next agent).
            up(Up::ForgetContacts).await;
            let _ =
                chrome::storage_remove(Area::Session, &[KEY_TOKENS, KEY_PLATFORM_SESSION]).await;
            chrome::storage_remove(Area::Local, &[KEY_PROFILE]).await
        }
        AuthEffect::PurgeInHost { account, revoke } => {
            let purge = json!({ "issuer": account.issuer, "client_id": account.client_id, "revoke": revoke });
            let kept = chrome::storage_set(Area::Local, &json!({ KEY_PURGE: purge })).await;
            purge_in_host(account, revoke).await;
            kept
        }
        AuthEffect::StorePlatformSession(id) => {
            let kept =
                chrome::storage_set(Area::Session, &json!({ KEY_PLATFORM_SESSION: id })).await;
            if let Some(base) = with_worker(|w| w.settings.platform_url.clone()).flatten() {
                spawn_local(platform_events(base, id));
            }
            kept
        }
        AuthEffect::FlushOutbox => {
            spawn_local(up(Up::FlushOutbox));
            Ok(())
        }
    };
    if let Err(e) = stored {
        log_warn(&format!("session storage: {}", JsError::from(e)));
    }
}

/// Asks the host to delete the entry (and revoke); remembered until it did,
/// so a host that crashed or was missing does it on its next connection.
async fn purge_in_host(account: AuthAccount, revoke: bool) {
    let r = host_request(Request::AuthForget(AuthForgetParams {
        account,
        revoke,
        access_token: None,
    }))
    .await;
    if r.is_ok() {
        let _ = chrome::storage_remove(Area::Local, &[KEY_PURGE]).await;
    }
}

/// The scopes the current access token carries (space-separated).
pub(super) async fn granted_scope() -> Option<String> {
    let s = chrome::storage_get(Area::Session, Some(&[KEY_TOKENS]))
        .await
        .unwrap_or_default();
    s[KEY_TOKENS]["scope"].as_str().map(str::to_owned)
}

pub(super) async fn access_token() -> Option<String> {
    let s = chrome::storage_get(Area::Session, Some(&[KEY_TOKENS]))
        .await
        .unwrap_or_default();
    s[KEY_TOKENS]["access_token"].as_str().map(str::to_owned)
}

/// Stores the tokens (storage.session) and the profile (storage.local), and
/// schedules the refresh. Returns when the access token expires.
pub(super) async fn keep(profile: &Profile, grant: &TokenGrant, refresh: Option<&str>) -> f64 {
    let expires_at = now_ms() + grant.expires_in.unwrap_or(3600) as f64 * 1000.0;
    let mut tokens = json!({ "access_token": grant.access_token, "expires_at": expires_at });
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
        log_warn(&format!("cannot keep the session: {}", JsError::from(e)));
    }
    keep_profile(profile).await;
    schedule_refresh(expires_at);
    expires_at
}

/// Replaces the stored profile.
pub(super) async fn keep_profile(profile: &Profile) {
    if let Err(e) = chrome::storage_set(Area::Local, &json!({ KEY_PROFILE: profile })).await {
        log_warn(&format!("cannot keep the profile: {}", JsError::from(e)));
    }
}

pub(super) fn schedule_refresh(expires_at: f64) {
    let wait = (expires_at - REFRESH_MARGIN_MS - now_ms()).max(5_000.0);
    chrome::set_timeout(wait.min(f64::from(i32::MAX)) as u32, move || {
        let due = with_worker(|w| w.auth.expires_at_ms() == expires_at).unwrap_or(false);
        if due {
            spawn_local(async {
                refresh().await;
            });
        }
    });
}

/// What a refused refresh means for the session (None: try again later).
fn refresh_cause(e: &ErrorBody) -> Option<Cause> {
    match e.kind() {
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
                TokenFailure::InteractionRequired { .. } => Some(Cause::ClaimsChallengeFailed),
                TokenFailure::InvalidClient(_) | TokenFailure::Other(_) => {
                    Some(Cause::Unauthorized)
                }
                TokenFailure::Transient { .. } => None,
            }
        }
        _ => None,
    }
}

/// A new access token through the host. Returns whether the session goes on.
pub(super) async fn refresh() -> bool {
    let Some(profile) = profile() else {
        return false;
    };
    if profile.home == TokenHome::Browser {
        // No host: the session lasts as long as the access token.
        return now_ms() < with_worker(|w| w.auth.expires_at_ms()).unwrap_or(0.0);
    }
    let started = now_ms();
    let answer = host_request(Request::AuthRefresh(AuthRefreshParams {
        account: account(&profile),
        scope: None,
    }))
    .await
    .and_then(|v| {
        serde_json::from_value::<TokenGrant>(v)
            .map_err(|e| ErrorBody::new(ErrorCode::Internal, e.to_string()))
    });
    let grant = match answer {
        Ok(grant) => grant,
        Err(e) => {
            match refresh_cause(&e) {
                Some(cause) => ends(cause).await,
                None => log_warn(&format!("refresh failed, will retry: {}", e.message)),
            }
            return false;
        }
    };
    let expires_at_ms = keep(&profile, &grant, None).await;
    // After a restart the platform session (in storage.session) is gone:
    // present the new ID token again, which also re-checks the agent.
    if let Some(id_token) = grant.id_token.as_deref()
        && platform_session_id().is_none()
        && !renew_platform_session(id_token, &grant.access_token).await
    {
        return false;
    }
    apply(AuthEvent::Refreshed {
        profile,
        expires_at_ms,
        ms: (now_ms() - started).round() as u32,
        now_ms: now_ms() as u64,
    })
    .await;
    true
}

/// A new platform session for a refreshed ID token; false when the platform
/// ended the agent's access.
async fn renew_platform_session(id_token: &str, access_token: &str) -> bool {
    use ringside_core::auth::session::PlatformRefusal;
    let Some(base) = with_worker(|w| w.settings.platform_url.clone()).flatten() else {
        return true;
    };
    match platform_session(&base, id_token, access_token).await {
        Ok((_, Some(id))) => apply(AuthEvent::PlatformSession(id)).await,
        Ok((_, None)) => {}
        Err(PlatformRefusal::NotInvited) => {
            ends(Cause::AgentRemoved).await;
            return false;
        }
        Err(PlatformRefusal::MethodNotAllowed { .. }) => {
            ends(Cause::PlatformRevoked).await;
            return false;
        }
        Err(e) => log_warn(&format!("platform session not renewed: {e:?}")),
    }
    true
}

/// `POST {platform}/v1/sessions` with the ID token (and the access token when
/// the ID token names nobody): the agent and a session id.
pub(super) async fn platform_session(
    base: &str,
    id_token: &str,
    access_token: &str,
) -> Result<
    (ringside_core::auth::session::PlatformAgent, Option<String>),
    ringside_core::auth::session::PlatformRefusal,
> {
    use ringside_core::auth::session::{self as auth, PlatformRefusal};
    let url = format!("{}/v1/sessions", base.trim_end_matches('/'));
    let body = auth::platform_session_request(id_token, access_token);
    let a = chrome::http(&url, None, Some(&body), None)
        .await
        .map_err(|e| PlatformRefusal::Other(format!("{url}: {}", JsError::from(e))))?;
    auth::platform_session(a.status, &a.body)
}

/// Sign out: revoke at the provider (through the host, or here with no
/// host), delete the secret store entry, clear the session.
pub(super) async fn sign_out(revocation_endpoint: Option<String>) {
    let Some(profile) = profile() else {
        return;
    };
    let mut notice = Notice::new("signedOut", &[]);
    // Through the host: the stored refresh token, or (`access_token`) the
    // session's access token when the provider issued no refresh token.
    let forget_in_host = |access_token: Option<String>| {
        let account = account(&profile);
        async move {
            let r = host_request(Request::AuthForget(AuthForgetParams {
                account,
                revoke: true,
                access_token: access_token.map(Into::into),
            }))
            .await;
            match r {
                Ok(v) if v["revoked"] == true => Notice::new("signedOut", &[]),
                Ok(v) => {
                    let why = v["revoke_error"].as_str().unwrap_or_default().to_owned();
                    Notice::new("signedOutNotRevoked", &[&why])
                }
                Err(e) => Notice::new("signedOutNotRevoked", &[&e.message]),
            }
        }
    };
    match profile.home {
        TokenHome::Host => notice = forget_in_host(None).await,
        TokenHome::Browser => {
            let tokens = chrome::storage_get(Area::Session, Some(&[KEY_TOKENS]))
                .await
                .unwrap_or_default();
            let t = &tokens[KEY_TOKENS];
            let token = t["refresh_token"].as_str().or(t["access_token"].as_str());
            let access_only = t["refresh_token"].is_null();
            if let (true, true, Some(access)) = (host_connected(), access_only, token) {
                // The host is there but the provider issued no refresh
                // token: the host revokes the access token (it may hold the
                // client secret, and no CORS rule applies to it).
                notice = forget_in_host(Some(access.to_owned())).await;
            } else if let (Some(token), Some(url)) = (token, revocation_endpoint) {
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
    apply(AuthEvent::SignedOut { notice }).await;
}

/// At worker start: the stored profile and token expiry, the platform
/// session of this browser session, a pending sign-out (re-armed, or
/// carried out if its time passed) and an unfinished purge (retried).
/// Returns the stored profile and when its access token expires.
pub(super) async fn restore() -> Option<(Profile, f64)> {
    let local = chrome::storage_get(Area::Local, Some(&[KEY_PROFILE, KEY_PENDING, KEY_PURGE]))
        .await
        .unwrap_or_default();
    let session = chrome::storage_get(Area::Session, Some(&[KEY_TOKENS, KEY_PLATFORM_SESSION]))
        .await
        .unwrap_or_default();
    let restored = serde_json::from_value::<Profile>(local[KEY_PROFILE].clone()).ok();
    let expires_at = session[KEY_TOKENS]["expires_at"].as_f64().unwrap_or(0.0);
    if let Some(profile) = &restored {
        let platform = session[KEY_PLATFORM_SESSION].as_str().map(str::to_owned);
        with_worker(|w| w.auth.restore_platform_session(platform));
        apply(AuthEvent::Restored {
            profile: profile.clone(),
            expires_at_ms: expires_at,
        })
        .await;
    }
    if let Some(p) = local[KEY_PURGE].as_object() {
        let account = AuthAccount {
            issuer: p["issuer"].as_str().unwrap_or_default().to_owned(),
            client_id: p["client_id"].as_str().unwrap_or_default().to_owned(),
        };
        let revoke = p["revoke"].as_bool().unwrap_or(false);
        super::kernel::wait_connected().await;
        purge_in_host(account, revoke).await;
    }
    if let Ok(pending) = serde_json::from_value::<PendingSignOut>(local[KEY_PENDING].clone()) {
        let call = with_worker(|w| call_state(w)).unwrap_or(CallState::Idle);
        apply(AuthEvent::PendingFound {
            pending,
            call,
            now_ms: now_ms() as u64,
        })
        .await;
    }
    broadcast();
    let profile = profile()?;
    Some((profile, expires_at))
}

/// After a worker restart within the browser session: follow the platform
/// session again.
pub(super) fn resume_platform() {
    let both = with_worker(|w| {
        Some((
            w.settings.platform_url.clone()?,
            w.auth.platform_session()?.to_owned(),
        ))
    })
    .flatten();
    if let Some((base, id)) = both {
        spawn_local(platform_events(base, id));
    }
}

/// Follows `GET {platform}/v1/events` while this platform session is the
/// signed-in one; reconnects after a drop; a 401 means the platform revoked it.
async fn platform_events(base: String, session: String) {
    let url = format!("{}/v1/events", base.trim_end_matches('/'));
    let current = |session: &str| {
        with_worker(|w| w.auth.platform_session() == Some(session) && w.auth.profile().is_some())
            .unwrap_or(false)
    };
    let mut failures = 0u32;
    while current(&session) {
        match chrome::open_stream(&url, &session).await {
            Ok((401, _)) => {
                ends(Cause::PlatformRevoked).await;
                return;
            }
            Ok((200, Some(stream))) => {
                failures = 0;
                let mut events = EventStream::default();
                while let Ok(Some(chunk)) = stream.next_chunk().await {
                    for data in events.push_frames(&chunk) {
                        if let Some(call) = call_out::call_event(&data) {
                            up(Up::PlatformCall(call)).await;
                            continue;
                        }
                        let Some(cause) = platform_event(&data) else {
                            continue;
                        };
                        let ends_stream = !matches!(cause, Cause::MethodChanged { .. });
                        ends(cause).await;
                        if ends_stream {
                            return;
                        }
                    }
                }
            }
            _ => failures += 1,
        }
        // Dropped or unreachable: try again, backing off to 30 s.
        sleep(1_000 * 2u32.pow(failures.min(5)).min(30)).await;
    }
}
