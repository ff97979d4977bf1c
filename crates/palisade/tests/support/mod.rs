//! Shared test support (each test binary uses the parts it needs).

#[cfg(feature = "central")]
pub mod central;
pub mod cli;
#[cfg(all(feature = "agent", target_os = "linux"))]
pub mod podman;
#[cfg(feature = "image")]
pub mod registry;
#[cfg(all(feature = "central", feature = "agent", feature = "admission"))]
pub mod runtime_loop;
pub mod sarif;
