//! A [`Snapshot`] as a stream of lines (`application/x-ndjson`), for snapshots too large to
//! send, parse and hold as one JSON document.
//!
//! The body of `POST /api/v1/clusters/{cluster}/snapshots` with `Content-Type:
//! application/x-ndjson` is one JSON object per line (each line ends with `\n`):
//!
//! 1. the [`SnapshotHeader`] as `{"header": {…}}` — the snapshot's id, when it was scanned and
//!    how many records of each kind follow;
//! 2. then the records, each `{"KIND": RECORD}` with KIND one of `finding`, `object`,
//!    `diagnostic`, `workload`, `image` ([`SnapshotLine`]), in any order.
//!
//! Central writes the records into one transaction while the rest of the body is still
//! arriving, and commits only once the body has ended and every count in the header matched:
//! a stream cut short, a bad line (400 naming the line) or a wrong count stores nothing. A line
//! is limited like a whole JSON body; the stream as a whole has a limit of its own.
//! [`write_snapshot`] writes the findings in [`FindingRecord::storage_order`], the order
//! central's indexes keep them in, so its B-trees grow at their ends.

use std::io::{self, Write};

use palisade_model::finding::Severity;
use palisade_model::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{FindingRecord, ImageRecord, RawObject, Snapshot, WorkloadRecord};

/// The media type of a snapshot stream.
pub const CONTENT_TYPE: &str = "application/x-ndjson";

/// The first line of a snapshot stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotHeader {
    /// [`Snapshot::id`].
    pub id: String,
    /// [`Snapshot::scanned_at`].
    pub scanned_at: Timestamp,
    /// [`Snapshot::tool_version`].
    pub tool_version: String,
    /// [`Snapshot::source`].
    pub source: String,
    /// How many records of each kind the stream carries.
    pub counts: SnapshotCounts,
}

/// Records of each kind in a snapshot.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct SnapshotCounts {
    /// Workload records.
    pub workloads: u64,
    /// Finding records.
    pub findings: u64,
    /// Image records.
    pub images: u64,
    /// Kubernetes objects.
    pub objects: u64,
    /// Diagnostics.
    pub diagnostics: u64,
}

impl SnapshotCounts {
    /// The counts of `snapshot`.
    pub fn of(snapshot: &Snapshot) -> SnapshotCounts {
        SnapshotCounts {
            workloads: snapshot.workloads.len() as u64,
            findings: snapshot.findings.len() as u64,
            images: snapshot.images.len() as u64,
            objects: snapshot.objects.len() as u64,
            diagnostics: snapshot.diagnostics.len() as u64,
        }
    }

    /// All records.
    pub fn total(&self) -> u64 {
        self.workloads + self.findings + self.images + self.objects + self.diagnostics
    }
}

impl SnapshotHeader {
    /// The header of `snapshot`.
    pub fn of(snapshot: &Snapshot) -> SnapshotHeader {
        SnapshotHeader {
            id: snapshot.id.clone(),
            scanned_at: snapshot.scanned_at,
            tool_version: snapshot.tool_version.clone(),
            source: snapshot.source.clone(),
            counts: SnapshotCounts::of(snapshot),
        }
    }
}

/// One line of a snapshot stream.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SnapshotLine {
    /// The first line.
    Header(SnapshotHeader),
    /// A finding.
    Finding(FindingRecord),
    /// A Kubernetes object (kept in the order of the stream).
    Object(RawObject),
    /// A diagnostic (kept in the order of the stream).
    Diagnostic(palisade_model::Diagnostic),
    /// A workload.
    Workload(WorkloadRecord),
    /// An image.
    Image(ImageRecord),
}

impl FindingRecord {
    /// The order central keeps findings in: most severe first, then by object (namespace, kind,
    /// name), check and fingerprint. Sent in this order, they extend central's indexes at
    /// their ends instead of landing on random pages.
    pub fn storage_order(&self) -> (u8, &str, &str, &str, &str, &str) {
        let rank = match self.severity {
            Severity::Critical => 0,
            Severity::High => 1,
            Severity::Medium => 2,
            Severity::Low => 3,
            Severity::Info => 4,
        };
        (
            rank,
            self.object.namespace.as_deref().unwrap_or(""),
            &self.object.kind,
            &self.object.name,
            &self.check_id,
            &self.fingerprint,
        )
    }
}

/// Writes `snapshot` as a stream: the header, the findings in
/// [`FindingRecord::storage_order`], then objects, diagnostics, workloads and images.
pub fn write_snapshot(out: &mut impl Write, snapshot: &Snapshot) -> io::Result<()> {
    let mut findings: Vec<&FindingRecord> = snapshot.findings.iter().collect();
    findings.sort_by(|a, b| a.storage_order().cmp(&b.storage_order()));
    write_snapshot_with(out, snapshot, findings.len(), findings)
}

