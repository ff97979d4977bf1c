//! Acting on a cluster, for the runtime agent's responses: delete a pod, or restart the
//! workload that owns it as `kubectl rollout restart` does (a merge patch of the pod
//! template's `kubectl.kubernetes.io/restartedAt` annotation, so the controller replaces every
//! pod). These are the crate's only writes.
//!
//! [`Actor`] is blocking: it owns a current-thread runtime, so the agent's responder thread
//! calls it without an async runtime of its own. Every request is bounded by
//! [`REQUEST_TIMEOUT`]. A refusal (403 when RBAC forbids the verb, 404, …) is an
//! [`ActionError`] naming the request and the server's reason, never a panic.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::core::Request;
use kube::{Api, Client, Config, Resource};
use palisade_model::time::{Clock, SystemClock};

use crate::{ClusterError, ClusterSource, config};

/// How long one request to the API server may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The annotation `kubectl rollout restart` sets on a workload's pod template.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// Why an action was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The pod has no controller that a rollout restart can replace it through.
    #[error("nothing to restart: {0}")]
    NothingToRestart(String),
    /// The API server refused the request (403 when RBAC forbids it).
    #[error("{request}: {reason} ({code}): {message}")]
    Refused {
        /// `VERB /path`.
        request: String,
        /// HTTP status.
        code: u16,
        /// `forbidden`, `not found` or the server's reason.
        reason: String,
        /// The server's message.
        message: String,
    },
    /// The server could not be reached or answered something unreadable.
    #[error("{request}: {source}")]
    Transport {
        /// `VERB /path`.
        request: String,
        /// What failed.
        #[source]
        source: kube::Error,
    },
    /// The credentials could not be read.
    #[error("credentials: {0}")]
    Credentials(String),
    /// The server did not answer in time.
    #[error("{0}: no answer within {REQUEST_TIMEOUT:?}")]
    Timeout(String),
}

/// A blocking client that carries out responses on one cluster.
pub struct Actor {
    runtime: tokio::runtime::Runtime,
    config: Config,
    /// The bearer-token file, re-read before each action (trimmed, as client-go does: kube-rs
    /// would send a trailing newline), so a rotated service-account token is used.
    token_file: Option<PathBuf>,
    /// The client, and the token it was built with.
    client: Mutex<(Client, Option<String>)>,
    cluster: String,
}

