//! Gmail over IMAP with an app password: what an app password looks like,
//! what the server's answers mean for the agent, and the search for a
//! contact's messages. The native host does the IMAP work; the rules are here.

use serde::{Deserialize, Serialize};

/// Gmail's IMAP server and port (policy may set others: tests, other providers).
pub const GMAIL_IMAP_HOST: &str = "imap.gmail.com";
pub const GMAIL_IMAP_PORT: u16 = 993;

/// An app password on its way from the options page to the host: Debug
/// prints `[redacted]` and the memory is zeroed on drop ([`crate::secret`]).
pub type AppPassword = crate::secret::Secret;

/// Why a typed value does not look like a Google app password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppPasswordWarning {
    /// Not 16 characters once spaces are removed (`got` characters).
    Length { got: usize },
    /// Characters other than letters (Google's are 16 letters).
    NotLetters,
}

impl AppPasswordWarning {
    pub fn message_key(&self) -> &'static str {
        match self {
            AppPasswordWarning::Length { .. } => "mailAppPasswordLength",
            AppPasswordWarning::NotLetters => "mailAppPasswordLetters",
        }
    }
}

/// The app password with spaces (and dashes Google does not use, but people
/// type) removed, or why it does not look like one. Nothing is sent before
/// the agent has seen the warning.
pub fn normalize_app_password(input: &str) -> (String, Option<AppPasswordWarning>) {
    let cleaned: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let n = cleaned.chars().count();
    let warning = if n != 16 {
        Some(AppPasswordWarning::Length { got: n })
    } else if !cleaned.chars().all(|c| c.is_ascii_alphabetic()) {
        Some(AppPasswordWarning::NotLetters)
    } else {
        None
    };
    (cleaned, warning)
}

/// What went wrong talking to the mail server, in terms the agent can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailFailure {
    /// `NO [AUTHENTICATIONFAILED]` on a first connection: the wrong password
    /// (often the Google password instead of the app password).
    WrongPassword,
    /// `[ALERT] Application-specific password required`: 2-Step Verification is on.
    AppPasswordRequired,
    /// A password that worked before now fails: revoked, or the Google
    /// password changed. The source is marked disconnected.
    Revoked,
    ConnectionRefused,
    TlsInvalid,
    Timeout,
    /// Anything else; the server's words go with it.
    Other,
    /// The native host is not there: it does the IMAP work and keeps the
    /// password, so nothing can be done without it. (Never sent by the host.)
    HostMissing,
    /// The host keeps no app password for this address on this server (it
    /// was deleted, or was stored before passwords were tied to their
    /// server): the agent connects again.
    NoPassword,
    /// The IMAP server setting changed since the agent connected: the app
    /// password stays tied to the server it was typed for, so the agent
    /// types it again for the new one. (Never sent by the host.)
    ServerChanged,
}

impl MailFailure {
    pub fn message_key(self) -> &'static str {
        match self {
            MailFailure::WrongPassword => "mailWrongPassword",
            MailFailure::AppPasswordRequired => "mailAppPasswordRequired",
            MailFailure::Revoked => "mailRevoked",
            MailFailure::ConnectionRefused => "mailConnectionRefused",
            MailFailure::TlsInvalid => "mailTlsInvalid",
            MailFailure::Timeout => "mailTimeout",
            MailFailure::Other => "mailOther",
            MailFailure::HostMissing => "mailNeedsHost",
            MailFailure::NoPassword => "mailNoPassword",
            MailFailure::ServerChanged => "mailServerChanged",
        }
    }

    /// Whether the source is disconnected (and any stored password dropped).
    pub fn disconnects(self) -> bool {
        matches!(
            self,
            MailFailure::Revoked | MailFailure::NoPassword | MailFailure::ServerChanged
        )
    }
}

