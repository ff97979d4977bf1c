//! The processor thread: attaches container metadata to enriched events, evaluates rules
//! and baselines, decides responses, keeps the findings summary and saves state. It owns all
//! detection state, so nothing here needs a lock except the container registry it shares
//! with the network monitor.
//!
//! Engine metadata (name, image, Kubernetes identity) can take a while to look up (podman
//! answers in about 100 ms). The first event of an unknown container asks the resolver
//! thread and waits in a per-container pending list, so events of other containers and of
//! the host are never held behind it; once the answer arrives the pending events are
//! evaluated in order.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use palisade_model::Severity;
use palisade_model::time::Timestamp;
use palisade_runtime::alert::{Alert, BASELINE_RULE_ID, ResponseRecord, ResponseStatus};
use palisade_runtime::attribution::CgroupAttribution;
use palisade_runtime::baseline::{BaselineSettings, BaselineStore, Observation, Selector};
use palisade_runtime::event::{ContainerInfo, Event};
use palisade_runtime::policy::FindingsSummary;
use palisade_runtime::response::{Action, Decision, ResponseGuard, ResponseRequest};
use palisade_runtime::rules::RuleSet;

use crate::clock::{monotonic_ns, now_ms};
use crate::net::SharedRegistry;
use crate::output::{Output, OutputSender};
use crate::respond::{ResponseJob, ResponseSender};
use crate::source::{EnrichedExec, Input};
use crate::state::{ControlRequest, StateDir};
use crate::stats::Stats;

/// Most containers whose metadata is kept.
const MAX_CONTAINERS: usize = 8192;
/// Most events held per container while its metadata is looked up.
const MAX_PENDING_PER_CONTAINER: usize = 4096;

/// Baseline behaviour.
#[derive(Debug, Clone)]
pub struct BaselinePolicy {
    /// Baselines on or off.
    pub enabled: bool,
    /// Window and caps.
    pub settings: BaselineSettings,
    /// Severity of anomalies.
    pub severity: Severity,
    /// Responses to anomalies.
    pub actions: Vec<Action>,
}

/// Everything the processor needs.
pub struct Processor {
    pub(crate) rules: RuleSet,
    pub(crate) registry: SharedRegistry,
    pub(crate) containers: HashMap<String, ContainerInfo>,
    pub(crate) pending: HashMap<String, Vec<EnrichedExec>>,
    pub(crate) lookups: SyncSender<CgroupAttribution>,
    pub(crate) baselines: BaselineStore,
    pub(crate) baseline_policy: BaselinePolicy,
    pub(crate) findings: FindingsSummary,
    pub(crate) guard: ResponseGuard,
    pub(crate) out: OutputSender,
    pub(crate) responses: ResponseSender,
    pub(crate) stats: Arc<Stats>,
    pub(crate) state: StateDir,
    pub(crate) save_interval: Duration,
    pub(crate) only_containers: bool,
    pub(crate) stop: Arc<AtomicBool>,
    /// Report baseline changes to central (through the writer) at each save.
    pub(crate) report_baselines: bool,
    /// What was last reported of each baseline: locked, and its programs.
    pub(crate) reported: HashMap<String, (bool, usize)>,
}

impl Processor {
    /// Records metadata looked up at startup and registers the container's process.
    pub fn add_known(&mut self, pid: u32, info: ContainerInfo) {
        if let Ok(mut r) = self.registry.lock() {
            r.add(&info, pid);
        }
        self.cache(info);
    }

    fn cache(&mut self, info: ContainerInfo) {
        if self.containers.len() >= MAX_CONTAINERS && !self.containers.contains_key(&info.id) {
            self.containers.clear();
        }
        self.containers.insert(info.id.clone(), info);
    }

