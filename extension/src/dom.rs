//! DOM rendering shared by the extension pages. Every value reaches the DOM
//! through `textContent` or an attribute, never as HTML.

use ringside_core::host_link::HostStatus;
use ringside_core::surface::{PageSession, UiState};
use ringside_core::ui::HostView;
use web_sys::{Document, Element};

use crate::error::JsError;
use crate::i18n::Translate;

/// Creates `<tag class=...>` with optional text.
pub fn el(doc: &Document, tag: &str, class: &str, text: Option<&str>) -> Result<Element, JsError> {
    let e = doc.create_element(tag)?;
    if !class.is_empty() {
        e.set_class_name(class);
    }
    if let Some(t) = text {
        e.set_text_content(Some(t));
    }
    Ok(e)
}

/// A button that carries its action in `data-action` (pages use one delegated
/// click listener) and an accessible name.
pub fn button(
    doc: &Document,
    action: &str,
    label: &str,
    aria_label: Option<&str>,
) -> Result<Element, JsError> {
    let b = el(doc, "button", "button", Some(label))?;
    b.set_attribute("type", "button")?;
    b.set_attribute("data-action", action)?;
    if let Some(a) = aria_label {
        b.set_attribute("aria-label", a)?;
    }
    Ok(b)
}

/// A decorative profile picture (the name beside it says who this is). When
/// the picture cannot load (an expired link, a 404, no network) the image
/// removes itself, so the browser's broken-image icon never shows.
pub fn avatar(doc: &Document, src: &str) -> Result<Element, JsError> {
    use wasm_bindgen::JsCast;
    let img = el(doc, "img", "avatar", None)?;
    let gone = img.clone();
    let on_error = wasm_bindgen::closure::Closure::once_into_js(move || gone.remove());
    img.add_event_listener_with_callback("error", on_error.unchecked_ref())?;
    img.set_attribute("alt", "")?;
    img.set_attribute("referrerpolicy", "no-referrer")?;
    img.set_attribute("src", src)?;
    Ok(img)
}

/// A labelled text field of a form.
pub struct Field<'a> {
    pub id: &'a str,
    /// `_locales` key of its label.
    pub label_key: &'a str,
    /// The input's `type`.
    pub kind: &'a str,
    pub autocomplete: &'a str,
    /// The form whose typing is kept across re-renders (state pushes) while
    /// the agent types: `data-keep`, in this page's memory only.
    pub keep: &'a str,
}

/// `<div class=form-row><label for=id>…</label><input id=id …></div>`.
pub fn field_row(doc: &Document, t: &dyn Translate, f: &Field) -> Result<Element, JsError> {
    let row = el(doc, "div", "form-row", None)?;
    let label = el(doc, "label", "field-label", Some(&t.get(f.label_key)))?;
    label.set_attribute("for", f.id)?;
    row.add(&label)?;
    let input = el(doc, "input", "field", None)?;
    input.set_id(f.id);
    input.set_attribute("type", f.kind)?;
    input.set_attribute("autocomplete", f.autocomplete)?;
    input.set_attribute("spellcheck", "false")?;
    input.set_attribute("data-keep", f.keep)?;
    row.add(&input)?;
    Ok(row)
}

/// Replaces the children of `parent` with `children`.
pub fn replace_children(parent: &Element, children: &[Element]) -> Result<(), JsError> {
    parent.set_text_content(None);
    for c in children {
        parent.append_child(c)?;
    }
    Ok(())
}

/// The native host status card.
pub fn host_card(doc: &Document, view: &HostView, t: &dyn Translate) -> Result<Element, JsError> {
    let card = el(doc, "section", &format!("card {}", view.tone.class()), None)?;
    card.set_attribute("role", "status")?;
    card.set_attribute("aria-live", "polite")?;
    card.set_attribute("data-testid", "host-card")?;
    let heading = el(doc, "h2", "card-title", Some(&t.text(&view.title)))?;
    heading.set_id("host-title");
    card.set_attribute("aria-labelledby", "host-title")?;
    card.add(&heading)?;
    if let Some(detail) = &view.detail {
        card.add(&el(doc, "p", "card-detail", Some(&t.text(detail)))?)?;
    }
    if let Some(cmd) = &view.command {
        let row = el(doc, "div", "command-row", None)?;
        let code = el(doc, "code", "command", Some(cmd))?;
        code.set_attribute("data-testid", "install-command")?;
        row.add(&code)?;
        let copy = button(doc, "copy", &t.get("copyCommand"), None)?;
        copy.set_attribute("data-copy", cmd)?;
        row.add(&copy)?;
        card.add(&row)?;
    }
    if view.retry {
        card.add(&button(doc, "retry", &t.get("retryNow"), None)?)?;
    }
    Ok(card)
}

