//! `palisade agent …`: the runtime agent (Linux, root), its baselines, the policy export
//! that feeds runtime findings back into scan and admission, and its benchmark.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use palisade_agent::AgentConfig;
use palisade_agent::state::{ControlRequest, StateDir};
use palisade_model::Severity;
use palisade_model::time::Timestamp;
use palisade_runtime::alert::Alert;
use palisade_runtime::baseline::{BaselineSettings, Phase, Selector};
use palisade_runtime::policy::{ExportOptions, export_policy};

/// `palisade agent …`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Run the agent on this node: exec events, container attribution, rules, baselines,
    /// responses, flows (Linux, root).
    #[command(
        after_help = "Examples:\n  palisade agent run --state-dir /var/lib/palisade/agent\n  palisade agent run --config agent.yaml --alerts /var/log/palisade/alerts.jsonl --flows flows.jsonl\n  palisade agent run --webhook https://hooks.example/palisade\n\nAlerts and response outcomes are JSON lines (`record`: `alert` or `response`). Flows are JSON lines in the format `palisade netpol generate --flows` reads. SIGINT or SIGTERM stops the agent after saving its baselines."
    )]
    Run(RunArgs),
    /// Show, lock or reset process baselines.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Turn runtime findings and locked baselines into a RuntimePolicy for scan and admission.
    #[command(
        after_help = "Images whose containers triggered rules tagged shell, package-manager, miner, reverse-shell or privilege at high severity or above get verdict `deny`, other flagged images `warn`; locked baselines become process allowlists. See docs/runtime.md."
    )]
    ExportPolicy(ExportArgs),
    /// Benchmark the agent: spawn short processes, measure alert latency, rate, losses, memory.
    Bench(BenchArgs),
    /// Print the DaemonSet, ServiceAccount, RBAC and NetworkPolicies that deploy the agent on
    /// every node.
    #[command(
        after_help = "Examples:\n  palisade agent manifests --image registry.example.com/palisade:0.1.0 | kubectl apply -f -\n  palisade agent manifests --central https://central.example:8443 --cluster prod\n\nWhat `palisade scan` reports on them (hostPID, root, the added capabilities, host paths) is suppressed on each object with its reason."
    )]
    Manifests(super::agent_manifests::ManifestArgs),
}

/// Where the state directory is: `--state-dir`, else the config's `state_dir`, else the default.
#[derive(clap::Args, Debug, Clone)]
pub struct StateArgs {
    /// Agent configuration file (YAML; see docs/runtime.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// State directory (baselines, findings summary); overrides the config.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

impl StateArgs {
    fn load(&self) -> anyhow::Result<AgentConfig> {
        let mut cfg = match &self.config {
            Some(p) => AgentConfig::load(p)?,
            None => AgentConfig::default(),
        };
        if let Some(d) = &self.state_dir {
            cfg.state_dir = d.clone();
        }
        Ok(cfg)
    }
}

/// Arguments of `agent run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    state: StateArgs,
    /// Alert destination: `-` for standard output, or a file (appended).
    #[arg(long, value_name = "FILE|-")]
    pub alerts: Option<String>,
    /// POST each alert to this URL (https:// unless the config sets webhook.allow_http).
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Write observed flows (JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    pub flows: Option<PathBuf>,
    /// Stop after this many seconds (default: run until SIGINT/SIGTERM).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u64>,
    /// Report alerts and flows to central at URL (`https://host:port`), in batches, spooled
    /// under the state directory while central is unreachable (overrides `central:`).
    #[arg(long, value_name = "URL", requires_all = ["cluster", "token_file"])]
    pub central: Option<String>,
    /// With --central: this node's cluster as central knows it.
    #[arg(long, value_name = "NAME", requires = "central")]
    pub cluster: Option<String>,
    /// With --central: file holding an `agent` token bound to the cluster.
    #[arg(long, value_name = "FILE", requires = "central")]
    pub token_file: Option<PathBuf>,
    /// With --central: CA certificate (PEM) to trust besides the system roots (central's
    /// `DATA/tls/ca.pem`).
    #[arg(long, value_name = "FILE", requires = "central")]
    pub ca_cert: Option<PathBuf>,
    /// The cluster API for the delete-pod and restart-workload responses, through this
    /// kubeconfig (overrides `kubernetes.kubeconfig`). Without it or a `kubernetes:` section,
    /// those responses are skipped; `kubernetes: {}` uses the pod's service account.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Exec event source (overrides `source:`): `bpf` (the in-kernel capture), `proc` (the
    /// netlink proc connector) or `auto` (eBPF when it loads, else the proc connector).
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub event_source: Option<EventSource>,
    /// The cgroup v2 hierarchy the eBPF source maps cgroup IDs with (overrides
    /// `cgroup_root:`), e.g. `/proc/1/root/sys/fs/cgroup` in a container with hostPID.
    #[arg(long, value_name = "DIR")]
    pub cgroup_root: Option<PathBuf>,
}

/// `--event-source`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSource {
    /// eBPF when it loads, else the proc connector, else polling /proc.
    Auto,
    /// The eBPF exec capture only.
    Bpf,
    /// The netlink proc connector only.
    Proc,
}

