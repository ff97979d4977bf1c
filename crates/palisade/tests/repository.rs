//! `palisade scan .` at the root of an application repository, as a new user runs it
//! (issue 19 §1): other tools' YAML is skipped with a note, Kustomize overlays are rendered by
//! the real `kubectl kustomize`, Helm charts are rendered when `helm` is installed and reported
//! once when not, `--exclude` and ignore files leave paths out.

use std::fs;
use std::path::Path;

mod support;

use support::cli::palisade;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n    securityContext: {privileged: true}\n";

/// A repository with manifests, a chart, an overlay and other tools' files.
fn repository(root: &Path) {
    write(root, "k8s/pod.yaml", PRIVILEGED_POD);
    write(
        root,
        "skaffold.yaml",
        "apiVersion: skaffold/v4beta6\nkind: Config\n",
    );
    write(
        root,
        "cloudbuild.yaml",
        "steps:\n- name: gcr.io/cloud-builders/docker\n",
    );
    write(root, ".github/workflows/ci.yml", "on: push\n");
    write(
        root,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    );
    write(root, "chart/values.yaml", "replicas: 1\n");
    write(
        root,
        "chart/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
    );
    write(
        root,
        "deploy/base/kustomization.yaml",
        "resources:\n- pod.yaml\n",
    );
    write(root, "deploy/base/pod.yaml", PRIVILEGED_POD);
    write(
        root,
        "deploy/prod/kustomization.yaml",
        "resources:\n- ../base\nnamePrefix: prod-\n",
    );
}

/// A PATH with the system's tools but no `helm`, and optionally a directory put first.
fn path_without_helm(first: Option<&Path>) -> String {
    let mut dirs: Vec<String> = first.map(|d| d.display().to_string()).into_iter().collect();
    dirs.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(String::from));
    dirs.join(":")
}

#[test]
fn scanning_a_repository_root_is_not_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    repository(dir.path());
    let out = palisade(&["scan", "."])
        .current_dir(dir.path())
        .env("PATH", path_without_helm(None))
        .output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Findings of the pod and of the overlay, no input error: exit 0, not 3.
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("k8s/pod.yaml:1"), "{stdout}");
    assert!(
        stdout.contains("deploy/prod (kubectl kustomize)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("deploy/base"),
        "the base is scanned as its overlay: {stdout}"
    );
    assert!(
        stdout.contains("Helm chart at ./chart not rendered: install helm"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 input(s) skipped as not Kubernetes manifests"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("skaffold"),
        "notes are counted, not listed: {stdout}"
    );

    // -v lists them; JSON always carries them.
    let out = palisade(&["scan", ".", "-v"])
        .current_dir(dir.path())
        .env("PATH", path_without_helm(None))
        .output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "./skaffold.yaml: info: skaffold configuration, not a Kubernetes manifest; skipped"
        ),
        "{stdout}"
    );
    let out = palisade(&["scan", ".", "--format", "json"])
        .current_dir(dir.path())
        .env("PATH", path_without_helm(None))
        .output();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let levels: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["info", "info", "warning"], "{report:#}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 input(s) skipped as not Kubernetes manifests (-v lists them)"),
        "{stderr}"
    );
}

#[test]
fn exclude_leaves_paths_out() {
    let dir = tempfile::tempdir().unwrap();
    repository(dir.path());
    let out = palisade(&[
        "scan",
        ".",
        "--exclude",
        "chart/",
        "--exclude",
        "deploy/**",
        "--format",
        "json",
    ])
    .current_dir(dir.path())
    .env("PATH", path_without_helm(None))
    .output();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(
        !files.is_empty() && files.iter().all(|f| *f == "./k8s/pod.yaml"),
        "{files:?}"
    );
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert!(
        diagnostics.iter().all(|d| d["level"] == "info"),
        "no chart warning once it is excluded: {diagnostics:?}"
    );
}

