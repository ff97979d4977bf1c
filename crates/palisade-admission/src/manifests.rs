//! Install manifests for the webhook, as YAML text: Namespace, ServiceAccount, optional TLS
//! Secret and ConfigMap, Deployment, Service and ValidatingWebhookConfiguration.
//!
//! Pure text generation. Every user-supplied string is written as a JSON-quoted scalar (valid
//! YAML), so names, images and configuration text cannot break the document structure.

use base64::Engine as _;

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
    let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let name = q(&o.name);
    let ns = q(&o.namespace);
    let tls_secret = q(&format!("{}-tls", o.name));
    let config_map = q(&format!("{}-config", o.name));
    let labels = format!(
        "app.kubernetes.io/name: {name}\n    app.kubernetes.io/component: admission-webhook\n    app.kubernetes.io/part-of: palisade"
    );
    let mut docs = Vec::new();

    docs.push(format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    app.kubernetes.io/part-of: palisade\n"
    ));
    docs.push(format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    {labels}\nautomountServiceAccountToken: false\n"
    ));
    if let Some((cert, key)) = &o.tls {
        docs.push(format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {tls_secret}\n  namespace: {ns}\n  labels:\n    {labels}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
            b64(cert),
            b64(key)
        ));
    }
    let mut args = format!(
        "        - admission\n        - serve\n        - --addr\n        - {}\n        - --tls-cert\n        - /etc/palisade/tls/tls.crt\n        - --tls-key\n        - /etc/palisade/tls/tls.key\n",
        q(&format!("0.0.0.0:{}", o.port))
    );
    let mut mounts =
        "        - name: tls\n          mountPath: /etc/palisade/tls\n          readOnly: true\n"
            .to_string();
    let mut volumes =
        format!("      - name: tls\n        secret:\n          secretName: {tls_secret}\n");
    if let Some(config) = &o.config {
        docs.push(format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {config_map}\n  namespace: {ns}\n  labels:\n    {labels}\ndata:\n  palisade.yaml: {}\n",
            q(config)
        ));
        args.push_str("        - --config\n        - /etc/palisade/config/palisade.yaml\n");
        mounts.push_str(
            "        - name: config\n          mountPath: /etc/palisade/config\n          readOnly: true\n",
        );
        volumes.push_str(&format!(
            "      - name: config\n        configMap:\n          name: {config_map}\n"
        ));
    }
    let pod_labels = labels.replace("\n    ", "\n        ");
    docs.push(format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels:
    {labels}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        {pod_labels}
    spec:
      serviceAccountName: {name}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: webhook
        image: {image}
        imagePullPolicy: Always
        args:
{args}        ports:
        - name: https
          containerPort: {port}
        readinessProbe:
          httpGet:
            path: /readyz
            port: https
            scheme: HTTPS
          periodSeconds: 5
        livenessProbe:
          httpGet:
            path: /healthz
            port: https
            scheme: HTTPS
          periodSeconds: 10
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
          limits:
            cpu: "1"
            memory: 256Mi
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop:
            - ALL
        volumeMounts:
{mounts}      volumes:
{volumes}"#,
        replicas = o.replicas,
        image = q(&o.image),
        port = o.port,
    ));
    docs.push(format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    {labels}\nspec:\n  type: ClusterIP\n  selector:\n    app.kubernetes.io/name: {name}\n  ports:\n  - name: https\n    port: 443\n    targetPort: https\n"
    ));

    let mut excluded = vec![q(&o.namespace)];
    excluded.extend(o.exclude_namespaces.iter().map(|n| q(n)));
    let mut rules = String::new();
    for (group, resources) in RULES {
        rules.push_str(&format!(
            "  - apiGroups: [{}]\n    apiVersions: [\"*\"]\n    operations: [CREATE, UPDATE]\n    resources: [{}]\n    scope: \"*\"\n",
            q(group),
            resources.iter().map(|r| q(r)).collect::<Vec<_>>().join(", ")
        ));
    }
    let ca = match &o.ca_bundle_pem {
        Some(pem) => format!("    caBundle: {}\n", b64(pem)),
        None => "    # caBundle: base64 of the PEM CA that signed the serving certificate\n".into(),
    };
    docs.push(format!(
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {name}
  labels:
    {labels}
webhooks:
- name: validate.palisade.dev
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: {failure}
  timeoutSeconds: {timeout}
  matchPolicy: Equivalent
  clientConfig:
    service:
      name: {name}
      namespace: {ns}
      path: /validate
      port: 443
{ca}  namespaceSelector:
    matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: [{excluded}]
  rules:
{rules}"#,
        failure = o.failure_policy.as_str(),
        timeout = o.timeout_seconds,
        excluded = excluded.join(", "),
    ));
    Ok(docs.join("---\n"))
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
