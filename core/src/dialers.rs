//! The dialer setting (policy or options page) checked, and the dialers that
//! need no native host: the `url` dialer's template (an administrator's
//! `dialpad://call?phone={e164}` or `https://phone.example.com/call?to={e164}`),
//! its allowed schemes (`dialerUrlSchemes`), the substitution of a number into
//! it, and where calls go, as the popup and options page say it.
//!
//! A template reaches the browser's address bar with a number in it, so it is
//! checked strictly when set: a scheme from the policy's list and never one
//! that runs code or reads files (`javascript:`, `data:`, `file:`,
//! `chrome:`...), no number in the scheme or host part (which would send it to
//! whatever DNS server or host the digits name), no user-info (`a@b`), and
//! only the placeholders `{e164}`, `{digits}` and `{extension}`, which are
//! replaced by digits and `+` only, percent-encoded.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dial::{self, SipSettings};
use crate::protocol::{DialerConfig, DialerKind};
use crate::settings::{KEY_DIALER, Problem, Settings};

/// The dialer as the options page and policy write it (flat, camelCase).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DialerSetting {
    pub adapter: DialerKind,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub sip_domain: Option<String>,
    #[serde(default)]
    pub dial_prefix: Option<String>,
    /// The `url` dialer's template.
    #[serde(default)]
    pub url_template: Option<String>,
    /// The app the `url` dialer opens, as the popup names it ("Dialpad").
    #[serde(default)]
    pub app_name: Option<String>,
}

/// Schemes a template may use when policy does not list any.
pub const DEFAULT_URL_SCHEMES: [&str; 1] = ["https"];

/// Schemes no template may use, whatever `dialerUrlSchemes` says: they run
/// code, read local files or browser pages, or open sockets. `http` sends the
/// number in clear (allowed only on loopback in the emulator build).
const FORBIDDEN_SCHEMES: &[&str] = &[
    "javascript",
    "vbscript",
    "data",
    "blob",
    "file",
    "filesystem",
    "about",
    "chrome",
    "chrome-extension",
    "chrome-untrusted",
    "chrome-search",
    "devtools",
    "view-source",
    "edge",
    "extension",
    "moz-extension",
    "intent",
    "jar",
    "resource",
    "ws",
    "wss",
    "ftp",
    "http",
];

/// The placeholders a template may hold.
pub const PLACEHOLDERS: [&str; 3] = ["{e164}", "{digits}", "{extension}"];

const MAX_TEMPLATE_CHARS: usize = 2000;
const MAX_APP_NAME_CHARS: usize = 40;

fn scheme_syntax_ok(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// One entry of `dialerUrlSchemes`: a scheme name (`dialpad`, `https`),
/// lower-cased; never one of the forbidden schemes.
pub fn check_scheme_entry(v: &Value) -> Result<String, String> {
    let s = v
        .as_str()
        .ok_or("every entry must be text")?
        .trim()
        .trim_end_matches(':')
        .to_ascii_lowercase();
    if !scheme_syntax_ok(&s) {
        return Err(format!(
            "`{s}` is not a URL scheme (letters, digits, + - .)"
        ));
    }
    if FORBIDDEN_SCHEMES.contains(&s.as_str()) {
        return Err(format!("`{s}:` URLs are never allowed for calls"));
    }
    Ok(s)
}

/// The scheme of a template (lower case), once [`check_template`] passed.
pub fn template_scheme(template: &str) -> String {
    template
        .split_once(':')
        .map_or("", |(s, _)| s)
        .to_ascii_lowercase()
}

/// Checks a template's form (its scheme against the policy's list is
/// [`check_merged`]'s): returns it trimmed.
pub fn check_template(template: &str, loopback_http: bool) -> Result<String, String> {
    let t = template.trim();
    let shown: String = t.chars().take(80).collect();
    if t.is_empty() || t.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(format!(
            "the URL template must be 1 to {MAX_TEMPLATE_CHARS} characters"
        ));
    }
    if let Some(c) = t
        .chars()
        .find(|c| !c.is_ascii_graphic() || "\"<>\\^`|".contains(*c))
    {
        return Err(format!(
            "`{shown}` holds {c:?}: a URL template has no spaces, quotes or control characters"
        ));
    }
    // Every brace belongs to a known placeholder.
    let mut rest = t;
    let mut has_number = false;
    while let Some(i) = rest.find(['{', '}']) {
        let tail = &rest[i..];
        let Some(p) = PLACEHOLDERS.iter().find(|p| tail.starts_with(**p)) else {
            return Err(format!(
                "`{shown}` has an unknown placeholder: only {{e164}}, {{digits}} and {{extension}}"
            ));
        };
        has_number |= *p != "{extension}";
        rest = &tail[p.len()..];
    }
    if !has_number {
        return Err(format!(
            "`{shown}` has no {{e164}} or {{digits}}: the number would not reach the call"
        ));
    }
    let (scheme, after) = t
        .split_once(':')
        .ok_or_else(|| format!("`{shown}` is not a URL (no scheme)"))?;
    let scheme = scheme.to_ascii_lowercase();
    if !scheme_syntax_ok(&scheme) {
        return Err(format!(
            "`{shown}` does not start with a URL scheme (the number may not be part of it)"
        ));
    }
    let authority = after.strip_prefix("//").map(|a| {
        let end = a.find(['/', '?', '#']).unwrap_or(a.len());
        &a[..end]
    });
    if authority.is_some_and(|a| a.contains('{')) {
        return Err(format!(
            "`{shown}` puts the number in the host part: it may only go in the path or query"
        ));
    }
    if authority.is_some_and(|a| a.contains('@')) {
        return Err(format!(
            "`{shown}` has user information (`@`) before its host"
        ));
    }
    let web = scheme == "https" || scheme == "http";
    if web {
        let host = authority.unwrap_or_default();
        let url = format!("{scheme}://{host}/");
        if host.is_empty() || !crate::auth::provider::url_is_acceptable(&url, loopback_http) {
            return Err(if scheme == "http" {
                format!("`{shown}`: plain http URLs are never allowed for calls")
            } else {
                format!("`{shown}` has no valid host")
            });
        }
    } else if FORBIDDEN_SCHEMES.contains(&scheme.as_str()) {
        return Err(format!("`{scheme}:` URLs are never allowed for calls"));
    }
    Ok(t.to_owned())
}

