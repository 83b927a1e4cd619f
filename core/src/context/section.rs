//! How each panel section behaves on its own: retries with backoff that
//! honour Retry-After, a short per-contact cache, and cached data shown with
//! its age when the network is gone.

use serde::{Deserialize, Serialize};

use super::{Contact, Presence, SharedDoc, SharedEmail, SharedEvent};
use crate::api::ApiFailure;
pub use crate::api::{MAX_ATTEMPTS, MAX_DELAY_MS, retry_delay_ms};

/// What one section holds once loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionData {
    Emails {
        items: Vec<SharedEmail>,
        see_all: String,
    },
    /// Emails from Gmail over IMAP (app password): subject and RFC 3339 date.
    ImapEmails {
        items: Vec<crate::mail::MailHeader>,
        see_all: String,
        account: String,
    },
    Docs {
        items: Vec<SharedDoc>,
        see_all: String,
    },
    Events {
        items: Vec<SharedEvent>,
        open: String,
    },
}

/// The worker's answer for one section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionAnswer {
    Ready {
        data: SectionData,
        fetched_ms: f64,
        /// Served from the cache because the network failed: show its age.
        offline: bool,
    },
    /// Not connected (never, or the agent disconnected it): show Connect.
    NeedsConnect,
    /// The agent signed in with Microsoft: Google Workspace only for now.
    NotGoogle,
    SignedOut,
    /// No email address is known for the contact (a number not in contacts).
    NoEmail,
    /// Gave up: the `_locales` key and the server's words.
    Failed {
        key: String,
        detail: String,
    },
}

/// The worker's answer to a contact lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactAnswer {
    Found {
        contact: Contact,
    },
    /// Nobody matched in contacts or the directory.
    Unknown,
    /// A Microsoft agent: the Google sections do not apply; the contact is
    /// the one from their synced Outlook contacts, when there is one.
    NotGoogle {
        #[serde(default)]
        contact: Option<Contact>,
    },
    SignedOut,
    NeedsConnect,
    Failed {
        key: String,
        detail: String,
    },
}

/// The worker's answer about someone being in a meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceAnswer {
    Known {
        presence: Presence,
    },
    /// Calendar not connected, or the calendar is not visible.
    Unknown,
}

/// The `_locales` key for a failure the section gave up on.
pub fn failure_key(f: &ApiFailure) -> &'static str {
    match f {
        ApiFailure::RateLimited { .. } => "sectionRateLimited",
        ApiFailure::Server { .. } => "sectionServerError",
        ApiFailure::Refused { .. } => "sectionRefused",
        ApiFailure::InsufficientScope => "sectionNeedsConnect",
        ApiFailure::Unauthorized => "sectionSignedOut",
    }
}

/// How long a contact's sections are reused without asking again.
pub const CACHE_TTL_MS: f64 = 5.0 * 60_000.0;
/// How long "in a meeting now" is reused (it changes on the minute).
pub const PRESENCE_TTL_MS: f64 = 60_000.0;

/// Whether data fetched at `fetched_ms` is still fresh at `now_ms`.
pub fn fresh(fetched_ms: f64, now_ms: f64) -> bool {
    now_ms >= fetched_ms && now_ms - fetched_ms < CACHE_TTL_MS
}

/// Whole minutes since `fetched_ms` (for "offline: as of N minutes ago").
pub fn age_minutes(fetched_ms: f64, now_ms: f64) -> u64 {
    ((now_ms - fetched_ms).max(0.0) / 60_000.0).floor() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_short_and_ages_in_minutes() {
        assert!(fresh(1000.0, 1000.0 + CACHE_TTL_MS - 1.0));
        assert!(!fresh(1000.0, 1000.0 + CACHE_TTL_MS));
        assert!(
            !fresh(2000.0, 1000.0),
            "a clock that went back is not fresh"
        );
        assert_eq!(age_minutes(0.0, 150_000.0), 2);
    }
}
