//! Gmail over IMAP with an app password, on the pages: the options page's
//! connect / disconnect form, and the side panel's shared-emails section.
//! The password is read from its field when Connect is pressed and sent once
//! to the service worker (which hands it to the host); it is never stored by
//! the page. Server values reach the DOM as text only.

use std::cell::RefCell;

use ringside_core::mail::{self, AppPassword, MailFailure, MailSearchResult};
use ringside_core::surface::{UiCommand, UiState};
use serde_json::json;
use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::Translate;
use crate::page;

/// What the side panel shows for the contact being looked at.
#[derive(Debug, Clone, Default)]
enum Shared {
    #[default]
    Idle,
    Loading,
    Found(MailSearchResult),
    /// The failure and the server's words.
    Failed(MailFailure, String),
}

#[derive(Debug, Default)]
struct Local {
    /// The password (normalized) a warning was shown for: a second press
    /// sends it anyway (another provider's passwords may look different).
    warned_for: Option<String>,
    /// The warning or input problem to show under the form.
    form_message: Option<String>,
    /// The contact the panel shows, and its shared emails.
    contact: Option<String>,
    shared: Shared,
    /// Why the query was not searched.
    query_message: Option<String>,
    /// Bumped per search: a slower earlier answer never replaces a newer one.
    generation: u32,
}

thread_local! {
    static LOCAL: RefCell<Local> = RefCell::new(Local::default());
}

