//! Palisade central (issue 15): the HTTPS API in front of the durable store
//! (`palisade-store`) where scans, sensors, admission webhooks and runtime agents push what they
//! found, and analysts query it.
//!
//! - [`routes`]: the one table of endpoints; the router and the OpenAPI document are both
//!   built from it.
//! - [`auth`]: bearer tokens, roles and cluster binding (401/403).
//! - [`extract`]: strict JSON bodies (400 with the field's path, 413 over the limit, gzip) and
//!   strict query strings (an unknown parameter is a 400 naming it).
//! - [`ingest`], [`query`], [`graph`]: the handlers; the network graph and who-can run the
//!   netpol and RBAC engines over the stored objects.
//! - [`metrics`], [`health`]: `/metrics`, `/healthz`, `/readyz` and the access log.
//! - [`bootstrap`]: data directory, generated TLS, the first admin token.
//! - [`server`]: rustls + hyper serving with graceful shutdown.
//! - [`local`]: token management straight on the store (the command line's choice).
//! - [`dashboard`]: the web dashboard under `/ui` (sessions, CSRF, CSP, server-side HTML).
//!
//! Invariants: every route but `/healthz` authenticates; a token secret is never logged, stored
//! (only its hash, by the store) or echoed except in the one answer that creates it; a push is
//! acknowledged only after the store committed it; a store outage is a 503, never a 500.

pub mod analyses;
pub mod auth;
pub mod body;
pub mod bootstrap;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod graph;
pub mod health;
pub mod ingest;
pub mod local;
pub mod metrics;
pub mod openapi;
pub mod query;
pub mod responses;
pub mod routes;
pub mod runtime_policy;
pub mod server;
pub mod state;
mod store_error;
pub mod stream;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use palisade_model::time::{Clock, SystemClock};

pub use bootstrap::{StoreLocation, default_data_dir};
pub use error::ApiError;
pub use state::AppState;

/// Default body limit: snapshots of large clusters are big.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024 * 1024;

/// Why central could not start.
#[derive(Debug, thiserror::Error)]
pub enum CentralError {
    /// A file or directory problem.
    #[error("{0}")]
    Io(String),
    /// Certificates.
    #[error("TLS: {0}")]
    Tls(String),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(String),
    /// A request that cannot be made (a token without a needed cluster, …).
    #[error("{0}")]
    Invalid(String),
    /// The address could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
}

/// `palisade central serve` options.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Data directory and database.
    pub location: StoreLocation,
    /// Listen address (`HOST:PORT`).
    pub addr: String,
    /// Certificate and key to serve with (absent: generated in the data directory).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Largest request body after decoding, in bytes.
    pub body_limit: usize,
    /// Largest snapshot stream after decoding, in bytes.
    pub stream_limit: u64,
    /// Snapshots kept per cluster (retention).
    pub keep_snapshots: u32,
    /// Days alerts are kept (retention).
    pub alert_days: u32,
}

/// What a started server tells its caller (printed by the CLI).
#[derive(Debug, Clone)]
pub struct Started {
    /// The bound address.
    pub addr: SocketAddr,
    /// The CA clients should trust, when central generated its certificate.
    pub ca: Option<PathBuf>,
    /// The admin token, on the start that created it (show it once, never log it).
    pub admin_token: Option<String>,
    /// Where the admin token file is.
    pub admin_token_file: PathBuf,
}

/// How often retention runs.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Runs central on its own runtime until SIGTERM or Ctrl-C. `on_start` is called once the
/// server accepts connections.
pub fn serve_until_signal(
    options: ServeOptions,
    on_start: impl FnOnce(&Started),
) -> Result<(), CentralError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CentralError::Io(format!("starting the runtime: {e}")))?;
    runtime.block_on(serve(options, on_start, server::shutdown_signal()))
}

/// Runs central until `shutdown` completes.
pub async fn serve(
    options: ServeOptions,
    on_start: impl FnOnce(&Started),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), CentralError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = options.location.open().await?;
    let data_dir = &options.location.data_dir;
    let host = options
        .addr
        .rsplit_once(':')
        .map_or("", |(h, _)| h.trim_start_matches('[').trim_end_matches(']'));
    let tls_files = bootstrap::tls_files(data_dir, options.tls.clone(), host)?;
    let certs = palisade_tls::CertStore::load(&tls_files.cert, &tls_files.key)
        .map_err(|e| CentralError::Tls(e.0))?;
    let tls = Arc::new(certs)
        .server_config(None)
        .map_err(|e| CentralError::Tls(e.0))?;
    let admin_token = bootstrap::ensure_admin_token(&store, data_dir, clock.now()).await?;
    let listener = tokio::net::TcpListener::bind(&options.addr)
        .await
        .map_err(|source| CentralError::Bind {
            addr: options.addr.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| CentralError::Bind {
        addr: options.addr.clone(),
        source,
    })?;
    let state = AppState {
        store: store.clone(),
        metrics: Arc::new(metrics::Metrics::new()),
        clock: clock.clone(),
        analyses: Arc::new(analyses::AnalysisCache::new(analyses::Limits::default())),
    };
    let router = routes::router(state, options.body_limit, options.stream_limit);
    let retention = tokio::spawn(retention(
        store,
        clock,
        options.keep_snapshots,
        options.alert_days,
    ));
    tracing::info!(
        addr = %addr,
        backend = %options.location.backend_name(),
        tls_generated = tls_files.ca.is_some(),
        body_limit = options.body_limit,
        "central serving"
    );
    on_start(&Started {
        addr,
        ca: tls_files.ca.clone(),
        admin_token,
        admin_token_file: bootstrap::admin_token_path(data_dir),
    });
    server::serve_tls(listener, tls, router, shutdown).await;
    retention.abort();
    Ok(())
}

/// Prunes old snapshots and alerts now and then every [`PRUNE_EVERY`].
async fn retention(
    store: palisade_store::Store,
    clock: Arc<dyn Clock>,
    keep_snapshots: u32,
    alert_days: u32,
) {
    let mut tick = tokio::time::interval(PRUNE_EVERY);
    loop {
        tick.tick().await;
        let retention = palisade_store::Retention {
            keep_snapshots_per_cluster: keep_snapshots.max(1),
            alert_days,
        };
        if let Err(e) = store.prune(retention, clock.now()).await {
            tracing::warn!(error = %e, "retention: pruning failed; will retry");
        }
    }
}
