//! Search as you type over every synced contact: by name (any word's
//! prefix, accents and case ignored), by number fragment (digits anywhere in
//! the number, whatever the formatting), or by email. The index keeps the
//! folded text of each contact so a keystroke costs one pass over plain
//! strings, without allocating per contact.
//!
//! The same person in the agent's contacts and in the directory (same
//! email) is listed once, as the agent's contact (the one they can edit).

use std::collections::HashMap;

use super::{Source, StoredContact};

struct Entry {
    id: String,
    source: Source,
    /// Folded display name, for ordering.
    name: String,
    /// Folded name words.
    words: Vec<String>,
    /// Lower-case emails.
    emails: Vec<String>,
    /// Digits of each number (E.164 without +, and the raw text's digits).
    digits: Vec<String>,
    /// What identifies the person across sources: their emails.
    keys: Vec<String>,
}

/// The searchable form of the store.
#[derive(Default)]
pub struct Index {
    entries: Vec<Entry>,
    at: HashMap<String, usize>,
}

/// Lower case with the accents of Latin letters removed (é → e, ß → ss).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => out.push('a'),
            'ç' | 'č' | 'ć' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ě' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' | 'ī' => out.push('i'),
            'ñ' | 'ń' | 'ň' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'š' | 'ś' => out.push('s'),
            'ž' | 'ź' | 'ż' => out.push('z'),
            'ř' => out.push('r'),
            'ł' => out.push('l'),
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            _ => out.push(c),
        }
    }
    out
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn entry(c: &StoredContact) -> Entry {
    let name = fold(&c.name);
    let words = name
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let emails: Vec<String> = c.emails.iter().map(|e| e.to_lowercase()).collect();
    let mut ds: Vec<String> = vec![];
    for p in &c.phones {
        for d in [p.e164.as_deref().map(digits), Some(digits(&p.raw))]
            .into_iter()
            .flatten()
        {
            if !d.is_empty() && !ds.contains(&d) {
                ds.push(d);
            }
        }
    }
    let keys: Vec<String> = emails.clone();
    Entry {
        id: c.id.clone(),
        source: c.source,
        name,
        words,
        emails,
        digits: ds,
        keys,
    }
}

/// One result, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub id: String,
    /// 0: the name starts with the query; 1: a name word does; 2: every
    /// query word starts a name word; 3: an email starts with it; 4: an
    /// email contains it; 5: a number starts with the digits; 6: a number
    /// contains them.
    pub rank: u8,
}

impl Index {
    pub fn new(contacts: &[StoredContact]) -> Index {
        let mut i = Index::default();
        for c in contacts {
            i.upsert(c);
        }
        i
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn upsert(&mut self, c: &StoredContact) {
        let e = entry(c);
        match self.at.get(&c.id) {
            Some(&n) => self.entries[n] = e,
            None => {
                self.at.insert(c.id.clone(), self.entries.len());
                self.entries.push(e);
            }
        }
    }

    pub fn remove(&mut self, id: &str) {
        let Some(n) = self.at.remove(id) else {
            return;
        };
        self.entries.swap_remove(n);
        if let Some(moved) = self.entries.get(n) {
            self.at.insert(moved.id.clone(), n);
        }
    }

    fn rank(e: &Entry, text: &str, words: &[String], qd: &str, number_like: bool) -> Option<u8> {
        if !number_like {
            if e.name.starts_with(text) {
                return Some(0);
            }
            if e.words.iter().any(|w| w.starts_with(text)) {
                return Some(1);
            }
            if words.len() > 1
                && words
                    .iter()
                    .all(|q| e.words.iter().any(|w| w.starts_with(q.as_str())))
            {
                return Some(2);
            }
            if e.emails.iter().any(|m| m.starts_with(text)) {
                return Some(3);
            }
            if text.len() >= 3 && e.emails.iter().any(|m| m.contains(text)) {
                return Some(4);
            }
        }
        if qd.len() >= 3 {
            if e.digits.iter().any(|d| d.starts_with(qd)) {
                return Some(5);
            }
            if e.digits.iter().any(|d| d.contains(qd)) {
                return Some(6);
            }
        }
        None
    }

    /// Up to `limit` contacts for what the agent typed.
    pub fn search<'a>(&'a self, query: &str, limit: usize) -> Vec<Hit> {
        let text = fold(query.trim());
        if text.is_empty() || limit == 0 {
            return vec![];
        }
        let qd = digits(&text);
        let number_like = !qd.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_digit() || " .-()/+".contains(c));
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        // Best rank, then the agent's own contacts, then by name. Only the
        // best few are kept in order (a short insertion list, no full sort:
        // one letter matches most of a large store). The same person in two
        // sources takes two places, so four times the limit leaves room.
        let key = |r: u8, e: &'a Entry| {
            (
                r,
                e.source != Source::Google,
                e.name.as_str(),
                e.id.as_str(),
            )
        };
        let head = limit.saturating_mul(4);
        let mut best: Vec<(u8, &Entry)> = Vec::with_capacity(head + 1);
        for e in &self.entries {
            let Some(r) = Self::rank(e, &text, &words, &qd, number_like) else {
                continue;
            };
            let k = key(r, e);
            if best.len() == head && best.last().is_some_and(|(lr, le)| key(*lr, le) <= k) {
                continue;
            }
            let at = best.partition_point(|(br, be)| key(*br, be) <= k);
            best.insert(at, (r, e));
            best.truncate(head);
        }
        Self::distinct(best, limit)
    }

    fn distinct(hits: Vec<(u8, &Entry)>, limit: usize) -> Vec<Hit> {
        // Emails of the agent's own contacts among the candidates: a
        // directory entry with one of them is the same person. Numbers do
        // not say so (a switchboard number is shared by many people), and
        // two of the agent's own contacts are never merged.
        let own: Vec<&str> = hits
            .iter()
            .filter(|(_, e)| e.source == Source::Google)
            .flat_map(|(_, e)| e.keys.iter().map(String::as_str))
            .collect();
        let mut out = vec![];
        for (rank, e) in hits {
            if e.source != Source::Google && e.keys.iter().any(|k| own.contains(&k.as_str())) {
                continue;
            }
            out.push(Hit {
                id: e.id.clone(),
                rank,
            });
            if out.len() == limit {
                break;
            }
        }
        out
    }

    /// The contact with this E.164 number (caller id), the agent's own
    /// contacts first.
    pub fn by_number(&self, e164: &str) -> Option<&str> {
        let want = digits(e164);
        if want.len() < 6 {
            return None;
        }
        let mut found: Option<&Entry> = None;
        for e in &self.entries {
            if e.digits.contains(&want) {
                if e.source == Source::Google {
                    return Some(&e.id);
                }
                found.get_or_insert(e);
            }
        }
        found.map(|e| e.id.as_str())
    }

    /// The contact with this email (case-insensitive), the agent's own first.
    pub fn by_email(&self, email: &str) -> Option<&str> {
        let want = email.trim().to_lowercase();
        let mut found: Option<&Entry> = None;
        for e in &self.entries {
            if e.emails.contains(&want) {
                if e.source == Source::Google {
                    return Some(&e.id);
                }
                found.get_or_insert(e);
            }
        }
        found.map(|e| e.id.as_str())
    }
}
