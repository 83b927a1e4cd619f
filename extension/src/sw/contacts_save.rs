//! Creating and editing the agent's own contacts from the popup, written
//! back to their source with its etag: People (`updateContact` with the
//! person's etag; a stale one answers 400 FAILED_PRECONDITION) or Outlook
//! through Graph (`PATCH /me/contacts/{id}` with `If-Match`; a stale one
//! answers 412). On a stale etag Ringside fetches the current version,
//! merges (`ringside_core::contacts::merge`) and sends once more.

use ringside_core::auth::provider::ProviderKind;
use ringside_core::contacts::graph::{self, OutlookLimit};
use ringside_core::contacts::merge::{self, Draft, SaveAnswer};
use ringside_core::contacts::sync::PERSON_FIELDS;
use ringside_core::contacts::{ContactHit, Source, StoredContact};
use ringside_core::context::ApiRoots;
use serde_json::Value;

use super::super::api::{ApiError, api_call, api_get};
use super::super::kernel::with_worker;
use super::{agent, epoch, load, with};

/// Where the agent's own contacts are written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    People,
    Graph,
}

/// A request: method, URL, extra headers, body.
struct Call {
    method: Option<&'static str>,
    url: String,
    if_match: Option<String>,
    body: Option<Value>,
}

impl Backend {
    fn source(self) -> Source {
        match self {
            Backend::People => Source::Google,
            Backend::Graph => Source::Outlook,
        }
    }

