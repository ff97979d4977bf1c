//! Palisade's NetworkPolicy engine.
//!
//! Exact `networking.k8s.io/v1` semantics over a [`palisade_model::Inventory`]:
//! who can reach whom ([`Analysis::reachability`], [`Analysis::connectivity`]), why a single
//! connection is allowed or denied ([`Analysis::can`]), how exposed each workload is and how far a
//! breach spreads ([`exposure`]), what a change of policies changes ([`diff`]), and which
//! least-privilege policies match observed flows ([`generate`]). Facts for `scan` findings come
//! from [`facts`].
//!
//! Pure: no I/O. Workloads are grouped into equivalence classes and the external IP space into
//! the cells the policies' ipBlocks induce, so the work grows with the number of distinct policy
//! behaviours rather than with pod pairs. See `docs/network-policy.md` for the rules, the output
//! formats and the test that pins each rule.

pub mod aggregate;
mod analysis;
mod bitset;
mod classes;
mod connectivity;
mod diagnostics;
mod diff;
mod evaluate;
mod explain;
mod exposure;
mod facts;
mod generate;
pub mod ipspace;
mod listing;
mod policy;
pub mod ports;
mod selectors;
mod universe;

pub use analysis::{Analysis, Stats, policy_diagnostics};
pub use connectivity::{Connection, Connectivity, Endpoint, Target, WorkloadSummary};
pub use diff::{ChangeKind, ConnectionChange, Diff, TooManyChanges, diff, diff_analyses};
pub use evaluate::{Node, Reachability};
pub use explain::{QueryError, RuleRef, SideState, SideVerdict, Verdict};
pub use exposure::{Exposure, ExternalAccess, Publication, WorkloadExposure};
pub use facts::{Breadth, BroadRule, NamespaceIsolation, PolicyFacts, UnprotectedWorkload, facts};
pub use generate::{
    DnsTarget, GenerateOptions, Generated, GeneratedPolicy, SkippedFlow, VOLATILE_LABEL_KEYS,
    generate,
};
pub use ipspace::{IpInterval, IpPartition};
pub use listing::{ClassPair, Listing, Row};
pub use policy::Direction;
pub use ports::{PortRange, PortSet, Protocol};
pub use universe::{LookupError, Member, NamedPorts, NamespaceInfo, Universe};

/// The full connectivity list of an inventory.
pub fn connectivity(inventory: &palisade_model::Inventory) -> Connectivity {
    let a = Analysis::new(inventory);
    let r = a.reachability();
    a.connectivity(&r, None)
}

/// Exposure and blast radius of every workload of an inventory.
pub fn exposure(inventory: &palisade_model::Inventory) -> Exposure {
    let a = Analysis::new(inventory);
    let r = a.reachability();
    a.exposure(&r)
}
