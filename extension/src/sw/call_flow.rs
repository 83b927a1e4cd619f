//! Calls: the dial flow, softphone events into the call desk, the incoming-
//! call notification, and where wrap-ups go. The decisions are
//! `ringside_core::calls`; this is the I/O around them.

use ringside_core::calls::{CallDesk, DeskEffect, SavedTo, WrapUp};
use ringside_core::confirm::{Held, HeldDial};
use ringside_core::dial::CallEvent;
use ringside_core::dialers::CallPath;
use ringside_core::outbox::{self, AgentKey, Delivery, Route};
use ringside_core::protocol::{DialParams, Event};
use ringside_core::settings::{self, SiteDecision};
use ringside_core::surface::UiCommand;
use ringside_core::worker::call_out::DialFailure;
use ringside_core::worker::desk_store;
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::kernel::{Worker, broadcast, now_ms, with_worker};
use super::{call_out, contacts, history, reply_err, reply_ok, session};
use crate::chrome::{self, Area};
use crate::error::{JsError, log_warn};

/// Storage keys of calls: the desk (storage.session) and the wrap-ups kept
/// in the browser (storage.local).
const KEY_DESK: &str = "desk";
const KEY_WRAPUPS: &str = "wrapups";
/// Local wrap-ups kept (oldest dropped first).
const MAX_LOCAL_WRAPUPS: usize = 500;
const INCOMING_PREFIX: &str = "ringside-incoming:";

/// The call desk is kept in session storage so a worker restart (extension
/// update, browser housekeeping) loses no pending wrap-up, and in IndexedDB
/// for a browser restart (`ringside_core::worker::desk_store`).
pub(super) async fn restore_desk() {
    let saved = chrome::storage_get(Area::Session, Some(&[KEY_DESK]))
        .await
        .ok()
        .and_then(|s| s.get(KEY_DESK).cloned())
        .and_then(|v| ringside_core::json::from_value::<CallDesk>(v).ok());
    let kept = match saved {
        Some(_) => None,
        None => history::kept().await,
    };
    with_worker(|w| {
        // Only when nothing happened since this worker started.
        if w.desk == CallDesk::default()
            && let Some(desk) = desk_store::restore(saved, kept, now_ms())
        {
            w.desk = desk;
        }
    });
    super::call_ctl::badge();
    history::ready();
    broadcast();
}

pub(super) fn persist_desk(w: &mut Worker) {
    let Ok(text) = serde_json::to_string(&w.desk) else {
        return;
    };
    if text == w.desk_saved {
        return;
    }
    history::desk_changed(&w.desk, &text);
    w.desk_saved = text;
    let value = ringside_core::json::to_value(&w.desk).unwrap_or(Value::Null);
    spawn_local(async move {
        if let Err(e) = chrome::storage_set(Area::Session, &json!({ KEY_DESK: value })).await {
            log_warn(&format!("cannot keep the call state: {}", JsError::from(e)));
        }
    });
}

pub(super) fn on_host_event(ev: Event) {
    if ev.event != Event::CALL {
        log_warn(&format!("unhandled host event {}", ev.event));
        return;
    }
    match ringside_core::json::from_value(ev.data) {
        Ok(call) => on_call_event(&call),
        Err(e) => log_warn(&format!("unreadable call event: {e}")),
    }
}

/// A call event, from the softphone (through the host) or the phone
/// platform's event stream.
pub(super) fn on_call_event(call: &CallEvent) {
    let effects = with_worker(|w| {
        w.desk.agent = w.signed_in_agent();
        w.desk.on_event(call, now_ms())
    })
    .unwrap_or_default();
    for fx in effects {
        spawn_local(async move {
            let result = match fx {
                DeskEffect::NotifyIncoming { call_id, caller } => {
                    // The name and organization from the local contacts, when known.
                    let known = contacts::caller(&caller);
                    let message = match &known {
                        Some(c) => chrome::get_message(
                            "incomingCallFromContact",
                            &[c.name.clone(), caller],
                        ),
                        None => chrome::get_message("incomingCallFrom", &[caller]),
                    };
                    let context = known.and_then(|c| c.organization).unwrap_or_default();
                    chrome::notify(
                        &format!("{INCOMING_PREFIX}{call_id}"),
                        &json!({
                            "type": "basic",
                            "iconUrl": chrome::runtime_get_url("icons/icon-128.png"),
                            "title": chrome::get_message("incomingCallTitle", &[]),
                            "message": message,
                            "contextMessage": context,
                            "buttons": [
                                {"title": chrome::get_message("answer", &[])},
                                {"title": chrome::get_message("decline", &[])},
                            ],
                            "requireInteraction": true,
                            "priority": 2,
                        }),
                    )
                    .await
                }
                DeskEffect::ClearIncoming { call_id } => {
                    chrome::clear_notification(&format!("{INCOMING_PREFIX}{call_id}")).await
                }
                other => {
                    super::call_ctl::effect(other).await;
                    Ok(())
                }
            };
            if let Err(e) = result {
                log_warn(&format!("notification: {}", JsError::from(e)));
            }
        });
    }
    broadcast();
}

