//! The agent against real podman containers (rootful podman + crun, `--network none`).
//! The machine is shared: every assertion looks only at records for our own containers, and
//! every rule that takes action is scoped to our container by name.

mod common;

use std::time::Duration;

use common::{Container, TestAgent, is_alert, podman, unique, wait_until};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn shell_exec_in_a_container_alerts_with_that_container() {
    let _serial = common::serial();
    let c = Container::run(&unique("shell"), &[], &["sleep", "300"]);
    let agent = TestAgent::start("");
    // The shell stays alive for a second (busybox sh execs the *last* command of `-c` in
    // place of itself, so `sleep` must not come last), or the agent could find the process
    // already gone when it reads /proc (see docs/runtime.md).
    c.exec(&["sh", "-c", "echo hello; sleep 1; echo bye"]);
    let a = agent.wait_record(WAIT, "shell-in-container", |v| {
        is_alert(v, "shell-in-container", &c.id)
    });
    assert_eq!(a["severity"], "high");
    assert_eq!(a["container"]["runtime"], "podman");
    assert_eq!(a["container"]["name"], c.name.as_str());
    assert_eq!(a["container"]["image"], common::IMAGE);
    assert_eq!(a["process"]["name"], "sh");
    assert_eq!(a["process"]["exe"], "/bin/busybox");
    assert_eq!(a["process"]["args"][0], "sh");
    assert_eq!(a["process"]["args"][2], "echo hello; sleep 1; echo bye");
    let pid = a["process"]["pid"].as_u64().unwrap();
    assert!(pid > 1);
    assert_ne!(a["process"]["vpid"], 1, "not the entrypoint");
    // The entrypoint `sleep` is not a shell and never alerted, nor is the shell's `sleep`: a
    // second shell, run after it, is alerted only once the agent has judged every earlier exec.
    c.exec(&["sh", "-c", "sleep 1; echo marker"]);
    agent.wait_record(WAIT, "the marker shell", |v| {
        is_alert(v, "shell-in-container", &c.id)
            && v["process"]["args"][2] == "sleep 1; echo marker"
    });
    assert!(
        !agent
            .records()
            .iter()
            .any(|v| v["container"]["id"] == c.id.as_str() && v["process"]["name"] == "sleep")
    );
}

#[test]
fn builtin_rules_fire_on_real_container_processes() {
    let _serial = common::serial();
    let c = Container::run(&unique("rules"), &[], &["sleep", "300"]);
    let agent = TestAgent::start("");
    // The agent reads /proc when the exec event arrives, so every program here stays alive
    // for a moment (a process that has already exited cannot be read; see docs/runtime.md).
    // Package manager and curl: shell scripts under those names (the kernel names a
    // script's process after the script).
    c.exec(&[
        "sh",
        "-c",
        "for n in apt-get curl; do printf '#!/bin/sh\\nsleep 1\\n' > /tmp/$n; chmod +x /tmp/$n; done; \
         /tmp/apt-get install curl; /tmp/curl http://203.0.113.7/x",
    ]);
    // Network tool with -e (also a reverse-shell pattern), listening until killed.
    c.exec(&[
        "sh",
        "-c",
        "/bin/nc -l -p 9001 -e /bin/true & /bin/sleep 1; kill $!",
    ]);
    // A set-user-ID copy of busybox, run through an applet link so it lives a second.
    c.exec(&[
        "sh",
        "-c",
        "mkdir -p /tmp/s; cp /bin/busybox /tmp/s/busybox; chmod 4755 /tmp/s/busybox; \
         ln -s busybox /tmp/s/sleep; /tmp/s/sleep 1",
    ]);
    for rule in [
        "package-manager-in-container",
        "network-tool-in-container",
        "reverse-shell",
        "privilege-tool-in-container",
        "download-from-raw-ip",
    ] {
        let a = agent.wait_record(WAIT, rule, |v| is_alert(v, rule, &c.id));
        assert!(a["process"]["pid"].as_u64().unwrap() > 0, "{rule}");
    }
    let suid = agent.wait_record(WAIT, "setuid exec", |v| {
        is_alert(v, "privilege-tool-in-container", &c.id) && v["process"]["name"] == "sleep"
    });
    assert_eq!(suid["process"]["exe_setuid"], true);
    assert_eq!(suid["process"]["exe"], "/tmp/s/busybox");
    let pm = agent.wait_record(WAIT, "apt-get", |v| {
        is_alert(v, "package-manager-in-container", &c.id)
    });
    assert_eq!(pm["process"]["name"], "apt-get");
    assert_eq!(pm["process"]["args"][1], "/tmp/apt-get");
}

