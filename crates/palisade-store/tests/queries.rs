//! Filters, sorts and keyset pages on both back ends: pages concatenate to the whole ordered
//! result, without duplicates; exceptions suppress findings until they expire or are revoked.

mod support;

use palisade_api::{
    ExceptionCreate, FindingQuery, FindingStatus, Page, WorkloadQuery, WorkloadSort,
};
use palisade_model::finding::Severity;
use palisade_model::time::Date;
use palisade_store::{Store, StoreError};
use support::{at, finding, snapshot, workload};

/// Two clusters of 37 workloads each with risk scores and labels, findings of every severity.
async fn fill(store: &Store) {
    for cluster in ["prod", "dev"] {
        let mut workloads = Vec::new();
        let mut findings = Vec::new();
        for i in 0..37u32 {
            let ns = ["a", "b", "c"][i as usize % 3];
            let mut w = workload(ns, &format!("w{i:02}"));
            w.risk.as_mut().unwrap().score = (i * 7) % 11;
            w.labels.insert(
                "tier".into(),
                if i.is_multiple_of(2) { "front" } else { "back" }.into(),
            );
            w.images = vec![format!("registry.example/team/app{}:1", i % 4)];
            workloads.push(w);
            for (j, sev) in Severity::ALL.into_iter().enumerate() {
                if !(i as usize + j).is_multiple_of(3) {
                    findings.push(finding(&format!("PAL-00{j}"), sev, ns, &format!("w{i:02}")));
                }
            }
        }
        store
            .push_snapshot(cluster, &snapshot("s1", at(1), workloads, findings), at(1))
            .await
            .unwrap();
    }
}

/// Every page of a query, following `next`, checked to be at most `limit` long.
async fn all_pages<T, F, Fut>(limit: u32, mut fetch: F) -> Vec<T>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, StoreError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = fetch(cursor).await.unwrap();
        assert!(page.items.len() <= limit as usize);
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
}

