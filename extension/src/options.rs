//! The options page: the values an admin needs (extension id, redirect URI),
//! the host card and diagnostics, and the pages where Ringside is active.

use std::rc::Rc;

use ringside_core::host_link::HostStatus;
use ringside_core::surface::UiState;
use ringside_core::ui;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::{ChromeI18n, Translate};
use crate::page;

/// Fixed facts about this installation shown on the page.
pub struct Facts {
    pub extension_id: String,
    pub redirect_uri: String,
    pub browser: ringside_core::browser::Browser,
}

fn value_row(
    doc: &Document,
    t: &dyn Translate,
    label: &str,
    value: &str,
    copy_label: &str,
    testid: &str,
) -> Result<Element, JsError> {
    let row = dom::el(doc, "div", "value-row", None)?;
    row.add(&dom::el(doc, "span", "value-label", Some(label))?)?;
    let code = dom::el(doc, "code", "value", Some(value))?;
    code.set_attribute("data-testid", testid)?;
    row.add(&code)?;
    // A short visible label, and an accessible name that says what is copied.
    let copy = dom::button(doc, "copy", &t.get("copy"), Some(copy_label))?;
    copy.set_attribute("data-copy", value)?;
    row.add(&copy)?;
    Ok(row)
}

fn section(doc: &Document, heading: &str, id: &str) -> Result<Element, JsError> {
    let s = dom::el(doc, "section", "panel", None)?;
    let h = dom::el(doc, "h2", "", Some(heading))?;
    h.set_id(id);
    s.set_attribute("aria-labelledby", id)?;
    s.add(&h)?;
    Ok(s)
}

/// Renders the options page into `#app`.
pub fn render(
    doc: &Document,
    state: Option<&UiState>,
    t: &dyn Translate,
    facts: &Facts,
) -> Result<(), JsError> {
    let app = doc
        .get_element_by_id("app")
        .ok_or_else(|| JsError("#app missing".into()))?;
    let title = dom::el(doc, "h1", "brand", Some(&t.get("optionsTitle")))?;

    let about = section(doc, &t.get("aboutHeading"), "about-heading")?;
    about.add(&value_row(
        doc,
        t,
        &t.get("extensionIdLabel"),
        &facts.extension_id,
        &t.get("copyExtensionId"),
        "extension-id",
    )?)?;
    about.add(&value_row(
        doc,
        t,
        &t.get("redirectUriLabel"),
        &facts.redirect_uri,
        &t.get("copyRedirectUri"),
        "redirect-uri",
    )?)?;
    about.add(&dom::el(
        doc,
        "p",
        "muted",
        Some(&t.get("redirectUriHelp")),
    )?)?;

    let host = section(doc, &t.get("hostSectionTitle"), "host-heading")?;
    let status = state
        .map(|s| s.host.clone())
        .unwrap_or(HostStatus::Connecting);
    host.add(&dom::host_card(
        doc,
        &ui::host_view(&status, facts.browser, &facts.extension_id),
        t,
    )?)?;
    if let Some(s) = state {
        host.add(&dom::el(doc, "h3", "", Some(&t.get("diagnosticsHeading")))?)?;
        host.add(&dom::diagnostics(doc, s, t)?)?;
    }

    let pages = section(doc, &t.get("pagesHeading"), "pages-heading")?;
    pages.add(&dom::pages(
        doc,
        state.map(|s| s.pages.as_slice()).unwrap_or(&[]),
        t,
    )?)?;

    dom::replace_children(&app, &[title, about, host, pages])
}

/// Entry point called by options.js.
#[wasm_bindgen]
pub fn options_main() -> Result<(), JsValue> {
    let facts = Rc::new(Facts {
        extension_id: crate::chrome::runtime_id(),
        redirect_uri: crate::chrome::identity_redirect_url(),
        browser: page::browser(),
    });
    page::start(
        "optionsTitle",
        Rc::new(move |doc, state| render(doc, state, &ChromeI18n, &facts)),
    )?;
    Ok(())
}