/// Classifies a failed login from the server's answer. `worked_before`: a
/// stored password that logged in earlier.
pub fn classify_login(answer: &str, worked_before: bool) -> MailFailure {
    let a = answer.to_ascii_lowercase();
    if a.contains("application-specific password required") {
        MailFailure::AppPasswordRequired
    } else if a.contains("authenticationfailed")
        || a.contains("invalid credentials")
        || a.contains("authentication failed")
    {
        if worked_before {
            MailFailure::Revoked
        } else {
            MailFailure::WrongPassword
        }
    } else {
        MailFailure::Other
    }
}

/// The IMAP SEARCH criteria for messages from or to any of `addresses`
/// (quoted; addresses with quotes or control characters are skipped).
pub fn search_criteria(addresses: &[String]) -> Option<String> {
    let safe: Vec<&str> = addresses
        .iter()
        .map(|a| a.trim())
        .filter(|a| {
            !a.is_empty()
                && a.contains('@')
                && !a.chars().any(|c| c == '"' || c == '\\' || c.is_control())
        })
        .collect();
    let terms: Vec<String> = safe
        .iter()
        .flat_map(|a| {
            [
                format!("FROM \"{a}\""),
                format!("TO \"{a}\""),
                format!("CC \"{a}\""),
            ]
        })
        .collect();
    let (first, rest) = terms.split_first()?;
    // IMAP's OR takes two keys: fold the list into nested ORs.
    Some(
        rest.iter()
            .fold(first.clone(), |acc, t| format!("OR {acc} {t}")),
    )
}

/// The Gmail web search for the same messages ("See all").
pub fn gmail_search_url(addresses: &[String]) -> String {
    let q: Vec<String> = addresses
        .iter()
        .map(|a| format!("from:{a} OR to:{a}"))
        .collect();
    let q = q.join(" OR ");
    let encoded: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    format!("https://mail.google.com/mail/u/0/#search/{encoded}")
}

/// The IMAP server (policy may set another than Gmail's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailServer {
    pub host: String,
    pub port: u16,
}

impl Default for MailServer {
    fn default() -> Self {
        MailServer {
            host: GMAIL_IMAP_HOST.into(),
            port: GMAIL_IMAP_PORT,
        }
    }
}

impl MailServer {
    /// The server a request names, or Gmail's when it names none.
    pub fn or_default(server: Option<&MailServer>) -> MailServer {
        server.cloned().unwrap_or_default()
    }

    /// `host:port`, the host lowercased (DNS names are case-insensitive),
    /// as the agent is shown it and as it keys the password.
    pub fn label(&self) -> String {
        format!("{}:{}", self.host.trim().to_lowercase(), self.port)
    }

    /// The same server (host compared case-insensitively).
    pub fn same_as(&self, other: &MailServer) -> bool {
        self.label() == other.label()
    }
}

/// The secret store account of an app password: the address *and* the
/// server it was typed for (`imap ana@example.com imap.gmail.com:993`), so a
/// password is only ever found for, and sent to, that server. The host also
/// writes `host` and `port` as attributes of the entry.
pub fn secret_account(email: &str, server: &MailServer) -> String {
    format!("imap {} {}", email.trim().to_lowercase(), server.label())
}

/// The account app passwords were stored under before they were tied to
/// their server (`imap ana@example.com`). Such an entry is never read: its
/// server cannot be known (the setting may have changed, or been tampered
/// with, since), so the host deletes it whenever it handles that address.
pub fn legacy_secret_account(email: &str) -> String {
    format!("imap {}", email.trim().to_lowercase())
}

/// `mail.connect`: log in once with the app password; the host keeps it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailConnectParams {
    pub email: String,
    pub password: crate::secret::Secret,
    #[serde(default)]
    pub server: Option<MailServer>,
}

impl std::fmt::Debug for MailConnectParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConnectParams")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .field("server", &self.server)
            .finish()
    }
}

/// `mail.search`: the newest messages from or to `addresses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSearchParams {
    pub email: String,
    pub addresses: Vec<String>,
    #[serde(default = "default_limit")]
    pub limit: usize,
    #[serde(default)]
    pub server: Option<MailServer>,
}

fn default_limit() -> usize {
    5
}

