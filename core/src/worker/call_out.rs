//! Calls the phone platform places (the `platform` dialer, no native host
//! needed): the request, what its answer means, the platform's call events
//! (on `GET /v1/events`) as the call desk's events, and the hang-up.
//!
//! `POST {platformUrl}/v1/calls {"to": "+33123456789"}` with the agent's
//! platform session; the platform rings the agent's own phone first, then
//! the callee. Its events say `agent_ringing`, `callee_ringing`,
//! `established` and `ended`; the desk follows the last three (while the
//! agent's phone rings the desk says "Dialing", with "Your phone system calls
//! you first"). Hang up is `DELETE {platformUrl}/v1/calls/{id}`.
//! docs/platform-api.md documents the API.

use serde_json::{Value, json};

use crate::dial::{CallEvent, DialError, DialRisk};
use crate::dialers::{self, CallPath};
use crate::protocol::{DialerConfig, ErrorBody};

/// The longest call id the platform may give (letters, digits, `-`, `_`).
const MAX_CALL_ID: usize = 64;

/// Every `_locales` key this module hands out.
pub const MESSAGE_KEYS: &[&str] = &[
    "errPlatformUnreachable",
    "errPlatformSession",
    "errPlatformRefused",
    "errInvalidNumber",
    "errCallInProgress",
    "errNeedsPlatformSession",
    "errDialerNotConfigured",
    "errHostMissing",
    "callNeedsConfirmation",
];

/// Why the platform did not place (or end) a call: a `_locales` key and the
/// platform's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub key: &'static str,
    pub detail: String,
}

/// Why a dial did not go through, whichever dialer: a `_locales` key, the
/// detail, and the risk when it waits for the agent's confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialFailure {
    pub key: &'static str,
    pub detail: String,
    pub risk: Option<DialRisk>,
}

impl DialFailure {
    /// The host's refusal of a dial.
    pub fn of_host(e: &ErrorBody) -> DialFailure {
        DialFailure {
            key: crate::calls::error_key(e),
            detail: e.message.clone(),
            risk: DialRisk::of_error(e),
        }
    }

    pub fn refused(key: &'static str, detail: impl Into<String>) -> DialFailure {
        DialFailure {
            key,
            detail: detail.into(),
            risk: None,
        }
    }
}

impl From<Refusal> for DialFailure {
    fn from(r: Refusal) -> DialFailure {
        DialFailure::refused(r.key, r.detail)
    }
}

/// What the worker does for a dial that needs no host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hostless {
    /// Open `url` in a new tab (the browser hands a `tel:` or app URL to its
    /// handler and closes the tab; a web page stays open); then tell the
    /// desk [`crate::calls::CallDesk::handed_off`] with `key` and `sub`.
    Open {
        url: String,
        key: &'static str,
        sub: String,
    },
    /// `POST url` with `body` and the platform session ([`placed`]).
    Platform { url: String, body: Value },
}

/// The hostless dial for a number (E.164 from the worker's detection or the
/// dial pad; a SIP address cannot go this way) on `path`. `risk` is what
/// [`crate::dial::dial_risk_with`] found: an unconfirmed risky dial is held.
pub fn hostless(
    path: &CallPath,
    dialer: Option<&DialerConfig>,
    platform_url: Option<&str>,
    target: (Option<&str>, Option<&str>),
    display: &str,
    risk: Option<DialRisk>,
    confirmed: bool,
) -> Result<Hostless, DialFailure> {
    let (number, extension) = target;
    if let Some(risk) = risk.filter(|_| !confirmed) {
        return Err(DialFailure {
            key: "callNeedsConfirmation",
            detail: "this number needs the agent's confirmation in Ringside before it is dialled"
                .to_owned(),
            risk: Some(risk),
        });
    }
    let bad = |e: DialError| DialFailure::refused("errInvalidNumber", e.to_string());
    let number = number.ok_or_else(|| {
        DialFailure::refused(
            "errInvalidNumber",
            "a SIP address needs the SIP softphone (through the Ringside host)",
        )
    })?;
    match path {
        CallPath::BrowserTel => {
            // The same digits-only check as a template's.
            let url = dialers::fill("tel:{e164}", number, extension).map_err(bad)?;
            let url = url.replacen("%2B", "+", 1);
            let url = match extension.filter(|x| !x.is_empty()) {
                Some(x) => format!("{url};ext={x}"),
                None => url,
            };
            Ok(Hostless::Open {
                url,
                key: "callOpenedPhoneApp",
                sub: display.to_owned(),
            })
        }
        CallPath::Url { template } => Ok(Hostless::Open {
            url: dialers::fill(template, number, extension).map_err(bad)?,
            key: "callOpened",
            sub: dialer.map(dialers::app_label).unwrap_or_default(),
        }),
        CallPath::Platform => {
            let base = platform_url.ok_or_else(|| {
                DialFailure::refused("errDialerNotConfigured", "no platformUrl is set")
            })?;
            let (url, body) = place(base, number, extension).map_err(bad)?;
            Ok(Hostless::Platform { url, body })
        }
        CallPath::Host | CallPath::HostMissing => Err(DialFailure::refused(
            "errHostMissing",
            "the native host is not connected",
        )),
    }
}