    /// The scope that lets Ringside write (asked the first time the agent
    /// saves, by incremental authorization).
    fn write_scope(self) -> &'static str {
        match self {
            Backend::People => "https://www.googleapis.com/auth/contacts",
            Backend::Graph => "Contacts.ReadWrite",
        }
    }

    fn parse(self, body: &str) -> Option<StoredContact> {
        let v: Value = serde_json::from_str(body).ok()?;
        match self {
            Backend::People => ringside_core::contacts::from_person(Source::Google, &v),
            Backend::Graph => graph::from_contact(&v),
        }
    }

    /// What a save sends: the fields named in `fields` (People's
    /// `updatePersonFields` names), keeping each number's label or slot.
    fn body(
        self,
        stored: Option<&StoredContact>,
        d: &Draft,
        etag: Option<&str>,
        fields: &str,
    ) -> Result<Value, OutlookLimit> {
        let kind_of = |raw: &str| -> Option<String> {
            stored?.phones.iter().find(|p| p.raw == raw)?.kind.clone()
        };
        match self {
            Backend::People => Ok(merge::person_body(d, etag, &kind_of)),
            Backend::Graph => {
                let mut v = graph::contact_body(d, &kind_of)?;
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
        }
    }

    fn create(self, roots: &ApiRoots, body: Value) -> Call {
        let url = match self {
            Backend::People => format!(
                "{}/people:createContact?personFields={PERSON_FIELDS}",
                roots.people
            ),
            Backend::Graph => format!("{}/me/contacts", roots.graph),
        };
        Call {
            method: None,
            url,
            if_match: None,
            body: Some(body),
        }
    }

    fn update(
        self,
        roots: &ApiRoots,
        stored: &StoredContact,
        fields: &str,
        etag: &str,
        body: Value,
    ) -> Call {
        match self {
            Backend::People => Call {
                method: Some("PATCH"),
                url: format!(
                    "{}/{}:updateContact?updatePersonFields={fields}&personFields={PERSON_FIELDS}",
                    roots.people, stored.resource
                ),
                if_match: None,
                body: Some(body),
            },
            Backend::Graph => Call {
                method: Some("PATCH"),
                url: format!("{}/me/contacts/{}", roots.graph, enc(&stored.resource)),
                // No etag known (never for a synced contact): no condition.
                if_match: Some(etag.to_owned()).filter(|e| !e.is_empty()),
                body: Some(body),
            },
        }
    }

    fn get_url(self, roots: &ApiRoots, stored: &StoredContact) -> String {
        match self {
            Backend::People => format!(
                "{}/{}?personFields={PERSON_FIELDS}",
                roots.people, stored.resource
            ),
            Backend::Graph => format!(
                "{}/me/contacts/{}?$select={}",
                roots.graph,
                enc(&stored.resource),
                graph::SELECT
            ),
        }
    }

    fn stale(self, status: u16, body: &str) -> bool {
        match self {
            Backend::People => merge::is_stale_etag(status, body),
            // 412 for a failed If-Match; Outlook items also answer 409
            // ErrorIrresolvableConflict for a stale change key.
            Backend::Graph => {
                status == 412 || (status == 409 && body.contains("ErrorIrresolvableConflict"))
            }
        }
    }

    /// Graph gives numbers as typed: a saved contact's national numbers
    /// become E.164 as a synced one's do.
    async fn normalized(self, mut c: StoredContact) -> StoredContact {
        if self == Backend::Graph {
            super::normalize(std::slice::from_mut(&mut c)).await;
        }
        c
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn send(c: Call) -> Result<crate::chrome::HttpAnswer, ApiError> {
    let headers: Vec<(&str, &str)> = c
        .if_match
        .as_deref()
        .map(|e| ("If-Match", e))
        .into_iter()
        .collect();
    api_call(c.method, &c.url, c.body.as_ref(), &headers).await
}

/// What the popup says when Outlook cannot take the draft.
fn refused(limit: OutlookLimit) -> SaveAnswer {
    let key = match limit {
        OutlookLimit::TooManyEmails => "contactTooManyEmailsOutlook",
        OutlookLimit::TooManyPhones => "contactTooManyPhonesOutlook",
    };
    SaveAnswer::Invalid {
        key: key.into(),
        subs: vec![],
    }
}

fn failed(detail: String) -> SaveAnswer {
    SaveAnswer::Failed {
        key: "contactSaveFailed".into(),
        detail,
    }
}

fn api_failed(e: ApiError) -> SaveAnswer {
    match e {
        ApiError::SignedOut => SaveAnswer::SignedOut,
        ApiError::Failed(e) => failed(e),
    }
}

fn http_failed(status: u16) -> SaveAnswer {
    failed(format!("HTTP {status}"))
}

/// Keeps a contact the source just returned, in IndexedDB and in memory.
async fn keep(c: &StoredContact, started: u64, me: &str) {
    if !super::current(started, me) {
        return;
    }
    let source = c.source;
    let mut c = c.clone();
    c.generation = with(|s| s.states[source.slot()].generation);
    if super::idb::write::<String>(std::slice::from_ref(&c), &[], &[])
        .await
        .is_ok()
        && super::current(started, me)
    {
        with(|s| {
            s.index.upsert(&c);
            s.contacts.insert(c.id.clone(), c);
        });
    }
}

/// Drops one contact (deleted at the source).
async fn forget_one(id: &str, started: u64, me: &str) {
    if !super::current(started, me) {
        return;
    }
    if super::idb::write::<String>(&[], &[id.to_owned()], &[])
        .await
        .is_ok()
        && super::current(started, me)
    {
        with(|s| {
            s.contacts.remove(id);
            s.index.remove(id);
        });
    }
}

/// Creates (no id) or edits one of the agent's contacts. An edit sends the
/// fields that changed from what the editor started with (`base`), with
/// that version's etag; when the source changed meanwhile it refuses, and
/// Ringside fetches the current version, merges and sends once more.
pub(in super::super) async fn save(
    id: Option<String>,
    draft: Draft,
    base: Option<Draft>,
    etag: Option<String>,
) -> SaveAnswer {
    let Some(agent) = agent() else {
        return SaveAnswer::SignedOut;
    };
    let backend = match agent.kind {
        ProviderKind::Google => Backend::People,
        ProviderKind::Microsoft => Backend::Graph,
        ProviderKind::Oidc => return SaveAnswer::SignedOut,
    };
    let me = agent.owner;
    if load(&me).await.is_err() {
        return SaveAnswer::Failed {
            key: "contactsStoreFailed".into(),
            detail: String::new(),
        };
    }
    let started = epoch();
    let mine = match draft.cleaned() {
        Ok(d) => d,
        Err(e) => {
            let (key, subs) = e.message();
            return SaveAnswer::Invalid { key, subs };
        }
    };
    let stored = match &id {
        Some(id) => match with(|s| s.contacts.get(id).cloned()) {
            Some(c) if !c.source.editable() || c.source != backend.source() => {
                return SaveAnswer::ReadOnly;
            }
            Some(c) => Some(c),
            None => return SaveAnswer::Gone,
        },
        None => None,
    };
    let write_scope = backend.write_scope();
    let granted = super::super::session::granted_scope()
        .await
        .unwrap_or_default();
    if !granted.split_whitespace().any(|s| s == write_scope)
        && let Err(f) = super::super::signin::add_scope(write_scope).await
    {
        let n = f.notice("");
        return SaveAnswer::Failed {
            key: n.key,
            detail: n.subs.join(" "),
        };
    }
    let roots = with_worker(|w| w.settings.api_roots()).unwrap_or_default();
    let Some(stored) = stored else {
        let body = match backend.body(None, &mine, None, merge::UPDATE_FIELDS) {
            Ok(b) => b,
            Err(limit) => return refused(limit),
        };
        let a = match send(backend.create(&roots, body)).await {
            Ok(a) => a,
            Err(e) => return api_failed(e),
        };
        return match (a.status, backend.parse(&a.body)) {
            (200 | 201, Some(c)) => {
                let c = backend.normalized(c).await;
                keep(&c, started, &me).await;
                SaveAnswer::Saved {
                    contact: ContactHit::from(&c),
                    lost: vec![],
                }
            }
            (status, _) => http_failed(status),
        };
    };
    // The editor's starting point; without one, the stored version.
    let base = base.unwrap_or_else(|| Draft::of(&stored));
    let mut etag = etag.unwrap_or_else(|| stored.etag.clone());
    let mut from = base.clone();
    let mut target = mine.clone();
    let mut lost = vec![];
    // Where each number's slot or label is read: the stored version, then
    // the source's current one after a conflict.
    let mut slots = stored.clone();
    for round in 0..2 {
        let fields = merge::changed_fields(&from, &target);
        if fields.is_empty() {
            // Nothing to send (or the merge left nothing of the agent's).
            let mut hit = ContactHit::from(&stored);
            hit.name = target.name.clone();
            return SaveAnswer::Saved { contact: hit, lost };
        }
        let body = match backend.body(Some(&slots), &target, Some(&etag), &fields) {
            Ok(b) => b,
            Err(limit) => return refused(limit),
        };
        let a = match send(backend.update(&roots, &stored, &fields, &etag, body)).await {
            Ok(a) => a,
            Err(e) => return api_failed(e),
        };
        if a.status == 200 {
            return match backend.parse(&a.body) {
                Some(c) => {
                    let c = backend.normalized(c).await;
                    keep(&c, started, &me).await;
                    SaveAnswer::Saved {
                        contact: ContactHit::from(&c),
                        lost,
                    }
                }
                None => http_failed(a.status),
            };
        }
        if a.status == 404 {
            forget_one(&stored.id, started, &me).await;
            return SaveAnswer::Gone;
        }
        if round > 0 || !backend.stale(a.status, &a.body) {
            return http_failed(a.status);
        }
        // Someone changed it meanwhile: the current version, then the merge.
        let g = match api_get(&backend.get_url(&roots, &stored)).await {
            Ok(g) => g,
            Err(e) => return api_failed(e),
        };
        let theirs = match (g.status, backend.parse(&g.body)) {
            (200, Some(c)) => c,
            (404, _) => {
                forget_one(&stored.id, started, &me).await;
                return SaveAnswer::Gone;
            }
            (status, _) => return http_failed(status),
        };
        let current = Draft::of(&theirs);
        let merged = merge::merge(&base, &mine, &current);
        lost = merged.lost;
        etag = theirs.etag.clone();
        from = current;
        target = merged.draft;
        slots = theirs;
    }
    SaveAnswer::Failed {
        key: backend.source().message_key("contactChangedAgain"),
        detail: String::new(),
    }
}
