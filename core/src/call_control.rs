//! `call.control` (hold, resume, mute, DTMF, transfer, hang-up, answer of
//! one call by its id): what is valid, and the baresip `ctrl_tcp` commands
//! each action becomes.
//!
//! baresip 1.0 acts on its "current call", which is the newest one; so every
//! action first makes the named call current (`callfind <id>`). Its `accept`
//! holds the established call itself before it answers (as an agent expects
//! of a second call), and `mute` toggles and says which way it went.

use crate::dial::{DialError, SipSettings, sip_uri_for, validate_sip_uri};
use serde::{Deserialize, Serialize};

/// What `call.control` does to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallAction {
    Hold,
    Resume,
    Mute,
    Unmute,
    /// Sends `digits` as DTMF.
    Dtmf,
    /// Blind transfer to `number` or `uri`.
    Transfer,
    Hangup,
    /// Answers the ringing incoming call `call_id`.
    Answer,
}

/// `call.control` parameters: an action on one call, named by the
/// softphone's own call id (from its events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallControlParams {
    pub call_id: String,
    pub action: CallAction,
    /// `dtmf`: 0-9, *, #, A-D; at most [`crate::dial::MAX_DTMF`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digits: Option<String>,
    /// `transfer`: an E.164 number ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// ... or a SIP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

impl CallControlParams {
    pub fn new(call_id: &str, action: CallAction) -> CallControlParams {
        CallControlParams {
            call_id: call_id.to_owned(),
            action,
            digits: None,
            number: None,
            uri: None,
        }
    }
}

/// The most DTMF digits one request carries.
pub const MAX_DTMF: usize = 32;

/// Checks DTMF digits: 0-9, `*`, `#`, A-D; 1 to [`MAX_DTMF`] of them.
/// Spaces, dashes and dots (as in `x 2-27`) are dropped.
pub fn dtmf_digits(raw: &str) -> Result<String, DialError> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if digits.is_empty()
        || digits.len() > MAX_DTMF
        || !digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'))
    {
        return Err(DialError::BadNumber(raw.chars().take(40).collect()));
    }
    Ok(digits)
}

/// Why a `call.control` request is refused before the softphone sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("`{0}` is not a call id")]
    BadCallId(String),
    #[error(transparent)]
    Target(#[from] DialError),
}

/// A softphone call id: 1 to 64 letters, digits, `-`, `_`, `.` (baresip's
/// are 16 hex digits). Anything else never reaches the softphone.
pub fn check_call_id(id: &str) -> Result<&str, ControlError> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ControlError::BadCallId(id.chars().take(40).collect()));
    }
    Ok(id)
}

/// One `ctrl_tcp` command: its name, its (string) parameter, and for `mute`
/// the state wanted (baresip toggles and answers `call muted` or `call
/// un-muted`; the host toggles again when it went the wrong way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaresipStep {
    pub command: &'static str,
    pub params: Option<String>,
    pub want_muted: Option<bool>,
}

fn step(command: &'static str, params: Option<String>) -> BaresipStep {
    BaresipStep {
        command,
        params,
        want_muted: None,
    }
}

/// Whether a `mute` answer says the call is now muted.
pub fn says_muted(data: &str) -> bool {
    let d = data.trim();
    d.ends_with("muted") && !d.ends_with("un-muted")
}

/// The commands that carry out a validated `call.control` on baresip.
pub fn baresip_steps(
    p: &CallControlParams,
    sip: &SipSettings,
) -> Result<Vec<BaresipStep>, ControlError> {
    let id = check_call_id(&p.call_id)?.to_owned();
    let last = match p.action {
        CallAction::Hold => step("hold", None),
        CallAction::Resume => step("resume", None),
        CallAction::Mute | CallAction::Unmute => BaresipStep {
            command: "mute",
            params: None,
            want_muted: Some(p.action == CallAction::Mute),
        },
        CallAction::Dtmf => step(
            "sndcode",
            Some(dtmf_digits(p.digits.as_deref().unwrap_or_default())?),
        ),
        CallAction::Transfer => {
            let target = match (&p.number, &p.uri) {
                (Some(n), None) => sip_uri_for(n, sip)?,
                (None, Some(u)) => validate_sip_uri(u)?.to_owned(),
                _ => {
                    return Err(DialError::BadNumber(
                        "give exactly one of `number` and `uri`".into(),
                    )
                    .into());
                }
            };
            step("transfer", Some(target))
        }
        CallAction::Hangup => step("hangup", None),
        CallAction::Answer => step("accept", None),
    };
    Ok(vec![step("callfind", Some(id)), last])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(action: CallAction) -> CallControlParams {
        CallControlParams::new("9c49c51a1e2f6cd8", action)
    }

    #[test]
    fn every_action_first_makes_its_call_current() {
        let steps = baresip_steps(&params(CallAction::Hold), &SipSettings::default()).unwrap();
        assert_eq!(steps[0].command, "callfind");
        assert_eq!(steps[0].params.as_deref(), Some("9c49c51a1e2f6cd8"));
        assert_eq!(steps[1].command, "hold");
    }

    #[test]
    fn a_call_id_with_spaces_or_quotes_is_refused() {
        for bad in ["", "a b", "x\"", "id;rm", &"a".repeat(65)] {
            let p = CallControlParams::new(bad, CallAction::Hangup);
            assert!(baresip_steps(&p, &SipSettings::default()).is_err(), "{bad}");
        }
    }

    #[test]
    fn dtmf_keeps_only_keypad_digits() {
        assert_eq!(dtmf_digits("2-27").unwrap(), "227");
        assert_eq!(dtmf_digits("12*#a").unwrap(), "12*#A");
        assert!(dtmf_digits("12;hangup").is_err());
        assert!(dtmf_digits("").is_err());
        assert!(dtmf_digits(&"1".repeat(33)).is_err());
        let mut p = params(CallAction::Dtmf);
        p.digits = Some("1 2 3".into());
        let steps = baresip_steps(&p, &SipSettings::default()).unwrap();
        assert_eq!(steps[1].command, "sndcode");
        assert_eq!(steps[1].params.as_deref(), Some("123"));
    }

    #[test]
    fn a_transfer_goes_to_a_checked_address() {
        let sip = SipSettings {
            domain: "pbx.example.com".into(),
            prefix: String::new(),
        };
        let mut p = params(CallAction::Transfer);
        p.number = Some("+33123456789".into());
        let steps = baresip_steps(&p, &sip).unwrap();
        assert_eq!(steps[1].command, "transfer");
        assert_eq!(
            steps[1].params.as_deref(),
            Some("sip:+33123456789@pbx.example.com")
        );
        p.number = None;
        p.uri = Some("sip:x@h;transport=tcp".into());
        assert!(baresip_steps(&p, &sip).is_err());
        p.uri = None;
        assert!(baresip_steps(&p, &sip).is_err());
    }

    #[test]
    fn mute_states_are_read_from_baresip_words() {
        assert!(says_muted("\ncall muted\n"));
        assert!(!says_muted("\ncall un-muted\n"));
        let steps = baresip_steps(&params(CallAction::Unmute), &SipSettings::default()).unwrap();
        assert_eq!(steps[1].want_muted, Some(false));
    }
}
