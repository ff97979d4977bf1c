//! Watching a cluster (the sensor's source): one kube-runtime watcher per list a one-shot read
//! makes ([`KINDS`], per namespace when asked, Secrets by metadata only plus the
//! service-account-token list), each feeding a reflector store. The stores are the in-memory
//! inventory: objects keyed by kind, namespace and name, each with its resourceVersion.
//!
//! * Watches ask for bookmarks; after `410 Gone` (a compaction) kube-runtime re-lists and the
//!   reflector replaces the kind's objects at once when the list is complete, so nothing is
//!   lost or counted twice; errors are retried with kube-runtime's default back-off.
//! * A list the server refuses (403) or does not serve (404) becomes one diagnostic naming the
//!   kind, verb and scope (as a one-shot read words it); the other kinds go on and the refused
//!   one keeps being retried.
//! * Every change is announced on a channel ([`Change`]), with the instant the watch event was
//!   received, so the consumer can batch, debounce and measure.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use kube::Client;
use kube::Resource;
use kube::api::{Api, DynamicObject, PartialObjectMeta};
use kube::discovery::ApiResource;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use palisade_model::Diagnostic;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::fetch::{metadata_value, object_value};
use crate::{ClusterError, ReadOptions, SA_TOKEN_SELECTOR, Task, connect, diagnostic, tasks};

/// What the watchers tell their consumer.
#[derive(Debug, Clone)]
pub enum Change {
    /// Objects of this kind changed (added, modified, deleted, or re-listed).
    Kind {
        /// The kind (`Deployment`, `NetworkPolicy`, …).
        kind: &'static str,
        /// The one object the event was about (added, modified or deleted); `None` when the
        /// kind was listed again (any of its objects may have changed).
        object: Option<ObjectName>,
        /// When the watch event was received.
        at: Instant,
    },
    /// A list could not be read (see [`Watch::diagnostics`]), or can be again.
    Diagnostics,
    /// The process was asked to stop (SIGTERM or SIGINT), see [`spawn`].
    Stop,
}

/// The namespace (`None`: cluster-scoped) and name of one watched object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectName {
    /// The namespace; `None` for a cluster-scoped object.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

/// One watcher's store.
enum Reader {
    Full(Store<DynamicObject>),
    Meta(Store<PartialObjectMeta<DynamicObject>>),
}

/// The state the watchers share with [`Watch`].
#[derive(Default)]
struct Shared {
    /// Watchers whose first list completed (or was refused).
    ready: AtomicUsize,
    /// Refused or failed lists, by watcher index.
    diagnostics: Mutex<BTreeMap<usize, Diagnostic>>,
}

/// The running watchers and their stores (dropping it leaves the tasks on the runtime that
/// runs them; drop the runtime to stop them).
pub struct Watch {
    cluster: String,
    namespaces: Vec<String>,
    watchers: Vec<(Task, Reader)>,
    shared: Arc<Shared>,
}

impl Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("cluster", &self.cluster)
            .field("watchers", &self.watchers.len())
            .finish()
    }
}

/// Connects and starts one watcher per list (on the current tokio runtime); changes are sent
/// on `changes`. Returns at once: [`Watch::is_ready`] says when every first list is complete.
pub async fn start(options: &ReadOptions, changes: Sender<Change>) -> Result<Watch, ClusterError> {
    let (client, cluster) = connect(&options.source).await?;
    let shared = Arc::new(Shared::default());
    let mut watchers = Vec::new();
    for (index, task) in tasks(&options.namespaces).into_iter().enumerate() {
        let resource = task.kind.api_resource();
        let mut config = watcher::Config::default().any_semantic();
        if let Some(fields) = task.fields {
            config = config.fields(fields);
        }
        let spawner = Spawner {
            index,
            kind: task.kind.kind,
            cluster: cluster.clone(),
            task: Task {
                kind: task.kind,
                namespace: task.namespace.clone(),
                fields: task.fields,
            },
            shared: Arc::clone(&shared),
            changes: changes.clone(),
        };
        let reader = if task.kind.metadata_only {
            Reader::Meta(spawner.spawn(api(&client, &task, &resource), resource.clone(), config))
        } else {
            Reader::Full(spawner.spawn(api(&client, &task, &resource), resource.clone(), config))
        };
        watchers.push((task, reader));
    }
    Ok(Watch {
        cluster,
        namespaces: options.namespaces.clone(),
        watchers,
        shared,
    })
}

