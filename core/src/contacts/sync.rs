//! Keeping the local store in step with the People API, page by page.
//!
//! A run lists one source. Without a sync token it is a *full* run: every
//! contact comes back and is stamped with a new generation; when the last
//! page arrives, whatever of that source carries an older generation was
//! deleted at the source (or never existed there any more) and is swept, so
//! a full resync never leaves duplicates or ghosts. With a sync token only
//! the changes come back, deletions as persons with `metadata.deleted`.
//! The page token is kept between pages, so a run interrupted by a 429, a
//! network error or the worker stopping resumes where it stopped.
//!
//! Outlook contacts (Microsoft Graph) follow the same steps: Graph's
//! `@odata.nextLink` is the page token and its `@odata.deltaLink` the sync
//! token ([`super::graph`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Source, StoredContact, from_person, graph};
use crate::api::{ApiFailure, ApiRoots, classify};

/// The fields Ringside stores (and nothing else).
pub const PERSON_FIELDS: &str = "names,emailAddresses,phoneNumbers,organizations,photos,metadata";

/// Contacts per page: People's maximum for `connections.list` and
/// `listDirectoryPeople`.
pub const PAGE_SIZE: usize = 1000;

/// Where one source's sync stands; persisted beside the contacts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// From the last page of the last complete run; None until the first
    /// full run ends, or after the source said it expired.
    #[serde(default)]
    pub sync_token: Option<String>,
    /// The next page of the run in progress, if one is in progress.
    #[serde(default)]
    pub page_token: Option<String>,
    /// Whether the run in progress lists everything (no sync token).
    #[serde(default)]
    pub full: bool,
    /// Stamp of the current (or last) full run.
    #[serde(default)]
    pub generation: u64,
    /// Contacts received in the run in progress (for progress).
    #[serde(default)]
    pub fetched: u64,
    /// How many the source says there are, when it says (`totalPeople`).
    #[serde(default)]
    pub total: Option<u64>,
    /// When the last run completed (ms since the epoch).
    #[serde(default)]
    pub completed_ms: Option<i64>,
    /// Whether a run is in progress.
    #[serde(default)]
    pub running: bool,
    /// Outlook only: the default Contacts folder's id, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
}

/// One page, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub upserts: Vec<StoredContact>,
    /// Ids (`<source>:<resourceName>`) deleted at the source.
    pub deletions: Vec<String>,
    pub next_page_token: Option<String>,
    pub next_sync_token: Option<String>,
    pub total: Option<u64>,
}

/// What the store must do after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Fetch [`SyncState::page_token`] next.
    More,
    /// The run is complete. For a full run, delete this source's contacts
    /// stamped with a generation below `sweep_below`.
    Done { sweep_below: Option<u64> },
}

/// Why a sync page failed, in terms of what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncFailure {
    /// People's `EXPIRED_SYNC_TOKEN` (400 FAILED_PRECONDITION): start over
    /// with a full run.
    ExpiredToken,
    /// The account cannot use the People API (it is off for the project or
    /// the Workspace domain, or directory sharing is off): tell the agent.
    NoAccess { message: String },
    /// Anything else, as the side panel classifies it (scope, 429, 5xx).
    Api(ApiFailure),
}

impl SyncState {
    /// Starts a run unless one is in progress (then it resumes).
    pub fn begin(&mut self) {
        if self.running {
            return;
        }
        self.running = true;
        self.page_token = None;
        self.fetched = 0;
        self.full = self.sync_token.is_none();
        if self.full {
            self.generation += 1;
        }
    }

    /// The source said the sync token expired: restart as a full run.
    pub fn expired(&mut self) {
        self.sync_token = None;
        self.running = false;
        self.begin();
    }

    /// Outlook only: a saved link no longer under the Graph root (the
    /// administrator moved `graphApiRoot`) is dropped with the folder, and
    /// the run starts over, full, so the token never follows the old link.
    /// True when it did.
    pub fn rebase(&mut self, roots: &ApiRoots, source: Source) -> bool {
        if source != Source::Outlook {
            return false;
        }
        let foreign = [&self.page_token, &self.sync_token]
            .into_iter()
            .flatten()
            .any(|l| !graph::link_is_under(&roots.graph, l));
        if foreign {
            self.page_token = None;
            self.sync_token = None;
            self.folder = None;
            self.running = false;
            self.begin();
        }
        foreign
    }

