//! A cluster's stored objects built into an inventory and an RBAC index once per snapshot and
//! kept in memory, for the pages and endpoints that run the engines (the network graph,
//! who-can, the workload page): without it every request re-ingested 34,000 objects at
//! 10,000 workloads (0.5 s and more in release).
//!
//! Invariants:
//! * An entry is keyed by (cluster, the cluster's current push sequence) and the sequence is
//!   read from the store on every request, so a push through another central replica sharing
//!   the database is seen at once: the next request builds anew.
//! * The cache holds at most [`Limits::entries`] entries and about [`Limits::bytes`] of
//!   objects (their JSON size, a proxy for the memory they take once built); the least
//!   recently used go first. An entry larger than the byte limit is built and served but not
//!   kept.
//! * Builds run one at a time (off the I/O threads), so cold requests do not each build a copy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use palisade_model::Inventory;
use palisade_rbac::RbacIndex;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store_error::to_api;

/// A cluster's objects, built.
pub struct Analysed {
    /// The cluster's push these were built from.
    pub seq: Option<i64>,
    /// The objects as one inventory (as `palisade netpol` and `palisade rbac` read files).
    pub inventory: Inventory,
    /// The RBAC index of the inventory.
    pub rbac: RbacIndex,
    /// The objects' JSON size (what the byte limit counts).
    pub bytes: usize,
}

/// How much the cache keeps.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// At most this many clusters' analyses.
    pub entries: usize,
    /// At most about this many bytes of objects (JSON size) over all entries.
    pub bytes: usize,
}

impl Default for Limits {
    /// 16 clusters, 384 MiB of objects (10 clusters of 10,000 workloads are about 230 MiB).
    fn default() -> Limits {
        Limits {
            entries: 16,
            bytes: 384 << 20,
        }
    }
}

#[derive(Default)]
struct Entries {
    /// Cluster → (its analysis, when it was last used).
    map: HashMap<String, (Arc<Analysed>, u64)>,
    /// A counter standing for time (least recently used: the smallest).
    tick: u64,
}

impl Entries {
    fn bytes(&self) -> usize {
        self.map.values().map(|(a, _)| a.bytes).sum()
    }
}

/// The cache (one per central process).
pub struct AnalysisCache {
    limits: Limits,
    entries: Mutex<Entries>,
    building: tokio::sync::Mutex<()>,
}

impl AnalysisCache {
    /// An empty cache keeping at most `limits`.
    pub fn new(limits: Limits) -> AnalysisCache {
        AnalysisCache {
            limits,
            entries: Mutex::new(Entries::default()),
            building: tokio::sync::Mutex::new(()),
        }
    }

    /// The kept analysis of `cluster` at push `seq`, marked as used.
    fn get(&self, cluster: &str, seq: Option<i64>) -> Option<Arc<Analysed>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.tick += 1;
        let tick = entries.tick;
        match entries.map.get_mut(cluster) {
            Some((a, used)) if a.seq == seq => {
                *used = tick;
                Some(a.clone())
            }
            _ => None,
        }
    }

    /// Keeps `analysed` as `cluster`'s (replacing an older one), evicting the least recently
    /// used entries beyond the limits.
    fn put(&self, cluster: &str, analysed: Arc<Analysed>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.map.remove(cluster);
        if analysed.bytes > self.limits.bytes || self.limits.entries == 0 {
            return;
        }
        while entries.map.len() >= self.limits.entries
            || entries.bytes() + analysed.bytes > self.limits.bytes
        {
            let Some(oldest) = entries
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(c, _)| c.clone())
            else {
                break;
            };
            entries.map.remove(&oldest);
        }
        entries.tick += 1;
        let tick = entries.tick;
        entries.map.insert(cluster.to_string(), (analysed, tick));
    }

    /// The clusters kept and their pushes, by cluster (for tests and diagnostics).
    pub fn kept(&self) -> Vec<(String, Option<i64>)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut kept: Vec<_> = entries
            .map
            .iter()
            .map(|(c, (a, _))| (c.clone(), a.seq))
            .collect();
        kept.sort();
        kept
    }
}

/// `cluster`'s objects built, from the cache when it holds the cluster's current push (404
/// when the cluster has no snapshot).
pub(crate) async fn analysed(state: &AppState, cluster: &str) -> Result<Arc<Analysed>, ApiError> {
    crate::ingest::check_cluster_name(cluster)?;
    let cache = &state.analyses;
    let seq = state.store.current_seq(cluster).await.map_err(to_api)?;
    if let Some(hit) = cache.get(cluster, seq) {
        return Ok(hit);
    }
    let _building = cache.building.lock().await;
    // Another request may have built it while this one waited.
    let seq = state.store.current_seq(cluster).await.map_err(to_api)?;
    if let Some(hit) = cache.get(cluster, seq) {
        return Ok(hit);
    }
    let objects = state.store.objects(cluster).await.map_err(to_api)?;
    let source = format!("cluster {cluster}");
    let built = crate::graph::blocking(move || {
        let mut bytes = 0;
        let mut inventory = Inventory::default();
        for object in objects {
            bytes += serde_json::to_string(&object).map_or(0, |s| s.len());
            let mut part = palisade_ingest::ingest_value(&source, object).inventory;
            part.namespaces.retain(|n| !n.spec.implicit);
            inventory.extend(part);
        }
        inventory.finalize();
        let rbac = RbacIndex::build(&inventory);
        Arc::new(Analysed {
            seq,
            inventory,
            rbac,
            bytes,
        })
    })
    .await?;
    cache.put(cluster, built.clone());
    Ok(built)
}

