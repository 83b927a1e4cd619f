//! The toolbar popup: who is connected, and what to do when the host is not.

use std::rc::Rc;

use ringside_core::host_link::HostStatus;
use ringside_core::surface::UiState;
use ringside_core::ui;
use wasm_bindgen::prelude::*;
use web_sys::Document;

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::{ChromeI18n, Translate};
use crate::page;

/// Renders the popup into `#app`.
pub fn render(
    doc: &Document,
    state: Option<&UiState>,
    t: &dyn Translate,
    browser: ringside_core::browser::Browser,
    extension_id: &str,
) -> Result<(), JsError> {
    let app = doc
        .get_element_by_id("app")
        .ok_or_else(|| JsError("#app missing".into()))?;
    let header = dom::el(doc, "header", "bar", None)?;
    header.add(&dom::el(doc, "h1", "brand", Some(&t.get("extName")))?)?;
    let settings = dom::button(doc, "options", &t.get("openSettings"), None)?;
    settings.set_class_name("button link");
    header.add(&settings)?;
    let status = state
        .map(|s| s.host.clone())
        .unwrap_or(HostStatus::Connecting);
    let card = dom::host_card(doc, &ui::host_view(&status, browser, extension_id), t)?;
    dom::replace_children(&app, &[header, card])
}

/// Entry point called by popup.js.
#[wasm_bindgen]
pub fn popup_main() -> Result<(), JsValue> {
    let browser = page::browser();
    let id = crate::chrome::runtime_id();
    page::start(
        "popupTitle",
        Rc::new(move |doc, state| render(doc, state, &ChromeI18n, browser, &id)),
    )?;
    Ok(())
}
