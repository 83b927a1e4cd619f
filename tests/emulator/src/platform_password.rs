//! The platform's own sign-in (docs/platform-api.md): the password grant of
//! `POST /platform/v1/sessions` with a failure limit and a lockout, the SSO
//! broker (`GET /platform/sso/start`: the emulator's own sign-in page stands
//! in for the SAML round trip with the company's identity provider, then a
//! one-time code bound to the PKCE challenge and the redirect URI), its
//! `sso_code` grant, and `DELETE /platform/v1/sessions/current`.

use std::collections::HashMap;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::rand_core::{OsRng, RngCore};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Inner, Platform, agent_json, refuse, session_login};

/// Wrong passwords in a row before the lockout.
pub const DEFAULT_MAX_FAILURES: u32 = 5;
/// How long a lockout lasts, seconds.
pub const DEFAULT_LOCKOUT_SECONDS: u64 = 900;
/// How long a one-time SSO code stays valid, seconds.
const CODE_SECONDS: u64 = 60;

/// Passwords and SSO, kept in the platform's state.
#[derive(Debug)]
pub(super) struct Auth {
    pub max_failures: u32,
    pub lockout_seconds: u64,
    /// Login email (lower case) → wrong passwords in a row, locked until (s).
    failures: HashMap<String, (u32, u64)>,
    /// Whether the company's SSO (SAML) is set up at the platform.
    pub sso_configured: bool,
    /// One-time code → the code's grant.
    codes: HashMap<String, Code>,
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            max_failures: DEFAULT_MAX_FAILURES,
            lockout_seconds: DEFAULT_LOCKOUT_SECONDS,
            failures: HashMap::new(),
            sso_configured: true,
            codes: HashMap::new(),
        }
    }
}

#[derive(Debug, Clone)]
struct Code {
    login: String,
    challenge: String,
    redirect_uri: String,
    expires: u64,
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new session for `login` (what every grant ends with).
fn session_for(inner: &mut Inner, login: &str) -> Response {
    let Some(agent) = inner
        .agents
        .iter()
        .find(|a| a.login_email.eq_ignore_ascii_case(login))
    else {
        return refuse(
            StatusCode::FORBIDDEN,
            "user_not_invited",
            &format!("{login} has not been invited to the phone platform."),
            json!({}),
        );
    };
    let out = agent_json(agent);
    let login = agent.login_email.clone();
    let id = random_hex(18);
    inner.sessions.insert(id.clone(), login);
    axum::Json(json!({
        "agent": out,
        "method": inner.method,
        "session": { "id": id, "expires_in": super::SESSION_SECONDS },
    }))
    .into_response()
}

/// `grant_type=password`: the agent's platform password. Wrong passwords
/// count towards a lockout; an unknown email gets the same answer as a
/// wrong password (no probing who is invited).
pub(super) fn password_grant(p: &Platform, r: &Value) -> Response {
    let login = r["login_email"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let password = r["password"].as_str().unwrap_or_default();
    let now = crate::oidc::now();
    let mut inner = p.lock();
    let locked_until = inner.auth.failures.get(&login).map_or(0, |f| f.1);
    if locked_until > now {
        let retry = locked_until - now;
        let mut resp = refuse(
            StatusCode::LOCKED,
            "locked_out",
            &format!("Too many wrong passwords. Try again in {retry} seconds."),
            json!({ "retry_after": retry }),
        );
        if let Ok(v) = retry.to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let agent = inner
        .agents
        .iter()
        .find(|a| a.login_email.eq_ignore_ascii_case(&login))
        .cloned();
    let good = agent
        .as_ref()
        .and_then(|a| a.password.as_deref())
        .is_some_and(|pw| !pw.is_empty() && pw == password);
    let Some(agent) = agent.filter(|_| good) else {
        let max = inner.auth.max_failures;
        let lockout = inner.auth.lockout_seconds;
        let f = inner.auth.failures.entry(login.clone()).or_insert((0, 0));
        f.0 += 1;
        let remaining = max.saturating_sub(f.0);
        if remaining == 0 {
            *f = (0, now + lockout);
            return refuse(
                StatusCode::LOCKED,
                "locked_out",
                &format!("Too many wrong passwords. Try again in {lockout} seconds."),
                json!({ "retry_after": lockout }),
            );
        }
        return refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "The email or password is wrong.",
            json!({ "remaining_attempts": remaining }),
        );
    };
    inner.auth.failures.remove(&login);
    if inner.method != "password" && !agent.privileged {
        let method = inner.method.clone();
        return refuse(
            StatusCode::FORBIDDEN,
            "method_not_allowed",
            &format!(
                "Your company signs in with {method}; password sign-in is allowed only for privileged users."
            ),
            json!({ "method": method }),
        );
    }
    session_for(&mut inner, &login)
}

/// `grant_type=sso_code`: the one-time code from the broker, with the PKCE
/// verifier and the same redirect URI.
pub(super) fn sso_grant(p: &Platform, r: &Value) -> Response {
    let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
    let mut inner = p.lock();
    if !inner.auth.sso_configured {
        return sso_not_configured();
    }
    // One use only, whatever the outcome.
    let code = inner.auth.codes.remove(&text("code"));
    let verifier = text("code_verifier");
    let ok = code.as_ref().is_some_and(|c| {
        c.expires > crate::oidc::now()
            && c.redirect_uri == text("redirect_uri")
            && (43..=128).contains(&verifier.len())
            && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == c.challenge
    });
    let Some(code) = code.filter(|_| ok) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The sign-in code is unknown, used, expired, or not for this verifier and redirect URI. Sign in again.",
            json!({}),
        );
    };
    let privileged = inner
        .agents
        .iter()
        .any(|a| a.login_email.eq_ignore_ascii_case(&code.login) && a.privileged);
    if inner.method != "sso" && !privileged {
        let method = inner.method.clone();
        return refuse(
            StatusCode::FORBIDDEN,
            "method_not_allowed",
            &format!(
                "Your company signs in with {method}; SSO sign-in is allowed only for privileged users."
            ),
            json!({ "method": method }),
        );
    }
    session_for(&mut inner, &code.login)
}

