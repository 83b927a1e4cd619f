//! Messages between the service worker and the other surfaces (popup, options,
//! side panel, content scripts), and the rules for trusting their senders.

use serde::{Deserialize, Serialize};

use crate::calls::CallDesk;
use crate::host_link::{HostStatus, LinkStats};
use crate::settings::Settings;

/// The name of the long-lived port extension pages open to the service worker.
pub const UI_PORT: &str = "ui";

/// How many content-script frames the service worker remembers for diagnostics.
pub const MAX_PAGES: usize = 50;

/// What the service worker pushes to extension pages on their port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiState {
    pub host: HostStatus,
    pub stats: LinkStats,
    pub pages: Vec<PageSession>,
    #[serde(default)]
    pub calls: CallDesk,
    #[serde(default)]
    pub settings: Settings,
    /// Origins where the agent switched click-to-call off.
    #[serde(default)]
    pub switched_off: Vec<String>,
    /// What the options page saved, as saved (shown back in its form).
    #[serde(default)]
    pub raw_options: serde_json::Value,
    /// Who is signed in, or why not.
    #[serde(default)]
    pub auth: crate::auth::session::AuthView,
    /// Gmail over IMAP with an app password: connected, or why not.
    #[serde(default)]
    pub mail: crate::mail::MailView,
    /// The agent's own calendar says they are in a meeting (Calendar connected).
    #[serde(default)]
    pub my_presence: Option<crate::context::Presence>,
    /// Whom the side panel should show (a "show contact" click), numbered so
    /// the panel acts once per click.
    #[serde(default)]
    pub panel_request: Option<(u32, crate::context::ContactQuery)>,
    /// How the browser installed Ringside (`chrome.management`): `admin` when
    /// policy force-installed it, `development` unpacked, `normal` from a store.
    #[serde(default)]
    pub install_type: Option<String>,
    /// A newer version downloaded and waiting for the live call to end.
    #[serde(default)]
    pub update_pending: Option<String>,
    /// The local copy of the agent's contacts and the directory.
    #[serde(default)]
    pub contacts: crate::contacts::ContactsView,
    /// Who the live or incoming call's other party is, from that copy.
    #[serde(default)]
    pub caller: Option<crate::contacts::ContactHit>,
    /// Bumped each time the call history changes: the popup asks for it again.
    #[serde(default)]
    pub history: u64,
}

/// A frame whose content script checked in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSession {
    pub tab: i32,
    /// `frameId`: Firefox numbers subframes past `i32` (21474836481 seen).
    pub frame: i64,
    pub origin: String,
    /// Whether the page's CSP lets WebAssembly compile there (strict pages
    /// do not; detection then runs in the service worker).
    pub wasm: bool,
    /// Numbers marked by the first scan of the page, and how long it took
    /// (content script start to last button), once reported.
    #[serde(default)]
    pub marked: Option<u32>,
    #[serde(default)]
    pub scan_ms: Option<u32>,
}

/// What an extension page may ask on its port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UiCommand {
    /// Try to connect to the host now instead of waiting for the next retry.
    Retry,
    /// Hang up the live call (or decline the incoming one).
    Hangup,
    /// Answer the incoming call.
    Answer,
    /// Save the wrap-up of an ended call.
    SaveWrapup {
        id: String,
        tags: String,
        note: String,
    },
    /// Dismiss the last error.
    DismissNotice,
    /// The popup's per-site switch.
    SetSite { origin: String, enabled: bool },
    /// The options page saves the agent's settings (validated by the worker).
    SaveOptions { options: serde_json::Value },
    /// "Sign in with Google/Microsoft/…".
    SignIn {
        provider: crate::auth::provider::ProviderKind,
    },
    /// "Sign in with password": the email and password go once to the
    /// platform (`worker::platform_signin`); nothing keeps the password.
    SignInPassword {
        email: String,
        password: crate::secret::Secret,
    },
    /// Sign out: revoke, forget the tokens.
    SignOut,
    /// Get a new access token now (the options page's diagnostics).
    RefreshSession,
    /// Bring the local contacts up to date now (the popup opened).
    ContactsSync,
    /// Call this number from the popup's dial pad.
    DialNumber { number: String },
    /// The agent confirms a page's held dial (`confirm.rs`) in the popup.
    ConfirmDial { id: String },
    /// The agent refuses a page's held dial.
    CancelDial { id: String },
    /// "Connect Gmail with an app password": the password goes once to the
    /// host, which keeps it in the OS secret store after a good login.
    MailConnect {
        email: String,
        password: crate::mail::AppPassword,
    },
    /// Disconnect the IMAP source: the host deletes the password.
    MailDisconnect,
    /// Hold the agent's call, or resume it when held.
    ToggleHold,
    /// Mute the agent's microphone on the call, or unmute it.
    ToggleMute,
    /// Keypad digits during the call (DTMF).
    SendDtmf { digits: String },
    /// Hold the agent's call and resume the other one.
    SwapCalls,
    /// Hang up (or decline) one call by its id (the second call's card).
    EndCall { call_id: String },
    /// Blind transfer of the agent's call (E.164 number or SIP address).
    Transfer { target: String },
    /// Attended transfer: hold the caller and call the third party.
    Consult { target: String },
    /// Attended transfer: end the consultation, transfer the caller to it.
    CompleteTransfer,
    /// Attended transfer: end the consultation, resume the caller.
    ReturnToCaller,
    /// The agent's do-not-disturb switch.
    SetDnd { on: bool },
}

