//! The HTTPS edge: rustls + hyper, `/validate`, `/healthz`, `/readyz`, `/metrics`.
//!
//! Bounded at every step: a TLS handshake deadline, an HTTP/1 header read deadline, a body read
//! deadline and size limit, a per-review deadline and a connection limit, so slow or hostile
//! clients cost a task and a socket for a bounded time, never a worker. The reactor threads only
//! do I/O: parsing and deciding a review run on the bounded decision pool ([`crate::pool`]),
//! whose queue, when full, turns reviews away with 503 and `Retry-After`; probes never wait
//! for decisions. The policy
//! ([`Admission`]) is built once and shared; it is rebuilt only when the date changes (exception
//! expiry). The serving certificate is reloaded when its files change or on SIGHUP. On SIGTERM
//! or Ctrl-C the server reports not-ready, stops accepting, and lets open requests finish within
//! a grace period.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use palisade_model::time::{Clock, Date};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

pub use crate::audit_sink::{AuditSink, file_audit_sink, rate_limited, stderr_audit_sink};
use crate::body::BodyError;
use crate::decide::{Admission, Decision, Evaluation, PolicyError, Prepared};
use crate::facts::RegistryFactsSource;
use crate::metrics::{Metrics, Overload};
use crate::pool::DecisionPool;
use crate::review::{AdmissionReviewResponse, parse_review};
use palisade_tls::CertStore;

/// Limits and timings of the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// Largest accepted request body (413 beyond).
    pub max_body_bytes: usize,
    /// Deadline for a TLS handshake.
    pub handshake_timeout: Duration,
    /// Deadline for a request's headers (HTTP/1), idle keep-alive included.
    pub header_timeout: Duration,
    /// Deadline for reading a request body (408 beyond).
    pub body_timeout: Duration,
    /// Deadline for answering a review once its body is read: 503 when it passes before a
    /// decision thread was free, 504 when the decision itself is too slow.
    pub review_timeout: Duration,
    /// Reviews decided at once, each on its own blocking thread (not the I/O threads).
    pub decision_threads: usize,
    /// Reviews waiting for a decision thread at most; more are answered 503 with
    /// `Retry-After` at once.
    pub decision_queue: usize,
    /// How often the certificate files are checked for changes.
    pub cert_reload_interval: Duration,
    /// How long open requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Most connections open at once; more are closed on accept.
    pub max_connections: usize,
    /// CA certificates (PEM) that clients must chain to: with it, `/validate` and `/metrics`
    /// answer only connections that presented a verified client certificate (the API server,
    /// configured through its AdmissionConfiguration kubeconfig); `/healthz` and `/readyz`
    /// stay open for probes.
    pub client_ca: Option<PathBuf>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            addr: SocketAddr::from(([0, 0, 0, 0], 8443)),
            cert: PathBuf::from("tls.crt"),
            key: PathBuf::from("tls.key"),
            max_body_bytes: 4 * 1024 * 1024,
            handshake_timeout: Duration::from_secs(5),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            review_timeout: Duration::from_secs(8),
            decision_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            decision_queue: 32,
            cert_reload_interval: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(15),
            max_connections: 1024,
            client_ca: None,
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Certificate or key problem.
    #[error("{0}")]
    Tls(String),
    /// Could not start the async runtime.
    #[error("starting the runtime: {0}")]
    Runtime(std::io::Error),
    /// Could not listen.
    #[error("listening on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
}

/// Builds the policy for a day, to refresh exception expiry daily.
pub type PolicyBuilder = Arc<dyn Fn(Date) -> Result<Admission, PolicyError> + Send + Sync>;

struct Webhook {
    policy: RwLock<Arc<Admission>>,
    facts: Option<Arc<dyn RegistryFactsSource>>,
    metrics: Metrics,
    pool: DecisionPool,
    ready: AtomicBool,
    options: ServerOptions,
    audit: AuditSink,
}

