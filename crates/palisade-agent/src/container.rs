//! Container attribution: `/proc/PID/cgroup` names the container; the engine's own records
//! give its name, image and Kubernetes identity.
//!
//! Metadata sources, per engine (each tried in order, results cached per container):
//! - podman: containers/storage's `overlay-containers/containers.json` (name, image) and the
//!   container's OCI `config.json` annotations, then `podman container inspect` (labels,
//!   pod) when enabled;
//! - CRI-O: the same containers/storage files (CRI-O writes the kubelet's
//!   `io.kubernetes.*` annotations into `config.json`);
//! - containerd: the task bundle's `config.json` annotations (`io.kubernetes.cri.*`);
//! - Docker: `containers/ID/config.v2.json` (name, image, labels).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use std::sync::mpsc::Receiver;

use palisade_runtime::attribution::{CgroupAttribution, kubernetes_identity};
use palisade_runtime::event::{ContainerInfo, ContainerRuntime};
use serde::Deserialize;

use crate::config::MetadataConfig;
use crate::source::{Input, InputSender};
use crate::stats::Stats;

/// Largest metadata file read.
const MAX_METADATA_FILE: u64 = 16 << 20;

/// Looks up engine metadata for containers named by cgroup paths.
pub struct ContainerResolver {
    cfg: MetadataConfig,
    podman: String,
    stats: Arc<Stats>,
}

impl ContainerResolver {
    /// A resolver using the given metadata sources and podman binary.
    pub fn new(cfg: MetadataConfig, podman: String, stats: Arc<Stats>) -> ContainerResolver {
        ContainerResolver { cfg, podman, stats }
    }

    /// The container with whatever metadata its engine has (at least ID and engine).
    pub fn resolve(&self, attribution: &CgroupAttribution) -> ContainerInfo {
        Stats::inc(&self.stats.metadata_lookups);
        let mut info = attribution.to_container_info();
        if !self.fill_metadata(&mut info) {
            Stats::inc(&self.stats.metadata_failures);
        }
        info
    }

    /// Answers lookups from the processor until it is gone. Answers are sent without
    /// dropping: the processor holds that container's events until the answer arrives.
    pub fn run(self, rx: Receiver<CgroupAttribution>, out: InputSender) {
        for a in rx {
            let info = self.resolve(&a);
            if !out.send_blocking(Input::Resolved(Box::new(info))) {
                return;
            }
        }
    }

    fn fill_metadata(&self, info: &mut ContainerInfo) -> bool {
        match info.runtime {
            ContainerRuntime::Podman => {
                let a = self.read_storage(info);
                let b = self.cfg.podman_inspect && podman_inspect(&self.podman, info);
                a || b
            }
            ContainerRuntime::Crio => self.read_storage(info),
            ContainerRuntime::Containerd => self.read_containerd(info),
            ContainerRuntime::Docker => self.read_docker(info),
        }
    }

    fn read_storage(&self, info: &mut ContainerInfo) -> bool {
        let mut found = false;
        for root in &self.cfg.storage_roots {
            let dir = root.join("overlay-containers");
            if let Some(entry) = read_json::<Vec<StorageContainer>>(&dir.join("containers.json"))
                .and_then(|list| list.into_iter().find(|c| c.id == info.id))
            {
                let meta: StorageMetadata =
                    serde_json::from_str(&entry.metadata).unwrap_or_default();
                info.name = info
                    .name
                    .take()
                    .or(meta.name)
                    .or_else(|| entry.names.into_iter().next());
                info.image = info.image.take().or(meta.image_name);
                info.pod = info.pod.take().or(meta.pod_name);
                info.pod_id = info.pod_id.take().or(meta.pod_id);
                found = true;
            }
            let config = dir.join(&info.id).join("userdata").join("config.json");
            if let Some(spec) = read_json::<OciSpec>(&config) {
                apply_annotations(info, &spec.annotations);
                found = true;
            }
        }
        found
    }

