//! Ringside's extension: the only Rust that touches chrome.* or the DOM. One
//! module per surface; each is a thin adapter around `ringside-core`.
//!
//! Built as two wasm modules by who loads them (scripts/build): the feature
//! `ui` is the surfaces' module (popup, options page, side panel: it loads on
//! every popup opening, so it stays small), `worker` the service worker's
//! (sign-in, contacts sync and merge, the side panel's fetches). A surface
//! gets what the worker knows through `UiState` and one-shot messages, never
//! by linking the worker's code. Both are on by default, for tests and clippy.
// wasm-bindgen's generated glue contains unsafe code; this crate writes none.
#![allow(unsafe_code)]

pub mod chrome;
pub mod error;
pub mod i18n;

#[cfg(feature = "ui")]
pub mod account;
#[cfg(feature = "ui")]
pub mod call_controls;
#[cfg(feature = "ui")]
pub mod contact_panel;
#[cfg(feature = "ui")]
pub mod dialpad;
#[cfg(feature = "ui")]
pub mod dom;
#[cfg(feature = "ui")]
pub mod history_view;
#[cfg(feature = "ui")]
pub mod icons;
#[cfg(feature = "ui")]
pub mod mail;
#[cfg(feature = "ui")]
pub mod options;
#[cfg(feature = "ui")]
pub mod page;
#[cfg(feature = "ui")]
pub mod popup;
#[cfg(feature = "ui")]
pub mod shortcuts_view;
#[cfg(feature = "ui")]
pub mod sidepanel;

#[cfg(feature = "worker")]
pub mod sw;
