//! Policy and options: read, merged by `ringside_core::settings`, cached for
//! startup, pushed to pages.

use ringside_core::auth::revocation::Cause;
use ringside_core::settings;
use ringside_core::worker::state::SettingsApplied;
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::kernel::{broadcast, configure_dialer, with_worker};
use super::{mail, session};
use crate::chrome::{self, Area};
use crate::error::{JsError, log_warn};

/// Storage keys (chrome.storage.local) of settings.
const KEY_OPTIONS: &str = "options";
const KEY_SWITCHED_OFF: &str = "switchedOff";
/// The managed policy last read (storage.session), applied at startup until
/// managed storage answers.
const KEY_POLICY_CACHE: &str = "policyCache";
/// The site lists of the policy last seen (storage.local; see `load_settings`).
const KEY_SITE_RULES_CACHE: &str = "policySiteRules";

/// Reads policy and options and merges them (core::settings). Managed
/// storage can take seconds to answer while the browser starts, so the policy
/// last seen applies until it does. The full copy lives in `storage.session`
/// (trusted contexts only, cleared when the browser closes), never in
/// `storage.local`, which any content-script context can write: a forged copy
/// there would route tokens until managed storage answered. Only the site
/// lists are kept there too (`settings::site_rules_only`), for the first
/// seconds after the browser starts, so a blocked site gets no buttons then.
pub(super) async fn load_settings() {
    let Some(generation) = with_worker(|w| {
        w.settings_generation += 1;
        w.settings_generation
    }) else {
        return;
    };
    let local = chrome::storage_get(
        Area::Local,
        Some(&[
            KEY_OPTIONS,
            KEY_SWITCHED_OFF,
            KEY_POLICY_CACHE,
            KEY_SITE_RULES_CACHE,
        ]),
    )
    .await
    .unwrap_or_else(|e| {
        log_warn(&format!("cannot read settings: {}", JsError::from(e)));
        json!({})
    });
    let options = local.get(KEY_OPTIONS).cloned().unwrap_or_else(|| json!({}));
    let switched_off: Vec<String> = local
        .get(KEY_SWITCHED_OFF)
        .and_then(|v| ringside_core::json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let cached = chrome::storage_get(Area::Session, Some(&[KEY_POLICY_CACHE]))
        .await
        .ok()
        .and_then(|s| s.get(KEY_POLICY_CACHE).cloned());
    let site_rules = local.get(KEY_SITE_RULES_CACHE).cloned();
    let first = with_worker(|w| !w.settings_loaded).unwrap_or(false);
    // The session's copy is the policy as last read in this browser session;
    // the site lists alone (after a browser restart) are not a baseline to
    // compare the sign-in method with.
    let startup = match (cached.clone(), site_rules.as_ref()) {
        (Some(full), _) => Some((full, true)),
        (None, Some(sites)) => Some((settings::site_rules_only(sites), false)),
        (None, None) => None,
    };
    if let (true, Some((startup, whole))) = (first, startup) {
        apply_settings(
            generation,
            startup,
            options.clone(),
            switched_off.clone(),
            whole,
        )
        .await;
    }
    let managed = match chrome::storage_get(Area::Managed, None).await {
        Ok(v) => v,
        // No policy at all (or managed storage unavailable): nothing managed.
        Err(_) => json!({}),
    };
    if cached.as_ref() != Some(&managed) {
        let _ =
            chrome::storage_set(Area::Session, &json!({ KEY_POLICY_CACHE: managed.clone() })).await;
    }
    let sites = settings::site_rules_only(&managed);
    if site_rules.as_ref() != Some(&sites) {
        let _ = chrome::storage_set(Area::Local, &json!({ KEY_SITE_RULES_CACHE: sites })).await;
    }
    // Earlier versions kept a full copy in storage.local: drop it, never read it.
    if local.get(KEY_POLICY_CACHE).is_some() {
        let _ = chrome::storage_remove(Area::Local, &[KEY_POLICY_CACHE]).await;
    }
    apply_settings(generation, managed, options, switched_off, true).await;
}

/// Applies merged settings (`WorkerState::apply_settings` says what
/// `whole` means) and carries out what changed.
pub(super) async fn apply_settings(
    generation: u64,
    managed: Value,
    options: Value,
    switched_off: Vec<String>,
    whole: bool,
) {
    let applied = with_worker(|w| {
        let applied = w.apply_settings(generation, managed, options, switched_off, whole)?;
        for waiter in w.settings_waiters.drain(..) {
            let _ = waiter.send(());
        }
        if w.settings_loaded_before {
            for waiter in w.policy_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
        Some(applied)
    })
    .flatten();
    // None: a newer read is under way; it applies.
    let Some(SettingsApplied {
        dialer_changed,
        method_change,
    }) = applied
    else {
        return;
    };
    if let Some(method) = method_change {
        spawn_local(session::ends(Cause::MethodChanged {
            method,
            effective_at_ms: None,
        }));
    }
    // Notifications speak the language policy forces.
    let lang = with_worker(|w| w.settings.language.clone()).flatten();
    crate::i18n::follow_language(lang.as_deref()).await;
    if dialer_changed && with_worker(|w| w.link.is_connected()).unwrap_or(false) {
        let _ = configure_dialer().await;
    }
    // A changed IMAP server disconnects the mail source (its password is
    // tied to the old server) and asks the agent to connect again.
    spawn_local(async {
        mail::follow_server().await;
    });
    broadcast();
    tell_pages().await;
}

/// `storage.onChanged` (policy or options changed).
#[wasm_bindgen]
pub fn sw_on_storage_changed() {
    spawn_local(load_settings());
}

/// Tells each content script whether click-to-call runs on its site now.
pub(super) async fn tell_pages() {
    let targets = with_worker(|w| w.page_switches()).unwrap_or_default();
    for (tab, frame, on) in targets {
        // Pages that navigated away no longer listen; that is fine.
        let _ = chrome::send_to_frame(
            tab,
            frame,
            &json!({"type": "content.enabled", "enabled": on}),
        )
        .await;
    }
}

/// The agent switched click-to-call on or off for a site (popup).
pub(super) async fn set_site(origin: String, enabled: bool) {
    let list = with_worker(|w| w.switch_site(&origin, enabled)).unwrap_or_default();
    if let Err(e) = chrome::storage_set(Area::Local, &json!({ KEY_SWITCHED_OFF: list })).await {
        log_warn(&format!(
            "cannot save the site switch: {}",
            JsError::from(e)
        ));
    }
    // storage.onChanged reloads the settings and tells the pages.
}

/// The options page saved the agent's options.
pub(super) async fn save_options(options: Value) {
    if let Err(e) = chrome::storage_set(Area::Local, &json!({ KEY_OPTIONS: options })).await {
        log_warn(&format!("cannot save options: {}", JsError::from(e)));
    }
}
