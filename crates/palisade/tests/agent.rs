//! `palisade agent …` end to end with the real binary and real podman containers (root,
//! podman + crun configured by scripts/setup/30-podman.sh, which scripts/test runs).
#![cfg(all(feature = "agent", target_os = "linux"))]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::cli::palisade;
use support::podman::{Agent, Container, IMAGE, import_image, podman};

const WAIT: Duration = Duration::from_secs(30);

fn records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn wait_record(
    path: &Path,
    what: &str,
    f: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = records(path).into_iter().find(|v| f(v)) {
            return v;
        }
        assert!(Instant::now() < deadline, "no {what} in {}", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn run_alert_lock_anomaly_stop_and_export_policy() {
    let tmp = tempfile::tempdir().unwrap();
    import_image(tmp.path());
    let name = format!("pal-cli-agent-{}", std::process::id());
    let _container = Container::sleeping(&name);
    let id = _container.0.clone();
    let state = tmp.path().join("state");
    let alerts = tmp.path().join("alerts.jsonl");
    let flows = tmp.path().join("flows.jsonl");
    let config = tmp.path().join("agent.yaml");
    std::fs::write(
        &config,
        "save_interval_secs: 1\nbaseline:\n  learn_window_secs: 3600\n",
    )
    .unwrap();

    // Ready once it has saved its state for the first time.
    let mut agent = Agent::start(
        &config,
        &state,
        &alerts,
        &[
            OsStr::new("--flows"),
            flows.as_os_str(),
            OsStr::new("--duration"),
            OsStr::new("120"),
        ],
    );

    // A shell in the container: the alert names the container.
    podman(&["exec", &name, "sh", "-c", "/bin/sleep 1; true"]);
    let a = wait_record(&alerts, "shell alert", |v| {
        v["record"] == "alert"
            && v["rule"] == "shell-in-container"
            && v["container"]["id"] == id.as_str()
    });
    assert_eq!(a["process"]["name"], "sh");
    assert_eq!(a["container"]["image"], IMAGE);

    // Lock the baseline through the running agent, then a new program is an anomaly.
    let key = format!("container/{name}");
    let (code, out, err) = palisade(&[
        "agent",
        "baseline",
        "lock",
        &key,
        "--state-dir",
        state.to_str().unwrap(),
    ])
    .run();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("locked by the running agent"), "{out}");
    let (code, out, err) = palisade(&[
        "agent",
        "baseline",
        "show",
        "--format",
        "json",
        "--state-dir",
        state.to_str().unwrap(),
    ])
    .run();
    assert_eq!(code, 0, "{err}");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    let b = shown
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["key"] == key.as_str())
        .expect("baseline listed");
    assert_eq!(b["phase"], "locked");
    podman(&["exec", &name, "sh", "-c", "/bin/sleep 1 | /bin/cat"]);
    let anomaly = wait_record(&alerts, "baseline anomaly", |v| {
        v["rule"] == "baseline-anomaly"
            && v["container"]["id"] == id.as_str()
            && v["process"]["name"] == "cat"
    });
    assert_eq!(anomaly["baseline"], key.as_str());

    // SIGTERM stops it cleanly (state saved, exit status 0).
    let pid = agent.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = agent.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "agent did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success());

    // Export: the image that spawned a shell is denied; the locked baseline is an allowlist.
    let out_file = tmp.path().join("policy.json");
    let (code, _, err) = palisade(&[
        "agent",
        "export-policy",
        "--format",
        "json",
        "--state-dir",
        state.to_str().unwrap(),
        "--output",
        out_file.to_str().unwrap(),
    ])
    .run();
    assert_eq!(code, 0, "{err}");
    let policy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(policy["apiVersion"], "palisade.dev/v1alpha1");
    assert_eq!(policy["kind"], "RuntimePolicy");
    let img = policy["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["image"] == IMAGE)
        .expect("image flagged");
    assert_eq!(img["verdict"], "deny");
    assert!(
        img["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "shell-in-container")
    );
    let allow = policy["processAllowlists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == key.as_str())
        .expect("allowlist exported");
    assert!(allow["lockedAt"].as_str().unwrap().ends_with('Z'));

    // With the agent stopped, reset changes the file directly.
    let (code, out, err) = palisade(&[
        "agent",
        "baseline",
        "reset",
        "--all",
        "--state-dir",
        state.to_str().unwrap(),
    ])
    .run();
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("reset "), "{out}");
    let (_, out, _) = palisade(&[
        "agent",
        "baseline",
        "show",
        &key,
        "--state-dir",
        state.to_str().unwrap(),
    ])
    .run();
    assert!(out.contains("phase: learning"), "{out}");
}

#[test]
fn usage_errors_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let state: PathBuf = tmp.path().join("state");
    let (code, _, err) = palisade(&[
        "agent",
        "baseline",
        "show",
        "container/none",
        "--state-dir",
        state.to_str().unwrap(),
    ])
    .run();
    assert_eq!(code, 2);
    assert!(err.contains("no baseline \"container/none\""), "{err}");
    let (code, _, err) = palisade(&[
        "agent",
        "run",
        "--webhook",
        "http://127.0.0.1:9/x",
        "--state-dir",
        state.to_str().unwrap(),
        "--duration",
        "1",
    ])
    .run();
    assert_eq!(code, 2);
    assert!(
        err.contains("webhook.url") && err.contains("plain HTTP"),
        "{err}"
    );
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "baseline:\n  learn_windw: 3\n").unwrap();
    let (code, _, err) = palisade(&["agent", "run", "--config", bad.to_str().unwrap()]).run();
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.yaml") && err.contains("learn_windw"),
        "{err}"
    );
}

