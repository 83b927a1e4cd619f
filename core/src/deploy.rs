//! Enterprise deployment: the example managed configuration the policy
//! templates are generated from, the Linux policy file (force-install, the
//! extension's `3rdparty` configuration, the native host allow-list), the
//! update manifest a self-hosted update URL serves, and Firefox's forms of the
//! same (`policies.json`, a managed-storage manifest).
//!
//! The templates come from the one schema (`managed_schema.json`): every
//! property of the schema gets its example here, and a test fails when a
//! schema key has none or an example does not pass `settings::merge`.

use serde_json::{Map, Value, json};

use crate::protocol::HOST_NAME;
use crate::settings;

/// What an admin deploys: which extension, from where, configured how.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub extension_id: String,
    /// The update manifest URL (`updates.xml`), or Chrome Web Store's
    /// `https://clients2.google.com/service/update2/crx` for a store build.
    pub update_url: String,
    /// The extension's managed configuration (keys of `managed_schema.json`).
    pub config: Map<String, Value>,
    /// The Firefox add-on id (manifest.json's `browser_specific_settings.gecko.id`).
    pub firefox_addon_id: String,
    /// Where the Mozilla-signed `.xpi` is served; `None`: Firefox's policy
    /// configures the add-on but does not install it.
    pub xpi_url: Option<String>,
}

/// The Chrome Web Store's update URL, for a store-published build.
pub const STORE_UPDATE_URL: &str = "https://clients2.google.com/service/update2/crx";

/// An example value for a schema key, valid for `settings::merge`.
pub fn example_value(key: &str) -> Option<Value> {
    Some(match key {
        settings::KEY_DIALER => json!({
            "adapter": "baresip",
            "address": "127.0.0.1:4444",
            "sipDomain": "pbx.example.com",
            "dialPrefix": ""
        }),
        settings::KEY_URL_SCHEMES => json!(["https", "dialpad"]),
        settings::KEY_REGION => json!("US"),
        settings::KEY_ALLOW => json!(["crm.example.com", "*.zendesk.com"]),
        settings::KEY_BLOCK => json!(["bank.example.com"]),
        settings::KEY_PLATFORM => json!("https://phone.example.com/api"),
        settings::KEY_PROVIDERS => json!([{
            "kind": "google",
            "clientId": "123456789012-abc.apps.googleusercontent.com",
            "allowedDomains": ["example.com"]
        }]),
        settings::KEY_SIGN_IN_METHOD => json!("google"),
        settings::KEY_PRIVILEGED => json!(["it-admin@example.com"]),
        settings::KEY_GRACE => json!(60),
        settings::KEY_IMAP => json!({"host": "imap.gmail.com", "port": 993}),
        settings::KEY_GOOGLE_API_ROOT => json!("https://www.googleapis.com"),
        settings::KEY_GRAPH_API_ROOT => json!(crate::contacts::graph::GRAPH_ROOT),
        settings::KEY_LANGUAGE => json!("en"),
        settings::KEY_CONTACTS_DIRECTORY => json!(true),
        settings::KEY_DND_ALLOWED => json!(true),
        settings::KEY_DTMF_PAUSE => json!(2000),
        _ => return None,
    })
}

