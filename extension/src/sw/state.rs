//! What the worker shows every extension page: its state as one `UiState`.

use ringside_core::surface::UiState;
use wasm_bindgen::prelude::*;

use super::contacts;
use super::kernel::Worker;
use crate::error::JsError;

pub(super) fn current_state(w: &Worker) -> UiState {
    UiState {
        host: w.link.status().clone(),
        stats: w.link.stats().clone(),
        pages: w.pages.clone(),
        calls: w.desk.clone(),
        settings: w.settings.clone(),
        switched_off: w.switched_off.clone(),
        raw_options: w.options.clone(),
        auth: w.auth.view().clone(),
        mail: w.mail.clone(),
        my_presence: w.my_presence.clone(),
        panel_request: w.panel_request.clone(),
        install_type: w.install_type.clone(),
        update_pending: w.update_pending.clone(),
        contacts: contacts::view(),
        caller: w
            .desk
            .live
            .as_ref()
            .and_then(|c| contacts::caller(&c.number)),
    }
}

pub(super) fn state_js(state: &UiState) -> Result<JsValue, JsError> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    Ok(serde::Serialize::serialize(state, &ser)?)
}
