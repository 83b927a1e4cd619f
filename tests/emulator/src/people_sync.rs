//! The People API as a contact sync sees it: `people.connections.list` and
//! `people.listDirectoryPeople` with page and sync tokens, `people.get`,
//! `createContact`, `updateContact` (etag checked) and `deleteContact`.
//!
//! Every change bumps a sequence number. A sync token is the sequence at the
//! start of the run that returned it; with one, only entries changed after
//! it come back, deleted ones as `{"resourceName", "etag", "metadata":
//! {"deleted": true}}`. Tokens can be expired from the control API, and then
//! the answer is People's 400 `EXPIRED_SYNC_TOKEN`.
//!
//! Control (under `/control/google/people`): `PUT /` seeds both books,
//! `POST /generate` makes N deterministic contacts and M directory people,
//! `GET|PATCH|DELETE /{book}/{id}` reads, edits or deletes at the source,
//! `POST /expire-sync-tokens`, `GET /writes` lists the edits received.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::google_apis::{Apis, caller, google_error};

#[derive(Debug, Clone)]
struct Entry {
    person: Value,
    etag: String,
    seq: u64,
    deleted: bool,
}

#[derive(Debug, Default)]
struct Book {
    entries: BTreeMap<String, Entry>,
}

/// One write received (create, update or delete), for the tests.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Write {
    pub method: String,
    pub resource: String,
    /// The etag the request carried.
    pub etag: Option<String>,
    pub status: u16,
    pub body: Value,
}

#[derive(Debug, Default)]
pub struct Books {
    contacts: Book,
    directory: Book,
    seq: u64,
    next_id: u64,
    /// Sync tokens below this sequence are expired.
    expired_below: u64,
    writes: Vec<Write>,
}

pub type Shared = Arc<Mutex<Books>>;

impl Books {
    fn book(&mut self, which: &str) -> Option<&mut Book> {
        match which {
            "contacts" => Some(&mut self.contacts),
            "directory" => Some(&mut self.directory),
            _ => None,
        }
    }

    fn bump(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Stores `person` under `resource` in `which` with a new etag.
    fn put(&mut self, which: &str, resource: &str, mut person: Value) -> Value {
        let seq = self.bump();
        let etag = format!("%EgUBAgMFByIM{seq:08x}");
        canonicalize(&mut person);
        person["resourceName"] = json!(resource);
        person["etag"] = json!(etag);
        let id = resource.rsplit('/').next().unwrap_or(resource);
        person["metadata"] = json!({"sources": [{
            "type": if which == "directory" { "DOMAIN_PROFILE" } else { "CONTACT" },
            "id": id, "etag": etag,
        }]});
        if let Some(b) = self.book(which) {
            b.entries.insert(
                resource.to_owned(),
                Entry {
                    person: person.clone(),
                    etag,
                    seq,
                    deleted: false,
                },
            );
        }
        person
    }

    fn delete(&mut self, which: &str, resource: &str) -> bool {
        let seq = self.bump();
        let Some(b) = self.book(which) else {
            return false;
        };
        match b.entries.get_mut(resource) {
            Some(e) if !e.deleted => {
                e.deleted = true;
                e.seq = seq;
                true
            }
            _ => false,
        }
    }
}

fn lock(b: &Shared) -> std::sync::MutexGuard<'_, Books> {
    b.lock().unwrap_or_else(|e| e.into_inner())
}

/// Google computes `canonicalForm` (E.164) for numbers it can parse and
/// `displayName` from the name parts; this does the same for numbers written
/// in international form and for `unstructuredName`.
fn canonicalize(p: &mut Value) {
    if let Some(list) = p["phoneNumbers"].as_array_mut() {
        for ph in list {
            let v = ph["value"].as_str().unwrap_or_default();
            let compact: String = v.chars().filter(|c| !" .-()/".contains(*c)).collect();
            let digits = compact.strip_prefix('+').unwrap_or("");
            if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
                ph["canonicalForm"] = json!(compact);
            } else if let Some(o) = ph.as_object_mut() {
                o.remove("canonicalForm");
            }
        }
    }
    if let Some(list) = p["names"].as_array_mut() {
        for n in list {
            if n["displayName"].is_null() {
                let name = n["unstructuredName"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        [n["givenName"].as_str(), n["familyName"].as_str()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ")
                    });
                n["displayName"] = json!(name);
            }
        }
    }
}

fn deleted_json(resource: &str, e: &Entry) -> Value {
    json!({"resourceName": resource, "etag": e.etag, "metadata": {"deleted": true}})
}

