//! Service worker adapter. sw.js registers the chrome.* listeners synchronously
//! at top level and forwards to these exports once the wasm is initialized.
//! The state machine is `ringside_core::host_link`; this module only carries
//! out its actions (open/close the native port, timers, broadcasts).

use std::cell::RefCell;
use std::collections::HashMap;

use futures::channel::oneshot;
use ringside_core::calls::{self, CallDesk, DeskEffect, SavedTo, WrapUp};
use ringside_core::dial::CallEvent;
use ringside_core::host_link::{HostLink, LinkAction, LinkInput};
use ringside_core::outbox::{self, AgentKey, Delivery, Route};
use ringside_core::protocol::{
    self, DetectParams, DialParams, ErrorBody, ErrorCode, Event, HOST_NAME, Incoming, NoParams,
    Request, Response,
};
use ringside_core::settings::{self, SiteDecision};
use ringside_core::surface::{self, OneShot, PageSession, Sender, SenderKind, UI_PORT, UiCommand};
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use crate::chrome::{self, Area, Port};
use crate::error::{JsError, js_to_json, json_to_js, log_warn};

mod api;
mod call_flow;
mod contacts;
mod context;
mod detect;
mod idb;
mod mail;
mod reauth;
mod revocation;
mod settings_sync;
mod signin;
mod state;
mod update;

use self::call_flow::*;
use self::settings_sync::*;
use self::state::{current_state, state_js};
use self::update::apply_pending_update;

/// Storage keys (chrome.storage.local) of the service worker.
const KEY_OPTIONS: &str = "options";
const KEY_SWITCHED_OFF: &str = "switchedOff";
const KEY_WRAPUPS: &str = "wrapups";
/// The call desk in session storage.
const KEY_DESK: &str = "desk";
/// The managed policy last read, applied at startup until managed storage answers.
const KEY_POLICY_CACHE: &str = "policyCache";
/// The site lists of the policy last seen (storage.local; see `load_settings`).
const KEY_SITE_RULES_CACHE: &str = "policySiteRules";
/// Local wrap-ups kept (oldest dropped first).
const MAX_LOCAL_WRAPUPS: usize = 500;
const INCOMING_PREFIX: &str = "ringside-incoming:";

/// The native port and the listener that must live as long as it does.
struct NativePort {
    port: Port,
    _on_message: Closure<dyn FnMut(JsValue)>,
}

struct UiPort {
    id: u32,
    port: Port,
    _on_message: Closure<dyn FnMut(JsValue)>,
}

struct Worker {
    link: HostLink,
    native: Option<NativePort>,
    ui: Vec<UiPort>,
    next_ui_id: u32,
    pages: Vec<PageSession>,
    own_id: String,
    desk: CallDesk,
    settings: settings::Settings,
    /// Raw policy and options, as last read.
    managed: Value,
    options: Value,
    switched_off: Vec<String>,
    /// Host requests waiting for their response.
    pending: HashMap<u64, oneshot::Sender<Response>>,
    /// Whether the current host connection has the dialer configuration.
    dialer_sent: bool,
    /// Requests waiting for the host to finish connecting.
    connect_waiters: Vec<oneshot::Sender<()>>,
    /// Whether policy and options have been read once (managed storage can
    /// take seconds to answer while the browser starts).
    settings_loaded: bool,
    /// Whether settings were applied once (later applies may be changes).
    settings_loaded_before: bool,
    settings_waiters: Vec<oneshot::Sender<()>>,
    /// Bumped by each settings read; only the newest read is applied.
    settings_generation: u64,
    /// The desk as last written to session storage (JSON).
    desk_saved: String,
    /// Who is signed in, and the sign-in flow's caches.
    session: signin::SessionState,
    /// Gmail over IMAP: which address is connected (the host has the password).
    mail: ringside_core::mail::MailView,
    /// The side panel's cache and the integrations turned off.
    context: context::ContextState,
    /// The agent's own meeting, for the popup.
    my_presence: Option<ringside_core::context::Presence>,
    /// The last "show contact" click, for the side panel.
    panel_request: Option<(u32, ringside_core::context::ContactQuery)>,
    /// `chrome.management.getSelf().installType`.
    install_type: Option<String>,
    /// A downloaded update waiting for the live call to end.
    update_pending: Option<String>,
    /// What each tab's content script may still send (`core::page_budget`).
    page_budget: ringside_core::page_budget::PageBudget,
}

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

