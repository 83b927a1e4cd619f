//! The worker's state and the few things every module needs: the one
//! `Worker` (in a thread-local: the service worker is single-threaded), the
//! clock, the native host port and its requests, and two hooks that the
//! wiring in `mod.rs` installs so lower modules can ask for a broadcast or a
//! cross-module effect without importing the modules above them (which is
//! what keeps the worker's modules free of import cycles).

use std::cell::RefCell;
use std::collections::HashMap;

use futures::channel::oneshot;
use futures::future::LocalBoxFuture;
use ringside_core::host_link::{HostStatus, LinkAction, LinkInput};
use ringside_core::protocol::{self, ErrorBody, ErrorCode, Event, HOST_NAME, Incoming, Request};
use ringside_core::worker::state::WorkerState;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::chrome::{self, Port};
use crate::error::{JsError, js_text, json_to_js, log_warn};

/// The native port and the listener that must live as long as it does.
pub(super) struct NativePort {
    port: Port,
    _on_message: Closure<dyn FnMut(JsValue)>,
}

/// An extension page's `ui` port.
pub(super) struct UiPort {
    pub id: u32,
    pub port: Port,
    pub _on_message: Closure<dyn FnMut(JsValue)>,
}

/// The worker: its state (`ringside_core::worker::state`, reached through
/// `Deref`) and the browser's handles beside it.
pub(super) struct Worker {
    pub state: WorkerState,
    native: Option<NativePort>,
    pub ui: Vec<UiPort>,
    pub next_ui_id: u32,
    /// Host requests waiting for their response.
    pending: HashMap<u64, oneshot::Sender<protocol::Response>>,
    /// Requests waiting for the host to finish connecting.
    connect_waiters: Vec<oneshot::Sender<()>>,
    pub settings_waiters: Vec<oneshot::Sender<()>>,
    /// Waiting for the whole policy (`policy_ready`).
    pub policy_waiters: Vec<oneshot::Sender<()>>,
}

impl std::ops::Deref for Worker {
    type Target = WorkerState;
    fn deref(&self) -> &WorkerState {
        &self.state
    }
}

impl std::ops::DerefMut for Worker {
    fn deref_mut(&mut self) -> &mut WorkerState {
        &mut self.state
    }
}

impl Worker {
    fn new() -> Worker {
        Worker {
            state: WorkerState::new(
                concat!("ringside-extension/", env!("CARGO_PKG_VERSION")),
                ringside_core::surface::OwnExtension::new(
                    &chrome::runtime_id(),
                    &chrome::runtime_get_url(""),
                ),
                chrome::identity_redirect_url(),
            ),
            native: None,
            ui: vec![],
            next_ui_id: 1,
            pending: HashMap::new(),
            connect_waiters: vec![],
            settings_waiters: vec![],
            policy_waiters: vec![],
        }
    }
}

/// What a lower module asks of the modules above it.
pub(super) enum Up {
    /// A softphone event from the host (the call desk).
    HostEvent(Event),
    /// A call event from the phone platform's event stream (the call desk).
    PlatformCall(ringside_core::dial::CallEvent),
    /// The agent's contacts go with the session.
    ForgetContacts,
    /// Send the signed-in agent's wrap-ups written while signed out.
    FlushOutbox,
}

struct Hooks {
    broadcast: fn(),
    up: fn(Up) -> LocalBoxFuture<'static, ()>,
}

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
    static HOOKS: RefCell<Option<Hooks>> = const { RefCell::new(None) };
}

/// Creates the state once; false when it already exists.
pub(super) fn start(broadcast: fn(), up: fn(Up) -> LocalBoxFuture<'static, ()>) -> bool {
    HOOKS.with(|h| *h.borrow_mut() = Some(Hooks { broadcast, up }));
    WORKER.with(|w| {
        let mut w = w.borrow_mut();
        if w.is_some() {
            return false;
        }
        *w = Some(Worker::new());
        true
    })
}

pub(super) fn with_worker<R>(f: impl FnOnce(&mut Worker) -> R) -> Option<R> {
    WORKER.with(|w| w.borrow_mut().as_mut().map(f))
}

/// Pushes the state to every open extension page.
pub(super) fn broadcast() {
    if let Some(f) = HOOKS.with(|h| h.borrow().as_ref().map(|h| h.broadcast)) {
        f();
    }
}

/// Carries out an effect that belongs to a module above the caller.
pub(super) async fn up(effect: Up) {
    if let Some(f) = HOOKS.with(|h| h.borrow().as_ref().map(|h| h.up)) {
        f(effect).await;
    }
}

pub(super) fn now_ms() -> f64 {
    js_sys::Date::now()
}

