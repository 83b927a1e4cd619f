//! The options page: the values an admin needs (extension id, redirect URI),
//! the host card and diagnostics, and the pages where Ringside is active.

use std::rc::Rc;

use ringside_core::host_link::HostStatus;
use ringside_core::settings::{self, Settings};
use ringside_core::surface::{UiCommand, UiState};
use ringside_core::ui;
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::{ChromeI18n, Translate};
use crate::page;

/// Fixed facts about this installation shown on the page.
pub struct Facts {
    pub extension_id: String,
    pub redirect_uri: String,
    pub browser: ringside_core::browser::Browser,
}

fn value_row(
    doc: &Document,
    t: &dyn Translate,
    label: &str,
    value: &str,
    copy_label: &str,
    testid: &str,
) -> Result<Element, JsError> {
    let row = dom::el(doc, "div", "value-row", None)?;
    row.add(&dom::el(doc, "span", "value-label", Some(label))?)?;
    let code = dom::el(doc, "code", "value", Some(value))?;
    code.set_attribute("data-testid", testid)?;
    row.add(&code)?;
    // A short visible label, and an accessible name that says what is copied.
    let copy = dom::button(doc, "copy", &t.get("copy"), Some(copy_label))?;
    copy.set_attribute("data-copy", value)?;
    row.add(&copy)?;
    Ok(row)
}

fn section(doc: &Document, heading: &str, id: &str) -> Result<Element, JsError> {
    let s = dom::el(doc, "section", "panel", None)?;
    let h = dom::el(doc, "h2", "", Some(heading))?;
    h.set_id(id);
    s.set_attribute("aria-labelledby", id)?;
    s.add(&h)?;
    Ok(s)
}

/// One labelled input of the click-to-call form; disabled when policy sets it.
#[allow(
    clippy::too_many_arguments,
    reason = "one flat description of a form row"
)]
fn input_row(
    doc: &Document,
    t: &dyn Translate,
    id: &str,
    label_key: &str,
    help_key: Option<&str>,
    value: &str,
    locked: bool,
    placeholder: &str,
) -> Result<Element, JsError> {
    let row = dom::el(doc, "div", "form-row", None)?;
    let label = dom::el(doc, "label", "field-label", Some(&t.get(label_key)))?;
    label.set_attribute("for", id)?;
    row.add(&label)?;
    let input = dom::el(doc, "input", "field", None)?;
    input.set_id(id);
    input.set_attribute("type", "text")?;
    input.set_attribute("value", value)?;
    input.set_attribute("placeholder", placeholder)?;
    input.set_attribute("data-keep", if locked { "locked" } else { "agent" })?;
    let help_id = format!("{id}-help");
    let mut described = vec![];
    if locked {
        input.set_attribute("disabled", "")?;
        described.push(format!("{id}-locked"));
    }
    if help_key.is_some() {
        described.push(help_id.clone());
    }
    if !described.is_empty() {
        input.set_attribute("aria-describedby", &described.join(" "))?;
    }
    row.add(&input)?;
    if locked {
        let l = dom::el(doc, "p", "locked small", Some(&t.get("settingLocked")))?;
        l.set_id(&format!("{id}-locked"));
        row.add(&l)?;
    }
    if let Some(h) = help_key {
        let p = dom::el(doc, "p", "muted small", Some(&t.get(h)))?;
        p.set_id(&help_id);
        row.add(&p)?;
    }
    Ok(row)
}

fn text_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// Settings that were ignored (a policy or a saved option Ringside cannot use),
/// above every section: a policy problem may concern any of them.
fn problems_block(
    doc: &Document,
    t: &dyn Translate,
    s: &Settings,
) -> Result<Option<Element>, JsError> {
    if s.problems.is_empty() {
        return Ok(None);
    }
    let block = dom::el(doc, "div", "problems", None)?;
    for p in &s.problems {
        let e = dom::el(
            doc,
            "p",
            "problem",
            Some(&if p.admin_only {
                t.message("optionAdminOnly", std::slice::from_ref(&p.key))
            } else {
                t.message(
                    if p.source == "policy" {
                        "policyInvalid"
                    } else {
                        "optionInvalid"
                    },
                    &[p.key.clone(), p.message.clone()],
                )
            }),
        )?;
        e.set_attribute("role", "alert")?;
        e.set_attribute("data-testid", "setting-problem")?;
        block.add(&e)?;
    }
    Ok(Some(block))
}

