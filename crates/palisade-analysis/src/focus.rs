//! A focused run: the results of a few workloads of a large inventory (the one the sensor keeps
//! between watch events) without analysing all of it, through the same [`crate::analyze_with`].
//!
//! A check about an object in namespace N reads that object and, for the cluster-context checks
//! (`palisade_checks::scope`), objects of N and cluster-scoped objects only: the namespace's
//! NetworkPolicies, ServiceAccounts, LimitRanges, HPAs, PDBs, ConfigMaps, Secrets and other
//! pods, its Namespace, PriorityClasses, ClusterRoles. The ranking of a workload reads its
//! findings, the Services and Ingresses of its namespace, its ServiceAccount, and the RBAC index
//! and network facts, which are given from the whole inventory. So the analysis of the
//! [`neighbourhood`] (every object of the focus's namespaces and every cluster-scoped object)
//! gives the focused workloads the findings and scores that the whole inventory gives them; the
//! tests hold every workload of the test corpora to that. What a focused run cannot give is
//! what depends on the other namespaces' results: ranks (the caller re-ranks the scores) and
//! the findings of other objects (the caller decides that they did not change: see the
//! sensor's incremental path).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use palisade_model::inventory::{DEFAULT_NAMESPACE, Resource};
use palisade_model::{Finding, Inventory, WorkloadId};

use crate::{Analysis, Inputs, Options, RiskInputs, analyze_with};

/// The objects of `inv` in `namespaces` and every cluster-scoped object, in `inv`'s order. The
/// one global fact the checks read, whether the inventory holds any ServiceAccount at all, is
/// kept: when the namespaces hold none and `inv` does, the first one is added.
pub fn neighbourhood(inv: &Inventory, namespaces: &BTreeSet<&str>) -> Inventory {
    fn near<S: Clone>(all: &[Resource<S>], namespaces: &BTreeSet<&str>) -> Vec<Resource<S>> {
        all.iter()
            .filter(|r| r.namespace().is_none_or(|ns| namespaces.contains(ns)))
            .cloned()
            .collect()
    }
    let mut out = Inventory {
        namespaces: near(&inv.namespaces, namespaces),
        workloads: near(&inv.workloads, namespaces),
        services: near(&inv.services, namespaces),
        ingresses: near(&inv.ingresses, namespaces),
        network_policies: near(&inv.network_policies, namespaces),
        service_accounts: near(&inv.service_accounts, namespaces),
        roles: near(&inv.roles, namespaces),
        role_bindings: near(&inv.role_bindings, namespaces),
        secrets: near(&inv.secrets, namespaces),
        config_maps: near(&inv.config_maps, namespaces),
        others: near(&inv.others, namespaces),
    };
    if out.service_accounts.is_empty()
        && let Some(first) = inv.service_accounts.first()
    {
        out.service_accounts.push(first.clone());
    }
    out
}

/// What a focused run produced for its workloads.
#[derive(Debug, Clone)]
pub struct Focused {
    /// The neighbourhood analysed (its workloads include the focused ones, as they are in the
    /// inventory given).
    pub inventory: Inventory,
    /// The analysis with only the focused workloads' findings and suppressed findings, and
    /// their ranking entries (scores as the whole inventory gives them; the order among them
    /// only: ranks across the inventory are the caller's).
    pub analysis: Analysis,
}

/// Whether `f` is about one of `focus`.
fn about(f: &Finding, focus: &HashSet<(&str, &str, &str)>) -> bool {
    let ns = f.object.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE);
    focus.contains(&(f.object.kind.as_str(), ns, f.object.name.as_str()))
}

/// Analyses the workloads `focus` of `inputs.inventory` over their [`neighbourhood`], with
/// the whole inventory's RBAC index and network facts (`known`, from an earlier run over it:
/// the caller vouches that they still hold). `inputs.diagnostics` is not read.
pub fn analyze_focused(
    inputs: &Inputs<'_>,
    focus: &[WorkloadId],
    options: &Options,
    known: Arc<RiskInputs>,
) -> Focused {
    let namespaces: BTreeSet<&str> = focus.iter().map(|w| w.namespace.as_str()).collect();
    let inventory = neighbourhood(inputs.inventory, &namespaces);
    let near = Inputs {
        inventory: &inventory,
        diagnostics: &[],
        ..*inputs
    };
    let (mut analysis, _) = analyze_with(&near, options, &mut |_| {}, Some(known));
    let keys: HashSet<(&str, &str, &str)> = focus
        .iter()
        .map(|w| (w.kind.as_str(), w.namespace.as_str(), w.name.as_str()))
        .collect();
    analysis.findings.retain(|f| about(f, &keys));
    analysis.suppressed.retain(|s| about(&s.finding, &keys));
    if let Some(ranking) = analysis.ranking.as_mut() {
        ranking.retain(|r| focus.contains(&r.workload));
    }
    analysis.top_risks = None;
    Focused {
        inventory,
        analysis,
    }
}
