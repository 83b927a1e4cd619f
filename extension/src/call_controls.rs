//! The popup's call controls: hold and mute (their state always shown), the
//! keypad, transfers, the second call's card, and do not disturb. Every
//! control is a button or a labelled field, reachable with the keyboard;
//! states are in `aria-pressed` and in `role=status` text.

use ringside_core::calls::{CallDesk, LiveCall, Phase};
use ringside_core::surface::{UiCommand, UiState};
use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::Translate;

const KEYS: [&str; 12] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

fn toggle(doc: &Document, id: &str, label: &str, pressed: bool) -> Result<Element, JsError> {
    let b = dom::button(doc, id, label, None)?;
    b.set_id(id);
    b.set_attribute("aria-pressed", if pressed { "true" } else { "false" })?;
    Ok(b)
}

fn status(doc: &Document, text: &str, testid: &str) -> Result<Element, JsError> {
    let p = dom::el(doc, "p", "badge busy", Some(text))?;
    p.set_attribute("role", "status")?;
    p.set_attribute("data-testid", testid)?;
    Ok(p)
}

/// The controls of the agent's established call, inside its card.
pub fn controls(doc: &Document, l: &LiveCall, t: &dyn Translate) -> Result<Vec<Element>, JsError> {
    let mut out = vec![];
    if l.phase != Phase::Established {
        return Ok(out);
    }
    if l.held {
        out.push(status(doc, &t.get("callOnHold"), "call-held")?);
    }
    if l.muted {
        out.push(status(doc, &t.get("callMuted"), "call-muted")?);
    }
    if l.consult_for.is_some() {
        out.push(dom::el(
            doc,
            "p",
            "muted small",
            Some(&t.get("callConsulting")),
        )?);
    }
    let row = dom::el(doc, "div", "button-row", None)?;
    // The label stays ("Hold", "Mute"); the pressed state says which way.
    row.add(&toggle(doc, "call-hold", &t.get("callHold"), l.held)?)?;
    row.add(&toggle(doc, "call-mute", &t.get("callMute"), l.muted)?)?;
    out.push(row);
    // Always open: a disclosure would close at each re-render.
    let pad = dom::el(doc, "div", "keypad", None)?;
    pad.add(&dom::el(
        doc,
        "p",
        "field-label",
        Some(&t.get("callKeypad")),
    )?)?;
    let grid = dom::el(doc, "div", "keypad-grid", None)?;
    grid.set_attribute("role", "group")?;
    grid.set_attribute("aria-label", &t.get("callKeypad"))?;
    for (i, k) in KEYS.iter().enumerate() {
        let b = dom::button(
            doc,
            "dtmf",
            k,
            Some(&t.message("callKeypadSend", &[(*k).to_owned()])),
        )?;
        b.set_id(&format!("dtmf-{i}"));
        b.set_attribute("data-digits", k)?;
        grid.add(&b)?;
    }
    pad.add(&grid)?;
    out.push(pad);
    let row = dom::el(doc, "div", "button-row", None)?;
    if l.consult_for.is_some() {
        let done = dom::button(
            doc,
            "transfer-complete",
            &t.get("callTransferComplete"),
            None,
        )?;
        done.set_id("transfer-complete");
        done.set_class_name("button primary");
        row.add(&done)?;
        let back = dom::button(doc, "transfer-return", &t.get("callTransferReturn"), None)?;
        back.set_id("transfer-return");
        row.add(&back)?;
    } else {
        let label = dom::el(doc, "label", "field-label", Some(&t.get("callTransferTo")))?;
        label.set_attribute("for", "transfer-target")?;
        let input = dom::el(doc, "input", "field", None)?;
        input.set_id("transfer-target");
        input.set_attribute("type", "text")?;
        input.set_attribute("maxlength", "120")?;
        input.set_attribute("autocomplete", "off")?;
        input.set_attribute("data-keep", "transfer")?;
        out.push(label);
        out.push(input);
        let blind = dom::button(doc, "transfer", &t.get("callTransfer"), None)?;
        blind.set_id("transfer-blind");
        row.add(&blind)?;
        let consult = dom::button(doc, "consult", &t.get("callConsult"), None)?;
        consult.set_id("transfer-consult");
        row.add(&consult)?;
    }
    out.push(row);
    Ok(out)
}

