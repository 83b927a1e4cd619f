//! Which sender may send which message: the security rule of the worker's
//! message handler, as one table. A content script runs in pages the agent
//! does not control, so it may only announce itself, ask for numbers, report
//! its scan, and pass on the agent's clicks (call, show contact); everything
//! that reads the agent's data (contacts, the side panel's context, state)
//! or changes it is for the extension's own pages. Anything else (another
//! extension, a web page, a sender that cannot be read) may send nothing.

use crate::surface::{OneShot, SenderKind, UI_PORT};

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// This extension's content script in a web page.
    ContentScript,
    /// The popup, options page or side panel.
    ExtensionPage,
    /// Either: "show contact" is a click in a page or in the popup's history.
    Both,
}

/// Every one-shot message by its wire name, and who may send it.
pub const TABLE: &[(&str, Audience)] = &[
    ("content.hello", Audience::ContentScript),
    ("content.scanned", Audience::ContentScript),
    ("detect", Audience::ContentScript),
    ("dial", Audience::ContentScript),
    ("contact.show", Audience::Both),
    ("state", Audience::ExtensionPage),
    ("context.contact", Audience::ExtensionPage),
    ("context.section", Audience::ExtensionPage),
    ("context.presence", Audience::ExtensionPage),
    ("context.connect", Audience::ExtensionPage),
    ("context.disconnect", Audience::ExtensionPage),
    ("context.connected", Audience::ExtensionPage),
    ("contacts.search", Audience::ExtensionPage),
    ("contacts.save", Audience::ExtensionPage),
    ("history.search", Audience::ExtensionPage),
];

/// The wire name of a message (its `type`).
pub fn name(msg: &OneShot) -> &'static str {
    match msg {
        OneShot::ContentHello { .. } => "content.hello",
        OneShot::ContentScanned { .. } => "content.scanned",
        OneShot::Detect { .. } => "detect",
        OneShot::Dial { .. } => "dial",
        OneShot::ShowContact { .. } => "contact.show",
        OneShot::State => "state",
        OneShot::ContextContact { .. } => "context.contact",
        OneShot::ContextSection { .. } => "context.section",
        OneShot::ContextPresence { .. } => "context.presence",
        OneShot::ContextConnect { .. } => "context.connect",
        OneShot::ContextDisconnect { .. } => "context.disconnect",
        OneShot::ContextConnected => "context.connected",
        OneShot::ContactsSearch { .. } => "contacts.search",
        OneShot::ContactsSave { .. } => "contacts.save",
        OneShot::HistorySearch { .. } => "history.search",
    }
}

/// Who may send `msg`.
pub fn audience(msg: &OneShot) -> Audience {
    let n = name(msg);
    TABLE
        .iter()
        .find(|(k, _)| *k == n)
        .map_or(Audience::ExtensionPage, |(_, a)| *a)
}

/// Whether `sender` may send `msg`.
pub fn permits(msg: &OneShot, sender: &SenderKind) -> bool {
    matches!(
        (audience(msg), sender),
        (
            Audience::ContentScript | Audience::Both,
            SenderKind::ContentScript { .. }
        ) | (
            Audience::ExtensionPage | Audience::Both,
            SenderKind::ExtensionPage
        )
    )
}

