//! Dialing rules shared by the dialer adapters: which SIP URI a number becomes,
//! what a safe URI is (baresip executes what it is given), and the softphone's
//! `ctrl_tcp` wire format (JSON in netstrings) with its call events.

use serde::{Deserialize, Serialize};

/// Settings of the SIP dialer (policy or options page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipSettings {
    /// Domain numbers are dialled at, e.g. `pbx.example.com` or `127.0.0.1:5080`.
    /// Empty: the bare number is sent and the softphone completes it with its
    /// own account's domain.
    #[serde(default)]
    pub domain: String,
    /// Prefix added before the number (an outside-line digit such as `0`).
    #[serde(default)]
    pub prefix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialError {
    #[error("`{0}` is not a number Ringside can dial")]
    BadNumber(String),
    #[error("`{0}` is not a valid SIP address")]
    BadUri(String),
    #[error("the dial prefix `{0}` may contain only digits, * and #")]
    BadPrefix(String),
    #[error("the SIP domain `{0}` is not a host name or address")]
    BadDomain(String),
}

fn is_host(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.ends_with(']') => (h, Some(p)),
        _ => (s, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && (host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            || (host.starts_with('[')
                && host.ends_with(']')
                && host[1..host.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':')));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    host_ok && port_ok
}

/// Checks a SIP URI strictly: `sip:` or `sips:`, a user of safe characters,
/// `@`, a host with an optional port, and nothing else (no parameters,
/// headers, spaces or quotes reach the softphone).
pub fn validate_sip_uri(uri: &str) -> Result<&str, DialError> {
    let bad = || DialError::BadUri(uri.chars().take(80).collect());
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))
        .ok_or_else(bad)?;
    let (user, host) = rest.split_once('@').ok_or_else(bad)?;
    let user_ok = !user.is_empty()
        && user.len() <= 64
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-_.!~*'#".contains(c));
    if !user_ok || !is_host(host) {
        return Err(bad());
    }
    Ok(uri)
}

/// What to dial for a number in E.164 (`+33123456789`): a full SIP URI, or the
/// bare number when no domain is set. An extension is not part of it (it is
/// sent as DTMF once connected).
pub fn sip_uri_for(e164: &str, settings: &SipSettings) -> Result<String, DialError> {
    let digits = e164.strip_prefix('+').unwrap_or(e164);
    if !e164.starts_with('+')
        || digits.len() < 3
        || digits.len() > 15
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DialError::BadNumber(e164.chars().take(40).collect()));
    }
    if !settings
        .prefix
        .chars()
        .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
    {
        return Err(DialError::BadPrefix(settings.prefix.clone()));
    }
    let user = format!("{}{}", settings.prefix, e164);
    if settings.domain.is_empty() {
        return Ok(user);
    }
    if !is_host(&settings.domain) {
        return Err(DialError::BadDomain(settings.domain.clone()));
    }
    let uri = format!("sip:{user}@{}", settings.domain);
    validate_sip_uri(&uri)?;
    Ok(uri)
}

/// Why a dial that came from a web page waits for the agent to confirm it in
/// Ringside's own UI (the popup, or the notification) showing the real target.
/// A page chooses the text it shows; these targets cost money or reach the
/// phone system's own functions, so a click beside them is not enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DialRisk {
    PremiumRate,
    SharedCost,
    /// A number libphonenumber does not know as valid (a page's detector never
    /// produces one; a compromised page renderer could).
    Unrecognised,
    /// `*` or `#` in the target or its extension: a PBX feature code (call
    /// forwarding, voicemail, conference bridges).
    FeatureCode,
    /// A SIP address at another host than the configured SIP domain.
    ForeignSipDomain,
    /// A click this browser cannot prove reached a visible, uncovered
    /// button: Firefox has no IntersectionObserver v2, so a page could lay a
    /// decoy that lets clicks through over Ringside's button. Every page
    /// dial there waits for the agent, who sees the real number.
    UncheckedClick,
}

