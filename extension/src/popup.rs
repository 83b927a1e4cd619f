//! The toolbar popup: the live call and its controls, the wrap-up of calls
//! that ended, the last error in words the agent can act on, the per-site
//! switch, and the host's state.

use std::cell::RefCell;
use std::rc::Rc;

use ringside_core::calls::{self, CallDesk, Direction, Phase};
use ringside_core::host_link::HostStatus;
use ringside_core::settings::{self, SiteDecision};
use ringside_core::surface::{UiCommand, UiState};
use ringside_core::ui;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::{ChromeI18n, Translate};
use crate::page;

thread_local! {
    /// Ids of the active tab of each window, asked once when the popup opens.
    static ACTIVE_TABS: RefCell<Vec<i32>> = const { RefCell::new(Vec::new()) };
}

/// What the popup knows besides the worker's state.
pub struct Context {
    pub browser: ringside_core::browser::Browser,
    pub extension_id: String,
    /// Milliseconds since the epoch, for call durations.
    pub now_ms: f64,
    /// Active tab ids, to find the page the popup was opened over.
    pub active_tabs: Vec<i32>,
    /// The agent's language (BCP 47), for counts.
    pub locale: String,
}

fn section(doc: &Document, class: &str, heading: &str, id: &str) -> Result<Element, JsError> {
    let s = dom::el(doc, "section", class, None)?;
    let h = dom::el(doc, "h2", "", Some(heading))?;
    h.set_id(id);
    s.set_attribute("aria-labelledby", id)?;
    s.add(&h)?;
    Ok(s)
}

fn notice(doc: &Document, desk: &CallDesk, t: &dyn Translate) -> Result<Option<Element>, JsError> {
    let Some(n) = &desk.notice else {
        return Ok(None);
    };
    let card = dom::el(doc, "section", "card tone-error notice", None)?;
    card.set_attribute("role", "alert")?;
    card.set_attribute("data-testid", "call-notice")?;
    card.add(&dom::el(
        doc,
        "p",
        "card-title",
        Some(&t.message(&n.key, std::slice::from_ref(&n.number))),
    )?)?;
    if !n.detail.is_empty() {
        card.add(&dom::el(doc, "p", "card-detail small", Some(&n.detail))?)?;
    }
    card.add(&dom::button(doc, "dismiss", &t.get("dismiss"), None)?)?;
    Ok(Some(card))
}

/// A page's click that waits for the agent (`ringside_core::confirm`): the
/// real target, why it is held, who asked, and Call / Cancel.
fn held_dial(
    doc: &Document,
    desk: &CallDesk,
    t: &dyn Translate,
    now_ms: f64,
) -> Result<Option<Element>, JsError> {
    let Some(h) = desk
        .confirm
        .as_ref()
        .filter(|h| now_ms - h.asked_ms <= ringside_core::confirm::CONFIRM_TTL_MS)
    else {
        return Ok(None);
    };
    let s = section(
        doc,
        "card tone-warning confirm",
        &t.get("confirmTitle"),
        "confirm-title",
    )?;
    s.set_attribute("role", "alertdialog")?;
    s.set_attribute("data-testid", "confirm-dial")?;
    s.set_attribute("aria-describedby", "confirm-target confirm-why")?;
    let target = dom::el(doc, "p", "call-number", Some(&h.target()))?;
    target.set_id("confirm-target");
    target.set_attribute("data-testid", "confirm-target")?;
    s.add(&target)?;
    let why = dom::el(doc, "p", "", Some(&t.get(h.risk.message_key())))?;
    why.set_id("confirm-why");
    s.add(&why)?;
    if h.display.trim() != h.target() {
        s.add(&dom::el(
            doc,
            "p",
            "muted small",
            Some(&t.message("confirmShownAs", std::slice::from_ref(&h.display))),
        )?)?;
    }
    s.add(&dom::el(
        doc,
        "p",
        "muted small",
        Some(&t.message("confirmAskedBy", std::slice::from_ref(&h.origin))),
    )?)?;
    let row = dom::el(doc, "div", "button-row", None)?;
    let call = dom::button(
        doc,
        "confirm-dial",
        &t.get("confirmCall"),
        Some(&t.message("confirmCallLabel", &[h.target()])),
    )?;
    call.set_class_name("button primary");
    call.set_attribute("data-id", &h.id)?;
    row.add(&call)?;
    let cancel = dom::button(doc, "cancel-dial", &t.get("confirmCancel"), None)?;
    cancel.set_attribute("data-id", &h.id)?;
    row.add(&cancel)?;
    s.add(&row)?;
    Ok(Some(s))
}

