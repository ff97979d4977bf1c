//! What the risk ranking reads besides the findings: the RBAC index and the network facts. They
//! do not depend on the findings, so [`crate::analyze`] derives them while the checks run.

use std::collections::BTreeMap;

use palisade_model::Inventory;
use palisade_model::WorkloadId;
use palisade_rbac::RbacIndex;
use palisade_risk::{ExternalFacts, NetworkFacts};

/// The RBAC index and the external facts of one inventory.
pub struct RiskInputs {
    /// Effective RBAC permissions.
    pub rbac: RbacIndex,
    /// Facts from other analyzers (network reachability when asked for).
    pub facts: ExternalFacts,
}

impl RiskInputs {
    /// Derives the RBAC index and, with `network`, the network facts of every workload.
    pub fn derive(inv: &Inventory, network: bool) -> RiskInputs {
        let analysis = network.then(|| palisade_netpol::Analysis::new(inv));
        RiskInputs::derive_with(inv, analysis.as_ref())
    }

    /// [`RiskInputs::derive`], with the network facts read from `network`, the inventory's
    /// NetworkPolicy analysis (`None`: no network facts), derived by the caller.
    pub fn derive_with(
        inv: &Inventory,
        network: Option<&palisade_netpol::Analysis<'_>>,
    ) -> RiskInputs {
        let facts = ExternalFacts {
            network: network.map(network_facts_of).unwrap_or_default(),
            ..ExternalFacts::default()
        };
        RiskInputs {
            rbac: RbacIndex::build(inv),
            facts,
        }
    }
}

/// Network facts of every workload from the NetworkPolicy engine: isolation per direction and
/// how many other workloads can reach it / it can reach.
pub fn network_facts(inv: &Inventory) -> BTreeMap<WorkloadId, NetworkFacts> {
    network_facts_of(&palisade_netpol::Analysis::new(inv))
}

/// [`network_facts`] from an inventory's NetworkPolicy analysis.
pub fn network_facts_of(
    analysis: &palisade_netpol::Analysis<'_>,
) -> BTreeMap<WorkloadId, NetworkFacts> {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    analysis
        .exposure(&analysis.reachability())
        .workloads
        .into_iter()
        .map(|w| {
            (
                w.workload,
                NetworkFacts {
                    ingress_unprotected: !w.ingress_isolated,
                    egress_unprotected: !w.egress_isolated,
                    reachable_from: count(w.reachable_from_workloads),
                    can_reach: count(w.can_reach_workloads),
                },
            )
        })
        .collect()
}
