//! A fake Kubernetes API server for tests (dev-only): enough of the API for kube-rs and kubectl
//! to read, write and watch objects over HTTPS on loopback, without a cluster.
//!
//! It serves discovery (`/version`, `/api`, `/apis`, resource lists, and the aggregated
//! `apidiscovery.k8s.io/v2` form), lists with `kind`/`apiVersion`, one global resourceVersion
//! counter, server-set `uid`/`resourceVersion`/`creationTimestamp`/`generation`, label and field
//! selectors, `limit`/`continue`/`remainingItemCount`, metadata-only lists
//! (`PartialObjectMetadataList`), watches from a resourceVersion (ADDED/MODIFIED/DELETED,
//! selector transitions, bookmarks, `sendInitialEvents`, `410 Expired` after [`FakeApiServer::compact`],
//! `timeoutSeconds`), bearer-token authentication (401), 403 for kinds a test forbids, and
//! create / PUT (409 on a stale resourceVersion) / merge patch / DELETE.
//!
//! It does not do admission, defaulting, validation, controllers, garbage collection, RBAC,
//! version conversion, JSON or strategic-merge patches, server-side apply, protobuf, Tables,
//! OpenAPI, HTTP/2 or subresources. A continued list reads the current objects after the last
//! one sent (not a snapshot at the list's resourceVersion). Test the protocol with it and the
//! security logic with fixtures.
//!
//! ```no_run
//! let fake = palisade_kube_fake::FakeApiServer::start(Default::default()).unwrap();
//! fake.apply(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})).unwrap();
//! let dir = tempfile::tempdir().unwrap();
//! let kubeconfig = fake.write_kubeconfig(dir.path(), "fake").unwrap();
//! # let _ = kubeconfig;
//! ```

mod discovery;
mod kubeconfig;
mod list;
mod request;
pub mod resources;
mod selector;
mod server;
mod status;
mod store;
mod tls;
mod watch;

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub use status::ApiError;

/// How to start a fake.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Bearer token every request must carry; `None` accepts any request.
    pub token: Option<String>,
    /// How often an idle watch that allows bookmarks gets one.
    pub bookmark_every: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: Some("palisade-test-token".into()),
            bookmark_every: Duration::from_secs(1),
        }
    }
}

/// A running fake API server; stops when dropped.
pub struct FakeApiServer {
    runtime: Option<tokio::runtime::Runtime>,
    shared: Arc<server::Shared>,
    url: String,
    ca_pem: String,
    addr: SocketAddr,
}

/// While held, watches are paused: open ones have ended and new ones wait. Dropping it resumes
/// them.
pub struct WatchPause<'a>(&'a FakeApiServer);

impl Drop for WatchPause<'_> {
    fn drop(&mut self) {
        self.0.shared.store.set_paused(false);
    }
}

impl FakeApiServer {
    /// Starts serving on its own runtime (two worker threads).
    pub fn start(config: Config) -> io::Result<FakeApiServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kube-fake")
            .enable_all()
            .build()?;
        // Bound here (not with `block_on`, so a test already inside a runtime may start one).
        let listener = std::net::TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (ca_pem, tls) = tls::server_config()?;
        let shared = Arc::new(server::Shared {
            store: Arc::default(),
            token: config.token,
            bookmark_every: config.bookmark_every,
            address: addr.to_string(),
            requests: Mutex::default(),
        });
        let serving = shared.clone();
        runtime.spawn(async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => server::serve(listener, tls, serving).await,
                Err(e) => eprintln!("palisade-kube-fake: cannot serve: {e}"),
            }
        });
        Ok(FakeApiServer {
            runtime: Some(runtime),
            shared,
            url: format!("https://{addr}"),
            ca_pem,
            addr,
        })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA certificate (PEM) that signed the serving certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The bearer token required, if any.
    pub fn token(&self) -> Option<&str> {
        self.shared.token.as_deref()
    }

    /// Creates or replaces an object (type from its apiVersion and kind; namespaced objects
    /// without a namespace go to `default`). Returns it as stored.
    pub fn apply(&self, object: Value) -> Result<Value, ApiError> {
        self.shared.store.apply(object).map(|o| (*o).clone())
    }

    /// Deletes an object. Returns it as it was.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let res = resources::by_kind(api_version, kind).ok_or_else(|| {
            ApiError::bad_request(format!("no resource type serves {api_version} {kind}"))
        })?;
        self.shared
            .store
            .delete(res, namespace, name)
            .map(|o| (*o).clone())
    }

    /// The object as stored, if there is one (for tests to see what a client's write did).
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let res = resources::by_kind(api_version, kind)?;
        self.shared
            .store
            .get(res, namespace, name)
            .map(|o| (*o).clone())
    }

    /// Compacts the event log at the current resourceVersion: watches and continue tokens
    /// from older versions get 410 Expired; open watches end (clients re-watch).
    pub fn compact(&self) {
        self.shared.store.compact();
    }

    /// Answers every request for `kind` (e.g. `Secret`) with 403 Forbidden.
    pub fn forbid(&self, kind: &str) {
        self.shared.store.set_forbidden(kind, true);
    }

    /// Ends open watches and holds new ones until the returned guard is dropped, so a test can
    /// change objects (and compact) while no watch is connected.
    pub fn pause_watches(&self) -> WatchPause<'_> {
        self.shared.store.set_paused(true);
        WatchPause(self)
    }

    /// The latest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.store.resource_version()
    }

    /// How many objects are stored.
    pub fn object_count(&self) -> usize {
        self.shared.store.count()
    }

    /// Every request served so far, as `METHOD PATH[?QUERY]`, followed by ` [as=FORM]` when
    /// the client asked for a form other than plain JSON (`PartialObjectMetadataList`, `Table`).
    pub fn requests(&self) -> Vec<String> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Writes `ca.crt` and a kubeconfig (`kubeconfig`) into `dir` with one context named
    /// `context` (current), using this server's URL, CA and token.
    pub fn write_kubeconfig(&self, dir: &Path, context: &str) -> io::Result<PathBuf> {
        kubeconfig::write(dir, &self.url, &self.ca_pem, self.token(), context)
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
