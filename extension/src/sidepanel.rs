//! The side panel: who is signed in, the other party's context
//! (`contact_panel`), and whether the host is there when something is wrong.

use std::rc::Rc;

use ringside_core::host_link::HostStatus;
use ringside_core::surface::UiState;
use ringside_core::ui;
use wasm_bindgen::prelude::*;
use web_sys::Document;

use crate::dom;
use crate::error::JsError;
use crate::i18n::{ChromeI18n, Translate};
use crate::page;

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
    let title = dom::el(doc, "h1", "brand", Some(&t.get("sidePanelTitle")))?;
    let empty = dom::el(doc, "p", "empty", Some(&t.get("sidePanelEmpty")))?;
    let mut children = vec![title];
    // Who is signed in, or why not (the panel follows a sign-out at once).
    if let Some(s) = state {
        children.push(crate::account::card(
            doc,
            s,
            t,
            crate::account::Place::Popup,
        )?);
    }
    if let Some(s) = state {
        crate::contact_panel::on_state(s);
    }
    children.extend(crate::contact_panel::render(doc, t)?);
    if !crate::contact_panel::has_contact() {
        children.push(empty);
    }
    let status = state
        .map(|s| s.host.clone())
        .unwrap_or(HostStatus::Connecting);
    // The panel only mentions the host when something is wrong with it.
    if !matches!(
        status,
        HostStatus::Connected { .. } | HostStatus::Connecting
    ) {
        children.push(dom::host_card(
            doc,
            &ui::host_view(&status, browser, extension_id),
            t,
        )?);
    }
    dom::replace_children(&app, &children)
}

/// Entry point called by sidepanel.js.
#[wasm_bindgen]
pub fn sidepanel_main() -> Result<(), JsValue> {
    let browser = page::browser();
    let id = crate::chrome::runtime_id();
    page::start(
        "sidePanelTitle",
        Rc::new(move |doc, state| render(doc, state, &ChromeI18n, browser, &id)),
        Rc::new(|name, el| {
            if crate::contact_panel::action(name, el, &ChromeI18n).is_some() {
                return None;
            }
            crate::account::action(name, el)
        }),
    )?;
    Ok(())
}
