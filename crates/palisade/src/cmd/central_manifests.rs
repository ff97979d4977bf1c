//! `palisade central manifests`: what runs central in a cluster (issue 15's deployment).
//!
//! * SQLite (the default): one replica on a PersistentVolumeClaim holding the data directory,
//!   replaced by `Recreate` (one writer: a rolling update would start a second).
//! * `--database-secret NAME`: PostgreSQL, its URL `PALISADE_DATABASE_URL` from key
//!   `database-url` of that Secret; replicas (default 2) keep nothing but the first start's
//!   admin token file, so the data directory is an emptyDir.
//! * Always: a ServiceAccount with no token (central never calls the Kubernetes API), a
//!   non-root pod with a read-only root filesystem, no capabilities, RuntimeDefault seccomp and
//!   its own user namespace; requests and limits; HTTPS probes; the serving certificate from a
//!   `kubernetes.io/tls` Secret mounted read-only; a default-deny NetworkPolicy and one that
//!   opens central's port and, with PostgreSQL, DNS and the database port. The admin token is
//!   never in the environment: central writes it to DATA/admin.token and prints it once.
//!
//! What `palisade scan` reports on these objects and central must accept is suppressed on the
//! object with its reason (the constants below; docs/central.md lists them).

use std::process::ExitCode;

use anyhow::bail;
use serde_json::{Value, json};

use crate::install;

/// Arguments of `palisade central manifests`.
#[derive(clap::Args, Debug)]
pub struct ManifestArgs {
    #[command(flatten)]
    pub common: install::ImageOwnerArgs,
    /// Namespace central runs in (the sensor's default --central URL expects `palisade`).
    #[arg(long, short = 'n', default_value = "palisade")]
    pub namespace: String,
    /// PostgreSQL instead of SQLite: the Secret whose key `database-url` holds the
    /// `postgres://…` URL (passed as PALISADE_DATABASE_URL); allows several replicas.
    #[arg(long, value_name = "NAME")]
    pub database_secret: Option<String>,
    /// Replicas [default: 1 with SQLite, which allows no more; 2 with --database-secret].
    #[arg(long, value_name = "N")]
    pub replicas: Option<u32>,
    /// Size of the SQLite data volume (PersistentVolumeClaim).
    #[arg(long, value_name = "QUANTITY", default_value = "10Gi")]
    pub storage: String,
    /// The Secret (`kubernetes.io/tls`: tls.crt, tls.key) with central's serving certificate.
    #[arg(long, value_name = "NAME", default_value = "palisade-central-tls")]
    pub tls_secret: String,
    /// Port central listens on, and the Service's port.
    #[arg(long, default_value_t = 8443)]
    pub port: u16,
}

/// The name of every object.
const NAME: &str = "palisade-central";
/// Where the data directory is mounted.
const DATA_DIR: &str = "/var/lib/palisade/central";
/// Where the serving certificate is mounted.
const TLS_DIR: &str = "/etc/palisade/tls";
/// PostgreSQL's port, opened for egress with --database-secret.
const POSTGRES_PORT: u16 = 5432;

/// PAL-069 on central's NetworkPolicy, SQLite.
const INGRESS_REASON: &str = "Central's clients are sensors and agents of other clusters, CI scans (--push) and people: addresses the manifests cannot know. Only central's port is open, and every request but /healthz needs a token.";
/// PAL-069 on central's NetworkPolicy, PostgreSQL.
const INGRESS_POSTGRES_REASON: &str = "Central's clients are sensors and agents of other clusters, CI scans (--push) and people, and its PostgreSQL server may be outside the cluster: addresses the manifests cannot know. Only central's port is open in and only DNS and PostgreSQL's port out; every request but /healthz needs a token.";
/// PAL-076 on the SQLite Deployment.
const SINGLE_REPLICA_REASON: &str = "SQLite has one writer: central on SQLite runs as one replica on its volume, replaced with the Recreate strategy (a rolling update would start a second writer). Use --database-secret (PostgreSQL) for several replicas and rolling updates.";
/// PAL-022 on the PostgreSQL Deployment.
const DATABASE_ENV_REASON: &str = "Central reads the PostgreSQL URL from PALISADE_DATABASE_URL (issue 15), from this Secret key only; central starts no child processes, shares no process namespace, and never logs or prints the value.";

impl ManifestArgs {
    /// Replicas after defaults and the SQLite limit.
    fn replicas(&self) -> anyhow::Result<u32> {
        match (self.database_secret.is_some(), self.replicas) {
            (false, Some(n)) if n != 1 => bail!(
                "--replicas {n}: central on SQLite runs as one replica; use --database-secret (PostgreSQL) for more"
            ),
            (true, Some(0)) | (false, Some(0)) => bail!("--replicas must be at least 1"),
            (_, Some(n)) => Ok(n),
            (false, None) => Ok(1),
            (true, None) => Ok(2),
        }
    }
}

/// A name that becomes an object's name: a DNS label.
fn dns_label<'a>(what: &str, value: &'a str) -> anyhow::Result<&'a str> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if !ok {
        bail!(
            "--{what} {value:?} is not a DNS label (lower-case letters, digits and '-', at most 63)"
        );
    }
    Ok(value)
}

