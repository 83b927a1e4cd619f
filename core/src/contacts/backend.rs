//! One trait for the two APIs that hold contacts, covering both what a sync
//! run asks and reads, and what a save sends and reads: [`People`] (the
//! agent's Google contacts and the Workspace directory) and [`Graph`]
//! (a Microsoft agent's Outlook contacts). The sync run
//! ([`super::run::Run`]) and the save flow (`worker::contact_save`) ask
//! [`of`] for the source's backend and never match on the source
//! themselves.

use serde_json::Value;

use super::graph::{self, OutlookLimit};
use super::merge::{self, Draft};
use super::sync::{PAGE_SIZE, PERSON_FIELDS, Page, SyncFailure, SyncState};
use super::{Source, StoredContact};
use crate::api::ApiRoots;
use crate::worker::http::HttpRequest;

/// What one contact source's API does, for sync and for save.
pub trait ContactBackend: Sync {
    /// The source this backend lists (and, when editable, writes).
    fn source(&self) -> Source;

    // --- sync ---

    /// The URL of the run's next request.
    fn page_url(&self, state: &SyncState, roots: &ApiRoots) -> String;
    /// Extra headers of a sync request.
    fn page_headers(&self, state: &SyncState) -> Vec<(&'static str, String)>;
    /// Reads one page of a run.
    fn parse_page(&self, roots: &ApiRoots, body: &str) -> Option<Page>;
    /// What a failed sync request means.
    fn classify_failure(&self, status: u16, body: &str, retry_after: Option<&str>) -> SyncFailure;

    // --- save ---

    /// The scope that lets Ringside write (asked the first time the agent
    /// saves, by incremental authorization).
    fn write_scope(&self) -> &'static str;
    /// One contact as the API returns it after a create, update or get.
    fn parse_contact(&self, body: &str) -> Option<StoredContact>;
    /// What a save sends: the fields named in `fields` (People's
    /// `updatePersonFields` names), each number keeping the label or slot
    /// it has in `slots`.
    fn body(
        &self,
        slots: Option<&StoredContact>,
        d: &Draft,
        etag: Option<&str>,
        fields: &str,
    ) -> Result<Value, OutlookLimit>;
    /// The request that creates a contact.
    fn create(&self, roots: &ApiRoots, body: Value) -> HttpRequest;
    /// The request that writes an edit, conditional on `etag`.
    fn update(
        &self,
        roots: &ApiRoots,
        stored: &StoredContact,
        fields: &str,
        etag: &str,
        body: Value,
    ) -> HttpRequest;
    /// The request that reads the current version.
    fn get(&self, roots: &ApiRoots, stored: &StoredContact) -> HttpRequest;
    /// Whether a refused write says the etag was stale.
    fn stale(&self, status: u16, body: &str) -> bool;
    /// Whether numbers come back as typed (then the host's libphonenumber
    /// makes them E.164 before they are stored).
    fn numbers_as_typed(&self) -> bool;
}

/// The People API: the agent's contacts ([`Source::Google`]) or the
/// Workspace directory ([`Source::Directory`], read-only).
pub struct People(pub Source);

/// Microsoft Graph: a Microsoft agent's Outlook contacts.
pub struct Graph;

static PEOPLE_CONTACTS: People = People(Source::Google);
static PEOPLE_DIRECTORY: People = People(Source::Directory);
static GRAPH: Graph = Graph;

/// The backend of a source.
pub fn of(source: Source) -> &'static dyn ContactBackend {
    match source {
        Source::Google => &PEOPLE_CONTACTS,
        Source::Directory => &PEOPLE_DIRECTORY,
        Source::Outlook => &GRAPH,
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn parse_json(body: &str) -> Option<Value> {
    serde_json::from_str(body).ok()
}

impl ContactBackend for People {
    fn source(&self) -> Source {
        self.0
    }

    fn page_url(&self, state: &SyncState, roots: &ApiRoots) -> String {
        let mut url = if self.0 == Source::Directory {
            format!(
                "{}/people:listDirectoryPeople?readMask={PERSON_FIELDS}&sources=DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE&pageSize={PAGE_SIZE}&requestSyncToken=true",
                roots.people
            )
        } else {
            format!(
                "{}/people/me/connections?personFields={PERSON_FIELDS}&pageSize={PAGE_SIZE}&requestSyncToken=true",
                roots.people
            )
        };
        if let Some(t) = &state.sync_token {
            url.push_str(&format!("&syncToken={}", enc(t)));
        }
        if let Some(t) = &state.page_token {
            url.push_str(&format!("&pageToken={}", enc(t)));
        }
        url
    }

    fn page_headers(&self, _state: &SyncState) -> Vec<(&'static str, String)> {
        vec![]
    }

    fn parse_page(&self, _roots: &ApiRoots, body: &str) -> Option<Page> {
        super::sync::parse_people_page(self.0, body)
    }

    fn classify_failure(&self, status: u16, body: &str, retry_after: Option<&str>) -> SyncFailure {
        super::sync::classify_people_failure(status, body, retry_after)
    }

    fn write_scope(&self) -> &'static str {
        "https://www.googleapis.com/auth/contacts"
    }

    fn parse_contact(&self, body: &str) -> Option<StoredContact> {
        super::from_person(self.0, &parse_json(body)?)
    }

    fn body(
        &self,
        slots: Option<&StoredContact>,
        d: &Draft,
        etag: Option<&str>,
        _fields: &str,
    ) -> Result<Value, OutlookLimit> {
        Ok(merge::person_body(d, etag, &|raw| kind_of(slots, raw)))
    }

    fn create(&self, roots: &ApiRoots, body: Value) -> HttpRequest {
        HttpRequest::post_json(
            format!(
                "{}/people:createContact?personFields={PERSON_FIELDS}",
                roots.people
            ),
            body,
        )
    }

    fn update(
        &self,
        roots: &ApiRoots,
        stored: &StoredContact,
        fields: &str,
        _etag: &str,
        body: Value,
    ) -> HttpRequest {
        // The etag travels in the body (`person.etag`).
        HttpRequest::post_json(
            format!(
                "{}/{}:updateContact?updatePersonFields={fields}&personFields={PERSON_FIELDS}",
                roots.people, stored.resource
            ),
            body,
        )
        .with_method("PATCH")
    }

    fn get(&self, roots: &ApiRoots, stored: &StoredContact) -> HttpRequest {
        HttpRequest::get(format!(
            "{}/{}?personFields={PERSON_FIELDS}",
            roots.people, stored.resource
        ))
    }

    fn stale(&self, status: u16, body: &str) -> bool {
        merge::is_stale_etag(status, body)
    }

    fn numbers_as_typed(&self) -> bool {
        false
    }
}

impl ContactBackend for Graph {
    fn source(&self) -> Source {
        Source::Outlook
    }

