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

use std::collections::HashMap;
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
    revocations: Vec<String>,
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

fn now() -> u64 {
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
    pub fn microsoft() -> Provider {
        Provider {
            flavor: Flavor::Microsoft,
            ..Provider::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn current_key(&self) -> (String, RsaPrivateKey) {
        let mut inner = self.lock();
        if inner.keys.is_empty() {
            inner.keys.push(new_key());
        }
        let k = &inner.keys[inner.keys.len() - 1];
        (k.kid.clone(), k.key.clone())
    }

    /// Signs claims as an RS256 JWT with the current key.
    pub fn sign(&self, claims: &Value) -> String {
        let (kid, key) = self.current_key();
        let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = key
            .sign(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(input.as_bytes()),
            )
            .unwrap_or_default();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
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

/// Microsoft-flavoured public routes.
pub fn microsoft_routes() -> Router<Provider> {
    Router::new()
        .route(
            "/microsoft/{tenant}/v2.0/.well-known/openid-configuration",
            get(ms_discovery),
        )
        .route(
            "/microsoft/{tenant}/oauth2/v2.0/authorize",
            get(ms_authorize),
        )
        .route("/microsoft/consent", post(consent))
        .route("/microsoft/{tenant}/oauth2/v2.0/token", post(ms_token))
        .route("/microsoft/{tenant}/discovery/v2.0/keys", get(certs))
}

async fn ms_discovery(Path(tenant): Path<String>, headers: HeaderMap) -> Json<Value> {
    let base = format!("http://{}/microsoft/{tenant}", host(&headers));
    // The multi-tenant documents carry a placeholder, as Microsoft's do.
    let iss_tenant = if tenant == "organizations" || tenant == "common" {
        "{tenantid}".to_owned()
    } else {
        tenant.clone()
    };
    Json(json!({
        "issuer": format!("http://{}/microsoft/{iss_tenant}/v2.0", host(&headers)),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "preferred_username", "name", "tid", "ver", "oid", "email"],
        "tenant_region_scope": "EU",
    }))
}

async fn ms_authorize(
    State(p): State<Provider>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    authorize_in(&p, q, &tenant)
}

async fn ms_token(
    State(p): State<Provider>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    token_in(&p, &headers, f, Some(&tenant))
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

/// Control routes, nested under `/control/oidc`.
pub fn control_routes() -> Router<Provider> {
    Router::new()
        .route("/clients", put(set_clients))
        .route("/users", put(set_users))
        .route("/consent", put(set_consent))
        .route("/rotate", post(rotate))
        .route("/revoke-user", post(revoke_user))
        .route("/revocations", get(revocations))
}

async fn discovery(State(p): State<Provider>, headers: HeaderMap) -> Json<Value> {
    let iss = issuer(&p, &headers, None);
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/o/oauth2/v2/auth"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/v1/userinfo"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "jwks_uri": format!("{iss}/oauth2/v3/certs"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
    }))
}

/// Google's error page for a bad authorization request (no redirect happens).
fn error_page(status: StatusCode, error: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error {code}: {error}</title></head>\
         <body><h1>Access blocked: authorization error</h1><p id=\"error\">Error {code}: {error}</p><p id=\"message\">{message}</p></body></html>",
        code = status.as_u16()
    );
    (status, Html(body)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> Response {
    let mut q = form_urlencoded_pairs(pairs);
    let sep = if uri.contains('?') { '&' } else { '?' };
    q.insert(0, sep);
    Redirect::to(&format!("{uri}{q}")).into_response()
}

fn form_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn authorize(
    State(p): State<Provider>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    authorize_in(&p, q, "")
}

/// Microsoft's error page for a bad authorization request.
fn ms_error_page(message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head>\
         <body><h1>Sorry, but we\u{2019}re having trouble signing you in.</h1><p id=\"message\">{}</p></body></html>",
        escape(message)
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
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
    let action = match p.flavor {
        Flavor::Google => "/google/consent",
        Flavor::Microsoft => "/microsoft/consent",
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in - Google Accounts</title></head>\
         <body><h1>Choose an account</h1><p>to continue to Ringside. Ringside wants to see your email, profile and contacts.</p>\
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
    let code = random_token("4/0A");
    p.lock().codes.insert(
        code.clone(),
        Grant {
            client_id: get("client_id"),
            redirect_uri: redirect_uri.clone(),
            challenge: get("code_challenge"),
            nonce: q.get("nonce").cloned(),
            email: email.to_owned(),
            scope: get("scope"),
        },
    );
    redirect_with(
        &redirect_uri,
        &[("state", &state), ("code", &code), ("scope", &get("scope"))],
    )
}

async fn consent(State(p): State<Provider>, Form(f): Form<HashMap<String, String>>) -> Response {
    let email = f.get("account").cloned().unwrap_or_default();
    issue_code(&p, &f, &email)
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn tokens(
    p: &Provider,
    iss: &str,
    client_id: &str,
    email: &str,
    scope: &str,
    nonce: Option<&str>,
    refresh: Option<String>,
) -> Response {
    let user = p.lock().users.iter().find(|u| u.email == email).cloned();
    let Some(user) = user else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Bad Request");
    };
    let t = now();
    let mut claims = match p.flavor {
        Flavor::Google => json!({
            "iss": iss, "azp": client_id, "aud": client_id, "sub": user.sub(),
            "email": user.email, "email_verified": user.email_verified,
            "name": user.name, "iat": t, "exp": t + TOKEN_SECONDS,
        }),
        Flavor::Microsoft => {
            let tid = user
                .tid
                .clone()
                .unwrap_or_else(|| DEFAULT_TENANT.to_owned());
            let host = iss.split("/microsoft/").next().unwrap_or(iss);
            json!({
                "ver": "2.0", "iss": format!("{host}/microsoft/{tid}/v2.0"), "aud": client_id,
                "sub": user.sub(), "oid": user.sub(), "tid": tid,
                "preferred_username": user.email, "email": user.email, "name": user.name,
                "iat": t, "nbf": t, "exp": t + TOKEN_SECONDS,
            })
        }
    };
    if let Some(hd) = &user.hd {
        claims["hd"] = json!(hd);
    }
    if let Some(pic) = &user.picture {
        claims["picture"] = json!(pic);
    }
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    let access = random_token("ya29.");
    p.lock().access.insert(access.clone(), email.to_owned());
    let mut body = json!({
        "access_token": access,
        "expires_in": TOKEN_SECONDS,
        "scope": scope,
        "token_type": "Bearer",
        "id_token": p.sign(&claims),
    });
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    Json(body).into_response()
}

async fn token(
    State(p): State<Provider>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    token_in(&p, &headers, f, None)
}

/// A Microsoft error body: the AADSTS text, its code, and the trace fields.
fn ms_error(error: &str, code: u64, text: &str) -> Response {
    (
        if error == "unauthorized_client" || error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        },
        Json(json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {text} Trace ID: 00000000-0000-0000-0000-000000000000 Correlation ID: 00000000-0000-0000-0000-000000000000 Timestamp: 2026-11-22 00:00:00Z"),
            "error_codes": [code],
            "timestamp": "2026-11-22 00:00:00Z",
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
        })),
    )
        .into_response()
}

fn token_in(
    p: &Provider,
    headers: &HeaderMap,
    f: HashMap<String, String>,
    tenant: Option<&str>,
) -> Response {
    let p = p.clone();
    let ms = p.flavor == Flavor::Microsoft;
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let client_id = get("client_id");
    let client = p
        .lock()
        .clients
        .iter()
        .find(|c| c.client_id == client_id)
        .cloned();
    let Some(client) = client else {
        if ms {
            return ms_error(
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'.",
                    tenant.unwrap_or("")
                ),
            );
        }
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    };
    if let Some(secret) = &client.secret {
        if f.get("client_secret") != Some(secret) {
            if ms {
                return ms_error(
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
                );
            }
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized");
        }
    }
    let iss = issuer(&p, headers, tenant);
    let bad_code = || {
        if ms {
            ms_error(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            )
        } else {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Bad Request")
        }
    };
    match get("grant_type").as_str() {
        "authorization_code" => {
            let grant = p.lock().codes.remove(&get("code"));
            let Some(g) = grant else {
                return bad_code();
            };
            if g.client_id != client_id || g.redirect_uri != get("redirect_uri") {
                return bad_code();
            }
            let verifier = get("code_verifier");
            if verifier.is_empty() {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Missing code verifier.",
                );
            }
            if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != g.challenge {
                if ms {
                    return ms_error(
                        "invalid_grant",
                        501481,
                        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                    );
                }
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid code verifier.",
                );
            }
            let refresh = random_token(if ms { "0.A" } else { "1//0g" });
            p.lock().refresh.insert(
                refresh.clone(),
                Refresh {
                    client_id: client_id.clone(),
                    email: g.email.clone(),
                    scope: g.scope.clone(),
                    nonce: g.nonce.clone(),
                    revoked: false,
                },
            );
            tokens(
                &p,
                &iss,
                &client_id,
                &g.email,
                &g.scope,
                g.nonce.as_deref(),
                Some(refresh),
            )
        }
        "refresh_token" => {
            let r = p.lock().refresh.get(&get("refresh_token")).cloned();
            match r {
                Some(r) if !r.revoked && r.client_id == client_id => {
                    // Neither puts the nonce in refreshed ID tokens. Microsoft
                    // rotates the refresh token; Google keeps it.
                    let _ = r.nonce;
                    let rotated = ms.then(|| {
                        let new = random_token("0.A");
                        let mut inner = p.lock();
                        if let Some(old) = inner.refresh.get_mut(&get("refresh_token")) {
                            old.revoked = true;
                        }
                        inner.refresh.insert(
                            new.clone(),
                            Refresh {
                                revoked: false,
                                ..r.clone()
                            },
                        );
                        new
                    });
                    tokens(&p, &iss, &client_id, &r.email, &r.scope, None, rotated)
                }
                _ if ms => ms_error(
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '2026-11-22T00:00:00Z' and the TokensValidFrom date (before which tokens are not valid) for this user is '2026-11-22T00:00:00Z'.",
                ),
                _ => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Token has been expired or revoked.",
                ),
            }
        }
        other => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {other}"),
        ),
    }
}

