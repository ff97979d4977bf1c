//! Availability templates: PodDisruptionBudgets, HorizontalPodAutoscalers, replica spreading,
//! update strategies and pod clean-up. PDBs and HPAs are read from their raw objects
//! ([`palisade_model::Inventory::others`] always keeps those).

use palisade_model::api::IntOrString;
use palisade_model::inventory::OtherObject;
use palisade_model::{LabelSelector, Workload, WorkloadKind};
use serde::Deserialize;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

/// The fields of a `policy/v1` PodDisruptionBudget the checks read.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PdbSpec {
    pub selector: Option<LabelSelector>,
    pub min_available: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
    pub unhealthy_pod_eviction_policy: Option<String>,
}

/// The fields of an `autoscaling` HorizontalPodAutoscaler the checks read.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct HpaSpec {
    pub scale_target_ref: Option<TargetRef>,
    pub min_replicas: Option<i64>,
    pub max_replicas: Option<i64>,
}

/// `scaleTargetRef` of an HPA.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TargetRef {
    pub kind: String,
    pub name: String,
}

impl HpaSpec {
    /// `minReplicas`, 1 when unset.
    pub fn min(&self) -> i64 {
        self.min_replicas.unwrap_or(1)
    }
}

/// Objects of `kind` in `others` with their `spec` read as `T` (objects whose spec does not
/// have that shape are left out: the API server would have refused them).
pub(crate) fn specs_of<'a, T: serde::de::DeserializeOwned>(
    ctx: &Ctx<'a>,
    kind: &'a str,
) -> impl Iterator<Item = (&'a OtherObject, T)> + 'a {
    ctx.inv
        .others
        .iter()
        .filter(move |o| o.kind == kind)
        .filter_map(|o| {
            let spec = o.raw.get("spec")?;
            Some((o, T::deserialize(spec).ok()?))
        })
}

/// Whether a PDB (in `ns`) covers the workload's pods. A PDB without a selector selects
/// nothing; an empty selector selects every pod of the namespace (policy/v1).
fn pdb_selects(pdb: &PdbSpec, pdb_ns: Option<&str>, w: &Workload) -> bool {
    pdb_ns == w.namespace()
        && pdb
            .selector
            .as_ref()
            .is_some_and(|s| s.matches(w.pod_labels()).unwrap_or(false))
}

/// Kinds whose replica count a controller keeps (and an HPA may scale).
fn replicated(w: &Workload) -> bool {
    use WorkloadKind as K;
    matches!(
        w.spec.kind,
        K::Deployment
            | K::StatefulSet
            | K::ReplicaSet
            | K::ReplicationController
            | K::DeploymentConfig
            | K::Rollout
    )
}

/// The HPA scaling `w`, if the input has one.
fn hpa_of<'a>(ctx: &Ctx<'a>, w: &Workload) -> Option<(&'a OtherObject, HpaSpec)> {
    specs_of::<HpaSpec>(ctx, "HorizontalPodAutoscaler").find(|(o, h)| {
        o.namespace() == w.namespace()
            && h.scale_target_ref
                .as_ref()
                .is_some_and(|t| t.kind == w.kind && t.name == w.meta.name)
    })
}

/// The replica count the workload runs at its minimum: the HPA's minReplicas when one scales
/// it, else `spec.replicas` (default 1).
fn minimum_replicas(ctx: &Ctx<'_>, w: &Workload) -> i64 {
    match hpa_of(ctx, w) {
        Some((_, h)) => h.min(),
        None => w.spec.replicas.unwrap_or(1),
    }
}

pub(crate) fn pdb_missing(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    let pdbs: Vec<(&OtherObject, PdbSpec)> = specs_of(ctx, "PodDisruptionBudget").collect();
    for w in ctx.workloads().filter(|w| replicated(w)) {
        let replicas = minimum_replicas(ctx, w);
        if replicas < 2 || pdbs.iter().any(|(o, p)| pdb_selects(p, o.namespace(), w)) {
            continue;
        }
        hits.workload(
            w,
            Some("metadata".into()),
            format!(
                "{} runs {replicas} replicas but no PodDisruptionBudget selects its pods: a node drain may evict them all at once",
                w.kind
            ),
        );
    }
    Ok(())
}

/// `value` as a whole number of pods out of `replicas` (percentages round up, as the
/// disruption controller does for minAvailable).
fn pods_of(value: &IntOrString, replicas: i64) -> Option<i64> {
    match value {
        IntOrString::Int(i) => Some(*i),
        IntOrString::String(s) => {
            let pct: i64 = s.strip_suffix('%')?.trim().parse().ok()?;
            Some((pct * replicas + 99) / 100)
        }
    }
}

