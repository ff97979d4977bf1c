//! `palisade central serve|token|query` (issue 15): the service, its tokens, and the command-line
//! client of its query API.
//!
//! `token` works on the store directly (`--data`/`--database`, like `serve`): token management
//! is an operator's job on the machine or database central uses, it works while central is down,
//! and no secret crosses the network. Remote automation uses `/api/v1/tokens` with an admin
//! token instead.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use palisade_api::{Role, TokenCreate, TokenInfo};
use palisade_central::{ServeOptions, StoreLocation};
use palisade_model::time::Date;

use crate::central_client::ConnectArgs;
use crate::render::central as render;

/// `palisade central …`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Serve central's HTTPS API (TLS always: a CA and certificate are generated in the data
    /// directory on first start unless --tls-cert is given).
    #[command(
        after_help = "Examples:\n  palisade central serve\n  palisade central serve --data /var/lib/palisade --addr 0.0.0.0:8443\n  PALISADE_DATABASE_URL=postgres://central@db/palisade palisade central serve --tls-cert tls.crt --tls-key tls.key\n\nThe first start creates an admin token, writes it to DATA/admin.token (mode 0600) and prints it once. SIGTERM drains open requests and exits."
    )]
    Serve(ServeArgs),
    /// Create, list and revoke API tokens (on the store directly).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Query central's API: findings, workloads, risk, images, alerts, clusters.
    Query(Box<QueryArgs>),
    /// Try the dashboard: central on a temporary store with examples/demo-cluster pushed;
    /// prints the URL and an admin login token, runs until Ctrl-C.
    #[command(
        after_help = "Examples:\n  palisade central demo\n  palisade central demo --addr 127.0.0.1:9443 my-manifests/"
    )]
    Demo(super::central_demo::DemoArgs),
    /// Print the install manifests: Namespace, ServiceAccount, PersistentVolumeClaim (SQLite),
    /// Deployment, Service and NetworkPolicies.
    #[command(
        after_help = "Examples:\n  palisade central manifests --image registry.example.com/palisade@sha256:… | kubectl apply -f -\n  palisade central manifests --database-secret palisade-central-db --replicas 3\n\nCreate the TLS Secret (default palisade-central-tls) first. What `palisade scan` reports on them and central must accept is suppressed on each object with its reason."
    )]
    Manifests(super::central_manifests::ManifestArgs),
}

/// Where the store is (shared by `serve` and `token`).
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// Data directory: SQLite database, generated TLS material, admin token [default:
    /// $XDG_DATA_HOME/palisade/central].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// PostgreSQL URL (`postgres://user@host/db`) instead of SQLite in the data directory.
    #[arg(
        long,
        value_name = "URL",
        env = "PALISADE_DATABASE_URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
}

impl StoreArgs {
    fn location(&self) -> StoreLocation {
        StoreLocation {
            data_dir: self
                .data
                .clone()
                .unwrap_or_else(palisade_central::default_data_dir),
            database: self.database.clone().filter(|d| !d.is_empty()),
        }
    }
}

/// Arguments of `palisade central serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8443")]
    pub addr: String,
    /// PEM certificate chain to serve (default: generated in DATA/tls/).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Snapshots kept per cluster.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub keep_snapshots: u32,
    /// Days alerts and admission decisions are kept.
    #[arg(long, value_name = "D", default_value_t = 30)]
    pub alert_days: u32,
    /// Largest request body in MiB, after gzip decoding (for a snapshot stream: its longest
    /// line).
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub max_body_mib: usize,
    /// Largest snapshot stream (`application/x-ndjson`, what `scan --push` and the sensor
    /// send) in MiB, after gzip decoding: central stores a stream while it arrives, so this
    /// bounds the data, not central's memory.
    #[arg(long, value_name = "MIB", default_value_t = 16384)]
    pub max_stream_mib: u64,
}

/// `palisade central token …`
#[derive(clap::Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown this once).
    Create(TokenCreateArgs),
    /// List tokens (never their secrets).
    List(TokenListArgs),
    /// Revoke a token by id.
    Revoke(TokenRevokeArgs),
}

/// Arguments of `palisade central token create`.
#[derive(clap::Args, Debug)]
pub struct TokenCreateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Role: admin, analyst, sensor or agent.
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// The cluster a sensor or agent token is bound to.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// Last day the token is accepted (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub expires: Option<Date>,
    /// Who or what holds it (named in the audit log).
    #[arg(long)]
    pub name: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = render::Format::Table)]
    pub format: render::Format,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: palisade_api::token::UnknownRole| e.to_string())
}

/// Arguments of `palisade central token list`.
#[derive(clap::Args, Debug)]
pub struct TokenListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = render::Format::Table)]
    pub format: render::Format,
}

/// Arguments of `palisade central token revoke`.
#[derive(clap::Args, Debug)]
pub struct TokenRevokeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The token's id (from `token list`).
    pub id: String,
}

/// What `palisade central query` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    /// Findings with their history.
    Findings,
    /// Workloads.
    Workloads,
    /// The risk ranking.
    Risk,
    /// Images and their vulnerabilities.
    Images,
    /// Runtime alerts.
    Alerts,
    /// Clusters.
    Clusters,
}

