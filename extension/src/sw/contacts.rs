//! The local contact store, worker side: loads it from IndexedDB, runs the
//! sync of each source page by page, answers the popup's search and names a
//! call's other party. What to fetch, what a page or a failure means and
//! what the popup shows are `ringside_core::contacts::run` and
//! `ringside_core::worker::contacts`; this module fetches, writes
//! IndexedDB, then memory, and broadcasts.

use std::cell::{Cell, RefCell};

use ringside_core::api::Unanswered;
use ringside_core::auth::provider::ProviderKind;
use ringside_core::contacts::run::{Next, Run};
use ringside_core::contacts::sync::{Step, SyncState};
use ringside_core::contacts::{ContactHit, ContactsView, Source, StoredContact};
use ringside_core::context::{Contact, ContactQuery};
use ringside_core::protocol::{DetectParams, Request};
use ringside_core::worker::contacts::{self as rules, ContactStore};
use ringside_core::worker::http::{HttpAnswer, HttpRequest};

use super::api::{ApiError, api_call};
use super::idb;
use super::kernel::{broadcast, host_request, now_ms, sleep, with_worker};
use crate::chrome;
use crate::error::{JsError, log_warn};

thread_local! {
    static STORE: RefCell<ContactStore> = RefCell::new(ContactStore::default());
    /// Bumped when the store is forgotten (sign-out): a sync or save that
    /// started before must not write into the next agent's store.
    static EPOCH: Cell<u64> = const { Cell::new(0) };
    /// A load from IndexedDB in progress (one at a time).
    static LOADING: Cell<bool> = const { Cell::new(false) };
}

fn with<R>(f: impl FnOnce(&mut ContactStore) -> R) -> R {
    STORE.with(|s| f(&mut s.borrow_mut()))
}

fn epoch() -> u64 {
    EPOCH.with(Cell::get)
}

/// Whether work started at `epoch` for `me` may still touch the store.
fn current(epoch: u64, me: &str) -> bool {
    self::epoch() == epoch
        && agent().is_some_and(|(owner, _)| owner == me)
        && with(|s| s.is_loaded_for(me))
}

/// The signed-in agent whose contacts Ringside keeps: whose store it is
/// (`Profile::store_owner`) and their provider.
fn agent() -> Option<(String, ProviderKind)> {
    with_worker(|w| w.store_agent()).flatten()
}

// ------------------------------------------------ the executor's means

/// One request through the API call (token, refresh, claims), as the
/// flows see it.
pub(super) async fn send(req: &HttpRequest) -> Result<HttpAnswer, Unanswered> {
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    match api_call(req.method.as_deref(), &req.url, req.json.as_ref(), &headers).await {
        Ok(a) => Ok(a),
        Err(ApiError::SignedOut) => Err(Unanswered::SignedOut),
        Err(ApiError::Failed(e)) => Err(Unanswered::Network(e)),
    }
}

// ------------------------------------------------ the store

/// Loads the store for `owner`; another agent's contacts are dropped first.
async fn load(owner: &str) -> Result<(), JsError> {
    while LOADING.with(Cell::get) {
        sleep(20).await;
    }
    if with(|s| s.is_loaded_for(owner)) {
        return Ok(());
    }
    LOADING.with(|l| l.set(true));
    let loaded = load_now(owner).await;
    LOADING.with(|l| l.set(false));
    loaded
}

async fn load_now(owner: &str) -> Result<(), JsError> {
    let started = epoch();
    if idb::meta::<String>(rules::OWNER_KEY).await?.as_deref() != Some(owner) {
        idb::clear().await?;
        idb::write(&[], &[], &[(rules::OWNER_KEY, owner.to_owned())]).await?;
    }
    let all: Vec<StoredContact> = idb::all(idb::CONTACTS).await?;
    let mut states: [SyncState; 3] = Default::default();
    for source in Source::ALL {
        if let Some(st) = idb::meta::<SyncState>(&rules::meta_key(source)).await? {
            states[source.slot()] = st;
        }
    }
    if epoch() != started {
        return Err(JsError("signed out while loading".into()));
    }
    with(|s| s.load(owner, all, states));
    Ok(())
}

