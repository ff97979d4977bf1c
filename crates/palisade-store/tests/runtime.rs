//! Alerts, flows, baselines and admission decisions on both back ends: idempotent pushes,
//! aggregation, queries; retention.

mod support;

use palisade_api::{
    AdmissionBatch, AdmissionRecord, AlertBatch, AlertQuery, AlertRecord, BaselineBatch,
    BaselineRecord, FlowBatch, FlowRecord, ObjectKey,
};
use palisade_model::WorkloadId;
use palisade_model::finding::Severity;
use palisade_store::{Retention, StoreError};
use support::{at, finding, snapshot, workload};

fn alert(id: &str, hour: i64, severity: Severity) -> AlertRecord {
    AlertRecord {
        id: id.into(),
        time: at(hour),
        node: Some("node-1".into()),
        workload: Some(WorkloadId::new("shop", "Deployment", "web")),
        container: Some("app".into()),
        rule: if severity >= Severity::High {
            "shell-in-container"
        } else {
            "unexpected-process"
        }
        .into(),
        severity,
        message: format!("alert {id}"),
        detail: serde_json::json!({"process": {"exe": "/bin/sh"}}),
    }
}

fn flow(dst_port: u16, first: i64, last: i64, count: u64) -> FlowRecord {
    FlowRecord {
        src: Some(WorkloadId::new("shop", "Deployment", "web")),
        src_address: None,
        dst: None,
        dst_address: Some("10.0.0.9".into()),
        port: dst_port,
        protocol: "TCP".into(),
        first_seen: at(first),
        last_seen: at(last),
        count,
    }
}