fn live_call(
    doc: &Document,
    s: &UiState,
    t: &dyn Translate,
    now_ms: f64,
) -> Result<Option<Element>, JsError> {
    let (desk, caller) = (&s.calls, s.caller.as_ref());
    let platform_dialer = s
        .settings
        .dialer
        .as_ref()
        .is_some_and(|d| d.adapter == ringside_core::protocol::DialerKind::Platform);
    let Some(l) = &desk.live else {
        return Ok(None);
    };
    let title = match l.phase {
        Phase::Dialing => "callDialing",
        Phase::Ringing => "callRinging",
        Phase::Incoming => "callIncoming",
        Phase::Established => "callEstablished",
    };
    let s = section(doc, "card tone-busy call", &t.get(title), "call-title")?;
    s.set_attribute("data-testid", "live-call")?;
    s.set_attribute(
        "data-phase",
        match l.phase {
            Phase::Dialing => "dialing",
            Phase::Ringing => "ringing",
            Phase::Incoming => "incoming",
            Phase::Established => "established",
        },
    )?;
    // The other party's name and organization, from the local contacts.
    if let Some(c) = caller {
        let who = dom::el(doc, "p", "call-name", Some(&c.name))?;
        who.set_attribute("data-testid", "call-contact")?;
        s.add(&who)?;
        if let Some(org) = &c.organization {
            s.add(&dom::el(doc, "p", "muted small", Some(org))?)?;
        }
    }
    s.add(&dom::el(doc, "p", "call-number", Some(&l.display))?)?;
    if l.phase == Phase::Dialing && platform_dialer {
        let p = dom::el(
            doc,
            "p",
            "muted small",
            Some(&t.get("callPlatformRingsYou")),
        )?;
        p.set_attribute("data-testid", "call-rings-you")?;
        s.add(&p)?;
    }
    if l.display != l.number {
        s.add(&dom::el(doc, "p", "muted small", Some(&l.number))?)?;
    }
    if let Some(since) = l.established_ms {
        let secs = ((now_ms - since) / 1000.0).max(0.0) as u64;
        let d = dom::el(
            doc,
            "p",
            "call-duration",
            Some(&calls::format_duration(secs)),
        )?;
        // Whole milliseconds: integer text, so the page formats and parses
        // no float (that code alone was ~6 KB gzipped of the UI module).
        d.set_attribute("data-since", &(since.max(0.0) as u64).to_string())?;
        d.set_attribute("data-testid", "call-duration")?;
        d.set_attribute(
            "aria-label",
            &t.message("callDurationLabel", &[calls::format_duration(secs)]),
        )?;
        s.add(&d)?;
    }
    for e in crate::call_controls::controls(doc, l, t)? {
        s.add(&e)?;
    }
    let row = dom::el(doc, "div", "button-row", None)?;
    if l.phase == Phase::Incoming {
        let answer = dom::button(doc, "answer", &t.get("answer"), None)?;
        answer.set_class_name("button primary");
        row.add(&answer)?;
        row.add(&dom::button(doc, "hangup", &t.get("decline"), None)?)?;
    } else {
        let hang = dom::button(doc, "hangup", &t.get("hangUp"), None)?;
        hang.set_class_name("button danger");
        row.add(&hang)?;
    }
    s.add(&row)?;
    Ok(Some(s))
}

