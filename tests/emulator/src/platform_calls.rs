//! The phone platform's call-out (docs/platform-api.md, "Calls the platform
//! places"): `POST /platform/v1/calls {"to"}` with the agent's session rings
//! the agent's own phone first; the test moves the call along with control
//! routes (under `/control/platform/calls/{id}/...`): the agent answers (the
//! callee's phone rings), the callee answers (established), the other party
//! hangs up. Every step is a `call.state` event on the agent's event stream.
//! `DELETE /platform/v1/calls/{id}` is the agent's hang-up.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};

use crate::platform::Platform;

/// A call the platform placed for an agent.
#[derive(Debug, Clone, Serialize)]
pub struct PlacedCall {
    pub id: String,
    pub to: String,
    /// `agent_ringing`, `callee_ringing`, `established` or `ended`.
    pub state: String,
    /// Why it ended (`ended` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The agent's login email (from the session).
    pub agent: String,
    /// The bearer credential the call was placed with (tests check it is
    /// the agent's platform session).
    pub session: String,
    /// The request's body, as sent.
    pub request: Value,
    /// Held by the agent (`POST .../hold`, `.../resume`).
    pub held: bool,
    /// The agent's microphone muted (`.../mute`, `.../unmute`).
    pub muted: bool,
    /// Every DTMF digit the agent sent, in order (`.../dtmf {"digits"}`).
    pub dtmf: String,
    /// Where the agent transferred the call (`.../transfer {"to"}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transferred_to: Option<String>,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

fn is_e164(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (3..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

impl Platform {
    fn with_calls<T>(&self, f: impl FnOnce(&mut Vec<PlacedCall>) -> T) -> T {
        f(&mut self.calls.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Moves a call to `state` and tells its agent; None for an unknown or
    /// ended call.
    fn advance(&self, id: &str, state: &str, reason: Option<&str>) -> Option<PlacedCall> {
        let call = self.with_calls(|calls| {
            let c = calls
                .iter_mut()
                .find(|c| c.id == id && c.state != "ended")?;
            c.state = state.to_owned();
            c.reason = reason.map(str::to_owned);
            Some(c.clone())
        })?;
        self.emit(Some(&call.agent), event(&call));
        Some(call)
    }
}

fn event(c: &PlacedCall) -> Value {
    let mut call = json!({ "id": c.id, "to": c.to, "state": c.state });
    if let Some(r) = &c.reason {
        call["reason"] = json!(r);
    }
    json!({ "type": "call.state", "call": call })
}

async fn place(State(p): State<Platform>, headers: HeaderMap, body: String) -> Response {
    let agent = match p.agent_of(&headers) {
        Ok(a) => a,
        Err(refusal) => return refusal,
    };
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let to = request["to"].as_str().unwrap_or_default().to_owned();
    if !is_e164(&to) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_number",
            "`to` must be an E.164 number such as +33123456789.",
        );
    }
    let session = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let placed = p.with_calls(|calls| {
        if calls
            .iter()
            .any(|c| c.agent.eq_ignore_ascii_case(&agent) && c.state != "ended")
        {
            return None;
        }
        let call = PlacedCall {
            id: format!("call-{}", calls.len() + 1),
            to,
            state: "agent_ringing".into(),
            reason: None,
            agent: agent.clone(),
            session,
            request,
            held: false,
            muted: false,
            dtmf: String::new(),
            transferred_to: None,
        };
        calls.push(call.clone());
        Some(call)
    });
    let Some(call) = placed else {
        return error(
            StatusCode::CONFLICT,
            "agent_busy",
            "You are already on a call.",
        );
    };
    p.emit(Some(&agent), event(&call));
    (
        StatusCode::CREATED,
        Json(json!({ "call": { "id": call.id, "to": call.to, "state": call.state } })),
    )
        .into_response()
}

async fn hang_up(
    State(p): State<Platform>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let agent = match p.agent_of(&headers) {
        Ok(a) => a,
        Err(refusal) => return refusal,
    };
    let theirs = p.with_calls(|calls| {
        calls
            .iter()
            .any(|c| c.id == id && c.agent.eq_ignore_ascii_case(&agent) && c.state != "ended")
    });
    if !theirs {
        return error(
            StatusCode::NOT_FOUND,
            "call_not_found",
            "No call of yours in progress has this id.",
        );
    }
    p.advance(&id, "ended", Some("hung up by the agent"));
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /platform/v1/calls/{id}/{action}`: the agent's controls of a call
/// of theirs that is established: hold, resume, mute, unmute, dtmf
/// `{"digits"}` (0-9 * # A-D, at most 32), transfer `{"to"}` (E.164; the call
/// ends for the agent), hangup. Each is a `call.control` event on the
/// agent's stream.
async fn control(
    State(p): State<Platform>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: String,
) -> Response {
    let agent = match p.agent_of(&headers) {
        Ok(a) => a,
        Err(refusal) => return refusal,
    };
    let request: Value = serde_json::from_str(&body).unwrap_or(json!({}));
    let digits = request["digits"].as_str().unwrap_or_default().to_owned();
    let to = request["to"].as_str().unwrap_or_default().to_owned();
    let bad = |m: &str| error(StatusCode::BAD_REQUEST, "invalid_request", m);
    match action.as_str() {
        "hold" | "resume" | "mute" | "unmute" | "hangup" => {}
        "dtmf"
            if !digits.is_empty()
                && digits.len() <= 32
                && digits
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')) => {}
        "dtmf" => return bad("`digits` must be 1 to 32 of 0-9 * # A-D."),
        "transfer" if is_e164(&to) => {}
        "transfer" => return bad("`to` must be an E.164 number such as +33123456789."),
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "unknown_action",
                "No such call action.",
            );
        }
    }
    if action == "hangup" {
        return hang_up(State(p), headers, Path(id)).await;
    }
    let done = p.with_calls(|calls| {
        let c = calls.iter_mut().find(|c| {
            c.id == id && c.agent.eq_ignore_ascii_case(&agent) && c.state == "established"
        })?;
        match action.as_str() {
            "hold" => c.held = true,
            "resume" => c.held = false,
            "mute" => c.muted = true,
            "unmute" => c.muted = false,
            "dtmf" => c.dtmf.push_str(&digits),
            _ => c.transferred_to = Some(to.clone()),
        }
        Some(c.clone())
    });
    let Some(call) = done else {
        return error(
            StatusCode::NOT_FOUND,
            "call_not_found",
            "No established call of yours has this id.",
        );
    };
    let mut ev = json!({ "id": call.id, "action": action, "held": call.held, "muted": call.muted });
    if action == "dtmf" {
        ev["digits"] = json!(digits);
    }
    p.emit(Some(&agent), json!({ "type": "call.control", "call": ev }));
    if action == "transfer" {
        p.advance(&id, "ended", Some("transferred"));
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Public routes (merged into `platform::routes`).
pub fn routes() -> Router<Platform> {
    Router::new()
        .route("/platform/v1/calls", post(place))
        .route("/platform/v1/calls/{id}", delete(hang_up))
        .route("/platform/v1/calls/{id}/{action}", post(control))
}

fn step(
    state: &'static str,
    reason: Option<&'static str>,
) -> axum::routing::MethodRouter<Platform> {
    post(
        move |State(p): State<Platform>, Path(id): Path<String>| async move {
            match p.advance(&id, state, reason) {
                Some(c) => Json(json!(c)).into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        },
    )
}

/// Control routes (merged into `platform::control_routes`): the calls, and
/// the steps a test plays for the agent's phone and the callee.
pub fn control_routes() -> Router<Platform> {
    Router::new()
        .route(
            "/calls",
            get(|State(p): State<Platform>| async move { Json(p.with_calls(|c| c.clone())) }),
        )
        .route("/calls/{id}/agent-answers", step("callee_ringing", None))
        .route("/calls/{id}/callee-answers", step("established", None))
        .route(
            "/calls/{id}/remote-hangup",
            step("ended", Some("the other party hung up")),
        )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Method, Request};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::oidc::Provider;

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
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let body = body.map_or_else(Body::empty, |v| Body::from(v.to_string()));
        let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    #[tokio::test]
    async fn a_call_is_placed_with_the_session_moved_along_and_hung_up() {
        let google = Provider::default();
        let p = Platform::new(google.clone(), Provider::microsoft());
        let app = crate::platform::routes().with_state(p.clone()).nest(
            "/control",
            crate::platform::control_routes().with_state(p.clone()),
        );
        call(
            &app,
            Method::PUT,
            "/control/agents",
            Some(json!([{"login_email": "ana@example.com", "name": "Ana"}])),
            None,
        )
        .await;
        let exp = crate::oidc::now() + 600;
        let token =
            google.sign(&json!({"iss": "x", "sub": "1", "email": "ana@example.com", "exp": exp}));
        let (_, s) = call(
            &app,
            Method::POST,
            "/platform/v1/sessions",
            Some(json!({"id_token": token})),
            None,
        )
        .await;
        let session = s["session"]["id"].as_str().unwrap().to_owned();
        let mut events = p.events_for_tests();

        let body = Some(json!({"to": "+33123456789"}));
        assert_eq!(
            call(&app, Method::POST, "/platform/v1/calls", body.clone(), None)
                .await
                .0,
            401
        );
        assert_eq!(
            call(
                &app,
                Method::POST,
                "/platform/v1/calls",
                Some(json!({"to": "0123"})),
                Some(&session)
            )
            .await
            .0,
            400
        );
        let (status, placed) = call(
            &app,
            Method::POST,
            "/platform/v1/calls",
            body.clone(),
            Some(&session),
        )
        .await;
        assert_eq!(status, 201, "{placed}");
        let id = placed["call"]["id"].as_str().unwrap().to_owned();
        assert_eq!(
            call(
                &app,
                Method::POST,
                "/platform/v1/calls",
                body,
                Some(&session)
            )
            .await
            .0,
            409
        );
        for (route, state) in [
            ("agent-answers", "callee_ringing"),
            ("callee-answers", "established"),
        ] {
            let (status, c) = call(
                &app,
                Method::POST,
                &format!("/control/calls/{id}/{route}"),
                None,
                None,
            )
            .await;
            assert_eq!((status, c["state"].as_str()), (200, Some(state)));
        }
        // The agent's controls of the established call.
        let control = |action: &str, body: Option<Value>, bearer: Option<&str>| {
            let uri = format!("/platform/v1/calls/{id}/{action}");
            let app = app.clone();
            let bearer = bearer.map(str::to_owned);
            async move {
                call(&app, Method::POST, &uri, body, bearer.as_deref())
                    .await
                    .0
            }
        };
        assert_eq!(control("hold", None, None).await, 401);
        assert_eq!(control("park", None, Some(&session)).await, 404);
        assert_eq!(control("hold", None, Some(&session)).await, 204);
        assert_eq!(control("mute", None, Some(&session)).await, 204);
        assert_eq!(
            control("dtmf", Some(json!({"digits": "1;x"})), Some(&session)).await,
            400
        );
        assert_eq!(
            control("dtmf", Some(json!({"digits": "227"})), Some(&session)).await,
            204
        );
        assert_eq!(control("resume", None, Some(&session)).await, 204);
        let (_, calls) = call(&app, Method::GET, "/control/calls", None, None).await;
        assert_eq!(
            (&calls[0]["held"], &calls[0]["muted"], &calls[0]["dtmf"]),
            (&json!(false), &json!(true), &json!("227"))
        );
        assert_eq!(
            call(
                &app,
                Method::DELETE,
                &format!("/platform/v1/calls/{id}"),
                None,
                Some("forged")
            )
            .await
            .0,
            401
        );
        assert_eq!(
            call(
                &app,
                Method::DELETE,
                &format!("/platform/v1/calls/{id}"),
                None,
                Some(&session)
            )
            .await
            .0,
            204
        );
        assert_eq!(
            call(
                &app,
                Method::DELETE,
                &format!("/platform/v1/calls/{id}"),
                None,
                Some(&session)
            )
            .await
            .0,
            404
        );
        let (_, calls) = call(&app, Method::GET, "/control/calls", None, None).await;
        assert_eq!(calls[0]["session"], session.as_str());
        assert_eq!(calls[0]["state"], "ended");
        let mut states = vec![];
        let mut controls = vec![];
        while let Ok((to, e)) = events.try_recv() {
            assert_eq!(to.as_deref(), Some("ana@example.com"));
            if e["type"] == "call.control" {
                controls.push(e["call"]["action"].as_str().unwrap().to_owned());
                continue;
            }
            states.push(e["call"]["state"].as_str().unwrap().to_owned());
        }
        assert_eq!(controls, ["hold", "mute", "dtmf", "resume"]);
        assert_eq!(
            states,
            ["agent_ringing", "callee_ringing", "established", "ended"]
        );
    }
}
