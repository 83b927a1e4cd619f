//! The one place a `JsValue` error becomes a Rust error.

use wasm_bindgen::{JsCast, JsValue};

/// An exception or rejection from a browser API, with its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsError(pub String);

impl From<JsValue> for JsError {
    fn from(v: JsValue) -> Self {
        if let Some(e) = v.dyn_ref::<js_sys::Error>() {
            return JsError(String::from(e.message()));
        }
        JsError(v.as_string().unwrap_or_else(|| format!("{v:?}")))
    }
}

impl From<serde_wasm_bindgen::Error> for JsError {
    fn from(e: serde_wasm_bindgen::Error) -> Self {
        JsError(e.to_string())
    }
}

impl From<serde_json::Error> for JsError {
    fn from(e: serde_json::Error) -> Self {
        JsError(e.to_string())
    }
}

impl From<JsError> for JsValue {
    fn from(e: JsError) -> Self {
        js_sys::Error::new(&e.0).into()
    }
}

/// Native port messages cross as JSON text so the host sees exactly what
/// `ringside-core` serialized (integers stay integers, key order is kept).
pub fn json_to_js(v: &serde_json::Value) -> Result<JsValue, JsError> {
    Ok(js_sys::JSON::parse(&serde_json::to_string(v)?)?)
}

/// The inverse of [`json_to_js`].
pub fn js_to_json<T: serde::de::DeserializeOwned>(v: &JsValue) -> Result<T, JsError> {
    Ok(serde_json::from_str(&js_text(v)?)?)
}

/// A value's JSON text (`JSON.stringify`).
pub fn js_text(v: &JsValue) -> Result<String, JsError> {
    Ok(js_sys::JSON::stringify(v)?.into())
}

/// Logs to the console (the service worker's DevTools), never to the page.
pub fn log_warn(msg: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&format!("Ringside: {msg}")));
}