#[test]
fn reverse_shell_with_socket_stdio_is_detected() {
    let _serial = common::serial();
    // `nc -l -e sh`: the shell nc starts for a client has its stdin and stdout on the socket.
    let c = Container::run(&unique("revsh"), &[], &["sleep", "300"]);
    let agent = TestAgent::start("");
    c.exec_detached(&["nc", "-l", "-p", "5555", "-e", "sh"]);
    c.wait_listening(5555, WAIT);
    // The shell must outlive the agent's read of /proc: a shell told only `exit` can be gone
    // before its exec event is handled (seen in CI). `sleep` keeps it waiting for 2 s, and
    // the client holds the connection open until then.
    c.exec(&[
        "sh",
        "-c",
        "(echo 'sleep 2'; sleep 3) | /bin/nc -w 5 127.0.0.1 5555; true",
    ]);
    let a = agent.wait_record(WAIT, "reverse shell via socket stdio", |v| {
        is_alert(v, "reverse-shell", &c.id) && v["process"]["name"] == "sh"
    });
    assert_eq!(a["process"]["stdin"], "socket");
    assert_eq!(a["process"]["stdout"], "socket");
}

#[test]
fn kill_container_action_really_stops_it() {
    let _serial = common::serial();
    let name = unique("killctr");
    let c = Container::run(&name, &[], &["sleep", "300"]);
    assert_eq!(c.status(), "running");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    // Scoped to our container so parallel tests and other users are never touched.
    std::fs::write(
        &rules,
        format!(
            "rules:\n  - id: shell-in-container\n    append: true\n    condition: and container.name = {name}\n    actions: [alert, kill-container]\n"
        ),
    )
    .unwrap();
    let agent = TestAgent::start(&format!(
        "rules_files: [{}]\nresponse:\n  stop_timeout_secs: 1\n",
        rules.display()
    ));
    c.exec(&["sh", "-c", "sleep 1; true"]);
    let a = agent.wait_record(WAIT, "alert", |v| is_alert(v, "shell-in-container", &c.id));
    assert_eq!(a["actions"][0], "kill-container");
    common::wait_kill_container_done(&agent, WAIT, &c.id);
    wait_until(WAIT, "container stopped", || c.status() == "exited");
}

#[test]
fn kill_process_action_kills_only_that_process() {
    let _serial = common::serial();
    let name = unique("killproc");
    let c = Container::run(&name, &[], &["sleep", "300"]);
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        format!(
            "rules:\n  - id: network-tool-in-container\n    append: true\n    condition: and container.name = {name}\n    actions: [kill-process]\n"
        ),
    )
    .unwrap();
    let agent = TestAgent::start(&format!("rules_files: [{}]\n", rules.display()));
    c.exec_detached(&["nc", "-l", "-p", "7777"]);
    let a = agent.wait_record(WAIT, "nc alert", |v| {
        is_alert(v, "network-tool-in-container", &c.id)
    });
    let pid = a["process"]["pid"].as_u64().unwrap();
    let r = agent.wait_record(WAIT, "kill response", |v| {
        v["record"] == "response" && v["request"]["pid"] == pid
    });
    assert_eq!(r["status"], "done", "{r}");
    wait_until(WAIT, "nc gone", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });
    assert_eq!(c.status(), "running", "the container itself keeps running");
}