pub(super) async fn sleep(ms: u32) {
    let (tx, rx) = oneshot::channel::<()>();
    chrome::set_timeout(ms, move || {
        let _ = tx.send(());
    });
    let _ = rx.await;
}

/// The default region: policy or options, else the browser's language.
pub(super) fn region(w: &Worker) -> String {
    w.region(&chrome::ui_language())
}

/// Resolves once policy and options have been read.
pub(super) async fn settings_ready() {
    let rx = with_worker(|w| {
        (!w.settings_loaded).then(|| {
            let (tx, rx) = oneshot::channel();
            w.settings_waiters.push(tx);
            rx
        })
    })
    .flatten();
    if let Some(rx) = rx {
        let _ = rx.await;
    }
}

/// Resolves once the whole policy is applied (managed storage, or this
/// browser session's copy of it). After a browser restart `settings_ready`
/// resolves on the site lists alone, which is enough to answer pages but
/// holds no platform URL, identity provider or mail server: restoring the
/// session or the mail connection before the policy would skip the
/// platform session.
pub(super) async fn policy_ready() {
    let rx = with_worker(|w| {
        (!w.settings_loaded_before).then(|| {
            let (tx, rx) = oneshot::channel();
            w.policy_waiters.push(tx);
            rx
        })
    })
    .flatten();
    if let Some(rx) = rx {
        let _ = rx.await;
    }
}

/// How long a request waits for a host that is still connecting (pages that
/// load while the browser starts, or right after a host restart).
const CONNECT_WAIT_MS: u32 = 5000;

/// Resolves when the host is connected, or after [`CONNECT_WAIT_MS`] if it is
/// connecting; at once when it is connected or known to be absent.
pub(super) async fn wait_connected() {
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

pub(super) fn host_connected() -> bool {
    with_worker(|w| w.link.is_connected()).unwrap_or(false)
}

/// Sends a request to the host and waits for its response.
pub(super) async fn host_request(request: Request) -> Result<Value, ErrorBody> {
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
pub(super) async fn configure_dialer() -> Result<(), ErrorBody> {
    let Some(cfg) = with_worker(|w| w.settings.dialer.clone()).flatten() else {
        return Err(ErrorBody::new(
            ErrorCode::DialerNotConfigured,
            "no dialer is configured",
        ));
    };
    // The url and platform dialers are the extension's own (`sw::call_out`).
    if !cfg.adapter.in_host() {
        return Ok(());
    }
    host_request(Request::ConfigureDialer(cfg)).await?;
    with_worker(|w| w.dialer_sent = true);
    Ok(())
}

/// A host request that needs the dialer configured on this connection.
pub(super) async fn softphone_request(request: Request) -> Result<Value, ErrorBody> {
    if !with_worker(|w| w.dialer_sent).unwrap_or(false) {
        configure_dialer().await?;
    }
    host_request(request).await
}

/// Feeds the link and carries out what it asks. Never holds the state borrow
/// while calling out, so callbacks may re-enter.
pub(super) fn drive(input: LinkInput) {
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
            let configure = with_worker(|w| {
                let connected = w.link.is_connected();
                if connected {
                    for waiter in w.connect_waiters.drain(..) {
                        let _ = waiter.send(());
                    }
                } else if !matches!(
                    w.link.status(),
                    HostStatus::Connecting | HostStatus::Reconnecting { .. }
                ) {
                    // Known absent (not installed, blocked, refused): stop waiting.
                    w.connect_waiters.clear();
                }
                if !connected {
                    // Requests in flight will not be answered by this host.
                    w.pending.clear();
                    w.dialer_sent = false;
                }
                connected && w.settings.dialer.is_some()
            })
            .unwrap_or(false);
            if configure {
                wasm_bindgen_futures::spawn_local(async {
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
        LinkAction::HostEvent(ev) => wasm_bindgen_futures::spawn_local(up(Up::HostEvent(ev))),
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
    let on_message = Closure::<dyn FnMut(JsValue)>::new(|msg: JsValue| {
        match js_text(&msg)
            .map_err(|e| e.0)
            .and_then(|t| Incoming::from_json(&t))
        {
            Ok(incoming) => drive(LinkInput::Message(incoming)),
            Err(e) => log_warn(&format!("unreadable message from the host: {e}")),
        }
    });
    port.on_message()
        .add_listener(on_message.as_ref().unchecked_ref());
    let on_disconnect = Closure::once_into_js(move |port: JsValue| {
        // lastError must be read inside the callback (Firefox: port.error).
        let last_error = chrome::disconnect_error(port.unchecked_ref());
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