/// One-shot messages (`runtime.sendMessage`) the service worker accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum OneShot {
    /// A content script announces itself.
    #[serde(rename = "content.hello")]
    ContentHello { wasm: bool },
    /// An extension page asks for the current state (options diagnostics).
    #[serde(rename = "state")]
    State,
    /// The side panel looks a contact up.
    #[serde(rename = "context.contact")]
    ContextContact { query: crate::context::ContactQuery },
    /// One section of the side panel for a contact's addresses.
    #[serde(rename = "context.section")]
    ContextSection {
        integration: crate::context::Integration,
        emails: Vec<String>,
    },
    /// Whether the contact is in a meeting now.
    #[serde(rename = "context.presence")]
    ContextPresence { email: String },
    /// Connect (incremental authorization) or disconnect an integration.
    #[serde(rename = "context.connect")]
    ContextConnect {
        integration: crate::context::Integration,
    },
    #[serde(rename = "context.disconnect")]
    ContextDisconnect {
        integration: crate::context::Integration,
    },
    /// Which integrations are connected.
    #[serde(rename = "context.connected")]
    ContextConnected,
    /// The "show contact" button beside a call button (a trusted click), or
    /// on a call of the popup's history (which opened the panel itself).
    #[serde(rename = "contact.show")]
    ShowContact { number: String },
    /// Search the local contacts as the agent types (popup dial pad).
    #[serde(rename = "contacts.search")]
    ContactsSearch { query: String },
    /// Create (no id) or edit one of the agent's contacts (popup).
    #[serde(rename = "contacts.save")]
    ContactsSave {
        #[serde(default)]
        id: Option<String>,
        draft: crate::contacts::merge::Draft,
        /// What the editor started from, and that version's etag: the
        /// merge base when the source changed meanwhile.
        #[serde(default)]
        base: Option<crate::contacts::merge::Draft>,
        #[serde(default)]
        etag: Option<String>,
    },
    /// The agent's call history, filtered by what they typed (popup).
    #[serde(rename = "history.search")]
    HistorySearch { query: String },
    /// A content script asks for the numbers in text segments and links.
    #[serde(rename = "detect")]
    Detect {
        #[serde(default)]
        texts: Vec<String>,
        #[serde(default)]
        links: Vec<String>,
    },
    /// A content script reports the first scan of its page.
    #[serde(rename = "content.scanned")]
    ContentScanned { ms: f64, marked: u32 },
    /// The agent clicked a call button (a trusted click, checked in the page).
    #[serde(rename = "dial")]
    Dial {
        #[serde(default)]
        number: Option<String>,
        #[serde(default)]
        uri: Option<String>,
        #[serde(default)]
        extension: Option<String>,
        display: String,
    },
}

/// The parts of `runtime.MessageSender` the service worker looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Sender {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub origin: Option<String>,
    /// Firefox's subframe ids do not fit an `i32` (21474836481 was seen);
    /// every id a browser gives is a safe JS integer, so `i64` holds them.
    #[serde(default, rename = "frameId")]
    pub frame_id: Option<i64>,
    #[serde(default)]
    pub tab: Option<SenderTab>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SenderTab {
    pub id: i32,
}

/// Who sent a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderKind {
    /// A page of this extension (popup, options, side panel).
    ExtensionPage,
    /// This extension's content script in a web page frame.
    ContentScript {
        tab: i32,
        frame: i64,
        origin: String,
    },
    /// Anything else: another extension, a web page, a malformed sender.
    Untrusted,
}

/// This extension as its own pages see it: the id (`runtime.id`) and the
/// origin of its pages, taken from `runtime.getURL("")` because browsers
/// differ: `chrome-extension://<id>` in Chromium, `moz-extension://<uuid>` in
/// Firefox (a per-profile uuid, not the add-on id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnExtension {
    pub id: String,
    pub origin: String,
}

