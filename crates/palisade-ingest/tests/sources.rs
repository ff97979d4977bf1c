//! What a real application repository holds besides manifests (issue 19 §1): typed lists,
//! other tools' YAML, Helm charts, Kustomize overlays, ignore files and `--exclude`, symlinks.
//! Kustomize is rendered by the real `kubectl kustomize` (installed by
//! scripts/setup/60-kubectl.sh).

use std::fs;
use std::path::Path;

use palisade_ingest::{
    DiagnosticLevel, Ingested, Input, Limits, WalkOptions, ingest_str, ingest_walking,
};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn walk(root: &Path, options: &WalkOptions) -> Ingested {
    ingest_walking(
        &[Input::Path(root.to_path_buf())],
        &Limits::default(),
        options,
    )
}

fn names(r: &Ingested) -> Vec<String> {
    let mut v: Vec<String> = r
        .inventory
        .workloads
        .iter()
        .map(|w| format!("{}/{}", w.kind, w.name()))
        .collect();
    v.sort();
    v
}

fn messages(r: &Ingested, level: DiagnosticLevel) -> Vec<String> {
    r.diagnostics
        .iter()
        .filter(|d| d.level == level)
        .map(|d| d.to_string())
        .collect()
}

fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop}}\nspec: {{containers: [{{name: c, image: nginx}}]}}\n"
    )
}

/// `kubectl get pods -o yaml` and `kubectl get --raw /api/v1/pods` list items without their
/// kind: the list's kind says what they are.
#[test]
fn items_of_typed_lists_take_their_kind_from_the_list() {
    let raw = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},
      "items":[{"metadata":{"name":"a","namespace":"x"},"spec":{"containers":[{"name":"c","image":"i"}]}},
               {"metadata":{"name":"b","namespace":"x"},"spec":{"containers":[{"name":"c","image":"i"}]}}]}"#;
    let r = ingest_str("pods.json", raw);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(names(&r), ["Pod/a", "Pod/b"]);

    let deployments = "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata: {name: web, namespace: x}\n  spec:\n    template:\n      spec: {containers: [{name: c, image: i}]}\n";
    let r = ingest_str("d.yaml", deployments);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(names(&r), ["Deployment/web"]);
    assert_eq!(r.inventory.workloads[0].source.line, 4);

    let namespaces =
        "apiVersion: v1\nkind: NamespaceList\nitems:\n- metadata: {name: a, labels: {team: x}}\n";
    let r = ingest_str("ns.yaml", namespaces);
    assert_eq!(r.inventory.namespaces.len(), 1, "{:?}", r.diagnostics);

    // An item's own kind wins; a plain `List` says nothing about its items.
    let mixed = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n- metadata: {name: b}\n";
    let r = ingest_str("l.yaml", mixed);
    assert_eq!(r.inventory.namespaces.len(), 1);
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
    assert_eq!(r.diagnostics[0].level, DiagnosticLevel::Info);
    assert_eq!(r.diagnostics[0].line(), 7);
}

