//! Watching a cluster (the sensor's source): one kube-runtime watcher per list a one-shot read
//! makes ([`KINDS`], per namespace when asked, Secrets by metadata only plus the
//! service-account-token list), each feeding a compact store of its own ([`crate::store`]:
//! per object its namespace and name and its JSON text, without `metadata.managedFields`).
//! The stores are the in-memory inventory; an evaluation parses the objects it reads.
//!
//! * Watches ask for bookmarks; after `410 Gone` (a compaction) kube-runtime re-lists and the
//!   store replaces the kind's objects at once when the list is complete, so nothing is
//!   lost or counted twice; errors are retried with kube-runtime's default back-off.
//! * A list the server refuses (403) or does not serve (404) becomes one diagnostic naming the
//!   kind, verb and scope (as a one-shot read words it); the other kinds go on and the refused
//!   one keeps being retried.
//! * Every change is announced on a channel ([`Change`]), with the instant the watch event was
//!   received, so the consumer can batch, debounce and measure.

use std::collections::{BTreeMap, HashSet};
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
use kube::runtime::watcher::{self, Event};
use palisade_model::Diagnostic;
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::fetch::{metadata_value, object_text};
use crate::kinds::Kind;
use crate::store::Store;
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

impl ObjectName {
    fn of(meta: &kube::api::ObjectMeta) -> ObjectName {
        ObjectName {
            namespace: meta.namespace.clone(),
            name: meta.name.clone().unwrap_or_default(),
        }
    }
}

/// How a watcher's objects become the text its store holds ([`Watch::objects`]' form).
trait Compact: Resource<DynamicType = ApiResource> + Sized {
    fn text(self, kind: &Kind) -> String;
}

impl Compact for DynamicObject {
    fn text(self, kind: &Kind) -> String {
        object_text(kind, self)
    }
}

impl Compact for PartialObjectMeta<DynamicObject> {
    fn text(self, kind: &Kind) -> String {
        metadata_value(kind, self.metadata).to_string()
    }
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
    watchers: Vec<(Task, Arc<Store>)>,
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
        let store = Arc::new(Store::default());
        if task.kind.metadata_only {
            let api: Api<PartialObjectMeta<DynamicObject>> = api(&client, &task, &resource);
            spawner.spawn(api, config, Arc::clone(&store));
        } else {
            let api: Api<DynamicObject> = api(&client, &task, &resource);
            spawner.spawn(api, config, Arc::clone(&store));
        }
        watchers.push((task, store));
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
    /// Spawns the watcher of `api`, which keeps `store` current.
    fn spawn<K>(self, api: Api<K>, config: watcher::Config, store: Arc<Store>)
    where
        K: Compact + Clone + DeserializeOwned + Debug + Send + 'static,
    {
        let kind = self.task.kind;
        tokio::spawn(async move {
            let stream = watcher::watcher(api, config).default_backoff();
            futures::pin_mut!(stream);
            let mut ready = false;
            while let Some(item) = stream.next().await {
                match item {
                    Ok(Event::Init) => store.list_started(),
                    Ok(Event::InitApply(o)) => {
                        let name = ObjectName::of(o.meta());
                        store.listed(name, o.text(kind).into());
                    }
                    Ok(Event::InitDone) => {
                        store.list_done();
                        self.mark_ready(&mut ready);
                        self.clear_diagnostic();
                        self.changed(None);
                    }
                    Ok(Event::Apply(o)) => {
                        let name = ObjectName::of(o.meta());
                        store.apply(name.clone(), o.text(kind).into());
                        self.changed(Some(name));
                    }
                    Ok(Event::Delete(o)) => {
                        let name = ObjectName::of(o.meta());
                        store.delete(&name);
                        self.changed(Some(name));
                    }
                    Err(e) => self.failed(e, &mut ready),
                }
            }
        });
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
        self.watchers.iter().map(|(_, s)| s.len()).sum()
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
        let listed = self.listed();
        let controlled = listed.controlled;
        (listed.into_values(), controlled)
    }

