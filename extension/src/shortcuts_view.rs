//! The options page's keyboard shortcuts: each command (`ringside_core::
//! shortcuts`), the key the browser has for it now (`commands.getAll`), and
//! where the agent changes them (the browser owns the keys).

use std::cell::RefCell;

use ringside_core::browser::Browser;
use ringside_core::shortcuts::{self, Shortcut};
use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::Translate;

thread_local! {
    /// (command, key) as the browser said; None until it answered.
    static KEYS: RefCell<Option<Vec<(String, String)>>> = const { RefCell::new(None) };
}

/// Asks the browser for the current keys, then renders again.
pub fn load() {
    wasm_bindgen_futures::spawn_local(async {
        let keys = crate::chrome::command_keys().await.unwrap_or_default();
        KEYS.with(|k| *k.borrow_mut() = Some(keys));
        crate::page::rerender();
    });
}

/// The section: a list of command and key, then how to change them.
pub fn section(doc: &Document, t: &dyn Translate, browser: Browser) -> Result<Element, JsError> {
    let sec = dom::el(doc, "section", "panel", None)?;
    sec.set_attribute("aria-labelledby", "shortcuts-heading")?;
    sec.set_attribute("data-testid", "shortcuts")?;
    let h = dom::el(doc, "h2", "", Some(&t.get("shortcutsHeading")))?;
    h.set_id("shortcuts-heading");
    sec.add(&h)?;
    let keys = KEYS.with(|k| k.borrow().clone()).unwrap_or_default();
    let list = dom::el(doc, "dl", "shortcuts", None)?;
    for s in Shortcut::ALL {
        let row = dom::el(doc, "div", "shortcut-row", None)?;
        row.set_attribute("data-command", s.command())?;
        row.add(&dom::el(doc, "dt", "", Some(&t.get(s.message_key())))?)?;
        let key = keys
            .iter()
            .find(|(name, _)| name == s.command())
            .map(|(_, k)| k.clone())
            .filter(|k| !k.is_empty());
        let dd = match key {
            Some(k) => dom::el(doc, "dd", "", Some(&k))?,
            None => dom::el(doc, "dd", "muted", Some(&t.get("shortcutNotSet")))?,
        };
        dd.set_attribute("data-testid", "shortcut-key")?;
        row.add(&dd)?;
        list.add(&row)?;
    }
    sec.add(&list)?;
    let how = t.get(shortcuts::how_to_change_key(browser == Browser::Firefox));
    let p = dom::el(doc, "p", "muted", Some(&how))?;
    p.set_attribute("data-testid", "shortcuts-how")?;
    sec.add(&p)?;
    Ok(sec)
}