impl Actor {
    /// Connects with [`crate::connect`]'s rules (kubeconfig, else the in-cluster service
    /// account).
    pub fn connect(source: &ClusterSource) -> Result<Actor, ClusterError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ClusterError::Runtime)?;
        let (mut config, cluster) = runtime.block_on(config(source))?;
        // An inline token wins over a token file (as in kube-rs); only a file is taken over.
        let token_file = match config.auth_info.token {
            Some(_) => None,
            None => config.auth_info.token_file.take().map(PathBuf::from),
        };
        let client = runtime
            .block_on(async { Client::try_from(config.clone()) })
            .map_err(|e| ClusterError::Config(e.to_string()))?;
        Ok(Actor {
            runtime,
            config,
            token_file,
            client: Mutex::new((client, None)),
            cluster,
        })
    }

    /// The client with the token file's current token.
    fn client(&self) -> Result<Client, ActionError> {
        let mut current = self.client.lock().unwrap_or_else(|e| e.into_inner());
        let Some(path) = &self.token_file else {
            return Ok(current.0.clone());
        };
        let token = std::fs::read_to_string(path)
            .map(|t| t.trim().to_string())
            .map_err(|e| ActionError::Credentials(format!("token file {}: {e}", path.display())))?;
        if current.1.as_deref() != Some(token.as_str()) {
            let mut config = self.config.clone();
            let mut value =
                http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                    ActionError::Credentials(format!(
                        "token file {}: not a valid bearer token",
                        path.display()
                    ))
                })?;
            value.set_sensitive(true);
            config.headers.push((http::header::AUTHORIZATION, value));
            let client = self
                .runtime
                .block_on(async { Client::try_from(config) })
                .map_err(|e| ActionError::Credentials(e.to_string()))?;
            *current = (client, Some(token));
        }
        Ok(current.0.clone())
    }

    /// The cluster's name (kubeconfig context or [`crate::IN_CLUSTER`]).
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// Deletes a pod; returns what was done.
    pub fn delete_pod(&self, namespace: &str, pod: &str) -> Result<String, ActionError> {
        let url_path = Pod::url_path(&(), Some(&path_segment(namespace)));
        let request = Request::new(url_path)
            .delete(&path_segment(pod), &DeleteParams::default())
            .map_err(|e| ActionError::Transport {
                request: format!("DELETE pod {namespace}/{pod}"),
                source: kube::Error::BuildRequest(e),
            })?;
        let request = without_empty_query(request);
        let line = format!("DELETE {}", request.uri().path());
        let client = self.client()?;
        self.run(&line, client.request_text(request))?;
        Ok(format!("{line}: deleted"))
    }

    /// Restarts the Deployment, StatefulSet or DaemonSet that owns a pod (a ReplicaSet's
    /// owner for a Deployment's pods); returns what was done.
    pub fn restart_workload(&self, namespace: &str, pod: &str) -> Result<String, ActionError> {
        let ns = path_segment(namespace);
        let client = self.client()?;
        let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let p = self.run(
            &format!("GET pod {namespace}/{pod}"),
            pods.get(&path_segment(pod)),
        )?;
        let Some(mut owner) = controller(p.metadata.owner_references.as_deref()) else {
            return Err(ActionError::NothingToRestart(format!(
                "pod {namespace}/{pod} has no controller"
            )));
        };
        if owner.kind == "ReplicaSet" && owner.api_version == "apps/v1" {
            let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), &ns);
            let rs = self.run(
                &format!("GET replicaset {namespace}/{}", owner.name),
                sets.get(&path_segment(&owner.name)),
            )?;
            owner = controller(rs.metadata.owner_references.as_deref()).ok_or_else(|| {
                ActionError::NothingToRestart(format!(
                    "pod {namespace}/{pod} belongs to ReplicaSet {}, which no Deployment owns",
                    owner.name
                ))
            })?;
        }
        let plural = match (owner.api_version.as_str(), owner.kind.as_str()) {
            ("apps/v1", "Deployment") => "deployments",
            ("apps/v1", "StatefulSet") => "statefulsets",
            ("apps/v1", "DaemonSet") => "daemonsets",
            (_, kind) => {
                return Err(ActionError::NothingToRestart(format!(
                    "pod {namespace}/{pod} is controlled by {kind} {}, which a rollout restart does not apply to",
                    owner.name
                )));
            }
        };
        let now = SystemClock.now().rfc3339_ms();
        let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}});
        let request = Request::new(format!("/apis/apps/v1/namespaces/{ns}/{plural}"))
            .patch(
                &path_segment(&owner.name),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .map_err(|e| ActionError::Transport {
                request: format!("PATCH {plural} {namespace}/{}", owner.name),
                source: kube::Error::BuildRequest(e),
            })?;
        let request = without_empty_query(request);
        let line = format!("PATCH {}", request.uri().path());
        self.run(&line, client.request_text(request))?;
        Ok(format!(
            "{line}: restarted {} {namespace}/{} ({RESTARTED_AT}={now})",
            owner.kind, owner.name
        ))
    }

    fn run<T>(
        &self,
        request: &str,
        call: impl Future<Output = kube::Result<T>>,
    ) -> Result<T, ActionError> {
        let result = self
            .runtime
            .block_on(async { tokio::time::timeout(REQUEST_TIMEOUT, call).await })
            .map_err(|_| ActionError::Timeout(request.to_string()))?;
        result.map_err(|e| match e {
            kube::Error::Api(status) => ActionError::Refused {
                request: request.to_string(),
                code: status.code,
                reason: match status.code {
                    403 => "forbidden".to_string(),
                    404 => "not found".to_string(),
                    _ => status.reason.clone(),
                },
                message: status.message.clone(),
            },
            source => ActionError::Transport {
                request: request.to_string(),
                source,
            },
        })
    }
}

/// kube-rs ends item paths with `?` for query parameters; without any, the request line is
/// the plain path, as kubectl sends it.
fn without_empty_query<B>(mut request: http::Request<B>) -> http::Request<B> {
    if request.uri().query() == Some("")
        && let Ok(uri) = request.uri().path().parse()
    {
        *request.uri_mut() = uri;
    }
    request
}

/// The owner reference with `controller: true`.
fn controller(owners: Option<&[OwnerReference]>) -> Option<OwnerReference> {
    owners?.iter().find(|o| o.controller == Some(true)).cloned()
}

/// Kubernetes names are DNS labels/subdomains; anything else is percent-encoded so it cannot
/// change the request path.
pub fn path_segment(s: &str) -> String {
    if s == "." || s == ".." {
        return s.replace('.', "%2E");
    }
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(path_segment("web-1.a"), "web-1.a");
        assert_eq!(path_segment("../x"), "..%2Fx");
        assert_eq!(path_segment("a b?"), "a%20b%3F");
        assert_eq!(path_segment(".."), "%2E%2E");
    }
}
