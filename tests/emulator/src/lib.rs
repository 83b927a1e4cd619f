//! The Ringside emulator: a loopback HTTP server standing in for what cannot
//! be reached from a test machine (Google, Microsoft, the phone platform), plus
//! test pages, with a control API for faults and latency (docs/emulator.md).
//!
//! Routes:
//! * `GET /healthz` — liveness.
//! * `GET /pages/{file}` — files from `--pages`; names containing `.strict.` are
//!   served with `Content-Security-Policy: script-src 'self'`.
//! * `POST /platform/v1/wrapups` — the phone platform's call wrap-up endpoint
//!   (docs/platform-api.md); CORS-enabled as a real platform API must be for
//!   the extension's service worker.
//! * `POST /platform/v1/sessions`, `GET /platform/v1/me` — agent sessions from
//!   an ID token ([`platform`]).
//! * `/googleapis/...` — Google's People, Gmail, Drive and Calendar APIs
//!   ([`google_apis`]), scopes checked against the provider's tokens.
//! * `/control/...` — see [`control_routes`]; never subject to faults or latency.
#![forbid(unsafe_code)]

pub mod google_apis;
pub mod graph_contacts;
pub mod oidc;
pub mod people_sync;
pub mod platform;
pub mod platform_calls;
#[cfg(test)]
mod test_support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_http::cors::CorsLayer;
use tower_http::services::ServeDir;

/// A fault to inject on requests whose path starts with `path_prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub path_prefix: String,
    /// HTTP status to answer with.
    pub status: u16,
    /// JSON body to answer with (defaults to `{"error": "injected"}`).
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// `Retry-After` header value in seconds, if any.
    #[serde(default)]
    pub retry_after: Option<u32>,
    /// How many requests it applies to; absent means until cleared.
    #[serde(default)]
    pub count: Option<u32>,
    /// `WWW-Authenticate` header value (a Bearer challenge), if any.
    #[serde(default)]
    pub www_authenticate: Option<String>,
    /// Matching requests to let through before the fault applies (a 429
    /// in the middle of a paged sync, for example).
    #[serde(default)]
    pub after: Option<u32>,
}

/// Latency added to requests whose path starts with `path_prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    pub path_prefix: String,
    pub ms: u64,
}

/// One request seen (control requests excluded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub at_ms: u128,
}

#[derive(Debug, Default)]
struct Inner {
    faults: Vec<Fault>,
    latency: Vec<Latency>,
    requests: Vec<Seen>,
    wrapups: Vec<serde_json::Value>,
}

/// Shared emulator state.
#[derive(Debug, Clone, Default)]
pub struct Emulator {
    inner: Arc<Mutex<Inner>>,
}

