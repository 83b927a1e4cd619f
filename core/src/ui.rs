//! View models for the extension's surfaces. Each text is a `_locales` message
//! key plus substitutions, so the adapters render every string through
//! `chrome.i18n` and the agent reads it in their language.

use serde::Serialize;

use crate::browser::Browser;
use crate::host_link::HostStatus;
use crate::protocol::HOST_NAME;

/// A localizable text: a `_locales` key and its `$1`, `$2`... substitutions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    pub key: &'static str,
    pub args: Vec<String>,
}

impl Text {
    pub fn new(key: &'static str) -> Self {
        Text { key, args: vec![] }
    }
    pub fn with(key: &'static str, args: &[&str]) -> Self {
        Text {
            key,
            args: args.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// How a status is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    Ok,
    Busy,
    Warning,
    Error,
}

impl Tone {
    pub fn class(self) -> &'static str {
        match self {
            Tone::Ok => "tone-ok",
            Tone::Busy => "tone-busy",
            Tone::Warning => "tone-warning",
            Tone::Error => "tone-error",
        }
    }
}

/// The host status card of the popup and the options page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostView {
    pub tone: Tone,
    pub title: Text,
    pub detail: Option<Text>,
    /// A command the agent or admin copies into a terminal, shown verbatim.
    pub command: Option<String>,
    /// Whether a "Retry now" button makes sense.
    pub retry: bool,
}

/// The exact command that registers the host for this browser and extension.
pub fn install_command(browser: Browser, extension_id: &str) -> String {
    format!(
        "ringside-host install --browser {} --extension-id {}",
        browser.cli_name(),
        extension_id
    )
}

/// What the agent sees about the native host.
pub fn host_view(status: &HostStatus, browser: Browser, extension_id: &str) -> HostView {
    match status {
        HostStatus::Connecting => HostView {
            tone: Tone::Busy,
            title: Text::new("hostConnecting"),
            detail: None,
            command: None,
            retry: false,
        },
        HostStatus::Connected { info } => HostView {
            tone: Tone::Ok,
            title: Text::with("hostConnected", &[&info.host_version]),
            detail: None,
            command: None,
            retry: false,
        },
        HostStatus::NotInstalled => HostView {
            tone: Tone::Warning,
            title: Text::new("hostNotInstalled"),
            detail: Some(Text::with(
                "hostNotInstalledDetail",
                &[browser.display_name()],
            )),
            command: Some(install_command(browser, extension_id)),
            retry: true,
        },
        HostStatus::Blocked => HostView {
            tone: Tone::Error,
            title: Text::new("hostBlocked"),
            detail: Some(Text::with("hostBlockedDetail", &[HOST_NAME])),
            command: None,
            retry: true,
        },
        HostStatus::Refused { message } => HostView {
            tone: Tone::Error,
            title: Text::new("hostRefused"),
            detail: Some(Text::with("hostRefusedDetail", &[message])),
            command: Some(install_command(browser, extension_id)),
            retry: true,
        },
        HostStatus::Incompatible { message } => HostView {
            tone: Tone::Error,
            title: Text::new("hostIncompatible"),
            detail: Some(Text::with("hostIncompatibleDetail", &[message])),
            command: None,
            retry: true,
        },
        HostStatus::Reconnecting {
            attempt,
            retry_in_ms,
        } => {
            let seconds = retry_in_ms.div_ceil(1000).max(1).to_string();
            HostView {
                tone: Tone::Busy,
                title: Text::new("hostReconnecting"),
                detail: Some(Text::with(
                    "hostReconnectingDetail",
                    &[&attempt.to_string(), &seconds],
                )),
                command: None,
                retry: true,
            }
        }
    }
}

/// Every message key the core asks adapters to render, for the locale tests.
pub const MESSAGE_KEYS: &[&str] = &[
    "hostConnecting",
    "hostConnected",
    "hostNotInstalled",
    "hostNotInstalledDetail",
    "hostBlocked",
    "hostBlockedDetail",
    "hostRefused",
    "hostRefusedDetail",
    "hostIncompatible",
    "hostIncompatibleDetail",
    "hostReconnecting",
    "hostReconnectingDetail",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::HelloResult;

    const ID: &str = "fempdkhheodefkjhkbekalfieneojckb";

    fn all_statuses() -> Vec<HostStatus> {
        vec![
            HostStatus::Connecting,
            HostStatus::Connected {
                info: HelloResult {
                    version: 1,
                    host_version: "0.1.0".into(),
                    capabilities: vec![],
                    pid: 1,
                    os: "linux".into(),
                },
            },
            HostStatus::NotInstalled,
            HostStatus::Blocked,
            HostStatus::Refused {
                message: "m".into(),
            },
            HostStatus::Incompatible {
                message: "m".into(),
            },
            HostStatus::Reconnecting {
                attempt: 2,
                retry_in_ms: 500,
            },
        ]
    }

    #[test]
    fn not_installed_shows_the_exact_command() {
        let v = host_view(&HostStatus::NotInstalled, Browser::Edge, ID);
        assert_eq!(
            v.command.as_deref(),
            Some(
                "ringside-host install --browser edge --extension-id fempdkhheodefkjhkbekalfieneojckb"
            )
        );
        assert_eq!(v.tone, Tone::Warning);
        assert!(v.retry);
    }

    #[test]
    fn connected_names_the_version() {
        let v = host_view(&all_statuses()[1], Browser::Chromium, ID);
        assert_eq!(v.title, Text::with("hostConnected", &["0.1.0"]));
        assert!(!v.retry);
    }

    #[test]
    fn reconnecting_rounds_seconds_up() {
        let v = host_view(&all_statuses()[6], Browser::Chromium, ID);
        assert_eq!(
            v.detail,
            Some(Text::with("hostReconnectingDetail", &["2", "1"]))
        );
    }

    #[test]
    fn every_key_used_is_listed() {
        for s in all_statuses() {
            let v = host_view(&s, Browser::Chrome, ID);
            assert!(MESSAGE_KEYS.contains(&v.title.key), "{}", v.title.key);
            if let Some(d) = v.detail {
                assert!(MESSAGE_KEYS.contains(&d.key), "{}", d.key);
            }
        }
    }
}
