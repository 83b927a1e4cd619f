//! The side panel's sections (shared emails, documents, events): each one's
//! heading with its gear, placeholders while loading, the items, or why there
//! are none. Part of [`super`], in a file of its own.

use ringside_core::context::Integration;
use ringside_core::context::section::{SectionAnswer, SectionData};
use web_sys::{Document, Element};

use super::{date_time, integration_name, link, time_el, when};
use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::Translate;

/// One integration's section: its heading bar, the note, then what the
/// worker answered (or placeholders while it has not).
pub(super) fn section_el(
    doc: &Document,
    t: &dyn Translate,
    i: Integration,
    answer: Option<&SectionAnswer>,
    note: Option<&String>,
    who: &str,
) -> Result<Element, JsError> {
    let id = format!("section-{}", integration_name(i));
    let sec = section_head(doc, t, i, &id, answer, note)?;
    match answer {
        None => loading(doc, t, &sec)?,
        Some(SectionAnswer::Ready {
            data,
            fetched_ms,
            offline,
        }) => {
            if *offline {
                let minutes =
                    ringside_core::context::section::age_minutes(*fetched_ms, js_sys::Date::now());
                let p = dom::el(
                    doc,
                    "p",
                    "note small",
                    Some(&t.message("sectionOfflineAge", &[minutes.to_string()])),
                )?;
                p.set_attribute("data-testid", "section-offline")?;
                sec.add(&p)?;
            }
            ready(doc, t, i, &id, &sec, data, who)?;
        }
        Some(other) => not_ready(doc, t, i, &sec, other, who)?,
    }
    Ok(sec)
}

/// The section element with its heading, the disconnect gear when the
/// integration is connected, and the worker's note.
fn section_head(
    doc: &Document,
    t: &dyn Translate,
    i: Integration,
    id: &str,
    answer: Option<&SectionAnswer>,
    note: Option<&String>,
) -> Result<Element, JsError> {
    let (heading_key, _) = i.keys();
    let sec = dom::el(doc, "section", "panel context-section", None)?;
    sec.set_attribute("aria-labelledby", &format!("{id}-heading"))?;
    sec.set_attribute("data-testid", id)?;
    let bar = dom::el(doc, "div", "section-bar", None)?;
    let h = dom::el(doc, "h2", "", Some(&t.get(heading_key)))?;
    h.set_id(&format!("{id}-heading"));
    bar.add(&h)?;
    let connected = matches!(answer, Some(SectionAnswer::Ready { data, .. }) if !matches!(data, SectionData::ImapEmails { .. }))
        || matches!(answer, Some(SectionAnswer::Failed { .. }));
    if connected {
        let gear = crate::icons::button(
            doc,
            "context-disconnect",
            crate::icons::Icon::Gear,
            &t.get(&format!("disconnect{}", capital(i))),
        )?;
        gear.set_class_name("button icon-button gear");
        gear.set_attribute("data-integration", integration_name(i))?;
        bar.add(&gear)?;
    }
    sec.add(&bar)?;
    if let Some(n) = note {
        let p = dom::el(doc, "p", "note small", Some(n))?;
        p.set_attribute("role", "status")?;
        p.set_attribute("data-testid", "section-note")?;
        sec.add(&p)?;
    }
    Ok(sec)
}

/// Skeleton rows while the worker has not answered.
fn loading(doc: &Document, t: &dyn Translate, sec: &Element) -> Result<(), JsError> {
    sec.set_attribute("aria-busy", "true")?;
    for _ in 0..3 {
        sec.add(&dom::el(doc, "div", "skeleton", None)?)?;
    }
    sec.add(&dom::el(
        doc,
        "p",
        "visually-hidden",
        Some(&t.get("sectionLoading")),
    )?)?;
    Ok(())
}

/// A list row: title, date shown, machine-readable date.
type Row = (String, String, String);