impl Emulator {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a handler panicked mid-update; the data is
        // still usable for a test server.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Emulator options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Directory served under `/pages/`.
    pub pages: Option<PathBuf>,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// Builds the router.
pub fn app(options: Options) -> Router {
    app_with(
        options,
        oidc::Provider::default(),
        oidc::Provider::microsoft(),
    )
}

/// The router with these providers (tests sign ID tokens with them).
fn app_with(options: Options, provider: oidc::Provider, microsoft: oidc::Provider) -> Router {
    let emu = Emulator::default();
    let phone = platform::Platform::new(provider.clone(), microsoft.clone());
    let platform = Router::new()
        .route("/platform/v1/wrapups", post(post_wrapup))
        .with_state(WrapupState {
            emu: emu.clone(),
            platform: phone.clone(),
        })
        .layer(CorsLayer::permissive());
    let apis = google_apis::Apis::new(provider.clone());
    let graph = graph_contacts::Graph::new(microsoft.clone());
    let mut public = Router::new()
        .route("/healthz", get(healthz))
        .merge(platform)
        .merge(
            platform::routes()
                .with_state(phone.clone())
                .layer(CorsLayer::permissive()),
        )
        // Discovery, token, JWKS and revocation answer CORS, as Google's and
        // Microsoft's do for browser (public) clients.
        .merge(
            oidc::routes()
                .with_state(provider.clone())
                .layer(CorsLayer::permissive()),
        )
        .merge(
            oidc::microsoft_routes()
                .with_state(microsoft.clone())
                .layer(CorsLayer::permissive()),
        )
        // So does Microsoft Graph.
        .merge(
            graph_contacts::routes()
                .with_state(graph.clone())
                .layer(CorsLayer::permissive()),
        )
        // Google's APIs answer CORS for browser clients too.
        .merge(
            google_apis::routes()
                .with_state(apis.clone())
                .layer(CorsLayer::permissive()),
        );
    let pages = options.pages.clone();
    if let Some(dir) = options.pages {
        public = public.nest_service("/pages", ServeDir::new(dir));
    }
    let public = public
        .layer(middleware::from_fn(move |req, next| {
            strict_csp(pages.clone(), req, next)
        }))
        .layer(middleware::from_fn_with_state(emu.clone(), faults_and_log));
    Router::new()
        .merge(public)
        .nest("/control", control_routes())
        .nest("/control/oidc", oidc::control_routes().with_state(provider))
        .nest(
            "/control/platform",
            platform::control_routes().with_state(phone),
        )
        .nest(
            "/control/google",
            google_apis::control_routes().with_state(apis),
        )
        .nest(
            "/control/graph",
            graph_contacts::control_routes().with_state(graph),
        )
        .nest(
            "/control/oidc-microsoft",
            oidc::control_routes().with_state(microsoft),
        )
        .with_state(emu)
}

/// The control API (docs/emulator.md).
pub fn control_routes() -> Router<Emulator> {
    Router::new()
        .route("/reset", post(reset))
        .route("/faults", put(set_faults).get(get_faults))
        .route("/latency", put(set_latency).get(get_latency))
        .route("/requests", get(get_requests).delete(clear_requests))
        .route("/wrapups", get(get_wrapups))
}

/// What the wrap-up endpoint needs: where wrap-ups are recorded, and the
/// platform's sessions.
#[derive(Clone)]
struct WrapupState {
    emu: Emulator,
    platform: platform::Platform,
}

/// The platform's wrap-up endpoint: a call with tags and a note, with the
/// agent's platform session as the bearer credential. Without a valid
/// session: 401. Each wrap-up is recorded with the session's agent
/// (`"agent": <login email>`), never with anything the body says.
async fn post_wrapup(
    State(WrapupState { emu, platform }): State<WrapupState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let agent = match platform.agent_of(&headers) {
        Ok(a) => a,
        Err(refusal) => return refusal,
    };
    let bad = |msg: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": {"code": "invalid_wrapup", "message": msg}})),
        )
            .into_response()
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return bad("the body is not JSON");
    };
    let call_id = v
        .pointer("/call/id")
        .and_then(|x| x.as_str())
        .map(str::to_owned);
    let tags_ok = v
        .get("tags")
        .and_then(|t| t.as_array())
        .is_some_and(|t| t.iter().all(|x| x.is_string()));
    let note_ok = v.get("note").is_some_and(|n| n.is_string());
    let (Some(call_id), true, true) = (call_id, tags_ok, note_ok) else {
        return bad("expected {call: {id, ...}, tags: [string], note: string}");
    };
    let mut v = v;
    if let Some(o) = v.as_object_mut() {
        o.insert("agent".into(), serde_json::Value::String(agent));
    }
    emu.lock().wrapups.push(v);
    (
        StatusCode::CREATED,
        Json(serde_json::json!({"id": call_id, "status": "saved"})),
    )
        .into_response()
}