/// With `helm` on PATH the chart is rendered with the values files given, and findings name
/// the templates through the `# Source:` comments of its output. `helm` is Helm v4's own
/// engine (helm-python-sdk) behind a small `helm template` command (`65-helm.sh`): the values
/// file decides what the templates produce, and a template error is Helm's message.
#[test]
fn charts_render_with_helm_and_findings_name_templates() {
    let dir = tempfile::tempdir().unwrap();
    repository(dir.path());
    write(
        dir.path(),
        "chart/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\n  namespace: shop\nspec:\n  replicas: {{ .Values.replicas }}\n  template:\n    spec:\n      {{- if .Values.hostNetwork }}\n      hostNetwork: true\n      {{- end }}\n      containers:\n      {{- range .Values.containers }}\n      - name: {{ . }}\n        image: nginx:1.27\n      {{- end }}\n",
    );
    write(
        dir.path(),
        "chart/values.yaml",
        "replicas: 1\nhostNetwork: false\ncontainers: [web]\n",
    );
    write(
        dir.path(),
        "prod-values.yaml",
        "replicas: 3\nhostNetwork: true\ncontainers: [web, sidecar]\n",
    );
    let path = path_without_helm(Some(&palisade_testkit::cache::helm_bin_dir()));
    let scan = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["scan", ".", "--format", "json"];
        args.extend_from_slice(extra);
        let out = palisade(&args)
            .current_dir(dir.path())
            .env("PATH", &path)
            .output();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
        assert!(
            report["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["level"] == "info"),
            "{report:#}\n{stderr}"
        );
        report
    };
    let rendered = |report: &serde_json::Value, check: &str| -> Vec<serde_json::Value> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["object"]["name"] == "chart-web" && f["check_id"] == check)
            .cloned()
            .collect()
    };

    // The chart's own values: no host network, one container.
    let defaults = scan(&[]);
    let all: Vec<&serde_json::Value> = defaults["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["object"]["name"] == "chart-web")
        .collect();
    assert!(
        !all.is_empty(),
        "the rendered Deployment is scanned: {defaults:#}"
    );
    assert!(
        all.iter()
            .all(|f| f["file"] == "shop/templates/deploy.yaml"),
        "findings name the template: {all:#?}"
    );
    assert!(
        all.iter()
            .all(|f| f["container"].is_null() || f["container"] == "web")
    );
    let host_network_check = "PAL-014";
    assert!(
        rendered(&defaults, host_network_check).is_empty(),
        "{all:#?}"
    );

    // The production values: host network on, a second container.
    let prod = scan(&["--helm-values", "prod-values.yaml"]);
    let host_network = rendered(&prod, host_network_check);
    assert_eq!(host_network.len(), 1, "{prod:#}");
    assert_eq!(host_network[0]["file"], "shop/templates/deploy.yaml");
    assert!(
        prod["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["object"]["name"] == "chart-web" && f["container"] == "sidecar"),
        "the values' second container is rendered and checked: {prod:#}"
    );

    // A template error is Helm's message, on the chart: exit 3.
    write(
        dir.path(),
        "chart/templates/broken.yaml",
        "{{ .Values.missing.field }}\n",
    );
    let out = palisade(&["scan", "."])
        .current_dir(dir.path())
        .env("PATH", &path)
        .output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("./chart: error: helm template failed")
            && stdout.contains("shop/templates/broken.yaml")
            && stdout.contains("nil pointer evaluating"),
        "{stdout}"
    );
}

/// A privileged OpenShift DeploymentConfig is found like a Deployment, and kinds no built-in
/// check reads are named in the summary (issue 20 §1: no silent misses).
#[test]
fn openshift_workloads_are_checked_and_unknown_kinds_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app.yaml",
        "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {name: legacy, namespace: shop}\nspec:\n  selector: {app: legacy}\n  template:\n    metadata: {labels: {app: legacy}}\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.27\n        securityContext: {privileged: true}\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: web, namespace: shop}\nspec: {secretName: web-tls}\n",
    );
    let (code, out, err) = palisade(&["scan", "app.yaml", "--format", "json"])
        .current_dir(dir.path())
        .run();
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let privileged: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == "PAL-001")
        .collect();
    assert_eq!(privileged.len(), 1, "{report:#}");
    assert_eq!(privileged[0]["object"]["kind"], "DeploymentConfig");
    assert_eq!(report["summary"]["unanalysed_kinds"]["Certificate"], 1);
    let (_, table, _) = palisade(&["scan", "app.yaml"])
        .current_dir(dir.path())
        .run();
    assert!(
        table.contains("Kinds no built-in check analyses (custom and API-version checks still read them): Certificate 1"),
        "{table}"
    );
}
