//! OpenID Connect providers: Google-flavoured under `/google`, Microsoft
//! v2.0-flavoured under `/microsoft/{tenant}/...` (`tid`, AADSTS error
//! bodies, rotating refresh tokens, no revocation endpoint). Discovery,
//! authorization (a consent page, or auto-consent), the token endpoint with
//! PKCE checks and refresh, revocation, JWKS with key rotation and userinfo.
//! Error bodies are Google's own (`invalid_grant` "Token has been expired or
//! revoked.", `invalid_client` "The OAuth client was not found.").
//!
//! Control routes (under `/control/oidc`) create clients and users, switch
//! auto-consent, rotate the signing key and revoke a user's grants.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::rand_core::{OsRng, RngCore};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod control;
mod keys;
mod microsoft;
mod tokens;
mod web;

pub use self::control::control_routes;
use self::keys::certs;
pub use self::microsoft::microsoft_routes;
use self::microsoft::{ms_error, ms_error_page};
use self::tokens::{revoke, token, token_in, userinfo};
use self::web::{error_page, escape, redirect_with};

/// Lifetime of access and ID tokens, seconds.
pub const TOKEN_SECONDS: u64 = 3600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    /// Confidential clients must send it at the token endpoint.
    #[serde(default)]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub hd: Option<String>,
    #[serde(default = "yes")]
    pub email_verified: bool,
    #[serde(default)]
    pub picture: Option<String>,
    /// Entra tenant of the account (Microsoft flavour).
    #[serde(default)]
    pub tid: Option<String>,
}

/// The tenant of Microsoft accounts created without one.
pub const DEFAULT_TENANT: &str = "11111111-2222-4333-8444-555555555555";

fn yes() -> bool {
    true
}

impl User {
    fn sub(&self) -> String {
        // Stable per email, numeric like Google's.
        let d = Sha256::digest(self.email.as_bytes());
        let n = u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
        format!("1{:019}", n % 10u64.pow(19))
    }
}

#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    email: String,
    scope: String,
    /// `offline_access` asked with `prompt=consent`.
    offline_consented: bool,
}

/// How this provider behaves where OpenID Connect leaves it the choice
/// (`PUT /control/oidc/behaviour`), as certified providers differ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Behaviour {
    /// The ID token carries `sub` alone; email, email_verified, name and
    /// picture only at userinfo (Core §5.4).
    pub claims_at_userinfo: bool,
    /// A refresh token only for `offline_access` asked with
    /// `prompt=consent` (Core §11); discovery lists `offline_access`.
    pub offline_needs_consent: bool,
    /// No refresh token at all (a client whose offline access is off).
    pub no_refresh_tokens: bool,
    /// The ID token signature: None or `RS256`, `PS256`, `ES256` (the JWKS
    /// and discovery say the same).
    pub id_token_alg: Option<IdTokenAlg>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdTokenAlg {
    #[default]
    RS256,
    PS256,
    ES256,
}

impl IdTokenAlg {
    pub fn name(self) -> &'static str {
        match self {
            IdTokenAlg::RS256 => "RS256",
            IdTokenAlg::PS256 => "PS256",
            IdTokenAlg::ES256 => "ES256",
        }
    }
}

#[derive(Debug, Clone)]
struct Refresh {
    client_id: String,
    email: String,
    scope: String,
    nonce: Option<String>,
    revoked: bool,
}

struct SigningKey {
    kid: String,
    key: RsaPrivateKey,
}

#[derive(Default)]
struct Inner {
    keys: Vec<SigningKey>,
    clients: Vec<Client>,
    users: Vec<User>,
    auto_consent: Option<String>,
    codes: HashMap<String, Grant>,
    refresh: HashMap<String, Refresh>,
    access: HashMap<String, String>,
    /// The scopes each access token carries.
    access_scope: HashMap<String, String>,
    /// Scopes granted per (client, user): incremental authorization
    /// (`include_granted_scopes=true`) adds to them.
    granted: HashMap<(String, String), BTreeSet<String>>,
    revocations: Vec<String>,
    /// Test fault on the next ID tokens: `tamper` (bad signature) or `wrong_nonce`.
    id_token_fault: Option<String>,
    behaviour: Behaviour,
    /// The P-256 key for ES256, made when first needed.
    ec_key: Option<p256::ecdsa::SigningKey>,
}

