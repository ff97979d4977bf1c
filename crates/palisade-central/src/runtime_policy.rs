//! `GET /api/v1/runtime-policy?cluster=NAME`: the RuntimePolicy every agent of a cluster (or of
//! all clusters) taught central, built from the stored alerts and baselines by the agent's own
//! [`export_policy`], so `palisade scan --runtime-policy https://…` and admission read exactly
//! what `palisade agent export-policy` would write from the same alerts and baselines.

use std::collections::btree_map::Entry;

use axum::Json;
use axum::extract::State;
use palisade_api::BaselineRecord;
use palisade_runtime::Alert;
use palisade_runtime::baseline::{Baseline, BaselineProcess, BaselineStore, Phase};
use palisade_runtime::policy::{ExportOptions, FindingsSummary, RuntimePolicy, export_policy};
use palisade_store::RuntimeFacts;
use serde::Deserialize;

use crate::auth::{CLUSTER_READERS, Caller};
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use crate::store_error::to_api;

/// Query of `GET /api/v1/runtime-policy`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyQuery {
    /// One cluster (a cluster-bound token: its own, by default); absent: every cluster.
    #[serde(default)]
    pub cluster: Option<String>,
}

/// `GET /api/v1/runtime-policy`: admins and analysts for any cluster or all, sensors and
/// agents for their own cluster.
pub async fn runtime_policy(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PolicyQuery>,
) -> Result<Json<RuntimePolicy>, ApiError> {
    let cluster = caller.read(q.cluster, CLUSTER_READERS)?;
    let facts = state
        .store
        .runtime_facts(cluster.as_deref())
        .await
        .map_err(to_api)?;
    let now_ms = state.now().unix_ms_unsigned().unwrap_or(0);
    Ok(Json(policy_from(&facts, now_ms)))
}

/// The policy of stored alerts and baselines: each alert's `detail` is the agent's alert
/// record (its container's image, the rule's tags), counted as the agent counts it; an alert
/// whose detail is not one is left uncounted. Baselines become the agent's locked baselines;
/// the same workload and container in several clusters is one allowlist of every program any
/// of them learned, locked only when all of them are.
pub fn policy_from(facts: &RuntimeFacts, now_ms: u64) -> RuntimePolicy {
    let mut summary = FindingsSummary::default();
    for view in &facts.alerts {
        match serde_json::from_value::<Alert>(view.alert.detail.clone()) {
            Ok(alert) => summary.record(&alert, view.alert.time.unix_ms_unsigned().unwrap_or(0)),
            Err(_) => summary.uncounted += 1,
        }
    }
    let mut store = BaselineStore::new();
    for (_, record) in &facts.baselines {
        let b = baseline(record);
        match store.baselines.entry(b.key.clone()) {
            Entry::Vacant(v) => {
                v.insert(b);
            }
            Entry::Occupied(mut o) => merge(o.get_mut(), b),
        }
    }
    export_policy(&summary, &store, &ExportOptions::default(), now_ms)
}

/// A stored baseline as the agent keeps it (key `k8s/NAMESPACE/Kind/name/CONTAINER`; each
/// program named by its executable's base name, as the kernel names it).
fn baseline(r: &BaselineRecord) -> Baseline {
    let at = r.updated_at.unix_ms_unsigned().unwrap_or(0);
    let workload = format!("{}/{}", r.workload.kind, r.workload.name);
    let mut processes: Vec<BaselineProcess> = r
        .processes
        .iter()
        .map(|exe| BaselineProcess {
            name: exe.rsplit('/').next().unwrap_or(exe).to_string(),
            exe: exe.clone(),
            count: 0,
            first_seen_ms: at,
            last_seen_ms: at,
        })
        .collect();
    processes.sort_by(|a, b| (&a.name, &a.exe).cmp(&(&b.name, &b.exe)));
    processes.dedup_by(|a, b| a.name == b.name && a.exe == b.exe);
    Baseline {
        key: format!("k8s/{}/{workload}/{}", r.workload.namespace, r.container),
        namespace: Some(r.workload.namespace.clone()),
        workload: Some(workload),
        container: Some(r.container.clone()),
        image: None,
        phase: if r.locked {
            Phase::Locked { since_ms: at }
        } else {
            Phase::Learning { until_ms: at }
        },
        created_ms: at,
        processes,
        anomalies: Vec::new(),
        overflow: 0,
    }
}

/// Widens `into` with the programs of `other` (same key, another cluster).
fn merge(into: &mut Baseline, other: Baseline) {
    if !other.is_locked() {
        into.phase = other.phase;
    }
    into.processes.extend(other.processes);
    into.processes
        .sort_by(|a, b| (&a.name, &a.exe).cmp(&(&b.name, &b.exe)));
    into.processes
        .dedup_by(|a, b| a.name == b.name && a.exe == b.exe);
}
