//! `palisade sensor run|manifests`: the live-cluster sensor that keeps central current, and
//! its install manifests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use palisade_checks::Catalog;

use crate::central_client::{Client, ConnectArgs};
use crate::config_file::load_config;
use crate::sensor::{Evaluator, Pacing, Sensor, manifests};

/// `palisade sensor …`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Watch a cluster and keep central current: a full snapshot first and every --resync,
    /// deltas of the objects whose findings changed in between.
    #[command(
        after_help = "Examples:\n  palisade sensor run --central https://central.example:8443 --cluster prod --token-file /var/run/palisade/token\n  PALISADE_TOKEN=pal_… palisade sensor run --central https://127.0.0.1:8443 --ca-cert ca.pem --cluster dev --context kind-dev --resync 5m\n\nNeeds get/list/watch on the kinds `palisade scan --cluster` reads (see `palisade sensor manifests`). SIGTERM or SIGINT stops it (exit status 0)."
    )]
    Run(RunArgs),
    /// Print the install manifests: Namespace, ServiceAccount, read-only ClusterRole and its
    /// binding, and the sensor's Deployment.
    #[command(
        after_help = "Examples:\n  palisade sensor manifests --central https://central.palisade.svc:8443 --cluster prod | kubectl apply -f -\n  kubectl -n palisade create secret generic palisade-sensor-token --from-file=token=sensor.token"
    )]
    Manifests(manifests::ManifestArgs),
}

/// Arguments of `palisade sensor run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Central's URL (`https://host:port`).
    #[arg(long, value_name = "URL")]
    pub central: String,
    /// The cluster's name in central (a sensor token is bound to it).
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// The kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else the pod's service
    /// account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Watch namespaced objects of this namespace only (repeatable; default: all).
    /// Cluster-scoped RBAC is always watched.
    #[arg(long = "namespace", value_name = "NAMESPACE")]
    pub namespaces: Vec<String>,
    /// Send a full snapshot this often (`90s`, `10m`, `1h`).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub resync: Duration,
    /// Quiet period after a NetworkPolicy, RBAC, Namespace or Service change before the
    /// cluster-wide analyses run again (`200ms`).
    #[arg(long, value_name = "DURATION", default_value = "200ms", value_parser = parse_duration)]
    pub debounce: Duration,
    /// Configuration file (palisade.yaml: check selection, severities, exceptions, custom
    /// checks).
    #[arg(long, short = 'c', value_name = "FILE", env = "PALISADE_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `500ms`, `90s`, `10m`, `1h` (a number and a unit).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit (ms, s, m or h)"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a number"))?;
    let ms = match unit {
        "ms" => n,
        "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        _ => return Err(format!("unknown unit {unit:?} in {text:?} (ms, s, m or h)")),
    };
    if ms == 0 {
        return Err("the duration must not be zero".into());
    }
    Ok(Duration::from_millis(ms))
}

/// Runs a `sensor` subcommand.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => run_sensor(args),
        Command::Manifests(args) => manifests::print(&args),
    }
}

fn run_sensor(args: RunArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin();
    let config_path = crate::config_file::discover(args.config.as_deref());
    let config = load_config(config_path.as_deref(), &catalog)?;
    let client = Client::new(&args.central, &args.connect).context("connecting to central")?;
    let options = palisade_cluster::ReadOptions {
        source: palisade_cluster::ClusterSource {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            ..Default::default()
        },
        namespaces: args.namespaces.clone(),
        ..Default::default()
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let running = palisade_cluster::watch::spawn(&options, tx)?;
    let watch = running.watch();
    tracing::info!(
        context = %watch.cluster(),
        cluster = %args.cluster,
        central = %args.central,
        "watching the cluster"
    );
    let pacing = Pacing {
        debounce: args.debounce,
        resync: args.resync,
        retry: Duration::from_secs(5),
    };
    let mut sensor = Sensor::new(
        &client,
        &args.cluster,
        watch,
        Evaluator::new(catalog, config),
        pacing,
    );
    sensor.run(&rx)?;
    drop(sensor);
    running.stop();
    tracing::info!("sensor stopped");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5d").is_err());
    }
}