fn is_zero(v: &IntOrString) -> bool {
    matches!(v, IntOrString::Int(0)) || matches!(v, IntOrString::String(s) if s.trim() == "0%")
}

pub(crate) fn pdb_zero_disruptions(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for (o, p) in specs_of::<PdbSpec>(ctx, "PodDisruptionBudget") {
        if let Some(v) = p.max_unavailable.as_ref().filter(|v| is_zero(v)) {
            hits.object(
                o,
                Some("spec.maxUnavailable".into()),
                format!("maxUnavailable {v} allows no voluntary disruption: node drains block until someone deletes the PodDisruptionBudget"),
            );
            continue;
        }
        let Some(min) = &p.min_available else {
            continue;
        };
        if matches!(min, IntOrString::String(s) if s.trim() == "100%") {
            hits.object(
                o,
                Some("spec.minAvailable".into()),
                "minAvailable 100% allows no voluntary disruption: node drains block until someone deletes the PodDisruptionBudget".into(),
            );
            continue;
        }
        // A number: compare with the replicas of the workloads it covers (autoscaled ones are
        // the next check's question).
        let IntOrString::Int(n) = min else { continue };
        for w in ctx.workloads().filter(|w| replicated(w)) {
            if !pdb_selects(&p, o.namespace(), w) || hpa_of(ctx, w).is_some() {
                continue;
            }
            let replicas = w.spec.replicas.unwrap_or(1);
            if *n >= replicas {
                hits.object(
                    o,
                    Some("spec.minAvailable".into()),
                    format!(
                        "minAvailable {n} is not below the {replicas} replica(s) of {} {}: no pod may ever be evicted",
                        w.kind, w.meta.name
                    ),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn pdb_above_hpa_minimum(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for (o, p) in specs_of::<PdbSpec>(ctx, "PodDisruptionBudget") {
        let Some(min) = &p.min_available else {
            continue;
        };
        for w in ctx.workloads().filter(|w| replicated(w)) {
            if !pdb_selects(&p, o.namespace(), w) {
                continue;
            }
            let Some((hpa, h)) = hpa_of(ctx, w) else {
                continue;
            };
            let floor = h.min();
            if pods_of(min, floor).is_some_and(|n| n >= floor) {
                hits.object(
                    o,
                    Some("spec.minAvailable".into()),
                    format!(
                        "minAvailable {min} is not below minReplicas {floor} of HorizontalPodAutoscaler {} (scaling {} {}): at its minimum size no pod may be evicted",
                        hpa.meta.name, w.kind, w.meta.name
                    ),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn pdb_eviction_policy(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for (o, p) in specs_of::<PdbSpec>(ctx, "PodDisruptionBudget") {
        let policy = p.unhealthy_pod_eviction_policy.as_deref();
        if policy != Some("AlwaysAllow") {
            hits.object(
                o,
                Some("spec.unhealthyPodEvictionPolicy".into()),
                format!(
                    "unhealthyPodEvictionPolicy is {}: pods that never become ready count against the budget and can block node drains",
                    policy.unwrap_or("unset (IfHealthyBudget)")
                ),
            );
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HpaParams {
    /// `min_above_max`, `max_equals_min`, `min_below` (with `minimum`) or `max_above` (with
    /// `maximum`).
    rule: String,
    /// Smallest acceptable minReplicas for `min_below`.
    #[serde(default)]
    minimum: i64,
    /// Largest acceptable maxReplicas for `max_above`.
    #[serde(default)]
    maximum: i64,
}

pub(crate) fn hpa_replicas(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<HpaParams> = params(check)?;
    if !matches!(
        p.rule.as_str(),
        "min_above_max" | "max_equals_min" | "min_below" | "max_above"
    ) {
        return Err(format!(
            "rule must be min_above_max, max_equals_min, min_below or max_above, not {:?}",
            p.rule
        ));
    }
    for (o, h) in specs_of::<HpaSpec>(ctx, "HorizontalPodAutoscaler") {
        let min = h.min();
        let Some(max) = h.max_replicas else { continue };
        let (field, message) = match p.rule.as_str() {
            "min_above_max" if min > max => (
                "spec.minReplicas",
                format!(
                    "minReplicas {min} is above maxReplicas {max}: the API server refuses it, or the autoscaler never acts"
                ),
            ),
            "max_equals_min" if min == max => (
                "spec.maxReplicas",
                format!("maxReplicas equals minReplicas ({min}): the autoscaler can never scale"),
            ),
            "min_below" if min < p.minimum => (
                "spec.minReplicas",
                format!(
                    "minReplicas {min}{} lets the autoscaler scale down to fewer than {} pods, where one failure is an outage",
                    if h.min_replicas.is_none() {
                        " (unset)"
                    } else {
                        ""
                    },
                    p.minimum
                ),
            ),
            "max_above" if max > p.maximum => (
                "spec.maxReplicas",
                format!(
                    "maxReplicas {max} is above {}: a load spike or a bug in the metrics can scale the workload beyond the capacity and quota planned for it",
                    p.maximum
                ),
            ),
            _ => continue,
        };
        hits.object(o, Some(field.into()), message);
    }
    Ok(())
}

pub(crate) fn replicas_not_spread(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads().filter(|w| replicated(w)) {
        let replicas = w.spec.replicas.unwrap_or(1);
        let pod = &w.spec.pod;
        let anti = pod
            .affinity
            .as_ref()
            .is_some_and(|a| a.pod_anti_affinity.is_some());
        if replicas > 1 && !anti && pod.topology_spread_constraints.is_empty() {
            hits.workload(
                w,
                Some(w.pod_spec_path().into()),
                format!(
                    "{} runs {replicas} replicas with neither pod anti-affinity nor topologySpreadConstraints: the scheduler may put them all on one node or zone",
                    w.kind
                ),
            );
        }
    }
    Ok(())
}

pub(crate) fn rollout_full_outage(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        if w.spec.kind != WorkloadKind::Deployment {
            continue;
        }
        let Some(s) = &w.spec.controller.strategy else {
            continue;
        };
        let replicas = w.spec.replicas.unwrap_or(1);
        if s.type_.as_deref() == Some("Recreate") {
            hits.workload(
                w,
                Some("spec.strategy.type".into()),
                "Deployment strategy Recreate stops every old pod before new ones start: each rollout is an outage".into(),
            );
        } else if let Some(max) = s
            .rolling_update
            .as_ref()
            .and_then(|r| r.max_unavailable.as_ref())
        {
            // maxUnavailable percentages round down.
            let down = match max {
                IntOrString::Int(i) => Some(*i),
                IntOrString::String(t) => t
                    .strip_suffix('%')
                    .and_then(|p| p.trim().parse::<i64>().ok())
                    .map(|p| p * replicas / 100),
            };
            if replicas > 0 && down.is_some_and(|d| d >= replicas) {
                hits.workload(
                    w,
                    Some("spec.strategy.rollingUpdate.maxUnavailable".into()),
                    format!("rollingUpdate maxUnavailable {max} lets a rollout take all {replicas} replica(s) down at once"),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn priority_class_unset(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    // Decidable only when the input declares the cluster's PriorityClasses: a pod without a
    // name gets the globalDefault class, when there is one.
    let classes: Vec<&OtherObject> = ctx
        .inv
        .others
        .iter()
        .filter(|o| o.kind == "PriorityClass" && o.api_version.starts_with("scheduling.k8s.io/"))
        .collect();
    let global_default = classes.iter().any(|o| {
        o.raw
            .get("globalDefault")
            .and_then(serde_json::Value::as_bool)
            == Some(true)
    });
    if classes.is_empty() || global_default {
        return Ok(());
    }
    for w in ctx.workloads() {
        if w.spec.pod.priority_class_name.is_none() {
            hits.workload(
                w,
                Some(format!("{}.priorityClassName", w.pod_spec_path())),
                "no priorityClassName and no global default PriorityClass: its pods get priority 0, so under node pressure they are preempted or evicted in no chosen order".into(),
            );
        }
    }
    Ok(())
}

pub(crate) fn job_ttl_missing(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        if w.spec.kind != WorkloadKind::Job || !w.meta.owner_references.is_empty() {
            continue;
        }
        if w.spec.controller.ttl_seconds_after_finished.is_none() {
            hits.workload(
                w,
                Some("spec.ttlSecondsAfterFinished".into()),
                "standalone Job without ttlSecondsAfterFinished: it and its finished pods stay in the cluster until someone deletes them".into(),
            );
        }
    }
    Ok(())
}

/// Whether a Pod has a managing controller (an ownerReference with `controller: true`).
fn has_controller(w: &Workload) -> bool {
    w.meta
        .owner_references
        .iter()
        .any(|o| o.controller == Some(true))
}

pub(crate) fn bare_pod_restart_never(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        if w.spec.kind == WorkloadKind::Pod
            && !has_controller(w)
            && w.spec.pod.restart_policy.as_deref() == Some("Never")
        {
            hits.workload(
                w,
                Some("spec.restartPolicy".into()),
                "bare Pod with restartPolicy Never: a crashed container stays down and no controller replaces the pod".into(),
            );
        }
    }
    Ok(())
}

pub(crate) fn naked_pod(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        if w.spec.kind == WorkloadKind::Pod && !has_controller(w) {
            hits.workload(
                w,
                Some("metadata.ownerReferences".into()),
                "Pod managed by no controller: it is not recreated when its node fails or is drained, and not updated with its siblings".into(),
            );
        }
    }
    Ok(())
}
