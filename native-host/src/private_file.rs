//! The host's configuration file (`host.json`) may hold OAuth client secrets,
//! so it is created readable by its owner (user scope) or by root and
//! root's group (system scope) only, never by other local users:
//!
//! - Unix: `0600` (user) / `0640` (system), given at `open(2)` time, so the
//!   file never exists with wider permissions. When a file is replaced, its
//!   group is kept (an admin who `chgrp`s the system file to the agents'
//!   group keeps that across re-installs).
//! - Windows: an explicit ACL without inherited entries: Administrators and
//!   SYSTEM (full control), plus the current user for a per-user file. It is
//!   set with `icacls` on the still empty file, before anything is written.
//!
//! `doctor` uses [`exposure`] to warn about a file that is readable by others
//! (written by an older version, or by hand).

use std::fs::File;
use std::io;
use std::path::Path;

/// The Unix mode a config file gets: `0600` per user, `0640` system-wide.
pub fn mode(system: bool) -> u32 {
    if system { 0o640 } else { 0o600 }
}

/// Creates `tmp` (replacing a stale one) with the access of a config file of
/// this scope, ready for the contents that are then renamed over `target`.
pub fn create(tmp: &Path, target: &Path, system: bool) -> io::Result<File> {
    match std::fs::remove_file(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
        options.mode(mode(system));
        let file = options.open(tmp)?;
        // The umask may have taken bits away (0640 under umask 077): set the
        // exact mode on the empty file before anything is written.
        file.set_permissions(std::fs::Permissions::from_mode(mode(system)))?;
        if let Ok(old) = std::fs::metadata(target)
            && old.gid() != file.metadata()?.gid()
            && let Err(e) = std::os::unix::fs::fchown(&file, None, Some(old.gid()))
        {
            // The new file keeps its creator's group: narrower, not wider.
            tracing::warn!(
                "cannot give {} the group {} of {}: {e}",
                tmp.display(),
                old.gid(),
                target.display()
            );
        }
        Ok(file)
    }
    #[cfg(windows)]
    {
        let _ = target;
        let file = options.open(tmp)?;
        restrict_windows(tmp, system)?;
        Ok(file)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (target, system);
        options.open(tmp)
    }
}

/// Replaces the file's ACL with Administrators and SYSTEM (full control),
/// plus the current user for a per-user file; inherited entries removed.
#[cfg(windows)]
fn restrict_windows(path: &Path, system: bool) -> io::Result<()> {
    // Well-known SIDs, so the names work in every Windows language.
    const ADMINISTRATORS: &str = "*S-1-5-32-544:(F)";
    const LOCAL_SYSTEM: &str = "*S-1-5-18:(F)";
    let mut cmd = std::process::Command::new("icacls");
    cmd.arg(path)
        .args(["/inheritance:r", "/grant:r", ADMINISTRATORS, LOCAL_SYSTEM]);
    if !system {
        let user = std::env::var("USERNAME").map_err(|_| {
            io::Error::other("USERNAME is not set: cannot give the user access to host.json")
        })?;
        let who = match std::env::var("USERDOMAIN") {
            Ok(d) if !d.is_empty() => format!("{d}\\{user}:(F)"),
            _ => format!("{user}:(F)"),
        };
        cmd.arg(who);
    }
    let out = cmd.output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "icacls could not restrict {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Windows, system scope: makes `dir` (`%ProgramData%\Ringside`, which holds
/// the manifests browsers trust and `host.json`) Administrators' own, with
/// full control for Administrators and SYSTEM and read access for Users,
/// nothing inherited from ProgramData (whose default lets every user create
/// folders there, so a user could have made this one first and kept the
/// right to replace the manifests in it). Elsewhere nothing to do: the
/// system folders are root's.
pub fn restrict_system_dir(dir: &Path) -> io::Result<()> {
    #[cfg(windows)]
    {
        const ADMINISTRATORS: &str = "*S-1-5-32-544";
        icacls(dir, &["/setowner", ADMINISTRATORS, "/T", "/C", "/Q"])?;
        icacls(
            dir,
            &[
                "/inheritance:r",
                "/grant:r",
                "*S-1-5-32-544:(OI)(CI)F",
                "*S-1-5-18:(OI)(CI)F",
                "*S-1-5-32-545:(OI)(CI)RX",
                "/Q",
            ],
        )
    }
    #[cfg(not(windows))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(windows)]
fn icacls(path: &Path, args: &[&str]) -> io::Result<()> {
    let out = std::process::Command::new("icacls")
        .arg(path)
        .args(args)
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "icacls {} {}: {}",
            path.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Why `path` is readable (or writable) by more people than its scope allows,
/// with the command that fixes it; None when it is not, or cannot be told
/// (no such file, or Windows, whose ACL `doctor` does not read).
pub fn exposure(path: &Path, system: bool) -> Option<(String, String)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let m = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        // User scope: nobody but the owner. System scope: the group may read.
        let too_open = if system { m & 0o037 } else { m & 0o077 };
        (too_open != 0).then(|| {
            (
                format!(
                    "{} has mode {m:04o}: other local users can read it (it may hold OAuth client secrets)",
                    path.display()
                ),
                format!("chmod {:04o} {}", mode(system), path.display()),
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (path, system);
        None
    }
}

#[cfg(test)]
mod tests {
    //! Modes read back from files created here.
    use super::*;

    #[cfg(unix)]
    fn mode_of(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn created_with_the_scope_mode_and_exposure_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        for (system, want) in [(false, 0o600), (true, 0o640)] {
            let t = tmp.path().join(format!("{system}.tmp"));
            let target = tmp.path().join(format!("{system}.json"));
            create(&t, &target, system).unwrap();
            assert_eq!(mode_of(&t), want);
            std::fs::rename(&t, &target).unwrap();
            assert_eq!(exposure(&target, system), None);
            // A world-readable file (an older version's, or by hand) is reported.
            std::fs::set_permissions(
                &target,
                <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o644),
            )
            .unwrap();
            let (problem, fix) = exposure(&target, system).unwrap();
            assert!(problem.contains("0644"), "{problem}");
            assert_eq!(fix, format!("chmod {want:04o} {}", target.display()));
        }
        // The system file's group may read it; the user file's may not.
        let g = tmp.path().join("g.json");
        std::fs::write(&g, "{}").unwrap();
        std::fs::set_permissions(
            &g,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o640),
        )
        .unwrap();
        assert_eq!(exposure(&g, true), None);
        assert!(exposure(&g, false).is_some());
    }

    #[cfg(unix)]
    #[test]
    fn the_replaced_files_group_is_kept() {
        use std::os::unix::fs::MetadataExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("host.json");
        std::fs::write(&target, "{}").unwrap();
        // An admin's `chgrp agents host.json` (any group id will do; only
        // root may give a file a group it is not in).
        if std::os::unix::fs::chown(&target, None, Some(4242)).is_err() {
            eprintln!("skipped: not root");
            return;
        }
        let t = tmp.path().join("host.json.tmp");
        create(&t, &target, true).unwrap();
        assert_eq!(std::fs::metadata(&t).unwrap().gid(), 4242);
        assert_eq!(mode_of(&t), 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn a_stale_temporary_file_is_replaced_not_reused() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join("host.json.tmp");
        std::fs::write(&t, "old secret").unwrap();
        std::fs::set_permissions(
            &t,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o644),
        )
        .unwrap();
        create(&t, &tmp.path().join("host.json"), false).unwrap();
        assert_eq!(mode_of(&t), 0o600);
        assert_eq!(std::fs::read_to_string(&t).unwrap(), "");
    }
}