/// Whose wording and shapes the provider uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Flavor {
    #[default]
    Google,
    Microsoft,
}

/// The provider's state, shared by its routes.
#[derive(Clone, Default)]
pub struct Provider {
    inner: Arc<Mutex<Inner>>,
    flavor: Flavor,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Provider")
    }
}

/// Seconds since the epoch (also for the platform's tests).
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 24];
    OsRng.fill_bytes(&mut b);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(b))
}

fn new_key() -> SigningKey {
    // 2048 bits like Google's keys; generation takes well under a second in release.
    let key = RsaPrivateKey::new(&mut OsRng, 2048).unwrap_or_else(|e| panic!("RSA key: {e}"));
    SigningKey {
        kid: random_token("k"),
        key,
    }
}

impl Provider {
    /// Who an access token belongs to and the scopes it carries (the
    /// emulated Google APIs check them).
    pub fn token_info(&self, access: &str) -> Option<(String, String)> {
        let inner = self.lock();
        let email = inner.access.get(access)?.clone();
        let scope = inner.access_scope.get(access).cloned().unwrap_or_default();
        Some((email, scope))
    }

    /// What this provider's userinfo endpoint answers for an access token
    /// (a relying party such as the platform reads it with the token).
    pub fn userinfo_of(&self, access: &str) -> Option<Value> {
        let inner = self.lock();
        let email = inner.access.get(access)?;
        let user = inner.users.iter().find(|u| &u.email == email)?;
        Some(json!({
            "sub": user.sub(), "email": user.email, "email_verified": user.email_verified,
            "name": user.name,
        }))
    }

    pub fn microsoft() -> Provider {
        Provider {
            flavor: Flavor::Microsoft,
            ..Provider::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned()
}

/// The issuer for a request, from its Host header (the emulator's port is
/// chosen at start); Microsoft's names the tenant.
fn issuer(p: &Provider, headers: &HeaderMap, tenant: Option<&str>) -> String {
    match p.flavor {
        Flavor::Google => format!("http://{}/google", host(headers)),
        Flavor::Microsoft => format!(
            "http://{}/microsoft/{}/v2.0",
            host(headers),
            tenant.unwrap_or(DEFAULT_TENANT)
        ),
    }
}

/// Public routes (merged at the root; faults and latency apply).
pub fn routes() -> Router<Provider> {
    Router::new()
        .route("/google/.well-known/openid-configuration", get(discovery))
        .route("/google/o/oauth2/v2/auth", get(authorize))
        .route("/google/consent", post(consent))
        .route("/google/token", post(token))
        .route("/google/revoke", post(revoke))
        .route("/google/oauth2/v3/certs", get(certs))
        .route("/google/v1/userinfo", get(userinfo))
}

async fn discovery(State(p): State<Provider>, headers: HeaderMap) -> Json<Value> {
    let iss = issuer(&p, &headers, None);
    let mut scopes = vec!["openid", "email", "profile"];
    if p.lock().behaviour.offline_needs_consent {
        scopes.push("offline_access");
    }
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/o/oauth2/v2/auth"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/v1/userinfo"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "jwks_uri": format!("{iss}/oauth2/v3/certs"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [p.lock().behaviour.id_token_alg.unwrap_or_default().name()],
        "scopes_supported": scopes,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
    }))
}

async fn authorize(
    State(p): State<Provider>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    authorize_in(&p, q, "")
}

