//! Palisade's check engine.
//!
//! A check is catalog data — a stable ID, a name, a severity, rationale, remediation and
//! cross-references to CIS, NSA/CISA and peer tools — plus a *template*: a Rust function that
//! evaluates a family of checks over the [`Inventory`], parameterised by the catalog entry. The
//! built-in catalog (`catalog.yaml`, embedded at build time) feeds the CLI, the generated docs
//! and the admission webhook alike: there is one engine.
//!
//! The crate is pure: it reads an inventory and returns [`Finding`]s.

mod catalog;
mod context;
mod coverage;
mod custom;
mod engine;
mod exceptions;
mod images;
mod order;
mod references;
mod scope;
mod templates;

pub use catalog::{Catalog, CatalogError, CheckDef};
pub use context::{Ctx, OTHER_KINDS_READ};
pub use coverage::{OutOfScope, out_of_scope, out_of_scope_text};
pub use custom::{CustomCheck, ObjectPredicate};
pub use engine::{Engine, EngineOptions, ScanOutcome, Suppressed};
pub use exceptions::{
    ANNOTATION_IGNORE, ANNOTATION_IGNORE_REASON, Exception, ExceptionStatus, glob_match,
};
pub use images::ImagePolicy;
pub use order::sort_findings_by;
pub use references::{PEERS, PeerRef, References};
pub use scope::{cluster_context_checks, cluster_context_templates, needs_cluster_context};

pub use palisade_model::{Finding, Inventory, Severity};