/// `mail.forget`: disconnect; the password stored for that server is deleted
/// (Gmail's when `server` is absent), and any entry stored the old way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailForgetParams {
    pub email: String,
    #[serde(default)]
    pub server: Option<MailServer>,
}

/// One message's headers, as `mail.search` returns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailHeader {
    pub subject: String,
    /// RFC 3339, or empty when the message has no usable Date.
    pub date: String,
    pub message_id: String,
}

/// A host answer turned into what the agent is told: the failure, and the
/// server's words (never the password: the host leaves it out).
pub fn failure_of(e: &crate::protocol::ErrorBody) -> (MailFailure, String) {
    use crate::protocol::ErrorCode;
    match e.kind() {
        Some(ErrorCode::MailFailed) => {
            let detail = e.detail.as_deref();
            let failure = detail
                .and_then(|d| crate::json::from_value(d["failure"].clone()).ok())
                .unwrap_or(MailFailure::Other);
            let words = detail
                .and_then(|d| d["detail"].as_str())
                .unwrap_or(&e.message);
            (failure, words.to_owned())
        }
        // No host, or one too old to know mail.*: the helper is needed.
        Some(ErrorCode::UnknownType) | None => (MailFailure::HostMissing, e.message.clone()),
        Some(_) if e.message.contains("native host") => {
            (MailFailure::HostMissing, e.message.clone())
        }
        Some(_) => (MailFailure::Other, e.message.clone()),
    }
}

/// The agent's IMAP source as every surface shows it. The password is never
/// here: the host has it, in the OS secret store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailView {
    /// The Gmail address connected with an app password.
    #[serde(default)]
    pub connected: Option<String>,
    /// A connection attempt under way, for this address.
    #[serde(default)]
    pub connecting: Option<String>,
    /// Why the last attempt failed, or why the source was disconnected.
    #[serde(default)]
    pub failure: Option<MailFailure>,
    /// The server's words with the failure (diagnostics).
    #[serde(default)]
    pub detail: Option<String>,
    /// The IMAP server the source was connected to (its password is tied to it).
    #[serde(default)]
    pub server: Option<MailServer>,
}

/// What the worker must do after checking the source against the server
/// configured now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCheck {
    /// Connected to that server (or not connected): nothing to do.
    Same,
    /// Another server is configured now: the source was disconnected; the
    /// host forgets the password it keeps for the old server (`None`: a
    /// source connected before passwords were tied to servers).
    Changed { forget: Option<MailServer> },
}

impl MailView {
    /// A source is tied to the server it was connected to. When the
    /// configured server is another one, it is disconnected and the agent is
    /// asked to connect again, told the server changed; nothing is sent to
    /// the new server until the agent types the password for it. A source
    /// that records no server (connected before that rule) is not trusted
    /// with any: disconnected too, as having no password.
    pub fn follow_server(&mut self, current: &MailServer) -> ServerCheck {
        if self.connected.is_none() {
            return ServerCheck::Same;
        }
        let old = self.server.clone();
        match &old {
            Some(s) if s.same_as(current) => return ServerCheck::Same,
            Some(_) => self.failed(MailFailure::ServerChanged, current.label()),
            None => self.failed(MailFailure::NoPassword, current.label()),
        }
        ServerCheck::Changed { forget: old }
    }

    /// After a failed connect or fetch: a revoked password disconnects.
    pub fn failed(&mut self, failure: MailFailure, detail: String) {
        self.connecting = None;
        if failure.disconnects() {
            self.connected = None;
            self.server = None;
        }
        self.failure = Some(failure);
        self.detail = Some(detail);
    }

    /// Why the agent must type the app password again (the server changed,
    /// or the host keeps none for it), while the source is disconnected: the
    /// side panel's Gmail section says so instead of a plain "connect".
    pub fn reconnect_needed(&self) -> Option<(MailFailure, String)> {
        match self.failure {
            Some(f @ (MailFailure::ServerChanged | MailFailure::NoPassword))
                if self.connected.is_none() =>
            {
                Some((f, self.detail.clone().unwrap_or_default()))
            }
            _ => None,
        }
    }

