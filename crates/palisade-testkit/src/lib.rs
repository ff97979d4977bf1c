//! Test support shared by Palisade's crates. Only ever a dev-dependency.
//!
//! - [`Registry`]: Debian's `docker-registry` on a free loopback port with fresh storage, so
//!   tests talk to a real registry rather than a stub.
//! - [`skopeo`]: pushing OCI layouts into it with skopeo, an independent client.
//! - [`inventory()`]: an inventory built from Kubernetes objects written as JSON, for the tests
//!   of analyzer crates that must not depend on palisade-ingest.
//! - [`postgres::Postgres`]: a private PostgreSQL 15 server on a free loopback port, stoppable
//!   and restartable on the same data, for the store's and central's tests.
//! - [`docker::Dockerd`]: a private Docker daemon (its own data root, exec root and socket in a
//!   temporary directory, no network changes), and [`containerd::Containerd`] (the same for
//!   containerd, containers run with `ctr`), for the agent's real-engine tests.
//! - [`podman`] and [`busybox`]: running podman, and the busybox-static image both engines
//!   import without a registry.
//! - [`cache`]: where the files `scripts/setup/*.sh` prepare are (`$PALISADE_TEST_CACHE`).
//! - [`tool::report`]: an independent tool's exit status and output, for validators.

pub mod busybox;
pub mod cache;
pub mod containerd;
mod daemon;
pub mod docker;
pub mod inventory;
pub mod podman;
pub mod postgres;
mod registry;
pub mod skopeo;
pub mod tool;

pub use inventory::inventory;
pub use registry::*;