fn field(
    doc: &Document,
    tag: &str,
    id: &str,
    label: &str,
    keep: &str,
) -> Result<(Element, Element), JsError> {
    let l = dom::el(doc, "label", "field-label", Some(label))?;
    l.set_attribute("for", id)?;
    let f = dom::el(doc, tag, "field", None)?;
    f.set_id(id);
    f.set_attribute("data-keep", keep)?;
    Ok((l, f))
}

fn wrapup(doc: &Document, desk: &CallDesk, t: &dyn Translate) -> Result<Option<Element>, JsError> {
    let Some(c) = desk.wrapups.first() else {
        return Ok(None);
    };
    let s = section(doc, "card wrapup", &t.get("wrapupTitle"), "wrapup-title")?;
    s.set_attribute("data-testid", "wrapup")?;
    let how = match (c.direction, c.answered) {
        (_, false) => t.get("wrapupUnanswered"),
        (Direction::Outgoing, true) => {
            t.message("wrapupOutgoing", &[calls::format_duration(c.talk_seconds)])
        }
        (Direction::Incoming, true) => {
            t.message("wrapupIncoming", &[calls::format_duration(c.talk_seconds)])
        }
    };
    s.add(&dom::el(doc, "p", "call-number", Some(&c.display))?)?;
    s.add(&dom::el(doc, "p", "muted small", Some(&how))?)?;
    let (l, tags) = field(doc, "input", "wrap-tags", &t.get("wrapupTags"), &c.id)?;
    tags.set_attribute("type", "text")?;
    tags.set_attribute("placeholder", &t.get("wrapupTagsHint"))?;
    tags.set_attribute("maxlength", "330")?;
    s.add(&l)?;
    s.add(&tags)?;
    let (l, note) = field(doc, "textarea", "wrap-note", &t.get("wrapupNote"), &c.id)?;
    note.set_attribute("rows", "3")?;
    note.set_attribute("maxlength", &calls::MAX_NOTE_CHARS.to_string())?;
    s.add(&l)?;
    s.add(&note)?;
    let save = dom::button(doc, "save-wrapup", &t.get("wrapupSave"), None)?;
    save.set_class_name("button primary");
    save.set_attribute("data-id", &c.id)?;
    s.add(&save)?;
    if desk.wrapups.len() > 1 {
        s.add(&dom::el(
            doc,
            "p",
            "muted small",
            Some(&t.message("wrapupMore", &[(desk.wrapups.len() - 1).to_string()])),
        )?)?;
    }
    Ok(Some(s))
}

/// The per-site switch for the page the popup was opened over.
fn site_switch(
    doc: &Document,
    state: &UiState,
    t: &dyn Translate,
    active_tabs: &[i32],
) -> Result<Option<Element>, JsError> {
    let Some(page) = state
        .pages
        .iter()
        .find(|p| p.frame == 0 && active_tabs.contains(&p.tab))
    else {
        return Ok(None);
    };
    let decision = settings::site_decision(&state.settings, &state.switched_off, &page.origin);
    let s = dom::el(doc, "section", "site", None)?;
    s.set_attribute("data-testid", "site")?;
    if decision.agent_can_switch() {
        let label = dom::el(doc, "label", "switch", None)?;
        let input = dom::el(doc, "input", "", None)?;
        input.set_id("site-switch");
        input.set_attribute("type", "checkbox")?;
        input.set_attribute("role", "switch")?;
        input.set_attribute("data-action", "site")?;
        input.set_attribute("data-origin", &page.origin)?;
        if decision == SiteDecision::Allowed {
            input.set_attribute("checked", "")?;
        }
        label.add(&input)?;
        label.add(&dom::el(
            doc,
            "span",
            "",
            Some(&t.message("siteSwitch", std::slice::from_ref(&page.origin))),
        )?)?;
        s.add(&label)?;
    } else {
        s.add(&dom::el(
            doc,
            "p",
            "muted",
            Some(&t.message("siteBlockedByPolicy", std::slice::from_ref(&page.origin))),
        )?)?;
    }
    Ok(Some(s))
}

