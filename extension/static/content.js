// Content script: plain JS on purpose. WebAssembly in a content script obeys
// the page's CSP and fails on pages with `script-src 'self'`, so this file
// stays tiny and the Rust logic runs in the service worker (docs/architecture.md).
(() => {
  if (globalThis.__ringsideContent) return;
  globalThis.__ringsideContent = true;
  let wasm = true;
  try {
    // The smallest valid module: compiles only if the page's CSP allows wasm.
    new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  } catch (_) {
    wasm = false;
  }
  chrome.runtime.sendMessage({ type: 'content.hello', wasm }).catch(() => {
    // The extension was reloaded or updated under this page; nothing to do.
  });
})();
