//! `doctor`: what is registered where, for which browsers and extension ids,
//! whether each manifest points at a working binary, and how to fix what is not.

use std::path::{Path, PathBuf};

use ringside_core::browser::Browser;
use ringside_core::protocol::HOST_NAME;
use serde::Serialize;

use crate::install::{self, HostConfig};
use crate::locations::{self, Dirs, Scope};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ok,
    Warning,
    Error,
}

/// One registration found (or a problem with one).
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub browser: Browser,
    pub scope: String,
    pub manifest: PathBuf,
    pub health: Health,
    pub callers: Vec<String>,
    pub binary: Option<PathBuf>,
    pub problems: Vec<String>,
    pub fixes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub host_version: String,
    pub this_binary: Option<PathBuf>,
    pub allowed_callers: Vec<String>,
    pub registrations: Vec<Finding>,
    /// The softphone the extension last configured, and whether it answers.
    pub softphone: Option<SoftphoneCheck>,
    pub problems: Vec<String>,
    pub fixes: Vec<String>,
    /// What works but should be fixed (e.g. a config file other users can
    /// read), each with its fix; they do not make the report unhealthy.
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// Something that works but should be fixed.
#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub warning: String,
    pub fix: String,
}

/// Reachability of the configured dialer.
#[derive(Debug, Clone, Serialize)]
pub struct SoftphoneCheck {
    pub adapter: String,
    pub address: Option<String>,
    pub reachable: bool,
}

fn check_softphone(
    dialer: &ringside_core::protocol::DialerConfig,
) -> (SoftphoneCheck, Option<(String, String)>) {
    use ringside_core::protocol::DialerKind;
    match dialer.adapter {
        DialerKind::Baresip => {
            let address = dialer.address.clone().unwrap_or_default();
            let result = std::net::ToSocketAddrs::to_socket_addrs(address.as_str())
                .map_err(|e| e.to_string())
                .and_then(|mut addrs| addrs.next().ok_or_else(|| "no address".to_owned()))
                .and_then(|a| {
                    std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(2))
                        .map_err(|e| e.to_string())
                });
            let reachable = result.is_ok();
            let problem = result.err().map(|e| {
                (
                    format!("the softphone's control port {address} does not answer ({e})"),
                    "start the softphone (baresip with the ctrl_tcp module), or correct its address in Ringside's settings".to_owned(),
                )
            });
            (
                SoftphoneCheck {
                    adapter: "baresip".into(),
                    address: Some(address),
                    reachable,
                },
                problem,
            )
        }
        DialerKind::Tel => {
            let reachable = crate::dialer::tel::handler_exists();
            (
                SoftphoneCheck {
                    adapter: "tel".into(),
                    address: None,
                    reachable,
                },
                (!reachable).then(|| {
                    (
                        "no application handles tel: links".to_owned(),
                        "install a softphone that registers for tel: links, or choose the SIP dialer in Ringside's settings".to_owned(),
                    )
                }),
            )
        }
        // The extension dials these itself; nothing here to reach.
        DialerKind::Url | DialerKind::Platform => (
            SoftphoneCheck {
                adapter: if dialer.adapter == DialerKind::Url {
                    "url".into()
                } else {
                    "platform".into()
                },
                address: None,
                reachable: true,
            },
            None,
        ),
    }
}

impl Report {
    /// Healthy when at least one registration works and none is broken.
    pub fn healthy(&self) -> bool {
        self.problems.is_empty()
            && self.registrations.iter().any(|f| f.health == Health::Ok)
            && self.registrations.iter().all(|f| f.health != Health::Error)
    }
}

