//! What every extension page shares: the `ui` port to the service worker, the
//! document language and title, and one delegated click handler for buttons.

use std::cell::RefCell;
use std::rc::Rc;

use ringside_core::browser::Browser;
use ringside_core::surface::{UI_PORT, UiCommand, UiState};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::chrome::{self, Port};
use crate::error::{JsError, log_warn};
use crate::i18n::{ChromeI18n, Translate};

/// Renders a page for a state (or for "no state yet" with `None`).
pub type Render = Rc<dyn Fn(&Document, Option<&UiState>) -> Result<(), JsError>>;

thread_local! {
    static PORT: RefCell<Option<Port>> = const { RefCell::new(None) };
}

pub fn document() -> Result<Document, JsError> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsError("no document".into()))
}

/// The browser this page runs in, for install commands.
pub fn browser() -> Browser {
    Browser::from_brands(&chrome::browser_brands())
}

/// Sets `<html lang>` and the title, then renders and subscribes to state.
pub fn start(title_key: &str, render: Render) -> Result<(), JsError> {
    let doc = document()?;
    if let Some(html) = doc.document_element() {
        html.set_attribute("lang", &chrome::ui_language())?;
    }
    doc.set_title(&ChromeI18n.get(title_key));
    render(&doc, None)?;
    install_click_handler(&doc)?;
    connect(render);
    Ok(())
}

fn connect(render: Render) {
    let port = match chrome::connect(UI_PORT) {
        Ok(p) => p,
        Err(e) => {
            log_warn(&format!(
                "cannot reach the service worker: {}",
                JsError::from(e)
            ));
            return;
        }
    };
    let r = render.clone();
    let on_message =
        Closure::<dyn FnMut(JsValue)>::new(
            move |msg: JsValue| match serde_wasm_bindgen::from_value::<UiState>(msg) {
                Ok(state) => {
                    if let Err(e) = document().and_then(|d| r(&d, Some(&state))) {
                        log_warn(&format!("render failed: {e}"));
                    }
                }
                Err(e) => log_warn(&format!("unreadable state: {e}")),
            },
        );
    port.on_message()
        .add_listener(on_message.as_ref().unchecked_ref());
    // The page lives as long as its document; so does this listener.
    on_message.forget();
    let on_disconnect = Closure::once_into_js(move |_p: JsValue| {
        // The service worker restarted: reconnect shortly.
        PORT.with(|p| p.borrow_mut().take());
        chrome::set_timeout(200, move || connect(render));
    });
    port.on_disconnect()
        .add_listener(on_disconnect.unchecked_ref());
    PORT.with(|p| *p.borrow_mut() = Some(port));
}

fn send(cmd: &UiCommand) {
    PORT.with(|p| {
        if let Some(port) = p.borrow().as_ref() {
            let sent = serde_wasm_bindgen::to_value(cmd)
                .map_err(JsError::from)
                .and_then(|m| Ok(port.post_message(&m)?));
            if let Err(e) = sent {
                log_warn(&format!("cannot reach the service worker: {e}"));
            }
        }
    });
}

fn install_click_handler(doc: &Document) -> Result<(), JsError> {
    let handler = Closure::<dyn FnMut(web_sys::Event)>::new(|ev: web_sys::Event| {
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        let Ok(Some(button)) = target.closest("[data-action]") else {
            return;
        };
        match button.get_attribute("data-action").as_deref() {
            Some("retry") => send(&UiCommand::Retry),
            Some("copy") => {
                if let (Some(text), Some(w)) =
                    (button.get_attribute("data-copy"), web_sys::window())
                {
                    let _ = w.navigator().clipboard().write_text(&text);
                    button.set_text_content(Some(&ChromeI18n.get("copied")));
                }
            }
            Some("options") => {
                if let Err(e) = chrome::open_options_page() {
                    log_warn(&format!("cannot open settings: {}", JsError::from(e)));
                }
            }
            _ => {}
        }
    });
    doc.add_event_listener_with_callback("click", handler.as_ref().unchecked_ref())?;
    handler.forget();
    Ok(())
}
