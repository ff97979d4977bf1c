//! `palisade admission serve|manifests|review` (issue #9).

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;
use palisade_admission::manifests::{self, FailurePolicy, ManifestOptions};
use palisade_admission::server::{ServeConfig, ServerOptions};
use palisade_admission::{Admission, AdmissionReviewResponse, parse_review};
use palisade_checks::Catalog;
use palisade_config::Config;
use palisade_model::time::SystemClock;

use crate::config_file::{load_config, load_config_text};
use crate::exit;

/// `palisade admission …`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Serve the validating webhook over HTTPS (POST /validate; /healthz, /readyz, /metrics).
    #[command(
        after_help = "Examples:\n  palisade admission serve --tls-cert tls.crt --tls-key tls.key\n  palisade admission serve --config palisade.yaml --tls-cert /etc/palisade/tls/tls.crt --tls-key /etc/palisade/tls/tls.key --addr 0.0.0.0:8443\n  palisade admission serve --tls-cert tls.crt --tls-key tls.key --client-ca apiserver-client-ca.crt\n\nWithout --config, critical and high findings are enforced (denied), medium and low warned, info audited. The certificate files are re-read when they change (and on SIGHUP); SIGTERM drains open requests and exits."
    )]
    Serve(ServeArgs),
    /// Print the install manifests: Namespace, ServiceAccount, Deployment, Service and
    /// ValidatingWebhookConfiguration (plus TLS Secret and ConfigMap when given).
    #[command(
        after_help = "Examples:\n  palisade admission manifests --generate-certs ./certs --image registry.example.com/palisade:0.1.0 | kubectl apply -f -\n  palisade admission manifests --ca-bundle ca.crt --failure-policy ignore --timeout-seconds 5 --config palisade.yaml"
    )]
    Manifests(ManifestArgs),
    /// Decide one AdmissionReview (JSON file or `-` for stdin) and print the response, as the
    /// webhook would answer it. Exit status 1 when the request is denied.
    Review(ReviewArgs),
}

/// Arguments of `palisade admission serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Policy configuration (the same palisade.yaml as `palisade scan`).
    #[arg(long, short = 'c', value_name = "FILE", env = "PALISADE_CONFIG")]
    pub config: Option<PathBuf>,
    /// The runtime policy, read at start-up (see `palisade scan --runtime-policy`).
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// PEM certificate chain served to the API server.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// PEM private key of the certificate.
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// CA certificates (PEM) that callers' client certificates must chain to: /validate and
    /// /metrics then answer only clients that present one (configure the API server with a
    /// client certificate in its AdmissionConfiguration kubeconfig); /healthz and /readyz stay
    /// open for probes. Without it, any client that reaches the port is served.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub addr: SocketAddr,
    /// Largest request body accepted (413 beyond).
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds a client may take to send request headers, and again the body.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = seconds)]
    pub read_timeout: f64,
    /// Seconds a TLS handshake may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = seconds)]
    pub handshake_timeout: f64,
    /// Seconds to decide one review once its body is read: 503 (with Retry-After) when no
    /// decision thread was free in time, 504 when the decision itself took longer.
    #[arg(long, value_name = "SECONDS", default_value_t = 8.0, value_parser = seconds)]
    pub review_timeout: f64,
    /// Reviews decided at once, each on its own thread apart from the I/O threads, so probes
    /// and body reads never wait for decisions (default: one per core).
    #[arg(long, value_name = "N")]
    pub decision_threads: Option<usize>,
    /// Reviews that may wait for a decision thread; beyond that a review is answered 503 with
    /// Retry-After at once (counted in palisade_admission_overload_rejections_total).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub decision_queue: usize,
    /// Write audit records (JSON lines) to FILE instead of stderr, rotated by size.
    #[arg(long, value_name = "FILE")]
    pub audit_file: Option<PathBuf>,
    /// With --audit-file: largest size of the file; before a record would cross it the file
    /// is renamed FILE.1 (FILE.1 to FILE.2, …) and a new one started. Records are capped
    /// (counts plus the first 20 distinct check IDs per mode), so one is a few hundred bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024, requires = "audit_file", value_parser = clap::value_parser!(u64).range(4096..))]
    pub audit_max_bytes: u64,
    /// With --audit-file: rotated files kept (FILE.1 … FILE.N); 0 keeps none. The audit log
    /// never holds more than (N + 1) × --audit-max-bytes.
    #[arg(long, value_name = "N", default_value_t = 2, requires = "audit_file")]
    pub audit_max_files: usize,
    /// Most audit records written per second on average, in bursts of up to as many; records
    /// over the rate are dropped (a warning says how many) so a flood of denials cannot fill
    /// the log. 0: no limit. Applies to --audit-file and to stderr.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub audit_rate: u32,
    /// Seconds between checks of the certificate files for changes.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = seconds)]
    pub cert_reload_interval: f64,
    /// Seconds open requests get to finish after SIGTERM.
    #[arg(long, value_name = "SECONDS", default_value_t = 15.0, value_parser = seconds)]
    pub shutdown_grace: f64,
    /// Most connections open at once.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Reach image registries before deciding: verify the signatures `images.signatures`
    /// requires and match image packages against the vulnerability database (results cached
    /// per image), as `palisade scan --registry` does.
    #[cfg(feature = "registry-facts")]
    #[arg(long)]
    pub registry: bool,
    /// With --registry: a registry (`host[:port]`) reachable over plain HTTP (repeatable).
    #[cfg(feature = "registry-facts")]
    #[arg(long = "insecure-registry", value_name = "HOST", requires = "registry")]
    pub insecure_registries: Vec<String>,
    /// With --registry: the vulnerability database (default: as `palisade db`; none: no
    /// vulnerability facts).
    #[cfg(feature = "registry-facts")]
    #[arg(long, value_name = "FILE", env = "PALISADE_DB", requires = "registry")]
    pub db: Option<PathBuf>,
}