#[test]
fn baseline_learned_then_locked_flags_a_new_process_and_survives_restart() {
    let _serial = common::serial();
    let c = Container::run(
        &unique("baseline"),
        &[],
        &["sh", "-c", "while true; do sleep 0.2; done"],
    );
    // Learn for 3 seconds: the loop's `sleep` is learned.
    let agent = TestAgent::start("baseline:\n  learn_window_secs: 3\nsave_interval_secs: 1\n");
    let key = format!("container/{}", c.name);
    let state = agent.state_dir();
    wait_until(WAIT, "baseline learned sleep and locked", || {
        let store: serde_json::Value = std::fs::read_to_string(state.join("baselines.json"))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let b = &store["baselines"][key.as_str()];
        b["phase"] == "locked"
            && b["processes"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "sleep"))
    });
    c.exec(&["sh", "-c", "/bin/sleep 1 | /bin/cat"]);
    let a = agent.wait_record(WAIT, "baseline anomaly", |v| {
        is_alert(v, "baseline-anomaly", &c.id) && v["process"]["name"] == "cat"
    });
    assert_eq!(a["baseline"], key.as_str());
    // Known programs are not anomalies: once a later new program (`tail`, started after the
    // loop's `sleep`s) is flagged, the agent has judged every one of those `sleep`s.
    c.exec(&["sh", "-c", "/bin/sleep 1 | /bin/tail"]);
    agent.wait_record(WAIT, "anomaly marker", |v| {
        is_alert(v, "baseline-anomaly", &c.id) && v["process"]["name"] == "tail"
    });
    assert!(
        !agent
            .records()
            .iter()
            .any(|v| { is_alert(v, "baseline-anomaly", &c.id) && v["process"]["name"] == "sleep" })
    );

    // Restart on the same state directory: the locked baseline is enforced at once.
    let dir = agent.stop();
    let stored = std::fs::read_to_string(dir.path().join("state/baselines.json")).unwrap();
    assert!(
        stored.contains("\"cat\""),
        "the anomaly is recorded in the baseline"
    );
    std::fs::remove_file(dir.path().join("alerts.jsonl")).unwrap();
    let agent = TestAgent::start_in(dir, "baseline:\n  learn_window_secs: 3\n");
    c.exec(&["sh", "-c", "/bin/sleep 1 | /bin/head"]);
    agent.wait_record(WAIT, "anomaly after restart", |v| {
        is_alert(v, "baseline-anomaly", &c.id) && v["process"]["name"] == "head"
    });
}

#[test]
fn flows_and_connect_rules_from_a_pods_sockets() {
    let _serial = common::serial();
    let pod = unique("flowpod");
    let c = Container::run_in_pod(
        &pod,
        &unique("flows"),
        &[
            "sh",
            "-c",
            "sleep 300 | nc -l -p 8080 >/dev/null & sleep 300 | nc -l -p 10250 >/dev/null & \
             sleep 1; sleep 300 | nc 127.0.0.1 8080 >/dev/null & \
             sleep 300 | nc 127.0.0.1 10250 >/dev/null & wait",
        ],
    );
    let agent = TestAgent::start("net_interval_ms: 200\n");
    let flow = common::wait_jsonl(&agent.flows_path(), WAIT, "flow to 8080", |f| {
        f["port"] == 8080 && f["src"]["pod"] == pod.as_str()
    });
    // Both ends are this pod, over loopback; the format is palisade_model::flow::Flow.
    assert_eq!(flow["protocol"], "TCP");
    assert_eq!(flow["src"]["ip"], "127.0.0.1");
    assert_eq!(flow["dst"]["ip"], "127.0.0.1");
    assert_eq!(flow["dst"]["pod"], pod.as_str());
    let parsed: palisade_model::flow::Flow = serde_json::from_value(flow.clone()).unwrap();
    assert_eq!(parsed.port, 8080);
    assert!(parsed.timestamp.ends_with('Z'));
    // The connection to port 10250 (the kubelet's) raises the connect rule, with the
    // process that owns the socket.
    let a = agent.wait_record(WAIT, "kubernetes-api-contact", |v| {
        is_alert(v, "kubernetes-api-contact", &c.id)
    });
    assert_eq!(a["event"], "connect");
    assert_eq!(a["connection"]["remote"], "127.0.0.1:10250");
    assert_eq!(a["connection"]["direction"], "outbound");
    assert_eq!(a["process"]["name"], "nc");
    // Each distinct flow is written once. A connection opened now (to port 8081) is written by
    // a later scan than the 8080 flow, so once it is in the file, so is everything that scan
    // of the 8080 connection wrote.
    c.exec_detached(&["sh", "-c", "sleep 300 | nc -l -p 8081 >/dev/null"]);
    c.wait_listening(8081, WAIT);
    c.exec_detached(&["sh", "-c", "sleep 300 | nc 127.0.0.1 8081 >/dev/null"]);
    common::wait_jsonl(&agent.flows_path(), WAIT, "flow to 8081", |f| {
        f["port"] == 8081 && f["src"]["pod"] == pod.as_str()
    });
    let n = common::read_jsonl(&agent.flows_path())
        .iter()
        .filter(|f| f["port"] == 8080 && f["src"]["pod"] == pod.as_str())
        .count();
    assert_eq!(n, 1);
}

