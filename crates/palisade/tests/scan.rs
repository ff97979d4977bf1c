//! End-to-end tests of `palisade scan` and `palisade checks` through the real binary.

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

use support::cli::{Palisade, palisade, stdout};

/// The binary with neither colour nor configuration preferences inherited.
fn bin(args: &[&str]) -> Palisade {
    palisade(args)
        .env_remove("NO_COLOR")
        .env_remove("PALISADE_CONFIG")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const INSECURE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: registry.example.com/shop/api:1.4.2
        securityContext: {privileged: true}
        env:
        - {name: AWS_ACCESS_KEY_ID, value: AKIAZZZZEXAMPLE00001}
";

const HARDENED: &str = "apiVersion: v1
kind: Pod
metadata:
  name: ok
  namespace: shop
  labels: {team: payments}
spec:
  automountServiceAccountToken: false
  serviceAccountName: ok
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: c
    image: registry.example.com/ok@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 200m, memory: 64Mi}
";

#[test]
fn exit_status_follows_fail_on_and_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let insecure = write(dir.path(), "insecure.yaml", INSECURE);
    let p = insecure.to_str().unwrap();
    assert_eq!(bin(&["scan", p]).output().status.code(), Some(0));
    assert_eq!(
        bin(&["scan", p, "--fail-on", "critical"])
            .output()
            .status
            .code(),
        Some(1)
    );
    let hardened = write(dir.path(), "ok.yaml", HARDENED);
    let h = hardened.to_str().unwrap();
    // The hardened pod's namespace has no NetworkPolicy (a medium finding), nothing worse.
    assert_eq!(
        bin(&["scan", h, "--fail-on", "high"])
            .output()
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        bin(&["scan", h, "--fail-on", "medium"])
            .output()
            .status
            .code(),
        Some(1)
    );
    let broken = write(dir.path(), "broken.yaml", "kind: [\n");
    let o = bin(&["scan", p, broken.to_str().unwrap(), "--fail-on", "critical"]).output();
    assert_eq!(o.status.code(), Some(3), "input errors win over findings");
    assert!(
        stdout(&o).contains("broken.yaml:"),
        "diagnostic names the file"
    );
    assert_eq!(
        bin(&["scan", p, "--check", "PAL-999"])
            .output()
            .status
            .code(),
        Some(2)
    );
    assert_eq!(bin(&["scan"]).output().status.code(), Some(2));
}

/// A Pod whose `spec.hostNetwork` (line 4) is given twice.
const DUPLICATE_KEY_JSON: &str = r#"{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "p"},
 "spec": {"hostNetwork": true,
          "hostNetwork": false, "containers": []}}
"#;

/// A JSON manifest repeating a key is unreadable input (exit 3), as the same YAML is, with the
/// file, line and key named in YAML's words.
#[test]
fn a_json_manifest_with_a_duplicate_key_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let dup = write(dir.path(), "dup.json", DUPLICATE_KEY_JSON);
    let (code, out, err) = bin(&["scan", dup.to_str().unwrap()]).run();
    assert_eq!(code, 3, "{out}{err}");
    let text = format!("{out}{err}");
    assert!(
        text.contains("dup.json:4:")
            && text.contains("invalid JSON: duplicate mapping key \"hostNetwork\""),
        "{text}"
    );
}

#[test]
fn json_report_has_the_documented_fields_and_no_secret_values() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "insecure.yaml", INSECURE);
    let o = bin(&["scan", p.to_str().unwrap(), "--format", "json"]).output();
    let text = stdout(&o);
    assert!(
        !text.contains("AKIAZZZZEXAMPLE00001"),
        "secret value leaked"
    );
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["schema"], "palisade.dev/scan-report/v1");
    let findings = doc["findings"].as_array().unwrap();
    let privileged = findings
        .iter()
        .find(|f| f["check_id"] == "PAL-001")
        .unwrap();
    assert_eq!(privileged["severity"], "critical");
    assert_eq!(privileged["object"]["kind"], "Deployment");
    assert_eq!(privileged["object"]["namespace"], "shop");
    assert_eq!(privileged["object"]["name"], "api");
    assert_eq!(privileged["line"], 1);
    assert!(
        privileged["file"]
            .as_str()
            .unwrap()
            .ends_with("insecure.yaml")
    );
    assert_eq!(privileged["container"], "api");
    for key in ["message", "remediation", "title", "fingerprint", "path"] {
        assert!(privileged.get(key).is_some(), "{key}");
    }
    assert!(
        findings.iter().any(|f| f["check_id"] == "PAL-023"),
        "hard-coded key found"
    );
    let counts = &doc["summary"]["by_severity"];
    let total: u64 = ["info", "low", "medium", "high", "critical"]
        .iter()
        .map(|s| counts[s].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, findings.len());
}

