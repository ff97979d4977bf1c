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
pub mod finding;
pub mod flow;
pub mod image;
pub mod imagefacts;
pub mod inventory;
pub mod meta;
pub mod ownership;
pub mod package;
pub mod selector;
pub mod terminal;
pub mod time;

pub use diagnostic::{Diagnostic, DiagnosticLevel};
pub use finding::{Finding, Severity};
pub use image::ImageRef;
pub use imagefacts::{
    ImageFacts, ImageFactsTable, SignatureStatus, VulnerabilityFacts, VulnerabilityRef,
};
pub use inventory::{
    ConfigMap, Ingress, Inventory, Namespace, NetworkPolicy, OtherObject, Role, RoleBinding,
    Secret, Service, ServiceAccount, Workload, WorkloadKind,
};
pub use meta::{ObjectMeta, ObjectRef, SourceLocation};
pub use package::{Ecosystem, Package};
pub use selector::{LabelSelector, SelectorError};