fn api<K>(client: &Client, task: &Task, resource: &ApiResource) -> Api<K>
where
    K: Resource<DynamicType = ApiResource, Scope = kube::core::DynamicResourceScope>,
{
    match &task.namespace {
        Some(ns) if task.kind.namespaced => Api::namespaced_with(client.clone(), ns, resource),
        _ => Api::all_with(client.clone(), resource),
    }
}

/// What one watcher task needs.
struct Spawner {
    index: usize,
    kind: &'static str,
    cluster: String,
    task: Task,
    shared: Arc<Shared>,
    changes: Sender<Change>,
}

impl Spawner {
    /// Spawns the watcher of `api` into a reflector store and returns the store's reader.
    fn spawn<K>(self, api: Api<K>, resource: ApiResource, config: watcher::Config) -> Store<K>
    where
        K: Resource<DynamicType = ApiResource>
            + Clone
            + DeserializeOwned
            + Debug
            + Send
            + Sync
            + 'static,
    {
        let writer = reflector::store::Writer::new(resource);
        let reader = writer.as_reader();
        tokio::spawn(async move {
            let stream = watcher::watcher(api, config)
                .default_backoff()
                .reflect(writer);
            futures::pin_mut!(stream);
            let mut ready = false;
            while let Some(item) = stream.next().await {
                match item {
                    Ok(Event::InitDone) => {
                        self.mark_ready(&mut ready);
                        self.clear_diagnostic();
                        self.changed(None);
                    }
                    Ok(Event::Apply(o) | Event::Delete(o)) => self.changed(Some(ObjectName {
                        namespace: o.meta().namespace.clone(),
                        name: o.meta().name.clone().unwrap_or_default(),
                    })),
                    Ok(Event::Init | Event::InitApply(_)) => {}
                    Err(e) => self.failed(e, &mut ready),
                }
            }
        });
        reader
    }

    fn changed(&self, object: Option<ObjectName>) {
        let _ = self.changes.send(Change::Kind {
            kind: self.kind,
            object,
            at: Instant::now(),
        });
    }

    fn mark_ready(&self, ready: &mut bool) {
        if !*ready {
            *ready = true;
            self.shared.ready.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn clear_diagnostic(&self) {
        let removed = lock(&self.shared.diagnostics).remove(&self.index);
        if removed.is_some() {
            tracing::info!(kind = self.kind, "list readable again");
            let _ = self.changes.send(Change::Diagnostics);
        }
    }

    /// A refused or unserved list becomes a diagnostic (once) and counts as ready; other
    /// errors (transport, an expired watch being re-listed) are logged and retried.
    fn failed(&self, error: watcher::Error, ready: &mut bool) {
        let status = match &error {
            watcher::Error::InitialListFailed(kube::Error::Api(s))
            | watcher::Error::WatchStartFailed(kube::Error::Api(s))
            | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some((s.code, s.message.clone())),
            watcher::Error::WatchError(s) => Some((s.code, s.message.clone())),
            _ => None,
        };
        match status {
            Some((code @ (403 | 404), message)) => {
                let first = match lock(&self.shared.diagnostics).entry(self.index) {
                    std::collections::btree_map::Entry::Occupied(_) => false,
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        let d = diagnostic(&self.cluster, &self.task, code, &message);
                        tracing::warn!(kind = self.kind, code, "{}", d.message);
                        slot.insert(d);
                        true
                    }
                };
                if first {
                    self.mark_ready(ready);
                    let _ = self.changes.send(Change::Diagnostics);
                }
            }
            // An expired resourceVersion (a compaction): kube-runtime lists the kind again.
            Some((410, _)) => tracing::info!(kind = self.kind, "{error}; listing again"),
            _ => tracing::warn!(kind = self.kind, "watch failed, retrying: {error}"),
        }
    }
}

/// The watchers on a runtime of their own (two worker threads), for a caller that is not
/// async: [`Running::watch`] reads the stores, [`Running::stop`] ends the watchers.
pub struct Running {
    runtime: tokio::runtime::Runtime,
    watch: Watch,
}

impl Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.watch.fmt(f)
    }
}

