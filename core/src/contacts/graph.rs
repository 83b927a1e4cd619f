//! Outlook contacts of a Microsoft-signed-in agent, through Microsoft Graph
//! delta queries (`contact: delta`).
//!
//! The documented request is per folder,
//! `GET /me/contactFolders/{id}/contacts/delta`, so a first run asks for the
//! default Contacts folder's id (`GET /me/contacts?$top=1&$select=parentFolderId`,
//! the documented "contacts in the default folder" listing). Graph then hands
//! out whole URLs: `@odata.nextLink` while a round has more pages,
//! `@odata.deltaLink` when it is complete. Ringside keeps them as the page
//! and sync "tokens" of [`super::sync::SyncState`], and follows them only
//! when they stay under the configured Graph root (the access token must
//! not go anywhere else). A removed contact comes back as
//! `{"id", "@removed": {"reason"}}`. An expired delta link answers 410 Gone
//! (or 400 `syncStateNotFound`), and the run starts over, full.

use serde_json::{Value, json};

use super::merge::Draft;
use super::sync::{Page, SyncFailure};
use super::{Phone, Source, StoredContact};
use crate::api::{ApiFailure, classify};

pub use crate::api::GRAPH_ROOT;

/// The contact properties Ringside stores (`$select`).
pub const SELECT: &str = "displayName,givenName,surname,emailAddresses,businessPhones,homePhones,mobilePhone,companyName";

/// Contacts per delta page, asked with `Prefer: odata.maxpagesize`.
pub const PAGE_SIZE: usize = 1000;

