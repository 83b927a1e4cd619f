//! Microsoft Graph's Outlook contacts as a sync sees them, under
//! `/graph/v1.0`: the default folder's contacts (`GET /me/contacts`), the
//! documented `GET /me/contactFolders/{id}/contacts/delta` with `$select`,
//! `Prefer: odata.maxpagesize`, `@odata.nextLink` (`$skiptoken`) and
//! `@odata.deltaLink` (`$deltatoken`), removals as `@removed`, and
//! `GET|PATCH|DELETE /me/contacts/{id}` and `POST /me/contacts` with
//! `If-Match` checked against `@odata.etag` (412 when stale).
//!
//! Tokens come from the Microsoft provider; reading needs `Contacts.Read` or
//! `Contacts.ReadWrite`, writing `Contacts.ReadWrite`, else Graph's 403
//! `ErrorAccessDenied`. Every change bumps a sequence; a delta link is the
//! sequence at the start of its round. Links can be expired from the control
//! API, and then Graph's 410 Gone answers.
//!
//! Control (under `/control/graph`): `POST /generate {"contacts": N}`,
//! `GET|PATCH|DELETE /contacts/{id}` (edits at the source),
//! `POST /expire-delta-links`, `GET /writes`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::oidc::Provider;
use crate::people_sync::Write;

/// The default Contacts folder's id (Graph ids are opaque base64).
pub const FOLDER: &str = "AQMkADAwATM0MDAAMS1iNQAAAC4AAAPD/Contacts==";

#[derive(Debug, Clone)]
struct Entry {
    contact: Value,
    seq: u64,
    deleted: bool,
}

#[derive(Debug, Default)]
pub struct Book {
    entries: BTreeMap<String, Entry>,
    seq: u64,
    next_id: u64,
    expired_below: u64,
    writes: Vec<Write>,
}

#[derive(Clone)]
pub struct Graph {
    provider: Provider,
    book: Arc<Mutex<Book>>,
}

impl Graph {
    pub fn new(microsoft: Provider) -> Graph {
        Graph {
            provider: microsoft,
            book: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Book {
    fn bump(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Stores `contact` under `id` with a new etag and change key.
    fn put(&mut self, id: &str, mut contact: Value) -> Value {
        let seq = self.bump();
        let key = format!("EQAAABYAAAD{seq:010}");
        contact["id"] = json!(id);
        contact["@odata.etag"] = json!(format!("W/\"{key}\""));
        contact["changeKey"] = json!(key);
        contact["parentFolderId"] = json!(FOLDER);
        for k in ["businessPhones", "homePhones", "emailAddresses"] {
            if contact[k].is_null() {
                contact[k] = json!([]);
            }
        }
        self.entries.insert(
            id.to_owned(),
            Entry {
                contact: contact.clone(),
                seq,
                deleted: false,
            },
        );
        contact
    }

    fn delete(&mut self, id: &str) -> bool {
        let seq = self.bump();
        match self.entries.get_mut(id) {
            Some(e) if !e.deleted => {
                e.deleted = true;
                e.seq = seq;
                true
            }
            _ => false,
        }
    }

    fn live(&self, id: &str) -> Option<&Value> {
        self.entries
            .get(id)
            .filter(|e| !e.deleted)
            .map(|e| &e.contact)
    }
}

/// Graph's error body.
pub fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {
            "code": code,
            "message": message,
            "innerError": {"date": "2026-11-30T12:00:00", "request-id": "5a3c-emulator", "client-request-id": "5a3c-emulator"},
        }})),
    )
        .into_response()
}

/// The caller's email, when the token carries one of `accepted`.
fn caller(g: &Graph, headers: &HeaderMap, accepted: &[&str]) -> Result<String, Box<Response>> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some((email, scope)) = g.provider.token_info(bearer) else {
        let mut r = graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.",
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            ),
        );
        return Err(Box::new(r));
    };
    if !scope.split_whitespace().any(|s| accepted.contains(&s)) {
        return Err(Box::new(graph_error(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )));
    }
    Ok(email)
}

const READ: &[&str] = &["Contacts.Read", "Contacts.ReadWrite"];
const WRITE: &[&str] = &["Contacts.ReadWrite"];

