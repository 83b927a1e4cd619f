//! What the worker shows every extension page: its state as one `UiState`.

use ringside_core::surface::UiState;
use wasm_bindgen::prelude::*;

use super::contacts;
use super::kernel::Worker;
use crate::error::JsError;

pub(super) fn current_state(w: &Worker) -> UiState {
    w.ui_state(contacts::view(), contacts::caller)
}

pub(super) fn state_js(state: &UiState) -> Result<JsValue, JsError> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    Ok(serde::Serialize::serialize(state, &ser)?)
}
