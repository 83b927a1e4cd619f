//! Hand a number to the operating system's `tel:` handler.

use std::process::Command;

use super::DialerError;

/// The command that opens a URL on this OS.
fn opener() -> (&'static str, &'static [&'static str]) {
    if cfg!(target_os = "macos") {
        ("open", &[])
    } else if cfg!(windows) {
        ("cmd", &["/C", "start", ""])
    } else {
        ("xdg-open", &[])
    }
}

/// Whether a `tel:` handler is registered (Linux: `xdg-mime query default
/// x-scheme-handler/tel` prints a desktop file; Windows: a URL protocol
/// `tel` with an open command in the classes, or the user's choice of an
/// app for tel: links). macOS is trusted.
pub fn handler_exists() -> bool {
    #[cfg(windows)]
    {
        windows_handler_exists()
    }
    #[cfg(not(windows))]
    {
        linux_handler_exists()
    }
}

/// Windows: `HKEY_CLASSES_ROOT\tel` (the user's classes over the machine's)
/// with `URL Protocol` and `shell\open\command`, as programs register
/// themselves, or a ProgId chosen in Settings > Default apps.
#[cfg(windows)]
fn windows_handler_exists() -> bool {
    use winreg::RegKey;
    use winreg::enums::{HKEY_CLASSES_ROOT, HKEY_CURRENT_USER};
    let classes = RegKey::predef(HKEY_CLASSES_ROOT);
    let registered = classes.open_subkey("tel").is_ok_and(|k| {
        k.get_raw_value("URL Protocol").is_ok()
            && k.open_subkey(r"shell\open\command")
                .and_then(|c| c.get_value::<String, _>(""))
                .is_ok_and(|c| !c.trim().is_empty())
    });
    let chosen = RegKey::predef(HKEY_CURRENT_USER)
        .open_subkey(
            r"Software\Microsoft\Windows\Shell\Associations\UrlAssociations\tel\UserChoice",
        )
        .and_then(|k| k.get_value::<String, _>("ProgId"))
        .is_ok_and(|p| !p.is_empty());
    registered || chosen
}

#[cfg(not(windows))]
fn linux_handler_exists() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    Command::new("xdg-mime")
        .args(["query", "default", "x-scheme-handler/tel"])
        .output()
        .map(|o| o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty())
        .unwrap_or(false)
}

/// Opens `tel:<e164>` (validated digits only) with the OS handler.
pub fn dial(e164: &str) -> Result<(), DialerError> {
    let digits = e164.strip_prefix('+').unwrap_or(e164);
    if !e164.starts_with('+') || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(
            ringside_core::dial::DialError::BadNumber(e164.chars().take(40).collect()).into(),
        );
    }
    if !handler_exists() {
        return Err(DialerError::NoTelHandler);
    }
    let (cmd, args) = opener();
    let status = Command::new(cmd)
        .args(args)
        .arg(format!("tel:{e164}"))
        .status()
        .map_err(|e| DialerError::Handler(format!("{cmd}: {e}")))?;
    match status.code() {
        Some(0) => Ok(()),
        // xdg-open exits 3 when no application handles the scheme.
        Some(3) => Err(DialerError::NoTelHandler),
        other => Err(DialerError::Handler(format!("{cmd} exited with {other:?}"))),
    }
}
