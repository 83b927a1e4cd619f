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

/// Page-specific buttons: `data-action` and the element → a command to send.
pub type Actions = Rc<dyn Fn(&str, &Element) -> Option<UiCommand>>;

thread_local! {
    static PORT: RefCell<Option<Port>> = const { RefCell::new(None) };
    static LAST: RefCell<Option<(Render, Option<UiState>)>> = const { RefCell::new(None) };
    static TITLE_KEY: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Sets `<html lang>` and the title in the page's language.
fn set_language_and_title(doc: &Document) -> Result<(), JsError> {
    if let Some(html) = doc.document_element() {
        html.set_attribute("lang", &crate::i18n::ui_language())?;
    }
    let key = TITLE_KEY.with(|k| k.borrow().clone());
    doc.set_title(&ChromeI18n.get(&key));
    Ok(())
}

/// Renders, keeping what the agent is typing: fields marked `data-keep`
/// get their value back when the re-rendered field has the same `id` and
/// `data-keep`, and focus returns to the element that had it.
fn render_keeping(render: &Render, doc: &Document, state: Option<&UiState>) -> Result<(), JsError> {
    let value = JsValue::from_str("value");
    let checked = JsValue::from_str("checked");
    let mut kept = vec![];
    let fields = doc.query_selector_all("[data-keep][id]")?;
    for i in 0..fields.length() {
        let Some(el) = fields.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        kept.push((
            el.id(),
            el.get_attribute("data-keep").unwrap_or_default(),
            js_sys::Reflect::get(&el, &value).unwrap_or(JsValue::UNDEFINED),
            js_sys::Reflect::get(&el, &checked).unwrap_or(JsValue::UNDEFINED),
        ));
    }
    let focused = doc
        .active_element()
        .map(|e| e.id())
        .filter(|id| !id.is_empty());
    render(doc, state)?;
    for (id, keep, v, c) in kept {
        if let Some(el) = doc.get_element_by_id(&id)
            && el.get_attribute("data-keep").as_deref() == Some(keep.as_str())
        {
            let _ = js_sys::Reflect::set(&el, &value, &v);
            if c.as_bool().is_some() {
                let _ = js_sys::Reflect::set(&el, &checked, &c);
            }
        }
    }
    if let Some(el) = focused.and_then(|id| doc.get_element_by_id(&id))
        && let Ok(h) = el.dyn_into::<web_sys::HtmlElement>()
    {
        let _ = h.focus();
    }
    Ok(())
}

/// Renders the last state again (after page-local data changed).
pub fn rerender() {
    let last = LAST.with(|l| l.borrow().clone());
    if let (Some((render, state)), Ok(doc)) = (last, document())
        && let Err(e) = render_keeping(&render, &doc, state.as_ref())
    {
        log_warn(&format!("render failed: {e}"));
    }
}

pub fn document() -> Result<Document, JsError> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsError("no document".into()))
}

/// The browser this page runs in, for install commands.
pub fn browser() -> Browser {
    Browser::detect(&chrome::runtime_get_url(""), &chrome::browser_brands())
}

/// Sets `<html lang>` and the title, then renders and subscribes to state.
pub fn start(title_key: &str, render: Render, actions: Actions) -> Result<(), JsError> {
    let doc = document()?;
    TITLE_KEY.with(|k| *k.borrow_mut() = title_key.to_owned());
    set_language_and_title(&doc)?;
    LAST.with(|l| *l.borrow_mut() = Some((render.clone(), None)));
    render(&doc, None)?;
    install_click_handler(&doc, actions)?;
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
                    let lang = state.settings.language.clone();
                    LAST.with(|l| *l.borrow_mut() = Some((r.clone(), Some(state))));
                    if lang == crate::i18n::forced_language() {
                        rerender();
                    } else {
                        // Policy forces (or stopped forcing) a language: load it, then render.
                        wasm_bindgen_futures::spawn_local(async move {
                            crate::i18n::follow_language(lang.as_deref()).await;
                            if let Ok(doc) = document() {
                                let _ = set_language_and_title(&doc);
                            }
                            rerender();
                        });
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

/// Asks the service worker a one-shot question (`runtime.sendMessage`):
/// `Ok(Some(answer))`, `Ok(None)` when the answer has not the expected shape,
/// or `Err` with why it failed (the worker's refusal, or no worker). The
/// answer is read straight from the JS reply with serde_wasm_bindgen, the
/// deserializer `UiState` already uses: decoding it from a JSON value as
/// well would put a second copy of every answer type in the UI module.
pub async fn ask<T: serde::de::DeserializeOwned>(
    message: &serde_json::Value,
) -> Result<Option<T>, String> {
    #[derive(serde::Deserialize)]
    struct Status {
        ok: bool,
        #[serde(default)]
        message: Option<String>,
    }
    let reply = chrome::send_message_js(message)
        .await
        .map_err(|e| e.to_string())?;
    let status: Status =
        serde_wasm_bindgen::from_value(reply.clone()).map_err(|e| e.to_string())?;
    if !status.ok {
        return Err(status.message.unwrap_or_default());
    }
    let result =
        js_sys::Reflect::get(&reply, &JsValue::from_str("result")).unwrap_or(JsValue::NULL);
    Ok(serde_wasm_bindgen::from_value(result).ok())
}

pub fn send(cmd: &UiCommand) {
    PORT.with(|p| {
        if let Some(port) = p.borrow().as_ref() {
            // Through JSON: commands may carry JSON values (options), which
            // serde_wasm_bindgen would turn into Maps.
            let sent = serde_json::to_value(cmd)
                .map_err(JsError::from)
                .and_then(|v| crate::error::json_to_js(&v))
                .and_then(|m| Ok(port.post_message(&m)?));
            if let Err(e) = sent {
                log_warn(&format!("cannot reach the service worker: {e}"));
            }
        }
    });
}

fn install_click_handler(doc: &Document, actions: Actions) -> Result<(), JsError> {
    let handler = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
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
            Some(other) => {
                if let Some(cmd) = actions(other, &button) {
                    send(&cmd);
                }
            }
            None => {}
        }
    });
    doc.add_event_listener_with_callback("click", handler.as_ref().unchecked_ref())?;
    handler.forget();
    // Forms exist so Enter presses their submit button (a click, handled
    // above); they never navigate.
    let submit =
        Closure::<dyn FnMut(web_sys::Event)>::new(|ev: web_sys::Event| ev.prevent_default());
    doc.add_event_listener_with_callback("submit", submit.as_ref().unchecked_ref())?;
    submit.forget();
    Ok(())
}
