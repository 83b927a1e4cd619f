//! `install` / `uninstall`: write (or remove) the host manifest where a browser
//! looks for it, and keep the host's own allow-list and install records in step.
//!
//! The allow-list (`allowed_origins` in the host's config file) is what the host
//! checks argv[1] against at launch. `install` adds the extension's origin to the
//! config of its scope (user or system; a profile install counts as user);
//! `uninstall` removes the registration and any origin no remaining registration
//! of that config names.

use std::fs;
use std::path::{Path, PathBuf};

use ringside_core::browser::Browser;
use ringside_core::extension_id;
use ringside_core::protocol::HOST_NAME;
use serde::{Deserialize, Serialize};

use crate::locations::{self, Dirs, Location, LocationError, Scope};

/// The Firefox add-on id of this repository's build (manifest.json's
/// `browser_specific_settings.gecko.id`), allowed by `--dev`.
pub const FIREFOX_ADDON_ID: &str = "ringside@ringside.dev";

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Location(#[from] LocationError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON ({source}); fix or delete it and run the command again")]
    BadJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "`{0}` is not an extension id: it has 32 letters from a to p (chrome://extensions shows it)"
    )]
    BadExtensionId(String),
    #[error("registry: {0}")]
    Registry(String),
    #[error(
        "no extension id given. Pass `--extension-id <id>`: the id of the Ringside extension your agents run ({how}). For a development setup with the development build (id {dev}), pass `--dev` instead."
    )]
    NoExtensionId {
        how: &'static str,
        dev: &'static str,
    },
}

/// The extension `install` allow-lists: the one named, else the development
/// build's id, but only when the person asked for a development setup with
/// `--dev`. The development key is committed, so anyone can build an
/// extension with that id; a release install must name its own.
pub fn extension_id_to_allow(
    browser: Browser,
    given: Option<&str>,
    dev: bool,
) -> Result<String, InstallError> {
    let dev_id = if browser == Browser::Firefox {
        FIREFOX_ADDON_ID
    } else {
        extension_id::DEV_EXTENSION_ID
    };
    match given {
        Some(id) => Ok(id.to_owned()),
        None if dev => Ok(dev_id.to_owned()),
        None => Err(InstallError::NoExtensionId {
            how: if browser == Browser::Firefox {
                "the add-on id in its manifest, browser_specific_settings.gecko.id"
            } else {
                "32 letters from a to p: chrome://extensions shows it with Developer mode on, the options page of Ringside shows it, and `scripts/package` prints it"
            },
            dev: dev_id,
        }),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A native messaging host manifest, Chromium or Firefox flavour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostManifest {
    pub name: String,
    pub description: String,
    pub path: PathBuf,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_extensions: Vec<String>,
}

impl HostManifest {
    /// The callers this manifest admits (origins or Firefox add-on ids).
    pub fn callers(&self) -> impl Iterator<Item = &String> {
        self.allowed_origins.iter().chain(&self.allowed_extensions)
    }
}

/// One registration made by `install`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallRecord {
    pub browser: Browser,
    pub scope: String,
    pub manifest: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_key: Option<String>,
}

/// The host's config file: its allow-list and where it was registered. Admins
/// may add `allowed_origins` by hand (e.g. a store id next to the dev id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostConfig {
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub installs: Vec<InstallRecord>,
    /// The dialer the extension configured last (no secrets), so `doctor`
    /// can check the softphone without a browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialer: Option<ringside_core::protocol::DialerConfig>,
    /// Confidential OAuth clients: the secret the token endpoint wants for a
    /// client id. Admin-written (usually in the system file); never sent to
    /// the extension.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oauth_clients: Vec<crate::tokens::ConfiguredClient>,
    /// Extra CA certificates (PEM files) trusted for the IMAP server, for a
    /// company mail server behind an internal CA.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imap_ca_files: Vec<PathBuf>,
}

impl HostConfig {
    pub fn load(path: &Path) -> Result<HostConfig, InstallError> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| InstallError::BadJson {
                path: path.to_owned(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HostConfig::default()),
            Err(e) => Err(io(path)(e)),
        }
    }

    /// Writes the file readable by its owner only (`system`: and root's
    /// group), never by other local users: it may hold client secrets
    /// (`private_file`).
    pub fn save(&self, path: &Path, system: bool) -> Result<(), InstallError> {
        write_json(path, self, Some(system))
    }
}

