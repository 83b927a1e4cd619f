//! The phone platform: call wrap-ups and agent sessions (docs/platform-api.md).
//!
//! `POST /platform/v1/sessions` takes an ID token from the emulator's Google
//! or Microsoft provider, checks its signature and expiry as a relying party
//! would, and answers with the agent or the platform's reason to refuse:
//! `user_not_invited`, `email_mismatch`, `method_not_allowed`. Control routes
//! (under `/control/platform`) set the invited agents and the company's
//! sign-in method, and revoke sessions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use rsa::rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::oidc::Provider;

#[path = "platform_password.rs"]
mod password;

/// Lifetime of a platform session, seconds.
pub const SESSION_SECONDS: u64 = 8 * 3600;

/// An agent the company invited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub login_email: String,
    pub name: String,
    #[serde(default)]
    pub privileged: bool,
    /// The identity (`sub`) already linked to this agent.
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default = "agent_role")]
    pub role: String,
    /// The agent's platform password (the password grant); None: none set.
    #[serde(default)]
    pub password: Option<String>,
}

fn agent_role() -> String {
    "agent".into()
}

#[derive(Debug)]
struct Inner {
    method: String,
    agents: Vec<Agent>,
    /// Session id → login email.
    sessions: HashMap<String, String>,
    /// Passwords (failures, lockouts) and the SSO broker.
    auth: password::Auth,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            method: "google".into(),
            agents: vec![],
            sessions: HashMap::new(),
            auth: password::Auth::default(),
        }
    }
}

/// An event for one agent (by login email) or, with None, for everyone.
pub(crate) type Broadcast = (Option<String>, Value);

/// The platform's state and the providers whose tokens it trusts.
#[derive(Debug, Clone)]
pub struct Platform {
    inner: Arc<Mutex<Inner>>,
    google: Provider,
    microsoft: Provider,
    events: tokio::sync::broadcast::Sender<Broadcast>,
    /// Calls placed for agents (`platform_calls`).
    pub(crate) calls: Arc<Mutex<Vec<crate::platform_calls::PlacedCall>>>,
}

impl Platform {
    pub fn new(google: Provider, microsoft: Provider) -> Platform {
        Platform {
            inner: Arc::default(),
            google,
            microsoft,
            events: tokio::sync::broadcast::channel(64).0,
            calls: Arc::default(),
        }
    }

    /// Every event from now on, for tests.
    #[cfg(test)]
    pub(crate) fn events_for_tests(&self) -> tokio::sync::broadcast::Receiver<Broadcast> {
        self.events.subscribe()
    }

