//! Reads a live Kubernetes cluster into Palisade's inventory with kube-rs (edge crate).
//!
//! [`read`] connects through a kubeconfig or in-cluster configuration ([`ClusterSource`]),
//! lists every kind the analyzers read ([`kinds::KINDS`]) in parallel, each in pages of
//! [`ReadOptions::page_size`] objects with `continue` tokens, optionally only in some
//! namespaces, and converts the objects with palisade-ingest ([`palisade_ingest::ingest_live`]),
//! so a cluster and the same objects in files give the same inventory. Objects are located by
//! cluster and resourceVersion ([`palisade_model::SourceLocation::live`]).
//!
//! Invariants:
//! * Secrets are listed by metadata only (`PartialObjectMetadataList`): their data and key names
//!   never leave the API server. Their type is learnt for service-account tokens only (a second
//!   metadata list with a field selector on `type`); other Secrets read as `Opaque` with no keys.
//! * A kind the server refuses (403), does not serve (404) or fails on becomes a diagnostic
//!   naming the kind, the verb and the scope, and the read goes on. Refused credentials (401) or
//!   an unreachable server end the read with an error.
//! * Objects whose controller was read too (a Deployment's ReplicaSets and their Pods, a
//!   CronJob's Jobs) are left out: the controller's template is analyzed instead.
//! * Reading makes only `get`/`list` requests. The only writes are [`act`]'s, the runtime
//!   agent's responses (delete a pod, restart its workload), made only when asked.

pub mod act;
mod connect;
mod fetch;
pub mod kinds;
mod owned;
mod store;
pub mod watch;

use futures::StreamExt;
use palisade_ingest::{Ingested, Limits};
use palisade_model::{Diagnostic, DiagnosticLevel};
use serde_json::Value;

pub use connect::{
    ClusterSource, IN_CLUSTER, InCluster, SERVICE_ACCOUNT_DIR, config, connect, in_cluster_config,
};
use fetch::{ListFailure, list_all};
use kinds::{KINDS, Kind, SERVICE_ACCOUNT_TOKEN};

/// How to read a cluster.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Where the cluster is.
    pub source: ClusterSource,
    /// Read namespaced kinds in these namespaces only (empty: everywhere). Cluster-scoped kinds
    /// (ClusterRoles, ClusterRoleBindings) are read whole; Namespaces are kept when named.
    pub namespaces: Vec<String>,
    /// Objects per list request (`limit`).
    pub page_size: u32,
    /// List requests in flight at once.
    pub concurrency: usize,
    /// Conversion limits (for example `keep_raw`).
    pub limits: Limits,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            source: ClusterSource::default(),
            namespaces: Vec::new(),
            page_size: 500,
            concurrency: 8,
            limits: Limits::default(),
        }
    }
}

/// Why a cluster could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No usable kubeconfig or in-cluster configuration.
    #[error("cluster configuration: {0}")]
    Config(String),
    /// The API server refused the credentials.
    #[error(
        "cluster {cluster}: the API server refused the credentials (401 Unauthorized): {message}"
    )]
    Unauthorized {
        /// The cluster's name.
        cluster: String,
        /// The server's message.
        message: String,
    },
    /// The API server could not be reached or answered something unreadable.
    #[error("cluster {cluster}: cannot read from the API server")]
    Unreachable {
        /// The cluster's name.
        cluster: String,
        /// What failed.
        #[source]
        source: kube::Error,
    },
    /// The async runtime could not start.
    #[error("starting the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// What a read fetched, before conversion.
#[derive(Debug, Default)]
pub struct Fetched {
    /// The cluster's name (kubeconfig context or [`IN_CLUSTER`]).
    pub cluster: String,
    /// The objects, with `apiVersion` and `kind`, in [`KINDS`] order.
    pub objects: Vec<Value>,
    /// Kinds that could not be read.
    pub diagnostics: Vec<Diagnostic>,
    /// Objects left out because their controller was read.
    pub controlled: usize,
}

/// A converted read.
#[derive(Debug)]
pub struct ClusterRead {
    /// The cluster's name.
    pub cluster: String,
    /// The inventory and diagnostics (the read's first, then conversion's).
    pub ingested: Ingested,
    /// Objects left out because their controller was read.
    pub controlled: usize,
}

/// One list to make: a kind, in one namespace or everywhere, with an optional field selector.
pub(crate) struct Task {
    kind: &'static Kind,
    namespace: Option<String>,
    fields: Option<&'static str>,
}

pub(crate) fn tasks(namespaces: &[String]) -> Vec<Task> {
    let mut out = Vec::new();
    for kind in KINDS {
        let scopes: Vec<Option<String>> = if kind.namespaced && !namespaces.is_empty() {
            namespaces.iter().cloned().map(Some).collect()
        } else {
            vec![None]
        };
        for namespace in scopes {
            if kind.kind == "Secret" {
                out.push(Task {
                    kind,
                    namespace: namespace.clone(),
                    fields: Some(SA_TOKEN_SELECTOR),
                });
            }
            out.push(Task {
                kind,
                namespace,
                fields: None,
            });
        }
    }
    out
}

pub(crate) const SA_TOKEN_SELECTOR: &str = "type=kubernetes.io/service-account-token";

