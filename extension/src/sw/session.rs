//! The signed-in session: carries out what `ringside_core::worker::auth`
//! decides (storage, timers, the host's secret store purge, the platform's
//! event stream), keeps the tokens (storage.session; the refresh token in
//! the OS secret store through the host), renews them and signs out.

use ringside_core::auth::revocation::{CallState, Cause, EventStream, platform_event};
use ringside_core::auth::session::{Notice, Profile, TokenHome};
use ringside_core::protocol::{
    AuthAccount, AuthForgetParams, AuthRefreshParams, ErrorBody, ErrorCode, Request, TokenGrant,
};
use ringside_core::worker::auth::{AuthEffect, AuthEvent};
use ringside_core::worker::call_out;
use ringside_core::worker::session_store::{
    self as store, KEY_PENDING, KEY_PLATFORM_SESSION, KEY_PROFILE, KEY_PURGE, KEY_TOKENS,
};
use serde_json::json;
use wasm_bindgen_futures::spawn_local;

use super::kernel::{
    Up, Worker, broadcast, host_connected, host_request, now_ms, sleep, up, with_worker,
};
use crate::chrome::{self, Area};
use crate::error::{JsError, log_warn};

pub(super) use ringside_core::worker::session_store::REFRESH_MARGIN_MS;

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
    w.sign_in_required()
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
    let event = with_worker(|w| w.cause(cause, now_ms() as u64));
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
                    let call = with_worker(|w| w.call_state()).unwrap_or(CallState::Idle);
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
            let kept =
                chrome::storage_set(Area::Local, &store::purge_record(&account, revoke)).await;
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

/// The token record's `name` field (storage.session).
async fn token_field(name: &str) -> Option<String> {
    let s = chrome::storage_get(Area::Session, Some(&[KEY_TOKENS]))
        .await
        .unwrap_or_default();
    store::token_field(&s, name).map(str::to_owned)
}

/// The scopes the current access token carries (space-separated).
pub(super) async fn granted_scope() -> Option<String> {
    token_field("scope").await
}

pub(super) async fn access_token() -> Option<String> {
    token_field("access_token").await
}

/// Stores the tokens (storage.session) and the profile (storage.local), and
/// schedules the refresh. Returns when the access token expires.
pub(super) async fn keep(profile: &Profile, grant: &TokenGrant, refresh: Option<&str>) -> f64 {
    let known = match grant.scope {
        Some(_) => None,
        None => granted_scope().await,
    };
    let (tokens, expires_at) = store::token_record(grant, refresh, known, now_ms());
    if let Err(e) = chrome::storage_set(Area::Session, &tokens).await {
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
        ringside_core::json::from_value::<TokenGrant>(v)
            .map_err(|e| ErrorBody::new(ErrorCode::Internal, e.to_string()))
    });
    let grant = match answer {
        Ok(grant) => grant,
        Err(e) => {
            match store::refresh_cause(&e) {
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
    // Through the host: the stored refresh token, or (`access_token`) the
    // session's access token when the provider issued no refresh token.
    let forget_in_host = |access_token: Option<String>| {
        host_request(Request::AuthForget(AuthForgetParams {
            account: account(&profile),
            revoke: true,
            access_token: access_token.map(Into::into),
        }))
    };
    let notice = match profile.home {
        TokenHome::Host => store::host_sign_out_notice(&forget_in_host(None).await),
        TokenHome::Browser => {
            let tokens = chrome::storage_get(Area::Session, Some(&[KEY_TOKENS]))
                .await
                .unwrap_or_default();
            match (host_connected(), store::access_token_only(&tokens)) {
                // The host is there but the provider issued no refresh
                // token: the host revokes the access token (it may hold the
                // client secret, and no CORS rule applies to it).
                (true, Some(access)) => {
                    store::host_sign_out_notice(&forget_in_host(Some(access.to_owned())).await)
                }
                _ => {
                    let revoked = match (store::token_to_revoke(&tokens), &revocation_endpoint) {
                        (Some(token), Some(url)) => {
                            let form =
                                [("token", token), ("client_id", profile.client_id.as_str())];
                            let r = chrome::http(url, Some(&form), None, None).await;
                            matches!(r, Ok(ref a) if a.status == 200)
                        }
                        _ => true,
                    };
                    match (revoked, revocation_endpoint) {
                        (false, Some(url)) => Notice::new("signedOutNotRevoked", &[&url]),
                        _ => Notice::new("signedOut", &[]),
                    }
                }
            }
        }
    };
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
    let found = store::found(&local, &session);
    if let Some(profile) = found.profile {
        with_worker(|w| w.auth.restore_platform_session(found.platform_session));
        apply(AuthEvent::Restored {
            profile,
            expires_at_ms: found.expires_at_ms,
        })
        .await;
    }
    if let Some((account, revoke)) = found.purge {
        super::kernel::wait_connected().await;
        purge_in_host(account, revoke).await;
    }
    if let Some(pending) = found.pending {
        let call = with_worker(|w| w.call_state()).unwrap_or(CallState::Idle);
        apply(AuthEvent::PendingFound {
            pending,
            call,
            now_ms: now_ms() as u64,
        })
        .await;
    }
    broadcast();
    let profile = profile()?;
    Some((profile, found.expires_at_ms))
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