    pub(crate) fn emit(&self, to: Option<&str>, event: Value) {
        // No listener is fine: the event is for whoever is connected.
        let _ = self.events.send((to.map(str::to_lowercase), event));
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Back to no agents, Google sign-in, no sessions (`/control/reset`).
    pub fn reset(&self) {
        *self.lock() = Inner::default();
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

fn refuse(status: StatusCode, code: &str, message: &str, extra: Value) -> Response {
    let mut body = json!({ "error": { "code": code, "message": message } });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    (status, Json(body)).into_response()
}

#[derive(Deserialize)]
struct SessionRequest {
    id_token: String,
    /// Sent when the ID token names nobody (claims only at userinfo): the
    /// platform reads userinfo with it, as a relying party would.
    #[serde(default)]
    access_token: Option<String>,
}

fn agent_json(a: &Agent) -> Value {
    json!({"login_email": a.login_email, "name": a.name, "role": a.role, "privileged": a.privileged})
}

async fn create_session(State(p): State<Platform>, Json(v): Json<Value>) -> Response {
    match v["grant_type"].as_str() {
        Some("password") => return password::password_grant(&p, &v),
        Some("sso_code") => return password::sso_grant(&p, &v),
        _ => {}
    }
    let Ok(r) = serde_json::from_value::<SessionRequest>(v) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "Expected an id_token, or grant_type password or sso_code.",
            json!({}),
        );
    };
    let (provider, claims) = match (
        p.google.verify(&r.id_token),
        p.microsoft.verify(&r.id_token),
    ) {
        (Some(c), _) => ("google", c),
        (None, Some(c)) => ("microsoft", c),
        (None, None) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "The ID token is not signed by a trusted provider, or has expired.",
                json!({}),
            );
        }
    };
    let sub = claims["sub"].as_str().unwrap_or_default().to_owned();
    let mut email = claims["email"]
        .as_str()
        .or(claims["preferred_username"].as_str())
        .unwrap_or_default()
        .to_owned();
    if email.is_empty() {
        // OpenID Connect Core §5.4: identity claims only at userinfo. Read
        // them with the access token, for the same subject, never from the
        // caller.
        let issuer_of = if provider == "google" {
            &p.google
        } else {
            &p.microsoft
        };
        let info = r
            .access_token
            .as_deref()
            .and_then(|a| issuer_of.userinfo_of(a));
        match info {
            Some(i) if i["sub"] == sub.as_str() && i["email_verified"] == true => {
                email = i["email"].as_str().unwrap_or_default().to_owned();
            }
            _ => {
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "The ID token names no verified email, and no access token for the same subject was given to read it from userinfo.",
                    json!({}),
                );
            }
        }
    }
    let account = if provider == "google" {
        "Google account"
    } else {
        "Microsoft account"
    };
    let mut inner = p.lock();
    if let Some(a) = inner
        .agents
        .iter()
        .find(|a| a.subject.as_deref() == Some(sub.as_str()))
        && !a.login_email.eq_ignore_ascii_case(&email)
    {
        let login = a.login_email.clone();
        return refuse(
            StatusCode::FORBIDDEN,
            "email_mismatch",
            &format!(
                "The {account} {email} is linked to the agent {login}; the emails must be the same. Ask your admin to update the agent's login email."
            ),
            json!({ "login_email": login }),
        );
    }
    let method = inner.method.clone();
    let Some(agent) = inner
        .agents
        .iter_mut()
        .find(|a| a.login_email.eq_ignore_ascii_case(&email))
    else {
        return refuse(
            StatusCode::FORBIDDEN,
            "user_not_invited",
            &format!(
                "{email} has not been invited to the phone platform. Ask your admin to invite you first; a {account} alone is not enough."
            ),
            json!({}),
        );
    };
    if method != provider && !agent.privileged {
        return refuse(
            StatusCode::FORBIDDEN,
            "method_not_allowed",
            &format!(
                "Your company signs in with {method}; {provider} sign-in is allowed only for privileged users."
            ),
            json!({ "method": method }),
        );
    }
    agent.subject = Some(sub);
    let out = agent_json(agent);
    let login = agent.login_email.clone();
    let mut id = [0u8; 18];
    OsRng.fill_bytes(&mut id);
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    inner.sessions.insert(id.clone(), login);
    Json(json!({
        "agent": out,
        "method": method,
        "session": { "id": id, "expires_in": SESSION_SECONDS },
    }))
    .into_response()
}

async fn me(State(p): State<Platform>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let inner = p.lock();
    let agent = inner
        .sessions
        .get(token)
        .and_then(|login| inner.agents.iter().find(|a| &a.login_email == login));
    match agent {
        Some(a) => Json(json!({ "agent": agent_json(a) })).into_response(),
        None => refuse(
            StatusCode::UNAUTHORIZED,
            "session_revoked",
            "This session was revoked or has ended. Sign in again.",
            json!({}),
        ),
    }
}

fn session_login(p: &Platform, headers: &HeaderMap) -> Option<String> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))?;
    p.lock().sessions.get(token).cloned()
}

impl Platform {
    /// The agent (login email) whose live session the request's bearer
    /// credential is, or the platform's 401 refusal: `session_required`
    /// without one, `session_revoked` for an unknown, revoked or ended one.
    #[allow(
        clippy::result_large_err,
        reason = "the error is the HTTP response itself, built once per refusal"
    )]
    pub fn agent_of(&self, headers: &HeaderMap) -> Result<String, Response> {
        if !headers.contains_key(header::AUTHORIZATION) {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "session_required",
                "This request needs the agent's platform session (Authorization: Bearer <session>). Sign in to Ringside.",
                json!({}),
            ));
        }
        session_login(self, headers).ok_or_else(|| {
            refuse(
                StatusCode::UNAUTHORIZED,
                "session_revoked",
                "This session was revoked or has ended. Sign in again.",
                json!({}),
            )
        })
    }
}

