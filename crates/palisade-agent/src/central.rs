//! Reporting to central: alerts, flows, baseline changes and response outcomes sent in batches
//! to central's ingest endpoints (`POST /api/v1/clusters/CLUSTER/alerts|flows|baselines|responses`)
//! over HTTPS with a bearer token.
//!
//! Every batch is first written to the spool (`STATE_DIR/spool/`, one file per batch, named by
//! a sequence number) and deleted once central acknowledged it, so a batch survives central's
//! outages and the agent's restarts and is sent in order. The spool is bounded by bytes: when
//! it is full the oldest batches are dropped and their records counted
//! (`central_spool_dropped`). Alert and response ids are unique per agent start (`NODE-STARTMS-N`) and a
//! flow batch is identified by its content, so a batch resent after a lost acknowledgement is
//! stored once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use palisade_api::{AlertRecord, BaselineRecord, FlowRecord};
use palisade_model::WorkloadId;
use palisade_model::flow::{Flow, FlowEndpoint};
use palisade_model::time::Timestamp;
use palisade_runtime::Alert;
use palisade_runtime::baseline::Baseline;
use serde::Deserialize;

use crate::output::https_client;
use crate::stats::Stats;

/// `central:` in the agent configuration (or `agent run --central URL --cluster NAME
/// --token-file F [--ca-cert F]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentralConfig {
    /// `https://host:port` of central.
    pub url: String,
    /// The cluster this node belongs to, as central knows it (the token must be bound to it).
    pub cluster: String,
    /// File holding an `agent` token of the cluster.
    pub token_file: PathBuf,
    /// CA certificates (PEM) to trust besides the system roots (central's `DATA/tls/ca.pem`).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The node's name in alert records (default: the host name).
    #[serde(default)]
    pub node: Option<String>,
    /// Most records in one batch.
    #[serde(default = "default_batch_max")]
    pub batch_max: usize,
    /// Longest time a record waits for its batch to fill, in milliseconds.
    #[serde(default = "default_batch_ms")]
    pub batch_interval_ms: u64,
    /// Most bytes the spool holds; the oldest batches are dropped (and counted) beyond it.
    #[serde(default = "default_spool_bytes")]
    pub spool_max_bytes: u64,
}

fn default_batch_max() -> usize {
    500
}
fn default_batch_ms() -> u64 {
    1000
}
fn default_spool_bytes() -> u64 {
    64 * 1024 * 1024
}

impl CentralConfig {
    /// Central at `url` for `cluster` with the token in `token_file`, other settings default.
    pub fn new(url: String, cluster: String, token_file: PathBuf) -> CentralConfig {
        CentralConfig {
            url,
            cluster,
            token_file,
            ca_file: None,
            node: None,
            batch_max: default_batch_max(),
            batch_interval_ms: default_batch_ms(),
            spool_max_bytes: default_spool_bytes(),
        }
    }

    /// Checks the URL scheme and the bounds.
    pub fn validate(&self) -> Result<(), String> {
        if !self.url.starts_with("https://") {
            return Err(format!("{} is not an https:// URL", self.url));
        }
        if self.cluster.is_empty() {
            return Err("the cluster name is empty".into());
        }
        if self.batch_max == 0 || self.spool_max_bytes == 0 {
            return Err("batch_max and spool_max_bytes must be positive".into());
        }
        Ok(())
    }
}

/// A record for central.
#[derive(Debug, Clone)]
pub enum CentralItem {
    /// An alert.
    Alert(Box<Alert>),
    /// An observed connection.
    Flow(Box<Flow>),
    /// Baselines that changed.
    Baselines(Vec<Baseline>),
    /// A response's outcome.
    Response(Box<palisade_runtime::ResponseRecord>),
}

/// Which endpoint a spooled batch goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Alerts,
    Flows,
    Baselines,
    Responses,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Alerts => "alerts",
            Kind::Flows => "flows",
            Kind::Baselines => "baselines",
            Kind::Responses => "responses",
        }
    }

    fn parse(name: &str) -> Option<Kind> {
        match name {
            "alerts" => Some(Kind::Alerts),
            "flows" => Some(Kind::Flows),
            "baselines" => Some(Kind::Baselines),
            "responses" => Some(Kind::Responses),
            _ => None,
        }
    }
}

