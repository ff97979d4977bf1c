//! Palisade's runtime security model, shared by the node agent and the CLI.
//!
//! - [`event`]: processes, containers and connections as the agent observed them;
//! - [`attribution`]: container IDs from `/proc/PID/cgroup`, Kubernetes identity from runtime
//!   annotations;
//! - [`rules`]: the YAML rule language, its evaluator and the built-in rules;
//! - [`baseline`]: per-(workload, container) process baselines (learn, lock, flag);
//! - [`response`]: which responses to carry out, with safety guards;
//! - [`alert`]: the alert and response records the agent writes;
//! - [`flows`]: connections and [`palisade_model::flow::Flow`]s from socket tables;
//! - [`policy`]: findings summaries and the runtime policy exported to CI/CD.
//!
//! This crate is pure: no files, sockets, clocks or threads. Times are passed in.

pub mod alert;
pub mod attribution;
pub mod baseline;
pub mod event;
pub mod flows;
pub mod policy;
pub mod redact;
pub mod response;
pub mod rules;

pub use alert::{Alert, ResponseRecord, ResponseStatus};
pub use event::{
    Connection, ContainerInfo, ContainerRuntime, Direction, Event, EventKind, ProcessInfo,
    ProcessSummary, Protocol, StdioKind,
};
pub use rules::{Rule, RuleError, RuleSet, RuleSetBuilder};
