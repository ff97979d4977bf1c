//! Starting and stopping the agent: loads rules and state, opens sinks, and runs one thread
//! per job connected by bounded queues:
//!
//! ```text
//!  proc connector + enricher ─┐                       ┌─▶ responder ──┐
//!  (or /proc poll ─▶ enricher) ├─▶ inputs ─▶ processor ┤               ├─▶ outputs ─▶ writer ─▶ webhook
//!  net monitor ────────────────┘   (flows) ────────────┴───────────────┘
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use palisade_runtime::baseline::BaselineSettings;
use palisade_runtime::policy::RuntimePolicy;
use palisade_runtime::response::{ResponseGuard, ResponsePolicy};
use palisade_runtime::rules::{RuleSet, RuleSetBuilder};

use crate::central::CentralSender;
use crate::clock::now_ms;
use crate::config::{AgentConfig, SourceKind};
use crate::container::ContainerResolver;
use crate::enrich::Enricher;
use crate::net::{NetMonitor, Registry};
use crate::output::{AlertSink, OutputSender, Webhook, Writer};
use crate::processor::{BaselinePolicy, Processor};
use crate::respond::{Responder, ResponseSender};
use crate::source::bpf::BpfSource;
use crate::source::bpf::cgroups::{self, CgroupMap};
use crate::source::connector::ProcConnector;
use crate::source::{EventSender, InputSender};
use crate::state::{AgentLock, StateDir};
use crate::stats::{Stats, StatsSnapshot};

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Rules.
    #[error(transparent)]
    Rules(#[from] palisade_runtime::RuleError),
    /// State directory.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// Another agent holds the state directory.
    #[error("{0}: another agent is running with this state directory")]
    Locked(PathBuf),
    /// A file could not be read or opened.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The event source could not be opened.
    #[error("event source: {0}")]
    Source(String),
    /// Another setup problem.
    #[error("{0}")]
    Setup(String),
}

/// Loads the built-in rules (unless turned off), then the configured rule files, then the configured API server
/// addresses.
pub fn load_rules(cfg: &AgentConfig) -> Result<RuleSet, AgentError> {
    let mut b = if cfg.builtin_rules {
        RuleSetBuilder::with_builtin()?
    } else {
        RuleSetBuilder::new()
    };
    for path in &cfg.rules_files {
        let text = std::fs::read_to_string(path).map_err(|e| AgentError::File {
            path: path.clone(),
            message: e.to_string(),
        })?;
        b.add_yaml(&path.display().to_string(), &text)?;
    }
    if !cfg.api_server_addresses.is_empty() {
        b.set_list("k8s_api_server_addresses", cfg.api_server_addresses.clone());
    }
    Ok(b.build()?)
}

