//! The other party's context for the side panel: who the contact is (People
//! API) and what the agent shares with them in Google Workspace (Gmail,
//! Drive, Calendar). Request builders and response parsers are here, pure;
//! the service worker fetches. Every value from an API is plain text for the
//! DOM, never markup.

pub mod google;
pub mod section;

pub use crate::api::ApiRoots;

use serde::{Deserialize, Serialize};

/// The Google APIs the panel uses, each connected separately (incremental
/// authorization: the agent grants one scope when they click Connect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Integration {
    Gmail,
    Drive,
    Calendar,
}

impl Integration {
    pub const ALL: [Integration; 3] = [
        Integration::Gmail,
        Integration::Drive,
        Integration::Calendar,
    ];

    /// The one scope asked for when the agent connects this integration.
    /// Gmail: `gmail.metadata` cannot use a search query (`q`), so the
    /// read-only scope is the narrowest that finds messages with a contact.
    pub fn scope(self) -> &'static str {
        match self {
            Integration::Gmail => "https://www.googleapis.com/auth/gmail.readonly",
            Integration::Drive => "https://www.googleapis.com/auth/drive.metadata.readonly",
            Integration::Calendar => "https://www.googleapis.com/auth/calendar.readonly",
        }
    }

    /// Whether a space-separated granted scope list covers this integration.
    pub fn granted_in(self, scopes: &str) -> bool {
        scopes.split_whitespace().any(|s| s == self.scope())
    }

    /// `_locales` keys: section heading, connect button.
    pub fn keys(self) -> (&'static str, &'static str) {
        match self {
            Integration::Gmail => ("sharedEmailsHeading", "connectGmail"),
            Integration::Drive => ("sharedDocsHeading", "connectDrive"),
            Integration::Calendar => ("sharedEventsHeading", "connectCalendar"),
        }
    }
}

/// A person as the panel shows them. Phones are E.164 when the source gave
/// a canonical form (People API `canonicalForm`), else as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// `people/c123…` (contacts), `otherContacts/…`, `people/…` (directory).
    pub resource: String,
    pub name: String,
    #[serde(default)]
    pub photo: Option<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub organization: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

/// What the panel looks a contact up by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactQuery {
    /// E.164 (`+34612345678`): from a call or a call button.
    Phone(String),
    Email(String),
    /// Free text typed in the search box (a name).
    Name(String),
}

impl ContactQuery {
    /// The search box's text: an email, a phone number (digits, spaces,
    /// dots, dashes, parentheses, a leading +), or a name.
    pub fn parse(text: &str) -> Option<ContactQuery> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        if t.contains('@') {
            return Some(ContactQuery::Email(t.to_lowercase()));
        }
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        let phone_like = t
            .chars()
            .all(|c| c.is_ascii_digit() || " .-()/+".contains(c))
            && digits.len() >= 6;
        if phone_like {
            let plus = if t.starts_with('+') { "+" } else { "" };
            return Some(ContactQuery::Phone(format!("{plus}{digits}")));
        }
        Some(ContactQuery::Name(t.to_owned()))
    }

    /// The other party of a call: `+34…`, `tel:+34…`, `sip:+34…@host`, or
    /// a SIP address whose user part is not a number (then None).
    pub fn from_call(number: &str) -> Option<ContactQuery> {
        let n = number.trim();
        let n = n
            .strip_prefix("sip:")
            .or_else(|| n.strip_prefix("sips:"))
            .or_else(|| n.strip_prefix("tel:"))
            .unwrap_or(n);
        let user = n.split(['@', ';']).next().unwrap_or_default();
        match ContactQuery::parse(user)? {
            q @ ContactQuery::Phone(_) => Some(q),
            _ => None,
        }
    }

    /// The text sent to the People API's `query` (prefix match on names,
    /// emails, phones).
    pub fn text(&self) -> &str {
        match self {
            ContactQuery::Phone(p) | ContactQuery::Email(p) | ContactQuery::Name(p) => p,
        }
    }

    /// The cache key (case-insensitive for emails and names).
    pub fn key(&self) -> String {
        match self {
            ContactQuery::Phone(p) => format!("phone:{p}"),
            ContactQuery::Email(e) => format!("email:{}", e.to_lowercase()),
            ContactQuery::Name(n) => format!("name:{}", n.to_lowercase()),
        }
    }
}

/// Whether `c` is the person `q` asks for: phones compared in E.164 (digits
/// only, so `+34 612…` and `+34612…` agree), emails case-insensitively;
/// a name query matches any contact the API returned for it.
pub fn matches(c: &Contact, q: &ContactQuery) -> bool {
    let digits = |s: &str| -> String { s.chars().filter(char::is_ascii_digit).collect() };
    match q {
        ContactQuery::Phone(p) => {
            let want = digits(p);
            // Without a +, compare the national tail (last 9 digits).
            let tail = |d: &str| d.chars().rev().take(9).collect::<String>();
            c.phones.iter().any(|ph| {
                let have = digits(ph);
                if p.starts_with('+') && ph.starts_with('+') {
                    have == want
                } else {
                    have.len() >= 6 && tail(&have) == tail(&want)
                }
            })
        }
        ContactQuery::Email(e) => c.emails.iter().any(|x| x.eq_ignore_ascii_case(e)),
        ContactQuery::Name(_) => true,
    }
}