/// Loads the signed-in agent's store, if anyone is signed in.
async fn load_mine() -> Option<String> {
    let (me, _) = agent()?;
    match load(&me).await {
        Ok(()) => Some(me),
        Err(e) => {
            log_warn(&format!("contacts: {e}"));
            None
        }
    }
}

/// What the popup shows.
pub(super) fn view() -> ContactsView {
    with(|s| s.view())
}

/// Search as you type (only once the store is loaded).
pub(super) async fn search(query: &str) -> Vec<ContactHit> {
    load_mine().await;
    with(|s| s.search(query))
}

/// The contact with this number (a call's other party), from memory.
pub(super) fn caller(number: &str) -> Option<ContactHit> {
    with(|s| s.caller(number))
}

/// The stored contact for the side panel: by number or email.
pub(super) async fn lookup(q: &ContactQuery) -> Option<Contact> {
    load_mine().await?;
    with(|s| s.lookup(q))
}

/// Forgets the store (sign-out).
pub(super) async fn forget() {
    EPOCH.with(|e| e.set(e.get() + 1));
    with(|s| *s = ContactStore::default());
    if let Err(e) = idb::clear().await {
        log_warn(&format!("contacts: {e}"));
    }
}

/// Writes puts and deletes to IndexedDB, then (still the same agent) the
/// same in memory.
async fn write(puts: Vec<StoredContact>, deletes: Vec<String>, started: u64, me: &str) {
    if !current(started, me) {
        return;
    }
    if idb::write::<String>(&puts, &deletes, &[]).await.is_ok() && current(started, me) {
        with(|s| {
            deletes.iter().for_each(|id| s.remove(id));
            puts.into_iter().for_each(|c| s.upsert(c));
        });
    }
}

// ------------------------------------------------ sync

/// `chrome.alarms.onAlarm`: the contact sync's timer.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn sw_on_alarm(name: String) {
    if name == rules::ALARM {
        wasm_bindgen_futures::spawn_local(sync());
    }
}

/// Starts the timer (once per worker start; the alarm itself persists).
pub(super) async fn schedule() {
    if let Err(e) = chrome::ensure_alarm(rules::ALARM, rules::PERIOD_MINUTES).await {
        log_warn(&format!("contacts timer: {}", JsError::from(e)));
    }
}

/// Syncs when the last run is older than a few seconds (the popup opened).
pub(super) async fn sync_if_stale() {
    if rules::sync_due(with(|s| s.last_synced()), now_ms()) {
        sync().await;
    }
}

/// One sync of every source, unless one is running.
pub(super) async fn sync() {
    let Some((me, kind)) = agent() else {
        return;
    };
    if with(|s| std::mem::replace(&mut s.syncing, true)) {
        return;
    }
    if let Err(e) = load(&me).await {
        log_warn(&format!("contacts: {e}"));
        with(|s| s.syncing = false);
        return;
    }
    with(|s| s.error = None);
    broadcast();
    let started = epoch();
    let directory = with_worker(|w| w.settings.contacts_directory).unwrap_or(false);
    if !directory {
        drop_directory(started, &me).await;
    }
    for source in rules::sources(kind, directory) {
        if let Err(e) = run(source, &me, started).await {
            if current(started, &me) {
                with(|s| s.error = Some(e));
            }
            break;
        }
    }
    if epoch() == started {
        with(|s| s.syncing = false);
    }
    broadcast();
}

/// The administrator turned the directory off: its copy goes.
async fn drop_directory(started: u64, me: &str) {
    let Some(ids) = with(|s| s.directory_to_drop()) else {
        return;
    };
    let key = rules::meta_key(Source::Directory);
    let fresh = SyncState::default();
    if idb::write(&[], &ids, &[(key.as_str(), &fresh)])
        .await
        .is_ok()
        && current(started, me)
    {
        with(|s| s.drop_directory(&ids));
    }
}

