//! Gmail over IMAP with an app password, on the options page: the connect /
//! disconnect form. (The side panel shows the emails: `contact_panel`.)
//! The password is read from its field when Connect is pressed and sent once
//! to the service worker (which hands it to the host); it is never stored by
//! the page. Server values reach the DOM as text only.

use std::cell::RefCell;

use ringside_core::mail::{self, AppPassword, MailFailure};
use ringside_core::surface::{UiCommand, UiState};
use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::Translate;
use crate::page;

#[derive(Debug, Default)]
struct Local {
    /// The password (normalized) a warning was shown for: a second press
    /// sends it anyway (another provider's passwords may look different).
    warned_for: Option<String>,
    /// The warning or input problem to show under the form.
    form_message: Option<String>,
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
    form.add(&dom::field_row(
        doc,
        t,
        &dom::Field {
            id: "mail-email",
            label_key: "mailEmailLabel",
            kind: "email",
            autocomplete: "email",
            keep: "mail",
        },
    )?)?;
    form.add(&dom::field_row(
        doc,
        t,
        &dom::Field {
            id: "mail-password",
            label_key: "mailPasswordLabel",
            kind: "password",
            autocomplete: "off",
            keep: "mail",
        },
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

/// The page actions handled here (both pages share the delegated handler).
pub fn action(name: &str, t: &dyn Translate) -> Option<Option<UiCommand>> {
    let doc = page::document().ok()?;
    match name {
        "mail-connect" => Some(connect(&doc, t)),
        "mail-disconnect" => Some(Some(UiCommand::MailDisconnect)),
        _ => None,
    }
}