/// The click-to-call settings: dialer and region (the agent's, unless policy
/// sets them); the platform URL and site rules (policy only, read-only).
fn calling_section(
    doc: &Document,
    t: &dyn Translate,
    s: &Settings,
    raw: &Value,
    host: &ringside_core::host_link::HostStatus,
) -> Result<Element, JsError> {
    let sec = section(doc, &t.get("callingHeading"), "calling-heading")?;
    dialer_fields(doc, t, s, raw, &sec)?;
    sec.add(&dom::calls_go(doc, t, s, host)?)?;
    let region_locked = s.locked.iter().any(|l| l == settings::KEY_REGION);
    let region = if region_locked {
        s.default_region.clone().unwrap_or_default()
    } else {
        text_at(raw, &[settings::KEY_REGION]).to_owned()
    };
    sec.add(&input_row(
        doc,
        t,
        "opt-region",
        "regionLabel",
        Some("regionHelp"),
        &region,
        region_locked,
        "FR",
    )?)?;
    let pause_locked = s.locked.iter().any(|l| l == settings::KEY_DTMF_PAUSE);
    let pause = if pause_locked {
        s.dtmf_pause().to_string()
    } else {
        raw.get(settings::KEY_DTMF_PAUSE)
            .and_then(Value::as_u64)
            .map(|n| n.to_string())
            .unwrap_or_default()
    };
    sec.add(&input_row(
        doc,
        t,
        "opt-dtmf-pause",
        "dtmfPauseLabel",
        Some("dtmfPauseHelp"),
        &pause,
        pause_locked,
        "2000",
    )?)?;
    // The platform receives the agent's ID token: policy only, shown
    // read-only when set (never an editable field).
    if let Some(platform) = &s.platform_url {
        sec.add(&input_row(
            doc,
            t,
            "opt-platform",
            "platformLabel",
            Some("platformHelp"),
            platform,
            true,
            "",
        )?)?;
    }
    let save = dom::button(doc, "save-options", &t.get("saveSettings"), None)?;
    save.set_class_name("button primary");
    sec.add(&save)?;
    for (key, list) in [
        ("siteAllowLabel", &s.site_allow_list),
        ("siteBlockLabel", &s.site_block_list),
    ] {
        if !list.is_empty() {
            sec.add(&dom::el(
                doc,
                "p",
                "muted",
                Some(&t.message(key, &[list.join(", ")])),
            )?)?;
        }
    }
    Ok(sec)
}

/// The dialer as the form shows it: policy values when policy sets it, else
/// what the agent saved (adapter, ctrl_tcp address, SIP domain, dial prefix).
fn dialer_values(s: &Settings, raw: &Value, locked: bool) -> [String; 4] {
    match (&s.dialer, locked) {
        (Some(d), true) => [
            match d.adapter {
                ringside_core::protocol::DialerKind::Baresip => "baresip",
                ringside_core::protocol::DialerKind::Tel => "tel",
                ringside_core::protocol::DialerKind::Url => "url",
                ringside_core::protocol::DialerKind::Platform => "platform",
            }
            .to_owned(),
            d.address.clone().unwrap_or_default(),
            d.sip.domain.clone(),
            d.sip.prefix.clone(),
        ],
        _ => ["adapter", "address", "sipDomain", "dialPrefix"]
            .map(|k| text_at(raw, &["dialer", k]).to_owned()),
    }
}

