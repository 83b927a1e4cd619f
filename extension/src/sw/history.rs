//! The call history and the call desk kept across browser restarts, carried
//! out: the rules are `ringside_core::history` and
//! `ringside_core::worker::desk_store`; this reads and writes the
//! `ringside-calls` database (`idb`).

use std::cell::RefCell;

use ringside_core::calls::{CallDesk, EndedCall, SavedTo, WrapUp};
use ringside_core::history::{self, Entry, History, Wrapped};
use ringside_core::outbox::AgentKey;
use ringside_core::worker::desk_store::{self, DeskStore};
use wasm_bindgen_futures::spawn_local;

use super::kernel::{broadcast, settings_ready, with_worker};
use super::{contacts, idb};
use crate::error::{JsError, log_warn};

/// The `meta` key of whose history the database holds: `=` and the owner
/// (`history::owner_of`), or "" for nobody's.
const OWNER_KEY: &str = "owner";

thread_local! {
    /// None until read from IndexedDB.
    static HISTORY: RefCell<Option<History>> = const { RefCell::new(None) };
    static STORE: RefCell<DeskStore> = RefCell::new(DeskStore::default());
}

fn warn(e: JsError) {
    log_warn(&format!("call history: {e}"));
}

/// The history changed: open popups ask for it again.
fn changed() {
    with_worker(|w| w.history += 1);
    broadcast();
}

/// The desk the last browser session kept (read once, at start).
pub(super) async fn kept() -> Option<CallDesk> {
    let text = idb::calls_meta(desk_store::KEY).await.unwrap_or_else(|e| {
        warn(e);
        None
    })?;
    serde_json::from_str(&text).ok()
}

/// The kept desk was read: changes are written from now on.
pub(super) fn ready() {
    STORE.with(|s| s.borrow_mut().ready());
}

/// After each change of the desk (`text`: its JSON): keep it, and add the
/// calls that ended to the history.
pub(super) fn desk_changed(desk: &CallDesk, text: &str) {
    let Some(ended) = STORE.with(|s| s.borrow_mut().changed(desk)) else {
        return;
    };
    let metas = [(desk_store::KEY, text.to_owned())];
    spawn_local(async move {
        if let Err(e) = idb::calls_write(false, &[], &[], &metas).await {
            warn(e);
        }
        if !ended.is_empty() {
            record(ended).await;
        }
    });
}

async fn loaded() -> Result<(), JsError> {
    if HISTORY.with(|h| h.borrow().is_some()) {
        return Ok(());
    }
    let owner = idb::calls_meta(OWNER_KEY)
        .await?
        .and_then(|o| o.strip_prefix('=').map(str::to_owned));
    let all: Vec<Entry> = idb::calls_all()
        .await?
        .iter()
        .filter_map(|t| Entry::from_record(t))
        .collect();
    HISTORY.with(|h| {
        h.borrow_mut()
            .get_or_insert_with(|| History::load(owner, all));
    });
    Ok(())
}

fn me() -> Option<String> {
    with_worker(|w| {
        history::me(
            w.signed_in_agent().as_ref(),
            !w.settings.identity_providers.is_empty(),
        )
    })
    .flatten()
}

fn text(e: &Entry) -> (String, String) {
    (e.id.clone(), e.record())
}

async fn record(ended: Vec<EndedCall>) {
    settings_ready().await;
    if let Err(e) = loaded().await {
        return warn(e);
    }
    let me = me();
    for call in ended {
        let mut entry = Entry::of(&call, None);
        entry.name =
            contacts::caller(entry.dial.as_deref().unwrap_or(&call.number)).map(|c| c.name);
        let owner = history::owner_of(call.agent.as_ref());
        let Some((change, reset)) = HISTORY.with(|h| {
            h.borrow_mut()
                .as_mut()?
                .record(&owner, me.as_deref(), entry)
        }) else {
            continue;
        };
        let puts: Vec<(String, String)> = change.put.iter().map(text).collect();
        let metas = if reset {
            vec![(OWNER_KEY, format!("={owner}"))]
        } else {
            vec![]
        };
        if let Err(e) = idb::calls_write(reset, &puts, &change.delete, &metas).await {
            warn(e);
        }
    }
    changed();
}

/// A wrap-up was saved (`to`): its call's entry shows it.
pub(super) async fn wrapped(wrapup: &WrapUp, owner: Option<&AgentKey>, to: SavedTo) {
    if loaded().await.is_err() {
        return;
    }
    let owner = history::owner_of(owner);
    let w = Wrapped {
        tags: wrapup.tags.clone(),
        note: wrapup.note.clone(),
        saved_to: to,
    };
    let id = wrapup.call.id.as_str();
    let Some(entry) = HISTORY.with(|h| h.borrow_mut().as_mut()?.wrapped(&owner, id, w)) else {
        return;
    };
    if let Err(e) = idb::calls_write(false, &[text(&entry)], &[], &[]).await {
        warn(e);
    }
    changed();
}

/// The popup's list: the agent's calls that match `query`, newest first.
pub(super) async fn search(query: &str) -> Vec<Entry> {
    if let Err(e) = loaded().await {
        warn(e);
        return vec![];
    }
    let Some(me) = me() else {
        return vec![];
    };
    HISTORY.with(|h| {
        h.borrow()
            .as_ref()
            .map(|h| {
                h.search(&me, query, history::SHOWN)
                    .into_iter()
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// Sign-out: the history goes with the session (the kept desk stays: its
/// calls' wrap-ups are still owed).
pub(super) async fn forget() {
    HISTORY.with(|h| *h.borrow_mut() = Some(History::default()));
    let metas = [(OWNER_KEY, String::new())];
    if let Err(e) = idb::calls_write(true, &[], &[], &metas).await {
        warn(e);
    }
    changed();
}