    /// Outlook only: whether the default folder must be found first.
    pub fn needs_folder(&self, source: Source) -> bool {
        source == Source::Outlook
            && self.folder.is_none()
            && self.page_token.is_none()
            && self.sync_token.is_none()
    }

    /// The URL of the next page.
    pub fn url(&self, roots: &ApiRoots, source: Source) -> String {
        super::backend::of(source).page_url(self, roots)
    }

    /// Records a page: stamps its contacts with the generation and says
    /// what comes next.
    pub fn apply(&mut self, page: &mut Page, now_ms: i64) -> Step {
        for c in &mut page.upserts {
            c.generation = self.generation;
        }
        self.fetched += (page.upserts.len() + page.deletions.len()) as u64;
        if page.total.is_some() {
            self.total = page.total;
        }
        match &page.next_page_token {
            Some(t) => {
                self.page_token = Some(t.clone());
                Step::More
            }
            None => {
                self.page_token = None;
                self.running = false;
                self.completed_ms = Some(now_ms);
                if page.next_sync_token.is_some() {
                    self.sync_token = page.next_sync_token.clone();
                }
                Step::Done {
                    sweep_below: self.full.then_some(self.generation),
                }
            }
        }
    }
}

/// Parses a `connections.list` or `listDirectoryPeople` answer, or a Graph
/// delta page.
pub fn parse_page(source: Source, roots: &ApiRoots, body: &str) -> Option<Page> {
    super::backend::of(source).parse_page(roots, body)
}

/// Parses a People page (`connections.list` or `listDirectoryPeople`).
pub(super) fn parse_people_page(source: Source, body: &str) -> Option<Page> {
    let v: Value = serde_json::from_str(body).ok()?;
    let list = match source {
        Source::Directory => &v["people"],
        _ => &v["connections"],
    };
    let mut page = Page::default();
    for p in list.as_array().into_iter().flatten() {
        if p["metadata"]["deleted"] == true {
            if let Some(r) = p["resourceName"].as_str() {
                page.deletions.push(format!("{}:{r}", source.key()));
            }
        } else if let Some(c) = from_person(source, p) {
            page.upserts.push(c);
        }
    }
    let text = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    page.next_page_token = text("nextPageToken");
    page.next_sync_token = text("nextSyncToken");
    page.total = v["totalPeople"]
        .as_u64()
        .or_else(|| v["totalSize"].as_u64());
    Some(page)
}

/// Classifies a failed page.
pub fn classify_failure(
    source: Source,
    status: u16,
    body: &str,
    retry_after: Option<&str>,
) -> SyncFailure {
    super::backend::of(source).classify_failure(status, body, retry_after)
}

/// Classifies a failed People request.
pub(super) fn classify_people_failure(
    status: u16,
    body: &str,
    retry_after: Option<&str>,
) -> SyncFailure {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let err = &v["error"];
    let reasons: Vec<&str> = err["details"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(err["errors"].as_array().into_iter().flatten())
        .filter_map(|d| d["reason"].as_str())
        .collect();
    let message = err["message"].as_str().unwrap_or_default();
    if status == 400
        && (reasons.contains(&"EXPIRED_SYNC_TOKEN")
            || message
                .to_ascii_lowercase()
                .contains("sync token is expired"))
    {
        return SyncFailure::ExpiredToken;
    }
    if status == 403
        && (reasons.contains(&"SERVICE_DISABLED")
            || reasons.contains(&"accessNotConfigured")
            || reasons.contains(&"PERMISSION_DENIED")
            || err["status"] == "PERMISSION_DENIED"
                && !reasons.contains(&"ACCESS_TOKEN_SCOPE_INSUFFICIENT")
                && !reasons.contains(&"insufficientPermissions")
                && !reasons.contains(&"RATE_LIMIT_EXCEEDED")
                && !reasons.contains(&"rateLimitExceeded"))
    {
        return SyncFailure::NoAccess {
            message: message.to_owned(),
        };
    }
    SyncFailure::Api(classify(status, body, retry_after))
}