fn authorize_in(p: &Provider, q: HashMap<String, String>, tenant: &str) -> Response {
    let p = p.clone();
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let client_id = get("client_id");
    let redirect_uri = get("redirect_uri");
    let client = p
        .lock()
        .clients
        .iter()
        .find(|c| c.client_id == client_id)
        .cloned();
    let Some(client) = client else {
        if p.flavor == Flavor::Microsoft {
            return ms_error_page(&format!(
                "AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
            ));
        }
        return error_page(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    };
    if !client.redirect_uris.contains(&redirect_uri) {
        if p.flavor == Flavor::Microsoft {
            return ms_error_page(&format!(
                "AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."
            ));
        }
        return error_page(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            &format!(
                "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. If you're the app developer, register the redirect URI in the Google Cloud Console. Request details: redirect_uri={redirect_uri}"
            ),
        );
    }
    if get("response_type") != "code"
        || get("code_challenge").is_empty()
        || get("code_challenge_method") != "S256"
    {
        return redirect_with(
            &redirect_uri,
            &[("error", "invalid_request"), ("state", &get("state"))],
        );
    }
    let auto = p.lock().auto_consent.clone();
    if let Some(email) = auto {
        return issue_code(&p, &q, &email);
    }
    // The consent page: one button per account, and Cancel.
    let users = p.lock().users.clone();
    let hidden: String = q
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let buttons: String = users
        .iter()
        .map(|u| {
            format!(
                "<button type=\"submit\" name=\"account\" value=\"{e}\">Continue as {n} ({e})</button>",
                e = escape(&u.email),
                n = escape(&u.name)
            )
        })
        .collect();
    let wants = web::scope_words(q.get("scope").map(String::as_str).unwrap_or_default());
    let action = match p.flavor {
        Flavor::Google => "/google/consent",
        Flavor::Microsoft => "/microsoft/consent",
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in - Google Accounts</title></head>\
         <body><h1>Choose an account</h1><p>to continue to Ringside. Ringside wants to {wants}.</p>\
         <form method=\"post\" action=\"{action}\">{hidden}{buttons}\
         <button type=\"submit\" name=\"account\" value=\"\">Cancel</button></form></body></html>"
    ))
    .into_response()
}

fn issue_code(p: &Provider, q: &HashMap<String, String>, email: &str) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let redirect_uri = get("redirect_uri");
    let state = get("state");
    if email.is_empty() {
        let mut pairs = vec![("error", "access_denied"), ("state", state.as_str())];
        if p.flavor == Flavor::Microsoft {
            pairs.push((
                "error_description",
                "AADSTS65004: User declined to consent to access the app.",
            ));
        }
        return redirect_with(&redirect_uri, &pairs);
    }
    let scope = {
        let mut inner = p.lock();
        let requested: BTreeSet<String> =
            get("scope").split_whitespace().map(str::to_owned).collect();
        let entry = inner
            .granted
            .entry((get("client_id"), email.to_owned()))
            .or_default();
        // Google replaces the grant unless asked to add to it; Microsoft's
        // consent is cumulative (a token carries every scope consented to).
        if p.flavor != Flavor::Microsoft && get("include_granted_scopes") != "true" {
            entry.clear();
        }
        entry.extend(requested);
        entry.iter().cloned().collect::<Vec<_>>().join(" ")
    };
    let code = random_token("4/0A");
    p.lock().codes.insert(
        code.clone(),
        Grant {
            client_id: get("client_id"),
            redirect_uri: redirect_uri.clone(),
            challenge: get("code_challenge"),
            nonce: q.get("nonce").cloned(),
            email: email.to_owned(),
            scope: scope.clone(),
            offline_consented: get("scope")
                .split_whitespace()
                .any(|s| s == "offline_access")
                && get("prompt") == "consent",
        },
    );
    redirect_with(
        &redirect_uri,
        &[("state", &state), ("code", &code), ("scope", &scope)],
    )
}

async fn consent(State(p): State<Provider>, Form(f): Form<HashMap<String, String>>) -> Response {
    let email = f.get("account").cloned().unwrap_or_default();
    issue_code(&p, &f, &email)
}

#[cfg(test)]
mod tests;
