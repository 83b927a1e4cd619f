//! Typed bindings to the chrome.* APIs Ringside uses. Calls that can throw are
//! bound with `catch`; their JsValue errors become [`crate::error::JsError`] at
//! the call site, once.

use js_sys::{Array, Function, Object};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `chrome.runtime.Port`.
    #[derive(Debug, Clone)]
    pub type Port;

    #[wasm_bindgen(method, getter)]
    pub fn name(this: &Port) -> String;

    #[wasm_bindgen(method, catch, js_name = postMessage)]
    pub fn post_message(this: &Port, message: &JsValue) -> Result<(), JsValue>;

    #[wasm_bindgen(method)]
    pub fn disconnect(this: &Port);

    #[wasm_bindgen(method, getter, js_name = onMessage)]
    pub fn on_message(this: &Port) -> ChromeEvent;

    #[wasm_bindgen(method, getter, js_name = onDisconnect)]
    pub fn on_disconnect(this: &Port) -> ChromeEvent;

    /// Any `chrome.events.Event`.
    pub type ChromeEvent;

    #[wasm_bindgen(method, js_name = addListener)]
    pub fn add_listener(this: &ChromeEvent, callback: &Function);

    /// `chrome.runtime.lastError`.
    pub type LastError;

    #[wasm_bindgen(method, getter)]
    pub fn message(this: &LastError) -> Option<String>;

    #[wasm_bindgen(thread_local_v2, js_namespace = chrome, js_name = runtime)]
    static RUNTIME: Runtime;

    pub type Runtime;

    #[wasm_bindgen(method, getter)]
    fn id(this: &Runtime) -> String;

    #[wasm_bindgen(method, getter, js_name = lastError)]
    fn last_error(this: &Runtime) -> Option<LastError>;

    #[wasm_bindgen(method, catch, js_name = connectNative)]
    fn connect_native(this: &Runtime, application: &str) -> Result<Port, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn connect(this: &Runtime, info: &Object) -> Result<Port, JsValue>;

    #[wasm_bindgen(method, catch, js_name = openOptionsPage)]
    fn open_options_page(this: &Runtime) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "i18n"], js_name = getMessage)]
    fn i18n_get_message(key: &str, substitutions: &Array) -> String;

    #[wasm_bindgen(js_namespace = ["chrome", "i18n"], js_name = getUILanguage)]
    pub fn ui_language() -> String;

    #[wasm_bindgen(js_namespace = ["chrome", "identity"], js_name = getRedirectURL)]
    pub fn identity_redirect_url() -> String;

    /// The global `setTimeout` (window and service worker alike).
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout_js(callback: &JsValue, ms: i32) -> JsValue;

    #[wasm_bindgen(thread_local_v2, js_name = navigator)]
    static NAVIGATOR: NavigatorExt;

    pub type NavigatorExt;

    #[wasm_bindgen(method, getter, js_name = userAgentData)]
    fn user_agent_data(this: &NavigatorExt) -> Option<UaData>;

    pub type UaData;

    #[wasm_bindgen(method, getter)]
    fn brands(this: &UaData) -> Array;

    pub type UaBrand;

    #[wasm_bindgen(method, getter)]
    fn brand(this: &UaBrand) -> String;
}

/// This extension's id.
pub fn runtime_id() -> String {
    RUNTIME.with(|r| r.id())
}

/// `chrome.runtime.lastError.message`, read inside a callback.
pub fn last_error_message() -> Option<String> {
    RUNTIME.with(|r| r.last_error().and_then(|e| e.message()))
}

pub fn connect_native(application: &str) -> Result<Port, JsValue> {
    RUNTIME.with(|r| r.connect_native(application))
}

/// Opens a named port to the service worker.
pub fn connect(name: &str) -> Result<Port, JsValue> {
    #[derive(serde::Serialize)]
    struct ConnectInfo<'a> {
        name: &'a str,
    }
    let info: Object = serde_wasm_bindgen::to_value(&ConnectInfo { name })?.unchecked_into();
    RUNTIME.with(|r| r.connect(&info))
}

pub fn open_options_page() -> Result<(), JsValue> {
    RUNTIME.with(|r| r.open_options_page()).map(|_| ())
}

/// `chrome.i18n.getMessage`; empty when the key is unknown.
pub fn get_message(key: &str, substitutions: &[String]) -> String {
    let subs: Array = substitutions.iter().map(|s| JsValue::from_str(s)).collect();
    i18n_get_message(key, &subs)
}

/// Runs `f` once after `ms` milliseconds.
pub fn set_timeout(ms: u32, f: impl FnOnce() + 'static) {
    let cb = Closure::once_into_js(f);
    set_timeout_js(&cb, i32::try_from(ms).unwrap_or(i32::MAX));
}

/// The brand names from `navigator.userAgentData` (empty where unavailable).
pub fn browser_brands() -> Vec<String> {
    NAVIGATOR.with(|n| {
        n.user_agent_data()
            .map(|d| {
                d.brands()
                    .iter()
                    .map(|b| b.unchecked_into::<UaBrand>().brand())
                    .collect()
            })
            .unwrap_or_default()
    })
}