fn expired() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {
            "code": 400,
            "message": "Sync token is expired. Clear local cache and retry call without the sync token.",
            "status": "FAILED_PRECONDITION",
            "details": [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "EXPIRED_SYNC_TOKEN",
                "domain": "people.googleapis.com",
            }],
        }})),
    )
        .into_response()
}

fn invalid(message: &str) -> Response {
    google_error(
        StatusCode::BAD_REQUEST,
        message,
        "badRequest",
        "INVALID_ARGUMENT",
    )
}

/// One page of a listing; `key` is `connections` or `people`.
fn list(books: &Shared, which: &str, q: &HashMap<String, String>, key: &str) -> Response {
    let size = q
        .get("pageSize")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let mut b = lock(books);
    let now = b.seq;
    let since = match q.get("syncToken") {
        Some(t) => match t.strip_prefix('s').and_then(|n| n.parse::<u64>().ok()) {
            Some(n) if n >= b.expired_below && n <= now => Some(n),
            _ => return expired(),
        },
        None => None,
    };
    // Page token: "<snapshot>:<offset>", the snapshot being the sequence at
    // the run's first page (the sync token the last page hands out).
    let (snapshot, offset) = match q.get("pageToken") {
        Some(t) => match t
            .split_once(':')
            .and_then(|(a, o)| Some((a.parse().ok()?, o.parse().ok()?)))
        {
            Some(v) => v,
            None => return invalid("Page token is not valid."),
        },
        None => (now, 0usize),
    };
    let Some(book) = b.book(which) else {
        return invalid("unknown book");
    };
    let mut rows: Vec<(&String, &Entry)> = book
        .entries
        .iter()
        .filter(|(_, e)| match since {
            Some(n) => e.seq > n,
            None => !e.deleted,
        })
        .collect();
    if since.is_some() {
        rows.sort_by_key(|(_, e)| e.seq);
    }
    let total = book.entries.values().filter(|e| !e.deleted).count();
    let page: Vec<Value> = rows
        .iter()
        .skip(offset)
        .take(size)
        .map(|(r, e)| {
            if e.deleted {
                deleted_json(r, e)
            } else {
                e.person.clone()
            }
        })
        .collect();
    let mut out = json!({ key: page });
    if offset + size < rows.len() {
        out["nextPageToken"] = json!(format!("{snapshot}:{}", offset + size));
    } else if q.get("requestSyncToken").is_some_and(|v| v == "true") {
        out["nextSyncToken"] = json!(format!("s{snapshot}"));
    }
    if key == "connections" {
        out["totalPeople"] = json!(total);
        out["totalItems"] = json!(total);
    }
    Json(out).into_response()
}

pub async fn connections(
    State(a): State<Apis>,
    headers: HeaderMap,
    Path(who): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = caller(&a, &headers, &["contacts.readonly", "contacts"]) {
        return *r;
    }
    if who != "me" {
        return invalid("Only people/me is supported.");
    }
    if q.get("personFields").is_none_or(|f| f.is_empty()) {
        return invalid(
            "personFields mask is required. Please specify one or more valid paths. Valid paths are documented at https://developers.google.com/people/api/rest/v1/people/get.",
        );
    }
    list(a.people(), "contacts", &q, "connections")
}

pub async fn directory(
    State(a): State<Apis>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = caller(&a, &headers, &["directory.readonly"]) {
        return *r;
    }
    if q.get("readMask").is_none_or(|f| f.is_empty()) {
        return invalid("readMask is required and must not be empty.");
    }
    if !q.contains_key("sources") {
        return invalid("Must specify at least one source.");
    }
    list(a.people(), "directory", &q, "people")
}

fn not_found() -> Response {
    google_error(
        StatusCode::NOT_FOUND,
        "Requested entity was not found.",
        "notFound",
        "NOT_FOUND",
    )
}

