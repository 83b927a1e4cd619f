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
    {
        assert!(en.contains_key(*key), "en lacks {key}");
    }
}
