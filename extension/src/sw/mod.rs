//! Service worker adapter. sw.js registers the chrome.* listeners
//! synchronously at top level and forwards to these exports once the wasm is
//! initialized. This module is the wiring: it starts the worker, routes
//! browser events and messages (who may send what is
//! `ringside_core::worker::permissions`), and carries out the effects that
//! lower modules hand up (`kernel::Up`). The modules below it never import
//! it, nor anything above themselves:
//!
//! - `kernel`: the state, the clock, the native host port and its requests.
//! - `session`: the auth session (`ringside_core::worker::auth`) carried
//!   out: tokens, refresh, sign-out, the platform's event stream.
//! - `signin`: the sign-in flow (`ringside_core::worker::signin`) carried out.
//! - `api`: API calls with the 401/claims policy (`ringside_core::worker::api_call`).
//! - `contacts`, `context`, `mail`, `idb`: the agent's contacts, the side
//!   panel, Gmail over IMAP, IndexedDB; `history`: the call history and the
//!   call desk kept across browser restarts.
//! - `call_flow`, `settings_sync`, `state`, `update`: calls, settings, the
//!   state pages render, extension updates; `call_out`: calls without the
//!   host (tel: through the browser, the url and platform dialers).

use futures::future::LocalBoxFuture;
use ringside_core::host_link::LinkInput;
use ringside_core::protocol::Request;
use ringside_core::settings::SiteDecision;
use ringside_core::surface::{self, OneShot, PageSession, Sender, SenderKind, UiCommand};
use ringside_core::worker::auth::AuthEvent;
use ringside_core::worker::permissions;
use ringside_core::worker::session_store::{self, Start};
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use self::kernel::{Up, now_ms, settings_ready, with_worker};
use crate::chrome::{self, Port};
use crate::error::{JsError, js_text, js_to_json, json_to_js, log_warn};

mod api;
mod call_ctl;
mod call_flow;
mod call_out;
mod contacts;
mod context;
mod detect;
mod history;
mod idb;
mod kernel;
mod mail;
mod session;
mod settings_sync;
mod signin;
mod state;
mod update;

/// Called once by sw.js after wasm init: set up state and connect to the host.
#[wasm_bindgen]
pub fn sw_start() {
    if !kernel::start(broadcast_now, carry_out) {
        return;
    }
    kernel::drive(LinkInput::Connect);
    spawn_local(settings_sync::load_settings());
    spawn_local(call_flow::restore_desk());
    spawn_local(call_flow::retire_legacy_outbox());
    spawn_local(mail::restore());
    spawn_local(context::restore());
    spawn_local(async {
        let kind = chrome::install_type().await;
        with_worker(|w| w.install_type = kind);
        broadcast_now();
    });
    spawn_local(async {
        // The platform URL and the providers come with the whole policy.
        kernel::policy_ready().await;
        restore_session().await;
        contacts::schedule().await;
        contacts::sync_if_stale().await;
    });
}

/// Restore attempts while the host is missing or the provider unreachable.
const RESTORE_TRIES: u32 = 5;

/// At worker start: the agent of the last run, without a prompt.
async fn restore_session() {
    let Some((profile, expires_at)) = session::restore().await else {
        return;
    };
    match session_store::start(&profile, expires_at, now_ms()) {
        Start::Resume => {
            session::apply(AuthEvent::Resumed).await;
            session::schedule_refresh(expires_at);
            session::resume_platform();
            return;
        }
        Start::EndedWithBrowser => return session::apply(AuthEvent::EndedWithBrowser).await,
        Start::Refresh => session::apply(AuthEvent::Restoring).await,
    }
    for attempt in 0..RESTORE_TRIES {
        kernel::wait_connected().await;
        if session::refresh().await {
            api::refresh_profile().await;
            return;
        }
        let still =
            with_worker(|w| w.auth.view().phase == ringside_core::auth::session::Phase::Restoring)
                .unwrap_or(false);
        if !still {
            return;
        }
        kernel::sleep(2_000 * (attempt + 1)).await;
    }
}

