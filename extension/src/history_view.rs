//! The popup's call history: the agent's last calls, newest first, each with
//! the contact's name (or the number), which way it went and how it ended,
//! how long it lasted, when, and its wrap-up; a search field; and per call
//! "call back" and "show contact". The worker keeps the history
//! (`ringside_core::history`) and answers `history.search`; this asks again
//! when the popup opens, as the agent types, and when the worker says the
//! history changed (`UiState::history`).

use std::cell::RefCell;

use ringside_core::calls::{self, Direction};
use ringside_core::history::{Entry, Outcome};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::Translate;
use crate::icons::{self, Icon};
use crate::page;

#[derive(Default)]
struct View {
    query: String,
    entries: Vec<Entry>,
    /// Bumped per question: only the newest answer is shown.
    seq: u64,
    /// The worker's history version the list answers (None: not asked yet).
    version: Option<u64>,
    answered: bool,
}

thread_local! {
    static VIEW: RefCell<View> = RefCell::new(View::default());
}

/// Asks the worker for the calls matching the field; shows the newest answer.
fn ask() {
    let (query, seq) = VIEW.with(|v| {
        let mut v = v.borrow_mut();
        v.seq += 1;
        (v.query.clone(), v.seq)
    });
    wasm_bindgen_futures::spawn_local(async move {
        let entries: Vec<Entry> =
            page::ask(&serde_json::json!({"type": "history.search", "query": query}))
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
        let current = VIEW.with(|v| {
            let mut v = v.borrow_mut();
            if v.seq != seq {
                return false;
            }
            v.entries = entries;
            v.answered = true;
            true
        });
        if current {
            show_list();
        }
    });
}

/// The worker's history `version` (from its state): asks again when it changed.
pub fn follow(version: u64) {
    let stale = VIEW.with(|v| {
        let mut v = v.borrow_mut();
        let stale = v.version != Some(version);
        v.version = Some(version);
        stale
    });
    if stale {
        ask();
    }
}

/// The history section: heading, search field and the list.
pub fn render(doc: &Document, t: &dyn Translate, locale: &str) -> Result<Element, JsError> {
    let sec = dom::el(doc, "section", "history", None)?;
    sec.set_attribute("aria-labelledby", "history-heading")?;
    sec.set_attribute("data-testid", "history")?;
    let h = dom::el(doc, "h2", "", Some(&t.get("historyTitle")))?;
    h.set_id("history-heading");
    sec.add(&h)?;
    let input = dom::el(doc, "input", "field", None)?;
    input.set_id("history-query");
    input.set_attribute("type", "search")?;
    input.set_attribute("autocomplete", "off")?;
    input.set_attribute("data-keep", "history")?;
    input.set_attribute("aria-label", &t.get("historySearch"))?;
    input.set_attribute("placeholder", &t.get("historySearch"))?;
    input.set_attribute("aria-controls", "history-list")?;
    sec.add(&input)?;
    sec.add(&list_box(doc, t, locale)?)?;
    Ok(sec)
}

fn who(e: &Entry) -> String {
    e.name.clone().unwrap_or_else(|| {
        if e.display.is_empty() {
            e.number.clone()
        } else {
            e.display.clone()
        }
    })
}

