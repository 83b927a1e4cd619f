//! Going through the provider again for the signed-in agent: a Microsoft
//! claims challenge, or one more scope for the side panel (incremental
//! authorization). The flow itself is `signin::run_flow`.

use ringside_core::auth::session::{Phase, SignInFailure};

use super::signin::{KEY_TOKENS, run_flow, view};
use super::{broadcast, with_worker};
use crate::chrome::{self, Area};

/// The flow again for the signed-in agent: a claims challenge to answer, or
/// one more scope to add (incremental authorization); who must come back.
pub(super) struct Challenge {
    pub claims: Option<String>,
    pub scope: Option<&'static str>,
    pub login_hint: String,
    pub subject: String,
}

/// Answers a claims challenge (Microsoft continuous access evaluation): the
/// interactive flow again with the claims and the agent's email as login
/// hint. True when the same agent came back with new tokens.
pub(super) async fn reauthenticate(claims: String) -> bool {
    let Some(profile) = with_worker(|w| w.session.view.profile.clone()).flatten() else {
        return false;
    };
    let challenge = Challenge {
        claims: Some(claims),
        scope: None,
        login_hint: profile.email.clone(),
        subject: profile.subject.clone(),
    };
    let ok = run_flow(profile.provider, Some(challenge)).await.is_ok();
    if ok {
        view(|v| v.phase = Phase::SignedIn);
        broadcast();
    }
    ok
}

/// Adds one scope to the agent's grant (the side panel's Connect): the
/// consent page asks for that scope alone; the same agent must come back.
/// On success the new tokens (and, with the host, the new refresh token)
/// carry every scope granted so far.
pub(super) async fn add_scope(scope: &'static str) -> Result<(), SignInFailure> {
    let Some(profile) = with_worker(|w| w.session.view.profile.clone()).flatten() else {
        return Err(SignInFailure::Cancelled);
    };
    let challenge = Challenge {
        claims: None,
        scope: Some(scope),
        login_hint: profile.email.clone(),
        subject: profile.subject.clone(),
    };
    run_flow(profile.provider, Some(challenge))
        .await
        .map_err(|(f, _)| f)?;
    broadcast();
    Ok(())
}

/// The scopes the current access token carries (space-separated).
pub(super) async fn granted_scope() -> Option<String> {
    let s = chrome::storage_get(Area::Session, Some(&[KEY_TOKENS]))
        .await
        .unwrap_or_default();
    s[KEY_TOKENS]["scope"].as_str().map(str::to_owned)
}