/// One shared email (subject, date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedEmail {
    pub id: String,
    pub subject: String,
    /// Milliseconds since the epoch (Gmail's `internalDate`).
    pub date_ms: i64,
}

/// One shared file (title, last edit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDoc {
    pub id: String,
    pub title: String,
    /// RFC 3339.
    pub modified: String,
    #[serde(default)]
    pub link: Option<String>,
}

/// One event both attend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedEvent {
    pub id: String,
    pub name: String,
    /// RFC 3339 date-time, or a date (`2026-09-01`) for all-day events.
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub all_day: bool,
}

/// Whether someone is in a meeting now, and what it is called when the
/// agent may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Free,
    /// Busy until `until` (RFC 3339); `event`: the name, when visible.
    InMeeting {
        until: String,
        #[serde(default)]
        event: Option<String>,
    },
}

/// Every `_locales` key handed out by this module and its children.
/// (The panel builds some per integration: `disconnect{Gmail,Drive,Calendar}`,
/// `disconnected…`, `noShared…`, `connectWhy…`.)
pub const MESSAGE_KEYS: &[&str] = &[
    "sharedEmailsHeading",
    "sharedDocsHeading",
    "sharedEventsHeading",
    "connectGmail",
    "connectDrive",
    "connectCalendar",
    "disconnectGmail",
    "disconnectDrive",
    "disconnectCalendar",
    "disconnectedGmail",
    "disconnectedDrive",
    "disconnectedCalendar",
    "noSharedGmail",
    "noSharedDrive",
    "noSharedCalendar",
    "connectWhyGmail",
    "connectWhyDrive",
    "connectWhyCalendar",
    "sectionRateLimited",
    "sectionServerError",
    "sectionRefused",
    "sectionNeedsConnect",
    "sectionSignedOut",
    "sectionOffline",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_emails_phones_or_names() {
        assert_eq!(
            ContactQuery::parse(" Bob@Contoso.com "),
            Some(ContactQuery::Email("bob@contoso.com".into()))
        );
        assert_eq!(
            ContactQuery::parse("+34 612 34 56 78"),
            Some(ContactQuery::Phone("+34612345678".into()))
        );
        assert_eq!(
            ContactQuery::parse("(415) 555-0100"),
            Some(ContactQuery::Phone("4155550100".into()))
        );
        assert_eq!(
            ContactQuery::parse("Bob Stone"),
            Some(ContactQuery::Name("Bob Stone".into()))
        );
        assert_eq!(ContactQuery::parse("  "), None);
        assert_eq!(
            ContactQuery::from_call("sip:+34612345678@127.0.0.1;transport=udp"),
            Some(ContactQuery::Phone("+34612345678".into()))
        );
        assert_eq!(
            ContactQuery::from_call("+34 612 34 56 78"),
            Some(ContactQuery::Phone("+34612345678".into()))
        );
        assert_eq!(ContactQuery::from_call("sip:alice@pbx.example.com"), None);
        assert_eq!(
            ContactQuery::parse("123"),
            Some(ContactQuery::Name("123".into()))
        );
    }

    #[test]
    fn phones_match_in_e164_and_emails_case_insensitively() {
        let bob = Contact {
            phones: vec!["+34612345678".into(), "+1 415 555 0100".into()],
            emails: vec!["Bob@Contoso.com".into()],
            ..Contact::default()
        };
        assert!(matches(&bob, &ContactQuery::Phone("+34612345678".into())));
        assert!(matches(&bob, &ContactQuery::Phone("+14155550100".into())));
        assert!(!matches(&bob, &ContactQuery::Phone("+34612345679".into())));
        // A national number without + matches on its tail.
        assert!(matches(&bob, &ContactQuery::Phone("612345678".into())));
        assert!(matches(
            &bob,
            &ContactQuery::Email("bob@contoso.com".into())
        ));
        assert!(!matches(
            &bob,
            &ContactQuery::Email("bo@contoso.com".into())
        ));
    }

    #[test]
    fn integrations_ask_one_scope_each() {
        let granted = "openid email https://www.googleapis.com/auth/drive.metadata.readonly";
        assert!(Integration::Drive.granted_in(granted));
        assert!(!Integration::Gmail.granted_in(granted));
        assert_eq!(
            ApiRoots::under("http://127.0.0.1:4000/googleapis/").gmail,
            "http://127.0.0.1:4000/googleapis/gmail/v1"
        );
    }
}