impl From<EventSource> for palisade_agent::config::SourceKind {
    fn from(s: EventSource) -> Self {
        match s {
            EventSource::Auto => Self::Auto,
            EventSource::Bpf => Self::Bpf,
            EventSource::Proc => Self::ProcConnector,
        }
    }
}

/// `agent baseline …`
#[derive(clap::Subcommand, Debug)]
pub enum BaselineCommand {
    /// List baselines, or show one baseline's programs.
    Show {
        #[command(flatten)]
        state: StateArgs,
        /// Baseline key (as listed); omit to list all.
        key: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Lock baselines now: programs outside them become anomalies.
    Lock(ChangeArgs),
    /// Forget what baselines learned and learn again.
    Reset(ChangeArgs),
}

/// Arguments of `baseline lock|reset`.
#[derive(clap::Args, Debug)]
pub struct ChangeArgs {
    #[command(flatten)]
    state: StateArgs,
    /// Baseline key.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub key: Option<String>,
    /// Every baseline.
    #[arg(long)]
    pub all: bool,
    /// How long to wait for a running agent to apply the change.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
}

/// Output formats.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable text (`text` and `txt` are accepted too).
    #[value(name = "table", alias = "text", alias = "txt")]
    Text,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Arguments of `agent export-policy`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    state: StateArgs,
    /// Also count alerts from these JSON-lines alert logs (repeatable).
    #[arg(long = "alerts-log", value_name = "FILE")]
    pub alerts_logs: Vec<PathBuf>,
    /// Include baselines that are still learning.
    #[arg(long)]
    pub include_learning: bool,
    /// Lowest severity that makes an image `deny` (with a deny tag).
    #[arg(long, default_value = "high")]
    pub deny_min_severity: String,
    /// Output format (yaml or json).
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Arguments of `agent bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Processes to spawn.
    #[arg(long, default_value_t = 20_000)]
    pub execs: u64,
    /// Spawning threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Exited children kept unreaped (0 reaps at once).
    #[arg(long, default_value_t = 2000)]
    pub zombie_backlog: usize,
    /// Instead, push this many exec events for live processes straight into the pipeline.
    #[arg(long, value_name = "EVENTS")]
    pub pipeline: Option<u64>,
}

/// Runs `palisade agent …`.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(a) => run_agent(a),
        Command::Baseline(BaselineCommand::Show { state, key, format }) => {
            show(&state, key.as_deref(), format)
        }
        Command::Baseline(BaselineCommand::Lock(a)) => change(&a, true),
        Command::Baseline(BaselineCommand::Reset(a)) => change(&a, false),
        Command::ExportPolicy(a) => export(a),
        Command::Bench(a) => bench(a),
        Command::Manifests(a) => super::agent_manifests::print(&a),
    }
}

fn run_agent(a: RunArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = a.state.load()?;
    if let Some(x) = a.alerts {
        cfg.alerts = x;
    }
    if let Some(u) = a.webhook {
        cfg.webhook.url = Some(u);
    }
    if let Some(f) = a.flows {
        cfg.flows = Some(f);
    }
    if let Some(source) = a.event_source {
        cfg.source = source.into();
    }
    if let Some(root) = a.cgroup_root {
        cfg.cgroup_root = Some(root);
    }
    if let Some(k) = a.kubeconfig {
        cfg.kubernetes
            .get_or_insert_with(Default::default)
            .kubeconfig = Some(k);
    }
    if let (Some(url), Some(cluster), Some(token_file)) = (a.central, a.cluster, a.token_file) {
        let base = cfg.central.take();
        let ca_file = a.ca_cert.or(base.as_ref().and_then(|b| b.ca_file.clone()));
        cfg.central = Some(palisade_agent::central::CentralConfig {
            url,
            cluster,
            token_file,
            ca_file,
            ..base.unwrap_or_else(|| {
                palisade_agent::central::CentralConfig::new(
                    String::new(),
                    String::new(),
                    PathBuf::new(),
                )
            })
        });
    }
    // Paths, counts and switches only: the webhook's URL and headers may carry tokens.
    tracing::info!(
        state_dir = %cfg.state_dir.display(),
        alerts = %cfg.alerts,
        flows = %cfg
            .flows
            .as_deref()
            .map_or_else(|| "off".into(), |p| p.display().to_string()),
        webhook = cfg.webhook.url.is_some(),
        central = cfg.central.as_ref().map_or("off", |c| c.url.as_str()),
        rules_files = cfg.rules_files.len(),
        builtin_rules = cfg.builtin_rules,
        "palisade agent: starting"
    );
    let handle = palisade_agent::start(cfg, None).inspect_err(|e| {
        tracing::error!("palisade agent: start failed: {e}");
    })?;
    tracing::info!(
        source = handle.source(),
        "palisade agent: running ({} source)",
        handle.source()
    );
    let stats =
        palisade_agent::agent::run_until_signal(handle, a.duration.map(Duration::from_secs))?;
    tracing::info!(
        counters = %serde_json::to_string(&stats)?,
        "palisade agent: stopped"
    );
    Ok(ExitCode::SUCCESS)
}

fn open_state(state: &StateArgs) -> anyhow::Result<(AgentConfig, StateDir)> {
    let cfg = state.load()?;
    let dir = StateDir::open(&cfg.state_dir)?;
    Ok((cfg, dir))
}

fn show(state: &StateArgs, key: Option<&str>, format: Format) -> anyhow::Result<ExitCode> {
    let (_, dir) = open_state(state)?;
    let store = dir.load_baselines()?;
    let selected: Vec<_> = store
        .baselines
        .values()
        .filter(|b| key.is_none_or(|k| b.key == k))
        .collect();
    if let Some(k) = key
        && selected.is_empty()
    {
        bail!("no baseline {k:?} in {}", dir.root().display());
    }
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&selected)?),
        Format::Yaml => print!("{}", serde_saphyr::to_string(&selected)?),
        Format::Text => {
            // Keys, images and program names come from containers: escaped for the terminal.
            let mut out = String::new();
            if key.is_none() {
                let _ = writeln!(
                    out,
                    "{:<48} {:<22} {:>9} {:>9}  IMAGE",
                    "KEY", "PHASE", "PROGRAMS", "ANOMALIES"
                );
            }
            for b in &selected {
                let phase = match b.phase {
                    Phase::Learning { until_ms } => {
                        format!(
                            "learning→{}",
                            &Timestamp::from_unix_ms(until_ms).rfc3339_ms()[..19]
                        )
                    }
                    Phase::Locked { since_ms } => format!(
                        "locked {}",
                        &Timestamp::from_unix_ms(since_ms).rfc3339_ms()[..19]
                    ),
                };
                if key.is_some() {
                    let _ = writeln!(
                        out,
                        "key: {}\nphase: {phase}\nimage: {}",
                        b.key,
                        b.image.as_deref().unwrap_or("-")
                    );
                    let _ = writeln!(out, "programs:");
                    for p in &b.processes {
                        let _ = writeln!(out, "  {:<16} {:<40} seen {}", p.name, p.exe, p.count);
                    }
                    let _ = writeln!(out, "anomalies:");
                    for p in &b.anomalies {
                        let _ = writeln!(out, "  {:<16} {:<40} seen {}", p.name, p.exe, p.count);
                    }
                } else {
                    let _ = writeln!(
                        out,
                        "{:<48} {:<22} {:>9} {:>9}  {}",
                        b.key,
                        phase,
                        b.processes.len(),
                        b.anomalies.len(),
                        b.image.as_deref().unwrap_or("-")
                    );
                }
            }
            crate::output::emit_text(&out, None)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn change(a: &ChangeArgs, lock: bool) -> anyhow::Result<ExitCode> {
    let (cfg, dir) = open_state(&a.state)?;
    let verb = if lock { "locked" } else { "reset" };
    match dir.try_lock()? {
        Some(_held) => {
            // No agent is running: change the file directly (under the lock).
            let mut store = dir.load_baselines()?;
            let sel = a.key.clone().map_or(Selector::All, Selector::Key);
            let now = palisade_agent::clock::now_ms();
            let n = if lock {
                store.lock(&sel, now)
            } else {
                let settings = BaselineSettings {
                    learn_window_ms: cfg.baseline.learn_window_secs.saturating_mul(1000),
                    max_processes: cfg.baseline.max_processes,
                    max_baselines: cfg.baseline.max_baselines,
                };
                store.reset(&sel, now, &settings)
            };
            if let Some(k) = &a.key
                && !store.baselines.contains_key(k)
            {
                bail!("no baseline {k:?} in {}", dir.root().display());
            }
            dir.save_baselines(&store)?;
            println!("{verb} {n} baseline(s)");
        }
        None => {
            // An agent holds the directory: leave it a request and wait until it is applied.
            let req = if lock {
                ControlRequest::Lock { key: a.key.clone() }
            } else {
                ControlRequest::Reset { key: a.key.clone() }
            };
            let path = dir.submit_request(&req)?;
            let deadline = Instant::now() + Duration::from_secs(a.timeout);
            while path.exists() {
                if Instant::now() > deadline {
                    let _ = std::fs::remove_file(&path);
                    bail!(
                        "the running agent did not apply the request within {} s",
                        a.timeout
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            println!("{verb} by the running agent");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_alert_log(
    path: &Path,
    into: &mut palisade_runtime::policy::FindingsSummary,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                eprintln_safe!(
                    "palisade: warning: {}:{}: not JSON ({e}); skipped",
                    path.display(),
                    i + 1
                );
                continue;
            }
        };
        if v["record"] != "alert" {
            continue;
        }
        match serde_json::from_value::<Alert>(v) {
            Ok(a) => into.record_logged(&a),
            Err(e) => eprintln_safe!(
                "palisade: warning: {}:{}: not an alert record ({e}); skipped",
                path.display(),
                i + 1
            ),
        }
    }
    Ok(())
}

fn export(a: ExportArgs) -> anyhow::Result<ExitCode> {
    let (_, dir) = open_state(&a.state)?;
    let baselines = dir.load_baselines()?;
    let mut findings = dir.load_findings()?;
    for log in &a.alerts_logs {
        read_alert_log(log, &mut findings)?;
    }
    let options = ExportOptions {
        deny_min_severity: a
            .deny_min_severity
            .parse::<Severity>()
            .map_err(|e| anyhow::anyhow!("--deny-min-severity: {e}"))?,
        include_learning: a.include_learning,
        ..ExportOptions::default()
    };
    let policy = export_policy(
        &findings,
        &baselines,
        &options,
        palisade_agent::clock::now_ms(),
    );
    let text = match a.format {
        Format::Json => serde_json::to_string_pretty(&policy)? + "\n",
        Format::Yaml | Format::Text => serde_saphyr::to_string(&policy)?,
    };
    match &a.output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn bench(a: BenchArgs) -> anyhow::Result<ExitCode> {
    let json = match a.pipeline {
        Some(events) => {
            serde_json::to_string_pretty(&palisade_agent::bench::run_pipeline(events, 50)?)?
        }
        None => {
            let opts = palisade_agent::bench::BenchOptions {
                execs: a.execs,
                threads: a.threads,
                zombie_backlog: a.zombie_backlog,
                ..Default::default()
            };
            serde_json::to_string_pretty(&palisade_agent::bench::run(&opts)?)?
        }
    };
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}
