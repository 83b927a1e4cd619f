//! Calls to the provider's APIs with the access token: one silent refresh on
//! a 401, and a second 401 ends the session (revocation cause
//! "unauthorized"). The first consumer is the profile refresh from the
//! provider's userinfo endpoint; the contact sidebar's calls come next.

use ringside_core::auth::revocation::Cause;
use ringside_core::auth::session::Profile;

use super::{broadcast, with_worker};
use crate::chrome::{self, Area, HttpAnswer};

// The grant as the contact and panel flows need it (sw/contacts_save.rs,
// sw/context.rs), reached through this module only: the scopes granted,
// and one more scope (incremental authorization).
pub(super) use super::reauth::{add_scope, granted_scope};

async fn access_token() -> Option<String> {
    let s = chrome::storage_get(Area::Session, Some(&["tokens"]))
        .await
        .unwrap_or_default();
    s["tokens"]["access_token"].as_str().map(str::to_owned)
}

/// Why an API call gave nothing.
#[derive(Debug)]
pub(super) enum ApiError {
    /// Not signed in, or the session just ended.
    SignedOut,
    /// Network or server trouble; the session is fine.
    Failed(String),
}

/// GET with the access token; one silent refresh after a 401.
pub(super) async fn api_get(url: &str) -> Result<HttpAnswer, ApiError> {
    api_request(url, None).await
}

/// GET, or POST of `json`, with the access token; one silent refresh after
/// a 401, a second 401 ends the session.
pub(super) async fn api_request(
    url: &str,
    json: Option<&serde_json::Value>,
) -> Result<HttpAnswer, ApiError> {
    api_send(None, url, json).await
}

/// [`api_request`] with another method (`PATCH`).
pub(super) async fn api_send(
    method: Option<&str>,
    url: &str,
    json: Option<&serde_json::Value>,
) -> Result<HttpAnswer, ApiError> {
    api_call(method, url, json, &[]).await
}

/// [`api_send`] with more request headers (Graph's `Prefer`, `If-Match`).
pub(super) async fn api_call(
    method: Option<&str>,
    url: &str,
    json: Option<&serde_json::Value>,
    headers: &[(&str, &str)],
) -> Result<HttpAnswer, ApiError> {
    for attempt in 0..2 {
        let token = access_token().await.ok_or(ApiError::SignedOut)?;
        let a = chrome::http_with(method, url, None, json, Some(&token), headers)
            .await
            .map_err(|e| ApiError::Failed(crate::error::JsError::from(e).to_string()))?;
        // Graph's 401 for an account without a mailbox is not about the
        // token: refreshing cannot help and the session must not end.
        if a.status != 401 || ringside_core::contacts::graph::mailbox_unavailable(a.status, &a.body)
        {
            return Ok(a);
        }
        let challenge = a
            .www_authenticate
            .as_deref()
            .and_then(ringside_core::auth::token::parse_bearer_challenge);
        if let Some(c) = challenge.filter(|c| c.is_claims_challenge()) {
            // Continuous access evaluation: re-acquire with the claims,
            // interactively; if that fails, the session ends.
            let claims = c.claims.unwrap_or_default();
            if attempt == 0 && super::reauth::reauthenticate(claims).await {
                continue;
            }
            super::revocation::session_ends(Cause::ClaimsChallengeFailed).await;
            return Err(ApiError::SignedOut);
        }
        if attempt == 0 && super::signin::refresh().await {
            continue;
        }
        if attempt == 1 {
            super::revocation::session_ends(Cause::Unauthorized).await;
        }
        return Err(ApiError::SignedOut);
    }
    Err(ApiError::SignedOut)
}

/// Refreshes the name and photo from the provider's userinfo endpoint.
pub(super) async fn refresh_profile() {
    let Some(profile) = with_worker(|w| w.session.view.profile.clone()).flatten() else {
        return;
    };
    let Some(url) = super::signin::userinfo_endpoint(&profile.issuer).await else {
        return;
    };
    match api_get(&url).await {
        Ok(a) if a.status == 200 => {
            let Ok(info) = serde_json::from_str::<serde_json::Value>(&a.body) else {
                return;
            };
            if info["sub"].as_str() != Some(profile.subject.as_str()) {
                return;
            }
            let updated = Profile {
                name: info["name"].as_str().unwrap_or(&profile.name).to_owned(),
                picture: info["picture"]
                    .as_str()
                    .filter(|p| p.starts_with("https://"))
                    .map(str::to_owned)
                    .or(profile.picture.clone()),
                ..profile
            };
            super::signin::keep_profile(&updated).await;
            broadcast();
        }
        Ok(_) => {}
        Err(ApiError::Failed(e)) => crate::error::log_warn(&format!("userinfo: {e}")),
        Err(ApiError::SignedOut) => {}
    }
}
