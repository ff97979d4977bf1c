//! Palisade's Linux runtime agent: the I/O around [`palisade_runtime`].
//!
//! - exec events from the netlink proc connector, or by polling `/proc` ([`source`]);
//! - enrichment from `/proc/PID` ([`procinfo`]) and container attribution from
//!   `/proc/PID/cgroup` plus engine metadata ([`container`]);
//! - connections and flows from per-namespace socket tables ([`net`]);
//! - rules, baselines and response decisions ([`processor`], using `palisade-runtime`);
//! - responses: kill a process, stop a container, delete a pod ([`respond`]);
//! - alerts as JSON lines and to a webhook, flows as JSON lines ([`output`]);
//! - baselines and findings persisted atomically in a state directory ([`state`]).
//!
//! Every queue between threads is bounded; full queues drop and count ([`stats`]).
//! Linux only.

#![cfg(target_os = "linux")]

pub mod agent;
pub mod bench;
pub mod central;
pub mod clock;
pub mod command;
pub mod config;
pub mod container;
pub mod enrich;
pub mod net;
pub mod output;
pub mod processor;
pub mod procinfo;
pub mod respond;
pub mod source;
pub mod state;
pub mod stats;

pub use agent::{AgentError, AgentHandle, load_policy, load_rules, start};
pub use config::AgentConfig;
pub use stats::{Stats, StatsSnapshot};