/// The command registering the host for every user of this machine: with
/// sudo on Linux and macOS, from an administrator prompt on Windows.
fn system_install(browser: Browser) -> String {
    let command = format!(
        "ringside-host install --system --browser {}",
        browser.cli_name()
    );
    if cfg!(windows) {
        format!("{command}   (from a command prompt run as administrator)")
    } else {
        format!("sudo {command}")
    }
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

impl Finding {
    /// A broken registration: the problem and how to fix it.
    fn error(&mut self, problem: String, fix: String) {
        self.health = Health::Error;
        self.problems.push(problem);
        self.fixes.push(fix);
    }
}

/// The command that registers the host again for this browser and scope.
fn reinstall_command(browser: Browser, scope: &Scope) -> String {
    match scope {
        Scope::Profile(dir) => format!(
            "ringside-host install --browser {} --profile-dir {}",
            browser.cli_name(),
            dir.display()
        ),
        Scope::System => system_install(browser),
        Scope::User => format!("ringside-host install --browser {}", browser.cli_name()),
    }
}

/// One registration: its manifest (and on Windows its registry key), the
/// binary it names, and the extensions it admits. `None` when there is none.
fn check(
    browser: Browser,
    scope: &Scope,
    manifest_path: &Path,
    registry_key: Option<&str>,
    allowed: &[String],
    this_binary: Option<&Path>,
) -> Option<Finding> {
    let mut f = Finding {
        browser,
        scope: scope.name().to_owned(),
        manifest: manifest_path.to_owned(),
        health: Health::Ok,
        callers: vec![],
        binary: None,
        problems: vec![],
        fixes: vec![],
    };
    let reinstall = reinstall_command(browser, scope);
    let manifest = match install::read_manifest(manifest_path) {
        Ok(Some(m)) => m,
        Ok(None) => return None,
        Err(e) => {
            f.error(e.to_string(), reinstall);
            return Some(f);
        }
    };
    if let Some(key) = registry_key {
        match install::registry_value(key) {
            Some(v) if Path::new(&v) == manifest_path => {}
            _ => f.error(
                format!("registry key {key} does not point to this manifest"),
                reinstall.clone(),
            ),
        }
    }
    f.callers = manifest.callers().cloned().collect();
    f.binary = Some(manifest.path.clone());
    if manifest.name != HOST_NAME {
        f.error(
            format!(
                "the manifest's name is `{}`, not `{HOST_NAME}`",
                manifest.name
            ),
            reinstall.clone(),
        );
    }
    check_binary(&mut f, &manifest.path, this_binary, &reinstall);
    check_callers(&mut f, allowed, &reinstall);
    Some(f)
}

/// The binary a manifest names: absolute, executable, and (a warning
/// otherwise) the one running `doctor`.
fn check_binary(f: &mut Finding, binary: &Path, this_binary: Option<&Path>, reinstall: &str) {
    if !binary.is_absolute() {
        f.error(
            format!(
                "the binary path {} is not absolute; browsers on Linux and macOS need an absolute path",
                binary.display()
            ),
            reinstall.to_owned(),
        );
    } else if !is_executable(binary) {
        f.error(
            format!(
                "the binary {} does not exist or is not executable",
                binary.display()
            ),
            reinstall.to_owned(),
        );
    } else if let Some(me) = this_binary {
        let same = std::fs::canonicalize(binary).ok() == std::fs::canonicalize(me).ok();
        if !same && f.health == Health::Ok {
            f.health = Health::Warning;
            f.problems.push(format!(
                "the manifest points to {}, not to this binary ({})",
                binary.display(),
                me.display()
            ));
            f.fixes.push(format!(
                "{reinstall}   (from the binary you want browsers to use)"
            ));
        }
    }
}

/// The extensions a manifest admits: at least one, each in the host's allow-list.
fn check_callers(f: &mut Finding, allowed: &[String], reinstall: &str) {
    if f.callers.is_empty() {
        f.error(
            "the manifest admits no extension".to_owned(),
            format!("{reinstall} --extension-id <id>"),
        );
    }
    let refused: Vec<String> = f
        .callers
        .iter()
        .filter(|c| !allowed.contains(c))
        .cloned()
        .collect();
    for caller in refused {
        f.error(
            format!(
                "{caller} may start the host but is not in the host's allow-list, so the host will refuse it"
            ),
            reinstall.to_owned(),
        );
    }
}

/// What a browser's managed policy says about native hosts (Linux policy
/// files; on Windows the `Software\Policies` registry keys of the machine and
/// the user; on macOS the profile is not read here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    /// `NativeMessagingUserLevelHosts: false`, and the file (or registry key)
    /// that says it.
    pub user_level_off: Option<PathBuf>,
    /// Blocked by `NativeMessagingBlocklist` without an allow-list entry.
    pub blocked: Option<PathBuf>,
}

/// The policy sources of a browser, in order: where each comes from (a
/// file, or a registry key on Windows) and its policies as JSON.
fn policy_sources(dirs: &Dirs, browser: Browser) -> Vec<(PathBuf, serde_json::Value)> {
    if browser == Browser::Firefox {
        return vec![];
    }
    match dirs.os {
        locations::Os::Linux => {
            let dir = dirs
                .root
                .join(crate::deploy::linux_policy_dir(browser).trim_start_matches('/'));
            let Ok(entries) = std::fs::read_dir(&dir) else {
                return vec![];
            };
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            files
                .into_iter()
                .filter_map(|path| {
                    let v = std::fs::read(&path).ok()?;
                    let v = serde_json::from_slice::<serde_json::Value>(&v).ok()?;
                    Some((path, v))
                })
                .collect()
        }
        locations::Os::Windows => crate::install::registry_policies(browser),
        locations::Os::MacOs => vec![],
    }
}

