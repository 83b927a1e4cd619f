//! Gmail over IMAP with an app password (issue 9, host side): log in over
//! IMAPS, keep the password in the OS secret store only after a successful
//! login, search All Mail for a contact's messages and fetch headers only.
//! The rules (what an answer means, the search) are `ringside_core::mail`.
//!
//! The password never appears in a log or an error: errors carry the
//! server's answer, which does not echo it.
//!
//! A password is tied to the server it was typed for: it is stored under the
//! address, host and port (`ringside_core::mail::secret_account`), looked up
//! only for the server a request names, and kept connections are per
//! server, so a changed `imapServer` finds no password and no connection.
//! Entries stored the old way (the address alone) are never read, and are
//! deleted whenever the address is handled.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use futures::TryStreamExt as _;
use ringside_core::mail::{self, MailFailure};
use tokio::net::TcpStream;
use tokio_native_tls::TlsStream;

use crate::secrets::{self, Secret, SecretError, SecretStore};

/// How long a connection, a login or a search may take.
pub const MAIL_TIMEOUT: Duration = Duration::from_secs(15);

/// Where the mailbox is (policy may set another server; tests use dovecot).
pub type Server = mail::MailServer;
/// One message's headers.
pub type Header = mail::MailHeader;

/// A failure the agent can act on: the core's classification and the
/// server's own words (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailError {
    pub failure: MailFailure,
    pub detail: String,
}

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.failure, self.detail)
    }
}

type Imap = Session<TlsStream<TcpStream>>;

/// A logged-in session kept between searches, with All Mail selected once
/// (read-only) so a warm search is one SEARCH and one FETCH.
struct Kept {
    imap: Imap,
    mailbox: Option<String>,
}

impl From<Imap> for Kept {
    fn from(imap: Imap) -> Self {
        Kept {
            imap,
            mailbox: None,
        }
    }
}

/// Open sessions by account (address, host and port), reused between searches.
pub struct Mail {
    store: Arc<dyn SecretStore>,
    /// Extra trust anchors (an enterprise or test CA), PEM.
    roots: Vec<Vec<u8>>,
    sessions: tokio::sync::Mutex<HashMap<String, Kept>>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mail")
    }
}

/// The secret store account (and kept-connection key) for a mailbox on a server.
pub fn account(email: &str, server: &Server) -> String {
    mail::secret_account(email, server)
}

fn other(detail: impl Into<String>) -> MailError {
    MailError {
        failure: MailFailure::Other,
        detail: detail.into(),
    }
}

fn io_error(e: &std::io::Error) -> MailError {
    let failure = match e.kind() {
        std::io::ErrorKind::ConnectionRefused => MailFailure::ConnectionRefused,
        std::io::ErrorKind::TimedOut => MailFailure::Timeout,
        _ => MailFailure::Other,
    };
    MailError {
        failure,
        detail: e.to_string(),
    }
}

impl MailError {
    /// The protocol error: `mail_failed` with `{failure, detail}`.
    pub fn to_body(&self) -> ringside_core::protocol::ErrorBody {
        ringside_core::protocol::ErrorBody::new(
            ringside_core::protocol::ErrorCode::MailFailed,
            self.detail.clone(),
        )
        .with_detail(serde_json::json!({ "failure": self.failure, "detail": self.detail }))
    }
}

