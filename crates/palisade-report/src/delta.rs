//! The difference of two states of one cluster as a central delta (`palisade_api::Delta`,
//! what `palisade sensor run` sends between full snapshots): the objects whose finding sets
//! changed, each with its whole new set; the workload rows that changed; the objects gone.
//!
//! The earlier state is what central acknowledged, kept by the sender as [`Acknowledged`]: the
//! workload rows, and per object only a digest of its finding set. Sets are compared by digest
//! and sent whole from the current state, so the sender never holds the earlier findings.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use palisade_api::delta::workload_key;
use palisade_api::{
    Delta, FindingRecord, ObjectFindings, ObjectKey, RawObject, Snapshot, WorkloadRecord,
};
use palisade_model::Finding;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// A finding as a snapshot records it: a record itself, or an analysis' finding whose record
/// is made only when asked (a sender need not hold every record to compare or send them).
pub trait AsRecord: Sync {
    /// The object: kind, namespace, name.
    fn object_parts(&self) -> (&str, Option<&str>, &str);
    /// Orders by the records' fingerprints.
    fn cmp_fingerprint(&self, other: &Self) -> Ordering;
    /// The record's fingerprint.
    fn fingerprint(&self) -> impl std::fmt::Display + '_;
    /// The record's other texts.
    fn texts(&self) -> RecordTexts<'_>;
    /// The record.
    fn record(&self) -> Cow<'_, FindingRecord>;
}

/// A record's texts besides its fingerprint and object.
pub struct RecordTexts<'a> {
    /// Check id.
    pub check_id: &'a str,
    /// Severity.
    pub severity: palisade_model::Severity,
    /// Check title.
    pub title: &'a str,
    /// What was found.
    pub message: &'a str,
    /// Container concerned.
    pub container: Option<&'a str>,
    /// Field path concerned.
    pub path: Option<&'a str>,
}

/// The [`RecordTexts`] of a record or a finding (their fields have the same names).
macro_rules! texts_of {
    ($r:expr) => {
        RecordTexts {
            check_id: &$r.check_id,
            severity: $r.severity,
            title: &$r.title,
            message: &$r.message,
            container: $r.container.as_deref(),
            path: $r.path.as_deref(),
        }
    };
}

impl AsRecord for FindingRecord {
    fn object_parts(&self) -> (&str, Option<&str>, &str) {
        let o = &self.object;
        (&o.kind, o.namespace.as_deref(), &o.name)
    }
    fn cmp_fingerprint(&self, other: &Self) -> Ordering {
        self.fingerprint.cmp(&other.fingerprint)
    }
    fn fingerprint(&self) -> impl std::fmt::Display + '_ {
        &self.fingerprint
    }
    fn texts(&self) -> RecordTexts<'_> {
        texts_of!(self)
    }
    fn record(&self) -> Cow<'_, FindingRecord> {
        Cow::Borrowed(self)
    }
}

impl AsRecord for Finding {
    fn object_parts(&self) -> (&str, Option<&str>, &str) {
        let o = &self.object;
        (&o.kind, o.namespace.as_deref(), &o.name)
    }
    fn cmp_fingerprint(&self, other: &Self) -> Ordering {
        Finding::cmp_fingerprint(self, other)
    }
    fn fingerprint(&self) -> impl std::fmt::Display + '_ {
        self.fingerprint_display()
    }
    fn texts(&self) -> RecordTexts<'_> {
        texts_of!(self)
    }
    fn record(&self) -> Cow<'_, FindingRecord> {
        Cow::Owned(crate::snapshot::finding_record(self.clone()))
    }
}

/// Feeds one finding set's records to SHA-256, field by field: each text as its length (8
/// bytes, little-endian) and its bytes, an optional one behind a byte saying whether it is
/// there, the severity as its name. The same records in the same order give the same digest,
/// whether they are records or findings.
struct SetHasher {
    hash: Sha256,
    scratch: String,
}

impl SetHasher {
    fn field(&mut self, text: &str) {
        self.hash.update((text.len() as u64).to_le_bytes());
        self.hash.update(text.as_bytes());
    }

    fn optional(&mut self, text: Option<&str>) {
        match text {
            None => self.hash.update([0]),
            Some(t) => {
                self.hash.update([1]);
                self.field(t);
            }
        }
    }

    /// One record: fingerprint, check, severity, title, message, object, container, path.
    fn record<R: AsRecord>(&mut self, r: &R) {
        use std::fmt::Write;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        // Writing into a String cannot fail.
        let _ = write!(scratch, "{}", r.fingerprint());
        self.field(&scratch);
        self.scratch = scratch;
        let t = r.texts();
        self.field(t.check_id);
        self.field(t.severity.as_str());
        self.field(t.title);
        self.field(t.message);
        let (kind, namespace, name) = r.object_parts();
        self.field(kind);
        self.optional(namespace);
        self.field(name);
        self.optional(t.container);
        self.optional(t.path);
    }
}