impl DialRisk {
    /// The `_locales` key that says why the agent is asked.
    pub fn message_key(self) -> &'static str {
        match self {
            DialRisk::PremiumRate => "confirmPremiumRate",
            DialRisk::SharedCost => "confirmSharedCost",
            DialRisk::Unrecognised => "confirmUnrecognised",
            DialRisk::FeatureCode => "confirmFeatureCode",
            DialRisk::ForeignSipDomain => "confirmForeignSip",
            DialRisk::UncheckedClick => "confirmUncheckedClick",
        }
    }

    /// Every key [`DialRisk::message_key`] returns (for the locale tests).
    pub const MESSAGE_KEYS: &'static [&'static str] = &[
        "confirmPremiumRate",
        "confirmSharedCost",
        "confirmUnrecognised",
        "confirmFeatureCode",
        "confirmForeignSip",
        "confirmUncheckedClick",
    ];
}

impl DialRisk {
    /// The risk a host's `needs_confirmation` error names; None for any other
    /// error. A `needs_confirmation` without a readable risk is treated as the
    /// most cautious one (the dial is still held, never placed).
    pub fn of_error(error: &crate::protocol::ErrorBody) -> Option<DialRisk> {
        if error.kind() != Some(crate::protocol::ErrorCode::NeedsConfirmation) {
            return None;
        }
        Some(
            error
                .detail
                .as_deref()
                .and_then(|d| d.get("risk"))
                .and_then(|r| crate::json::from_value(r.clone()).ok())
                .unwrap_or(DialRisk::Unrecognised),
        )
    }
}

/// The risk of any click in a web page in this browser: none where the
/// content script proves the button was visible and uncovered, otherwise
/// [`DialRisk::UncheckedClick`] (Firefox), so the agent confirms the real
/// number in Ringside's own UI. A number's own risk (cost, feature code)
/// comes first: it says more.
pub fn page_click_risk(
    browser: crate::browser::Browser,
    own: Option<DialRisk>,
) -> Option<DialRisk> {
    own.or((!browser.checks_covered_buttons()).then_some(DialRisk::UncheckedClick))
}

/// The host part of a SIP URI's `user@host[:port]`, lower-cased.
fn sip_host(uri: &str) -> Option<String> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let (_, host) = rest.rsplit_once('@')?;
    Some(host.to_ascii_lowercase())
}

/// Whether a dial needs the agent's confirmation, and why. `number` is E.164,
/// `uri` a SIP address; `sip` is the configured dialer's SIP settings (an
/// empty domain means the softphone's own account domain, so any SIP address
/// given explicitly is foreign to it).
pub fn dial_risk(
    number: Option<&str>,
    uri: Option<&str>,
    extension: Option<&str>,
    sip: &SipSettings,
) -> Option<DialRisk> {
    dial_risk_with(number, uri, extension, sip, crate::phone::number_cost)
}

/// [`dial_risk`] with the number's cost from elsewhere: the service worker
/// asks its detection module (so the worker's own wasm carries no number
/// metadata).
pub fn dial_risk_with(
    number: Option<&str>,
    uri: Option<&str>,
    extension: Option<&str>,
    sip: &SipSettings,
    cost: impl Fn(&str) -> crate::phone::NumberCost,
) -> Option<DialRisk> {
    let feature = |s: &str| s.contains(['*', '#']);
    if extension.is_some_and(feature) {
        return Some(DialRisk::FeatureCode);
    }
    if let Some(uri) = uri {
        let user = uri.split_once(':').map_or(uri, |(_, r)| r);
        let user = user.rsplit_once('@').map_or(user, |(u, _)| u);
        if feature(user) {
            return Some(DialRisk::FeatureCode);
        }
        let domain = sip.domain.trim().to_ascii_lowercase();
        return match sip_host(uri) {
            Some(h) if !domain.is_empty() && h == domain => None,
            _ => Some(DialRisk::ForeignSipDomain),
        };
    }
    let number = number?;
    if feature(number) {
        return Some(DialRisk::FeatureCode);
    }
    match cost(number) {
        crate::phone::NumberCost::Regular => None,
        crate::phone::NumberCost::PremiumRate => Some(DialRisk::PremiumRate),
        crate::phone::NumberCost::SharedCost => Some(DialRisk::SharedCost),
        crate::phone::NumberCost::Unrecognised => Some(DialRisk::Unrecognised),
    }
}

