//! Ingestion from real files: formats, positions, and hostile input.

use std::fs;

use palisade_ingest::{
    DiagnosticLevel, Input, Limits, ingest, ingest_paths, ingest_str, ingest_value,
};

const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
";

#[test]
fn multi_document_streams_keep_start_lines() {
    let text = format!(
        "# leading comment\n---\n{DEPLOY}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop}}\nspec:\n  selector: {{app: web}}\n  ports: [{{port: 80}}]\n---\n# empty document\n"
    );
    let r = ingest_str("stream.yaml", &text);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(r.inventory.workloads.len(), 1);
    assert_eq!(r.inventory.services.len(), 1);
    // The Deployment's apiVersion is on line 3, the Service's on line 20.
    assert_eq!(r.inventory.workloads[0].source.line, 3);
    assert_eq!(r.inventory.services[0].source.line, 20);
    assert_eq!(&*r.inventory.services[0].source.file, "stream.yaml");
}

#[test]
fn lists_are_expanded_with_item_lines() {
    let text = "apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: a, namespace: x}
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: b, namespace: x}
";
    let r = ingest_str("list.yaml", text);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let lines: Vec<u32> = r
        .inventory
        .service_accounts
        .iter()
        .map(|s| s.source.line)
        .collect();
    assert_eq!(lines, vec![4, 7]);
}

#[test]
fn json_files_and_json_lists() {
    let text = r#"{"apiVersion":"v1","kind":"List","items":[
{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a","labels":{"team":"x"}}},
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"a"},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}
]}"#;
    let r = ingest_str("objs.json", text);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(r.inventory.workloads.len(), 1);
    let ns = r.inventory.namespace("a").unwrap();
    assert_eq!(ns.meta.labels["team"], "x");
    assert_eq!(ns.meta.labels["kubernetes.io/metadata.name"], "a");
    assert_eq!(r.inventory.workloads[0].source.line, 3);
}

#[test]
fn every_workload_kind_is_normalized_to_its_pod_template() {
    let container = "containers: [{name: c, image: busybox:1.36}]";
    let template =
        format!("template:\n    metadata: {{labels: {{app: x}}}}\n    spec: {{{container}}}");
    let mut text = String::new();
    for kind in ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"] {
        text.push_str(&format!("---\napiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {}}}\nspec:\n  selector: {{matchLabels: {{app: x}}}}\n  {template}\n", kind.to_lowercase()));
    }
    text.push_str(&format!(
        "---\napiVersion: batch/v1\nkind: Job\nmetadata: {{name: job}}\nspec:\n  {template}\n"
    ));
    text.push_str(&format!("---\napiVersion: v1\nkind: ReplicationController\nmetadata: {{name: rc}}\nspec:\n  selector: {{app: x}}\n  {template}\n"));
    text.push_str(&format!("---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: cron}}\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        metadata: {{labels: {{app: x}}}}\n        spec: {{{container}}}\n"));
    text.push_str(&format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: pod, labels: {{app: x}}}}\nspec: {{{container}}}\n"));
    let r = ingest_str("kinds.yaml", &text);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(r.inventory.workloads.len(), 8);
    for w in &r.inventory.workloads {
        assert_eq!(w.spec.pod.containers.len(), 1, "{}", w.kind);
        assert_eq!(
            w.pod_labels().get("app").map(String::as_str),
            Some("x"),
            "{}",
            w.kind
        );
        assert_eq!(w.namespace(), Some("default"));
    }
    let rc = r
        .inventory
        .workloads
        .iter()
        .find(|w| w.kind == "ReplicationController")
        .unwrap();
    assert!(
        rc.spec
            .selector
            .as_ref()
            .unwrap()
            .matches(rc.pod_labels())
            .unwrap()
    );
}

#[test]
fn unknown_kinds_and_crds_are_kept() {
    let text = "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c, namespace: web}\nspec: {secretName: tls}\n";
    let r = ingest_str("crd.yaml", text);
    assert!(r.diagnostics.is_empty());
    assert_eq!(r.inventory.others.len(), 1);
    assert_eq!(r.inventory.others[0].kind, "Certificate");
}

