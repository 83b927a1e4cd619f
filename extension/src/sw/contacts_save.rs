//! Creating and editing the agent's own contacts from the popup: the
//! executor of `ringside_core::worker::contact_save` (which source, the
//! write scope, the conflict loop with its merge, the popup's answer). It
//! asks for the scope, sends, normalises numbers with the host, and writes
//! what the flow says to IndexedDB and memory.

use ringside_core::contacts::merge::{Draft, SaveAnswer};
use ringside_core::worker::contact_save::{self, ContactSave, SaveRequest, SaveStep};

use super::super::api::{add_scope, granted_scope};
use super::super::kernel::with_worker;
use super::{agent, epoch, load, normalize, send, with, write};

/// Creates (no id) or edits one of the agent's contacts.
pub(in super::super) async fn save(
    id: Option<String>,
    draft: Draft,
    base: Option<Draft>,
    etag: Option<String>,
) -> SaveAnswer {
    let Some((me, kind)) = agent() else {
        return SaveAnswer::SignedOut;
    };
    if contact_save::source_for(kind).is_some() && load(&me).await.is_err() {
        return contact_save::store_failed();
    }
    let started = epoch();
    let stored = id.as_deref().and_then(|id| with(|s| s.get(id)));
    let granted = granted_scope().await.unwrap_or_default();
    let roots = with_worker(|w| w.settings.api_roots()).unwrap_or_default();
    let request = SaveRequest {
        id,
        draft,
        base,
        etag,
    };
    let (flow, mut step) = ContactSave::start(kind, request, stored, &granted, roots);
    let Some(mut flow) = flow else {
        return match step {
            SaveStep::Done(done) => done.answer,
            _ => SaveAnswer::SignedOut,
        };
    };
    loop {
        step = match step {
            SaveStep::AddScope(scope) => {
                flow.scope_added(add_scope(scope).await.map_err(|f| f.notice("")))
            }
            SaveStep::Send(request) => flow.answer(send(&request).await),
            SaveStep::Normalize(mut c) => {
                normalize(std::slice::from_mut(&mut c)).await;
                flow.normalized(c)
            }
            SaveStep::Done(done) => {
                let keep: Vec<_> = done.keep.iter().map(|c| with(|s| s.stamped(c))).collect();
                write(keep, done.forget.into_iter().collect(), started, &me).await;
                return done.answer;
            }
        };
    }
}
