//! Decoding [`OneShot`] and [`UiCommand`] from their JSON text without
//! serde's buffering. An internally tagged enum (`{"type": ..., fields}`)
//! is decoded by serde through its `Content` buffer, which compiles every
//! field's decoder a second time (about 20 KB gzipped of the worker's wasm,
//! docs/bench.md). Here the `type` is read first, then the same text as the
//! externally tagged `{"<type>": {fields}}` into a mirror of the enum with the
//! same names and field attributes; the mirror's variants ignore the `type`
//! key as they ignore any unknown key. The derived `Deserialize` (tests, the
//! host's tools) and `Serialize` (what the pages send) are unchanged.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde::de::IgnoredAny;

use super::{OneShot, UiCommand};
use crate::auth::provider::ProviderKind;
use crate::contacts::merge::Draft;
use crate::context::{ContactQuery, Integration};
use crate::mail::AppPassword;

/// Reads `{"type": T, ...}` as the externally tagged `{"T": {...}}`.
fn from_tagged<E: DeserializeOwned>(text: &str) -> serde_json::Result<E> {
    #[derive(Deserialize)]
    struct Tag {
        #[serde(rename = "type")]
        kind: String,
    }
    let tag = serde_json::from_str::<Tag>(text)?.kind;
    serde_json::from_str(&format!("{{{}:{text}}}", serde_json::to_string(&tag)?))
}

impl OneShot {
    /// A one-shot message from its JSON text (what `JSON.stringify` gave).
    pub fn from_json(text: &str) -> serde_json::Result<OneShot> {
        from_tagged::<OneShotWire>(text).map(OneShot::from)
    }
}

impl UiCommand {
    /// A page's command from its JSON text.
    pub fn from_json(text: &str) -> serde_json::Result<UiCommand> {
        from_tagged::<UiCommandWire>(text).map(UiCommand::from)
    }
}

