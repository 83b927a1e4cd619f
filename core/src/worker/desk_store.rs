//! The call desk kept where a browser restart does not lose it. The worker
//! keeps the whole desk in `storage.session` (a worker restart), which the
//! browser empties when it closes or crashes; the calls waiting for their
//! wrap-up (and the call that was live) are also kept in IndexedDB
//! ([`Kept`]), so an agent who closes the browser at the end of the day, or
//! whose browser crashes, finds them in the popup after the restart, each
//! still owned by the agent who took it (`crate::outbox`). Non-secret data
//! only: numbers, times, the agent's stable identity.
//!
//! [`DeskStore`] says what to write after each change of the desk, and which
//! calls just ended (for the history, `crate::history`).

use serde::{Deserialize, Serialize};

use crate::calls::{CallDesk, EndedCall, LiveCall};

/// The IndexedDB `meta` key of the kept desk.
pub const KEY: &str = "desk";

/// What survives a browser restart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Kept {
    pub live: Option<LiveCall>,
    pub wrapups: Vec<EndedCall>,
}

impl Kept {
    pub fn of(desk: &CallDesk) -> Kept {
        Kept {
            live: desk.live.clone(),
            wrapups: desk.wrapups.clone(),
        }
    }
}

/// The desk at worker start: the session's copy when there is one (a worker
/// restart: it is the newest), else the kept one (a browser restart); a call
/// that was live is moved to wrap-up (`CallDesk::restored`). None: nothing
/// to restore.
pub fn restore(session: Option<CallDesk>, kept: Option<Kept>, now_ms: f64) -> Option<CallDesk> {
    let desk = match (session, kept) {
        (Some(d), _) => d,
        (None, Some(k)) if k.live.is_some() || !k.wrapups.is_empty() => {
            let mut d = CallDesk::default();
            d.live = k.live;
            d.wrapups = k.wrapups;
            d
        }
        _ => return None,
    };
    Some(CallDesk::restored(desk, now_ms))
}

/// What the worker wrote last, to write only changes.
#[derive(Debug, Clone, Default)]
pub struct DeskStore {
    written: Option<Kept>,
    /// Ids of the ended calls already seen (given to the history).
    seen: Vec<String>,
    /// The kept desk was read at start: writing before would erase it.
    ready: bool,
}

/// What to do after a change of the desk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeskWrite {
    /// The kept desk to write, when it changed.
    pub kept: Option<Kept>,
    /// Calls that ended since the last change, for the history.
    pub ended: Vec<EndedCall>,
}

impl DeskStore {
    /// The kept desk was read (and restored, if there was one): from now
    /// on changes are written.
    pub fn ready(&mut self) {
        self.ready = true;
    }

    /// The desk changed (or may have). Nothing before [`DeskStore::ready`].
    pub fn update(&mut self, desk: &CallDesk) -> DeskWrite {
        if !self.ready {
            return DeskWrite::default();
        }
        let kept = Kept::of(desk);
        let ended: Vec<EndedCall> = desk
            .wrapups
            .iter()
            .filter(|c| !self.seen.contains(&c.id))
            .cloned()
            .collect();
        self.seen = desk.wrapups.iter().map(|c| c.id.clone()).collect();
        let changed = self.written.as_ref() != Some(&kept);
        if changed {
            self.written = Some(kept.clone());
        }
        DeskWrite {
            kept: changed.then_some(kept),
            ended,
        }
    }
}

#[cfg(test)]
#[path = "desk_store_tests.rs"]
mod tests;
