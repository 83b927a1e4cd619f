//! Ringside's pure logic. Builds for native and `wasm32-unknown-unknown`; no I/O,
//! no browser, no tokio. The extension and the native host are thin adapters
//! around what lives here.
#![forbid(unsafe_code)]

/// Whether this is a build made for the emulator (cargo feature `emulator`,
/// which `scripts/build` turns on and the release path of `scripts/package`
/// does not): only then is plain `http://` accepted, and only on a loopback
/// host, for issuers, API roots and the platform URL. A release build is
/// https only.
pub const EMULATOR_BUILD: bool = cfg!(feature = "emulator");

pub mod api;
pub mod auth;
pub mod browser;
pub mod call_control;
pub mod calls;
pub mod confirm;
pub mod contacts;
pub mod context;
pub mod deploy;
pub mod dial;
pub mod dialers;
pub mod extension_id;
pub mod history;
pub mod host_link;
pub mod json;
pub mod mail;
pub mod outbox;
pub mod page_budget;
pub mod phone;
pub mod protocol;
pub mod secret;
pub mod settings;
pub mod shortcuts;
pub mod surface;
pub mod ui;
pub mod worker;
