//! The popup's dial pad: one field that takes a number or searches the
//! local contacts as the agent types (name, number fragment or email), with
//! a call button per number of each match; and the contact store's status
//! (first sync progress, count, last sync, or why it stopped).

use std::cell::RefCell;

use ringside_core::contacts::{ContactHit, ContactsView};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::Translate;
use crate::page;

#[derive(Default)]
struct Search {
    /// The query the results are for.
    query: String,
    results: Vec<ContactHit>,
    /// Bumped per keystroke: only the newest answer is shown.
    seq: u64,
}

thread_local! {
    static SEARCH: RefCell<Search> = RefCell::new(Search::default());
}

/// Numbers shown per contact (the others are found by searching them).
const PHONES_SHOWN: usize = 3;

/// A count in the agent's language (1,234 · 1 234 · 1.234).
fn thousands(n: u64, locale: &str) -> String {
    js_sys::Number::from(n as f64)
        .to_locale_string(locale)
        .as_string()
        .unwrap_or_else(|| n.to_string())
}

/// The store's status line (nothing before the first sync starts).
pub fn status(
    doc: &Document,
    v: &ContactsView,
    t: &dyn Translate,
    now_ms: f64,
    locale: &str,
) -> Result<Option<Element>, JsError> {
    let thousands = |n: u64| thousands(n, locale);
    let p = dom::el(doc, "div", "contacts-status small", None)?;
    p.set_attribute("role", "status")?;
    p.set_attribute("data-testid", "contacts-status")?;
    if let Some((fetched, total)) = v.syncing {
        let text = match total {
            Some(n) => t.message("contactsSyncingOf", &[thousands(fetched), thousands(n)]),
            None => t.message("contactsSyncing", &[thousands(fetched.max(v.count))]),
        };
        p.add(&dom::el(doc, "span", "", Some(&text))?)?;
        if let Some(n) = total.filter(|n| *n > 0) {
            let bar = dom::el(doc, "progress", "", None)?;
            bar.set_attribute("max", &n.to_string())?;
            bar.set_attribute("value", &fetched.min(n).to_string())?;
            bar.set_attribute("aria-label", &t.get("contactsProgressLabel"))?;
            p.add(&bar)?;
        }
        p.set_attribute("data-state", "syncing")?;
    } else if let Some((key, subs)) = &v.error {
        let e = dom::el(doc, "span", "problem", Some(&t.message(key, subs)))?;
        p.add(&e)?;
        p.set_attribute("data-state", "error")?;
    } else if let Some(at) = v.synced_ms {
        let minutes = ((now_ms - at as f64) / 60_000.0).max(0.0) as u64;
        let when = if minutes == 0 {
            t.get("contactsSyncedNow")
        } else {
            t.message("contactsSyncedMinutes", &[minutes.to_string()])
        };
        let text = t.message("contactsSynced", &[thousands(v.count), when]);
        p.add(&dom::el(doc, "span", "", Some(&text))?)?;
        p.set_attribute("data-state", "synced")?;
        p.set_attribute("data-count", &v.count.to_string())?;
    } else {
        return Ok(None);
    }
    Ok(Some(p))
}

