//! A snapshot whose findings stay as the analysis made them until they are written: the
//! records (`palisade_api::FindingRecord`) of a 100,000-workload cluster's two million findings
//! take about twice the memory of the findings, whose check, title and object texts are shared.
//! `palisade sensor run` sends its snapshots this way: each record is made as the stream
//! writes it, and the acknowledged state's digests are taken from the findings
//! ([`crate::delta::AsRecord`]).

use std::cmp::Ordering;
use std::io::{self, Write};

use palisade_api::Snapshot;
use palisade_model::{Finding, Severity};

use crate::delta::AsRecord;

/// A snapshot without finding records, and the findings they are made from.
#[derive(Debug, Clone)]
pub struct PendingSnapshot {
    /// The snapshot; its `findings` stay empty.
    snapshot: Snapshot,
    /// The findings, in [`palisade_api::FindingRecord::storage_order`].
    findings: Vec<Finding>,
}

/// The order of the findings' records in a snapshot stream
/// ([`palisade_api::FindingRecord::storage_order`]), without making the records.
fn storage_cmp(a: &Finding, b: &Finding) -> Ordering {
    fn head(f: &Finding) -> (u8, &str, &str, &str, &str) {
        let o = &f.object;
        (
            Severity::Critical as u8 - f.severity as u8,
            o.namespace.as_deref().unwrap_or(""),
            &o.kind,
            &o.name,
            &f.check_id,
        )
    }
    head(a).cmp(&head(b)).then_with(|| a.cmp_fingerprint(b))
}

impl PendingSnapshot {
    /// `snapshot` (its own findings dropped) with `findings` in their place.
    pub fn new(mut snapshot: Snapshot, mut findings: Vec<Finding>) -> PendingSnapshot {
        snapshot.findings = Vec::new();
        palisade_checks::sort_findings_by(&mut findings, storage_cmp);
        PendingSnapshot { snapshot, findings }
    }

    /// The snapshot without its findings.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The findings, in the order the stream writes them.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The snapshot and its findings, apart.
    pub fn into_parts(self) -> (Snapshot, Vec<Finding>) {
        (self.snapshot, self.findings)
    }

    /// The whole snapshot, with every record made.
    pub fn into_snapshot(self) -> Snapshot {
        let mut snapshot = self.snapshot;
        snapshot.findings = self
            .findings
            .into_iter()
            .map(crate::snapshot::finding_record)
            .collect();
        snapshot
    }

    /// Writes the snapshot as a stream (`palisade_api::stream`), each record made as it is
    /// written: what [`palisade_api::stream::write_snapshot`] writes of
    /// [`PendingSnapshot::into_snapshot`].
    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        palisade_api::stream::write_snapshot_with(
            out,
            &self.snapshot,
            self.findings.len(),
            self.findings.iter().map(AsRecord::record),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use palisade_model::meta::{ObjectRef, SourceLocation};
    use palisade_model::time::Timestamp;

    use super::*;

    fn finding(
        severity: Severity,
        check: &str,
        namespace: Option<&str>,
        name: &str,
        container: Option<&str>,
    ) -> Finding {
        Finding {
            check_id: check.into(),
            severity,
            title: "t".into(),
            message: format!("{check} on {name}"),
            remediation: "r".into(),
            object: Arc::new(ObjectRef {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: namespace.map(String::from),
                name: name.into(),
                source: SourceLocation::new("f.yaml", 1),
            }),
            container: container.map(Arc::from),
            path: None,
        }
    }

    #[test]
    fn the_stream_is_the_one_of_the_whole_snapshot() {
        use Severity::*;
        let findings = vec![
            finding(Low, "PAL-1", Some("b"), "p", None),
            finding(Critical, "PAL-1", Some("b"), "p", None),
            finding(High, "PAL-10", Some("a"), "p", None),
            finding(High, "PAL-1", Some("a"), "p", Some("x")),
            finding(High, "PAL-1", Some("a"), "p", None),
            // Equal fingerprints keep their order.
            finding(High, "PAL-1", Some("a"), "p", None),
            finding(Info, "PAL-3", None, "cluster-wide", None),
        ];
        let mut findings_twin = findings.clone();
        findings_twin[5].message.push_str(" again");
        let snapshot = Snapshot {
            id: "s".into(),
            scanned_at: Timestamp::from_unix_secs(1),
            tool_version: "t".into(),
            source: "cluster".into(),
            workloads: vec![],
            findings: vec![],
            objects: vec![],
            images: vec![],
            diagnostics: vec![],
        };
        let pending = PendingSnapshot::new(snapshot, findings_twin);
        let mut streamed = Vec::new();
        pending.write(&mut streamed).unwrap();
        let whole = pending.clone().into_snapshot();
        let mut expected = Vec::new();
        palisade_api::stream::write_snapshot(&mut expected, &whole).unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        // Sorted as the stream writes records, ties in their first order.
        let keys: Vec<_> = whole.findings.iter().map(|f| f.storage_order()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let twins: Vec<&str> = whole
            .findings
            .iter()
            .filter(|f| f.message.starts_with("PAL-1 on p") && f.container.is_none())
            .filter(|f| f.severity == High)
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(twins, ["PAL-1 on p", "PAL-1 on p again"]);
    }
}