/// Reads a runtime policy file.
pub fn load_policy(path: &Path) -> Result<RuntimePolicy, AgentError> {
    let text = std::fs::read_to_string(path).map_err(|e| AgentError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    RuntimePolicy::parse(&text).map_err(|e| AgentError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// A running agent.
pub struct AgentHandle {
    stop: Arc<AtomicBool>,
    threads: Vec<(&'static str, JoinHandle<()>)>,
    stats: Arc<Stats>,
    source: &'static str,
    _lock: AgentLock,
}

impl AgentHandle {
    /// The live counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Which exec source runs (`bpf`, `proc-connector` or `proc-poll`).
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// Whether a stop was requested.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The stop flag (set it from a signal handler thread to stop the agent).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Stops every thread (saving state) and returns the final counters.
    pub fn stop(self) -> StatsSnapshot {
        self.stop.store(true, Ordering::Relaxed);
        // The proc connector thread blocks until the next process event: make one.
        let _ = std::process::Command::new("true").status();
        for (name, t) in self.threads {
            let deadline = Instant::now() + Duration::from_secs(15);
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if t.is_finished() {
                let _ = t.join();
            } else {
                tracing::warn!("agent thread {name} did not stop in time");
            }
        }
        self.stats.snapshot()
    }
}

/// Runs a started agent until SIGINT or SIGTERM (or until `duration` elapsed), then stops
/// it, saving state, and returns the final counters.
pub fn run_until_signal(
    handle: AgentHandle,
    duration: Option<Duration>,
) -> Result<StatsSnapshot, AgentError> {
    let flag = handle.stop_flag();
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, flag.clone())
            .map_err(|e| AgentError::Setup(format!("installing signal handler: {e}")))?;
    }
    let started = Instant::now();
    while !flag.load(Ordering::Relaxed) && duration.is_none_or(|d| started.elapsed() < d) {
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(handle.stop())
}

/// Sets the calling thread's niceness (Linux schedules threads individually). A failure
/// (not root, or a container without `CAP_SYS_NICE`) is logged and the thread runs as it is.
fn set_thread_nice(name: &str, nice: i32) {
    if nice == 0 {
        return;
    }
    static WARNED: std::sync::Once = std::sync::Once::new();
    if let Err(e) = rustix::process::setpriority_process(None, nice) {
        WARNED.call_once(|| {
            tracing::warn!("cannot set niceness {nice} (thread {name}): {e}; running as started");
        });
    }
}

/// Threads of the exec pipeline: an exec waits for each of them in turn before its alert is
/// written, so `realtime:` schedules them ahead of normal tasks.
const PIPELINE_THREADS: [&str; 4] = ["source", "enricher", "processor", "writer"];

/// Puts the calling thread under `SCHED_FIFO` at the lowest real-time priority. When the
/// kernel refuses (no `CAP_SYS_NICE`, or no real-time runtime in the agent's cgroup) it warns
/// once and the thread keeps its niceness.
fn set_thread_realtime(name: &str) {
    use thread_priority::{
        RealtimeThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    static WARNED: std::sync::Once = std::sync::Once::new();
    let fifo = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo);
    if let Err(e) = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, fifo) {
        WARNED.call_once(|| {
            tracing::warn!(
                "cannot run thread {name} under SCHED_FIFO ({e:?}); using niceness instead"
            );
        });
    }
}

/// Turns transparent huge pages off for this process. The allocator (mimalloc) asks for huge
/// pages on its arenas, and each thread's heap then commits 2 MiB at a time: the agent with its
/// central sender peaked at 61 MB with them and 33 MB without (release, 5,000 alerts;
/// docs/benchmarks.md). A node agent runs on every node, so its footprint matters more than
/// the allocator's page-table savings. Best effort: a kernel without the flag changes nothing.
fn keep_pages_small() {
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::debug!("transparent huge pages stay on: {e}");
    }
}

/// The exec source the agent runs.
enum Opened {
    /// Events pushed by the caller ([`start_injected`]).
    Injected,
    /// The eBPF exec capture, with its cgroup map.
    Bpf(Box<BpfSource>, CgroupMap),
    /// The netlink proc connector.
    Connector(ProcConnector),
    /// Polling `/proc`.
    Poll,
}

impl Opened {
    fn name(&self) -> &'static str {
        match self {
            Opened::Injected => "injected",
            Opened::Bpf(..) => "bpf",
            Opened::Connector(_) => "proc-connector",
            Opened::Poll => "proc-poll",
        }
    }
}

/// Opens the eBPF source and the cgroup v2 map its records are attributed with (`root`, else
/// the mounted v2 hierarchy).
fn open_bpf(root: Option<&Path>) -> Result<Opened, String> {
    let root = match root {
        Some(r) => cgroups::v2_root_in(r),
        None => cgroups::v2_mount().ok_or("no cgroup v2 hierarchy is mounted")?,
    };
    if let Err(e) = std::fs::read_dir(&root) {
        tracing::warn!(
            "cgroup hierarchy {}: {e}; containers are attributed through their parents only",
            root.display()
        );
    }
    let source = BpfSource::open()?;
    Ok(Opened::Bpf(Box::new(source), CgroupMap::new(root)))
}

/// Opens the configured source: `auto` tries eBPF, then the proc connector, then polling,
/// saying in the log why each one it passes over could not run.
fn open_source(kind: SourceKind, cgroup_root: Option<&Path>) -> Result<Opened, AgentError> {
    let connector = || ProcConnector::open().map(Opened::Connector);
    match kind {
        SourceKind::ProcPoll => Ok(Opened::Poll),
        SourceKind::Bpf => {
            open_bpf(cgroup_root).map_err(|e| AgentError::Source(format!("eBPF: {e}")))
        }
        SourceKind::ProcConnector => {
            connector().map_err(|e| AgentError::Source(format!("proc connector: {e}")))
        }
        SourceKind::Auto => open_bpf(cgroup_root).or_else(|e| {
            tracing::warn!("eBPF exec capture unavailable ({e}); using the proc connector");
            connector().or_else(|e| {
                tracing::warn!("proc connector unavailable ({e}); polling /proc instead");
                Ok(Opened::Poll)
            })
        }),
    }
}