pub fn read_manifest(path: &Path) -> Result<Option<HostManifest>, InstallError> {
    match fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| InstallError::BadJson {
                    path: path.to_owned(),
                    source,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

/// Writes `value` as JSON to `path`. `private`: a host config file of the
/// system (`Some(true)`) or user scope, created with restricted access;
/// `None`: a browser manifest, readable by everyone.
fn write_json<T: Serialize>(
    path: &Path,
    value: &T,
    private: Option<bool>,
) -> Result<(), InstallError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut text = serde_json::to_string_pretty(value).map_err(|source| InstallError::BadJson {
        path: path.to_owned(),
        source,
    })?;
    text.push('\n');
    // Write then rename, so a browser never reads half a manifest.
    let tmp = path.with_extension("json.tmp");
    match private {
        None => fs::write(&tmp, text).map_err(io(&tmp))?,
        Some(system) => {
            use std::io::Write as _;
            let mut f = crate::private_file::create(&tmp, path, system).map_err(io(&tmp))?;
            f.write_all(text.as_bytes()).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
    }
    fs::rename(&tmp, path).map_err(io(path))
}

/// What to install.
#[derive(Debug, Clone)]
pub struct InstallRequest {
    pub browser: Browser,
    pub scope: Scope,
    /// Chromium extension id, or the Firefox add-on id for `Browser::Firefox`.
    pub extension_id: String,
    /// The host binary the manifest points to (absolute).
    pub host_path: PathBuf,
}

/// What `install` did, for the message printed to the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallOutcome {
    pub location: Location,
    pub config: PathBuf,
    pub caller: String,
}

fn caller_for(browser: Browser, extension_id: &str) -> Result<String, InstallError> {
    if browser == Browser::Firefox {
        Ok(extension_id.to_owned())
    } else if extension_id::is_valid(extension_id) {
        Ok(extension_id::origin(extension_id))
    } else {
        Err(InstallError::BadExtensionId(extension_id.to_owned()))
    }
}

/// Registers the host. Idempotent: rerunning changes nothing; installing a
/// second extension id adds it to the same manifest.
pub fn install(dirs: &Dirs, req: &InstallRequest) -> Result<InstallOutcome, InstallError> {
    let location = locations::location(dirs, req.browser, &req.scope)?;
    let caller = caller_for(req.browser, &req.extension_id)?;
    if req.scope == Scope::System && dirs.os == locations::Os::Windows {
        // `%ProgramData%\Ringside`: administrators' own before anything is
        // written in it (`private_file::restrict_system_dir`).
        let config_path = locations::config_file(dirs, true);
        if let Some(dir) = config_path.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
            crate::private_file::restrict_system_dir(dir).map_err(io(dir))?;
        }
    }
    let mut manifest = read_manifest(&location.manifest)
        .ok()
        .flatten()
        .unwrap_or_else(|| HostManifest {
            name: HOST_NAME.to_owned(),
            description: "Ringside native host".to_owned(),
            path: req.host_path.clone(),
            kind: "stdio".to_owned(),
            allowed_origins: vec![],
            allowed_extensions: vec![],
        });
    manifest.name = HOST_NAME.to_owned();
    manifest.kind = "stdio".to_owned();
    manifest.path = req.host_path.clone();
    let list = if req.browser == Browser::Firefox {
        &mut manifest.allowed_extensions
    } else {
        &mut manifest.allowed_origins
    };
    if !list.contains(&caller) {
        list.push(caller.clone());
    }
    write_json(&location.manifest, &manifest, None)?;
    if let Some(key) = &location.registry_key {
        registry::set_default(key, &location.manifest)?;
    }

    let config_path = locations::config_file(dirs, req.scope == Scope::System);
    let mut config = HostConfig::load(&config_path)?;
    if !config.allowed_origins.contains(&caller) {
        config.allowed_origins.push(caller.clone());
    }
    let record = InstallRecord {
        browser: req.browser,
        scope: req.scope.name().to_owned(),
        manifest: location.manifest.clone(),
        registry_key: location.registry_key.clone(),
    };
    if !config.installs.contains(&record) {
        config.installs.push(record);
    }
    config.save(&config_path, req.scope == Scope::System)?;
    Ok(InstallOutcome {
        location,
        config: config_path,
        caller,
    })
}

/// What `uninstall` removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UninstallOutcome {
    pub removed_manifest: Option<PathBuf>,
    pub removed_callers: Vec<String>,
}