#[test]
fn a_broken_document_does_not_hide_the_others() {
    let text = format!(
        "{DEPLOY}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n    image: busybox\n    securityContext:\n      privileged: \"yes\"\n---\nkey: [unclosed\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: ok}}\n"
    );
    let r = ingest_str("mixed.yaml", &text);
    assert_eq!(r.inventory.workloads.len(), 1, "the Deployment survives");
    assert_eq!(
        r.inventory.service_accounts.len(),
        1,
        "the ServiceAccount after the errors survives"
    );
    assert_eq!(r.diagnostics.len(), 2, "{:?}", r.diagnostics);
    let type_error = &r.diagnostics[0];
    assert_eq!(type_error.level, DiagnosticLevel::Error);
    assert_eq!(
        type_error.line(),
        27,
        "points at the privileged field: {type_error}"
    );
    assert!(
        type_error
            .message
            .contains("spec.containers[0].securityContext.privileged"),
        "{type_error}"
    );
    assert!(
        !type_error.message.contains("yes"),
        "values are not echoed: {type_error}"
    );
    let syntax = &r.diagnostics[1];
    assert!(syntax.line() >= 29 && syntax.line() <= 30, "{syntax}");
    assert!(syntax.message.contains("invalid YAML"), "{syntax}");
    assert!(r.has_errors());
}

#[test]
fn documents_without_kind_or_not_mappings_are_reported() {
    let r = ingest_str(
        "x.yaml",
        "apiVersion: v1\nfoo: bar\n---\n- 1\n- 2\n---\njust a string\n---\nkind: Pod\n",
    );
    assert_eq!(r.diagnostics.len(), 4, "{:?}", r.diagnostics);
    assert!(r.diagnostics[0].message.contains("no kind"));
    assert!(r.diagnostics[1].message.contains("found a sequence"));
    assert!(r.diagnostics[2].message.contains("found a string"));
    assert!(r.diagnostics[3].message.contains("no apiVersion"));
    assert!(
        r.diagnostics
            .iter()
            .all(|d| d.level == DiagnosticLevel::Error)
    );
}

/// A mapping with neither apiVersion nor kind is some other tool's configuration (a CI
/// pipeline, a compose file): noted and skipped, not an input error.
#[test]
fn configuration_that_is_not_a_kubernetes_object_is_noted_not_an_error() {
    let r = ingest_str(
        "ci.yaml",
        "steps:\n- run: make\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
    );
    assert!(!r.has_errors(), "{:?}", r.diagnostics);
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(r.diagnostics[0].level, DiagnosticLevel::Info);
    assert_eq!(r.diagnostics[0].line(), 1);
    assert!(
        r.diagnostics[0].message.contains("not a Kubernetes object"),
        "{}",
        r.diagnostics[0]
    );
    assert_eq!(r.inventory.namespaces.len(), 1);
}

#[test]
fn secret_values_never_enter_the_inventory() {
    let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: x\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"password\":\"c3VwZXJzZWNyZXQ=\"}}'\ntype: Opaque\ndata:\n  password: c3VwZXJzZWNyZXQ=\nstringData:\n  token: plain-text-token-value\n";
    let r = ingest_str("secret.yaml", text);
    let s = &r.inventory.secrets[0];
    assert_eq!(
        s.spec.keys,
        vec!["password".to_string(), "token".to_string()]
    );
    let raw = s.raw.to_string();
    assert!(!raw.contains("c3VwZXJzZWNyZXQ="), "{raw}");
    assert!(!raw.contains("plain-text-token-value"), "{raw}");
    let dbg = format!("{:?}", r.inventory);
    assert!(!dbg.contains("c3VwZXJzZWNyZXQ="));
}

#[test]
fn alias_bombs_are_refused_per_document() {
    // "Billion laughs": each level references the previous one ten times.
    let mut bomb = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a0: &a0 \"lol\"\n",
    );
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
    }
    let text =
        format!("{bomb}---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: after}}\n");
    let r = ingest_str("bomb.yaml", &text);
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
    assert_eq!(r.inventory.config_maps.len(), 0);
    assert_eq!(r.inventory.service_accounts.len(), 1);
}

