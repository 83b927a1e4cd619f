//! Session revocation in the worker: a cause comes in (a refused refresh,
//! the secret store, a sign-in method change, the platform's event stream),
//! `ringside_core::auth::revocation` decides, this module carries it out:
//! purge tokens (and the host's secret store entry), keep the call and the
//! wrap-up, persist a pending sign-out and count it down, tell every surface.

use ringside_core::auth::revocation::{
    self, CallState, Cause, Context, EventStream, PendingSignOut,
};
use ringside_core::auth::session::{Notice, Phase, Profile, TokenHome};
use ringside_core::protocol::{AuthAccount, AuthForgetParams, Request};
use serde_json::json;

use super::{Worker, broadcast, host_request, now_ms, with_worker};
use crate::chrome::{self, Area};

/// storage.local: a sign-out waiting for its time (survives a browser restart).
const KEY_PENDING: &str = "pendingSignOut";
/// storage.local: a secret store entry the host could not delete yet.
const KEY_PURGE: &str = "purgePending";

fn call_state(w: &Worker) -> CallState {
    if w.desk.live.is_some() {
        CallState::InCall
    } else if !w.desk.wrapups.is_empty() {
        CallState::WrapUp
    } else {
        CallState::Idle
    }
}

fn now() -> u64 {
    now_ms() as u64
}

/// A cause arrives: decide and act.
pub(super) async fn session_ends(cause: Cause) {
    let decided = with_worker(|w| {
        let profile = w.session.view.profile.clone()?;
        let privileged = w.settings.is_privileged(&profile)
            || profile.agent.as_ref().is_some_and(|a| a.privileged);
        let cx = Context {
            now_ms: now(),
            grace_minutes: w.settings.grace_minutes(),
            provider: profile.provider,
            privileged,
        };
        Some((profile, revocation::decide(&cause, call_state(w), &cx)))
    })
    .flatten();
    let Some((profile, outcome)) = decided else {
        return;
    };
    match outcome.sign_out_at_ms {
        None => {
            // The change does not concern this sign-in; a pending one is cancelled.
            let _ = chrome::storage_remove(Area::Local, &[KEY_PENDING]).await;
            with_worker(|w| {
                w.session.view.pending_sign_out = None;
                w.session.view.notice = Some(Notice::new(outcome.message_key, &[]));
            });
            broadcast();
        }
        Some(at) if at <= now() => {
            sign_out_now(
                &profile,
                outcome.message_key,
                outcome.call_key,
                outcome.revoke_at_provider,
            )
            .await;
        }
        Some(at) => {
            let pending = PendingSignOut {
                at_ms: at,
                message_key: outcome.message_key.to_owned(),
                revoke_at_provider: outcome.revoke_at_provider,
            };
            let _ = chrome::storage_set(Area::Local, &json!({ KEY_PENDING: pending })).await;
            arm(pending);
            broadcast();
        }
    }
}

/// Shows the countdown and signs out when it ends.
fn arm(pending: PendingSignOut) {
    with_worker(|w| w.session.view.pending_sign_out = Some(pending.clone()));
    let wait = pending.at_ms.saturating_sub(now()).min(i32::MAX as u64) as u32;
    chrome::set_timeout(wait, move || {
        let still = with_worker(|w| w.session.view.pending_sign_out.as_ref() == Some(&pending))
            .unwrap_or(false);
        if !still {
            return;
        }
        wasm_bindgen_futures::spawn_local(async move {
            let profile = with_worker(|w| w.session.view.profile.clone()).flatten();
            if let Some(profile) = profile {
                pending_due(&profile, &pending).await;
            }
        });
    });
}

/// A pending sign-out's time has come.
async fn pending_due(profile: &Profile, pending: &PendingSignOut) {
    let call = with_worker(|w| call_state(w)).unwrap_or(CallState::Idle);
    sign_out_now(
        profile,
        &pending.message_key,
        revocation::call_note(call),
        pending.revoke_at_provider,
    )
    .await;
}

fn account(p: &Profile) -> AuthAccount {
    AuthAccount {
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
    }
}

/// The sign-out takes effect: purge tokens everywhere, keep the call and the
/// wrap-up, say why.
pub(super) async fn sign_out_now(
    profile: &Profile,
    message_key: &str,
    call_key: Option<&str>,
    revoke: bool,
) {
    // Every surface first: new calls are refused from this moment.
    with_worker(|w| {
        let v = &mut w.session.view;
        v.phase = Phase::SignedOut;
        v.profile = None;
        v.pending_sign_out = None;
        v.notice = Some(Notice::new(message_key, &[]));
        v.call_note = call_key.map(str::to_owned);
    });
    broadcast();
    super::signin::forget_locally().await;
    let _ = chrome::storage_remove(Area::Local, &[KEY_PENDING]).await;
    if profile.home == TokenHome::Host {
        let purge =
            json!({ "issuer": profile.issuer, "client_id": profile.client_id, "revoke": revoke });
        let _ = chrome::storage_set(Area::Local, &json!({ KEY_PURGE: purge })).await;
        purge_in_host(account(profile), revoke).await;
    }
}

