//! The sensor's incremental path: what the last full evaluation left ([`Held`]) and the
//! focused re-evaluation of changed workloads against it.
//!
//! A batch of watch events goes this way when every event names one workload (a top-level one:
//! no `ownerReferences`) that the held inventory already has, outside `kube-system` (the
//! control-plane checks compare its pods with each other), and none of them changed what other
//! objects' results read from it ([`Context`]: namespace, the labels some selector of the
//! cluster names, ports, replicas, service account, host network, selector, controller fields).
//! Then only its own findings and score can move: the changed objects are converted alone
//! (palisade-ingest's one live converter), replaced in the held inventory, and analysed by
//! [`palisade_analysis::analyze_focused`] with the held RBAC index and network facts; scores
//! are re-ranked, and the delta carries the changed workloads and the rows whose rank moved.
//! Anything else (a deletion, a new object, a re-list, a NetworkPolicy, …) is a full
//! evaluation, which also renews the held state; the periodic full snapshot is the safety net.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use palisade_analysis::RiskInputs;
use palisade_api::delta::workload_key;
use palisade_api::{Delta, FindingRecord, ObjectFindings, ObjectKey, WorkloadRecord};
use palisade_model::inventory::Resource;
use palisade_model::{Inventory, Labels, Workload, WorkloadId, WorkloadKind};
use palisade_report::delta::{Acknowledged, SetDigest};
use palisade_risk::WorkloadRisk;
use serde_json::Value;

/// What the last full evaluation left for the next focused ones.
pub struct Held {
    /// The converted inventory, with changed workloads replaced as they come.
    pub inventory: Inventory,
    /// The ranking, riskiest first (empty when not ranked).
    pub ranking: Vec<WorkloadRisk>,
    /// The ranking's RBAC index and network facts of the inventory.
    pub risk_inputs: Option<Arc<RiskInputs>>,
    /// Every label key a selector of the inventory names.
    pub selector_keys: HashSet<String>,
}

impl Held {
    /// The held state of a full evaluation's results: `selector_keys` are the inventory's
    /// ([`selector_keys`], read before its raw objects were dropped).
    pub fn new(
        inventory: Inventory,
        ranking: Vec<WorkloadRisk>,
        risk_inputs: Option<Arc<RiskInputs>>,
        selector_keys: HashSet<String>,
    ) -> Held {
        let mut inventory = inventory;
        drop_raw(&mut inventory);
        Held {
            inventory,
            ranking,
            risk_inputs,
            selector_keys,
        }
    }
}

/// Replaces the raw JSON of `inv`'s objects by `null`, except the `others`' (custom resources,
/// LimitRanges, autoscalers, routes: the built-in checks and the ranking read theirs). The held
/// inventory is only analysed again for focused workloads, whose raw objects come fresh from
/// the change, and only their findings are kept (a custom check reads the raw object it
/// judges): the other raw objects would be a second copy of the watchers' stores.
pub fn drop_raw(inv: &mut Inventory) {
    fn clear<S>(items: &mut [Resource<S>], null: &Arc<Value>) {
        for r in items {
            r.raw = Arc::clone(null);
        }
    }
    let null = Arc::new(Value::Null);
    clear(&mut inv.namespaces, &null);
    clear(&mut inv.workloads, &null);
    clear(&mut inv.services, &null);
    clear(&mut inv.ingresses, &null);
    clear(&mut inv.network_policies, &null);
    clear(&mut inv.service_accounts, &null);
    clear(&mut inv.roles, &null);
    clear(&mut inv.role_bindings, &null);
    clear(&mut inv.secrets, &null);
    clear(&mut inv.config_maps, &null);
}

/// Every label key named by a selector in `inv`'s objects: keys of `matchLabels` maps and of
/// `selector` maps of strings (a Service's), and the `key` of `matchExpressions` entries,
/// wherever they sit in an object (Services, NetworkPolicies and their peers, PDBs, custom
/// resources).
pub fn selector_keys(inv: &Inventory) -> HashSet<String> {
    let raws = inv
        .namespaces
        .iter()
        .map(|r| &r.raw)
        .chain(inv.workloads.iter().map(|r| &r.raw))
        .chain(inv.services.iter().map(|r| &r.raw))
        .chain(inv.ingresses.iter().map(|r| &r.raw))
        .chain(inv.network_policies.iter().map(|r| &r.raw))
        .chain(inv.others.iter().map(|r| &r.raw))
        .map(|raw| &**raw);
    selector_keys_of(raws)
}