/// Starts the agent. `alerts` overrides the configured alert destination (used by
/// benchmarks to discard output).
pub fn start(cfg: AgentConfig, alerts: Option<AlertSink>) -> Result<AgentHandle, AgentError> {
    start_inner(cfg, alerts, false).map(|(h, _)| h)
}

/// Starts the agent without an event source: the caller feeds raw events through the
/// returned sender (used by the pipeline benchmark to push events faster than processes can
/// be spawned).
pub fn start_injected(
    cfg: AgentConfig,
    alerts: Option<AlertSink>,
) -> Result<(AgentHandle, EventSender), AgentError> {
    let (h, s) = start_inner(cfg, alerts, true)?;
    let s = s.ok_or_else(|| AgentError::Setup("no injector".into()))?;
    Ok((h, s))
}

fn start_inner(
    cfg: AgentConfig,
    alerts: Option<AlertSink>,
    inject: bool,
) -> Result<(AgentHandle, Option<EventSender>), AgentError> {
    cfg.validate()?;
    keep_pages_small();
    let rules = load_rules(&cfg)?;
    let state = StateDir::open(&cfg.state_dir)?;
    let lock = state
        .try_lock()?
        .ok_or_else(|| AgentError::Locked(cfg.state_dir.clone()))?;
    let mut baselines = state.load_baselines()?;
    let findings = state.load_findings()?;
    if let Some(p) = &cfg.policy_file {
        let policy = load_policy(p)?;
        let now = now_ms();
        for a in &policy.process_allowlists {
            baselines.seed_locked(a.to_locked_baseline(now));
        }
    }

    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let q = cfg.queues;
    let (out_tx, out_rx) = sync_channel(q.outputs);
    let out = OutputSender::new(out_tx, stats.clone());
    let (hook_tx, hook_rx) = sync_channel(q.webhook);
    let webhook =
        Webhook::new(&cfg.webhook, stats.clone()).map_err(|e| AgentError::Setup(e.to_string()))?;
    let sink = alerts.unwrap_or_else(|| AlertSink::from_spec(&cfg.alerts));
    let writer = Writer::open(
        &sink,
        cfg.flows.as_ref(),
        webhook.as_ref().map(|_| hook_tx),
        stats.clone(),
    )
    .map_err(|e| AgentError::Setup(format!("opening alert/flow output: {e}")))?;
    let (central_tx, central_rx) = sync_channel(q.central);
    let central = match &cfg.central {
        Some(c) => Some(
            CentralSender::new(c, &cfg.state_dir, now_ms(), stats.clone())
                .map_err(|e| AgentError::Setup(e.to_string()))?,
        ),
        None => None,
    };
    let writer = writer.with_central(central.as_ref().map(|_| central_tx));
    let (resp_tx, resp_rx) = sync_channel(q.responses);
    let responses = ResponseSender::new(resp_tx, out.clone(), stats.clone());
    let responder = Responder::new(
        cfg.response.clone(),
        cfg.kubernetes.as_ref(),
        out.clone(),
        stats.clone(),
    )
    .map_err(AgentError::Setup)?;
    let (raw_tx, raw_rx) = sync_channel(q.events);
    let events = EventSender::new(raw_tx, stats.clone());
    let (in_tx, in_rx) = sync_channel(q.events);
    let inputs = InputSender::new(in_tx, stats.clone());
    let (lookup_tx, lookup_rx) = sync_channel(1024);

    // Open the source before starting threads, so a failure is reported synchronously.
    let opened = if inject {
        Opened::Injected
    } else {
        open_source(cfg.source, cfg.cgroup_root.as_deref())?
    };
    let source_name = opened.name();
    if matches!(opened, Opened::Bpf(..)) {
        stats.event_source_bpf.store(1, Ordering::Relaxed);
    }

    let registry = Arc::new(Mutex::new(Registry::default()));
    let policy = ResponsePolicy {
        agent_pid: std::process::id(),
        allow_host_kill: cfg.response.allow_host_kill,
        cluster_api_configured: cfg.kubernetes.is_some(),
        cooldown_ms: cfg.response.cooldown_secs.saturating_mul(1000),
    };
    let resolver = ContainerResolver::new(
        cfg.metadata.clone(),
        cfg.response.podman.clone(),
        stats.clone(),
    );
    let mut processor = Processor {
        rules,
        registry: registry.clone(),
        containers: HashMap::new(),
        pending: HashMap::new(),
        lookups: lookup_tx,
        baselines,
        baseline_policy: BaselinePolicy {
            enabled: cfg.baseline.enabled,
            settings: BaselineSettings {
                learn_window_ms: cfg.baseline.learn_window_secs.saturating_mul(1000),
                max_processes: cfg.baseline.max_processes,
                max_baselines: cfg.baseline.max_baselines,
            },
            severity: cfg.baseline.severity,
            actions: cfg.baseline_actions(),
        },
        findings,
        guard: ResponseGuard::new(policy),
        out: out.clone(),
        responses,
        stats: stats.clone(),
        state,
        save_interval: Duration::from_secs(cfg.save_interval_secs.max(1)),
        only_containers: cfg.only_containers,
        stop: stop.clone(),
        report_baselines: cfg.central.is_some(),
        reported: HashMap::new(),
    };

    let mut threads: Vec<(&'static str, JoinHandle<()>)> = Vec::new();
    let nice = cfg.nice;
    let realtime = cfg.realtime;
    let spawn = |name: &'static str, f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .name(format!("palisade-{name}"))
            .spawn(move || {
                // Niceness too for real-time threads: it applies again if the policy is reset.
                set_thread_nice(name, nice);
                if realtime && PIPELINE_THREADS.contains(&name) {
                    set_thread_realtime(name);
                }
                f()
            })
            .map(|h| (name, h))
            .map_err(|e| AgentError::Setup(format!("spawning {name} thread: {e}")))
    };
    // The connector socket is already subscribed, so processes started during the /proc
    // scan are not missed (their messages wait in the socket); the poller is started before
    // the scan for the same reason (its events wait in the queue).
    let injector = inject.then(|| events.clone());
    if matches!(opened, Opened::Poll) {
        let events = events.clone();
        let stop = stop.clone();
        let interval = Duration::from_millis(cfg.poll_interval_ms);
        threads.push(spawn(
            "source",
            Box::new(move || crate::source::poll::run(interval, events, stop)),
        )?);
    }
    let mut enricher = Enricher::new(inputs.clone(), stats.clone());
    let mut seen = HashMap::new();
    for (pid, attribution) in enricher.scan_existing() {
        let info = seen
            .entry(attribution.container_id.clone())
            .or_insert_with(|| resolver.resolve(&attribution))
            .clone();
        processor.add_known(pid, info);
    }
    {
        let stop = stop.clone();
        threads.push(match opened {
            // The connector's reader enriches on its own thread (see Enricher::run_connector).
            Opened::Connector(c) => {
                spawn("source", Box::new(move || enricher.run_connector(c, stop)))?
            }
            Opened::Bpf(b, cgroups) => spawn(
                "source",
                Box::new(move || enricher.run_bpf(*b, cgroups, stop)),
            )?,
            Opened::Poll | Opened::Injected => {
                spawn("enricher", Box::new(move || enricher.run(raw_rx, stop)))?
            }
        });
    }
    {
        let inputs = inputs.clone();
        threads.push(spawn(
            "resolver",
            Box::new(move || resolver.run(lookup_rx, inputs)),
        )?);
    }
    threads.push(spawn("processor", Box::new(move || processor.run(in_rx)))?);
    if cfg.net_interval_ms > 0 {
        let monitor = NetMonitor::new(registry, inputs.clone(), out.clone(), cfg.flows.is_some());
        let stop = stop.clone();
        let interval = Duration::from_millis(cfg.net_interval_ms);
        threads.push(spawn("net", Box::new(move || monitor.run(interval, stop)))?);
    }
    drop(inputs);
    threads.push(spawn(
        "responder",
        Box::new(move || responder.run(resp_rx)),
    )?);
    drop(out);
    threads.push(spawn("writer", Box::new(move || writer.run(out_rx)))?);
    if let Some(w) = webhook {
        threads.push(spawn("webhook", Box::new(move || w.run(hook_rx)))?);
    }
    if let Some(c) = central {
        threads.push(spawn("central", Box::new(move || c.run(central_rx)))?);
    }
    drop(events);
    Ok((
        AgentHandle {
            stop,
            threads,
            stats,
            source: source_name,
            _lock: lock,
        },
        injector,
    ))
}