/// Encodes one netstring: `<len>:<bytes>,`.
pub fn netstring(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("{}:", payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out.push(b',');
    out
}

/// Why a netstring stream cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetstringError {
    #[error("bad netstring length prefix")]
    BadLength,
    #[error("netstring of {0} bytes exceeds the limit")]
    TooLong(usize),
    #[error("netstring not terminated by a comma")]
    MissingComma,
}

/// Decodes one netstring from the front of `buf`: `Ok(Some((payload, used)))`,
/// `Ok(None)` when more bytes are needed.
pub fn parse_netstring(buf: &[u8], max: usize) -> Result<Option<(&[u8], usize)>, NetstringError> {
    let Some(colon) = buf.iter().take(11).position(|&b| b == b':') else {
        if buf.len() > 10 || buf.iter().any(|b| !b.is_ascii_digit()) {
            return Err(NetstringError::BadLength);
        }
        return Ok(None);
    };
    let digits = &buf[..colon];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(NetstringError::BadLength);
    }
    let len: usize = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(NetstringError::BadLength)?;
    if len > max {
        return Err(NetstringError::TooLong(len));
    }
    let start = colon + 1;
    let end = start + len;
    if buf.len() < end + 1 {
        return Ok(None);
    }
    if buf[end] != b',' {
        return Err(NetstringError::MissingComma);
    }
    Ok(Some((&buf[start..end], end + 1)))
}

/// A command to baresip's ctrl_tcp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaresipCommand<'a> {
    pub command: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<&'a str>,
    pub token: &'a str,
}

/// What baresip's ctrl_tcp sends: a response to a command, or an event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum BaresipMessage {
    Response(BaresipResponse),
    Event(BaresipEvent),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BaresipResponse {
    pub response: bool,
    pub ok: bool,
    #[serde(default)]
    pub data: String,
    #[serde(default)]
    pub token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BaresipEvent {
    pub event: bool,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub peeruri: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub param: Option<String>,
}

/// A call event as Ringside relays it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CallEvent {
    /// An incoming call is ringing here.
    Incoming { call_id: String, peer: String },
    /// Our outgoing call rings at the other end.
    Ringing { call_id: String, peer: String },
    /// The call is connected.
    Established {
        call_id: String,
        peer: String,
        outgoing: bool,
    },
    /// The call ended, with the softphone's reason.
    Closed {
        call_id: String,
        peer: String,
        reason: String,
    },
}

impl CallEvent {
    pub fn call_id(&self) -> &str {
        match self {
            CallEvent::Incoming { call_id, .. }
            | CallEvent::Ringing { call_id, .. }
            | CallEvent::Established { call_id, .. }
            | CallEvent::Closed { call_id, .. } => call_id,
        }
    }
}