/// The `Prefer` header of a delta request.
pub fn prefer() -> (&'static str, String) {
    ("Prefer", format!("odata.maxpagesize={PAGE_SIZE}"))
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The request that finds the default Contacts folder (one contact's
/// `parentFolderId`).
pub fn folder_url(root: &str) -> String {
    format!("{root}/me/contacts?$top=1&$select=parentFolderId")
}

/// The answer to [`folder_url`]: `Some(Some(id))`, `Some(None)` when the
/// folder is empty (nothing to sync yet), None when unreadable.
pub fn parse_folder(body: &str) -> Option<Option<String>> {
    let v: Value = serde_json::from_str(body).ok()?;
    let list = v["value"].as_array()?;
    Some(
        list.iter()
            .find_map(|c| c["parentFolderId"].as_str().filter(|s| !s.is_empty()))
            .map(str::to_owned),
    )
}

/// The first request of a round over `folder`.
pub fn delta_url(root: &str, folder: &str) -> String {
    format!(
        "{root}/me/contactFolders/{}/contacts/delta?$select={SELECT}",
        enc(folder)
    )
}

/// Whether `link` (a next or delta link) stays under `root`: same scheme,
/// host and port, and a path below the root's (no `..` segment, encoded or
/// not, and no backslash that a URL parser would read as a slash).
pub fn link_is_under(root: &str, link: &str) -> bool {
    let root = root.trim_end_matches('/');
    let lower = link.to_ascii_lowercase();
    link.strip_prefix(root)
        .is_some_and(|rest| rest.starts_with('/'))
        && !link.contains(char::is_whitespace)
        && !link.contains('\\')
        && !lower.contains("/../")
        && !lower.ends_with("/..")
        && !lower.contains("%2e")
        && !lower.contains("%5c")
}

/// Whether a 401 from Graph is about the mailbox, not the token: an account
/// without an Exchange Online mailbox. Such an answer must not end the
/// session (refreshing the token cannot change it).
pub fn mailbox_unavailable(status: u16, body: &str) -> bool {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    status == 401 && v["error"]["code"] == "MailboxNotEnabledForRESTAPI"
}

/// A Graph `contact` as a stored contact. None without an id.
pub fn from_contact(c: &Value) -> Option<StoredContact> {
    let id = c["id"].as_str().filter(|s| !s.is_empty())?.to_owned();
    let mut emails: Vec<String> = vec![];
    for e in c["emailAddresses"].as_array().into_iter().flatten() {
        if let Some(v) = e["address"]
            .as_str()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            && !emails.iter().any(|x| x.eq_ignore_ascii_case(v))
        {
            emails.push(v.to_owned());
        }
    }
    let mut phones: Vec<Phone> = vec![];
    let written = c["mobilePhone"]
        .as_str()
        .map(|n| (n, "mobile"))
        .into_iter()
        .chain(list(&c["businessPhones"]).map(|n| (n, "work")))
        .chain(list(&c["homePhones"]).map(|n| (n, "home")));
    for (raw, kind) in written {
        if raw.trim().is_empty() {
            continue;
        }
        let mut phone = Phone::new(raw, None);
        phone.kind = Some(kind.to_owned());
        if !phones.iter().any(|x| x.best() == phone.best()) {
            phones.push(phone);
        }
    }
    let text = |k: &str| {
        c[k].as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let parts = [text("givenName"), text("surname")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let name = text("displayName")
        .or_else(|| (!parts.is_empty()).then_some(parts))
        .or_else(|| emails.first().cloned())
        .or_else(|| phones.first().map(|p| p.raw.clone()))
        .unwrap_or_default();
    Some(StoredContact {
        id: format!("{}:{id}", Source::Outlook.key()),
        source: Source::Outlook,
        resource: id,
        etag: c["@odata.etag"].as_str().unwrap_or_default().to_owned(),
        name,
        phones,
        emails,
        organization: text("companyName"),
        photo: None,
        generation: 0,
    })
}

fn list(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// Parses one delta page. None when it is not a delta answer, or when a
/// link points outside `root`.
pub fn parse_delta_page(root: &str, body: &str) -> Option<Page> {
    let v: Value = serde_json::from_str(body).ok()?;
    let rows = v["value"].as_array()?;
    let mut page = Page::default();
    for row in rows {
        if row.get("@removed").is_some() {
            if let Some(id) = row["id"].as_str() {
                page.deletions
                    .push(format!("{}:{id}", Source::Outlook.key()));
            }
        } else if let Some(c) = from_contact(row) {
            page.upserts.push(c);
        }
    }
    let link = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    page.next_page_token = link("@odata.nextLink");
    page.next_sync_token = link("@odata.deltaLink");
    let foreign = [&page.next_page_token, &page.next_sync_token]
        .into_iter()
        .flatten()
        .any(|l| !link_is_under(root, l));
    if foreign || (page.next_page_token.is_none() && page.next_sync_token.is_none()) {
        return None;
    }
    Some(page)
}

/// Classifies a failed Graph request.
pub fn classify_failure(status: u16, body: &str, retry_after: Option<&str>) -> SyncFailure {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = v["error"]["code"].as_str().unwrap_or_default();
    let message = v["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let code_is = |c: &str| code.eq_ignore_ascii_case(c);
    if status == 410 || code_is("syncStateNotFound") || code_is("resyncRequired") {
        return SyncFailure::ExpiredToken;
    }
    match status {
        // Graph's ErrorAccessDenied: the token lacks Contacts.Read (consent
        // withdrawn, or an administrator blocks it).
        403 if code_is("ErrorAccessDenied") || code_is("Authorization_RequestDenied") => {
            SyncFailure::Api(ApiFailure::InsufficientScope)
        }
        // The mailbox is not there: an account without Exchange Online.
        404 if code_is("MailboxNotEnabledForRESTAPI") || code_is("ResourceNotFound") => {
            SyncFailure::NoAccess { message }
        }
        401 if code_is("MailboxNotEnabledForRESTAPI") => SyncFailure::NoAccess { message },
        // 429 and 5xx retry like Google's; Graph's body carries no reasons.
        _ => SyncFailure::Api(classify(status, body, retry_after)),
    }
}

/// A 404 for the folder itself (it was deleted or recreated): find the
/// default folder again.
pub fn folder_gone(status: u16, body: &str) -> bool {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    status == 404 && v["error"]["code"] == "ErrorItemNotFound"
}

/// Why an edit cannot go to Outlook as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutlookLimit {
    /// Outlook keeps at most three email addresses per contact.
    TooManyEmails,
    /// Outlook's slots: one mobile, two business and two home numbers.
    TooManyPhones,
}

/// Outlook's phone slots beside the one mobile number.
const BUSINESS_SLOTS: usize = 2;
const HOME_SLOTS: usize = 2;

/// The body of `POST /me/contacts` or `PATCH /me/contacts/{id}` for a
/// draft. Each number keeps its slot (`kind_of` gives the stored kind of a
/// number as written) while the slot has room; a new number goes to the
/// first free one of business, home, mobile.
pub fn contact_body(
    d: &Draft,
    kind_of: &dyn Fn(&str) -> Option<String>,
) -> Result<Value, OutlookLimit> {
    if d.emails.len() > 3 {
        return Err(OutlookLimit::TooManyEmails);
    }
    let mut mobile: Option<&str> = None;
    let mut business = vec![];
    let mut home = vec![];
    let mut unplaced = vec![];
    for p in &d.phones {
        match kind_of(p).as_deref() {
            Some("mobile") if mobile.is_none() => mobile = Some(p),
            Some("home") if home.len() < HOME_SLOTS => home.push(p.as_str()),
            Some("work") if business.len() < BUSINESS_SLOTS => business.push(p.as_str()),
            _ => unplaced.push(p.as_str()),
        }
    }
    for p in unplaced {
        if business.len() < BUSINESS_SLOTS {
            business.push(p);
        } else if home.len() < HOME_SLOTS {
            home.push(p);
        } else if mobile.is_none() {
            mobile = Some(p);
        } else {
            return Err(OutlookLimit::TooManyPhones);
        }
    }
    Ok(json!({
        "displayName": d.name,
        "emailAddresses": d.emails.iter().map(|e| json!({"address": e, "name": d.name})).collect::<Vec<_>>(),
        "mobilePhone": mobile,
        "businessPhones": business,
        "homePhones": home,
    }))
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