/// `GET people/{id}`, `PATCH people/{id}:updateContact`,
/// `DELETE people/{id}:deleteContact`.
pub async fn person(
    State(a): State<Apis>,
    method: axum::http::Method,
    headers: HeaderMap,
    Path(rest): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Option<Json<Value>>,
) -> Response {
    let (id, verb) = rest.split_once(':').unwrap_or((rest.as_str(), ""));
    let resource = format!("people/{id}");
    let scopes: &[&str] = if verb.is_empty() {
        &["contacts.readonly", "contacts"]
    } else {
        &["contacts"]
    };
    if let Err(r) = caller(&a, &headers, scopes) {
        return *r;
    }
    let books = a.people();
    match (method.as_str(), verb) {
        ("GET", "") => {
            let b = lock(books);
            match b
                .contacts
                .entries
                .get(&resource)
                .or_else(|| b.directory.entries.get(&resource))
            {
                Some(e) if !e.deleted => Json(e.person.clone()).into_response(),
                _ => not_found(),
            }
        }
        ("PATCH", "updateContact") => {
            let body = body.map(|Json(v)| v).unwrap_or(Value::Null);
            let fields = q.get("updatePersonFields").cloned().unwrap_or_default();
            let etag = body["etag"].as_str().map(str::to_owned);
            let mut b = lock(books);
            let (status, answer) = update(&mut b, &resource, &fields, etag.as_deref(), &body);
            b.writes.push(Write {
                method: "updateContact".into(),
                resource,
                etag,
                status: status.as_u16(),
                body,
            });
            answer
        }
        ("DELETE", "deleteContact") => {
            let mut b = lock(books);
            let ok = b.delete("contacts", &resource);
            b.writes.push(Write {
                method: "deleteContact".into(),
                resource,
                etag: None,
                status: if ok { 200 } else { 404 },
                body: Value::Null,
            });
            if ok {
                Json(json!({})).into_response()
            } else {
                not_found()
            }
        }
        _ => not_found(),
    }
}

fn update(
    b: &mut Books,
    resource: &str,
    fields: &str,
    etag: Option<&str>,
    body: &Value,
) -> (StatusCode, Response) {
    if fields.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            invalid(
                "updatePersonFields mask is required. Please specify one or more valid paths. Valid paths are documented at https://developers.google.com/people/api/rest/v1/people/updateContact.",
            ),
        );
    }
    let Some(etag) = etag else {
        return (
            StatusCode::BAD_REQUEST,
            invalid(
                "Request must set person.etag or person.metadata.sources.etag for the source that is being updated.",
            ),
        );
    };
    if b.directory.entries.contains_key(resource) {
        return (
            StatusCode::FORBIDDEN,
            google_error(
                StatusCode::FORBIDDEN,
                "The caller does not have permission",
                "forbidden",
                "PERMISSION_DENIED",
            ),
        );
    }
    let current = match b.contacts.entries.get(resource) {
        Some(e) if !e.deleted => e.clone(),
        _ => return (StatusCode::NOT_FOUND, not_found()),
    };
    if current.etag != etag {
        return (
            StatusCode::BAD_REQUEST,
            google_error(
                StatusCode::BAD_REQUEST,
                "Request person.etag is different than the current person.etag. Clear local cache and get the latest person.",
                "failedPrecondition",
                "FAILED_PRECONDITION",
            ),
        );
    }
    let mut person = current.person;
    for f in fields.split(',').map(str::trim) {
        person[f] = body[f].clone();
    }
    let updated = b.put("contacts", resource, person);
    (StatusCode::OK, Json(updated).into_response())
}

pub async fn create(
    State(a): State<Apis>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = caller(&a, &headers, &["contacts"]) {
        return *r;
    }
    let mut b = lock(a.people());
    b.next_id += 1;
    let resource = format!("people/c{}", 900_000 + b.next_id);
    let mut person = json!({});
    for f in ["names", "phoneNumbers", "emailAddresses", "organizations"] {
        if !body[f].is_null() {
            person[f] = body[f].clone();
        }
    }
    let created = b.put("contacts", &resource, person);
    b.writes.push(Write {
        method: "createContact".into(),
        resource,
        etag: None,
        status: 200,
        body,
    });
    Json(created).into_response()
}

// ---- control ----

#[derive(Debug, Default, Deserialize)]
pub struct Seed {
    #[serde(default)]
    pub contacts: Vec<Value>,
    #[serde(default)]
    pub directory: Vec<Value>,
}

