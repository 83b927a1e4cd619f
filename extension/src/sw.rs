//! Service worker adapter. sw.js registers the chrome.* listeners synchronously
//! at top level and forwards to these exports once the wasm is initialized.
//! The state machine is `ringside_core::host_link`; this module only carries
//! out its actions (open/close the native port, timers, broadcasts).

use std::cell::RefCell;

use ringside_core::host_link::{HostLink, LinkAction, LinkInput};
use ringside_core::protocol::{HOST_NAME, Incoming};
use ringside_core::surface::{
    self, OneShot, PageSession, Sender, SenderKind, UI_PORT, UiCommand, UiState,
};
use wasm_bindgen::prelude::*;

use crate::chrome::{self, Port};
use crate::error::{JsError, js_to_json, json_to_js, log_warn};

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
        });
        true
    });
    if fresh {
        drive(LinkInput::Connect);
    }
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
        LinkAction::StatusChanged => broadcast(),
        LinkAction::Deliver(resp) => {
            log_warn(&format!("response to an unknown request {:?}", resp.id));
        }
        LinkAction::HostEvent(ev) => {
            log_warn(&format!("unhandled host event {}", ev.event));
        }
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

fn current_state(w: &Worker) -> UiState {
    UiState {
        host: w.link.status().clone(),
        stats: w.link.stats().clone(),
        pages: w.pages.clone(),
    }
}

fn state_js(state: &UiState) -> Result<JsValue, JsError> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    Ok(serde::Serialize::serialize(state, &ser)?)
}

/// Pushes the state to every open extension page.
fn broadcast() {
    let targets = with_worker(|w| {
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
    let on_message = Closure::<dyn FnMut(JsValue)>::new(|msg: JsValue| {
        match serde_wasm_bindgen::from_value::<UiCommand>(msg) {
            Ok(UiCommand::Retry) => drive(LinkInput::Connect),
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
    // A page opening is a good moment to retry a host that was missing.
    let connected = with_worker(|w| w.link.is_connected()).unwrap_or(false);
    if !connected {
        drive(LinkInput::Connect);
    }
}

/// `runtime.onMessage`: one-shot messages; the reply is returned.
#[wasm_bindgen]
pub fn sw_on_message(message: JsValue, sender: JsValue) -> Result<JsValue, JsValue> {
    let sender: Sender = serde_wasm_bindgen::from_value(sender).map_err(JsError::from)?;
    let own = with_worker(|w| w.own_id.clone()).unwrap_or_default();
    let kind = surface::classify_sender(&sender, &own);
    let msg: OneShot = serde_wasm_bindgen::from_value(message).map_err(JsError::from)?;
    match (msg, kind) {
        (OneShot::ContentHello { wasm }, SenderKind::ContentScript { tab, frame, origin }) => {
            with_worker(|w| {
                surface::record_page(
                    &mut w.pages,
                    PageSession {
                        tab,
                        frame,
                        origin,
                        wasm,
                    },
                )
            });
            broadcast();
            Ok(state_js_ack()?)
        }
        (OneShot::State, SenderKind::ExtensionPage) => {
            let state = with_worker(|w| current_state(w))
                .ok_or_else(|| JsError("the service worker is starting".into()))?;
            Ok(state_js(&state)?)
        }
        (_, _) => Err(JsError("message refused: untrusted sender".into()).into()),
    }
}

fn state_js_ack() -> Result<JsValue, JsError> {
    #[derive(serde::Serialize)]
    struct Ack {
        ok: bool,
    }
    Ok(serde_wasm_bindgen::to_value(&Ack { ok: true })?)
}
