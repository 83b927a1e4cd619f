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

    /// Firefox reports why a port closed here (an `Error`), not in `lastError`.
    #[wasm_bindgen(method, getter)]
    fn error(this: &Port) -> Option<js_sys::Error>;

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

    #[wasm_bindgen(js_namespace = ["chrome", "identity"], js_name = launchWebAuthFlow, catch)]
    fn launch_web_auth_flow_js(details: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = openPopup, catch)]
    fn action_open_popup() -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = setBadgeText, catch)]
    fn action_set_badge_text(details: &JsValue) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "commands"], js_name = getAll, catch)]
    fn commands_get_all() -> Result<js_sys::Promise, JsValue>;

    /// `crypto.getRandomValues` (window and service worker alike).
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);

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

    /// `chrome.storage.managed` / `.local` (a `StorageArea`).
    pub type StorageArea;

    #[wasm_bindgen(thread_local_v2, js_namespace = ["chrome", "storage"], js_name = managed)]
    static MANAGED: StorageArea;

    #[wasm_bindgen(thread_local_v2, js_namespace = ["chrome", "storage"], js_name = local)]
    static LOCAL: StorageArea;

    #[wasm_bindgen(thread_local_v2, js_namespace = ["chrome", "storage"], js_name = session)]
    static SESSION: StorageArea;

    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_all(this: &StorageArea, keys: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = set)]
    fn set_items(this: &StorageArea, items: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = remove)]
    fn remove_items(this: &StorageArea, keys: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "notifications"], js_name = create, catch)]
    fn notifications_create(id: &str, options: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "notifications"], js_name = clear, catch)]
    fn notifications_clear(id: &str) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = sendMessage, catch)]
    fn tabs_send_message(
        tab: i32,
        message: &JsValue,
        options: &JsValue,
    ) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = query, catch)]
    fn tabs_query(query: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = create, catch)]
    fn tabs_create(properties: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "sidePanel"], js_name = open, catch)]
    fn side_panel_open(options: &JsValue) -> Result<js_sys::Promise, JsValue>;

    /// `chrome.sidePanel`: undefined in Firefox, which has `sidebarAction`.
    #[wasm_bindgen(thread_local_v2, js_namespace = chrome, js_name = sidePanel)]
    static SIDE_PANEL: JsValue;

    /// Firefox's sidebar (`sidebar_action` in the manifest).
    #[wasm_bindgen(js_namespace = ["chrome", "sidebarAction"], js_name = open, catch)]
    fn sidebar_action_open() -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = sendMessage, catch)]
    fn runtime_send_message(message: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = reload)]
    pub fn runtime_reload();

    #[wasm_bindgen(js_namespace = ["chrome", "management"], js_name = getSelf, catch)]
    fn management_get_self() -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = getURL)]
    pub fn runtime_get_url(path: &str) -> String;

    #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = get, catch)]
    fn alarms_get(name: &str) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = create, catch)]
    fn alarms_create(name: &str, info: &JsValue) -> Result<js_sys::Promise, JsValue>;

    /// The global `fetch` (window and service worker alike).
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_js(url: &str, init: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// A JSON file of the extension itself (`runtime.getURL(path)`), parsed by
/// the browser: `None` when it cannot be read.
pub async fn extension_json(path: &str) -> Option<JsValue> {
    let init = crate::error::json_to_js(&serde_json::json!({ "cache": "no-store" })).ok()?;
    let resp = wasm_bindgen_futures::JsFuture::from(fetch_js(&runtime_get_url(path), &init).ok()?)
        .await
        .ok()?
        .dyn_into::<web_sys::Response>()
        .ok()?;
    if !resp.ok() {
        return None;
    }
    wasm_bindgen_futures::JsFuture::from(resp.json().ok()?)
        .await
        .ok()
}

/// Which storage area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Managed,
    Local,
    /// In memory, cleared when the browser closes; survives worker restarts.
    Session,
}

fn area<R>(a: Area, f: impl FnOnce(&StorageArea) -> R) -> R {
    match a {
        Area::Managed => MANAGED.with(f),
        Area::Local => LOCAL.with(f),
        Area::Session => SESSION.with(f),
    }
}

/// Reads `keys` (None: everything) from a storage area as JSON. Managed
/// storage that is unavailable (no policy at all) reads as `{}`.
pub async fn storage_get(a: Area, keys: Option<&[&str]>) -> Result<serde_json::Value, JsValue> {
    let keys: JsValue = match keys {
        Some(k) => k
            .iter()
            .map(|s| JsValue::from_str(s))
            .collect::<Array>()
            .into(),
        None => JsValue::NULL,
    };
    let v = wasm_bindgen_futures::JsFuture::from(area(a, |s| s.get_all(&keys))?).await?;
    crate::error::js_to_json(&v).map_err(JsValue::from)
}

