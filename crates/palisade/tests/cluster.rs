//! End-to-end: `--cluster` reads a live cluster — palisade-kube-fake over HTTPS on loopback,
//! with a bearer token — and finds what the file scan of the same objects finds; a kind the
//! credentials may not list is a diagnostic; Secret data never reaches any output; kubectl
//! accepts the fake (so the fake is held to a real client too).

#![cfg(feature = "cluster")]

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;

use palisade_kube_fake::{Config, FakeApiServer};
use serde_json::Value;
use support::cli::{json, palisade, stderr, stdout};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/cluster/objects.json"
);
/// A Secret value in the fixture (base64 of `palisade-live-secret-value`), in `data` and in
/// the last-applied-configuration annotation.
const SECRET_VALUE: &str = "cGFsaXNhZGUtbGl2ZS1zZWNyZXQtdmFsdWU=";

struct Cluster {
    fake: FakeApiServer,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

/// A fake cluster holding the fixture's objects, and a kubeconfig for it (context `fake`).
fn cluster() -> Cluster {
    let fake = FakeApiServer::start(Config::default()).expect("start the fake API server");
    let list: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    for obj in list["items"].as_array().unwrap() {
        fake.apply(obj.clone())
            .unwrap_or_else(|e| panic!("apply {}: {}", obj["metadata"]["name"], e.body));
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = fake.write_kubeconfig(dir.path(), "fake").unwrap();
    Cluster {
        fake,
        kubeconfig,
        _dir: dir,
    }
}

impl Cluster {
    /// `palisade ARGS --cluster --kubeconfig K`, with pages of 7 objects.
    fn palisade(&self, args: &[&str]) -> support::cli::Palisade {
        palisade(args)
            .args(["--cluster", "--cluster-page-size", "7", "--kubeconfig"])
            .arg(&self.kubeconfig)
            .env_remove("KUBECONFIG")
    }
}

/// What a finding says, without where the object was read from.
fn finding_key(f: &Value) -> String {
    format!(
        "{} {} {} {} {} {}",
        f["check_id"], f["severity"], f["object"], f["container"], f["path"], f["message"]
    )
}

fn findings(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(finding_key)
        .collect();
    out.sort();
    out
}

#[test]
fn scan_cluster_equals_the_file_scan_of_the_same_objects() {
    let c = cluster();
    let files = palisade(&["scan", FIXTURE, "--format", "json"]).output();
    let live = c.palisade(&["scan", "--format", "json"]).output();
    assert_eq!(files.status.code(), Some(0), "{}", stderr(&files));
    assert_eq!(live.status.code(), Some(0), "{}", stderr(&live));
    let (files, live) = (json(&files), json(&live));
    assert!(findings(&files).len() > 20, "the fixture has findings");
    assert_eq!(findings(&live), findings(&files));
    for key in [
        "objects",
        "findings",
        "by_severity",
        "suppressed",
        "diagnostics",
    ] {
        assert_eq!(live["summary"][key], files["summary"][key], "summary.{key}");
    }
    let ids: BTreeSet<&str> = live["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains("PAL-070"),
        "the service-account token Secret is known by type: {ids:?}"
    );
    // Every live finding names the cluster and the object's resourceVersion instead of a line.
    for f in live["findings"].as_array().unwrap() {
        assert_eq!(f["cluster"], "fake", "{f}");
        assert_eq!(f["file"], "cluster:fake", "{f}");
        assert_eq!(f["line"], 0, "{f}");
        let rv: u64 = f["resource_version"].as_str().unwrap().parse().unwrap();
        assert!(rv >= 1 && rv <= c.fake.resource_version(), "{f}");
    }
    // More objects than one page: kinds were read in several pages.
    let requests = c.fake.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /api/v1/serviceaccounts?") && r.contains("continue=")),
        "{requests:#?}"
    );
}

#[test]
fn every_sink_shows_the_live_object() {
    let c = cluster();
    let (code, table, err) = c.palisade(&["scan", "--top-risks", "0"]).run();
    assert_eq!(code, 0, "{err}");
    assert!(table.contains("cluster fake resourceVersion "), "{table}");
    let (_, junit, _) = c.palisade(&["scan", "--format", "junit"]).run();
    assert!(
        junit.contains("at cluster fake resourceVersion "),
        "{junit}"
    );
    let (_, sarif, _) = c.palisade(&["scan", "--format", "sarif"]).run();
    // Valid SARIF without physical locations (the SARIF Multitool's schema and rules).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("live.sarif");
    std::fs::write(&file, &sarif).unwrap();
    support::sarif::validate(&file);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    let location = &result["locations"][0];
    assert!(location.get("physicalLocation").is_none(), "{location}");
    let fqn = location["logicalLocations"][0]["fullyQualifiedName"]
        .as_str()
        .unwrap();
    assert!(fqn.starts_with("fake/"), "{fqn}");
    assert_eq!(result["properties"]["cluster"], "fake");
    assert!(
        result["properties"]["resourceVersion"].is_string(),
        "{result}"
    );
}

#[test]
fn a_forbidden_kind_is_a_diagnostic_and_the_scan_goes_on() {
    let c = cluster();
    c.fake.forbid("NetworkPolicy");
    let out = c.palisade(&["scan", "--format", "json"]).output();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "incomplete results: {err}");
    let report = json(&out);
    let diagnostics = report["diagnostics"].to_string();
    assert!(
        diagnostics.contains("cannot list NetworkPolicy (networking.k8s.io/v1 networkpolicies) in all namespaces: forbidden (403"),
        "{diagnostics}"
    );
    // The rest is reported: the privileged pod's findings are there.
    let findings = findings(&report);
    assert!(
        findings.iter().any(|f| f.contains("node-debugger")),
        "{findings:#?}"
    );
}