impl Webhook {
    fn policy(&self) -> Arc<Admission> {
        self.policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A bound, not yet running webhook server.
pub struct Server {
    state: Arc<Webhook>,
    store: Arc<CertStore>,
    tls: Arc<rustls::ServerConfig>,
    listener: TcpListener,
    refresh: Option<(PolicyBuilder, Arc<dyn Clock>)>,
}

impl Server {
    /// Loads the certificate and binds the address.
    pub async fn bind(options: ServerOptions, policy: Admission) -> Result<Server, ServerError> {
        let store = Arc::new(
            CertStore::load(&options.cert, &options.key).map_err(|e| ServerError::Tls(e.0))?,
        );
        let tls = store
            .server_config(options.client_ca.as_deref())
            .map_err(|e| ServerError::Tls(e.0))?;
        let listener =
            TcpListener::bind(options.addr)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: options.addr,
                    source,
                })?;
        Ok(Server {
            state: Arc::new(Webhook {
                policy: RwLock::new(Arc::new(policy)),
                facts: None,
                metrics: Metrics::default(),
                pool: DecisionPool::new(options.decision_threads, options.decision_queue),
                ready: AtomicBool::new(false),
                options,
                audit: stderr_audit_sink(),
            }),
            store,
            tls,
            listener,
            refresh: None,
        })
    }

    fn state_mut(&mut self) -> &mut Webhook {
        Arc::get_mut(&mut self.state).expect("the server is not running yet")
    }

    /// Consults `source` for image facts before each evaluation (called on a blocking thread).
    pub fn with_image_facts(mut self, source: Arc<dyn RegistryFactsSource>) -> Server {
        self.state_mut().facts = Some(source);
        self
    }

    /// Sends audit records to `sink` instead of stderr.
    pub fn with_audit_sink(mut self, sink: AuditSink) -> Server {
        self.state_mut().audit = sink;
        self
    }

    /// Rebuilds the policy with `build` whenever `clock`'s day changes (checked every minute).
    pub fn with_daily_refresh(mut self, build: PolicyBuilder, clock: Arc<dyn Clock>) -> Server {
        self.refresh = Some((build, clock));
        self
    }

    /// The address actually bound (port 0 resolved).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then drains open connections within the grace period.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Server {
            state,
            store,
            tls,
            listener,
            refresh,
        } = self;
        let acceptor = TlsAcceptor::from(tls);
        let mut background = Vec::new();
        background.push(tokio::spawn(watch_certificates(
            store.clone(),
            state.clone(),
        )));
        if let Some((build, clock)) = refresh {
            background.push(tokio::spawn(refresh_policy(state.clone(), build, clock)));
        }
        let graceful = GracefulShutdown::new();
        let slots = Arc::new(Semaphore::new(state.options.max_connections.max(1)));
        state.ready.store(true, Ordering::SeqCst);
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                () = &mut shutdown => break,
            };
            let (tcp, _peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: back off briefly instead of spinning.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                state.metrics.connection_refused();
                drop(tcp);
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let conn = serve_connection(state.clone(), acceptor.clone(), tcp, graceful.watcher());
            tokio::spawn(async move {
                conn.await;
                drop(permit);
            });
        }
        state.ready.store(false, Ordering::SeqCst);
        drop(listener);
        let grace = state.options.shutdown_grace;
        tracing::info!(
            grace_secs = grace.as_secs_f64(),
            "shutting down: no new connections, draining open ones"
        );
        if tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                "connections still open after the {}s grace period; closing",
                grace.as_secs()
            );
        }
        for task in background {
            task.abort();
        }
        Ok(())
    }
}