/// Renders the popup into `#app`.
pub fn render(
    doc: &Document,
    state: Option<&UiState>,
    t: &dyn Translate,
    cx: &Context,
) -> Result<(), JsError> {
    let app = doc
        .get_element_by_id("app")
        .ok_or_else(|| JsError("#app missing".into()))?;
    let header = dom::el(doc, "header", "bar", None)?;
    header.add(&dom::el(doc, "h1", "brand", Some(&t.get("extName")))?)?;
    let settings = dom::button(doc, "options", &t.get("openSettings"), None)?;
    settings.set_class_name("button link");
    header.add(&settings)?;
    let mut parts = vec![header];
    if let Some(s) = state {
        parts.push(crate::account::card(
            doc,
            s,
            t,
            crate::account::Place::Popup,
        )?);
        if let Some(ringside_core::context::Presence::InMeeting { event, .. }) = &s.my_presence {
            let text = match event {
                Some(name) => t.message("myPresenceNamed", std::slice::from_ref(name)),
                None => t.get("myPresenceBusy"),
            };
            let p = dom::el(doc, "p", "badge busy my-presence", Some(&text))?;
            p.set_attribute("role", "status")?;
            p.set_attribute("data-testid", "my-presence")?;
            parts.push(p);
        }
        parts.extend(held_dial(doc, &s.calls, t, cx.now_ms)?);
        parts.extend(notice(doc, &s.calls, t)?);
        parts.extend(live_call(doc, s, t, cx.now_ms)?);
        parts.extend(crate::call_controls::second(doc, &s.calls, t)?);
        parts.extend(wrapup(doc, &s.calls, t)?);
        if s.auth.signed_in() {
            parts.extend(crate::dialpad::status(
                doc,
                &s.contacts,
                t,
                cx.now_ms,
                &cx.locale,
            )?);
        }
        if s.calls.live.is_none() {
            parts.push(crate::dialpad::render(doc, t)?);
        }
        crate::history_view::follow(s.history);
        parts.push(crate::history_view::render(doc, t, &cx.locale)?);
        if let Some(h) = &s.calls.handed_off {
            let p = dom::el(
                doc,
                "p",
                "saved",
                Some(&t.message(&h.key, std::slice::from_ref(&h.number))),
            )?;
            p.set_attribute("role", "status")?;
            p.set_attribute("data-testid", "call-handed-off")?;
            parts.push(p);
        }
        if let Some(to) = s.calls.last_saved {
            let p = dom::el(doc, "p", "saved", Some(&t.get(to.message_key())))?;
            p.set_attribute("role", "status")?;
            p.set_attribute("data-testid", "wrapup-saved")?;
            parts.push(p);
        }
    }
    let status = state
        .map(|s| s.host.clone())
        .unwrap_or(HostStatus::Connecting);
    if let Some(s) = state {
        parts.push(dom::calls_go(doc, t, &s.settings, &s.host)?);
    }
    parts.push(dom::host_card(
        doc,
        &ui::host_view(&status, cx.browser, &cx.extension_id),
        t,
    )?);
    if let Some(s) = state {
        parts.extend(crate::call_controls::dnd(doc, s, t)?);
        parts.extend(site_switch(doc, s, t, &cx.active_tabs)?);
    }
    dom::replace_children(&app, &parts)
}

