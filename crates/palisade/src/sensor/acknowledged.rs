//! What central acknowledged last, as the sensor keeps it: the snapshot's workload rows and
//! object keys, and per object the JSON text of its finding set (ordered by fingerprint)
//! instead of a record per finding — the sets are compared and re-sent whole, rarely read.

use std::collections::{HashMap, HashSet};

use palisade_api::delta::workload_key;
use palisade_api::{Delta, FindingRecord, ObjectKey, Snapshot, WorkloadRecord};

/// The acknowledged state (see the module documentation).
pub struct Acknowledged {
    /// The snapshot without its findings, objects as keys only.
    snapshot: Snapshot,
    /// Each object's findings, as the JSON text of its set ordered by fingerprint.
    findings: HashMap<ObjectKey, Box<str>>,
}

/// The text of a finding set.
fn text(set: &[FindingRecord]) -> Box<str> {
    serde_json::to_string(set)
        .unwrap_or_else(|_| "[]".into())
        .into_boxed_str()
}

impl Acknowledged {
    /// The state a snapshot central acknowledged leaves (its findings freed as their sets are
    /// written).
    pub fn new(mut snapshot: Snapshot) -> Acknowledged {
        palisade_report::delta::keep_object_keys(&mut snapshot);
        let records = std::mem::take(&mut snapshot.findings);
        // By object, each set ordered by fingerprint, equal fingerprints in their order (as
        // `palisade_report::delta` orders them). The positions are sorted, not the records: a
        // stable sort of the records would take scratch space for half of them, at the moment
        // the sensor's memory peaks. Each set's records are freed once its text is written.
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_unstable_by(|&i, &j| {
            let (a, b) = (&records[i], &records[j]);
            (&a.object, &a.fingerprint, i).cmp(&(&b.object, &b.fingerprint, j))
        });
        let mut slots: Vec<Option<FindingRecord>> = records.into_iter().map(Some).collect();
        let mut findings: HashMap<ObjectKey, Box<str>> = HashMap::new();
        let mut set: Vec<FindingRecord> = Vec::new();
        for f in order.into_iter().filter_map(|i| slots[i].take()) {
            if set.first().is_some_and(|first| first.object != f.object) {
                let done = std::mem::take(&mut set);
                findings.insert(done[0].object.clone(), text(&done));
            }
            set.push(f);
        }
        if let Some(first) = set.first() {
            findings.insert(first.object.clone(), text(&set));
        }
        findings.shrink_to_fit();
        Acknowledged { snapshot, findings }
    }

    /// The snapshot's workload rows, objects (keys only) and identity; no findings.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The findings of `object`, ordered by fingerprint (empty: none).
    pub fn findings_of(&self, object: &ObjectKey) -> Vec<FindingRecord> {
        self.findings
            .get(object)
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }

    /// The acknowledged snapshot whole again (objects as keys only), for
    /// `palisade_report::delta::between`.
    pub fn to_snapshot(&self) -> Snapshot {
        let mut out = Snapshot {
            findings: Vec::new(),
            ..self.snapshot.clone()
        };
        for key in self.findings.keys() {
            out.findings.extend(self.findings_of(key));
        }
        out
    }

    /// Applies an acknowledged `delta` (the sender's copy of what central has): findings of its
    /// objects replaced, its rows replaced or added, deleted objects' findings and rows removed.
    pub fn apply(&mut self, delta: Delta) {
        for key in &delta.deleted {
            self.findings.remove(key);
        }
        for o in delta.objects {
            let mut set = o.findings;
            if set.is_empty() {
                self.findings.remove(&o.object);
            } else {
                set.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
                self.findings.insert(o.object, text(&set));
            }
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
        self.snapshot.workloads.extend(rows.into_values());
        self.snapshot.id = delta.id;
        self.snapshot.scanned_at = delta.scanned_at;
    }
}