async fn serve_connection(
    state: Arc<Webhook>,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    watcher: hyper_util::server::graceful::Watcher,
) {
    state.metrics.connection(true);
    let opts = &state.options;
    let peer = tcp.peer_addr().ok();
    let tls = match tokio::time::timeout(opts.handshake_timeout, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        failed => {
            match failed {
                Ok(Err(e)) => tracing::warn!(peer = ?peer, error = %e, "TLS handshake failed"),
                _ => tracing::warn!(peer = ?peer, "TLS handshake timed out"),
            }
            state.metrics.tls_handshake_failure();
            state.metrics.connection(false);
            return;
        }
    };
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    // With a client CA, rustls has verified any certificate the client presented.
    let client = if opts.client_ca.is_none() {
        Client::Open
    } else if tls.get_ref().1.peer_certificates().is_some() {
        Client::Authenticated
    } else {
        Client::Anonymous
    };
    let io = TokioIo::new(tls);
    let svc_state = state.clone();
    let service = hyper::service::service_fn(move |req| {
        let state = svc_state.clone();
        async move { Ok::<_, Infallible>(handle(&state, client, req).await) }
    });
    // The protocol comes from ALPN, so no read happens before the HTTP/1 header deadline
    // applies.
    if h2 {
        let mut b = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        b.timer(TokioTimer::new())
            .max_concurrent_streams(64)
            .keep_alive_interval(Some(Duration::from_secs(20)))
            .keep_alive_timeout(Duration::from_secs(10));
        let _ = watcher.watch(b.serve_connection(io, service)).await;
    } else {
        let mut b = hyper::server::conn::http1::Builder::new();
        b.timer(TokioTimer::new())
            .header_read_timeout(opts.header_timeout)
            .max_buf_size(64 * 1024)
            .keep_alive(true);
        let _ = watcher.watch(b.serve_connection(io, service)).await;
    }
    state.metrics.connection(false);
}

type Body = Full<Bytes>;

fn text(code: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Who is on the other end of a connection, as far as TLS says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    /// No client CA configured: every client is served.
    Open,
    /// Presented a certificate that chains to the client CA.
    Authenticated,
    /// A client CA is configured and this client presented no certificate.
    Anonymous,
}