/// Writes JSON items to a storage area.
pub async fn storage_set(a: Area, items: &serde_json::Value) -> Result<(), JsValue> {
    let js = crate::error::json_to_js(items)?;
    wasm_bindgen_futures::JsFuture::from(area(a, |s| s.set_items(&js))?).await?;
    Ok(())
}

/// Removes keys from a storage area.
pub async fn storage_remove(a: Area, keys: &[&str]) -> Result<(), JsValue> {
    let keys: Array = keys.iter().map(|s| JsValue::from_str(s)).collect();
    wasm_bindgen_futures::JsFuture::from(area(a, |s| s.remove_items(&keys))?).await?;
    Ok(())
}

/// Runs the provider's authorization page (`interactive`: a window the
/// agent uses) and returns the redirect URL it ends on.
pub async fn launch_web_auth_flow(url: &str) -> Result<String, JsValue> {
    let details = crate::error::json_to_js(&serde_json::json!({
        "url": url,
        "interactive": true,
    }))?;
    let v = wasm_bindgen_futures::JsFuture::from(launch_web_auth_flow_js(&details)?).await?;
    v.as_string()
        .ok_or_else(|| JsValue::from_str("launchWebAuthFlow returned no URL"))
}

/// The keyboard shortcuts' commands and their keys (`commands.getAll`):
/// (name, key), the key empty when none is set.
pub async fn command_keys() -> Result<Vec<(String, String)>, crate::error::JsError> {
    #[derive(serde::Deserialize)]
    struct Command {
        #[serde(default)]
        name: String,
        #[serde(default)]
        shortcut: String,
    }
    let all = wasm_bindgen_futures::JsFuture::from(commands_get_all()?).await?;
    let all: Vec<Command> = serde_wasm_bindgen::from_value(all)?;
    Ok(all.into_iter().map(|c| (c.name, c.shortcut)).collect())
}

/// Opens the toolbar popup (best effort: the browser may refuse without a
/// focused window).
pub fn open_popup() {
    if let Ok(p) = action_open_popup() {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(p).await;
        });
    }
}

/// The toolbar button's badge text ("" removes it); best effort.
pub fn set_badge(text: &str) {
    let details = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&details, &"text".into(), &text.into());
    if let Ok(p) = action_set_badge_text(&details) {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(p).await;
        });
    }
}

/// Random bytes from the platform's CSPRNG.
pub fn random_bytes(buf: &mut [u8]) {
    get_random_values(buf);
}

/// An HTTP answer, read whole (the type the worker's flows in core read).
pub use ringside_core::worker::http::HttpAnswer;

/// One HTTP request with `fetch` (no cookies): a GET when `form` and `json`
/// are None, else a POST of the form or of the JSON.
pub async fn http(
    url: &str,
    form: Option<&[(&str, &str)]>,
    json: Option<&serde_json::Value>,
    bearer: Option<&str>,
) -> Result<HttpAnswer, JsValue> {
    http_method(None, url, form, json, bearer).await
}

/// [`http`] with another method (`PATCH`, `DELETE`); None: GET, or POST with a body.
pub async fn http_method(
    method: Option<&str>,
    url: &str,
    form: Option<&[(&str, &str)]>,
    json: Option<&serde_json::Value>,
    bearer: Option<&str>,
) -> Result<HttpAnswer, JsValue> {
    http_with(method, url, form, json, bearer, &[]).await
}

/// [`http_method`] with more request headers (Graph's `Prefer`, `If-Match`).
pub async fn http_with(
    method: Option<&str>,
    url: &str,
    form: Option<&[(&str, &str)]>,
    json: Option<&serde_json::Value>,
    bearer: Option<&str>,
    extra: &[(&str, &str)],
) -> Result<HttpAnswer, JsValue> {
    let mut headers = serde_json::Map::new();
    for (k, v) in extra {
        headers.insert(k.to_ascii_lowercase(), (*v).into());
    }
    let mut init =
        serde_json::json!({ "method": "GET", "credentials": "omit", "cache": "no-store" });
    if let Some(pairs) = form {
        headers.insert(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        );
        init["method"] = "POST".into();
        init["body"] = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
            .into();
    }
    if let Some(j) = json {
        headers.insert("content-type".into(), "application/json".into());
        init["method"] = "POST".into();
        init["body"] = serde_json::to_string(j)
            .map_err(crate::error::JsError::from)?
            .into();
    }
    if let Some(t) = bearer {
        headers.insert("authorization".into(), format!("Bearer {t}").into());
    }
    if let Some(m) = method {
        init["method"] = m.into();
    }
    init["headers"] = serde_json::Value::Object(headers);
    let init = crate::error::json_to_js(&init)?;
    let resp = wasm_bindgen_futures::JsFuture::from(fetch_js(url, &init)?).await?;
    let get = |k: &str| js_sys::Reflect::get(&resp, &JsValue::from_str(k));
    let status = get("status")?.as_f64().unwrap_or(0.0) as u16;
    let headers = get("headers")?;
    let header = |name: &str| -> Result<Option<String>, JsValue> {
        Ok(js_sys::Reflect::get(&headers, &JsValue::from_str("get"))?
            .dyn_into::<js_sys::Function>()?
            .call1(&headers, &JsValue::from_str(name))?
            .as_string())
    };
    let cache_control = header("cache-control")?;
    let www_authenticate = header("www-authenticate")?;
    let retry_after = header("retry-after")?;
    let text = js_sys::Reflect::get(&resp, &JsValue::from_str("text"))?
        .dyn_into::<js_sys::Function>()?
        .call0(&resp)?
        .dyn_into::<js_sys::Promise>()?;
    let body = wasm_bindgen_futures::JsFuture::from(text)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok(HttpAnswer {
        status,
        body,
        cache_control,
        www_authenticate,
        retry_after,
    })
}

