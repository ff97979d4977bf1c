//! Delta ingest on both back ends: per-object finding sets with snapshot history semantics,
//! workload replacement and deletion, idempotency, order and validation.

mod support;

use palisade_api::{Delta, FindingQuery, FindingStatus, ObjectFindings, WorkloadQuery};
use palisade_model::finding::Severity;
use palisade_model::time::Timestamp;
use palisade_store::{Store, StoreError};
use support::{at, finding, snapshot, workload};

/// `(check, name, status)` of every finding of cluster `prod`, resolved ones included.
async fn findings(store: &Store) -> Vec<(String, String, FindingStatus)> {
    let mut out = Vec::new();
    for status in [None, Some(FindingStatus::Resolved)] {
        let query = FindingQuery {
            cluster: Some("prod".into()),
            status,
            ..FindingQuery::default()
        };
        let page = store.findings(&query, at(100)).await.unwrap();
        out.extend(
            page.items
                .into_iter()
                .map(|f| (f.check_id, f.object.name, f.status)),
        );
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

/// `(name, open findings, risk score)` of every workload of `prod`.
async fn workloads(store: &Store) -> Vec<(String, u64, u32)> {
    let query = WorkloadQuery {
        cluster: Some("prod".into()),
        ..WorkloadQuery::default()
    };
    let page = store.workloads(&query).await.unwrap();
    let mut out: Vec<_> = page
        .items
        .into_iter()
        .map(|w| (w.id.name, w.open_findings, w.risk_score))
        .collect();
    out.sort();
    out
}

fn delta(id: &str, scanned_at: Timestamp) -> Delta {
    Delta {
        id: id.into(),
        scanned_at,
        tool_version: "0.1.0".into(),
        objects: vec![],
        workloads: vec![],
        deleted: vec![],
    }
}

fn key(name: &str) -> palisade_api::ObjectKey {
    finding("PAL-001", Severity::High, "shop", name).object
}

on_both_backends! {
    async fn deltas_keep_snapshot_history(db: Db) {
        use FindingStatus::{New, Open, Resolved};
        let store = &db.store;
        let a = finding("PAL-001", Severity::High, "shop", "web");
        let b = finding("PAL-002", Severity::Low, "shop", "web");
        let c = finding("PAL-001", Severity::High, "shop", "db");
        store
            .push_snapshot("prod", &snapshot("s1", at(1), vec![workload("shop", "web"), workload("shop", "db")], vec![a.clone(), c.clone()]), at(1))
            .await
            .unwrap();

        // web: a stays, b appears; db untouched. api: a new workload with one finding.
        let api = finding("PAL-003", Severity::Medium, "shop", "api");
        let mut d1 = delta("d1", at(2));
        d1.objects = vec![
            ObjectFindings { object: key("web"), findings: vec![a.clone(), b.clone()] },
            ObjectFindings { object: key("api"), findings: vec![api.clone()] },
        ];
        let mut api_row = workload("shop", "api");
        api_row.risk.as_mut().unwrap().score = 42;
        d1.workloads = vec![workload("shop", "web"), api_row];
        let ack = store.push_delta("prod", &d1, at(2)).await.unwrap();
        assert_eq!((ack.accepted, ack.duplicates), (5, 0));
        assert_eq!(
            findings(store).await,
            [
                ("PAL-001".into(), "db".into(), Open),
                ("PAL-001".into(), "web".into(), Open),
                ("PAL-002".into(), "web".into(), New),
                ("PAL-003".into(), "api".into(), New),
            ]
        );
        assert_eq!(
            workloads(store).await,
            [("api".into(), 1, 42), ("db".into(), 1, 10), ("web".into(), 2, 10)]
        );

        // Repeated: nothing changes.
        let ack = store.push_delta("prod", &d1, at(3)).await.unwrap();
        assert_eq!((ack.accepted, ack.duplicates), (0, 5));

        // web's findings are gone (empty set), db is deleted.
        let mut d2 = delta("d2", at(3));
        d2.objects = vec![ObjectFindings { object: key("web"), findings: vec![] }];
        d2.workloads = vec![workload("shop", "web")];
        d2.deleted = vec![key("db")];
        store.push_delta("prod", &d2, at(3)).await.unwrap();
        assert_eq!(
            findings(store).await,
            [
                ("PAL-001".into(), "db".into(), Resolved),
                ("PAL-001".into(), "web".into(), Resolved),
                ("PAL-002".into(), "web".into(), Resolved),
                ("PAL-003".into(), "api".into(), Open),
            ]
        );
        assert_eq!(workloads(store).await, [("api".into(), 1, 42), ("web".into(), 0, 10)]);

        // a comes back on web (its object without its row): reopened, new again, counted.
        let mut d3 = delta("d3", at(4));
        d3.objects = vec![ObjectFindings { object: key("web"), findings: vec![a.clone()] }];
        store.push_delta("prod", &d3, at(4)).await.unwrap();
        assert!(findings(store).await.contains(&("PAL-001".into(), "web".into(), New)));
        assert_eq!(workloads(store).await, [("api".into(), 1, 42), ("web".into(), 1, 10)]);

        // A row alone (its rank moved): api keeps its finding and its count.
        let mut d4 = delta("d4", at(5));
        let mut moved = workload("shop", "api");
        moved.risk.as_mut().unwrap().score = 42;
        moved.risk.as_mut().unwrap().rank = 7;
        d4.workloads = vec![moved];
        store.push_delta("prod", &d4, at(5)).await.unwrap();
        assert_eq!(workloads(store).await, [("api".into(), 1, 42), ("web".into(), 1, 10)]);
        assert!(findings(store).await.contains(&("PAL-003".into(), "api".into(), Open)));

        // A later full snapshot still replaces everything.
        store
            .push_snapshot("prod", &snapshot("s2", at(6), vec![workload("shop", "web")], vec![a.clone()]), at(6))
            .await
            .unwrap();
        assert_eq!(workloads(store).await, [("web".into(), 1, 10)]);
        assert_eq!(
            findings(store).await.into_iter().filter(|f| f.2 != Resolved).collect::<Vec<_>>(),
            [("PAL-001".into(), "web".into(), Open)]
        );
    }

    async fn a_row_without_its_object_counts_the_stored_findings(db: Db) {
        let store = &db.store;
        // The snapshot has findings on job, but no row for it.
        let f = finding("PAL-001", Severity::High, "shop", "job");
        let g = finding("PAL-002", Severity::Low, "shop", "job");
        store
            .push_snapshot("prod", &snapshot("s1", at(1), vec![workload("shop", "web")], vec![f, g]), at(1))
            .await
            .unwrap();
        let mut d = delta("d1", at(2));
        d.workloads = vec![workload("shop", "job")];
        store.push_delta("prod", &d, at(2)).await.unwrap();
        assert_eq!(workloads(store).await, [("job".into(), 2, 10), ("web".into(), 0, 10)]);
    }

    async fn deltas_out_of_order_or_inconsistent_are_refused(db: Db) {
        let store = &db.store;
        store.push_snapshot("prod", &snapshot("s1", at(5), vec![], vec![]), at(5)).await.unwrap();
        let e = store.push_delta("prod", &delta("old", at(4)), at(6)).await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");

        let mut d = delta("", at(6));
        d.workloads = vec![workload("shop", "web")];
        let e = store.push_delta("prod", &d, at(6)).await.unwrap_err();
        assert!(matches!(e, StoreError::Invalid { .. }), "{e:?}");

        let mut d = delta("bad2", at(6));
        d.objects = vec![ObjectFindings { object: key("web"), findings: vec![finding("PAL-001", Severity::High, "shop", "db")] }];
        let e = store.push_delta("prod", &d, at(6)).await.unwrap_err();
        assert!(matches!(e, StoreError::Invalid { .. }), "{e:?}");
        // Nothing was stored by the refused deltas.
        assert!(findings(store).await.is_empty());
    }
}