/// The pod template's container.
fn container(a: &ManifestArgs) -> Value {
    let addr = format!("0.0.0.0:{}", a.port);
    let cert = format!("{TLS_DIR}/tls.crt");
    let key = format!("{TLS_DIR}/tls.key");
    let mut c = json!({
        "name": "central",
        "image": a.common.image,
        "imagePullPolicy": "Always",
        "args": ["central", "serve", "--data", DATA_DIR, "--addr", addr, "--tls-cert", cert, "--tls-key", key],
        "ports": [{"name": "https", "containerPort": a.port}],
        "readinessProbe": install::https_probe("/healthz", 5),
        "livenessProbe": install::https_probe("/healthz", 10),
        "securityContext": install::container_security_context(),
        "resources": install::resources(("250m", "512Mi"), ("2", "2Gi")),
        "volumeMounts": [
            {"name": "tls", "mountPath": TLS_DIR, "readOnly": true},
            {"name": "data", "mountPath": DATA_DIR}
        ]
    });
    if let Some(secret) = &a.database_secret {
        c["env"] = json!([{
            "name": "PALISADE_DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": secret, "key": "database-url"}}
        }]);
    }
    c
}

fn deployment(a: &ManifestArgs, labels: &Value, replicas: u32) -> Value {
    let mut metadata = install::metadata(NAME, Some(&a.namespace), labels);
    let data = match &a.database_secret {
        Some(_) => {
            install::except(&mut metadata, "PAL-022", DATABASE_ENV_REASON);
            json!({"name": "data", "emptyDir": {"sizeLimit": "64Mi"}})
        }
        None => {
            install::except(&mut metadata, "PAL-076,PAL-107", SINGLE_REPLICA_REASON);
            json!({"name": "data", "persistentVolumeClaim": {"claimName": format!("{NAME}-data")}})
        }
    };
    let strategy = if a.database_secret.is_some() {
        "RollingUpdate"
    } else {
        "Recreate"
    };
    let mut d = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": replicas,
            "strategy": {"type": strategy},
            "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": NAME,
                    "automountServiceAccountToken": false,
                    "hostUsers": false,
                    "securityContext": install::pod_security_context(),
                    "containers": [container(a)],
                    "volumes": [
                        {"name": "tls", "secret": {"secretName": a.tls_secret, "defaultMode": 0o440}},
                        data
                    ]
                }
            }
        }
    });
    if replicas > 1 {
        d["spec"]["template"]["spec"]["topologySpreadConstraints"] = install::topology_spread(NAME);
    }
    d
}

/// Central's NetworkPolicy: its port in from anywhere; out nothing (SQLite) or DNS and
/// PostgreSQL's port.
fn network_policy(a: &ManifestArgs, labels: &Value) -> Value {
    let mut metadata = install::metadata(NAME, Some(&a.namespace), labels);
    let (egress, reason) = match a.database_secret {
        Some(_) => (
            json!([install::dns_egress(), {"ports": [{"protocol": "TCP", "port": POSTGRES_PORT}]}]),
            INGRESS_POSTGRES_REASON,
        ),
        None => (json!([]), INGRESS_REASON),
    };
    install::except(&mut metadata, "PAL-069", reason);
    let ingress = json!([{"ports": [{"protocol": "TCP", "port": a.port}]}]);
    install::network_policy(metadata, NAME, ingress, egress)
}

/// Every object, in apply order.
pub fn objects(a: &ManifestArgs) -> anyhow::Result<Vec<Value>> {
    let ns = dns_label("namespace", &a.namespace)?;
    if let Some(secret) = &a.database_secret {
        dns_label("database-secret", secret)?;
    }
    dns_label("tls-secret", &a.tls_secret)?;
    if a.common.image.trim().is_empty() {
        bail!("--image must not be empty");
    }
    if a.common.owner.trim().is_empty() {
        bail!("--owner must not be empty");
    }
    let replicas = a.replicas()?;
    let labels = install::labels(NAME, Some(&a.common.owner));
    let mut out = vec![
        install::namespace(ns, &a.common.owner),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": install::metadata(NAME, Some(ns), &labels), "automountServiceAccountToken": false}),
    ];
    if a.database_secret.is_none() {
        out.push(json!({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": install::metadata(&format!("{NAME}-data"), Some(ns), &labels),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": a.storage}}}
        }));
    }
    out.push(deployment(a, &labels, replicas));
    if replicas > 1 {
        out.push(install::disruption_budget(NAME, ns, &labels));
    }
    out.push(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": install::metadata(NAME, Some(ns), &labels),
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": NAME},
            "ports": [{"name": "https", "port": a.port, "targetPort": "https"}]
        }
    }));
    out.push(install::default_deny(ns, &labels));
    out.push(network_policy(a, &labels));
    Ok(out)
}

/// The manifests as one YAML stream.
pub fn render(a: &ManifestArgs) -> anyhow::Result<String> {
    let objects = objects(a)?;
    let store = match &a.database_secret {
        Some(secret) => format!(
            "PostgreSQL: the Secret {secret:?} holds the URL in key `database-url` (sslmode=verify-full)."
        ),
        None => format!("SQLite on the volume {NAME}-data (one replica)."),
    };
    let header = format!(
        "palisade central in namespace {ns:?}. {store}\nCreate the Secret {tls:?} (kubectl -n {ns} create secret tls {tls} --cert tls.crt --key tls.key)\nfor the name clients use ({NAME}.{ns}.svc). The first start prints the admin token once\n(kubectl -n {ns} logs deploy/{NAME}); it is never in the environment.",
        ns = a.namespace,
        tls = a.tls_secret,
    );
    install::stream(&header, &objects)
}

/// Prints the manifests.
pub fn print(a: &ManifestArgs) -> anyhow::Result<ExitCode> {
    print!("{}", render(a)?);
    Ok(ExitCode::SUCCESS)
}