/// A streaming response body (`fetch` + `body.getReader()`).
pub struct BodyStream {
    reader: JsValue,
}

impl BodyStream {
    /// The next chunk; None at the end of the stream.
    pub async fn next_chunk(&self) -> Result<Option<Vec<u8>>, JsValue> {
        let read = js_sys::Reflect::get(&self.reader, &JsValue::from_str("read"))?
            .dyn_into::<js_sys::Function>()?
            .call0(&self.reader)?
            .dyn_into::<js_sys::Promise>()?;
        let r = wasm_bindgen_futures::JsFuture::from(read).await?;
        if js_sys::Reflect::get(&r, &JsValue::from_str("done"))?.is_truthy() {
            return Ok(None);
        }
        let value = js_sys::Reflect::get(&r, &JsValue::from_str("value"))?;
        Ok(Some(js_sys::Uint8Array::new(&value).to_vec()))
    }
}

/// GETs a stream (server-sent events) with a bearer token: the status, and
/// the body as a stream when it is 200.
pub async fn open_stream(url: &str, bearer: &str) -> Result<(u16, Option<BodyStream>), JsValue> {
    let init = crate::error::json_to_js(&serde_json::json!({
        "method": "GET",
        "credentials": "omit",
        "cache": "no-store",
        "headers": { "authorization": format!("Bearer {bearer}"), "accept": "text/event-stream" },
    }))?;
    let resp = wasm_bindgen_futures::JsFuture::from(fetch_js(url, &init)?).await?;
    let status = js_sys::Reflect::get(&resp, &JsValue::from_str("status"))?
        .as_f64()
        .unwrap_or(0.0) as u16;
    if status != 200 {
        return Ok((status, None));
    }
    let body = js_sys::Reflect::get(&resp, &JsValue::from_str("body"))?;
    let reader = js_sys::Reflect::get(&body, &JsValue::from_str("getReader"))?
        .dyn_into::<js_sys::Function>()?
        .call0(&body)?;
    Ok((status, Some(BodyStream { reader })))
}

/// Shows a notification (JSON options as `chrome.notifications.create` takes them).
pub async fn notify(id: &str, options: &serde_json::Value) -> Result<(), JsValue> {
    let js = crate::error::json_to_js(options)?;
    wasm_bindgen_futures::JsFuture::from(notifications_create(id, &js)?).await?;
    Ok(())
}

pub async fn clear_notification(id: &str) -> Result<(), JsValue> {
    wasm_bindgen_futures::JsFuture::from(notifications_clear(id)?).await?;
    Ok(())
}

/// Sends a message to one frame of a tab's content script.
pub async fn send_to_frame(
    tab: i32,
    frame: i64,
    message: &serde_json::Value,
) -> Result<(), JsValue> {
    let js = crate::error::json_to_js(message)?;
    let opts = crate::error::json_to_js(&serde_json::json!({ "frameId": frame }))?;
    wasm_bindgen_futures::JsFuture::from(tabs_send_message(tab, &js, &opts)?).await?;
    Ok(())
}

/// Opens `url` in a new active tab: a web page stays; for a `tel:` or an
/// app's URL the browser hands it to its handler (and closes the tab).
pub async fn open_tab(url: &str) -> Result<(), JsValue> {
    let props = crate::error::json_to_js(&serde_json::json!({ "url": url, "active": true }))?;
    wasm_bindgen_futures::JsFuture::from(tabs_create(&props)?).await?;
    Ok(())
}