/// One spooled batch: `SEQ-KIND-COUNT.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spooled {
    seq: u64,
    kind: Kind,
    count: u64,
    bytes: u64,
    path: PathBuf,
}

/// The on-disk queue of batches, oldest first.
struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    batches: std::collections::VecDeque<Spooled>,
    next_seq: u64,
}

impl Spool {
    /// Opens (creating) the spool and lists what an earlier run left.
    fn open(dir: PathBuf, max_bytes: u64) -> std::io::Result<Spool> {
        std::fs::create_dir_all(&dir)?;
        let mut batches = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            let mut parts = stem.splitn(3, '-');
            let (Some(seq), Some(kind), Some(count)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let (Ok(seq), Some(kind), Ok(count)) = (seq.parse(), Kind::parse(kind), count.parse())
            else {
                continue;
            };
            batches.push(Spooled {
                seq,
                kind,
                count,
                bytes: entry.metadata()?.len(),
                path: entry.path(),
            });
        }
        batches.sort_by_key(|b| b.seq);
        let next_seq = batches.last().map_or(0, |b| b.seq + 1);
        Ok(Spool {
            dir,
            max_bytes,
            batches: batches.into(),
            next_seq,
        })
    }

    fn bytes(&self) -> u64 {
        self.batches.iter().map(|b| b.bytes).sum()
    }

    /// Writes a batch (fsynced, then renamed into place); drops the oldest batches while the
    /// spool is over its bound and returns how many records they held.
    fn push(&mut self, kind: Kind, count: u64, body: &[u8]) -> std::io::Result<u64> {
        use std::io::Write;
        let seq = self.next_seq;
        self.next_seq += 1;
        let path = self
            .dir
            .join(format!("{seq:020}-{}-{count}.json", kind.name()));
        let tmp = self.dir.join(format!(".{seq:020}.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(body)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        self.batches.push_back(Spooled {
            seq,
            kind,
            count,
            bytes: body.len() as u64,
            path,
        });
        let mut dropped = 0;
        while self.bytes() > self.max_bytes && self.batches.len() > 1 {
            if let Some(old) = self.batches.pop_front() {
                let _ = std::fs::remove_file(&old.path);
                dropped += old.count;
            }
        }
        Ok(dropped)
    }
}

/// The sender thread: batches, spools and delivers.
pub struct CentralSender {
    client: reqwest::blocking::Client,
    base: String,
    cluster: String,
    token: String,
    node: String,
    id_prefix: String,
    next_id: u64,
    cfg: CentralConfig,
    spool: Spool,
    stats: Arc<Stats>,
    retry_at: Option<Instant>,
    failures: u32,
}

/// A sender that cannot be set up.
#[derive(Debug, thiserror::Error)]
#[error("central: {0}")]
pub struct CentralError(pub String);

impl CentralSender {
    /// Sets up the client, reads the token and opens the spool under `state_dir`.
    pub fn new(
        cfg: &CentralConfig,
        state_dir: &Path,
        start_ms: u64,
        stats: Arc<Stats>,
    ) -> Result<CentralSender, CentralError> {
        cfg.validate().map_err(CentralError)?;
        let token = std::fs::read_to_string(&cfg.token_file)
            .map_err(|e| CentralError(format!("{}: {e}", cfg.token_file.display())))?
            .trim()
            .to_string();
        if token.is_empty() {
            return Err(CentralError(format!(
                "{}: the token is empty",
                cfg.token_file.display()
            )));
        }
        let client = https_client(cfg.ca_file.as_ref(), Duration::from_secs(10))
            .map_err(|e| CentralError(e.to_string()))?;
        let spool = Spool::open(state_dir.join("spool"), cfg.spool_max_bytes)
            .map_err(|e| CentralError(format!("spool {}: {e}", state_dir.display())))?;
        let node = cfg.node.clone().unwrap_or_else(host_name);
        Ok(CentralSender {
            client,
            base: cfg.url.trim_end_matches('/').to_string(),
            cluster: cfg.cluster.clone(),
            token,
            id_prefix: format!("{node}-{start_ms}"),
            node,
            next_id: 0,
            cfg: cfg.clone(),
            spool,
            stats,
            retry_at: None,
            failures: 0,
        })
    }

