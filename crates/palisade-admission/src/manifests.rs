//! Install manifests for the webhook, as YAML text: Namespace, ServiceAccount, optional TLS
//! Secret and ConfigMap, Deployment, Service and ValidatingWebhookConfiguration.
//!
//! Pure. The objects are built as typed values (`manifests_k8s`) and serialized once, as one
//! multi-document YAML stream; the YAML serializer quotes every string that needs it, so names,
//! images and configuration text cannot break the document structure.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;

use crate::manifests_k8s::{
    Capabilities, ClientConfig, ConfigMapVolume, Container, ContainerPort,
    ContainerSecurityContext, Data, DeploymentSpec, DisruptionBudgetSpec, EgressRule, Empty,
    HttpGet, IngressRule, Labels, Metadata, NamespaceLabels, NamespaceSelector, NetworkPolicySpec,
    Noted, Object, Peer, PodMetadata, PodSecurityContext, PodSpec, PodTemplate, PolicyPort, Probe,
    Quantities, Requirement, Resources, Rule, SeccompProfile, SecretVolume, Selector,
    ServiceAccount, ServicePort, ServiceReference, ServiceSpec, Spec, TopologySpread, Volume,
    VolumeMount, Webhook, Webhooks, flow,
};

/// `failurePolicy` of the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Refuse the request when the webhook cannot be reached (secure default).
    Fail,
    /// Admit the request when the webhook cannot be reached.
    Ignore,
}

impl FailurePolicy {
    /// As written in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            FailurePolicy::Fail => "Fail",
            FailurePolicy::Ignore => "Ignore",
        }
    }
}

/// Resources the webhook registers for: every workload kind and bare Pods (with ephemeral
/// containers), Services, Ingresses, NetworkPolicies and RBAC objects.
pub const RULES: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "pods",
            "pods/ephemeralcontainers",
            "replicationcontrollers",
            "services",
        ],
    ),
    (
        "apps",
        &["deployments", "statefulsets", "daemonsets", "replicasets"],
    ),
    ("batch", &["jobs", "cronjobs"]),
    ("networking.k8s.io", &["ingresses", "networkpolicies"]),
    (
        "rbac.authorization.k8s.io",
        &[
            "roles",
            "rolebindings",
            "clusterroles",
            "clusterrolebindings",
        ],
    ),
];

/// What to generate.
#[derive(Debug, Clone)]
pub struct ManifestOptions {
    /// Name of the Deployment, Service, ServiceAccount and webhook configuration.
    pub name: String,
    /// Namespace the webhook runs in (excluded from its own namespaceSelector).
    pub namespace: String,
    /// Container image.
    pub image: String,
    /// Replicas of the Deployment.
    pub replicas: u32,
    /// `failurePolicy`.
    pub failure_policy: FailurePolicy,
    /// `timeoutSeconds` (1–30).
    pub timeout_seconds: u32,
    /// Port the container listens on.
    pub port: u16,
    /// PEM of the CA that signed the serving certificate (`caBundle`); `None` leaves a
    /// placeholder comment to fill in.
    pub ca_bundle_pem: Option<String>,
    /// PEM certificate chain and key for a `kubernetes.io/tls` Secret; `None`: the Secret
    /// `<name>-tls` must be created separately.
    pub tls: Option<(String, String)>,
    /// Text of palisade.yaml to ship as a ConfigMap and pass with `--config`.
    pub config: Option<String>,
    /// More namespaces to exclude through the namespaceSelector.
    pub exclude_namespaces: Vec<String>,
    /// The team that runs the webhook (`palisade.dev/owner` on its namespace and objects).
    pub owner: String,
}

impl Default for ManifestOptions {
    fn default() -> Self {
        ManifestOptions {
            name: "palisade-admission".into(),
            namespace: "palisade-system".into(),
            image: format!("palisade:{}", env!("CARGO_PKG_VERSION")),
            replicas: 2,
            failure_policy: FailurePolicy::Fail,
            timeout_seconds: 10,
            port: 8443,
            ca_bundle_pem: None,
            tls: None,
            config: None,
            exclude_namespaces: Vec::new(),
            owner: "platform-security".into(),
        }
    }
}