fn call_id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_CALL_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The request that places a call: its URL and JSON body. The number is the
/// worker's own E.164 (from its detection or the dial pad), checked again
/// here; an extension (digits only) rides along for the platform to send.
pub fn place(
    base: &str,
    e164: &str,
    extension: Option<&str>,
) -> Result<(String, Value), DialError> {
    let digits = e164.strip_prefix('+').unwrap_or_default();
    if digits.len() < 3 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DialError::BadNumber(e164.chars().take(40).collect()));
    }
    let mut body = json!({ "to": e164 });
    if let Some(x) = extension.filter(|x| !x.is_empty()) {
        if x.len() > 10 || !x.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DialError::BadNumber(x.chars().take(40).collect()));
        }
        body["extension"] = json!(x);
    }
    Ok((format!("{}/v1/calls", base.trim_end_matches('/')), body))
}

fn platform_message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

/// The platform's answer to [`place`]: the call's id, or why not.
/// `status` None: no answer (network down, CORS refused).
pub fn placed(status: Option<u16>, body: &Value) -> Result<String, Refusal> {
    let refusal = |key, detail: String| Err(Refusal { key, detail });
    match status {
        Some(200..=299) => {
            let id = body["call"]["id"].as_str().unwrap_or_default();
            if call_id_ok(id) {
                Ok(id.to_owned())
            } else {
                refusal(
                    "errPlatformUnreachable",
                    "the platform's answer has no usable call id".to_owned(),
                )
            }
        }
        Some(401) => refusal("errPlatformSession", platform_message(body)),
        Some(400) => refusal("errInvalidNumber", platform_message(body)),
        Some(409) => refusal("errCallInProgress", platform_message(body)),
        Some(403) => refusal("errPlatformRefused", platform_message(body)),
        Some(s) => refusal("errPlatformUnreachable", format!("HTTP {s}")),
        None => refusal(
            "errPlatformUnreachable",
            "the phone platform did not answer".to_owned(),
        ),
    }
}

/// `DELETE {platformUrl}/v1/calls/{id}`; None for an id the platform could
/// not have given.
pub fn hangup_url(base: &str, call_id: &str) -> Option<String> {
    call_id_ok(call_id).then(|| format!("{}/v1/calls/{call_id}", base.trim_end_matches('/')))
}

/// The answer to a hang-up: `Ok(None)` when the platform ends the call (its
/// `ended` event follows on the stream), `Ok(Some(event))` when it no longer
/// knows the call (404, 410: the desk ends it with that event), or why not.
pub fn hung_up(
    status: Option<u16>,
    body: &Value,
    call_id: &str,
) -> Result<Option<CallEvent>, Refusal> {
    match status {
        Some(200..=299) => Ok(None),
        Some(404 | 410) => Ok(Some(CallEvent::Closed {
            call_id: call_id.to_owned(),
            peer: String::new(),
            reason: "the phone platform no longer knows this call".to_owned(),
        })),
        _ => placed(status, body).map(|_| None),
    }
}

/// `POST {platformUrl}/v1/calls/{id}/{action}` for a call control (hold,
/// resume, mute, unmute, dtmf `{"digits"}`, transfer `{"to"}`, hangup,
/// answer), checked as for the host; None for what the platform could not
/// take (a bad id, digits or target, a SIP address).
pub fn control_request(
    base: &str,
    p: &crate::protocol::CallControlParams,
) -> Option<(String, Value)> {
    use crate::protocol::CallAction as A;
    if !call_id_ok(&p.call_id) {
        return None;
    }
    let (action, body) = match p.action {
        A::Hold => ("hold", json!({})),
        A::Resume => ("resume", json!({})),
        A::Mute => ("mute", json!({})),
        A::Unmute => ("unmute", json!({})),
        A::Hangup => ("hangup", json!({})),
        A::Answer => ("answer", json!({})),
        A::Dtmf => (
            "dtmf",
            json!({ "digits": crate::call_control::dtmf_digits(p.digits.as_deref()?).ok()? }),
        ),
        A::Transfer => {
            let (_, body) = place(base, p.number.as_deref()?, None).ok()?;
            ("transfer", body)
        }
    };
    Some((
        format!(
            "{}/v1/calls/{}/{action}",
            base.trim_end_matches('/'),
            p.call_id
        ),
        body,
    ))
}

/// The platform's answer to a [`control_request`].
pub fn controlled(status: Option<u16>, body: &Value) -> Result<(), Refusal> {
    match status {
        Some(200..=299) => Ok(()),
        Some(404 | 410) => Err(Refusal {
            key: "errNoCall",
            detail: platform_message(body),
        }),
        _ => placed(status, body).map(|_| ()),
    }
}

/// A call event from the platform's event stream (`data` of one frame), as
/// the desk's event; None for other events, an agent's phone that rings (the
/// desk is already dialing), and anything malformed.
pub fn call_event(data: &str) -> Option<CallEvent> {
    let v: Value = serde_json::from_str(data).ok()?;
    if v["type"].as_str()? != "call.state" {
        return None;
    }
    let call = &v["call"];
    let call_id = call["id"].as_str().filter(|id| call_id_ok(id))?.to_owned();
    let peer: String = call["to"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(40)
        .collect();
    Some(match call["state"].as_str()? {
        "callee_ringing" => CallEvent::Ringing { call_id, peer },
        "established" => CallEvent::Established {
            call_id,
            peer,
            outgoing: true,
        },
        "ended" => CallEvent::Closed {
            call_id,
            peer,
            reason: call["reason"]
                .as_str()
                .unwrap_or("ended")
                .chars()
                .take(120)
                .collect(),
        },
        _ => return None,
    })
}

#[cfg(test)]
#[path = "call_out_tests.rs"]
mod tests;
