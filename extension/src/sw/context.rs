//! The side panel's context, worker side: the executor of
//! `ringside_core::worker::panel` (the contact, each section, a meeting
//! status, with their fallbacks and their cache). It asks the local contact
//! store, calls Google's APIs with retries, searches IMAP through the host,
//! and keeps what the flows say to keep; plus connect (incremental
//! authorization) and disconnect per integration.

use ringside_core::auth::session::Notice;
use ringside_core::context::section::{ContactAnswer, PresenceAnswer, SectionAnswer};
use ringside_core::context::{ContactQuery, Integration};
use ringside_core::worker::http::HttpRequest;
use ringside_core::worker::panel::{
    self, CacheEntry, ContactLookup, Failure, LookupStep, PanelAgent, PresenceCheck, PresenceStep,
    Retried, Retry, SectionLoad, SectionSources, SectionStep,
};
use serde_json::json;

use super::api::{add_scope, granted_scope};
use super::contacts::{lookup, send};
use super::kernel::sleep;
use super::kernel::{broadcast, now_ms, with_worker};
use crate::chrome::{self, Area};

/// storage.local: the integrations the agent disconnected (no secrets).
const KEY_DISCONNECTED: &str = "contextDisconnected";

/// At startup: the integrations the agent turned off.
pub(super) async fn restore() {
    let local = chrome::storage_get(Area::Local, Some(&[KEY_DISCONNECTED]))
        .await
        .unwrap_or_default();
    let off = panel::disconnected_of(&local[KEY_DISCONNECTED]);
    with_worker(|w| w.context.disconnected = off);
}

/// Who is asking: None when signed out.
fn agent() -> Option<PanelAgent> {
    with_worker(|w| w.panel_agent()).flatten()
}

fn roots() -> ringside_core::api::ApiRoots {
    with_worker(|w| w.settings.api_roots()).unwrap_or_default()
}

fn remember(entry: Option<Box<CacheEntry>>) {
    if let Some(entry) = entry {
        let now = now_ms();
        with_worker(|w| w.context.remember(*entry, now));
    }
}

/// One call with retries (`panel::Retry` says when to wait and when to
/// give up).
async fn call(request: HttpRequest) -> Result<String, Failure> {
    let mut retry = Retry::default();
    loop {
        match retry.answer(send(&request).await) {
            Retried::Wait(ms) => sleep(ms).await,
            Retried::Done(got) => return got,
        }
    }
}

/// The contact for a query.
pub(super) async fn contact(query: ContactQuery) -> ContactAnswer {
    let (agent, roots) = (agent(), roots());
    let Some((mut flow, mut step)) =
        with_worker(|w| ContactLookup::start(agent.as_ref(), query, &w.context, &roots, now_ms()))
    else {
        return ContactAnswer::SignedOut;
    };
    loop {
        step = match step {
            LookupStep::Local(q) => flow.local(lookup(&q).await),
            LookupStep::Call(request) => flow.called(call(request).await),
            LookupStep::Done(answer, entry) => {
                remember(entry);
                return answer;
            }
        };
    }
}

/// One section for a contact's addresses.
pub(super) async fn section(integration: Integration, emails: Vec<String>) -> SectionAnswer {
    let (agent, roots) = (agent(), roots());
    let sources = SectionSources {
        granted: granted_scope().await.unwrap_or_default(),
        imap: with_worker(|w| w.mail.connected.clone()).flatten(),
        imap_reconnect: with_worker(|w| w.mail.reconnect_needed()).flatten(),
    };
    let Some((mut flow, mut step)) = with_worker(|w| {
        SectionLoad::start(
            agent.as_ref(),
            integration,
            emails,
            &sources,
            &w.context,
            &roots,
            now_ms(),
        )
    }) else {
        return SectionAnswer::SignedOut;
    };
    loop {
        step = match step {
            SectionStep::Imap(addresses) => flow.imap(super::mail::search(addresses).await),
            SectionStep::Call(requests) => {
                let calls = requests.into_iter().map(call);
                flow.called(futures::future::join_all(calls).await)
            }
            SectionStep::Done(answer, entry) => {
                remember(entry);
                return answer;
            }
        };
    }
}

/// Whether `email` is in a meeting now (Calendar connected only).
pub(super) async fn presence(email: String) -> PresenceAnswer {
    let (agent, roots) = (agent(), roots());
    let granted = granted_scope().await.unwrap_or_default();
    let Some((mut flow, mut step)) = with_worker(|w| {
        PresenceCheck::start(
            agent.as_ref(),
            email,
            &granted,
            &w.context,
            &roots,
            now_ms(),
        )
    }) else {
        return PresenceAnswer::Unknown;
    };
    loop {
        step = match step {
            PresenceStep::Call(request) => flow.called(call(request).await),
            PresenceStep::Done(answer, entry) => {
                remember(entry);
                return answer;
            }
        };
    }
}

/// The agent's own meeting status for the popup, looked at again when the
/// meeting ends.
pub(super) async fn refresh_own_presence() {
    let Some(me) = agent() else {
        return;
    };
    let (p, again) = panel::own_presence(presence(me.email).await, now_ms());
    if let Some(wait) = again {
        chrome::set_timeout(wait, || {
            wasm_bindgen_futures::spawn_local(refresh_own_presence())
        });
    }
    let changed = with_worker(|w| {
        let changed = w.my_presence != p;
        w.my_presence = p;
        changed
    });
    if changed == Some(true) {
        broadcast();
    }
}

async fn save_disconnected(off: Vec<Integration>) {
    let _ = chrome::storage_set(Area::Local, &json!({ KEY_DISCONNECTED: off })).await;
}

/// "Connect": asks for the scope alone when it is not granted yet.
pub(super) async fn connect(integration: Integration) -> Result<(), Notice> {
    let granted = granted_scope().await.unwrap_or_default();
    if !integration.granted_in(&granted) {
        add_scope(integration.scope())
            .await
            .map_err(|f| f.notice(""))?;
    }
    let off = with_worker(|w| w.context.connect(integration)).unwrap_or_default();
    save_disconnected(off).await;
    if integration == Integration::Calendar {
        wasm_bindgen_futures::spawn_local(refresh_own_presence());
    }
    Ok(())
}

/// The gear's "Disconnect": Ringside stops using the scope and drops what it
/// cached. Google keeps the grant (it is revoked as a whole, at sign-out).
pub(super) async fn disconnect(integration: Integration) {
    let off = with_worker(|w| w.context.disconnect(integration)).unwrap_or_default();
    save_disconnected(off).await;
}

/// Which integrations are connected now (for the panel's gear and badges).
pub(super) async fn connected() -> Vec<Integration> {
    let granted = granted_scope().await.unwrap_or_default();
    with_worker(|w| w.context.connected(&granted)).unwrap_or_default()
}
