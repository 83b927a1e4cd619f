//! Gmail over IMAP with an app password, worker side: the password passes
//! through once, from the options page to the host, which logs in and keeps
//! it in the OS secret store. The worker remembers only which address is
//! connected, and to which server (storage.local, not secret). The password
//! is tied to that server: when the `imapServer` setting names another, the
//! source is disconnected and nothing is sent until the agent connects again.
//! What to ask and what answers mean are `ringside_core::mail`; this module
//! asks the host, saves the source and broadcasts.

use ringside_core::mail::{
    self, AppPassword, MailFailure, MailSearchResult, MailServer, ServerCheck,
};
use ringside_core::protocol::Request;
use ringside_core::worker::panel::SHARED_LIMIT;

use super::kernel::{broadcast, host_request, with_worker};
use crate::chrome::{self, Area};
use crate::error::{JsError, log_warn};

/// storage.local: the connected address and its server (never the password).
const KEY_MAIL: &str = "mailSource";

/// At startup: which address was connected, to which server, then checked
/// against the server configured now.
pub(super) async fn restore() {
    let local = chrome::storage_get(Area::Local, Some(&[KEY_MAIL]))
        .await
        .unwrap_or_default();
    if with_worker(|w| w.mail.restore(&local[KEY_MAIL])) == Some(true) {
        super::kernel::policy_ready().await;
        follow_server().await;
        broadcast();
    }
}

/// The IMAP server configured now (Gmail's unless policy names another).
fn current_server() -> MailServer {
    with_worker(|w| MailServer::or_default(w.settings.imap_server.as_ref())).unwrap_or_default()
}

/// Asks the host to forget a password; the source is forgotten here even
/// when the host cannot be reached (it is retried on connect).
async fn host_forget(params: mail::MailForgetParams, what: &str) {
    if let Err(e) = host_request(Request::MailForget(params)).await {
        log_warn(&format!("the host could not forget {what}: {}", e.message));
    }
}

/// After a settings change (and before each search): a source connected to
/// another server than the one configured now is disconnected, the agent is
/// told the server changed, and the host forgets the old server's password.
/// Returns what the agent is told, when it was disconnected.
pub(super) async fn follow_server() -> Option<(MailFailure, String)> {
    let current = current_server();
    let (check, email) = with_worker(|w| {
        let email = w.mail.connected.clone();
        (w.mail.follow_server(&current), email)
    })?;
    let ServerCheck::Changed { forget } = check else {
        return None;
    };
    broadcast();
    remember(None).await;
    if let Some(email) = email {
        let params = mail::forget_after_change(email, forget, current);
        host_forget(params, "the old server's password").await;
    }
    with_worker(|w| w.mail.failure.zip(w.mail.detail.clone())).flatten()
}

async fn remember(source: Option<(&str, &MailServer)>) {
    let done = match source {
        Some((e, server)) => {
            let saved = serde_json::json!({ KEY_MAIL: mail::saved_source(e, server) });
            chrome::storage_set(Area::Local, &saved).await
        }
        None => chrome::storage_remove(Area::Local, &[KEY_MAIL]).await,
    };
    if let Err(e) = done {
        log_warn(&format!(
            "cannot save the mail source: {}",
            JsError::from(e)
        ));
    }
}

fn failed(failure: MailFailure, detail: String) {
    with_worker(|w| w.mail.failed(failure, detail));
    broadcast();
    if failure.disconnects() {
        wasm_bindgen_futures::spawn_local(remember(None));
    }
}

/// "Connect": one login through the host; on success the host has stored
/// the password and the source is connected.
pub(super) async fn connect(email: String, password: AppPassword) {
    let server = current_server();
    let Some(params) = with_worker(|w| w.mail.connecting(&email, &password, server.clone())) else {
        return;
    };
    broadcast();
    let email = params.email.clone();
    match host_request(Request::MailConnect(params)).await {
        Ok(_) => {
            remember(Some((email.as_str(), &server))).await;
            with_worker(|w| w.mail.connected(email, server));
            broadcast();
        }
        Err(e) => {
            let (failure, detail) = mail::failure_of(&e);
            failed(failure, detail);
        }
    }
}

/// "Disconnect": the host deletes the password; the source is forgotten
/// here even when the host cannot be reached (it is retried on connect).
pub(super) async fn disconnect() {
    let Some(params) = with_worker(|w| w.mail.forget_params()).flatten() else {
        return;
    };
    host_forget(params, "the password").await;
    remember(None).await;
    with_worker(|w| w.mail = mail::MailView::default());
    broadcast();
}

/// The newest messages shared with a contact, for the side panel. A password
/// that no longer works disconnects the source (the host already dropped it).
pub(super) async fn search(
    addresses: Vec<String>,
) -> Result<MailSearchResult, (MailFailure, String)> {
    if let Some(told) = follow_server().await {
        return Err(told);
    }
    let params = with_worker(|w| w.mail.search_params(addresses, SHARED_LIMIT)).unwrap_or(Err(
        (MailFailure::Other, "no mail source is connected".into()),
    ))?;
    let found = mail::search_answer(host_request(Request::MailSearch(params)).await);
    if let Err((failure, detail)) = &found
        && failure.disconnects()
    {
        failed(*failure, detail.clone());
    }
    found
}