/// [`selector_keys`] of raw objects (the caller picks those [`selector_keys`] reads: all but
/// ServiceAccounts, RBAC objects, Secrets and ConfigMaps).
pub fn selector_keys_of<'a>(raws: impl IntoIterator<Item = &'a Value>) -> HashSet<String> {
    fn walk(v: &Value, out: &mut HashSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("matchLabels", Value::Object(labels)) => {
                            out.extend(labels.keys().cloned())
                        }
                        ("selector", Value::Object(labels))
                            if labels.values().all(Value::is_string) =>
                        {
                            out.extend(labels.keys().cloned())
                        }
                        ("matchExpressions", Value::Array(items)) => out.extend(
                            items
                                .iter()
                                .filter_map(|i| i.get("key").and_then(Value::as_str))
                                .map(str::to_string),
                        ),
                        _ => {}
                    }
                    walk(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = HashSet::new();
    for raw in raws {
        walk(raw, &mut out);
    }
    out
}

/// What other objects' results read from a workload, as a comparable text.
#[derive(PartialEq, Eq)]
pub struct Context(String);

impl Context {
    /// `w`'s context, with labels restricted to the keys selectors name (`keys`).
    pub fn of(w: &Workload, keys: &HashSet<String>) -> Context {
        let pick = |m: &Labels| -> Vec<(String, String)> {
            m.iter()
                .filter(|(k, _)| keys.contains(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let pod = &w.spec.pod;
        let ports: Vec<_> = pod
            .init_containers
            .iter()
            .chain(&pod.containers)
            .map(|c| (&c.name, &c.ports))
            .collect();
        Context(format!(
            "{:?}",
            (
                w.namespace(),
                &w.meta.owner_references,
                w.spec.kind,
                pick(&w.meta.labels),
                pick(w.pod_labels()),
                &w.spec.selector,
                w.spec.replicas,
                pod.effective_service_account(),
                pod.host_network,
                ports,
                &w.spec.controller,
            )
        ))
    }
}

/// One changed workload, converted, and where the held inventory has it.
pub struct Replacement {
    /// Index in [`Held::inventory`]'s workloads.
    pub index: usize,
    /// The new workload.
    pub workload: Workload,
}

/// The replacement for the changed object `value` of `kind` when the focused path can take it
/// (see the module documentation), else `None`.
pub fn replacement(
    held: &Held,
    cluster: &str,
    kind: &str,
    value: Value,
    limits: &palisade_ingest::Limits,
) -> Option<Replacement> {
    WorkloadKind::from_kind(kind)?;
    let owned = value
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|o| !o.is_empty());
    if owned {
        return None;
    }
    let mut ingested = palisade_ingest::ingest_live(cluster, vec![value], limits);
    if !ingested.diagnostics.is_empty() || ingested.inventory.workloads.len() != 1 {
        return None;
    }
    let workload = ingested.inventory.workloads.pop()?;
    if workload.namespace() == Some("kube-system") {
        return None;
    }
    let index = held.inventory.workloads.iter().position(|w| {
        w.meta.name == workload.meta.name
            && w.kind == workload.kind
            && w.namespace() == workload.namespace()
    })?;
    let own = selector_keys(&Inventory {
        workloads: vec![workload.clone()],
        ..Inventory::default()
    });
    let old = &held.inventory.workloads[index];
    (own.iter().all(|k| held.selector_keys.contains(k))
        && Context::of(old, &held.selector_keys) == Context::of(&workload, &held.selector_keys))
    .then_some(Replacement { index, workload })
}

/// Replaces the focused workloads' scores in `ranking` and ranks it again; returns the
/// workloads whose place changed (besides the focused ones) with their new rank.
pub fn rerank(ranking: &mut Vec<WorkloadRisk>, scored: &[WorkloadRisk]) -> Vec<(WorkloadId, u32)> {
    let before: Vec<WorkloadId> = ranking.iter().map(|r| r.workload.clone()).collect();
    let focus: HashSet<&WorkloadId> = scored.iter().map(|r| &r.workload).collect();
    ranking.retain(|r| !focus.contains(&r.workload));
    ranking.extend(scored.iter().cloned());
    palisade_risk::rank(ranking);
    ranking
        .iter()
        .zip(&before)
        .enumerate()
        .filter(|(_, (now, was))| now.workload != **was && !focus.contains(&now.workload))
        .map(|(i, (now, _))| {
            (
                now.workload.clone(),
                u32::try_from(i + 1).unwrap_or(u32::MAX),
            )
        })
        .collect()
}

/// The rank of `id` in `ranking` (1 = riskiest).
pub fn rank_of(ranking: &[WorkloadRisk], id: &WorkloadId) -> Option<u32> {
    ranking
        .iter()
        .position(|r| &r.workload == id)
        .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX))
}

/// Findings of `snapshot` on `objects`, by object, each set ordered by fingerprint.
fn findings_of(
    snapshot: &[FindingRecord],
    objects: &BTreeSet<ObjectKey>,
) -> BTreeMap<ObjectKey, Vec<FindingRecord>> {
    let mut out: BTreeMap<ObjectKey, Vec<FindingRecord>> = BTreeMap::new();
    // A name compare first: most of a large snapshot's findings are on other objects.
    let names: HashSet<&str> = objects.iter().map(|k| k.name.as_str()).collect();
    let mine =
        |f: &&FindingRecord| names.contains(f.object.name.as_str()) && objects.contains(&f.object);
    for f in snapshot.iter().filter(mine) {
        out.entry(f.object.clone()).or_default().push(f.clone());
    }
    for set in out.values_mut() {
        set.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    }
    out
}

/// The delta from `previous` (the acknowledged state) for the focused workloads (`rows`, their
/// new rows, and `findings`, their new findings) and the rows whose rank moved (`moved`), as
/// [`Acknowledged::delta_with`] would give it: an object whose finding set changed goes with its
/// whole new set, a row that changed goes alone (central keeps the findings of an object the
/// delta does not list).
pub fn delta(
    previous: &Acknowledged,
    rows: Vec<WorkloadRecord>,
    findings: &[FindingRecord],
    moved: &[(WorkloadId, u32)],
    id: String,
    scanned_at: palisade_model::time::Timestamp,
) -> Delta {
    let focus: BTreeSet<ObjectKey> = rows.iter().map(|w| workload_key(&w.id)).collect();
    let moved_keys: BTreeMap<ObjectKey, u32> =
        moved.iter().map(|(w, r)| (workload_key(w), *r)).collect();
    let mut new = findings_of(findings, &focus);
    let old_rows: HashMap<ObjectKey, &WorkloadRecord> = previous
        .snapshot()
        .workloads
        .iter()
        .map(|w| (workload_key(&w.id), w))
        .filter(|(k, _)| focus.contains(k) || moved_keys.contains_key(k))
        .collect();
    let mut objects = Vec::new();
    let mut workloads = Vec::new();
    for row in rows {
        let key = workload_key(&row.id);
        let set = new.remove(&key).unwrap_or_default();
        let digest = (!set.is_empty()).then(|| SetDigest::of(&set));
        let old_row = old_rows.get(&key);
        if previous.digest_of(&key) != digest || old_row.is_none() {
            objects.push(ObjectFindings {
                findings: set,
                object: key,
            });
        }
        if old_row != Some(&&row) {
            workloads.push(row);
        }
    }
    for (key, rank) in moved_keys {
        let Some(row) = old_rows.get(&key) else {
            continue;
        };
        let mut row = (*row).clone();
        if let Some(risk) = row.risk.as_mut() {
            risk.rank = rank;
        }
        workloads.push(row);
    }
    Delta {
        id,
        scanned_at,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        objects,
        workloads,
        deleted: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use palisade_analysis::Analyses;
    use palisade_api::delta::workload_key;
    use palisade_api::{Delta, Snapshot};
    use palisade_model::WorkloadKind;
    use palisade_model::time::{Clock, SystemClock};
    use serde_json::{Value, json};

    use crate::sensor::Evaluator;
    use palisade_cluster::watch::Listed;
    use palisade_report::delta::Acknowledged;
    use palisade_report::pending::PendingSnapshot;

    /// The demo cluster's objects as the API serves them.
    fn demo_objects() -> Vec<Value> {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-cluster");
        let limits = palisade_ingest::Limits {
            keep_raw: true,
            ..Default::default()
        };
        let inv = palisade_ingest::ingest_paths(&[dir], &limits).inventory;
        let raw = |r: &std::sync::Arc<Value>| (**r).clone();
        inv.namespaces
            .iter()
            .filter(|n| !n.spec.implicit)
            .map(|r| raw(&r.raw))
            .chain(inv.workloads.iter().map(|r| raw(&r.raw)))
            .chain(inv.services.iter().map(|r| raw(&r.raw)))
            .chain(inv.ingresses.iter().map(|r| raw(&r.raw)))
            .chain(inv.network_policies.iter().map(|r| raw(&r.raw)))
            .chain(inv.service_accounts.iter().map(|r| raw(&r.raw)))
            .chain(inv.roles.iter().map(|r| raw(&r.raw)))
            .chain(inv.role_bindings.iter().map(|r| raw(&r.raw)))
            .chain(inv.config_maps.iter().map(|r| raw(&r.raw)))
            .chain(inv.others.iter().map(|r| raw(&r.raw)))
            .collect()
    }

    fn fresh() -> Evaluator {
        Evaluator::new(
            palisade_checks::Catalog::builtin(),
            palisade_config::Config::default(),
        )
    }

    /// A full evaluation, as the sensor sends it: findings, not records.
    fn pending(
        evaluator: &mut Evaluator,
        objects: &[Value],
        previous: Option<&Snapshot>,
    ) -> PendingSnapshot {
        evaluator.evaluate_objects(
            "test",
            Listed::from_values(objects),
            Vec::new(),
            "full".into(),
            SystemClock.now(),
            Analyses::all(),
            previous,
        )
    }

    /// A full evaluation with its records made.
    fn full(evaluator: &mut Evaluator, objects: &[Value], previous: Option<&Snapshot>) -> Snapshot {
        pending(evaluator, objects, previous).into_snapshot()
    }

    /// What central holds, as the API describes it: findings by object and workload rows,
    /// field by field.
    #[derive(Debug, PartialEq)]
    struct Central {
        findings: BTreeMap<String, Vec<String>>,
        rows: BTreeMap<String, String>,
    }

    impl Central {
        /// The state a snapshot leaves.
        fn of(s: &Snapshot) -> Central {
            let mut findings: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for f in &s.findings {
                findings
                    .entry(format!("{:?}", f.object))
                    .or_default()
                    .push(format!("{f:?}"));
            }
            findings.values_mut().for_each(|v| v.sort());
            let rows = s
                .workloads
                .iter()
                .map(|w| (format!("{:?}", workload_key(&w.id)), format!("{w:?}")))
                .collect();
            Central { findings, rows }
        }

        /// Applies a delta: listed objects' sets replaced, listed rows replaced (an object not
        /// listed keeps its findings), deleted objects' findings and rows removed.
        fn apply(&mut self, delta: &Delta) {
            for key in &delta.deleted {
                self.findings.remove(&format!("{key:?}"));
                self.rows.remove(&format!("{key:?}"));
            }
            for o in &delta.objects {
                let mut set: Vec<String> = o.findings.iter().map(|f| format!("{f:?}")).collect();
                set.sort();
                if set.is_empty() {
                    self.findings.remove(&format!("{:?}", o.object));
                } else {
                    self.findings.insert(format!("{:?}", o.object), set);
                }
            }
            for w in &delta.workloads {
                self.rows
                    .insert(format!("{:?}", workload_key(&w.id)), format!("{w:?}"));
            }
        }
    }

    /// The pod template of a workload object.
    fn pod(obj: &mut Value) -> &mut Value {
        match obj["kind"].as_str() {
            Some("Pod") => obj,
            Some("CronJob") => &mut obj["spec"]["jobTemplate"]["spec"]["template"],
            _ => &mut obj["spec"]["template"],
        }
    }

    /// Changes `obj` in one of several ways: some only the workload's own results can see
    /// (image, privileged, a label no selector names, resources), some the other objects'
    /// results can (a selected label, replicas).
    fn change(obj: &mut Value, how: u64, step: usize) {
        let template = pod(obj);
        let container = &mut template["spec"]["containers"][0];
        match how {
            0 => container["image"] = json!(format!("example.com/app:{step}")),
            1 => {
                let was = container["securityContext"]["privileged"].as_bool() == Some(true);
                container["securityContext"]["privileged"] = json!(!was);
            }
            2 => template["metadata"]["labels"]["bench"] = json!(format!("c{step}")),
            3 => container["resources"] = json!({"limits": {"cpu": format!("{}m", 100 + step)}}),
            4 => template["metadata"]["labels"]["app"] = json!(format!("x{step}")),
            _ => obj["spec"]["replicas"] = json!(step % 3 + 1),
        }
    }

    #[test]
    fn focused_deltas_keep_the_state_a_full_evaluation_gives() {
        let mut objects = demo_objects();
        let workloads: Vec<usize> = (0..objects.len())
            .filter(|&i| {
                let o = &objects[i];
                o["kind"]
                    .as_str()
                    .and_then(WorkloadKind::from_kind)
                    .is_some()
                    && o.pointer("/metadata/ownerReferences").is_none()
                    && o.pointer("/metadata/namespace").and_then(Value::as_str)
                        != Some("kube-system")
            })
            .collect();
        assert!(workloads.len() > 5, "{} workloads", workloads.len());
        let mut evaluator = fresh();
        // The state is made as the sensor makes it: from the findings, not their records.
        let first = pending(&mut evaluator, &objects, None);
        let mut central = Central::of(&first.clone().into_snapshot());
        let (snapshot, findings) = first.into_parts();
        let mut state = Acknowledged::of(&snapshot, &findings);
        assert!(
            state
                .delta_with(&snapshot, &findings, "same".into())
                .is_empty(),
            "the acknowledged state knows every finding set"
        );
        drop((snapshot, findings));
        let (mut focused, mut fell_back, mut rows_alone) = (0, 0, 0);
        let mut seed: u64 = 0x5eed;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for step in 0..60 {
            let i = workloads[next(workloads.len() as u64) as usize];
            change(&mut objects[i], next(6), step);
            let kind = objects[i]["kind"].as_str().unwrap_or_default().to_string();
            let id = format!("d{step}");
            let delta = match evaluator.focused_objects(
                "test",
                vec![(kind.as_str(), objects[i].clone())],
                &state,
                id.clone(),
                SystemClock.now(),
            ) {
                Some(delta) => {
                    focused += 1;
                    delta
                }
                None => {
                    fell_back += 1;
                    let current = pending(&mut evaluator, &objects, Some(state.snapshot()));
                    state.delta_with(current.snapshot(), current.findings(), id)
                }
            };
            let listed: Vec<_> = delta.objects.iter().map(|o| &o.object).collect();
            rows_alone += delta
                .workloads
                .iter()
                .filter(|w| !listed.contains(&&workload_key(&w.id)))
                .count();
            central.apply(&delta);
            state.apply(delta);
            let expected = full(&mut fresh(), &objects, None);
            assert_eq!(central, Central::of(&expected), "after step {step}");
            assert!(
                state
                    .delta_with(&expected, &expected.findings, "check".into())
                    .is_empty(),
                "after step {step}, the acknowledged state is central's"
            );
        }
        assert!(rows_alone > 0, "no row was sent without its findings");
        assert!(
            focused >= 20 && fell_back >= 5,
            "{focused} focused, {fell_back} full"
        );
    }
}
