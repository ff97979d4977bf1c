//! NetworkPolicy coverage templates.

use std::collections::BTreeSet;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

pub(crate) fn namespace_without_netpol(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    let with_workloads: BTreeSet<&str> = ctx.workloads().filter_map(|w| w.namespace()).collect();
    for ns in &ctx.inv.namespaces {
        let name = ns.meta.name.as_str();
        if with_workloads.contains(name) && !ctx.policies_per_namespace.contains_key(name) {
            hits.object(
                ns,
                None,
                format!(
                    "namespace {name} runs workloads but has no NetworkPolicy: all traffic to and from its pods is allowed"
                ),
            );
        }
    }
    Ok(())
}

pub(crate) fn dangling_netpol(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for np in &ctx.inv.network_policies {
        let sel = &np.spec.pod_selector;
        if sel.is_empty() {
            continue; // selects every pod of the namespace, including future ones
        }
        let ns = np.namespace().unwrap_or("default");
        if let Err(e) = sel.validate() {
            hits.object(
                np,
                Some("spec.podSelector".into()),
                format!("NetworkPolicy podSelector is invalid: {e}"),
            );
            continue;
        }
        let any = ctx
            .inv
            .workloads_in(ns)
            .any(|w| sel.matches(w.pod_labels()).unwrap_or(false));
        if !any {
            hits.object(
                np,
                Some("spec.podSelector".into()),
                format!("NetworkPolicy podSelector matches no workload in namespace {ns}"),
            );
        }
    }
    Ok(())
}

/// Every peer of every rule of a policy, with its direction and field path.
fn peers(
    np: &palisade_model::NetworkPolicy,
) -> Vec<(
    &'static str,
    String,
    &palisade_model::api::NetworkPolicyPeer,
)> {
    let mut out = Vec::new();
    for (i, r) in np.spec.ingress.iter().flatten().enumerate() {
        for (j, p) in r.from.iter().flatten().enumerate() {
            out.push(("ingress", format!("spec.ingress[{i}].from[{j}]"), p));
        }
    }
    for (i, r) in np.spec.egress.iter().flatten().enumerate() {
        for (j, p) in r.to.iter().flatten().enumerate() {
            out.push(("egress", format!("spec.egress[{i}].to[{j}]"), p));
        }
    }
    out
}

pub(crate) fn netpol_any_namespace(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for np in &ctx.inv.network_policies {
        for (dir, path, peer) in peers(np) {
            if peer
                .namespace_selector
                .as_ref()
                .is_some_and(|s| s.is_empty())
            {
                let whom = if peer.pod_selector.as_ref().is_none_or(|s| s.is_empty()) {
                    "every pod in every namespace"
                } else {
                    "matching pods in every namespace"
                };
                hits.object(
                    np,
                    Some(path),
                    format!("NetworkPolicy {dir} rule allows {whom} (empty namespaceSelector)"),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn netpol_world_cidr(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for np in &ctx.inv.network_policies {
        for (dir, path, peer) in peers(np) {
            if let Some(b) = &peer.ip_block {
                let cidr = b.cidr.trim();
                if cidr == "0.0.0.0/0" || cidr == "::/0" {
                    let except = if b.except.is_empty() {
                        String::new()
                    } else {
                        format!(" except {}", b.except.join(", "))
                    };
                    hits.object(
                        np,
                        Some(format!("{path}.ipBlock")),
                        format!("NetworkPolicy {dir} rule allows any address ({cidr}{except})"),
                    );
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn netpol_allow_all(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for np in &ctx.inv.network_policies {
        // A rule without peers (absent or empty from/to) matches every source or destination,
        // inside and outside the cluster.
        for (i, r) in np.spec.ingress.iter().flatten().enumerate() {
            if r.from.as_ref().is_none_or(|f| f.is_empty()) {
                hits.object(
                    np,
                    Some(format!("spec.ingress[{i}]")),
                    "NetworkPolicy ingress rule has no 'from': it allows every source, in and outside the cluster".into(),
                );
            }
        }
        for (i, r) in np.spec.egress.iter().flatten().enumerate() {
            if r.to.as_ref().is_none_or(|t| t.is_empty()) {
                hits.object(
                    np,
                    Some(format!("spec.egress[{i}]")),
                    "NetworkPolicy egress rule has no 'to': it allows every destination, in and outside the cluster".into(),
                );
            }
        }
    }
    Ok(())
}
