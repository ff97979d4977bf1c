//! Palisade's validating admission webhook (issue #9).
//!
//! Two halves:
//!
//! - **Decision logic (pure).** [`review`] holds the `admission.k8s.io/v1` AdmissionReview
//!   types; [`Admission`] turns a request into a response: the object becomes an inventory
//!   (`palisade_ingest::ingest_value`), the one check engine (`palisade_checks::Engine`, built
//!   from `palisade_config::Config` as `palisade scan` builds it, minus the checks that need
//!   cluster context) produces findings, and the `admission:` policy maps each finding on the
//!   admitted object to enforce / warn / audit, with namespace and label exemptions,
//!   break-glass and dry-run handling. [`manifests`] builds the install manifests as typed
//!   objects and serializes them to YAML once.
//!   Image facts (digests, signatures, vulnerabilities) come in through [`RegistryFactsSource`].
//! - **Server edge** (feature `server`): HTTPS with rustls, `/validate`, `/healthz`, `/readyz`,
//!   `/metrics`, certificate hot reload, body limits, timeouts and graceful shutdown, plus
//!   self-signed certificate generation for `palisade admission manifests --generate-certs`.

mod audit;
mod decide;
mod facts;
pub mod manifests;
mod manifests_k8s;
pub mod message;
pub mod review;

#[cfg(feature = "server")]
mod audit_sink;
#[cfg(feature = "server")]
mod body;
#[cfg(feature = "server")]
pub mod certs;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
mod pool;
#[cfg(feature = "server")]
pub mod server;

pub use audit::{AuditCounts, AuditRecord, MAX_AUDIT_IDS};
pub use decide::{Admission, Decision, Evaluation, ModeCounts, Outcome, PolicyError, Prepared};
pub use facts::{NoRegistryFacts, RegistryFactsSource, StaticRegistryFacts};
pub use review::{
    AdmissionRequest, AdmissionResponse, AdmissionReviewResponse, ReviewError, parse_review,
};

#[cfg(test)]
mod decide_tests;
