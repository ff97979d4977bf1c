//! Container attribution from `/proc/PID/cgroup` and Kubernetes identity from runtime metadata.
//!
//! `/proc/PID/cgroup` has one line per hierarchy, `ID:CONTROLLERS:PATH` (cgroup v1) or
//! `0::PATH` (cgroup v2). Container engines put each container in a cgroup whose last path
//! components name it; the layouts recognized here are:
//!
//! | engine | cgroupfs driver | systemd driver |
//! |---|---|---|
//! | podman | `/libpod_parent/libpod-ID`, in a pod `/libpod_parent/POD/libpod-ID` | `…/libpod-ID.scope`, pods `…/machine-libpod_pod_POD.slice/libpod-ID.scope` |
//! | Docker | `/docker/ID` | `/system.slice/docker-ID.scope` |
//! | containerd (Kubernetes) | `/kubepods/[QOS/]podUID/ID` | `…/kubepods-QOS-podUID.slice/cri-containerd-ID.scope` |
//! | CRI-O (Kubernetes) | `/kubepods/[QOS/]podUID/crio-ID` | `…/kubepods-QOS-podUID.slice/crio-ID.scope` |
//!
//! `ID` is 64 lower-case hex digits. Monitor processes (`libpod-conmon-ID`, `crio-conmon-ID`)
//! are not the container and are not attributed. A bare ID under a `kubepods` pod cgroup is
//! taken as containerd (Docker through cri-dockerd uses the same layout).

use std::collections::BTreeMap;

use crate::event::{ContainerInfo, ContainerRuntime};

/// What the cgroup path says about a process's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupAttribution {
    /// The engine, from the naming convention.
    pub runtime: ContainerRuntime,
    /// The 64-hex-digit container ID.
    pub container_id: String,
    /// The Kubernetes pod UID (with dashes) or the podman pod ID, when the path names one.
    pub pod_id: Option<String>,
}

impl CgroupAttribution {
    /// A [`ContainerInfo`] with only what the cgroup path tells.
    pub fn to_container_info(&self) -> ContainerInfo {
        let mut info = ContainerInfo::bare(self.runtime, self.container_id.clone());
        info.pod_id = self.pod_id.clone();
        info
    }
}

/// Attributes a process to a container from the content of its `/proc/PID/cgroup`.
/// Returns `None` for host processes (and for container monitors such as conmon).
pub fn attribute_cgroup_file(content: &str) -> Option<CgroupAttribution> {
    content
        .lines()
        .filter_map(|line| {
            // ID:CONTROLLERS:PATH — the path may itself contain ':'.
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let _controllers = parts.next()?;
            parts.next()
        })
        .find_map(attribute_cgroup_path)
}

/// Attributes one cgroup path (e.g. `/libpod_parent/libpod-<id>`).
pub fn attribute_cgroup_path(path: &str) -> Option<CgroupAttribution> {
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    // Walk from the leaf up: a container's cgroup may have children (e.g. `…/container`
    // when the engine nests an init cgroup), so the first match nearest the leaf wins.
    for (i, component) in components.iter().enumerate().rev() {
        let ancestors = &components[..i];
        if let Some(found) = attribute_component(component, ancestors) {
            return Some(found);
        }
    }
    None
}

fn attribute_component(component: &str, ancestors: &[&str]) -> Option<CgroupAttribution> {
    let name = component.strip_suffix(".scope").unwrap_or(component);
    let attribution = |runtime, id: &str, pod_id| {
        Some(CgroupAttribution {
            runtime,
            container_id: id.to_string(),
            pod_id,
        })
    };
    if name.contains("conmon-") {
        return None;
    }
    if let Some(id) = name
        .strip_prefix("libpod-")
        .filter(|id| is_container_id(id))
    {
        return attribution(ContainerRuntime::Podman, id, podman_pod_id(ancestors));
    }
    if let Some(id) = name
        .strip_prefix("docker-")
        .filter(|id| is_container_id(id))
    {
        return attribution(ContainerRuntime::Docker, id, kubernetes_pod_uid(ancestors));
    }
    if let Some(id) = name
        .strip_prefix("cri-containerd-")
        .filter(|id| is_container_id(id))
    {
        return attribution(
            ContainerRuntime::Containerd,
            id,
            kubernetes_pod_uid(ancestors),
        );
    }
    if let Some(id) = name.strip_prefix("crio-").filter(|id| is_container_id(id)) {
        return attribution(ContainerRuntime::Crio, id, kubernetes_pod_uid(ancestors));
    }
    if is_container_id(name) {
        let parent = ancestors.last().copied().unwrap_or("");
        if parent == "docker" {
            return attribution(ContainerRuntime::Docker, name, None);
        }
        if ancestors.iter().any(|a| a.starts_with("kubepods")) {
            return attribution(
                ContainerRuntime::Containerd,
                name,
                kubernetes_pod_uid(ancestors),
            );
        }
    }
    None
}