/// `--failure-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailurePolicyArg {
    /// Refuse requests when the webhook is unreachable.
    Fail,
    /// Admit requests when the webhook is unreachable.
    Ignore,
}

/// Arguments of `palisade admission manifests`.
#[derive(clap::Args, Debug)]
pub struct ManifestArgs {
    /// Name of the Deployment, Service, ServiceAccount and webhook configuration.
    #[arg(long, default_value = "palisade-admission")]
    pub name: String,
    /// Namespace the webhook runs in (excluded from its own namespaceSelector).
    #[arg(long, short = 'n', default_value = "palisade-system")]
    pub namespace: String,
    /// Container image of palisade.
    #[arg(long, default_value = concat!("palisade:", env!("CARGO_PKG_VERSION")))]
    pub image: String,
    /// Replicas of the Deployment.
    #[arg(long, default_value_t = 2)]
    pub replicas: u32,
    /// What the API server does when the webhook cannot answer.
    #[arg(long, value_enum, default_value_t = FailurePolicyArg::Fail)]
    pub failure_policy: FailurePolicyArg,
    /// Seconds the API server waits for an answer (1–30).
    #[arg(long, default_value_t = 10)]
    pub timeout_seconds: u32,
    /// Container port.
    #[arg(long, default_value_t = 8443)]
    pub port: u16,
    /// Namespaces the webhook never sees (repeatable; its own namespace always).
    #[arg(long = "exclude-namespace", value_name = "NAMESPACE")]
    pub exclude_namespaces: Vec<String>,
    /// The team that runs the webhook: the `palisade.dev/owner` label of its namespace and
    /// objects.
    #[arg(long, value_name = "TEAM", default_value = "platform-security")]
    pub owner: String,
    /// PEM CA certificate for caBundle (the CA that signed the serving certificate).
    #[arg(long, value_name = "FILE", conflicts_with = "generate_certs")]
    pub ca_bundle: Option<PathBuf>,
    /// Serving certificate to ship as the TLS Secret (with --tls-key).
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "generate_certs"
    )]
    pub tls_cert: Option<PathBuf>,
    /// Serving key to ship as the TLS Secret (with --tls-cert).
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_cert",
        conflicts_with = "generate_certs"
    )]
    pub tls_key: Option<PathBuf>,
    /// Generate a self-signed CA and a serving certificate for the Service into DIR
    /// (ca.crt, tls.crt, tls.key), and fill caBundle and the TLS Secret with them.
    #[arg(long, value_name = "DIR")]
    pub generate_certs: Option<PathBuf>,
    /// Days the generated serving certificate is valid.
    #[arg(long, default_value_t = 365, requires = "generate_certs")]
    pub cert_days: u32,
    /// palisade.yaml to ship as a ConfigMap (validated first).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Arguments of `palisade admission review`.
#[derive(clap::Args, Debug)]
pub struct ReviewArgs {
    /// AdmissionReview JSON file, or `-` for stdin.
    #[arg(value_name = "FILE")]
    pub path: String,
    /// Policy configuration.
    #[arg(long, short = 'c', value_name = "FILE", env = "PALISADE_CONFIG")]
    pub config: Option<PathBuf>,
    /// The runtime policy (see `palisade scan --runtime-policy`).
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// Date used for exception expiry (YYYY-MM-DD; default: today, UTC).
    #[arg(long, value_name = "DATE", hide = true)]
    pub today: Option<palisade_model::time::Date>,
}

