//! The service worker's decisions, without I/O. The worker in
//! `extension/src/sw/` wires browser events to these objects and carries out
//! what they ask (a fetch, a host request, a storage write, a timer); every
//! rule is here, where plain `cargo test` reaches it.
//!
//! - [`http`]: the request and answer of one `fetch`, as the flows see them.
//! - [`api_call`]: an API call with the access token, told each answer in
//!   turn: one silent refresh after a 401, a claims challenge answered once
//!   interactively, and which failure ends the session.
//! - [`permissions`]: which sender may send which message.
//! - [`signin`]: one sign-in (or challenge, or added scope), told each answer.
//! - [`platform_signin`]: sign-in the phone platform does itself (email
//!   and password, or its SSO broker), told each answer.
//! - [`auth`]: the one reducer that changes the sign-in phase, the notice,
//!   the pending sign-out and the platform session.
//! - [`contact_save`]: a contact save with its merge: the source, the write
//!   scope, the conflict loop, the popup's answer.
//! - [`panel`]: the side panel's lookups (contact, sections, meeting
//!   status) with their fallbacks and their cache.
//! - [`contacts`]: the contact store's decisions (which sources, when to
//!   sync, what the popup shows).
//! - [`call_out`]: calls the phone platform places (the `platform` dialer).
//! - [`session_store`]: the session as kept in browser storage, and what
//!   the host's answers about it mean (refresh, sign-out).
//! - [`desk_store`]: the call desk kept across browser restarts
//!   (IndexedDB), and which calls just ended (for the history).
//! - [`state`]: the worker's state, and the decisions that read or change
//!   several parts of it (settings applied, pages, who is signed in).

pub mod api_call;
pub mod auth;
pub mod call_out;
pub mod contact_save;
pub mod contacts;
pub mod desk_store;
pub mod http;
pub mod panel;
pub mod permissions;
pub mod platform_signin;
pub mod session_store;
pub mod signin;
pub mod state;
