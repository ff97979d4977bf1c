//! The difference of two snapshots of one cluster as a central delta (`palisade_api::Delta`,
//! what `palisade sensor run` sends between full snapshots): the objects whose finding sets
//! changed, each with its whole new set; the workloads whose rows changed; the objects gone.

use std::collections::{BTreeMap, BTreeSet};

use palisade_api::delta::workload_key;
use palisade_api::{
    Delta, FindingRecord, ObjectFindings, ObjectKey, RawObject, Snapshot, WorkloadRecord,
};

/// Findings by object, each set ordered by fingerprint.
fn by_object(findings: &[FindingRecord]) -> BTreeMap<&ObjectKey, Vec<&FindingRecord>> {
    let mut out: BTreeMap<&ObjectKey, Vec<&FindingRecord>> = BTreeMap::new();
    for f in findings {
        out.entry(&f.object).or_default().push(f);
    }
    for set in out.values_mut() {
        set.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    }
    out
}

/// The key of a raw object (kind, namespace, name), when it has them.
fn object_key(object: &RawObject) -> Option<ObjectKey> {
    #[derive(serde::Deserialize)]
    struct Meta {
        namespace: Option<String>,
        name: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Head {
        kind: Option<String>,
        metadata: Option<Meta>,
    }
    let head: Head = serde_json::from_str(object.get()).ok()?;
    let metadata = head.metadata?;
    Some(ObjectKey {
        kind: head.kind?,
        namespace: metadata.namespace,
        name: metadata.name?,
    })
}

/// Every object a snapshot knows: its objects, its workloads and the objects of its findings.
fn known_objects(s: &Snapshot) -> BTreeSet<ObjectKey> {
    s.objects
        .iter()
        .filter_map(object_key)
        .chain(s.workloads.iter().map(|w| workload_key(&w.id)))
        .chain(s.findings.iter().map(|f| f.object.clone()))
        .collect()
}

/// What changed from `previous` to `current` (both of the same cluster), as a delta with
/// `current`'s time and version and the given `id`. Applied to the state `previous` left in
/// central, it gives `current`'s findings and workloads.
pub fn between(previous: &Snapshot, current: &Snapshot, id: String) -> Delta {
    let old = by_object(&previous.findings);
    let new = by_object(&current.findings);
    let known_now = known_objects(current);
    let deleted: Vec<ObjectKey> = known_objects(previous)
        .into_iter()
        .filter(|k| !known_now.contains(k))
        .collect();
    let old_rows: BTreeMap<ObjectKey, &WorkloadRecord> = previous
        .workloads
        .iter()
        .map(|w| (workload_key(&w.id), w))
        .collect();
    let rows: BTreeMap<ObjectKey, &WorkloadRecord> = current
        .workloads
        .iter()
        .map(|w| (workload_key(&w.id), w))
        .collect();

    let mut changed: BTreeSet<&ObjectKey> = old
        .keys()
        .chain(new.keys())
        .copied()
        .filter(|k| known_now.contains(*k) && old.get(*k) != new.get(*k))
        .collect();
    // A workload row carries its open-finding count: a changed row goes with its findings.
    changed.extend(
        rows.iter()
            .filter(|(k, w)| old_rows.get(*k) != Some(*w))
            .map(|(k, _)| k),
    );
    let objects = changed
        .iter()
        .map(|k| ObjectFindings {
            object: (*k).clone(),
            findings: new
                .get(*k)
                .map(|set| set.iter().map(|f| (*f).clone()).collect())
                .unwrap_or_default(),
        })
        .collect();
    let workloads = changed
        .iter()
        .filter_map(|k| rows.get(*k).map(|w| (*w).clone()))
        .collect();
    Delta {
        id,
        scanned_at: current.scanned_at,
        tool_version: current.tool_version.clone(),
        objects,
        workloads,
        deleted,
    }
}

/// Replaces the snapshot's objects by their keys (`kind`, `metadata.namespace`,
/// `metadata.name`): all [`between`] reads of them, for a sender that keeps the last
/// acknowledged snapshot without the objects' bodies.
pub fn keep_object_keys(snapshot: &mut Snapshot) {
    for object in &mut snapshot.objects {
        if let Some(key) = object_key(object) {
            let mut metadata = serde_json::json!({"name": key.name});
            if let Some(ns) = key.namespace {
                metadata["namespace"] = ns.into();
            }
            *object = serde_json::json!({"kind": key.kind, "metadata": metadata}).into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::WorkloadId;
    use palisade_model::finding::Severity;
    use palisade_model::time::Timestamp;
    use serde_json::json;

    fn finding(check: &str, name: &str) -> FindingRecord {
        FindingRecord {
            fingerprint: format!("{check}/{name}"),
            check_id: check.into(),
            severity: Severity::High,
            title: check.into(),
            message: check.into(),
            object: ObjectKey {
                kind: "Deployment".into(),
                namespace: Some("ns".into()),
                name: name.into(),
            },
            container: None,
            path: None,
        }
    }

    fn workload(name: &str, score: u32) -> WorkloadRecord {
        WorkloadRecord {
            id: WorkloadId::new("ns", "Deployment", name),
            labels: Default::default(),
            service_account: None,
            images: vec![],
            risk: Some(palisade_api::RiskRecord {
                score,
                rank: 1,
                factors: vec![],
            }),
            owner: None,
        }
    }

    fn snapshot(workloads: Vec<WorkloadRecord>, findings: Vec<FindingRecord>) -> Snapshot {
        Snapshot {
            id: "s".into(),
            scanned_at: Timestamp::from_unix_secs(1),
            tool_version: "t".into(),
            source: "cluster".into(),
            objects: workloads
                .iter()
                .map(|w| json!({"kind": "Deployment", "metadata": {"namespace": "ns", "name": w.id.name}}).into())
                .collect(),
            workloads,
            findings,
            images: vec![],
            diagnostics: vec![],
        }
    }

    #[test]
    fn only_changed_objects_are_sent_with_their_whole_sets() {
        let before = snapshot(
            vec![workload("a", 1), workload("b", 1), workload("c", 1)],
            vec![finding("X", "a"), finding("Y", "a"), finding("X", "b")],
        );
        let after = snapshot(
            vec![workload("a", 1), workload("b", 5), workload("d", 1)],
            vec![finding("X", "a"), finding("X", "b"), finding("Z", "d")],
        );
        let d = between(&before, &after, "d1".into());
        let names = |keys: Vec<&ObjectKey>| keys.iter().map(|k| k.name.clone()).collect::<Vec<_>>();
        // a lost Y; b's row changed (risk); d is new; c is gone.
        assert_eq!(
            names(d.objects.iter().map(|o| &o.object).collect()),
            ["a", "b", "d"]
        );
        assert_eq!(d.objects[0].findings, [finding("X", "a")]);
        assert_eq!(
            d.workloads
                .iter()
                .map(|w| w.id.name.as_str())
                .collect::<Vec<_>>(),
            ["a", "b", "d"]
        );
        assert_eq!(names(d.deleted.iter().collect()), ["c"]);
        assert!(between(&after, &after, "d2".into()).is_empty());
        let mut slim = before.clone();
        keep_object_keys(&mut slim);
        assert_eq!(between(&slim, &after, "d3".into()).deleted, d.deleted);
        assert_eq!(between(&slim, &after, "d3".into()).objects, d.objects);
    }
}
