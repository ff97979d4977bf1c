//! `palisade central demo`: central on a temporary store with the demo cluster pushed, for a
//! first look at the dashboard with one command. The scan runs in this process through the
//! same code as `palisade scan --push` (and the same HTTPS API); the temporary directory is
//! removed when the demo stops (Ctrl-C or SIGTERM).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use palisade_central::{ServeOptions, StoreLocation};

/// Arguments of `palisade central demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Manifests to scan and push [default: examples/demo-cluster of the source tree].
    #[arg(value_name = "PATH")]
    pub manifests: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8443")]
    pub addr: String,
    /// Name the demo cluster is filed under.
    #[arg(long, value_name = "NAME", default_value = "demo")]
    pub cluster_name: String,
}

/// `scan`'s arguments, parsed as the command line would.
#[derive(Parser)]
struct ScanLine {
    #[command(flatten)]
    args: super::scan::Args,
}

/// The demo manifests: the argument, else `examples/demo-cluster` here or in the source tree.
fn manifests(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p);
    }
    let here = PathBuf::from("examples/demo-cluster");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-cluster");
    [here, source]
        .into_iter()
        .find(|p| p.is_dir())
        .context("examples/demo-cluster not found: run from the source tree or give PATH")
}

/// Scans `dir` and pushes it to central at `url` as `cluster` (the report goes to a file).
fn scan_and_push(
    dir: &Path,
    url: &str,
    cluster: &str,
    token: &Path,
    ca: &Path,
    report: &Path,
) -> anyhow::Result<()> {
    let line = ScanLine::try_parse_from([
        "scan".as_ref(),
        dir.as_os_str(),
        "--push".as_ref(),
        url.as_ref(),
        "--cluster-name".as_ref(),
        cluster.as_ref(),
        "--token-file".as_ref(),
        token.as_os_str(),
        "--ca-cert".as_ref(),
        ca.as_os_str(),
        "--output".as_ref(),
        report.as_os_str(),
    ])?;
    super::scan::run(line.args)?;
    Ok(())
}

/// Runs the demo until Ctrl-C.
pub fn run(a: DemoArgs) -> anyhow::Result<ExitCode> {
    let manifests = manifests(a.manifests)?;
    let data = tempfile::Builder::new()
        .prefix("palisade-demo-")
        .tempdir()
        .context("creating the demo's temporary directory")?;
    let options = ServeOptions {
        location: StoreLocation {
            data_dir: data.path().to_path_buf(),
            database: None,
        },
        addr: a.addr,
        tls: None,
        body_limit: palisade_central::DEFAULT_BODY_LIMIT,
        stream_limit: palisade_central::stream::DEFAULT_STREAM_LIMIT,
        keep_snapshots: 30,
        alert_days: 30,
    };
    let cluster = a.cluster_name;
    let dir = data.path().to_path_buf();
    palisade_central::serve_until_signal(options, move |started| {
        let url = format!("https://{}", started.addr);
        let token = started.admin_token.clone().unwrap_or_default();
        let ca = started.ca.clone().unwrap_or_else(|| dir.join("tls/ca.pem"));
        let token_file = started.admin_token_file.clone();
        // The scan's HTTP client blocks: it runs beside the server's runtime.
        std::thread::spawn(move || {
            let pushed = scan_and_push(
                &manifests,
                &url,
                &cluster,
                &token_file,
                &ca,
                &dir.join("scan-report.txt"),
            );
            match pushed {
                Ok(()) => println!(
                    "palisade central demo: {} pushed as cluster {cluster}\n\n  dashboard:   {url}/ui/\n  login token: {token}\n  CA:          {} (or accept the browser's warning)\n\nCtrl-C stops the demo and deletes its data.",
                    manifests.display(),
                    ca.display()
                ),
                Err(e) => eprintln!("palisade central demo: the push failed: {e:#}"),
            }
        });
    })?;
    drop(data);
    Ok(ExitCode::SUCCESS)
}
