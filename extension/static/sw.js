// Service worker loader. MV3 requires listeners to be registered synchronously
// at top level, so they are registered here and forward to Rust
// (extension/src/sw/, the worker's own wasm module) once it is ready. No logic lives in this file.
import init, {
  sw_start,
  sw_on_connect,
  sw_on_message,
  sw_on_storage_changed,
  sw_on_notification_button,
  sw_on_update_available,
  sw_on_alarm,
  sw_on_command,
} from './wasm/ringside_sw.js';
// Phone detection's own wasm module, loaded on the first detect request.
import './detect_loader.js';

const ready = init({ module_or_path: new URL('./wasm/ringside_sw_bg.wasm', import.meta.url) })
  .then(() => sw_start());

chrome.runtime.onConnect.addListener((port) => {
  ready.then(() => sw_on_connect(port, port.sender));
});

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  ready
    .then(() => sw_on_message(message, sender))
    .then(sendResponse, (e) => sendResponse({ ok: false, error: String(e && e.message ? e.message : e) }));
  return true; // the reply is asynchronous
});

chrome.storage.onChanged.addListener(() => {
  ready.then(() => sw_on_storage_changed());
});

// Named so it can be inspected from the worker's console (and by the e2e
// suite, since headless Chromium has no notification centre to click).
function onNotificationButton(id, button) {
  return ready.then(() => sw_on_notification_button(id, button));
}
chrome.notifications.onButtonClicked.addListener(onNotificationButton);

// Keyboard shortcuts (manifest `commands`); named for the same reasons.
function onCommand(name) {
  return ready.then(() => sw_on_command(name));
}
chrome.commands.onCommand.addListener(onCommand);
self.ringside = Object.freeze({ onNotificationButton, onCommand });

// A newer version is downloaded: Rust applies it when no call is live.
chrome.runtime.onUpdateAvailable.addListener((details) => {
  ready.then(() => sw_on_update_available(details.version));
});

// The contact sync's timer (chrome.alarms outlives the worker).
chrome.alarms.onAlarm.addListener((alarm) => {
  ready.then(() => sw_on_alarm(alarm.name));
});

// Registered so the worker starts with the browser and connects to the host
// (sw_start runs on every worker start, via `ready` above).
chrome.runtime.onStartup.addListener(() => {});
chrome.runtime.onInstalled.addListener(() => {});