async fn revoke(State(p): State<Provider>, Form(f): Form<HashMap<String, String>>) -> Response {
    let token = f.get("token").cloned().unwrap_or_default();
    let mut inner = p.lock();
    let known = if let Some(r) = inner.refresh.get_mut(&token) {
        r.revoked = true;
        true
    } else {
        inner.access.remove(&token).is_some()
    };
    if !known {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Token expired or revoked",
        );
    }
    inner.revocations.push(token);
    (StatusCode::OK, Json(json!({}))).into_response()
}

async fn certs(State(p): State<Provider>) -> Response {
    let _ = p.current_key();
    let keys: Vec<Value> = p
        .lock()
        .keys
        .iter()
        .map(|k| {
            let public = RsaPublicKey::from(&k.key);
            json!({
                "kty": "RSA", "alg": "RS256", "use": "sig", "kid": k.kid,
                "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
            })
        })
        .collect();
    (
        [(
            header::CACHE_CONTROL,
            "public, max-age=3600, must-revalidate, no-transform",
        )],
        Json(json!({ "keys": keys })),
    )
        .into_response()
}

async fn userinfo(State(p): State<Provider>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let inner = p.lock();
    let Some(user) = inner
        .access
        .get(bearer)
        .and_then(|email| inner.users.iter().find(|u| &u.email == email))
    else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            Json(json!({"error": "invalid_request", "error_description": "Invalid Credentials"})),
        )
            .into_response();
    };
    Json(json!({
        "sub": user.sub(), "email": user.email, "email_verified": user.email_verified,
        "name": user.name, "picture": user.picture, "hd": user.hd,
    }))
    .into_response()
}