/// The repository layout of the issue: manifests beside a Helm chart, a Kustomize base with two
/// overlays, skaffold, Cloud Build and compose files. Nothing of it is an input error; the
/// chart is reported once (no helm here); the base is rendered only as part of its overlays.
#[test]
fn an_application_repository_scans_without_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "k8s/web.yaml", &pod("plain"));
    write(
        root,
        "skaffold.yaml",
        "apiVersion: skaffold/v4beta6\nkind: Config\nbuild: {artifacts: [{image: web}]}\n",
    );
    write(
        root,
        "cloudbuild.yaml",
        "steps:\n- name: gcr.io/cloud-builders/docker\n  args: [build, .]\n",
    );
    write(
        root,
        "docker-compose.yml",
        "services:\n  web: {image: web}\n",
    );
    write(root, "values-prod.yaml", "replicas: 3\n");
    write(
        root,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    );
    write(root, "chart/values.yaml", "image: nginx\n");
    write(
        root,
        "chart/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\n  labels: {{ toYaml .Values.labels | nindent 4 }}\n{{- end }}\n",
    );
    write(
        root,
        "deploy/base/kustomization.yaml",
        "resources:\n- pod.yaml\n",
    );
    write(root, "deploy/base/pod.yaml", &pod("api"));
    for env in ["prod", "staging"] {
        write(
            root,
            &format!("deploy/overlays/{env}/kustomization.yaml"),
            &format!(
                "resources:\n- ../../base\nnamePrefix: {env}-\npatches:\n- path: patch.yaml\n"
            ),
        );
        // A strategic-merge patch is a partial object: read alone, it would be an error.
        write(
            root,
            &format!("deploy/overlays/{env}/patch.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop}\nspec:\n  containers:\n  - name: c\n    securityContext: {privileged: true}\n",
        );
    }
    assert!(
        which("kubectl"),
        "kubectl is not installed: run scripts/setup/60-kubectl.sh"
    );
    assert!(!which("helm"), "this test expects no helm on PATH");

    let r = walk(root, &WalkOptions::default());
    let errors = messages(&r, DiagnosticLevel::Error);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(names(&r), ["Pod/plain", "Pod/prod-api", "Pod/staging-api"]);
    let prod = r
        .inventory
        .workloads
        .iter()
        .find(|w| w.name() == "prod-api")
        .unwrap();
    assert_eq!(
        &*prod.source.file,
        format!(
            "{} (kubectl kustomize)",
            root.join("deploy/overlays/prod").display()
        )
    );
    assert!(
        prod.spec.pod.containers[0].security_context.is_some(),
        "the overlay's patch applies"
    );

    let warnings = messages(&r, DiagnosticLevel::Warning);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("Helm chart at") && warnings[0].contains("helm template"),
        "{}",
        warnings[0]
    );
    let notes = messages(&r, DiagnosticLevel::Info);
    for file in [
        "skaffold.yaml",
        "cloudbuild.yaml",
        "docker-compose.yml",
        "values-prod.yaml",
    ] {
        assert!(
            notes.iter().any(|n| n.contains(file)),
            "{file} is noted as skipped: {notes:#?}"
        );
    }
    assert_eq!(notes.len(), 4, "{notes:#?}");
}

/// A failing render is an error naming the directory and the tool's own message.
#[test]
fn a_kustomization_that_does_not_build_is_an_error_with_kubectls_reason() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app/kustomization.yaml",
        "resources:\n- missing.yaml\n",
    );
    let r = walk(dir.path(), &WalkOptions::default());
    let errors = messages(&r, DiagnosticLevel::Error);
    assert_eq!(errors.len(), 1, "{:?}", r.diagnostics);
    assert!(
        errors[0].contains("kubectl kustomize failed"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("missing.yaml"), "{}", errors[0]);
}

/// `.gitignore` (no git repository needed), `.palisadeignore` and `--exclude` leave paths out;
/// a file named on the command line is read whatever they say.
#[test]
fn ignore_files_and_excludes_leave_paths_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", "build/\n");
    write(root, "build/out.yaml", &pod("built"));
    write(root, "apps/.palisadeignore", "fixtures/\n");
    write(
        root,
        "apps/fixtures/bad.yaml",
        "apiVersion: v1\nkind: Pod\nspec: [not, a, map]\n",
    );
    write(root, "apps/web.yaml", &pod("web"));
    write(root, "apps/web.generated.yaml", &pod("generated"));
    write(root, "vendor/lib/x.yaml", &pod("vendored"));

    let r = walk(root, &WalkOptions::default());
    assert_eq!(names(&r), ["Pod/generated", "Pod/vendored", "Pod/web"]);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);

    let options = WalkOptions {
        exclude: vec!["vendor/".into(), "*.generated.yaml".into()],
        ..WalkOptions::default()
    };
    let r = walk(root, &options);
    assert_eq!(names(&r), ["Pod/web"]);

    let named = ingest_walking(
        &[Input::Path(root.join("build/out.yaml"))],
        &Limits::default(),
        &options,
    );
    assert_eq!(names(&named), ["Pod/built"]);
}

