// Loads the phone-detection module (ringside-detect compiled to wasm) into the
// service worker on its first use, and exposes it to the worker's Rust as
// self.ringsideDetect(paramsJson) → Promise<resultJson>. Only sw.js imports
// this file: pages and the popup, options page and side panel never load it.
import initDetect, { detect } from './detect/detect.js';

let ready = null;
self.ringsideDetect = (paramsJson) => {
  ready ||= initDetect({ module_or_path: new URL('./detect/detect_bg.wasm', import.meta.url) });
  return ready.then(() => detect(paramsJson));
};