/// The DNS name the API server uses to reach the webhook Service (the serving certificate must
/// carry it).
pub fn service_dns_name(name: &str, namespace: &str) -> String {
    format!("{name}.{namespace}.svc")
}

/// Why options cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ManifestError(pub String);

/// Renders the manifests as one multi-document YAML stream.
pub fn render(o: &ManifestOptions) -> Result<String, ManifestError> {
    for (field, value) in [("name", &o.name), ("namespace", &o.namespace)] {
        if !is_dns_label(value) {
            return Err(ManifestError(format!(
                "{field} {value:?} is not a DNS label (lower-case letters, digits and '-', at most 63)"
            )));
        }
    }
    for ns in &o.exclude_namespaces {
        if !is_dns_label(ns) {
            return Err(ManifestError(format!(
                "excluded namespace {ns:?} is not a DNS label"
            )));
        }
    }
    if !(1..=30).contains(&o.timeout_seconds) {
        return Err(ManifestError(format!(
            "timeoutSeconds must be between 1 and 30 (Kubernetes limit), not {}",
            o.timeout_seconds
        )));
    }
    if o.image.trim().is_empty() {
        return Err(ManifestError("image must not be empty".into()));
    }
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let tls_secret = format!("{}-tls", o.name);
    let config_map = format!("{}-config", o.name);
    if o.owner.trim().is_empty() {
        return Err(ManifestError("owner must not be empty".into()));
    }
    let labels = Labels {
        name: Some(&o.name),
        component: Some("admission-webhook"),
        part_of: Some("palisade"),
        owner: Some(&o.owner),
    };
    let by_name = Labels {
        name: Some(&o.name),
        component: None,
        part_of: None,
        owner: None,
    };
    let metadata = |name| Metadata {
        name,
        namespace: Some(&o.namespace),
        labels,
        annotations: BTreeMap::new(),
    };
    let mut docs: Vec<Document<'_>> = vec![
        Document::Namespace(Object {
            api_version: "v1",
            kind: "Namespace",
            metadata: Metadata {
                name: &o.namespace,
                namespace: None,
                labels: Labels {
                    name: None,
                    component: None,
                    part_of: Some("palisade"),
                    owner: Some(&o.owner),
                },
                annotations: BTreeMap::new(),
            },
            body: Empty {},
        }),
        Document::ServiceAccount(Object {
            api_version: "v1",
            kind: "ServiceAccount",
            metadata: metadata(&o.name),
            body: ServiceAccount {
                automount_service_account_token: false,
            },
        }),
    ];
    if let Some((cert, key)) = &o.tls {
        docs.push(Document::Data(Object {
            api_version: "v1",
            kind: "Secret",
            metadata: metadata(&tls_secret),
            body: Data {
                kind: Some("kubernetes.io/tls"),
                data: BTreeMap::from([("tls.crt", b64(cert)), ("tls.key", b64(key))]),
            },
        }));
    }
    let mut args: Vec<String> = [
        "admission",
        "serve",
        "--addr",
        &format!("0.0.0.0:{}", o.port),
        "--tls-cert",
        "/etc/palisade/tls/tls.crt",
        "--tls-key",
        "/etc/palisade/tls/tls.key",
    ]
    .map(String::from)
    .to_vec();
    let mut mounts = vec![VolumeMount {
        name: "tls",
        mount_path: "/etc/palisade/tls",
        read_only: true,
    }];
    let mut volumes = vec![Volume {
        name: "tls",
        secret: Some(SecretVolume {
            secret_name: &tls_secret,
        }),
        config_map: None,
    }];
    if let Some(config) = &o.config {
        docs.push(Document::Data(Object {
            api_version: "v1",
            kind: "ConfigMap",
            metadata: metadata(&config_map),
            body: Data {
                kind: None,
                data: BTreeMap::from([("palisade.yaml", config.clone())]),
            },
        }));
        args.extend(["--config", "/etc/palisade/config/palisade.yaml"].map(String::from));
        mounts.push(VolumeMount {
            name: "config",
            mount_path: "/etc/palisade/config",
            read_only: true,
        });
        volumes.push(Volume {
            name: "config",
            secret: None,
            config_map: Some(ConfigMapVolume { name: &config_map }),
        });
    }
    let probe = |path, period_seconds| Probe {
        http_get: HttpGet {
            path,
            port: "https",
            scheme: "HTTPS",
        },
        period_seconds,
    };
    let deployment = DeploymentSpec {
        replicas: o.replicas,
        selector: Selector {
            match_labels: by_name,
        },
        template: PodTemplate {
            metadata: PodMetadata { labels },
            spec: PodSpec {
                // Several replicas spread over nodes (PAL-106).
                topology_spread_constraints: if o.replicas > 1 {
                    vec![TopologySpread {
                        max_skew: 1,
                        topology_key: "kubernetes.io/hostname",
                        when_unsatisfiable: "ScheduleAnyway",
                        label_selector: Selector {
                            match_labels: by_name,
                        },
                    }]
                } else {
                    Vec::new()
                },
                service_account_name: &o.name,
                automount_service_account_token: false,
                host_users: false,
                security_context: PodSecurityContext {
                    run_as_non_root: true,
                    run_as_user: 65532,
                    run_as_group: 65532,
                    seccomp_profile: SeccompProfile {
                        kind: "RuntimeDefault",
                    },
                },
                containers: vec![Container {
                    name: "webhook",
                    image: &o.image,
                    image_pull_policy: "Always",
                    args,
                    ports: vec![ContainerPort {
                        name: "https",
                        container_port: o.port,
                    }],
                    readiness_probe: probe("/readyz", 5),
                    liveness_probe: probe("/healthz", 10),
                    resources: Resources {
                        requests: Quantities {
                            cpu: "100m",
                            memory: "64Mi",
                        },
                        limits: Quantities {
                            cpu: "1",
                            memory: "256Mi",
                        },
                    },
                    security_context: ContainerSecurityContext {
                        allow_privilege_escalation: false,
                        read_only_root_filesystem: true,
                        capabilities: Capabilities { drop: vec!["ALL"] },
                    },
                    volume_mounts: mounts,
                }],
                volumes,
            },
        },
    };
    docs.push(Document::Deployment(Object::new(
        "apps/v1",
        "Deployment",
        metadata(&o.name),
        Spec { spec: deployment },
    )));
    // Several replicas: one disrupted at a time, unhealthy ones always evictable (PAL-099,
    // PAL-102).
    if o.replicas > 1 {
        docs.push(Document::Budget(Object::new(
            "policy/v1",
            "PodDisruptionBudget",
            metadata(&o.name),
            Spec {
                spec: DisruptionBudgetSpec {
                    max_unavailable: 1,
                    unhealthy_pod_eviction_policy: "AlwaysAllow",
                    selector: Selector {
                        match_labels: by_name,
                    },
                },
            },
        )));
    }
    let service = ServiceSpec {
        kind: "ClusterIP",
        selector: by_name,
        ports: vec![ServicePort {
            name: "https",
            port: 443,
            target_port: "https",
        }],
    };
    docs.push(Document::Service(Object::new(
        "v1",
        "Service",
        metadata(&o.name),
        Spec { spec: service },
    )));
    // Ingress: the webhook port only, from anywhere (the API server's address is not known
    // inside the cluster). Egress: DNS in kube-system, and HTTPS when a configuration may ask
    // for registry facts (digests, signatures); nothing else.
    let mut egress = vec![EgressRule {
        to: vec![Peer {
            namespace_selector: NamespaceLabels {
                match_labels: BTreeMap::from([("kubernetes.io/metadata.name", "kube-system")]),
            },
        }],
        ports: vec![
            PolicyPort {
                protocol: "UDP",
                port: 53,
            },
            PolicyPort {
                protocol: "TCP",
                port: 53,
            },
        ],
    }];
    if o.config.is_some() {
        egress.push(EgressRule {
            to: Vec::new(),
            ports: vec![PolicyPort {
                protocol: "TCP",
                port: 443,
            }],
        });
    }
    let everything = Labels {
        name: None,
        component: None,
        part_of: None,
        owner: None,
    };
    docs.push(Document::NetworkPolicy(Object::new(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        metadata("default-deny"),
        Spec {
            spec: NetworkPolicySpec {
                pod_selector: Selector {
                    match_labels: everything,
                },
                policy_types: serde_saphyr::FlowSeq(["Ingress", "Egress"]),
                ingress: Vec::new(),
                egress: Vec::new(),
            },
        },
    )));
    docs.push(Document::NetworkPolicy(Object::new(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        Metadata {
            annotations: BTreeMap::from([
                ("palisade.dev/ignore", "PAL-069"),
                (
                    "palisade.dev/ignore-reason",
                    if o.config.is_some() {
                        "the API server calls the webhook from the control plane, outside the pod network, at an address the cluster does not know (only the webhook port is open); image policies need HTTPS to registries wherever they are (only port 443)"
                    } else {
                        "the API server calls the webhook from the control plane, outside the pod network, at an address the cluster does not know; only the webhook port is open"
                    },
                ),
            ]),
            ..metadata(&o.name)
        },
        Spec {
            spec: NetworkPolicySpec {
                pod_selector: Selector {
                    match_labels: by_name,
                },
                policy_types: serde_saphyr::FlowSeq(["Ingress", "Egress"]),
                ingress: vec![IngressRule {
                    ports: vec![PolicyPort {
                        protocol: "TCP",
                        port: o.port,
                    }],
                }],
                egress,
            },
        },
    )));
    let excluded = std::iter::once(o.namespace.as_str())
        .chain(o.exclude_namespaces.iter().map(String::as_str));
    docs.push(Document::Webhook(Object {
        api_version: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        metadata: Metadata {
            name: &o.name,
            namespace: None,
            labels,
            annotations: BTreeMap::new(),
        },
        body: Webhooks {
            webhooks: vec![Webhook {
                name: "validate.palisade.dev",
                admission_review_versions: flow(["v1"]),
                side_effects: "None",
                failure_policy: o.failure_policy.as_str(),
                timeout_seconds: o.timeout_seconds,
                match_policy: "Equivalent",
                client_config: Noted::new(
                    ClientConfig {
                        service: ServiceReference {
                            name: &o.name,
                            namespace: &o.namespace,
                            path: "/validate",
                            port: 443,
                        },
                        ca_bundle: o.ca_bundle_pem.as_deref().map(b64),
                    },
                    o.ca_bundle_pem.is_none().then_some(
                        "caBundle: base64 of the PEM CA that signed the serving certificate",
                    ),
                ),
                namespace_selector: NamespaceSelector {
                    match_expressions: vec![Requirement {
                        key: "kubernetes.io/metadata.name",
                        operator: "NotIn",
                        values: flow(excluded),
                    }],
                },
                rules: RULES
                    .iter()
                    .map(|(group, resources)| Rule {
                        api_groups: flow([*group]),
                        api_versions: flow(["*"]),
                        operations: serde_saphyr::FlowSeq(["CREATE", "UPDATE"]),
                        resources: flow(resources.iter().copied()),
                        scope: "*",
                    })
                    .collect(),
            }],
        },
    }));
    let options = serde_saphyr::ser_options! {
        // One line per scalar (base64 data and configuration text stay quoted scalars).
        prefer_block_scalars: false,
        comment_position: serde_saphyr::CommentPosition::Above,
    };
    serde_saphyr::to_string_multiple_with_options(&docs, options)
        .map_err(|e| ManifestError(format!("serializing the manifests: {e}")))
}

