//! Palisade's analysis pipeline as a library: the one sequence `palisade scan` and
//! `palisade risk` run today and the live-cluster sensor, central and the admission webhook run
//! tomorrow.
//!
//! ```text
//! edge (CLI, sensor):  ingest → Inventory + Diagnostics     registry/database → RegistryFactsTable
//!                                         \                   /
//! this crate:                     analyze(&Inputs, &Options) ──┬─ checks (palisade-checks)
//!                                                              ├─ RBAC index (palisade-rbac)      } in parallel
//!                                                              ├─ network facts (palisade-netpol) }
//!                                                              ├─ filters (min severity, baseline)
//!                                                              └─ risk ranking, top risks (palisade-risk)
//!                                          → Analysis (findings, suppressed, expired exceptions,
//!                                             undecided custom checks, ranking, top risks, counts)
//! sinks:               palisade-report (table, JSON, SARIF, JUnit), CLI renderers
//! ```
//!
//! Inputs and options are plain values: the inventory and its ingest diagnostics, the image
//! facts an edge gathered (or none), the catalog and engine options (from palisade.yaml), the
//! filters (minimum severity, an earlier report's fingerprints) and whether to rank. The crate
//! is pure: no file, network or clock access; callers time the [`Phase`]s through
//! [`analyze_observed`].
//!
//! # Incremental re-evaluation
//!
//! A live cluster changes one object at a time. [`affected_by`] says which analyses a change of
//! an object of a given kind can affect ([`Analyses`], dependents included): a Pod or
//! Deployment touches the object-local checks, the network facts and the ranking; a
//! NetworkPolicy, Namespace or Service the network facts and the checks that read them; a Role,
//! binding or ServiceAccount the RBAC index and the ranking; a Secret or ConfigMap only the
//! checks. A sensor batches the changes of a moment and unions `affected_by` over their kinds.
//! When only workloads changed, and none in a way other objects' results can see (namespace,
//! selected labels, ports, replicas, service account), [`analyze_focused`] re-runs the same
//! pipeline over the changed workloads' [`neighbourhood`] with the RBAC index and network facts
//! kept from the last full run ([`analyze_with`] returns them): results are keyed by object, so
//! the caller replaces the entries of the touched workloads and keeps the rest. Any other change
//! re-runs [`analyze`] over everything.

mod affected;
mod focus;
mod pipeline;
mod risk_inputs;

pub use affected::{Analyses, affected_by};
pub use focus::{Focused, analyze_focused, neighbourhood};
pub use pipeline::{
    Analysis, Filters, Inputs, Options, Phase, RiskOptions, analyze, analyze_observed, analyze_with,
};
pub use risk_inputs::{RiskInputs, network_facts};