    /// [`Watch::objects`] as texts, each parsed when it is asked for ([`Listed::parse`]): what
    /// is left out is decided from each object's `kind` and `metadata` alone, so no two
    /// objects' trees need be alive at once.
    pub fn listed(&self) -> Listed {
        let mut texts: Vec<(usize, ObjectName, Arc<str>)> = Vec::with_capacity(self.len());
        let mut token_uids = HashSet::new();
        for (task, store) in &self.watchers {
            if task.fields == Some(SA_TOKEN_SELECTOR) {
                token_uids.extend(store.entries().into_iter().filter_map(|(_, text)| {
                    let uid = head(&text)?.pointer("/metadata/uid")?.as_str()?.to_string();
                    Some(uid)
                }));
                continue;
            }
            let order = kind_order(task.kind);
            texts.extend(
                store
                    .entries()
                    .into_iter()
                    .map(|(name, text)| (order, name, text)),
            );
        }
        // Each store's order is a hash map's: sort by (kind, namespace, name), keeping the kinds
        // in their order, so reads are deterministic.
        texts.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let heads: Vec<Value> = texts
            .par_iter()
            .map(|(_, _, text)| head(text).unwrap_or(Value::Null))
            .collect();
        let (left, controlled) = crate::left_out(&heads, &self.namespaces);
        drop(heads);
        let texts = texts
            .into_iter()
            .zip(left)
            .filter(|(_, left)| !left)
            .map(|((_, _, text), _)| text)
            .collect();
        Listed {
            texts,
            token_uids,
            controlled,
        }
    }
}

/// The objects of a [`Watch`] as their texts, in [`Watch::objects`]' order and with what it
/// leaves out already left out; each is parsed (service-account tokens typed) when it is
/// asked for.
#[derive(Debug, Clone, Default)]
pub struct Listed {
    texts: Vec<Arc<str>>,
    token_uids: HashSet<String>,
    /// How many objects were left out as controlled.
    pub controlled: usize,
}

impl Listed {
    /// `objects` as texts (nothing left out, no token typed): for callers that hold values.
    pub fn from_values(objects: &[Value]) -> Listed {
        Listed {
            texts: objects.iter().map(|o| Arc::from(o.to_string())).collect(),
            ..Listed::default()
        }
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The `i`th object's text as the store holds it (JSON written by serde_json, so parsing
    /// and writing it again gives the same text; a service-account token Secret is typed only
    /// by [`Listed::parse`]).
    pub fn text(&self, i: usize) -> Option<&Arc<str>> {
        self.texts.get(i)
    }

    /// The `i`th object, parsed; `None` when its text does not parse (logged; a store holds
    /// only texts it wrote) or `i` is out of range.
    pub fn parse(&self, i: usize) -> Option<Value> {
        let mut value = parse(self.texts.get(i)?)?;
        crate::type_token(&mut value, &self.token_uids);
        Some(value)
    }

    /// Every object, parsed.
    pub fn into_values(self) -> Vec<Value> {
        (0..self.len()).filter_map(|i| self.parse(i)).collect()
    }
}

/// An object's `kind` and `metadata` alone (all that decides what a read leaves out), without
/// parsing the rest of its text.
fn head(text: &str) -> Option<Value> {
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        #[serde(borrow, default)]
        kind: Option<&'a serde_json::value::RawValue>,
        #[serde(borrow, default)]
        metadata: Option<&'a serde_json::value::RawValue>,
    }
    let Ok(head) = serde_json::from_str::<Head<'_>>(text) else {
        // Not the shape a store writes (a duplicate key, say): the whole text decides.
        return parse(text);
    };
    let mut out = serde_json::Map::new();
    for (key, raw) in [("kind", head.kind), ("metadata", head.metadata)] {
        if let Some(raw) = raw {
            out.insert(key.to_string(), serde_json::from_str(raw.get()).ok()?);
        }
    }
    Some(Value::Object(out))
}

impl Watch {
    /// One object of `kind` as [`Watch::objects`] returns it (`apiVersion` and `kind` set), when
    /// a store holds it. Only kinds read in full (not metadata-only ones such as Secrets).
    /// Whether it is controlled by another object is the caller's to decide (its
    /// `ownerReferences` are there).
    pub fn object(&self, kind: &str, object: &ObjectName) -> Option<Value> {
        self.watchers
            .iter()
            .filter(|(task, _)| {
                task.kind.kind == kind && !task.kind.metadata_only && task.fields.is_none()
            })
            .find_map(|(_, store)| store.get(object))
            .and_then(|text| parse(&text))
    }
}

/// A held object's text as JSON (the store wrote it: it parses).
fn parse(text: &str) -> Option<Value> {
    match serde_json::from_str(text) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!("a held object does not parse: {e}");
            None
        }
    }
}

/// The position of `kind` in [`KINDS`](crate::kinds::KINDS).
fn kind_order(kind: &Kind) -> usize {
    crate::kinds::KINDS
        .iter()
        .position(|k| k.kind == kind.kind)
        .unwrap_or(usize::MAX)
}
