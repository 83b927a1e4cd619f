//! The extension's phone-detection module (`detect.wasm`): the service worker
//! loads it to answer content scripts' detect requests without the native
//! host. One function, JSON in and out (the host's `detect` request shape),
//! so the module carries no serde-wasm-bindgen glue.
// wasm-bindgen's generated glue contains unsafe code; this crate writes none.
#![allow(unsafe_code)]

use wasm_bindgen::prelude::*;

/// `params`: `{"region":"FR","texts":[…],"links":[…]}`; returns the
/// `DetectResult` JSON, or throws an Error whose message says what was wrong.
#[wasm_bindgen]
pub fn detect(params: &str) -> Result<String, JsError> {
    let params: ringside_detect::DetectParams = serde_json::from_str(params)
        .map_err(|e| JsError::new(&format!("bad detect params: {e}")))?;
    let result = ringside_detect::detect(&params).map_err(|e| JsError::new(&e.to_string()))?;
    serde_json::to_string(&result).map_err(|e| JsError::new(&e.to_string()))
}

/// The cost class of an E.164 number (`regular`, `premium_rate`,
/// `shared_cost`, `unrecognised`): the service worker asks it before a dial
/// that no native host checks.
#[wasm_bindgen(js_name = numberCost)]
pub fn number_cost(e164: &str) -> String {
    match ringside_detect::number_cost(e164) {
        ringside_detect::NumberCost::Regular => "regular",
        ringside_detect::NumberCost::PremiumRate => "premium_rate",
        ringside_detect::NumberCost::SharedCost => "shared_cost",
        ringside_detect::NumberCost::Unrecognised => "unrecognised",
    }
    .to_owned()
}