#[test]
fn deep_nesting_is_refused() {
    let depth = 10_000;
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep}}\ndata: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let r = ingest_str("deep.yaml", &text);
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
    let json = format!("{{\"a\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
    let r = ingest_str("deep.json", &json);
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
}

#[test]
fn binary_garbage_and_huge_files_are_refused_by_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("garbage.yaml"),
        [0x7f, b'E', b'L', b'F', 0, 1, 2, 3, 0xff],
    )
    .unwrap();
    fs::write(dir.path().join("latin1.yaml"), b"name: caf\xe9\n").unwrap();
    fs::write(dir.path().join("good.yaml"), DEPLOY).unwrap();
    let big = dir.path().join("big.yaml");
    fs::write(&big, vec![b'#'; 2048]).unwrap();
    let limits = Limits {
        max_file_bytes: 1024,
        ..Limits::default()
    };
    let r = ingest(&[Input::Path(dir.path().to_path_buf())], &limits);
    assert_eq!(r.inventory.workloads.len(), 1);
    let msgs: Vec<String> = r.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("big.yaml") && m.contains("larger than the limit"))
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("garbage.yaml") && m.contains("NUL"))
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("latin1.yaml:1") && m.contains("UTF-8"))
    );
}

#[test]
fn directories_are_walked_recursively_in_order_skipping_hidden_and_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("b/c");
    fs::create_dir_all(&sub).unwrap();
    fs::create_dir_all(dir.path().join(".git")).unwrap();
    fs::write(dir.path().join(".git/x.yaml"), DEPLOY).unwrap();
    fs::write(dir.path().join("README.md"), "# not a manifest").unwrap();
    fs::write(
        sub.join("one.yml"),
        DEPLOY.replace("name: web\n  namespace", "name: one\n  namespace"),
    )
    .unwrap();
    fs::write(dir.path().join("a.yaml"), DEPLOY).unwrap();
    fs::write(
        dir.path().join("b/z.JSON"),
        r#"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"s"}}"#,
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), dir.path().join("b/loop")).unwrap();
    let r = ingest_paths(&[dir.path()], &Limits::default());
    // The link back to the root is not followed, and says so.
    #[cfg(unix)]
    {
        assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
        let d = &r.diagnostics[0];
        assert_eq!(d.level, DiagnosticLevel::Info);
        assert!(d.to_string().contains("b/loop"), "{d}");
        assert!(
            d.message.contains("symlink to a directory; not followed"),
            "{d}"
        );
    }
    assert_eq!(r.files, 3);
    let names: Vec<String> = r.inventory.workloads.iter().map(|w| w.name()).collect();
    assert_eq!(names, vec!["web", "one"]);
    assert_eq!(r.inventory.service_accounts.len(), 1);
}

#[test]
fn a_directory_without_manifests_is_a_warning_not_silence() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("README.md"), "# not a manifest").unwrap();
    fs::create_dir_all(dir.path().join(".hidden")).unwrap();
    fs::write(dir.path().join(".hidden/x.yaml"), DEPLOY).unwrap();
    let r = ingest_paths(&[dir.path()], &Limits::default());
    assert_eq!(r.files, 0);
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
    let d = &r.diagnostics[0];
    assert_eq!(d.level, DiagnosticLevel::Warning);
    assert!(
        d.message.contains("no .yaml, .yml or .json file"),
        "{}",
        d.message
    );
    assert!(!r.has_errors(), "a warning, not an unreadable input");
}

#[test]
fn missing_paths_are_diagnostics() {
    let r = ingest_paths(&["/nonexistent/palisade/x.yaml"], &Limits::default());
    assert_eq!(r.diagnostics.len(), 1);
    assert!(r.diagnostics[0].message.contains("cannot read"));
}

#[test]
fn null_fields_mean_absent() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: null\nspec:\n  volumes: null\n  containers:\n  - name: c\n    image: busybox:1\n    env: ~\n";
    let r = ingest_str("n.yaml", text);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}