    fn read_containerd(&self, info: &mut ContainerInfo) -> bool {
        for root in &self.cfg.containerd_task_roots {
            let Ok(namespaces) = std::fs::read_dir(root) else {
                continue;
            };
            for ns in namespaces.flatten() {
                let config = ns.path().join(&info.id).join("config.json");
                if let Some(spec) = read_json::<OciSpec>(&config) {
                    apply_annotations(info, &spec.annotations);
                    return true;
                }
            }
        }
        false
    }

    fn read_docker(&self, info: &mut ContainerInfo) -> bool {
        let path = self
            .cfg
            .docker_root
            .join("containers")
            .join(&info.id)
            .join("config.v2.json");
        let Some(c) = read_json::<DockerConfig>(&path) else {
            return false;
        };
        info.name = Some(c.name.trim_start_matches('/').to_string()).filter(|n| !n.is_empty());
        info.image = Some(c.config.image).filter(|i| !i.is_empty());
        apply_annotations(info, &c.config.labels);
        true
    }
}

/// Applies Kubernetes identity from labels/annotations; Kubernetes names win over engine names.
fn apply_annotations(info: &mut ContainerInfo, annotations: &BTreeMap<String, String>) {
    let id = kubernetes_identity(annotations);
    if id.namespace.is_some() {
        info.namespace = id.namespace;
    }
    if id.pod.is_some() {
        info.pod = id.pod;
    }
    // The cgroup path's pod UID when there is one; else the runtime's record of it.
    if info.pod_id.is_none() {
        info.pod_id = id.pod_uid;
    }
    if id.container.is_some() {
        info.name = id.container;
    }
    if id.image.is_some() {
        info.image = id.image;
    }
    if id.workload.is_some() {
        info.workload = id.workload;
    }
}

fn podman_inspect(podman: &str, info: &mut ContainerInfo) -> bool {
    let Ok(out) = crate::command::run(
        podman,
        &["container", "inspect", "--format", "json", &info.id],
        Duration::from_secs(5),
    ) else {
        return false;
    };
    if out.code != Some(0) {
        return false;
    }
    let Ok(list) = serde_json::from_slice::<Vec<PodmanInspect>>(&out.stdout) else {
        return false;
    };
    let Some(c) = list.into_iter().next() else {
        return false;
    };
    if info.name.is_none() && !c.name.is_empty() {
        info.name = Some(c.name);
    }
    if info.image.is_none() && !c.image_name.is_empty() {
        info.image = Some(c.image_name);
    }
    if !c.pod.is_empty() {
        info.pod_id = Some(c.pod.clone());
        if info.pod.is_none() {
            info.pod = podman_pod_name(podman, &c.pod);
        }
    }
    apply_annotations(info, &c.config.annotations);
    apply_annotations(info, &c.config.labels);
    true
}

fn podman_pod_name(podman: &str, pod_id: &str) -> Option<String> {
    let out = crate::command::run(
        podman,
        &["pod", "inspect", "--format", "{{.Name}}", pod_id],
        Duration::from_secs(5),
    )
    .ok()?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.code == Some(0) && !name.is_empty()).then_some(name)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(MAX_METADATA_FILE).read_to_end(&mut buf).ok()?;
    serde_json::from_slice(&buf).ok()
}

#[derive(Deserialize)]
struct StorageContainer {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    metadata: String,
}

#[derive(Deserialize, Default)]
struct StorageMetadata {
    #[serde(rename = "image-name")]
    image_name: Option<String>,
    name: Option<String>,
    #[serde(rename = "pod-name")]
    pod_name: Option<String>,
    #[serde(rename = "pod-id")]
    pod_id: Option<String>,
}

#[derive(Deserialize)]
struct OciSpec {
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "Config")]
    config: DockerInnerConfig,
}

#[derive(Deserialize)]
struct DockerInnerConfig {
    #[serde(rename = "Image", default)]
    image: String,
    #[serde(rename = "Labels", default, deserialize_with = "null_map")]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct PodmanInspect {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "ImageName", default)]
    image_name: String,
    #[serde(rename = "Pod", default)]
    pod: String,
    #[serde(rename = "Config")]
    config: PodmanConfig,
}

#[derive(Deserialize)]
struct PodmanConfig {
    #[serde(rename = "Labels", default, deserialize_with = "null_map")]
    labels: BTreeMap<String, String>,
    #[serde(rename = "Annotations", default, deserialize_with = "null_map")]
    annotations: BTreeMap<String, String>,
}