    /// Batches records until every sender is gone, then delivers what it can and returns
    /// (what it could not deliver stays spooled for the next start).
    pub fn run(mut self, rx: Receiver<CentralItem>) {
        let interval = Duration::from_millis(self.cfg.batch_interval_ms);
        let mut alerts: Vec<AlertRecord> = Vec::new();
        let mut flows: Vec<FlowRecord> = Vec::new();
        let mut baselines: Vec<BaselineRecord> = Vec::new();
        let mut responses: Vec<palisade_api::ResponseRecord> = Vec::new();
        let mut oldest: Option<Instant> = None;
        loop {
            let wait = match oldest {
                Some(t) => interval.saturating_sub(t.elapsed()),
                None => interval,
            };
            let wait = match self.retry_at {
                Some(r) if !self.spool.batches.is_empty() => {
                    wait.min(r.saturating_duration_since(Instant::now()))
                }
                _ => wait,
            };
            let disconnected = match rx.recv_timeout(wait.max(Duration::from_millis(1))) {
                Ok(item) => {
                    oldest.get_or_insert_with(Instant::now);
                    match item {
                        CentralItem::Alert(a) => alerts.push(self.alert_record(&a)),
                        CentralItem::Flow(f) => flows.push(flow_record(&f)),
                        CentralItem::Baselines(b) => {
                            let now = Timestamp::from_unix_ms(crate::clock::now_ms());
                            baselines.extend(b.iter().filter_map(|b| baseline_record(b, now)));
                        }
                        CentralItem::Response(r) => responses.push(self.response_record(&r)),
                    }
                    false
                }
                Err(RecvTimeoutError::Timeout) => false,
                Err(RecvTimeoutError::Disconnected) => true,
            };
            let due = oldest.is_some_and(|t| t.elapsed() >= interval) || disconnected;
            if alerts.len() >= self.cfg.batch_max || (due && !alerts.is_empty()) {
                let batch = palisade_api::AlertBatch {
                    alerts: std::mem::take(&mut alerts),
                };
                self.spool_batch(Kind::Alerts, batch.alerts.len(), &batch);
            }
            if flows.len() >= self.cfg.batch_max || (due && !flows.is_empty()) {
                let batch = palisade_api::FlowBatch {
                    flows: std::mem::take(&mut flows),
                };
                self.spool_batch(Kind::Flows, batch.flows.len(), &batch);
            }
            if !baselines.is_empty() && (baselines.len() >= self.cfg.batch_max || due) {
                let batch = palisade_api::BaselineBatch {
                    baselines: std::mem::take(&mut baselines),
                };
                self.spool_batch(Kind::Baselines, batch.baselines.len(), &batch);
            }
            if !responses.is_empty() && (responses.len() >= self.cfg.batch_max || due) {
                let batch = palisade_api::ResponseBatch {
                    responses: std::mem::take(&mut responses),
                };
                self.spool_batch(Kind::Responses, batch.responses.len(), &batch);
            }
            if alerts.is_empty() && flows.is_empty() && baselines.is_empty() && responses.is_empty()
            {
                oldest = None;
            }
            self.deliver(disconnected);
            if disconnected {
                break;
            }
        }
        self.stats.set_spooled(
            self.spool.batches.len() as u64,
            self.spool.batches.iter().map(|b| b.count).sum(),
        );
    }

    fn spool_batch<T: serde::Serialize>(&mut self, kind: Kind, count: usize, batch: &T) {
        let Ok(body) = serde_json::to_vec(batch) else {
            return;
        };
        match self.spool.push(kind, count as u64, &body) {
            Ok(dropped) => {
                Stats::add(&self.stats.central_spool_dropped, dropped);
            }
            Err(e) => {
                tracing::warn!("central spool: {e}");
                Stats::add(&self.stats.central_spool_dropped, count as u64);
            }
        }
        self.stats.set_spooled(
            self.spool.batches.len() as u64,
            self.spool.batches.iter().map(|b| b.count).sum(),
        );
    }

