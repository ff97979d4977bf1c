//! Carrying out responses: kill a process (race-free through a pidfd, checked against PID
//! reuse), stop a container through its engine (`podman stop`, `docker stop`,
//! `crictl stop` for containerd and CRI-O) so the orchestrator replaces it, or delete a pod or
//! restart its workload through the Kubernetes API (palisade-cluster's [`Actor`], with the
//! agent's kubeconfig or in-cluster service account).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::Duration;

use palisade_model::time::Timestamp;
use palisade_runtime::alert::{ResponseRecord, ResponseStatus};
use palisade_runtime::event::ContainerRuntime;
use palisade_runtime::response::ResponseRequest;

use crate::clock::now_ms;
use crate::config::{KubernetesConfig, ResponseConfig};
use crate::output::{Output, OutputSender};
use crate::stats::Stats;
use palisade_cluster::act::{ActionError, Actor};

/// One response to carry out, with the rule that asked for it.
#[derive(Debug, Clone)]
pub struct ResponseJob {
    /// Rule ID.
    pub rule: String,
    /// What to do.
    pub request: ResponseRequest,
}

/// The sending end of the response queue, counting drops.
#[derive(Clone)]
pub struct ResponseSender {
    tx: SyncSender<ResponseJob>,
    out: OutputSender,
    stats: Arc<Stats>,
}

impl ResponseSender {
    /// Wraps a bounded channel's sender.
    pub fn new(tx: SyncSender<ResponseJob>, out: OutputSender, stats: Arc<Stats>) -> Self {
        ResponseSender { tx, out, stats }
    }

    /// Queues a job; when the queue is full, records it as skipped.
    pub fn send(&self, job: ResponseJob) {
        if let Err(TrySendError::Full(job)) = self.tx.try_send(job) {
            Stats::inc(&self.stats.responses_dropped_queue);
            self.out.send(Output::Response(Box::new(record(
                &job,
                ResponseStatus::Skipped,
                "response queue full".into(),
            ))));
        }
    }
}

fn record(job: &ResponseJob, status: ResponseStatus, detail: String) -> ResponseRecord {
    let container_id = match &job.request {
        ResponseRequest::KillContainer { container_id, .. } => Some(container_id.clone()),
        _ => None,
    };
    ResponseRecord {
        record: "response".into(),
        time: Timestamp::from_unix_ms(now_ms()).rfc3339_ms(),
        rule: job.rule.clone(),
        action: job.request.action(),
        request: Some(job.request.clone()),
        container_id,
        status,
        detail,
    }
}

/// Carries out responses.
pub struct Responder {
    cfg: ResponseConfig,
    cluster: Option<Actor>,
    out: OutputSender,
    stats: Arc<Stats>,
}

/// A response not carried out: failed, or skipped because there was nothing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotDone {
    /// [`ResponseStatus::Failed`] or [`ResponseStatus::Skipped`].
    pub status: ResponseStatus,
    /// Why.
    pub detail: String,
}

impl From<String> for NotDone {
    fn from(detail: String) -> Self {
        NotDone {
            status: ResponseStatus::Failed,
            detail,
        }
    }
}

impl From<ActionError> for NotDone {
    fn from(e: ActionError) -> Self {
        let status = match e {
            ActionError::NothingToRestart(_) => ResponseStatus::Skipped,
            _ => ResponseStatus::Failed,
        };
        NotDone {
            status,
            detail: e.to_string(),
        }
    }
}

impl Responder {
    /// Sets up the responder; fails when the cluster client cannot be built (no kubeconfig
    /// and not in a cluster, an unreadable kubeconfig).
    pub fn new(
        cfg: ResponseConfig,
        kubernetes: Option<&KubernetesConfig>,
        out: OutputSender,
        stats: Arc<Stats>,
    ) -> Result<Responder, String> {
        let cluster = match kubernetes {
            Some(k) => Some(Actor::connect(&k.source()).map_err(|e| format!("kubernetes: {e}"))?),
            None => None,
        };
        Ok(Responder {
            cfg,
            cluster,
            out,
            stats,
        })
    }

