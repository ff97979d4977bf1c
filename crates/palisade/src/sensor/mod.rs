//! `palisade sensor run`: keeps central current with one cluster's state.
//!
//! ```text
//! watchers (palisade-cluster::watch, tokio) ──Change──► this loop (one thread, blocking)
//!     compact stores = the inventory            │ batch: object-local changes at once,
//!                                               │   NetworkPolicy/RBAC/Namespace/Service
//!                                               │   changes after a quiet period (debounce)
//!                                               ▼
//!      evaluate (ingest_live → palisade-analysis → PendingSnapshot: findings, not records)
//!                                               ▼
//!     first push and every --resync: POST …/snapshots;  otherwise POST …/delta with the
//!     objects whose findings or workload rows changed since the last acknowledged push
//! ```
//!
//! A push central did not acknowledge is not forgotten: the next delta is computed against the
//! last acknowledged state, and a failed push is retried after a pause even when nothing else
//! changes.

mod evaluate;
mod focused;
pub mod manifests;

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::Context;
use palisade_api::IngestAck;
use palisade_cluster::watch::{Change, ObjectName, Watch};
use palisade_model::WorkloadKind;
use palisade_model::time::{Clock, SystemClock};

use crate::central_client::{Client, cluster_path};
pub use evaluate::Evaluator;
use evaluate::affected;
use palisade_report::delta::Acknowledged;
use palisade_report::pending::PendingSnapshot;

/// How the loop paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Quiet period after a change of a kind that moves cluster-wide analyses.
    pub debounce: Duration,
    /// A full snapshot at least this often.
    pub resync: Duration,
    /// Pause before a failed push is tried again.
    pub retry: Duration,
}

/// The loop's state: what central acknowledged last, and when the last full snapshot went.
pub struct Sensor<'a> {
    /// Central's client.
    pub client: &'a Client,
    /// The cluster's name in central.
    pub cluster: &'a str,
    /// The watched cluster.
    pub watch: &'a Watch,
    /// Checks and configuration.
    pub evaluator: Evaluator,
    /// Pacing.
    pub pacing: Pacing,
    acknowledged: Option<Acknowledged>,
    last_full: Instant,
    retry_at: Option<Instant>,
    pushes: u64,
}

/// Kinds whose changes move cluster-wide analyses (network facts, RBAC) without being
/// workloads: their changes are debounced.
fn debounced(kind: &str) -> bool {
    use palisade_analysis::Analyses;
    WorkloadKind::from_kind(kind).is_none()
        && palisade_analysis::affected_by(kind).intersects(Analyses::NETWORK_FACTS | Analyses::RBAC)
}

/// A batch of changes: the kinds, the objects named (`None` once a change named none: a
/// re-list, a diagnostic), the earliest event, whether to stop.
struct Batch {
    kinds: Vec<&'static str>,
    objects: Option<Vec<(&'static str, ObjectName)>>,
    first: Option<Instant>,
    stop: bool,
}

impl Default for Batch {
    fn default() -> Batch {
        Batch {
            kinds: Vec::new(),
            objects: Some(Vec::new()),
            first: None,
            stop: false,
        }
    }
}

impl Batch {
    fn add(&mut self, change: Change) {
        match change {
            Change::Kind { kind, object, at } => {
                if !self.kinds.contains(&kind) {
                    self.kinds.push(kind);
                }
                match (object, self.objects.as_mut()) {
                    (Some(o), Some(objects)) => {
                        if !objects.iter().any(|(k, x)| *k == kind && *x == o) {
                            objects.push((kind, o));
                        }
                    }
                    _ => self.objects = None,
                }
                self.first = Some(self.first.map_or(at, |f| f.min(at)));
            }
            Change::Diagnostics => {
                self.objects = None;
                self.first = self.first.or_else(|| Some(Instant::now()));
            }
            Change::Stop => self.stop = true,
        }
    }
}

impl<'a> Sensor<'a> {
    /// A sensor that has pushed nothing yet.
    pub fn new(
        client: &'a Client,
        cluster: &'a str,
        watch: &'a Watch,
        evaluator: Evaluator,
        pacing: Pacing,
    ) -> Sensor<'a> {
        Sensor {
            client,
            cluster,
            watch,
            evaluator,
            pacing,
            acknowledged: None,
            last_full: Instant::now(),
            retry_at: None,
            pushes: 0,
        }
    }

