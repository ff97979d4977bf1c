//! Response decisions: which of a rule's actions to carry out for an event, with the guards
//! that keep the agent from harming the node or itself.
//!
//! Every match emits an alert; `actions` add responses:
//!
//! - `kill-process`: SIGKILL the process (checked against PID reuse by its start time).
//!   Refused for PID 1, the agent itself and (unless allowed) host processes.
//! - `kill-container`: stop the container through its engine so that the orchestrator
//!   replaces it. At most once per container per cooldown.
//! - `delete-pod`: delete the pod through the Kubernetes API; only when a cluster API is
//!   configured and the container's namespace and pod are known. Once per pod per cooldown.
//! - `restart-workload`: restart the Deployment, StatefulSet or DaemonSet that owns the pod
//!   (a rollout restart through the Kubernetes API), so every pod of it is replaced; same
//!   conditions as `delete-pod`, once per pod per cooldown.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::event::{ContainerRuntime, Event};

/// What a rule asks for when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Emit an alert (always done; listing it is allowed for clarity).
    Alert,
    /// Kill the process.
    KillProcess,
    /// Stop the container through its engine.
    KillContainer,
    /// Delete the pod through the cluster API.
    DeletePod,
    /// Restart the pod's workload (rollout restart) through the cluster API.
    RestartWorkload,
}

impl Action {
    /// The name as written in rules (`kill-container`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Alert => "alert",
            Action::KillProcess => "kill-process",
            Action::KillContainer => "kill-container",
            Action::DeletePod => "delete-pod",
            Action::RestartWorkload => "restart-workload",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "alert" => Ok(Action::Alert),
            "kill-process" => Ok(Action::KillProcess),
            "kill-container" => Ok(Action::KillContainer),
            "delete-pod" => Ok(Action::DeletePod),
            "restart-workload" => Ok(Action::RestartWorkload),
            other => Err(format!(
                "unknown action '{other}' (expected alert, kill-process, kill-container, delete-pod or restart-workload)"
            )),
        }
    }
}

/// A response for the agent to carry out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum ResponseRequest {
    /// SIGKILL this process instance.
    KillProcess {
        /// PID on the node.
        pid: u32,
        /// Start time in clock ticks since boot; the kill is skipped if the PID now names
        /// another process.
        start_ticks: u64,
    },
    /// Stop this container.
    KillContainer {
        /// Engine.
        runtime: ContainerRuntime,
        /// Container ID.
        container_id: String,
    },
    /// Delete this pod.
    DeletePod {
        /// Namespace.
        namespace: String,
        /// Pod name.
        pod: String,
    },
    /// Restart the workload that owns this pod.
    RestartWorkload {
        /// Namespace.
        namespace: String,
        /// Pod name (its controller is found through the API).
        pod: String,
    },
}

impl ResponseRequest {
    /// The action this request carries out.
    pub fn action(&self) -> Action {
        match self {
            ResponseRequest::KillProcess { .. } => Action::KillProcess,
            ResponseRequest::KillContainer { .. } => Action::KillContainer,
            ResponseRequest::DeletePod { .. } => Action::DeletePod,
            ResponseRequest::RestartWorkload { .. } => Action::RestartWorkload,
        }
    }
}

/// The decision for one requested action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Carry this out.
    Execute(ResponseRequest),
    /// Not carried out, and why.
    Skip {
        /// The action skipped.
        action: Action,
        /// Why.
        reason: String,
    },
}

/// Limits on responses, from the agent's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponsePolicy {
    /// The agent's own PID (never killed).
    pub agent_pid: u32,
    /// Whether `kill-process` may kill processes outside containers.
    pub allow_host_kill: bool,
    /// Whether a cluster API is configured for `delete-pod` and `restart-workload`.
    pub cluster_api_configured: bool,
    /// How long a stopped container or deleted pod is not acted on again, in milliseconds.
    pub cooldown_ms: u64,
}

impl Default for ResponsePolicy {
    fn default() -> Self {
        ResponsePolicy {
            agent_pid: 0,
            allow_host_kill: false,
            cluster_api_configured: false,
            cooldown_ms: 60_000,
        }
    }
}

/// Most containers and pods remembered for cooldowns.
const MAX_REMEMBERED: usize = 10_000;

/// Decides responses and remembers recent container stops and pod deletions.
#[derive(Debug, Clone, Default)]
pub struct ResponseGuard {
    policy: ResponsePolicy,
    recent: HashMap<String, u64>,
}