async fn get_wrapups(State(emu): State<Emulator>) -> Json<Vec<serde_json::Value>> {
    Json(emu.lock().wrapups.clone())
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

async fn reset(State(emu): State<Emulator>) -> StatusCode {
    *emu.lock() = Inner::default();
    StatusCode::NO_CONTENT
}

async fn set_faults(State(emu): State<Emulator>, Json(faults): Json<Vec<Fault>>) -> StatusCode {
    emu.lock().faults = faults;
    StatusCode::NO_CONTENT
}

async fn get_faults(State(emu): State<Emulator>) -> Json<Vec<Fault>> {
    Json(emu.lock().faults.clone())
}

async fn set_latency(State(emu): State<Emulator>, Json(l): Json<Vec<Latency>>) -> StatusCode {
    emu.lock().latency = l;
    StatusCode::NO_CONTENT
}

async fn get_latency(State(emu): State<Emulator>) -> Json<Vec<Latency>> {
    Json(emu.lock().latency.clone())
}

async fn get_requests(State(emu): State<Emulator>) -> Json<Vec<Seen>> {
    Json(emu.lock().requests.clone())
}

async fn clear_requests(State(emu): State<Emulator>) -> StatusCode {
    emu.lock().requests.clear();
    StatusCode::NO_CONTENT
}

/// Applies latency and faults, and records every non-control request.
async fn faults_and_log(State(emu): State<Emulator>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let method = req.method().to_string();
    let (delay, fault) = {
        let mut inner = emu.lock();
        // CORS preflights are answered at once and never faulted: latency and
        // faults stand for the API calls, not the browser's check before them.
        let preflight = method == "OPTIONS";
        let delay: u64 = inner
            .latency
            .iter()
            .filter(|l| !preflight && path.starts_with(&l.path_prefix))
            .map(|l| l.ms)
            .max()
            .unwrap_or(0);
        let mut fault = None;
        if let Some(i) = inner
            .faults
            .iter()
            .position(|f| path.starts_with(&f.path_prefix))
            .filter(|_| !preflight)
        {
            let f = &mut inner.faults[i];
            if let Some(n) = f.after.filter(|n| *n > 0) {
                f.after = Some(n - 1);
            } else {
                fault = Some(f.clone());
                match f.count {
                    Some(1) => {
                        inner.faults.remove(i);
                    }
                    Some(n) => f.count = Some(n - 1),
                    None => {}
                }
            }
        }
        (delay, fault)
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let response = match fault {
        Some(f) => {
            let status =
                StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = f
                .body
                .unwrap_or_else(|| serde_json::json!({"error": "injected"}));
            let mut r = (status, Json(body)).into_response();
            if let Some(s) = f.retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            if let Some(v) = f
                .www_authenticate
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            r
        }
        None => next.run(req).await,
    };
    emu.lock().requests.push(Seen {
        method,
        path,
        status: response.status().as_u16(),
        at_ms: now_ms(),
    });
    response
}

/// Pages named `*.strict.*` get the strict CSP real sites use.
async fn strict_csp(pages: Option<PathBuf>, mut req: Request, next: Next) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let strict = path.contains(".strict.");
    // `/pages/x.strict.html` without a file of its own is `x.html` served strictly,
    // so one test page serves both variants.
    if let (true, Some(dir), Some(name)) = (strict, pages, path.strip_prefix("/pages/"))
        && !dir.join(name).exists()
        && !name.contains("..")
    {
        let plain = path.replacen(".strict.", ".", 1);
        if let Ok(uri) = plain.parse() {
            *req.uri_mut() = uri;
        }
    }
    let mut res = next.run(req).await;
    if strict {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("script-src 'self'"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    //! The control API and the fault/latency layer, through the router.
    use super::*;
    use axum::http::Method;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn call(
        app: &Router,
        method: Method,
        uri: &str,
        body: Option<&str>,
    ) -> (u16, String, axum::http::HeaderMap) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.unwrap_or("").to_owned()))
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            String::from_utf8_lossy(&bytes).into_owned(),
            headers,
        )
    }

    fn pages_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.html"), "<p>a</p>").unwrap();
        std::fs::write(dir.path().join("a.strict.html"), "<p>strict</p>").unwrap();
        dir
    }

    #[tokio::test]
    async fn healthz_and_request_log() {
        let app = app(Options::default());
        let (s, body, _) = call(&app, Method::GET, "/healthz", None).await;
        assert_eq!(s, 200);
        assert!(body.contains("\"ok\""));
        let (_, log, _) = call(&app, Method::GET, "/control/requests", None).await;
        let log: Vec<Seen> = serde_json::from_str(&log).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].path, "/healthz");
    }

    #[tokio::test]
    async fn faults_apply_count_times_with_retry_after() {
        let app = app(Options::default());
        let (s, _, _) = call(
            &app,
            Method::PUT,
            "/control/faults",
            Some(r#"[{"path_prefix":"/healthz","status":429,"retry_after":2,"count":2}]"#),
        )
        .await;
        assert_eq!(s, 204);
        for _ in 0..2 {
            let (s, _, h) = call(&app, Method::GET, "/healthz", None).await;
            assert_eq!(s, 429);
            assert_eq!(h.get("retry-after").unwrap(), "2");
        }
        let (s, _, _) = call(&app, Method::GET, "/healthz", None).await;
        assert_eq!(s, 200);
        let (_, faults, _) = call(&app, Method::GET, "/control/faults", None).await;
        assert_eq!(faults, "[]");
    }

    #[tokio::test]
    async fn latency_is_added() {
        let app = app(Options::default());
        call(
            &app,
            Method::PUT,
            "/control/latency",
            Some(r#"[{"path_prefix":"/","ms":120}]"#),
        )
        .await;
        let start = std::time::Instant::now();
        call(&app, Method::GET, "/healthz", None).await;
        // Lower bound only: the delay must have been applied.
        assert!(start.elapsed() >= Duration::from_millis(120));
        // Control routes are never delayed or faulted, so a test can always undo.
        call(&app, Method::POST, "/control/reset", None).await;
        let (_, l, _) = call(&app, Method::GET, "/control/latency", None).await;
        assert_eq!(l, "[]");
    }

    #[tokio::test]
    async fn strict_pages_get_the_csp_header() {
        let dir = pages_dir();
        let app = app(Options {
            pages: Some(dir.path().to_owned()),
        });
        let (s, body, h) = call(&app, Method::GET, "/pages/a.strict.html", None).await;
        assert_eq!(s, 200);
        assert_eq!(body, "<p>strict</p>");
        assert_eq!(
            h.get("content-security-policy").unwrap(),
            "script-src 'self'"
        );
        let (_, _, h) = call(&app, Method::GET, "/pages/a.html", None).await;
        assert!(h.get("content-security-policy").is_none());
    }

    #[tokio::test]
    async fn a_strict_variant_without_its_own_file_serves_the_plain_page() {
        let dir = pages_dir();
        std::fs::write(dir.path().join("plain.html"), "<p>plain</p>").unwrap();
        let app = app(Options {
            pages: Some(dir.path().to_owned()),
        });
        let (status, body, headers) =
            call(&app, Method::GET, "/pages/plain.strict.html", None).await;
        assert_eq!(status, 200);
        assert_eq!(body, "<p>plain</p>");
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            "script-src 'self'"
        );
        let (status, _, headers) = call(&app, Method::GET, "/pages/plain.html", None).await;
        assert_eq!(status, 200);
        assert!(headers.get(header::CONTENT_SECURITY_POLICY).is_none());
    }

    /// A request with an `Authorization: Bearer` header.
    async fn call_as(
        app: &Router,
        uri: &str,
        body: &str,
        bearer: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(b) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
        }
        let res = app
            .clone()
            .oneshot(req.body(Body::from(body.to_owned())).unwrap())
            .await
            .unwrap();
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    /// A platform session for an invited agent, from a Google ID token.
    async fn session_for(app: &Router, google: &oidc::Provider, email: &str, sub: &str) -> String {
        let exp = oidc::now() + 600;
        let id_token =
            google.sign(&serde_json::json!({"iss": "x", "sub": sub, "email": email, "exp": exp}));
        let (status, body) = call_as(
            app,
            "/platform/v1/sessions",
            &serde_json::json!({ "id_token": id_token }).to_string(),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["session"]["id"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn wrapups_need_a_live_session_are_validated_and_listed_with_their_agent() {
        let google = oidc::Provider::default();
        let app = app_with(
            Options::default(),
            google.clone(),
            oidc::Provider::microsoft(),
        );
        let agents = r#"[{"login_email":"ana@example.com","name":"Ana"},{"login_email":"bo@example.com","name":"Bo"}]"#;
        let (s, _, _) = call(&app, Method::PUT, "/control/platform/agents", Some(agents)).await;
        assert_eq!(s, 204);
        let body = r#"{"call":{"id":"1-1"},"tags":["sale"],"note":"ok"}"#;

        // No credential, a made-up one: 401 with the platform's error body.
        let (status, e) = call_as(&app, "/platform/v1/wrapups", body, None).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (401, Some("session_required")),
            "{e}"
        );
        assert!(e["error"]["message"].as_str().unwrap().contains("Bearer"));
        let (status, e) = call_as(&app, "/platform/v1/wrapups", body, Some("forged")).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (401, Some("session_revoked"))
        );
        let (_, listed, _) = call(&app, Method::GET, "/control/wrapups", None).await;
        assert_eq!(listed, "[]", "nothing recorded without a session");

        let ana = session_for(&app, &google, "ana@example.com", "111").await;
        let bo = session_for(&app, &google, "bo@example.com", "222").await;
        let (status, _) = call_as(&app, "/platform/v1/wrapups", "{}", Some(&ana)).await;
        assert_eq!(status, 400);
        // The body cannot choose the agent: the session does.
        let claims_bo = r#"{"call":{"id":"1-2"},"tags":[],"note":"","agent":"bo@example.com"}"#;
        assert_eq!(
            call_as(&app, "/platform/v1/wrapups", body, Some(&ana))
                .await
                .0,
            201
        );
        assert_eq!(
            call_as(&app, "/platform/v1/wrapups", claims_bo, Some(&ana))
                .await
                .0,
            201
        );
        assert_eq!(
            call_as(&app, "/platform/v1/wrapups", body, Some(&bo))
                .await
                .0,
            201
        );
        let (_, listed, _) = call(&app, Method::GET, "/control/wrapups", None).await;
        let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
        let agents: Vec<&str> = listed
            .iter()
            .map(|w| w["agent"].as_str().unwrap())
            .collect();
        assert_eq!(
            agents,
            ["ana@example.com", "ana@example.com", "bo@example.com"]
        );
        assert_eq!(listed[0]["tags"][0], "sale");

        // A revoked session is refused again.
        call(
            &app,
            Method::POST,
            "/control/platform/revoke-sessions",
            Some(r#"{"login_email":"ana@example.com"}"#),
        )
        .await;
        let (status, e) = call_as(&app, "/platform/v1/wrapups", body, Some(&ana)).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (401, Some("session_revoked"))
        );
    }

    #[tokio::test]
    async fn bad_control_input_is_a_client_error() {
        let app = app(Options::default());
        let (s, _, _) = call(&app, Method::PUT, "/control/faults", Some("{nope")).await;
        assert!((400..500).contains(&s), "{s}");
    }
}
