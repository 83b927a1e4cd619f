//! Where each browser looks for native messaging host manifests, and where the
//! host keeps its own configuration, for Linux, macOS and Windows.
//!
//! This is a pure function of (OS, browser, scope, environment) so the macOS and
//! Windows tables are unit-tested on Linux; only the registry writes themselves
//! are behind `cfg(windows)` (see `install.rs`).

use std::path::{Path, PathBuf};

use ringside_core::browser::Browser;
use ringside_core::protocol::HOST_NAME;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    Windows,
}

impl Os {
    pub fn current() -> Option<Os> {
        match std::env::consts::OS {
            "linux" => Some(Os::Linux),
            "macos" => Some(Os::MacOs),
            "windows" => Some(Os::Windows),
            _ => None,
        }
    }
}

/// For whom the host is registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The current user, every profile of the browser.
    User,
    /// Every user of the machine (needs root / administrator).
    System,
    /// One Chromium profile: `<user-data-dir>/NativeMessagingHosts/`.
    Profile(PathBuf),
}

impl Scope {
    pub fn name(&self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::System => "system",
            Scope::Profile(_) => "profile",
        }
    }
}

/// The directories the tables are computed from. `root` prefixes system-wide
/// paths (`/` in production, a temporary directory in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    pub os: Os,
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME` (Linux), else `~/.config`.
    pub config_home: PathBuf,
    /// `%LOCALAPPDATA%` (Windows).
    pub local_app_data: PathBuf,
    /// `%ProgramData%` (Windows).
    pub program_data: PathBuf,
    pub root: PathBuf,
}

impl Dirs {
    /// The directories of this process's user.
    pub fn from_env() -> Option<Dirs> {
        let os = Os::current()?;
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = var("HOME").or_else(|| var("USERPROFILE"))?;
        let config_home = var("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config"));
        let local_app_data =
            var("LOCALAPPDATA").unwrap_or_else(|| home.join("AppData").join("Local"));
        let program_data = var("ProgramData").unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"));
        let root = match os {
            Os::Windows => PathBuf::new(),
            _ => PathBuf::from("/"),
        };
        Some(Dirs {
            os,
            home,
            config_home,
            local_app_data,
            program_data,
            root,
        })
    }

    fn sys(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }
}

/// Where a registration lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The manifest file.
    pub manifest: PathBuf,
    /// On Windows, the registry key whose default value is the manifest path,
    /// e.g. `HKEY_CURRENT_USER\Software\Google\Chrome\NativeMessagingHosts\com.ringside.host`.
    pub registry_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("{browser} has no per-profile host manifests; use the user or system scope")]
    NoProfileScope { browser: &'static str },
    #[error(
        "Chromium-based browsers on Windows read host manifests from the registry only; --profile-dir is not supported there"
    )]
    NoProfileScopeOnWindows,
}

fn manifest_file() -> String {
    format!("{HOST_NAME}.json")
}

/// The manifest location for a browser and scope.
pub fn location(dirs: &Dirs, browser: Browser, scope: &Scope) -> Result<Location, LocationError> {
    let file = manifest_file();
    if let Scope::Profile(dir) = scope {
        if browser == Browser::Firefox {
            return Err(LocationError::NoProfileScope {
                browser: browser.display_name(),
            });
        }
        if dirs.os == Os::Windows {
            return Err(LocationError::NoProfileScopeOnWindows);
        }
        return Ok(Location {
            manifest: dir.join("NativeMessagingHosts").join(file),
            registry_key: None,
        });
    }
    let system = *scope == Scope::System;
    let file_only = |dir: PathBuf| Location {
        manifest: dir.join(&file),
        registry_key: None,
    };
    Ok(match dirs.os {
        Os::Linux => {
            let dir = match (browser, system) {
                (Browser::Chrome, false) => {
                    dirs.config_home.join("google-chrome/NativeMessagingHosts")
                }
                (Browser::Chromium, false) => {
                    dirs.config_home.join("chromium/NativeMessagingHosts")
                }
                (Browser::Edge, false) => {
                    dirs.config_home.join("microsoft-edge/NativeMessagingHosts")
                }
                (Browser::Firefox, false) => dirs.home.join(".mozilla/native-messaging-hosts"),
                (Browser::Chrome, true) => dirs.sys("/etc/opt/chrome/native-messaging-hosts"),
                (Browser::Chromium, true) => dirs.sys("/etc/chromium/native-messaging-hosts"),
                (Browser::Edge, true) => dirs.sys("/etc/opt/edge/native-messaging-hosts"),
                (Browser::Firefox, true) => dirs.sys("/usr/lib/mozilla/native-messaging-hosts"),
            };
            file_only(dir)
        }
        Os::MacOs => {
            let support = dirs.home.join("Library/Application Support");
            let dir = match (browser, system) {
                (Browser::Chrome, false) => support.join("Google/Chrome/NativeMessagingHosts"),
                (Browser::Chromium, false) => support.join("Chromium/NativeMessagingHosts"),
                (Browser::Edge, false) => support.join("Microsoft Edge/NativeMessagingHosts"),
                (Browser::Firefox, false) => support.join("Mozilla/NativeMessagingHosts"),
                (Browser::Chrome, true) => dirs.sys("/Library/Google/Chrome/NativeMessagingHosts"),
                (Browser::Chromium, true) => {
                    dirs.sys("/Library/Application Support/Chromium/NativeMessagingHosts")
                }
                (Browser::Edge, true) => dirs.sys("/Library/Microsoft/Edge/NativeMessagingHosts"),
                (Browser::Firefox, true) => {
                    dirs.sys("/Library/Application Support/Mozilla/NativeMessagingHosts")
                }
            };
            file_only(dir)
        }
        Os::Windows => {
            let hive = if system {
                "HKEY_LOCAL_MACHINE"
            } else {
                "HKEY_CURRENT_USER"
            };
            let vendor = match browser {
                Browser::Chrome => r"Google\Chrome",
                Browser::Chromium => "Chromium",
                Browser::Edge => r"Microsoft\Edge",
                Browser::Firefox => "Mozilla",
            };
            let base = if system {
                &dirs.program_data
            } else {
                &dirs.local_app_data
            };
            Location {
                manifest: base.join("Ringside").join(browser.cli_name()).join(&file),
                registry_key: Some(format!(
                    r"{hive}\Software\{vendor}\NativeMessagingHosts\{HOST_NAME}"
                )),
            }
        }
    })
}

/// The host's own configuration file (allow-list and install records).
pub fn config_file(dirs: &Dirs, system: bool) -> PathBuf {
    match (dirs.os, system) {
        (Os::Linux, false) => dirs.config_home.join("ringside/host.json"),
        (Os::Linux, true) => dirs.sys("/etc/ringside/host.json"),
        (Os::MacOs, false) => dirs
            .home
            .join("Library/Application Support/Ringside/host.json"),
        (Os::MacOs, true) => dirs.sys("/Library/Application Support/Ringside/host.json"),
        (Os::Windows, false) => dirs.local_app_data.join("Ringside").join("host.json"),
        (Os::Windows, true) => dirs.program_data.join("Ringside").join("host.json"),
    }
}

/// The path without Windows's verbatim prefix, which `canonicalize` adds
/// there (`\\?\C:\...`, `\\?\UNC\server\share\...`): browsers start the
/// host through `cmd.exe`, which does not take verbatim paths, and people
/// read them in the manifest. Other paths are returned unchanged.
pub fn plain_path(path: PathBuf) -> PathBuf {
    let Some(text) = path.to_str() else {
        return path;
    };
    if let Some(rest) = text.strip_prefix(r"\\?\UNC\") {
        return PathBuf::from(format!(r"\\{rest}"));
    }
    match text.strip_prefix(r"\\?\") {
        Some(rest)
            if rest.len() >= 3
                && rest.as_bytes()[0].is_ascii_alphabetic()
                && &rest[1..3] == r":\" =>
        {
            PathBuf::from(rest)
        }
        _ => path,
    }
}

/// True when `path` lies under `dir` (used to tell profile installs apart).
pub fn is_under(path: &Path, dir: &Path) -> bool {
    path.starts_with(dir)
}

#[cfg(test)]
mod tests {
    //! The location tables for every OS, browser and scope.
    use super::*;

    fn dirs(os: Os) -> Dirs {
        Dirs {
            os,
            home: PathBuf::from("/home/a"),
            config_home: PathBuf::from("/home/a/.config"),
            local_app_data: PathBuf::from(r"C:\Users\a\AppData\Local"),
            program_data: PathBuf::from(r"C:\ProgramData"),
            root: PathBuf::from("/"),
        }
    }

    fn manifest(os: Os, b: Browser, s: Scope) -> String {
        location(&dirs(os), b, &s)
            .unwrap()
            .manifest
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn linux_table() {
        assert_eq!(
            manifest(Os::Linux, Browser::Chrome, Scope::User),
            "/home/a/.config/google-chrome/NativeMessagingHosts/com.ringside.host.json"
        );
        assert_eq!(
            manifest(Os::Linux, Browser::Chromium, Scope::User),
            "/home/a/.config/chromium/NativeMessagingHosts/com.ringside.host.json"
        );
        assert_eq!(
            manifest(Os::Linux, Browser::Edge, Scope::System),
            "/etc/opt/edge/native-messaging-hosts/com.ringside.host.json"
        );
        assert_eq!(
            manifest(Os::Linux, Browser::Chromium, Scope::System),
            "/etc/chromium/native-messaging-hosts/com.ringside.host.json"
        );
        assert_eq!(
            manifest(Os::Linux, Browser::Firefox, Scope::User),
            "/home/a/.mozilla/native-messaging-hosts/com.ringside.host.json"
        );
        assert_eq!(
            manifest(
                Os::Linux,
                Browser::Chromium,
                Scope::Profile("/tmp/p".into())
            ),
            "/tmp/p/NativeMessagingHosts/com.ringside.host.json"
        );
    }

    #[test]
    fn macos_table() {
        assert_eq!(
            manifest(Os::MacOs, Browser::Chrome, Scope::User),
            "/home/a/Library/Application Support/Google/Chrome/NativeMessagingHosts/com.ringside.host.json"
        );
        assert_eq!(
            manifest(Os::MacOs, Browser::Edge, Scope::System),
            "/Library/Microsoft/Edge/NativeMessagingHosts/com.ringside.host.json"
        );
    }

    #[test]
    fn windows_uses_registry_keys() {
        let l = location(&dirs(Os::Windows), Browser::Edge, &Scope::System).unwrap();
        assert_eq!(
            l.registry_key.as_deref(),
            Some(
                r"HKEY_LOCAL_MACHINE\Software\Microsoft\Edge\NativeMessagingHosts\com.ringside.host"
            )
        );
        let l = location(&dirs(Os::Windows), Browser::Chrome, &Scope::User).unwrap();
        assert_eq!(
            l.registry_key.as_deref(),
            Some(
                r"HKEY_CURRENT_USER\Software\Google\Chrome\NativeMessagingHosts\com.ringside.host"
            )
        );
        assert_eq!(
            location(
                &dirs(Os::Windows),
                Browser::Chrome,
                &Scope::Profile("x".into())
            ),
            Err(LocationError::NoProfileScopeOnWindows)
        );
    }

    #[test]
    fn verbatim_windows_paths_are_made_plain() {
        assert_eq!(
            plain_path(PathBuf::from(
                r"\\?\C:\Program Files\Ringside\ringside-host.exe"
            )),
            PathBuf::from(r"C:\Program Files\Ringside\ringside-host.exe")
        );
        assert_eq!(
            plain_path(PathBuf::from(r"\\?\UNC\srv\share\ringside-host.exe")),
            PathBuf::from(r"\\srv\share\ringside-host.exe")
        );
        // A verbatim path that is not a drive path stays as it is.
        for p in [r"\\?\Volume{x}\a.exe", "/usr/bin/ringside-host"] {
            assert_eq!(plain_path(PathBuf::from(p)), PathBuf::from(p));
        }
    }

    #[test]
    fn firefox_has_no_profile_scope() {
        assert!(
            location(
                &dirs(Os::Linux),
                Browser::Firefox,
                &Scope::Profile("x".into())
            )
            .is_err()
        );
    }

    #[test]
    fn system_paths_follow_root() {
        let mut d = dirs(Os::Linux);
        d.root = PathBuf::from("/tmp/root");
        assert_eq!(
            config_file(&d, true),
            PathBuf::from("/tmp/root/etc/ringside/host.json")
        );
        assert_eq!(
            location(&d, Browser::Chrome, &Scope::System)
                .unwrap()
                .manifest,
            PathBuf::from("/tmp/root/etc/opt/chrome/native-messaging-hosts/com.ringside.host.json")
        );
    }
}