pub(crate) fn diagnostic(cluster: &str, task: &Task, code: u16, message: &str) -> Diagnostic {
    let kind = task.kind;
    let scope = match &task.namespace {
        Some(ns) => format!("in namespace {ns}"),
        None if kind.namespaced => "in all namespaces".to_string(),
        None => "at the cluster scope".to_string(),
    };
    let (level, what) = match code {
        403 => (DiagnosticLevel::Error, "forbidden"),
        404 => (DiagnosticLevel::Warning, "not served by this cluster"),
        _ => (DiagnosticLevel::Error, "failed"),
    };
    let missing = if task.fields.is_some() {
        "their types are unknown (service-account tokens go unreported)".to_string()
    } else {
        format!("{} objects are missing from the results", kind.kind)
    };
    Diagnostic::input(
        level,
        format!("cluster:{cluster}"),
        0,
        0,
        format!(
            "cannot list {} ({} {}) {scope}: {what} ({code}: {message}); {missing}",
            kind.kind,
            kind.api_version(),
            kind.plural
        ),
    )
}

/// Lists every kind (see the crate documentation).
pub async fn fetch(options: &ReadOptions) -> Result<Fetched, ClusterError> {
    let (client, cluster) = connect(&options.source).await?;
    let page = options.page_size.max(1);
    let results: Vec<(Task, Result<Vec<Value>, ListFailure>)> =
        futures::stream::iter(tasks(&options.namespaces))
            .map(|task| {
                let client = &client;
                async move {
                    let result = list_all(
                        client,
                        task.kind,
                        task.namespace.as_deref(),
                        page,
                        task.fields,
                    )
                    .await;
                    (task, result)
                }
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
    let mut out = Fetched {
        cluster: cluster.clone(),
        ..Default::default()
    };
    let mut token_uids: Vec<String> = Vec::new();
    for (task, result) in results {
        match result {
            Ok(objects) if task.fields.is_some() => token_uids.extend(
                objects
                    .iter()
                    .filter_map(|o| o.pointer("/metadata/uid").and_then(Value::as_str))
                    .map(str::to_string),
            ),
            Ok(objects) => out.objects.extend(objects),
            Err(ListFailure::Unauthorized(message)) => {
                return Err(ClusterError::Unauthorized { cluster, message });
            }
            Err(ListFailure::Transport(source)) => {
                return Err(ClusterError::Unreachable { cluster, source });
            }
            Err(ListFailure::Api { code, message }) => {
                out.diagnostics
                    .push(diagnostic(&cluster, &task, code, &message));
            }
        }
    }
    out.controlled = finish(&mut out.objects, &token_uids, &options.namespaces);
    Ok(out)
}

/// The last steps of a read, shared by [`fetch`] and [`watch`]: Secrets whose uid is in
/// `token_uids` get the service-account token type, Namespaces outside `namespaces` (when
/// given) are dropped, and so are objects whose controller was read. Returns how many objects
/// were left out as controlled.
fn finish(objects: &mut Vec<Value>, token_uids: &[String], namespaces: &[String]) -> usize {
    let token_uids: std::collections::HashSet<&str> =
        token_uids.iter().map(String::as_str).collect();
    for obj in objects.iter_mut() {
        type_token(obj, &token_uids);
    }
    let (left, controlled) = left_out(objects, namespaces);
    let mut left = left.into_iter();
    objects.retain(|_| !left.next().unwrap_or(false));
    controlled
}

/// Gives a Secret whose uid is in `token_uids` the service-account token type (the token list
/// names them; the metadata-only list of Secrets cannot).
fn type_token<S: std::borrow::Borrow<str> + Eq + std::hash::Hash>(
    obj: &mut Value,
    token_uids: &std::collections::HashSet<S>,
) {
    let kind = obj.get("kind").and_then(Value::as_str);
    let uid = obj.pointer("/metadata/uid").and_then(Value::as_str);
    if kind == Some("Secret") && uid.is_some_and(|u| token_uids.contains(u)) {
        obj["type"] = SERVICE_ACCOUNT_TOKEN.into();
    }
}

/// What [`finish`] leaves out of `objects` — whole objects, or only their `kind` and
/// `metadata` (all it reads), so a caller holding texts need not parse every spec: whether
/// each is left out (a Namespace not among `namespaces`, when given, or an object whose
/// controller was read: `owned`), and how many were left out as controlled.
fn left_out(objects: &[Value], namespaces: &[String]) -> (Vec<bool>, usize) {
    let controlled = owned::controlled(objects);
    let count = controlled.iter().filter(|c| **c).count();
    let left = objects
        .iter()
        .zip(controlled)
        .map(|(o, controlled)| {
            let other_namespace = !namespaces.is_empty()
                && o.get("kind").and_then(Value::as_str) == Some("Namespace")
                && !o
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| namespaces.iter().any(|want| want == n));
            other_namespace || controlled
        })
        .collect();
    (left, count)
}

/// Reads the cluster into an inventory: [`fetch`] on a runtime of its own, then conversion.
pub fn read(options: &ReadOptions) -> Result<ClusterRead, ClusterError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ClusterError::Runtime)?;
    let fetched = runtime.block_on(fetch(options))?;
    drop(runtime);
    let mut ingested =
        palisade_ingest::ingest_live(&fetched.cluster, fetched.objects, &options.limits);
    let mut diagnostics = fetched.diagnostics;
    diagnostics.append(&mut ingested.diagnostics);
    ingested.diagnostics = diagnostics;
    Ok(ClusterRead {
        cluster: fetched.cluster,
        ingested,
        controlled: fetched.controlled,
    })
}