/// Where calls go ("Calls open in Dialpad", "Your phone system calls you
/// first"), and, without the host, what still works and what it would add
/// (`ringside_core::dialers::calls_go`).
pub fn calls_go(
    doc: &Document,
    t: &dyn Translate,
    s: &ringside_core::settings::Settings,
    host: &HostStatus,
) -> Result<Element, JsError> {
    let connected = matches!(host, HostStatus::Connected { .. });
    let go = ringside_core::dialers::calls_go(s, connected);
    let block = el(doc, "div", "calls-go", None)?;
    block.set_attribute("data-testid", "calls-go")?;
    let p = el(doc, "p", "", Some(&t.message(&go.key, &go.subs)))?;
    p.set_attribute("data-testid", "calls-go-where")?;
    block.add(&p)?;
    if let Some(adds) = &go.host_adds {
        let a = el(doc, "p", "muted small", Some(&t.get(adds)))?;
        a.set_attribute("data-testid", "calls-go-host")?;
        block.add(&a)?;
    }
    Ok(block)
}

/// A definition list row for the diagnostics table.
fn row(doc: &Document, dl: &Element, label: &str, value: &str, id: &str) -> Result<(), JsError> {
    dl.add(&el(doc, "dt", "", Some(label))?)?;
    let dd = el(doc, "dd", "", Some(value))?;
    dd.set_attribute("data-testid", id)?;
    dl.add(&dd)?;
    Ok(())
}

/// The options page's diagnostics of the host link.
pub fn diagnostics(doc: &Document, state: &UiState, t: &dyn Translate) -> Result<Element, JsError> {
    let dl = el(doc, "dl", "diagnostics", None)?;
    let none = t.get("diagNone");
    let state_name = match &state.host {
        HostStatus::Connecting => "connecting",
        HostStatus::Connected { .. } => "connected",
        HostStatus::NotInstalled => "not_installed",
        HostStatus::Blocked => "blocked",
        HostStatus::Refused { .. } => "refused",
        HostStatus::Incompatible { .. } => "incompatible",
        HostStatus::Reconnecting { .. } => "reconnecting",
    };
    row(doc, &dl, &t.get("diagState"), state_name, "diag-state")?;
    let info = match &state.host {
        HostStatus::Connected { info } => Some(info),
        _ => None,
    };
    row(
        doc,
        &dl,
        &t.get("diagHostVersion"),
        info.map(|i| i.host_version.as_str()).unwrap_or(&none),
        "diag-host-version",
    )?;
    row(
        doc,
        &dl,
        &t.get("diagProtocol"),
        &info.map(|i| i.version.to_string()).unwrap_or(none.clone()),
        "diag-protocol",
    )?;
    row(
        doc,
        &dl,
        &t.get("diagPid"),
        &info.map(|i| i.pid.to_string()).unwrap_or(none.clone()),
        "diag-pid",
    )?;
    row(
        doc,
        &dl,
        &t.get("diagCapabilities"),
        &info
            .map(|i| i.capabilities.join(", "))
            .unwrap_or(none.clone()),
        "diag-capabilities",
    )?;
    row(
        doc,
        &dl,
        &t.get("diagConnects"),
        &state.stats.connects.to_string(),
        "diag-connects",
    )?;
    row(
        doc,
        &dl,
        &t.get("diagDrops"),
        &state.stats.drops.to_string(),
        "diag-drops",
    )?;
    row(
        doc,
        &dl,
        &t.get("diagLastError"),
        state.stats.last_error.as_deref().unwrap_or(&none),
        "diag-last-error",
    )?;
    Ok(dl)
}

/// The list of frames whose content script checked in.
pub fn pages(doc: &Document, pages: &[PageSession], t: &dyn Translate) -> Result<Element, JsError> {
    if pages.is_empty() {
        return el(doc, "p", "muted", Some(&t.get("pagesEmpty")));
    }
    let ul = el(doc, "ul", "pages", None)?;
    ul.set_attribute("data-testid", "pages")?;
    for p in pages {
        let li = el(doc, "li", "", None)?;
        li.set_attribute("data-origin", &p.origin)?;
        li.set_attribute("data-wasm", if p.wasm { "yes" } else { "no" })?;
        li.add(&el(doc, "strong", "", Some(&p.origin))?)?;
        let where_ = t.message("pagesTab", &[p.tab.to_string(), p.frame.to_string()]);
        let wasm = t.get(if p.wasm {
            "pagesWasmYes"
        } else {
            "pagesWasmNo"
        });
        let mut line = format!(" · {where_} · {wasm}");
        if let (Some(n), Some(ms)) = (p.marked, p.scan_ms) {
            line.push_str(" · ");
            line.push_str(&t.message("pagesMarked", &[n.to_string(), ms.to_string()]));
        }
        li.add(&el(doc, "span", "muted", Some(&line))?)?;
        ul.add(&li)?;
    }
    Ok(ul)
}

/// `append_child` for elements, typed so `&make()?` infers `Element`.
pub trait Add {
    fn add(&self, child: &Element) -> Result<(), JsError>;

    /// Adds the child when there is one.
    fn extend_with(&self, child: Option<Element>) -> Result<(), JsError> {
        match child {
            Some(c) => self.add(&c),
            None => Ok(()),
        }
    }
}

impl Add for Element {
    fn add(&self, child: &Element) -> Result<(), JsError> {
        self.append_child(child)?;
        Ok(())
    }
}