fn field(doc: &Document, id: &str) -> String {
    doc.get_element_by_id(id)
        .and_then(|e| js_sys::Reflect::get(&e, &"value".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn labelled_input(
    doc: &Document,
    t: &dyn Translate,
    id: &str,
    label_key: &str,
    kind: &str,
    autocomplete: &str,
) -> Result<Element, JsError> {
    let row = dom::el(doc, "div", "form-row", None)?;
    let label = dom::el(doc, "label", "field-label", Some(&t.get(label_key)))?;
    label.set_attribute("for", id)?;
    row.add(&label)?;
    let input = dom::el(doc, "input", "field", None)?;
    input.set_id(id);
    input.set_attribute("type", kind)?;
    input.set_attribute("autocomplete", autocomplete)?;
    input.set_attribute("spellcheck", "false")?;
    // Kept across re-renders (state pushes) while the agent types.
    input.set_attribute("data-keep", "mail")?;
    row.add(&input)?;
    Ok(row)
}

fn failure_text(t: &dyn Translate, failure: MailFailure, detail: &str) -> String {
    t.message(failure.message_key(), &[detail.to_owned()])
}

/// The options page section: connected (with Disconnect), or the form.
pub fn options_section(
    doc: &Document,
    state: &UiState,
    t: &dyn Translate,
) -> Result<Element, JsError> {
    let sec = dom::el(doc, "section", "panel mail", None)?;
    let h = dom::el(doc, "h2", "", Some(&t.get("mailHeading")))?;
    h.set_id("mail-heading");
    sec.set_attribute("aria-labelledby", "mail-heading")?;
    sec.set_attribute("data-testid", "mail-source")?;
    sec.add(&h)?;
    let view = &state.mail;
    let status = dom::el(doc, "div", "mail-status", None)?;
    status.set_attribute("role", "status")?;
    if let Some(email) = &view.connected {
        let p = dom::el(
            doc,
            "p",
            "",
            Some(&t.message("mailConnected", std::slice::from_ref(email))),
        )?;
        p.set_attribute("data-testid", "mail-connected")?;
        status.add(&p)?;
    } else if let Some(email) = &view.connecting {
        status.add(&dom::el(
            doc,
            "p",
            "",
            Some(&t.message("mailConnecting", std::slice::from_ref(email))),
        )?)?;
    }
    sec.add(&status)?;
    if let Some(failure) = view.failure {
        let p = dom::el(
            doc,
            "p",
            "problem",
            Some(&failure_text(
                t,
                failure,
                view.detail.as_deref().unwrap_or_default(),
            )),
        )?;
        p.set_attribute("role", "alert")?;
        p.set_attribute("data-testid", "mail-failure")?;
        p.set_attribute("data-failure", failure.message_key())?;
        sec.add(&p)?;
    }
    if view.connected.is_some() {
        let b = dom::button(doc, "mail-disconnect", &t.get("mailDisconnect"), None)?;
        sec.add(&b)?;
        sec.add(&dom::el(
            doc,
            "p",
            "muted small",
            Some(&t.get("mailDisconnectHelp")),
        )?)?;
        return Ok(sec);
    }
    sec.add(&dom::el(doc, "p", "muted", Some(&t.get("mailIntro")))?)?;
    // A form so Enter in a field presses Connect (submit is prevented by page.rs).
    let form = dom::el(doc, "form", "mail-form", None)?;
    form.set_attribute("aria-labelledby", "mail-heading")?;
    form.add(&labelled_input(
        doc,
        t,
        "mail-email",
        "mailEmailLabel",
        "email",
        "email",
    )?)?;
    form.add(&labelled_input(
        doc,
        t,
        "mail-password",
        "mailPasswordLabel",
        "password",
        "off",
    )?)?;
    let message = LOCAL.with(|l| l.borrow().form_message.clone());
    let warned = LOCAL.with(|l| l.borrow().warned_for.is_some());
    if let Some(m) = message {
        let p = dom::el(doc, "p", "problem", Some(&m))?;
        p.set_attribute("role", "alert")?;
        p.set_attribute("data-testid", "mail-warning")?;
        form.add(&p)?;
    }
    let label = if warned {
        "mailConnectAnyway"
    } else {
        "mailConnect"
    };
    let b = dom::button(doc, "mail-connect", &t.get(label), None)?;
    b.set_attribute("type", "submit")?;
    b.set_class_name("button primary");
    if view.connecting.is_some() {
        b.set_attribute("disabled", "")?;
    }
    form.add(&b)?;
    sec.add(&form)?;
    Ok(sec)
}

/// "Connect": checks the shape of the password first; nothing is sent until
/// the agent has seen a warning (a second press sends it anyway).
fn connect(doc: &Document, t: &dyn Translate) -> Option<UiCommand> {
    let email = field(doc, "mail-email").trim().to_owned();
    let typed = field(doc, "mail-password");
    if !email.contains('@') {
        LOCAL.with(|l| l.borrow_mut().form_message = Some(t.get("mailEnterEmail")));
        page::rerender();
        return None;
    }
    let (cleaned, warning) = mail::normalize_app_password(&typed);
    let seen = LOCAL.with(|l| l.borrow().warned_for.as_deref() == Some(cleaned.as_str()));
    if let Some(w) = warning.filter(|_| !seen) {
        let text = match w {
            mail::AppPasswordWarning::Length { got } => {
                t.message(w.message_key(), &[got.to_string()])
            }
            mail::AppPasswordWarning::NotLetters => t.get(w.message_key()),
        };
        LOCAL.with(|l| {
            let mut l = l.borrow_mut();
            l.warned_for = Some(cleaned);
            l.form_message = Some(text);
        });
        page::rerender();
        return None;
    }
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        l.warned_for = None;
        l.form_message = None;
    });
    // The field is emptied now; the value travels once, to the worker.
    if let Some(input) = doc.get_element_by_id("mail-password") {
        let _ = js_sys::Reflect::set(&input, &"value".into(), &"".into());
    }
    Some(UiCommand::MailConnect {
        email,
        password: AppPassword::new(cleaned),
    })
}

/// The side panel's contact search (an email address until the directory
/// lookup exists) and the shared-emails section.
pub fn panel_sections(
    doc: &Document,
    state: &UiState,
    t: &dyn Translate,
) -> Result<Vec<Element>, JsError> {
    let form = dom::el(doc, "form", "contact-search", None)?;
    form.set_attribute("role", "search")?;
    form.add(&labelled_input(
        doc,
        t,
        "contact-query",
        "contactSearchLabel",
        "email",
        "off",
    )?)?;
    let b = dom::button(doc, "contact-search", &t.get("contactSearchButton"), None)?;
    b.set_attribute("type", "submit")?;
    form.add(&b)?;
    if let Some(m) = LOCAL.with(|l| l.borrow().query_message.clone()) {
        let p = dom::el(doc, "p", "problem", Some(&m))?;
        p.set_attribute("role", "alert")?;
        form.add(&p)?;
    }
    let (contact, shared) = LOCAL.with(|l| {
        let l = l.borrow();
        (l.contact.clone(), l.shared.clone())
    });
    let Some(contact) = contact else {
        return Ok(vec![form]);
    };
    let sec = dom::el(doc, "section", "panel shared-emails", None)?;
    let h = dom::el(doc, "h2", "", Some(&t.get("sharedEmailsHeading")))?;
    h.set_id("shared-emails-heading");
    sec.set_attribute("aria-labelledby", "shared-emails-heading")?;
    sec.set_attribute("data-testid", "shared-emails")?;
    sec.add(&h)?;
    let who = dom::el(doc, "p", "contact-email", Some(&contact))?;
    who.set_attribute("data-testid", "contact")?;
    sec.add(&who)?;
    let Some(account) = state.mail.connected.clone() else {
        let failure = state.mail.failure.filter(|f| f.disconnects());
        let text = match failure {
            Some(f) => failure_text(t, f, ""),
            None => t.message("sharedEmailsConnect", std::slice::from_ref(&contact)),
        };
        let class = if failure.is_some() {
            "problem"
        } else {
            "muted"
        };
        let p = dom::el(doc, "p", class, Some(&text))?;
        p.set_attribute("data-testid", "shared-emails-disconnected")?;
        if failure.is_some() {
            p.set_attribute("role", "alert")?;
        }
        sec.add(&p)?;
        sec.add(&dom::button(
            doc,
            "options",
            &t.get("mailOpenSettings"),
            None,
        )?)?;
        return Ok(vec![form, sec]);
    };
    match shared {
        Shared::Idle | Shared::Loading => {
            sec.set_attribute("aria-busy", "true")?;
            let p = dom::el(
                doc,
                "p",
                "muted placeholder",
                Some(&t.get("sharedEmailsLoading")),
            )?;
            sec.add(&p)?;
        }
        Shared::Failed(f, detail) => {
            let p = dom::el(doc, "p", "problem", Some(&failure_text(t, f, &detail)))?;
            p.set_attribute("role", "alert")?;
            p.set_attribute("data-testid", "shared-emails-failure")?;
            sec.add(&p)?;
        }
        Shared::Found(found) if found.messages.is_empty() => {
            let p = dom::el(
                doc,
                "p",
                "muted",
                Some(&t.message("sharedEmailsNone", std::slice::from_ref(&contact))),
            )?;
            p.set_attribute("data-testid", "shared-emails-none")?;
            sec.add(&p)?;
        }
        Shared::Found(found) => {
            let list = dom::el(doc, "ol", "shared-list", None)?;
            list.set_attribute(
                "aria-label",
                &t.message("sharedEmailsList", std::slice::from_ref(&contact)),
            )?;
            for m in &found.messages {
                let li = dom::el(doc, "li", "shared-item", None)?;
                li.set_attribute("data-testid", "shared-email")?;
                let subject = if m.subject.trim().is_empty() {
                    t.get("sharedEmailsNoSubject")
                } else {
                    m.subject.clone()
                };
                li.add(&dom::el(doc, "span", "shared-subject", Some(&subject))?)?;
                let time = dom::el(
                    doc,
                    "time",
                    "shared-date muted small",
                    Some(&local_date(&m.date)),
                )?;
                time.set_attribute("datetime", &m.date)?;
                li.add(&time)?;
                list.add(&li)?;
            }
            sec.add(&list)?;
            let a = dom::el(doc, "a", "see-all", Some(&t.get("sharedEmailsSeeAll")))?;
            a.set_attribute("href", &found.see_all)?;
            a.set_attribute("target", "_blank")?;
            a.set_attribute("rel", "noopener noreferrer")?;
            a.set_attribute("data-testid", "shared-emails-see-all")?;
            sec.add(&a)?;
        }
    }
    sec.add(&dom::el(
        doc,
        "p",
        "muted small source",
        Some(&t.message("sharedEmailsSource", &[account])),
    )?)?;
    Ok(vec![form, sec])
}

/// A date in the browser's language and time zone; the raw value when it
/// does not parse.
fn local_date(rfc3339: &str) -> String {
    let d = js_sys::Date::new(&rfc3339.into());
    if d.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&opts, &"timeStyle".into(), &"short".into());
    d.to_locale_string(&crate::chrome::ui_language(), &opts)
        .into()
}

