//! `deploy-files`: everything an admin copies to machines or hands to their
//! device management, generated from one deployment (extension id, update
//! URL, managed configuration; see `ringside_core::deploy`):
//!
//! - policy templates: the Linux JSON policy file for Chrome, Chromium and
//!   Edge, a Windows `.reg` per browser, one macOS `.mobileconfig`, and the
//!   Group Policy / Intune administrative templates (`admx.rs`);
//! - the system-level native host registration for macOS and Windows
//!   (manifests, the host's own allow-list, the registry entries).
//!
//! Linux hosts are registered by the Debian package (`scripts/package`),
//! whose maintainer script runs `install --system`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ringside_core::browser::Browser;
use ringside_core::deploy::{self, Deployment};
use ringside_core::extension_id;
use ringside_core::protocol::HOST_NAME;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::install::{HostConfig, HostManifest};
use crate::locations::{self, Dirs, Os, Scope};

/// The extension's managed storage schema, which the templates follow.
pub const MANAGED_SCHEMA: &str = include_str!("../../extension/static/managed_schema.json");

/// The Chromium browsers an enterprise deploys to.
pub const BROWSERS: [Browser; 3] = [Browser::Chrome, Browser::Chromium, Browser::Edge];

/// Where the host binary is installed on each OS by the generated files.
pub fn host_binary(os: Os) -> &'static str {
    match os {
        Os::Linux => "/usr/bin/ringside-host",
        Os::MacOs => "/Library/Application Support/Ringside/ringside-host",
        Os::Windows => r"C:\Program Files\Ringside\ringside-host.exe",
    }
}

/// The standard system directories of `os` (no user: only system scope).
pub fn system_dirs(os: Os) -> Dirs {
    Dirs {
        os,
        home: PathBuf::from("/nonexistent"),
        config_home: PathBuf::from("/nonexistent"),
        local_app_data: PathBuf::from(r"C:\nonexistent"),
        program_data: PathBuf::from(r"C:\ProgramData"),
        root: if os == Os::Windows {
            PathBuf::new()
        } else {
            PathBuf::from("/")
        },
    }
}

/// Where each browser reads its Linux managed policy files.
pub fn linux_policy_dir(browser: Browser) -> &'static str {
    match browser {
        Browser::Chrome => "/etc/opt/chrome/policies/managed",
        Browser::Edge => "/etc/opt/edge/policies/managed",
        _ => "/etc/chromium/policies/managed",
    }
}

/// The policy registry path of a browser on Windows (under HKLM).
pub fn windows_policy_key(browser: Browser) -> &'static str {
    match browser {
        Browser::Chrome => r"SOFTWARE\Policies\Google\Chrome",
        Browser::Edge => r"SOFTWARE\Policies\Microsoft\Edge",
        _ => r"SOFTWARE\Policies\Chromium",
    }
}

/// The macOS preference domain of a browser's policies.
fn macos_domain(browser: Browser) -> &'static str {
    match browser {
        Browser::Chrome => "com.google.Chrome",
        Browser::Edge => "com.microsoft.Edge",
        _ => "org.chromium.Chromium",
    }
}

fn reg_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A `.reg` value for a policy value: strings as REG_SZ, whole numbers and
/// booleans as REG_DWORD, lists and objects as REG_SZ holding JSON (which
/// Chromium parses against the extension's schema).
fn reg_value(v: &Value) -> String {
    match v {
        Value::Bool(b) => format!("dword:{:08x}", u32::from(*b)),
        Value::Number(n) if n.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)) => {
            format!("dword:{:08x}", n.as_u64().unwrap_or(0))
        }
        Value::String(s) => reg_string(s),
        other => reg_string(&other.to_string()),
    }
}

/// The Windows `.reg` that deploys Ringside to one browser: force-install,
/// the host allowed, and the managed configuration.
pub fn windows_policy_reg(d: &Deployment, browser: Browser) -> String {
    let base = format!(r"HKEY_LOCAL_MACHINE\{}", windows_policy_key(browser));
    let mut out = String::from("Windows Registry Editor Version 5.00\r\n\r\n");
    let _ = write!(
        out,
        "; Ringside for {}: force-install, native host allowed, managed configuration.\r\n\
         ; Off-store force-install needs a domain-joined or cloud-managed Windows machine.\r\n\r\n",
        browser.display_name()
    );
    let _ = write!(
        out,
        "[{base}\\ExtensionInstallForcelist]\r\n\"1\"={}\r\n\r\n",
        reg_string(&deploy::forcelist_entry(d))
    );
    let _ = write!(
        out,
        "[{base}\\NativeMessagingAllowlist]\r\n\"1\"={}\r\n\r\n",
        reg_string(HOST_NAME)
    );
    let _ = write!(
        out,
        "[{base}\\3rdparty\\extensions\\{}\\policy]\r\n",
        d.extension_id
    );
    for (k, v) in &d.config {
        let _ = write!(out, "{}={}\r\n", reg_string(k), reg_value(v));
    }
    out
}

