//! Service, Ingress and API-version templates.

use palisade_model::api::IntOrString;
use palisade_model::inventory::Resource;
use serde::Deserialize;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TypeParams {
    types: Vec<String>,
}

pub(crate) fn service_type(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<TypeParams> = params(check)?;
    for svc in &ctx.inv.services {
        let t = svc.service_type();
        if p.types.iter().any(|x| x == t) {
            let mut msg = format!("Service has type {t}");
            if t == "LoadBalancer" && svc.spec.load_balancer_source_ranges.is_empty() {
                msg.push_str(" and no loadBalancerSourceRanges: reachable from any address");
            } else if t == "NodePort" {
                msg.push_str(": its ports are open on every node");
            } else if t == "ExternalName" {
                msg.push_str(": the cluster's DNS sends clients to a name outside the cluster");
            }
            hits.object(svc, Some("spec.type".into()), msg);
        }
    }
    Ok(())
}

pub(crate) fn dangling_service(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for svc in &ctx.inv.services {
        if svc.spec.selector.is_empty() || svc.service_type() == "ExternalName" {
            continue; // endpoints managed elsewhere
        }
        if ctx.service_targets(svc).is_empty() {
            let sel: Vec<String> = svc
                .spec
                .selector
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            hits.object(
                svc,
                Some("spec.selector".into()),
                format!("Service selector {} matches no workload", sel.join(",")),
            );
        }
    }
    Ok(())
}

pub(crate) fn service_port_mismatch(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for svc in &ctx.inv.services {
        let targets = ctx.service_targets(svc);
        if targets.is_empty() {
            continue;
        }
        for (i, sp) in svc.spec.ports.iter().enumerate() {
            // Named target ports must resolve in the selected pods; numbers need no declaration.
            let Some(IntOrString::String(name)) = &sp.target_port else {
                continue;
            };
            // Resolution matches the port name and the protocol (TCP when unset).
            let proto = sp.protocol.as_deref().unwrap_or("TCP");
            let resolves = targets.iter().any(|w| {
                w.spec
                    .pod
                    .containers
                    .iter()
                    .flat_map(|c| &c.ports)
                    .any(|p| {
                        p.name.as_deref() == Some(name.as_str())
                            && p.protocol.as_deref().unwrap_or("TCP") == proto
                    })
            });
            if !resolves {
                hits.object(
                    svc,
                    Some(format!("spec.ports[{i}].targetPort")),
                    format!("Service targetPort {name} ({proto}) names no {proto} container port of the selected workloads"),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn dangling_ingress(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for ing in &ctx.inv.ingresses {
        let ns = ing.namespace().unwrap_or("default");
        for backend in ing.backend_services() {
            let exists = ctx
                .inv
                .services
                .iter()
                .any(|s| s.namespace() == Some(ns) && s.meta.name == backend);
            if !exists {
                hits.object(
                    ing,
                    Some("spec.rules".into()),
                    format!("Ingress routes to Service {backend}, which does not exist in namespace {ns}"),
                );
            }
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DeprecatedParams {
    apis: Vec<DeprecatedApi>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DeprecatedApi {
    api_version: String,
    kinds: Vec<String>,
    removed_in: String,
    replacement: String,
}

pub(crate) fn deprecated_api(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<DeprecatedParams> = params(check)?;
    let inv = ctx.inv;
    // An object's reference is made only for a hit: most objects use no removed API.
    fn removed_apis<S>(items: &[Resource<S>], p: &DeprecatedParams, hits: &mut Hits) {
        for o in items {
            for api in &p.apis {
                if api.api_version == o.api_version && api.kinds.contains(&o.kind) {
                    hits.push_ref(
                        o.object_ref(),
                        Some(&o.meta),
                        Some("apiVersion".into()),
                        format!(
                            "{} uses {}, removed in Kubernetes {}: use {}",
                            o.kind, o.api_version, api.removed_in, api.replacement
                        ),
                    );
                }
            }
        }
    }
    removed_apis(&inv.workloads, &p, hits);
    removed_apis(&inv.services, &p, hits);
    removed_apis(&inv.ingresses, &p, hits);
    removed_apis(&inv.network_policies, &p, hits);
    removed_apis(&inv.roles, &p, hits);
    removed_apis(&inv.role_bindings, &p, hits);
    removed_apis(&inv.others, &p, hits);
    Ok(())
}

pub(crate) fn service_external_ips(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for svc in &ctx.inv.services {
        if !svc.spec.external_ips.is_empty() {
            hits.object(
                svc,
                Some("spec.externalIPs".into()),
                format!(
                    "Service claims external IPs {}: anyone who can create Services can intercept traffic to those addresses (CVE-2020-8554)",
                    svc.spec.external_ips.join(", ")
                ),
            );
        }
    }
    Ok(())
}

pub(crate) fn loadbalancer_open(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for svc in &ctx.inv.services {
        if svc.service_type() != "LoadBalancer" {
            continue;
        }
        // The field wins; the older annotation restricts the same way when the field is unset.
        let mut ranges: Vec<String> = svc.spec.load_balancer_source_ranges.clone();
        if ranges.is_empty()
            && let Some(a) = svc
                .meta
                .annotations
                .get("service.beta.kubernetes.io/load-balancer-source-ranges")
        {
            ranges = a
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
        }
        let open = ranges.is_empty() || ranges.iter().any(|r| r == "0.0.0.0/0" || r == "::/0");
        if open {
            hits.object(
                svc,
                Some("spec.loadBalancerSourceRanges".into()),
                "LoadBalancer Service accepts traffic from any address (no restricting loadBalancerSourceRanges)".into(),
            );
        }
    }
    Ok(())
}

pub(crate) fn ingress_without_tls(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for ing in &ctx.inv.ingresses {
        let tls_hosts: Vec<&str> = ing
            .spec
            .tls
            .iter()
            .flat_map(|t| t.hosts.iter().map(String::as_str))
            .collect();
        let any_tls_without_hosts = ing.spec.tls.iter().any(|t| t.hosts.is_empty());
        let plain: Vec<&str> = ing
            .spec
            .rules
            .iter()
            .filter_map(|r| r.host.as_deref())
            .filter(|h| !any_tls_without_hosts && !tls_hosts.iter().any(|t| tls_host_covers(t, h)))
            .collect();
        if ing.spec.tls.is_empty() {
            hits.object(
                ing,
                Some("spec.tls".into()),
                "Ingress serves plain HTTP: it has no TLS section".into(),
            );
        } else if !plain.is_empty() {
            hits.object(
                ing,
                Some("spec.tls".into()),
                format!(
                    "Ingress hosts {} are not covered by its TLS section",
                    plain.join(", ")
                ),
            );
        }
    }
    Ok(())
}

/// Whether a TLS host entry covers a rule host: equal, or a `*.` wildcard matching exactly one
/// leading label.
fn tls_host_covers(tls: &str, host: &str) -> bool {
    if tls.eq_ignore_ascii_case(host) {
        return true;
    }
    match (tls.strip_prefix("*."), host.split_once('.')) {
        (Some(suffix), Some((label, rest))) => {
            !label.is_empty() && rest.eq_ignore_ascii_case(suffix)
        }
        _ => false,
    }
}
