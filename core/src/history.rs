//! The agent's call history: the last [`MAX_ENTRIES`] calls in and out, with
//! the contact's name when the call ended, how long it lasted, how it ended
//! and its wrap-up. Kept per agent (like the contact store): the store holds
//! one agent's calls, a call is written only into its own agent's history,
//! it is cleared at sign-out, and another agent's first call starts a fresh
//! one. Non-secret data only.
//!
//! The worker keeps the entries in IndexedDB (`extension/src/sw/history.rs`)
//! and applies the [`Change`]s these rules return.

use serde::{Deserialize, Serialize};

use crate::calls::{Direction, EndedCall, SavedTo};
use crate::context::ContactQuery;
use crate::outbox::AgentKey;

/// Calls kept (the oldest is dropped first).
pub const MAX_ENTRIES: usize = 200;
/// Matches the popup lists at once, newest first (rendering all 200 took
/// longer than a keystroke's budget, docs/bench.md); typing finds older ones.
pub const SHOWN: usize = 40;

/// How a call ended, for the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Connected.
    Answered,
    /// Someone called the agent, who did not answer.
    Missed,
    /// The agent called; nobody answered.
    NoAnswer,
}

impl Outcome {
    pub fn of(call: &EndedCall) -> Outcome {
        match (call.answered, call.direction) {
            (true, _) => Outcome::Answered,
            (false, Direction::Incoming) => Outcome::Missed,
            (false, Direction::Outgoing) => Outcome::NoAnswer,
        }
    }

    /// The `_locales` key of its label.
    pub fn message_key(self) -> &'static str {
        match self {
            Outcome::Answered => "historyAnswered",
            Outcome::Missed => "historyMissed",
            Outcome::NoAnswer => "historyNoAnswer",
        }
    }
}

/// A call's wrap-up as the history keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wrapped {
    pub tags: Vec<String>,
    pub note: String,
    pub saved_to: SavedTo,
}

/// One call of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The call's id (`EndedCall::id`).
    pub id: String,
    /// As the desk had it (an incoming call's is the caller's SIP address).
    pub number: String,
    pub display: String,
    /// The phone number to call back, when the other party has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dial: Option<String>,
    /// The contact's name when the call ended, if the number was known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub direction: Direction,
    pub outcome: Outcome,
    pub started_ms: f64,
    pub ended_ms: f64,
    pub talk_seconds: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup: Option<Wrapped>,
}

impl Entry {
    pub fn of(call: &EndedCall, name: Option<String>) -> Entry {
        Entry {
            id: call.id.clone(),
            number: call.number.clone(),
            display: call.display.clone(),
            dial: match ContactQuery::from_call(&call.number) {
                Some(ContactQuery::Phone(p)) => Some(p),
                _ => None,
            },
            name: name.filter(|n| !n.trim().is_empty()),
            direction: call.direction,
            outcome: Outcome::of(call),
            started_ms: call.started_ms,
            ended_ms: call.ended_ms,
            talk_seconds: call.talk_seconds,
            wrapup: None,
        }
    }

    /// Whether every word of `query` is in the name, number, tags or note
    /// (case-insensitive; a word of digits also matches the number's digits,
    /// whatever separators either was written with).
    pub fn matches(&self, words: &[Word]) -> bool {
        words.iter().all(|w| self.has(w))
    }

    fn has(&self, w: &Word) -> bool {
        let text = |s: &str| s.to_lowercase().contains(&w.text);
        let number = self.dial.as_deref().unwrap_or(&self.number);
        if !w.digits.is_empty() && digits(number).contains(&w.digits) {
            return true;
        }
        self.name.as_deref().is_some_and(text)
            || text(&self.display)
            || text(number)
            || self
                .wrapup
                .as_ref()
                .is_some_and(|wu| text(&wu.note) || wu.tags.iter().any(|t| text(t)))
    }
}

/// Separates an entry's fields in its stored record ([`Entry::record`]).
const FIELD: char = '\u{1f}';
/// Separates tags inside their field.
const ITEM: char = '\u{1e}';

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c == FIELD || c == ITEM { ' ' } else { c })
        .collect()
}

fn saved_to_name(s: SavedTo) -> &'static str {
    s.message_key()
}

fn saved_to_of(name: &str) -> Option<SavedTo> {
    [
        SavedTo::Platform,
        SavedTo::Local,
        SavedTo::Outbox,
        SavedTo::AfterSignIn,
        SavedTo::OtherAgent,
        SavedTo::Unauthorized,
        SavedTo::Unowned,
    ]
    .into_iter()
    .find(|s| saved_to_name(*s) == name)
}

impl Entry {
    /// The entry as the worker stores it: its fields as text, one separator
    /// between them (a JSON decoder for this type alone would weigh more in
    /// the worker's wasm than all of this; docs/bench.md).
    pub fn record(&self) -> String {
        let (tags, note, saved) = match &self.wrapup {
            Some(w) => (
                w.tags
                    .iter()
                    .map(|t| clean(t))
                    .collect::<Vec<_>>()
                    .join(&ITEM.to_string()),
                clean(&w.note),
                saved_to_name(w.saved_to),
            ),
            None => (String::new(), String::new(), ""),
        };
        [
            clean(&self.id),
            clean(&self.number),
            clean(&self.display),
            self.dial.as_deref().map(clean).unwrap_or_default(),
            self.name.as_deref().map(clean).unwrap_or_default(),
            if self.direction == Direction::Incoming {
                "in"
            } else {
                "out"
            }
            .to_owned(),
            self.outcome.message_key().to_owned(),
            (self.started_ms.max(0.0) as u64).to_string(),
            (self.ended_ms.max(0.0) as u64).to_string(),
            self.talk_seconds.to_string(),
            tags,
            note,
            saved.to_owned(),
        ]
        .join(&FIELD.to_string())
    }