    /// Runs jobs until the processor is gone.
    pub fn run(self, rx: Receiver<ResponseJob>) {
        for job in rx {
            let (status, detail) = match self.execute(&job.request) {
                Ok(d) => {
                    Stats::inc(&self.stats.responses_done);
                    (ResponseStatus::Done, d)
                }
                Err(e) => {
                    if e.status == ResponseStatus::Failed {
                        Stats::inc(&self.stats.responses_failed);
                    }
                    (e.status, e.detail)
                }
            };
            self.out
                .send(Output::Response(Box::new(record(&job, status, detail))));
        }
    }

    /// Carries out one request; returns a description of what was done.
    pub fn execute(&self, req: &ResponseRequest) -> Result<String, NotDone> {
        match req {
            ResponseRequest::KillProcess { pid, start_ticks } => {
                Ok(kill_process(*pid, *start_ticks)?)
            }
            ResponseRequest::KillContainer {
                runtime,
                container_id,
            } => Ok(self.stop_container(*runtime, container_id)?),
            ResponseRequest::DeletePod { namespace, pod } => {
                Ok(self.cluster()?.delete_pod(namespace, pod)?)
            }
            ResponseRequest::RestartWorkload { namespace, pod } => {
                Ok(self.cluster()?.restart_workload(namespace, pod)?)
            }
        }
    }

    fn cluster(&self) -> Result<&Actor, NotDone> {
        self.cluster.as_ref().ok_or_else(|| NotDone {
            status: ResponseStatus::Skipped,
            detail: "no cluster API is configured".into(),
        })
    }

    fn stop_container(&self, runtime: ContainerRuntime, id: &str) -> Result<String, String> {
        let t = self.cfg.stop_timeout_secs.to_string();
        let (program, args): (&str, Vec<&str>) = match runtime {
            ContainerRuntime::Podman => (&self.cfg.podman, vec!["stop", "--time", &t, id]),
            ContainerRuntime::Docker => {
                let mut args = match &self.cfg.docker_host {
                    Some(host) => vec!["-H", host.as_str()],
                    None => Vec::new(),
                };
                args.extend(["stop", "--time", &t, id]);
                (&self.cfg.docker, args)
            }
            ContainerRuntime::Containerd | ContainerRuntime::Crio => {
                (&self.cfg.crictl, vec!["stop", "--timeout", &t, id])
            }
        };
        let deadline = Duration::from_secs(self.cfg.stop_timeout_secs + 30);
        let out = crate::command::run(program, &args, deadline)
            .map_err(|e| format!("{program} {}: {e}", args.join(" ")))?;
        if out.code == Some(0) {
            Ok(format!("stopped with {program} {}", args.join(" ")))
        } else {
            Err(format!(
                "{program} {} exited with {:?}: {}",
                args.join(" "),
                out.code,
                out.stderr.trim()
            ))
        }
    }
}

/// Sends SIGKILL through a pidfd after checking that the PID still names the same process.
pub fn kill_process(pid: u32, start_ticks: u64) -> Result<String, String> {
    let raw = i32::try_from(pid).map_err(|_| format!("PID {pid} out of range"))?;
    let p = rustix::process::Pid::from_raw(raw).ok_or_else(|| format!("invalid PID {pid}"))?;
    let fd = rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty())
        .map_err(|e| format!("process {pid} is gone ({e})"))?;
    // With the pidfd held, the PID cannot be reused for another process: if its start time
    // still matches, the fd refers to the process the rule matched.
    match crate::procinfo::start_ticks(pid) {
        Some(t) if t == start_ticks => {}
        Some(_) => return Err(format!("PID {pid} now names another process; not killed")),
        None => return Err(format!("process {pid} is gone")),
    }
    rustix::process::pidfd_send_signal(&fd, rustix::process::Signal::KILL)
        .map_err(|e| format!("kill {pid}: {e}"))?;
    Ok(format!("sent SIGKILL to {pid}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn kills_the_matching_process_only() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let ticks = crate::procinfo::start_ticks(pid).unwrap();
        let e = kill_process(pid, ticks + 1).unwrap_err();
        assert!(e.contains("another process"), "{e}");
        assert!(child.try_wait().unwrap().is_none(), "still running");
        kill_process(pid, ticks).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(9));
        assert!(kill_process(pid, ticks).is_err());
    }
}