impl OwnExtension {
    /// From `runtime.id` and `runtime.getURL("")` (`scheme://host/`).
    pub fn new(id: &str, base_url: &str) -> OwnExtension {
        OwnExtension {
            id: id.to_owned(),
            origin: origin_of(base_url),
        }
    }
}

/// `scheme://host[:port]` of a URL (lower-cased scheme and host), or the
/// empty string when it has no `scheme://`.
fn origin_of(url: &str) -> String {
    let Some(i) = url.find("://") else {
        return String::new();
    };
    let after = i + 3;
    let end = url[after..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |j| after + j);
    url[..end].to_ascii_lowercase()
}

/// Classifies a sender. Messages from anything but this extension are untrusted,
/// and a content script must come from an http(s) page in a tab.
pub fn classify_sender(sender: &Sender, own: &OwnExtension) -> SenderKind {
    if own.id.is_empty() || sender.id.as_deref() != Some(own.id.as_str()) {
        return SenderKind::Untrusted;
    }
    let origin = sender
        .origin
        .as_deref()
        .map(str::to_ascii_lowercase)
        .or_else(|| sender.url.as_deref().map(origin_of));
    let is_own = |o: &str| !own.origin.is_empty() && o == own.origin;
    match (&sender.tab, origin) {
        (None, Some(o)) if is_own(&o) => SenderKind::ExtensionPage,
        (Some(tab), Some(o)) if o.starts_with("http://") || o.starts_with("https://") => {
            SenderKind::ContentScript {
                tab: tab.id,
                frame: sender.frame_id.unwrap_or(0),
                origin: o,
            }
        }
        // An extension page opened as a tab (e.g. the popup URL in a tab).
        (Some(_), Some(o)) if is_own(&o) => SenderKind::ExtensionPage,
        _ => SenderKind::Untrusted,
    }
}