#[test]
fn stdin_is_read_with_dash() {
    let o = bin(&["scan", "-", "--format", "json", "--check", "PAL-001"])
        .stdin(INSECURE)
        .output();
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["check_id"], "PAL-001");
    assert_eq!(f["file"], "-");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn colour_only_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "insecure.yaml", INSECURE);
    let p = p.to_str().unwrap();
    // Not a TTY: no colour by default.
    assert!(!stdout(&bin(&["scan", p]).output()).contains('\u{1b}'));
    assert!(stdout(&bin(&["scan", p, "--color", "always"]).output()).contains('\u{1b}'));
    let o = bin(&["scan", p, "--color", "always"])
        .env("NO_COLOR", "1")
        .output();
    assert!(!stdout(&o).contains('\u{1b}'), "NO_COLOR wins");
}

#[test]
fn table_rows_wrap_to_columns_off_a_terminal() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let widest = |columns: Option<&str>| {
        let c = bin(&["scan", "examples/demo-cluster"]).current_dir(&root);
        let o = match columns {
            Some(n) => c.env("COLUMNS", n),
            None => c.env_remove("COLUMNS"),
        }
        .output();
        let text = stdout(&o);
        assert!(text.contains("SEVERITY"), "{text}");
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
        (widest, text)
    };
    // No terminal and no COLUMNS: 160 columns at most, and every finding keeps its location.
    let (w, text) = widest(None);
    assert!(w <= 160, "a row is {w} columns wide");
    assert!(
        text.contains("examples/demo-cluster/ci/build-runner.yaml:9"),
        "{text}"
    );
    // COLUMNS is honoured off a terminal too.
    let (w, _) = widest(Some("100"));
    assert!(w <= 100, "a row is {w} columns wide with COLUMNS=100");
}

#[test]
fn control_characters_from_the_input_never_reach_the_terminal() {
    // A hostile manifest: names carrying terminal escape sequences (erase screen, set the
    // window title), a bidirectional override, and a file name with ESC in it that fails to
    // parse (so it is named in a diagnostic on stderr).
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "evil.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"evil\\e[2J\\e]0;pwned\\a\"\n  namespace: default\nspec:\n  containers:\n  - name: \"c\\e[31mred\\u202Eexe\"\n    image: nginx:1.27\n",
    );
    let bad = write(dir.path(), "bad\u{1b}[31m.yaml", "kind: [unclosed\n");
    let (p, bad) = (p.to_str().unwrap(), bad.to_str().unwrap());
    let raw_controls = |text: &str| {
        text.chars()
            .filter(|c| c.is_control() && *c != '\n' || *c == '\u{202E}')
            .count()
    };
    for args in [
        vec!["scan", p, bad],
        vec!["scan", p, bad, "--group-by", "object"],
        vec!["risk", p],
        vec!["inventory", p],
    ] {
        let o = bin(&args).output();
        let (out, err) = (stdout(&o), String::from_utf8_lossy(&o.stderr).into_owned());
        assert_eq!(raw_controls(&out), 0, "{args:?} stdout: {out:?}");
        assert_eq!(raw_controls(&err), 0, "{args:?} stderr: {err:?}");
        assert!(out.contains("evil\\u{1b}[2J"), "{args:?}: {out}");
    }
    // The unreadable file is named, escaped: in the table, and on stderr beside JSON.
    assert!(stdout(&bin(&["scan", p, bad]).output()).contains("bad\\u{1b}[31m.yaml"));
    let o = bin(&["scan", p, bad, "--format", "json"]).output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad\\u{1b}[31m.yaml"), "{err}");
    assert_eq!(raw_controls(&err), 0, "{err:?}");
    // With colour, the only escape sequences are our own SGR colours.
    let o = bin(&["scan", p, "--color", "always"]).output();
    let out = stdout(&o);
    let mut rest = out.as_str();
    while let Some(i) = rest.find('\u{1b}') {
        let seq = &rest[i..];
        let end = seq.find('m').expect("an SGR sequence");
        assert!(
            seq[1..end].starts_with('[') && seq[2..end].chars().all(|c| c.is_ascii_digit()),
            "unexpected escape sequence {:?}",
            &seq[..end + 1]
        );
        rest = &seq[end + 1..];
    }
    // Machine formats keep the exact value (JSON escapes it its own way).
    let o = bin(&["scan", p, "--format", "json"]).output();
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["object"]["name"] == "evil\u{1b}[2J\u{1b}]0;pwned\u{7}"),
        "{doc}"
    );
}

