//! The agent against real containers of the engines other than podman.
//!
//! - Docker (a private `dockerd` per test, `palisade_testkit::docker`): an exec inside a
//!   container is attributed to it with the ID, name and image Docker reports, read from the
//!   daemon's own `config.v2.json`; a `kill-container` response stops it through `docker stop`.
//! - containerd (a private `containerd` per test with `ctr`, `palisade_testkit::containerd`):
//!   a container placed in the cgroup kubelet gives a pod's container
//!   (`/kubepods/QOS/podUID/ID`), with the CRI annotations in its OCI spec, is attributed from
//!   the task bundle containerd writes. Without the CRI plugin, crictl and a kubelet (none is
//!   packaged in Debian bookworm) the agent's containerd `kill-container` (`crictl stop`) cannot
//!   run here, and a plain `ctr` container (cgroup `/NAMESPACE/ID`) is not recognized as a
//!   container at all: the last test pins that down.
//!
//! Needs root and `scripts/setup/32-docker.sh` (Debian's docker.io, containerd, runc).

mod common;

use std::time::Duration;

use common::{TestAgent, is_alert, unique, wait_until};
use palisade_testkit::containerd::Containerd;
use palisade_testkit::docker::{DOCKER, Dockerd};

const WAIT: Duration = Duration::from_secs(30);
const IMAGE: &str = "palisade-agent-test:busybox";

/// A private daemon with one busybox container running `sleep 300` (`--network none`).
struct DockerCase {
    dockerd: Dockerd,
    name: String,
    id: String,
    rules_dir: tempfile::TempDir,
}

impl DockerCase {
    fn start(prefix: &str) -> DockerCase {
        assert_root();
        let dockerd = Dockerd::start();
        dockerd.import_busybox(IMAGE);
        let name = unique(prefix);
        let id = dockerd.docker(&[
            "run",
            "-d",
            "--name",
            &name,
            "--network",
            "none",
            IMAGE,
            "sleep",
            "300",
        ]);
        DockerCase {
            dockerd,
            name,
            id,
            rules_dir: tempfile::tempdir().unwrap(),
        }
    }

    fn inspect(&self, format: &str) -> String {
        self.dockerd
            .docker(&["inspect", "--format", format, &self.id])
    }

    /// An agent reading this daemon's metadata and stopping its containers through it, with
    /// one rule: a shell in this container, with `actions`.
    fn agent(&self, actions: &str) -> TestAgent {
        let rules = self.rules_dir.path().join("rules.yaml");
        std::fs::write(
            &rules,
            format!(
                "rules:\n  - id: docker-shell\n    description: a shell in our Docker container\n    condition: container.name = {} and proc.name = sh\n    actions: [{actions}]\n",
                self.name
            ),
        )
        .unwrap();
        TestAgent::start(&format!(
            "builtin_rules: false\nrules_files: [{}]\nmetadata:\n  docker_root: {}\nresponse:\n  stop_timeout_secs: 1\n  docker: {DOCKER}\n  docker_host: {}\n",
            rules.display(),
            self.dockerd.data_root().display(),
            self.dockerd.host()
        ))
    }

    /// `docker exec` of a shell that lives a second (waits for it).
    fn exec_shell(&self) {
        self.dockerd.docker(&[
            "exec",
            &self.name,
            "sh",
            "-c",
            "echo hello; sleep 1; echo bye",
        ]);
    }
}

#[test]
fn docker_exec_is_attributed_to_its_container() {
    let _serial = common::serial();
    let c = DockerCase::start("docker-attr");
    assert_eq!(c.id.len(), 64, "docker run prints the full ID: {}", c.id);
    let agent = c.agent("alert");
    c.exec_shell();
    let a = agent.wait_record(WAIT, "docker-shell", |v| is_alert(v, "docker-shell", &c.id));
    assert_eq!(a["container"]["runtime"], "docker");
    assert_eq!(
        a["container"]["name"],
        c.inspect("{{.Name}}").trim_start_matches('/')
    );
    assert_eq!(a["container"]["name"], c.name.as_str());
    assert_eq!(a["container"]["image"], c.inspect("{{.Config.Image}}"));
    assert_eq!(a["container"]["image"], IMAGE);
    assert_eq!(a["process"]["exe"], "/bin/busybox");
    assert_eq!(a["process"]["args"][2], "echo hello; sleep 1; echo bye");
    assert_ne!(a["process"]["vpid"], 1, "not the entrypoint");
    assert_eq!(c.inspect("{{.State.Running}}"), "true", "alert only");
}

#[test]
fn kill_container_stops_a_docker_container_through_docker_stop() {
    let _serial = common::serial();
    let c = DockerCase::start("docker-stop");
    assert_eq!(c.inspect("{{.State.Running}}"), "true");
    let agent = c.agent("alert, kill-container");
    c.exec_shell();
    let a = agent.wait_record(WAIT, "docker-shell", |v| is_alert(v, "docker-shell", &c.id));
    assert_eq!(a["actions"][0], "kill-container");
    let r = common::wait_kill_container_done(&agent, WAIT, &c.id);
    let detail = r["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("-H {} stop", c.dockerd.host())),
        "{r}"
    );
    wait_until(WAIT, "the container stopped", || {
        c.inspect("{{.State.Running}}") == "false"
    });
    assert_eq!(c.inspect("{{.State.Status}}"), "exited");
}

