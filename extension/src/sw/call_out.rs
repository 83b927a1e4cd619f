//! Calls without the native host, carried out: which path a dial takes is
//! `ringside_core::dialers::call_path`; what to open or send, the platform's
//! answers and its call events are `ringside_core::worker::call_out`.

use futures::future::LocalBoxFuture;
use ringside_core::dial::{self, DialRisk, SipSettings};
use ringside_core::dialers::{self, CallPath};
use ringside_core::protocol::{DialParams, Request};
use ringside_core::worker::call_out::{self, DialFailure, Hostless};
use serde_json::Value;

use super::kernel::{broadcast, now_ms, softphone_request, with_worker};
use super::{detect, session};
use crate::chrome;
use crate::error::{JsError, log_warn};

/// The path a dial takes now (settings and host state).
pub(super) fn path() -> CallPath {
    with_worker(|w| dialers::call_path(w.settings.dialer.as_ref(), w.link.is_connected()))
        .unwrap_or(CallPath::HostMissing)
}

/// Why a page's number needs the agent's word, from the detection module's
/// cost class (the host makes the same check for its own dialers).
async fn risk_of(number: &str, extension: Option<&str>) -> Option<DialRisk> {
    let cost = match detect::number_cost(number).await {
        Ok(c) => c,
        Err(e) => {
            log_warn(&format!("number cost: {e}"));
            ringside_core::phone::NumberCost::Unrecognised
        }
    };
    dial::dial_risk_with(
        Some(number),
        None,
        extension,
        &SipSettings::default(),
        |_| cost,
    )
}

/// Places a dial the desk is dialing on a path that needs no host: opens the
/// `tel:` or template URL, or asks the platform to call.
pub(super) async fn dial(
    path: &CallPath,
    params: &DialParams,
    display: &str,
) -> Result<(), DialFailure> {
    let risk = match params.number.as_deref() {
        Some(n) if !params.confirmed => risk_of(n, params.extension.as_deref()).await,
        _ => None,
    };
    let (dialer, platform) =
        with_worker(|w| (w.settings.dialer.clone(), w.settings.platform_url.clone()))
            .unwrap_or_default();
    let step = call_out::hostless(
        path,
        dialer.as_ref(),
        platform.as_deref(),
        (params.number.as_deref(), params.extension.as_deref()),
        display,
        risk,
        params.confirmed,
    )?;
    match step {
        Hostless::Open { url, key, sub } => {
            if let Err(e) = chrome::open_tab(&url).await {
                let failed = if key == "callOpened" {
                    "errUrlDialerFailed"
                } else {
                    "errTelHandlerFailed"
                };
                return Err(DialFailure::refused(failed, JsError::from(e).to_string()));
            }
            with_worker(|w| w.desk.handed_off(key, &sub));
        }
        Hostless::Platform { url, body } => {
            let Some(bearer) = session::platform_session_id() else {
                chrome::open_popup();
                return Err(DialFailure::refused(
                    "errNeedsPlatformSession",
                    "no platform session: sign in first",
                ));
            };
            let answer = chrome::http(&url, None, Some(&body), Some(&bearer))
                .await
                .ok();
            let json: Value = answer
                .as_ref()
                .and_then(|a| serde_json::from_str(&a.body).ok())
                .unwrap_or(Value::Null);
            let id = call_out::placed(answer.map(|a| a.status), &json)?;
            with_worker(|w| w.desk.placed(&id));
        }
    }
    Ok(())
}

/// A call control at the platform (`call_out::control_request`).
pub(super) async fn control(
    p: &ringside_core::protocol::CallControlParams,
) -> Result<(), DialFailure> {
    let base = with_worker(|w| w.settings.platform_url.clone())
        .flatten()
        .unwrap_or_default();
    let (url, body) = call_out::control_request(&base, p)
        .ok_or_else(|| DialFailure::refused("errInvalidNumber", "not for the phone platform"))?;
    let bearer = session::platform_session_id().unwrap_or_default();
    let answer = chrome::http(&url, None, Some(&body), Some(&bearer))
        .await
        .ok();
    let json: Value = answer
        .as_ref()
        .and_then(|a| serde_json::from_str(&a.body).ok())
        .unwrap_or(Value::Null);
    Ok(call_out::controlled(answer.map(|a| a.status), &json)?)
}

/// Hangs up the platform's call: `DELETE {platformUrl}/v1/calls/{id}`. Its
/// end comes on the event stream; a call the platform no longer knows ends
/// here.
pub(super) async fn hang_up() -> Result<(), DialFailure> {
    let (base, id) = with_worker(|w| {
        (
            w.settings.platform_url.clone(),
            w.desk.live.as_ref().and_then(|l| l.call_id.clone()),
        )
    })
    .unwrap_or_default();
    let (Some(base), Some(id)) = (base, id) else {
        return Err(DialFailure::refused(
            "errNoCall",
            "the platform has not placed the call yet",
        ));
    };
    let url = call_out::hangup_url(&base, &id)
        .ok_or_else(|| DialFailure::refused("errNoCall", "not a platform call id"))?;
    let bearer = session::platform_session_id().unwrap_or_default();
    let answer = chrome::http_method(Some("DELETE"), &url, None, None, Some(&bearer))
        .await
        .ok();
    let json: Value = answer
        .as_ref()
        .and_then(|a| serde_json::from_str(&a.body).ok())
        .unwrap_or(Value::Null);
    if let Some(gone) = call_out::hung_up(answer.map(|a| a.status), &json, &id)? {
        with_worker(|w| w.desk.on_event(&gone, now_ms()));
    }
    Ok(())
}

/// Answer or hang up through the host, or hang up at the phone platform;
/// failures become the desk's notice.
pub(super) async fn call_control(request: Request) {
    let result = match (&request, path()) {
        (Request::Hangup(_), CallPath::Platform) => Box::pin(hang_up()).await,
        _ => softphone_request(request)
            .await
            .map(|_| ())
            .map_err(|e| DialFailure::of_host(&e)),
    };
    if let Err(f) = result {
        with_worker(|w| w.desk.notify(f.key, &f.detail, ""));
    }
    broadcast();
}

/// Dials on the path the settings and the host's state give
/// (`ringside_core::dialers::call_path`): through the host (which is
/// configured first if it has not had the dialer yet), or without it.
/// Boxed: one state machine for its two callers (the worker's wasm size).
pub(super) fn send_dial(
    params: DialParams,
    display: String,
) -> LocalBoxFuture<'static, Result<(), DialFailure>> {
    Box::pin(async move {
        match path() {
            CallPath::Host => softphone_request(Request::Dial(params))
                .await
                .map(|_| ())
                .map_err(|e| DialFailure::of_host(&e)),
            path => dial(&path, &params, &display).await,
        }
    })
}
