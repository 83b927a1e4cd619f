//! Ringside's pure logic. Builds for native and `wasm32-unknown-unknown`; no I/O,
//! no browser, no tokio. The extension and the native host are thin adapters
//! around what lives here.
#![forbid(unsafe_code)]

pub mod auth;
pub mod browser;
pub mod calls;
pub mod confirm;
pub mod contacts;
pub mod context;
pub mod deploy;
pub mod dial;
pub mod extension_id;
pub mod host_link;
pub mod mail;
pub mod outbox;
pub mod page_budget;
pub mod phone;
pub mod protocol;
pub mod secret;
pub mod settings;
pub mod surface;
pub mod ui;