/// Removes the registration for one browser and scope.
pub fn uninstall(
    dirs: &Dirs,
    browser: Browser,
    scope: &Scope,
) -> Result<UninstallOutcome, InstallError> {
    let location = locations::location(dirs, browser, scope)?;
    let removed_manifest = match fs::remove_file(&location.manifest) {
        Ok(()) => Some(location.manifest.clone()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&location.manifest)(e)),
    };
    if let Some(key) = &location.registry_key {
        registry::delete(key)?;
    }
    // Windows: the manifest's folder (`Ringside\<browser>`) is Ringside's own;
    // leave nothing behind once it is empty. (Elsewhere the folders are the
    // browsers', shared with other hosts.)
    if dirs.os == locations::Os::Windows
        && let Some(dir) = location.manifest.parent()
    {
        let _ = fs::remove_dir(dir);
    }
    let config_path = locations::config_file(dirs, *scope == Scope::System);
    let mut config = HostConfig::load(&config_path)?;
    config.installs.retain(|r| r.manifest != location.manifest);
    // Keep the origins some remaining registration still admits.
    let still_used: Vec<String> = config
        .installs
        .iter()
        .filter_map(|r| read_manifest(&r.manifest).ok().flatten())
        .flat_map(|m| m.callers().cloned().collect::<Vec<_>>())
        .collect();
    let (kept, removed): (Vec<String>, Vec<String>) = config
        .allowed_origins
        .into_iter()
        .partition(|o| still_used.contains(o));
    config.allowed_origins = kept;
    if config.allowed_origins.is_empty() && config.installs.is_empty() {
        match fs::remove_file(&config_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&config_path)(e)),
        }
        // Windows: `...\Ringside` itself, when nothing else is left in it.
        if dirs.os == locations::Os::Windows
            && let Some(dir) = config_path.parent()
        {
            let _ = fs::remove_dir(dir);
        }
    } else {
        config.save(&config_path, *scope == Scope::System)?;
    }
    Ok(UninstallOutcome {
        removed_manifest,
        removed_callers: removed,
    })
}

/// Records the dialer configuration in the user config (when it changed).
/// The file is rewritten with the user scope's access.
pub fn remember_dialer(
    config_path: &Path,
    dialer: &ringside_core::protocol::DialerConfig,
) -> Result<(), InstallError> {
    let mut config = HostConfig::load(config_path)?;
    if config.dialer.as_ref() == Some(dialer) {
        return Ok(());
    }
    config.dialer = Some(dialer.clone());
    config.save(config_path, false)
}

/// The OAuth client secrets from the system config, then the user's (the
/// first entry for an issuer and client id wins, so the admin's does).
pub fn oauth_clients(dirs: &Dirs) -> Vec<crate::tokens::ConfiguredClient> {
    let mut clients = vec![];
    for system in [true, false] {
        let path = locations::config_file(dirs, system);
        match HostConfig::load(&path) {
            Ok(c) => clients.extend(c.oauth_clients),
            Err(e) => tracing::warn!("{e}"),
        }
    }
    clients
}

/// The extra IMAP trust anchors named in the system and user configs (PEM
/// contents; unreadable files are logged and skipped).
pub fn imap_roots(dirs: &Dirs) -> Vec<Vec<u8>> {
    let mut roots = vec![];
    for system in [true, false] {
        let path = locations::config_file(dirs, system);
        let Ok(c) = HostConfig::load(&path) else {
            continue;
        };
        for f in c.imap_ca_files {
            match fs::read(&f) {
                Ok(pem) => roots.push(pem),
                Err(e) => tracing::warn!("cannot read {}: {e}", f.display()),
            }
        }
    }
    roots
}

/// The callers this host accepts: the union of the user and system configs.
/// Unreadable files are reported, not fatal: the host then refuses callers
/// the readable files do not name.
///
/// The system config is readable by root's group only (it may hold client
/// secrets), and the host runs as the agent. When it cannot be read for lack
/// of permission, the system-scope manifests stand in for its allow-list:
/// root writes both, every user may read the manifests, and `install
/// --system` puts the same callers in each.
pub fn allowed_callers(dirs: &Dirs) -> (Vec<String>, Vec<String>) {
    let mut callers = vec![];
    let mut problems = vec![];
    for system in [false, true] {
        let path = locations::config_file(dirs, system);
        callers_of(
            dirs,
            system,
            HostConfig::load(&path),
            &mut callers,
            &mut problems,
        );
    }
    (callers, problems)
}

fn callers_of(
    dirs: &Dirs,
    system: bool,
    loaded: Result<HostConfig, InstallError>,
    callers: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    match loaded {
        Ok(c) => callers.extend(c.allowed_origins),
        Err(InstallError::Io { source, .. })
            if system && source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            callers.extend(system_manifest_callers(dirs));
        }
        Err(e) => problems.push(e.to_string()),
    }
}

/// The callers the system-scope manifests of every browser admit.
fn system_manifest_callers(dirs: &Dirs) -> Vec<String> {
    let mut callers: Vec<String> = vec![];
    for &browser in Browser::ALL {
        let Ok(loc) = locations::location(dirs, browser, &Scope::System) else {
            continue;
        };
        if let Ok(Some(m)) = read_manifest(&loc.manifest) {
            for c in m.callers() {
                if !callers.contains(c) {
                    callers.push(c.clone());
                }
            }
        }
    }
    callers
}

