//! Google's People, Gmail, Drive and Calendar APIs: the requests the panel
//! makes and what their answers mean. Shapes follow Google's reference
//! (People v1 `people:searchContacts` / `searchDirectoryPeople`, Gmail v1
//! `users.messages.list` + `get?format=metadata`, Drive v3 `files.list`,
//! Calendar v3 `events.list` and `freeBusy.query`).

use serde_json::{Value, json};

use super::{Contact, ContactQuery, Presence, SharedDoc, SharedEmail, SharedEvent};
// Moved to `crate::api` (one module for roots, failures, backoff and
// dates); named here too for the callers that import them from here.
pub use crate::api::{ApiFailure, ApiRoots, classify, ms_to_rfc3339, rfc3339_ms};

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

const PERSON_FIELDS: &str = "names,emailAddresses,phoneNumbers,organizations,photos";

/// The People API lookups, in order: the agent's contacts, their other
/// contacts (people they exchanged email with), then the Workspace directory.
pub fn people_urls(roots: &ApiRoots, q: &ContactQuery) -> Vec<String> {
    let query = enc(q.text());
    vec![
        format!(
            "{}/people:searchContacts?query={query}&readMask={PERSON_FIELDS}&pageSize=10",
            roots.people
        ),
        format!(
            "{}/otherContacts:search?query={query}&readMask=names,emailAddresses,phoneNumbers,photos&pageSize=10",
            roots.people
        ),
        format!(
            "{}/people:searchDirectoryPeople?query={query}&readMask={PERSON_FIELDS}\
             &sources=DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE&sources=DIRECTORY_SOURCE_TYPE_DOMAIN_CONTACT&pageSize=10",
            roots.people
        ),
    ]
}

/// Google sends a warm-up request with an empty query before the first
/// real `searchContacts` (its documented cache warm-up).
pub fn people_warmup_url(roots: &ApiRoots) -> String {
    format!(
        "{}/people:searchContacts?query=&readMask=names",
        roots.people
    )
}

/// `field` of the primary entry of a People list (`names`, `photos`,
/// `organizations`), else of the first; None when empty.
pub(crate) fn primary(list: &Value, field: &str) -> Option<String> {
    let items = list.as_array()?;
    items
        .iter()
        .find(|i| i["metadata"]["primary"] == true)
        .or_else(|| items.first())
        .and_then(|i| i[field].as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn person(p: &Value) -> Option<Contact> {
    let strings = |list: &Value, field: &str, alt: &str| -> Vec<String> {
        list.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i[field].as_str().or_else(|| i[alt].as_str()))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let emails = strings(&p["emailAddresses"], "value", "value");
    let name = primary(&p["names"], "displayName")
        .or_else(|| emails.first().cloned())
        .unwrap_or_default();
    Some(Contact {
        resource: p["resourceName"].as_str()?.to_owned(),
        name,
        photo: primary(&p["photos"], "url").filter(|u| u.starts_with("https://")),
        phones: strings(&p["phoneNumbers"], "canonicalForm", "value"),
        emails,
        organization: primary(&p["organizations"], "name"),
        title: primary(&p["organizations"], "title"),
    })
}

/// People from `searchContacts` (`results[].person`) or
/// `searchDirectoryPeople` (`people[]`).
pub fn parse_people(body: &str) -> Vec<Contact> {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return vec![];
    };
    let from_results = v["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| &r["person"]);
    let from_people = v["people"].as_array().into_iter().flatten();
    from_results.chain(from_people).filter_map(person).collect()
}

/// `users.messages.list` for messages from or to any of `emails`.
pub fn gmail_list_url(roots: &ApiRoots, emails: &[String], max: usize) -> String {
    let q: Vec<String> = emails
        .iter()
        .map(|e| format!("from:{e} OR to:{e}"))
        .collect();
    format!(
        "{}/users/me/messages?q={}&maxResults={max}",
        roots.gmail,
        enc(&q.join(" OR "))
    )
}

pub fn parse_gmail_ids(body: &str) -> Vec<String> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v["messages"].as_array().map(|a| {
                a.iter()
                    .filter_map(|m| m["id"].as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// `users.messages.get` with only the Subject and Date headers.
pub fn gmail_message_url(roots: &ApiRoots, id: &str) -> String {
    format!(
        "{}/users/me/messages/{}?format=metadata&metadataHeaders=Subject&metadataHeaders=Date",
        roots.gmail,
        enc(id)
    )
}

pub fn parse_gmail_message(body: &str) -> Option<SharedEmail> {
    let v: Value = serde_json::from_str(body).ok()?;
    let subject = v["payload"]["headers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| {
            h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("subject"))
        })
        .and_then(|h| h["value"].as_str())
        .unwrap_or_default()
        .to_owned();
    Some(SharedEmail {
        id: v["id"].as_str()?.to_owned(),
        subject,
        date_ms: v["internalDate"].as_str()?.parse().ok()?,
    })
}

/// Drive's query string quoting: backslash and single quote escaped.
fn drive_quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

/// `files.list`: the most recently edited files the contact can read or
/// write (shared in either direction), not trashed.
pub fn drive_url(roots: &ApiRoots, emails: &[String], max: usize) -> String {
    let who: Vec<String> = emails
        .iter()
        .map(|e| {
            let e = drive_quote(e);
            format!("'{e}' in readers or '{e}' in writers or '{e}' in owners")
        })
        .collect();
    let q = format!("({}) and trashed = false", who.join(" or "));
    format!(
        "{}/files?q={}&orderBy={}&pageSize={max}&fields={}",
        roots.drive,
        enc(&q),
        enc("modifiedTime desc"),
        enc("files(id,name,modifiedTime,webViewLink)")
    )
}

pub fn parse_drive(body: &str) -> Vec<SharedDoc> {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return vec![];
    };
    v["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            Some(SharedDoc {
                id: f["id"].as_str()?.to_owned(),
                title: f["name"].as_str().unwrap_or_default().to_owned(),
                modified: f["modifiedTime"].as_str().unwrap_or_default().to_owned(),
                link: f["webViewLink"]
                    .as_str()
                    .filter(|l| l.starts_with("https://"))
                    .map(str::to_owned),
            })
        })
        .collect()
}