/// Arguments of `palisade central query`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  palisade central query findings --cluster prod --severity high --url https://central:8443 --ca-cert ca.pem --token-file analyst.token\n  palisade central query risk --cluster prod --limit 10 --format json\n\nFilters a query does not take are refused by central (400 naming the parameter)."
)]
pub struct QueryArgs {
    /// What to list.
    #[arg(value_enum)]
    pub what: What,
    /// Central's URL.
    #[arg(long, env = "PALISADE_CENTRAL_URL")]
    pub url: String,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Cluster.
    #[arg(long)]
    pub cluster: Option<String>,
    /// Namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// This severity or worse (findings, images, alerts).
    #[arg(long)]
    pub severity: Option<String>,
    /// Check id (findings).
    #[arg(long)]
    pub check: Option<String>,
    /// new, open, resolved or suppressed (findings).
    #[arg(long)]
    pub status: Option<String>,
    /// At or after this instant, RFC 3339 (findings: first seen; alerts: time).
    #[arg(long)]
    pub since: Option<String>,
    /// Rule (alerts).
    #[arg(long)]
    pub rule: Option<String>,
    /// Risk score at least this (workloads, risk).
    #[arg(long)]
    pub min_risk: Option<u32>,
    /// Image reference contains this (workloads, risk).
    #[arg(long)]
    pub image: Option<String>,
    /// Label `key` or `key=value` (workloads, risk).
    #[arg(long)]
    pub label: Option<String>,
    /// name, risk or findings (workloads).
    #[arg(long)]
    pub sort: Option<String>,
    /// Rows per page.
    #[arg(long)]
    pub limit: Option<u32>,
    /// Cursor from a previous page (printed on stderr when more rows exist).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = render::Format::Table)]
    pub format: render::Format,
}

/// Runs `palisade central …`.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(a) => serve(a),
        Command::Token(TokenCommand::Create(a)) => {
            let created = palisade_central::local::create_token(
                &a.store.location(),
                &TokenCreate {
                    name: a.name,
                    role: a.role,
                    cluster: a.cluster,
                    expires: a.expires,
                },
            )?;
            emit(&render::token_created(&created, a.format)?, a.format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::List(a)) => {
            let tokens: Vec<TokenInfo> = palisade_central::local::list_tokens(&a.store.location())?;
            emit(&render::tokens(&tokens, a.format)?, a.format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Revoke(a)) => {
            let info = palisade_central::local::revoke_token(&a.store.location(), &a.id)?;
            println!("revoked token {} ({})", info.id, info.name);
            Ok(ExitCode::SUCCESS)
        }
        Command::Query(a) => query(*a),
        Command::Demo(a) => super::central_demo::run(a),
        Command::Manifests(a) => super::central_manifests::print(&a),
    }
}

fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let options = ServeOptions {
        location: a.store.location(),
        addr: a.addr,
        tls: a.tls_cert.zip(a.tls_key),
        body_limit: a.max_body_mib.saturating_mul(1024 * 1024),
        stream_limit: a.max_stream_mib.saturating_mul(1 << 20),
        keep_snapshots: a.keep_snapshots,
        alert_days: a.alert_days,
    };
    palisade_central::serve_until_signal(options, |started| {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        if let Some(ca) = &started.ca {
            let _ = writeln!(out, "CA certificate for clients: {}", ca.display());
        }
        if let Some(token) = &started.admin_token {
            let _ = writeln!(
                out,
                "admin token (shown once; also in {}): {token}",
                started.admin_token_file.display()
            );
        }
        // Last: whoever waits for this line has seen the others.
        let _ = writeln!(
            out,
            "palisade central listening on https://{}",
            started.addr
        );
        let _ = out.flush();
    })?;
    tracing::info!("palisade central: stopped");
    Ok(ExitCode::SUCCESS)
}

fn query(a: QueryArgs) -> anyhow::Result<ExitCode> {
    let client = crate::central_client::Client::new(&a.url, &a.connect)?;
    let params: Vec<(&str, String)> = [
        ("cluster", a.cluster.clone()),
        ("namespace", a.namespace.clone()),
        ("severity", a.severity.clone()),
        ("check", a.check.clone()),
        ("status", a.status.clone()),
        ("since", a.since.clone()),
        ("rule", a.rule.clone()),
        ("min_risk", a.min_risk.map(|v| v.to_string())),
        ("image", a.image.clone()),
        ("label", a.label.clone()),
        ("sort", a.sort.clone()),
        ("limit", a.limit.map(|v| v.to_string())),
        ("cursor", a.cursor.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let text = match a.what {
        What::Findings => render::findings(&client.get("/api/v1/findings", &params)?, a.format)?,
        What::Workloads => render::workloads(&client.get("/api/v1/workloads", &params)?, a.format)?,
        What::Risk => render::workloads(&client.get("/api/v1/risk", &params)?, a.format)?,
        What::Images => render::images(&client.get("/api/v1/images", &params)?, a.format)?,
        What::Alerts => render::alerts(&client.get("/api/v1/alerts", &params)?, a.format)?,
        What::Clusters => {
            let clusters: Vec<palisade_api::ClusterView> =
                client.get("/api/v1/clusters", &params)?;
            render::clusters(&clusters, a.format)?
        }
    };
    emit(&text, a.format)?;
    Ok(ExitCode::SUCCESS)
}

/// Tables escaped for the terminal, JSON as it is.
fn emit(text: &str, format: render::Format) -> anyhow::Result<()> {
    crate::output::emit_for(text, None, format == render::Format::Table)
}
