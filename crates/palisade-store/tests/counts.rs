//! The overview's numbers kept at push time equal the counting queries on both back ends,
//! through snapshots, sensor deltas, changed severities, resolved and reopened findings, a
//! push scanned at the previous one's instant, and exceptions created, expiring and revoked.

mod support;

use palisade_api::{Delta, ExceptionCreate, FindingRecord, ObjectFindings, ObjectKey};
use palisade_model::finding::Severity;
use palisade_model::time::{Date, Timestamp};
use palisade_store::{OpenCounts, Store};
use support::{at, finding, snapshot, workload};

/// Asserts that [`Store::clusters`] and [`Store::trends`] equal the counting queries at `now`
/// and returns the open counts.
async fn check(store: &Store, now: Timestamp) -> OpenCounts {
    let counted = store.counted_open_findings(now).await.unwrap();
    let clusters = store.clusters(now).await.unwrap();
    for c in &clusters {
        for (severity, n) in &c.open_findings {
            let expected = counted
                .get(&c.name)
                .and_then(|m| m.get(severity))
                .copied()
                .unwrap_or(0);
            assert_eq!(*n, expected, "{} {severity:?} at {now:?}", c.name);
        }
    }
    assert_eq!(
        store.trends().await.unwrap(),
        store.counted_trends().await.unwrap(),
        "trends at {now:?}"
    );
    counted
}

/// Open `severity` findings of `cluster` in `counts`.
fn open(counts: &OpenCounts, cluster: &str, severity: Severity) -> u64 {
    counts
        .get(cluster)
        .and_then(|m| m.get(&severity))
        .copied()
        .unwrap_or(0)
}

/// `n` findings of each severity on workloads `w0…` of namespace `ns`.
fn findings(ns: &str, n: usize) -> Vec<FindingRecord> {
    (0..n)
        .flat_map(|i| {
            Severity::ALL
                .into_iter()
                .enumerate()
                .map(move |(j, s)| finding(&format!("PAL-00{j}"), s, ns, &format!("w{i}")))
        })
        .collect()
}

fn key(ns: &str, name: &str) -> ObjectKey {
    finding("PAL-000", Severity::High, ns, name).object
}

fn exception(cluster: Option<&str>, check: Option<&str>, ns: Option<&str>) -> ExceptionCreate {
    ExceptionCreate {
        cluster: cluster.map(Into::into),
        check: check.map(Into::into),
        namespace: ns.map(Into::into),
        name: None,
        fingerprint: None,
        reason: "accepted".into(),
        expires: Date::parse("2026-12-03").unwrap(),
    }
}

