//! The popup's dial pad: one field that takes a number or searches the
//! local contacts as the agent types (name, number fragment or email), with
//! a call button per number of each match; the contact editor (create, or
//! edit one of the agent's own contacts; the worker writes it back with the
//! source's etag); and the contact store's status (first sync progress,
//! count, last sync, or why it stopped).

use std::cell::RefCell;

use ringside_core::contacts::merge::{Draft, Field, SaveAnswer};
use ringside_core::contacts::{ContactHit, ContactsView, Source};
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

/// The contact editor, when open.
struct Editor {
    /// None: a new contact.
    id: Option<String>,
    initial: Draft,
    /// The etag of the version the editor started from.
    etag: Option<String>,
    /// Distinguishes editor sessions, so typed values never leak into the next.
    session: u32,
    busy: bool,
}

thread_local! {
    static SEARCH: RefCell<Search> = RefCell::new(Search::default());
    static EDITOR: RefCell<Option<Editor>> = const { RefCell::new(None) };
    static SESSIONS: RefCell<u32> = const { RefCell::new(0) };
    /// The last save's outcome: (class: saved, partial or problem; text;
    /// announced already). Only its first render is a live region, so a
    /// screen reader says it once, not at every state update.
    static SAVED: RefCell<Option<(&'static str, String, bool)>> = const { RefCell::new(None) };
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
        let text = if v.count == 1 {
            t.message("contactsSyncedOne", &[when])
        } else {
            t.message("contactsSynced", &[thousands(v.count), when])
        };
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
    let outcome = SAVED.with(|m| {
        let mut m = m.borrow_mut();
        let out = m.clone();
        if let Some(s) = m.as_mut() {
            s.2 = true;
        }
        out
    });
    if let Some((class, text, announced)) = outcome {
        let p = dom::el(doc, "p", class, Some(&text))?;
        if !announced {
            let role = if class == "problem" {
                "alert"
            } else {
                "status"
            };
            p.set_attribute("role", role)?;
        }
        p.set_attribute("data-testid", "contact-saved")?;
        p.set_attribute("data-outcome", class)?;
        sec.add(&p)?;
    }
    let editor = EDITOR.with(|e| {
        e.borrow()
            .as_ref()
            .map(|e| (e.id.clone(), e.initial.clone(), e.session, e.busy))
    });
    if let Some(editor) = editor {
        sec.add(&editor_form(doc, t, editor)?)?;
        return Ok(sec);
    }
    let add = dom::button(doc, "contact-new", &t.get("contactNew"), None)?;
    add.set_class_name("button link");
    sec.add(&add)?;

    sec.add(&results_box(doc, t)?)?;
    Ok(sec)
}

/// The matches for the last query (and "no contact matches"), in one box
/// that a new answer replaces alone: typing does not rebuild the popup.
fn results_box(doc: &Document, t: &dyn Translate) -> Result<Element, JsError> {
    let sec = dom::el(doc, "div", "dial-results-box", None)?;
    sec.set_id("dial-results-box");
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
        if c.editable {
            let edit = dom::button(
                doc,
                "contact-edit",
                &t.get("contactEditShort"),
                Some(&t.message("contactEdit", std::slice::from_ref(&c.name))),
            )?;
            edit.set_class_name("button link");
            edit.set_attribute("data-id", &c.id)?;
            row.add(&edit)?;
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

/// Puts the newest matches in place; a full render when the box is missing.
fn show_results() {
    let Ok(doc) = page::document() else {
        return;
    };
    let t = crate::i18n::ChromeI18n;
    match (
        doc.get_element_by_id("dial-results-box"),
        results_box(&doc, &t),
    ) {
        (Some(old), Ok(new)) => {
            let _ = old.replace_with_with_node_1(&new);
        }
        _ => page::rerender(),
    }
}

fn editor_form(
    doc: &Document,
    t: &dyn Translate,
    (id, initial, session, busy): (Option<String>, Draft, u32, bool),
) -> Result<Element, JsError> {
    let form = dom::el(doc, "form", "contact-editor", None)?;
    form.set_attribute("data-testid", "contact-editor")?;
    let heading = if id.is_some() {
        "contactEditHeading"
    } else {
        "contactNewHeading"
    };
    let h = dom::el(doc, "h2", "", Some(&t.get(heading)))?;
    h.set_id("contact-editor-title");
    form.set_attribute("aria-labelledby", "contact-editor-title")?;
    form.add(&h)?;
    let keep = format!("editor-{session}");
    for (field, label, value, multiline) in [
        ("edit-name", "contactName", initial.name.clone(), false),
        (
            "edit-phones",
            "contactPhones",
            initial.phones.join("\n"),
            true,
        ),
        (
            "edit-emails",
            "contactEmails",
            initial.emails.join("\n"),
            true,
        ),
    ] {
        let l = dom::el(doc, "label", "field-label", Some(&t.get(label)))?;
        l.set_attribute("for", field)?;
        form.add(&l)?;
        let input = if multiline {
            let a = dom::el(doc, "textarea", "field", Some(&value))?;
            a.set_attribute("rows", "2")?;
            a
        } else {
            let i = dom::el(doc, "input", "field", None)?;
            i.set_attribute("type", "text")?;
            i.set_attribute("value", &value)?;
            i
        };
        input.set_id(field);
        input.set_attribute("data-keep", &keep)?;
        form.add(&input)?;
    }
    let row = dom::el(doc, "div", "button-row", None)?;
    let save = dom::button(doc, "contact-save", &t.get("contactSave"), None)?;
    save.set_attribute("type", "submit")?;
    save.set_class_name("button primary");
    if busy {
        // Not `disabled`: that would drop the keyboard focus. Presses are
        // ignored while a save runs.
        save.set_attribute("aria-disabled", "true")?;
        save.set_attribute("aria-busy", "true")?;
    }
    row.add(&save)?;
    row.add(&dom::button(
        doc,
        "contact-cancel",
        &t.get("contactCancel"),
        None,
    )?)?;
    form.add(&row)?;
    Ok(form)
}

fn field(doc: &Document, id: &str) -> String {
    doc.get_element_by_id(id)
        .and_then(|e| js_sys::Reflect::get(&e, &JsValue::from_str("value")).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Opens the editor, empty or with a match's fields.
fn open_editor(id: Option<String>) {
    let start = match &id {
        Some(id) => SEARCH.with(|s| {
            s.borrow().results.iter().find(|c| &c.id == id).map(|c| {
                let d = Draft {
                    name: c.name.clone(),
                    phones: c.phones.iter().map(|p| p.raw.clone()).collect(),
                    emails: c.emails.clone(),
                };
                (d, Some(c.etag.clone()))
            })
        }),
        None => Some((Draft::default(), None)),
    };
    let Some((initial, etag)) = start else {
        return;
    };
    let session = SESSIONS.with(|n| {
        *n.borrow_mut() += 1;
        *n.borrow()
    });
    EDITOR.with(|e| {
        *e.borrow_mut() = Some(Editor {
            id,
            initial,
            etag,
            session,
            busy: false,
        })
    });
    SAVED.with(|m| *m.borrow_mut() = None);
    page::rerender();
    if let Ok(doc) = page::document()
        && let Some(f) = doc.get_element_by_id("edit-name")
        && let Ok(h) = f.dyn_into::<web_sys::HtmlElement>()
    {
        let _ = h.focus();
    }
}

/// The editor's buttons (handled in the popup, not sent to the worker's
/// port). True when `name` was one of them.
pub fn action(name: &str, el: &Element) -> bool {
    match name {
        "contact-new" => open_editor(None),
        "contact-edit" => open_editor(el.get_attribute("data-id")),
        "contact-cancel" => {
            EDITOR.with(|e| *e.borrow_mut() = None);
            page::rerender();
            focus_field();
        }
        "contact-save" => {
            let Ok(doc) = page::document() else {
                return true;
            };
            let draft = Draft {
                name: field(&doc, "edit-name").trim().to_owned(),
                phones: lines(&field(&doc, "edit-phones")),
                emails: lines(&field(&doc, "edit-emails")),
            };
            let started = EDITOR.with(|e| {
                let mut e = e.borrow_mut();
                let ed = e.as_mut().filter(|ed| !ed.busy)?;
                ed.busy = true;
                Some((ed.id.clone(), ed.initial.clone(), ed.etag.clone()))
            });
            if let Some((id, base, etag)) = started {
                page::rerender();
                wasm_bindgen_futures::spawn_local(save(id, draft, base, etag));
            }
        }
        _ => return false,
    }
    true
}

fn failed(detail: String) -> SaveAnswer {
    SaveAnswer::Failed {
        key: "contactSaveFailed".into(),
        detail,
    }
}

async fn save(id: Option<String>, draft: Draft, base: Draft, etag: Option<String>) {
    let base = id.is_some().then_some(base);
    let edited = id.as_deref().and_then(Source::of_id);
    let message = serde_json::json!({"type": "contacts.save", "id": id, "draft": draft, "base": base, "etag": etag});
    let answer: SaveAnswer = match page::ask(&message).await {
        Ok(Some(a)) => a,
        Ok(None) => failed("unreadable answer".to_owned()),
        Err(e) => failed(e),
    };
    let t = crate::i18n::ChromeI18n;
    // Outlook's messages name Outlook where Google's name Google.
    let source = match &answer {
        SaveAnswer::Saved { contact, .. } => Source::of_id(&contact.id),
        _ => edited,
    };
    let k = |base: &str| source.unwrap_or(Source::Google).message_key(base);
    let (close, outcome) = match &answer {
        SaveAnswer::Saved { contact, lost } if lost.contains(&Field::Name) => (
            true,
            (
                "partial",
                t.message(
                    &k("contactSavedNameLost"),
                    std::slice::from_ref(&contact.name),
                ),
            ),
        ),
        SaveAnswer::Saved { .. } => (true, ("saved", t.get(&k("contactSaved")))),
        SaveAnswer::Invalid { key, subs } => (false, ("problem", t.message(key, subs))),
        SaveAnswer::ReadOnly => (true, ("problem", t.get("contactReadOnly"))),
        SaveAnswer::Gone => (true, ("problem", t.get(&k("contactGone")))),
        SaveAnswer::SignedOut => (false, ("problem", t.get("contactSaveSignedOut"))),
        SaveAnswer::Failed { key, detail } => (
            false,
            ("problem", t.message(key, std::slice::from_ref(detail))),
        ),
    };
    EDITOR.with(|e| {
        let mut e = e.borrow_mut();
        if close {
            *e = None;
        } else if let Some(ed) = e.as_mut() {
            ed.busy = false;
        }
    });
    SAVED.with(|m| *m.borrow_mut() = Some((outcome.0, outcome.1, false)));
    // The list shows the saved version (the store has it now).
    if let SaveAnswer::Saved { contact, .. } = &answer {
        SEARCH.with(|s| {
            let mut s = s.borrow_mut();
            match s.results.iter_mut().find(|c| c.id == contact.id) {
                Some(c) => *c = contact.clone(),
                None => s.results.insert(0, contact.clone()),
            }
        });
    }
    page::rerender();
    if close {
        focus_field();
    }
}

/// Puts the keyboard focus back in the dial pad's field (after the editor
/// closes, so it does not fall to the page's body).
fn focus_field() {
    if let Ok(doc) = page::document()
        && let Some(f) = doc.get_element_by_id("dial-query")
        && let Ok(h) = f.dyn_into::<web_sys::HtmlElement>()
    {
        let _ = h.focus();
    }
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
                page::ask(&serde_json::json!({"type": "contacts.search", "query": query}))
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default()
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
                show_results();
            }
        });
    });
    doc.add_event_listener_with_callback("input", handler.as_ref().unchecked_ref())?;
    handler.forget();
    Ok(())
}
