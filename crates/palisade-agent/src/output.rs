//! Output: the writer thread turns alert, response and flow records into JSON lines (alerts
//! and responses to standard output or a file, flows to their own file) and hands alerts to
//! the webhook thread. Both queues are bounded and count drops.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::Duration;

use palisade_model::flow::Flow;
use palisade_runtime::{Alert, ResponseRecord};

use crate::central::CentralItem;
use crate::clock::monotonic_ns;
use crate::config::WebhookConfig;
use crate::stats::Stats;

/// A record for the writer.
#[derive(Debug, Clone)]
pub enum Output {
    /// An alert, with the monotonic time of its event (for latency accounting).
    Alert {
        /// The alert.
        alert: Box<Alert>,
        /// `CLOCK_MONOTONIC` ns of the event.
        event_ts_ns: u64,
    },
    /// A response outcome.
    Response(Box<ResponseRecord>),
    /// A flow.
    Flow(Box<Flow>),
    /// Baselines of Kubernetes containers that changed since they were last reported (only
    /// sent when central is configured).
    Baselines(Vec<palisade_runtime::baseline::Baseline>),
}

/// The sending end of the output queue, counting drops.
#[derive(Clone)]
pub struct OutputSender {
    tx: SyncSender<Output>,
    stats: Arc<Stats>,
}

impl OutputSender {
    /// Wraps a bounded channel's sender.
    pub fn new(tx: SyncSender<Output>, stats: Arc<Stats>) -> OutputSender {
        OutputSender { tx, stats }
    }

    /// Queues a record (dropped and counted when the queue is full).
    pub fn send(&self, o: Output) {
        if let Err(TrySendError::Full(_)) = self.tx.try_send(o) {
            Stats::inc(&self.stats.outputs_dropped_queue);
        }
    }
}

/// Where alert lines go.
pub enum AlertSink {
    /// Standard output.
    Stdout,
    /// A file, appended.
    File(PathBuf),
    /// Nowhere (alerts still reach the webhook and the latency counters).
    Discard,
}

impl AlertSink {
    /// `-` is standard output, anything else a file path.
    pub fn from_spec(spec: &str) -> AlertSink {
        if spec == "-" {
            AlertSink::Stdout
        } else {
            AlertSink::File(PathBuf::from(spec))
        }
    }

    fn open(&self) -> io::Result<Box<dyn Write + Send>> {
        Ok(match self {
            AlertSink::Stdout => Box::new(io::stdout()),
            AlertSink::File(p) => Box::new(open_private_append(p)?),
            AlertSink::Discard => Box::new(io::sink()),
        })
    }
}