fn to_plist(v: &Value) -> plist::Value {
    match v {
        Value::Null => plist::Value::String(String::new()),
        Value::Bool(b) => plist::Value::Boolean(*b),
        Value::Number(n) => n
            .as_i64()
            .map(|i| plist::Value::Integer(i.into()))
            .unwrap_or_else(|| plist::Value::Real(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => plist::Value::String(s.clone()),
        Value::Array(a) => plist::Value::Array(a.iter().map(to_plist).collect()),
        Value::Object(o) => plist::Value::Dictionary(
            o.iter()
                .map(|(k, v)| (k.clone(), to_plist(v)))
                .collect::<plist::Dictionary>(),
        ),
    }
}

/// A stable UUID for a payload identifier (profiles are re-deployed over
/// themselves, so the same input gives the same UUIDs).
fn payload_uuid(identifier: &str) -> String {
    let h = Sha256::digest(identifier.as_bytes());
    let hex: String = h.iter().take(16).map(|b| format!("{b:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn payload(kind: &str, display: &str, mut content: plist::Dictionary) -> plist::Value {
    let identifier = format!("com.ringside.deploy.{kind}");
    content.insert("PayloadType".into(), kind.into());
    content.insert("PayloadIdentifier".into(), identifier.clone().into());
    content.insert("PayloadUUID".into(), payload_uuid(&identifier).into());
    content.insert("PayloadVersion".into(), 1.into());
    content.insert("PayloadDisplayName".into(), display.into());
    plist::Value::Dictionary(content)
}

/// The macOS configuration profile: for Chrome, Chromium and Edge, the
/// browser payload (force-install, host allowed) and the extension's payload
/// (`<domain>.extensions.<id>`, the managed configuration).
pub fn macos_mobileconfig(d: &Deployment) -> Result<String, plist::Error> {
    let mut payloads = vec![];
    for browser in BROWSERS {
        let domain = macos_domain(browser);
        let mut browser_keys = plist::Dictionary::new();
        browser_keys.insert(
            "ExtensionInstallForcelist".into(),
            plist::Value::Array(vec![deploy::forcelist_entry(d).into()]),
        );
        browser_keys.insert(
            "NativeMessagingAllowlist".into(),
            plist::Value::Array(vec![HOST_NAME.into()]),
        );
        payloads.push(payload(
            domain,
            &format!("{}: install Ringside", browser.display_name()),
            browser_keys,
        ));
        let config = match to_plist(&Value::Object(d.config.clone())) {
            plist::Value::Dictionary(c) => c,
            _ => plist::Dictionary::new(),
        };
        payloads.push(payload(
            &format!("{domain}.extensions.{}", d.extension_id),
            &format!("{}: Ringside settings", browser.display_name()),
            config,
        ));
    }
    let mut top = plist::Dictionary::new();
    top.insert("PayloadContent".into(), plist::Value::Array(payloads));
    top.insert("PayloadDisplayName".into(), "Ringside".into());
    top.insert(
        "PayloadDescription".into(),
        "Installs the Ringside extension in Chrome, Chromium and Edge and sets its configuration."
            .into(),
    );
    top.insert("PayloadIdentifier".into(), "com.ringside.deploy".into());
    top.insert("PayloadType".into(), "Configuration".into());
    top.insert("PayloadScope".into(), "System".into());
    top.insert(
        "PayloadUUID".into(),
        payload_uuid(&format!("com.ringside.deploy {}", d.extension_id)).into(),
    );
    top.insert("PayloadVersion".into(), 1.into());
    let mut buf = vec![];
    plist::Value::Dictionary(top).to_writer_xml(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The host manifest every system-level registration on `os` points to.
pub fn host_manifest(os: Os, extension_id: &str) -> HostManifest {
    HostManifest {
        name: HOST_NAME.to_owned(),
        description: "Ringside native host".to_owned(),
        path: PathBuf::from(host_binary(os)),
        kind: "stdio".to_owned(),
        allowed_origins: vec![extension_id::origin(extension_id)],
        allowed_extensions: vec![],
    }
}

/// The host's system config on `os`: the extension allowed to start it.
pub fn host_config(extension_id: &str) -> HostConfig {
    HostConfig {
        allowed_origins: vec![extension_id::origin(extension_id)],
        ..HostConfig::default()
    }
}

/// The `.reg` registering the host with Chrome, Chromium and Edge for every
/// user of a Windows machine (each key's default value is a manifest path).
pub fn windows_host_reg() -> String {
    let dirs = system_dirs(Os::Windows);
    let mut out = String::from(
        "Windows Registry Editor Version 5.00\r\n\r\n\
         ; Registers Ringside's native host for every user. Copy the manifests first.\r\n\r\n",
    );
    for browser in BROWSERS {
        let Ok(loc) = locations::location(&dirs, browser, &Scope::System) else {
            continue;
        };
        let key = loc.registry_key.unwrap_or_default();
        // Generated on any OS: the path is Windows's, with its separators.
        let manifest = loc.manifest.to_string_lossy().replace('/', "\\");
        let _ = write!(out, "[{key}]\r\n@={}\r\n\r\n", reg_string(&manifest));
    }
    out
}

/// One generated file: where it goes in the output folder, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    pub path: PathBuf,
    pub text: String,
}

fn json_text(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// Every file `deploy-files` writes, relative to its output folder.
pub fn files(d: &Deployment) -> Result<Vec<OutFile>, plist::Error> {
    let mut out = vec![];
    let policy = json_text(&deploy::linux_policy(d));
    for browser in BROWSERS {
        out.push(OutFile {
            path: Path::new("policies/linux")
                .join(browser.cli_name())
                .join("ringside.json"),
            text: policy.clone(),
        });
        out.push(OutFile {
            path: Path::new("policies/windows")
                .join(format!("ringside-{}.reg", browser.cli_name())),
            text: windows_policy_reg(d, browser),
        });
    }
    // Group Policy / Intune: the folder mirrors PolicyDefinitions
    // (`ringside.admx` beside one folder per language).
    let schema: Value = serde_json::from_str(MANAGED_SCHEMA).unwrap_or_default();
    out.push(OutFile {
        path: "policies/windows/admx/ringside.admx".into(),
        text: crate::admx::admx(d, &schema),
    });
    for lang in crate::admx::LANGUAGES {
        out.push(OutFile {
            path: Path::new("policies/windows/admx")
                .join(lang)
                .join("ringside.adml"),
            text: crate::admx::adml(d, &schema, lang),
        });
    }
    out.push(OutFile {
        path: "policies/macos/ringside.mobileconfig".into(),
        text: macos_mobileconfig(d)?,
    });
    // macOS: the folder mirrors the disk (`sudo cp -R host/macos/ /`).
    let mac = system_dirs(Os::MacOs);
    for browser in BROWSERS {
        if let Ok(loc) = locations::location(&mac, browser, &Scope::System) {
            out.push(OutFile {
                path: Path::new("host/macos")
                    .join(loc.manifest.strip_prefix("/").unwrap_or(&loc.manifest)),
                text: json_text(&host_manifest(Os::MacOs, &d.extension_id)),
            });
        }
    }
    let mac_config = locations::config_file(&mac, true);
    out.push(OutFile {
        path: Path::new("host/macos").join(mac_config.strip_prefix("/").unwrap_or(&mac_config)),
        text: json_text(&host_config(&d.extension_id)),
    });
    // Windows: one manifest per browser under C:\ProgramData\Ringside\<browser>\.
    for browser in BROWSERS {
        out.push(OutFile {
            path: Path::new("host/windows/ProgramData/Ringside")
                .join(browser.cli_name())
                .join(format!("{HOST_NAME}.json")),
            text: json_text(&host_manifest(Os::Windows, &d.extension_id)),
        });
    }
    out.push(OutFile {
        path: "host/windows/ProgramData/Ringside/host.json".into(),
        text: json_text(&host_config(&d.extension_id)),
    });
    out.push(OutFile {
        path: "host/windows/ringside-host.reg".into(),
        text: windows_host_reg(),
    });
    // Firefox: the policy file (every OS) and the Linux managed-storage
    // manifest, named after the add-on id as Firefox looks it up.
    out.push(OutFile {
        path: "policies/firefox/policies.json".into(),
        text: json_text(&deploy::firefox_policies(d)),
    });
    out.push(OutFile {
        path: Path::new("policies/firefox/managed-storage")
            .join(format!("{}.json", d.firefox_addon_id)),
        text: json_text(&deploy::firefox_managed_storage(d)),
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Deployment {
        let schema: Value =
            serde_json::from_str(include_str!("../../extension/static/managed_schema.json"))
                .unwrap();
        Deployment {
            extension_id: "fempdkhheodefkjhkbekalfieneojckb".into(),
            update_url: "https://deploy.example.com/ringside/updates.xml".into(),
            config: deploy::example_config(&schema).unwrap(),
            firefox_addon_id: "ringside@ringside.dev".into(),
            xpi_url: None,
        }
    }

    #[test]
    fn windows_policy_values_have_registry_types() {
        let reg = windows_policy_reg(&deployment(), Browser::Edge);
        assert!(reg.starts_with("Windows Registry Editor Version 5.00\r\n"));
        assert!(reg.contains(
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Edge\\ExtensionInstallForcelist]\r\n\"1\"=\"fempdkhheodefkjhkbekalfieneojckb;https://deploy.example.com/ringside/updates.xml\""
        ));
        assert!(reg.contains(
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Edge\\3rdparty\\extensions\\fempdkhheodefkjhkbekalfieneojckb\\policy]"
        ));
        assert!(reg.contains("\"signOutGraceMinutes\"=dword:0000003c\r\n"));
        assert!(reg.contains("\"signInMethod\"=\"google\"\r\n"));
        // Lists are JSON in a string, quotes escaped.
        assert!(reg.contains("\"siteBlockList\"=\"[\\\"bank.example.com\\\"]\"\r\n"));
        assert_eq!(reg_value(&json!("C:\\x")), "\"C:\\\\x\"");
        assert_eq!(reg_value(&json!(true)), "dword:00000001");
    }

    #[test]
    fn the_mobileconfig_is_a_plist_with_both_payloads_per_browser() {
        let text = macos_mobileconfig(&deployment()).unwrap();
        let v = plist::Value::from_reader_xml(text.as_bytes()).unwrap();
        let top = v.as_dictionary().unwrap();
        assert_eq!(top["PayloadType"].as_string(), Some("Configuration"));
        let payloads = top["PayloadContent"].as_array().unwrap();
        assert_eq!(payloads.len(), 6);
        let types: Vec<&str> = payloads
            .iter()
            .map(|p| {
                p.as_dictionary().unwrap()["PayloadType"]
                    .as_string()
                    .unwrap()
            })
            .collect();
        assert!(types.contains(&"com.google.Chrome"));
        assert!(types.contains(&"com.microsoft.Edge.extensions.fempdkhheodefkjhkbekalfieneojckb"));
        let ext = payloads[1].as_dictionary().unwrap();
        assert_eq!(ext["signOutGraceMinutes"].as_signed_integer(), Some(60));
        assert_eq!(
            ext["dialer"].as_dictionary().unwrap()["adapter"].as_string(),
            Some("baresip")
        );
        // UUIDs are distinct and stable.
        let uuids: std::collections::BTreeSet<&str> = payloads
            .iter()
            .map(|p| {
                p.as_dictionary().unwrap()["PayloadUUID"]
                    .as_string()
                    .unwrap()
            })
            .collect();
        assert_eq!(uuids.len(), 6);
        assert_eq!(text, macos_mobileconfig(&deployment()).unwrap());
    }

    #[test]
    fn host_registrations_for_macos_and_windows() {
        let files = files(&deployment()).unwrap();
        let find = |p: &str| {
            files
                .iter()
                .find(|f| f.path == Path::new(p))
                .unwrap_or_else(|| panic!("{p} not generated"))
        };
        let m: HostManifest = serde_json::from_str(
            &find("host/macos/Library/Google/Chrome/NativeMessagingHosts/com.ringside.host.json")
                .text,
        )
        .unwrap();
        assert_eq!(m.path, PathBuf::from(host_binary(Os::MacOs)));
        assert_eq!(
            m.allowed_origins,
            vec!["chrome-extension://fempdkhheodefkjhkbekalfieneojckb/"]
        );
        find("host/macos/Library/Application Support/Ringside/host.json");
        let reg = &find("host/windows/ringside-host.reg").text;
        assert!(reg.contains(
            "[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\com.ringside.host]\r\n@=\"C:\\\\ProgramData\\\\Ringside\\\\edge\\\\com.ringside.host.json\""
        ));
        let w: HostManifest = serde_json::from_str(
            &find("host/windows/ProgramData/Ringside/chrome/com.ringside.host.json").text,
        )
        .unwrap();
        assert_eq!(w.path, PathBuf::from(host_binary(Os::Windows)));
        let linux: Value =
            serde_json::from_str(&find("policies/linux/edge/ringside.json").text).unwrap();
        assert_eq!(linux["NativeMessagingAllowlist"][0], HOST_NAME);
        find("policies/windows/ringside-chromium.reg");
    }

    #[test]
    fn firefox_gets_its_policy_file_and_managed_storage_with_the_same_settings() {
        let d = deployment();
        let files = files(&d).unwrap();
        let read = |p: &str| -> Value {
            let f = files.iter().find(|f| f.path == Path::new(p));
            serde_json::from_str(&f.unwrap_or_else(|| panic!("{p} not generated")).text).unwrap()
        };
        let policies = read("policies/firefox/policies.json");
        assert_eq!(
            policies["policies"]["3rdparty"]["Extensions"]["ringside@ringside.dev"],
            Value::Object(d.config.clone())
        );
        let storage = read("policies/firefox/managed-storage/ringside@ringside.dev.json");
        assert_eq!(storage["data"], Value::Object(d.config));
    }
}
