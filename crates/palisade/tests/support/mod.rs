//! Shared test support (each test binary uses the parts it needs).

#[cfg(feature = "central")]
pub mod central;
pub mod cli;
#[cfg(feature = "image")]
pub mod registry;
pub mod sarif;
