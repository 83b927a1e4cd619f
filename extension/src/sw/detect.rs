//! Phone detection in the worker itself: the detection module
//! (`detect/detect_bg.wasm`, the `ringside-detect` crate) answers content
//! scripts' detect requests, so buttons appear without the native host and on
//! pages whose CSP forbids wasm. The module is loaded by `detect_loader.js`
//! (imported by sw.js) on the first request, never by the popup, options page
//! or side panel, and crosses as JSON text (the host's `detect` shape).

use js_sys::Promise;
use ringside_core::phone::NumberCost;
use ringside_core::protocol::DetectParams;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::JsError;

#[wasm_bindgen]
extern "C" {
    /// `self.ringsideDetect(paramsJson)`: resolves to the result's JSON text.
    #[wasm_bindgen(catch, js_name = ringsideDetect)]
    fn ringside_detect(params: &str) -> Result<Promise, JsValue>;

    /// `self.ringsideNumberCost(e164)`: resolves to the cost class's name.
    #[wasm_bindgen(catch, js_name = ringsideNumberCost)]
    fn ringside_number_cost(e164: &str) -> Result<Promise, JsValue>;
}

/// The numbers and dialable links in `params`, found by the detection module.
pub async fn detect(params: &DetectParams) -> Result<Value, JsError> {
    let promise = ringside_detect(&serde_json::to_string(params)?)?;
    let text = JsFuture::from(promise).await?;
    let text = text
        .as_string()
        .ok_or_else(|| JsError("the detection module answered with no text".into()))?;
    Ok(serde_json::from_str(&text)?)
}

/// The cost class of an E.164 number, from the detection module (for the
/// dials no native host checks); unreadable answers count as unrecognised.
pub async fn number_cost(e164: &str) -> Result<NumberCost, JsError> {
    let name = JsFuture::from(ringside_number_cost(e164)?).await?;
    Ok(name
        .as_string()
        .and_then(|n| ringside_core::json::from_value(Value::String(n)).ok())
        .unwrap_or(NumberCost::Unrecognised))
}