    pub fn connected(&mut self, email: String, server: MailServer) {
        *self = MailView {
            connected: Some(email),
            server: Some(server),
            ..MailView::default()
        };
    }
}

/// The worker's storage.local record of the connected source: the address
/// and its server, never the password.
pub fn saved_source(email: &str, server: &MailServer) -> serde_json::Value {
    serde_json::json!({ "email": email, "server": server })
}

impl MailView {
    /// At startup, the source [`saved_source`] wrote: the address, and its
    /// server when one was saved (a source saved without one, by an older
    /// version, keeps none and so is trusted with none). False when no
    /// source was saved.
    pub fn restore(&mut self, saved: &serde_json::Value) -> bool {
        let Some(email) = saved["email"].as_str() else {
            return false;
        };
        self.connected = Some(email.to_owned());
        self.server = crate::json::from_value(saved["server"].clone()).ok();
        true
    }

    /// "Connect" pressed: the attempt is under way (the last failure is
    /// cleared), and what the host is asked: the address trimmed and
    /// lowercased, the password without its spaces, the server configured
    /// now.
    pub fn connecting(
        &mut self,
        email: &str,
        password: &AppPassword,
        server: MailServer,
    ) -> MailConnectParams {
        let email = email.trim().to_lowercase();
        let (password, _) = normalize_app_password(password.expose());
        self.connecting = Some(email.clone());
        self.failure = None;
        self.detail = None;
        MailConnectParams {
            email,
            password: AppPassword::new(password),
            server: Some(server),
        }
    }

    /// What the host is asked for the newest `limit` messages shared with
    /// `addresses`: always the server the password was typed for, never
    /// another; nothing without a connected source.
    pub fn search_params(
        &self,
        addresses: Vec<String>,
        limit: usize,
    ) -> Result<MailSearchParams, (MailFailure, String)> {
        let (email, server) = self
            .connected
            .clone()
            .zip(self.server.clone())
            .ok_or((MailFailure::Other, "no mail source is connected".to_owned()))?;
        Ok(MailSearchParams {
            email,
            addresses,
            limit,
            server: Some(server),
        })
    }

    /// "Disconnect": what the host is asked to forget (nothing when no
    /// source is connected).
    pub fn forget_params(&self) -> Option<MailForgetParams> {
        Some(MailForgetParams {
            email: self.connected.clone()?,
            server: self.server.clone(),
        })
    }
}

/// After the server changed: the host forgets the password of the old
/// server, or, for a source saved without its server, the entry stored the
/// old way (any `mail.*` request for the address deletes that).
pub fn forget_after_change(
    email: String,
    old: Option<MailServer>,
    current: MailServer,
) -> MailForgetParams {
    MailForgetParams {
        email,
        server: old.or(Some(current)),
    }
}

/// The host's answer to `mail.search`, as the panel's section needs it.
pub fn search_answer(
    answer: Result<serde_json::Value, crate::protocol::ErrorBody>,
) -> Result<MailSearchResult, (MailFailure, String)> {
    match answer {
        Ok(v) => crate::json::from_value(v).map_err(|e| (MailFailure::Other, e.to_string())),
        Err(e) => Err(failure_of(&e)),
    }
}

/// `mail.search`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSearchResult {
    pub messages: Vec<MailHeader>,
    /// The Gmail web search for the same messages.
    pub see_all: String,
}

/// Every `_locales` key handed out here.
pub const MESSAGE_KEYS: &[&str] = &[
    "mailAppPasswordLength",
    "mailAppPasswordLetters",
    "mailWrongPassword",
    "mailAppPasswordRequired",
    "mailRevoked",
    "mailConnectionRefused",
    "mailTlsInvalid",
    "mailTimeout",
    "mailOther",
    "mailNeedsHost",
    "mailNoPassword",
    "mailServerChanged",
];

#[cfg(test)]
#[path = "mail_tests.rs"]
mod tests;
