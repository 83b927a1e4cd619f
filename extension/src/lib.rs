//! Ringside's extension: the only Rust that touches chrome.* or the DOM. One
//! module per surface; each is a thin adapter around `ringside-core`.
// wasm-bindgen's generated glue contains unsafe code; this crate writes none.
#![allow(unsafe_code)]

pub mod account;
pub mod chrome;
pub mod contact_panel;
pub mod dialpad;
pub mod dom;
pub mod error;
pub mod i18n;
pub mod mail;
pub mod options;
pub mod page;
pub mod popup;
pub mod sidepanel;
pub mod sw;
