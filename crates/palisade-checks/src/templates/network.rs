//! NetworkPolicy coverage templates.

use std::collections::BTreeSet;

use palisade_netpol::{Breadth, Direction};
use serde::Deserialize;

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
            .workloads_in(ns)
            .iter()
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DirectionParams {
    direction: String,
}

fn direction(p: &DirectionParams) -> Result<Direction, String> {
    match p.direction.as_str() {
        "ingress" => Ok(Direction::Ingress),
        "egress" => Ok(Direction::Egress),
        other => Err(format!(
            "direction must be ingress or egress, not {other:?}"
        )),
    }
}

pub(crate) fn netpol_no_default_deny(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let dir = direction(&*params::<DirectionParams>(check)?)?;
    for ns in &ctx.netpol().namespaces {
        // Namespaces without any policy are reported by namespace-without-networkpolicy.
        if ns.workloads == 0
            || !ctx
                .policies_per_namespace
                .contains_key(ns.namespace.name.as_str())
        {
            continue;
        }
        let deny = match dir {
            Direction::Ingress => &ns.default_deny_ingress,
            Direction::Egress => &ns.default_deny_egress,
        };
        if deny.is_empty() {
            let d = dir_name(dir);
            hits.push_ref(
                ns.namespace.clone(),
                ctx.meta_of(&ns.namespace),
                None,
                format!(
                    "namespace {} has NetworkPolicies but no default-deny {d} policy (podSelector {{}} with policyTypes {d}): new workloads start unprotected",
                    ns.namespace.name
                ),
            );
        }
    }
    Ok(())
}

pub(crate) fn netpol_unprotected(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let dir = direction(&*params::<DirectionParams>(check)?)?;
    for u in &ctx.netpol().unprotected_workloads {
        let isolated = match dir {
            Direction::Ingress => u.ingress_isolated,
            Direction::Egress => u.egress_isolated,
        };
        if !isolated {
            let text = match dir {
                Direction::Ingress => {
                    "no NetworkPolicy selects its pods for ingress: any pod in the cluster (and anything routed to the pod network) can connect to it"
                }
                Direction::Egress => {
                    "no NetworkPolicy selects its pods for egress: if breached, it can connect anywhere"
                }
            };
            hits.push_ref(
                u.workload.clone(),
                ctx.meta_of(&u.workload),
                None,
                text.into(),
            );
        }
    }
    Ok(())
}

fn dir_name(d: Direction) -> &'static str {
    match d {
        Direction::Ingress => "Ingress",
        Direction::Egress => "Egress",
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BroadParams {
    /// Which breadths fire: any_peer, all_namespaces, all_ipv4, all_ipv6.
    breadth: Vec<String>,
}

pub(crate) fn netpol_broad(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<BroadParams> = params(check)?;
    let mut wanted = Vec::new();
    for b in &p.breadth {
        wanted.push(match b.as_str() {
            "any_peer" => Breadth::AnyPeer,
            "all_namespaces" => Breadth::AllNamespaces,
            "all_ipv4" => Breadth::AllIpv4,
            "all_ipv6" => Breadth::AllIpv6,
            other => return Err(format!("unknown breadth {other:?}")),
        });
    }
    for r in &ctx.netpol().broad_rules {
        if !wanted.contains(&r.breadth) {
            continue;
        }
        let (field, peers) = match r.direction {
            Direction::Ingress => ("ingress", "from"),
            Direction::Egress => ("egress", "to"),
        };
        let what = match r.breadth {
            Breadth::AnyPeer => {
                format!("has no '{peers}': it allows every peer, in and outside the cluster")
            }
            Breadth::AllNamespaces => {
                "allows pods of every namespace (empty namespaceSelector)".into()
            }
            Breadth::AllIpv4 | Breadth::AllIpv6 => {
                let cidr = if r.breadth == Breadth::AllIpv4 {
                    "0.0.0.0/0"
                } else {
                    "::/0"
                };
                if r.excepts > 0 {
                    format!(
                        "allows any address ({cidr} with {} exception(s))",
                        r.excepts
                    )
                } else {
                    format!("allows any address ({cidr})")
                }
            }
        };
        let ports = if r.port_restricted {
            " on some ports"
        } else {
            " on every port"
        };
        let path = match r.peer {
            Some(i) => format!("spec.{field}[{}].{peers}[{i}]", r.rule),
            None => format!("spec.{field}[{}]", r.rule),
        };
        hits.push_ref(
            r.policy.clone(),
            ctx.meta_of(&r.policy),
            Some(path),
            format!("NetworkPolicy {field} rule {} {what}{ports}", r.rule),
        );
    }
    Ok(())
}