fn null_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "d481261a4b5cf2b51de4c15910d8858157f9e4b84815999696612abe2b740cb8";

    fn resolver(cfg: MetadataConfig) -> ContainerResolver {
        ContainerResolver::new(cfg, "podman".into(), Arc::new(Stats::default()))
    }

    #[test]
    fn crio_storage_files_give_kubernetes_identity() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("overlay-containers");
        std::fs::create_dir_all(dir.join(ID).join("userdata")).unwrap();
        std::fs::write(
            dir.join("containers.json"),
            format!(
                r#"[{{"id":"{ID}","names":["k8s_nginx_web-7d9f8b6c4-x2k9q_shop_uid_0"],"metadata":"{{\"image-name\":\"docker.io/library/nginx:1.27\",\"pod-name\":\"web-7d9f8b6c4-x2k9q\",\"pod-id\":\"abc\"}}"}}]"#
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join(ID).join("userdata").join("config.json"),
            r#"{"ociVersion":"1.0.2","annotations":{"io.kubernetes.pod.namespace":"shop","io.kubernetes.pod.name":"web-7d9f8b6c4-x2k9q","io.kubernetes.container.name":"nginx"}}"#,
        )
        .unwrap();
        let r = resolver(MetadataConfig {
            podman_inspect: false,
            storage_roots: vec![root.path().to_path_buf()],
            ..MetadataConfig::default()
        });
        let mut info = ContainerInfo::bare(ContainerRuntime::Crio, ID);
        assert!(r.fill_metadata(&mut info));
        assert_eq!(info.namespace.as_deref(), Some("shop"));
        assert_eq!(info.name.as_deref(), Some("nginx"));
        assert_eq!(info.image.as_deref(), Some("docker.io/library/nginx:1.27"));
        assert_eq!(info.pod.as_deref(), Some("web-7d9f8b6c4-x2k9q"));
        assert_eq!(info.workload.as_deref(), Some("Deployment/web"));
    }

    #[test]
    fn containerd_bundle_annotations() {
        let root = tempfile::tempdir().unwrap();
        let bundle = root.path().join("k8s.io").join(ID);
        std::fs::create_dir_all(&bundle).unwrap();
        std::fs::write(
            bundle.join("config.json"),
            r#"{"annotations":{"io.kubernetes.cri.sandbox-namespace":"kube-system","io.kubernetes.cri.sandbox-name":"coredns-5d78c9869d-vwx4z","io.kubernetes.cri.container-name":"coredns","io.kubernetes.cri.image-name":"registry.k8s.io/coredns/coredns:v1.11.1"}}"#,
        )
        .unwrap();
        let r = resolver(MetadataConfig {
            containerd_task_roots: vec![root.path().to_path_buf()],
            ..MetadataConfig::default()
        });
        let mut info = ContainerInfo::bare(ContainerRuntime::Containerd, ID);
        assert!(r.fill_metadata(&mut info));
        assert_eq!(info.namespace.as_deref(), Some("kube-system"));
        assert_eq!(info.workload.as_deref(), Some("Deployment/coredns"));
        assert_eq!(
            info.image.as_deref(),
            Some("registry.k8s.io/coredns/coredns:v1.11.1")
        );
    }

    #[test]
    fn docker_config_v2() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("containers").join(ID);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.v2.json"),
            r#"{"Name":"/web","Config":{"Image":"nginx:1.27","Labels":null}}"#,
        )
        .unwrap();
        let r = resolver(MetadataConfig {
            docker_root: root.path().to_path_buf(),
            ..MetadataConfig::default()
        });
        let mut info = ContainerInfo::bare(ContainerRuntime::Docker, ID);
        assert!(r.fill_metadata(&mut info));
        assert_eq!(info.name.as_deref(), Some("web"));
        assert_eq!(info.image.as_deref(), Some("nginx:1.27"));
        let mut missing = ContainerInfo::bare(ContainerRuntime::Docker, "e".repeat(64));
        assert!(!r.fill_metadata(&mut missing));
    }
}
