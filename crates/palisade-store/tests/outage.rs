//! The database going away: calls fail with `StoreError::Unavailable` (the server's 503), and
//! the same `Store` works again once the database is back; how SQLite files are opened.

mod support;

use palisade_store::{Store, StoreError};
use support::{Db, at, snapshot, workload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_then_started_again() {
    let mut db = Db::postgres().await;
    let store = db.store.clone();
    store
        .push_snapshot(
            "prod",
            &snapshot("s1", at(1), vec![workload("a", "w")], vec![]),
            at(1),
        )
        .await
        .unwrap();

    let mut pg = db.pg.take().unwrap();
    pg = tokio::task::spawn_blocking(move || {
        pg.stop();
        pg
    })
    .await
    .unwrap();
    let err = store.ping().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = store
        .push_snapshot("prod", &snapshot("s2", at(2), vec![], vec![]), at(2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = store.workloads(&Default::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");

    pg = tokio::task::spawn_blocking(move || {
        pg.start();
        pg
    })
    .await
    .unwrap();
    // The same store recovers: the push acknowledged before the outage is there, the one that
    // failed during it is not, and new pushes work.
    store.ping().await.unwrap();
    let workloads = store.workloads(&Default::default()).await.unwrap();
    assert_eq!(workloads.items.len(), 1);
    store
        .push_snapshot("prod", &snapshot("s2", at(2), vec![], vec![]), at(3))
        .await
        .unwrap();
    assert!(
        store
            .workloads(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    db.pg = Some(pg);
}

#[tokio::test]
async fn sqlite_file_that_cannot_be_made_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let err = Store::open(&blocker.join("store.db").display().to_string())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn postgres_that_is_not_there_is_unavailable() {
    // A port nothing listens on (bound and released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Store::open(&format!(
        "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    ))
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let db = Db::sqlite().await;
    db.store
        .push_snapshot(
            "prod",
            &snapshot("s1", at(1), vec![workload("a", "w")], vec![]),
            at(1),
        )
        .await
        .unwrap();
    // Write-ahead logging: commits go to the -wal file beside the database.
    let wal = std::path::PathBuf::from(format!("{}-wal", db.url));
    assert!(wal.exists(), "{} missing", wal.display());
}