#[test]
fn polling_source_sees_long_lived_processes() {
    let _serial = common::serial();
    let c = Container::run(&unique("poll"), &[], &["sleep", "300"]);
    let agent = TestAgent::start("source: proc-poll\npoll_interval_ms: 100\n");
    assert_eq!(agent.handle.as_ref().unwrap().source(), "proc-poll");
    // Two commands, so the shell stays (a lone command would be exec'd in its place).
    c.exec_detached(&["sh", "-c", "sleep 5; true"]);
    agent.wait_record(WAIT, "shell seen by polling", |v| {
        is_alert(v, "shell-in-container", &c.id)
    });
}

#[test]
fn image_and_labels_come_from_podman() {
    let _serial = common::serial();
    let c = Container::run(
        &unique("labels"),
        &[
            "--label",
            "io.kubernetes.pod.namespace=shop",
            "--label",
            "io.kubernetes.pod.name=web-7d9f8b6c4-x2k9q",
            "--label",
            "io.kubernetes.container.name=nginx",
        ],
        &["sleep", "300"],
    );
    let agent = TestAgent::start("");
    c.exec(&["sh", "-c", "sleep 1; true"]);
    let a = agent.wait_record(WAIT, "alert", |v| is_alert(v, "shell-in-container", &c.id));
    assert_eq!(a["container"]["namespace"], "shop");
    assert_eq!(a["container"]["pod"], "web-7d9f8b6c4-x2k9q");
    assert_eq!(a["container"]["workload"], "Deployment/web");
    assert_eq!(a["container"]["name"], "nginx");
    let _ = podman(&["inspect", "--format", "{{.Id}}", &c.id]);
}

#[test]
fn the_pod_uid_comes_from_the_cri_label() {
    let _serial = common::serial();
    let uid = "6b1f0c2e-9d3a-4e57-8c21-3f0a9b7d5e14";
    let c = Container::run(
        &unique("poduid"),
        &[
            "--label",
            "io.kubernetes.pod.namespace=shop",
            "--label",
            "io.kubernetes.pod.name=db-0",
            "--label",
            &format!("io.kubernetes.pod.uid={uid}"),
            "--label",
            "io.kubernetes.container.name=postgres",
        ],
        &["sleep", "300"],
    );
    let agent = TestAgent::start("");
    c.exec(&["sh", "-c", "sleep 1; true"]);
    let a = agent.wait_record(WAIT, "alert", |v| is_alert(v, "shell-in-container", &c.id));
    assert_eq!(a["container"]["namespace"], "shop", "{a}");
    assert_eq!(a["container"]["pod"], "db-0", "{a}");
    assert_eq!(a["container"]["pod_id"], uid, "{a}");
    assert_eq!(a["container"]["name"], "postgres", "{a}");
}

/// With `cgroup_root` naming the node's hierarchy through a `/proc/PID/root` link (as the
/// manifests do, for an agent whose own cgroup namespace shows only its own cgroup; a hybrid
/// system's root means its `unified` hierarchy), the eBPF source attributes a container
/// started after the agent by its cgroup ID.
#[test]
fn bpf_attribution_through_a_configured_cgroup_root() {
    let _serial = common::serial();
    let agent = TestAgent::start(
        "source: bpf\ncgroup_root: /proc/self/root/sys/fs/cgroup\nnet_interval_ms: 0\n",
    );
    let c = Container::run(&unique("cgroot"), &[], &["sleep", "300"]);
    c.exec(&["sh", "-c", "sleep 1; echo cgroot"]);
    let a = agent.wait_record(WAIT, "shell-in-container", |v| {
        is_alert(v, "shell-in-container", &c.id)
            && v["process"]["args"][2] == "sleep 1; echo cgroot"
    });
    assert_eq!(a["container"]["name"], c.name.as_str());
    assert!(a["process"]["missing"].is_null(), "{a}");
}