/// Graph gives numbers as typed: those without a country code become
/// E.164 with the agent's default region, by the worker's detection module
/// (the same `ringside-detect` code as the host's), so this works without
/// the native host; the host answers only if the module fails to load.
/// Numbers neither can read stay as typed: searchable, but not matched to an
/// incoming call.
pub(super) async fn normalize(upserts: &mut [StoredContact]) {
    let (texts, at) = ringside_core::contacts::unnormalized(upserts);
    let Some((connected, region)) =
        with_worker(|w| (w.link.is_connected(), super::kernel::region(w)))
    else {
        return;
    };
    if texts.is_empty() {
        return;
    }
    let params = DetectParams {
        region,
        texts: texts.clone(),
        links: vec![],
    };
    let found = match super::detect::detect(&params).await {
        Ok(found) => Ok(found),
        Err(e) if connected => {
            log_warn(&format!("contacts: detection module: {e}"));
            host_request(Request::Detect(params))
                .await
                .map_err(|e| e.message)
        }
        Err(e) => Err(e.to_string()),
    };
    match found {
        Ok(found) => ringside_core::contacts::apply_normalized(upserts, &texts, &at, &found),
        Err(e) => log_warn(&format!("contacts: numbers stay as typed: {e}")),
    }
}

/// One run of one source, page by page (the rules are
/// `ringside_core::contacts::run`); Err is the message for the agent.
async fn run(source: Source, me: &str, started: u64) -> Result<(), (String, Vec<String>)> {
    let roots = with_worker(|w| w.settings.api_roots()).unwrap_or_default();
    let mut run = Run::start(source, with(|s| s.states[source.slot()].clone()), &roots);
    loop {
        let fetch = run.request(&roots);
        let request = HttpRequest {
            headers: fetch
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            ..HttpRequest::get(fetch.url)
        };
        let answer = match send(&request).await {
            Ok(a) => a,
            Err(Unanswered::SignedOut) => return Ok(()),
            Err(Unanswered::Network(e)) => return Err(("contactsOffline".into(), vec![e])),
        };
        // The agent may have signed out (or another signed in) meanwhile.
        if !current(started, me) {
            return Ok(());
        }
        let retry_after = answer.retry_after.as_deref();
        let mut page = match run.answer(&roots, answer.status, &answer.body, retry_after) {
            Next::Again => continue,
            Next::Wait(ms) => {
                sleep(ms).await;
                continue;
            }
            Next::Fail(key, subs) => return Err((key, subs)),
            Next::Page(page) => page,
        };
        // Outlook's numbers come as typed, and People's have no
        // `canonicalForm` when Google could not parse them (a national
        // number): whatever has no E.164 is made so before it is kept.
        if ringside_core::contacts::must_normalize(
            ringside_core::contacts::backend::of(source),
            &page.upserts,
        ) {
            normalize(&mut page.upserts).await;
            // The host's answer took an await: still the same agent?
            if !current(started, me) {
                return Ok(());
            }
        }
        let (step, deletes) = with(|s| run.apply(&mut page, now_ms() as i64, s.contacts.values()));
        // IndexedDB first: memory only follows what was written.
        let key = rules::meta_key(source);
        if let Err(e) = idb::write(&page.upserts, &deletes, &[(key.as_str(), &run.state)]).await {
            // The sync state was not saved: the next run fetches this page again.
            return Err(("contactsStoreFailed".into(), vec![e.to_string()]));
        }
        if !current(started, me) {
            return Ok(());
        }
        with(|s| s.apply_page(source, &deletes, page.upserts, run.state.clone()));
        broadcast();
        if matches!(step, Step::Done { .. }) {
            return Ok(());
        }
    }
}

#[path = "contacts_save.rs"]
mod save;
pub(super) use save::save;