/// Whether the panel shows a contact.
pub fn has_contact() -> bool {
    LOCAL.with(|l| l.borrow().contact.is_some())
}

/// Looks up the messages shared with `contact` through the worker; the
/// panel renders again when the answer arrives.
fn search(contact: String) {
    let generation = LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        l.generation += 1;
        l.contact = Some(contact.clone());
        l.shared = Shared::Loading;
        l.generation
    });
    wasm_bindgen_futures::spawn_local(async move {
        let reply = crate::chrome::send_message(&json!({
            "type": "mail.search",
            "addresses": [contact],
        }))
        .await;
        let shared = match reply {
            Ok(r) if r["ok"] == true => serde_json::from_value(r["result"].clone())
                .map(Shared::Found)
                .unwrap_or_else(|e| Shared::Failed(MailFailure::Other, e.to_string())),
            Ok(r) => Shared::Failed(
                serde_json::from_value(r["failure"].clone()).unwrap_or(MailFailure::Other),
                r["detail"].as_str().unwrap_or_default().to_owned(),
            ),
            Err(e) => Shared::Failed(MailFailure::HostMissing, e.to_string()),
        };
        LOCAL.with(|l| {
            let mut l = l.borrow_mut();
            if l.generation == generation {
                l.shared = shared;
            }
        });
        page::rerender();
    });
}