fn sso_not_configured() -> Response {
    refuse(
        StatusCode::BAD_REQUEST,
        "sso_not_configured",
        "Single sign-on is not set up for this company on the phone platform.",
        json!({}),
    )
}

/// The redirect URIs the platform's Ringside app registration accepts: an
/// extension's identity redirect (Chromium's and Firefox's).
fn registered(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or_default();
    host.ends_with(".chromiumapp.org") || host.ends_with(".extensions.allizom.org")
}

fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> Response {
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let sep = if uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{uri}{sep}{q}")).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /platform/sso/start`: checks the request, then the company's
/// identity provider's sign-in (here: the emulator's page, one button per
/// invited agent, and Cancel).
async fn sso_start(
    State(p): State<Platform>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let redirect_uri = get("redirect_uri");
    if !registered(&redirect_uri) {
        return (
            StatusCode::BAD_REQUEST,
            Html("<!doctype html><title>Error</title><p id=\"error\">redirect_uri is not registered</p>"),
        )
            .into_response();
    }
    let state = get("state");
    if get("code_challenge_method") != "S256" || get("code_challenge").len() != 43 {
        return redirect_with(
            &redirect_uri,
            &[("error", "invalid_request"), ("state", &state)],
        );
    }
    let inner = p.lock();
    if !inner.auth.sso_configured {
        return redirect_with(
            &redirect_uri,
            &[("error", "sso_not_configured"), ("state", &state)],
        );
    }
    let hidden: String = ["redirect_uri", "state", "code_challenge"]
        .iter()
        .map(|k| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape(&get(k))
            )
        })
        .collect();
    let buttons: String = inner
        .agents
        .iter()
        .map(|a| {
            format!(
                "<button type=\"submit\" name=\"account\" value=\"{e}\">Continue as {n} ({e})</button>",
                e = escape(&a.login_email),
                n = escape(&a.name)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Company sign-in (SAML)</title></head>\
         <body><h1>Sign in to your company</h1><p>The phone platform signs you in with your company's identity provider.</p>\
         <form method=\"post\" action=\"/platform/sso/finish\">{hidden}{buttons}\
         <button type=\"submit\" name=\"account\" value=\"\">Cancel</button></form></body></html>"
    ))
    .into_response()
}

#[derive(Deserialize)]
struct Finish {
    redirect_uri: String,
    state: String,
    code_challenge: String,
    account: String,
}

/// The identity provider's SAML response, as it would reach the platform's
/// assertion consumer: a one-time code back to the extension.
async fn sso_finish(State(p): State<Platform>, Form(f): Form<Finish>) -> Response {
    if !registered(&f.redirect_uri) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    if f.account.is_empty() {
        return redirect_with(
            &f.redirect_uri,
            &[("error", "access_denied"), ("state", &f.state)],
        );
    }
    let code = random_hex(16);
    p.lock().auth.codes.insert(
        code.clone(),
        Code {
            login: f.account,
            challenge: f.code_challenge,
            redirect_uri: f.redirect_uri.clone(),
            expires: crate::oidc::now() + CODE_SECONDS,
        },
    );
    redirect_with(&f.redirect_uri, &[("code", &code), ("state", &f.state)])
}

/// `DELETE /platform/v1/sessions/current`: the bearer session ends (sign-out).
async fn delete_current(State(p): State<Platform>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    if session_login(&p, &headers).is_none() {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "session_revoked",
            "This session was revoked or has ended.",
            json!({}),
        );
    }
    p.lock().sessions.remove(&token);
    StatusCode::NO_CONTENT.into_response()
}

/// Public routes.
pub(super) fn routes() -> axum::Router<Platform> {
    use axum::routing::{delete, get, post};
    axum::Router::new()
        .route("/platform/sso/start", get(sso_start))
        .route("/platform/sso/finish", post(sso_finish))
        .route("/platform/v1/sessions/current", delete(delete_current))
}

#[derive(Deserialize)]
struct Policy {
    #[serde(default)]
    max_failures: Option<u32>,
    #[serde(default)]
    lockout_seconds: Option<u64>,
    #[serde(default)]
    sso_configured: Option<bool>,
}

/// `PUT /control/platform/auth`: the failure limit, the lockout, whether
/// SSO is set up.
pub(super) fn control_routes() -> axum::Router<Platform> {
    axum::Router::new().route(
        "/auth",
        axum::routing::put(
            |State(p): State<Platform>, axum::Json(c): axum::Json<Policy>| async move {
                let mut inner = p.lock();
                if let Some(n) = c.max_failures {
                    inner.auth.max_failures = n.max(1);
                }
                if let Some(s) = c.lockout_seconds {
                    inner.auth.lockout_seconds = s;
                }
                if let Some(b) = c.sso_configured {
                    inner.auth.sso_configured = b;
                }
                StatusCode::NO_CONTENT
            },
        ),
    )
}

#[cfg(test)]
#[path = "platform_password_tests.rs"]
mod tests;
