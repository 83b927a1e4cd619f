//! The local contact store, worker side: loads it from IndexedDB, keeps it in
//! step with People (the agent's contacts, and the directory when policy
//! says so) or, for a Microsoft agent, with their Outlook contacts (Graph
//! delta queries), page by page, answers the popup's search as you type, and names
//! the other party of a call. The rules are `ringside_core::contacts`; this
//! module fetches, writes and broadcasts progress.

use std::cell::RefCell;
use std::collections::HashMap;

use ringside_core::auth::provider::ProviderKind;
use ringside_core::contacts::run::{Next, Run};
use ringside_core::contacts::search::Index;
use ringside_core::contacts::sync::{Step, SyncState};
use ringside_core::contacts::{ContactHit, ContactsView, Source, StoredContact};

use super::api::{ApiError, api_call};
use super::kernel::{broadcast, now_ms, with_worker};
use crate::error::log_warn;

use super::idb;

/// The alarm that keeps the store current.
const ALARM: &str = "contacts-sync";
/// Minutes between timed incremental syncs.
const PERIOD_MINUTES: f64 = 15.0;
/// A popup opening syncs when the last run is older than this.
const STALE_MS: f64 = 2_000.0;
const OWNER: &str = "owner";

#[derive(Default)]
struct Store {
    loaded: Option<String>,
    contacts: HashMap<String, StoredContact>,
    index: Index,
    /// Per source, in `Source::ALL` order.
    states: [SyncState; 3],
    syncing: bool,
    error: Option<(String, Vec<String>)>,
}

