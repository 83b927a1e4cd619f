//! The three locales stay in step: same keys, same substitutions, and every
//! key the core renders exists. Reads extension/static/_locales directly.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::collections::BTreeMap;

use serde_json::Value;

fn load(lang: &str) -> BTreeMap<String, String> {
    let path = format!(
        "{}/../extension/static/_locales/{lang}/messages.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, m)| {
            let msg = m["message"]
                .as_str()
                .unwrap_or_else(|| panic!("{lang}/{k}: no message"));
            (k.clone(), msg.to_owned())
        })
        .collect()
}

fn substitutions(msg: &str) -> Vec<char> {
    let mut subs: Vec<char> = msg
        .as_bytes()
        .windows(2)
        .filter(|w| w[0] == b'$' && w[1].is_ascii_digit())
        .map(|w| w[1] as char)
        .collect();
    subs.sort();
    subs.dedup();
    subs
}

#[test]
fn locales_have_the_same_keys_and_substitutions() {
    let en = load("en");
    for lang in ["fr", "de"] {
        let other = load(lang);
        let missing: Vec<_> = en.keys().filter(|k| !other.contains_key(*k)).collect();
        let extra: Vec<_> = other.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        assert!(extra.is_empty(), "{lang} has keys en lacks: {extra:?}");
        for (k, msg) in &en {
            assert_eq!(
                substitutions(msg),
                substitutions(&other[k]),
                "{lang}/{k}: substitutions differ from en"
            );
            assert!(!other[k].trim().is_empty(), "{lang}/{k} is empty");
        }
    }
}

#[test]
fn every_core_key_exists() {
    let en = load("en");
    for key in ringside_core::ui::MESSAGE_KEYS
        .iter()
        .chain(ringside_core::calls::MESSAGE_KEYS)
        .chain(ringside_core::auth::MESSAGE_KEYS)
        .chain(ringside_core::auth::session::MESSAGE_KEYS)
        .chain(ringside_core::auth::session::UI_KEYS)
        .chain(ringside_core::auth::revocation::MESSAGE_KEYS)
        .chain(ringside_core::mail::MESSAGE_KEYS)
        .chain(ringside_core::context::MESSAGE_KEYS)
        .chain(ringside_core::dial::DialRisk::MESSAGE_KEYS)
        .chain(ringside_core::confirm::MESSAGE_KEYS)
        .chain(ringside_core::page_budget::MESSAGE_KEYS)
        .chain(ringside_core::dialers::MESSAGE_KEYS)
        .chain(ringside_core::worker::call_out::MESSAGE_KEYS)
    {
        assert!(en.contains_key(*key), "en lacks {key}");
    }
}

/// Every key the extension's pages ask for by name (`t.get("…")`,
/// `t.message("…", …)`, `ChromeI18n.get("…")`) exists in en, so no page shows
/// a raw key. Reads extension/src directly.
#[test]
fn every_key_the_extension_names_exists() {
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                sources(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let en = load("en");
    let mut files = vec![];
    sources(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../extension/src"),
        &mut files,
    );
    let mut named = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for pattern in ["t.get(\"", "t.message(\"", "ChromeI18n.get(\""] {
            for (at, _) in text.match_indices(pattern) {
                // `t.get`, not `object.get`.
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &text[at + pattern.len()..];
                let key: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                named += 1;
                assert!(en.contains_key(&key), "{}: en lacks {key}", f.display());
            }
        }
    }
    assert!(
        named > 50,
        "the scan found only {named} keys: is the pattern stale?"
    );
}