on_both_backends! {
    async fn workload_filters_sorts_and_pages(db: Db) {
        let store = &db.store;
        fill(store).await;
        for sort in [WorkloadSort::Name, WorkloadSort::Risk, WorkloadSort::Findings] {
            let query = WorkloadQuery { sort: Some(sort), limit: Some(1000), ..Default::default() };
            let whole = store.workloads(&query).await.unwrap();
            assert_eq!(whole.items.len(), 74);
            assert!(whole.next.is_none());
            // The order is the documented one.
            let keys: Vec<_> = whole.items.iter().map(|w| {
                let lead = match sort {
                    WorkloadSort::Name => 0,
                    WorkloadSort::Risk => -i64::from(w.risk_score),
                    WorkloadSort::Findings => -(w.open_findings as i64),
                };
                (lead, w.cluster.clone(), w.id.clone())
            }).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted, "{sort:?}");
            for limit in [1, 7, 74] {
                let paged = all_pages(limit, |cursor| {
                    let q = WorkloadQuery { limit: Some(limit), cursor, ..query.clone() };
                    async move { store.workloads(&q).await }
                }).await;
                assert_eq!(paged, whole.items, "{sort:?} by {limit}");
            }
        }
        // Filters combine with AND.
        let q = WorkloadQuery {
            cluster: Some("prod".into()),
            namespace: Some("a".into()),
            min_risk: Some(5),
            image: Some("team/app2".into()),
            label: Some("tier=front".into()),
            ..Default::default()
        };
        let got = store.workloads(&q).await.unwrap().items;
        let expected: Vec<String> = (0..37u32)
            .filter(|i| i.is_multiple_of(3) && (i * 7) % 11 >= 5 && i % 4 == 2 && i.is_multiple_of(2))
            .map(|i| format!("w{i:02}"))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(got.iter().map(|w| w.id.name.clone()).collect::<Vec<_>>(), expected);
        let with_key = store.workloads(&WorkloadQuery { label: Some("tier".into()), ..Default::default() }).await.unwrap();
        assert_eq!(with_key.items.len(), 74);
        // Image text is matched literally (no LIKE wildcards).
        let none = store.workloads(&WorkloadQuery { image: Some("team/app%".into()), ..Default::default() }).await.unwrap();
        assert!(none.items.is_empty());
        // A cursor of another query is refused as invalid.
        let page = store.workloads(&WorkloadQuery { limit: Some(2), ..Default::default() }).await.unwrap();
        let wrong = WorkloadQuery { sort: Some(WorkloadSort::Risk), cursor: page.next, ..Default::default() };
        assert!(matches!(store.workloads(&wrong).await, Err(StoreError::Invalid { field, .. }) if field == "cursor"));
        // Limits are clamped to MAX_PAGE.
        let clamped = store.workloads(&WorkloadQuery { limit: Some(1_000_000), ..Default::default() }).await.unwrap();
        assert_eq!(clamped.items.len(), 74);
    }

    async fn finding_filters_and_pages(db: Db) {
        let store = &db.store;
        fill(store).await;
        let base = FindingQuery { limit: Some(1000), ..Default::default() };
        let whole = store.findings(&base, at(9)).await.unwrap().items;
        assert_eq!(whole.len(), 2 * (37 * 5 - 62));
        let keys: Vec<_> = whole.iter().map(|f| {
            (std::cmp::Reverse(f.severity), f.cluster.clone(), f.object.namespace.clone(), f.object.kind.clone(), f.object.name.clone(), f.check_id.clone())
        }).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        for limit in [1, 13, 100] {
            let paged = all_pages(limit, |cursor| {
                let q = FindingQuery { limit: Some(limit), cursor, ..base.clone() };
                async move { store.findings(&q, at(9)).await }
            }).await;
            assert_eq!(paged, whole, "by {limit}");
        }
        let q = FindingQuery {
            cluster: Some("dev".into()),
            namespace: Some("b".into()),
            severity: Some(Severity::High),
            ..base.clone()
        };
        let filtered = store.findings(&q, at(9)).await.unwrap().items;
        let expected: Vec<_> = whole.iter().filter(|f| f.cluster == "dev" && f.object.namespace.as_deref() == Some("b") && f.severity >= Severity::High).cloned().collect();
        assert!(!expected.is_empty());
        assert_eq!(filtered, expected);
        // Pages within one cluster (its own key order) concatenate to the same result.
        let paged = all_pages(7, |cursor| {
            let q = FindingQuery { limit: Some(7), cursor, ..q.clone() };
            async move { store.findings(&q, at(9)).await }
        }).await;
        assert_eq!(paged, expected);
        // A namespace without a severity: every severity, in order, page by page.
        let q = FindingQuery { severity: None, ..q };
        let expected: Vec<_> = whole.iter().filter(|f| f.cluster == "dev" && f.object.namespace.as_deref() == Some("b")).cloned().collect();
        assert!(expected.iter().any(|f| f.severity < Severity::High));
        let paged = all_pages(7, |cursor| {
            let q = FindingQuery { limit: Some(7), cursor, ..q.clone() };
            async move { store.findings(&q, at(9)).await }
        }).await;
        assert_eq!(paged, expected);
        // Across clusters with a namespace and a severity: one walk per cluster, merged, page
        // by page.
        let q = FindingQuery { namespace: Some("b".into()), severity: Some(Severity::Medium), ..base.clone() };
        let expected: Vec<_> = whole.iter().filter(|f| f.object.namespace.as_deref() == Some("b") && f.severity >= Severity::Medium).cloned().collect();
        assert!(expected.iter().any(|f| f.cluster == "dev") && expected.iter().any(|f| f.cluster == "prod"));
        for limit in [1, 5] {
            let paged = all_pages(limit, |cursor| {
                let q = FindingQuery { limit: Some(limit), cursor, ..q.clone() };
                async move { store.findings(&q, at(9)).await }
            }).await;
            assert_eq!(paged, expected, "by {limit}");
        }
        let by_check = store.findings(&FindingQuery { check: Some("PAL-004".into()), ..base.clone() }, at(9)).await.unwrap().items;
        assert!(by_check.iter().all(|f| f.check_id == "PAL-004" && f.severity == Severity::Critical));
        assert_eq!(by_check.len(), whole.iter().filter(|f| f.check_id == "PAL-004").count());
    }

    async fn exceptions_suppress_until_they_expire_or_are_revoked(db: Db) {
        let store = &db.store;
        fill(store).await;
        let open = |now| {
            let q = FindingQuery { cluster: Some("prod".into()), check: Some("PAL-003".into()), limit: Some(1000), ..Default::default() };
            async move { store.findings(&q, now).await.unwrap().items }
        };
        let before = open(at(10)).await;
        assert!(!before.is_empty());
        let high_before = store.clusters(at(10)).await.unwrap()[1].open_findings[&Severity::High];

        // Validation: a reason and a matcher are required.
        let mut req = ExceptionCreate {
            cluster: Some("prod".into()),
            check: Some("PAL-003".into()),
            namespace: None,
            name: None,
            fingerprint: None,
            reason: "accepted until the migration".into(),
            expires: Date::parse("2026-12-03").unwrap(),
        };
        let no_reason = ExceptionCreate { reason: "  ".into(), ..req.clone() };
        assert!(matches!(store.create_exception(&no_reason, "alice", at(10)).await, Err(StoreError::Invalid { field, .. }) if field == "reason"));
        let no_matcher = ExceptionCreate { check: None, ..req.clone() };
        assert!(matches!(store.create_exception(&no_matcher, "alice", at(10)).await, Err(StoreError::Invalid { .. })));

        let created = store.create_exception(&req, "alice", at(10)).await.unwrap();
        assert_eq!(created.created_by, "alice");
        // Suppressed: gone from open, listed as suppressed with the exception's id; the other
        // cluster is untouched; the cluster summary no longer counts them.
        assert!(open(at(10)).await.is_empty());
        let suppressed = store.findings(&FindingQuery { cluster: Some("prod".into()), status: Some(FindingStatus::Suppressed), limit: Some(1000), ..Default::default() }, at(10)).await.unwrap().items;
        assert_eq!(suppressed.len(), before.len());
        assert!(suppressed.iter().all(|f| f.status == FindingStatus::Suppressed && f.exception_id == Some(created.id)));
        let dev = store.findings(&FindingQuery { cluster: Some("dev".into()), check: Some("PAL-003".into()), ..Default::default() }, at(10)).await.unwrap();
        assert!(!dev.items.is_empty());
        let high_after = store.clusters(at(10)).await.unwrap()[1].open_findings[&Severity::High];
        assert_eq!(high_after, high_before - before.len() as u64);
        // Still applies on its last day, not the day after.
        assert!(open(at(71)).await.is_empty());
        assert_eq!(open(at(72)).await, before);

        // A narrower one (one namespace) revoked: the findings come back.
        req.namespace = Some("a".into());
        req.expires = Date::parse("2027-01-01").unwrap();
        let narrow = store.create_exception(&req, "bob", at(11)).await.unwrap();
        assert_eq!(open(at(80)).await.len(), before.iter().filter(|f| f.object.namespace.as_deref() != Some("a")).count());
        let revoked = store.revoke_exception(narrow.id, "carol", at(12)).await.unwrap();
        assert_eq!((revoked.revoked_at, revoked.revoked_by.as_deref()), (Some(at(12)), Some("carol")));
        assert_eq!(open(at(80)).await, before);
        assert!(matches!(store.revoke_exception(narrow.id, "carol", at(13)).await, Err(StoreError::Conflict(_))));
        assert!(matches!(store.revoke_exception(999, "carol", at(13)).await, Err(StoreError::NotFound(_))));

        let listed = store.exceptions().await.unwrap();
        assert_eq!(listed.iter().map(|e| e.id).collect::<Vec<_>>(), [narrow.id, created.id]);
        let audit = store.audit(Some(2), None).await.unwrap();
        let actions: Vec<_> = audit.items.iter().map(|e| (e.action.as_str(), e.actor.as_str())).collect();
        assert_eq!(actions, [("exception.revoke", "carol"), ("exception.create", "bob")]);
        let rest = store.audit(Some(2), audit.next.as_deref()).await.unwrap();
        assert_eq!(rest.items.len(), 1);
        assert_eq!(rest.items[0].detail["reason"], "accepted until the migration");
        assert!(rest.next.is_none());
    }
}