/// Notification ids of held dials (`ringside_core::confirm`).
const CONFIRM_PREFIX: &str = "ringside-confirm:";

/// Tells the agent a page asked for a call that needs their word: a
/// notification with the real target and Call / Cancel buttons, and the popup
/// (where the browser lets an extension open it) with the same card.
async fn ask_agent(h: &HeldDial) {
    let message = chrome::get_message(
        "confirmNotification",
        &[h.target(), chrome::get_message(h.risk.message_key(), &[])],
    );
    let result = chrome::notify(
        &format!("{CONFIRM_PREFIX}{}", h.id),
        &json!({
            "type": "basic",
            "iconUrl": chrome::runtime_get_url("icons/icon-128.png"),
            "title": chrome::get_message("confirmTitle", &[]),
            "message": message,
            "contextMessage": chrome::get_message("confirmAskedBy", std::slice::from_ref(&h.origin)),
            "buttons": [
                {"title": chrome::get_message("confirmCall", &[])},
                {"title": chrome::get_message("confirmCancel", &[])},
            ],
            "requireInteraction": true,
            "priority": 2,
        }),
    )
    .await;
    if let Err(e) = result {
        log_warn(&format!("notification: {}", JsError::from(e)));
    }
    chrome::open_popup();
}

/// The agent confirmed a held dial in the popup or the notification.
pub(super) async fn confirm_dial(id: String) {
    let _ = chrome::clear_notification(&format!("{CONFIRM_PREFIX}{id}")).await;
    let taken = with_worker(|w| w.desk.confirm(&id, now_ms()));
    let h = match taken {
        Some(Ok(h)) => h,
        Some(Err(refusal)) => {
            with_worker(|w| {
                w.desk
                    .notify(refusal.message_key(), &refusal.to_string(), "")
            });
            broadcast();
            return;
        }
        None => return,
    };
    with_worker(|w| w.desk.set_extension(h.extension.as_deref()));
    broadcast();
    let params = DialParams {
        number: h.number.clone(),
        uri: h.uri.clone(),
        extension: h.extension.clone(),
        confirmed: true,
    };
    if let Err(f) = call_out::send_dial(params, h.display.clone()).await {
        with_worker(|w| w.desk.dial_failed(f.key, &f.detail));
    }
    broadcast();
}

/// The agent refused a held dial: nothing is dialled.
pub(super) async fn cancel_dial(id: String) {
    let _ = chrome::clear_notification(&format!("{CONFIRM_PREFIX}{id}")).await;
    with_worker(|w| w.desk.cancel_confirm(&id));
    broadcast();
}

/// `notifications.onButtonClicked`: accept (0) or decline (1) an incoming
/// call, or Call (0) / Cancel (1) a held dial.
#[wasm_bindgen]
pub fn sw_on_notification_button(id: String, button: u32) {
    if let Some(held) = id.strip_prefix(CONFIRM_PREFIX) {
        let held = held.to_owned();
        spawn_local(async move {
            if button == 0 {
                confirm_dial(held).await;
            } else {
                cancel_dial(held).await;
            }
        });
        return;
    }
    if !id.starts_with(INCOMING_PREFIX) {
        return;
    }
    spawn_local(async move {
        let call_id = id[INCOMING_PREFIX.len()..].to_owned();
        super::call_ctl::run(if button == 0 {
            UiCommand::Answer
        } else {
            UiCommand::EndCall { call_id }
        })
        .await;
        let _ = chrome::clear_notification(&id).await;
    });
}