/// The property names of a managed schema, in file order.
pub fn schema_keys(schema: &Value) -> Vec<String> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// An example configuration with every key of `schema`; `Err` names the
/// keys that have no example (the schema grew and this file did not).
pub fn example_config(schema: &Value) -> Result<Map<String, Value>, Vec<String>> {
    let mut out = Map::new();
    let mut missing = vec![];
    for key in schema_keys(schema) {
        match example_value(&key) {
            Some(v) => {
                out.insert(key, v);
            }
            None => missing.push(key),
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

/// `ExtensionInstallForcelist` entry: `<id>;<update url>`.
pub fn forcelist_entry(d: &Deployment) -> String {
    format!("{};{}", d.extension_id, d.update_url)
}

/// The JSON policy file for Chrome, Chromium and Edge on Linux
/// (`/etc/opt/chrome/policies/managed/`, `/etc/chromium/policies/managed/`,
/// `/etc/opt/edge/policies/managed/`): force-install, the host allowed,
/// and the extension's managed configuration.
pub fn linux_policy(d: &Deployment) -> Value {
    json!({
        "ExtensionInstallForcelist": [forcelist_entry(d)],
        "NativeMessagingAllowlist": [HOST_NAME],
        "3rdparty": {"extensions": {d.extension_id.clone(): Value::Object(d.config.clone())}}
    })
}

/// Firefox's enterprise policy file, `policies.json` (in `distribution/`
/// beside Firefox, `/etc/firefox/policies/` on Linux; Windows and macOS read
/// the same policies from Group Policy or a profile): the configuration under
/// `3rdparty.Extensions.<add-on id>`, and `ExtensionSettings` force-installing
/// the signed add-on when its URL is known.
pub fn firefox_policies(d: &Deployment) -> Value {
    let id = d.firefox_addon_id.clone();
    let mut policies = json!({
        "3rdparty": {"Extensions": {id.clone(): Value::Object(d.config.clone())}}
    });
    if let Some(url) = &d.xpi_url {
        policies["ExtensionSettings"] =
            json!({id: {"installation_mode": "force_installed", "install_url": url}});
    }
    json!({ "policies": policies })
}

/// Firefox's managed-storage manifest, `<add-on id>.json` in
/// `/usr/lib/mozilla/managed-storage/` (every user) or
/// `~/.mozilla/managed-storage/` (one user): the configuration alone.
pub fn firefox_managed_storage(d: &Deployment) -> Value {
    json!({
        "name": d.firefox_addon_id,
        "description": "Ringside",
        "type": "storage",
        "data": Value::Object(d.config.clone()),
    })
}

/// True for a Firefox add-on id: an email-like id (`name@domain`) or a GUID
/// in braces, as Mozilla accepts them, and nothing that needs escaping.
pub fn is_valid_addon_id(id: &str) -> bool {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-._".contains(c);
    let email = id.split_once('@').is_some_and(|(a, b)| {
        !b.is_empty()
            && id.chars().all(|c| plain(c) || c == '@')
            && !b.contains('@')
            && !a.is_empty()
    });
    let guid = id.len() == 38
        && id.starts_with('{')
        && id.ends_with('}')
        && id[1..37].chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    email || guid
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The update manifest (`updates.xml`, Omaha's gupdate format) served at the
/// update URL: where version `version` of the extension's CRX is.
pub fn update_manifest(extension_id: &str, version: &str, crx_url: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n\
         <gupdate xmlns='http://www.google.com/update2/response' protocol='2.0'>\n  \
         <app appid='{}'>\n    \
         <updatecheck codebase='{}' version='{}' />\n  \
         </app>\n\
         </gupdate>\n",
        xml_escape(extension_id),
        xml_escape(crx_url),
        xml_escape(version)
    )
}

/// True for a Chromium extension version: one to four dot-separated
/// integers, each at most 65535, no leading zeros.
pub fn is_valid_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    (1..=4).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u32>().is_ok_and(|n| n <= 65535)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        serde_json::from_str(include_str!("../../extension/static/managed_schema.json")).unwrap()
    }

    #[test]
    fn the_schema_covers_every_setting_and_nothing_else() {
        let mut keys = schema_keys(&schema());
        keys.sort();
        let mut settings_keys: Vec<String> =
            settings::ALL_KEYS.iter().map(|k| (*k).to_owned()).collect();
        settings_keys.sort();
        assert_eq!(keys, settings_keys);
        // Every property says what it is for, as the admin sees it.
        for (key, prop) in schema()["properties"].as_object().unwrap() {
            assert!(prop.get("title").is_some(), "{key} has no title");
            assert!(
                prop.get("description").is_some(),
                "{key} has no description"
            );
        }
    }

    #[test]
    fn the_example_configuration_is_valid_policy() {
        let config = example_config(&schema()).unwrap();
        let s = settings::merge(&Value::Object(config), &json!({}));
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.locked.len(), settings::ALL_KEYS.len());
        assert_eq!(s.language.as_deref(), Some("en"));
        assert_eq!(
            example_config(&json!({"properties": {"dialer": {}, "fax": {}}})),
            Err(vec!["fax".to_owned()])
        );
    }

    #[test]
    fn linux_policy_and_update_manifest() {
        let d = Deployment {
            extension_id: "fempdkhheodefkjhkbekalfieneojckb".into(),
            update_url: "https://deploy.example.com/ringside/updates.xml".into(),
            config: example_config(&schema()).unwrap(),
            firefox_addon_id: "ringside@ringside.dev".into(),
            xpi_url: None,
        };
        let p = linux_policy(&d);
        assert_eq!(
            p["ExtensionInstallForcelist"][0],
            "fempdkhheodefkjhkbekalfieneojckb;https://deploy.example.com/ringside/updates.xml"
        );
        assert_eq!(p["NativeMessagingAllowlist"][0], HOST_NAME);
        assert_eq!(
            p["3rdparty"]["extensions"]["fempdkhheodefkjhkbekalfieneojckb"]["signInMethod"],
            "google"
        );
        let xml = update_manifest(&d.extension_id, "1.2.3", "https://x/a.crx?v=1&b=<2>");
        assert!(xml.contains("appid='fempdkhheodefkjhkbekalfieneojckb'"));
        assert!(xml.contains("codebase='https://x/a.crx?v=1&amp;b=&lt;2&gt;'"));
        assert!(xml.contains("version='1.2.3'"));
    }

    #[test]
    fn firefox_policies_carry_the_same_settings_and_force_install_only_with_a_url() {
        let mut d = Deployment {
            extension_id: "fempdkhheodefkjhkbekalfieneojckb".into(),
            update_url: "https://deploy.example.com/ringside/updates.xml".into(),
            config: example_config(&schema()).unwrap(),
            firefox_addon_id: "ringside@ringside.dev".into(),
            xpi_url: None,
        };
        let p = firefox_policies(&d);
        let settings = &p["policies"]["3rdparty"]["Extensions"]["ringside@ringside.dev"];
        assert_eq!(settings, &Value::Object(d.config.clone()));
        assert!(p["policies"].get("ExtensionSettings").is_none());
        d.xpi_url = Some("https://deploy.example.com/ringside/ringside-1.2.3.xpi".into());
        let p = firefox_policies(&d);
        assert_eq!(
            p["policies"]["ExtensionSettings"]["ringside@ringside.dev"],
            json!({"installation_mode": "force_installed",
                   "install_url": "https://deploy.example.com/ringside/ringside-1.2.3.xpi"})
        );
        let m = firefox_managed_storage(&d);
        assert_eq!(m["name"], "ringside@ringside.dev");
        assert_eq!(m["type"], "storage");
        assert_eq!(m["data"], Value::Object(d.config));
    }

    #[test]
    fn addon_ids() {
        for ok in [
            "ringside@ringside.dev",
            "a@b",
            "{12345678-1234-1234-1234-123456789abc}",
        ] {
            assert!(is_valid_addon_id(ok), "{ok}");
        }
        for bad in [
            "", "ringside", "@x", "a@", "a@b@c", "a b@c", "a\"@c", "{1234}", "../x@y",
        ] {
            assert!(!is_valid_addon_id(bad), "{bad}");
        }
    }

    #[test]
    fn versions() {
        for ok in ["1", "0.1.0", "1.2.3.4", "65535.0"] {
            assert!(is_valid_version(ok), "{ok}");
        }
        for bad in ["", "1.", "01.2", "1.2.3.4.5", "1.65536", "1.a", "-1"] {
            assert!(!is_valid_version(bad), "{bad}");
        }
    }

    #[test]
    fn language_is_validated() {
        let s = settings::merge(&json!({"language": "fr-CA"}), &json!({}));
        assert_eq!(s.language.as_deref(), Some("fr"));
        let bad = settings::merge(&json!({"language": "klingon"}), &json!({}));
        assert_eq!(bad.language, None);
        assert!(bad.problems[0].message.contains("klingon"));
    }
}
