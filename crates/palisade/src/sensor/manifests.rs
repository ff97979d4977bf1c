//! `palisade sensor manifests`: what runs the sensor in a cluster, least privilege first.
//!
//! * A ClusterRole with `get`, `list` and `watch` only, on exactly the resources the sensor
//!   watches (`palisade_cluster::kinds::KINDS`, so the two cannot drift apart). Secrets get
//!   `list` and `watch` without `get`: the sensor reads them as metadata only
//!   (`PartialObjectMetadata`) to see service-account token Secrets (PAL-070), but the API
//!   server authorizes a metadata list as a list, and a list grant lets a client ask for
//!   values too. Leave Secrets out with `--no-secrets` to keep them out of reach entirely (the
//!   sensor then reports one diagnostic and PAL-070 cannot fire).
//! * A Deployment running as a non-root user with a read-only root filesystem, no privilege
//!   escalation, every capability dropped, the runtime's seccomp profile, CPU and memory
//!   requests and limits; the Kubernetes API token projected explicitly (automounting off);
//!   central's token (and CA) from a Secret volume, never an environment variable.
//! * NetworkPolicies: default deny in the namespace it creates; the sensor: no ingress, egress
//!   to DNS (kube-system), the API server and central only (HTTPS ports).
//! * What `palisade scan` reports and the sensor must accept is suppressed on the object with
//!   its reason (Secrets' list grant, egress to addresses unknown here, no probes, one replica).

use std::collections::BTreeMap;
use std::process::ExitCode;

use palisade_cluster::kinds::KINDS;
use serde_json::{Value, json};

use crate::install;

/// Arguments of `palisade sensor manifests`.
#[derive(clap::Args, Debug)]
pub struct ManifestArgs {
    /// Central's URL, as the sensor will reach it.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://palisade-central.palisade.svc:8443"
    )]
    pub central: String,
    /// The cluster's name in central.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub cluster: String,
    /// Namespace the sensor runs in (created unless --no-namespace).
    #[arg(long, value_name = "NAMESPACE", default_value = "palisade")]
    pub namespace: String,
    /// Do not create the namespace.
    #[arg(long)]
    pub no_namespace: bool,
    #[command(flatten)]
    pub common: install::ImageOwnerArgs,
    /// Do not grant list/watch on Secrets (service-account token Secrets go unreported).
    #[arg(long)]
    pub no_secrets: bool,
    /// Central's CA certificate is in the token Secret too (key `ca.pem`): pass it to
    /// --ca-cert.
    #[arg(long)]
    pub central_ca: bool,
}

/// Why the ClusterRole may list and watch Secrets (PAL-051 suppressed with this reason).
const SECRETS_REASON: &str = "The sensor lists and watches Secrets as metadata only (PartialObjectMetadata) to report service-account token Secrets (PAL-070); it never asks for values. Install with --no-secrets to withhold the grant.";

/// The name of every object.
const NAME: &str = "palisade-sensor";
/// The Secret holding central's token (key `token`, optionally `ca.pem`).
const TOKEN_SECRET: &str = "palisade-sensor-token";
const TOKEN_DIR: &str = "/var/run/palisade";
/// PAL-069 on the sensor's NetworkPolicy.
const EGRESS_REASON: &str = "The API server and central have addresses the manifests cannot know (central may be in another cluster); only their HTTPS ports are open (443, 6443, 8443), DNS only to kube-system, nothing in.";
/// PAL-032, PAL-033 and PAL-076 on the Deployment.
const DEPLOYMENT_REASON: &str = "PAL-032/PAL-033: the sensor serves no port to probe (it only connects out); its health is in its log (each push acknowledged, with latency) and in central (the cluster's last push). PAL-076: one sensor per cluster; a second replica would push every change twice.";

fn labels(args: &ManifestArgs) -> Value {
    install::labels(NAME, Some(&args.common.owner))
}

fn metadata(args: &ManifestArgs, name: &str, namespace: Option<&str>) -> Value {
    install::metadata(name, namespace, &labels(args))
}