/// Reads the browser's managed policies (every source; an allow-list entry
/// in any of them lifts a block from any other, as Chromium merges them).
pub fn host_policy(dirs: &Dirs, browser: Browser) -> HostPolicy {
    evaluate_policies(policy_sources(dirs, browser))
}

/// The host's fate under these policy sources.
pub fn evaluate_policies(sources: Vec<(PathBuf, serde_json::Value)>) -> HostPolicy {
    let mut out = HostPolicy::default();
    let mut allowed = false;
    let mut blocked = None;
    for (path, v) in sources {
        if v.get("NativeMessagingUserLevelHosts") == Some(&serde_json::Value::Bool(false)) {
            out.user_level_off = Some(path.clone());
        }
        let names = |key: &str| -> Vec<String> {
            v.get(key)
                .and_then(|l| l.as_array())
                .map(|l| {
                    l.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        if names("NativeMessagingAllowlist")
            .iter()
            .any(|n| n == HOST_NAME)
        {
            allowed = true;
        }
        if names("NativeMessagingBlocklist")
            .iter()
            .any(|n| n == "*" || n == HOST_NAME)
        {
            blocked = Some(path.clone());
        }
    }
    if !allowed {
        out.blocked = blocked;
    }
    out
}

/// Applies the browsers' policies to the findings: with user-level hosts
/// turned off only system registrations count; a blocked host is reported.
fn apply_policies(
    dirs: &Dirs,
    registrations: &mut [Finding],
    problems: &mut Vec<String>,
    fixes: &mut Vec<String>,
) {
    for browser in Browser::ALL {
        let policy = host_policy(dirs, *browser);
        let of_browser = |f: &&mut Finding| f.browser == *browser;
        if let Some(file) = &policy.user_level_off {
            let system_ok = registrations
                .iter()
                .any(|f| f.browser == *browser && f.scope == "system" && f.health == Health::Ok);
            for f in registrations
                .iter_mut()
                .filter(of_browser)
                .filter(|f| f.scope != "system")
            {
                f.health = if system_ok {
                    Health::Warning
                } else {
                    Health::Error
                };
                f.problems.push(format!(
                    "{} ignores this registration: NativeMessagingUserLevelHosts is false in {}, so only a system-level host counts",
                    browser.display_name(),
                    file.display()
                ));
                if !system_ok {
                    f.fixes.push(system_install(*browser));
                }
            }
            let any = registrations.iter().any(|f| f.browser == *browser);
            if !system_ok && !any {
                problems.push(format!(
                    "{} only accepts system-level native hosts (NativeMessagingUserLevelHosts is false in {}) and none is registered",
                    browser.display_name(),
                    file.display()
                ));
                fixes.push(system_install(*browser));
            }
        }
        if let Some(file) = &policy.blocked
            && registrations.iter().any(|f| f.browser == *browser)
        {
            problems.push(format!(
                "{} blocks the host by policy (NativeMessagingBlocklist in {})",
                browser.display_name(),
                file.display()
            ));
            fixes.push(format!(
                "ask IT to add {HOST_NAME} to NativeMessagingAllowlist (the generated policy files do)"
            ));
        }
    }
}

/// Builds the report for the given directories.
pub fn diagnose(dirs: &Dirs, this_binary: Option<&Path>) -> Report {
    let (allowed, mut problems) = install::allowed_callers(dirs);
    let mut registrations = vec![];
    let mut seen: Vec<PathBuf> = vec![];
    for scope in [Scope::User, Scope::System] {
        for browser in Browser::ALL {
            let Ok(loc) = locations::location(dirs, *browser, &scope) else {
                continue;
            };
            seen.push(loc.manifest.clone());
            registrations.extend(check(
                *browser,
                &scope,
                &loc.manifest,
                loc.registry_key.as_deref(),
                &allowed,
                this_binary,
            ));
        }
    }
    // Profile installs are only known from the install records.
    for system in [false, true] {
        let cfg = HostConfig::load(&locations::config_file(dirs, system)).unwrap_or_default();
        for rec in cfg.installs {
            if seen.contains(&rec.manifest) {
                continue;
            }
            seen.push(rec.manifest.clone());
            let profile_dir = rec
                .manifest
                .parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            match check(
                rec.browser,
                &Scope::Profile(profile_dir),
                &rec.manifest,
                rec.registry_key.as_deref(),
                &allowed,
                this_binary,
            ) {
                Some(f) => registrations.push(f),
                None => problems.push(format!(
                    "the {} profile manifest {} recorded at install is gone; run `ringside-host uninstall --browser {} --profile-dir <dir>` to forget it, or install again",
                    rec.browser.display_name(),
                    rec.manifest.display(),
                    rec.browser.cli_name()
                )),
            }
        }
    }
    let mut fixes = vec![];
    apply_policies(dirs, &mut registrations, &mut problems, &mut fixes);
    let dialer = HostConfig::load(&locations::config_file(dirs, false))
        .ok()
        .and_then(|c| c.dialer);
    let softphone = dialer.map(|d| {
        let (check, problem) = check_softphone(&d);
        if let Some((p, f)) = problem {
            problems.push(p);
            fixes.push(f);
        }
        check
    });
    let mut warnings: Vec<Warning> = [false, true]
        .into_iter()
        .filter_map(|system| {
            crate::private_file::exposure(&locations::config_file(dirs, system), system)
        })
        .map(|(warning, fix)| Warning { warning, fix })
        .collect();
    let system_cfg = locations::config_file(dirs, true);
    if let Err(install::InstallError::Io { source, .. }) = HostConfig::load(&system_cfg)
        && source.kind() == std::io::ErrorKind::PermissionDenied
    {
        warnings.push(Warning {
            warning: format!(
                "this user cannot read {}: the host takes its allow-list from the system manifests instead, but OAuth client secrets and IMAP CA files in it do not reach this user's host",
                system_cfg.display()
            ),
            fix: format!(
                "if it holds oauth_clients or imap_ca_files, let your agents' group read it: sudo chgrp <agents' group> {}",
                system_cfg.display()
            ),
        });
    }
    if registrations.is_empty() {
        problems.push("the host is not registered with any browser".to_owned());
        fixes.push("ringside-host install --browser chrome   (or chromium, edge; add --system for every user)".to_owned());
    }
    Report {
        host_version: env!("CARGO_PKG_VERSION").to_owned(),
        this_binary: this_binary.map(Path::to_path_buf),
        allowed_callers: allowed,
        registrations,
        softphone,
        problems,
        fixes,
        warnings,
    }
}

/// The report as text for a person.
pub fn render(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "ringside-host {} doctor", report.host_version);
    if let Some(b) = &report.this_binary {
        let _ = writeln!(s, "binary: {}", b.display());
    }
    let _ = writeln!(
        s,
        "allow-list: {}",
        if report.allowed_callers.is_empty() {
            "(empty)".to_owned()
        } else {
            report.allowed_callers.join(", ")
        }
    );
    for f in &report.registrations {
        let mark = match f.health {
            Health::Ok => "ok",
            Health::Warning => "warning",
            Health::Error => "ERROR",
        };
        let _ = writeln!(
            s,
            "\n[{mark}] {} ({}): {}",
            f.browser.display_name(),
            f.scope,
            f.manifest.display()
        );
        if let Some(b) = &f.binary {
            let _ = writeln!(s, "  binary: {}", b.display());
        }
        for c in &f.callers {
            let _ = writeln!(s, "  allows: {c}");
        }
        for p in &f.problems {
            let _ = writeln!(s, "  problem: {p}");
        }
        for x in &f.fixes {
            let _ = writeln!(s, "  fix: {x}");
        }
    }
    if let Some(sp) = &report.softphone {
        let _ = writeln!(
            s,
            "\nsoftphone ({}{}): {}",
            sp.adapter,
            sp.address
                .as_deref()
                .map(|a| format!(" at {a}"))
                .unwrap_or_default(),
            if sp.reachable {
                "reachable"
            } else {
                "NOT reachable"
            }
        );
    }
    for w in &report.warnings {
        let _ = writeln!(s, "\nwarning: {}\nfix: {}", w.warning, w.fix);
    }
    for p in &report.problems {
        let _ = writeln!(s, "\nproblem: {p}");
    }
    for x in &report.fixes {
        let _ = writeln!(s, "fix: {x}");
    }
    let _ = writeln!(
        s,
        "\n{}",
        if report.healthy() {
            "All good."
        } else {
            "Something needs fixing (see above)."
        }
    );
    s
}

#[cfg(test)]
#[path = "doctor_tests.rs"]
mod tests;