/// Where the runtime policy comes from, and how to reach central for it.
#[derive(clap::Args, Debug)]
pub struct RuntimeArgs {
    /// What runtime agents observed, for the runtime checks: a RuntimePolicy file or central's
    /// `https://HOST:PORT/api/v1/runtime-policy?cluster=NAME`; a `deny` image is then enforced
    /// and a `warn` image warned under the default modes [default: `runtime_policy:` of the
    /// configuration].
    #[arg(long, value_name = "FILE|URL")]
    pub runtime_policy: Option<String>,
    /// With a --runtime-policy URL: the token and the CA to trust.
    #[cfg(feature = "central")]
    #[command(flatten)]
    pub central: crate::central_client::ConnectArgs,
}

impl RuntimeArgs {
    /// The runtime policy these arguments (or the configuration) name.
    fn load(
        &self,
        config: &palisade_config::Config,
    ) -> anyhow::Result<Option<Arc<palisade_runtime::policy::RuntimePolicy>>> {
        #[cfg(feature = "central")]
        let connect = Some(&self.central);
        #[cfg(not(feature = "central"))]
        let connect = None;
        crate::runtime_policy::load(self.runtime_policy.as_deref(), config, connect)
    }
}

fn seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(v.is_finite() && v > 0.0 && v <= 86_400.0) {
        return Err(format!("{s} must be between 0 and 86400 seconds"));
    }
    Ok(v)
}

/// Runs `palisade admission …`.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(a) => serve(a),
        Command::Manifests(a) => print_manifests(a),
        Command::Review(a) => review(a),
    }
}

fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin();
    let config = load_config(a.config.as_deref(), &catalog)?;
    let runtime = a.runtime.load(&config)?;
    let policy = Admission::new(&config, catalog, Some(crate::cmd::today_or(None)))
        .with_context(|| "building the admission policy")?
        .with_runtime_policy(runtime.clone());
    let active = policy.active_checks().len();
    let build_config = config.clone();
    let build: palisade_admission::server::PolicyBuilder = Arc::new(move |day| {
        Admission::new(&build_config, Catalog::builtin(), Some(day))
            .map(|p| p.with_runtime_policy(runtime.clone()))
    });
    let facts = image_facts(&a, &config)?;
    let summary = StartupSummary {
        config: a
            .config
            .as_ref()
            .map_or_else(|| "(built-in defaults)".into(), |p| p.display().to_string()),
        cert: a.tls_cert.display().to_string(),
        client_ca: a.client_ca.as_ref().map(|p| p.display().to_string()),
        checks: active,
        exceptions: config.exceptions.len(),
        custom_checks: config.custom_checks.len(),
        image_facts: facts.is_some(),
    };
    let secs = Duration::from_secs_f64;
    let options = ServerOptions {
        addr: a.addr,
        cert: a.tls_cert,
        key: a.tls_key,
        max_body_bytes: a.max_body_bytes,
        handshake_timeout: secs(a.handshake_timeout),
        header_timeout: secs(a.read_timeout),
        body_timeout: secs(a.read_timeout),
        review_timeout: secs(a.review_timeout),
        decision_threads: a
            .decision_threads
            .unwrap_or(ServerOptions::default().decision_threads),
        decision_queue: a.decision_queue,
        cert_reload_interval: secs(a.cert_reload_interval),
        shutdown_grace: secs(a.shutdown_grace),
        max_connections: a.max_connections,
        client_ca: a.client_ca,
    };
    let audit = a
        .audit_file
        .as_deref()
        .map(|path| {
            palisade_admission::server::file_audit_sink(path, a.audit_max_bytes, a.audit_max_files)
                .with_context(|| format!("opening the audit log {}", path.display()))
        })
        .transpose()?
        .unwrap_or_else(palisade_admission::server::stderr_audit_sink);
    let audit = Some(palisade_admission::server::rate_limited(
        audit,
        a.audit_rate,
    ));
    palisade_admission::server::serve_until_signal(
        ServeConfig {
            options,
            policy,
            refresh: Some((build, Arc::new(SystemClock))),
            facts,
            audit,
            workers: a.workers,
        },
        |addr| summary.log(addr),
    )?;
    tracing::info!("palisade admission: stopped");
    Ok(ExitCode::SUCCESS)
}

/// What the webhook logs when it starts: where it listens and with which configuration
/// (file paths and counts, never key material or secret values).
struct StartupSummary {
    config: String,
    cert: String,
    client_ca: Option<String>,
    checks: usize,
    exceptions: usize,
    custom_checks: usize,
    image_facts: bool,
}

impl StartupSummary {
    fn log(&self, addr: SocketAddr) {
        tracing::info!(
            %addr,
            tls = true,
            cert = %self.cert,
            client_auth = self.client_ca.as_deref().unwrap_or("none"),
            config = %self.config,
            checks = self.checks,
            exceptions = self.exceptions,
            custom_checks = self.custom_checks,
            image_facts = self.image_facts,
            "palisade admission: serving https://{addr}/validate ({} checks on single objects)",
            self.checks
        );
    }
}