#[cfg(test)]
mod tests {
    //! The cache against a real SQLite store opened twice (two central replicas): built once
    //! per snapshot, rebuilt when another replica stores a newer one, bounded.

    use std::sync::Arc;

    use palisade_api::Snapshot;
    use palisade_model::time::{FixedClock, Timestamp};
    use palisade_rbac::Request;
    use palisade_store::Store;
    use serde_json::json;

    use super::{AnalysisCache, Limits, analysed};
    use crate::state::AppState;

    /// A snapshot whose objects let ServiceAccount `shop/{reader}` get Secrets in `shop`.
    fn snapshot(id: &str, hour: i64, reader: &str) -> Snapshot {
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "secrets", "namespace": "shop"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]});
        let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "read", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secrets"},
            "subjects": [{"kind": "ServiceAccount", "name": reader, "namespace": "shop"}]});
        Snapshot {
            id: id.into(),
            scanned_at: Timestamp::from_unix_secs(1_796_083_200 + hour * 3600),
            tool_version: "0.1.0".into(),
            source: "manifests".into(),
            workloads: vec![],
            findings: vec![],
            images: vec![],
            objects: vec![role.into(), binding.into()],
            diagnostics: vec![],
        }
    }

    fn state(store: Store, limits: Limits) -> AppState {
        AppState {
            store,
            metrics: Arc::new(crate::metrics::Metrics::new()),
            clock: Arc::new(FixedClock(Timestamp::from_unix_secs(1_796_083_200))),
            analyses: Arc::new(AnalysisCache::new(limits)),
        }
    }

    /// Who may get Secrets in `shop`, as JSON text.
    async fn readers(state: &AppState, cluster: &str) -> String {
        let built = analysed(state, cluster).await.unwrap();
        let request = Request::parse("get", "secrets", Some("shop"), None).unwrap();
        serde_json::to_string(&built.rbac.who_can(&request)).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn built_once_per_snapshot_and_rebuilt_after_another_replicas_push() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db").display().to_string();
        let one = state(Store::open(&path).await.unwrap(), Limits::default());
        let other = Store::open(&path).await.unwrap();
        let at = one.now();
        let missing = analysed(&one, "prod").await.err().map(|e| e.status);
        assert_eq!(missing, Some(axum::http::StatusCode::NOT_FOUND));
        one.store
            .push_snapshot("prod", &snapshot("s1", 1, "alice"), at)
            .await
            .unwrap();
        assert!(readers(&one, "prod").await.contains("alice"));
        let seq1 = one.store.current_seq("prod").await.unwrap();
        assert_eq!(one.analyses.kept(), [("prod".to_string(), seq1)]);
        let first = analysed(&one, "prod").await.unwrap();
        assert!(Arc::ptr_eq(&first, &analysed(&one, "prod").await.unwrap()));

        // Another replica stores a newer snapshot: the next request sees it.
        other
            .push_snapshot("prod", &snapshot("s2", 2, "bob"), at)
            .await
            .unwrap();
        let now = readers(&one, "prod").await;
        assert!(now.contains("bob") && !now.contains("alice"), "{now}");
        let seq2 = other.current_seq("prod").await.unwrap();
        assert_ne!(seq1, seq2);
        assert_eq!(one.analyses.kept(), [("prod".to_string(), seq2)]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bounded_in_entries_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db").display().to_string();
        let store = Store::open(&path).await.unwrap();
        let at = Timestamp::from_unix_secs(1_796_083_200);
        for cluster in ["a", "b", "c"] {
            store
                .push_snapshot(cluster, &snapshot("s1", 1, "alice"), at)
                .await
                .unwrap();
        }
        let two = state(
            store.clone(),
            Limits {
                entries: 2,
                bytes: 1 << 20,
            },
        );
        for cluster in ["a", "b", "a", "c"] {
            assert!(readers(&two, cluster).await.contains("alice"));
        }
        // "b" was the least recently used when "c" came.
        let kept: Vec<String> = two.analyses.kept().into_iter().map(|(c, _)| c).collect();
        assert_eq!(kept, ["a", "c"]);

        let tiny = state(
            store,
            Limits {
                entries: 8,
                bytes: 10,
            },
        );
        assert!(readers(&tiny, "a").await.contains("alice"));
        assert!(tiny.analyses.kept().is_empty());
    }
}