/// What lower modules hand up.
fn carry_out(effect: Up) -> LocalBoxFuture<'static, ()> {
    Box::pin(async move {
        match effect {
            Up::HostEvent(ev) => call_flow::on_host_event(ev),
            Up::PlatformCall(call) => call_flow::on_call_event(&call),
            Up::ForgetContacts => {
                contacts::forget().await;
                history::forget().await;
            }
            Up::FlushOutbox => call_flow::flush_outbox().await,
        }
    })
}

/// Pushes the state to every open extension page.
fn broadcast_now() {
    let targets = with_worker(|w| {
        call_flow::persist_desk(w);
        update::apply_pending_update(w);
        let state = state::current_state(w);
        (
            state,
            w.ui.iter().map(|u| u.port.clone()).collect::<Vec<_>>(),
        )
    });
    let Some((state, ports)) = targets else {
        return;
    };
    let Ok(msg) = state::state_js(&state) else {
        return;
    };
    for p in ports {
        if let Err(e) = p.post_message(&msg) {
            log_warn(&format!("cannot update a page: {}", JsError::from(e)));
        }
    }
}

/// `runtime.onConnect`: extension pages open a `ui` port for live state.
#[wasm_bindgen]
pub fn sw_on_connect(port: Port, sender: JsValue) {
    let own = with_worker(|w| w.own.clone()).unwrap_or_default();
    let kind = js_to_json::<Sender>(&sender)
        .map(|s| surface::classify_sender(&s, &own))
        .unwrap_or(SenderKind::Untrusted);
    if !permissions::permits_port(&port.name(), &kind) {
        port.disconnect();
        return;
    }
    let Some(id) = with_worker(|w| {
        w.next_ui_id += 1;
        w.next_ui_id
    }) else {
        return;
    };
    let on_message = Closure::<dyn FnMut(JsValue)>::new(|msg: JsValue| {
        match js_text(&msg).and_then(|t| Ok(UiCommand::from_json(&t)?)) {
            Ok(cmd) => on_ui_command(cmd),
            Err(e) => log_warn(&format!("unknown page command: {e}")),
        }
    });
    port.on_message()
        .add_listener(on_message.as_ref().unchecked_ref());
    let on_disconnect = Closure::once_into_js(move |_p: JsValue| {
        // Dropping the entry drops its onMessage closure, which is not running now.
        with_worker(|w| w.ui.retain(|u| u.id != id));
    });
    port.on_disconnect()
        .add_listener(on_disconnect.unchecked_ref());
    let state = with_worker(|w| {
        w.ui.push(kernel::UiPort {
            id,
            port: port.clone(),
            _on_message: on_message,
        });
        state::current_state(w)
    });
    if let Some(Ok(msg)) = state.as_ref().map(state::state_js) {
        let _ = port.post_message(&msg);
    }
    // A page opening (the popup) is when the agent's own status matters.
    spawn_local(context::refresh_own_presence());
    // A page opening is a good moment to retry a host that was missing.
    if !kernel::host_connected() {
        kernel::drive(LinkInput::Connect);
    }
}