/// Writes `snapshot` as [`write_snapshot`] does, with its finding records made as they are
/// written: `findings` gives `count` records (in [`FindingRecord::storage_order`], for
/// central's indexes) in place of `snapshot.findings`, which is not read. A sender thus never
/// holds every record at once. Fails, having written `count` in the header, when `findings`
/// gives another number.
pub fn write_snapshot_with<R: std::borrow::Borrow<FindingRecord>>(
    out: &mut impl Write,
    snapshot: &Snapshot,
    count: usize,
    findings: impl IntoIterator<Item = R>,
) -> io::Result<()> {
    let mut header = SnapshotHeader::of(snapshot);
    header.counts.findings = count as u64;
    line(out, "header", &header)?;
    let mut written = 0;
    for finding in findings {
        line(out, "finding", finding.borrow())?;
        written += 1;
    }
    if written != count {
        return Err(io::Error::other(format!(
            "the snapshot stream announced {count} findings and gave {written}"
        )));
    }
    for object in &snapshot.objects {
        line(out, "object", object)?;
    }
    for diagnostic in &snapshot.diagnostics {
        line(out, "diagnostic", diagnostic)?;
    }
    for workload in &snapshot.workloads {
        line(out, "workload", workload)?;
    }
    for image in &snapshot.images {
        line(out, "image", image)?;
    }
    Ok(())
}

/// `{"KIND":RECORD}\n`.
fn line(out: &mut impl Write, kind: &str, record: &impl Serialize) -> io::Result<()> {
    write!(out, "{{\"{kind}\":")?;
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        serde_json::from_value(serde_json::json!({
            "id": "s1", "scanned_at": "2026-12-01T00:00:00Z", "tool_version": "t",
            "source": "manifests",
            "workloads": [{"id": {"namespace": "shop", "kind": "Deployment", "name": "web"}}],
            "findings": [
                {"fingerprint": "b", "check_id": "PAL-1", "severity": "low", "title": "t",
                 "message": "m", "object": {"namespace": "shop", "kind": "Deployment", "name": "web"}},
                {"fingerprint": "a", "check_id": "PAL-2", "severity": "critical", "title": "t",
                 "message": "m\nwith a line break", "object": {"kind": "ClusterRole", "name": "x"}}
            ],
            "objects": [{"kind": "Pod", "metadata": {"name": "p"}}],
            "images": [{"reference": "nginx"}]
        }))
        .unwrap()
    }

    #[test]
    fn a_written_stream_reads_back_line_by_line_with_findings_in_storage_order() {
        let snapshot = snapshot();
        let mut out = Vec::new();
        write_snapshot(&mut out, &snapshot).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with('\n'));
        let lines: Vec<SnapshotLine> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 6, "{text}");
        let SnapshotLine::Header(header) = &lines[0] else {
            panic!("{text}")
        };
        assert_eq!(header, &SnapshotHeader::of(&snapshot));
        assert_eq!(header.counts.total(), 5);
        // Critical before low, whatever the snapshot's order.
        assert_eq!(
            lines[1],
            SnapshotLine::Finding(snapshot.findings[1].clone())
        );
        assert_eq!(
            lines[2],
            SnapshotLine::Finding(snapshot.findings[0].clone())
        );
        assert_eq!(lines[3], SnapshotLine::Object(snapshot.objects[0].clone()));
        assert_eq!(
            lines[4],
            SnapshotLine::Workload(snapshot.workloads[0].clone())
        );
        assert_eq!(lines[5], SnapshotLine::Image(snapshot.images[0].clone()));
    }

    #[test]
    fn findings_given_apart_are_written_in_place_of_the_snapshots_and_counted() {
        let mut bare = snapshot();
        let findings = std::mem::take(&mut bare.findings);
        let mut out = Vec::new();
        write_snapshot_with(&mut out, &bare, 1, &findings[..1]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<SnapshotLine> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let SnapshotLine::Header(header) = &lines[0] else {
            panic!("{text}")
        };
        assert_eq!(header.counts.findings, 1);
        assert_eq!(header.counts.total(), 4);
        assert_eq!(lines[1], SnapshotLine::Finding(findings[0].clone()));
        assert_eq!(lines.len(), 5);

        // A count that the findings do not match is an error, not a stream central refuses.
        let e = write_snapshot_with(&mut Vec::new(), &bare, 2, &findings[..1]).unwrap_err();
        assert!(
            e.to_string().contains("announced 2 findings and gave 1"),
            "{e}"
        );
    }

    #[test]
    fn a_line_of_an_unknown_kind_or_with_two_records_is_refused() {
        for bad in [
            r#"{"secret": {}}"#,
            r#"{"image": {"reference": "a"}, "workload": {}}"#,
            r#"{"image": {"reference": "a", "colour": "red"}}"#,
        ] {
            assert!(serde_json::from_str::<SnapshotLine>(bad).is_err(), "{bad}");
        }
    }
}
