//! Renderers owned by the command line (sinks for domain results that have no library sink).

#[cfg(feature = "central")]
pub mod central;
#[cfg(any(feature = "visibility", feature = "netpol"))]
pub mod csv;
#[cfg(feature = "image")]
pub mod image;
#[cfg(feature = "visibility")]
pub mod inventory;
#[cfg(feature = "netpol")]
pub mod netpol;
#[cfg(feature = "visibility")]
pub mod rbac;
#[cfg(feature = "visibility")]
pub mod risk;
#[cfg(feature = "image")]
pub mod sbom;
#[cfg(any(feature = "visibility", feature = "central"))]
pub mod table;
#[cfg(all(feature = "image", feature = "vuln"))]
pub mod vuln;