on_both_backends! {
    async fn alerts_are_idempotent_and_paged_newest_first(db: Db) {
        let store = &db.store;
        let batch = AlertBatch { alerts: (0..25).map(|i| alert(&format!("a{i:02}"), i, Severity::ALL[i as usize % 5])).collect() };
        let ack = store.push_alerts("prod", &batch, at(30)).await.unwrap();
        assert_eq!((ack.accepted, ack.duplicates), (25, 0));
        let again = store.push_alerts("prod", &batch, at(31)).await.unwrap();
        assert_eq!((again.accepted, again.duplicates), (0, 25));
        // A batch repeating an id inside itself and one already stored.
        let mixed = AlertBatch { alerts: vec![alert("a00", 0, Severity::Info), alert("b", 26, Severity::High), alert("b", 26, Severity::High)] };
        let ack = store.push_alerts("prod", &mixed, at(32)).await.unwrap();
        assert_eq!((ack.accepted, ack.duplicates), (1, 2));

        let mut cursor = None;
        let mut ids = Vec::new();
        loop {
            let page = store.alerts(&AlertQuery { cluster: Some("prod".into()), limit: Some(4), cursor, ..Default::default() }).await.unwrap();
            ids.extend(page.items.iter().map(|a| a.alert.id.clone()));
            match page.next { Some(n) => cursor = Some(n), None => break }
        }
        let mut expected: Vec<String> = (0..25).rev().map(|i| format!("a{i:02}")).collect();
        expected.insert(0, "b".into());
        assert_eq!(ids, expected);
        let first = store.alerts(&AlertQuery { limit: Some(1), ..Default::default() }).await.unwrap();
        assert_eq!(first.items[0].received_at, at(32));
        assert_eq!(first.items[0].alert, mixed.alerts[1]);
        let high_since = store.alerts(&AlertQuery { severity: Some(Severity::High), since: Some(at(20)), ..Default::default() }).await.unwrap();
        assert!(high_since.items.iter().all(|a| a.alert.severity >= Severity::High && a.alert.time >= at(20)));
        assert_eq!(high_since.items.len(), 3);
        let by_rule = store.alerts(&AlertQuery { rule: Some("unexpected-process".into()), namespace: Some("shop".into()), ..Default::default() }).await.unwrap();
        assert_eq!(by_rule.items.len(), 15);
    }

    async fn flows_aggregate_and_repeats_count_once(db: Db) {
        let store = &db.store;
        let batch = FlowBatch { flows: vec![flow(443, 2, 3, 5), flow(443, 1, 2, 1), flow(80, 4, 4, 2)] };
        let ack = store.push_flows("prod", &batch, at(5)).await.unwrap();
        assert_eq!((ack.accepted, ack.duplicates), (3, 0));
        let again = store.push_flows("prod", &batch, at(6)).await.unwrap();
        assert_eq!((again.accepted, again.duplicates), (0, 3));
        store.push_flows("prod", &FlowBatch { flows: vec![flow(443, 0, 9, 4)] }, at(9)).await.unwrap();
        let flows = store.flows("prod").await.unwrap();
        let summary: Vec<_> = flows.iter().map(|f| (f.port, f.count, f.first_seen, f.last_seen)).collect();
        assert_eq!(summary, [(80, 2, at(4), at(4)), (443, 10, at(0), at(9))]);
        assert_eq!(flows[1].src, batch.flows[0].src);
        assert_eq!(flows[1].dst_address.as_deref(), Some("10.0.0.9"));
        assert!(matches!(store.flows("nowhere").await, Err(StoreError::NotFound(_))));
    }

    async fn baselines_replace_and_admission_by_uid(db: Db) {
        let store = &db.store;
        let base = |processes: &[&str], hour| BaselineRecord {
            workload: WorkloadId::new("shop", "Deployment", "web"),
            container: "app".into(),
            processes: processes.iter().map(|p| p.to_string()).collect(),
            locked: true,
            updated_at: at(hour),
        };
        let first = BaselineBatch { baselines: vec![base(&["/bin/app"], 1)] };
        assert_eq!(store.push_baselines("prod", &first, at(1)).await.unwrap().accepted, 1);
        assert_eq!(store.push_baselines("prod", &first, at(2)).await.unwrap().duplicates, 1);
        let newer = BaselineBatch { baselines: vec![base(&["/bin/app", "/bin/health"], 3)] };
        assert_eq!(store.push_baselines("prod", &newer, at(3)).await.unwrap().accepted, 1);
        // An older one does not replace it.
        assert_eq!(store.push_baselines("prod", &first, at(4)).await.unwrap().duplicates, 1);
        assert_eq!(store.baselines("prod").await.unwrap(), newer.baselines);

        let decision = |uid: &str, hour| AdmissionRecord {
            uid: uid.into(),
            time: at(hour),
            operation: "CREATE".into(),
            object: ObjectKey { kind: "Deployment".into(), namespace: Some("shop".into()), name: "web".into() },
            user: Some("alice".into()),
            allowed: false,
            dry_run: false,
            findings: vec![finding("PAL-001", Severity::High, "shop", "web")],
        };
        let batch = AdmissionBatch { decisions: vec![decision("u1", 1), decision("u2", 2)] };
        assert_eq!(store.push_admission("prod", &batch, at(2)).await.unwrap().accepted, 2);
        let again = store.push_admission("prod", &batch, at(3)).await.unwrap();
        assert_eq!((again.accepted, again.duplicates), (0, 2));
        let stored = store.admission("prod", None).await.unwrap();
        assert_eq!(stored, [batch.decisions[1].clone(), batch.decisions[0].clone()]);
    }

    async fn prune_keeps_recent_history(db: Db) {
        let store = &db.store;
        let a = finding("PAL-001", Severity::High, "a", "w");
        let b = finding("PAL-002", Severity::High, "a", "w");
        let c = finding("PAL-003", Severity::High, "a", "w");
        // b resolved by s2, c resolved by s3, a open throughout.
        store.push_snapshot("prod", &snapshot("s1", at(1), vec![workload("a", "w")], vec![a.clone(), b.clone(), c.clone()]), at(1)).await.unwrap();
        store.push_snapshot("prod", &snapshot("s2", at(2), vec![workload("a", "w")], vec![a.clone(), c.clone()]), at(2)).await.unwrap();
        store.push_snapshot("prod", &snapshot("s3", at(3), vec![workload("a", "w")], vec![a.clone()]), at(3)).await.unwrap();
        store.push_alerts("prod", &AlertBatch { alerts: vec![alert("old", 0, Severity::High), alert("new", 47, Severity::High)] }, at(48)).await.unwrap();

        assert!(matches!(store.prune(Retention { keep_snapshots_per_cluster: 0, alert_days: 1 }, at(49)).await, Err(StoreError::Invalid { .. })));
        let report = store.prune(Retention { keep_snapshots_per_cluster: 1, alert_days: 1 }, at(49)).await.unwrap();
        // s1 and s2 go, and b, resolved by s2 (before s3, the oldest kept); c, resolved by s3, stays.
        assert_eq!((report.snapshots, report.findings, report.alerts), (2, 1, 1));
        let resolved = store.findings(&palisade_api::FindingQuery { status: Some(palisade_api::FindingStatus::Resolved), ..Default::default() }, at(49)).await.unwrap();
        assert_eq!(resolved.items.iter().map(|f| f.check_id.as_str()).collect::<Vec<_>>(), ["PAL-003"]);
        let alerts = store.alerts(&AlertQuery::default()).await.unwrap();
        assert_eq!(alerts.items.iter().map(|a| a.alert.id.as_str()).collect::<Vec<_>>(), ["new"]);
        // The current state and open findings are untouched; pruning again removes nothing.
        assert_eq!(store.findings(&Default::default(), at(49)).await.unwrap().items.len(), 1);
        assert_eq!(store.prune(Retention { keep_snapshots_per_cluster: 1, alert_days: 1 }, at(49)).await.unwrap(), Default::default());
    }

    async fn runtime_facts_read_one_cluster_or_all(db: Db) {
        let store = &db.store;
        store.push_alerts("prod", &AlertBatch { alerts: vec![alert("p2", 2, Severity::High), alert("p1", 1, Severity::Medium)] }, at(3)).await.unwrap();
        store.push_alerts("dev", &AlertBatch { alerts: vec![alert("d1", 1, Severity::High)] }, at(3)).await.unwrap();
        let base = |processes: &[&str], locked: bool| BaselineRecord {
            workload: WorkloadId::new("shop", "Deployment", "web"),
            container: "app".into(),
            processes: processes.iter().map(|p| p.to_string()).collect(),
            locked,
            updated_at: at(2),
        };
        store.push_baselines("prod", &BaselineBatch { baselines: vec![base(&["/bin/app"], true)] }, at(3)).await.unwrap();
        store.push_baselines("dev", &BaselineBatch { baselines: vec![base(&["/bin/dev"], false)] }, at(3)).await.unwrap();

        let prod = store.runtime_facts(Some("prod")).await.unwrap();
        // Oldest first, each alert as sent.
        assert_eq!(prod.alerts.iter().map(|a| a.alert.id.as_str()).collect::<Vec<_>>(), ["p1", "p2"]);
        assert_eq!(prod.alerts[1].alert, alert("p2", 2, Severity::High));
        assert_eq!(prod.baselines, [("prod".to_string(), base(&["/bin/app"], true))]);

        let all = store.runtime_facts(None).await.unwrap();
        assert_eq!(all.alerts.iter().map(|a| (a.cluster.as_str(), a.alert.id.as_str())).collect::<Vec<_>>(), [("dev", "d1"), ("prod", "p1"), ("prod", "p2")]);
        assert_eq!(all.baselines.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), ["dev", "prod"]);

        assert!(matches!(store.runtime_facts(Some("nope")).await, Err(StoreError::NotFound(_))));
    }
}