fn on_ui_command(cmd: UiCommand) {
    match cmd {
        UiCommand::Retry => kernel::drive(LinkInput::Connect),
        UiCommand::Hangup
        | UiCommand::Answer
        | UiCommand::ToggleHold
        | UiCommand::ToggleMute
        | UiCommand::SendDtmf { .. }
        | UiCommand::SwapCalls
        | UiCommand::EndCall { .. }
        | UiCommand::Transfer { .. }
        | UiCommand::Consult { .. }
        | UiCommand::CompleteTransfer
        | UiCommand::ReturnToCaller
        | UiCommand::SetDnd { .. } => spawn_local(call_ctl::run(cmd)),
        UiCommand::DismissNotice => {
            with_worker(|w| w.desk.dismiss_notice());
            broadcast_now();
        }
        UiCommand::SaveWrapup { id, tags, note } => {
            spawn_local(call_flow::save_wrapup(id, tags, note))
        }
        UiCommand::SetSite { origin, enabled } => {
            spawn_local(settings_sync::set_site(origin, enabled))
        }
        UiCommand::SignIn { provider } => spawn_local(async move {
            signin::sign_in(provider).await;
            contacts::sync().await;
        }),
        UiCommand::ContactsSync => spawn_local(contacts::sync_if_stale()),
        UiCommand::DialNumber { number } => spawn_local(async move {
            // Refusals become the desk's notice, which the popup shows.
            let display = number.clone();
            let _ = call_flow::dial(None, Some(number), None, None, display).await;
        }),
        UiCommand::ConfirmDial { id } => spawn_local(call_flow::confirm_dial(id)),
        UiCommand::CancelDial { id } => spawn_local(call_flow::cancel_dial(id)),
        UiCommand::SignInPassword { email, password } => {
            spawn_local(signin::platform(Some((email, password))))
        }
        UiCommand::SignOut => spawn_local(signin::sign_out()),
        UiCommand::RefreshSession => spawn_local(async {
            if session::refresh().await {
                api::refresh_profile().await;
            }
            broadcast_now();
        }),
        UiCommand::MailConnect { email, password } => spawn_local(mail::connect(email, password)),
        UiCommand::MailDisconnect => spawn_local(mail::disconnect()),
        UiCommand::SaveOptions { options } => spawn_local(settings_sync::save_options(options)),
    }
}

/// A reply to a content script or page: `{ok, result}` or `{ok: false, error, message}`.
pub(super) fn reply_ok(result: Value) -> Result<JsValue, JsValue> {
    Ok(json_to_js(&json!({"ok": true, "result": result}))?)
}

pub(super) fn reply_err(key: &str, detail: &str, subs: &[String]) -> Result<JsValue, JsValue> {
    Ok(json_to_js(&json!({
        "ok": false,
        "key": key,
        "error": detail,
        "message": chrome::get_message(key, subs),
    }))?)
}

