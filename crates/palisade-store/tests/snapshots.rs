//! Snapshot ingest on both back ends: replacement, finding history, idempotency, order, and
//! atomicity.

mod support;

use palisade_api::{FindingQuery, FindingStatus, ImageRecord, VulnerabilityRecord};
use palisade_model::finding::Severity;
use palisade_store::StoreError;
use support::{at, finding, snapshot, workload};

/// `(check, status, first_seen, resolved_at)` of every finding of `cluster` with `status`.
async fn history(
    store: &palisade_store::Store,
    status: FindingStatus,
    since: Option<palisade_model::time::Timestamp>,
) -> Vec<(String, FindingStatus, i64, Option<i64>)> {
    let query = FindingQuery {
        cluster: Some("prod".into()),
        status: Some(status),
        since,
        ..FindingQuery::default()
    };
    let page = store.findings(&query, at(100)).await.unwrap();
    assert!(page.next.is_none());
    page.items
        .into_iter()
        .map(|f| {
            (
                f.check_id,
                f.status,
                f.first_seen.unix_secs(),
                f.resolved_at.map(|t| t.unix_secs()),
            )
        })
        .collect()
}

on_both_backends! {
    async fn history_new_open_resolved_reopened(db: Db) {
        let store = &db.store;
        let w = || vec![workload("shop", "web"), workload("shop", "db")];
        let a = finding("PAL-001", Severity::High, "shop", "web");
        let b = finding("PAL-002", Severity::Low, "shop", "db");

        // 1: a and b are new.
        let ack = store.push_snapshot("prod", &snapshot("s1", at(1), w(), vec![a.clone(), b.clone()]), at(1)).await.unwrap();
        assert_eq!((ack.accepted, ack.duplicates), (4, 0));
        let t1 = at(1).unix_secs();
        assert_eq!(
            history(store, FindingStatus::New, None).await,
            [("PAL-001".into(), FindingStatus::New, t1, None), ("PAL-002".into(), FindingStatus::New, t1, None)]
        );
        // 2: a still there (open), b gone (resolved at the scan time of snapshot 2).
        store.push_snapshot("prod", &snapshot("s2", at(2), w(), vec![a.clone()]), at(2)).await.unwrap();
        let t2 = at(2).unix_secs();
        assert_eq!(history(store, FindingStatus::Open, None).await, [("PAL-001".into(), FindingStatus::Open, t1, None)]);
        assert!(history(store, FindingStatus::New, None).await.is_empty());
        assert_eq!(history(store, FindingStatus::Resolved, None).await, [("PAL-002".into(), FindingStatus::Resolved, t1, Some(t2))]);
        // 3: b is back: reopened with a new first_seen, new again.
        store.push_snapshot("prod", &snapshot("s3", at(3), w(), vec![a.clone(), b.clone()]), at(3)).await.unwrap();
        let t3 = at(3).unix_secs();
        assert_eq!(history(store, FindingStatus::New, None).await, [("PAL-002".into(), FindingStatus::New, t3, None)]);
        assert!(history(store, FindingStatus::Resolved, None).await.is_empty());
        // "new since t2" finds only the reopened one; without a status: new and open.
        assert_eq!(
            history(store, FindingStatus::New, Some(at(2))).await,
            [("PAL-002".into(), FindingStatus::New, t3, None)]
        );
        let all = store.findings(&FindingQuery { cluster: Some("prod".into()), ..FindingQuery::default() }, at(100)).await.unwrap();
        assert_eq!(all.items.len(), 2);
        assert_eq!(all.items[0].last_seen, at(3));

        // The cluster summary and the workloads follow the current state.
        let clusters = store.clusters(at(100)).await.unwrap();
        assert_eq!(clusters.len(), 1);
        assert_eq!(clusters[0].name, "prod");
        assert_eq!(clusters[0].last_snapshot_at, Some(at(3)));
        assert_eq!(clusters[0].workloads, 2);
        assert_eq!(clusters[0].open_findings[&Severity::High], 1);
        assert_eq!(clusters[0].open_findings[&Severity::Low], 1);
        assert_eq!(clusters[0].open_findings[&Severity::Critical], 0);
    }

    async fn changed_text_is_rewritten_and_sightings_follow_the_snapshots(db: Db) {
        let store = &db.store;
        let w = || vec![workload("shop", "web"), workload("shop", "db")];
        let a = finding("PAL-001", Severity::High, "shop", "web");
        let b = finding("PAL-002", Severity::Low, "shop", "db");
        store.push_snapshot("prod", &snapshot("s1", at(1), w(), vec![a.clone(), b.clone()]), at(1)).await.unwrap();
        store.push_snapshot("prod", &snapshot("s2", at(2), w(), vec![a.clone(), b.clone()]), at(2)).await.unwrap();
        // 3: a's text and severity change (same fingerprint); b is gone.
        let mut a2 = a.clone();
        a2.message = "PAL-001 on web, now with a new reason".into();
        a2.severity = Severity::Critical;
        store.push_snapshot("prod", &snapshot("s3", at(3), w(), vec![a2.clone()]), at(3)).await.unwrap();
        let query = |status| FindingQuery { cluster: Some("prod".into()), status: Some(status), ..FindingQuery::default() };
        let open = store.findings(&query(FindingStatus::Open), at(100)).await.unwrap().items;
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].message, a2.message, "the new text is stored");
        assert_eq!(open[0].severity, Severity::Critical);
        assert_eq!(open[0].first_seen, at(1), "still the same finding");
        assert_eq!(open[0].last_seen, at(3));
        let resolved = store.findings(&query(FindingStatus::Resolved), at(100)).await.unwrap().items;
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].resolved_at, Some(at(3)));
        assert_eq!(resolved[0].last_seen, at(2), "last seen in the last snapshot that had it");
        // 4: nothing changes: a is still open, seen now; b stays resolved as it was.
        store.push_snapshot("prod", &snapshot("s4", at(4), w(), vec![a2.clone()]), at(4)).await.unwrap();
        let open = store.findings(&query(FindingStatus::Open), at(100)).await.unwrap().items;
        assert_eq!((open[0].first_seen, open[0].last_seen), (at(1), at(4)));
        let resolved = store.findings(&query(FindingStatus::Resolved), at(100)).await.unwrap().items;
        assert_eq!((resolved[0].resolved_at, resolved[0].last_seen), (Some(at(3)), at(2)));
    }

    async fn replaces_state_and_repeats_change_nothing(db: Db) {
        let store = &db.store;
        let mut first = snapshot("s1", at(1), vec![workload("a", "one"), workload("a", "two")], vec![finding("PAL-001", Severity::High, "a", "one")]);
        first.images = vec![ImageRecord {
            reference: "registry.example/one:1.0".into(),
            digest: Some("sha256:aa".into()),
            vulnerabilities: vec![VulnerabilityRecord {
                id: "CVE-2024-3094".into(),
                package: "xz-utils".into(),
                version: "5.6.0".into(),
                fixed: Some("5.6.2".into()),
                severity: Severity::Critical,
            }],
        }];
        let namespace = serde_json::json!({"kind": "Namespace", "metadata": {"name": "a"}});
        first.objects = vec![namespace.clone().into()];
        store.push_snapshot("prod", &first, at(1)).await.unwrap();
        let images = store.images(&Default::default()).await.unwrap();
        assert_eq!(images.items.len(), 1);
        assert_eq!(images.items[0].workloads, 1);
        assert_eq!(images.items[0].clusters, ["prod"]);
        assert_eq!(images.items[0].vulnerabilities, first.images[0].vulnerabilities);
        assert_eq!(store.objects("prod").await.unwrap(), [namespace]);

        let second = snapshot("s2", at(2), vec![workload("b", "three")], vec![]);
        store.push_snapshot("prod", &second, at(2)).await.unwrap();
        let workloads = store.workloads(&Default::default()).await.unwrap();
        let names: Vec<_> = workloads.items.iter().map(|w| w.id.name.as_str()).collect();
        assert_eq!(names, ["three"]);
        assert!(store.images(&Default::default()).await.unwrap().items.is_empty());
        assert!(store.objects("prod").await.unwrap().is_empty());

        // The same snapshot again: all duplicates, nothing changes (not even resolution times).
        let before = store.findings(&FindingQuery { status: Some(FindingStatus::Resolved), ..Default::default() }, at(9)).await.unwrap();
        let again = store.push_snapshot("prod", &second, at(5)).await.unwrap();
        assert_eq!((again.accepted, again.duplicates), (0, 1));
        let first_again = store.push_snapshot("prod", &first, at(5)).await.unwrap();
        assert_eq!((first_again.accepted, first_again.duplicates), (0, 5));
        let after = store.findings(&FindingQuery { status: Some(FindingStatus::Resolved), ..Default::default() }, at(9)).await.unwrap();
        assert_eq!(before, after);
        assert_eq!(store.workloads(&Default::default()).await.unwrap(), workloads);
    }

    async fn older_snapshot_is_refused(db: Db) {
        let store = &db.store;
        store.push_snapshot("prod", &snapshot("new", at(5), vec![workload("a", "new")], vec![]), at(5)).await.unwrap();
        let err = store
            .push_snapshot("prod", &snapshot("old", at(4), vec![workload("a", "old")], vec![]), at(6))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let names: Vec<_> = store.workloads(&Default::default()).await.unwrap().items.into_iter().map(|w| w.id.name).collect();
        assert_eq!(names, ["new"]);
        // Another cluster has its own order.
        store.push_snapshot("dev", &snapshot("old", at(4), vec![], vec![]), at(6)).await.unwrap();
    }

    async fn failed_push_leaves_nothing(db: Db) {
        let store = &db.store;
        let good = snapshot("s1", at(1), vec![workload("a", "kept")], vec![finding("PAL-001", Severity::High, "a", "kept")]);
        store.push_snapshot("prod", &good, at(1)).await.unwrap();
        let before_findings = store.findings(&Default::default(), at(9)).await.unwrap();
        let before_workloads = store.workloads(&Default::default()).await.unwrap();

        // 3,000 workloads (several INSERT statements) whose last one repeats the first: the
        // database refuses it after the old state was deleted and most rows were written.
        let mut workloads: Vec<_> = (0..3000).map(|i| workload("b", &format!("w{i:04}"))).collect();
        workloads.push(workload("b", "w0000"));
        let findings = vec![finding("PAL-002", Severity::Critical, "b", "w0001")];
        let err = store.push_snapshot("prod", &snapshot("s2", at(2), workloads, findings), at(2)).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(store.workloads(&Default::default()).await.unwrap(), before_workloads);
        assert_eq!(store.findings(&Default::default(), at(9)).await.unwrap(), before_findings);
        assert_eq!(store.clusters(at(9)).await.unwrap()[0].last_snapshot_at, Some(at(1)));
        // The failed id was not recorded: sent again, corrected, it is accepted.
        let fixed = snapshot("s2", at(2), vec![workload("b", "w0000")], vec![]);
        assert_eq!(store.push_snapshot("prod", &fixed, at(3)).await.unwrap().accepted, 1);

        // A Secret that still has its values is refused before anything is written.
        let mut secret = snapshot("s3", at(3), vec![], vec![]);
        secret.objects = vec![
            serde_json::json!({"kind": "ConfigMap", "data": {"a": "b"}}).into(),
            serde_json::json!({"kind": "Secret", "metadata": {"name": "x"}, "data": null}).into(),
            serde_json::json!({"kind": "Secret", "metadata": {"name": "x"}, "data": {"k": "dg=="}})
                .into(),
        ];
        match store.push_snapshot("prod", &secret, at(3)).await {
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "objects[2].data"),
            other => panic!("{other:?}"),
        }
        // The kind spelled with escapes is still a Secret.
        secret.objects = vec![
            serde_json::from_str(r#"{"kind":"\u0053ecret","stringData":{"k":"v"}}"#).unwrap(),
        ];
        match store.push_snapshot("prod", &secret, at(3)).await {
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "objects[0].stringData"),
            other => panic!("{other:?}"),
        }
        // An object that is not a JSON object is refused, naming it.
        secret.objects = vec![serde_json::from_str(r#"["Secret"]"#).unwrap()];
        match store.push_snapshot("prod", &secret, at(3)).await {
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "objects[0]"),
            other => panic!("{other:?}"),
        }
        assert_eq!(store.workloads(&Default::default()).await.unwrap().items.len(), 1);
    }

    async fn durable_across_reopen(db: Db) {
        db.store.push_snapshot("prod", &snapshot("s1", at(1), vec![workload("a", "w")], vec![]), at(1)).await.unwrap();
        db.store.close().await;
        let reopened = db.reopen().await;
        assert_eq!(reopened.workloads(&Default::default()).await.unwrap().items.len(), 1);
        reopened.ping().await.unwrap();
    }
}
