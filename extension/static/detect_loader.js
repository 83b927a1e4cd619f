// Loads the phone-detection module (ringside-detect compiled to wasm) into the
// service worker on its first use, and exposes it to the worker's Rust as
// self.ringsideDetect(paramsJson) → Promise<resultJson>, and
// self.ringsideNumberCost(e164) → Promise<'regular' | 'premium_rate' | ...>. Only sw.js imports
// this file: pages and the popup, options page and side panel never load it.
import initDetect, { detect, numberCost } from './detect/detect.js';

let ready = null;
const init = () => (ready ||= initDetect({ module_or_path: new URL('./detect/detect_bg.wasm', import.meta.url) }));
self.ringsideDetect = (paramsJson) => init().then(() => detect(paramsJson));
self.ringsideNumberCost = (e164) => init().then(() => numberCost(e164));