thread_local! {
    static STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
    /// Bumped when the store is forgotten (sign-out): a sync or save that
    /// started before must not write into the next agent's store.
    static EPOCH: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// A load from IndexedDB in progress (one at a time).
    static LOADING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether work started at `epoch` for `me` may still touch the store.
fn current(epoch: u64, me: &str) -> bool {
    EPOCH.with(|e| e.get()) == epoch
        && agent().map(|a| a.owner).as_deref() == Some(me)
        && with(|s| s.loaded.as_deref() == Some(me))
}

fn epoch() -> u64 {
    EPOCH.with(|e| e.get())
}

fn with<R>(f: impl FnOnce(&mut Store) -> R) -> R {
    STORE.with(|s| f(s.borrow_mut().get_or_insert_with(Store::default)))
}

fn slot(source: Source) -> usize {
    source.slot()
}

fn meta_key(source: Source) -> String {
    format!("sync:{}", source.key())
}

/// The signed-in agent whose contacts Ringside keeps.
struct Agent {
    /// Whose store it is (`Profile::store_owner`): the verified email of a
    /// Google agent, `microsoft:<tid>:<oid>` of a Microsoft one.
    owner: String,
    kind: ProviderKind,
}

impl Agent {
    /// The sources this agent's store holds.
    fn sources(&self, directory: bool) -> Vec<Source> {
        match self.kind {
            ProviderKind::Google if directory => vec![Source::Google, Source::Directory],
            ProviderKind::Google => vec![Source::Google],
            ProviderKind::Microsoft => vec![Source::Outlook],
            ProviderKind::Oidc => vec![],
        }
    }
}

/// The signed-in Google or Microsoft agent; None otherwise.
fn agent() -> Option<Agent> {
    with_worker(|w| {
        let p = w.auth.profile()?;
        if !w.auth.view().signed_in() {
            return None;
        }
        let owner = p.store_owner()?;
        Some(Agent {
            owner,
            kind: p.provider,
        })
    })
    .flatten()
}

/// The owner of the store for the signed-in agent.
fn owner() -> Option<String> {
    agent().map(|a| a.owner)
}

/// Loads the store for `owner`; another agent's contacts are dropped first.
async fn load(owner: &str) -> Result<(), crate::error::JsError> {
    while LOADING.with(|l| l.get()) {
        super::kernel::sleep(20).await;
    }
    if with(|s| s.loaded.as_deref() == Some(owner)) {
        return Ok(());
    }
    LOADING.with(|l| l.set(true));
    let loaded = load_now(owner).await;
    LOADING.with(|l| l.set(false));
    loaded
}

async fn load_now(owner: &str) -> Result<(), crate::error::JsError> {
    let started = epoch();
    let stored_owner: Option<String> = idb::meta(OWNER).await?;
    if stored_owner.as_deref() != Some(owner) {
        idb::clear().await?;
        idb::write(&[], &[], &[(OWNER, owner.to_owned())]).await?;
    }
    let all: Vec<StoredContact> = idb::all(idb::CONTACTS).await?;
    let mut states: [SyncState; 3] = Default::default();
    for source in Source::ALL {
        if let Some(st) = idb::meta::<SyncState>(&meta_key(source)).await? {
            states[slot(source)] = st;
        }
    }
    if epoch() != started {
        return Err(crate::error::JsError("signed out while loading".into()));
    }
    with(|s| {
        s.index = Index::new(&all);
        s.contacts = all.into_iter().map(|c| (c.id.clone(), c)).collect();
        s.states = states;
        s.loaded = Some(owner.to_owned());
    });
    Ok(())
}

/// What the popup shows.
pub(super) fn view() -> ContactsView {
    with(|s| {
        // The run in progress: what it received, and the source's total
        // when the source says (People gives it for the agent's contacts).
        let running = s
            .states
            .iter()
            .find(|st| st.running && s.syncing)
            .map(|st| (st.fetched, st.total.filter(|_| st.full)));
        ContactsView {
            count: s.contacts.len() as u64,
            syncing: running.or(s.syncing.then_some((0, None))),
            synced_ms: s.states.iter().filter_map(|st| st.completed_ms).max(),
            error: s.error.clone(),
        }
    })
}

/// Search as you type (only once the store is loaded).
pub(super) async fn search(query: &str) -> Vec<ContactHit> {
    if let Some(me) = owner()
        && let Err(e) = load(&me).await
    {
        log_warn(&format!("contacts: {e}"));
    }
    with(|s| {
        s.index
            .search(query, 8)
            .iter()
            .filter_map(|h| s.contacts.get(&h.id))
            .map(ContactHit::from)
            .collect()
    })
}

/// The contact with this number (a call's other party), from memory.
pub(super) fn caller(number: &str) -> Option<ContactHit> {
    let q = ringside_core::context::ContactQuery::from_call(number)?;
    let ringside_core::context::ContactQuery::Phone(p) = q else {
        return None;
    };
    with(|s| {
        let id = s.index.by_number(&p)?;
        s.contacts.get(id).map(ContactHit::from)
    })
}

/// The stored contact for the side panel: by number or email.
pub(super) async fn lookup(
    q: &ringside_core::context::ContactQuery,
) -> Option<ringside_core::context::Contact> {
    let me = owner()?;
    load(&me).await.ok()?;
    with(|s| {
        let id = match q {
            ringside_core::context::ContactQuery::Phone(p) => s.index.by_number(p),
            ringside_core::context::ContactQuery::Email(e) => s.index.by_email(e),
            ringside_core::context::ContactQuery::Name(_) => None,
        }?;
        s.contacts.get(id).map(StoredContact::to_card)
    })
}

/// Forgets the store (sign-out).
pub(super) async fn forget() {
    EPOCH.with(|e| e.set(e.get() + 1));
    STORE.with(|s| s.borrow_mut().take());
    if let Err(e) = idb::clear().await {
        log_warn(&format!("contacts: {e}"));
    }
}

/// `chrome.alarms.onAlarm`: the contact sync's timer.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn sw_on_alarm(name: String) {
    if name == ALARM {
        wasm_bindgen_futures::spawn_local(sync());
    }
}

/// Starts the timer (once per worker start; the alarm itself persists).
pub(super) async fn schedule() {
    if let Err(e) = crate::chrome::ensure_alarm(ALARM, PERIOD_MINUTES).await {
        log_warn(&format!(
            "contacts timer: {}",
            crate::error::JsError::from(e)
        ));
    }
}

/// Syncs when the last run is older than a few seconds (the popup opened).
pub(super) async fn sync_if_stale() {
    let last = with(|s| s.states.iter().filter_map(|st| st.completed_ms).max());
    if last.is_none_or(|t| now_ms() - t as f64 > STALE_MS) {
        sync().await;
    }
}

