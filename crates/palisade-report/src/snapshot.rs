//! The scan as a central snapshot (`palisade_api::Snapshot`, what `palisade scan --push`
//! sends): workloads with their risk, findings with fingerprints, images with what registry
//! access learned, the objects read (Secret `data` and `stringData` removed) and the
//! diagnostics.

use std::collections::{BTreeMap, BTreeSet};

use palisade_api::{
    FindingRecord, ImageRecord, ObjectKey, RawObject, RiskRecord, Snapshot, VulnerabilityRecord,
    WorkloadRecord,
};
use palisade_model::inventory::{Inventory, Resource};
use palisade_model::meta::ObjectMeta;
use palisade_model::time::Timestamp;
use palisade_model::{Finding, RegistryFactsTable, WorkloadId};
use palisade_risk::WorkloadRisk;

use crate::ScanReport;

/// Risk factors sent per workload (the largest).
const FACTORS: usize = 5;

/// What the snapshot needs beside the report.
#[derive(Debug, Clone)]
pub struct SnapshotInput<'a> {
    /// Sender's id of this snapshot (unique per cluster).
    pub id: String,
    /// When the objects were read.
    pub scanned_at: Timestamp,
    /// Where the objects came from (`manifests` or `cluster`).
    pub source: &'a str,
    /// The inventory scanned (read with raw objects kept).
    pub inventory: &'a Inventory,
    /// The risk ranking, riskiest first, when the scan ranked.
    pub ranking: Option<&'a [WorkloadRisk]>,
}

/// Builds the snapshot of a scan.
pub fn snapshot(report: &ScanReport<'_>, input: &SnapshotInput<'_>) -> Snapshot {
    Snapshot {
        id: input.id.clone(),
        scanned_at: input.scanned_at,
        tool_version: report.version.to_string(),
        source: input.source.to_string(),
        workloads: workloads(input),
        findings: report.findings.iter().map(finding).collect(),
        images: images(input.inventory, report.images),
        objects: objects(input.inventory),
        diagnostics: report.diagnostics.to_vec(),
    }
}

fn workloads(input: &SnapshotInput<'_>) -> Vec<WorkloadRecord> {
    let risks: BTreeMap<&WorkloadId, (usize, &WorkloadRisk)> = input
        .ranking
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, r)| (&r.workload, (i, r)))
        .collect();
    input
        .inventory
        .workloads
        .iter()
        .map(|w| {
            let id = WorkloadId::of(w);
            let risk = risks.get(&id).map(|(i, r)| risk(*i, r));
            let pod = &w.spec.pod;
            let images = pod
                .init_containers
                .iter()
                .chain(&pod.containers)
                .filter_map(|c| c.image.clone())
                .collect();
            let owner = palisade_model::ownership::declared_owner(&w.meta)
                .or_else(|| palisade_model::ownership::declared_owner(&w.spec.pod_meta))
                .map(|(_, owner)| owner.to_string());
            WorkloadRecord {
                labels: w
                    .pod_labels()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                service_account: pod
                    .service_account_name
                    .clone()
                    .or_else(|| pod.service_account.clone()),
                images,
                risk,
                owner,
                id,
            }
        })
        .collect()
}

fn risk(index: usize, r: &WorkloadRisk) -> RiskRecord {
    let mut factors: Vec<_> = r.factors.iter().filter(|f| f.points > 0).collect();
    factors.sort_by_key(|f| std::cmp::Reverse(f.points));
    RiskRecord {
        score: r.score,
        rank: u32::try_from(index + 1).unwrap_or(u32::MAX),
        factors: factors
            .into_iter()
            .take(FACTORS)
            .map(|f| f.detail.clone())
            .collect(),
    }
}

/// [`snapshot`]'s record of one finding, taken by value: its texts move into the record (for a
/// sender that converts a large analysis while freeing it).
pub fn finding_record(f: Finding) -> FindingRecord {
    FindingRecord {
        fingerprint: f.fingerprint(),
        check_id: f.check_id.to_string(),
        severity: f.severity,
        title: f.title.to_string(),
        message: f.message,
        object: ObjectKey {
            kind: f.object.kind.clone(),
            namespace: f.object.namespace.clone(),
            name: f.object.name.clone(),
        },
        container: f.container.as_deref().map(String::from),
        path: f.path.as_deref().map(String::from),
    }
}