#[test]
fn refused_credentials_are_a_clear_error() {
    let c = cluster();
    let text = std::fs::read_to_string(&c.kubeconfig).unwrap();
    std::fs::write(
        &c.kubeconfig,
        text.replace("palisade-test-token", "wrong-token"),
    )
    .unwrap();
    let (code, out, err) = c.palisade(&["scan"]).run();
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("cluster fake: the API server refused the credentials (401 Unauthorized)"),
        "{err}"
    );
}

#[test]
fn the_context_is_chosen_by_name() {
    let c = cluster();
    let (code, out, err) = c.palisade(&["inventory", "--context", "fake"]).run();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("node-debugger"), "{out}");
    let (code, _, err) = c
        .palisade(&["inventory", "--context", "no-such-context"])
        .run();
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cluster configuration") && err.contains("no-such-context"),
        "{err}"
    );
}

#[test]
fn secret_data_never_appears_in_any_output() {
    let c = cluster();
    let mut outputs = Vec::new();
    for format in ["table", "json", "sarif", "junit"] {
        outputs.push(c.palisade(&["scan", "--format", format]).output());
    }
    outputs.push(c.palisade(&["inventory", "--format", "json"]).output());
    outputs.push(c.palisade(&["risk", "--format", "json"]).output());
    outputs.push(c.palisade(&["rbac", "risky"]).output());
    outputs.push(c.palisade(&["netpol", "exposure"]).output());
    for out in &outputs {
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(out));
        let text = format!("{}{}", stdout(out), stderr(out));
        assert!(!text.contains(SECRET_VALUE), "{text}");
        assert!(!text.contains("palisade-live-secret-value"), "{text}");
    }
    // Secrets were only ever listed by metadata.
    let secrets: Vec<String> = c
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.contains("/secrets"))
        .collect();
    assert!(!secrets.is_empty());
    for r in &secrets {
        assert!(r.ends_with("[as=PartialObjectMetadataList]"), "{r}");
    }
}

/// Removes every `source` member (where an object was read from).
fn drop_sources(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("source");
            m.values_mut().for_each(drop_sources);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_sources),
        _ => {}
    }
}

#[test]
fn the_other_commands_read_the_cluster_like_files() {
    let c = cluster();
    for args in [
        &["risk", "--format", "json"][..],
        &["rbac", "risky", "--format", "json"],
        &["netpol", "exposure", "--format", "json"],
    ] {
        let files = palisade(args).arg(FIXTURE).output();
        let live = c.palisade(args).output();
        assert_eq!(
            live.status.code(),
            files.status.code(),
            "{args:?}: {}",
            stderr(&live)
        );
        // Same results; only where objects were read from differs.
        let (mut live, mut files) = (json(&live), json(&files));
        drop_sources(&mut live);
        drop_sources(&mut files);
        assert_eq!(live, files, "{args:?}");
    }
    let (code, out, err) = c.palisade(&["inventory"]).run();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("node-debugger"), "{out}");
    // A namespace filter reads only that namespace's objects.
    let (code, out, err) = c.palisade(&["inventory", "--namespace", "shop"]).run();
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("node-debugger") && out.contains("frontend"),
        "{out}"
    );
    // Paths and --cluster are exclusive.
    let (code, _, err) = c.palisade(&["scan", FIXTURE]).run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn help_shows_a_cluster_example() {
    for args in [
        &["scan", "--help"][..],
        &["risk", "--help"],
        &["inventory", "--help"],
        &["rbac", "--help"],
        &["netpol", "--help"],
    ] {
        let (code, out, _) = palisade(args).run();
        assert_eq!(code, 0, "{args:?}");
        assert!(out.contains(" --cluster"), "{args:?}: {out}");
    }
    let (_, out, _) = palisade(&["scan", "--help"]).run();
    for flag in [
        "--kubeconfig <FILE>",
        "--context <NAME>",
        "--namespace <NAMESPACE>",
    ] {
        assert!(out.contains(flag), "{flag}: {out}");
    }
    let (_, out, _) = palisade(&["rbac", "can", "--help"]).run();
    assert!(out.contains("--cluster-namespace <NAMESPACE>"), "{out}");
}

#[test]
fn kubectl_lists_and_watches_the_fake() {
    let c = cluster();
    let kubectl = palisade_testkit::cache::kubectl();
    let out = std::process::Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .args(["get", "pods", "-A"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("node-debugger") && text.contains("default"),
        "{text}"
    );

    let mut watch = std::process::Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .args(["get", "pods", "-n", "default", "-w", "--no-headers"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    // First the existing pods (from the list kubectl makes before watching).
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("debug-toolbox"), "{first}");
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("node-debugger"), "{first}");
    c.fake
        .apply(serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "created-later", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}))
        .unwrap();
    // Then the pod created after kubectl started listing.
    let second = lines.next().unwrap().unwrap();
    assert!(second.starts_with("created-later"), "{second}");
    watch.kill().unwrap();
    watch.wait().unwrap();
}