    /// Sends spooled batches oldest first until one fails (then waits before trying again,
    /// unless `now` asks for one more attempt at once).
    fn deliver(&mut self, now: bool) {
        if !now && self.retry_at.is_some_and(|r| Instant::now() < r) {
            return;
        }
        while let Some(batch) = self.spool.batches.front().cloned() {
            match self.post(&batch) {
                Delivery::Stored => {
                    Stats::add(&self.stats.central_sent, batch.count);
                }
                Delivery::Refused(status) => {
                    tracing::warn!(
                        "central refused a batch of {} {} ({status}); dropped",
                        batch.count,
                        batch.kind.name()
                    );
                    Stats::add(&self.stats.central_rejected, batch.count);
                }
                Delivery::Failed(reason) => {
                    Stats::inc(&self.stats.central_failed);
                    self.failures = self.failures.saturating_add(1);
                    let backoff = Duration::from_millis((100u64 << self.failures.min(5)).min(2000));
                    if self.failures == 1 {
                        tracing::warn!("central unreachable ({reason}); spooling");
                    }
                    self.retry_at = Some(Instant::now() + backoff);
                    return;
                }
            }
            let _ = std::fs::remove_file(&batch.path);
            self.spool.batches.pop_front();
            if self.failures > 0 {
                tracing::info!("central reachable again");
            }
            self.failures = 0;
            self.retry_at = None;
        }
    }