/// The dial pad: the field, a call button, and the matches.
pub fn render(doc: &Document, t: &dyn Translate) -> Result<Element, JsError> {
    let sec = dom::el(doc, "section", "dialpad", None)?;
    sec.set_attribute("aria-labelledby", "dialpad-label")?;
    let form = dom::el(doc, "form", "dial-row", None)?;
    let label = dom::el(doc, "label", "field-label", Some(&t.get("dialpadLabel")))?;
    label.set_id("dialpad-label");
    label.set_attribute("for", "dial-query")?;
    form.add(&label)?;
    let input = dom::el(doc, "input", "field", None)?;
    input.set_id("dial-query");
    input.set_attribute("type", "search")?;
    input.set_attribute("autocomplete", "off")?;
    input.set_attribute("data-keep", "dialpad")?;
    input.set_attribute("placeholder", &t.get("dialpadPlaceholder"))?;
    input.set_attribute("aria-controls", "dial-results")?;
    form.add(&input)?;
    let call = dom::button(doc, "dial-typed", &t.get("dialpadCall"), None)?;
    call.set_attribute("type", "submit")?;
    call.set_class_name("button primary");
    form.add(&call)?;
    sec.add(&form)?;

    let (query, results) = SEARCH.with(|s| {
        let s = s.borrow();
        (s.query.clone(), s.results.clone())
    });
    let list = dom::el(doc, "ul", "dial-results", None)?;
    list.set_id("dial-results");
    list.set_attribute("aria-label", &t.get("dialpadResults"))?;
    list.set_attribute("data-testid", "dial-results")?;
    list.set_attribute("data-query", &query)?;
    for c in &results {
        let li = dom::el(doc, "li", "dial-result", None)?;
        li.set_attribute("data-testid", "dial-result")?;
        li.set_attribute("data-id", &c.id)?;
        let who = dom::el(doc, "p", "dial-name", Some(&c.name))?;
        li.add(&who)?;
        let detail = [c.organization.clone(), c.emails.first().cloned()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
        if !detail.is_empty() {
            li.add(&dom::el(doc, "p", "muted small", Some(&detail))?)?;
        }
        let row = dom::el(doc, "div", "button-row", None)?;
        for phone in c.phones.iter().take(PHONES_SHOWN) {
            let b = dom::button(
                doc,
                "dial-number",
                &phone.raw,
                Some(&t.message("callContactNumber", &[c.name.clone(), phone.raw.clone()])),
            )?;
            b.set_attribute("data-number", &phone.dial)?;
            row.add(&b)?;
        }
        if c.phones.is_empty() {
            row.add(&dom::el(
                doc,
                "span",
                "muted small",
                Some(&t.get("contactNoNumber")),
            )?)?;
        }
        li.add(&row)?;
        list.add(&li)?;
    }
    sec.add(&list)?;
    if !query.trim().is_empty() && results.is_empty() {
        let none = dom::el(
            doc,
            "p",
            "muted small",
            Some(&t.message("dialpadNoMatch", std::slice::from_ref(&query))),
        )?;
        none.set_attribute("role", "status")?;
        sec.add(&none)?;
    }
    Ok(sec)
}

/// The typed text, for the call button.
pub fn typed(doc: &Document) -> String {
    doc.get_element_by_id("dial-query")
        .and_then(|e| js_sys::Reflect::get(&e, &JsValue::from_str("value")).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Searches as the agent types (an `input` listener on the document).
pub fn listen(doc: &Document) -> Result<(), JsError> {
    let handler = Closure::<dyn FnMut(web_sys::Event)>::new(|ev: web_sys::Event| {
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        if target.id() != "dial-query" {
            return;
        }
        let Ok(doc) = page::document() else {
            return;
        };
        let query = typed(&doc);
        let seq = SEARCH.with(|s| {
            let mut s = s.borrow_mut();
            s.seq += 1;
            s.seq
        });
        wasm_bindgen_futures::spawn_local(async move {
            let results: Vec<ContactHit> = if query.is_empty() {
                vec![]
            } else {
                match crate::chrome::send_message(
                    &serde_json::json!({"type": "contacts.search", "query": query}),
                )
                .await
                {
                    Ok(r) if r["ok"] == true => {
                        serde_json::from_value(r["result"].clone()).unwrap_or_default()
                    }
                    _ => vec![],
                }
            };
            let current = SEARCH.with(|s| {
                let mut s = s.borrow_mut();
                if s.seq != seq {
                    return false;
                }
                s.query = query;
                s.results = results;
                true
            });
            if current {
                page::rerender();
            }
        });
    });
    doc.add_event_listener_with_callback("input", handler.as_ref().unchecked_ref())?;
    handler.forget();
    Ok(())
}