/// One sync of every source, unless one is running.
pub(super) async fn sync() {
    let Some(agent) = agent() else {
        return;
    };
    let me = agent.owner.clone();
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
    for source in agent.sources(directory) {
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
    let ids: Vec<String> = with(|s| {
        s.contacts
            .values()
            .filter(|c| c.source == Source::Directory)
            .map(|c| c.id.clone())
            .collect()
    });
    let fresh = SyncState::default();
    let has_state = with(|s| s.states[slot(Source::Directory)] != fresh);
    if ids.is_empty() && !has_state {
        return;
    }
    let key = meta_key(Source::Directory);
    if idb::write(&[], &ids, &[(key.as_str(), &fresh)])
        .await
        .is_ok()
        && current(started, me)
    {
        with(|s| {
            for id in &ids {
                s.contacts.remove(id);
                s.index.remove(id);
            }
            s.states[slot(Source::Directory)] = fresh;
        });
    }
}

/// Graph gives numbers as typed: those without a country code become
/// E.164 with the host's libphonenumber and the agent's default region (the
/// extension carries no phone metadata). Without the host they stay as
/// typed: searchable, but not matched to an incoming call.
async fn normalize(upserts: &mut [StoredContact]) {
    let (texts, at) = ringside_core::contacts::unnormalized(upserts);
    let Some((connected, region)) =
        with_worker(|w| (w.link.is_connected(), super::kernel::region(w)))
    else {
        return;
    };
    if texts.is_empty() || !connected {
        return;
    }
    let request = ringside_core::protocol::Request::Detect(ringside_core::protocol::DetectParams {
        region,
        texts: texts.clone(),
        links: vec![],
    });
    match super::kernel::host_request(request).await {
        Ok(found) => ringside_core::contacts::apply_normalized(upserts, &texts, &at, &found),
        Err(e) => log_warn(&format!("contacts: numbers stay as typed: {}", e.message)),
    }
}

/// One run of one source, page by page (the rules are
/// `ringside_core::contacts::run`); Err is the message for the agent.
async fn run(source: Source, me: &str, started: u64) -> Result<(), (String, Vec<String>)> {
    let roots = with_worker(|w| w.settings.api_roots()).unwrap_or_default();
    let mut run = Run::start(source, with(|s| s.states[slot(source)].clone()), &roots);
    loop {
        let fetch = run.request(&roots);
        let headers: Vec<(&str, &str)> = fetch
            .headers
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        let answer = match api_call(None, &fetch.url, None, &headers).await {
            Ok(a) => a,
            Err(ApiError::SignedOut) => return Ok(()),
            Err(ApiError::Failed(e)) => return Err(("contactsOffline".into(), vec![e])),
        };
        // The agent may have signed out (or another signed in) meanwhile.
        if !current(started, me) {
            return Ok(());
        }
        let mut page = match run.answer(
            &roots,
            answer.status,
            &answer.body,
            answer.retry_after.as_deref(),
        ) {
            Next::Again => continue,
            Next::Wait(ms) => {
                super::kernel::sleep(ms).await;
                continue;
            }
            Next::Fail(key, subs) => return Err((key, subs)),
            Next::Page(page) => page,
        };
        if source == Source::Outlook {
            normalize(&mut page.upserts).await;
            // The host's answer took an await: still the same agent?
            if !current(started, me) {
                return Ok(());
            }
        }
        let (step, deletes) = with(|s| run.apply(&mut page, now_ms() as i64, s.contacts.values()));
        // IndexedDB first: memory only follows what was written.
        let key = meta_key(source);
        if let Err(e) = idb::write(&page.upserts, &deletes, &[(key.as_str(), &run.state)]).await {
            // The sync state was not saved: the next run fetches this page again.
            return Err(("contactsStoreFailed".into(), vec![e.to_string()]));
        }
        if !current(started, me) {
            return Ok(());
        }
        with(|s| {
            for id in &deletes {
                s.contacts.remove(id);
                s.index.remove(id);
            }
            for c in page.upserts {
                s.index.upsert(&c);
                s.contacts.insert(c.id.clone(), c);
            }
            s.states[slot(source)] = run.state.clone();
        });
        broadcast();
        if matches!(step, Step::Done { .. }) {
            return Ok(());
        }
    }
}

#[path = "contacts_save.rs"]
mod save;
pub(super) use save::save;