#[test]
fn a_parsed_object_is_converted_like_a_file() {
    let object = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "securityContext": {"privileged": true}}]}
    });
    let r = ingest_value("admission", object);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let w = &r.inventory.workloads[0];
    assert_eq!((w.kind.as_str(), w.meta.name.as_str()), ("Pod", "web"));
    assert_eq!(
        w.spec.pod.containers[0].image.as_deref(),
        Some("nginx:1.27")
    );
    assert_eq!(w.raw["metadata"]["name"], "web");
    // The implicit namespace is added as for files.
    assert!(r.inventory.namespaces.iter().any(|n| n.meta.name == "shop"));

    // A wrong field type names the field; there is no line to point at.
    let bad = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad"},
        "spec": {"containers": "not-a-list"}
    });
    let r = ingest_value("admission", bad);
    assert_eq!(r.diagnostics.len(), 1);
    assert!(
        r.diagnostics[0].message.contains("spec.containers"),
        "{}",
        r.diagnostics[0]
    );
    // Secrets are scrubbed as for files.
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"password": "aHVudGVyMg=="}
    });
    let r = ingest_value("admission", secret);
    assert!(
        !r.inventory.secrets[0]
            .raw
            .to_string()
            .contains("aHVudGVyMg==")
    );
    assert_eq!(r.inventory.secrets[0].spec.keys, ["password"]);
}

#[test]
fn raw_objects_are_dropped_on_request_except_for_kinds_read_raw() {
    let text = format!(
        "{DEPLOY}---\napiVersion: v1\nkind: LimitRange\nmetadata: {{name: lr, namespace: shop}}\nspec:\n  limits: [{{type: Container, default: {{cpu: 500m}}}}]\n"
    );
    let limits = Limits {
        keep_raw: false,
        ..Limits::default()
    };
    let r = ingest(
        &[Input::Bytes {
            name: "x.yaml".into(),
            data: text.into_bytes(),
        }],
        &limits,
    );
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert!(r.inventory.workloads[0].raw.is_null());
    assert_eq!(r.inventory.others[0].kind, "LimitRange");
    assert_eq!(
        r.inventory.others[0].raw["spec"]["limits"][0]["default"]["cpu"],
        "500m"
    );
}

/// Makes a FIFO (named pipe) at `path` with the system's `mkfifo`.
fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A FIFO named like a manifest (or a symlink to one) would block `open()` forever; dangling
/// links and link loops were skipped silently. Each is now a warning naming the entry, the
/// walk goes on, and nothing blocks (the walk runs on a thread with a deadline).
#[test]
fn fifos_devices_dangling_links_and_loops_in_a_walked_directory_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    fs::write(root.join("good.yaml"), DEPLOY).unwrap();
    let fifo = root.join("fifo.yaml");
    mkfifo(&fifo);
    std::os::unix::fs::symlink(&fifo, root.join("to-fifo.yaml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.yaml")).unwrap();
    std::os::unix::fs::symlink(root.join("missing.yaml"), root.join("dangling.yaml")).unwrap();
    std::os::unix::fs::symlink(root.join("loop-b.yaml"), root.join("loop-a.yaml")).unwrap();
    std::os::unix::fs::symlink(root.join("loop-a.yaml"), root.join("loop-b.yaml")).unwrap();
    // Links without a manifest's name may stand for directories (a kustomize `base`).
    std::os::unix::fs::symlink(root.join("gone"), root.join("base")).unwrap();
    std::os::unix::fs::symlink(root.join("ring-b"), root.join("ring-a")).unwrap();
    std::os::unix::fs::symlink(root.join("ring-a"), root.join("ring-b")).unwrap();
    fs::create_dir(root.join("overlays")).unwrap();
    std::os::unix::fs::symlink(root.join("overlays"), root.join("prod")).unwrap();
    fs::write(root.join("README"), "not a manifest").unwrap();
    std::os::unix::fs::symlink(root.join("README"), root.join("README.link")).unwrap();

    let (tx, rx) = std::sync::mpsc::channel();
    let walked = root.clone();
    std::thread::spawn(move || {
        let _ = tx.send(ingest_paths(&[walked], &Limits::default()));
    });
    let r = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the scan blocked on a special file");

    assert_eq!(
        r.inventory.workloads.len(),
        1,
        "the good file is still read"
    );
    let warning = |name: &str| {
        r.diagnostics
            .iter()
            .find(|d| d.file().ends_with(name))
            .unwrap_or_else(|| panic!("no diagnostic for {name}: {:?}", r.diagnostics))
    };
    for (name, text) in [
        ("fifo.yaml", "not a regular file (a FIFO); not read"),
        ("to-fifo.yaml", "symlink to a FIFO; not read"),
        ("zero.yaml", "symlink to a character device; not read"),
        (
            "dangling.yaml",
            "dangling symlink (its target does not exist); not read",
        ),
        ("loop-a.yaml", "symlink loop; not read"),
        ("loop-b.yaml", "symlink loop; not read"),
        (
            "base",
            "dangling symlink (its target does not exist); not read",
        ),
        ("ring-a", "symlink loop; not read"),
        ("ring-b", "symlink loop; not read"),
    ] {
        let d = warning(name);
        assert_eq!(d.level, DiagnosticLevel::Warning, "{name}");
        assert_eq!(d.message, text, "{name}");
    }
    let linked = warning("prod");
    assert_eq!(linked.level, DiagnosticLevel::Info);
    assert!(
        linked
            .message
            .starts_with("symlink to a directory; not followed"),
        "{linked:?}"
    );
    // A link to a file that is not a manifest is as silent as the file.
    assert_eq!(r.diagnostics.len(), 10, "{:?}", r.diagnostics);
    assert!(!r.has_errors(), "warnings only: {:?}", r.diagnostics);
}

