//! The platform's own sign-in as the extension meets it: the password grant
//! (good, wrong with the attempts left, the lockout, the method), the SSO
//! broker's one-time code (PKCE, redirect URI, single use), and sign-out.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::super::{control_routes, routes};
use super::*;
use crate::oidc::Provider;

const REDIRECT: &str = "https://fempdkhheodefkjhkbekalfieneojckb.chromiumapp.org/";

fn app(method: &str) -> Router {
    let p = Platform::new(Provider::default(), Provider::microsoft());
    {
        let mut inner = p.lock();
        inner.agents = serde_json::from_value(json!([
            {"login_email": "ana@example.com", "name": "Ana", "password": "ana-pass"},
            {"login_email": "boss@example.com", "name": "Boss", "privileged": true, "password": "boss-pass"},
        ]))
        .unwrap();
        inner.method = method.into();
        inner.auth.max_failures = 3;
    }
    routes()
        .with_state(p.clone())
        .nest("/control", control_routes().with_state(p))
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (u16, Value, Option<String>) {
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
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        location,
    )
}

async fn password(app: &Router, email: &str, pw: &str) -> (u16, Value) {
    let body = json!({"grant_type": "password", "login_email": email, "password": pw});
    let (s, v, _) = call(app, Method::POST, "/platform/v1/sessions", Some(body), None).await;
    (s, v)
}

#[tokio::test]
async fn a_good_password_opens_a_session_that_sign_out_deletes() {
    let app = app("password");
    let (status, body) = password(&app, "Ana@Example.com", "ana-pass").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["agent"]["login_email"], "ana@example.com");
    let id = body["session"]["id"].as_str().unwrap().to_owned();
    let (s, _, _) = call(&app, Method::GET, "/platform/v1/me", None, Some(&id)).await;
    assert_eq!(s, 200);
    let (s, _, _) = call(
        &app,
        Method::DELETE,
        "/platform/v1/sessions/current",
        None,
        Some(&id),
    )
    .await;
    assert_eq!(s, 204);
    let (s, _, _) = call(&app, Method::GET, "/platform/v1/me", None, Some(&id)).await;
    assert_eq!(s, 401, "the deleted session is gone");
}

#[tokio::test]
async fn wrong_passwords_count_down_then_lock_out_even_the_right_one() {
    let app = app("password");
    let (s, b) = password(&app, "ana@example.com", "nope").await;
    assert_eq!((s, b["remaining_attempts"].as_u64()), (401, Some(2)));
    assert_eq!(b["error"]["code"], "invalid_credentials");
    let (_, b) = password(&app, "ana@example.com", "nope").await;
    assert_eq!(b["remaining_attempts"], 1);
    let (s, b) = password(&app, "ana@example.com", "nope").await;
    assert_eq!((s, b["error"]["code"].as_str()), (423, Some("locked_out")));
    assert_eq!(b["retry_after"], DEFAULT_LOCKOUT_SECONDS);
    let (s, _) = password(&app, "ana@example.com", "ana-pass").await;
    assert_eq!(s, 423, "locked out, even with the right password");
    // An unknown email reads like a wrong password.
    let (s, b) = password(&app, "who@example.com", "x").await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
}

#[tokio::test]
async fn under_another_method_only_privileged_agents_use_a_password() {
    let app = app("google");
    let (s, b) = password(&app, "ana@example.com", "ana-pass").await;
    assert_eq!((s, b["method"].as_str()), (403, Some("google")));
    assert_eq!(b["error"]["code"], "method_not_allowed");
    let (s, _) = password(&app, "boss@example.com", "boss-pass").await;
    assert_eq!(s, 200);
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The broker's page, then Continue as `email`: the redirect's code.
async fn sso_code(app: &Router, verifier: &str, email: &str) -> String {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "st")
        .append_pair("code_challenge", &challenge(verifier))
        .append_pair("code_challenge_method", "S256")
        .finish();
    let req = Request::builder()
        .uri(format!("/platform/sso/start?{q}"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "st")
        .append_pair("code_challenge", &challenge(verifier))
        .append_pair("account", email)
        .finish();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/platform/sso/finish")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(to.starts_with(REDIRECT) && to.contains("state=st"), "{to}");
    to.split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_sso_code_is_single_use_and_bound_to_the_verifier_and_redirect() {
    let app = app("sso");
    let v = "v".repeat(43);
    let exchange = |code: String, verifier: String, redirect: &'static str| {
        let app = app.clone();
        async move {
            let body = json!({"grant_type": "sso_code", "code": code, "code_verifier": verifier, "redirect_uri": redirect});
            call(
                &app,
                Method::POST,
                "/platform/v1/sessions",
                Some(body),
                None,
            )
            .await
        }
    };
    let code = sso_code(&app, &v, "ana@example.com").await;
    let (s, _, _) = exchange(code.clone(), "w".repeat(43), REDIRECT).await;
    assert_eq!(s, 400, "another verifier");
    let (s, _, _) = exchange(code, v.clone(), REDIRECT).await;
    assert_eq!(s, 400, "a refused attempt used the code up");
    let code = sso_code(&app, &v, "ana@example.com").await;
    let (s, _, _) = exchange(code.clone(), v.clone(), "https://other.chromiumapp.org/").await;
    assert_eq!(s, 400, "another redirect URI");
    let code = sso_code(&app, &v, "ana@example.com").await;
    let (s, b, _) = exchange(code.clone(), v.clone(), REDIRECT).await;
    assert_eq!(
        (s, b["agent"]["login_email"].as_str()),
        (200, Some("ana@example.com"))
    );
    let (s, _, _) = exchange(code, v, REDIRECT).await;
    assert_eq!(s, 400, "used once");
}

#[tokio::test]
async fn sso_not_set_up_redirects_back_with_the_reason() {
    let app = app("sso");
    let (s, _, _) = call(
        &app,
        Method::PUT,
        "/control/auth",
        Some(json!({"sso_configured": false})),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "st")
        .append_pair("code_challenge", &challenge(&"v".repeat(43)))
        .append_pair("code_challenge_method", "S256")
        .finish();
    let (s, _, to) = call(
        &app,
        Method::GET,
        &format!("/platform/sso/start?{q}"),
        None,
        None,
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(
        to.as_deref(),
        Some(format!("{REDIRECT}?error=sso_not_configured&state=st").as_str())
    );
    // A redirect URI the platform did not register gets no redirect at all.
    let bad = q.replace("chromiumapp.org", "evil.example");
    let (s, _, to) = call(
        &app,
        Method::GET,
        &format!("/platform/sso/start?{bad}"),
        None,
        None,
    )
    .await;
    assert_eq!((s, to), (400, None));
}