fn field_value(doc: &Document, id: &str) -> String {
    doc.get_element_by_id(id)
        .and_then(|e| js_sys::Reflect::get(&e, &JsValue::from_str("value")).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// The popup's own buttons.
fn action(name: &str, el: &Element) -> Option<UiCommand> {
    if crate::dialpad::action(name, el) {
        return None;
    }
    let doc = page::document().ok()?;
    if let Some(cmd) = crate::call_controls::action(name, el, &doc) {
        return Some(cmd);
    }
    if name == "history-contact" {
        let tab = ACTIVE_TABS.with(|a| a.borrow().first().copied());
        crate::history_view::show_contact(el, tab);
        return None;
    }
    Some(match name {
        "hangup" => UiCommand::Hangup,
        "answer" => UiCommand::Answer,
        "dismiss" => UiCommand::DismissNotice,
        "confirm-dial" => UiCommand::ConfirmDial {
            id: el.get_attribute("data-id")?,
        },
        "cancel-dial" => UiCommand::CancelDial {
            id: el.get_attribute("data-id")?,
        },
        "save-wrapup" => UiCommand::SaveWrapup {
            id: el.get_attribute("data-id")?,
            tags: field_value(&doc, "wrap-tags"),
            note: field_value(&doc, "wrap-note"),
        },
        "dial-number" => UiCommand::DialNumber {
            number: el.get_attribute("data-number")?,
        },
        "dial-typed" => {
            let typed = crate::dialpad::typed(&doc);
            // A number typed as such; a name is dialled from its match.
            let number = match ringside_core::context::ContactQuery::parse(&typed)? {
                ringside_core::context::ContactQuery::Phone(p) => p,
                _ => {
                    // The first match's number, only if the list answers
                    // what is typed now (not the previous keystroke).
                    let list = doc.get_element_by_id("dial-results")?;
                    if list.get_attribute("data-query").as_deref() != Some(typed.as_str()) {
                        return None;
                    }
                    let first = list.query_selector("[data-action=dial-number]").ok()??;
                    first.get_attribute("data-number")?
                }
            };
            UiCommand::DialNumber { number }
        }
        "site" => UiCommand::SetSite {
            origin: el.get_attribute("data-origin")?,
            enabled: js_sys::Reflect::get(el, &JsValue::from_str("checked"))
                .ok()?
                .as_bool()?,
        },
        other => return crate::account::action(other, el),
    })
}

/// Keeps the call duration current: once a second, without re-rendering.
fn tick() {
    if let Ok(doc) = page::document()
        && let Ok(list) = doc.query_selector_all("[data-since]")
    {
        for i in 0..list.length() {
            let Some(el) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                continue;
            };
            let since = el
                .get_attribute("data-since")
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0) as f64;
            let secs = ((js_sys::Date::now() - since) / 1000.0).max(0.0) as u64;
            el.set_text_content(Some(&calls::format_duration(secs)));
        }
    }
    if let Ok(doc) = page::document() {
        crate::account::tick_countdowns(&doc, &ChromeI18n);
    }
    crate::chrome::set_timeout(1000, tick);
}

/// Entry point called by popup.js.
#[wasm_bindgen]
pub fn popup_main() -> Result<(), JsValue> {
    let browser = page::browser();
    let id = crate::chrome::runtime_id();
    page::start(
        "popupTitle",
        Rc::new(move |doc, state| {
            let cx = Context {
                browser,
                extension_id: id.clone(),
                now_ms: js_sys::Date::now(),
                active_tabs: ACTIVE_TABS.with(|a| a.borrow().clone()),
                locale: crate::i18n::ui_language(),
            };
            render(doc, state, &ChromeI18n, &cx)
        }),
        Rc::new(action),
    )?;
    if let Ok(doc) = page::document() {
        crate::dialpad::listen(&doc)?;
        crate::history_view::listen(&doc)?;
    }
    // Opening the popup brings the contacts up to date.
    page::send(&UiCommand::ContactsSync);
    wasm_bindgen_futures::spawn_local(async {
        if let Ok(tabs) = crate::chrome::active_tab_ids().await {
            ACTIVE_TABS.with(|a| *a.borrow_mut() = tabs);
            page::rerender();
        }
    });
    tick();
    Ok(())
}
