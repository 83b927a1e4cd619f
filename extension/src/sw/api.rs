//! Calls to the provider's APIs with the access token: carries out
//! `ringside_core::worker::api_call::ApiCall` (one silent refresh on a 401,
//! a claims challenge answered once interactively, which failure ends the
//! session). The profile refresh from the provider's userinfo endpoint is
//! its first consumer; the side panel and the contact sync use it too.

use ringside_core::worker::api_call::{ApiCall, ApiStep};
use ringside_core::worker::auth::AuthEvent;
use ringside_core::worker::http::{HttpAnswer, HttpRequest};
use ringside_core::worker::session_store::updated_profile;

use super::{session, signin};
use crate::error::log_warn;

// The grant as the contact and panel flows need it (sw/contacts_save.rs,
// sw/context.rs), reached through this module only: the scopes granted,
// and one more scope (incremental authorization).
pub(super) use super::session::granted_scope;
pub(super) use super::signin::add_scope;

/// Why an API call gave nothing.
#[derive(Debug)]
pub(super) enum ApiError {
    /// Not signed in, or the session just ended.
    SignedOut,
    /// Network or server trouble; the session is fine.
    Failed(String),
}

/// GET with the access token.
pub(super) async fn api_get(url: &str) -> Result<HttpAnswer, ApiError> {
    api_call(None, url, None, &[]).await
}

/// Any method, body and extra headers (Graph's `Prefer`, `If-Match`).
pub(super) async fn api_call(
    method: Option<&str>,
    url: &str,
    json: Option<&serde_json::Value>,
    headers: &[(&str, &str)],
) -> Result<HttpAnswer, ApiError> {
    let request = HttpRequest {
        method: method.map(str::to_owned),
        url: url.to_owned(),
        form: None,
        json: json.cloned(),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    let (mut call, mut step) = ApiCall::start(request);
    loop {
        step = match step {
            ApiStep::Send(req) => {
                let Some(token) = session::access_token().await else {
                    return Err(ApiError::SignedOut);
                };
                match signin::http(&req, Some(&token)).await {
                    Ok(a) => call.answer(a),
                    Err(e) => return Err(ApiError::Failed(e)),
                }
            }
            ApiStep::Refresh => call.refreshed(session::refresh().await),
            ApiStep::Reauthenticate { claims } => {
                call.reauthenticated(signin::reauthenticate(claims).await)
            }
            ApiStep::Done(a) => return Ok(a),
            ApiStep::SignedOut(cause) => {
                if let Some(cause) = cause {
                    session::ends(cause).await;
                }
                return Err(ApiError::SignedOut);
            }
        }
    }
}

/// Refreshes the name and photo from the provider's userinfo endpoint.
pub(super) async fn refresh_profile() {
    let Some(profile) = session::profile() else {
        return;
    };
    let Some(url) = signin::userinfo_endpoint(&profile.issuer).await else {
        return;
    };
    match api_get(&url).await {
        Ok(a) if a.status == 200 => {
            if let Some(updated) = updated_profile(&profile, &a.body) {
                session::keep_profile(&updated).await;
                session::apply(AuthEvent::ProfileUpdated(updated)).await;
            }
        }
        Ok(_) => {}
        Err(ApiError::Failed(e)) => log_warn(&format!("userinfo: {e}")),
        Err(ApiError::SignedOut) => {}
    }
}