/// A symlinked file is read when its target is inside the scanned directory, and reported, not
/// read, when it points out of it.
#[cfg(unix)]
#[test]
fn symlinks_are_not_followed_out_of_the_tree() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.yaml", &pod("outside"));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "real.yaml", &pod("inside"));
    std::os::unix::fs::symlink(root.join("real.yaml"), root.join("alias.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.yaml"), root.join("escape.yaml"))
        .unwrap();
    let r = walk(root, &WalkOptions::default());
    assert_eq!(names(&r), ["Pod/inside", "Pod/inside"]);
    let warnings = messages(&r, DiagnosticLevel::Warning);
    assert_eq!(warnings.len(), 1, "{:?}", r.diagnostics);
    assert!(
        warnings[0].contains("escape.yaml")
            && warnings[0].contains("outside the scanned directory"),
        "{}",
        warnings[0]
    );
}

/// `helm template` output piped in: each document's `# Source:` comment names the template its
/// findings point to.
#[test]
fn piped_helm_output_names_the_templates() {
    let rendered = "---\n# Source: shop/templates/serviceaccount.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: shop\n---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx\n";
    let r = ingest_str("-", rendered);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let deploy = &r.inventory.workloads[0];
    assert_eq!(&*deploy.source.file, "shop/templates/deployment.yaml");
    assert_eq!(deploy.source.to_string(), "shop/templates/deployment.yaml");
    assert_eq!(
        &*r.inventory.service_accounts[0].source.file,
        "shop/templates/serviceaccount.yaml"
    );
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Pod-template kinds beyond the built-in ones are workloads (issue 20 §1): OpenShift
/// DeploymentConfig, Argo Rollout, Knative Service, and any custom resource whose
/// `spec.template` is a pod template (with a note). Built-in kind names in other API groups keep
/// their own meaning: a Calico NetworkPolicy is not a Kubernetes NetworkPolicy.
#[test]
fn pod_template_kinds_are_workloads_and_api_groups_are_respected() {
    let template = "  template:\n    metadata: {labels: {app: x}}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n        securityContext: {privileged: true}\n";
    let text = format!(
        "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {{name: dc, namespace: a}}\nspec:\n  replicas: 2\n  selector: {{app: x}}\n{template}---\n\
         apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {{name: ro, namespace: a}}\nspec:\n  selector: {{matchLabels: {{app: x}}}}\n{template}---\n\
         apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {{name: kn, namespace: a}}\nspec:\n{template}---\n\
         apiVersion: example.com/v1\nkind: Worker\nmetadata: {{name: wk, namespace: a}}\nspec:\n{template}---\n\
         apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: calico, namespace: a}}\nspec: {{selector: all(), types: [Ingress]}}\n---\n\
         apiVersion: example.com/v1\nkind: Deployment\nmetadata: {{name: not-apps, namespace: a}}\nspec: {{size: 3}}\n"
    );
    let r = ingest_str("crds.yaml", &text);
    let kinds: Vec<(String, String)> = r
        .inventory
        .workloads
        .iter()
        .map(|w| (w.kind.clone(), w.spec.kind.to_string()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("DeploymentConfig".into(), "DeploymentConfig".into()),
            ("Rollout".into(), "Rollout".into()),
            ("Service".into(), "Service (Knative)".into()),
            ("Worker".into(), "pod-template resource".into()),
        ]
    );
    let dc = &r.inventory.workloads[0];
    assert_eq!(dc.spec.replicas, Some(2));
    assert!(dc.spec.selector.is_some());
    assert!(dc.spec.pod.containers[0].security_context.is_some());
    assert!(
        r.inventory.services.is_empty(),
        "a Knative Service is no core Service"
    );
    assert!(
        r.inventory.network_policies.is_empty(),
        "Calico's semantics differ"
    );
    let others: Vec<&str> = r.inventory.others.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(others, ["NetworkPolicy", "Deployment"]);
    let notes = messages(&r, DiagnosticLevel::Info);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("Worker (example.com/v1)") && notes[0].contains("analysed as a workload"),
        "{}",
        notes[0]
    );
    assert!(messages(&r, DiagnosticLevel::Error).is_empty());
}