    fn post(&self, batch: &Spooled) -> Delivery {
        let body = match std::fs::read(&batch.path) {
            Ok(b) => b,
            Err(e) => return Delivery::Refused(format!("unreadable spool file: {e}")),
        };
        let url = format!(
            "{}/api/v1/clusters/{}/{}",
            self.base,
            self.cluster,
            batch.kind.name()
        );
        let sent = self
            .client
            .post(url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send();
        match sent {
            Ok(r) if r.status().is_success() => Delivery::Stored,
            // Retried: overload, an outage behind a proxy, a store that is down.
            Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => {
                Delivery::Failed(r.status().to_string())
            }
            Ok(r) => Delivery::Refused(r.status().to_string()),
            Err(e) => Delivery::Failed(e.to_string()),
        }
    }

    /// The wire record of an alert: a fresh id, the workload from the container's identity,
    /// the agent's whole alert as `detail` (central's runtime policy counts it from there).
    /// A record id unique per agent start (`NODE-STARTMS-N`).
    fn next_id(&mut self) -> String {
        let id = format!("{}-{}", self.id_prefix, self.next_id);
        self.next_id += 1;
        id
    }

    fn response_record(
        &mut self,
        r: &palisade_runtime::ResponseRecord,
    ) -> palisade_api::ResponseRecord {
        use palisade_runtime::response::ResponseRequest as R;
        let target = match &r.request {
            Some(R::KillProcess { pid, .. }) => format!("process {pid}"),
            Some(R::KillContainer { container_id, .. }) => format!("container {container_id}"),
            Some(R::DeletePod { namespace, pod } | R::RestartWorkload { namespace, pod }) => {
                format!("pod {namespace}/{pod}")
            }
            None => r
                .container_id
                .as_ref()
                .map_or_else(String::new, |c| format!("container {c}")),
        };
        palisade_api::ResponseRecord {
            id: self.next_id(),
            time: Timestamp::parse_rfc3339(&r.time).unwrap_or(Timestamp::from_unix_ms(0)),
            node: Some(self.node.clone()),
            rule: r.rule.clone(),
            action: r.action.to_string(),
            target,
            outcome: serde_json::to_value(r.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            detail: r.detail.clone(),
        }
    }

    fn alert_record(&mut self, a: &Alert) -> AlertRecord {
        let id = self.next_id();
        let c = a.container.as_ref();
        let workload = c.and_then(|c| {
            let ns = c.namespace.as_deref()?;
            let (kind, name) = c.workload.as_deref()?.split_once('/')?;
            Some(WorkloadId::new(ns, kind, name))
        });
        AlertRecord {
            id,
            time: Timestamp::parse_rfc3339(&a.time).unwrap_or(Timestamp::from_unix_ms(0)),
            node: Some(self.node.clone()),
            workload,
            container: c.and_then(|c| c.name.clone()),
            rule: a.rule.clone(),
            severity: a.severity,
            message: a.description.clone(),
            detail: serde_json::to_value(a).unwrap_or_default(),
        }
    }
}

enum Delivery {
    Stored,
    Refused(String),
    Failed(String),
}

/// A flow as central stores it: endpoints with a workload become workload ids (a pod alone
/// becomes `Pod/NAME`), others their address.
fn flow_record(f: &Flow) -> FlowRecord {
    let side = |e: &FlowEndpoint| -> (Option<WorkloadId>, Option<String>) {
        let id = e.namespace.as_deref().and_then(|ns| {
            match (
                e.workload.as_deref().and_then(|w| w.split_once('/')),
                &e.pod,
            ) {
                (Some((kind, name)), _) => Some(WorkloadId::new(ns, kind, name)),
                (None, Some(pod)) => Some(WorkloadId::new(ns, "Pod", pod.as_str())),
                (None, None) => None,
            }
        });
        match id {
            Some(id) => (Some(id), None),
            None => (None, e.ip.clone()),
        }
    };
    let (src, src_address) = side(&f.src);
    let (dst, dst_address) = side(&f.dst);
    let t = Timestamp::parse_rfc3339(&f.timestamp).unwrap_or(Timestamp::from_unix_ms(0));
    FlowRecord {
        src,
        src_address,
        dst,
        dst_address,
        port: f.port,
        protocol: f.protocol.clone(),
        first_seen: t,
        last_seen: t,
        count: 1,
    }
}

/// A baseline of a Kubernetes container as central stores it (programs by executable path,
/// or by name when the path is unknown), changed at `now`.
fn baseline_record(b: &Baseline, now: Timestamp) -> Option<BaselineRecord> {
    let (kind, name) = b.workload.as_deref()?.split_once('/')?;
    let mut processes: Vec<String> = b
        .processes
        .iter()
        .map(|p| {
            if p.exe.is_empty() {
                p.name.clone()
            } else {
                p.exe.clone()
            }
        })
        .collect();
    processes.sort();
    processes.dedup();
    Some(BaselineRecord {
        workload: WorkloadId::new(b.namespace.clone()?, kind, name),
        container: b.container.clone()?,
        processes,
        locked: b.is_locked(),
        updated_at: now,
    })
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spool_keeps_order_across_reopening_and_drops_the_oldest_beyond_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        let mut spool = Spool::open(path.clone(), 25).unwrap();
        assert_eq!(spool.push(Kind::Alerts, 3, b"0123456789").unwrap(), 0);
        assert_eq!(spool.push(Kind::Flows, 1, b"0123456789").unwrap(), 0);
        // A third batch of ten bytes passes the bound: the oldest (3 records) goes.
        assert_eq!(spool.push(Kind::Alerts, 2, b"0123456789").unwrap(), 3);
        let reopened = Spool::open(path, 25).unwrap();
        let kept: Vec<(u64, Kind, u64)> = reopened
            .batches
            .iter()
            .map(|b| (b.seq, b.kind, b.count))
            .collect();
        assert_eq!(kept, [(1, Kind::Flows, 1), (2, Kind::Alerts, 2)]);
        assert_eq!(reopened.next_seq, 3);
    }

    #[test]
    fn flows_name_workloads_or_addresses() {
        let f: Flow = serde_json::from_str(
            r#"{"timestamp":"2026-11-29T10:00:00.000Z","src":{"namespace":"shop","pod":"web-1","workload":"Deployment/web","ip":"10.0.0.1"},"dst":{"ip":"1.1.1.1"},"port":443,"protocol":"TCP"}"#,
        )
        .unwrap();
        let r = flow_record(&f);
        assert_eq!(r.src, Some(WorkloadId::new("shop", "Deployment", "web")));
        assert_eq!((r.dst, r.dst_address.as_deref()), (None, Some("1.1.1.1")));
        assert_eq!((r.port, r.count), (443, 1));
    }
}