/// Whether `s` is a full container ID: 64 lower-case hex digits.
pub fn is_container_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn podman_pod_id(ancestors: &[&str]) -> Option<String> {
    let parent = ancestors.last()?;
    if let Some(rest) = parent.strip_prefix("machine-libpod_pod_") {
        let id = rest.strip_suffix(".slice").unwrap_or(rest);
        return is_container_id(id).then(|| id.to_string());
    }
    is_container_id(parent).then(|| parent.to_string())
}

fn kubernetes_pod_uid(ancestors: &[&str]) -> Option<String> {
    ancestors.iter().rev().find_map(|component| {
        let name = component.strip_suffix(".slice").unwrap_or(component);
        // cgroupfs: `pod<uid>`; systemd: `kubepods-<qos>-pod<uid_with_underscores>`.
        let uid = if let Some(uid) = name.strip_prefix("pod") {
            uid.to_string()
        } else {
            let idx = name.rfind("-pod")?;
            name[idx + 4..].replace('_', "-")
        };
        is_pod_uid(&uid).then_some(uid)
    })
}

fn is_pod_uid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Kubernetes identity of a container as runtimes record it in labels or OCI annotations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KubernetesIdentity {
    /// Namespace of the pod.
    pub namespace: Option<String>,
    /// Pod name.
    pub pod: Option<String>,
    /// Pod UID (`io.kubernetes.pod.uid`, containerd's `io.kubernetes.cri.sandbox-uid`).
    pub pod_uid: Option<String>,
    /// Container name within the pod.
    pub container: Option<String>,
    /// Image reference.
    pub image: Option<String>,
    /// Owning workload (`Kind/name`), inferred from the pod name where its shape is certain.
    pub workload: Option<String>,
}

/// Reads the Kubernetes identity from a container's labels or annotations:
/// the kubelet's `io.kubernetes.pod.namespace`, `io.kubernetes.pod.name`,
/// `io.kubernetes.pod.uid` and `io.kubernetes.container.name` (CRI-O, Docker, podman kube
/// play), containerd's CRI
/// annotations `io.kubernetes.cri.sandbox-namespace`, `io.kubernetes.cri.sandbox-name`,
/// `io.kubernetes.cri.container-name` and `io.kubernetes.cri.image-name`, and CRI-O's
/// `io.kubernetes.cri-o.ImageName`.
pub fn kubernetes_identity(annotations: &BTreeMap<String, String>) -> KubernetesIdentity {
    let first = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| annotations.get(*k))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let pod = first(&["io.kubernetes.pod.name", "io.kubernetes.cri.sandbox-name"]);
    KubernetesIdentity {
        namespace: first(&[
            "io.kubernetes.pod.namespace",
            "io.kubernetes.cri.sandbox-namespace",
        ]),
        workload: pod.as_deref().and_then(workload_from_pod_name),
        pod,
        pod_uid: first(&["io.kubernetes.pod.uid", "io.kubernetes.cri.sandbox-uid"]),
        container: first(&[
            "io.kubernetes.container.name",
            "io.kubernetes.cri.container-name",
        ]),
        image: first(&[
            "io.kubernetes.cri.image-name",
            "io.kubernetes.cri-o.ImageName",
        ]),
    }
}

/// The Kubernetes name-suffix alphabet (`k8s.io/apimachinery/pkg/util/rand`), used both for
/// generated pod-name suffixes and for the ReplicaSet `pod-template-hash`.
const SAFE_ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";