/// The image-facts source for `--registry` (the same collector `palisade scan --registry` uses).
#[cfg(feature = "registry-facts")]
fn image_facts(
    a: &ServeArgs,
    config: &Config,
) -> anyhow::Result<Option<Arc<dyn palisade_admission::RegistryFactsSource>>> {
    if !a.registry {
        return Ok(None);
    }
    let config_dir = a
        .config
        .as_deref()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    let db = palisade_vulndb::resolve_db_path(a.db.as_deref())
        .ok()
        .and_then(|p| palisade_vulndb::VulnDb::open_existing(&p).ok());
    if db.is_none() {
        tracing::warn!(
            "palisade admission: no vulnerability database; images are not matched (run `palisade db import`)"
        );
    }
    let access = crate::registry_args::RegistryArgs {
        insecure_registries: a.insecure_registries.clone(),
        username: None,
    };
    let collector = crate::imagefacts::Collector::new(&config.images, config_dir, &access, db)?;
    Ok(Some(Arc::new(collector)))
}

#[cfg(not(feature = "registry-facts"))]
fn image_facts(
    _a: &ServeArgs,
    _config: &Config,
) -> anyhow::Result<Option<Arc<dyn palisade_admission::RegistryFactsSource>>> {
    Ok(None)
}

fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {what} {}", path.display()))
}

fn print_manifests(a: ManifestArgs) -> anyhow::Result<ExitCode> {
    let config = match &a.config {
        Some(path) => Some(load_config_text(path, &Catalog::builtin())?.0),
        None => None,
    };
    let mut options = ManifestOptions {
        name: a.name,
        namespace: a.namespace,
        image: a.image,
        replicas: a.replicas,
        failure_policy: match a.failure_policy {
            FailurePolicyArg::Fail => FailurePolicy::Fail,
            FailurePolicyArg::Ignore => FailurePolicy::Ignore,
        },
        timeout_seconds: a.timeout_seconds,
        port: a.port,
        ca_bundle_pem: a
            .ca_bundle
            .as_deref()
            .map(|p| read_text(p, "CA bundle"))
            .transpose()?,
        tls: match (&a.tls_cert, &a.tls_key) {
            (Some(c), Some(k)) => Some((read_text(c, "certificate")?, read_text(k, "key")?)),
            _ => None,
        },
        config,
        exclude_namespaces: a.exclude_namespaces,
        owner: a.owner,
    };
    if let Some(dir) = &a.generate_certs {
        let dns = manifests::service_dns_name(&options.name, &options.namespace);
        let names = vec![
            dns.clone(),
            format!("{}.{}", options.name, options.namespace),
            format!("{dns}.cluster.local"),
        ];
        let certs = palisade_admission::certs::generate_today(&names, a.cert_days)?;
        write_certs(dir, &certs)?;
        options.ca_bundle_pem = Some(certs.ca_pem);
        options.tls = Some((certs.cert_pem, certs.key_pem));
        eprintln_safe!(
            "palisade admission: wrote {0}/ca.crt, {0}/tls.crt and {0}/tls.key (for {dns})",
            dir.display()
        );
    }
    let text = manifests::render(&options)?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn write_certs(
    dir: &Path,
    certs: &palisade_admission::certs::GeneratedCerts,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (file, text, private) in [
        ("ca.crt", &certs.ca_pem, false),
        ("tls.crt", &certs.cert_pem, false),
        ("tls.key", &certs.key_pem, true),
    ] {
        let path = dir.join(file);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut f = opts.open(&path).with_context(|| {
            format!(
                "creating {} (existing certificates are never overwritten)",
                path.display()
            )
        })?;
        std::io::Write::write_all(&mut f, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn review(a: ReviewArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin();
    let config = load_config(a.config.as_deref(), &catalog)?;
    let policy = Admission::new(&config, catalog, Some(crate::cmd::today_or(a.today)))?
        .with_runtime_policy(a.runtime.load(&config)?);
    let mut body = Vec::new();
    if a.path == "-" {
        std::io::stdin()
            .take(64 * 1024 * 1024)
            .read_to_end(&mut body)
            .context("reading stdin")?;
    } else {
        body = std::fs::read(&a.path).with_context(|| format!("reading {}", a.path))?;
    }
    let request = parse_review(&body).with_context(|| a.path.clone())?;
    let decision = policy.decide(request);
    let allowed = decision.response.allowed;
    let out = AdmissionReviewResponse::new(decision.response);
    println!(
        "{}",
        serde_json::to_string_pretty(&out).context("serializing the response")?
    );
    Ok(if allowed {
        ExitCode::SUCCESS
    } else {
        exit::code(exit::FINDINGS)
    })
}
