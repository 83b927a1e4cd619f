//! The agent's local copy of their contacts and of the company directory
//! (issue 8): the stored model, the People API sync (connections and
//! directory, with sync tokens), Outlook contacts through Microsoft Graph
//! delta queries, search as you type, and the merge rule for
//! an edit that met a newer version at the source. No I/O: the worker
//! fetches, stores in IndexedDB and calls these.

pub mod backend;
pub mod graph;
pub mod merge;
pub mod run;
pub mod search;
pub mod sync;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a stored contact comes from. Directory entries are read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The agent's Google contacts (`people.connections.list`).
    Google,
    /// The Workspace directory (`people.listDirectoryPeople`).
    Directory,
    /// A Microsoft agent's Outlook contacts (Graph `contact: delta`).
    Outlook,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::Google, Source::Directory, Source::Outlook];

    /// The prefix of [`StoredContact::id`] and the store's sync-state key.
    pub fn key(self) -> &'static str {
        match self {
            Source::Google => "google",
            Source::Directory => "directory",
            Source::Outlook => "outlook",
        }
    }

    pub fn editable(self) -> bool {
        matches!(self, Source::Google | Source::Outlook)
    }

    /// The source of a stored contact's id (`outlook:…`).
    pub fn of_id(id: &str) -> Option<Source> {
        let (key, _) = id.split_once(':')?;
        Source::ALL.into_iter().find(|s| s.key() == key)
    }

    /// A message key as this source needs it: Outlook's messages name
    /// Outlook or Microsoft 365 (`contactsSyncPausedOutlook`) where the
    /// others name Google.
    pub fn message_key(self, base: &str) -> String {
        match self {
            Source::Outlook => format!("{base}Outlook"),
            _ => base.to_owned(),
        }
    }

    /// Where this source's sync state sits in per-source arrays.
    pub fn slot(self) -> usize {
        self as usize
    }
}

/// One phone number: E.164 when the source could normalise it (People's
/// `canonicalForm`, or a value already written `+<digits>`), else only the
/// raw text, which is kept and still searchable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    pub raw: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e164: Option<String>,
    /// The source's label (`mobile`, `work`), kept for edits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Phone {
    pub fn new(raw: &str, canonical: Option<&str>) -> Phone {
        let canonical = canonical.filter(|c| is_e164(c)).map(str::to_owned);
        let compact: String = raw
            .chars()
            .filter(|c| !" .-()/\u{a0}".contains(*c))
            .collect();
        let e164 = canonical.or_else(|| is_e164(&compact).then_some(compact));
        Phone {
            raw: raw.trim().to_owned(),
            e164,
            kind: None,
        }
    }

    /// What a call dials and comparisons use: E.164, else the raw text.
    pub fn best(&self) -> &str {
        self.e164.as_deref().unwrap_or(&self.raw)
    }
}

/// `+` then 8 to 15 digits, the first not 0.
pub fn is_e164(s: &str) -> bool {
    let Some(d) = s.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
}

/// A contact as IndexedDB holds it: non-secret fields only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredContact {
    /// `<source>:<resourceName>`, unique across sources.
    pub id: String,
    pub source: Source,
    /// People API `resourceName` (`people/c123`).
    pub resource: String,
    /// The source's etag, sent back with an edit.
    #[serde(default)]
    pub etag: String,
    pub name: String,
    #[serde(default)]
    pub phones: Vec<Phone>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    /// The full sync run that last saw it ([`sync::SyncState::generation`]).
    #[serde(default)]
    pub generation: u64,
}

impl StoredContact {
    /// The panel's contact card for this entry.
    pub fn to_card(&self) -> crate::context::Contact {
        crate::context::Contact {
            resource: self.resource.clone(),
            name: self.name.clone(),
            photo: self.photo.clone(),
            phones: self.phones.iter().map(|p| p.best().to_owned()).collect(),
            emails: self.emails.clone(),
            organization: self.organization.clone(),
            title: None,
        }
    }
}

/// A contact as the popup lists it (search results, caller id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactHit {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub organization: Option<String>,
    /// Each number as the contact has it written, and what a call dials
    /// (E.164 when known).
    #[serde(default)]
    pub phones: Vec<HitPhone>,
    #[serde(default)]
    pub emails: Vec<String>,
    /// Whether the agent may edit it (their own Google contact).
    #[serde(default)]
    pub editable: bool,
    /// The source's etag of this version (an edit made from it sends it).
    #[serde(default)]
    pub etag: String,
}

/// A number of a [`ContactHit`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HitPhone {
    pub raw: String,
    pub dial: String,
}

impl From<&StoredContact> for ContactHit {
    fn from(c: &StoredContact) -> ContactHit {
        ContactHit {
            id: c.id.clone(),
            name: c.name.clone(),
            organization: c.organization.clone(),
            phones: c
                .phones
                .iter()
                .map(|p| HitPhone {
                    raw: p.raw.clone(),
                    dial: p.best().to_owned(),
                })
                .collect(),
            emails: c.emails.clone(),
            editable: c.source.editable(),
            etag: c.etag.clone(),
        }
    }
}

