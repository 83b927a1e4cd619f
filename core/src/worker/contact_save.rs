//! Saving one of the agent's contacts from the popup, as a conversation:
//! [`ContactSave::start`] says what to do first, then the worker tells it
//! each outcome (a scope added, an API answer, numbers normalised) and it
//! says what comes next, until [`SaveStep::Done`] carries the store's
//! writes and the popup's answer.
//!
//! The rules:
//! - the source is the agent's: People for a Google agent, Graph for a
//!   Microsoft one; anyone else is signed out for contacts;
//! - a draft that does not validate, a directory entry, a contact of
//!   another source, or one no longer stored is answered at once;
//! - the write scope is asked once (incremental authorization) when the
//!   grant lacks it;
//! - an edit sends only the fields changed from the version the editor
//!   started with, with that version's etag; nothing changed, nothing sent;
//! - a stale etag (People's 400 FAILED_PRECONDITION, Graph's 412 or 409
//!   ErrorIrresolvableConflict) fetches the current version, merges three
//!   ways (`contacts::merge`) and sends again, at most [`MAX_MERGES`]
//!   times; stale once more, the agent is told it changed again;
//! - a 404 on the write or the re-read: deleted at the source, dropped here;
//! - numbers Graph returns as typed go through the host before they are kept.

use serde::{Deserialize, Serialize};

use super::http::{HttpAnswer, HttpRequest};
use crate::api::{ApiRoots, Unanswered};
use crate::auth::provider::ProviderKind;
use crate::auth::session::Notice;
use crate::contacts::backend::{self, ContactBackend};
use crate::contacts::graph::OutlookLimit;
use crate::contacts::merge::{self, Draft, Field, SaveAnswer};
use crate::contacts::{ContactHit, Source, StoredContact};

/// How many times a conflict is merged and sent again.
pub const MAX_MERGES: u32 = 1;

/// What the popup asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveRequest {
    /// None: a new contact.
    pub id: Option<String>,
    pub draft: Draft,
    /// The version the editor started from.
    pub base: Option<Draft>,
    /// That version's etag.
    pub etag: Option<String>,
}

/// What the worker does next.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveStep {
    /// Add this scope to the grant (incremental authorization), then tell
    /// [`ContactSave::scope_added`].
    AddScope(&'static str),
    /// Send this through the API call, then tell [`ContactSave::answer`].
    Send(HttpRequest),
    /// Make this contact's numbers E.164 with the host (they stay as typed
    /// without it), then tell [`ContactSave::normalized`].
    Normalize(StoredContact),
    /// The save is over.
    Done(SaveDone),
}

/// The end of a save: what the store must write, and the popup's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveDone {
    /// The contact as the source now has it: kept in the store.
    pub keep: Option<StoredContact>,
    /// Deleted at the source: dropped from the store.
    pub forget: Option<String>,
    pub answer: SaveAnswer,
}