/// Opens `path` for appending, creating it readable and writable by the owner only: alert and
/// flow records hold command lines, working directories and addresses, which can be sensitive.
fn open_private_append(path: &std::path::Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Opens the sinks; fails early (before any thread starts) when a file cannot be opened.
pub struct Writer {
    alerts: BufWriter<Box<dyn Write + Send>>,
    flows: Option<BufWriter<std::fs::File>>,
    webhook: Option<SyncSender<String>>,
    central: Option<SyncSender<CentralItem>>,
    stats: Arc<Stats>,
}

impl Writer {
    /// Also hands alerts and flows to the central sender.
    pub fn with_central(mut self, tx: Option<SyncSender<CentralItem>>) -> Writer {
        self.central = tx;
        self
    }

    /// Queues a record for central (dropped and counted when its queue is full).
    fn to_central(&self, item: impl FnOnce() -> CentralItem) {
        if let Some(tx) = &self.central
            && let Err(TrySendError::Full(_)) = tx.try_send(item())
        {
            Stats::inc(&self.stats.central_dropped_queue);
        }
    }

    /// Opens the alert sink and the flow file.
    pub fn open(
        alerts: &AlertSink,
        flows: Option<&PathBuf>,
        webhook: Option<SyncSender<String>>,
        stats: Arc<Stats>,
    ) -> io::Result<Writer> {
        let flows = match flows {
            Some(p) => Some(BufWriter::new(open_private_append(p)?)),
            None => None,
        };
        Ok(Writer {
            alerts: BufWriter::new(alerts.open()?),
            flows,
            webhook,
            central: None,
            stats,
        })
    }

    /// Writes records until every sender is gone. Lines are flushed when the queue runs
    /// empty, so a quiet agent's output is never held back.
    pub fn run(mut self, rx: Receiver<Output>) {
        loop {
            let first = match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(o) => o,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            };
            self.write(first);
            while let Ok(o) = rx.try_recv() {
                self.write(o);
            }
            let _ = self.alerts.flush();
            if let Some(f) = &mut self.flows {
                let _ = f.flush();
            }
        }
        let _ = self.alerts.flush();
        if let Some(f) = &mut self.flows {
            let _ = f.flush();
        }
    }

    fn write(&mut self, o: Output) {
        match o {
            Output::Alert { alert, event_ts_ns } => {
                self.to_central(|| CentralItem::Alert(alert.clone()));
                // Serialized straight into the output buffer; a copy is made only for the
                // webhook.
                let written = match &self.webhook {
                    None => serde_json::to_writer(&mut self.alerts, &alert).is_ok(),
                    Some(w) => {
                        let Ok(line) = serde_json::to_string(&alert) else {
                            return;
                        };
                        let ok = self.alerts.write_all(line.as_bytes()).is_ok();
                        if let Err(TrySendError::Full(_)) = w.try_send(line) {
                            Stats::inc(&self.stats.webhook_dropped_queue);
                        }
                        ok
                    }
                };
                if written && self.alerts.write_all(b"\n").is_ok() {
                    Stats::inc(&self.stats.alerts_written);
                }
                self.stats
                    .record_latency_ns(monotonic_ns().saturating_sub(event_ts_ns));
            }
            Output::Response(r) => {
                self.to_central(|| CentralItem::Response(r.clone()));
                if let Ok(line) = serde_json::to_string(&r) {
                    let _ = writeln!(self.alerts, "{line}");
                }
            }
            Output::Baselines(b) => self.to_central(|| CentralItem::Baselines(b)),
            Output::Flow(f) => {
                self.to_central(|| CentralItem::Flow(f.clone()));
                if let (Some(out), Ok(line)) = (&mut self.flows, serde_json::to_string(&f))
                    && writeln!(out, "{line}").is_ok()
                {
                    Stats::inc(&self.stats.flows_written);
                }
            }
        }
    }
}

/// Posts alerts to a webhook, one JSON alert per request.
pub struct Webhook {
    client: reqwest::blocking::Client,
    url: String,
    headers: Vec<(String, String)>,
    stats: Arc<Stats>,
}

/// A webhook that cannot be set up.
#[derive(Debug, thiserror::Error)]
#[error("webhook: {0}")]
pub struct WebhookError(pub String);

/// Builds an HTTPS client trusting the system roots plus the PEM bundle in `ca_file`.
pub fn https_client(
    ca_file: Option<&PathBuf>,
    timeout: Duration,
) -> Result<reqwest::blocking::Client, WebhookError> {
    let mut b = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = ca_file {
        let pem = std::fs::read(ca).map_err(|e| WebhookError(format!("{}: {e}", ca.display())))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| WebhookError(format!("{}: {e}", ca.display())))?;
        if certs.is_empty() {
            return Err(WebhookError(format!(
                "{}: no PEM certificates found",
                ca.display()
            )));
        }
        b = b.tls_certs_merge(certs);
    }
    b.build().map_err(|e| WebhookError(e.to_string()))
}

impl Webhook {
    /// Sets up the client from configuration (call after validation).
    pub fn new(cfg: &WebhookConfig, stats: Arc<Stats>) -> Result<Option<Webhook>, WebhookError> {
        let Some(url) = cfg.url.clone() else {
            return Ok(None);
        };
        let timeout = Duration::from_millis(cfg.timeout_ms.unwrap_or(5000));
        Ok(Some(Webhook {
            client: https_client(cfg.ca_file.as_ref(), timeout)?,
            url,
            headers: cfg
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            stats,
        }))
    }

    /// Sends alerts until the writer is gone. A failed delivery is retried once.
    pub fn run(self, rx: Receiver<String>) {
        for body in rx {
            let ok = self.post(&body) || {
                std::thread::sleep(Duration::from_millis(500));
                self.post(&body)
            };
            if ok {
                Stats::inc(&self.stats.webhook_sent);
            } else {
                Stats::inc(&self.stats.webhook_failed);
            }
        }
    }

    fn post(&self, body: &str) -> bool {
        let mut req = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_string());
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        match req.send() {
            Ok(resp) if resp.status().is_success() => true,
            Ok(resp) => {
                tracing::warn!("webhook {} answered {}", self.url, resp.status());
                false
            }
            Err(e) => {
                tracing::warn!("webhook {} failed: {e}", self.url);
                false
            }
        }
    }
}
