//! Google's People, Gmail, Drive and Calendar APIs, as far as Ringside's
//! side panel calls them, under `/googleapis/{people/v1,gmail/v1,drive/v3,
//! calendar/v3}` (the extension reaches them through the `googleApiRoot`
//! policy). Access tokens come from the Google-flavoured provider and carry
//! scopes: a call without its scope gets Google's 403
//! `ACCESS_TOKEN_SCOPE_INSUFFICIENT` body. The query syntax is Google's:
//! Gmail `q` with `from:`/`to:` joined by `OR`, Drive `q` with
//! `'x' in readers|writers|owners` and `trashed = false`, Calendar
//! `timeMin`/`timeMax`/`q`. Fixtures: `PUT /control/google/fixtures`.
//! Latency and faults: the emulator's `/control/latency` and
//! `/control/faults` with a `/googleapis/...` prefix. Times in fixtures are
//! UTC (`…Z`) or dates.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::oidc::Provider;
use crate::people_sync;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub from: String,
    #[serde(default)]
    pub to: Vec<String>,
    pub subject: String,
    pub date_ms: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct File {
    pub id: String,
    pub name: String,
    /// RFC 3339 UTC.
    pub modified_time: String,
    #[serde(default)]
    pub owners: Vec<String>,
    #[serde(default)]
    pub readers: Vec<String>,
    #[serde(default)]
    pub writers: Vec<String>,
    #[serde(default)]
    pub trashed: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub summary: String,
    /// RFC 3339 UTC, or a date for all-day events.
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub attendees: Vec<String>,
    #[serde(default)]
    pub organizer: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Interval {
    pub start: String,
    pub end: String,
}

/// What the emulated account holds (every signed-in user sees the same).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Fixtures {
    /// People API `Person` objects, as Google returns them.
    #[serde(default)]
    pub contacts: Vec<Value>,
    /// People the agent exchanged email with (`otherContacts`).
    #[serde(default)]
    pub other_contacts: Vec<Value>,
    #[serde(default)]
    pub directory: Vec<Value>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub files: Vec<File>,
    #[serde(default)]
    pub events: Vec<Event>,
    /// Extra busy time per calendar (meetings the agent cannot see).
    #[serde(default)]
    pub busy: HashMap<String, Vec<Interval>>,
}

#[derive(Clone)]
pub struct Apis {
    provider: Provider,
    fixtures: Arc<Mutex<Fixtures>>,
    people: crate::people_sync::Shared,
}

impl Apis {
    pub fn new(provider: Provider) -> Apis {
        Apis {
            provider,
            fixtures: Arc::default(),
            people: Arc::default(),
        }
    }

    /// The synced contact books (`people_sync`).
    pub fn people(&self) -> &crate::people_sync::Shared {
        &self.people
    }