    fn page_url(&self, state: &SyncState, roots: &ApiRoots) -> String {
        // Graph's links are whole URLs (already checked to stay under the
        // Graph root when the page that carried them was parsed).
        match (&state.page_token, &state.sync_token, &state.folder) {
            (Some(next), _, _) => next.clone(),
            (None, Some(delta), _) => delta.clone(),
            (None, None, Some(folder)) => graph::delta_url(&roots.graph, folder),
            (None, None, None) => graph::folder_url(&roots.graph),
        }
    }

    fn page_headers(&self, state: &SyncState) -> Vec<(&'static str, String)> {
        // Graph pages hold 10 contacts unless asked for more.
        if state.needs_folder(Source::Outlook) {
            vec![]
        } else {
            vec![graph::prefer()]
        }
    }

    fn parse_page(&self, roots: &ApiRoots, body: &str) -> Option<Page> {
        graph::parse_delta_page(&roots.graph, body)
    }

    fn classify_failure(&self, status: u16, body: &str, retry_after: Option<&str>) -> SyncFailure {
        graph::classify_failure(status, body, retry_after)
    }

    fn write_scope(&self) -> &'static str {
        "Contacts.ReadWrite"
    }

    fn parse_contact(&self, body: &str) -> Option<StoredContact> {
        graph::from_contact(&parse_json(body)?)
    }

    fn body(
        &self,
        slots: Option<&StoredContact>,
        d: &Draft,
        _etag: Option<&str>,
        fields: &str,
    ) -> Result<Value, OutlookLimit> {
        let mut v = graph::contact_body(d, &|raw| kind_of(slots, raw))?;
        if let Some(o) = v.as_object_mut() {
            let has = |f: &str| fields.split(',').any(|x| x == f);
            if !has("names") {
                o.remove("displayName");
            }
            if !has("emailAddresses") {
                o.remove("emailAddresses");
            }
            if !has("phoneNumbers") {
                for k in ["mobilePhone", "businessPhones", "homePhones"] {
                    o.remove(k);
                }
            }
        }
        Ok(v)
    }

    fn create(&self, roots: &ApiRoots, body: Value) -> HttpRequest {
        HttpRequest::post_json(format!("{}/me/contacts", roots.graph), body)
    }

    fn update(
        &self,
        roots: &ApiRoots,
        stored: &StoredContact,
        _fields: &str,
        etag: &str,
        body: Value,
    ) -> HttpRequest {
        let req = HttpRequest::post_json(
            format!("{}/me/contacts/{}", roots.graph, enc(&stored.resource)),
            body,
        )
        .with_method("PATCH");
        // No etag known (never for a synced contact): no condition.
        if etag.is_empty() {
            req
        } else {
            req.with_header("If-Match", etag)
        }
    }

    fn get(&self, roots: &ApiRoots, stored: &StoredContact) -> HttpRequest {
        HttpRequest::get(format!(
            "{}/me/contacts/{}?$select={}",
            roots.graph,
            enc(&stored.resource),
            graph::SELECT
        ))
    }

    fn stale(&self, status: u16, body: &str) -> bool {
        // 412 for a failed If-Match; Outlook items also answer 409
        // ErrorIrresolvableConflict for a stale change key.
        status == 412 || (status == 409 && body.contains("ErrorIrresolvableConflict"))
    }

    fn numbers_as_typed(&self) -> bool {
        true
    }
}

/// A number's label or slot as `slots` has it.
fn kind_of(slots: Option<&StoredContact>, raw: &str) -> Option<String> {
    slots?.phones.iter().find(|p| p.raw == raw)?.kind.clone()
}

#[cfg(test)]
#[path = "backend_tests.rs"]
mod tests;