/// The second call's card: ringing (answer, holding the agent's call, or
/// decline), or held (swap, hang up).
pub fn second(
    doc: &Document,
    desk: &CallDesk,
    t: &dyn Translate,
) -> Result<Option<Element>, JsError> {
    let Some(o) = &desk.other else {
        return Ok(None);
    };
    let ringing = o.phase == Phase::Incoming;
    let title = if ringing {
        "callSecondIncoming"
    } else {
        "callSecondHeld"
    };
    let s = dom::el(doc, "section", "card tone-warning second-call", None)?;
    let h = dom::el(doc, "h2", "", Some(&t.get(title)))?;
    h.set_id("second-title");
    s.set_attribute("aria-labelledby", "second-title")?;
    s.set_attribute("data-testid", "second-call")?;
    s.set_attribute("data-phase", if ringing { "incoming" } else { "held" })?;
    if ringing {
        s.set_attribute("role", "alert")?;
    }
    s.add(&h)?;
    s.add(&dom::el(doc, "p", "call-number", Some(&o.display))?)?;
    let id = o.call_id.clone().unwrap_or_default();
    let row = dom::el(doc, "div", "button-row", None)?;
    if ringing {
        let answer = dom::button(doc, "answer", &t.get("callAnswerHolding"), None)?;
        answer.set_id("second-answer");
        answer.set_class_name("button primary");
        row.add(&answer)?;
    } else if desk
        .live
        .as_ref()
        .is_some_and(|l| l.phase == Phase::Established)
    {
        let swap = dom::button(doc, "swap-calls", &t.get("callSwap"), None)?;
        swap.set_id("second-swap");
        swap.set_class_name("button primary");
        row.add(&swap)?;
    }
    let (text, key) = if ringing {
        (t.get("decline"), "callDeclineOther")
    } else {
        (t.get("hangUp"), "callEndOther")
    };
    let end = dom::button(
        doc,
        "end-call",
        &text,
        Some(&t.message(key, std::slice::from_ref(&o.display))),
    )?;
    end.set_id("second-end");
    end.set_attribute("data-id", &id)?;
    row.add(&end)?;
    s.add(&row)?;
    Ok(Some(s))
}

/// The do-not-disturb switch (absent when policy forbids it), and what it
/// does while on.
pub fn dnd(doc: &Document, s: &UiState, t: &dyn Translate) -> Result<Vec<Element>, JsError> {
    let mut out = vec![];
    if !s.settings.dnd_allowed() {
        return Ok(out);
    }
    let wrap = dom::el(doc, "section", "site dnd", None)?;
    let label = dom::el(doc, "label", "switch", None)?;
    let input = dom::el(doc, "input", "", None)?;
    input.set_id("dnd-switch");
    input.set_attribute("type", "checkbox")?;
    input.set_attribute("role", "switch")?;
    input.set_attribute("data-action", "dnd")?;
    if s.calls.dnd {
        input.set_attribute("checked", "")?;
    }
    label.add(&input)?;
    label.add(&dom::el(doc, "span", "", Some(&t.get("dndLabel")))?)?;
    wrap.add(&label)?;
    if s.calls.dnd {
        let p = status(doc, &t.get("dndOn"), "dnd-on")?;
        wrap.add(&p)?;
        if s.calls.declined > 0 {
            wrap.add(&dom::el(
                doc,
                "p",
                "muted small",
                Some(&t.message("dndDeclined", &[s.calls.declined.to_string()])),
            )?)?;
        }
    }
    out.push(wrap);
    Ok(out)
}

fn field(doc: &Document, id: &str) -> String {
    doc.get_element_by_id(id)
        .and_then(|e| js_sys::Reflect::get(&e, &"value".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// The command of a call control's button; None for other buttons.
pub fn action(name: &str, el: &Element, doc: &Document) -> Option<UiCommand> {
    Some(match name {
        "call-hold" => UiCommand::ToggleHold,
        "call-mute" => UiCommand::ToggleMute,
        "dtmf" => UiCommand::SendDtmf {
            digits: el.get_attribute("data-digits")?,
        },
        "swap-calls" => UiCommand::SwapCalls,
        "end-call" => UiCommand::EndCall {
            call_id: el.get_attribute("data-id")?,
        },
        "transfer" => UiCommand::Transfer {
            target: field(doc, "transfer-target"),
        },
        "consult" => UiCommand::Consult {
            target: field(doc, "transfer-target"),
        },
        "transfer-complete" => UiCommand::CompleteTransfer,
        "transfer-return" => UiCommand::ReturnToCaller,
        "dnd" => UiCommand::SetDnd {
            on: js_sys::Reflect::get(el, &"checked".into())
                .ok()?
                .as_bool()?,
        },
        _ => return None,
    })
}
