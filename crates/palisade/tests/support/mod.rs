//! Shared test support (each test binary uses the parts it needs).

pub mod registry;
