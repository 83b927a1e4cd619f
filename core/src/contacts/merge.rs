//! Creating and editing a contact from the popup, and what happens when the
//! source changed it meanwhile.
//!
//! An edit is sent with the etag the agent's copy had. When the source
//! answers that the etag is stale, Ringside fetches the current version and
//! merges three ways, field by field, with the version the agent started
//! from as the base:
//!
//! - the name: the agent's change wins when the source left the name alone;
//!   when both changed it differently, the source's name stays and the agent
//!   is told their name could not be applied;
//! - phones and emails are sets: what the agent added is added, what they
//!   removed is removed, and what the source added or removed meanwhile
//!   stays that way. These never conflict.
//!
//! The merged version is sent once more with the fresh etag. A contact
//! deleted at the source meanwhile cannot be edited: the agent is told.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Phone, StoredContact};

/// The fields the agent can edit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub name: String,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
}

/// `updatePersonFields` of an edit.
pub const UPDATE_FIELDS: &str = "names,phoneNumbers,emailAddresses";

/// Why a draft cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error("a contact needs a name, a phone number or an email")]
    Empty,
    #[error("`{0}` is not an email address")]
    BadEmail(String),
    #[error("`{0}` is not a phone number")]
    BadPhone(String),
}

impl DraftError {
    /// The `_locales` key and substitutions that say it to the agent.
    pub fn message(&self) -> (String, Vec<String>) {
        match self {
            DraftError::Empty => ("contactInvalidEmpty".into(), vec![]),
            DraftError::BadEmail(e) => ("contactInvalidEmail".into(), vec![e.clone()]),
            DraftError::BadPhone(p) => ("contactInvalidPhone".into(), vec![p.clone()]),
        }
    }
}

impl Draft {
    pub fn of(c: &StoredContact) -> Draft {
        Draft {
            name: c.name.clone(),
            phones: c.phones.iter().map(|p| p.raw.clone()).collect(),
            emails: c.emails.clone(),
        }
    }

    /// Trimmed, without empty or repeated entries, checked.
    pub fn cleaned(&self) -> Result<Draft, DraftError> {
        let mut d = Draft {
            name: self.name.split_whitespace().collect::<Vec<_>>().join(" "),
            ..Draft::default()
        };
        for e in self
            .emails
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
        {
            let ok = e.split_once('@').is_some_and(|(u, h)| {
                !u.is_empty()
                    && h.contains('.')
                    && !h.starts_with('.')
                    && !e.contains(char::is_whitespace)
            });
            if !ok {
                return Err(DraftError::BadEmail(e.to_owned()));
            }
            if !d.emails.iter().any(|x| x.eq_ignore_ascii_case(e)) {
                d.emails.push(e.to_owned());
            }
        }
        for p in self
            .phones
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
        {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            let allowed = p
                .chars()
                .all(|c| c.is_ascii_digit() || " .-()/+".contains(c));
            if digits < 3 || !allowed {
                return Err(DraftError::BadPhone(p.to_owned()));
            }
            if !d.phones.iter().any(|x| same_phone(x, p)) {
                d.phones.push(p.to_owned());
            }
        }
        if d.name.is_empty() && d.phones.is_empty() && d.emails.is_empty() {
            return Err(DraftError::Empty);
        }
        Ok(d)
    }
}

fn same_phone(a: &str, b: &str) -> bool {
    Phone::new(a, None)
        .best()
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect::<String>()
        == Phone::new(b, None)
            .best()
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect::<String>()
}

/// The People API `Person` body of `createContact` / `updateContact`.
/// `kind_of` gives a number's label (`mobile`, `work`) as stored, so an
/// edit keeps the labels of the numbers it leaves alone.
pub fn person_body(
    d: &Draft,
    etag: Option<&str>,
    kind_of: &dyn Fn(&str) -> Option<String>,
) -> Value {
    let phones: Vec<Value> = d
        .phones
        .iter()
        .map(|p| match kind_of(p) {
            Some(k) => json!({"value": p, "type": k}),
            None => json!({"value": p}),
        })
        .collect();
    let mut v = json!({
        "names": if d.name.is_empty() { json!([]) } else { json!([{"unstructuredName": d.name}]) },
        "phoneNumbers": phones,
        "emailAddresses": d.emails.iter().map(|e| json!({"value": e})).collect::<Vec<_>>(),
    });
    if let Some(e) = etag {
        v["etag"] = json!(e);
    }
    v
}

/// `updatePersonFields` for what changed from `base` to `edited` (only
/// those fields are replaced at the source, so the name's parts and the
/// other lists stay as they are). Empty when nothing changed.
pub fn changed_fields(base: &Draft, edited: &Draft) -> String {
    let mut f = vec![];
    if base.name != edited.name {
        f.push("names");
    }
    if base.phones != edited.phones {
        f.push("phoneNumbers");
    }
    if base.emails != edited.emails {
        f.push("emailAddresses");
    }
    f.join(",")
}

/// A field of [`Draft`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
}

/// The outcome of merging an edit with the source's newer version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub draft: Draft,
    /// The agent's changes that could not be applied (the source's value
    /// stays).
    pub lost: Vec<Field>,
}

fn set_merge(
    base: &[String],
    mine: &[String],
    theirs: &[String],
    same: impl Fn(&str, &str) -> bool,
) -> Vec<String> {
    let has = |list: &[String], x: &str| list.iter().any(|y| same(y, x));
    let mut out: Vec<String> = theirs
        .iter()
        // Kept unless the agent removed it.
        .filter(|t| !has(base, t) || has(mine, t))
        .cloned()
        .collect();
    for m in mine {
        if !has(base, m) && !has(&out, m) {
            out.push(m.clone());
        }
    }
    out
}

/// Three-way merge of the agent's edit (`mine`, made from `base`) with the
/// source's current version (`theirs`).
pub fn merge(base: &Draft, mine: &Draft, theirs: &Draft) -> Merged {
    let mut lost = vec![];
    let name = if mine.name == base.name || mine.name == theirs.name {
        theirs.name.clone()
    } else if theirs.name == base.name {
        mine.name.clone()
    } else {
        lost.push(Field::Name);
        theirs.name.clone()
    };
    Merged {
        draft: Draft {
            name,
            phones: set_merge(&base.phones, &mine.phones, &theirs.phones, same_phone),
            emails: set_merge(&base.emails, &mine.emails, &theirs.emails, |a, b| {
                a.eq_ignore_ascii_case(b)
            }),
        },
        lost,
    }
}

/// What saving a draft came to, for the popup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaveAnswer {
    /// Written at the source; `lost` lists the agent's changes that met a
    /// newer value there and were not applied.
    Saved {
        contact: super::ContactHit,
        #[serde(default)]
        lost: Vec<Field>,
    },
    /// The draft does not validate: a message key and its substitutions.
    Invalid {
        key: String,
        subs: Vec<String>,
    },
    /// A directory entry (read-only).
    ReadOnly,
    /// Deleted at the source meanwhile.
    Gone,
    SignedOut,
    /// Anything else: a message key and a detail.
    Failed {
        key: String,
        detail: String,
    },
}

/// Whether a failed write says the etag was stale (People answers 400
/// FAILED_PRECONDITION "Request person.etag is different than the current
/// person.etag...").
pub fn is_stale_etag(status: u16, body: &str) -> bool {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    status == 400
        && v["error"]["status"] == "FAILED_PRECONDITION"
        && v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("etag"))
}