#[test]
fn junit_is_well_formed_xml() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "insecure.yaml",
        &format!("{INSECURE}---\nkind: [\n"),
    );
    let out = dir.path().join("report.xml");
    let o = bin(&[
        "scan",
        p.to_str().unwrap(),
        "--format",
        "junit",
        "-o",
        out.to_str().unwrap(),
    ])
    .output();
    assert_eq!(o.status.code(), Some(3));
    // A real XML parser (Python's expat-based ElementTree) must accept it.
    let check = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); s=r.find('testsuite'); print(s.get('tests'), s.get('failures'), s.get('errors'), len(s.findall('testcase')))",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let nums: Vec<usize> = stdout(&check)
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(nums[0], nums[3], "tests attribute counts the test cases");
    assert!(nums[1] > 0 && nums[2] == 1, "{nums:?}");
}

#[test]
fn sarif_validates_against_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "insecure.yaml", INSECURE);
    write(dir.path(), "broken.yaml", "a: [\n");
    let out = dir.path().join("r.sarif");
    // Relative paths, as CI runs it.
    let o = bin(&["scan", ".", "--format", "sarif", "-o", "r.sarif"])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(3));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let r = results.iter().find(|r| r["ruleId"] == "PAL-001").unwrap();
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "insecure.yaml"
    );
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    // Microsoft's SARIF Multitool: the SARIF 2.1.0 schema and the spec's rules.
    support::sarif::validate(&out);
}

#[test]
fn exceptions_by_annotation_and_config_with_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let annotated = INSECURE.replace(
        "  namespace: shop\n",
        "  namespace: shop\n  annotations:\n    palisade.dev/ignore: PAL-001,hardcoded-secret-in-env\n    palisade.dev/ignore-reason: accepted in SEC-42\n",
    );
    let p = write(dir.path(), "a.yaml", &annotated);
    let p = p.to_str().unwrap();
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["scan", p, "--format", "json"];
        if !extra.contains(&"--today") {
            args.extend_from_slice(&["--today", "2026-06-01"]);
        }
        args.extend_from_slice(extra);
        let o = bin(&args).output();
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
    };
    let has = |doc: &serde_json::Value, id: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check_id"] == id)
    };
    let doc = json(&[]);
    assert!(!has(&doc, "PAL-001") && !has(&doc, "PAL-023"));
    let sup = doc["suppressed"].as_array().unwrap();
    assert_eq!(sup.len(), 2);
    assert_eq!(sup[0]["suppressed_by"], "annotation");
    assert_eq!(sup[0]["reason"], "accepted in SEC-42");

    // A config that forbids self-service exemptions, with a scoped, dated exception instead.
    let cfg = write(
        dir.path(),
        "palisade.yaml",
        "annotation_exceptions: false\nexceptions:\n- checks: [PAL-001]\n  namespace: sho*\n  name: api\n  reason: vendor appliance, SEC-7\n  expires: 2026-12-31\n- checks: [PAL-023]\n  namespace: shop\n  reason: expired one\n  expires: 2026-01-31\n",
    );
    let doc = json(&["--config", cfg.to_str().unwrap()]);
    assert!(!has(&doc, "PAL-001"), "active config exception suppresses");
    assert!(
        has(&doc, "PAL-023"),
        "expired exception no longer suppresses"
    );
    assert_eq!(doc["expired_exceptions"].as_array().unwrap().len(), 1);
    assert_eq!(doc["suppressed"][0]["suppressed_by"], "config");
    let doc = json(&["--config", cfg.to_str().unwrap(), "--today", "2027-01-01"]);
    assert!(
        has(&doc, "PAL-001"),
        "after its expiry date the exception stops"
    );

    let bad = write(
        dir.path(),
        "bad.yaml",
        "exceptions:\n- checks: [PAL-001]\n  reason: x\n  expires: next week\n",
    );
    let o = bin(&["scan", p, "--config", bad.to_str().unwrap()]).output();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("exceptions[0]"));
    let typo = write(dir.path(), "typo.yaml", "exeptions: []\n");
    assert_eq!(
        bin(&["scan", p, "--config", typo.to_str().unwrap()])
            .output()
            .status
            .code(),
        Some(2)
    );
}

/// An expiry date that is no day of the calendar is a configuration error naming the file and
/// the field (it used to be accepted and never expire); so is such a `--today`.
#[test]
fn impossible_dates_are_configuration_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "a.yaml", INSECURE);
    let p = p.to_str().unwrap();
    let cfg = write(
        dir.path(),
        "palisade.yaml",
        "exceptions:\n- checks: [PAL-001]\n  reason: vendor appliance\n  expires: 2027-99-99\n",
    );
    let o = bin(&["scan", p, "--config", cfg.to_str().unwrap()]).output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(cfg.to_str().unwrap()), "{err}");
    assert!(
        err.contains("exceptions[0].expires: invalid date \"2027-99-99\""),
        "{err}"
    );
    assert!(o.stdout.is_empty());

    let o = bin(&["scan", p, "--today", "2026-02-30"]).output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--today"), "{err}");
    assert!(err.contains("invalid date \"2026-02-30\""), "{err}");
}