/// Asks the host to delete the entry (and revoke); remembered until it did,
/// so a host that crashed or was missing does it on its next connection.
async fn purge_in_host(account: AuthAccount, revoke: bool) {
    let r = host_request(Request::AuthForget(AuthForgetParams { account, revoke })).await;
    if r.is_ok() {
        let _ = chrome::storage_remove(Area::Local, &[KEY_PURGE]).await;
    }
}

/// At worker start (after the profile is restored): a pending sign-out is
/// re-armed, or carried out if its time passed; an unfinished purge is retried.
pub(super) async fn restore() {
    let stored = chrome::storage_get(Area::Local, Some(&[KEY_PENDING, KEY_PURGE]))
        .await
        .unwrap_or_default();
    if let Some(p) = stored[KEY_PURGE].as_object() {
        let account = AuthAccount {
            issuer: p["issuer"].as_str().unwrap_or_default().to_owned(),
            client_id: p["client_id"].as_str().unwrap_or_default().to_owned(),
        };
        let revoke = p["revoke"].as_bool().unwrap_or(false);
        super::wait_connected().await;
        purge_in_host(account, revoke).await;
    }
    let Ok(pending) = serde_json::from_value::<PendingSignOut>(stored[KEY_PENDING].clone()) else {
        return;
    };
    let profile = with_worker(|w| w.session.view.profile.clone()).flatten();
    match profile {
        Some(profile) if pending.due(now()) => {
            pending_due(&profile, &pending).await;
        }
        Some(_) => {
            arm(pending);
            broadcast();
        }
        None => {
            let _ = chrome::storage_remove(Area::Local, &[KEY_PENDING]).await;
        }
    }
}

/// storage.session: the platform session whose event stream the worker follows.
const KEY_PLATFORM_SESSION: &str = "platformSession";

/// Whether a platform session is known for this browser session.
pub(super) async fn following_platform() -> bool {
    let s = chrome::storage_get(Area::Session, Some(&[KEY_PLATFORM_SESSION]))
        .await
        .unwrap_or_default();
    s[KEY_PLATFORM_SESSION].is_string()
}

/// The platform session of this browser session (the signed-in agent's; it
/// is dropped at sign-out): the bearer credential of platform requests.
pub(super) async fn platform_session_id() -> Option<String> {
    let s = chrome::storage_get(Area::Session, Some(&[KEY_PLATFORM_SESSION]))
        .await
        .unwrap_or_default();
    s[KEY_PLATFORM_SESSION].as_str().map(str::to_owned)
}

/// Keeps the platform session and follows its event stream.
pub(super) async fn follow_platform(base: String, session: String) {
    let _ = chrome::storage_set(Area::Session, &json!({ KEY_PLATFORM_SESSION: session })).await;
    wasm_bindgen_futures::spawn_local(platform_events(base, session));
}

/// After a worker restart within the browser session.
pub(super) async fn resume_platform() {
    let base = with_worker(|w| w.settings.platform_url.clone()).flatten();
    let s = chrome::storage_get(Area::Session, Some(&[KEY_PLATFORM_SESSION]))
        .await
        .unwrap_or_default();
    if let (Some(base), Some(id)) = (base, s[KEY_PLATFORM_SESSION].as_str()) {
        wasm_bindgen_futures::spawn_local(platform_events(base, id.to_owned()));
    }
}

/// Follows `GET {platform}/v1/events` while this platform session is the
/// signed-in one; reconnects after a drop; a 401 means the platform revoked it.
async fn platform_events(base: String, session: String) {
    let url = format!("{}/v1/events", base.trim_end_matches('/'));
    let current = |session: &str| {
        let session = session.to_owned();
        async move {
            let s = chrome::storage_get(Area::Session, Some(&[KEY_PLATFORM_SESSION]))
                .await
                .unwrap_or_default();
            // Signing in, restoring or signed in: not signed out.
            s[KEY_PLATFORM_SESSION].as_str() == Some(session.as_str())
                && with_worker(|w| w.session.view.phase != Phase::SignedOut).unwrap_or(false)
        }
    };
    let mut failures = 0u32;
    while current(&session).await {
        match chrome::open_stream(&url, &session).await {
            Ok((401, _)) => {
                let _ = chrome::storage_remove(Area::Session, &[KEY_PLATFORM_SESSION]).await;
                session_ends(Cause::PlatformRevoked).await;
                return;
            }
            Ok((200, Some(stream))) => {
                failures = 0;
                let mut events = EventStream::default();
                while let Ok(Some(chunk)) = stream.next_chunk().await {
                    for cause in events.push(&chunk) {
                        let ends = !matches!(cause, Cause::MethodChanged { .. });
                        if ends {
                            let _ = chrome::storage_remove(Area::Session, &[KEY_PLATFORM_SESSION])
                                .await;
                        }
                        session_ends(cause).await;
                        if ends {
                            return;
                        }
                    }
                }
            }
            _ => failures += 1,
        }
        // Dropped or unreachable: try again, backing off to 30 s.
        super::signin::sleep(1_000 * 2u32.pow(failures.min(5)).min(30)).await;
    }
}

/// Whether a click may start a call: sign-in is set up and nobody is signed in.
pub(super) fn sign_in_required(w: &Worker) -> bool {
    !w.settings.identity_providers.is_empty() && !w.session.view.signed_in()
}