/// Infers `Deployment/NAME` from a pod name of the shape `NAME-HASH-SUFFIX` that a
/// Deployment's ReplicaSet generates (HASH: 6 to 10, SUFFIX: exactly 5 characters of the safe
/// alphabet). Other shapes are ambiguous (a DaemonSet pod looks like a Job pod) and give `None`.
pub fn workload_from_pod_name(pod: &str) -> Option<String> {
    let safe = |s: &str| s.chars().all(|c| SAFE_ALPHABET.contains(c));
    let (rest, suffix) = pod.rsplit_once('-')?;
    let (name, hash) = rest.rsplit_once('-')?;
    if suffix.len() == 5
        && safe(suffix)
        && (6..=10).contains(&hash.len())
        && safe(hash)
        && !name.is_empty()
    {
        Some(format!("Deployment/{name}"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "d481261a4b5cf2b51de4c15910d8858157f9e4b84815999696612abe2b740cb8";
    const POD: &str = "a26956b8f18c51874ec57c2a4d9ccbb7fd0495679e9334889f73713c33ec556e";

    #[test]
    fn podman_cgroupfs_v1_file() {
        let file = format!(
            "10:hugetlb:/libpod_parent/libpod-{ID}\n9:name=systemd:/libpod_parent/libpod-{ID}\n0::/libpod_parent/libpod-{ID}\n"
        );
        let a = attribute_cgroup_file(&file).unwrap();
        assert_eq!(a.runtime, ContainerRuntime::Podman);
        assert_eq!(a.container_id, ID);
        assert_eq!(a.pod_id, None);
    }

    #[test]
    fn podman_in_a_pod() {
        let a = attribute_cgroup_path(&format!("/libpod_parent/{POD}/libpod-{ID}")).unwrap();
        assert_eq!(a.runtime, ContainerRuntime::Podman);
        assert_eq!(a.pod_id.as_deref(), Some(POD));
        let a = attribute_cgroup_path(&format!(
            "/machine.slice/machine-libpod_pod_{POD}.slice/libpod-{ID}.scope"
        ))
        .unwrap();
        assert_eq!(a.container_id, ID);
        assert_eq!(a.pod_id.as_deref(), Some(POD));
    }

    #[test]
    fn podman_nested_init_cgroup_and_rootless() {
        let a =
            attribute_cgroup_path(&format!("/machine.slice/libpod-{ID}.scope/container")).unwrap();
        assert_eq!(a.container_id, ID);
        let a = attribute_cgroup_path(&format!(
            "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"
        ))
        .unwrap();
        assert_eq!(a.runtime, ContainerRuntime::Podman);
    }

    #[test]
    fn conmon_is_not_the_container() {
        assert_eq!(
            attribute_cgroup_path(&format!("/machine.slice/libpod-conmon-{ID}.scope")),
            None
        );
        assert_eq!(
            attribute_cgroup_path(&format!("/system.slice/crio-conmon-{ID}.scope")),
            None
        );
    }

    #[test]
    fn docker_layouts() {
        let a = attribute_cgroup_path(&format!("/docker/{ID}")).unwrap();
        assert_eq!(a.runtime, ContainerRuntime::Docker);
        let a = attribute_cgroup_path(&format!("/system.slice/docker-{ID}.scope")).unwrap();
        assert_eq!(a.runtime, ContainerRuntime::Docker);
        assert_eq!(a.container_id, ID);
    }

    #[test]
    fn containerd_kubernetes_layouts() {
        let uid = "4f1c2d3e-aaaa-bbbb-cccc-0123456789ab";
        let a = attribute_cgroup_path(&format!("/kubepods/burstable/pod{uid}/{ID}")).unwrap();
        assert_eq!(a.runtime, ContainerRuntime::Containerd);
        assert_eq!(a.pod_id.as_deref(), Some(uid));
        let a = attribute_cgroup_path(&format!(
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{}.slice/cri-containerd-{ID}.scope",
            uid.replace('-', "_")
        ))
        .unwrap();
        assert_eq!(a.runtime, ContainerRuntime::Containerd);
        assert_eq!(a.pod_id.as_deref(), Some(uid));
    }

    #[test]
    fn crio_layouts() {
        let uid = "4f1c2d3e-aaaa-bbbb-cccc-0123456789ab";
        let a = attribute_cgroup_path(&format!(
            "/kubepods.slice/kubepods-pod{}.slice/crio-{ID}.scope",
            uid.replace('-', "_")
        ))
        .unwrap();
        assert_eq!(a.runtime, ContainerRuntime::Crio);
        assert_eq!(a.pod_id.as_deref(), Some(uid));
        let a = attribute_cgroup_path(&format!("/kubepods/pod{uid}/crio-{ID}")).unwrap();
        assert_eq!(a.runtime, ContainerRuntime::Crio);
    }

    #[test]
    fn host_processes_are_not_attributed() {
        assert_eq!(attribute_cgroup_file("0::/\n"), None);
        assert_eq!(
            attribute_cgroup_file("1:cpu:/user.slice/user-0.slice/session-3.scope\n"),
            None
        );
        // A short or upper-case hex name is not a container ID.
        assert_eq!(attribute_cgroup_path("/docker/abc123"), None);
        assert_eq!(
            attribute_cgroup_path(&format!("/docker/{}", ID.to_uppercase())),
            None
        );
        // A bare 64-hex component outside docker/kubepods is unknown.
        assert_eq!(attribute_cgroup_path(&format!("/somewhere/{ID}")), None);
        assert_eq!(attribute_cgroup_file("garbage without colons"), None);
    }

    #[test]
    fn identity_from_cri_annotations() {
        let mut a = BTreeMap::new();
        a.insert(
            "io.kubernetes.cri.sandbox-namespace".to_string(),
            "shop".to_string(),
        );
        a.insert(
            "io.kubernetes.cri.sandbox-name".to_string(),
            "web-7d9f8b6c4-x2k9q".to_string(),
        );
        a.insert(
            "io.kubernetes.cri.container-name".to_string(),
            "nginx".to_string(),
        );
        a.insert(
            "io.kubernetes.cri.image-name".to_string(),
            "docker.io/library/nginx:1.27".to_string(),
        );
        let id = kubernetes_identity(&a);
        assert_eq!(id.namespace.as_deref(), Some("shop"));
        assert_eq!(id.pod.as_deref(), Some("web-7d9f8b6c4-x2k9q"));
        assert_eq!(id.container.as_deref(), Some("nginx"));
        assert_eq!(id.image.as_deref(), Some("docker.io/library/nginx:1.27"));
        assert_eq!(id.workload.as_deref(), Some("Deployment/web"));
    }

    #[test]
    fn identity_from_kubelet_labels() {
        let mut a = BTreeMap::new();
        a.insert(
            "io.kubernetes.pod.namespace".to_string(),
            "kube-system".to_string(),
        );
        a.insert(
            "io.kubernetes.pod.name".to_string(),
            "etcd-node1".to_string(),
        );
        a.insert(
            "io.kubernetes.container.name".to_string(),
            "etcd".to_string(),
        );
        let uid = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
        a.insert("io.kubernetes.pod.uid".to_string(), uid.to_string());
        let id = kubernetes_identity(&a);
        assert_eq!(id.pod_uid.as_deref(), Some(uid));
        assert_eq!(id.namespace.as_deref(), Some("kube-system"));
        assert_eq!(id.container.as_deref(), Some("etcd"));
        assert_eq!(id.workload, None);
        assert_eq!(
            kubernetes_identity(&BTreeMap::new()),
            KubernetesIdentity::default()
        );
    }

    #[test]
    fn deployment_pod_names() {
        assert_eq!(
            workload_from_pod_name("coredns-5d78c9869d-vwx4z").as_deref(),
            Some("Deployment/coredns")
        );
        assert_eq!(
            workload_from_pod_name("my-app-api-6b8f9c7d5b-2xq7z").as_deref(),
            Some("Deployment/my-app-api")
        );
        // DaemonSet/Job shape (one suffix) and StatefulSet ordinals are ambiguous.
        assert_eq!(workload_from_pod_name("kube-proxy-x7k2p"), None);
        assert_eq!(workload_from_pod_name("db-0"), None);
        // 'a', 'e', '0', '1', '3' are not in the safe alphabet.
        assert_eq!(workload_from_pod_name("web-abcdef0-x2k9q"), None);
    }
}