/// The local store as the popup shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsView {
    /// Contacts stored (all sources).
    pub count: u64,
    /// A run in progress: received so far, and the total when known.
    #[serde(default)]
    pub syncing: Option<(u64, Option<u64>)>,
    /// When the last run completed.
    #[serde(default)]
    pub synced_ms: Option<i64>,
    /// Why the last run failed: a message key and its substitutions.
    #[serde(default)]
    pub error: Option<(String, Vec<String>)>,
}

/// A People API `Person` (from `connections.list`, `listDirectoryPeople`,
/// `get`, `createContact` or `updateContact`) as a stored contact. None for
/// a person without a resource name, or one marked deleted.
pub fn from_person(source: Source, p: &Value) -> Option<StoredContact> {
    if p["metadata"]["deleted"] == true {
        return None;
    }
    let resource = p["resourceName"].as_str()?.to_owned();
    use crate::context::google::primary;
    let mut emails: Vec<String> = vec![];
    for e in p["emailAddresses"].as_array().into_iter().flatten() {
        if let Some(v) = e["value"].as_str().map(str::trim).filter(|v| !v.is_empty())
            && !emails.iter().any(|x| x.eq_ignore_ascii_case(v))
        {
            emails.push(v.to_owned());
        }
    }
    let mut phones: Vec<Phone> = vec![];
    for ph in p["phoneNumbers"].as_array().into_iter().flatten() {
        let Some(raw) = ph["value"].as_str().filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let mut phone = Phone::new(raw, ph["canonicalForm"].as_str());
        phone.kind = ph["type"].as_str().map(str::to_owned);
        // The same number written twice counts once.
        if !phones.iter().any(|x| x.best() == phone.best()) {
            phones.push(phone);
        }
    }
    let name = primary(&p["names"], "displayName")
        .or_else(|| emails.first().cloned())
        .or_else(|| phones.first().map(|p| p.raw.clone()))
        .unwrap_or_default();
    Some(StoredContact {
        id: format!("{}:{resource}", source.key()),
        source,
        resource,
        etag: p["etag"].as_str().unwrap_or_default().to_owned(),
        name,
        phones,
        emails,
        organization: primary(&p["organizations"], "name"),
        photo: primary(&p["photos"], "url").filter(|u| u.starts_with("https://")),
        generation: 0,
    })
}

/// The numbers of `contacts` that have no E.164 form yet, as texts for the
/// host's `detect` (libphonenumber with the agent's default region), and
/// where each came from (contact, phone). Graph gives numbers as typed, so a
/// national one (`06 12 34 56 78`) needs the region to become E.164.
/// Whether a contact holds a number with no E.164 yet: People gives
/// `canonicalForm` only for the numbers it could parse (a national number
/// often has none), so People's numbers may need it as much as Outlook's.
pub fn needs_normalizing(contact: &StoredContact) -> bool {
    contact.phones.iter().any(|p| p.e164.is_none())
}

/// Whether `contacts` from `backend` go through normalisation before they are
/// kept: always for a source that gives numbers as typed (Outlook), otherwise
/// when one of them holds a number with no E.164 (`needs_normalizing`). The
/// one rule for the sync's pages and a saved contact.
pub fn must_normalize(backend: &dyn backend::ContactBackend, contacts: &[StoredContact]) -> bool {
    backend.numbers_as_typed() || contacts.iter().any(needs_normalizing)
}

pub fn unnormalized(contacts: &[StoredContact]) -> (Vec<String>, Vec<(usize, usize)>) {
    let mut texts = vec![];
    let mut at = vec![];
    for (ci, c) in contacts.iter().enumerate() {
        for (pi, p) in c.phones.iter().enumerate() {
            if p.e164.is_none() {
                texts.push(p.raw.clone());
                at.push((ci, pi));
            }
        }
    }
    (texts, at)
}

/// Applies the host's `detect` answer to the numbers [`unnormalized`] listed:
/// a text whose only match spans all of it gets that E.164;
/// a text with no match, or with text beside the number, stays raw.
pub fn apply_normalized(
    contacts: &mut [StoredContact],
    texts: &[String],
    at: &[(usize, usize)],
    found: &Value,
) {
    // Read as JSON rather than `protocol::DetectResult`: the extension's
    // wasm has no other use for that type's deserializer.
    let hits: Vec<(u64, u64, u64, &str, bool)> = found["texts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| {
            Some((
                h["i"].as_u64()?,
                h["start"].as_u64()?,
                h["end"].as_u64()?,
                h["e164"].as_str()?,
                h["extension"].is_string(),
            ))
        })
        .collect();
    for (i, (ci, pi)) in at.iter().enumerate() {
        let mine: Vec<_> = hits.iter().filter(|h| h.0 as usize == i).collect();
        let [hit] = mine.as_slice() else {
            continue;
        };
        let (_, start, end, e164, extension) = **hit;
        let Some(text) = texts.get(i) else {
            continue;
        };
        // Stored numbers are trimmed: the hit must cover all of it.
        let len = text.encode_utf16().count() as u64;
        if start == 0
            && end == len
            && !extension
            && is_e164(e164)
            && let Some(p) = contacts.get_mut(*ci).and_then(|c| c.phones.get_mut(*pi))
        {
            p.e164 = Some(e164.to_owned());
        }
    }
}

#[cfg(test)]
mod tests;