/// The dialer's adapter choice and, for a softphone, its control settings.
fn dialer_fields(
    doc: &Document,
    t: &dyn Translate,
    s: &Settings,
    raw: &Value,
    sec: &Element,
) -> Result<(), JsError> {
    let locked = s.locked.iter().any(|l| l == settings::KEY_DIALER);
    let [adapter, address, domain, prefix] = dialer_values(s, raw, locked);
    sec.add(&adapter_row(doc, t, &adapter, locked)?)?;
    // The softphone's control settings mean nothing to another adapter the
    // administrator chose; the agent's own choice keeps them all editable.
    if !locked || adapter == "baresip" {
        for (id, label, help, value, example) in [
            (
                "opt-address",
                "dialerAddress",
                Some("dialerAddressHelp"),
                &address,
                "127.0.0.1:4444",
            ),
            (
                "opt-domain",
                "dialerDomain",
                Some("dialerDomainHelp"),
                &domain,
                "pbx.example.com",
            ),
            ("opt-prefix", "dialerPrefix", None, &prefix, "0"),
        ] {
            sec.add(&input_row(doc, t, id, label, help, value, locked, example)?)?;
        }
    }
    Ok(())
}

/// The adapter's select (none, baresip, the OS tel: handler), disabled and
/// explained when policy sets it.
fn adapter_row(
    doc: &Document,
    t: &dyn Translate,
    adapter: &str,
    locked: bool,
) -> Result<Element, JsError> {
    let row = dom::el(doc, "div", "form-row", None)?;
    let label = dom::el(doc, "label", "field-label", Some(&t.get("dialerLabel")))?;
    label.set_attribute("for", "opt-adapter")?;
    row.add(&label)?;
    let select = dom::el(doc, "select", "field", None)?;
    select.set_id("opt-adapter");
    select.set_attribute("data-keep", if locked { "locked" } else { "agent" })?;
    if locked {
        select.set_attribute("disabled", "")?;
        select.set_attribute("aria-describedby", "opt-adapter-locked")?;
    }
    // The url and platform dialers are policy's only: shown when it sets them.
    let policy_only = [("url", "dialerUrl"), ("platform", "dialerPlatform")];
    for (value, key) in [
        ("", "dialerNone"),
        ("baresip", "dialerBaresip"),
        ("tel", "dialerTel"),
    ]
    .into_iter()
    .chain(policy_only.into_iter().filter(|(v, _)| *v == adapter))
    {
        let o = dom::el(doc, "option", "", Some(&t.get(key)))?;
        o.set_attribute("value", value)?;
        if adapter == value {
            o.set_attribute("selected", "")?;
        }
        select.add(&o)?;
    }
    row.add(&select)?;
    if locked {
        let l = dom::el(doc, "p", "locked small", Some(&t.get("settingLocked")))?;
        l.set_id("opt-adapter-locked");
        row.add(&l)?;
    }
    Ok(row)
}