/// A ready section: its items (or that there are none) and the "see all" link.
fn ready(
    doc: &Document,
    t: &dyn Translate,
    i: Integration,
    id: &str,
    sec: &Element,
    data: &SectionData,
    who: &str,
) -> Result<(), JsError> {
    let (rows, testid, more_key, href): (Vec<Row>, &str, &str, &String) = match data {
        SectionData::Emails { items, see_all } => (
            items
                .iter()
                .map(|m| {
                    let iso = ringside_core::context::google::ms_to_rfc3339(m.date_ms);
                    (m.subject.clone(), date_time(m.date_ms as f64, false), iso)
                })
                .collect(),
            "shared-email",
            "sharedEmailsSeeAll",
            see_all,
        ),
        SectionData::ImapEmails {
            items,
            see_all,
            account,
        } => {
            sec.add(&dom::el(
                doc,
                "p",
                "muted small source",
                Some(&t.message("sharedEmailsSource", std::slice::from_ref(account))),
            )?)?;
            (
                items
                    .iter()
                    .map(|m| (m.subject.clone(), when(&m.date), m.date.clone()))
                    .collect(),
                "shared-email",
                "sharedEmailsSeeAll",
                see_all,
            )
        }
        SectionData::Docs { items, see_all } => (
            items
                .iter()
                .map(|d| {
                    (
                        d.title.clone(),
                        t.message("editedOn", &[when(&d.modified)]),
                        d.modified.clone(),
                    )
                })
                .collect(),
            "shared-doc",
            "sharedDocsSeeAll",
            see_all,
        ),
        SectionData::Events { items, open } => (
            items
                .iter()
                .map(|e| (e.name.clone(), when(&e.start), e.start.clone()))
                .collect(),
            "shared-event",
            "openCalendar",
            open,
        ),
    };
    if rows.is_empty() {
        let key = format!("noShared{}", capital(i));
        let p = dom::el(doc, "p", "muted", Some(&t.message(&key, &[who.to_owned()])))?;
        p.set_attribute("data-testid", "section-empty")?;
        sec.add(&p)?;
    } else {
        sec.add(&item_list(doc, t, rows, testid)?)?;
    }
    sec.add(&link(doc, &t.get(more_key), href, &format!("{id}-more"))?)?;
    Ok(())
}

/// The items of a ready section, newest first as the worker sent them.
fn item_list(
    doc: &Document,
    t: &dyn Translate,
    rows: Vec<Row>,
    testid: &str,
) -> Result<Element, JsError> {
    let ol = dom::el(doc, "ol", "item-list", None)?;
    for (title, date, datetime) in rows {
        let li = dom::el(doc, "li", "item", None)?;
        li.set_attribute("data-testid", testid)?;
        let title = if title.trim().is_empty() {
            t.get("sharedEmailsNoSubject")
        } else {
            title
        };
        li.add(&dom::el(doc, "span", "item-title", Some(&title))?)?;
        li.add(&time_el(doc, &date, &datetime)?)?;
        ol.add(&li)?;
    }
    Ok(ol)
}

/// A section with nothing to list: connect, no email, signed out, failed.
fn not_ready(
    doc: &Document,
    t: &dyn Translate,
    i: Integration,
    sec: &Element,
    answer: &SectionAnswer,
    who: &str,
) -> Result<(), JsError> {
    match answer {
        SectionAnswer::NeedsConnect => {
            sec.add(&dom::el(
                doc,
                "p",
                "muted",
                Some(&t.message(&format!("connectWhy{}", capital(i)), &[who.to_owned()])),
            )?)?;
            let (_, connect_key) = i.keys();
            let b = dom::button(doc, "context-connect", &t.get(connect_key), None)?;
            b.set_class_name("button primary");
            b.set_attribute("data-integration", integration_name(i))?;
            sec.add(&b)?;
            if i == Integration::Gmail {
                sec.add(&dom::el(
                    doc,
                    "p",
                    "muted small",
                    Some(&t.get("connectGmailAppPassword")),
                )?)?;
            }
        }
        SectionAnswer::NoEmail => {
            sec.add(&dom::el(doc, "p", "muted", Some(&t.get("sectionNoEmail")))?)?;
        }
        SectionAnswer::SignedOut => {
            sec.add(&dom::el(
                doc,
                "p",
                "muted",
                Some(&t.get("contextSignedOut")),
            )?)?;
        }
        SectionAnswer::NotGoogle | SectionAnswer::Ready { .. } => {}
        SectionAnswer::Failed { key, detail } => {
            let p = dom::el(
                doc,
                "p",
                "problem",
                Some(&t.message(key, std::slice::from_ref(detail))),
            )?;
            p.set_attribute("role", "alert")?;
            p.set_attribute("data-testid", "section-failure")?;
            sec.add(&p)?;
        }
    }
    Ok(())
}

fn capital(i: Integration) -> &'static str {
    match i {
        Integration::Gmail => "Gmail",
        Integration::Drive => "Drive",
        Integration::Calendar => "Calendar",
    }
}
