//! Test support shared by Palisade's crates. Only ever a dev-dependency.
//!
//! - [`Registry`]: Debian's `docker-registry` on a free loopback port with fresh storage, so
//!   tests talk to a real registry rather than a stub.
//! - [`inventory()`]: an inventory built from Kubernetes objects written as JSON, for the tests
//!   of analyzer crates that must not depend on palisade-ingest.

pub mod inventory;
mod registry;

pub use inventory::inventory;
pub use registry::*;