/// The digest of one object's finding set: SHA-256, cut to 128 bits, of its records' fields in
/// fingerprint order (equal fingerprints in their order), each text as its length (8 bytes,
/// little-endian) and its bytes, an optional one behind a byte saying whether it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetDigest([u8; 16]);

impl SetDigest {
    /// The digest of `set`, already in fingerprint order.
    pub fn of<'a, R: AsRecord + 'a>(set: impl IntoIterator<Item = &'a R>) -> SetDigest {
        let mut hasher = SetHasher {
            hash: Sha256::new(),
            scratch: String::new(),
        };
        for f in set {
            hasher.record(f);
        }
        let full = hasher.hash.finalize();
        let mut out = [0; 16];
        out.copy_from_slice(&full[..16]);
        SetDigest(out)
    }
}

/// An object as [`AsRecord::object_parts`] gives it.
type Parts<'a> = (&'a str, Option<&'a str>, &'a str);

/// The key of an object's parts.
fn key_of((kind, namespace, name): Parts<'_>) -> ObjectKey {
    ObjectKey {
        kind: kind.to_string(),
        namespace: namespace.map(str::to_string),
        name: name.to_string(),
    }
}

/// Findings by object, each set ordered by fingerprint (equal ones in their order).
fn by_object<R: AsRecord>(findings: &[R]) -> Vec<(Parts<'_>, Vec<&R>)> {
    let mut out: HashMap<Parts<'_>, Vec<&R>> = HashMap::new();
    for f in findings {
        out.entry(f.object_parts()).or_default().push(f);
    }
    let mut out: Vec<(Parts<'_>, Vec<&R>)> = out.into_iter().collect();
    out.par_iter_mut()
        .for_each(|(_, set)| set.sort_by(|a, b| a.cmp_fingerprint(b)));
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

/// Every object a snapshot knows: its objects, its workloads and the objects of `findings`
/// (its own, or those given apart from it).
fn known_objects<R: AsRecord>(s: &Snapshot, findings: &[R]) -> HashSet<ObjectKey> {
    s.objects
        .iter()
        .filter_map(object_key)
        .chain(s.workloads.iter().map(|w| workload_key(&w.id)))
        .chain(findings.iter().map(|f| key_of(f.object_parts())))
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
    /// The state central holds once it acknowledges `snapshot` with `findings` given apart
    /// (`snapshot.findings` is not read). Borrows both, so a sender can make it while the
    /// snapshot is still being sent.
    pub fn of<R: AsRecord>(snapshot: &Snapshot, findings: &[R]) -> Acknowledged {
        let kept = Snapshot {
            id: snapshot.id.clone(),
            scanned_at: snapshot.scanned_at,
            tool_version: snapshot.tool_version.clone(),
            source: snapshot.source.clone(),
            workloads: snapshot.workloads.clone(),
            findings: Vec::new(),
            objects: Vec::new(),
            images: snapshot.images.clone(),
            diagnostics: snapshot.diagnostics.clone(),
        };
        let mut objects: HashMap<ObjectKey, Option<SetDigest>> = snapshot
            .objects
            .par_iter()
            .filter_map(object_key)
            .map(|k| (k, None))
            .collect();
        for w in &kept.workloads {
            objects.entry(workload_key(&w.id)).or_insert(None);
        }
        let digests: Vec<(ObjectKey, SetDigest)> = by_object(findings)
            .into_par_iter()
            .map(|(k, set)| (key_of(k), SetDigest::of(set)))
            .collect();
        for (k, d) in digests {
            objects.insert(k, Some(d));
        }
        objects.shrink_to_fit();
        Acknowledged {
            snapshot: kept,
            objects,
        }
    }

    /// The snapshot's workload rows and identity; no findings, no objects.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The digest of `object`'s finding set (`None`: no findings, or not known).
    pub fn digest_of(&self, object: &ObjectKey) -> Option<SetDigest> {
        self.objects.get(object).copied().flatten()
    }

    /// What changed from this state to `current` (the same cluster) with its `findings` given
    /// apart (`current.findings` is not read), as a delta with `current`'s time and version and
    /// the given `id`: applied to the state central holds, it gives `current`'s findings and
    /// workloads. Only the records of changed sets are made.
    pub fn delta_with<R: AsRecord>(&self, current: &Snapshot, findings: &[R], id: String) -> Delta {
        // The sets whose digest changed, as records; and every object with findings now.
        let new: Vec<(ObjectKey, Option<Vec<FindingRecord>>)> = by_object(findings)
            .into_par_iter()
            .map(|(k, set)| {
                let key = key_of(k);
                let changed = self.digest_of(&key) != Some(SetDigest::of(set.iter().copied()));
                let records = changed.then(|| {
                    set.iter()
                        .map(|f| f.record().into_owned())
                        .collect::<Vec<_>>()
                });
                (key, records)
            })
            .collect();
        let known_now = known_objects(current, findings);
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

        let now_with_findings: HashSet<&ObjectKey> = new.iter().map(|(k, _)| k).collect();
        // Findings gone from objects still there: their sets are now empty.
        let emptied: Vec<ObjectKey> = self
            .objects
            .iter()
            .filter(|(k, digest)| {
                digest.is_some() && known_now.contains(*k) && !now_with_findings.contains(*k)
            })
            .map(|(k, _)| k.clone())
            .collect();
        let mut changed: BTreeMap<ObjectKey, Vec<FindingRecord>> = new
            .into_iter()
            .filter_map(|(k, records)| Some((k, records?)))
            .chain(emptied.into_iter().map(|k| (k, Vec::new())))
            .collect();
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
                .map(|(k, findings)| ObjectFindings {
                    object: k,
                    findings,
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

/// The snapshot-with-records forms, which only tests use (the sensor keeps findings apart).
#[cfg(test)]
impl Acknowledged {
    /// The state a snapshot central acknowledged leaves.
    fn new(snapshot: Snapshot) -> Acknowledged {
        Acknowledged::of(&snapshot, &snapshot.findings)
    }

    /// [`Acknowledged::delta_with`] of `current`'s own findings.
    fn delta_to(&self, current: &Snapshot, id: String) -> Delta {
        self.delta_with(current, &current.findings, id)
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
        assert_ne!(SetDigest::of([&x]), SetDigest::of::<FindingRecord>([]));
        // A field's end is part of the digest: text moved from one field to the next counts.
        let (mut a, mut b) = (x.clone(), x.clone());
        (a.title, a.message) = ("ab".into(), "".into());
        (b.title, b.message) = ("a".into(), "b".into());
        assert_ne!(SetDigest::of([&a]), SetDigest::of([&b]));
        let mut c = x.clone();
        c.container = Some(String::new());
        assert_ne!(SetDigest::of([&x]), SetDigest::of([&c]));
    }

    /// An analysis' finding about `name` (namespace `ns`), of `check`, on `container`.
    fn analysis_finding(check: &str, name: &str, container: Option<&str>) -> Finding {
        Finding {
            check_id: check.into(),
            severity: Severity::Medium,
            title: format!("{check} title").into(),
            message: format!("{check} on {name}"),
            remediation: "r".into(),
            object: std::sync::Arc::new(palisade_model::meta::ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: Some("ns".into()),
                name: name.into(),
                source: palisade_model::meta::SourceLocation::new("f.yaml", 1),
            }),
            container: container.map(std::sync::Arc::from),
            path: Some("spec".into()),
        }
    }

    #[test]
    fn findings_given_apart_give_the_digests_and_deltas_of_their_records() {
        let findings = vec![
            analysis_finding("PAL-10", "a", None),
            analysis_finding("PAL-1", "a", Some("c")),
            analysis_finding("PAL-1", "a", None),
            analysis_finding("PAL-2", "b", None),
        ];
        let records: Vec<FindingRecord> = findings
            .iter()
            .map(|f| crate::snapshot::finding_record(f.clone()))
            .collect();
        assert_eq!(SetDigest::of(&findings), SetDigest::of(&records));

        let before = snapshot(vec![workload("a", 1), workload("b", 1)], vec![]);
        let after = snapshot(
            vec![workload("a", 1), workload("b", 2), workload("d", 1)],
            records.clone(),
        );
        let mut bare = after.clone();
        bare.findings.clear();
        let state = Acknowledged::new(before.clone());
        let d = state.delta_with(&bare, &findings, "d1".into());
        assert_eq!(d, state.delta_to(&after, "d1".into()));
        // Both sets went whole, each in fingerprint order.
        let a = &d.objects[0];
        let fingerprints: Vec<&str> = a.findings.iter().map(|f| f.fingerprint.as_str()).collect();
        let mut sorted = fingerprints.clone();
        sorted.sort();
        assert_eq!((a.object.name.as_str(), fingerprints.len()), ("a", 3));
        assert_eq!(fingerprints, sorted);

        // The state made from the findings equals the one made from their records.
        let from_findings = Acknowledged::of(&bare, &findings);
        assert!(from_findings.delta_to(&after, "d2".into()).is_empty());
        let from_records = Acknowledged::new(after.clone());
        assert!(
            from_records
                .delta_with(&bare, &findings, "d3".into())
                .is_empty()
        );
    }
}