/// Drive's web search for the same files ("See all").
pub fn drive_search_url(email: &str) -> String {
    format!("https://drive.google.com/drive/search?q={}", enc(email))
}

/// `events.list` on the agent's primary calendar: events mentioning the
/// contact between `from` and `to` (RFC 3339), expanded, by start time.
pub fn events_url(roots: &ApiRoots, email: &str, from: &str, to: &str) -> String {
    format!(
        "{}/calendars/primary/events?q={}&timeMin={}&timeMax={}&singleEvents=true&orderBy=startTime&maxResults=50",
        roots.calendar,
        enc(email),
        enc(from),
        enc(to)
    )
}

/// Events where the contact is an attendee (or the organizer), cancelled
/// ones left out.
pub fn parse_events(body: &str, email: &str) -> Vec<SharedEvent> {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return vec![];
    };
    let is = |x: &Value| x.as_str().is_some_and(|e| e.eq_ignore_ascii_case(email));
    v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["status"] != "cancelled")
        .filter(|e| {
            is(&e["organizer"]["email"])
                || e["attendees"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| is(&x["email"])))
        })
        .filter_map(|e| {
            let when = |k: &str| {
                e[k]["dateTime"]
                    .as_str()
                    .or_else(|| e[k]["date"].as_str())
                    .map(str::to_owned)
            };
            Some(SharedEvent {
                id: e["id"].as_str()?.to_owned(),
                name: e["summary"].as_str().unwrap_or_default().to_owned(),
                start: when("start")?,
                end: when("end")?,
                all_day: e["start"]["dateTime"].is_null(),
            })
        })
        .collect()
}

/// The events to show: up to `past` that ended most recently and up to
/// `upcoming` that have not ended, in start order.
pub fn pick_events(
    mut events: Vec<SharedEvent>,
    now_ms: i64,
    past: usize,
    upcoming: usize,
) -> Vec<SharedEvent> {
    events.sort_by_key(|e| rfc3339_ms(&e.start).unwrap_or(i64::MAX));
    let ended = |e: &SharedEvent| rfc3339_ms(&e.end).is_some_and(|t| t <= now_ms);
    let (done, ahead): (Vec<_>, Vec<_>) = events.into_iter().partition(ended);
    let skip = done.len().saturating_sub(past);
    done.into_iter()
        .skip(skip)
        .chain(ahead.into_iter().take(upcoming))
        .collect()
}

/// `freeBusy.query` body for `emails` over the next `minutes`.
pub fn freebusy_body(emails: &[String], now_ms: i64, minutes: i64) -> Value {
    json!({
        "timeMin": ms_to_rfc3339(now_ms),
        "timeMax": ms_to_rfc3339(now_ms + minutes * 60_000),
        "items": emails.iter().map(|e| json!({"id": e})).collect::<Vec<_>>(),
    })
}

pub fn freebusy_url(roots: &ApiRoots) -> String {
    format!("{}/freeBusy", roots.calendar)
}

/// Whether `email` is busy at `now_ms`; the name comes from a shared event
/// happening now, when there is one (the agent may see it), else "Busy".
/// None when the calendar is not visible (freeBusy's per-calendar errors).
pub fn presence(body: &str, email: &str, now_ms: i64, shared: &[SharedEvent]) -> Option<Presence> {
    let v: Value = serde_json::from_str(body).ok()?;
    let cals = v["calendars"].as_object()?;
    let cal = cals
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(email))
        .map(|(_, c)| c)?;
    if cal["errors"].as_array().is_some_and(|e| !e.is_empty()) {
        return None;
    }
    let busy = cal["busy"].as_array().into_iter().flatten().find(|b| {
        let s = b["start"].as_str().and_then(rfc3339_ms);
        let e = b["end"].as_str().and_then(rfc3339_ms);
        matches!((s, e), (Some(s), Some(e)) if s <= now_ms && now_ms < e)
    });
    let Some(busy) = busy else {
        return Some(Presence::Free);
    };
    let event = shared
        .iter()
        .filter(|e| !e.all_day)
        .find(|e| {
            let s = rfc3339_ms(&e.start);
            let end = rfc3339_ms(&e.end);
            matches!((s, end), (Some(s), Some(end)) if s <= now_ms && now_ms < end)
        })
        .map(|e| e.name.clone())
        .filter(|n| !n.is_empty());
    Some(Presence::InMeeting {
        until: busy["end"].as_str().unwrap_or_default().to_owned(),
        event,
    })
}

#[cfg(test)]
#[path = "google_tests.rs"]
mod tests;