fn field_value(doc: &Document, id: &str) -> String {
    doc.get_element_by_id(id)
        .and_then(|e| js_sys::Reflect::get(&e, &JsValue::from_str("value")).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The form as the options storage holds it (validated by the worker).
fn collect_options(doc: &Document) -> Value {
    let mut out = serde_json::Map::new();
    let adapter = field_value(doc, "opt-adapter");
    if !adapter.is_empty() {
        out.insert(
            settings::KEY_DIALER.into(),
            json!({
                "adapter": adapter,
                "address": field_value(doc, "opt-address"),
                "sipDomain": field_value(doc, "opt-domain"),
                "dialPrefix": field_value(doc, "opt-prefix"),
            }),
        );
    }
    let region = field_value(doc, "opt-region");
    if !region.is_empty() {
        out.insert(settings::KEY_REGION.into(), Value::String(region));
    }
    // A number, or what was typed (the worker reports a bad value).
    let pause = field_value(doc, "opt-dtmf-pause");
    if !pause.is_empty() {
        let v = pause
            .parse::<u32>()
            .map_or(Value::String(pause), Value::from);
        out.insert(settings::KEY_DTMF_PAUSE.into(), v);
    }
    Value::Object(out)
}

fn action(name: &str, el: &Element) -> Option<UiCommand> {
    let doc = page::document().ok()?;
    match name {
        "save-options" => Some(UiCommand::SaveOptions {
            options: collect_options(&doc),
        }),
        other => match crate::mail::action(other, &ChromeI18n) {
            Some(cmd) => cmd,
            None => crate::account::action(other, el),
        },
    }
}

/// Renders the options page into `#app`.
pub fn render(
    doc: &Document,
    state: Option<&UiState>,
    t: &dyn Translate,
    facts: &Facts,
) -> Result<(), JsError> {
    let app = doc
        .get_element_by_id("app")
        .ok_or_else(|| JsError("#app missing".into()))?;
    let title = dom::el(doc, "h1", "brand", Some(&t.get("optionsTitle")))?;

    let about = section(doc, &t.get("aboutHeading"), "about-heading")?;
    about.add(&value_row(
        doc,
        t,
        &t.get("extensionIdLabel"),
        &facts.extension_id,
        &t.get("copyExtensionId"),
        "extension-id",
    )?)?;
    about.add(&value_row(
        doc,
        t,
        &t.get("redirectUriLabel"),
        &facts.redirect_uri,
        &t.get("copyRedirectUri"),
        "redirect-uri",
    )?)?;
    about.add(&dom::el(
        doc,
        "p",
        "muted",
        Some(&t.get("redirectUriHelp")),
    )?)?;
    if let Some(s) = state {
        // How Ringside got here, and a downloaded update waiting for the call to end.
        let installed = match s.install_type.as_deref() {
            Some("admin") => Some(t.get("installedByAdmin")),
            Some("development") => Some(t.get("installedUnpacked")),
            _ => None,
        };
        if let Some(text) = installed {
            let p = dom::el(doc, "p", "", Some(&text))?;
            p.set_attribute("data-testid", "install-type")?;
            p.set_attribute("data-install-type", s.install_type.as_deref().unwrap_or(""))?;
            about.add(&p)?;
        }
        if let Some(v) = &s.update_pending {
            let p = dom::el(
                doc,
                "p",
                "",
                Some(&t.message("updateAfterCall", std::slice::from_ref(v))),
            )?;
            p.set_attribute("role", "status")?;
            about.add(&p)?;
        }
    }

    let host = section(doc, &t.get("hostSectionTitle"), "host-heading")?;
    let status = state
        .map(|s| s.host.clone())
        .unwrap_or(HostStatus::Connecting);
    host.add(&dom::host_card(
        doc,
        &ui::host_view(&status, facts.browser, &facts.extension_id),
        t,
    )?)?;
    if let Some(s) = state {
        host.add(&dom::el(doc, "h3", "", Some(&t.get("diagnosticsHeading")))?)?;
        host.add(&dom::diagnostics(doc, s, t)?)?;
    }

    let pages = section(doc, &t.get("pagesHeading"), "pages-heading")?;
    pages.add(&dom::pages(
        doc,
        state.map(|s| s.pages.as_slice()).unwrap_or(&[]),
        t,
    )?)?;

    let mut parts = vec![title];
    if let Some(s) = state {
        parts.extend(problems_block(doc, t, &s.settings)?);
        parts.push(crate::account::card(
            doc,
            s,
            t,
            crate::account::Place::Options,
        )?);
        parts.push(calling_section(
            doc,
            t,
            &s.settings,
            &s.raw_options,
            &s.host,
        )?);
        parts.push(crate::mail::options_section(doc, s, t)?);
    }
    parts.push(crate::shortcuts_view::section(doc, t, facts.browser)?);
    parts.extend([about, host, pages]);
    dom::replace_children(&app, &parts)
}

/// Entry point called by options.js.
#[wasm_bindgen]
pub fn options_main() -> Result<(), JsValue> {
    let facts = Rc::new(Facts {
        extension_id: crate::chrome::runtime_id(),
        redirect_uri: crate::chrome::identity_redirect_url(),
        browser: page::browser(),
    });
    page::start(
        "optionsTitle",
        Rc::new(move |doc, state| render(doc, state, &ChromeI18n, &facts)),
        Rc::new(action),
    )?;
    crate::shortcuts_view::load();
    Ok(())
}
