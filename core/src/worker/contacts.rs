//! The local contact store as the worker holds it in memory (IndexedDB
//! keeps the same), and its decisions: which sources an agent's store holds,
//! when a sync is due, what the popup shows, what a lookup finds, what a
//! page or a save changes. The worker loads, writes and broadcasts.

use std::collections::HashMap;

use crate::auth::provider::ProviderKind;
use crate::contacts::search::Index;
use crate::contacts::sync::SyncState;
use crate::contacts::{ContactHit, ContactsView, Source, StoredContact};
use crate::context::{Contact, ContactQuery};

/// The alarm that keeps the store current.
pub const ALARM: &str = "contacts-sync";
/// Minutes between timed incremental syncs.
pub const PERIOD_MINUTES: f64 = 15.0;
/// A popup opening syncs when the last run is older than this.
pub const STALE_MS: f64 = 2_000.0;
/// The `meta` key that says whose contacts the store holds.
pub const OWNER_KEY: &str = "owner";
/// Search-as-you-type hits.
pub const SEARCH_HITS: usize = 8;

/// The `meta` key of a source's sync state.
pub fn meta_key(source: Source) -> String {
    format!("sync:{}", source.key())
}

/// The sources an agent's store holds: a Google agent's contacts, and the
/// directory when policy says so; a Microsoft agent's Outlook contacts;
/// nothing for another provider.
pub fn sources(kind: ProviderKind, directory: bool) -> Vec<Source> {
    match kind {
        ProviderKind::Google if directory => vec![Source::Google, Source::Directory],
        ProviderKind::Google => vec![Source::Google],
        ProviderKind::Microsoft => vec![Source::Outlook],
        ProviderKind::Oidc | ProviderKind::Password | ProviderKind::Sso => vec![],
    }
}

/// Whether a popup opening should sync: never synced, or the last run
/// completed more than [`STALE_MS`] ago.
pub fn sync_due(last_completed_ms: Option<i64>, now_ms: f64) -> bool {
    last_completed_ms.is_none_or(|t| now_ms - t as f64 > STALE_MS)
}

/// The store in memory.
#[derive(Default)]
pub struct ContactStore {
    /// Whose contacts these are, once loaded.
    pub loaded: Option<String>,
    pub contacts: HashMap<String, StoredContact>,
    pub index: Index,
    /// Per source, in `Source::ALL` order.
    pub states: [SyncState; 3],
    /// A sync is running.
    pub syncing: bool,
    /// Why the last sync failed: a message key and its substitutions.
    pub error: Option<(String, Vec<String>)>,
}

impl ContactStore {
    /// The store as read from IndexedDB for `owner`.
    pub fn load(&mut self, owner: &str, all: Vec<StoredContact>, states: [SyncState; 3]) {
        self.index = Index::new(&all);
        self.contacts = all.into_iter().map(|c| (c.id.clone(), c)).collect();
        self.states = states;
        self.loaded = Some(owner.to_owned());
    }

    /// Whether the store holds `owner`'s contacts.
    pub fn is_loaded_for(&self, owner: &str) -> bool {
        self.loaded.as_deref() == Some(owner)
    }

    /// When the last run of any source completed.
    pub fn last_synced(&self) -> Option<i64> {
        self.states.iter().filter_map(|st| st.completed_ms).max()
    }

    /// What the popup shows: the count, the run in progress (what it
    /// received, and the source's total when it says, for a full run),
    /// when the last run completed, and the last failure.
    pub fn view(&self) -> ContactsView {
        let running = self
            .states
            .iter()
            .find(|st| st.running && self.syncing)
            .map(|st| (st.fetched, st.total.filter(|_| st.full)));
        ContactsView {
            count: self.contacts.len() as u64,
            syncing: running.or(self.syncing.then_some((0, None))),
            synced_ms: self.last_synced(),
            error: self.error.clone(),
        }
    }

    /// Search as you type.
    pub fn search(&self, query: &str) -> Vec<ContactHit> {
        self.index
            .search(query, SEARCH_HITS)
            .iter()
            .filter_map(|h| self.contacts.get(&h.id))
            .map(ContactHit::from)
            .collect()
    }

    /// The contact with this number (a call's other party).
    pub fn caller(&self, number: &str) -> Option<ContactHit> {
        let Some(ContactQuery::Phone(p)) = ContactQuery::from_call(number) else {
            return None;
        };
        let id = self.index.by_number(&p)?;
        self.contacts.get(id).map(ContactHit::from)
    }

    /// The side panel's card for a number or an email (a name is not
    /// looked up here).
    pub fn lookup(&self, q: &ContactQuery) -> Option<Contact> {
        let id = match q {
            ContactQuery::Phone(p) => self.index.by_number(p),
            ContactQuery::Email(e) => self.index.by_email(e),
            ContactQuery::Name(_) => None,
        }?;
        self.contacts.get(id).map(StoredContact::to_card)
    }

    /// One stored contact.
    pub fn get(&self, id: &str) -> Option<StoredContact> {
        self.contacts.get(id).cloned()
    }

    /// A contact as written back by a save: stamped with its source's
    /// current generation, so the next full run does not sweep it.
    pub fn stamped(&self, c: &StoredContact) -> StoredContact {
        let mut c = c.clone();
        c.generation = self.states[c.source.slot()].generation;
        c
    }

    pub fn upsert(&mut self, c: StoredContact) {
        self.index.upsert(&c);
        self.contacts.insert(c.id.clone(), c);
    }

    pub fn remove(&mut self, id: &str) {
        self.contacts.remove(id);
        self.index.remove(id);
    }

    /// A page written to IndexedDB: the same in memory.
    pub fn apply_page(
        &mut self,
        source: Source,
        deletes: &[String],
        upserts: Vec<StoredContact>,
        state: SyncState,
    ) {
        for id in deletes {
            self.remove(id);
        }
        for c in upserts {
            self.upsert(c);
        }
        self.states[source.slot()] = state;
    }

    /// The directory is off (policy): the ids of its copy to delete, with
    /// its state reset; None when there is nothing to drop.
    pub fn directory_to_drop(&self) -> Option<Vec<String>> {
        let ids: Vec<String> = self
            .contacts
            .values()
            .filter(|c| c.source == Source::Directory)
            .map(|c| c.id.clone())
            .collect();
        let has_state = self.states[Source::Directory.slot()] != SyncState::default();
        (!ids.is_empty() || has_state).then_some(ids)
    }

    /// The directory's copy was deleted from IndexedDB: the same in memory.
    pub fn drop_directory(&mut self, ids: &[String]) {
        for id in ids {
            self.remove(id);
        }
        self.states[Source::Directory.slot()] = SyncState::default();
    }
}

#[cfg(test)]
#[path = "contacts_tests.rs"]
mod tests;