async fn set_clients(State(p): State<Provider>, Json(c): Json<Vec<Client>>) -> StatusCode {
    p.lock().clients = c;
    StatusCode::NO_CONTENT
}

async fn set_users(State(p): State<Provider>, Json(u): Json<Vec<User>>) -> StatusCode {
    p.lock().users = u;
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Consent {
    /// Sign in as this email without showing the consent page; null: show it.
    auto: Option<String>,
}

async fn set_consent(State(p): State<Provider>, Json(c): Json<Consent>) -> StatusCode {
    p.lock().auto_consent = c.auto;
    StatusCode::NO_CONTENT
}

/// A new signing key; the previous one stays in the JWKS (as providers do
/// while tokens signed with it are still valid).
async fn rotate(State(p): State<Provider>) -> Json<Value> {
    let key = new_key();
    let kid = key.kid.clone();
    let mut inner = p.lock();
    inner.keys.push(key);
    if inner.keys.len() > 2 {
        inner.keys.remove(0);
    }
    Json(json!({ "kid": kid }))
}

#[derive(Deserialize)]
struct RevokeUser {
    email: String,
}

/// Revokes every refresh token of a user (what an admin or Google does).
async fn revoke_user(State(p): State<Provider>, Json(r): Json<RevokeUser>) -> Json<Value> {
    let mut inner = p.lock();
    let mut n = 0;
    for t in inner.refresh.values_mut().filter(|t| t.email == r.email) {
        t.revoked = true;
        n += 1;
    }
    inner.access.retain(|_, e| *e != r.email);
    Json(json!({ "revoked": n }))
}

async fn revocations(State(p): State<Provider>) -> Json<Vec<String>> {
    Json(p.lock().revocations.clone())
}

#[cfg(test)]
mod tests {
    //! The whole code flow through the router, driven by Ringside's own
    //! sign-in rules (core::auth), as the extension will drive it.
    use std::collections::HashMap;

    use axum::body::Body;
    use axum::http::{Method, Request};
    use http_body_util::BodyExt;
    use ringside_core::auth::idtoken::{self, Expectations, IdTokenError, Jwks};
    use ringside_core::auth::pkce::{RANDOM_BYTES, RequestSecrets};
    use ringside_core::auth::provider::{self, ProviderConfig, ProviderKind};
    use tower::ServiceExt;

    use super::*;

    const HOST: &str = "127.0.0.1:7";
    const REDIRECT: &str = "https://fempdkhheodefkjhkbekalfieneojckb.chromiumapp.org/";

    async fn call(
        app: &Router,
        method: Method,
        uri: &str,
        body: Option<(&str, String)>,
    ) -> (u16, HeaderMap, String) {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, HOST);
        let body = match body {
            Some((ctype, b)) => {
                req = req.header(header::CONTENT_TYPE, ctype);
                Body::from(b)
            }
            None => Body::empty(),
        };
        let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    fn form(pairs: &[(&str, &str)]) -> Option<(&'static str, String)> {
        Some((
            "application/x-www-form-urlencoded",
            form_urlencoded_pairs(pairs),
        ))
    }

    async fn setup() -> Router {
        let app = crate::app(crate::Options::default());
        let json = |v: Value| Some(("application/json", v.to_string()));
        call(
            &app,
            Method::PUT,
            "/control/oidc/clients",
            json(json!([{"client_id": "ringside-web", "redirect_uris": [REDIRECT]}])),
        )
        .await;
        call(
            &app,
            Method::PUT,
            "/control/oidc/users",
            json(json!([
                {"email": "ana@example.com", "name": "Ana Ruiz", "hd": "example.com"},
            ])),
        )
        .await;
        call(
            &app,
            Method::PUT,
            "/control/oidc/consent",
            json(json!({"auto": "ana@example.com"})),
        )
        .await;
        app
    }

    #[tokio::test]
    async fn code_flow_with_pkce_refresh_and_revocation() {
        let app = setup().await;
        let iss = format!("http://{HOST}/google");
        let (_, _, doc) = call(
            &app,
            Method::GET,
            "/google/.well-known/openid-configuration",
            None,
        )
        .await;
        let d = provider::parse_discovery(&doc, &iss).unwrap();
        let cfg = ProviderConfig {
            kind: ProviderKind::Google,
            issuer: Some(iss.clone()),
            client_id: Some("ringside-web".into()),
            allowed_domains: vec!["example.com".into()],
            tenant: None,
        };
        let secrets = RequestSecrets::from_random(&[9u8; RANDOM_BYTES]);
        let url = provider::authorization_url(&cfg, &d, REDIRECT, &secrets, None).unwrap();
        let path = url.strip_prefix(&format!("http://{HOST}")).unwrap();
        let (status, headers, _) = call(&app, Method::GET, path, None).await;
        assert_eq!(status, 303);
        let location = headers[header::LOCATION].to_str().unwrap();
        let code = provider::parse_redirect(location, &secrets.state).unwrap();

        // A wrong verifier is refused, and the code is then spent.
        let (status, _, body) = call(
            &app,
            Method::POST,
            "/google/token",
            form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "ringside-web"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &"x".repeat(43)),
            ]),
        )
        .await;
        assert_eq!(
            (status, body.contains("Invalid code verifier.")),
            (400, true),
            "{body}"
        );

        let secrets = RequestSecrets::from_random(&[10u8; RANDOM_BYTES]);
        let url = provider::authorization_url(&cfg, &d, REDIRECT, &secrets, None).unwrap();
        let (_, headers, _) = call(
            &app,
            Method::GET,
            url.strip_prefix(&format!("http://{HOST}")).unwrap(),
            None,
        )
        .await;
        let code =
            provider::parse_redirect(headers[header::LOCATION].to_str().unwrap(), &secrets.state)
                .unwrap();
        let (status, _, body) = call(
            &app,
            Method::POST,
            "/google/token",
            form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "ringside-web"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &secrets.verifier),
            ]),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let tokens: HashMap<String, Value> = serde_json::from_str(&body).unwrap();
        let (_, headers, jwks) = call(&app, Method::GET, "/google/oauth2/v3/certs", None).await;
        assert_eq!(
            idtoken::max_age(headers[header::CACHE_CONTROL].to_str().unwrap()),
            Some(3600)
        );
        let jwks: Jwks = serde_json::from_str(&jwks).unwrap();
        let domains = vec!["example.com".to_owned()];
        let expect = Expectations {
            kind: ProviderKind::Google,
            issuer: &iss,
            client_id: "ringside-web",
            nonce: &secrets.nonce,
            now: now(),
            allowed_domains: &domains,
            tenant: None,
        };
        let id_token = tokens["id_token"].as_str().unwrap();
        let claims = idtoken::verify(id_token, &jwks, &expect).unwrap();
        assert_eq!(claims.email.as_deref(), Some("ana@example.com"));
        assert_eq!(claims.hd.as_deref(), Some("example.com"));

        // After a key rotation the old key stays published; an unknown kid is
        // what makes the extension refetch.
        call(&app, Method::POST, "/control/oidc/rotate", None).await;
        let (_, _, jwks2) = call(&app, Method::GET, "/google/oauth2/v3/certs", None).await;
        let jwks2: Jwks = serde_json::from_str(&jwks2).unwrap();
        assert_eq!(jwks2.keys.len(), 2);
        assert!(idtoken::verify(id_token, &jwks2, &expect).is_ok());

        let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        let refresh_form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
            ("client_id", "ringside-web"),
        ];
        let (status, _, body) =
            call(&app, Method::POST, "/google/token", form(&refresh_form)).await;
        assert_eq!(status, 200, "{body}");
        let refreshed: HashMap<String, Value> = serde_json::from_str(&body).unwrap();
        let Err(IdTokenError::UnknownKey(_)) =
            idtoken::verify(refreshed["id_token"].as_str().unwrap(), &jwks, &expect)
        else {
            panic!("a token signed with the new key is unknown to the old JWKS");
        };

        call(
            &app,
            Method::POST,
            "/control/oidc/revoke-user",
            Some((
                "application/json",
                json!({"email": "ana@example.com"}).to_string(),
            )),
        )
        .await;
        let (status, _, body) =
            call(&app, Method::POST, "/google/token", form(&refresh_form)).await;
        assert_eq!(status, 400);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        );
    }

    #[tokio::test]
    async fn bad_clients_and_redirects_get_googles_error_pages() {
        let app = setup().await;
        let (status, _, page) = call(
            &app,
            Method::GET,
            "/google/o/oauth2/v2/auth?client_id=nope&redirect_uri=x",
            None,
        )
        .await;
        assert_eq!(status, 401);
        assert!(page.contains("Error 401: invalid_client"), "{page}");
        let (status, _, page) = call(&app, Method::GET, "/google/o/oauth2/v2/auth?client_id=ringside-web&redirect_uri=https%3A%2F%2Fevil.example%2F", None).await;
        assert_eq!(status, 400);
        assert!(page.contains("Error 400: redirect_uri_mismatch"), "{page}");
        let (status, _, body) = call(
            &app,
            Method::POST,
            "/google/token",
            form(&[("grant_type", "authorization_code"), ("client_id", "nope")]),
        )
        .await;
        assert_eq!(status, 401);
        assert!(body.contains("The OAuth client was not found."));
        // Revoking an unknown token is Google's invalid_token.
        let (status, _, _) = call(
            &app,
            Method::POST,
            "/google/revoke",
            form(&[("token", "nope")]),
        )
        .await;
        assert_eq!(status, 400);
    }

    #[tokio::test]
    async fn the_consent_page_lists_accounts_and_cancel_denies() {
        let app = setup().await;
        call(
            &app,
            Method::PUT,
            "/control/oidc/consent",
            Some(("application/json", json!({"auto": null}).to_string())),
        )
        .await;
        let q = format!(
            "/google/o/oauth2/v2/auth?client_id=ringside-web&redirect_uri={}&response_type=code&code_challenge=abc&code_challenge_method=S256&state=s1",
            urlencode(REDIRECT)
        );
        let (status, _, page) = call(&app, Method::GET, &q, None).await;
        assert_eq!(status, 200);
        assert!(page.contains("Continue as Ana Ruiz (ana@example.com)"));
        let (status, headers, _) = call(
            &app,
            Method::POST,
            "/google/consent",
            form(&[
                ("account", ""),
                ("redirect_uri", REDIRECT),
                ("state", "s1"),
                ("client_id", "ringside-web"),
            ]),
        )
        .await;
        assert_eq!(status, 303);
        let location = headers[header::LOCATION].to_str().unwrap();
        assert_eq!(
            provider::parse_redirect(location, "s1"),
            Err(provider::RedirectError::Cancelled)
        );
    }

    #[tokio::test]
    async fn microsoft_flavour_multi_tenant_flow_and_aadsts_bodies() {
        let app = crate::app(crate::Options::default());
        let json_body = |v: Value| Some(("application/json", v.to_string()));
        let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        call(
            &app,
            Method::PUT,
            "/control/oidc-microsoft/clients",
            json_body(json!([{"client_id": "ringside-entra", "redirect_uris": [REDIRECT]}])),
        )
        .await;
        call(
            &app,
            Method::PUT,
            "/control/oidc-microsoft/users",
            json_body(json!([{"email": "ana@contoso.com", "name": "Ana Ruiz", "tid": tid}])),
        )
        .await;
        call(
            &app,
            Method::PUT,
            "/control/oidc-microsoft/consent",
            json_body(json!({"auto": "ana@contoso.com"})),
        )
        .await;
        let iss = format!("http://{HOST}/microsoft/organizations/v2.0");
        let (_, _, doc) = call(
            &app,
            Method::GET,
            "/microsoft/organizations/v2.0/.well-known/openid-configuration",
            None,
        )
        .await;
        let d = provider::parse_discovery(&doc, &iss).unwrap();
        let cfg = ProviderConfig {
            kind: ProviderKind::Microsoft,
            issuer: Some(iss.clone()),
            client_id: Some("ringside-entra".into()),
            allowed_domains: vec![],
            tenant: Some(tid.into()),
        };
        let secrets = RequestSecrets::from_random(&[11u8; RANDOM_BYTES]);
        let url = provider::authorization_url(&cfg, &d, REDIRECT, &secrets, None).unwrap();
        assert!(url.contains("offline_access"));
        let (status, headers, _) = call(
            &app,
            Method::GET,
            url.strip_prefix(&format!("http://{HOST}")).unwrap(),
            None,
        )
        .await;
        assert_eq!(status, 303);
        let code =
            provider::parse_redirect(headers[header::LOCATION].to_str().unwrap(), &secrets.state)
                .unwrap();
        let token_path = "/microsoft/organizations/oauth2/v2.0/token";
        let (status, _, body) = call(
            &app,
            Method::POST,
            token_path,
            form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "ringside-entra"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &secrets.verifier),
            ]),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let tokens: HashMap<String, Value> = serde_json::from_str(&body).unwrap();
        let (_, _, jwks) = call(
            &app,
            Method::GET,
            "/microsoft/organizations/discovery/v2.0/keys",
            None,
        )
        .await;
        let jwks: Jwks = serde_json::from_str(&jwks).unwrap();
        let expect = Expectations {
            kind: ProviderKind::Microsoft,
            issuer: &iss,
            client_id: "ringside-entra",
            nonce: &secrets.nonce,
            now: now(),
            allowed_domains: &[],
            tenant: Some(tid),
        };
        let claims = idtoken::verify(tokens["id_token"].as_str().unwrap(), &jwks, &expect).unwrap();
        assert_eq!(claims.tid.as_deref(), Some(tid));
        assert_eq!(claims.login_email(), Some("ana@contoso.com"));
        // Another tenant's token is refused by Ringside's rules.
        let other = Expectations {
            tenant: Some("00000000-0000-0000-0000-000000000001"),
            ..expect.clone()
        };
        assert!(matches!(
            idtoken::verify(tokens["id_token"].as_str().unwrap(), &jwks, &other),
            Err(IdTokenError::WrongTenant { .. })
        ));
        // Refresh rotates the refresh token; the old one is then revoked (AADSTS50173).
        let first = tokens["refresh_token"].as_str().unwrap().to_owned();
        let (status, _, body) = call(
            &app,
            Method::POST,
            token_path,
            form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &first),
                ("client_id", "ringside-entra"),
            ]),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let rotated: HashMap<String, Value> = serde_json::from_str(&body).unwrap();
        assert_ne!(rotated["refresh_token"].as_str().unwrap(), first);
        let (status, _, body) = call(
            &app,
            Method::POST,
            token_path,
            form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &first),
                ("client_id", "ringside-entra"),
            ]),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            ringside_core::auth::token::classify(status, &body, None),
            ringside_core::auth::token::TokenFailure::GrantRevoked(
                ringside_core::auth::token::RevokeReason::PasswordChanged
            )
        );
        // Unknown app and a foreign redirect URI: AADSTS pages that core maps to admin fixes.
        let (status, _, page) = call(
            &app,
            Method::GET,
            "/microsoft/organizations/oauth2/v2.0/authorize?client_id=nope&redirect_uri=x",
            None,
        )
        .await;
        assert_eq!(status, 400);
        assert!(page.contains("AADSTS700016"), "{page}");
        let (status, _, body) = call(
            &app,
            Method::POST,
            token_path,
            form(&[("grant_type", "authorization_code"), ("client_id", "nope")]),
        )
        .await;
        assert_eq!(status, 401);
        assert!(matches!(
            ringside_core::auth::token::classify(status, &body, None),
            ringside_core::auth::token::TokenFailure::InvalidClient(d) if d.contains("AADSTS700016")
        ));
    }
}
