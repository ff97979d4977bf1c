//! The agent against real containers of the engines other than podman: Docker (a private
//! `dockerd` per test, `palisade_testkit::docker`). An exec inside a container is attributed
//! to it with the ID, name and image Docker reports, read from the daemon's own
//! `config.v2.json`; a `kill-container` response stops it through `docker stop`.
//!
//! Needs root and `scripts/setup/32-docker.sh` (Debian's docker.io, containerd, runc).

mod common;

use std::time::Duration;

use common::{TestAgent, is_alert, unique, wait_until};
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
        assert!(
            rustix::process::geteuid().is_root(),
            "the Docker tests need root (dockerd, the agent's event sources)"
        );
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
        self.dockerd.docker(&["inspect", "--format", format, &self.id])
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
        self.dockerd
            .docker(&["exec", &self.name, "sh", "-c", "echo hello; sleep 1; echo bye"]);
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
    assert_eq!(a["container"]["name"], c.inspect("{{.Name}}").trim_start_matches('/'));
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
    let r = agent.wait_record(WAIT, "response", |v| {
        v["record"] == "response" && v["container_id"] == c.id.as_str()
    });
    assert_eq!(r["status"], "done", "{r}");
    assert_eq!(r["action"], "kill-container");
    let detail = r["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("-H {} stop", c.dockerd.host())), "{r}");
    wait_until(WAIT, "the container stopped", || {
        c.inspect("{{.State.Running}}") == "false"
    });
    assert_eq!(c.inspect("{{.State.Status}}"), "exited");
}