/// One document of the stream.
#[derive(Serialize)]
#[serde(untagged)]
enum Document<'a> {
    Namespace(Object<'a, Empty>),
    ServiceAccount(Object<'a, ServiceAccount>),
    /// A Secret or a ConfigMap.
    Data(Object<'a, Data>),
    Deployment(Object<'a, Spec<DeploymentSpec<'a>>>),
    Budget(Object<'a, Spec<DisruptionBudgetSpec<'a>>>),
    Service(Object<'a, Spec<ServiceSpec<'a>>>),
    NetworkPolicy(Object<'a, Spec<NetworkPolicySpec<'a>>>),
    Webhook(Object<'a, Webhooks<'a>>),
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_checks::{Engine, Severity};

    fn docs(text: &str) -> Vec<serde_json::Value> {
        serde_saphyr_like(text)
    }

    /// Parses the stream with the project's own ingestion (YAML), returning raw objects.
    fn serde_saphyr_like(text: &str) -> Vec<serde_json::Value> {
        let ingested = palisade_ingest::ingest_str("manifests.yaml", text);
        assert!(
            ingested.diagnostics.is_empty(),
            "{:?}",
            ingested.diagnostics
        );
        let inv = ingested.inventory;
        let mut out: Vec<serde_json::Value> = Vec::new();
        out.extend(
            inv.namespaces
                .iter()
                .filter(|n| !n.spec.implicit)
                .map(|o| (*o.raw).clone()),
        );
        out.extend(inv.service_accounts.iter().map(|o| (*o.raw).clone()));
        out.extend(inv.secrets.iter().map(|o| (*o.raw).clone()));
        out.extend(inv.config_maps.iter().map(|o| (*o.raw).clone()));
        out.extend(inv.workloads.iter().map(|o| (*o.raw).clone()));
        out.extend(inv.services.iter().map(|o| (*o.raw).clone()));
        out.extend(inv.network_policies.iter().map(|o| (*o.raw).clone()));
        out.extend(inv.others.iter().map(|o| (*o.raw).clone()));
        out
    }

    fn find<'a>(docs: &'a [serde_json::Value], kind: &str) -> &'a serde_json::Value {
        docs.iter()
            .find(|d| d["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    }

    #[test]
    fn webhook_configuration_follows_the_admissionregistration_v1_schema() {
        let text = render(&ManifestOptions {
            failure_policy: FailurePolicy::Ignore,
            timeout_seconds: 5,
            ca_bundle_pem: Some(
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            ),
            exclude_namespaces: vec!["kube-system".into()],
            ..ManifestOptions::default()
        })
        .unwrap();
        let docs = docs(&text);
        let vwc = find(&docs, "ValidatingWebhookConfiguration");
        assert_eq!(vwc["apiVersion"], "admissionregistration.k8s.io/v1");
        let hook = &vwc["webhooks"][0];
        assert_eq!(hook["admissionReviewVersions"][0], "v1");
        assert_eq!(hook["sideEffects"], "None");
        assert_eq!(hook["failurePolicy"], "Ignore");
        assert_eq!(hook["timeoutSeconds"], 5);
        assert_eq!(hook["clientConfig"]["service"]["path"], "/validate");
        assert_eq!(
            hook["clientConfig"]["service"]["namespace"],
            "palisade-system"
        );
        let ca = hook["clientConfig"]["caBundle"].as_str().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(ca)
            .unwrap();
        assert!(
            String::from_utf8(decoded)
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        let sel = &hook["namespaceSelector"]["matchExpressions"][0];
        assert_eq!(sel["key"], "kubernetes.io/metadata.name");
        assert_eq!(sel["operator"], "NotIn");
        assert_eq!(
            sel["values"],
            serde_json::json!(["palisade-system", "kube-system"])
        );
        let rules = hook["rules"].as_array().unwrap();
        let resources: Vec<&str> = rules
            .iter()
            .flat_map(|r| r["resources"].as_array().unwrap())
            .filter_map(|r| r.as_str())
            .collect();
        for r in [
            "pods",
            "pods/ephemeralcontainers",
            "deployments",
            "cronjobs",
            "ingresses",
            "clusterrolebindings",
            "services",
        ] {
            assert!(resources.contains(&r), "{r} missing");
        }
        assert!(
            rules
                .iter()
                .all(|r| r["operations"] == serde_json::json!(["CREATE", "UPDATE"]))
        );
    }

    #[test]
    fn deployment_serves_tls_from_the_secret_and_probes_https() {
        let text = render(&ManifestOptions {
            tls: Some(("CERT".into(), "KEY".into())),
            config: Some("admission:\n  exempt_namespaces: [\"kube-*\"]\n".into()),
            ..ManifestOptions::default()
        })
        .unwrap();
        let docs = docs(&text);
        let dep = find(&docs, "Deployment");
        let pod = &dep["spec"]["template"]["spec"];
        let c = &pod["containers"][0];
        let args: Vec<&str> = c["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        assert_eq!(&args[..2], ["admission", "serve"]);
        assert!(
            args.windows(2)
                .any(|w| w == ["--config", "/etc/palisade/config/palisade.yaml"])
        );
        assert_eq!(c["readinessProbe"]["httpGet"]["scheme"], "HTTPS");
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert_eq!(
            pod["volumes"][0]["secret"]["secretName"],
            "palisade-admission-tls"
        );
        let cm = find(&docs, "ConfigMap");
        assert!(
            cm["data"]["palisade.yaml"]
                .as_str()
                .unwrap()
                .contains("kube-*")
        );
        let svc = find(&docs, "Service");
        assert_eq!(svc["spec"]["ports"][0]["port"], 443);
        assert_eq!(
            svc["spec"]["selector"]["app.kubernetes.io/name"],
            "palisade-admission"
        );
    }

    #[test]
    fn our_own_manifests_pass_our_own_enforced_checks() {
        let text = render(&ManifestOptions {
            tls: Some(("CERT".into(), "KEY".into())),
            ..ManifestOptions::default()
        })
        .unwrap();
        let inv = palisade_ingest::ingest_str("manifests.yaml", &text).inventory;
        let outcome = Engine::builtin().run(&inv);
        let serious: Vec<_> = outcome
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::High)
            .map(|f| format!("{} {}", f.check_id, f.message))
            .collect();
        assert!(serious.is_empty(), "{serious:?}");
    }

    /// Every finding of the default manifests, pinned by digest: none but the one reasoned
    /// exception (the webhook port open to the control plane), with or without a config.
    #[test]
    fn pinned_manifests_have_no_findings_and_egress_only_as_needed() {
        for config in [None, Some("checks: {}\n".to_string())] {
            let text = render(&ManifestOptions {
                image: "registry.example/palisade@sha256:0000000000000000000000000000000000000000000000000000000000000000".into(),
                config: config.clone(),
                ..ManifestOptions::default()
            })
            .unwrap();
            let inv = palisade_ingest::ingest_str("manifests.yaml", &text).inventory;
            let outcome = Engine::builtin().run(&inv);
            let all: Vec<_> = outcome
                .findings
                .iter()
                .map(|f| format!("{} {}", f.check_id, f.message))
                .collect();
            assert!(all.is_empty(), "{all:?}");
            let suppressed: Vec<_> = outcome
                .suppressed
                .iter()
                .map(|s| s.finding.check_id.to_string())
                .collect();
            // The ingress rule, and with a configuration the HTTPS egress rule.
            let want: &[&str] = if config.is_some() {
                &["PAL-069", "PAL-069"]
            } else {
                &["PAL-069"]
            };
            assert_eq!(suppressed, want);
            let docs = docs(&text);
            let webhook_policy = docs
                .iter()
                .find(|d| {
                    d["kind"] == "NetworkPolicy" && d["metadata"]["name"] == "palisade-admission"
                })
                .unwrap();
            let egress_ports: Vec<u64> = webhook_policy["spec"]["egress"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| {
                    r["ports"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p["port"].as_u64().unwrap())
                })
                .collect();
            let want: &[u64] = if config.is_some() {
                &[53, 53, 443]
            } else {
                &[53, 53]
            };
            assert_eq!(egress_ports, want);
            assert_eq!(
                find(&docs, "Deployment")["spec"]["template"]["spec"]["hostUsers"],
                false
            );
            assert_eq!(
                find(&docs, "Namespace")["metadata"]["labels"]["palisade.dev/owner"],
                "platform-security"
            );
        }
    }

    #[test]
    fn bad_options_are_refused_with_the_field() {
        let e = render(&ManifestOptions {
            timeout_seconds: 31,
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.0.contains("timeoutSeconds"), "{e}");
        let e = render(&ManifestOptions {
            namespace: "Bad_NS".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.0.contains("namespace"), "{e}");
        let e = render(&ManifestOptions {
            image: " ".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.0.contains("image"), "{e}");
    }

    #[test]
    fn hostile_strings_stay_scalars() {
        let text = render(&ManifestOptions {
            image: "evil\nkind: Secret".into(),
            config: Some("a: b\n---\nkind: ClusterRoleBinding\n".into()),
            ..Default::default()
        })
        .unwrap();
        let docs = docs(&text);
        assert!(!docs.iter().any(|d| d["kind"] == "ClusterRoleBinding"));
        assert_eq!(
            find(&docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"],
            "evil\nkind: Secret"
        );
    }
}