fn with_worker<R>(f: impl FnOnce(&mut Worker) -> R) -> Option<R> {
    WORKER.with(|w| w.borrow_mut().as_mut().map(f))
}

/// Called once by sw.js after wasm init: set up state and connect to the host.
#[wasm_bindgen]
pub fn sw_start() {
    let fresh = WORKER.with(|w| {
        let mut w = w.borrow_mut();
        if w.is_some() {
            return false;
        }
        *w = Some(Worker {
            link: HostLink::new(concat!("ringside-extension/", env!("CARGO_PKG_VERSION"))),
            native: None,
            ui: vec![],
            next_ui_id: 1,
            pages: vec![],
            own_id: chrome::runtime_id(),
            desk: CallDesk::default(),
            settings: settings::Settings::default(),
            managed: json!({}),
            options: json!({}),
            switched_off: vec![],
            pending: HashMap::new(),
            dialer_sent: false,
            connect_waiters: vec![],
            settings_loaded: false,
            settings_loaded_before: false,
            settings_waiters: vec![],
            settings_generation: 0,
            desk_saved: String::new(),
            session: signin::SessionState::new(chrome::identity_redirect_url()),
            mail: Default::default(),
            context: Default::default(),
            my_presence: None,
            panel_request: None,
            install_type: None,
            update_pending: None,
            page_budget: Default::default(),
        });
        true
    });
    if fresh {
        drive(LinkInput::Connect);
        spawn_local(load_settings());
        spawn_local(restore_desk());
        spawn_local(retire_legacy_outbox());
        spawn_local(mail::restore());
        spawn_local(context::restore());
        spawn_local(async {
            let kind = chrome::install_type().await;
            with_worker(|w| w.install_type = kind);
            broadcast();
        });
        spawn_local(async {
            settings_ready().await;
            signin::restore().await;
            contacts::schedule().await;
            contacts::sync_if_stale().await;
        });
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// How long a request waits for a host that is still connecting (pages that
/// load while the browser starts, or right after a host restart).
const CONNECT_WAIT_MS: u32 = 5000;

/// Resolves when the host is connected, or after [`CONNECT_WAIT_MS`] if it is
/// connecting; at once when it is connected or known to be absent.
async fn wait_connected() {
    use ringside_core::host_link::HostStatus;
    let rx = with_worker(|w| match w.link.status() {
        HostStatus::Connecting | HostStatus::Reconnecting { .. } => {
            let (tx, rx) = oneshot::channel();
            w.connect_waiters.push(tx);
            Some(rx)
        }
        _ => None,
    })
    .flatten();
    if let Some(rx) = rx {
        let (tx_timeout, rx_timeout) = oneshot::channel::<()>();
        chrome::set_timeout(CONNECT_WAIT_MS, move || {
            let _ = tx_timeout.send(());
        });
        futures::future::select(rx, rx_timeout).await;
    }
}

/// Sends a request to the host and waits for its response.
async fn host_request(request: Request) -> Result<Value, ErrorBody> {
    wait_connected().await;
    let (tx, rx) = oneshot::channel();
    let id = with_worker(|w| {
        if !w.link.is_connected() {
            return None;
        }
        let id = w.link.next_request_id();
        w.pending.insert(id, tx);
        Some(id)
    })
    .flatten()
    .ok_or_else(|| ErrorBody::new(ErrorCode::Internal, "the native host is not connected"))?;
    perform(LinkAction::Send(protocol::request_json(id, &request)));
    match rx.await {
        Ok(resp) => resp.into_result::<Value>(),
        Err(_) => Err(ErrorBody::new(
            ErrorCode::Internal,
            "the native host went away before answering",
        )),
    }
}

/// Sends the dialer configuration to the host once per connection.
async fn configure_dialer() -> Result<(), ErrorBody> {
    let cfg = with_worker(|w| w.settings.dialer.clone()).flatten();
    let Some(cfg) = cfg else {
        return Err(ErrorBody::new(
            ErrorCode::DialerNotConfigured,
            "no dialer is configured",
        ));
    };
    host_request(Request::ConfigureDialer(cfg)).await?;
    with_worker(|w| w.dialer_sent = true);
    Ok(())
}

/// Feeds the link and carries out what it asks. Never holds the state borrow
/// while calling out, so callbacks may re-enter.
fn drive(input: LinkInput) {
    let actions = with_worker(|w| w.link.handle(input)).unwrap_or_default();
    for action in actions {
        perform(action);
    }
}

fn perform(action: LinkAction) {
    match action {
        LinkAction::OpenPort => open_native(),
        LinkAction::Send(v) => {
            let sent = with_worker(|w| {
                w.native
                    .as_ref()
                    .map(|n| json_to_js(&v).and_then(|m| Ok(n.port.post_message(&m)?)))
            })
            .flatten();
            if let Some(Err(e)) = sent {
                log_warn(&format!("cannot post to the host: {e}"));
            }
        }
        LinkAction::ClosePort => {
            if let Some(n) = with_worker(|w| w.native.take()).flatten() {
                n.port.disconnect();
            }
        }
        LinkAction::StartHelloTimer { generation, ms } => {
            chrome::set_timeout(ms, move || drive(LinkInput::HelloTimeout { generation }));
        }
        LinkAction::StartRetryTimer { generation, ms } => {
            chrome::set_timeout(ms, move || drive(LinkInput::RetryTimer { generation }));
        }
        LinkAction::StatusChanged => {
            let connected = with_worker(|w| {
                if w.link.is_connected() {
                    for waiter in w.connect_waiters.drain(..) {
                        let _ = waiter.send(());
                    }
                } else if !matches!(
                    w.link.status(),
                    ringside_core::host_link::HostStatus::Connecting
                        | ringside_core::host_link::HostStatus::Reconnecting { .. }
                ) {
                    // Known absent (not installed, blocked, refused): stop waiting.
                    w.connect_waiters.clear();
                }
                if !w.link.is_connected() {
                    // Requests in flight will not be answered by this host.
                    w.pending.clear();
                    w.dialer_sent = false;
                }
                w.link.is_connected() && w.settings.dialer.is_some()
            })
            .unwrap_or(false);
            if connected {
                spawn_local(async {
                    if let Err(e) = configure_dialer().await {
                        log_warn(&format!("dialer configuration refused: {}", e.message));
                    }
                    broadcast();
                });
            }
            broadcast();
        }
        LinkAction::Deliver(resp) => {
            let waiter = resp
                .id
                .and_then(|id| with_worker(|w| w.pending.remove(&id)).flatten());
            match waiter {
                Some(tx) => {
                    let _ = tx.send(resp);
                }
                None => log_warn(&format!("response to an unknown request {:?}", resp.id)),
            }
        }
        LinkAction::HostEvent(ev) => on_host_event(ev),
    }
}

fn open_native() {
    let port = match chrome::connect_native(HOST_NAME) {
        Ok(p) => p,
        Err(e) => {
            let e = JsError::from(e);
            drive(LinkInput::Disconnected {
                last_error: Some(e.0),
            });
            return;
        }
    };
    let on_message =
        Closure::<dyn FnMut(JsValue)>::new(|msg: JsValue| match js_to_json::<Incoming>(&msg) {
            Ok(incoming) => drive(LinkInput::Message(incoming)),
            Err(e) => log_warn(&format!("unreadable message from the host: {e}")),
        });
    port.on_message()
        .add_listener(on_message.as_ref().unchecked_ref());
    let on_disconnect = Closure::once_into_js(move |_port: JsValue| {
        // lastError must be read inside the callback.
        let last_error = chrome::last_error_message();
        with_worker(|w| w.native = None);
        drive(LinkInput::Disconnected { last_error });
    });
    port.on_disconnect()
        .add_listener(on_disconnect.unchecked_ref());
    with_worker(|w| {
        w.native = Some(NativePort {
            port,
            _on_message: on_message,
        })
    });
    drive(LinkInput::Opened);
}

/// Pushes the state to every open extension page.
fn broadcast() {
    let targets = with_worker(|w| {
        persist_desk(w);
        apply_pending_update(w);
        let state = current_state(w);
        (
            state,
            w.ui.iter().map(|u| u.port.clone()).collect::<Vec<_>>(),
        )
    });
    let Some((state, ports)) = targets else {
        return;
    };
    let Ok(msg) = state_js(&state) else {
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
    let own = with_worker(|w| w.own_id.clone()).unwrap_or_default();
    let trusted = serde_wasm_bindgen::from_value::<Sender>(sender)
        .map(|s| surface::classify_sender(&s, &own) == SenderKind::ExtensionPage)
        .unwrap_or(false);
    if port.name() != UI_PORT || !trusted {
        port.disconnect();
        return;
    }
    let Some(id) = with_worker(|w| {
        w.next_ui_id += 1;
        w.next_ui_id
    }) else {
        return;
    };
    let on_message =
        Closure::<dyn FnMut(JsValue)>::new(|msg: JsValue| match js_to_json::<UiCommand>(&msg) {
            Ok(cmd) => on_ui_command(cmd),
            Err(e) => log_warn(&format!("unknown page command: {e}")),
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
        w.ui.push(UiPort {
            id,
            port: port.clone(),
            _on_message: on_message,
        });
        current_state(w)
    });
    if let Some(Ok(msg)) = state.as_ref().map(state_js) {
        let _ = port.post_message(&msg);
    }
    // A page opening (the popup) is when the agent's own status matters.
    spawn_local(context::refresh_own_presence());
    // A page opening is a good moment to retry a host that was missing.
    let connected = with_worker(|w| w.link.is_connected()).unwrap_or(false);
    if !connected {
        drive(LinkInput::Connect);
    }
}

fn on_ui_command(cmd: UiCommand) {
    match cmd {
        UiCommand::Retry => drive(LinkInput::Connect),
        UiCommand::Hangup => spawn_local(call_control(Request::Hangup(NoParams {}))),
        UiCommand::Answer => spawn_local(call_control(Request::Answer(NoParams {}))),
        UiCommand::DismissNotice => {
            with_worker(|w| w.desk.dismiss_notice());
            broadcast();
        }
        UiCommand::SaveWrapup { id, tags, note } => spawn_local(save_wrapup(id, tags, note)),
        UiCommand::SetSite { origin, enabled } => spawn_local(async move {
            let list = with_worker(|w| {
                w.switched_off.retain(|o| !o.eq_ignore_ascii_case(&origin));
                if !enabled {
                    w.switched_off.push(origin.clone());
                }
                w.switched_off.clone()
            })
            .unwrap_or_default();
            if let Err(e) =
                chrome::storage_set(Area::Local, &json!({ KEY_SWITCHED_OFF: list })).await
            {
                log_warn(&format!(
                    "cannot save the site switch: {}",
                    JsError::from(e)
                ));
            }
            // storage.onChanged reloads the settings and tells the pages.
        }),
        UiCommand::SignIn { provider } => spawn_local(async move {
            signin::sign_in(provider).await;
            contacts::sync().await;
        }),
        UiCommand::ContactsSync => spawn_local(contacts::sync_if_stale()),
        UiCommand::DialNumber { number } => spawn_local(async move {
            // Refusals become the desk's notice, which the popup shows.
            let display = number.clone();
            let _ = dial(None, Some(number), None, None, display).await;
        }),
        UiCommand::ConfirmDial { id } => spawn_local(call_flow::confirm_dial(id)),
        UiCommand::CancelDial { id } => spawn_local(call_flow::cancel_dial(id)),
        UiCommand::SignOut => spawn_local(signin::sign_out()),
        UiCommand::RefreshSession => spawn_local(async {
            if signin::refresh().await {
                api::refresh_profile().await;
            }
            broadcast();
        }),
        UiCommand::MailConnect { email, password } => spawn_local(mail::connect(email, password)),
        UiCommand::MailDisconnect => spawn_local(mail::disconnect()),
        UiCommand::SaveOptions { options } => spawn_local(async move {
            if let Err(e) = chrome::storage_set(Area::Local, &json!({ KEY_OPTIONS: options })).await
            {
                log_warn(&format!("cannot save options: {}", JsError::from(e)));
            }
        }),
    }
}

/// A reply to a content script or page: `{ok, result}` or `{ok: false, error, message}`.
fn reply_ok(result: Value) -> Result<JsValue, JsValue> {
    Ok(json_to_js(&json!({"ok": true, "result": result}))?)
}

fn reply_err(key: &str, detail: &str, subs: &[String]) -> Result<JsValue, JsValue> {
    Ok(json_to_js(&json!({
        "ok": false,
        "key": key,
        "error": detail,
        "message": chrome::get_message(key, subs),
    }))?)
}

/// The default region: policy or options, else the browser's language.
fn region(w: &Worker) -> String {
    w.settings
        .default_region
        .clone()
        .or_else(|| ringside_core::phone::region_from_locale(&chrome::ui_language()))
        .unwrap_or_else(|| "US".to_owned())
}

/// `runtime.onMessage`: one-shot messages; resolves to the reply.
#[wasm_bindgen]
pub fn sw_on_message(message: JsValue, sender: JsValue) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(on_message(message, sender))
}

async fn on_message(message: JsValue, sender: JsValue) -> Result<JsValue, JsValue> {
    let sender: Sender = serde_wasm_bindgen::from_value(sender).map_err(JsError::from)?;
    let own = with_worker(|w| w.own_id.clone()).unwrap_or_default();
    let kind = surface::classify_sender(&sender, &own);
    if matches!(kind, SenderKind::ContentScript { .. }) {
        // Site rules and the region come from settings: never answer a page
        // before they are known.
        settings_ready().await;
    }
    let msg: OneShot = js_to_json(&message)?;
    match (msg, kind) {
        (OneShot::ContentHello { wasm }, SenderKind::ContentScript { tab, frame, origin }) => {
            let decision = with_worker(|w| {
                surface::record_page(
                    &mut w.pages,
                    PageSession {
                        tab,
                        frame,
                        origin: origin.clone(),
                        wasm,
                        marked: None,
                        scan_ms: None,
                    },
                );
                settings::site_decision(&w.settings, &w.switched_off, &origin)
            })
            .unwrap_or(SiteDecision::Allowed);
            broadcast();
            Ok(json_to_js(&json!({
                "ok": true,
                "enabled": decision == SiteDecision::Allowed,
                "site": decision,
            }))?)
        }
        (OneShot::ContentScanned { ms, marked }, SenderKind::ContentScript { tab, frame, .. }) => {
            with_worker(|w| {
                if let Some(p) = w
                    .pages
                    .iter_mut()
                    .find(|p| p.tab == tab && p.frame == frame)
                {
                    p.marked = Some(marked);
                    p.scan_ms = Some(ms.max(0.0).round() as u32);
                }
            });
            broadcast();
            reply_ok(Value::Null)
        }
        (OneShot::Detect { texts, links }, SenderKind::ContentScript { tab, origin, .. }) => {
            let (decision, region) = with_worker(|w| {
                (
                    settings::site_decision(&w.settings, &w.switched_off, &origin),
                    region(w),
                )
            })
            .unwrap_or((SiteDecision::Allowed, "US".to_owned()));
            if decision != SiteDecision::Allowed {
                return reply_err(decision.message_key(), "site not allowed", &[]);
            }
            let params = DetectParams {
                region,
                texts,
                links,
            };
            // Bounded in size and rate before anything reaches the host.
            let admitted = with_worker(|w| w.page_budget.admit(i64::from(tab), &params, now_ms()))
                .unwrap_or(Ok(()));
            if let Err(refusal) = admitted {
                log_warn(&format!("detect from {origin} refused: {refusal}"));
                return reply_err(refusal.message_key(), &refusal.to_string(), &[]);
            }
            // The answer holds numbers only: no contact data ever goes to a
            // page (names are shown in the popup, side panel and notifications).
            // The worker's own detection module answers; the host is the
            // fallback should the module fail to load.
            match detect::detect(&params).await {
                Ok(found) => reply_ok(found),
                Err(e) => {
                    log_warn(&format!("detection module: {e}"));
                    match host_request(Request::Detect(params)).await {
                        Ok(found) => reply_ok(found),
                        Err(e) => reply_err("errHostMissing", &e.message, &[]),
                    }
                }
            }
        }
        (
            OneShot::Dial {
                number,
                uri,
                extension,
                display,
            },
            SenderKind::ContentScript { origin, .. },
        ) => dial(Some(origin), number, uri, extension, display).await,
        (OneShot::ContextContact { query }, SenderKind::ExtensionPage) => {
            reply_ok(serde_json::to_value(context::contact(query).await).map_err(JsError::from)?)
        }
        (
            OneShot::ContextSection {
                integration,
                emails,
            },
            SenderKind::ExtensionPage,
        ) => reply_ok(
            serde_json::to_value(context::section(integration, emails).await)
                .map_err(JsError::from)?,
        ),
        (OneShot::ContextPresence { email }, SenderKind::ExtensionPage) => {
            reply_ok(serde_json::to_value(context::presence(email).await).map_err(JsError::from)?)
        }
        (OneShot::ContextConnect { integration }, SenderKind::ExtensionPage) => {
            match context::connect(integration).await {
                Ok(()) => reply_ok(Value::Null),
                Err(n) => reply_err(&n.key, "connect failed", &n.subs),
            }
        }
        (OneShot::ContextDisconnect { integration }, SenderKind::ExtensionPage) => {
            context::disconnect(integration).await;
            reply_ok(Value::Null)
        }
        (OneShot::ContextConnected, SenderKind::ExtensionPage) => {
            reply_ok(serde_json::to_value(context::connected().await).map_err(JsError::from)?)
        }
        (OneShot::ShowContact { number }, SenderKind::ContentScript { tab, origin, .. }) => {
            // The site rules apply to the contact button as to the call button.
            let decision =
                with_worker(|w| settings::site_decision(&w.settings, &w.switched_off, &origin))
                    .unwrap_or(SiteDecision::BlockedByPolicy);
            if decision != SiteDecision::Allowed {
                return reply_err(decision.message_key(), "site not allowed", &[number]);
            }
            let Some(q) = ringside_core::context::ContactQuery::from_call(&number) else {
                return reply_err("showContactInvalid", "not a phone number", &[]);
            };
            with_worker(|w| {
                let n = w.panel_request.as_ref().map_or(1, |(n, _)| n + 1);
                w.panel_request = Some((n, q));
            });
            broadcast();
            // Opens the panel in this tab (a user action: the trusted click).
            if let Err(e) = chrome::open_side_panel(tab).await {
                log_warn(&format!("side panel: {e}"));
            }
            reply_ok(Value::Null)
        }
        (
            OneShot::ContactsSave {
                id,
                draft,
                base,
                etag,
            },
            SenderKind::ExtensionPage,
        ) => {
            let answer = contacts::save(id, draft, base, etag).await;
            broadcast();
            reply_ok(serde_json::to_value(answer).map_err(JsError::from)?)
        }
        (OneShot::ContactsSearch { query }, SenderKind::ExtensionPage) => {
            reply_ok(serde_json::to_value(contacts::search(&query).await).map_err(JsError::from)?)
        }
        (OneShot::State, SenderKind::ExtensionPage) => {
            let state = with_worker(|w| current_state(w))
                .ok_or_else(|| JsError("the service worker is starting".into()))?;
            Ok(state_js(&state)?)
        }
        (_, _) => Ok(json_to_js(&json!({
            "ok": false,
            "error": "message refused: untrusted sender",
        }))?),
    }
}
