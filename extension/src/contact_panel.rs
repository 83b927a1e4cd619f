//! The side panel's contact context: a search box (name, email or phone),
//! the contact card with the "in a meeting" badge, and the shared emails,
//! documents and events, each section loading on its own with a
//! placeholder. The panel follows the live or incoming call. The worker
//! fetches (`context.*` messages); everything from an API is text here.

use std::cell::RefCell;
use std::collections::BTreeMap;

use ringside_core::context::section::{ContactAnswer, PresenceAnswer, SectionAnswer};
use ringside_core::context::{Contact, ContactQuery, Integration, Presence};
use ringside_core::surface::UiState;
use serde_json::json;
use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::Translate;
use crate::page;

#[derive(Default)]
struct Panel {
    query: Option<ContactQuery>,
    query_message: Option<String>,
    /// None while loading.
    contact: Option<ContactAnswer>,
    /// Absent: loading.
    sections: BTreeMap<Integration, SectionAnswer>,
    presence: Option<PresenceAnswer>,
    /// Shown under a section after Connect failed, or after Disconnect.
    notes: BTreeMap<Integration, String>,
    /// The call whose other party the panel shows (so it follows a new one).
    call: Option<String>,
    /// The last "show contact" click acted on.
    request: u32,
    generation: u32,
}

thread_local! {
    static PANEL: RefCell<Panel> = RefCell::new(Panel::default());
}

fn integration_name(i: Integration) -> &'static str {
    match i {
        Integration::Gmail => "gmail",
        Integration::Drive => "drive",
        Integration::Calendar => "calendar",
    }
}

fn integration_from(name: &str) -> Option<Integration> {
    Integration::ALL
        .into_iter()
        .find(|i| integration_name(*i) == name)
}

/// The contact's addresses (or the one typed).
fn emails_of(contact: &ContactAnswer, query: &ContactQuery) -> Vec<String> {
    match (contact, query) {
        (ContactAnswer::Found { contact }, _) if !contact.emails.is_empty() => {
            contact.emails.clone()
        }
        (_, ContactQuery::Email(e)) => vec![e.clone()],
        _ => vec![],
    }
}

/// Looks the contact up, then loads every section and the badge at once.
pub fn show(query: ContactQuery) {
    let generation = PANEL.with(|p| {
        let mut p = p.borrow_mut();
        p.generation += 1;
        p.query = Some(query.clone());
        p.query_message = None;
        p.contact = None;
        p.sections.clear();
        p.presence = None;
        p.notes.clear();
        p.generation
    });
    page::rerender();
    wasm_bindgen_futures::spawn_local(async move {
        let contact = match page::ask(&json!({"type": "context.contact", "query": query})).await {
            Ok(v) => v.unwrap_or(ContactAnswer::Unknown),
            Err(m) => ContactAnswer::Failed {
                key: "sectionOffline".into(),
                detail: m,
            },
        };
        let emails = emails_of(&contact, &query);
        if !update(generation, |p| p.contact = Some(contact)) {
            return;
        }
        for i in Integration::ALL {
            load_section(generation, i, emails.clone());
        }
        if let Some(email) = emails.first().cloned() {
            wasm_bindgen_futures::spawn_local(load_presence(generation, email));
        }
    });
}

/// The "in a meeting" badge for the contact's first address.
async fn load_presence(generation: u32, email: String) {
    let presence = page::ask(&json!({"type": "context.presence", "email": email}))
        .await
        .ok()
        .flatten()
        .unwrap_or(PresenceAnswer::Unknown);
    update(generation, |p| p.presence = Some(presence));
}

fn load_section(generation: u32, i: Integration, emails: Vec<String>) {
    wasm_bindgen_futures::spawn_local(async move {
        let answer = match page::ask(
            &json!({"type": "context.section", "integration": i, "emails": emails}),
        )
        .await
        {
            Ok(v) => v.unwrap_or(SectionAnswer::Failed {
                key: "sectionRefused".into(),
                detail: "unreadable answer".into(),
            }),
            Err(m) => SectionAnswer::Failed {
                key: "sectionOffline".into(),
                detail: m,
            },
        };
        update(generation, |p| {
            p.sections.insert(i, answer);
        });
    });
}

/// Applies a result if it belongs to the contact still shown; renders.
fn update(generation: u32, f: impl FnOnce(&mut Panel)) -> bool {
    let current = PANEL.with(|p| {
        let mut p = p.borrow_mut();
        if p.generation == generation {
            f(&mut p);
            true
        } else {
            false
        }
    });
    if current {
        page::rerender();
    }
    current
}

/// Before each render: a "show contact" click, or a new live or incoming
/// call, puts that person in the panel.
pub fn on_state(state: &UiState) {
    if let Some((n, q)) = &state.panel_request {
        let new = PANEL.with(|p| {
            let mut p = p.borrow_mut();
            let new = p.request != *n;
            p.request = *n;
            new
        });
        if new {
            let q = q.clone();
            crate::chrome::set_timeout(0, move || show(q));
            return;
        }
    }
    let Some(call) = &state.calls.live else {
        return;
    };
    let key = format!("{}|{}", call.number, call.started_ms);
    let new = PANEL.with(|p| p.borrow().call.as_deref() != Some(key.as_str()));
    if !new {
        return;
    }
    PANEL.with(|p| p.borrow_mut().call = Some(key));
    if let Some(q) = ContactQuery::from_call(&call.number) {
        // After this render (show renders itself).
        crate::chrome::set_timeout(0, move || show(q));
    }
}