/// Records a content-script session, most recent first, bounded.
pub fn record_page(pages: &mut Vec<PageSession>, page: PageSession) {
    pages.retain(|p| !(p.tab == page.tab && p.frame == page.frame));
    pages.insert(0, page);
    pages.truncate(MAX_PAGES);
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "fempdkhheodefkjhkbekalfieneojckb";
    /// Firefox: the add-on id (`browser_specific_settings.gecko.id`) and the
    /// per-profile uuid of its pages' origin.
    const GECKO_ID: &str = "ringside@ringside.dev";
    const UUID: &str = "5b1f0d2e-7c3a-4e59-9a0b-3d5e6f7a8b9c";

    fn chromium() -> OwnExtension {
        OwnExtension::new(ID, &format!("chrome-extension://{ID}/"))
    }

    fn firefox() -> OwnExtension {
        OwnExtension::new(GECKO_ID, &format!("moz-extension://{UUID}/"))
    }

    fn sender(id: &str, url: &str, tab: Option<i32>) -> Sender {
        Sender {
            id: Some(id.into()),
            url: Some(url.into()),
            origin: None,
            frame_id: Some(0),
            tab: tab.map(|id| SenderTab { id }),
        }
    }

    #[test]
    fn extension_pages_and_content_scripts() {
        assert_eq!(
            classify_sender(
                &sender(ID, &format!("chrome-extension://{ID}/popup.html"), None),
                &chromium()
            ),
            SenderKind::ExtensionPage
        );
        assert_eq!(
            classify_sender(
                &sender(ID, "https://crm.example/a/b?c", Some(7)),
                &chromium()
            ),
            SenderKind::ContentScript {
                tab: 7,
                frame: 0,
                origin: "https://crm.example".into()
            }
        );
    }

    #[test]
    fn firefox_pages_are_the_extension_by_their_moz_extension_origin() {
        for page in ["popup.html", "options.html", "sidepanel.html?x#y"] {
            let s = sender(GECKO_ID, &format!("moz-extension://{UUID}/{page}"), None);
            assert_eq!(classify_sender(&s, &firefox()), SenderKind::ExtensionPage);
        }
        // With the origin field set (as Firefox sends it) and opened as a tab.
        let mut s = sender(
            GECKO_ID,
            &format!("moz-extension://{UUID}/popup.html"),
            Some(3),
        );
        s.origin = Some(format!("moz-extension://{UUID}"));
        assert_eq!(classify_sender(&s, &firefox()), SenderKind::ExtensionPage);
        // The Chromium form of the same id is not this extension's origin.
        let s = sender(
            GECKO_ID,
            &format!("chrome-extension://{GECKO_ID}/popup.html"),
            None,
        );
        assert_eq!(classify_sender(&s, &firefox()), SenderKind::Untrusted);
    }

    #[test]
    fn firefox_subframe_ids_wider_than_i32_are_accepted() {
        let mut s = sender(GECKO_ID, "https://crm.example/frame.html", Some(4));
        s.frame_id = Some(21_474_836_481);
        assert_eq!(
            classify_sender(&s, &firefox()),
            SenderKind::ContentScript {
                tab: 4,
                frame: 21_474_836_481,
                origin: "https://crm.example".into()
            }
        );
        // As the browser hands it over (JSON numbers).
        let s: Sender = serde_json::from_str(
            r#"{"id":"ringside@ringside.dev","url":"https://a.example/","frameId":21474836481,"tab":{"id":4}}"#,
        )
        .unwrap();
        assert_eq!(s.frame_id, Some(21_474_836_481));
    }

    #[test]
    fn strangers_are_untrusted() {
        // Another extension.
        assert_eq!(
            classify_sender(
                &sender("abcdefghijklmnopabcdefghijklmnop", "https://x/", Some(1)),
                &chromium()
            ),
            SenderKind::Untrusted
        );
        // Our id but a non-web page in a tab (file:, data:, another extension's page).
        assert_eq!(
            classify_sender(&sender(ID, "file:///etc/passwd", Some(1)), &chromium()),
            SenderKind::Untrusted
        );
        // Claims to be a content script but has no tab.
        assert_eq!(
            classify_sender(&sender(ID, "https://x/", None), &chromium()),
            SenderKind::Untrusted
        );
        assert_eq!(
            classify_sender(&Sender::default(), &chromium()),
            SenderKind::Untrusted
        );
    }

    #[test]
    fn firefox_strangers_are_untrusted() {
        let other_uuid = "0a0b0c0d-1111-2222-3333-444455556666";
        // A web page (no tab: not a content script; its origin is not ours).
        assert_eq!(
            classify_sender(&sender(GECKO_ID, "https://evil.example/", None), &firefox()),
            SenderKind::Untrusted
        );
        // Another extension's page, by its own id or claiming ours.
        for id in ["other@addons.example", GECKO_ID] {
            let s = sender(
                id,
                &format!("moz-extension://{other_uuid}/popup.html"),
                None,
            );
            assert_eq!(classify_sender(&s, &firefox()), SenderKind::Untrusted);
            let s = sender(id, &format!("moz-extension://{other_uuid}/x.html"), Some(2));
            assert_eq!(classify_sender(&s, &firefox()), SenderKind::Untrusted);
        }
        // Our uuid as a prefix of a longer host is not our origin.
        let s = sender(
            GECKO_ID,
            &format!("moz-extension://{UUID}x/popup.html"),
            None,
        );
        assert_eq!(classify_sender(&s, &firefox()), SenderKind::Untrusted);
        // A worker that could not read its own origin trusts no page.
        let blind = OwnExtension::new(GECKO_ID, "");
        let s = sender(
            GECKO_ID,
            &format!("moz-extension://{UUID}/popup.html"),
            None,
        );
        assert_eq!(classify_sender(&s, &blind), SenderKind::Untrusted);
        // Nor does an empty id match a sender without one.
        let nobody = OwnExtension::new("", &format!("moz-extension://{UUID}/"));
        let mut s = sender("", &format!("moz-extension://{UUID}/popup.html"), None);
        s.id = None;
        assert_eq!(classify_sender(&s, &nobody), SenderKind::Untrusted);
    }

    #[test]
    fn messages_parse() {
        let m: OneShot = serde_json::from_str(r#"{"type":"content.hello","wasm":false}"#).unwrap();
        assert_eq!(m, OneShot::ContentHello { wasm: false });
        assert!(serde_json::from_str::<OneShot>(r#"{"type":"dial","to":"1"}"#).is_err());
        let c: UiCommand = serde_json::from_str(r#"{"type":"retry"}"#).unwrap();
        assert_eq!(c, UiCommand::Retry);
    }

    #[test]
    fn pages_are_bounded_and_deduplicated() {
        let mut pages = vec![];
        for i in 0..60 {
            record_page(
                &mut pages,
                PageSession {
                    tab: i,
                    frame: 0,
                    origin: "https://a".into(),
                    wasm: true,
                    marked: None,
                    scan_ms: None,
                },
            );
        }
        assert_eq!(pages.len(), MAX_PAGES);
        record_page(
            &mut pages,
            PageSession {
                tab: 59,
                frame: 0,
                origin: "https://b".into(),
                wasm: false,
                marked: None,
                scan_ms: None,
            },
        );
        assert_eq!(pages.len(), MAX_PAGES);
        assert_eq!(pages[0].origin, "https://b");
    }
}

#[path = "surface_decode.rs"]
mod decode;