/// A path the user names may be a pipe (`palisade scan <(helm template …)`); with no writer it
/// reads as empty instead of blocking.
#[test]
fn a_named_pipe_is_read_and_never_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("rendered");
    mkfifo(&fifo);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(ingest_paths(&[fifo], &Limits::default()));
    });
    let r = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("reading a named pipe without a writer blocked");
    assert_eq!(r.files, 1);
    assert!(!r.has_errors(), "{:?}", r.diagnostics);
}

/// A key twice in one object is an error in JSON as in YAML (which value would the cluster
/// keep?), at any depth, naming the file, the line and the key; the other documents survive.
#[test]
fn duplicate_keys_are_errors_in_json_as_in_yaml() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("top.json"),
        "{\"apiVersion\": \"v1\",\n \"kind\": \"Pod\",\n \"kind\": \"ConfigMap\",\n \"metadata\": {\"name\": \"p\"}}\n",
    )
    .unwrap();
    let nested = r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "p", "namespace": "shop"},
  "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
    "securityContext": {"privileged": true,
                        "privileged": false}}]}
}
"#;
    fs::write(dir.path().join("nested.json"), nested).unwrap();
    fs::write(
        dir.path().join("nested.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n    securityContext:\n      privileged: true\n      privileged: false\n",
    )
    .unwrap();
    // The same key in different objects is not a duplicate.
    fs::write(
        dir.path().join("ok.json"),
        r#"{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "name", "labels": {"name": "x"}}}"#,
    )
    .unwrap();
    let r = ingest_paths(&[dir.path()], &Limits::default());
    assert_eq!(r.inventory.service_accounts.len(), 1, "{:?}", r.diagnostics);
    assert!(
        r.inventory.workloads.is_empty(),
        "{:?}",
        r.inventory.workloads
    );
    let found: Vec<(String, u32, String)> = r
        .diagnostics
        .iter()
        .map(|d| {
            assert_eq!(d.level, DiagnosticLevel::Error, "{d}");
            let file = d.to_string().split(':').next().unwrap_or("").to_string();
            let file = file.rsplit('/').next().unwrap_or("").to_string();
            (file, d.line(), d.message.clone())
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "nested.json".to_string(),
                7,
                "invalid JSON: duplicate mapping key \"privileged\"".to_string()
            ),
            (
                "nested.yaml".to_string(),
                10,
                "invalid YAML: duplicate mapping key \"privileged\"".to_string()
            ),
            (
                "top.json".to_string(),
                3,
                "invalid JSON: duplicate mapping key \"kind\"".to_string()
            ),
        ]
    );
    // A column is given for JSON too.
    let shown = r.diagnostics[0].to_string();
    assert!(shown.contains("nested.json:7:"), "{shown}");
}