thread_local! {
    /// One date formatter for every row (making one per row was most of a
    /// search's time; docs/bench.md).
    static DATES: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

fn when(ms: f64, locale: &str) -> String {
    let format = DATES.with(|d| {
        d.borrow_mut()
            .get_or_insert_with(|| {
                let opts = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&opts, &"dateStyle".into(), &"short".into());
                let _ = js_sys::Reflect::set(&opts, &"timeStyle".into(), &"short".into());
                let locales = js_sys::Array::of1(&JsValue::from_str(locale));
                js_sys::Intl::DateTimeFormat::new(&locales, &opts).format()
            })
            .clone()
    });
    format
        .call1(&JsValue::NULL, &js_sys::Date::new(&JsValue::from_f64(ms)))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn row(doc: &Document, t: &dyn Translate, e: &Entry, locale: &str) -> Result<Element, JsError> {
    let li = dom::el(doc, "li", "history-entry", None)?;
    li.set_attribute("data-testid", "history-entry")?;
    li.set_attribute("data-id", &e.id)?;
    li.set_attribute("data-outcome", e.outcome.message_key())?;
    let name = who(e);
    let head = dom::el(doc, "p", "history-who", None)?;
    let icon = match (e.outcome, e.direction) {
        (Outcome::Missed, _) => Icon::Missed,
        (_, Direction::Incoming) => Icon::Incoming,
        (_, Direction::Outgoing) => Icon::Outgoing,
    };
    head.add(&icons::svg(doc, icon)?)?;
    head.add(&dom::el(doc, "span", "history-name", Some(&name))?)?;
    li.add(&head)?;
    let direction = match e.direction {
        Direction::Incoming => "historyIncoming",
        Direction::Outgoing => "historyOutgoing",
    };
    let mut facts = vec![t.get(direction), t.get(e.outcome.message_key())];
    if e.outcome == Outcome::Answered {
        facts.push(calls::format_duration(e.talk_seconds));
    }
    facts.push(when(e.ended_ms, locale));
    if e.name.is_some() {
        facts.insert(0, e.display.clone());
    }
    let detail = dom::el(doc, "p", "muted small", Some(&facts.join(" · ")))?;
    detail.set_attribute("data-testid", "history-detail")?;
    li.add(&detail)?;
    if let Some(w) = &e.wrapup {
        let mut text = w.tags.join(", ");
        if !w.note.is_empty() {
            if !text.is_empty() {
                text.push_str(" — ");
            }
            text.push_str(&w.note);
        }
        if !text.is_empty() {
            let p = dom::el(doc, "p", "small history-wrapup", Some(&text))?;
            p.set_attribute("data-testid", "history-wrapup")?;
            li.add(&p)?;
        }
    }
    // A caller known only by a SIP address has no number to call back or look up.
    if let Some(number) = &e.dial {
        let buttons = dom::el(doc, "div", "button-row", None)?;
        let again = icons::button(
            doc,
            "dial-number",
            Icon::Phone,
            &t.message("historyCallBack", std::slice::from_ref(&name)),
        )?;
        again.set_attribute("data-number", number)?;
        buttons.add(&again)?;
        let show = icons::button(
            doc,
            "history-contact",
            Icon::Person,
            &t.message("historyShowContact", std::slice::from_ref(&name)),
        )?;
        show.set_attribute("data-number", number)?;
        buttons.add(&show)?;
        li.add(&buttons)?;
    }
    Ok(li)
}

/// The list for the last answer, in one box a new answer replaces alone.
fn list_box(doc: &Document, t: &dyn Translate, locale: &str) -> Result<Element, JsError> {
    let sec = dom::el(doc, "div", "history-box", None)?;
    sec.set_id("history-box");
    let (query, entries, answered) = VIEW.with(|v| {
        let v = v.borrow();
        (v.query.clone(), v.entries.clone(), v.answered)
    });
    let list = dom::el(doc, "ul", "history-list", None)?;
    list.set_id("history-list");
    list.set_attribute("aria-label", &t.get("historyTitle"))?;
    list.set_attribute("data-testid", "history-list")?;
    list.set_attribute("data-query", &query)?;
    for e in &entries {
        list.add(&row(doc, t, e, locale)?)?;
    }
    sec.add(&list)?;
    if entries.len() >= ringside_core::history::SHOWN {
        let more = dom::el(doc, "p", "muted small", Some(&t.get("historyMore")))?;
        more.set_attribute("data-testid", "history-more")?;
        sec.add(&more)?;
    }
    if answered && entries.is_empty() {
        let key = if query.trim().is_empty() {
            "historyEmpty"
        } else {
            "historyNoMatch"
        };
        let none = dom::el(doc, "p", "muted small", Some(&t.get(key)))?;
        none.set_attribute("role", "status")?;
        none.set_attribute("data-testid", "history-none")?;
        sec.add(&none)?;
    }
    Ok(sec)
}

fn show_list() {
    let Ok(doc) = page::document() else {
        return;
    };
    let locale = crate::i18n::ui_language();
    match (
        doc.get_element_by_id("history-box"),
        list_box(&doc, &crate::i18n::ChromeI18n, &locale),
    ) {
        (Some(old), Ok(new)) => {
            let _ = old.replace_with_with_node_1(&new);
        }
        _ => page::rerender(),
    }
}

/// "Show contact": the side panel opens now (the click is the user gesture
/// the browser asks for) over the tab `tab`, and the worker tells it whom.
pub fn show_contact(el: &Element, tab: Option<i32>) {
    let Some(number) = el.get_attribute("data-number") else {
        return;
    };
    if let Some(tab) = tab {
        let opening = crate::chrome::open_side_panel(tab);
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = opening.await {
                crate::error::log_warn(&format!("side panel: {e}"));
            }
        });
    }
    wasm_bindgen_futures::spawn_local(async move {
        let _ = page::ask::<serde_json::Value>(
            &serde_json::json!({"type": "contact.show", "number": number}),
        )
        .await;
    });
}

/// Searches as the agent types (an `input` listener on the document).
pub fn listen(doc: &Document) -> Result<(), JsError> {
    let handler = Closure::<dyn FnMut(web_sys::Event)>::new(|ev: web_sys::Event| {
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        if target.id() != "history-query" {
            return;
        }
        let query = js_sys::Reflect::get(&target, &JsValue::from_str("value"))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        VIEW.with(|v| v.borrow_mut().query = query);
        ask();
    });
    doc.add_event_listener_with_callback("input", handler.as_ref().unchecked_ref())?;
    handler.forget();
    Ok(())
}
