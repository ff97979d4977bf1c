//! Shared test support (each test binary uses the parts it needs).

pub mod cli;
#[cfg(feature = "image")]
pub mod registry;
pub mod sarif;