/// [`start`] on a runtime of its own; also sends [`Change::Stop`] on `changes` when the
/// process receives SIGTERM or SIGINT.
pub fn spawn(options: &ReadOptions, changes: Sender<Change>) -> Result<Running, ClusterError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ClusterError::Runtime)?;
    let watch = {
        let _guard = runtime.enter();
        stop_on_signal(changes.clone());
        runtime.block_on(start(options, changes))?
    };
    Ok(Running { runtime, watch })
}

impl Running {
    /// The watchers' stores.
    pub fn watch(&self) -> &Watch {
        &self.watch
    }

    /// Ends the watchers (waiting at most 5 s for their tasks).
    pub fn stop(self) {
        drop(self.watch);
        self.runtime
            .shutdown_timeout(std::time::Duration::from_secs(5));
    }
}

/// Sends [`Change::Stop`] on `changes` when the process receives SIGTERM or SIGINT (spawned on
/// the current tokio runtime).
fn stop_on_signal(changes: Sender<Change>) {
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot listen for SIGTERM: {e}");
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        }
        let _ = changes.send(Change::Stop);
    });
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Watch {
    /// The cluster's name (kubeconfig context or [`crate::IN_CLUSTER`]).
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// Whether every watcher's first list is complete (or was refused).
    pub fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::SeqCst) == self.watchers.len()
    }

    /// Lists that cannot be read now, as a one-shot read reports them.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        lock(&self.shared.diagnostics).values().cloned().collect()
    }

    /// Number of objects held (every store, controlled objects and token lists included).
    pub fn len(&self) -> usize {
        self.watchers
            .iter()
            .map(|(_, r)| match r {
                Reader::Full(s) => s.len(),
                Reader::Meta(s) => s.len(),
            })
            .sum()
    }

    /// Whether no object is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The current objects as a one-shot read returns them ([`crate::Fetched::objects`]): in
    /// [`KINDS`](crate::kinds::KINDS) order, with `apiVersion` and `kind`, service-account
    /// tokens typed, controlled objects left out. Returns the objects and how many were left
    /// out as controlled.
    pub fn objects(&self) -> (Vec<Value>, usize) {
        let mut objects = Vec::with_capacity(self.len());
        let mut token_uids = Vec::new();
        for (task, reader) in &self.watchers {
            match reader {
                Reader::Meta(store) if task.fields == Some(SA_TOKEN_SELECTOR) => {
                    token_uids.extend(store.state().iter().filter_map(|o| o.metadata.uid.clone()))
                }
                Reader::Meta(store) => objects.extend(
                    store
                        .state()
                        .iter()
                        .map(|o| metadata_value(task.kind, &o.metadata)),
                ),
                Reader::Full(store) => {
                    objects.extend(store.state().iter().map(|o| object_value(task.kind, o)))
                }
            }
        }
        // Each store's order is a hash map's: sort within a kind so reads are deterministic.
        sort_within_kinds(&mut objects);
        let controlled = crate::finish(&mut objects, &token_uids, &self.namespaces);
        (objects, controlled)
    }
}

impl Watch {
    /// One object of `kind` as [`Watch::objects`] returns it (`apiVersion` and `kind` set), when
    /// a store holds it. Only kinds read in full (not metadata-only ones such as Secrets).
    /// Whether it is controlled by another object is the caller's to decide (its
    /// `ownerReferences` are there).
    pub fn object(&self, kind: &str, object: &ObjectName) -> Option<Value> {
        self.watchers
            .iter()
            .find_map(|(task, reader)| match reader {
                Reader::Full(store) if task.kind.kind == kind => {
                    let resource = task.kind.api_resource();
                    let mut key =
                        reflector::ObjectRef::<DynamicObject>::new_with(&object.name, resource);
                    if let Some(ns) = &object.namespace {
                        key = key.within(ns);
                    }
                    store.get(&key).map(|o| object_value(task.kind, &o))
                }
                _ => None,
            })
    }
}

/// Sorts objects by (kind position, namespace, name), keeping the kinds in their order.
fn sort_within_kinds(objects: &mut [Value]) {
    let key = |o: &Value| {
        let s = |p: &str| {
            o.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        (s("/metadata/namespace"), s("/metadata/name"))
    };
    let order = |o: &Value| {
        let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
        crate::kinds::KINDS
            .iter()
            .position(|k| k.kind == kind)
            .unwrap_or(usize::MAX)
    };
    objects.sort_by_cached_key(|o| (order(o), key(o)));
}
