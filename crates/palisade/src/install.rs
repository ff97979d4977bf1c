//! Blocks the install-manifest printers share (`central manifests`, `sensor manifests`): the
//! labels and metadata every object carries, the Namespace, the default-deny NetworkPolicy,
//! the restricted pod and container securityContext, reasoned exceptions and the YAML stream.
//!
//! Objects are `serde_json::Value`s serialized once with serde-saphyr, so names, images and URLs
//! given on the command line stay scalars whatever they contain.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// `--image` and `--owner` of every printer that builds on this module.
#[derive(clap::Args, Debug)]
pub struct ImageOwnerArgs {
    /// Container image of palisade (pin it: `REPOSITORY@sha256:…`).
    #[arg(long, value_name = "IMAGE", default_value = concat!("palisade:", env!("CARGO_PKG_VERSION")))]
    pub image: String,
    /// The team that runs it: the `palisade.dev/owner` label of its namespace and objects.
    #[arg(long, value_name = "TEAM", default_value = "platform-security")]
    pub owner: String,
}

/// The user and group Palisade's image runs as (Containerfile `USER 65532:65532`).
pub const RUN_AS: u32 = 65532;

/// The labels of one component's objects: its name, `part-of: palisade`, and when given the
/// team that answers for it (`palisade.dev/owner`, read by PAL-077).
pub fn labels(name: &str, owner: Option<&str>) -> Value {
    let mut labels = BTreeMap::from([
        ("app.kubernetes.io/name", name),
        ("app.kubernetes.io/part-of", "palisade"),
    ]);
    if let Some(owner) = owner {
        labels.insert("palisade.dev/owner", owner);
    }
    json!(labels)
}

/// `metadata` with these labels, namespaced when `namespace` is given.
pub fn metadata(name: &str, namespace: Option<&str>, labels: &Value) -> Value {
    let mut m = json!({"name": name, "labels": labels});
    if let Some(ns) = namespace {
        m["namespace"] = ns.into();
    }
    m
}

/// Adds a reasoned exception to `metadata`: what `palisade scan` then reports as suppressed
/// with `reason` (`palisade.dev/ignore`, `palisade.dev/ignore-reason`).
pub fn except(metadata: &mut Value, check_ids: &str, reason: &str) {
    metadata["annotations"] = json!({
        palisade_checks::ANNOTATION_IGNORE: check_ids,
        palisade_checks::ANNOTATION_IGNORE_REASON: reason,
    });
}

/// The `topologySpreadConstraints` of a workload of several replicas (PAL-106): its pods (by
/// `app.kubernetes.io/name`) spread over nodes where possible.
pub fn topology_spread(name: &str) -> Value {
    json!([{
        "maxSkew": 1,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}}
    }])
}

/// The PodDisruptionBudget of a workload of several replicas (PAL-099): one pod disrupted at a
/// time, unhealthy pods always evictable (PAL-102).
pub fn disruption_budget(name: &str, namespace: &str, labels: &Value) -> Value {
    json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(name, Some(namespace), labels),
        "spec": {
            "maxUnavailable": 1,
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}}
        }
    })
}

/// The Namespace, with the owner label its workloads inherit.
pub fn namespace(name: &str, owner: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "palisade", "palisade.dev/owner": owner}},
    })
}

/// A NetworkPolicy selecting every pod of the namespace for both directions with no rule:
/// nothing in the namespace talks unless another policy allows it (PAL-089, PAL-090).
pub fn default_deny(namespace: &str, labels: &Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata("default-deny", Some(namespace), labels),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    })
}

/// A component's own NetworkPolicy: the pods named `name`, isolated both ways, with these
/// ingress and egress rules (empty: none allowed).
pub fn network_policy(metadata: Value, name: &str, ingress: Value, egress: Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    })
}

/// An egress rule to the cluster DNS (kube-system, port 53 over UDP and TCP).
pub fn dns_egress() -> Value {
    json!({
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    })
}

/// A pod's `securityContext`: non-root as [`RUN_AS`] (volumes group-owned by it), the
/// runtime's default seccomp profile.
pub fn pod_security_context() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// A container's `securityContext`: no privilege escalation, read-only root filesystem,
/// non-root, not privileged, every capability dropped.
pub fn container_security_context() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "privileged": false,
        "capabilities": {"drop": ["ALL"]},
    })
}

/// `resources`: CPU and memory requests and limits.
pub fn resources(requests: (&str, &str), limits: (&str, &str)) -> Value {
    json!({
        "requests": {"cpu": requests.0, "memory": requests.1},
        "limits": {"cpu": limits.0, "memory": limits.1},
    })
}

/// An HTTPS GET probe of `path` on the port named `https`.
pub fn https_probe(path: &str, period_seconds: u32) -> Value {
    json!({"httpGet": {"path": path, "port": "https", "scheme": "HTTPS"}, "periodSeconds": period_seconds})
}

/// The objects as one YAML stream after a comment `header` (lines without their `# `). Every
/// scalar stays on one line (a long image reference is not folded), so `grep image:` finds it.
pub fn stream(header: &str, objects: &[Value]) -> anyhow::Result<String> {
    let mut text: String = header.lines().map(|l| format!("# {l}\n")).collect();
    for object in objects {
        let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
        text.push_str("---\n");
        text.push_str(&serde_saphyr::to_string_with_options(object, options)?);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_stay_scalars() {
        let labels = labels("x", Some("team\nkind: Secret"));
        let text = stream(
            "a\nb",
            &[namespace("ns", "a: b\n---\nkind: ClusterRoleBinding")],
        )
        .unwrap();
        assert!(text.starts_with("# a\n# b\n---\n"), "{text}");
        let ingested = palisade_ingest::ingest_str("m.yaml", &text);
        assert!(
            ingested.diagnostics.is_empty(),
            "{:?}",
            ingested.diagnostics
        );
        assert_eq!(ingested.inventory.namespaces.len(), 1);
        assert_eq!(labels["palisade.dev/owner"], "team\nkind: Secret");
    }

    #[test]
    fn long_image_references_stay_on_their_line() {
        let image = format!("registry.example/palisade@sha256:{}", "a".repeat(64));
        let text = stream("", &[json!({"image": image})]).unwrap();
        assert!(text.contains(&format!("image: {image}\n")), "{text}");
    }
}
