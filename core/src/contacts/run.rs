//! One sync run of one source as a conversation: [`Run::request`] says what
//! to fetch, [`Run::answer`] reads the source's answer and says what comes
//! next, and [`Run::apply`] records a page and lists what the store must
//! delete. The worker only fetches, stores and broadcasts; these rules are
//! the same for People and Graph, and plain `cargo test` reaches them.
//!
//! The rules: a page token the source no longer takes restarts the run once;
//! an expired sync token (People's `EXPIRED_SYNC_TOKEN`, Graph's 410) turns
//! it into a full run once, and a second expiry is a failure rather than a
//! loop; Outlook finds its folder first, and again once if it was
//! recreated; 429 and 5xx are retried with backoff that honours Retry-After,
//! then the run pauses with its page token kept; everything else ends the
//! run with a message for the agent.

use std::collections::HashSet;

use super::sync::{Page, Step, SyncFailure, SyncState, classify_failure, parse_page};
use super::{Source, StoredContact, graph};
use crate::api::{ApiFailure, ApiRoots, retry_delay_ms};

/// What to fetch next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub url: String,
    /// Extra request headers (Graph's `Prefer: odata.maxpagesize`).
    pub headers: Vec<(&'static str, String)>,
}

/// What the worker does after an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Fetch [`Run::request`] now.
    Again,
    /// Wait this many milliseconds (Retry-After or backoff), then fetch
    /// [`Run::request`].
    Wait(u32),
    /// A page to store: pass it to [`Run::apply`].
    Page(Page),
    /// The run stops here: a message key and its substitutions. Its place
    /// is kept, so the next run resumes (or restarts) from it.
    Fail(String, Vec<String>),
}

/// A run in progress.
#[derive(Debug, Clone)]
pub struct Run {
    pub source: Source,
    pub state: SyncState,
    attempt: u32,
    restarted: bool,
    refound: bool,
    expirations: u32,
}

impl Run {
    /// Starts (or resumes) a run from the source's saved state. Graph links
    /// saved under a root the administrator has since moved are dropped.
    pub fn start(source: Source, mut state: SyncState, roots: &ApiRoots) -> Run {
        state.begin();
        state.rebase(roots, source);
        Run {
            source,
            state,
            attempt: 0,
            restarted: false,
            refound: false,
            expirations: 0,
        }
    }

    /// The next request.
    pub fn request(&self, roots: &ApiRoots) -> Fetch {
        let backend = super::backend::of(self.source);
        Fetch {
            url: backend.page_url(&self.state, roots),
            headers: backend.page_headers(&self.state),
        }
    }

    fn fail(&self, base: &str, subs: Vec<String>) -> Next {
        Next::Fail(self.source.message_key(base), subs)
    }

    /// Reads the answer to [`Run::request`].
    pub fn answer(
        &mut self,
        roots: &ApiRoots,
        status: u16,
        body: &str,
        retry_after: Option<&str>,
    ) -> Next {
        let source = self.source;
        let state = &mut self.state;
        if status == 400
            && state.page_token.is_some()
            && !self.restarted
            && classify_failure(source, 400, body, None) != SyncFailure::ExpiredToken
        {
            // A page token the source no longer takes: this run starts over.
            self.restarted = true;
            state.running = false;
            state.begin();
            return Next::Again;
        }
        if source == Source::Outlook && !self.refound && graph::folder_gone(status, body) {
            // The folder was recreated: find it again, then a full round.
            self.refound = true;
            state.folder = None;
            state.expired();
            return Next::Again;
        }
        if status != 200 {
            let http = vec![format!("HTTP {status}")];
            return match classify_failure(source, status, body, retry_after) {
                // Once per run: a source that keeps saying so is failing.
                SyncFailure::ExpiredToken if self.expirations == 0 => {
                    self.expirations += 1;
                    state.expired();
                    Next::Again
                }
                SyncFailure::ExpiredToken => self.fail("contactsSyncFailed", http),
                SyncFailure::NoAccess { message } => self.fail("contactsNoAccess", vec![message]),
                SyncFailure::Api(ApiFailure::InsufficientScope) => match source {
                    Source::Directory => self.fail("contactsDirectoryNeedsAccess", vec![]),
                    _ => self.fail("contactsNeedsAccess", vec![]),
                },
                SyncFailure::Api(f) => match retry_delay_ms(&f, self.attempt) {
                    Some(ms) => {
                        self.attempt += 1;
                        Next::Wait(ms)
                    }
                    // Paused: the page token is kept, the next run resumes here.
                    None if f.retryable() => self.fail("contactsSyncPaused", http),
                    None => self.fail("contactsSyncFailed", http),
                },
            };
        }
        self.attempt = 0;
        let page = if state.needs_folder(source) {
            match graph::parse_folder(body) {
                Some(Some(folder)) => {
                    state.folder = Some(folder);
                    return Next::Again;
                }
                // An empty Contacts folder: nothing to list (and what was
                // kept from it is swept).
                Some(None) => Some(Page::default()),
                None => None,
            }
        } else {
            parse_page(source, roots, body)
        };
        match page {
            Some(page) => Next::Page(page),
            None => self.fail("contactsUnreadable", vec![]),
        }
    }

    /// Records a page: stamps it, moves the state on, and lists the ids the
    /// store must delete: the page's deletions and, when a full run ends,
    /// this source's entries in `stored` that the run did not see.
    pub fn apply<'a>(
        &mut self,
        page: &mut Page,
        now_ms: i64,
        stored: impl IntoIterator<Item = &'a StoredContact>,
    ) -> (Step, Vec<String>) {
        let step = self.state.apply(page, now_ms);
        let mut deletes = page.deletions.clone();
        if let Step::Done {
            sweep_below: Some(g),
        } = step
        {
            let seen: HashSet<&str> = page.upserts.iter().map(|c| c.id.as_str()).collect();
            deletes.extend(
                stored
                    .into_iter()
                    .filter(|c| {
                        c.source == self.source && c.generation < g && !seen.contains(c.id.as_str())
                    })
                    .map(|c| c.id.clone()),
            );
        }
        (step, deletes)
    }
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