pub async fn seed(State(a): State<Apis>, Json(s): Json<Seed>) -> StatusCode {
    let mut b = lock(a.people());
    *b = Books::default();
    for (which, list) in [("contacts", s.contacts), ("directory", s.directory)] {
        for p in list {
            if let Some(r) = p["resourceName"].as_str().map(str::to_owned) {
                b.put(which, &r, p);
            }
        }
    }
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
pub struct Generate {
    pub contacts: usize,
    #[serde(default)]
    pub directory: usize,
}

const FIRST: &[&str] = &[
    "Ana", "Élodie", "Jürgen", "Marta", "Luca", "Sofía", "Noah", "Chloé", "Mateo", "Inès", "Oskar",
    "Zoë", "Hugo", "Lena", "Karim", "Aiko",
];
const LAST: &[&str] = &[
    "Ruiz", "Martin", "Müller", "García", "Rossi", "Dubois", "Schmidt", "López", "Bernard",
    "Weber", "Moreau", "Fischer", "Romero", "Lefèvre",
];

/// Email-safe letters: accents dropped.
fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'É' => 'E',
            'é' | 'è' | 'ë' => 'e',
            'ü' => 'u',
            'í' => 'i',
            'ç' => 'c',
            _ => c,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// A deterministic person: contact `n` of `which`. Every 50th contact has
/// a number that does not parse; every 97th has 30 numbers. Directory
/// people have other names and landline (`+34 9…`, work) numbers.
pub fn generated(which: &str, n: usize) -> Value {
    // Directory people are other people than the agent's contacts of the
    // same index: other names, landline numbers.
    let k = if which == "directory" { n + 7 } else { n };
    let first = FIRST[k % FIRST.len()];
    let last = LAST[(k / FIRST.len() + usize::from(which == "directory")) % LAST.len()];
    let name = format!("{first} {last} {n}");
    let local = format!("{}.{}{n}", ascii(first), ascii(last)).to_lowercase();
    let domain = if which == "directory" {
        "corp.example"
    } else {
        "example.com"
    };
    let (lead, kind) = if which == "directory" {
        ("9", "work")
    } else {
        ("6", "mobile")
    };
    let mut phones = vec![
        json!({"value": format!("+34 {lead}{:02} {:03} {:03}", n % 100, (n / 100) % 1000, n % 1000), "type": kind}),
    ];
    if n % 50 == 7 {
        phones.push(json!({"value": "ext. 12", "type": "work"}));
    }
    if n % 97 == 5 {
        for k in 0..30 {
            phones.push(json!({"value": format!("+33 1 {:02} {:02} {:02} {:02}", k, n % 100, (n / 100) % 100, k)}));
        }
    }
    let prefix = if which == "directory" { "d" } else { "c" };
    json!({
        "resourceName": format!("people/{prefix}{n}"),
        "names": [{"displayName": name, "givenName": first, "familyName": format!("{last} {n}"), "metadata": {"primary": true}}],
        "phoneNumbers": phones,
        "emailAddresses": [{"value": format!("{local}@{domain}")}],
        "organizations": [{"name": if which == "directory" { "Corp" } else { "Client Co" }, "title": "Buyer"}],
    })
}

pub async fn generate(State(a): State<Apis>, Json(g): Json<Generate>) -> StatusCode {
    let mut b = lock(a.people());
    *b = Books::default();
    for n in 0..g.contacts {
        b.put(
            "contacts",
            &format!("people/c{n}"),
            generated("contacts", n),
        );
    }
    for n in 0..g.directory {
        b.put(
            "directory",
            &format!("people/d{n}"),
            generated("directory", n),
        );
    }
    StatusCode::NO_CONTENT
}

pub async fn control_get(
    State(a): State<Apis>,
    Path((which, id)): Path<(String, String)>,
) -> Response {
    let mut b = lock(a.people());
    let resource = format!("people/{id}");
    match b.book(&which).and_then(|bk| bk.entries.get(&resource)) {
        Some(e) if !e.deleted => Json(e.person.clone()).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// An edit made at the source: the given fields replace the person's.
pub async fn control_patch(
    State(a): State<Apis>,
    Path((which, id)): Path<(String, String)>,
    Json(patch): Json<Value>,
) -> Response {
    let mut b = lock(a.people());
    let resource = format!("people/{id}");
    let Some(mut person) = b
        .book(&which)
        .and_then(|bk| bk.entries.get(&resource))
        .filter(|e| !e.deleted)
        .map(|e| e.person.clone())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(o) = patch.as_object() {
        for (k, v) in o {
            person[k] = v.clone();
        }
    }
    if let Some(names) = person["names"].as_array_mut() {
        for n in names {
            if let Some(o) = n.as_object_mut()
                && o.contains_key("unstructuredName")
            {
                o.remove("displayName");
            }
        }
    }
    Json(b.put(&which, &resource, person)).into_response()
}

pub async fn control_delete(
    State(a): State<Apis>,
    Path((which, id)): Path<(String, String)>,
) -> StatusCode {
    if lock(a.people()).delete(&which, &format!("people/{id}")) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

pub async fn expire_tokens(State(a): State<Apis>) -> StatusCode {
    let mut b = lock(a.people());
    // Every token handed out so far is older than this; new runs get a valid one.
    b.expired_below = b.bump();
    StatusCode::NO_CONTENT
}

pub async fn writes(State(a): State<Apis>) -> Json<Vec<Write>> {
    Json(lock(a.people()).writes.clone())
}
