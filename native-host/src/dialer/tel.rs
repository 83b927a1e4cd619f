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
/// x-scheme-handler/tel` prints a desktop file). Elsewhere the OS is trusted.
pub fn handler_exists() -> bool {
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
