//! Every user-facing string goes through `_locales`: in the extension through
//! `chrome.i18n`, in browser tests through a catalog loaded from messages.json.

use std::cell::RefCell;
use std::collections::HashMap;

use ringside_core::ui::Text;

/// Looks up a message by key with `$1`..`$9` substitutions.
pub trait Translate {
    fn message(&self, key: &str, args: &[String]) -> String;

    fn text(&self, text: &Text) -> String {
        self.message(text.key, &text.args)
    }

    fn get(&self, key: &str) -> String {
        self.message(key, &[])
    }
}

/// `chrome.i18n`, in the browser's UI language.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChromeI18n;

impl Translate for ChromeI18n {
    fn message(&self, key: &str, args: &[String]) -> String {
        let m = crate::chrome::get_message(key, args);
        if m.is_empty() {
            // A missing key is a bug; show the key rather than nothing.
            crate::error::log_warn(&format!("missing message {key}"));
            key.to_owned()
        } else {
            m
        }
    }
}

thread_local! {
    /// The language policy forces (`language`), and its catalog.
    static FORCED: RefCell<Option<(String, Catalog)>> = const { RefCell::new(None) };
}

/// The message in the language policy forces, when one is forced and has it.
pub fn forced_message(key: &str, args: &[String]) -> Option<String> {
    FORCED.with(|f| {
        f.borrow()
            .as_ref()
            .filter(|(_, c)| c.messages.contains_key(key))
            .map(|(_, c)| c.message(key, args))
    })
}

/// The language policy forces, if any.
pub fn forced_language() -> Option<String> {
    FORCED.with(|f| f.borrow().as_ref().map(|(l, _)| l.clone()))
}

/// The language of what this page shows: the forced one, else the browser's.
pub fn ui_language() -> String {
    forced_language().unwrap_or_else(crate::chrome::ui_language)
}

/// Follows policy's `language`: loads `_locales/<lang>/messages.json` from
/// the extension, or goes back to the browser's language for None. True when
/// the language changed (the caller renders again).
pub async fn follow_language(lang: Option<&str>) -> bool {
    if forced_language().as_deref() == lang {
        return false;
    }
    let Some(lang) = lang else {
        FORCED.with(|f| *f.borrow_mut() = None);
        return true;
    };
    let catalog = crate::chrome::extension_json(&format!("_locales/{lang}/messages.json"))
        .await
        .and_then(|v| Catalog::from_js(v).ok());
    match catalog {
        Some(c) => {
            FORCED.with(|f| *f.borrow_mut() = Some((lang.to_owned(), c)));
            true
        }
        None => {
            // Core only lets shipped languages through; this is a packaging bug.
            crate::error::log_warn(&format!("cannot load the messages of {lang}"));
            false
        }
    }
}

/// A catalog parsed from a messages.json (tests, and anything outside an extension).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    messages: HashMap<String, String>,
}

/// One message of a messages.json (its description is not needed).
#[derive(serde::Deserialize)]
struct Entry {
    message: String,
}

impl Catalog {
    pub fn from_json(text: &str) -> Result<Catalog, serde_json::Error> {
        let map: HashMap<String, Entry> = serde_json::from_str(text)?;
        Ok(Catalog::from_entries(map))
    }

    /// The same from the parsed JSON (what the pages use: the browser parses
    /// it, so the UI module carries no JSON parser for it).
    #[cfg(feature = "ui")]
    pub fn from_js(v: wasm_bindgen::JsValue) -> Result<Catalog, crate::error::JsError> {
        let map: HashMap<String, Entry> = serde_wasm_bindgen::from_value(v)?;
        Ok(Catalog::from_entries(map))
    }

    /// The worker's module alone decodes JSON with serde_json only (one
    /// decoder per type, `ringside_core::json`): through the text.
    #[cfg(not(feature = "ui"))]
    pub fn from_js(v: wasm_bindgen::JsValue) -> Result<Catalog, crate::error::JsError> {
        let map: HashMap<String, Entry> = crate::error::js_to_json(&v)?;
        Ok(Catalog::from_entries(map))
    }

    fn from_entries(map: HashMap<String, Entry>) -> Catalog {
        Catalog {
            messages: map.into_iter().map(|(k, v)| (k, v.message)).collect(),
        }
    }
}

impl Translate for Catalog {
    fn message(&self, key: &str, args: &[String]) -> String {
        let Some(m) = self.messages.get(key) else {
            return format!("⟦{key}⟧");
        };
        let mut out = String::with_capacity(m.len());
        let mut chars = m.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' {
                match chars.peek().copied() {
                    Some('$') => {
                        chars.next();
                        out.push('$');
                    }
                    Some(d @ '1'..='9') => {
                        chars.next();
                        let i = (d as usize) - ('1' as usize);
                        out.push_str(args.get(i).map(String::as_str).unwrap_or(""));
                    }
                    _ => out.push('$'),
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
