// Loader only: start the wasm and hand over to Rust (extension/src/sidepanel.rs).
import init, { sidepanel_main } from './wasm/ringside_ui.js';
init({ module_or_path: new URL('./wasm/ringside_ui_bg.wasm', import.meta.url) }).then(() => sidepanel_main());
