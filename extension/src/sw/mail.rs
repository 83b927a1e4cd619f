//! Gmail over IMAP with an app password, worker side: the password passes
//! through once, from the options page to the host, which logs in and keeps
//! it in the OS secret store. The worker remembers only which address is
//! connected, and to which server (storage.local, not secret). The password
//! is tied to that server: when the `imapServer` setting names another, the
//! source is disconnected and nothing is sent until the agent connects again
//! (`MailView::follow_server`). Rules are in `ringside_core::mail`.

use ringside_core::mail::{
    self, AppPassword, MailConnectParams, MailFailure, MailForgetParams, MailSearchParams,
    MailSearchResult, MailServer, ServerCheck,
};
use ringside_core::protocol::Request;
use serde_json::json;

use super::kernel::{broadcast, host_request, with_worker};
use crate::chrome::{self, Area};
use crate::error::log_warn;

/// storage.local: the connected address and its server (never the password).
const KEY_MAIL: &str = "mailSource";

/// How many shared messages the panel lists.
pub(super) const SHARED_LIMIT: usize = 5;

/// At startup: which address was connected, to which server (a source saved
/// without its server, by an older version, is not trusted with any), then
/// checked against the server configured now.
pub(super) async fn restore() {
    let local = chrome::storage_get(Area::Local, Some(&[KEY_MAIL]))
        .await
        .unwrap_or_default();
    if let Some(email) = local[KEY_MAIL]["email"].as_str() {
        let email = email.to_owned();
        let server: Option<MailServer> =
            serde_json::from_value(local[KEY_MAIL]["server"].clone()).ok();
        with_worker(|w| {
            w.mail.connected = Some(email);
            w.mail.server = server;
        });
        super::kernel::settings_ready().await;
        follow_server().await;
        broadcast();
    }
}

/// The IMAP server configured now (Gmail's unless policy names another).
fn current_server() -> MailServer {
    with_worker(|w| MailServer::or_default(w.settings.imap_server.as_ref())).unwrap_or_default()
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
        // The entry for the old server (or, for a source saved without its
        // server, the host's entry stored the old way: any mail.* request
        // for the address deletes that).
        let server = forget.or(Some(current));
        if let Err(e) = host_request(Request::MailForget(MailForgetParams { email, server })).await
        {
            log_warn(&format!(
                "the host could not forget the old server's password: {}",
                e.message
            ));
        }
    }
    with_worker(|w| w.mail.failure.zip(w.mail.detail.clone())).flatten()
}

async fn remember(source: Option<(&str, &MailServer)>) {
    let done = match source {
        Some((e, server)) => {
            chrome::storage_set(
                Area::Local,
                &json!({ KEY_MAIL: { "email": e, "server": server } }),
            )
            .await
        }
        None => chrome::storage_remove(Area::Local, &[KEY_MAIL]).await,
    };
    if let Err(e) = done {
        log_warn(&format!(
            "cannot save the mail source: {}",
            crate::error::JsError::from(e)
        ));
    }
}

fn failed(failure: MailFailure, detail: String) {
    let disconnects = failure.disconnects();
    with_worker(|w| w.mail.failed(failure, detail));
    broadcast();
    if disconnects {
        wasm_bindgen_futures::spawn_local(remember(None));
    }
}

/// "Connect": one login through the host; on success the host has stored
/// the password and the source is connected.
pub(super) async fn connect(email: String, password: AppPassword) {
    let email = email.trim().to_lowercase();
    let (password, _) = mail::normalize_app_password(password.expose());
    let server = current_server();
    with_worker(|w| {
        w.mail.connecting = Some(email.clone());
        w.mail.failure = None;
        w.mail.detail = None;
    });
    broadcast();
    let answer = host_request(Request::MailConnect(MailConnectParams {
        email: email.clone(),
        password: AppPassword::new(password),
        server: Some(server.clone()),
    }))
    .await;
    match answer {
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
    let Some((email, server)) =
        with_worker(|w| w.mail.connected.clone().map(|e| (e, w.mail.server.clone()))).flatten()
    else {
        return;
    };
    if let Err(e) = host_request(Request::MailForget(MailForgetParams {
        email: email.clone(),
        server,
    }))
    .await
    {
        log_warn(&format!(
            "the host could not forget the password: {}",
            e.message
        ));
    }
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
    // The server the password was typed for (the one configured now, as
    // just checked): never another.
    let (email, server) = with_worker(|w| w.mail.connected.clone().zip(w.mail.server.clone()))
        .flatten()
        .ok_or((MailFailure::Other, "no mail source is connected".to_owned()))?;
    let answer = host_request(Request::MailSearch(MailSearchParams {
        email,
        addresses,
        limit: SHARED_LIMIT,
        server: Some(server),
    }))
    .await;
    match answer.map(serde_json::from_value::<MailSearchResult>) {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(e)) => {
            log_warn(&format!("unreadable mail.search answer: {e}"));
            Err((MailFailure::Other, e.to_string()))
        }
        Err(e) => {
            let (failure, detail) = mail::failure_of(&e);
            if failure.disconnects() {
                failed(failure, detail.clone());
            }
            Err((failure, detail))
        }
    }
}
