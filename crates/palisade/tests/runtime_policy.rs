//! The runtime → build/deploy loop through central: agent alerts and baselines pushed to
//! central become `GET /api/v1/runtime-policy`, built by the agent's own `export_policy`
//! (equal to `palisade agent export-policy` over the same alerts); `palisade scan
//! --runtime-policy URL` and `palisade admission review --runtime-policy URL` then report and
//! decide through the one engine (PAL-097, PAL-098).
#![cfg(all(feature = "central", feature = "agent", feature = "admission"))]

mod support;

use std::path::Path;

use palisade_runtime::Alert;
use palisade_runtime::event::{ContainerInfo, ContainerRuntime, Event, ProcessInfo};
use palisade_runtime::rules::RuleSet;
use serde_json::{Value, json};
use support::central::Central;
use support::cli::palisade;
use support::runtime_loop::{
    CentralArgs, assert_policy_enforced, deployment, runtime_findings, scan_with_policy,
};

const BAD: &str = "registry.example.com/shop/app:1.0";
const GOOD: &str = "registry.example.com/shop/app:2.0";

/// The alert record an agent writes when `rule` matches in a container of `image`.
fn agent_alert(rule: &str, image: &str, ms: u64) -> Alert {
    let mut c = ContainerInfo::bare(ContainerRuntime::Podman, "c0ffee".repeat(10) + "c0ff");
    (c.image, c.namespace) = (Some(image.into()), Some("shop".into()));
    (c.workload, c.name) = (Some("Deployment/web".into()), Some("app".into()));
    let args = ["sh", "-c", "id"].map(String::from).to_vec();
    let process = ProcessInfo {
        name: "sh".into(),
        args,
        ..Default::default()
    };
    let rules = RuleSet::builtin().unwrap();
    Alert::for_rule(
        rules.get(rule).unwrap(),
        &Event::exec(ms, process, None, Some(c)),
    )
}

/// `palisade agent export-policy EXTRA…` over an alert log holding `alerts` (no agent
/// state); its standard output.
fn export_policy(dir: &Path, alerts: &[Alert], extra: &[&str]) -> String {
    let log = dir.join("alerts.jsonl");
    let lines: Vec<String> = alerts
        .iter()
        .map(|a| serde_json::to_string(a).unwrap() + "\n")
        .collect();
    std::fs::write(&log, lines.concat()).unwrap();
    let (code, out, err) = palisade(&["agent", "export-policy"])
        .args(extra)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--alerts-log")
        .arg(&log)
        .run();
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn central_aggregates_the_runtime_policy_that_scan_and_admission_enforce() {
    let dir = tempfile::tempdir().unwrap();
    let central = Central::start(&dir.path().join("data"), None, &[]);
    let agent = central.token("agent", Some("prod"), "prod-agent");
    let other = central.token("agent", Some("dev"), "dev-agent");
    let analyst = central.token("analyst", None, "alice");

    // An agent of prod reports two shells in containers of BAD (and the alert log it wrote).
    let alerts: Vec<Alert> = (0..2)
        .map(|i| agent_alert("shell-in-container", BAD, 1_764_000_000_000 + i * 1000))
        .collect();
    let records: Vec<Value> = alerts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            json!({"id": format!("a{i}"), "time": a.time, "node": "n1",
                   "workload": {"namespace": "shop", "kind": "Deployment", "name": "web"},
                   "container": "app", "rule": a.rule, "severity": a.severity,
                   "message": a.description, "detail": a})
        })
        .collect();
    central
        .post_json(
            Some(&agent),
            "/api/v1/clusters/prod/alerts",
            &json!({"alerts": records}),
        )
        .expect(200);
    let baseline = json!({"baselines": [{
        "workload": {"namespace": "shop", "kind": "Deployment", "name": "web"},
        "container": "app", "processes": ["/app/server"], "locked": true,
        "updated_at": "2026-12-01T00:00:00Z"}]});
    central
        .post_json(Some(&agent), "/api/v1/clusters/prod/baselines", &baseline)
        .expect(200);

    // The policy: BAD denied with its two alerts; the locked baseline as an allowlist.
    let policy = central
        .get(Some(&analyst), "/api/v1/runtime-policy?cluster=prod")
        .expect(200);
    assert_eq!(policy.json["kind"], "RuntimePolicy", "{}", policy.text);
    assert_eq!(policy.json["images"][0]["image"], BAD);
    assert_eq!(policy.json["images"][0]["verdict"], "deny");
    assert_eq!(policy.json["images"][0]["reasons"][0]["count"], 2);
    assert_eq!(
        policy.json["processAllowlists"][0]["key"],
        "k8s/shop/Deployment/web/app"
    );
    // The agent's own token reads its cluster (by default); another cluster's agent may not.
    let own = central
        .get(Some(&agent), "/api/v1/runtime-policy")
        .expect(200);
    assert_eq!(own.json["images"], policy.json["images"]);
    central
        .get(Some(&other), "/api/v1/runtime-policy?cluster=prod")
        .expect(403);
    central
        .get(Some(&analyst), "/api/v1/runtime-policy?cluster=prod&x=1")
        .expect(400);

    // The same images section as `palisade agent export-policy` over the agent's alert log.
    let out = export_policy(dir.path(), &alerts, &["--format", "json"]);
    let exported: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(exported["images"], policy.json["images"]);

    // scan --runtime-policy URL: the runtime checks report BAD (high: deny) and the command
    // outside the locked allowlist; GOOD with the allowed program reports nothing.
    let token_file = dir.path().join("analyst.token");
    std::fs::write(&token_file, &analyst).unwrap();
    let url = format!("{}/api/v1/runtime-policy?cluster=prod", central.url());
    let ca = central.ca();
    let central_args = CentralArgs {
        url: &url,
        token_file: &token_file,
        ca: &ca,
    };
    let bad = scan_with_policy(&deployment(dir.path(), BAD, "/bin/sh"), &central_args);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert_eq!((bad[0].0.as_str(), bad[0].1.as_str()), ("PAL-097", "high"));
    assert!(
        bad[0].2.contains("shell-in-container (2 alerts"),
        "{}",
        bad[0].2
    );
    assert_eq!(
        (bad[1].0.as_str(), bad[1].1.as_str()),
        ("PAL-098", "medium")
    );
    assert!(
        scan_with_policy(&deployment(dir.path(), GOOD, "/app/server"), &central_args).is_empty()
    );
    assert_policy_enforced(dir.path(), BAD, GOOD, &central_args);
}

/// The policy named in palisade.yaml (`runtime_policy:`) is read like `--runtime-policy`, and a
/// policy that cannot be read is an error naming it.
#[test]
fn runtime_policy_from_the_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    let alert = agent_alert("shell-in-container", BAD, 1_764_000_000_000);
    let policy = dir.path().join("runtime-policy.yaml");
    export_policy(
        dir.path(),
        &[alert],
        &["--output", policy.to_str().unwrap()],
    );
    let config = dir.path().join("palisade.yaml");
    std::fs::write(&config, format!("runtime_policy: {}\n", policy.display())).unwrap();
    let manifest = deployment(dir.path(), BAD, "/bin/sh");
    let (code, out, err) = palisade(&["scan", "--format", "json", "--config"])
        .arg(&config)
        .arg(&manifest)
        .run();
    assert_eq!(code, 0, "{err}");
    let found = runtime_findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "PAL-097");

    let (code, _, err) = palisade(&["scan", "--runtime-policy"])
        .arg(dir.path().join("missing.yaml"))
        .arg(&manifest)
        .run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("missing.yaml"), "{err}");
}