/// The URL a template makes for a number: `e164` (`+33123456789`) and an
/// optional extension, digits only (a feature code such as `*72` is refused).
/// `{e164}` becomes `%2B33123456789`, `{digits}` `33123456789`, `{extension}`
/// the extension's digits or nothing.
pub fn fill(
    template: &str,
    e164: &str,
    extension: Option<&str>,
) -> Result<String, dial::DialError> {
    let digits = e164.strip_prefix('+').unwrap_or_default();
    let bad = |s: &str| dial::DialError::BadNumber(s.chars().take(40).collect());
    if digits.len() < 3 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(e164));
    }
    let ext = extension.unwrap_or_default();
    if ext.len() > 10 || !ext.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(ext));
    }
    Ok(template
        .replace("{e164}", &format!("%2B{digits}"))
        .replace("{digits}", digits)
        .replace("{extension}", ext))
}

/// The app a `url` dialer opens, as the popup names it: the policy's
/// `appName`, else the host of an https template, else its scheme.
pub fn app_label(d: &DialerConfig) -> String {
    if let Some(n) = d.app_name.as_deref().filter(|n| !n.is_empty()) {
        return n.to_owned();
    }
    let t = d.template.as_deref().unwrap_or_default();
    let scheme = template_scheme(t);
    if scheme == "https" || scheme == "http" {
        let after = t.split_once("://").map_or("", |(_, a)| a);
        let end = after.find(['/', '?', '#', ':']).unwrap_or(after.len());
        return after[..end].to_owned();
    }
    scheme
}

/// Checks a dialer setting. `from_options`: the options page's storage,
/// where only a softphone on this computer or the tel: handler may be set
/// (the other dialers route calls elsewhere: policy only).
pub fn validate_dialer(
    v: &Value,
    from_options: bool,
    loopback_http: bool,
) -> Result<DialerConfig, String> {
    let d: DialerSetting = crate::json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let sip = SipSettings {
        domain: d.sip_domain.unwrap_or_default().trim().to_owned(),
        prefix: d.dial_prefix.unwrap_or_default().trim().to_owned(),
    };
    // The same checks the host makes, so the admin sees them here first.
    dial::sip_uri_for("+10000000000", &sip).map_err(|e| e.to_string())?;
    let address = d
        .address
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    let mut template = None;
    let mut app_name = None;
    match d.adapter {
        DialerKind::Baresip => {
            let a = address
                .as_deref()
                .ok_or("the SIP softphone needs its control address (host:port)")?;
            let host = a
                .rsplit_once(':')
                .filter(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|n| n > 0))
                .map(|(h, _)| h)
                .ok_or_else(|| format!("`{a}` is not host:port (for example 127.0.0.1:4444)"))?;
            // The softphone's control connection places calls: from the options
            // page it must stay on this computer; another host only by policy.
            if from_options && !crate::auth::provider::is_loopback_host(host) {
                return Err(format!(
                    "`{a}` is not on this computer: the softphone's control address must be \
                     127.0.0.1, [::1] or localhost (another host only by policy)"
                ));
            }
        }
        DialerKind::Tel => {}
        DialerKind::Url | DialerKind::Platform if from_options => {
            return Err(
                "the url and platform dialers are set by your administrator only".to_owned(),
            );
        }
        DialerKind::Url => {
            let t = d
                .url_template
                .as_deref()
                .ok_or("the url dialer needs its urlTemplate")?;
            template = Some(check_template(t, loopback_http)?);
            app_name = d
                .app_name
                .map(|n| {
                    n.trim()
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(MAX_APP_NAME_CHARS)
                        .collect::<String>()
                })
                .filter(|n| !n.is_empty());
        }
        DialerKind::Platform => {}
    }
    Ok(DialerConfig {
        adapter: d.adapter,
        address,
        sip,
        template,
        app_name,
    })
}

