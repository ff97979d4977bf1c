//! The difference of two states of one cluster as a central delta (`palisade_api::Delta`,
//! what `palisade sensor run` sends between full snapshots): the objects whose finding sets
//! changed, each with its whole new set; the workload rows that changed; the objects gone.
//!
//! The earlier state is what central acknowledged, kept by the sender as [`Acknowledged`]: the
//! workload rows, and per object only a digest of its finding set. Sets are compared by digest
//! and sent whole from the current state, so the sender never holds the earlier findings.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;

use palisade_api::delta::workload_key;
use palisade_api::{
    Delta, FindingRecord, ObjectFindings, ObjectKey, RawObject, Snapshot, WorkloadRecord,
};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// The digest of one object's finding set: SHA-256, cut to 128 bits, of its records' JSON
/// texts in fingerprint order (equal fingerprints in their order), one per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetDigest([u8; 16]);

impl SetDigest {
    /// The digest of `set`, already in fingerprint order.
    pub fn of<'a>(set: impl IntoIterator<Item = &'a FindingRecord>) -> SetDigest {
        /// Feeds what is written to the hash.
        struct Hashing(Sha256);
        impl io::Write for Hashing {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.update(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut hashing = Hashing(Sha256::new());
        for f in set {
            // A record of strings and enums always serializes, and the writer cannot fail.
            let _ = serde_json::to_writer(&mut hashing, f);
            hashing.0.update(b"\n");
        }
        let full = hashing.0.finalize();
        let mut out = [0; 16];
        out.copy_from_slice(&full[..16]);
        SetDigest(out)
    }
}

/// Findings by object, each set ordered by fingerprint (equal ones in their order).
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
fn known_objects(s: &Snapshot) -> HashSet<ObjectKey> {
    s.objects
        .iter()
        .filter_map(object_key)
        .chain(s.workloads.iter().map(|w| workload_key(&w.id)))
        .chain(s.findings.iter().map(|f| f.object.clone()))
        .collect()
}

/// What central acknowledged last, as a sender keeps it: the snapshot's identity and workload
/// rows, and every object it knows with the digest of its finding set. A 100,000-workload
/// cluster's two million findings are not held twice.
pub struct Acknowledged {
    /// The snapshot without its findings and objects.
    snapshot: Snapshot,
    /// Every object known, with its finding set's digest (`None`: no findings).
    objects: HashMap<ObjectKey, Option<SetDigest>>,
}

impl Acknowledged {
    /// The state a snapshot central acknowledged leaves.
    pub fn new(mut snapshot: Snapshot) -> Acknowledged {
        let mut objects: HashMap<ObjectKey, Option<SetDigest>> =
            std::mem::take(&mut snapshot.objects)
                .iter()
                .filter_map(object_key)
                .map(|k| (k, None))
                .collect();
        for w in &snapshot.workloads {
            objects.entry(workload_key(&w.id)).or_insert(None);
        }
        let findings = std::mem::take(&mut snapshot.findings);
        let digests: Vec<(&ObjectKey, SetDigest)> = by_object(&findings)
            .into_par_iter()
            .map(|(k, set)| (k, SetDigest::of(set)))
            .collect();
        for (k, d) in digests {
            objects.insert(k.clone(), Some(d));
        }
        objects.shrink_to_fit();
        Acknowledged { snapshot, objects }
    }

    /// The snapshot's workload rows and identity; no findings, no objects.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The digest of `object`'s finding set (`None`: no findings, or not known).
    pub fn digest_of(&self, object: &ObjectKey) -> Option<SetDigest> {
        self.objects.get(object).copied().flatten()
    }

    /// What changed from this state to `current` (the same cluster), as a delta with
    /// `current`'s time and version and the given `id`: applied to the state central holds, it
    /// gives `current`'s findings and workloads.
    pub fn delta_to(&self, current: &Snapshot, id: String) -> Delta {
        let new: Vec<(&ObjectKey, Vec<&FindingRecord>, SetDigest)> = by_object(&current.findings)
            .into_par_iter()
            .map(|(k, set)| {
                let digest = SetDigest::of(set.iter().copied());
                (k, set, digest)
            })
            .collect();
        let known_now = known_objects(current);
        let mut deleted: Vec<ObjectKey> = self
            .objects
            .keys()
            .filter(|k| !known_now.contains(*k))
            .cloned()
            .collect();
        deleted.sort();
        let old_rows: HashMap<ObjectKey, &WorkloadRecord> = self
            .snapshot
            .workloads
            .iter()
            .map(|w| (workload_key(&w.id), w))
            .collect();

        let mut changed: BTreeMap<ObjectKey, Vec<&FindingRecord>> = BTreeMap::new();
        let now_with_findings: HashSet<&ObjectKey> = new.iter().map(|(k, ..)| *k).collect();
        for (k, set, digest) in new {
            if self.digest_of(k) != Some(digest) {
                changed.insert(k.clone(), set);
            }
        }
        // Findings gone from objects still there.
        for (k, digest) in &self.objects {
            if digest.is_some() && known_now.contains(k) && !now_with_findings.contains(k) {
                changed.insert(k.clone(), Vec::new());
            }
        }
        let mut rows: Vec<(ObjectKey, &WorkloadRecord)> = current
            .workloads
            .iter()
            .map(|w| (workload_key(&w.id), w))
            .filter(|(k, w)| old_rows.get(k) != Some(w))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        // A new workload's row goes with its object: central counts the listed set.
        for (k, _) in &rows {
            if !old_rows.contains_key(k) && !changed.contains_key(k) {
                changed.insert(k.clone(), Vec::new());
            }
        }
        Delta {
            id,
            scanned_at: current.scanned_at,
            tool_version: current.tool_version.clone(),
            objects: changed
                .into_iter()
                .map(|(k, set)| ObjectFindings {
                    object: k,
                    findings: set.into_iter().cloned().collect(),
                })
                .collect(),
            workloads: rows.into_iter().map(|(_, w)| w.clone()).collect(),
            deleted,
        }
    }

    /// Applies an acknowledged `delta` (the sender's copy of what central has): findings of its
    /// objects replaced, its rows replaced or added, deleted objects and their rows removed.
    pub fn apply(&mut self, delta: Delta) {
        for key in &delta.deleted {
            self.objects.remove(key);
        }
        for o in delta.objects {
            let mut set: Vec<&FindingRecord> = o.findings.iter().collect();
            set.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
            let digest = (!set.is_empty()).then(|| SetDigest::of(set));
            self.objects.insert(o.object, digest);
        }
        let deleted: HashSet<&ObjectKey> = delta.deleted.iter().collect();
        let mut rows: HashMap<ObjectKey, WorkloadRecord> = delta
            .workloads
            .into_iter()
            .map(|w| (workload_key(&w.id), w))
            .collect();
        self.snapshot.workloads.retain_mut(|w| {
            let key = workload_key(&w.id);
            if let Some(new) = rows.remove(&key) {
                *w = new;
            }
            !deleted.contains(&key)
        });
        let mut added: Vec<WorkloadRecord> = rows.into_values().collect();
        added.sort_by_key(|w| workload_key(&w.id));
        for w in &added {
            self.objects.entry(workload_key(&w.id)).or_insert(None);
        }
        self.snapshot.workloads.extend(added);
        self.snapshot.id = delta.id;
        self.snapshot.scanned_at = delta.scanned_at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What changed from `previous` to `current`, as a sender that acknowledged `previous`
    /// sends it.
    fn between(previous: &Snapshot, current: &Snapshot, id: String) -> Delta {
        Acknowledged::new(previous.clone()).delta_to(current, id)
    }
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
        // a lost Y; b's row changed (risk) but not its findings; d is new; c is gone.
        assert_eq!(
            names(d.objects.iter().map(|o| &o.object).collect()),
            ["a", "d"]
        );
        assert_eq!(d.objects[0].findings, [finding("X", "a")]);
        assert_eq!(d.objects[1].findings, [finding("Z", "d")]);
        assert_eq!(
            d.workloads
                .iter()
                .map(|w| w.id.name.as_str())
                .collect::<Vec<_>>(),
            ["b", "d"]
        );
        assert_eq!(names(d.deleted.iter().collect()), ["c"]);
        assert!(between(&after, &after, "d2".into()).is_empty());

        // Applied, the acknowledged state has nothing left to send.
        let mut state = Acknowledged::new(before.clone());
        state.apply(d);
        assert!(state.delta_to(&after, "d3".into()).is_empty());
    }

    #[test]
    fn findings_gone_from_a_kept_object_and_a_new_empty_workload_are_sent() {
        let before = snapshot(vec![workload("a", 1)], vec![finding("X", "a")]);
        let after = snapshot(vec![workload("a", 1), workload("e", 1)], vec![]);
        let d = between(&before, &after, "d1".into());
        let sets: Vec<(&str, usize)> = d
            .objects
            .iter()
            .map(|o| (o.object.name.as_str(), o.findings.len()))
            .collect();
        assert_eq!(sets, [("a", 0), ("e", 0)]);
        assert_eq!(d.workloads.len(), 1);
        assert!(d.deleted.is_empty());
    }

    #[test]
    fn the_digest_tells_sets_apart_and_ignores_nothing() {
        let (x, y) = (finding("X", "a"), finding("Y", "a"));
        assert_eq!(SetDigest::of([&x, &y]), SetDigest::of([&x, &y]));
        assert_ne!(SetDigest::of([&x, &y]), SetDigest::of([&x]));
        let mut z = x.clone();
        z.message.push('!');
        assert_ne!(SetDigest::of([&x]), SetDigest::of([&z]));
        assert_ne!(SetDigest::of([&x]), SetDigest::of([]));
    }
}
