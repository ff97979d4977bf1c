//! Where to look first: an explainable risk score per workload, and the inventory/ownership
//! report.
//!
//! - [`assess`] scores every top-level workload from its findings, image vulnerabilities,
//!   privileges, exposure, network reachability, the RBAC power of its service account
//!   ([`palisade_rbac`]), the Secrets it reads and the age of its images; every point comes with a
//!   [`Factor`] saying why (see [`score`] for the table). [`rank`] orders them deterministically.
//! - [`inventory_report`] lists every workload with its images, service account, exposure,
//!   owner/team and ownership gaps, deploy-and-forget [`Signal`]s, and counts per namespace and
//!   per registry.
//! - [`top_risks`] summarises a ranking: the few riskiest workloads with their points per
//!   category and largest factors ([`TopRisk`], a scan report's `top_risks`).
//!
//! Facts from other analyzers come in as plain values ([`ExternalFacts`]). Pure: no I/O, no clock.

pub mod exposure;
pub mod facts;
pub mod ownership;
pub mod privileges;
pub mod report;
pub mod score;
pub mod top;
pub mod workload;

pub use exposure::{Exposure, ExposureIndex, ExposureLevel, Route};
pub use facts::{ExternalFacts, ImageRiskFacts, NetworkFacts, VulnCounts};
pub use ownership::{Attribution, Ownership, OwnershipGap};
pub use privileges::{Privilege, privileges};
pub use report::{
    ImageEntry, InventoryReport, NamespaceCount, RegistryCount, Signal, WorkloadEntry,
    inventory_report,
};
pub use score::{Category, Factor, RiskContext, WorkloadRisk, assess, rank};
pub use top::{CategoryPoints, TopRisk, top_risks};
pub use workload::secrets_used;
