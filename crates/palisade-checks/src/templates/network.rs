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
        match sel.validate() {
            Err(e) => {
                hits.object(
                    np,
                    Some("spec.podSelector".into()),
                    format!("NetworkPolicy podSelector is invalid: {e}"),
                );
                continue;
            }
            Ok(()) => {}
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
