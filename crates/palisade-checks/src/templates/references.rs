//! Dangling references between objects: an HPA's target, NetworkPolicy peers, ConfigMaps and
//! Secrets named by environment variables, ServiceMonitor selectors. Each decides only when
//! the input holds objects of the referenced kind in the namespace concerned: otherwise the
//! input is partial and the reference may well resolve in the cluster.

use palisade_model::LabelSelector;
use palisade_model::api::NetworkPolicyPeer;
use palisade_model::inventory::DEFAULT_NAMESPACE;
use serde::Deserialize;

use super::availability::{HpaSpec, specs_of};
use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

pub(crate) fn dangling_hpa(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for (o, h) in specs_of::<HpaSpec>(ctx, "HorizontalPodAutoscaler") {
        let ns = o.namespace().unwrap_or(DEFAULT_NAMESPACE);
        let workloads = ctx.workloads_in(ns);
        let Some(t) = &h.scale_target_ref else {
            continue;
        };
        if workloads.is_empty() {
            continue;
        }
        if !workloads
            .iter()
            .any(|w| w.kind == t.kind && w.meta.name == t.name)
        {
            hits.object(
                o,
                Some("spec.scaleTargetRef".into()),
                format!(
                    "HorizontalPodAutoscaler targets {} {}, which is not in namespace {ns} of the input",
                    t.kind, t.name
                ),
            );
        }
    }
    Ok(())
}

/// The peers of a NetworkPolicy's rules with their field paths.
fn peers(np: &palisade_model::NetworkPolicy) -> Vec<(String, &NetworkPolicyPeer)> {
    let mut out = Vec::new();
    for (i, rule) in np.spec.ingress.iter().flatten().enumerate() {
        for (j, p) in rule.from.iter().flatten().enumerate() {
            out.push((format!("spec.ingress[{i}].from[{j}]"), p));
        }
    }
    for (i, rule) in np.spec.egress.iter().flatten().enumerate() {
        for (j, p) in rule.to.iter().flatten().enumerate() {
            out.push((format!("spec.egress[{i}].to[{j}]"), p));
        }
    }
    out
}

