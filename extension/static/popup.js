// Loader only: start the wasm and hand over to Rust (extension/src/popup.rs).
import init, { popup_main } from './wasm/ringside_ui.js';
init({ module_or_path: new URL('./wasm/ringside_ui_bg.wasm', import.meta.url) }).then(() => popup_main());