impl ResponseGuard {
    /// A guard applying `policy`.
    pub fn new(policy: ResponsePolicy) -> ResponseGuard {
        ResponseGuard {
            policy,
            recent: HashMap::new(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &ResponsePolicy {
        &self.policy
    }

    /// Decides each action (other than `alert`) for an event at time `now_ms`.
    pub fn decide(&mut self, actions: &[Action], event: &Event, now_ms: u64) -> Vec<Decision> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for &action in actions {
            if action == Action::Alert || seen.contains(&action) {
                continue;
            }
            seen.push(action);
            out.push(match self.decide_one(action, event, now_ms) {
                Ok(req) => Decision::Execute(req),
                Err(reason) => Decision::Skip { action, reason },
            });
        }
        out
    }

    fn decide_one(
        &mut self,
        action: Action,
        event: &Event,
        now_ms: u64,
    ) -> Result<ResponseRequest, String> {
        match action {
            Action::Alert => Err("alerts are not responses".into()),
            Action::KillProcess => {
                let p = event
                    .process
                    .as_ref()
                    .ok_or("no process is known for this event")?;
                if p.pid <= 1 {
                    return Err(format!("refusing to kill PID {}", p.pid));
                }
                if p.pid == self.policy.agent_pid {
                    return Err("refusing to kill the agent itself".into());
                }
                if event.container.is_none() && !self.policy.allow_host_kill {
                    return Err("host process and allow_host_kill is off".into());
                }
                Ok(ResponseRequest::KillProcess {
                    pid: p.pid,
                    start_ticks: p.start_ticks,
                })
            }
            Action::KillContainer => {
                let c = event
                    .container
                    .as_ref()
                    .ok_or("host process: there is no container to stop")?;
                self.once_per_cooldown(format!("container/{}", c.id), now_ms)?;
                Ok(ResponseRequest::KillContainer {
                    runtime: c.runtime,
                    container_id: c.id.clone(),
                })
            }
            Action::DeletePod => {
                let (namespace, pod) = self.pod_of(event, "pod/", now_ms)?;
                Ok(ResponseRequest::DeletePod { namespace, pod })
            }
            Action::RestartWorkload => {
                let (namespace, pod) = self.pod_of(event, "restart/", now_ms)?;
                Ok(ResponseRequest::RestartWorkload { namespace, pod })
            }
        }
    }

    /// The namespace and pod of the event's container, for an action through the cluster API
    /// (once per pod and action per cooldown: `key` tells the actions apart).
    fn pod_of(
        &mut self,
        event: &Event,
        key: &str,
        now_ms: u64,
    ) -> Result<(String, String), String> {
        if !self.policy.cluster_api_configured {
            return Err("no cluster API is configured".into());
        }
        let c = event
            .container
            .as_ref()
            .ok_or("host process: there is no pod to act on")?;
        let (Some(ns), Some(pod)) = (&c.namespace, &c.pod) else {
            return Err("the container's namespace and pod are not known".into());
        };
        self.once_per_cooldown(format!("{key}{ns}/{pod}"), now_ms)?;
        Ok((ns.clone(), pod.clone()))
    }

    fn once_per_cooldown(&mut self, key: String, now_ms: u64) -> Result<(), String> {
        let cooldown = self.policy.cooldown_ms;
        if let Some(&at) = self.recent.get(&key)
            && now_ms.saturating_sub(at) < cooldown
        {
            return Err(format!(
                "already acted on {key} {} ms ago (cooldown {cooldown} ms)",
                now_ms.saturating_sub(at)
            ));
        }
        if self.recent.len() >= MAX_REMEMBERED {
            self.recent
                .retain(|_, at| now_ms.saturating_sub(*at) < cooldown);
            if self.recent.len() >= MAX_REMEMBERED {
                // Still full of fresh entries: forget the oldest half.
                let mut times: Vec<u64> = self.recent.values().copied().collect();
                times.sort_unstable();
                let cut = times[times.len() / 2];
                self.recent.retain(|_, at| *at > cut);
            }
        }
        self.recent.insert(key, now_ms);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ContainerInfo, ProcessInfo};

    const ID: &str = "d481261a4b5cf2b51de4c15910d8858157f9e4b84815999696612abe2b740cb8";

    fn event(pid: u32, container: bool) -> Event {
        let mut c = ContainerInfo::bare(ContainerRuntime::Podman, ID);
        c.namespace = Some("shop".into());
        c.pod = Some("web-1".into());
        Event::exec(
            0,
            ProcessInfo {
                pid,
                start_ticks: 777,
                ..Default::default()
            },
            None,
            container.then_some(c),
        )
    }

    #[test]
    fn action_names_parse() {
        for a in [
            Action::Alert,
            Action::KillProcess,
            Action::KillContainer,
            Action::DeletePod,
            Action::RestartWorkload,
        ] {
            assert_eq!(a.as_str().parse::<Action>().unwrap(), a);
        }
        assert!(
            "kill"
                .parse::<Action>()
                .unwrap_err()
                .contains("unknown action 'kill'")
        );
    }

    #[test]
    fn kill_process_guards() {
        let mut g = ResponseGuard::new(ResponsePolicy {
            agent_pid: 4242,
            ..Default::default()
        });
        let d = g.decide(&[Action::Alert, Action::KillProcess], &event(100, true), 0);
        assert_eq!(
            d,
            vec![Decision::Execute(ResponseRequest::KillProcess {
                pid: 100,
                start_ticks: 777
            })]
        );
        assert!(matches!(
            &g.decide(&[Action::KillProcess], &event(1, true), 0)[0],
            Decision::Skip { reason, .. } if reason.contains("PID 1")
        ));
        assert!(matches!(
            &g.decide(&[Action::KillProcess], &event(4242, true), 0)[0],
            Decision::Skip { reason, .. } if reason.contains("agent itself")
        ));
        assert!(matches!(
            &g.decide(&[Action::KillProcess], &event(100, false), 0)[0],
            Decision::Skip { reason, .. } if reason.contains("allow_host_kill")
        ));
        let mut host = ResponseGuard::new(ResponsePolicy {
            allow_host_kill: true,
            ..Default::default()
        });
        assert!(matches!(
            &host.decide(&[Action::KillProcess], &event(100, false), 0)[0],
            Decision::Execute(_)
        ));
    }

    #[test]
    fn kill_container_once_per_cooldown() {
        let mut g = ResponseGuard::new(ResponsePolicy {
            cooldown_ms: 1000,
            ..Default::default()
        });
        let e = event(100, true);
        assert!(matches!(
            &g.decide(&[Action::KillContainer], &e, 10_000)[0],
            Decision::Execute(ResponseRequest::KillContainer { container_id, .. }) if container_id == ID
        ));
        assert!(matches!(
            &g.decide(&[Action::KillContainer], &e, 10_500)[0],
            Decision::Skip { .. }
        ));
        assert!(matches!(
            &g.decide(&[Action::KillContainer], &e, 11_000)[0],
            Decision::Execute(_)
        ));
        assert!(matches!(
            &g.decide(&[Action::KillContainer], &event(100, false), 0)[0],
            Decision::Skip { reason, .. } if reason.contains("no container")
        ));
    }

    fn pod_request(action: Action) -> ResponseRequest {
        let (namespace, pod) = ("shop".to_string(), "web-1".to_string());
        match action {
            Action::DeletePod => ResponseRequest::DeletePod { namespace, pod },
            _ => ResponseRequest::RestartWorkload { namespace, pod },
        }
    }

    #[test]
    fn delete_pod_needs_cluster_and_identity() {
        // restart-workload is decided the same way.
        for action in [Action::DeletePod, Action::RestartWorkload] {
            let mut g = ResponseGuard::new(ResponsePolicy::default());
            assert!(matches!(
                &g.decide(&[action], &event(100, true), 0)[0],
                Decision::Skip { reason, .. } if reason.contains("no cluster API")
            ));
            let mut g = ResponseGuard::new(ResponsePolicy {
                cluster_api_configured: true,
                ..Default::default()
            });
            assert_eq!(
                g.decide(&[action, action], &event(100, true), 0),
                vec![Decision::Execute(pod_request(action))]
            );
            let mut e = event(100, true);
            e.container.as_mut().unwrap().pod = None;
            let mut g = ResponseGuard::new(ResponsePolicy {
                cluster_api_configured: true,
                ..Default::default()
            });
            assert!(matches!(
                &g.decide(&[action], &e, 0)[0],
                Decision::Skip { reason, .. } if reason.contains("not known")
            ));
        }
    }

    #[test]
    fn restart_workload_and_delete_pod_have_cooldowns_of_their_own() {
        let mut g = ResponseGuard::new(ResponsePolicy {
            cluster_api_configured: true,
            ..Default::default()
        });
        let both = [Action::DeletePod, Action::RestartWorkload];
        assert_eq!(
            g.decide(&both, &event(100, true), 0),
            both.map(|a| Decision::Execute(pod_request(a)))
        );
        assert!(
            g.decide(&both, &event(100, true), 10)
                .iter()
                .all(|d| matches!(d, Decision::Skip { reason, .. } if reason.contains("cooldown")))
        );
        assert!(matches!(
            &g.decide(&[Action::RestartWorkload], &event(100, false), 10)[0],
            Decision::Skip { reason, .. } if reason.contains("no pod")
        ));
    }

    #[test]
    fn memory_of_recent_actions_is_bounded() {
        let mut g = ResponseGuard::new(ResponsePolicy {
            cooldown_ms: u64::MAX,
            ..Default::default()
        });
        for i in 0..(MAX_REMEMBERED as u64 + 50) {
            let mut e = event(100, true);
            e.container.as_mut().unwrap().id = format!("{i:064x}");
            g.decide(&[Action::KillContainer], &e, i);
        }
        assert!(g.recent.len() <= MAX_REMEMBERED);
    }
}
