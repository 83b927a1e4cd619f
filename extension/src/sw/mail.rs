//! Gmail over IMAP with an app password, worker side: the password passes
//! through once, from the options page to the host, which logs in and keeps
//! it in the OS secret store. The worker remembers only which address is
//! connected (storage.local, not secret). Rules are in `ringside_core::mail`.

use ringside_core::mail::{
    self, AppPassword, MailConnectParams, MailFailure, MailForgetParams, MailSearchParams,
    MailSearchResult,
};
use ringside_core::protocol::Request;
use serde_json::json;

use super::{broadcast, host_request, with_worker};
use crate::chrome::{self, Area};
use crate::error::log_warn;

/// storage.local: the connected address (never the password).
const KEY_MAIL: &str = "mailSource";

/// How many shared messages the panel lists.
pub(super) const SHARED_LIMIT: usize = 5;

/// At startup: which address was connected.
pub(super) async fn restore() {
    let local = chrome::storage_get(Area::Local, Some(&[KEY_MAIL]))
        .await
        .unwrap_or_default();
    if let Some(email) = local[KEY_MAIL]["email"].as_str() {
        let email = email.to_owned();
        with_worker(|w| w.mail.connected(email));
        broadcast();
    }
}

async fn remember(email: Option<&str>) {
    let done = match email {
        Some(e) => chrome::storage_set(Area::Local, &json!({ KEY_MAIL: { "email": e } })).await,
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
    let server = with_worker(|w| w.settings.imap_server.clone()).flatten();
    with_worker(|w| {
        w.mail.connecting = Some(email.clone());
        w.mail.failure = None;
        w.mail.detail = None;
    });
    broadcast();
    let answer = host_request(Request::MailConnect(MailConnectParams {
        email: email.clone(),
        password: AppPassword::new(password),
        server,
    }))
    .await;
    match answer {
        Ok(_) => {
            remember(Some(&email)).await;
            with_worker(|w| w.mail.connected(email));
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
    let Some(email) = with_worker(|w| w.mail.connected.clone()).flatten() else {
        return;
    };
    if let Err(e) = host_request(Request::MailForget(MailForgetParams {
        email: email.clone(),
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
    let email = with_worker(|w| w.mail.connected.clone())
        .flatten()
        .ok_or((MailFailure::Other, "no mail source is connected".to_owned()))?;
    let server = with_worker(|w| w.settings.imap_server.clone()).flatten();
    let answer = host_request(Request::MailSearch(MailSearchParams {
        email,
        addresses,
        limit: SHARED_LIMIT,
        server,
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