/// Ids of the active tabs of every window.
pub async fn active_tab_ids() -> Result<Vec<i32>, JsValue> {
    #[derive(serde::Deserialize)]
    struct Tab {
        #[serde(default)]
        id: Option<i32>,
    }
    let q = crate::error::json_to_js(&serde_json::json!({ "active": true }))?;
    let tabs = wasm_bindgen_futures::JsFuture::from(tabs_query(&q)?).await?;
    // Read with serde_wasm_bindgen, as the popup reads its state: no JSON
    // parser in the UI module for this.
    let tabs: Vec<Tab> = serde_wasm_bindgen::from_value(tabs)?;
    Ok(tabs.into_iter().filter_map(|t| t.id).collect())
}

/// This extension's id.
pub fn runtime_id() -> String {
    RUNTIME.with(|r| r.id())
}

/// `chrome.runtime.lastError.message`, read inside a callback.
pub fn last_error_message() -> Option<String> {
    RUNTIME.with(|r| r.last_error().and_then(|e| e.message()))
}

/// Why `port` closed, read inside its onDisconnect callback: Chromium's
/// `runtime.lastError`, else Firefox's `port.error`.
pub fn disconnect_error(port: &Port) -> Option<String> {
    last_error_message().or_else(|| port.error().map(|e| String::from(e.message())))
}

pub fn connect_native(application: &str) -> Result<Port, JsValue> {
    RUNTIME.with(|r| r.connect_native(application))
}

/// Opens a named port to the service worker.
pub fn connect(name: &str) -> Result<Port, JsValue> {
    let info: Object =
        crate::error::json_to_js(&serde_json::json!({ "name": name }))?.unchecked_into();
    RUNTIME.with(|r| r.connect(&info))
}

/// `sidePanel.open` for a tab (needs a user action); in Firefox, which has no
/// `chrome.sidePanel`, `sidebarAction.open` (the window's sidebar). The
/// browser is asked at once (in the click's handler, which both browsers
/// require); the future waits for its answer.
pub fn open_side_panel(
    tab: i32,
) -> impl std::future::Future<Output = Result<(), crate::error::JsError>> {
    let promise = if SIDE_PANEL.with(|p| p.is_undefined()) {
        sidebar_action_open().map_err(crate::error::JsError::from)
    } else {
        crate::error::json_to_js(&serde_json::json!({ "tabId": tab }))
            .and_then(|opts| side_panel_open(&opts).map_err(crate::error::JsError::from))
    };
    async move {
        wasm_bindgen_futures::JsFuture::from(promise?).await?;
        Ok(())
    }
}

/// `runtime.sendMessage` to the service worker, from an extension page; the
/// reply as JSON.
pub async fn send_message(
    message: &serde_json::Value,
) -> Result<serde_json::Value, crate::error::JsError> {
    crate::error::js_to_json(&send_message_js(message).await?)
}

/// `runtime.sendMessage`, the reply as the JS value it is.
pub async fn send_message_js(
    message: &serde_json::Value,
) -> Result<JsValue, crate::error::JsError> {
    let js = crate::error::json_to_js(message)?;
    Ok(wasm_bindgen_futures::JsFuture::from(runtime_send_message(&js)?).await?)
}

pub fn open_options_page() -> Result<(), JsValue> {
    RUNTIME.with(|r| r.open_options_page()).map(|_| ())
}

/// `chrome.i18n.getMessage`; empty when the key is unknown.
pub fn get_message(key: &str, substitutions: &[String]) -> String {
    // A language forced by policy wins over the browser's.
    if let Some(m) = crate::i18n::forced_message(key, substitutions) {
        return m;
    }
    let subs: Array = substitutions.iter().map(|s| JsValue::from_str(s)).collect();
    i18n_get_message(key, &subs)
}

/// `chrome.management.getSelf().installType` (`admin`, `development`,
/// `normal`, `sideload`, `other`); None where the API is missing.
pub async fn install_type() -> Option<String> {
    let info = wasm_bindgen_futures::JsFuture::from(management_get_self().ok()?)
        .await
        .ok()?;
    js_sys::Reflect::get(&info, &JsValue::from_str("installType"))
        .ok()?
        .as_string()
}

/// A repeating `chrome.alarms` alarm, created unless it exists (creating it
/// again would restart its period at every worker start).
pub async fn ensure_alarm(name: &str, period_minutes: f64) -> Result<(), JsValue> {
    let existing = wasm_bindgen_futures::JsFuture::from(alarms_get(name)?).await?;
    if existing.is_undefined() || existing.is_null() {
        let info = js_sys::Object::new();
        js_sys::Reflect::set(&info, &"periodInMinutes".into(), &period_minutes.into())?;
        js_sys::Reflect::set(&info, &"delayInMinutes".into(), &period_minutes.into())?;
        wasm_bindgen_futures::JsFuture::from(alarms_create(name, &info)?).await?;
    }
    Ok(())
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