#[test]
fn baseline_reports_only_new_findings() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "a.yaml", INSECURE);
    let base = dir.path().join("base.json");
    bin(&[
        "scan",
        p.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        base.to_str().unwrap(),
    ])
    .output();
    let doc: serde_json::Value = serde_json::from_slice(
        &bin(&[
            "scan",
            p.to_str().unwrap(),
            "--format",
            "json",
            "--baseline",
            base.to_str().unwrap(),
        ])
        .output()
        .stdout,
    )
    .unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);
    // A new problem appears: only it is reported.
    write(
        dir.path(),
        "a.yaml",
        &INSECURE.replace("privileged: true", "privileged: true, runAsUser: 0"),
    );
    let doc: serde_json::Value = serde_json::from_slice(
        &bin(&[
            "scan",
            p.to_str().unwrap(),
            "--format",
            "json",
            "--baseline",
            base.to_str().unwrap(),
        ])
        .output()
        .stdout,
    )
    .unwrap();
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["PAL-004"]);
}

#[test]
fn checks_list_json_has_the_catalog_with_references() {
    let o = bin(&["checks", "list", "--format", "json"]).output();
    let checks: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert!(checks.len() >= 80, "{}", checks.len());
    let p1 = checks.iter().find(|c| c["id"] == "PAL-001").unwrap();
    assert_eq!(p1["references"]["checkov"][0], "CKV_K8S_16");
    assert_eq!(p1["references"]["kubescape"][0], "C-0057");
    let peers = ["kube_linter", "checkov", "polaris", "kubescape", "stackrox"];
    let unexplained: Vec<&str> = checks
        .iter()
        .filter(|c| {
            let r = &c["references"];
            !peers.iter().any(|p| r.get(p).is_some()) && r.get("no_peer").is_none()
        })
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        unexplained.is_empty(),
        "every check references a peer or says why none: {unexplained:?}"
    );
    let p4 = checks.iter().find(|c| c["id"] == "PAL-004").unwrap();
    assert_eq!(p4["references"]["checkov"][0]["id"], "CKV_K8S_23");
    assert!(p4["references"]["checkov"][0]["note"].is_string());
}

#[test]
fn docs_checks_md_is_generated_from_the_catalog() {
    let generated = stdout(&bin(&["checks", "list", "--format", "markdown"]).output());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/checks.md");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == on_disk,
        "docs/checks.md is stale: run `cargo run -- checks list --format markdown > docs/checks.md`"
    );
}

#[test]
fn help_has_examples() {
    for args in [
        vec!["--help"],
        vec!["scan", "--help"],
        vec!["checks", "list", "--help"],
    ] {
        let o = bin(&args).output();
        assert!(o.status.success());
        assert!(stdout(&o).contains("Examples:"), "{args:?}");
    }
}

#[test]
fn custom_cel_checks_from_config() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "a.yaml", &format!("{INSECURE}---\n{HARDENED}"));
    let cfg = write(
        dir.path(),
        "palisade.yaml",
        "custom_checks:\n- id: ACME-001\n  title: Team label required\n  severity: high\n  kinds: [Deployment, Pod]\n  expression: \"has(object.metadata.labels) && 'team' in object.metadata.labels\"\n  message: workload has no team label\n- id: ACME-002\n  title: Images from our registry\n  severity: medium\n  kinds: [Deployment]\n  expression: \"object.spec.template.spec.containers.all(c, c.image.startsWith('registry.example.com/'))\"\n  message: image from an unapproved registry\n",
    );
    let o = bin(&[
        "scan",
        p.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
        "--check",
        "ACME-001,ACME-002",
    ])
    .output();
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hits: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check_id"].as_str().unwrap().to_string(),
                f["object"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The Deployment has no team label (the hardened Pod has one); its image is ours.
    assert_eq!(hits, vec![("ACME-001".to_string(), "api".to_string())]);
    assert_eq!(doc["findings"][0]["severity"], "high");

    let bad = write(
        dir.path(),
        "bad.yaml",
        "custom_checks:\n- id: X-1\n  title: t\n  severity: low\n  expression: \"object.(\"\n  message: m\n",
    );
    let o = bin(&[
        "scan",
        p.to_str().unwrap(),
        "--config",
        bad.to_str().unwrap(),
    ])
    .output();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("custom_checks[0]"));
    let clash = write(
        dir.path(),
        "clash.yaml",
        "custom_checks:\n- id: PAL-001\n  title: t\n  severity: low\n  expression: \"true\"\n  message: m\n",
    );
    assert_eq!(
        bin(&[
            "scan",
            p.to_str().unwrap(),
            "--config",
            clash.to_str().unwrap()
        ])
        .output()
        .status
        .code(),
        Some(2)
    );
}