fn assert_root() {
    assert!(
        rustix::process::geteuid().is_root(),
        "the engine tests need root (private daemons, the agent's event sources)"
    );
}

/// A fresh 64-hex container ID and a pod UID, unique to this test process and moment.
fn container_and_pod_ids() -> (String, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let pid = std::process::id();
    (
        format!("{nanos:032x}{pid:032x}"),
        format!("{pid:08x}-0000-4000-8000-{:012x}", nanos & 0xffff_ffff_ffff),
    )
}

/// An agent reading `containerd`'s task bundles, with one rule matching `condition`.
fn containerd_agent(containerd: &Containerd, dir: &std::path::Path, condition: &str) -> TestAgent {
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        format!("rules:\n  - id: ctr-shell\n    description: a shell in our containerd container\n    condition: {condition}\n"),
    )
    .unwrap();
    TestAgent::start(&format!(
        "builtin_rules: false\nrules_files: [{}]\nmetadata:\n  containerd_task_roots: [{}]\n",
        rules.display(),
        containerd.task_root().display()
    ))
}

/// Runs `/bin/sleep 300` from the busybox rootfs as container `id` (`ctr run -d --rootfs`
/// with `extra` options); returns its init process's `/proc/PID/cgroup`.
fn run_sleeper(ctd: &Containerd, extra: &[&str], id: &str) -> String {
    let rootfs = ctd.busybox_rootfs();
    let mut args = vec!["run", "-d", "--rootfs"];
    args.extend(extra);
    args.extend([rootfs.to_str().unwrap(), id, "/bin/sleep", "300"]);
    ctd.ctr(&args);
    let pid = ctd.task_pid(id).expect("the task runs");
    std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap()
}

/// `ctr task exec` of `sh -c SCRIPT` in container `id` (waits for it).
fn exec_shell(ctd: &Containerd, id: &str, script: &str) {
    ctd.ctr(&[
        "task",
        "exec",
        "--exec-id",
        "shell",
        id,
        "/bin/sh",
        "-c",
        script,
    ]);
}

/// The serial lock, a private containerd, and fresh container and pod IDs.
fn containerd_case() -> (
    std::sync::MutexGuard<'static, ()>,
    Containerd,
    String,
    String,
) {
    let serial = common::serial();
    assert_root();
    let (id, pod_uid) = container_and_pod_ids();
    (serial, Containerd::start(), id, pod_uid)
}

#[test]
fn containerd_exec_in_a_kubernetes_shaped_container_is_attributed_from_its_bundle() {
    let (_serial, ctd, id, pod_uid) = containerd_case();
    let cgroup = format!("/kubepods/besteffort/pod{pod_uid}/{id}");
    let annotations = [
        "io.kubernetes.cri.container-type=container".to_string(),
        "io.kubernetes.cri.sandbox-namespace=shop".to_string(),
        "io.kubernetes.cri.sandbox-name=web-7d9f8b6c4-x2k9q".to_string(),
        format!("io.kubernetes.cri.sandbox-uid={pod_uid}"),
        "io.kubernetes.cri.container-name=app".to_string(),
        "io.kubernetes.cri.image-name=registry.example/shop/app:1.0".to_string(),
    ];
    let mut extra = vec!["--cgroup", &cgroup];
    for a in &annotations {
        extra.extend(["--annotation", a]);
    }
    let cgroups = run_sleeper(&ctd, &extra, &id);
    assert!(cgroups.contains(&cgroup), "{cgroups}");
    let dir = tempfile::tempdir().unwrap();
    let condition = format!("container.id = {id} and proc.name = sh");
    let agent = containerd_agent(&ctd, dir.path(), &condition);
    exec_shell(&ctd, &id, "echo hello; sleep 1; echo bye");
    let a = agent.wait_record(WAIT, "ctr-shell", |v| is_alert(v, "ctr-shell", &id));
    let c = &a["container"];
    assert_eq!(c["runtime"], "containerd", "{a}");
    assert_eq!(c["namespace"], "shop");
    assert_eq!(c["pod"], "web-7d9f8b6c4-x2k9q");
    assert_eq!(c["pod_id"], pod_uid.as_str());
    assert_eq!(c["name"], "app");
    assert_eq!(c["image"], "registry.example/shop/app:1.0");
    assert_eq!(c["workload"], "Deployment/web");
    assert_eq!(a["process"]["args"][2], "echo hello; sleep 1; echo bye");
}

#[test]
fn a_plain_ctr_container_is_not_recognized_as_a_container() {
    let (_serial, ctd, id, _) = containerd_case();
    let cgroups = run_sleeper(&ctd, &[], &id);
    let plain = format!("/{}/{id}", palisade_testkit::containerd::NAMESPACE);
    assert!(cgroups.contains(&plain), "{cgroups}");
    let marker = format!("plain-ctr-{id}");
    let dir = tempfile::tempdir().unwrap();
    let condition = format!("proc.name = sh and proc.args contains {marker}");
    let agent = containerd_agent(&ctd, dir.path(), &condition);
    exec_shell(&ctd, &id, &format!("echo {marker}; sleep 1; true"));
    let a = agent.wait_record(WAIT, "ctr-shell", |v| {
        v["record"] == "alert" && v["rule"] == "ctr-shell"
    });
    // The cgroup `/NAMESPACE/ID` names no engine the agent knows: a host process.
    assert!(a["container"].is_null(), "{a}");
}