    /// Handles inputs until the sources are gone or `stop` is set; saves state periodically
    /// and at the end.
    pub fn run(mut self, rx: Receiver<Input>) {
        let mut last_save = Instant::now();
        let mut last_tick = Instant::now();
        loop {
            match rx.recv_timeout(Duration::from_millis(250)) {
                Ok(input) => self.handle(input),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if self.stop.load(Ordering::Relaxed) {
                while let Ok(input) = rx.try_recv() {
                    self.handle(input);
                }
                break;
            }
            if last_tick.elapsed() >= Duration::from_millis(250) {
                last_tick = Instant::now();
                self.tick();
            }
            if last_save.elapsed() >= self.save_interval {
                last_save = Instant::now();
                self.save();
            }
        }
        // Events still waiting for metadata are evaluated with what is known.
        let waiting: Vec<String> = self.pending.keys().cloned().collect();
        for id in waiting {
            self.flush_pending(&id, None);
        }
        self.tick();
        self.save();
    }

    /// Handles one input.
    pub fn handle(&mut self, input: Input) {
        match input {
            Input::Exec(e) => self.on_exec(*e),
            Input::Batch { execs, exits } => {
                for e in execs {
                    self.on_exec(e);
                }
                if !exits.is_empty()
                    && let Ok(mut r) = self.registry.lock()
                {
                    for pid in exits {
                        r.remove_pid(pid);
                    }
                }
            }
            Input::Exit(pid) => {
                if let Ok(mut r) = self.registry.lock() {
                    r.remove_pid(pid);
                }
            }
            Input::Connect(ev) => self.evaluate(&ev, monotonic_ns()),
            Input::Resolved(info) => {
                let id = info.id.clone();
                self.cache(*info);
                self.flush_pending(&id, None);
            }
        }
    }

    fn on_exec(&mut self, e: EnrichedExec) {
        self.stats
            .processor_latency
            .record_ns(monotonic_ns().saturating_sub(e.ts_ns));
        let Some(attribution) = &e.cgroup else {
            if !self.only_containers {
                self.process_exec(e, None);
            }
            return;
        };
        let id = attribution.container_id.clone();
        if let Some(info) = self.containers.get(&id).cloned() {
            self.process_exec(e, Some(info));
            return;
        }
        if let Some(list) = self.pending.get_mut(&id) {
            if list.len() < MAX_PENDING_PER_CONTAINER {
                list.push(e);
            } else {
                Stats::inc(&self.stats.pending_dropped);
            }
            return;
        }
        match self.lookups.try_send(attribution.clone()) {
            Ok(()) => {
                self.pending.insert(id, vec![e]);
            }
            Err(TrySendError::Full(a)) | Err(TrySendError::Disconnected(a)) => {
                // The resolver is saturated or gone: go on with what the cgroup tells.
                Stats::inc(&self.stats.metadata_failures);
                let info = a.to_container_info();
                self.cache(info.clone());
                self.process_exec(e, Some(info));
            }
        }
    }

    fn flush_pending(&mut self, id: &str, fallback: Option<ContainerInfo>) {
        let Some(list) = self.pending.remove(id) else {
            return;
        };
        for e in list {
            let info = self
                .containers
                .get(id)
                .cloned()
                .or_else(|| fallback.clone())
                .or_else(|| e.cgroup.as_ref().map(CgroupAttribution::to_container_info));
            self.process_exec(e, info);
        }
    }

    fn process_exec(&mut self, e: EnrichedExec, container: Option<ContainerInfo>) {
        if let Some(c) = &container
            && let Ok(mut r) = self.registry.lock()
        {
            r.add(c, e.process.pid);
        }
        let event = Event::exec(e.time_ms, e.process, e.parent, container);
        self.evaluate(&event, e.ts_ns);
        if self.baseline_policy.enabled {
            self.observe_baseline(&event, e.ts_ns);
        }
    }

    fn evaluate(&mut self, event: &Event, ts_ns: u64) {
        let matches: Vec<(Alert, Vec<Action>)> = self
            .rules
            .matching(event)
            .into_iter()
            .map(|r| (Alert::for_rule(r, event), r.actions.clone()))
            .collect();
        for (alert, actions) in matches {
            Stats::inc(&self.stats.rule_matches);
            self.raise(alert, &actions, event, ts_ns);
        }
    }

    fn observe_baseline(&mut self, event: &Event, ts_ns: u64) {
        let obs = self
            .baselines
            .observe(&self.baseline_policy.settings, event, event.time_ms);
        if let Observation::Anomaly { key } = obs {
            Stats::inc(&self.stats.baseline_anomalies);
            let actions = self.baseline_policy.actions.clone();
            let mut alert = Alert::new(
                BASELINE_RULE_ID,
                self.baseline_policy.severity,
                "A process ran that is not in the container's locked baseline.",
                vec!["baseline".into()],
                &actions
                    .iter()
                    .copied()
                    .filter(|a| *a != Action::Alert)
                    .collect::<Vec<_>>(),
                event,
            );
            alert.baseline = Some(key);
            self.raise(alert, &actions, event, ts_ns);
        }
    }

    fn raise(&mut self, alert: Alert, actions: &[Action], event: &Event, ts_ns: u64) {
        self.findings.record(&alert, event.time_ms);
        let rule = alert.rule.clone();
        self.out.send(Output::Alert {
            alert: Box::new(alert),
            event_ts_ns: ts_ns,
        });
        for d in self.guard.decide(actions, event, now_ms()) {
            match d {
                Decision::Execute(request) => {
                    if let ResponseRequest::KillContainer { container_id, .. } = &request {
                        // A restarted container is looked up afresh.
                        self.containers.remove(container_id);
                    }
                    self.responses.send(ResponseJob {
                        rule: rule.clone(),
                        request,
                    });
                }
                Decision::Skip { action, reason } => {
                    Stats::inc(&self.stats.responses_skipped);
                    self.out.send(Output::Response(Box::new(ResponseRecord {
                        record: "response".into(),
                        time: Timestamp::from_unix_ms(now_ms()).rfc3339_ms(),
                        rule: rule.clone(),
                        action,
                        request: None,
                        container_id: event.container.as_ref().map(|c| c.id.clone()),
                        status: ResponseStatus::Skipped,
                        detail: reason,
                    })));
                }
            }
        }
    }

    /// Locks baselines whose window ended and applies pending control requests.
    pub fn tick(&mut self) {
        let now = now_ms();
        for key in self.baselines.tick(now) {
            tracing::info!("baseline {key} locked (learning window ended)");
        }
        for (path, req) in self.state.pending_requests() {
            match req {
                Ok(ControlRequest::Lock { key }) => {
                    let sel = key.map_or(Selector::All, Selector::Key);
                    let n = self.baselines.lock(&sel, now);
                    tracing::info!("locked {n} baseline(s) on request");
                }
                Ok(ControlRequest::Reset { key }) => {
                    let sel = key.map_or(Selector::All, Selector::Key);
                    let n = self
                        .baselines
                        .reset(&sel, now, &self.baseline_policy.settings);
                    tracing::info!("reset {n} baseline(s) on request");
                }
                Err(e) => tracing::warn!("ignoring control request: {e}"),
            }
            // Save before acknowledging (deleting), so the requester then reads the change.
            self.save();
            let _ = std::fs::remove_file(&path);
        }
    }

    /// Hands the baselines of Kubernetes containers that were locked, unlocked or learned a
    /// program since the last report to the writer (for central).
    fn report_baselines(&mut self) {
        let changed: Vec<_> = self
            .baselines
            .baselines
            .values()
            .filter(|b| b.namespace.is_some() && b.container.is_some())
            .filter(|b| b.workload.as_deref().is_some_and(|w| w.contains('/')))
            .filter(|b| self.reported.get(&b.key) != Some(&(b.is_locked(), b.processes.len())))
            .cloned()
            .collect();
        if changed.is_empty() {
            return;
        }
        for b in &changed {
            self.reported
                .insert(b.key.clone(), (b.is_locked(), b.processes.len()));
        }
        self.out.send(Output::Baselines(changed));
    }

    /// Saves baselines, findings and counters.
    pub fn save(&mut self) {
        if self.report_baselines {
            self.report_baselines();
        }
        let r = self
            .state
            .save_baselines(&self.baselines)
            .and_then(|()| self.state.save_findings(&self.findings))
            .and_then(|()| self.state.save_stats(&self.stats.snapshot()));
        match r {
            Ok(()) => Stats::inc(&self.stats.state_saves),
            Err(e) => {
                Stats::inc(&self.stats.state_save_failures);
                tracing::warn!("saving agent state: {e}");
            }
        }
    }
}