fn finding(f: &Finding) -> FindingRecord {
    // The clone copies the message, which the record needs anyway; the rest are shared `Arc`s.
    finding_record(f.clone())
}

/// Every image reference of the workloads, with the registry facts when there are some.
fn images(inventory: &Inventory, facts: Option<&RegistryFactsTable>) -> Vec<ImageRecord> {
    let references: BTreeSet<&str> = inventory
        .workloads
        .iter()
        .flat_map(|w| {
            let pod = &w.spec.pod;
            pod.init_containers.iter().chain(&pod.containers)
        })
        .filter_map(|c| c.image.as_deref())
        .collect();
    references
        .into_iter()
        .map(|reference| {
            let facts = facts.and_then(|t| t.get(reference));
            let mut vulnerabilities: Vec<VulnerabilityRecord> = facts
                .and_then(|f| f.vulnerabilities.as_ref())
                .map(|v| v.fixable.iter().chain(&v.notorious))
                .into_iter()
                .flatten()
                .map(|v| VulnerabilityRecord {
                    id: v.id.clone(),
                    package: v.package.clone(),
                    version: v.installed.clone(),
                    fixed: v.fixed.clone(),
                    severity: v.severity,
                })
                .collect();
            vulnerabilities.sort_by(|a, b| (&a.id, &a.package).cmp(&(&b.id, &b.package)));
            vulnerabilities.dedup_by(|a, b| a.id == b.id && a.package == b.package);
            ImageRecord {
                reference: reference.to_string(),
                digest: facts.and_then(|f| f.digest.clone()),
                vulnerabilities,
            }
        })
        .collect()
}

/// The raw objects of the inventory, each once, as JSON text, in the order of a snapshot's
/// `objects`; Secrets without their `data` and `stringData` (ingest already replaced their
/// values; central refuses the fields). Objects whose raw JSON was not kept (`null`) are left
/// out.
pub fn objects(inventory: &Inventory) -> Vec<RawObject> {
    objects_with(inventory, &mut |_, _| None)
}

/// [`objects`], where an object whose raw JSON was not kept (`null`) takes its text from
/// `text` (its kind and metadata) when that has it: a reader that holds the objects as text
/// (the sensor) converts them without keeping their trees.
pub fn objects_with(
    inventory: &Inventory,
    text: &mut dyn FnMut(&str, &ObjectMeta) -> Option<RawObject>,
) -> Vec<RawObject> {
    fn each<'i, S: 'i>(
        items: impl IntoIterator<Item = &'i Resource<S>>,
        out: &mut Vec<RawObject>,
        text: &mut dyn FnMut(&str, &ObjectMeta) -> Option<RawObject>,
    ) {
        for o in items {
            if o.raw.is_null() {
                out.extend(text(&o.kind, &o.meta));
            } else {
                out.push(object_text(&o.raw));
            }
        }
    }
    let mut out = Vec::with_capacity(inventory.object_count());
    let explicit = inventory.namespaces.iter().filter(|n| !n.spec.implicit);
    each(explicit, &mut out, text);
    each(&inventory.workloads, &mut out, text);
    each(&inventory.services, &mut out, text);
    each(&inventory.ingresses, &mut out, text);
    each(&inventory.network_policies, &mut out, text);
    each(&inventory.service_accounts, &mut out, text);
    each(&inventory.roles, &mut out, text);
    each(&inventory.role_bindings, &mut out, text);
    each(&inventory.secrets, &mut out, text);
    each(&inventory.config_maps, &mut out, text);
    each(&inventory.others, &mut out, text);
    out
}

/// One raw object as a snapshot carries it: its JSON text, a Secret without its `data` and
/// `stringData`.
pub fn object_text(raw: &serde_json::Value) -> RawObject {
    if raw.get("kind").and_then(|k| k.as_str()) == Some("Secret")
        && let Some(map) = raw.as_object()
    {
        let mut map = map.clone();
        map.remove("data");
        map.remove("stringData");
        RawObject::from_value(&serde_json::Value::Object(map))
    } else {
        RawObject::from_value(raw)
    }
}
