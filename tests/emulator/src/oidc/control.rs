//! The providers' control API (nested under `/control/oidc` and
//! `/control/oidc-microsoft`): clients, users, auto-consent, key rotation,
//! revocation, what was revoked, and the provider's behaviour where OpenID
//! Connect leaves a choice.

use super::*;

/// Control routes, nested under `/control/oidc`.
pub fn control_routes() -> Router<Provider> {
    Router::new()
        .route("/clients", put(set_clients))
        .route("/users", put(set_users))
        .route("/consent", put(set_consent))
        .route("/rotate", post(rotate))
        .route("/revoke-user", post(revoke_user))
        .route("/revocations", get(revocations))
        .route("/id-token-fault", put(set_id_token_fault))
        .route("/behaviour", put(set_behaviour))
}

async fn set_behaviour(State(p): State<Provider>, Json(b): Json<Behaviour>) -> StatusCode {
    p.lock().behaviour = b;
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct IdTokenFault {
    /// `tamper`, `wrong_nonce`, or null for well-formed tokens.
    fault: Option<String>,
}

async fn set_id_token_fault(State(p): State<Provider>, Json(f): Json<IdTokenFault>) -> StatusCode {
    match f.fault.as_deref() {
        None | Some("tamper") | Some("wrong_nonce") => {
            p.lock().id_token_fault = f.fault;
            StatusCode::NO_CONTENT
        }
        Some(_) => StatusCode::BAD_REQUEST,
    }
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
