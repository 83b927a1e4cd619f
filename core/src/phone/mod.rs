//! Phone numbers: detection, validation, links and cost live in the
//! `ringside-detect` crate (shared by the host and the extension's detection
//! module); core re-exports them for its other modules and the host.

pub use ringside_detect::*;