/// `GET /platform/v1/events`: server-sent events for the session's agent
/// (`session.revoked`, `agent.removed`) and for everyone
/// (`sign_in_method.changed`). An unknown or revoked session gets 401.
async fn events(State(p): State<Platform>, headers: HeaderMap) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures::StreamExt as _;
    let Some(login) = session_login(&p, &headers) else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "session_revoked",
            "This session was revoked or has ended. Sign in again.",
            json!({}),
        );
    };
    let login = login.to_lowercase();
    let rx = p.events.subscribe();
    let stream = futures::stream::unfold((rx, login), |(mut rx, login)| async move {
        loop {
            match rx.recv().await {
                Ok((to, event)) if to.is_none() || to.as_deref() == Some(login.as_str()) => {
                    let e = Event::default().data(event.to_string());
                    return Some((Ok::<_, std::convert::Infallible>(e), (rx, login)));
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .boxed();
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
        .into_response()
}

/// Public routes (merged at the root; faults and latency apply).
pub fn routes() -> Router<Platform> {
    Router::new()
        .route("/platform/v1/sessions", post(create_session))
        .route("/platform/v1/me", get(me))
        .route("/platform/v1/events", get(events))
        .merge(password::routes())
        .merge(crate::platform_calls::routes())
}

#[derive(Deserialize)]
struct Method {
    method: String,
    /// When set, agents are told the change takes effect this many ms from now.
    #[serde(default)]
    effective_in_ms: Option<u64>,
}

#[derive(Deserialize)]
struct RevokeSessions {
    login_email: String,
}

/// Control routes, nested under `/control/platform`.
pub fn control_routes() -> Router<Platform> {
    crate::platform_calls::control_routes()
        .merge(password::control_routes())
        .route(
            "/reset",
            post(|State(p): State<Platform>| async move {
                p.reset();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/agents",
            put(
                |State(p): State<Platform>, Json(a): Json<Vec<Agent>>| async move {
                    p.lock().agents = a;
                    StatusCode::NO_CONTENT
                },
            )
            .get(|State(p): State<Platform>| async move { Json(p.lock().agents.clone()) }),
        )
        .route(
            "/method",
            put(
                |State(p): State<Platform>, Json(m): Json<Method>| async move {
                    if !["google", "microsoft", "password", "sso"].contains(&m.method.as_str()) {
                        return StatusCode::BAD_REQUEST;
                    }
                    p.lock().method = m.method.clone();
                    if let Some(ms) = m.effective_in_ms {
                        let at = crate::oidc::now() * 1000 + ms;
                        p.emit(
                            None,
                            json!({"type": "sign_in_method.changed", "method": m.method, "effective_at_ms": at}),
                        );
                    }
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/revoke-sessions",
            post(
                |State(p): State<Platform>, Json(r): Json<RevokeSessions>| async move {
                    let mut inner = p.lock();
                    let before = inner.sessions.len();
                    inner
                        .sessions
                        .retain(|_, login| !login.eq_ignore_ascii_case(&r.login_email));
                    let n = before - inner.sessions.len();
                    drop(inner);
                    p.emit(Some(&r.login_email), json!({"type": "session.revoked"}));
                    Json(json!({ "revoked": n }))
                },
            ),
        )
        .route(
            "/remove-agent",
            post(
                |State(p): State<Platform>, Json(r): Json<RevokeSessions>| async move {
                    let mut inner = p.lock();
                    let before = inner.agents.len();
                    inner
                        .agents
                        .retain(|a| !a.login_email.eq_ignore_ascii_case(&r.login_email));
                    inner
                        .sessions
                        .retain(|_, login| !login.eq_ignore_ascii_case(&r.login_email));
                    let removed = before - inner.agents.len();
                    drop(inner);
                    p.emit(Some(&r.login_email), json!({"type": "agent.removed"}));
                    Json(json!({ "removed": removed }))
                },
            ),
        )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Method, Request};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    struct Fixture {
        app: Router,
        google: Provider,
        microsoft: Provider,
    }

    fn fixture(agents: Value, method: &str) -> Fixture {
        let google = Provider::default();
        let microsoft = Provider::microsoft();
        let p = Platform::new(google.clone(), microsoft.clone());
        {
            let mut inner = p.lock();
            inner.agents = serde_json::from_value(agents).unwrap();
            inner.method = method.into();
        }
        let app = routes()
            .with_state(p.clone())
            .nest("/control", control_routes().with_state(p));
        Fixture {
            app,
            google,
            microsoft,
        }
    }

    fn token(p: &Provider, email: &str, sub: &str) -> String {
        let exp = crate::oidc::now() + 600;
        p.sign(&json!({"iss": "x", "sub": sub, "email": email, "exp": exp}))
    }

    async fn call(
        app: &Router,
        method: Method,
        uri: &str,
        body: Option<Value>,
        bearer: Option<&str>,
    ) -> (u16, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(b) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn session(f: &Fixture, id_token: String) -> (u16, Value) {
        call(
            &f.app,
            Method::POST,
            "/platform/v1/sessions",
            Some(json!({ "id_token": id_token })),
            None,
        )
        .await
    }

    #[tokio::test]
    async fn an_id_token_that_names_nobody_needs_an_access_token_for_the_same_subject() {
        let f = fixture(
            json!([{"login_email": "ana@example.com", "name": "Ana"}]),
            "google",
        );
        let exp = crate::oidc::now() + 600;
        let sub_only = f
            .google
            .sign(&json!({"iss": "x", "sub": "111", "exp": exp}));
        let (status, body) = session(&f, sub_only.clone()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("invalid_token"))
        );
        // An access token the provider never issued reads no userinfo.
        let (status, _) = call(
            &f.app,
            Method::POST,
            "/platform/v1/sessions",
            Some(json!({ "id_token": sub_only, "access_token": "made-up" })),
            None,
        )
        .await;
        assert_eq!(status, 401);
    }

    #[tokio::test]
    async fn an_invited_agent_gets_a_session_and_the_identity_is_linked() {
        let f = fixture(
            json!([{"login_email": "Ana@Example.com", "name": "Ana"}]),
            "google",
        );
        let (status, body) = session(&f, token(&f.google, "ana@example.com", "111")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["agent"]["login_email"], "Ana@Example.com");
        let id = body["session"]["id"].as_str().unwrap().to_owned();
        let (status, me) = call(&f.app, Method::GET, "/platform/v1/me", None, Some(&id)).await;
        assert_eq!((status, me["agent"]["name"].as_str()), (200, Some("Ana")));
        let (_, agents) = call(&f.app, Method::GET, "/control/agents", None, None).await;
        assert_eq!(agents[0]["subject"], "111");

        // The same identity with another email: the platform refuses.
        let (status, body) = session(&f, token(&f.google, "ana.ruiz@example.com", "111")).await;
        assert_eq!(status, 403);
        assert_eq!(body["error"]["code"], "email_mismatch");
        assert_eq!(body["login_email"], "Ana@Example.com");

        let (_, r) = call(
            &f.app,
            Method::POST,
            "/control/revoke-sessions",
            Some(json!({"login_email": "ana@example.com"})),
            None,
        )
        .await;
        assert_eq!(r["revoked"], 1);
        let (status, me) = call(&f.app, Method::GET, "/platform/v1/me", None, Some(&id)).await;
        assert_eq!(
            (status, me["error"]["code"].as_str()),
            (401, Some("session_revoked"))
        );
    }

    #[tokio::test]
    async fn strangers_other_methods_and_forged_tokens_are_refused() {
        let f = fixture(
            json!([{"login_email": "ana@example.com", "name": "Ana"}, {"login_email": "boss@example.com", "name": "Boss", "privileged": true}]),
            "password",
        );
        let (status, body) = session(&f, token(&f.google, "bo@example.com", "2")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("user_not_invited"))
        );
        let (status, body) = session(&f, token(&f.google, "ana@example.com", "3")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("method_not_allowed"))
        );
        assert_eq!(body["method"], "password");
        let (status, _) = session(&f, token(&f.google, "boss@example.com", "4")).await;
        assert_eq!(status, 200, "privileged users may use their provider");
        let forged = {
            let t = token(&f.google, "boss@example.com", "4");
            let (rest, _) = t.rsplit_once('.').unwrap();
            format!("{rest}.AAAA")
        };
        let (status, body) = session(&f, forged).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("invalid_token"))
        );
        let (status, _) = call(
            &f.app,
            Method::PUT,
            "/control/method",
            Some(json!({"method": "fax"})),
            None,
        )
        .await;
        assert_eq!(status, 400);
    }

    #[tokio::test]
    async fn a_microsoft_token_counts_as_microsoft_sign_in() {
        let f = fixture(
            json!([{"login_email": "li@contoso.com", "name": "Li"}]),
            "microsoft",
        );
        let (status, body) = session(&f, token(&f.microsoft, "li@contoso.com", "9")).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = session(&f, token(&f.google, "li@contoso.com", "9")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("method_not_allowed"))
        );
    }
}