on_both_backends! {
    async fn kept_counts_equal_the_counting_queries(db: Db) {
        let store = &db.store;
        let workloads = || (0..4).map(|i| workload("a", &format!("w{i}"))).collect::<Vec<_>>();
        // Two clusters; prod's second snapshot drops w3's findings, raises one severity and adds
        // namespace b.
        for cluster in ["prod", "dev"] {
            store.push_snapshot(cluster, &snapshot("s1", at(1), workloads(), findings("a", 4)), at(1)).await.unwrap();
        }
        let first = check(store, at(1)).await;
        assert_eq!(open(&first, "prod", Severity::High), 4);
        let mut second: Vec<_> = findings("a", 3);
        second[0].severity = Severity::Critical;
        second.extend(findings("b", 2));
        store.push_snapshot("prod", &snapshot("s2", at(2), workloads(), second.clone()), at(2)).await.unwrap();
        let counts = check(store, at(2)).await;
        assert_eq!(open(&counts, "prod", Severity::Critical), 6);
        let trend = store.trends().await.unwrap();
        assert_eq!((trend[1].cluster.as_str(), trend[1].new, trend[1].resolved), ("prod", 10, 5));

        // A snapshot scanned at the same instant: w3's findings come back (reopened), b's go.
        let mut third = findings("a", 4);
        third[0].severity = Severity::Critical;
        store.push_snapshot("prod", &snapshot("s3", at(2), workloads(), third), at(3)).await.unwrap();
        check(store, at(3)).await;
        // The same snapshot again changes nothing.
        store.push_snapshot("prod", &snapshot("s2", at(2), workloads(), second), at(3)).await.unwrap();
        check(store, at(3)).await;

        // A sensor's delta: w0 loses all but one finding (lowered), w9 is new, w1 is deleted.
        let mut kept = finding("PAL-000", Severity::Low, "a", "w0");
        kept.fingerprint = "PAL-000/a/w0".into();
        let delta = Delta {
            id: "d1".into(),
            scanned_at: at(4),
            tool_version: "0.1.0".into(),
            objects: vec![
                ObjectFindings { object: key("a", "w0"), findings: vec![kept] },
                ObjectFindings { object: key("a", "w9"), findings: findings("a", 10)[45..].to_vec() },
            ],
            workloads: vec![],
            deleted: vec![key("a", "w1")],
        };
        store.push_delta("prod", &delta, at(4)).await.unwrap();
        let after_delta = check(store, at(4)).await;
        assert!(open(&after_delta, "prod", Severity::Low) > 0);

        // Exceptions: one check in one cluster, a namespace everywhere, overlapping; expired; revoked.
        let checkwide = store.create_exception(&exception(Some("prod"), Some("PAL-003"), None), "alice", at(5)).await.unwrap();
        let suppressed = check(store, at(5)).await;
        assert_eq!(open(&suppressed, "prod", Severity::High), 0);
        assert!(open(&suppressed, "dev", Severity::High) > 0);
        let everywhere = store.create_exception(&exception(None, None, Some("a")), "alice", at(5)).await.unwrap();
        let all = check(store, at(5)).await;
        assert_eq!(open(&all, "dev", Severity::Low), 0);
        // The day after both expire, everything counts again.
        assert_eq!(check(store, at(72)).await, after_delta);
        store.revoke_exception(everywhere.id, "alice", at(6)).await.unwrap();
        assert_eq!(check(store, at(6)).await, suppressed);
        store.revoke_exception(checkwide.id, "alice", at(6)).await.unwrap();
        assert_eq!(check(store, at(6)).await, after_delta);
    }

    async fn a_snapshot_in_parts_equals_the_whole_and_a_broken_one_stores_nothing(db: Db) {
        use palisade_api::SnapshotHeader;
        use palisade_store::{SnapshotPart, SnapshotParts};
        use std::borrow::Cow;
        let store = &db.store;
        let workloads: Vec<_> = (0..3).map(|i| workload("shop", &format!("w{i}"))).collect();
        let all = findings("shop", 3);
        store.push_snapshot("whole", &snapshot("s1", at(1), workloads.clone(), all.clone()), at(1)).await.unwrap();

        // The same findings in three batches, the last repeating one of the first with another
        // severity (the later record wins, as within one snapshot).
        let mut changed = all[0].clone();
        changed.severity = Severity::Low;
        let mut with_repeat = all.clone();
        with_repeat.push(changed.clone());
        let header = SnapshotHeader::of(&snapshot("s1", at(1), workloads.clone(), with_repeat.clone()));
        let send = |parts: Vec<SnapshotPart<'static>>| {
            let (sender, receiver) = tokio::sync::mpsc::channel(parts.len().max(1));
            for part in parts {
                sender.try_send(part).unwrap();
            }
            SnapshotParts::channel(receiver)
        };
        let batches = vec![
            SnapshotPart::Findings(Cow::Owned(all[..5].to_vec())),
            SnapshotPart::Workloads(Cow::Owned(workloads.clone())),
            SnapshotPart::Findings(Cow::Owned(all[5..].to_vec())),
            SnapshotPart::Findings(Cow::Owned(vec![changed.clone()])),
        ];
        let mut complete = batches.clone();
        complete.push(SnapshotPart::End);
        // Cut off before its end, or with a count other than the header's: nothing stored.
        let error = store.push_snapshot_parts("parts", &header, send(batches.clone()), at(1)).await.unwrap_err();
        assert!(matches!(error, palisade_store::StoreError::Invalid { .. }), "{error:?}");
        let mut short = batches[..3].to_vec();
        short.push(SnapshotPart::End);
        let error = store.push_snapshot_parts("parts", &header, send(short), at(1)).await.unwrap_err();
        assert!(error.to_string().contains("findings"), "{error}");
        assert_eq!(open(&check(store, at(1)).await, "parts", Severity::Low), 0);
        assert_eq!(store.clusters(at(1)).await.unwrap().len(), 1);

        let ack = store.push_snapshot_parts("parts", &header, send(complete), at(1)).await.unwrap();
        assert_eq!((ack.accepted, ack.duplicates), (header.counts.total(), 0));
        let counts = check(store, at(1)).await;
        // One fewer high (it became low) than the whole snapshot; as many findings in all.
        assert_eq!(open(&counts, "parts", all[0].severity), open(&counts, "whole", all[0].severity) - 1);
        assert_eq!(open(&counts, "parts", Severity::Low), open(&counts, "whole", Severity::Low) + 1);
        let total = |c: &str| counts[c].values().sum::<u64>();
        assert_eq!(total("parts"), total("whole"));
        let findings = store
            .findings(&palisade_api::FindingQuery { cluster: Some("parts".into()), limit: Some(1000), ..Default::default() }, at(2))
            .await
            .unwrap();
        let repeated: Vec<_> = findings.items.iter().filter(|f| f.fingerprint == changed.fingerprint).collect();
        assert_eq!(repeated.len(), 1);
        assert_eq!(repeated[0].severity, Severity::Low);
        // Workloads count every record on them, the repeat included.
        let workloads = store
            .workloads(&palisade_api::WorkloadQuery { cluster: Some("parts".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(workloads.items.len(), 3);
    }
}
