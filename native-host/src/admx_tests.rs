//! The administrative templates read back as XML: well-formed, every schema
//! key present for both browsers and in every language, every string and
//! presentation they reference defined, and the same registry keys and value
//! names as the `.reg` files.
use std::collections::BTreeSet;

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::Value;

use super::*;
use crate::deploy::{self as host_deploy, MANAGED_SCHEMA};

fn schema() -> Value {
    serde_json::from_str(MANAGED_SCHEMA).unwrap()
}

fn deployment() -> Deployment {
    Deployment {
        extension_id: "fempdkhheodefkjhkbekalfieneojckb".into(),
        update_url: "https://deploy.example.com/ringside/updates.xml".into(),
        config: deploy::example_config(&schema()).unwrap(),
        firefox_addon_id: "ringside@ringside.dev".into(),
        xpi_url: None,
    }
}

/// One element: its name, attributes (unescaped), and text inside it.
#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Element {
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `text` whole (failing on any XML error, mismatched end tags
/// included) and returns its elements in document order.
fn elements(text: &str) -> Vec<Element> {
    let mut reader = Reader::from_str(text);
    let mut out = vec![];
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(ev @ (Event::Start(_) | Event::Empty(_))) => {
                let (Event::Start(e) | Event::Empty(e)) = &ev else {
                    unreachable!()
                };
                let name = e.name().0.to_owned();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            a.key.0.to_owned(),
                            a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect();
                out.push(Element { name, attrs });
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "unclosed elements");
    out
}

fn reg_sections(reg: &str) -> BTreeSet<String> {
    reg.lines()
        .filter_map(|l| l.strip_prefix('[').and_then(|l| l.strip_suffix(']')))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_admx_and_every_adml_are_well_formed_and_define_what_is_referenced() {
    let d = deployment();
    let admx_text = admx(&d, &schema());
    let admx = elements(&admx_text);
    assert_eq!(admx[0].name, "policyDefinitions");
    let refs = |kind: &str| -> BTreeSet<String> {
        admx.iter()
            .flat_map(|e| e.attrs.iter().map(|(_, v)| v.clone()))
            .filter_map(|v| {
                v.strip_prefix(&format!("$({kind}."))
                    .and_then(|v| v.strip_suffix(')'))
                    .map(str::to_owned)
            })
            .collect()
    };
    let strings = refs("string");
    let presentations = refs("presentation");
    assert!(strings.contains("ForceInstall") && presentations.contains("Edge_dialer"));
    let mut first_ids = None;
    for lang in LANGUAGES {
        let adml = elements(&adml(&d, &schema(), lang));
        assert_eq!(adml[0].name, "policyDefinitionResources");
        let ids = |name: &str| -> BTreeSet<String> {
            adml.iter()
                .filter(|e| e.name == name)
                .map(|e| e.attr("id").unwrap().to_owned())
                .collect()
        };
        let defined = ids("string");
        let missing: Vec<_> = strings.difference(&defined).collect();
        assert!(
            missing.is_empty(),
            "{lang}: strings {missing:?} not defined"
        );
        let shown = ids("presentation");
        let missing: Vec<_> = presentations.difference(&shown).collect();
        assert!(
            missing.is_empty(),
            "{lang}: presentations {missing:?} not defined"
        );
        // Every language defines the same ids.
        match &first_ids {
            None => first_ids = Some((defined, shown)),
            Some(first) => assert_eq!(first, &(defined, shown), "{lang}"),
        }
    }
}

#[test]
fn every_schema_key_is_a_policy_for_chrome_and_edge_in_every_language() {
    let d = deployment();
    let admx = elements(&admx(&d, &schema()));
    let policies: BTreeSet<&str> = admx
        .iter()
        .filter(|e| e.name == "policy")
        .map(|e| e.attr("name").unwrap())
        .collect();
    for key in deploy::schema_keys(&schema()) {
        for p in ["Chrome", "Edge"] {
            assert!(
                policies.contains(format!("{p}_{key}").as_str()),
                "{p}_{key} missing"
            );
        }
        assert!(
            admx.iter()
                .any(|e| e.attr("valueName") == Some(key.as_str())),
            "no value named {key}"
        );
        for lang in ["fr-FR", "de-DE"] {
            assert!(translated(lang, &key).is_some(), "{key} has no {lang} text");
        }
    }
    // The French file is French (not the English fallback).
    let fr = adml(&d, &schema(), "fr-FR");
    assert!(fr.contains(
        "<string id=\"siteAllowList\">Sites où les boutons d'appel apparaissent</string>"
    ));
    assert!(adml(&d, &schema(), "de-DE").contains("Firmenverzeichnis synchronisieren"));
}

#[test]
fn the_registry_keys_and_value_names_are_the_reg_files() {
    let d = deployment();
    let admx = elements(&admx(&d, &schema()));
    for b in BROWSERS {
        let reg = host_deploy::windows_policy_reg(&d, b);
        let sections = reg_sections(&reg);
        let base = windows_policy_key(b);
        let keys: BTreeSet<String> = admx
            .iter()
            .filter_map(|e| e.attr("key"))
            .filter(|k| k.starts_with(base))
            .map(|k| format!(r"HKEY_LOCAL_MACHINE\{k}"))
            .collect();
        assert_eq!(keys, sections, "{}", b.display_name());
        // The settings' value names are the .reg's, in the settings key.
        let settings = settings_key(b, &d.extension_id);
        let in_admx: BTreeSet<String> = admx
            .iter()
            .filter(|e| e.name == "policy" && e.attr("key") == Some(settings.as_str()))
            .map(|e| {
                e.attr("name")
                    .unwrap()
                    .split_once('_')
                    .unwrap()
                    .1
                    .to_owned()
            })
            .collect();
        let in_reg: BTreeSet<String> = reg
            .split(&format!("[HKEY_LOCAL_MACHINE\\{settings}]\r\n"))
            .nth(1)
            .unwrap()
            .lines()
            .filter_map(|l| {
                l.strip_prefix('"')?
                    .split_once("\"=")
                    .map(|(k, _)| k.to_owned())
            })
            .collect();
        assert_eq!(in_admx, in_reg);
    }
}

#[test]
fn types_follow_the_reg_files_and_defaults_are_the_deployments() {
    let d = deployment();
    let text = admx(&d, &schema());
    assert!(
        text.contains("<boolean id=\"contactsDirectory_Value\" valueName=\"contactsDirectory\">")
    );
    assert!(
        text.contains(
            "<decimal id=\"signOutGraceMinutes_Value\" valueName=\"signOutGraceMinutes\""
        )
    );
    assert!(
        text.contains(
            "<enum id=\"signInMethod_Value\" valueName=\"signInMethod\" required=\"true\">"
        )
    );
    assert!(text.contains("<text id=\"siteBlockList_Value\" valueName=\"siteBlockList\""));
    let en = adml(&d, &schema(), "en-US");
    // Lists are JSON text, shown with the deployment's value.
    assert!(en.contains("<defaultValue>[&quot;bank.example.com&quot;]</defaultValue>"));
    assert!(en.contains(
        "<defaultValue>fempdkhheodefkjhkbekalfieneojckb;https://deploy.example.com/ringside/updates.xml</defaultValue>"
    ));
    assert!(
        en.contains("<decimalTextBox refId=\"signOutGraceMinutes_Value\" defaultValue=\"60\">")
    );
}

#[test]
fn deploy_files_writes_the_templates_in_the_policy_definitions_layout() {
    let files = host_deploy::files(&deployment()).unwrap();
    for p in [
        "policies/windows/admx/ringside.admx",
        "policies/windows/admx/en-US/ringside.adml",
        "policies/windows/admx/fr-FR/ringside.adml",
        "policies/windows/admx/de-DE/ringside.adml",
    ] {
        assert!(
            files.iter().any(|f| f.path == std::path::Path::new(p)),
            "{p} not written"
        );
    }
}
