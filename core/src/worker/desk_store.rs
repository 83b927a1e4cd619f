//! The call desk kept where a browser restart does not lose it. The worker
//! keeps the desk in `storage.session` (a worker restart), which the browser
//! empties when it closes or crashes; the same JSON text is also kept in
//! IndexedDB, so an agent who closes the browser at the end of the day, or
//! whose browser crashes, finds the calls waiting for their wrap-up (and the
//! call that was live, moved to wrap-up) in the popup after the restart,
//! each still owned by the agent who took it (`crate::outbox`). Non-secret
//! data only: numbers, times, the agent's stable identity.
//!
//! [`DeskStore`] says when the kept copy may be written, and which calls
//! just ended (for the history, `crate::history`).

use crate::calls::{CallDesk, EndedCall};

/// The IndexedDB `meta` key of the kept desk.
pub const KEY: &str = "desk";

/// The desk at worker start: the session's copy when there is one (a worker
/// restart: it is the newest), else the kept one when it holds a call (a
/// browser restart); a call that was live is moved to wrap-up
/// (`CallDesk::restored`). None: nothing to restore.
pub fn restore(session: Option<CallDesk>, kept: Option<CallDesk>, now_ms: f64) -> Option<CallDesk> {
    let desk = match (session, kept) {
        (Some(d), _) => d,
        (None, Some(k)) if k.live.is_some() || !k.wrapups.is_empty() => k,
        _ => return None,
    };
    Some(CallDesk::restored(desk, now_ms))
}

/// Whether the kept desk was read yet, and the ended calls already seen.
#[derive(Debug, Clone, Default)]
pub struct DeskStore {
    /// Ids of the ended calls already seen (given to the history).
    seen: Vec<String>,
    /// The kept desk was read at start: writing before would erase it.
    ready: bool,
}

impl DeskStore {
    /// The kept desk was read (and restored, if there was one): from now
    /// on changes are written.
    pub fn ready(&mut self) {
        self.ready = true;
    }

    /// The desk changed: None before [`DeskStore::ready`] (write nothing),
    /// else the calls that ended since the last change (write the desk, and
    /// give them to the history).
    pub fn changed(&mut self, desk: &CallDesk) -> Option<Vec<EndedCall>> {
        if !self.ready {
            return None;
        }
        let ended = desk
            .wrapups
            .iter()
            .filter(|c| !self.seen.contains(&c.id))
            .cloned()
            .collect();
        self.seen = desk.wrapups.iter().map(|c| c.id.clone()).collect();
        Some(ended)
    }
}

#[cfg(test)]
#[path = "desk_store_tests.rs"]
mod tests;