fn field(doc: &Document, id: &str) -> String {
    doc.get_element_by_id(id)
        .and_then(|e| js_sys::Reflect::get(&e, &"value".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// The panel's actions; None when the name is not one of them.
pub fn action(name: &str, el: &Element, t: &dyn Translate) -> Option<()> {
    match name {
        "contact-search" => {
            let doc = page::document().ok()?;
            match ContactQuery::parse(&field(&doc, "contact-query")) {
                Some(q) => show(q),
                None => {
                    PANEL
                        .with(|p| p.borrow_mut().query_message = Some(t.get("contactSearchEmpty")));
                    page::rerender();
                }
            }
            Some(())
        }
        "context-connect" | "context-disconnect" => {
            let i = integration_from(&el.get_attribute("data-integration")?)?;
            let connect = name == "context-connect";
            let generation = PANEL.with(|p| p.borrow().generation);
            let done_note = if connect {
                None
            } else {
                Some(t.get(disconnected_key(i)))
            };
            wasm_bindgen_futures::spawn_local(async move {
                let kind = if connect {
                    "context.connect"
                } else {
                    "context.disconnect"
                };
                let r =
                    page::ask::<serde::de::IgnoredAny>(&json!({"type": kind, "integration": i}))
                        .await;
                let emails = PANEL.with(|p| {
                    let p = p.borrow();
                    match (&p.contact, &p.query) {
                        (Some(c), Some(q)) => emails_of(c, q),
                        _ => vec![],
                    }
                });
                update(generation, |p| {
                    p.sections.remove(&i);
                    match (&r, &done_note) {
                        (Err(m), _) => {
                            p.notes.insert(i, m.clone());
                        }
                        (Ok(_), Some(n)) => {
                            p.notes.insert(i, n.clone());
                        }
                        (Ok(_), None) => {
                            p.notes.remove(&i);
                        }
                    }
                });
                load_section(generation, i, emails.clone());
                if i == Integration::Calendar
                    && let Some(email) = emails.first().cloned()
                {
                    load_presence(generation, email).await;
                }
            });
            Some(())
        }
        _ => None,
    }
}

fn disconnected_key(i: Integration) -> &'static str {
    match i {
        Integration::Gmail => "disconnectedGmail",
        Integration::Drive => "disconnectedDrive",
        Integration::Calendar => "disconnectedCalendar",
    }
}

/// A date (and time) in the browser's language; all-day dates stay the
/// calendar date they are (UTC midnight), times are local.
fn date_time(ms: f64, date_only: bool) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    let opts = js_sys::Object::new();
    let set = |k: &str, v: &str| {
        let _ = js_sys::Reflect::set(&opts, &k.into(), &v.into());
    };
    set("dateStyle", "medium");
    if date_only {
        set("timeZone", "UTC");
    } else {
        set("timeStyle", "short");
    }
    d.to_locale_string(&crate::i18n::ui_language(), &opts)
        .into()
}

fn when(rfc3339: &str) -> String {
    let date_only = rfc3339.len() == 10;
    match ringside_core::context::google::rfc3339_ms(rfc3339) {
        Some(ms) => date_time(ms as f64, date_only),
        None => rfc3339.to_owned(),
    }
}

fn time_el(doc: &Document, text: &str, datetime: &str) -> Result<Element, JsError> {
    let e = dom::el(doc, "time", "item-date muted small", Some(text))?;
    e.set_attribute("datetime", datetime)?;
    Ok(e)
}

fn link(doc: &Document, text: &str, href: &str, testid: &str) -> Result<Element, JsError> {
    let a = dom::el(doc, "a", "see-all", Some(text))?;
    // Only web links from here; anything else is shown as text.
    if href.starts_with("https://") {
        a.set_attribute("href", href)?;
        a.set_attribute("target", "_blank")?;
        a.set_attribute("rel", "noopener noreferrer")?;
    }
    a.set_attribute("data-testid", testid)?;
    Ok(a)
}

fn contact_card(
    doc: &Document,
    t: &dyn Translate,
    p: &Panel,
    query: &ContactQuery,
) -> Result<Element, JsError> {
    let card = dom::el(doc, "section", "card contact-card", None)?;
    card.set_attribute("data-testid", "contact-card")?;
    card.set_attribute("aria-labelledby", "contact-name")?;
    let Some(answer) = &p.contact else {
        card.set_attribute("aria-busy", "true")?;
        let h = dom::el(doc, "h2", "contact-name placeholder", Some(query.text()))?;
        h.set_id("contact-name");
        card.add(&h)?;
        card.add(&dom::el(doc, "p", "muted", Some(&t.get("contactLoading")))?)?;
        return Ok(card);
    };
    let unknown = Contact {
        name: query.text().to_owned(),
        ..Contact::default()
    };
    let (c, note) = match answer {
        ContactAnswer::Found { contact } => (contact, None),
        ContactAnswer::Unknown => (&unknown, Some(t.get("contactUnknown"))),
        ContactAnswer::NotGoogle {
            contact: Some(contact),
        } => (contact, None),
        ContactAnswer::NotGoogle { contact: None } => (&unknown, None),
        ContactAnswer::SignedOut => (&unknown, Some(t.get("contextSignedOut"))),
        ContactAnswer::NeedsConnect => (&unknown, Some(t.get("contactNeedsAccess"))),
        ContactAnswer::Failed { key, detail } => {
            (&unknown, Some(t.message(key, std::slice::from_ref(detail))))
        }
    };
    let head = dom::el(doc, "div", "contact-head", None)?;
    if let Some(photo) = c.photo.as_deref().filter(|u| u.starts_with("https://")) {
        head.add(&dom::avatar(doc, photo)?)?;
    }
    let who = dom::el(doc, "div", "who", None)?;
    let h = dom::el(doc, "h2", "contact-name", Some(&c.name))?;
    h.set_id("contact-name");
    who.add(&h)?;
    let org = [c.title.as_deref(), c.organization.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    if !org.is_empty() {
        let o = dom::el(doc, "p", "contact-org muted", Some(&org))?;
        o.set_attribute("data-testid", "contact-org")?;
        who.add(&o)?;
    }
    if let Some(PresenceAnswer::Known {
        presence: Presence::InMeeting { event, until },
    }) = &p.presence
    {
        let text = match event {
            Some(name) => t.message("inMeetingNamed", std::slice::from_ref(name)),
            None => t.get("inMeetingBusy"),
        };
        let badge = dom::el(doc, "p", "badge busy", Some(&text))?;
        badge.set_attribute("role", "status")?;
        badge.set_attribute("data-testid", "meeting-badge")?;
        badge.set_attribute("title", &t.message("inMeetingUntil", &[when(until)]))?;
        who.add(&badge)?;
    }
    head.add(&who)?;
    card.add(&head)?;
    let details = dom::el(doc, "ul", "contact-details", None)?;
    for v in c.phones.iter().chain(c.emails.iter()) {
        details.add(&dom::el(doc, "li", "", Some(v))?)?;
    }
    if !c.phones.is_empty() || !c.emails.is_empty() {
        card.add(&details)?;
    }
    if let Some(n) = note {
        let p = dom::el(doc, "p", "muted small", Some(&n))?;
        p.set_attribute("data-testid", "contact-note")?;
        card.add(&p)?;
    }
    Ok(card)
}

#[path = "contact_panel_sections.rs"]
mod sections;
use sections::section_el;

/// The search box, the card and the sections.
pub fn render(doc: &Document, t: &dyn Translate) -> Result<Vec<Element>, JsError> {
    let form = dom::el(doc, "form", "contact-search", None)?;
    form.set_attribute("role", "search")?;
    let row = dom::el(doc, "div", "form-row", None)?;
    let label = dom::el(
        doc,
        "label",
        "field-label",
        Some(&t.get("contactSearchLabel")),
    )?;
    label.set_attribute("for", "contact-query")?;
    row.add(&label)?;
    let input = dom::el(doc, "input", "field", None)?;
    input.set_id("contact-query");
    input.set_attribute("type", "search")?;
    input.set_attribute("autocomplete", "off")?;
    input.set_attribute("data-keep", "panel")?;
    input.set_attribute("placeholder", &t.get("contactSearchPlaceholder"))?;
    row.add(&input)?;
    form.add(&row)?;
    let b = dom::button(doc, "contact-search", &t.get("contactSearchButton"), None)?;
    b.set_attribute("type", "submit")?;
    form.add(&b)?;
    let mut out = vec![];
    PANEL.with(|p| -> Result<(), JsError> {
        let p = p.borrow();
        if let Some(m) = &p.query_message {
            let e = dom::el(doc, "p", "problem", Some(m))?;
            e.set_attribute("role", "alert")?;
            form.add(&e)?;
        }
        out.push(form.clone());
        let Some(query) = &p.query else {
            return Ok(());
        };
        out.push(contact_card(doc, t, &p, query)?);
        if matches!(p.contact, Some(ContactAnswer::NotGoogle { .. })) {
            let n = dom::el(doc, "p", "card note", Some(&t.get("contextGoogleOnly")))?;
            n.set_attribute("data-testid", "google-only")?;
            out.push(n);
            return Ok(());
        }
        if p.contact.is_none() {
            return Ok(());
        }
        let who = match &p.contact {
            Some(ContactAnswer::Found { contact }) => contact.name.clone(),
            _ => query.text().to_owned(),
        };
        for i in Integration::ALL {
            out.push(section_el(
                doc,
                t,
                i,
                p.sections.get(&i),
                p.notes.get(&i),
                &who,
            )?);
        }
        Ok(())
    })?;
    Ok(out)
}

/// Whether the panel shows someone.
pub fn has_contact() -> bool {
    PANEL.with(|p| p.borrow().query.is_some())
}