#[derive(Deserialize)]
enum OneShotWire {
    #[serde(rename = "content.hello")]
    ContentHello { wasm: bool },
    #[serde(rename = "state")]
    State {},
    #[serde(rename = "context.contact")]
    ContextContact { query: ContactQuery },
    #[serde(rename = "context.section")]
    ContextSection {
        integration: Integration,
        emails: Vec<String>,
    },
    #[serde(rename = "context.presence")]
    ContextPresence { email: String },
    #[serde(rename = "context.connect")]
    ContextConnect { integration: Integration },
    #[serde(rename = "context.disconnect")]
    ContextDisconnect { integration: Integration },
    #[serde(rename = "context.connected")]
    ContextConnected {},
    #[serde(rename = "contact.show")]
    ShowContact { number: String },
    #[serde(rename = "contacts.search")]
    ContactsSearch { query: String },
    #[serde(rename = "contacts.save")]
    ContactsSave {
        #[serde(default)]
        id: Option<String>,
        draft: Draft,
        #[serde(default)]
        base: Option<Draft>,
        #[serde(default)]
        etag: Option<String>,
    },
    #[serde(rename = "history.search")]
    HistorySearch { query: String },
    #[serde(rename = "detect")]
    Detect {
        #[serde(default)]
        texts: Vec<String>,
        #[serde(default)]
        links: Vec<String>,
    },
    #[serde(rename = "content.scanned")]
    ContentScanned { ms: f64, marked: u32 },
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

impl From<OneShotWire> for OneShot {
    fn from(w: OneShotWire) -> OneShot {
        use OneShotWire as W;
        match w {
            W::ContentHello { wasm } => OneShot::ContentHello { wasm },
            W::State {} => OneShot::State,
            W::ContextContact { query } => OneShot::ContextContact { query },
            W::ContextSection {
                integration,
                emails,
            } => OneShot::ContextSection {
                integration,
                emails,
            },
            W::ContextPresence { email } => OneShot::ContextPresence { email },
            W::ContextConnect { integration } => OneShot::ContextConnect { integration },
            W::ContextDisconnect { integration } => OneShot::ContextDisconnect { integration },
            W::ContextConnected {} => OneShot::ContextConnected,
            W::ShowContact { number } => OneShot::ShowContact { number },
            W::ContactsSearch { query } => OneShot::ContactsSearch { query },
            W::ContactsSave {
                id,
                draft,
                base,
                etag,
            } => OneShot::ContactsSave {
                id,
                draft,
                base,
                etag,
            },
            W::HistorySearch { query } => OneShot::HistorySearch { query },
            W::Detect { texts, links } => OneShot::Detect { texts, links },
            W::ContentScanned { ms, marked } => OneShot::ContentScanned { ms, marked },
            W::Dial {
                number,
                uri,
                extension,
                display,
            } => OneShot::Dial {
                number,
                uri,
                extension,
                display,
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum UiCommandWire {
    Retry {},
    Hangup {},
    Answer {},
    SaveWrapup {
        id: String,
        tags: String,
        note: String,
    },
    DismissNotice {},
    SetSite {
        origin: String,
        enabled: bool,
    },
    SaveOptions {
        options: serde_json::Value,
    },
    SignIn {
        provider: ProviderKind,
    },
    SignInPassword {
        email: String,
        password: crate::secret::Secret,
    },
    SignOut {},
    RefreshSession {},
    ContactsSync {},
    DialNumber {
        number: String,
    },
    ConfirmDial {
        id: String,
    },
    CancelDial {
        id: String,
    },
    MailConnect {
        email: String,
        password: AppPassword,
    },
    MailDisconnect {},
    // The call controls share one decoder, or none (each struct of its own
    // costs the worker about 2 KB of wasm); a missing field is empty (the
    // worker checks every value).
    ToggleHold(IgnoredAny),
    ToggleMute(IgnoredAny),
    SendDtmf(CallArgs),
    SwapCalls(IgnoredAny),
    EndCall(CallArgs),
    Transfer(CallArgs),
    Consult(CallArgs),
    CompleteTransfer(IgnoredAny),
    ReturnToCaller(IgnoredAny),
    SetDnd(CallArgs),
}

/// The fields of every call control command.
#[derive(Default, Deserialize)]
#[serde(default)]
struct CallArgs {
    digits: String,
    call_id: String,
    target: String,
    on: bool,
}

impl From<UiCommandWire> for UiCommand {
    fn from(w: UiCommandWire) -> UiCommand {
        use UiCommandWire as W;
        match w {
            W::Retry {} => UiCommand::Retry,
            W::Hangup {} => UiCommand::Hangup,
            W::Answer {} => UiCommand::Answer,
            W::SaveWrapup { id, tags, note } => UiCommand::SaveWrapup { id, tags, note },
            W::DismissNotice {} => UiCommand::DismissNotice,
            W::SetSite { origin, enabled } => UiCommand::SetSite { origin, enabled },
            W::SaveOptions { options } => UiCommand::SaveOptions { options },
            W::SignIn { provider } => UiCommand::SignIn { provider },
            W::SignInPassword { email, password } => UiCommand::SignInPassword { email, password },
            W::SignOut {} => UiCommand::SignOut,
            W::RefreshSession {} => UiCommand::RefreshSession,
            W::ContactsSync {} => UiCommand::ContactsSync,
            W::DialNumber { number } => UiCommand::DialNumber { number },
            W::ConfirmDial { id } => UiCommand::ConfirmDial { id },
            W::CancelDial { id } => UiCommand::CancelDial { id },
            W::MailConnect { email, password } => UiCommand::MailConnect { email, password },
            W::MailDisconnect {} => UiCommand::MailDisconnect,
            W::ToggleHold(_) => UiCommand::ToggleHold,
            W::ToggleMute(_) => UiCommand::ToggleMute,
            W::SendDtmf(a) => UiCommand::SendDtmf { digits: a.digits },
            W::SwapCalls(_) => UiCommand::SwapCalls,
            W::EndCall(a) => UiCommand::EndCall { call_id: a.call_id },
            W::Transfer(a) => UiCommand::Transfer { target: a.target },
            W::Consult(a) => UiCommand::Consult { target: a.target },
            W::CompleteTransfer(_) => UiCommand::CompleteTransfer,
            W::ReturnToCaller(_) => UiCommand::ReturnToCaller,
            W::SetDnd(a) => UiCommand::SetDnd { on: a.on },
        }
    }
}

#[cfg(test)]
#[path = "surface_decode_tests.rs"]
mod tests;
