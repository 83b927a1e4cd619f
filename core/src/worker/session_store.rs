//! What the worker keeps of a session in browser storage, and what the
//! host's answers about it mean: the storage keys, the token record
//! (storage.session; the refresh token only when there is no host), what a
//! worker start finds, which refused refresh ends the session, and what a
//! sign-out tells the agent. No refresh token ever goes to storage.local.

use serde_json::{Value, json};

use crate::auth::revocation::{Cause, PendingSignOut};
use crate::auth::session::{Notice, Profile, TokenHome};
use crate::auth::token::{self, TokenFailure};
use crate::protocol::{AuthAccount, ErrorBody, ErrorCode, TokenGrant};

/// storage.local: who is signed in (no tokens).
pub const KEY_PROFILE: &str = "profile";
/// storage.session: the access token, its expiry, its scopes and (no host
/// only) the refresh token.
pub const KEY_TOKENS: &str = "tokens";
/// storage.local: a sign-out waiting for its time (survives a browser restart).
pub const KEY_PENDING: &str = "pendingSignOut";
/// storage.local: a secret store entry the host could not delete yet.
pub const KEY_PURGE: &str = "purgePending";
/// storage.session: the platform session whose event stream the worker follows.
pub const KEY_PLATFORM_SESSION: &str = "platformSession";
/// Refresh this long before the access token expires.
pub const REFRESH_MARGIN_MS: f64 = 120_000.0;

/// The token record for storage.session and when its access token expires.
/// `known_scope`: the scopes granted so far, kept when the grant does not
/// say (incremental authorization adds to them).
pub fn token_record(
    grant: &TokenGrant,
    refresh: Option<&str>,
    known_scope: Option<String>,
    now_ms: f64,
) -> (Value, f64) {
    let expires_at = now_ms + grant.expires_in.unwrap_or(3600) as f64 * 1000.0;
    let mut tokens = json!({ "access_token": grant.access_token, "expires_at": expires_at });
    if let Some(r) = refresh {
        tokens["refresh_token"] = r.into();
    }
    if let Some(s) = grant.scope.clone().or(known_scope) {
        tokens["scope"] = s.into();
    }
    (json!({ KEY_TOKENS: tokens }), expires_at)
}

/// The token record's field `name` (`access_token`, `scope`, ...), from
/// what storage.session answered for [`KEY_TOKENS`].
pub fn token_field<'a>(session: &'a Value, name: &str) -> Option<&'a str> {
    session[KEY_TOKENS][name].as_str()
}

/// A secret store entry to delete (and revoke) once the host can.
pub fn purge_record(account: &AuthAccount, revoke: bool) -> Value {
    json!({ KEY_PURGE: { "issuer": account.issuer, "client_id": account.client_id, "revoke": revoke } })
}

/// What a worker start finds in storage.local and storage.session.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub profile: Option<Profile>,
    /// When the access token of this browser session expires (0: none).
    pub expires_at_ms: f64,
    pub platform_session: Option<String>,
    /// A secret store entry to delete, and whether to revoke it.
    pub purge: Option<(AuthAccount, bool)>,
    pub pending: Option<PendingSignOut>,
}

/// Reads what was kept; anything unreadable is as if absent.
pub fn found(local: &Value, session: &Value) -> Found {
    let purge = local[KEY_PURGE].as_object().map(|p| {
        let text = |k: &str| {
            p.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let account = AuthAccount {
            issuer: text("issuer"),
            client_id: text("client_id"),
        };
        (
            account,
            p.get("revoke").and_then(Value::as_bool).unwrap_or(false),
        )
    });
    Found {
        profile: crate::json::from_value(local[KEY_PROFILE].clone()).ok(),
        expires_at_ms: session[KEY_TOKENS]["expires_at"].as_f64().unwrap_or(0.0),
        platform_session: session[KEY_PLATFORM_SESSION].as_str().map(str::to_owned),
        purge,
        pending: crate::json::from_value(local[KEY_PENDING].clone()).ok(),
    }
}

/// What a worker start does with the session it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The worker restarted within the browser session: the token is good.
    Resume,
    /// Without the host the session lasted as long as the browser's.
    EndedWithBrowser,
    /// A new access token from the host's refresh token, without a prompt.
    Refresh,
}

/// What to do at worker start with `profile`, whose access token expires
/// at `expires_at_ms` (0: none in this browser session).
pub fn start(profile: &Profile, expires_at_ms: f64, now_ms: f64) -> Start {
    if expires_at_ms > now_ms + REFRESH_MARGIN_MS {
        Start::Resume
    } else if profile.home == TokenHome::Browser {
        Start::EndedWithBrowser
    } else {
        Start::Refresh
    }
}

/// The profile refreshed from the provider's userinfo answer: its name, and
/// its picture when it is an https URL; None when the answer is about
/// someone else (or unreadable).
pub fn updated_profile(profile: &Profile, userinfo: &str) -> Option<Profile> {
    let info: Value = serde_json::from_str(userinfo).ok()?;
    if info["sub"].as_str() != Some(profile.subject.as_str()) {
        return None;
    }
    let picture = info["picture"]
        .as_str()
        .filter(|p| p.starts_with("https://"));
    Some(Profile {
        name: info["name"].as_str().unwrap_or(&profile.name).to_owned(),
        picture: picture.map(str::to_owned).or(profile.picture.clone()),
        ..profile.clone()
    })
}

/// What a refused refresh means for the session (None: try again later).
pub fn refresh_cause(e: &ErrorBody) -> Option<Cause> {
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

/// What a sign-out through the host tells the agent: signed out, or signed
/// out without the provider revoking the grant (and why).
pub fn host_sign_out_notice(answer: &Result<Value, ErrorBody>) -> Notice {
    match answer {
        Ok(v) if v["revoked"] == true => Notice::new("signedOut", &[]),
        Ok(v) => Notice::new(
            "signedOutNotRevoked",
            &[v["revoke_error"].as_str().unwrap_or_default()],
        ),
        Err(e) => Notice::new("signedOutNotRevoked", &[&e.message]),
    }
}

/// Without the host: the token to revoke at the provider (the refresh
/// token when the browser has one, else the access token).
pub fn token_to_revoke(session: &Value) -> Option<&str> {
    token_field(session, "refresh_token").or(token_field(session, "access_token"))
}

/// The access token when the browser holds no refresh token (a provider
/// that issued none): with the host there, the host revokes it.
pub fn access_token_only(session: &Value) -> Option<&str> {
    match token_field(session, "refresh_token") {
        Some(_) => None,
        None => token_field(session, "access_token"),
    }
}

#[cfg(test)]
#[path = "session_store_tests.rs"]
mod tests;