/// Saves a wrap-up where `outbox::route` says: to the platform as its own
/// agent (with that agent's platform session as the bearer), into that
/// agent's outbox, or locally.
pub(super) async fn save_wrapup(id: String, tags: String, note: String) {
    let Some((wrapup, platform, owner, me)) = with_worker(|w| {
        w.desk.wrapup(&id, &tags, &note, now_ms()).map(|wu| {
            (
                wu,
                w.settings.platform_url.clone(),
                w.desk.owner(&id),
                w.signed_in_agent(),
            )
        })
    })
    .flatten() else {
        return;
    };
    let session = session::platform_session_id();
    let to = match outbox::route(
        platform.is_some(),
        owner.as_ref(),
        me.as_ref(),
        session.as_deref(),
    ) {
        Route::Local => {
            append_local(KEY_WRAPUPS, &wrapup).await;
            SavedTo::Local
        }
        Route::Unowned => {
            append_local(KEY_WRAPUPS, &wrapup).await;
            SavedTo::Unowned
        }
        Route::Queue { agent, saved } => {
            append_local(&agent.outbox_storage_key(), &wrapup).await;
            saved
        }
        Route::Send { agent, bearer } => {
            let base = platform.unwrap_or_default();
            flush_outbox_of(&base, &agent, &bearer).await;
            let d = send_wrapup(&base, &bearer, &wrapup).await;
            if d != Delivery::Delivered {
                append_local(&agent.outbox_storage_key(), &wrapup).await;
            }
            outbox::saved_to(d)
        }
    };
    history::wrapped(&wrapup, owner.as_ref(), to).await;
    with_worker(|w| w.desk.wrapup_saved(&id, to));
    broadcast();
}

/// `POST {platform}/v1/wrapups` with the session as the bearer credential
/// (`Authorization: Bearer <session>`).
async fn send_wrapup(base: &str, session: &str, wrapup: &WrapUp) -> Delivery {
    let body = ringside_core::json::to_value(wrapup).unwrap_or(Value::Null);
    let url = format!("{}/v1/wrapups", base.trim_end_matches('/'));
    let status = chrome::http(&url, None, Some(&body), Some(session))
        .await
        .ok()
        .map(|a| a.status);
    let d = outbox::delivery(status);
    if d != Delivery::Delivered {
        log_warn(&format!(
            "the platform did not take a wrap-up (HTTP {status:?})"
        ));
    }
    d
}

/// Sends the signed-in agent's own outbox with their platform session (after
/// a sign-in, or once the platform session is back); nobody else's. A 401 keeps
/// everything and tells the agent.
pub(super) async fn flush_outbox() {
    let Some((Some(base), me)) =
        with_worker(|w| (w.settings.platform_url.clone(), w.signed_in_agent()))
    else {
        return;
    };
    let session = session::platform_session_id();
    let Some((agent, bearer)) = outbox::flush_plan(me.as_ref(), session.as_deref()) else {
        return;
    };
    if flush_outbox_of(&base, &agent, &bearer).await {
        with_worker(|w| w.desk.outbox_refused());
        broadcast();
    }
}

/// Sends one agent's outbox; keeps what is not delivered. Returns whether
/// the platform refused the session (401).
async fn flush_outbox_of(base: &str, agent: &AgentKey, session: &str) -> bool {
    let key = agent.outbox_storage_key();
    let Ok(stored) = chrome::storage_get(Area::Local, Some(&[key.as_str()])).await else {
        return false;
    };
    let queued: Vec<WrapUp> = stored
        .get(&key)
        .and_then(|v| ringside_core::json::from_value(v.clone()).ok())
        .unwrap_or_default();
    if queued.is_empty() {
        return false;
    }
    let mut flush = outbox::Flush::new(queued);
    while let Some(w) = flush.request().cloned() {
        let d = send_wrapup(base, session, &w).await;
        flush.answer(d);
    }
    let (left, unauthorized) = flush.finish();
    let _ = if left.is_empty() {
        chrome::storage_remove(Area::Local, &[key.as_str()]).await
    } else {
        chrome::storage_set(Area::Local, &json!({ key: left })).await
    };
    unauthorized
}

/// The single outbox of older versions had no owner: its wrap-ups are never
/// sent (they could be anyone's); they move to the browser's local list.
pub(super) async fn retire_legacy_outbox() {
    let Ok(stored) = chrome::storage_get(Area::Local, Some(&[outbox::LEGACY_OUTBOX_KEY])).await
    else {
        return;
    };
    let queued: Vec<WrapUp> = stored
        .get(outbox::LEGACY_OUTBOX_KEY)
        .and_then(|v| ringside_core::json::from_value(v.clone()).ok())
        .unwrap_or_default();
    if stored.get(outbox::LEGACY_OUTBOX_KEY).is_none() {
        return;
    }
    for w in &queued {
        append_local(KEY_WRAPUPS, w).await;
    }
    let _ = chrome::storage_remove(Area::Local, &[outbox::LEGACY_OUTBOX_KEY]).await;
}