pub(crate) fn dangling_netpol_peer(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for np in &ctx.inv.network_policies {
        let ns = np.namespace().unwrap_or(DEFAULT_NAMESPACE);
        let workloads = ctx.workloads_in(ns);
        if workloads.is_empty() {
            continue;
        }
        for (path, peer) in peers(np) {
            // Only peers within the policy's own namespace: a namespaceSelector reaches
            // namespaces the input may not hold.
            let Some(sel) = peer.pod_selector.as_ref() else {
                continue;
            };
            if peer.namespace_selector.is_some() || sel.is_empty() || sel.validate().is_err() {
                continue;
            }
            if !workloads
                .iter()
                .any(|w| sel.matches(w.pod_labels()).unwrap_or(false))
            {
                hits.object(
                    np,
                    Some(format!("{path}.podSelector")),
                    format!("peer podSelector matches no workload in namespace {ns}: the rule allows nothing (a typo, or a workload that was renamed)"),
                );
            }
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EnvRefParams {
    /// `ConfigMap` or `Secret`.
    kind: String,
}

pub(crate) fn env_ref_missing(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<EnvRefParams> = params(check)?;
    let secret = match p.kind.as_str() {
        "Secret" => true,
        "ConfigMap" => false,
        other => return Err(format!("kind must be ConfigMap or Secret, not {other:?}")),
    };
    // Key names of every object of the kind by (namespace, name); `None` when they are not
    // known: a Secret read from a live cluster is read by its metadata only (its data, and so
    // its key names, never leave the cluster), so only its existence can be checked.
    let mut objects: std::collections::HashMap<(&str, &str), Option<&[String]>> =
        std::collections::HashMap::new();
    if secret {
        for s in &ctx.inv.secrets {
            let ns = s.namespace().unwrap_or(DEFAULT_NAMESPACE);
            let keys = s.source.live.is_none().then_some(s.spec.keys.as_slice());
            objects.insert((ns, s.meta.name.as_str()), keys);
        }
    } else {
        for c in &ctx.inv.config_maps {
            let ns = c.namespace().unwrap_or(DEFAULT_NAMESPACE);
            objects.insert((ns, c.meta.name.as_str()), Some(c.spec.keys.as_slice()));
        }
    }
    let namespaces: std::collections::HashSet<&str> = objects.keys().map(|(ns, _)| *ns).collect();
    let kind = p.kind.as_str();
    for c in ctx.containers() {
        let ns = c.workload.namespace().unwrap_or(DEFAULT_NAMESPACE);
        if !namespaces.contains(ns) {
            continue;
        }
        for (i, e) in c.container.env.iter().enumerate() {
            let source = e.value_from.as_ref();
            let r = if secret {
                source.and_then(|s| s.secret_key_ref.as_ref())
            } else {
                source.and_then(|s| s.config_map_key_ref.as_ref())
            };
            let Some(r) = r.filter(|r| r.optional != Some(true)) else {
                continue;
            };
            let message = match objects.get(&(ns, r.name.as_str())) {
                None => format!(
                    "env {} reads {kind} {}, which is not in namespace {ns} of the input: the container cannot start",
                    e.name, r.name
                ),
                Some(Some(keys)) if !keys.contains(&r.key) => format!(
                    "env {} reads key {} of {kind} {}, which has no such key: the container cannot start",
                    e.name, r.key, r.name
                ),
                Some(_) => continue,
            };
            hits.container(&c, &format!("env[{i}].valueFrom"), message);
        }
        for (i, from) in c.container.env_from.iter().enumerate() {
            let r = if secret {
                from.secret_ref.as_ref()
            } else {
                from.config_map_ref.as_ref()
            };
            let Some(r) = r.filter(|r| r.optional != Some(true)) else {
                continue;
            };
            if !objects.contains_key(&(ns, r.name.as_str())) {
                hits.container(
                    &c,
                    &format!("envFrom[{i}]"),
                    format!(
                        "envFrom reads {kind} {}, which is not in namespace {ns} of the input: the container cannot start",
                        r.name
                    ),
                );
            }
        }
    }
    Ok(())
}

/// The fields of a `monitoring.coreos.com/v1` ServiceMonitor the check reads.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ServiceMonitorSpec {
    selector: LabelSelector,
    namespace_selector: NamespaceSelector,
}

/// A ServiceMonitor's `namespaceSelector`: `any: true`, a list of names, or (unset) its own
/// namespace.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct NamespaceSelector {
    any: bool,
    match_names: Vec<String>,
}

pub(crate) fn dangling_servicemonitor(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    let monitors = ctx.inv.others.iter().filter(|o| {
        o.kind == "ServiceMonitor" && o.api_version.starts_with("monitoring.coreos.com/")
    });
    for o in monitors {
        let Some(spec) = o
            .raw
            .get("spec")
            .and_then(|s| ServiceMonitorSpec::deserialize(s).ok())
        else {
            continue;
        };
        let own = o.namespace().unwrap_or(DEFAULT_NAMESPACE);
        let in_scope = |ns: &str| {
            spec.namespace_selector.any
                || if spec.namespace_selector.match_names.is_empty() {
                    ns == own
                } else {
                    spec.namespace_selector.match_names.iter().any(|n| n == ns)
                }
        };
        let services: Vec<_> = ctx
            .inv
            .services
            .iter()
            .filter(|s| in_scope(s.namespace().unwrap_or(DEFAULT_NAMESPACE)))
            .collect();
        if services.is_empty() || spec.selector.validate().is_err() {
            continue;
        }
        if !services
            .iter()
            .any(|s| spec.selector.matches(&s.meta.labels).unwrap_or(false))
        {
            hits.object(
                o,
                Some("spec.selector".into()),
                "ServiceMonitor selector matches no Service in the namespaces it watches: Prometheus scrapes nothing for it".into(),
            );
        }
    }
    Ok(())
}
