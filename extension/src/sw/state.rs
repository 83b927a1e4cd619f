//! What the worker shows every extension page: its state as one `UiState`.

use ringside_core::surface::UiState;
use wasm_bindgen::prelude::*;

use super::contacts;
use super::kernel::Worker;
use crate::error::JsError;

pub(super) fn current_state(w: &Worker) -> UiState {
    w.ui_state(contacts::view(), contacts::caller)
}

/// As JSON text parsed by the browser: the one encoder the worker links
/// (`ringside_core::json`); pages read it as they always did.
pub(super) fn state_js(state: &UiState) -> Result<JsValue, JsError> {
    Ok(js_sys::JSON::parse(&serde_json::to_string(state)?)?)
}