    fn fixtures(&self) -> Fixtures {
        self.fixtures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn reset(&self) {
        *self.fixtures.lock().unwrap_or_else(|e| e.into_inner()) = Fixtures::default();
        *self.people.lock().unwrap_or_else(|e| e.into_inner()) = Default::default();
    }
}

const SCOPES: &str = "https://www.googleapis.com/auth/";

pub fn routes() -> Router<Apis> {
    Router::new()
        .route(
            "/googleapis/people/v1/people:searchContacts",
            get(search_contacts),
        )
        .route(
            "/googleapis/people/v1/otherContacts:search",
            get(search_other_contacts),
        )
        .route(
            "/googleapis/people/v1/people:searchDirectoryPeople",
            get(search_directory),
        )
        .route("/googleapis/gmail/v1/users/me/messages", get(gmail_list))
        .route(
            "/googleapis/gmail/v1/users/me/messages/{id}",
            get(gmail_get),
        )
        .route("/googleapis/drive/v3/files", get(drive_list))
        .route(
            "/googleapis/calendar/v3/calendars/{cal}/events",
            get(calendar_events),
        )
        .route("/googleapis/calendar/v3/freeBusy", post(freebusy))
        .route(
            "/googleapis/people/v1/people/{who}/connections",
            get(people_sync::connections),
        )
        .route(
            "/googleapis/people/v1/people:listDirectoryPeople",
            get(people_sync::directory),
        )
        .route(
            "/googleapis/people/v1/people:createContact",
            post(people_sync::create),
        )
        .route(
            "/googleapis/people/v1/people/{rest}",
            get(people_sync::person)
                .patch(people_sync::person)
                .delete(people_sync::person),
        )
}

pub fn control_routes() -> Router<Apis> {
    Router::new()
        .route("/fixtures", put(set_fixtures).get(get_fixtures))
        .route("/people", put(people_sync::seed))
        .route("/people/generate", post(people_sync::generate))
        .route(
            "/people/expire-sync-tokens",
            post(people_sync::expire_tokens),
        )
        .route("/people/writes", get(people_sync::writes))
        .route(
            "/people/{which}/{id}",
            get(people_sync::control_get)
                .patch(people_sync::control_patch)
                .delete(people_sync::control_delete),
        )
}

async fn set_fixtures(State(a): State<Apis>, Json(f): Json<Fixtures>) -> StatusCode {
    *a.fixtures.lock().unwrap_or_else(|e| e.into_inner()) = f;
    StatusCode::NO_CONTENT
}

async fn get_fixtures(State(a): State<Apis>) -> Json<Fixtures> {
    Json(a.fixtures())
}

pub(crate) fn google_error(
    status: StatusCode,
    message: &str,
    reason: &str,
    api_status: &str,
) -> Response {
    (
        status,
        Json(json!({"error": {
            "code": status.as_u16(), "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": api_status,
        }})),
    )
        .into_response()
}

/// The caller's email when the bearer token is valid and carries one of
/// `accepted` (scope names after `.../auth/`).
pub(crate) fn caller(
    a: &Apis,
    headers: &HeaderMap,
    accepted: &[&str],
) -> Result<String, Box<Response>> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some((email, scope)) = a.provider.token_info(bearer) else {
        let mut r = google_error(
            StatusCode::UNAUTHORIZED,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            "authError",
            "UNAUTHENTICATED",
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static(
                "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
            ),
        );
        return Err(Box::new(r));
    };
    let has = scope
        .split_whitespace()
        .any(|s| accepted.iter().any(|a| s == format!("{SCOPES}{a}")));
    if !has {
        let needed = format!("{SCOPES}{}", accepted[0]);
        let body = json!({"error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "errors": [{"message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions"}],
            "status": "PERMISSION_DENIED",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com"}],
        }});
        let challenge = format!(
            "Bearer realm=\"https://accounts.google.com/\", error=\"insufficient_scope\", scope=\"{needed}\""
        );
        let mut r = (StatusCode::FORBIDDEN, Json(body)).into_response();
        if let Ok(v) = header::HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        return Err(Box::new(r));
    }
    Ok(email)
}

/// A page size parameter (Google's default 100).
fn count(q: &HashMap<String, String>, key: &str) -> usize {
    q.get(key).and_then(|m| m.parse().ok()).unwrap_or(100)
}

/// Any of these lets a token read the calendar.
const CALENDAR_SCOPES: &[&str] = &["calendar.readonly", "calendar.events.readonly", "calendar"];

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// People search: a prefix of any name word, email or phone number.
fn person_matches(p: &Value, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return false;
    }
    let texts = |list: &str, field: &str| -> Vec<String> {
        p[list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i[field].as_str().map(str::to_lowercase))
            .collect()
    };
    let names = texts("names", "displayName");
    if names
        .iter()
        .any(|n| n.starts_with(&q) || n.split_whitespace().any(|w| w.starts_with(&q)))
    {
        return true;
    }
    if texts("emailAddresses", "value")
        .iter()
        .any(|e| e.starts_with(&q))
    {
        return true;
    }
    let qd = digits(&q);
    qd.len() >= 3
        && texts("phoneNumbers", "canonicalForm")
            .iter()
            .chain(texts("phoneNumbers", "value").iter())
            .any(|ph| digits(ph).starts_with(&qd) || digits(ph).ends_with(&qd))
}

async fn search_contacts(
    State(a): State<Apis>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = caller(&a, &headers, &["contacts.readonly", "contacts"]) {
        return *r;
    }
    let query = q.get("query").cloned().unwrap_or_default();
    let results: Vec<Value> = a
        .fixtures()
        .contacts
        .into_iter()
        .filter(|p| person_matches(p, &query))
        .map(|p| json!({"person": p}))
        .collect();
    if results.is_empty() {
        return Json(json!({})).into_response();
    }
    Json(json!({"results": results})).into_response()
}

async fn search_other_contacts(
    State(a): State<Apis>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = caller(&a, &headers, &["contacts.other.readonly"]) {
        return *r;
    }
    let query = q.get("query").cloned().unwrap_or_default();
    let results: Vec<Value> = a
        .fixtures()
        .other_contacts
        .into_iter()
        .filter(|p| person_matches(p, &query))
        .map(|p| json!({"person": p}))
        .collect();
    if results.is_empty() {
        return Json(json!({})).into_response();
    }
    Json(json!({"results": results})).into_response()
}