    /// Waits for every watcher's first list, then pushes and follows changes until
    /// [`Change::Stop`] (SIGTERM, SIGINT) or the watchers are gone.
    pub fn run(&mut self, changes: &Receiver<Change>) -> anyhow::Result<()> {
        while !self.watch.is_ready() {
            match changes.recv() {
                Ok(Change::Stop) | Err(_) => return Ok(()),
                Ok(_) => {}
            }
        }
        tracing::info!(
            objects = self.watch.len(),
            diagnostics = self.watch.diagnostics().len(),
            "initial list complete"
        );
        self.push(None);
        loop {
            let deadline = self.next_deadline();
            let wait = deadline.saturating_duration_since(Instant::now());
            let mut batch = Batch::default();
            match changes.recv_timeout(wait) {
                Ok(change) => batch.add(change),
                Err(RecvTimeoutError::Timeout) => {
                    self.push(None);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
            self.collect(changes, &mut batch);
            if batch.stop {
                tracing::info!("stopping");
                return Ok(());
            }
            self.push(Some(&batch));
        }
    }

    /// When the loop must act without a change: the resync, or a retry of a failed push.
    fn next_deadline(&self) -> Instant {
        let resync = self.last_full + self.pacing.resync;
        self.retry_at.map_or(resync, |r| r.min(resync))
    }

    /// Adds what is already queued to `batch`; when it holds a debounced kind, waits until no
    /// change has come for the debounce period.
    fn collect(&self, changes: &Receiver<Change>, batch: &mut Batch) {
        while let Ok(change) = changes.try_recv() {
            batch.add(change);
        }
        if !batch.kinds.iter().any(|k| debounced(k)) {
            return;
        }
        while !batch.stop {
            match changes.recv_timeout(self.pacing.debounce) {
                Ok(change) => batch.add(change),
                Err(_) => return,
            }
        }
    }

    /// Evaluates and pushes: a full snapshot when nothing was acknowledged yet or the resync
    /// is due, else a delta against the last acknowledged state: through the focused path
    /// when the batch's changes allow it (`focused`), else from a full evaluation. `batch`:
    /// what changed (`None`: unknown).
    fn push(&mut self, batch: Option<&Batch>) {
        let started = Instant::now();
        let full = self.acknowledged.is_none() || started >= self.last_full + self.pacing.resync;
        let now = SystemClock.now();
        self.pushes += 1;
        let id = format!(
            "sensor-{}-{}-{}",
            now.unix_ms(),
            std::process::id(),
            self.pushes
        );
        let kinds = batch.map(|b| b.kinds.as_slice());
        let first = batch.and_then(|b| b.first);
        if !full
            && self.retry_at.is_none()
            && let Some(objects) = batch.and_then(|b| b.objects.as_deref())
            && !objects.is_empty()
            && self.push_focused(objects, id.clone(), now, started, first)
        {
            return;
        }
        let affected = if full {
            affected(None)
        } else {
            affected(kinds)
        };
        let current = self.evaluator.evaluate(
            self.watch,
            id.clone(),
            now,
            affected,
            self.acknowledged.as_ref().map(Acknowledged::snapshot),
        );
        let evaluated = started.elapsed();
        // A delta from the acknowledged state, or (`None`) the whole snapshot.
        let delta = match (&self.acknowledged, full) {
            (Some(previous), false) => {
                let delta = previous.delta_with(current.snapshot(), current.findings(), id.clone());
                if delta.is_empty() {
                    tracing::debug!(kinds = ?kinds, "no finding or workload changed");
                    self.retry_at = None;
                    return;
                }
                Some(delta)
            }
            _ => None,
        };
        // The state central holds once it acknowledges is made while the push is under way (a
        // 100,000-workload snapshot takes central minutes to store), so the loop can take the
        // next change as soon as the acknowledgement comes.
        let (result, state) = std::thread::scope(|scope| {
            let state = scope.spawn(|| Acknowledged::of(current.snapshot(), current.findings()));
            let result = match &delta {
                Some(delta) => self.post("delta", delta).map(|ack| {
                    tracing::info!(
                        delta = %id,
                        path = "full",
                        objects = delta.objects.len(),
                        workloads = delta.workloads.len(),
                        deleted = delta.deleted.len(),
                        accepted = ack.accepted,
                        evaluate_ms = evaluated.as_millis() as u64,
                        latency_ms = first.map(|f| f.elapsed().as_secs_f64() * 1000.0),
                        "delta acknowledged"
                    );
                }),
                None => self.post_snapshot(&current).map(|ack| {
                    self.last_full = started;
                    tracing::info!(
                        snapshot = %id,
                        workloads = current.snapshot().workloads.len(),
                        findings = current.findings().len(),
                        objects = current.snapshot().objects.len(),
                        accepted = ack.accepted,
                        evaluate_ms = evaluated.as_millis() as u64,
                        "snapshot acknowledged"
                    );
                }),
            };
            let state = state
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (result, state)
        });
        match result {
            Ok(()) => {
                self.acknowledged = Some(state);
                self.retry_at = None;
            }
            Err(e) => self.push_failed(&e),
        }
        // Two million findings take a second or more to free: not on the loop's time.
        std::thread::spawn(move || drop((current, delta)));
    }

    /// The focused path (`focused`): evaluates the changed `objects` alone and pushes their
    /// delta. Returns false when they need a full evaluation (nothing was pushed).
    fn push_focused(
        &mut self,
        objects: &[(&str, ObjectName)],
        id: String,
        now: palisade_model::time::Timestamp,
        started: Instant,
        first: Option<Instant>,
    ) -> bool {
        let Some(previous) = self.acknowledged.as_ref() else {
            return false;
        };
        let Some(delta) = self
            .evaluator
            .focused(self.watch, objects, previous, id.clone(), now)
        else {
            return false;
        };
        let evaluated = started.elapsed();
        if delta.is_empty() {
            tracing::debug!(objects = objects.len(), "no finding or workload changed");
            return true;
        }
        match self.post("delta", &delta) {
            Ok(ack) => {
                tracing::info!(
                    delta = %id,
                    path = "focused",
                    objects = delta.objects.len(),
                    workloads = delta.workloads.len(),
                    deleted = 0,
                    accepted = ack.accepted,
                    evaluate_ms = evaluated.as_millis() as u64,
                    latency_ms = first.map(|f| f.elapsed().as_secs_f64() * 1000.0),
                    "delta acknowledged"
                );
                if let Some(acknowledged) = self.acknowledged.as_mut() {
                    acknowledged.apply(delta);
                }
            }
            Err(e) => self.push_failed(&e),
        }
        true
    }

    /// Logs a failed push and schedules its retry.
    fn push_failed(&mut self, e: &anyhow::Error) {
        tracing::error!(
            "push to central failed (retrying in {:?}): {}",
            self.pacing.retry,
            crate::output::error_chain(e)
        );
        self.retry_at = Some(Instant::now() + self.pacing.retry);
    }

    fn post<B: serde::Serialize + Sync>(&self, what: &str, body: &B) -> anyhow::Result<IngestAck> {
        self.client
            .post(&cluster_path(self.cluster, what), body)
            .with_context(|| format!("pushing to central ({what})"))
    }

    /// A full snapshot, sent as a stream (central stores it while it arrives), its finding
    /// records made as they are written.
    fn post_snapshot(&self, snapshot: &PendingSnapshot) -> anyhow::Result<IngestAck> {
        self.client
            .post_snapshot_with(&cluster_path(self.cluster, "snapshots"), |mut out| {
                snapshot.write(&mut out)
            })
            .context("pushing to central (snapshots)")
    }
}
