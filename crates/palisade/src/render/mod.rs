//! Renderers owned by the command line (sinks for domain results that have no library sink).

#[cfg(feature = "visibility")]
pub mod inventory;
#[cfg(feature = "visibility")]
pub mod rbac;
#[cfg(feature = "visibility")]
pub mod risk;
