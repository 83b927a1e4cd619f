//! One HTTP exchange as the worker's flows see it: what to send, what came
//! back. The worker turns a [`HttpRequest`] into one `fetch` (no cookies, no
//! cache) and its response into a [`HttpAnswer`]. The types live in
//! [`crate::api`], so the contact backends build requests without depending
//! on the worker.

pub use crate::api::{HttpAnswer, HttpRequest};