/// The ClusterRole's rules: get/list/watch on every watched resource, by API group.
fn rules(secrets: bool) -> Vec<Value> {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut secret_rule = None;
    for kind in KINDS {
        if kind.metadata_only {
            if secrets {
                secret_rule = Some(
                    json!({"apiGroups": [kind.group], "resources": [kind.plural], "verbs": ["list", "watch"]}),
                );
            }
            continue;
        }
        let plurals = groups.entry(kind.group).or_default();
        if !plurals.contains(&kind.plural) {
            plurals.push(kind.plural);
        }
    }
    groups
        .into_iter()
        .map(|(group, resources)| {
            json!({"apiGroups": [group], "resources": resources, "verbs": ["get", "list", "watch"]})
        })
        .chain(secret_rule)
        .collect()
}

fn deployment(args: &ManifestArgs) -> Value {
    let mut command = vec![
        "sensor",
        "run",
        "--central",
        &args.central,
        "--cluster",
        &args.cluster,
        "--token-file",
    ];
    let token = format!("{TOKEN_DIR}/token");
    let ca = format!("{TOKEN_DIR}/ca.pem");
    command.push(&token);
    if args.central_ca {
        command.extend(["--ca-cert", &ca]);
    }
    let sa_token = json!({"projected": {"defaultMode": 0o444, "sources": [
        {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}
    ]}});
    let mut metadata = metadata(args, NAME, Some(&args.namespace));
    install::except(&mut metadata, "PAL-032,PAL-033,PAL-076", DEPLOYMENT_REASON);
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "template": {
                "metadata": {"labels": labels(args)},
                "spec": {
                    "serviceAccountName": NAME,
                    "automountServiceAccountToken": false,
                    "hostUsers": false,
                    "securityContext": install::pod_security_context(),
                    "containers": [{
                        "name": "sensor",
                        "image": args.common.image,
                        "imagePullPolicy": "Always",
                        "args": command,
                        "securityContext": install::container_security_context(),
                        "resources": install::resources(("100m", "256Mi"), ("1", "1Gi")),
                        "volumeMounts": [
                            {"name": "central-token", "mountPath": TOKEN_DIR, "readOnly": true},
                            {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}
                        ]
                    }],
                    "volumes": [
                        {"name": "central-token", "secret": {"secretName": TOKEN_SECRET, "defaultMode": 0o400}},
                        {"name": "kube-api-access", "projected": sa_token["projected"]}
                    ]
                }
            }
        }
    })
}

/// The NetworkPolicy: nothing in; out only DNS and HTTPS (the API server, central).
fn network_policy(args: &ManifestArgs) -> Value {
    let mut metadata = metadata(args, NAME, Some(&args.namespace));
    install::except(&mut metadata, "PAL-069", EGRESS_REASON);
    let https = json!({"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}, {"protocol": "TCP", "port": 8443}]});
    install::network_policy(
        metadata,
        NAME,
        json!([]),
        json!([install::dns_egress(), https]),
    )
}

/// Every object, in apply order. The namespace's default-deny NetworkPolicy comes with the
/// Namespace only: in a namespace the sensor shares (--no-namespace) it would cut off the
/// other pods.
pub fn objects(args: &ManifestArgs) -> Vec<Value> {
    let ns = args.namespace.as_str();
    let mut out = Vec::new();
    if !args.no_namespace {
        out.push(install::namespace(ns, &args.common.owner));
    }
    out.push(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(args, NAME, Some(ns)), "automountServiceAccountToken": false}));
    let mut role_meta = metadata(args, NAME, None);
    if !args.no_secrets {
        install::except(&mut role_meta, "PAL-051", SECRETS_REASON);
    }
    out.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": role_meta, "rules": rules(!args.no_secrets)}));
    out.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": metadata(args, NAME, None),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
        "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": ns}]
    }));
    if !args.no_namespace {
        out.push(install::default_deny(ns, &labels(args)));
    }
    out.push(network_policy(args));
    out.push(deployment(args));
    out
}

/// The manifests as one YAML stream.
pub fn render(args: &ManifestArgs) -> anyhow::Result<String> {
    let header = format!(
        "palisade sensor for cluster {:?}: create the Secret {TOKEN_SECRET:?} in namespace {:?}\nwith key `token` (a sensor token: palisade central token create --role sensor --cluster …){}.",
        args.cluster,
        args.namespace,
        if args.central_ca {
            " and key `ca.pem` (central's CA)"
        } else {
            ""
        }
    );
    install::stream(&header, &objects(args))
}

/// Prints the manifests.
pub fn print(args: &ManifestArgs) -> anyhow::Result<ExitCode> {
    print!("{}", render(args)?);
    Ok(ExitCode::SUCCESS)
}
