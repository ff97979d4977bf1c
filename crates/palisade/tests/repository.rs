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
/// the templates through the `# Source:` comments of its output. No helm package is reachable
/// from this machine, so `helm` here is a stand-in script that checks the arguments Palisade
/// passes and prints what `helm template` prints for such a chart.
#[cfg(unix)]
#[test]
fn charts_render_with_helm_and_findings_name_templates() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    repository(dir.path());
    write(dir.path(), "prod-values.yaml", "replicas: 3\n");
    let bin = tempfile::tempdir().unwrap();
    let helm = bin.path().join("helm");
    fs::write(
        &helm,
        "#!/bin/sh\n\
         [ \"$1 $2 $3 $4 $5\" = 'template chart ./chart --values prod-values.yaml' ] || { echo \"unexpected arguments: $*\" >&2; exit 1; }\n\
         printf '%s\\n' '---' '# Source: shop/templates/deploy.yaml' 'apiVersion: apps/v1' 'kind: Deployment' 'metadata:' '  name: chart' '  namespace: shop' 'spec:' '  template:' '    spec:' '      hostNetwork: true' '      containers:' '      - name: c' '        image: nginx:1.27'\n",
    )
    .unwrap();
    fs::set_permissions(&helm, fs::Permissions::from_mode(0o755)).unwrap();
    let out = palisade(&[
        "scan",
        ".",
        "--helm-values",
        "prod-values.yaml",
        "--format",
        "json",
    ])
    .current_dir(dir.path())
    .env("PATH", path_without_helm(Some(bin.path())))
    .output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["level"] == "info"),
        "{report:#}\n{stderr}"
    );
    let host_network: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["object"]["name"] == "chart")
        .collect();
    assert!(!host_network.is_empty(), "{report:#}");
    assert!(
        host_network
            .iter()
            .all(|f| f["file"] == "shop/templates/deploy.yaml"),
        "{host_network:#?}"
    );

    // Without the values file the stand-in refuses: its message is the error, exit 3.
    let out = palisade(&["scan", "."])
        .current_dir(dir.path())
        .env("PATH", path_without_helm(Some(bin.path())))
        .output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains(
            "./chart: error: helm template failed: unexpected arguments: template chart ./chart"
        ),
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
