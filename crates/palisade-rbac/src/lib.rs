//! Kubernetes RBAC resolution for Palisade.
//!
//! [`RbacIndex::build`] resolves an inventory's Roles, ClusterRoles (aggregation applied,
//! built-in `cluster-admin`/`admin`/`edit`/`view` assumed when bound but not defined),
//! RoleBindings and ClusterRoleBindings. It then answers, with the Kubernetes RBAC authorizer's
//! exact semantics (see [`matching`]):
//!
//! - [`RbacIndex::who_can`]: which subjects a request is granted to, and through what;
//! - [`RbacIndex::can`]: whether one principal may make a request, and which bindings grant it;
//! - [`RbacIndex::permissions`]: every rule a principal holds;
//! - [`RbacIndex::risky`] / [`RbacIndex::capabilities_of`]: dangerous capabilities
//!   ([`Capability`]) and the workloads that run as their holders.
//!
//! Pure: no I/O. Problems with the input are [`palisade_model::Diagnostic`]s about the object
//! concerned (levels `info` and `warning`), never panics.

pub mod builtin;
pub mod index;
pub mod matching;
pub mod principal;
pub mod query;
pub mod request;
pub mod risky;

pub use index::{BindingInfo, EffectiveRule, RbacIndex, RoleInfo, Scope, Via};
pub use principal::{Principal, SubjectParseError};
pub use query::{Access, Grant, Reason, Verdict};
pub use request::{NonResourceRequest, Request, RequestError, ResourceRequest};
pub use risky::{Capability, CapabilityGrant, RiskyGrant, WorkloadAccount};
