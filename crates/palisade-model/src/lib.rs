//! Palisade's normalized inventory model: the one vocabulary every analyzer reads.
//!
//! Sources (manifest files, a live cluster, images, runtime events) are turned into an
//! [`Inventory`] by the ingest crates; analyzers read it and return plain Rust values such as
//! [`Finding`]s; only sinks know output formats.
//!
//! This crate is pure: it performs no file or network access, and reads the clock only in
//! [`time::SystemClock`], which edge crates alone call.

pub mod api;
pub mod diagnostic;
pub mod ecosystem;
pub mod finding;
pub mod flow;
pub mod image;
pub mod inventory;
pub mod labels;
pub mod meta;
pub mod ownership;
pub mod package;
pub mod purl;
pub mod registry_facts;
pub mod routes;
pub mod secrets;
pub mod selector;
pub mod sorted_map;
pub mod terminal;
pub mod time;
pub mod workload_id;

pub use diagnostic::{Diagnostic, DiagnosticLevel, Location};
pub use ecosystem::{ECOSYSTEMS, Ecosystem, EcosystemInfo, VersionScheme};
pub use finding::{Finding, Severity};
pub use image::ImageRef;
pub use inventory::{
    ConfigMap, Ingress, Inventory, Namespace, NetworkPolicy, OtherObject, Role, RoleBinding,
    Secret, Service, ServiceAccount, Workload, WorkloadKind,
};
pub use labels::Labels;
pub use meta::{LiveSource, ObjectMeta, ObjectRef, SourceLocation};
pub use package::Package;
pub use registry_facts::{
    RegistryFacts, RegistryFactsTable, SignatureStatus, VulnerabilityFacts, VulnerabilityRef,
};
pub use selector::{LabelSelector, SelectorError};
pub use sorted_map::SortedMap;
pub use workload_id::WorkloadId;
