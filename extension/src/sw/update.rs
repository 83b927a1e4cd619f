//! Updates of the extension itself: a downloaded version waits until no call
//! is live, so an update never takes the call controls away mid-call.

use wasm_bindgen::prelude::*;

use super::kernel::{Worker, broadcast, with_worker};
use crate::chrome;

/// `runtime.onUpdateAvailable`: a newer version was downloaded (a
/// force-installed build updates from the admin's update URL). It applies at
/// once when no call is live, otherwise when the call ends.
#[wasm_bindgen]
pub fn sw_on_update_available(version: String) {
    with_worker(|w| w.update_pending = Some(version));
    broadcast();
}

/// Reloads into a pending update once no call is live.
pub(super) fn apply_pending_update(w: &Worker) {
    if let Some(v) = &w.update_pending
        && w.desk.live.is_none()
    {
        crate::error::log_warn(&format!("reloading into version {v}"));
        chrome::runtime_reload();
    }
}