/// Maps a baresip event to a call event (None for the many it also reports).
pub fn call_event(ev: &BaresipEvent) -> Option<CallEvent> {
    let call_id = ev.id.clone()?;
    let peer = ev.peeruri.clone().unwrap_or_default();
    let outgoing = ev.direction.as_deref() == Some("outgoing");
    Some(match ev.kind.as_str() {
        "CALL_INCOMING" => CallEvent::Incoming { call_id, peer },
        "CALL_RINGING" | "CALL_PROGRESS" if outgoing => CallEvent::Ringing { call_id, peer },
        "CALL_ESTABLISHED" => CallEvent::Established {
            call_id,
            peer,
            outgoing,
        },
        "CALL_CLOSED" => CallEvent::Closed {
            call_id,
            peer,
            reason: ev.param.clone().unwrap_or_default(),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_clicks_wait_for_the_agent_where_covered_buttons_cannot_be_seen() {
        use crate::browser::Browser;
        for b in [Browser::Chrome, Browser::Chromium, Browser::Edge] {
            assert_eq!(page_click_risk(b, None), None, "{b:?}");
            assert_eq!(
                page_click_risk(b, Some(DialRisk::PremiumRate)),
                Some(DialRisk::PremiumRate)
            );
        }
        assert_eq!(
            page_click_risk(Browser::Firefox, None),
            Some(DialRisk::UncheckedClick)
        );
        // The number's own risk says more, and is kept.
        assert_eq!(
            page_click_risk(Browser::Firefox, Some(DialRisk::FeatureCode)),
            Some(DialRisk::FeatureCode)
        );
        assert!(DialRisk::MESSAGE_KEYS.contains(&DialRisk::UncheckedClick.message_key()));
    }

    #[test]
    fn the_risk_is_read_from_the_hosts_error() {
        use crate::protocol::{ErrorBody, ErrorCode};
        let held = ErrorBody::new(ErrorCode::NeedsConfirmation, "held")
            .with_detail(serde_json::json!({ "risk": "premium_rate" }));
        assert_eq!(DialRisk::of_error(&held), Some(DialRisk::PremiumRate));
        let unreadable = ErrorBody::new(ErrorCode::NeedsConfirmation, "held")
            .with_detail(serde_json::json!({ "risk": "something new" }));
        assert_eq!(
            DialRisk::of_error(&unreadable),
            Some(DialRisk::Unrecognised)
        );
        let other = ErrorBody::new(ErrorCode::SoftphoneUnreachable, "down");
        assert_eq!(DialRisk::of_error(&other), None);
    }

    #[test]
    fn costly_numbers_pbx_codes_and_foreign_sip_hosts_need_the_agent() {
        let sip = SipSettings {
            domain: "pbx.example.com".into(),
            prefix: String::new(),
        };
        let risk = |n: Option<&str>, u: Option<&str>, x: Option<&str>| dial_risk(n, u, x, &sip);
        // Ordinary numbers: a fixed line, a mobile, a toll-free number.
        assert_eq!(risk(Some("+33123456789"), None, None), None);
        assert_eq!(risk(Some("+33612345678"), None, None), None);
        assert_eq!(risk(Some("+18005550199"), None, None), None);
        assert_eq!(risk(Some("+33123456789"), None, Some("227")), None);
        // UK 09 premium rate, FR 0899 premium, DE 0900 premium; FR 0810 shared cost.
        assert_eq!(
            risk(Some("+449098790000"), None, None),
            Some(DialRisk::PremiumRate)
        );
        assert_eq!(
            risk(Some("+33899123456"), None, None),
            Some(DialRisk::PremiumRate)
        );
        assert_eq!(
            risk(Some("+499001234567"), None, None),
            Some(DialRisk::PremiumRate)
        );
        assert_eq!(
            risk(Some("+33810123456"), None, None),
            Some(DialRisk::SharedCost)
        );
        // What the detector never produces (a compromised renderer could).
        assert_eq!(risk(Some("+999"), None, None), Some(DialRisk::Unrecognised));
        assert_eq!(
            risk(Some("33123456789"), None, None),
            Some(DialRisk::Unrecognised)
        );
        // PBX feature codes, in the number, the SIP user or the extension.
        assert_eq!(
            risk(Some("*72+33123456789"), None, None),
            Some(DialRisk::FeatureCode)
        );
        assert_eq!(
            risk(None, Some("sip:*72@pbx.example.com"), None),
            Some(DialRisk::FeatureCode)
        );
        assert_eq!(
            risk(None, Some("sip:#31#@pbx.example.com"), None),
            Some(DialRisk::FeatureCode)
        );
        assert_eq!(
            risk(Some("+33123456789"), None, Some("#9")),
            Some(DialRisk::FeatureCode)
        );
        // SIP: the company's domain (any case) is fine; any other host is not.
        assert_eq!(risk(None, Some("sip:alice@PBX.example.com"), None), None);
        assert_eq!(
            risk(None, Some("sip:alice@evil.example"), None),
            Some(DialRisk::ForeignSipDomain)
        );
        assert_eq!(
            risk(None, Some("sip:alice@pbx.example.com.evil.example"), None),
            Some(DialRisk::ForeignSipDomain)
        );
        // No domain configured: every explicit SIP address is foreign.
        assert_eq!(
            dial_risk(
                None,
                Some("sip:alice@pbx.example.com"),
                None,
                &SipSettings::default()
            ),
            Some(DialRisk::ForeignSipDomain)
        );
    }

    #[test]
    fn sip_uris_are_built_and_checked() {
        let s = SipSettings {
            domain: "127.0.0.1:5080".into(),
            prefix: String::new(),
        };
        assert_eq!(
            sip_uri_for("+33123456789", &s).unwrap(),
            "sip:+33123456789@127.0.0.1:5080"
        );
        let s = SipSettings {
            domain: "pbx.example.com".into(),
            prefix: "0".into(),
        };
        assert_eq!(
            sip_uri_for("+14155550132", &s).unwrap(),
            "sip:0+14155550132@pbx.example.com"
        );
        assert!(sip_uri_for("0612345678", &s).is_err());
        assert_eq!(
            sip_uri_for("+33123456789", &SipSettings::default()).unwrap(),
            "+33123456789"
        );
        assert!(sip_uri_for("+33 1 23", &s).is_err());
        let bad_prefix = SipSettings {
            domain: "x".into(),
            prefix: "9;evil".into(),
        };
        assert_eq!(
            sip_uri_for("+33123456789", &bad_prefix),
            Err(DialError::BadPrefix("9;evil".into()))
        );
        let bad_domain = SipSettings {
            domain: "a b".into(),
            prefix: String::new(),
        };
        assert!(matches!(
            sip_uri_for("+33123456789", &bad_domain),
            Err(DialError::BadDomain(_))
        ));
    }

    #[test]
    fn dangerous_uris_are_refused() {
        for uri in [
            "sip:alice@example.com;transport=tcp",
            "sip:alice@example.com?Subject=x",
            "sip:al ice@example.com",
            "sip:\"a\"@example.com",
            "tel:+123",
            "sip:@example.com",
            "sip:alice@",
            "sip:alice@host:99999",
            "sip:alice@exa mple.com",
            "sip:a@b\nhangup",
        ] {
            assert!(validate_sip_uri(uri).is_err(), "{uri}");
        }
        for uri in [
            "sip:alice@example.com",
            "sips:+331@[::1]:5061",
            "sip:100@10.0.0.1:5060",
        ] {
            assert!(validate_sip_uri(uri).is_ok(), "{uri}");
        }
    }

    #[test]
    fn netstrings_round_trip_and_reject_garbage() {
        let ns = netstring(b"{\"a\":1}");
        assert_eq!(ns, b"7:{\"a\":1},");
        assert_eq!(
            parse_netstring(&ns, 100).unwrap(),
            Some((&b"{\"a\":1}"[..], 10))
        );
        assert_eq!(parse_netstring(b"7:{\"a\"", 100).unwrap(), None);
        assert_eq!(parse_netstring(b"12", 100).unwrap(), None);
        assert_eq!(parse_netstring(b"x:", 100), Err(NetstringError::BadLength));
        assert_eq!(
            parse_netstring(b"3:abc;", 100),
            Err(NetstringError::MissingComma)
        );
        assert_eq!(
            parse_netstring(b"999:", 100),
            Err(NetstringError::TooLong(999))
        );
        assert_eq!(
            parse_netstring(b"99999999999999", 100),
            Err(NetstringError::BadLength)
        );
    }

    #[test]
    fn baresip_events_map_to_call_events() {
        let raw = r#"{"event":true,"type":"CALL_ESTABLISHED","class":"call","accountaor":"sip:agent@127.0.0.1:5070","direction":"outgoing","peeruri":"sip:remote@127.0.0.1:5080","id":"4c6c","param":"sip:remote@127.0.0.1:5080"}"#;
        let BaresipMessage::Event(ev) = serde_json::from_str(raw).unwrap() else {
            panic!("not an event")
        };
        assert_eq!(
            call_event(&ev),
            Some(CallEvent::Established {
                call_id: "4c6c".into(),
                peer: "sip:remote@127.0.0.1:5080".into(),
                outgoing: true
            })
        );
        let raw = r#"{"response":true,"ok":true,"data":"","token":"t1"}"#;
        assert!(matches!(
            serde_json::from_str::<BaresipMessage>(raw).unwrap(),
            BaresipMessage::Response(BaresipResponse { ok: true, .. })
        ));
        // Events without a call id (e.g. registration) are not call events.
        let raw = r#"{"event":true,"type":"REGISTER_OK","class":"register"}"#;
        let BaresipMessage::Event(ev) = serde_json::from_str(raw).unwrap() else {
            panic!()
        };
        assert_eq!(call_event(&ev), None);
    }
}
