//! `ringside-host`: the native messaging host. `main.rs` wires; everything
//! testable lives in these modules.
#![forbid(unsafe_code)]

pub mod admx;
pub mod deploy;
pub mod dialer;
pub mod doctor;
pub mod framing;
pub mod install;
pub mod locations;
pub mod mail;
pub mod private_file;
pub mod secrets;
pub mod serve;
pub mod tokens;