async fn search_directory(
    State(a): State<Apis>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = caller(&a, &headers, &["directory.readonly"]) {
        return *r;
    }
    let query = q.get("query").cloned().unwrap_or_default();
    let people: Vec<Value> = a
        .fixtures()
        .directory
        .into_iter()
        .filter(|p| person_matches(p, &query))
        .collect();
    Json(json!({"people": people, "totalSize": people.len()})).into_response()
}

/// Gmail's `q`: `from:x` / `to:x` terms joined by `OR`.
fn gmail_matches(m: &Message, q: &str) -> bool {
    q.split(" OR ").any(|term| {
        let term = term.trim().to_lowercase();
        if let Some(x) = term.strip_prefix("from:") {
            m.from.eq_ignore_ascii_case(x)
        } else if let Some(x) = term.strip_prefix("to:") {
            m.to.iter().any(|t| t.eq_ignore_ascii_case(x))
        } else {
            false
        }
    })
}

async fn gmail_list(
    State(a): State<Apis>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = caller(&a, &headers, &["gmail.readonly", "gmail.modify"]) {
        return *r;
    }
    let query = q.get("q").cloned().unwrap_or_default();
    let max = count(&q, "maxResults");
    let mut found: Vec<Message> = a
        .fixtures()
        .messages
        .into_iter()
        .filter(|m| gmail_matches(m, &query))
        .collect();
    found.sort_by_key(|m| std::cmp::Reverse(m.date_ms));
    let estimate = found.len();
    if estimate == 0 {
        return Json(json!({"resultSizeEstimate": 0})).into_response();
    }
    let messages: Vec<Value> = found
        .iter()
        .take(max)
        .map(|m| json!({"id": m.id, "threadId": m.id}))
        .collect();
    Json(json!({"messages": messages, "resultSizeEstimate": estimate})).into_response()
}

async fn gmail_get(State(a): State<Apis>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = caller(&a, &headers, &["gmail.readonly", "gmail.modify"]) {
        return *r;
    }
    let Some(m) = a.fixtures().messages.into_iter().find(|m| m.id == id) else {
        return google_error(
            StatusCode::NOT_FOUND,
            "Requested entity was not found.",
            "notFound",
            "NOT_FOUND",
        );
    };
    Json(json!({
        "id": m.id, "threadId": m.id, "labelIds": ["INBOX"], "snippet": "",
        "internalDate": m.date_ms.to_string(),
        "payload": {"headers": [
            {"name": "Subject", "value": m.subject},
            {"name": "Date", "value": format!("{} ms since the epoch", m.date_ms)},
        ]},
    }))
    .into_response()
}

/// Drive's `q`: the `'x' in readers|writers|owners` terms (any may match)
/// and `trashed = false`.
fn drive_matches(f: &File, q: &str) -> bool {
    if q.contains("trashed = false") && f.trashed {
        return false;
    }
    let mut any_term = false;
    let mut rest = q;
    while let Some(start) = rest.find('\'') {
        let after = &rest[start + 1..];
        // The quoted value, with \' and \\ unescaped.
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(n);
                    }
                }
                '\'' => {
                    end = Some(i);
                    break;
                }
                c => value.push(c),
            }
        }
        let Some(end) = end else { break };
        let tail = after[end + 1..].trim_start();
        let field = tail
            .strip_prefix("in ")
            .and_then(|t| t.split(|c: char| !c.is_ascii_alphabetic()).next())
            .unwrap_or("");
        let list = match field {
            "readers" => Some(&f.readers),
            "writers" => Some(&f.writers),
            "owners" => Some(&f.owners),
            _ => None,
        };
        if let Some(list) = list {
            any_term = true;
            if list.iter().any(|x| x.eq_ignore_ascii_case(&value)) {
                return true;
            }
        }
        rest = &after[end + 1..];
    }
    !any_term
}