impl SaveDone {
    fn answer(answer: SaveAnswer) -> SaveStep {
        SaveStep::Done(SaveDone {
            keep: None,
            forget: None,
            answer,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Waiting for the write scope.
    Scope,
    /// The create was sent.
    Creating,
    /// An edit was sent.
    Updating,
    /// The current version was asked after a conflict.
    Rereading,
    /// The saved contact is with the host for its numbers.
    Normalizing,
}

/// One edit in progress: the agent's version, what it was made from, and
/// what is sent now.
#[derive(Debug, Clone)]
struct Edit {
    stored: StoredContact,
    /// The editor's starting point.
    base: Draft,
    /// The agent's cleaned draft.
    mine: Draft,
    etag: String,
    /// What the fields sent are compared with (the base, then the source's
    /// current version after a merge).
    from: Draft,
    target: Draft,
    /// Where each number's slot or label is read.
    slots: StoredContact,
    lost: Vec<Field>,
    merges: u32,
}

/// A save in progress.
#[derive(Clone)]
pub struct ContactSave {
    backend: &'static dyn ContactBackend,
    roots: ApiRoots,
    mine: Draft,
    edit: Option<Edit>,
    phase: Phase,
}

/// The popup's answer when the local store cannot be read.
pub fn store_failed() -> SaveAnswer {
    SaveAnswer::Failed {
        key: "contactsStoreFailed".into(),
        detail: String::new(),
    }
}

/// Where an agent of this provider writes contacts; None: nowhere.
pub fn source_for(kind: ProviderKind) -> Option<Source> {
    match kind {
        ProviderKind::Google => Some(Source::Google),
        ProviderKind::Microsoft => Some(Source::Outlook),
        ProviderKind::Oidc | ProviderKind::Password | ProviderKind::Sso => None,
    }
}

fn failed(detail: String) -> SaveAnswer {
    SaveAnswer::Failed {
        key: "contactSaveFailed".into(),
        detail,
    }
}

fn http_failed(status: u16) -> SaveStep {
    SaveDone::answer(failed(format!("HTTP {status}")))
}

/// What the popup says when Outlook cannot take the draft.
fn refused(limit: OutlookLimit) -> SaveStep {
    let key = match limit {
        OutlookLimit::TooManyEmails => "contactTooManyEmailsOutlook",
        OutlookLimit::TooManyPhones => "contactTooManyPhonesOutlook",
    };
    SaveDone::answer(SaveAnswer::Invalid {
        key: key.into(),
        subs: vec![],
    })
}

impl ContactSave {
    /// Starts a save for an agent of `kind`. `stored` is the store's copy
    /// of `request.id` (None when it holds no such contact); `granted` the
    /// scopes the access token carries.
    pub fn start(
        kind: ProviderKind,
        request: SaveRequest,
        stored: Option<StoredContact>,
        granted: &str,
        roots: ApiRoots,
    ) -> (Option<ContactSave>, SaveStep) {
        let Some(source) = source_for(kind) else {
            return (None, SaveDone::answer(SaveAnswer::SignedOut));
        };
        let backend = backend::of(source);
        let mine = match request.draft.cleaned() {
            Ok(d) => d,
            Err(e) => {
                let (key, subs) = e.message();
                return (None, SaveDone::answer(SaveAnswer::Invalid { key, subs }));
            }
        };
        let edit = match (&request.id, stored) {
            (None, _) => None,
            (Some(_), None) => return (None, SaveDone::answer(SaveAnswer::Gone)),
            (Some(_), Some(c)) if !c.source.editable() || c.source != source => {
                return (None, SaveDone::answer(SaveAnswer::ReadOnly));
            }
            (Some(_), Some(c)) => {
                let base = request.base.unwrap_or_else(|| Draft::of(&c));
                Some(Edit {
                    etag: request.etag.unwrap_or_else(|| c.etag.clone()),
                    from: base.clone(),
                    target: mine.clone(),
                    slots: c.clone(),
                    base,
                    mine: mine.clone(),
                    stored: c,
                    lost: vec![],
                    merges: 0,
                })
            }
        };
        let mut save = ContactSave {
            backend,
            roots,
            mine,
            edit,
            phase: Phase::Scope,
        };
        let scope = backend.write_scope();
        let step = if granted.split_whitespace().any(|s| s == scope) {
            save.send()
        } else {
            SaveStep::AddScope(scope)
        };
        (Some(save), step)
    }

    /// The write scope was asked: granted, or why not.
    pub fn scope_added(&mut self, done: Result<(), Notice>) -> SaveStep {
        match done {
            Ok(()) => self.send(),
            Err(n) => SaveDone::answer(SaveAnswer::Failed {
                key: n.key,
                detail: n.subs.join(" "),
            }),
        }
    }

    /// The create, or the edit as it stands now.
    fn send(&mut self) -> SaveStep {
        let backend = self.backend;
        let Some(e) = &self.edit else {
            self.phase = Phase::Creating;
            return match backend.body(None, &self.mine, None, merge::UPDATE_FIELDS) {
                Ok(body) => SaveStep::Send(backend.create(&self.roots, body)),
                Err(limit) => refused(limit),
            };
        };
        let fields = merge::changed_fields(&e.from, &e.target);
        if fields.is_empty() {
            // Nothing to send (or the merge left nothing of the agent's).
            let mut hit = ContactHit::from(&e.stored);
            hit.name = e.target.name.clone();
            return SaveDone::answer(SaveAnswer::Saved {
                contact: hit,
                lost: e.lost.clone(),
            });
        }
        self.phase = Phase::Updating;
        match backend.body(Some(&e.slots), &e.target, Some(&e.etag), &fields) {
            Ok(body) => {
                SaveStep::Send(backend.update(&self.roots, &e.stored, &fields, &e.etag, body))
            }
            Err(limit) => refused(limit),
        }
    }

    /// What the API call gave for the request last asked.
    pub fn answer(&mut self, sent: Result<HttpAnswer, Unanswered>) -> SaveStep {
        let a = match sent {
            Ok(a) => a,
            Err(Unanswered::SignedOut) => return SaveDone::answer(SaveAnswer::SignedOut),
            Err(Unanswered::Network(e)) => return SaveDone::answer(failed(e)),
        };
        let backend = self.backend;
        match self.phase {
            Phase::Creating => match (a.status, backend.parse_contact(&a.body)) {
                (200 | 201, Some(c)) => self.saved(c),
                (status, _) => http_failed(status),
            },
            Phase::Updating => {
                if a.status == 200 {
                    return match backend.parse_contact(&a.body) {
                        Some(c) => self.saved(c),
                        None => http_failed(a.status),
                    };
                }
                if a.status == 404 {
                    return self.gone();
                }
                let merges = self.edit.as_ref().map_or(0, |e| e.merges);
                if !backend.stale(a.status, &a.body) {
                    return http_failed(a.status);
                }
                if merges >= MAX_MERGES {
                    return SaveDone::answer(SaveAnswer::Failed {
                        key: backend.source().message_key("contactChangedAgain"),
                        detail: String::new(),
                    });
                }
                // Someone changed it meanwhile: the current version, then the merge.
                self.phase = Phase::Rereading;
                match &self.edit {
                    Some(e) => SaveStep::Send(backend.get(&self.roots, &e.stored)),
                    None => http_failed(a.status),
                }
            }
            Phase::Rereading => match (a.status, backend.parse_contact(&a.body)) {
                (200, Some(theirs)) => self.merge(theirs),
                (404, _) => self.gone(),
                (status, _) => http_failed(status),
            },
            Phase::Scope | Phase::Normalizing => http_failed(a.status),
        }
    }

    /// The host made the numbers E.164 (or left them as typed).
    pub fn normalized(&mut self, c: StoredContact) -> SaveStep {
        self.done(c)
    }

    fn merge(&mut self, theirs: StoredContact) -> SaveStep {
        let Some(e) = self.edit.as_mut() else {
            return http_failed(200);
        };
        let current = Draft::of(&theirs);
        let merged = merge::merge(&e.base, &e.mine, &current);
        e.lost = merged.lost;
        e.etag = theirs.etag.clone();
        e.from = current;
        e.target = merged.draft;
        e.slots = theirs;
        e.merges += 1;
        self.send()
    }

    fn saved(&mut self, c: StoredContact) -> SaveStep {
        // Outlook returns numbers as typed; People gives `canonicalForm` only
        // for those it could parse. Either way, what has no E.164 is made so
        // here (with the agent's region) before it is kept.
        if crate::contacts::must_normalize(self.backend, std::slice::from_ref(&c)) {
            self.phase = Phase::Normalizing;
            return SaveStep::Normalize(c);
        }
        self.done(c)
    }

    fn done(&self, c: StoredContact) -> SaveStep {
        let lost = self
            .edit
            .as_ref()
            .map(|e| e.lost.clone())
            .unwrap_or_default();
        SaveStep::Done(SaveDone {
            answer: SaveAnswer::Saved {
                contact: ContactHit::from(&c),
                lost,
            },
            keep: Some(c),
            forget: None,
        })
    }

    fn gone(&self) -> SaveStep {
        SaveStep::Done(SaveDone {
            keep: None,
            forget: self.edit.as_ref().map(|e| e.stored.id.clone()),
            answer: SaveAnswer::Gone,
        })
    }
}

#[cfg(test)]
#[path = "contact_save_tests.rs"]
mod tests;