async fn handle(state: &Webhook, client: Client, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let known = matches!(
        path.as_str(),
        "/validate" | "/healthz" | "/readyz" | "/metrics"
    );
    let needs_identity = matches!(path.as_str(), "/validate" | "/metrics");
    let response = match (req.method(), path.as_str()) {
        _ if needs_identity && client == Client::Anonymous => {
            tracing::warn!(%path, "request without a client certificate refused");
            text(
                StatusCode::UNAUTHORIZED,
                format!(
                    "{path} requires a client certificate issued by the configured client CA\n"
                ),
            )
        }
        (&Method::POST, "/validate") => validate(state, req).await,
        (&Method::GET | &Method::HEAD, "/healthz") => text(StatusCode::OK, "ok\n"),
        (&Method::GET | &Method::HEAD, "/readyz") => {
            if state.ready.load(Ordering::SeqCst) {
                text(StatusCode::OK, "ready\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
            }
        }
        (&Method::GET, "/metrics") => {
            state.metrics.set_in_flight(state.pool.in_flight());
            let mut r = text(StatusCode::OK, state.metrics.render());
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        (_, _) if known => {
            let allow = if path == "/validate" {
                "POST"
            } else {
                "GET, HEAD"
            };
            let mut r = text(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{path} accepts {allow}\n"),
            );
            if let Ok(v) = header::HeaderValue::from_str(allow) {
                r.headers_mut().insert(header::ALLOW, v);
            }
            r
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: the webhook answers POST /validate; /healthz, /readyz, /metrics\n",
        ),
    };
    state.metrics.request(
        if known { &path } else { "other" },
        response.status().as_u16(),
    );
    response
}

/// An error answer to a review request, logged: its text is Palisade's own (sizes, timeouts,
/// which envelope field is malformed), never the reviewed object's values.
fn rejected(code: StatusCode, message: String) -> Response<Body> {
    tracing::warn!(status = code.as_u16(), "review request rejected: {message}");
    text(code, message + "\n")
}

async fn validate(state: &Webhook, req: Request<Incoming>) -> Response<Body> {
    let start = Instant::now();
    let opts = &state.options;
    let limit = opts.max_body_bytes;
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let drain = req.version() == hyper::Version::HTTP_2;
    let deadline = tokio::time::Instant::now() + opts.body_timeout;
    let bytes = match crate::body::read(req.into_body(), announced, limit, deadline, drain).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge(size)) => {
            let what = size.map_or("request body".to_string(), |n| {
                format!("request body of {n} bytes")
            });
            return rejected(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("{what} exceeds the limit of {limit} bytes (--max-body-bytes)"),
            );
        }
        Err(BodyError::Timeout) => {
            return rejected(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "request body not received within {}s",
                    opts.body_timeout.as_secs_f64()
                ),
            );
        }
        Err(BodyError::Read(e)) => {
            return rejected(StatusCode::BAD_REQUEST, format!("reading the body: {e}"));
        }
    };
    let Some(place) = state.pool.admit() else {
        return overloaded(state, Overload::QueueFull);
    };
    let deadline = tokio::time::Instant::now() + opts.review_timeout;
    let Ok(thread) = tokio::time::timeout_at(deadline, state.pool.thread(&place)).await else {
        return overloaded(state, Overload::QueueTimeout);
    };
    let policy = state.policy();
    let facts = state.facts.clone();
    let decided = tokio::time::timeout_at(deadline, async {
        let facts_needed = facts.is_some();
        match thread
            .run(move || first_pass(&policy, &bytes, facts_needed))
            .await?
        {
            FirstPass::NeedsFacts(policy, ev) => {
                let source = facts?;
                let images = ev.images().to_vec();
                let table = tokio::task::spawn_blocking(move || source.facts(&images))
                    .await
                    .ok()?;
                let thread = state.pool.thread(&place).await;
                thread
                    .run(move || Ok(Answer::new(policy.evaluate(*ev, Some(Arc::new(table))))))
                    .await
            }
            FirstPass::Done(answer) => Some(*answer),
        }
    })
    .await;
    let answer = match decided {
        Ok(Some(Ok(answer))) => answer,
        Ok(Some(Err(e))) => return rejected(StatusCode::BAD_REQUEST, e.to_string()),
        Ok(None) => {
            tracing::error!("the review task failed (panicked or was cancelled)");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the review failed internally; see the server log\n",
            );
        }
        Err(_) => {
            return rejected(
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "no decision within {}s (image facts too slow?)",
                    opts.review_timeout.as_secs_f64()
                ),
            );
        }
    };
    drop(place);
    let decision = answer.decision;
    state.metrics.decision(&decision, start.elapsed());
    if !decision.dry_run
        && let Some(record) = &decision.record
    {
        (state.audit)(record);
    }
    let mut r = Response::new(Full::new(Bytes::from(answer.body)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

/// 503 with `Retry-After`: the decision pool cannot take the review in time.
fn overloaded(state: &Webhook, why: Overload) -> Response<Body> {
    state.metrics.overload(why);
    let mut r = rejected(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "overloaded: {} (--decision-threads {}, --decision-queue {}); retry shortly",
            why.describe(),
            state.options.decision_threads.max(1),
            state.options.decision_queue
        ),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    r
}

/// A decision and its serialized answer, made on a decision thread.
struct Answer {
    decision: Decision,
    body: Vec<u8>,
}

impl Answer {
    fn new(decision: Decision) -> Answer {
        let body = AdmissionReviewResponse::new(decision.response.clone()).to_json();
        Answer { decision, body }
    }
}

/// What the first pass on a decision thread produced.
enum FirstPass {
    /// Answered (or the body is not a review).
    Done(Box<Result<Answer, crate::review::ReviewError>>),
    /// The engine must run with image facts, which may take network time: they are gathered
    /// off the decision threads.
    NeedsFacts(Arc<Admission>, Box<Evaluation>),
}

/// Parses the review and decides it, unless the decision needs image facts.
fn first_pass(policy: &Arc<Admission>, body: &[u8], facts: bool) -> FirstPass {
    let request = match parse_review(body) {
        Ok(r) => r,
        Err(e) => return FirstPass::Done(Box::new(Err(e))),
    };
    let decision = match policy.prepare(request) {
        Prepared::Done(d) => *d,
        Prepared::Evaluate(ev) if facts => return FirstPass::NeedsFacts(policy.clone(), ev),
        Prepared::Evaluate(ev) => policy.evaluate(*ev, None),
    };
    FirstPass::Done(Box::new(Ok(Answer::new(decision))))
}

async fn watch_certificates(store: Arc<CertStore>, state: Arc<Webhook>) {
    let mut tick = tokio::time::interval(
        state
            .options
            .cert_reload_interval
            .max(Duration::from_millis(100)),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    #[cfg(unix)]
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        #[cfg(unix)]
        let forced = match hup.as_mut() {
            Some(h) => tokio::select! {
                _ = tick.tick() => false,
                _ = h.recv() => true,
            },
            None => {
                tick.tick().await;
                false
            }
        };
        #[cfg(not(unix))]
        let forced = {
            tick.tick().await;
            false
        };
        let result = if forced {
            store.reload().map(|()| true)
        } else {
            store.reload_if_changed()
        };
        match result {
            Ok(false) => {}
            Ok(true) => {
                state.metrics.tls_reload(true);
                tracing::info!(
                    cert = %state.options.cert.display(),
                    "serving certificate reloaded"
                );
            }
            Err(e) => {
                state.metrics.tls_reload(false);
                tracing::warn!(
                    cert = %state.options.cert.display(),
                    "certificate reload failed, keeping the previous one: {e}"
                );
            }
        }
    }
}

async fn refresh_policy(state: Arc<Webhook>, build: PolicyBuilder, clock: Arc<dyn Clock>) {
    let mut current = clock.today();
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let now = clock.today();
        if now == current {
            continue;
        }
        match build(now) {
            Ok(policy) => {
                *state.policy.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(policy);
                current = now;
                tracing::info!(day = %now, "policy rebuilt for the new day (exception expiry)");
            }
            Err(e) => tracing::error!(day = %now, "rebuilding the policy failed: {e}"),
        }
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Everything [`serve_until_signal`] needs.
pub struct ServeConfig {
    /// Limits, timings, address and certificate files.
    pub options: ServerOptions,
    /// The policy for today.
    pub policy: Admission,
    /// Rebuilds the policy when the clock's day changes.
    pub refresh: Option<(PolicyBuilder, Arc<dyn Clock>)>,
    /// Image facts source, if registry access is configured.
    pub facts: Option<Arc<dyn RegistryFactsSource>>,
    /// Where audit records go (default: stderr).
    pub audit: Option<AuditSink>,
    /// Worker threads (default: one per core).
    pub workers: Option<usize>,
}

/// Runs the server on its own multi-threaded runtime until SIGTERM or Ctrl-C, then shuts down
/// gracefully. `on_ready` receives the bound address once the server accepts connections.
pub fn serve_until_signal(
    config: ServeConfig,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = config.workers {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.build().map_err(ServerError::Runtime)?;
    rt.block_on(async move {
        let mut server = Server::bind(config.options, config.policy).await?;
        if let Some(source) = config.facts {
            server = server.with_image_facts(source);
        }
        if let Some(sink) = config.audit {
            server = server.with_audit_sink(sink);
        }
        if let Some((build, clock)) = config.refresh {
            server = server.with_daily_refresh(build, clock);
        }
        let addr = server.local_addr().map_err(|source| ServerError::Bind {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            source,
        })?;
        on_ready(addr);
        server.run(shutdown_signal()).await
    })
}
