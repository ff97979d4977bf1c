//! Shared by the store's tests: a store on each back end (a SQLite file in a temporary
//! directory, a private PostgreSQL server) and small builders of pushed data.

#![allow(dead_code)]

use palisade_api::{FindingRecord, ObjectKey, RiskRecord, Snapshot, WorkloadRecord};
use palisade_model::WorkloadId;
use palisade_model::finding::Severity;
use palisade_model::time::Timestamp;
use palisade_store::Store;
use palisade_testkit::postgres::Postgres;

/// A store under test and what keeps its database alive.
pub struct Db {
    /// The store.
    pub store: Store,
    /// The URL or path it was opened with.
    pub url: String,
    /// The PostgreSQL server (PostgreSQL back end only).
    pub pg: Option<Postgres>,
    _dir: tempfile::TempDir,
}

impl Db {
    /// A fresh SQLite store.
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("central/store.db").display().to_string();
        let store = Store::open(&url).await.expect("open SQLite store");
        Db {
            store,
            url,
            pg: None,
            _dir: dir,
        }
    }

    /// A fresh PostgreSQL store on its own server.
    pub async fn postgres() -> Db {
        let pg = tokio::task::spawn_blocking(Postgres::new).await.unwrap();
        let url = pg.url();
        let store = Store::open(&url).await.expect("open PostgreSQL store");
        Db {
            store,
            url,
            pg: Some(pg),
            _dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Another store handle on the same database (as a second central process would open).
    pub async fn reopen(&self) -> Store {
        Store::open(&self.url).await.expect("reopen store")
    }
}

/// Declares each `async fn name(db: Db) { … }` as two tests, `sqlite::name` and
/// `postgres::name`, each on a fresh store of its back end.
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($db:ident: Db) $body:block)*) => {
        $(async fn $name($db: $crate::support::Db) $body)*
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Db::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Db::postgres().await).await
                }
            )*
        }
    };
}

/// `2026-12-01T00:00:00Z` plus `hours`.
pub fn at(hours: i64) -> Timestamp {
    Timestamp::from_unix_secs(1_796_083_200 + hours * 3600)
}

/// A Deployment `name` in `namespace`.
pub fn workload(namespace: &str, name: &str) -> WorkloadRecord {
    WorkloadRecord {
        id: WorkloadId::new(namespace, "Deployment", name),
        labels: [("app".to_string(), name.to_string())].into(),
        service_account: Some("default".into()),
        images: vec![format!("registry.example/{name}:1.0")],
        risk: Some(RiskRecord {
            score: 10,
            rank: 1,
            factors: vec!["privileged".into()],
        }),
        owner: None,
    }
}

/// A finding of `check` on Deployment `namespace/name`.
pub fn finding(check: &str, severity: Severity, namespace: &str, name: &str) -> FindingRecord {
    FindingRecord {
        fingerprint: format!("{check}/{namespace}/{name}"),
        check_id: check.to_string(),
        severity,
        title: format!("{check} title"),
        message: format!("{check} on {name}"),
        object: ObjectKey {
            kind: "Deployment".into(),
            namespace: Some(namespace.into()),
            name: name.into(),
        },
        container: Some("app".into()),
        path: None,
    }
}

/// A snapshot with these workloads and findings.
pub fn snapshot(
    id: &str,
    scanned_at: Timestamp,
    workloads: Vec<WorkloadRecord>,
    findings: Vec<FindingRecord>,
) -> Snapshot {
    Snapshot {
        id: id.to_string(),
        scanned_at,
        tool_version: "0.1.0".into(),
        source: "manifests".into(),
        workloads,
        findings,
        images: vec![],
        objects: vec![],
        diagnostics: vec![],
    }
}