/// Called before each panel render: starts the search for a contact that
/// has none under way (a new contact, or the source just connected).
pub fn on_state(state: &UiState) {
    let again = LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        if state.mail.connected.is_none() {
            // Disconnected (or revoked): searched again once reconnected.
            l.shared = Shared::Idle;
        }
        match (&l.contact, &l.shared) {
            (Some(c), Shared::Idle) if state.mail.connected.is_some() => Some(c.clone()),
            _ => None,
        }
    });
    if let Some(c) = again {
        search(c);
    }
}

/// The page actions handled here (both pages share the delegated handler).
pub fn action(name: &str, t: &dyn Translate) -> Option<Option<UiCommand>> {
    let doc = page::document().ok()?;
    match name {
        "mail-connect" => Some(connect(&doc, t)),
        "mail-disconnect" => Some(Some(UiCommand::MailDisconnect)),
        "contact-search" => {
            let q = field(&doc, "contact-query").trim().to_lowercase();
            if q.contains('@') {
                LOCAL.with(|l| {
                    let mut l = l.borrow_mut();
                    l.query_message = None;
                    l.contact = Some(q);
                    // Searched now when the source is connected (on_state).
                    l.shared = Shared::Idle;
                });
            } else {
                LOCAL
                    .with(|l| l.borrow_mut().query_message = Some(t.get("contactSearchEmailOnly")));
            }
            page::rerender();
            Some(None)
        }
        _ => None,
    }
}