/// The checks that need more than the dialer's own value, once every key is
/// merged: a `url` template's scheme is one `dialerUrlSchemes` allows (https
/// when it lists none), and the `platform` dialer has a `platformUrl`. A
/// dialer that fails is dropped (no dialer: the safe default) and reported.
pub fn check_merged(s: &mut Settings) {
    let Some(d) = &s.dialer else {
        return;
    };
    let problem = match d.adapter {
        DialerKind::Url => {
            let scheme = template_scheme(d.template.as_deref().unwrap_or_default());
            // A loopback http template (emulator build only) counts as https.
            let as_listed = if scheme == "http" { "https" } else { &scheme };
            let allowed = if s.dialer_url_schemes.is_empty() {
                DEFAULT_URL_SCHEMES.contains(&as_listed)
            } else {
                s.dialer_url_schemes.iter().any(|a| a == as_listed)
            };
            (!allowed).then(|| {
                format!(
                    "`{scheme}:` is not one of the schemes dialerUrlSchemes allows ({})",
                    if s.dialer_url_schemes.is_empty() {
                        DEFAULT_URL_SCHEMES.join(", ")
                    } else {
                        s.dialer_url_schemes.join(", ")
                    }
                )
            })
        }
        DialerKind::Platform => s
            .platform_url
            .is_none()
            .then(|| "the platform dialer needs platformUrl (set by policy)".to_owned()),
        DialerKind::Baresip | DialerKind::Tel => None,
    };
    if let Some(message) = problem {
        s.dialer = None;
        s.locked.retain(|k| k != KEY_DIALER);
        s.problems.push(Problem {
            key: KEY_DIALER.to_owned(),
            source: "policy".to_owned(),
            message,
            admin_only: false,
        });
    }
}

/// How a click becomes a call, given the dialer and whether the host is
/// connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallPath {
    /// The host's adapter (baresip, or tel: through the OS with the host).
    Host,
    /// The host is needed (a softphone) but absent.
    HostMissing,
    /// The extension opens `tel:<e164>` itself.
    BrowserTel,
    /// The extension opens the template's URL.
    Url { template: String },
    /// The phone platform places the call.
    Platform,
}

/// Where a click goes: the host's adapters when it is connected; without
/// it, the tel: handler through the browser (also with no dialer set: what a
/// plain tel: link does), the url and platform dialers always by the
/// extension, and a softphone is out of reach.
pub fn call_path(dialer: Option<&DialerConfig>, host_connected: bool) -> CallPath {
    match dialer {
        None => CallPath::BrowserTel,
        Some(d) => match d.adapter {
            DialerKind::Url => CallPath::Url {
                template: d.template.clone().unwrap_or_default(),
            },
            DialerKind::Platform => CallPath::Platform,
            DialerKind::Tel if !host_connected => CallPath::BrowserTel,
            DialerKind::Baresip if !host_connected => CallPath::HostMissing,
            DialerKind::Tel | DialerKind::Baresip => CallPath::Host,
        },
    }
}

/// What the popup and options page say about where calls go: a `_locales`
/// key with its substitutions, and what the native host would add (None when
/// it is connected, or adds nothing to this dialer's calls).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallsGo {
    pub key: String,
    pub subs: Vec<String>,
    pub host_adds: Option<String>,
}

/// Every `_locales` key [`calls_go`] hands out.
pub const MESSAGE_KEYS: &[&str] = &[
    "callsGoSoftphone",
    "callsGoSoftphoneNoHost",
    "callsGoTel",
    "callsGoUrl",
    "callsGoPlatform",
    "hostAddsSoftphone",
    "hostAddsSecrets",
];

/// Where calls go for these settings and host state (see [`CallsGo`]).
pub fn calls_go(settings: &Settings, host_connected: bool) -> CallsGo {
    let path = call_path(settings.dialer.as_ref(), host_connected);
    let (key, subs) = match (&path, &settings.dialer) {
        (CallPath::Host, Some(d)) if d.adapter == DialerKind::Baresip => {
            ("callsGoSoftphone", vec![])
        }
        (CallPath::HostMissing, _) => ("callsGoSoftphoneNoHost", vec![]),
        (CallPath::Url { .. }, Some(d)) => ("callsGoUrl", vec![app_label(d)]),
        (CallPath::Platform, _) => ("callsGoPlatform", vec![]),
        _ => ("callsGoTel", vec![]),
    };
    let host_adds = (!host_connected).then(|| {
        match path {
            CallPath::HostMissing => "hostAddsSoftphone",
            _ => "hostAddsSecrets",
        }
        .to_owned()
    });
    CallsGo {
        key: key.to_owned(),
        subs,
        host_adds,
    }
}

#[cfg(test)]
#[path = "dialers_tests.rs"]
mod tests;