impl Mail {
    pub fn new(store: Arc<dyn SecretStore>, roots: Vec<Vec<u8>>) -> Mail {
        Mail {
            store,
            roots,
            sessions: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    async fn open(
        &self,
        server: &Server,
        email: &str,
        password: &str,
        worked_before: bool,
    ) -> Result<Imap, MailError> {
        let timed = |what: &str| MailError {
            failure: MailFailure::Timeout,
            detail: format!("{what} took more than {} s", MAIL_TIMEOUT.as_secs()),
        };
        let tcp = tokio::time::timeout(
            MAIL_TIMEOUT,
            TcpStream::connect((server.host.as_str(), server.port)),
        )
        .await
        .map_err(|_| timed("connecting"))?
        .map_err(|e| io_error(&e))?;
        let mut builder = native_tls::TlsConnector::builder();
        for pem in &self.roots {
            let cert = native_tls::Certificate::from_pem(pem).map_err(|e| other(e.to_string()))?;
            builder.add_root_certificate(cert);
        }
        let tls = tokio_native_tls::TlsConnector::from(
            builder.build().map_err(|e| other(e.to_string()))?,
        );
        let stream = tokio::time::timeout(MAIL_TIMEOUT, tls.connect(&server.host, tcp))
            .await
            .map_err(|_| timed("the TLS handshake"))?
            .map_err(|e| MailError {
                failure: MailFailure::TlsInvalid,
                detail: e.to_string(),
            })?;
        let mut client = async_imap::Client::new(stream);
        tokio::time::timeout(MAIL_TIMEOUT, client.read_response())
            .await
            .map_err(|_| timed("the greeting"))?
            .map_err(|e| other(e.to_string()))?
            .ok_or_else(|| other("the server closed the connection before its greeting"))?;
        match tokio::time::timeout(MAIL_TIMEOUT, client.login(email, password)).await {
            Err(_) => Err(timed("the login")),
            Ok(Ok(session)) => Ok(session),
            Ok(Err((e, _))) => {
                let answer = e.to_string();
                Err(MailError {
                    failure: mail::classify_login(&answer, worked_before),
                    detail: answer,
                })
            }
        }
    }

    /// `mail.connect`: logs in; on success keeps the password in the secret store.
    pub async fn connect(
        &self,
        server: &Server,
        email: &str,
        password: &Secret,
    ) -> Result<(), MailError> {
        let session = self.open(server, email, password.expose(), false).await?;
        let key = account(email, server);
        let secret = password.clone();
        let (host, port) = (server.host.trim().to_lowercase(), server.port.to_string());
        secrets::blocking(&self.store, move |store| {
            store.set_with_attributes(
                &key,
                &secret,
                &[("host", host.as_str()), ("port", port.as_str())],
            )
        })
        .await
        .map_err(|e| other(e.to_string()))?;
        self.forget_legacy(email).await;
        let old = self
            .sessions
            .lock()
            .await
            .insert(account(email, server), session.into());
        if let Some(mut old) = old {
            let _ = tokio::time::timeout(Duration::from_secs(2), old.imap.logout()).await;
        }
        tracing::info!(server = %server.host, port = server.port, "mailbox connected");
        Ok(())
    }

    /// `mail.forget`: logs out and deletes the password stored for that
    /// server (and any entry stored the old way).
    pub async fn forget(&self, server: &Server, email: &str) -> Result<bool, SecretError> {
        let key = account(email, server);
        if let Some(mut s) = self.sessions.lock().await.remove(&key) {
            let _ = tokio::time::timeout(Duration::from_secs(2), s.imap.logout()).await;
        }
        let legacy = self.forget_legacy(email).await;
        Ok(secrets::blocking(&self.store, move |store| store.delete(&key)).await? || legacy)
    }

    /// Deletes the entry an older host stored under the address alone: its
    /// server cannot be known, so it is never sent anywhere.
    async fn forget_legacy(&self, email: &str) -> bool {
        let key = mail::legacy_secret_account(email);
        match secrets::blocking(&self.store, move |store| store.delete(&key)).await {
            Ok(deleted) => {
                if deleted {
                    tracing::info!("deleted an app password stored without its server");
                }
                deleted
            }
            Err(e) => {
                tracing::warn!("cannot delete the app password stored without its server: {e}");
                false
            }
        }
    }

    /// Logs in with the password stored for this server; none is
    /// `no_password` (the agent connects again). One that no longer works is
    /// deleted (the source is disconnected) and reported as revoked.
    async fn log_in_stored(&self, server: &Server, email: &str) -> Result<Imap, MailError> {
        let key = account(email, server);
        let stored = secrets::blocking(&self.store, move |store| store.get(&key))
            .await
            .map_err(|e| other(e.to_string()))?;
        let Some(password) = stored else {
            self.forget_legacy(email).await;
            return Err(MailError {
                failure: MailFailure::NoPassword,
                detail: format!(
                    "no app password for {email} on {} in the OS secret store",
                    server.label()
                ),
            });
        };
        match self.open(server, email, password.expose(), true).await {
            Ok(s) => Ok(s),
            Err(e) => {
                if e.failure.disconnects() {
                    let key = account(email, server);
                    let _ = secrets::blocking(&self.store, move |store| store.delete(&key)).await;
                }
                Err(e)
            }
        }
    }

    /// `mail.search`: the newest `limit` messages from or to `addresses`, in
    /// All Mail, headers only. A stored password that no longer works is
    /// deleted (the source is disconnected) and reported as revoked.
    pub async fn search(
        &self,
        server: &Server,
        email: &str,
        addresses: &[String],
        limit: usize,
    ) -> Result<Vec<Header>, MailError> {
        let Some(criteria) = mail::search_criteria(addresses) else {
            return Ok(vec![]);
        };
        // The kept connection of this address *on this server*: another
        // server never reuses it (nor its password).
        let key = account(email, server);
        let mut sessions = self.sessions.lock().await;
        let cached = sessions.remove(&key);
        let was_cached = cached.is_some();
        let mut session = match cached {
            Some(s) => s,
            None => self.log_in_stored(server, email).await?.into(),
        };
        let mut found =
            tokio::time::timeout(MAIL_TIMEOUT, fetch_headers(&mut session, &criteria, limit)).await;
        if was_cached && matches!(found, Ok(Err(_))) {
            // The kept connection died (the server closes idle ones, and
            // drops them when the password changes): log in again, once.
            tracing::info!("mail connection dropped; logging in again");
            session = self.log_in_stored(server, email).await?.into();
            found =
                tokio::time::timeout(MAIL_TIMEOUT, fetch_headers(&mut session, &criteria, limit))
                    .await;
        }
        match found {
            Ok(Ok(headers)) => {
                sessions.insert(key, session);
                Ok(headers)
            }
            // A dropped or slow connection is not kept.
            Ok(Err(e)) => Err(e),
            Err(_) => Err(MailError {
                failure: MailFailure::Timeout,
                detail: "the search took too long".into(),
            }),
        }
    }
}

/// All Mail (the `\All` special-use mailbox, RFC 6154), else INBOX.
async fn all_mail(session: &mut Imap) -> Result<String, MailError> {
    let names: Vec<_> = session
        .list(Some(""), Some("*"))
        .await
        .map_err(|e| other(e.to_string()))?
        .try_collect()
        .await
        .map_err(|e| other(e.to_string()))?;
    Ok(names
        .iter()
        .find(|n| {
            n.attributes()
                .iter()
                .any(|a| matches!(a, async_imap::types::NameAttribute::All))
        })
        .map(|n| n.name().to_owned())
        .unwrap_or_else(|| "INBOX".to_owned()))
}

async fn fetch_headers(
    kept: &mut Kept,
    criteria: &str,
    limit: usize,
) -> Result<Vec<Header>, MailError> {
    if kept.mailbox.is_none() {
        let mailbox = all_mail(&mut kept.imap).await?;
        kept.imap
            .examine(&mailbox)
            .await
            .map_err(|e| other(e.to_string()))?;
        kept.mailbox = Some(mailbox);
    }
    let session = &mut kept.imap;
    let mut uids: Vec<u32> = session
        .uid_search(criteria)
        .await
        .map_err(|e| other(e.to_string()))?
        .into_iter()
        .collect();
    uids.sort_unstable();
    // Newest first: UIDs grow with arrival; the Date header then orders them.
    let newest: Vec<String> = uids
        .iter()
        .rev()
        .take(limit.max(1) * 2)
        .map(u32::to_string)
        .collect();
    if newest.is_empty() {
        return Ok(vec![]);
    }
    let fetches: Vec<_> = session
        .uid_fetch(
            newest.join(","),
            "BODY.PEEK[HEADER.FIELDS (SUBJECT DATE MESSAGE-ID)]",
        )
        .await
        .map_err(|e| other(e.to_string()))?
        .try_collect()
        .await
        .map_err(|e| other(e.to_string()))?;
    let parser = mail_parser::MessageParser::default();
    let mut out: Vec<(i64, Header)> = fetches
        .iter()
        .filter_map(|f| f.header().or_else(|| f.body()))
        .filter_map(|raw| parser.parse_headers(raw))
        .map(|m| {
            let date = m.date();
            (
                date.map(|d| d.to_timestamp()).unwrap_or(i64::MIN),
                Header {
                    subject: m.subject().unwrap_or_default().to_owned(),
                    date: date.map(|d| d.to_rfc3339()).unwrap_or_default(),
                    message_id: m.message_id().unwrap_or_default().to_owned(),
                },
            )
        })
        .collect();
    out.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    Ok(out.into_iter().take(limit).map(|(_, h)| h).collect())
}
