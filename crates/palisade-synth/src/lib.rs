//! Synthetic cluster snapshots for benchmarks: deterministic manifests with a given number of
//! workloads, spread over namespaces, each with a Service, a ServiceAccount, NetworkPolicies
//! and RBAC, and a realistic mix of hardened and insecure settings.

use std::fmt::Write;

/// Shape of a snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Number of workloads.
    pub workloads: usize,
    /// Workloads per namespace.
    pub per_namespace: usize,
    /// Seed of the deterministic generator.
    pub seed: u64,
}

/// A tiny deterministic generator (64-bit LCG); benchmarks need repeatability, not quality.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const KINDS: [&str; 4] = ["Deployment", "StatefulSet", "DaemonSet", "Job"];

/// Generates the snapshot as `(file name, YAML text)` pairs, one file per namespace.
pub fn generate(shape: Shape) -> Vec<(String, String)> {
    let mut rng = Lcg(shape.seed);
    let per_ns = shape.per_namespace.max(1);
    let namespaces = shape.workloads.div_ceil(per_ns);
    let mut files = Vec::with_capacity(namespaces);
    let mut w = 0usize;
    for n in 0..namespaces {
        let ns = format!("team-{n:04}");
        let mut y = String::new();
        let _ = write!(
            y,
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    team: t{}\n    env: {}\n",
            n % 37,
            if n % 3 == 0 { "prod" } else { "dev" }
        );
        let _ = write!(
            y,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny\n  namespace: {ns}\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress, Egress]\n"
        );
        let _ = write!(
            y,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: app-reader\n  namespace: {ns}\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps, secrets]\n  verbs: [get, list]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: app-reader\n  namespace: {ns}\nsubjects:\n- kind: Group\n  name: team-{n}\n  apiGroup: rbac.authorization.k8s.io\nroleRef:\n  kind: Role\n  name: app-reader\n  apiGroup: rbac.authorization.k8s.io\n"
        );
        for i in 0..per_ns {
            if w >= shape.workloads {
                break;
            }
            w += 1;
            workload(&mut y, &mut rng, &ns, i);
        }
        files.push((format!("{ns}.yaml"), y));
    }
    files
}

fn workload(y: &mut String, rng: &mut Lcg, ns: &str, i: usize) {
    let name = format!("app-{i:03}");
    let kind = KINDS[(rng.next() % 4) as usize];
    let hardened = rng.chance(40);
    let api = if kind == "Job" { "batch/v1" } else { "apps/v1" };
    let _ = write!(
        y,
        "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {ns}\nautomountServiceAccountToken: false\n"
    );
    let _ = write!(
        y,
        "---\napiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {name}\n    app.kubernetes.io/part-of: {ns}\nspec:\n"
    );
    if kind != "Job" {
        let _ = write!(y, "  selector:\n    matchLabels:\n      app: {name}\n");
    }
    if kind == "Deployment" || kind == "StatefulSet" {
        let _ = writeln!(y, "  replicas: {}", 1 + rng.next() % 3);
    }
    if kind == "StatefulSet" {
        let _ = writeln!(y, "  serviceName: {name}");
    }
    let _ = write!(
        y,
        "  template:\n    metadata:\n      labels:\n        app: {name}\n        tier: {}\n    spec:\n      serviceAccountName: {name}\n",
        ["web", "api", "db", "worker"][(rng.next() % 4) as usize]
    );
    if kind == "Job" {
        y.push_str("      restartPolicy: Never\n");
    }
    if hardened {
        y.push_str("      securityContext:\n        runAsNonRoot: true\n        runAsUser: 10001\n        seccompProfile:\n          type: RuntimeDefault\n");
    } else if rng.chance(10) {
        y.push_str("      hostNetwork: true\n");
    }
    y.push_str("      containers:\n");
    for c in 0..2 {
        let image = if rng.chance(20) {
            format!("registry.example.com/{ns}/{name}-{c}:latest")
        } else {
            format!(
                "registry.example.com/{ns}/{name}-{c}:1.{}.{}",
                rng.next() % 20,
                rng.next() % 9
            )
        };
        let _ = write!(
            y,
            "      - name: c{c}\n        image: {image}\n        ports:\n        - name: http\n          containerPort: {}\n        env:\n        - name: MODE\n          value: production\n        - name: DB_PASSWORD\n          valueFrom:\n            secretKeyRef:\n              name: {name}-db\n              key: password\n",
            8080 + c
        );
        if hardened {
            y.push_str("        securityContext:\n          allowPrivilegeEscalation: false\n          readOnlyRootFilesystem: true\n          capabilities:\n            drop: [ALL]\n        resources:\n          requests: {cpu: 100m, memory: 128Mi}\n          limits: {cpu: 500m, memory: 256Mi}\n        readinessProbe:\n          httpGet: {path: /ready, port: http}\n        livenessProbe:\n          httpGet: {path: /live, port: http}\n");
        } else if rng.chance(5) {
            y.push_str("        securityContext:\n          privileged: true\n");
        }
    }
    if rng.chance(5) {
        y.push_str(
            "      volumes:\n      - name: host\n        hostPath:\n          path: /var/log\n",
        );
    }
    let _ = write!(
        y,
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  type: {}\n  selector:\n    app: {name}\n  ports:\n  - port: 80\n    targetPort: http\n",
        if rng.chance(5) {
            "NodePort"
        } else {
            "ClusterIP"
        }
    );
    if i.is_multiple_of(5) {
        let _ = write!(
            y,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-{name}\n  namespace: {ns}\nspec:\n  podSelector:\n    matchLabels:\n      app: {name}\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels:\n          team: t{}\n    ports:\n    - port: http\n",
            rng.next() % 37
        );
    }
}
