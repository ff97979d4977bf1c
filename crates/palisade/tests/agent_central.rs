//! `palisade agent run --central`: alerts reach central in batches over HTTPS with the agent's
//! token, survive central's SIGKILL in the middle of a burst (spooled under the state
//! directory, resent in order once central is back on the same store and port), and arrive
//! exactly once. Root and the proc connector (or /proc polling) as in tests/agent.rs; the
//! alerts come from host processes matched by a rule of the test's own. A `delete-pod`
//! response (through `--kubeconfig` to the fake API server) reaches central too.
#![cfg(all(feature = "agent", feature = "central", target_os = "linux"))]

mod support;

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use support::central::Central;
use support::podman::Agent;

const WAIT: Duration = Duration::from_secs(60);

/// Serializes this binary's tests: each agent watches the whole node, so a test running beside
/// another would also report the other's containers to its central.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn alert_lines(path: &Path, rule: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["record"] == "alert" && v["rule"] == rule)
        .count()
}

/// The ids central stored for `rule` (one page: the test stays under MAX_PAGE alerts).
fn stored_ids(central: &Central, token: &str, rule: &str) -> Vec<String> {
    let page = central
        .get(
            Some(token),
            &format!("/api/v1/alerts?cluster=prod&rule={rule}&limit=1000"),
        )
        .expect(200);
    page.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

/// Runs `n` short host processes the test's rule matches (each lives long enough for /proc to
/// be read) and waits for them.
fn burst(marker: &str, n: usize) {
    let children: Vec<Child> = (0..n)
        .map(|_| Command::new("sleep").arg(marker).spawn().unwrap())
        .collect();
    for mut c in children {
        c.wait().unwrap();
    }
}

/// The agent reporting to `central` as cluster `prod` with the token in `token_file`.
fn start_with_central(
    config: &Path,
    state: &Path,
    alerts: &Path,
    central: &Central,
    token_file: &Path,
) -> Agent {
    start_with_central_and(config, state, alerts, central, token_file, &[])
}

/// [`start_with_central`] with more arguments.
fn start_with_central_and(
    config: &Path,
    state: &Path,
    alerts: &Path,
    central: &Central,
    token_file: &Path,
    more: &[&OsStr],
) -> Agent {
    let url = central.url();
    let ca = central.ca();
    let mut extra: Vec<&OsStr> = vec![
        "--central".as_ref(),
        url.as_ref(),
        "--cluster".as_ref(),
        "prod".as_ref(),
        "--token-file".as_ref(),
        token_file.as_os_str(),
        "--ca-cert".as_ref(),
        ca.as_os_str(),
        "--duration".as_ref(),
        "300".as_ref(),
    ];
    extra.extend_from_slice(more);
    Agent::start(config, state, alerts, &extra)
}

#[test]
fn alerts_reach_central_exactly_once_across_a_sigkill() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let central = Central::start(&data, None, &[]);
    let addr = central.addr.clone();
    let analyst = central.token("analyst", None, "alice");
    let token_file = dir.path().join("agent.token");
    std::fs::write(&token_file, central.token("agent", Some("prod"), "node-1")).unwrap();

    // A rule of our own on host processes: `sleep 0.PID` is ours alone.
    let marker = format!("0.{}", std::process::id());
    let rule = "loop-central-burst";
    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        format!(
            "rules:\n  - id: {rule}\n    description: the central sender test's processes\n    \
             severity: low\n    condition: proc.name = sleep and proc.args = \"{marker}\"\n"
        ),
    )
    .unwrap();
    let config = dir.path().join("agent.yaml");
    std::fs::write(
        &config,
        format!(
            "save_interval_secs: 1\nnet_interval_ms: 0\nbuiltin_rules: false\nrules_files: [{}]\n\
             central:\n  url: https://invalid.example\n  cluster: x\n  token_file: /nonexistent\n  \
             batch_max: 20\n  batch_interval_ms: 200\n",
            rules.display()
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let alerts = dir.path().join("alerts.jsonl");
    // The flags override the configuration's central section (batching kept).
    let _agent = start_with_central(&config, &state, &alerts, &central, &token_file);

    // First burst: delivered while central is up.
    burst(&marker, 40);
    let deadline = Instant::now() + WAIT;
    let first = loop {
        let written = alert_lines(&alerts, rule);
        if written > 0 && stored_ids(&central, &analyst, rule).len() == written {
            break written;
        }
        assert!(
            Instant::now() < deadline,
            "first burst never reached central"
        );
        std::thread::sleep(Duration::from_millis(100));
    };

    // SIGKILL central, then a second burst: the agent spools it.
    central.kill9();
    burst(&marker, 120);
    let deadline = Instant::now() + WAIT;
    while alert_lines(&alerts, rule) < first + 1
        || !std::fs::read_dir(state.join("spool"))
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".json"))
    {
        assert!(
            Instant::now() < deadline,
            "nothing spooled while central was down"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Central back on the same store and port: every alert arrives, each once.
    let central = Central::restart(&data, &addr);
    let written = alert_lines(&alerts, rule);
    let deadline = Instant::now() + WAIT;
    let ids = loop {
        let ids = stored_ids(&central, &analyst, rule);
        if ids.len() >= alert_lines(&alerts, rule) && ids.len() >= written {
            break ids;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} alerts reached central",
            ids.len(),
            alert_lines(&alerts, rule)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let total = alert_lines(&alerts, rule);
    assert!(total > first, "the second burst raised alerts");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "an id stored twice");
    assert_eq!(ids.len(), total, "every alert written is stored, once");
    // The spool drained.
    let deadline = Instant::now() + WAIT;
    while std::fs::read_dir(state.join("spool"))
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".json"))
    {
        assert!(Instant::now() < deadline, "the spool never drained");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The whole loop with a real container: a shell in a container of image X → the agent's
/// alert → central → `palisade scan --runtime-policy https://central/…` reports X (PAL-097)
/// → admission with central's policy denies a new Deployment of X, warns in warn mode and
/// admits an image that behaved.
#[cfg(feature = "admission")]
#[test]
fn a_shell_in_a_container_of_x_denies_x_at_admission_through_central() {
    let _serial = serial();
    use support::podman::{Container, IMAGE, import_image, podman};
    use support::runtime_loop::{CentralArgs, assert_policy_enforced};

    let dir = tempfile::tempdir().unwrap();
    import_image(dir.path());
    let central = Central::start(&dir.path().join("data"), None, &[]);
    let agent_token = dir.path().join("agent.token");
    std::fs::write(&agent_token, central.token("agent", Some("prod"), "node-1")).unwrap();
    let analyst_token = dir.path().join("analyst.token");
    let analyst = central.token("analyst", None, "alice");
    std::fs::write(&analyst_token, &analyst).unwrap();

    let name = format!("pal-loop-{}", std::process::id());
    // The kubelet's labels: the agent attributes the container to shop/Deployment/web.
    let _container = Container::sleeping_labelled(
        &name,
        &[
            "io.kubernetes.pod.namespace=shop",
            "io.kubernetes.pod.name=web-7d4b9c8f6d-x2x9q",
            "io.kubernetes.container.name=app",
        ],
    );
    let config = dir.path().join("agent.yaml");
    std::fs::write(&config, "save_interval_secs: 1\nnet_interval_ms: 0\n").unwrap();
    let state = dir.path().join("state");
    let alerts = dir.path().join("alerts.jsonl");
    let _agent = start_with_central(&config, &state, &alerts, &central, &agent_token);

    // A shell in the container; central's policy then denies the image.
    podman(&["exec", &name, "sh", "-c", "/bin/sleep 1; true"]);
    let deadline = Instant::now() + WAIT;
    loop {
        // 404 until the agent's first batch makes the cluster known.
        let policy = central.get(Some(&analyst), "/api/v1/runtime-policy?cluster=prod");
        assert!(matches!(policy.status, 200 | 404), "{}", policy.text);
        let images = policy.json["images"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if images
            .iter()
            .any(|i| i["image"] == IMAGE && i["verdict"] == "deny")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "central's policy never denied {IMAGE}: {}",
            policy.text
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The alert names the workload; locking its baseline reports it to central, whose policy
    // then holds it as an allowlist.
    let alerts = central
        .get(
            Some(&analyst),
            "/api/v1/alerts?cluster=prod&rule=shell-in-container",
        )
        .expect(200);
    assert_eq!(
        alerts.json["items"][0]["workload"],
        serde_json::json!({"namespace": "shop", "kind": "Deployment", "name": "web"}),
        "{}",
        alerts.text
    );
    let key = "k8s/shop/Deployment/web/app";
    let (code, _, err) = support::cli::palisade(&["agent", "baseline", "lock", key, "--state-dir"])
        .arg(&state)
        .run();
    assert_eq!(code, 0, "{err}");
    let deadline = Instant::now() + WAIT;
    loop {
        let policy = central
            .get(Some(&analyst), "/api/v1/runtime-policy?cluster=prod")
            .expect(200);
        if policy.json["processAllowlists"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["key"] == key))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no allowlist {key}: {}",
            policy.text
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let url = format!("{}/api/v1/runtime-policy?cluster=prod", central.url());
    let ca = central.ca();
    let args = CentralArgs {
        url: &url,
        token_file: &analyst_token,
        ca: &ca,
    };
    assert_policy_enforced(
        dir.path(),
        IMAGE,
        "localhost/palisade-loop-behaved:1",
        &args,
    );
}

/// A shell in a container labelled as the pod shop/web-5d4-x2k9q, with `actions:
/// [delete-pod]`: the agent deletes the pod through `--kubeconfig` (the fake API server) and
/// the response, with its outcome, reaches central (`GET /api/v1/responses?cluster=prod`).
#[test]
fn a_delete_pod_response_reaches_central() {
    let _serial = serial();
    use support::podman::{Container, import_image, podman};

    let dir = tempfile::tempdir().unwrap();
    import_image(dir.path());
    let central = Central::start(&dir.path().join("data"), None, &[]);
    let analyst = central.token("analyst", None, "alice");
    let token_file = dir.path().join("agent.token");
    std::fs::write(&token_file, central.token("agent", Some("prod"), "node-1")).unwrap();
    let fake = palisade_kube_fake::FakeApiServer::start(Default::default()).unwrap();
    fake.apply(serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-5d4-x2k9q", "namespace": "shop"},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]}}))
        .unwrap();
    let kubeconfig = fake.write_kubeconfig(dir.path(), "fake").unwrap();

    let name = format!("pal-response-{}", std::process::id());
    let _container = Container::sleeping_labelled(
        &name,
        &[
            "io.kubernetes.pod.namespace=shop",
            "io.kubernetes.pod.name=web-5d4-x2k9q",
        ],
    );
    let id = podman(&["inspect", "--format", "{{.Id}}", &name]);
    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        format!(
            "rules:\n  - id: shell-in-container\n    append: true\n    condition: and container.id = {id}\n    actions: [delete-pod]\n"
        ),
    )
    .unwrap();
    let config = dir.path().join("agent.yaml");
    std::fs::write(
        &config,
        format!(
            "save_interval_secs: 1\nnet_interval_ms: 0\nrules_files: [{}]\n",
            rules.display()
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let alerts = dir.path().join("alerts.jsonl");
    let more: [&OsStr; 2] = ["--kubeconfig".as_ref(), kubeconfig.as_os_str()];
    let _agent = start_with_central_and(&config, &state, &alerts, &central, &token_file, &more);

    podman(&["exec", &name, "sh", "-c", "/bin/sleep 1; true"]);
    let deadline = Instant::now() + WAIT;
    let stored = loop {
        let got = central.get(Some(&analyst), "/api/v1/responses?cluster=prod");
        assert_eq!(got.status, 200, "{}", got.text);
        let items = got.json.as_array().cloned().unwrap_or_default();
        if let Some(r) = items.into_iter().find(|r| r["action"] == "delete-pod") {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "no delete-pod response reached central: {}",
            got.text
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(stored["cluster"], "prod", "{stored}");
    assert_eq!(stored["outcome"], "done", "{stored}");
    assert_eq!(stored["target"], "pod shop/web-5d4-x2k9q", "{stored}");
    assert_eq!(stored["rule"], "shell-in-container", "{stored}");
    assert!(
        stored["detail"]
            .as_str()
            .unwrap()
            .contains("/api/v1/namespaces/shop/pods/web-5d4-x2k9q"),
        "{stored}"
    );
    assert!(
        fake.get("v1", "Pod", Some("shop"), "web-5d4-x2k9q")
            .is_none()
    );
}