#[cfg(windows)]
mod registry {
    //! HKCU/HKLM `...\NativeMessagingHosts\com.ringside.host` default values.
    use std::path::Path;

    use winreg::RegKey;
    use winreg::enums::{HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE};

    use super::InstallError;

    fn split(key: &str) -> Result<(RegKey, &str), InstallError> {
        let (hive, sub) = key
            .split_once('\\')
            .ok_or_else(|| InstallError::Registry(format!("bad key {key}")))?;
        let hive = match hive {
            "HKEY_CURRENT_USER" => RegKey::predef(HKEY_CURRENT_USER),
            "HKEY_LOCAL_MACHINE" => RegKey::predef(HKEY_LOCAL_MACHINE),
            other => return Err(InstallError::Registry(format!("unknown hive {other}"))),
        };
        Ok((hive, sub))
    }

    pub fn set_default(key: &str, manifest: &Path) -> Result<(), InstallError> {
        let (hive, sub) = split(key)?;
        let (k, _) = hive
            .create_subkey(sub)
            .map_err(|e| InstallError::Registry(format!("{key}: {e}")))?;
        k.set_value("", &manifest.as_os_str())
            .map_err(|e| InstallError::Registry(format!("{key}: {e}")))
    }

    pub fn delete(key: &str) -> Result<(), InstallError> {
        let (hive, sub) = split(key)?;
        match hive.delete_subkey_all(sub) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(InstallError::Registry(format!("{key}: {e}"))),
        }
    }

    pub fn get_default(key: &str) -> Option<String> {
        let (hive, sub) = split(key).ok()?;
        hive.open_subkey(sub).ok()?.get_value("").ok()
    }

    /// The browser's native-messaging policies from `Software\Policies` of
    /// the machine, then the user, as the JSON a Linux policy file would
    /// hold (lists are subkeys of numbered values; booleans are DWORDs).
    pub fn policies(
        browser: ringside_core::browser::Browser,
    ) -> Vec<(std::path::PathBuf, serde_json::Value)> {
        use ringside_core::browser::Browser;
        use serde_json::{Map, Value};
        let vendor = match browser {
            Browser::Chrome => r"Google\Chrome",
            Browser::Edge => r"Microsoft\Edge",
            Browser::Chromium => "Chromium",
            Browser::Firefox => return vec![],
        };
        let mut out = vec![];
        for (name, hive) in [
            ("HKEY_LOCAL_MACHINE", HKEY_LOCAL_MACHINE),
            ("HKEY_CURRENT_USER", HKEY_CURRENT_USER),
        ] {
            let path = format!(r"Software\Policies\{vendor}");
            let Ok(key) = RegKey::predef(hive).open_subkey(&path) else {
                continue;
            };
            let mut v = Map::new();
            if let Ok(n) = key.get_value::<u32, _>("NativeMessagingUserLevelHosts") {
                // Chromium reads a boolean policy's DWORD as 0 = false.
                v.insert("NativeMessagingUserLevelHosts".into(), Value::Bool(n != 0));
            }
            for list in ["NativeMessagingBlocklist", "NativeMessagingAllowlist"] {
                if let Ok(sub) = key.open_subkey(list) {
                    let items: Vec<Value> = sub
                        .enum_values()
                        .flatten()
                        .filter_map(|(name, _)| sub.get_value::<String, _>(&name).ok())
                        .map(Value::from)
                        .collect();
                    v.insert(list.into(), Value::Array(items));
                }
            }
            out.push((format!(r"{name}\{path}").into(), Value::Object(v)));
        }
        out
    }
}

#[cfg(not(windows))]
mod registry {
    //! Registry keys only exist on Windows; elsewhere a location never has one,
    //! so these are reached only through a hand-made `Dirs` with `Os::Windows`.
    use std::path::Path;

    use super::InstallError;

    pub fn set_default(key: &str, _manifest: &Path) -> Result<(), InstallError> {
        Err(InstallError::Registry(format!(
            "{key}: the Windows registry is not available on this OS"
        )))
    }

    pub fn delete(key: &str) -> Result<(), InstallError> {
        set_default(key, Path::new(""))
    }

    pub fn get_default(_key: &str) -> Option<String> {
        None
    }

    pub fn policies(
        _browser: ringside_core::browser::Browser,
    ) -> Vec<(std::path::PathBuf, serde_json::Value)> {
        vec![]
    }
}

pub use registry::get_default as registry_value;
pub use registry::policies as registry_policies;

#[cfg(test)]
#[path = "install_tests.rs"]
mod tests;