fn reply<T: serde::Serialize>(value: T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(&value).map_err(JsError::from)?;
    js_sys::JSON::parse(&format!(r#"{{"ok":true,"result":{text}}}"#))
}

/// `chrome.commands.onCommand` (sw.js): the keyboard shortcuts
/// (`ringside_core::shortcuts`), each what its popup button does.
#[wasm_bindgen]
pub fn sw_on_command(name: String) {
    use ringside_core::shortcuts::Shortcut;
    match Shortcut::from_command(&name) {
        Some(s) => match s.ui_command() {
            Some(cmd) => on_ui_command(cmd),
            None => chrome::open_popup(),
        },
        None => log_warn(&format!("unknown command {name}")),
    }
}

/// `runtime.onMessage`: one-shot messages; resolves to the reply.
#[wasm_bindgen]
pub fn sw_on_message(message: JsValue, sender: JsValue) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(on_message(message, sender))
}

/// The page a content script runs in (the permission table guarantees one).
struct Page {
    tab: i32,
    frame: i64,
    origin: String,
}

async fn on_message(message: JsValue, sender: JsValue) -> Result<JsValue, JsValue> {
    let sender: Sender = js_to_json(&sender)?;
    let own = with_worker(|w| w.own.clone()).unwrap_or_default();
    let kind = surface::classify_sender(&sender, &own);
    if matches!(kind, SenderKind::ContentScript { .. }) {
        // Site rules and the region come from settings: never answer a page
        // before they are known.
        settings_ready().await;
    }
    let msg = OneShot::from_json(&js_text(&message)?).map_err(JsError::from)?;
    if !permissions::permits(&msg, &kind) {
        return Ok(json_to_js(&json!({
            "ok": false,
            "error": "message refused: untrusted sender",
        }))?);
    }
    let page = match kind {
        SenderKind::ContentScript { tab, frame, origin } => Page { tab, frame, origin },
        _ => Page {
            tab: -1,
            frame: -1,
            origin: String::new(),
        },
    };
    let site =
        |origin: &str| with_worker(|w| w.site(origin)).unwrap_or(SiteDecision::BlockedByPolicy);
    match msg {
        OneShot::ContentHello { wasm } => {
            let decision = with_worker(|w| {
                w.page_hello(PageSession {
                    tab: page.tab,
                    frame: page.frame,
                    origin: page.origin.clone(),
                    wasm,
                    marked: None,
                    scan_ms: None,
                })
            })
            .unwrap_or(SiteDecision::Allowed);
            broadcast_now();
            Ok(json_to_js(&json!({
                "ok": true,
                "enabled": decision == SiteDecision::Allowed,
                "site": decision,
            }))?)
        }
        OneShot::ContentScanned { ms, marked } => {
            with_worker(|w| w.page_scanned(page.tab, page.frame, ms, marked));
            broadcast_now();
            reply_ok(Value::Null)
        }
        OneShot::Detect { texts, links } => {
            let lang = chrome::ui_language();
            let (tab, origin) = (page.tab, page.origin.as_str());
            let admitted =
                with_worker(|w| w.admit_detect(tab, origin, texts, links, now_ms(), &lang));
            let params = match admitted {
                Some(Ok(params)) => params,
                Some(Err(r)) => {
                    if r.over_budget {
                        log_warn(&format!("detect from {origin} refused: {}", r.detail));
                    }
                    return reply_err(r.key, &r.detail, &[]);
                }
                None => {
                    let key = SiteDecision::BlockedByPolicy.message_key();
                    return reply_err(key, "site not allowed", &[]);
                }
            };
            // The answer holds numbers only: no contact data ever goes to a
            // page (names are shown in the popup, side panel and notifications).
            // The worker's own detection module answers; the host is the
            // fallback should the module fail to load.
            match detect::detect(&params).await {
                Ok(found) => reply_ok(found),
                Err(e) => {
                    log_warn(&format!("detection module: {e}"));
                    match kernel::host_request(Request::Detect(params)).await {
                        Ok(found) => reply_ok(found),
                        Err(e) => reply_err("errHostMissing", &e.message, &[]),
                    }
                }
            }
        }
        OneShot::Dial {
            number,
            uri,
            extension,
            display,
        } => call_flow::dial(Some(page.origin), number, uri, extension, display).await,
        OneShot::ShowContact { number } => {
            // A page's button (the popup's history opened the panel itself).
            let in_page = page.tab >= 0;
            // The site rules apply to the contact button as to the call button.
            let decision = site(&page.origin);
            if in_page && decision != SiteDecision::Allowed {
                return reply_err(decision.message_key(), "site not allowed", &[number]);
            }
            let Some(q) = ringside_core::context::ContactQuery::from_call(&number) else {
                return reply_err("showContactInvalid", "not a phone number", &[]);
            };
            with_worker(|w| w.show_contact(q));
            broadcast_now();
            // Opens the panel in this tab (a user action: the trusted click).
            if in_page && let Err(e) = chrome::open_side_panel(page.tab).await {
                log_warn(&format!("side panel: {e}"));
            }
            reply_ok(Value::Null)
        }
        OneShot::ContextContact { query } => reply(context::contact(query).await),
        OneShot::ContextSection {
            integration,
            emails,
        } => reply(context::section(integration, emails).await),
        OneShot::ContextPresence { email } => reply(context::presence(email).await),
        OneShot::ContextConnect { integration } => match context::connect(integration).await {
            Ok(()) => reply_ok(Value::Null),
            Err(n) => reply_err(&n.key, "connect failed", &n.subs),
        },
        OneShot::ContextDisconnect { integration } => {
            context::disconnect(integration).await;
            reply_ok(Value::Null)
        }
        OneShot::ContextConnected => reply(context::connected().await),
        OneShot::ContactsSave {
            id,
            draft,
            base,
            etag,
        } => {
            let answer = contacts::save(id, draft, base, etag).await;
            broadcast_now();
            reply(answer)
        }
        OneShot::ContactsSearch { query } => reply(contacts::search(&query).await),
        OneShot::HistorySearch { query } => reply(history::search(&query).await),

        OneShot::State => {
            let state = with_worker(|w| state::current_state(w))
                .ok_or_else(|| JsError("the service worker is starting".into()))?;
            Ok(state::state_js(&state)?)
        }
    }
}