pub(super) async fn append_local(key: &str, wrapup: &WrapUp) {
    let stored = chrome::storage_get(Area::Local, Some(&[key]))
        .await
        .unwrap_or_else(|_| json!({}));
    let mut list: Vec<Value> = stored
        .get(key)
        .and_then(|v| ringside_core::json::from_value(v.clone()).ok())
        .unwrap_or_default();
    list.push(ringside_core::json::to_value(wrapup).unwrap_or(Value::Null));
    if list.len() > MAX_LOCAL_WRAPUPS {
        let drop = list.len() - MAX_LOCAL_WRAPUPS;
        list.drain(..drop);
    }
    let mut items = serde_json::Map::new();
    items.insert(key.to_owned(), Value::Array(list));
    if let Err(e) = chrome::storage_set(Area::Local, &Value::Object(items)).await {
        log_warn(&format!("cannot save the wrap-up: {}", JsError::from(e)));
    }
}

/// A call button was clicked (a trusted click; the page checked `isTrusted`
/// and only this extension's content script can send this message).
pub(super) async fn dial(
    origin: Option<String>,
    number: Option<String>,
    uri: Option<String>,
    extension: Option<String>,
    display: String,
) -> Result<JsValue, JsValue> {
    let display: String = display.chars().take(64).collect();
    let target = number.clone().or(uri.clone()).unwrap_or_default();
    let (decision, needs_sign_in) = with_worker(|w| {
        (
            // The popup's dial pad (no origin) is not a web site.
            origin.as_deref().map_or(SiteDecision::Allowed, |o| {
                settings::site_decision(&w.settings, &w.switched_off, o)
            }),
            session::sign_in_required(w),
        )
    })
    .unwrap_or((SiteDecision::Allowed, false));
    let refuse = |key: &str, detail: &str| {
        with_worker(|w| w.desk.notify(key, detail, &display));
        broadcast();
        reply_err(key, detail, std::slice::from_ref(&display))
    };
    if decision != SiteDecision::Allowed {
        return refuse(decision.message_key(), "click-to-call is off on this site");
    }
    if needs_sign_in {
        // Leads to sign-in: the popup opens where the browser allows it.
        chrome::open_popup();
        return refuse("callNeedsSignIn", "signed out");
    }
    if call_out::path() == CallPath::HostMissing {
        return refuse("errHostMissing", "the native host is not connected");
    }
    let started = with_worker(|w| {
        w.desk.agent = w.signed_in_agent();
        let r = w.desk.dial(&target, &display, now_ms());
        w.desk.set_extension(extension.as_deref());
        r
    });
    if let Some(Err(refusal)) = started {
        return refuse(refusal.message_key(), &refusal.to_string());
    }
    broadcast();
    // The dial pad is Ringside's own UI: the agent chose the number there.
    let confirmed = origin.is_none();
    let params = DialParams {
        number: number.clone(),
        uri: uri.clone(),
        extension: extension.clone(),
        confirmed,
    };
    // Where the browser cannot tell a covered button (Firefox), a page's
    // click waits for the agent like a costly number (core::dial).
    let browser = ringside_core::browser::Browser::detect(
        &chrome::runtime_get_url(""),
        &chrome::browser_brands(),
    );
    let unchecked = if confirmed {
        None
    } else {
        ringside_core::dial::page_click_risk(browser, None)
    };
    let sent = match unchecked {
        Some(risk) => Err(DialFailure {
            key: "callNeedsConfirmation",
            detail: "this browser cannot check the click on the page".into(),
            risk: Some(risk),
        }),
        None => call_out::send_dial(params, display.clone()).await,
    };
    match sent {
        Ok(()) => {
            broadcast();
            reply_ok(json!({ "number": target }))
        }
        Err(DialFailure {
            risk: Some(risk),
            detail,
            ..
        }) => {
            let origin = origin.unwrap_or_default();
            let held = with_worker(|w| {
                w.desk
                    .hold(number, uri, extension, &display, &origin, risk, now_ms())
            });
            broadcast();
            if let Some(Held::Asked(h)) = held {
                ask_agent(&h).await;
            }
            reply_err("callNeedsConfirmation", &detail, &[display])
        }
        Err(f) => {
            with_worker(|w| w.desk.dial_failed(f.key, &f.detail));
            broadcast();
            reply_err(f.key, &f.detail, &[display])
        }
    }
}