    /// An entry from its stored record; None when it is not one.
    pub fn from_record(text: &str) -> Option<Entry> {
        let f: Vec<&str> = text.split(FIELD).collect();
        let [
            id,
            number,
            display,
            dial,
            name,
            direction,
            outcome,
            started,
            ended,
            talk,
            tags,
            note,
            saved,
        ] = f.as_slice()
        else {
            return None;
        };
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let outcome = [Outcome::Answered, Outcome::Missed, Outcome::NoAnswer]
            .into_iter()
            .find(|o| o.message_key() == *outcome)?;
        Some(Entry {
            id: (*id).to_owned(),
            number: (*number).to_owned(),
            display: (*display).to_owned(),
            dial: some(dial),
            name: some(name),
            direction: if *direction == "in" {
                Direction::Incoming
            } else {
                Direction::Outgoing
            },
            outcome,
            started_ms: started.parse::<u64>().ok()? as f64,
            ended_ms: ended.parse::<u64>().ok()? as f64,
            talk_seconds: talk.parse().ok()?,
            wrapup: saved_to_of(saved).map(|saved_to| Wrapped {
                tags: tags
                    .split(ITEM)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
                note: (*note).to_owned(),
                saved_to,
            }),
        })
    }
}

/// One word of a search, lower-cased, with its digits when it is a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    text: String,
    digits: String,
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The words of a query.
pub fn words(query: &str) -> Vec<Word> {
    query
        .split_whitespace()
        .map(|w| {
            let numeric = w.chars().all(|c| c.is_ascii_digit() || "+-().".contains(c));
            Word {
                text: w.to_lowercase(),
                digits: if numeric { digits(w) } else { String::new() },
            }
        })
        .collect()
}

/// What to write: entries to put (by id) and ids to delete.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    pub put: Vec<Entry>,
    pub delete: Vec<String>,
}

/// The history key of a call's agent: their stable identity, or "" for a
/// call made while nobody was signed in (where sign-in is not set up).
pub fn owner_of(agent: Option<&AgentKey>) -> String {
    agent.map(|a| a.as_str().to_owned()).unwrap_or_default()
}

/// Who may have a history now: the signed-in agent; "" (the calls made
/// without signing in) where sign-in is not set up; None while signed out
/// where it is (or while the session is being restored).
pub fn me(signed_in: Option<&AgentKey>, sign_in_set_up: bool) -> Option<String> {
    match signed_in {
        Some(a) => Some(a.as_str().to_owned()),
        None if !sign_in_set_up => Some(String::new()),
        None => None,
    }
}

/// One agent's history, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Whose calls these are.
    pub owner: Option<String>,
    entries: Vec<Entry>,
}

impl History {
    /// The history as read from storage for `owner` (any order; trimmed to
    /// the cap, newest first).
    pub fn load(owner: Option<String>, mut entries: Vec<Entry>) -> History {
        entries.sort_unstable_by(|a, b| b.ended_ms.total_cmp(&a.ended_ms));
        entries.truncate(MAX_ENTRIES);
        History { owner, entries }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Adds an ended call of `owner` (the call's own agent, [`owner_of`]).
    /// `me`: who may have a history now (the signed-in agent, "" for nobody
    /// where sign-in is off; None while that is not known). A call of
    /// another agent than the store's is written only when that agent is
    /// `me`, and then the store starts afresh for them (`reset` is true: the
    /// worker clears storage first). A call already in the history is left
    /// as it is (its wrap-up may be there).
    pub fn record(
        &mut self,
        owner: &str,
        me: Option<&str>,
        entry: Entry,
    ) -> Option<(Change, bool)> {
        let mut reset = false;
        if self.owner.as_deref() != Some(owner) {
            if me != Some(owner) {
                return None;
            }
            *self = History {
                owner: Some(owner.to_owned()),
                entries: vec![],
            };
            reset = true;
        }
        if self.entries.iter().any(|e| e.id == entry.id) {
            return Some((Change::default(), reset));
        }
        let at = self
            .entries
            .iter()
            .position(|e| e.ended_ms <= entry.ended_ms)
            .unwrap_or(self.entries.len());
        self.entries.insert(at, entry.clone());
        let delete = if self.entries.len() > MAX_ENTRIES {
            self.entries.drain(MAX_ENTRIES..).map(|e| e.id).collect()
        } else {
            vec![]
        };
        Some((
            Change {
                put: vec![entry],
                delete,
            },
            reset,
        ))
    }

    /// A call's wrap-up was saved: the entry to write again, if the call is
    /// in this agent's history.
    pub fn wrapped(&mut self, owner: &str, id: &str, wrapped: Wrapped) -> Option<Entry> {
        if self.owner.as_deref() != Some(owner) {
            return None;
        }
        let e = self.entries.iter_mut().find(|e| e.id == id)?;
        e.wrapup = Some(wrapped);
        Some(e.clone())
    }

    /// The calls that match `query`, newest first, at most `limit`, for the
    /// agent `me` (none when the store holds someone else's).
    pub fn search(&self, me: &str, query: &str, limit: usize) -> Vec<&Entry> {
        if self.owner.as_deref() != Some(me) {
            return vec![];
        }
        let words = words(query);
        self.entries
            .iter()
            .filter(|e| e.matches(&words))
            .take(limit)
            .collect()
    }

    /// Sign-out: nothing is kept.
    pub fn clear(&mut self) {
        *self = History::default();
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
