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

impl std::fmt::Debug for AnalysisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalysisCache")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
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