/// `$select` applied to a contact (`id` and `@odata.etag` always stay).
fn selected(c: &Value, select: Option<&String>) -> Value {
    let Some(fields) = select else {
        return c.clone();
    };
    let keep: Vec<&str> = fields.split(',').map(str::trim).collect();
    let mut out = serde_json::Map::new();
    for (k, v) in c.as_object().into_iter().flatten() {
        if k == "id" || k.starts_with('@') || keep.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// `GET /me/contacts`: the default folder's contacts, `$top` and `$select`.
async fn list(
    State(g): State<Graph>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = caller(&g, &headers, READ) {
        return *r;
    }
    let top = q
        .get("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(10);
    let b = g.lock();
    let value: Vec<Value> = b
        .entries
        .values()
        .filter(|e| !e.deleted)
        .take(top)
        .map(|e| selected(&e.contact, q.get("$select")))
        .collect();
    Json(json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('me')/contacts", "value": value}))
        .into_response()
}

fn page_size(headers: &HeaderMap) -> Option<usize> {
    headers
        .get("prefer")
        .and_then(|h| h.to_str().ok())?
        .split(',')
        .find_map(|p| p.trim().strip_prefix("odata.maxpagesize="))?
        .parse::<usize>()
        .ok()
        .map(|n| n.clamp(1, 1000))
}

/// `GET /me/contactFolders/{id}/contacts/delta`.
async fn delta(
    State(g): State<Graph>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(folder): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = caller(&g, &headers, READ) {
        return *r;
    }
    if folder != FOLDER {
        return graph_error(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        );
    }
    let asked = page_size(&headers);
    let size = asked.unwrap_or(10);
    let b = g.lock();
    let now = b.seq;
    // Tokens: `$deltatoken=d<since>` and `$skiptoken=<since>:<snapshot>:<offset>:<select>`
    // (Graph encodes the first request's parameters into its links too).
    let (since, snapshot, offset, select) = if let Some(t) = q.get("$skiptoken") {
        let mut parts = t.splitn(4, ':');
        let mut num = || parts.next().and_then(|n| n.parse::<u64>().ok());
        let (Some(since), Some(snap), Some(off)) = (num(), num(), num()) else {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "ErrorInvalidUrlQuery",
                "The skip token is not valid.",
            );
        };
        let select = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
        (since, snap, off as usize, select)
    } else if let Some(t) = q.get("$deltatoken") {
        let parsed = t.split_once(':').and_then(|(n, s)| {
            let n = n.strip_prefix('d')?.parse::<u64>().ok()?;
            Some((n, (!s.is_empty()).then(|| s.to_owned())))
        });
        match parsed {
            Some((n, select)) if n >= b.expired_below && n <= now => (n, now, 0, select),
            _ => {
                return graph_error(
                    StatusCode::GONE,
                    "SyncStateNotFound",
                    "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
                );
            }
        }
    } else {
        (0, now, 0, q.get("$select").cloned())
    };
    let mut rows: Vec<(&String, &Entry)> = b
        .entries
        .iter()
        .filter(|(_, e)| {
            if since == 0 {
                !e.deleted
            } else {
                e.seq > since
            }
        })
        .collect();
    rows.sort_by_key(|(_, e)| e.seq);
    let value: Vec<Value> = rows
        .iter()
        .skip(offset)
        .take(size)
        .map(|(id, e)| {
            if e.deleted {
                json!({"@odata.type": "#microsoft.graph.contact", "id": id, "@removed": {"reason": "deleted"}})
            } else {
                selected(&e.contact, select.as_ref())
            }
        })
        .collect();
    let base = uri.path();
    let origin = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .unwrap_or_default();
    let sel = select.unwrap_or_default();
    let mut out = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(contact)", "value": value});
    if offset + size < rows.len() {
        let token = format!("{since}:{snapshot}:{}:{sel}", offset + size);
        out["@odata.nextLink"] = json!(format!("{origin}{base}?$skiptoken={}", enc(&token)));
    } else {
        let token = format!("d{snapshot}:{sel}");
        out["@odata.deltaLink"] = json!(format!("{origin}{base}?$deltatoken={}", enc(&token)));
    }
    let mut r = Json(out).into_response();
    if let Some(n) = asked {
        r.headers_mut().insert(
            "preference-applied",
            HeaderValue::from_str(&format!("odata.maxpagesize={n}"))
                .unwrap_or(HeaderValue::from_static("")),
        );
    }
    r
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn not_found() -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
}

/// The fields a client may write.
fn writable(body: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for k in [
        "displayName",
        "givenName",
        "surname",
        "emailAddresses",
        "businessPhones",
        "homePhones",
        "mobilePhone",
        "companyName",
        "jobTitle",
    ] {
        if let Some(v) = body.get(k) {
            out.insert(k.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

/// More than Outlook's contact form holds: 3 email addresses, 2 business
/// and 2 home numbers (the emulator's reading; Graph documents no limit for
/// the phone lists).
fn too_many_emails(body: &Value) -> bool {
    let over = |k: &str, n: usize| body[k].as_array().is_some_and(|a| a.len() > n);
    over("emailAddresses", 3) || over("businessPhones", 2) || over("homePhones", 2)
}

/// `GET|PATCH|DELETE /me/contacts/{id}`.
async fn one(
    State(g): State<Graph>,
    method: axum::http::Method,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let scopes = if method == axum::http::Method::GET {
        READ
    } else {
        WRITE
    };
    if let Err(r) = caller(&g, &headers, scopes) {
        return *r;
    }
    let mut b = g.lock();
    let Some(current) = b.live(&id).cloned() else {
        return not_found();
    };
    if method == axum::http::Method::GET {
        return Json(current).into_response();
    }
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let mut write = Write {
        method: method.to_string(),
        resource: id.clone(),
        etag: if_match.clone(),
        status: 200,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let stale = if_match
        .as_deref()
        .is_some_and(|m| m != "*" && current["@odata.etag"].as_str() != Some(m));
    let answer = if stale {
        graph_error(
            StatusCode::PRECONDITION_FAILED,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
        )
    } else if method == axum::http::Method::DELETE {
        b.delete(&id);
        StatusCode::NO_CONTENT.into_response()
    } else if too_many_emails(&write.body) {
        graph_error(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidArgument",
            "The number of email addresses or phone numbers exceeds what the contact holds.",
        )
    } else {
        let mut c = current.clone();
        for (k, v) in writable(&write.body).as_object().into_iter().flatten() {
            c[k] = v.clone();
        }
        Json(b.put(&id, c)).into_response()
    };
    write.status = answer.status().as_u16();
    b.writes.push(write);
    answer
}

/// `POST /me/contacts`: a new contact in the default folder.
async fn create(State(g): State<Graph>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(r) = caller(&g, &headers, WRITE) {
        return *r;
    }
    let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut b = g.lock();
    let (status, answer) = if too_many_emails(&sent) {
        (
            400,
            graph_error(
                StatusCode::BAD_REQUEST,
                "ErrorInvalidArgument",
                "The number of email addresses or phone numbers exceeds what the contact holds.",
            ),
        )
    } else {
        b.next_id += 1;
        let id = format!("AAMkNew{:04}", b.next_id);
        let c = b.put(&id, writable(&sent));
        (201, (StatusCode::CREATED, Json(c)).into_response())
    };
    b.writes.push(Write {
        method: "POST".into(),
        resource: String::new(),
        etag: None,
        status,
        body: sent,
    });
    answer
}

pub fn routes() -> Router<Graph> {
    Router::new()
        .route("/graph/v1.0/me/contacts", get(list).post(create))
        .route(
            "/graph/v1.0/me/contacts/{id}",
            get(one).patch(one).delete(one),
        )
        .route(
            "/graph/v1.0/me/contactFolders/{folder}/contacts/delta",
            get(delta),
        )
}

#[derive(Debug, Deserialize)]
struct Generate {
    contacts: usize,
}

/// A deterministic Outlook contact: `n`. Every 50th has a national number
/// (no `+`), as people type them in Outlook.
pub fn generated(n: usize) -> Value {
    let (first, last) = (
        ["Olivia", "Rémi", "Jonas", "Maya"][n % 4],
        ["Fontaine", "Keller", "Duarte"][n % 3],
    );
    let mobile = if n % 50 == 7 {
        format!("06 12 {:02} {:02} {:02}", n % 100, (n / 100) % 100, n % 97)
    } else {
        format!(
            "+33 6 12 {:02} {:02} {:02}",
            n % 100,
            (n / 100) % 100,
            (n / 10000) % 100
        )
    };
    json!({
        "displayName": format!("{first} {last} {n}"),
        "givenName": first,
        "surname": format!("{last} {n}"),
        "emailAddresses": [{"name": format!("{first} {last}"), "address": format!("{}.{}{n}@fabrikam.example", first.to_lowercase().replace('é', "e"), last.to_lowercase())}],
        "mobilePhone": mobile,
        "businessPhones": [format!("+33 1 40 {:02} {:02} {:02}", n % 100, (n / 100) % 100, (n / 10000) % 100)],
        "homePhones": [],
        "companyName": "Fabrikam",
    })
}

async fn generate(State(g): State<Graph>, Json(gen_): Json<Generate>) -> StatusCode {
    let mut b = g.lock();
    *b = Book::default();
    for n in 0..gen_.contacts {
        b.put(&format!("AAMkOl{n:05}"), generated(n));
    }
    StatusCode::NO_CONTENT
}

async fn control_get(State(g): State<Graph>, Path(id): Path<String>) -> Response {
    match g.lock().live(&id) {
        Some(c) => Json(c.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// An edit made in Outlook: the given fields replace the contact's.
async fn control_patch(
    State(g): State<Graph>,
    Path(id): Path<String>,
    Json(patch): Json<Value>,
) -> Response {
    let mut b = g.lock();
    let Some(mut c) = b.live(&id).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    for (k, v) in patch.as_object().into_iter().flatten() {
        c[k] = v.clone();
    }
    Json(b.put(&id, c)).into_response()
}

async fn control_delete(State(g): State<Graph>, Path(id): Path<String>) -> StatusCode {
    if g.lock().delete(&id) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn expire(State(g): State<Graph>) -> StatusCode {
    let mut b = g.lock();
    b.expired_below = b.bump();
    StatusCode::NO_CONTENT
}

async fn writes(State(g): State<Graph>) -> Json<Vec<Write>> {
    Json(g.lock().writes.clone())
}

pub fn control_routes() -> Router<Graph> {
    Router::new()
        .route("/generate", post(generate))
        .route(
            "/contacts/{id}",
            get(control_get).patch(control_patch).delete(control_delete),
        )
        .route("/expire-delta-links", post(expire))
        .route("/writes", get(writes))
}

#[cfg(test)]
#[path = "graph_contacts_tests.rs"]
mod tests;