/// Whether a long-lived port may be kept: only the extension's own pages,
/// on the `ui` port (live state and the agent's commands).
pub fn permits_port(name: &str, sender: &SenderKind) -> bool {
    name == UI_PORT && *sender == SenderKind::ExtensionPage
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page() -> SenderKind {
        SenderKind::ExtensionPage
    }
    fn content() -> SenderKind {
        SenderKind::ContentScript {
            tab: 1,
            frame: 0,
            origin: "https://crm.example".into(),
        }
    }
    fn untrusted() -> SenderKind {
        SenderKind::Untrusted
    }

    /// The message as it arrives on the wire.
    fn msg(v: serde_json::Value) -> OneShot {
        serde_json::from_value(v).expect("a valid message")
    }

    /// One row: who may send it, and that nobody else may.
    fn row(m: OneShot, wire: &str, allowed: Audience) {
        assert_eq!(name(&m), wire);
        assert_eq!(audience(&m), allowed, "{wire}");
        assert_eq!(
            permits(&m, &content()),
            allowed == Audience::ContentScript,
            "{wire} from a content script"
        );
        assert_eq!(
            permits(&m, &page()),
            allowed == Audience::ExtensionPage,
            "{wire} from an extension page"
        );
        assert!(
            !permits(&m, &untrusted()),
            "{wire} from an untrusted sender"
        );
    }

    #[test]
    fn content_hello_from_content_scripts_only() {
        let m = msg(json!({"type": "content.hello", "wasm": true}));
        row(m, "content.hello", Audience::ContentScript);
    }

    #[test]
    fn content_scanned_from_content_scripts_only() {
        let m = msg(json!({"type": "content.scanned", "ms": 3.0, "marked": 2}));
        row(m, "content.scanned", Audience::ContentScript);
    }

    #[test]
    fn detect_from_content_scripts_only() {
        let m = msg(json!({"type": "detect", "texts": ["01 23 45 67 89"]}));
        row(m, "detect", Audience::ContentScript);
    }

    #[test]
    fn dial_from_content_scripts_only() {
        // The popup dials through its `ui` port command, never this message.
        let m = msg(json!({"type": "dial", "number": "+33123456789", "display": "x"}));
        row(m, "dial", Audience::ContentScript);
    }

    #[test]
    fn show_contact_from_content_scripts_and_extension_pages() {
        // A page's button, or a call of the popup's history; nobody else.
        let m = msg(json!({"type": "contact.show", "number": "+33123456789"}));
        assert_eq!(name(&m), "contact.show");
        assert_eq!(audience(&m), Audience::Both);
        assert!(permits(&m, &content()));
        assert!(permits(&m, &page()));
        assert!(!permits(&m, &untrusted()));
    }

    #[test]
    fn state_from_extension_pages_only() {
        row(
            msg(json!({"type": "state"})),
            "state",
            Audience::ExtensionPage,
        );
    }

    #[test]
    fn context_contact_from_extension_pages_only() {
        let m = msg(json!({"type": "context.contact", "query": {"phone": "+33123456789"}}));
        row(m, "context.contact", Audience::ExtensionPage);
    }

    #[test]
    fn context_section_from_extension_pages_only() {
        let m = msg(
            json!({"type": "context.section", "integration": "gmail", "emails": ["a@b.example"]}),
        );
        row(m, "context.section", Audience::ExtensionPage);
    }

    #[test]
    fn context_presence_from_extension_pages_only() {
        let m = msg(json!({"type": "context.presence", "email": "a@b.example"}));
        row(m, "context.presence", Audience::ExtensionPage);
    }

    #[test]
    fn context_connect_from_extension_pages_only() {
        let m = msg(json!({"type": "context.connect", "integration": "calendar"}));
        row(m, "context.connect", Audience::ExtensionPage);
    }

    #[test]
    fn context_disconnect_from_extension_pages_only() {
        let m = msg(json!({"type": "context.disconnect", "integration": "drive"}));
        row(m, "context.disconnect", Audience::ExtensionPage);
    }

    #[test]
    fn context_connected_from_extension_pages_only() {
        let m = msg(json!({"type": "context.connected"}));
        row(m, "context.connected", Audience::ExtensionPage);
    }

    #[test]
    fn contacts_search_from_extension_pages_only() {
        let m = msg(json!({"type": "contacts.search", "query": "remi"}));
        row(m, "contacts.search", Audience::ExtensionPage);
    }

    #[test]
    fn contacts_save_from_extension_pages_only() {
        let m = msg(json!({"type": "contacts.save", "draft": {"name": "Rémi"}}));
        row(m, "contacts.save", Audience::ExtensionPage);
    }

    #[test]
    fn history_from_extension_pages_only() {
        // The agent's calls are never a page's to read.
        let m = msg(json!({"type": "history.search", "query": "ana"}));
        row(m, "history.search", Audience::ExtensionPage);
    }

    #[test]
    fn every_message_has_exactly_one_row() {
        for (wire, _) in TABLE {
            assert_eq!(TABLE.iter().filter(|(k, _)| k == wire).count(), 1, "{wire}");
        }
        // 15 messages in `OneShot`; a new one must be added to the table.
        assert_eq!(TABLE.len(), 15);
    }

    #[test]
    fn the_ui_port_is_for_extension_pages_only() {
        assert!(permits_port(UI_PORT, &page()));
        assert!(!permits_port(UI_PORT, &content()));
        assert!(!permits_port(UI_PORT, &untrusted()));
        assert!(!permits_port("other", &page()));
    }
}