async fn drive_list(
    State(a): State<Apis>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = caller(
        &a,
        &headers,
        &["drive.metadata.readonly", "drive.readonly", "drive"],
    ) {
        return *r;
    }
    let query = q.get("q").cloned().unwrap_or_default();
    let size = count(&q, "pageSize");
    let mut files: Vec<File> = a
        .fixtures()
        .files
        .into_iter()
        .filter(|f| drive_matches(f, &query))
        .collect();
    if q.get("orderBy")
        .is_some_and(|o| o.trim() == "modifiedTime desc")
    {
        files.sort_by(|x, y| y.modified_time.cmp(&x.modified_time));
    }
    let files: Vec<Value> = files
        .iter()
        .take(size)
        .map(|f| {
            json!({
                "id": f.id, "name": f.name, "modifiedTime": f.modified_time,
                "webViewLink": format!("https://docs.google.com/document/d/{}/edit", f.id),
            })
        })
        .collect();
    Json(json!({"kind": "drive#fileList", "files": files})).into_response()
}

/// A comparable UTC instant: the first 19 characters, dates at midnight.
fn instant(s: &str) -> String {
    if s.len() == 10 {
        format!("{s}T00:00:00")
    } else {
        s.chars().take(19).collect()
    }
}

fn event_json(e: &Event, me: &str) -> Value {
    let when = |t: &str| {
        if t.len() == 10 {
            json!({"date": t})
        } else {
            json!({"dateTime": t, "timeZone": "UTC"})
        }
    };
    json!({
        "kind": "calendar#event", "id": e.id, "status": "confirmed", "summary": e.summary,
        "htmlLink": format!("https://www.google.com/calendar/event?eid={}", e.id),
        "start": when(&e.start), "end": when(&e.end),
        "organizer": {"email": e.organizer.clone().unwrap_or_else(|| me.to_owned())},
        "attendees": e.attendees.iter().map(|a| json!({
            "email": a, "responseStatus": "accepted", "self": a.eq_ignore_ascii_case(me),
        })).collect::<Vec<_>>(),
    })
}

async fn calendar_events(
    State(a): State<Apis>,
    headers: HeaderMap,
    Path(cal): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let me = match caller(&a, &headers, CALENDAR_SCOPES) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    if cal != "primary" && !cal.eq_ignore_ascii_case(&me) {
        return google_error(StatusCode::NOT_FOUND, "Not Found", "notFound", "NOT_FOUND");
    }
    let text = q.get("q").map(|t| t.to_lowercase()).unwrap_or_default();
    let min = q.get("timeMin").map(|t| instant(t));
    let max = q.get("timeMax").map(|t| instant(t));
    let mut items: Vec<Event> = a
        .fixtures()
        .events
        .into_iter()
        .filter(|e| {
            text.is_empty()
                || e.summary.to_lowercase().contains(&text)
                || e.attendees.iter().any(|x| x.to_lowercase().contains(&text))
        })
        .filter(|e| min.as_ref().is_none_or(|m| instant(&e.end) > *m))
        .filter(|e| max.as_ref().is_none_or(|m| instant(&e.start) < *m))
        .collect();
    items.sort_by_key(|e| instant(&e.start));
    let items: Vec<Value> = items.iter().map(|e| event_json(e, &me)).collect();
    Json(json!({"kind": "calendar#events", "summary": me, "items": items})).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FreeBusyQuery {
    time_min: String,
    time_max: String,
    #[serde(default)]
    items: Vec<Value>,
}

async fn freebusy(
    State(a): State<Apis>,
    headers: HeaderMap,
    Json(q): Json<FreeBusyQuery>,
) -> Response {
    let me = match caller(&a, &headers, CALENDAR_SCOPES) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    let fx = a.fixtures();
    let (min, max) = (instant(&q.time_min), instant(&q.time_max));
    let mut calendars = serde_json::Map::new();
    for item in &q.items {
        let id = item["id"].as_str().unwrap_or_default().to_lowercase();
        let id = if id == "primary" {
            me.to_lowercase()
        } else {
            id
        };
        let from_events = fx
            .events
            .iter()
            .filter(|e| e.start.len() > 10)
            .filter(|e| e.attendees.iter().any(|x| x.eq_ignore_ascii_case(&id)))
            .map(|e| Interval {
                start: e.start.clone(),
                end: e.end.clone(),
            });
        let extra = fx.busy.get(&id).cloned().unwrap_or_default();
        let busy: Vec<Value> = from_events
            .chain(extra)
            .filter(|b| instant(&b.end) > min && instant(&b.start) < max)
            .map(|b| json!({"start": b.start, "end": b.end}))
            .collect();
        calendars.insert(id, json!({"busy": busy}));
    }
    Json(json!({
        "kind": "calendar#freeBusy", "timeMin": q.time_min, "timeMax": q.time_max,
        "calendars": calendars,
    }))
    .into_response()
}

#[cfg(test)]
#[path = "google_apis_tests.rs"]
mod tests;