/// `agent manifests` passes `palisade scan`: no finding, and every suppressed one is a finding
/// a node agent must accept, suppressed on its object with a written reason.
#[test]
fn manifests_pass_the_scan_with_reasoned_exceptions_only() {
    let dir = tempfile::tempdir().unwrap();
    for extra in [
        &[][..],
        &[
            "--central",
            "https://central.example:8443",
            "--cluster",
            "prod",
        ][..],
        &["--restart-workload"][..],
    ] {
        let (code, yaml, err) = palisade(&["agent", "manifests", "--image"])
            .arg("registry.example/palisade@sha256:0000000000000000000000000000000000000000000000000000000000000000")
            .args(extra)
            .run();
        assert_eq!(code, 0, "{err}");
        let path = dir.path().join("agent.yaml");
        std::fs::write(&path, &yaml).unwrap();
        let (code, out, err) = palisade(&["scan", "--format", "json", "--top-risks", "0"])
            .arg(&path)
            .env_remove("PALISADE_CONFIG")
            .run();
        assert_eq!(code, 0, "{err}");
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["findings"], serde_json::json!([]), "{out}");
        assert!(
            report["diagnostics"]
                .as_array()
                .is_none_or(|d| d.is_empty()),
            "{out}"
        );
        let mut suppressed: Vec<String> = report["suppressed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                assert!(s["reason"].as_str().unwrap_or("").len() > 40, "{s}");
                s["check_id"].as_str().unwrap().to_string()
            })
            .collect();
        suppressed.sort();
        suppressed.dedup();
        let mut expected = vec![
            "PAL-004", "PAL-006", "PAL-015", "PAL-017", "PAL-019", "PAL-025", "PAL-032", "PAL-033",
            "PAL-057", "PAL-069",
        ];
        if extra.contains(&"--restart-workload") {
            expected.push("PAL-086");
            expected.sort();
        }
        assert_eq!(suppressed, expected, "{out}");
        let role = yaml
            .split("---")
            .find(|d| d.contains("kind: ClusterRole\n"))
            .unwrap();
        assert_eq!(
            role.contains("verbs: [get, patch]") && role.contains("replicasets"),
            extra.contains(&"--restart-workload"),
            "{role}"
        );
        let daemonset = yaml
            .split("---")
            .find(|d| d.contains("kind: DaemonSet"))
            .unwrap();
        for needed in [
            "hostPID: true",
            "readOnlyRootFilesystem: true",
            "operator: Exists",
            "limits:",
        ] {
            assert!(daemonset.contains(needed), "{needed}: {daemonset}");
        }
        if extra.contains(&"--central") {
            assert!(
                yaml.contains("--central, \"https://central.example:8443\""),
                "{yaml}"
            );
            assert!(yaml.contains("port: 8443"), "{yaml}");
        }
    }
    let (code, _, err) = palisade(&["agent", "manifests", "--namespace", "a b"]).run();
    assert_eq!(code, 2, "{err}");
}

/// `--event-source` picks the exec source; the log says which one runs and the counters
/// printed at the stop carry `event_source_bpf`.
#[test]
fn event_source_flag_selects_and_reports_the_source() {
    let tmp = tempfile::tempdir().unwrap();
    for (flag, name, gauge) in [("bpf", "bpf", 1), ("proc", "proc-connector", 0)] {
        let (code, _, err) = palisade(&["agent", "run", "--event-source", flag])
            .args(["--duration", "1", "--state-dir"])
            .arg(tmp.path().join(format!("state-{flag}")))
            .arg("--alerts")
            .arg(tmp.path().join(format!("alerts-{flag}.jsonl")))
            .run();
        assert_eq!(code, 0, "{err}");
        assert!(err.contains(&format!("running ({name} source)")), "{err}");
        assert!(
            err.contains(&format!("\\\"event_source_bpf\\\":{gauge}")),
            "{err}"
        );
    }
}
