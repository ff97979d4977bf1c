//! Shared helpers for the real-container tests: a busybox image imported once per run,
//! containers removed on drop, an in-process agent writing to temp files, and polling
//! readers for its JSON-lines output.
//!
//! These tests need root, podman and crun configured by `scripts/setup/30-podman.sh`
//! (run by `scripts/test`); without them they fail with a message saying so.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use palisade_agent::output::AlertSink;
use palisade_agent::{AgentConfig, AgentHandle};

/// Serializes the container tests of one test binary: each starts an agent that watches
/// the whole node, so running them side by side would multiply every agent's load.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The test image, built from the host's busybox-static.
pub const IMAGE: &str = "localhost/palisade-agent-test:busybox";

pub use palisade_testkit::podman::podman;

/// Runs podman and returns whether it succeeded (no panic).
pub fn podman_ok(args: &[&str]) -> bool {
    Command::new("podman")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Imports the busybox test image as [`IMAGE`], once per test process.
pub fn image() -> &'static str {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        assert!(
            rustix::process::geteuid().is_root(),
            "the runtime agent tests need root (rootful podman, proc connector)"
        );
        let dir = tempfile::tempdir().unwrap();
        palisade_testkit::podman::import_busybox(dir.path(), IMAGE);
    });
    IMAGE
}

/// A container removed (with its pod, if any) when dropped.
pub struct Container {
    /// Full ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Pod name, when created in a pod.
    pub pod: Option<String>,
}

/// A unique name for this test process.
pub fn unique(prefix: &str) -> String {
    format!("pal-{prefix}-{}", std::process::id())
}

impl Container {
    /// Starts `podman run -d --network none` with `extra` options and `cmd`.
    pub fn run(name: &str, extra: &[&str], cmd: &[&str]) -> Container {
        let image = image();
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t", "0", name])
            .output();
        let mut args = vec!["run", "-d", "--name", name];
        if !extra.contains(&"--pod") {
            args.extend(["--network", "none"]);
        }
        args.extend(extra);
        args.push(image);
        args.extend(cmd);
        let id = podman(&args);
        Container {
            id,
            name: name.to_string(),
            pod: None,
        }
    }

    /// Creates a pod (`--network none`) and starts the container in it.
    pub fn run_in_pod(pod: &str, name: &str, cmd: &[&str]) -> Container {
        image();
        let _ = Command::new("podman")
            .args(["pod", "rm", "-f", "-t", "0", pod])
            .output();
        podman(&["pod", "create", "--network", "none", "--name", pod]);
        let mut c = Container::run(name, &["--pod", pod], cmd);
        c.pod = Some(pod.to_string());
        c
    }

    /// `podman exec` (waits for the command).
    pub fn exec(&self, cmd: &[&str]) -> String {
        let mut args = vec!["exec", self.name.as_str()];
        args.extend(cmd);
        let out = Command::new("podman").args(&args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `podman exec -d` (does not wait).
    pub fn exec_detached(&self, cmd: &[&str]) {
        let mut args = vec!["exec", "-d", self.name.as_str()];
        args.extend(cmd);
        podman(&args);
    }

    /// `State.Status` (`running`, `exited`, …).
    pub fn status(&self) -> String {
        podman(&["inspect", "--format", "{{.State.Status}}", &self.id])
    }

    /// Waits (up to `timeout`) until a TCP socket listens on `port` in the container's network
    /// namespace, as its socket tables (`/proc/PID/net/tcp`, `tcp6`) show.
    pub fn wait_listening(&self, port: u16, timeout: Duration) {
        let pid = self.pid();
        let local = format!(":{port:04X}");
        wait_until(timeout, &format!("a listener on port {port}"), || {
            ["tcp", "tcp6"].iter().any(|table| {
                std::fs::read_to_string(format!("/proc/{pid}/net/{table}"))
                    .unwrap_or_default()
                    .lines()
                    .skip(1)
                    .any(|l| {
                        let cols: Vec<&str> = l.split_whitespace().collect();
                        // local_address is column 1, the state column 3 (0A: LISTEN).
                        cols.len() > 3 && cols[1].ends_with(&local) && cols[3] == "0A"
                    })
            })
        });
    }

    /// PID of the container's first process on the host.
    pub fn pid(&self) -> u32 {
        podman(&["inspect", "--format", "{{.State.Pid}}", &self.id])
            .parse()
            .unwrap()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t", "0", &self.id])
            .output();
        if let Some(p) = &self.pod {
            let _ = Command::new("podman")
                .args(["pod", "rm", "-f", "-t", "0", p])
                .output();
        }
    }
}

/// The variable that runs the agent tests with another exec source (`bpf`,
/// `proc-connector`); unset, a test's agent uses its config's (default `auto`: eBPF when it
/// loads). `scripts/test` runs the container tests once more with `proc-connector`.
pub const SOURCE_VAR: &str = "PALISADE_TEST_EVENT_SOURCE";

/// Parses a test's agent config; a config that names no `source:` takes [`SOURCE_VAR`]'s.
pub fn config(yaml: &str) -> AgentConfig {
    let mut cfg = AgentConfig::parse(yaml).unwrap();
    if let Ok(source) = std::env::var(SOURCE_VAR)
        && !yaml.contains("source:")
    {
        cfg.source = AgentConfig::parse(&format!("source: {source}"))
            .unwrap_or_else(|e| panic!("{SOURCE_VAR}={source}: {e}"))
            .source;
    }
    cfg
}

/// Writes a rules file (`rules.yaml` in a fresh temp directory, returned with it).
pub fn rules_file(yaml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.yaml");
    std::fs::write(&path, yaml).unwrap();
    (dir, path)
}

/// An agent running in this process, writing alerts (and optionally flows) to temp files.
pub struct TestAgent {
    /// Temp directory holding state, alerts and flows.
    pub dir: tempfile::TempDir,
    /// The running agent (taken on stop).
    pub handle: Option<AgentHandle>,
}

impl TestAgent {
    /// Alerts file.
    pub fn alerts_path(&self) -> PathBuf {
        self.dir.path().join("alerts.jsonl")
    }

    /// Flows file.
    pub fn flows_path(&self) -> PathBuf {
        self.dir.path().join("flows.jsonl")
    }

    /// State directory.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Starts an agent with `yaml` config (state, alerts and flows paths are filled in).
    pub fn start(yaml: &str) -> TestAgent {
        let dir = tempfile::tempdir().unwrap();
        TestAgent::start_in(dir, yaml)
    }

    /// Starts an agent using an existing directory (e.g. to restart on the same state).
    pub fn start_in(dir: tempfile::TempDir, yaml: &str) -> TestAgent {
        let mut cfg = config(yaml);
        cfg.state_dir = dir.path().join("state");
        cfg.alerts = dir.path().join("alerts.jsonl").display().to_string();
        if cfg.flows.is_none() {
            cfg.flows = Some(dir.path().join("flows.jsonl"));
        }
        let handle = palisade_agent::start(cfg, None).expect("agent starts");
        TestAgent {
            dir,
            handle: Some(handle),
        }
    }

    /// Starts with alerts discarded (for agents whose output is not read).
    pub fn start_quiet(yaml: &str) -> TestAgent {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(yaml);
        cfg.state_dir = dir.path().join("state");
        let handle = palisade_agent::start(cfg, Some(AlertSink::Discard)).expect("agent starts");
        TestAgent {
            dir,
            handle: Some(handle),
        }
    }

    /// Stops the agent and returns the directory (state survives).
    pub fn stop(mut self) -> tempfile::TempDir {
        if let Some(h) = self.handle.take() {
            h.stop();
        }
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }

    /// JSON records in the alerts file so far.
    pub fn records(&self) -> Vec<serde_json::Value> {
        read_jsonl(&self.alerts_path())
    }

    /// Waits (up to `timeout`) for a record matching `pred`.
    pub fn wait_record(
        &self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = self.records().into_iter().find(|v| pred(v)) {
                return v;
            }
            if Instant::now() > deadline {
                let stats = self.handle.as_ref().map(|h| h.stats().snapshot());
                eprintln!("agent counters: {stats:#?}");
                return wait_jsonl(&self.alerts_path(), Duration::ZERO, what, pred);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.stop();
        }
    }
}

/// Reads a JSON-lines file (missing file: empty; a torn last line is skipped).
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Polls a JSON-lines file until a record matches.
pub fn wait_jsonl(
    path: &Path,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = read_jsonl(path).into_iter().find(|v| pred(v)) {
            return v;
        }
        if Instant::now() > deadline {
            let all = read_jsonl(path);
            let brief: Vec<String> = all
                .iter()
                .rev()
                .take(12)
                .map(|v| {
                    format!(
                        "{} {} {} {} {}",
                        v["record"],
                        v["rule"],
                        v["container"]["name"],
                        v["process"]["name"],
                        v["status"]
                    )
                })
                .collect();
            panic!(
                "no record for {what} within {timeout:?}; {} records, latest: {brief:#?}",
                all.len()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits for the response record of container `id` and checks it is a `kill-container` that
/// was done; returns it.
pub fn wait_kill_container_done(
    agent: &TestAgent,
    timeout: Duration,
    id: &str,
) -> serde_json::Value {
    let r = agent.wait_record(timeout, "response", |v| {
        v["record"] == "response" && v["container_id"] == id
    });
    assert_eq!(r["status"], "done", "{r}");
    assert_eq!(r["action"], "kill-container");
    r
}

/// Whether a record is an alert of `rule` for container `id`.
pub fn is_alert(v: &serde_json::Value, rule: &str, id: &str) -> bool {
    v["record"] == "alert" && v["rule"] == rule && v["container"]["id"] == id
}

/// Waits until `f` returns true.
pub fn wait_until(timeout: Duration, what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One request received by [`HttpsServer`].
#[derive(Debug, Clone)]
pub struct Received {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Lower-cased header names with values.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
}

/// A minimal HTTPS/1.1 server on 127.0.0.1 with a certificate from its own test CA; it
/// records every request and answers `200 OK` with an empty JSON object.
pub struct HttpsServer {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// PEM file of the CA that signed the server certificate.
    pub ca_file: PathBuf,
    /// Requests so far.
    pub received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    _dir: tempfile::TempDir,
}

impl HttpsServer {
    /// Starts the server on a free loopback port.
    pub fn start() -> HttpsServer {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        use std::sync::{Arc, Mutex};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "palisade agent test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca_cert.pem()).unwrap();

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap();
        let config = Arc::new(config);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let config = config.clone();
                let sink = sink.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    if let Some(r) = read_request(&mut tls) {
                        sink.lock().unwrap().push(r);
                        use std::io::Write;
                        let _ = tls.write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                        );
                        let _ = tls.flush();
                        tls.conn.send_close_notify();
                        let _ = tls.flush();
                    }
                });
            }
        });
        HttpsServer {
            url,
            ca_file,
            received,
            _dir: dir,
        }
    }

    /// Waits for a request matching `pred`.
    pub fn wait(&self, timeout: Duration, pred: impl Fn(&Received) -> bool) -> Received {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.received.lock().unwrap().iter().find(|r| pred(r)) {
                return r.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no matching request within {timeout:?}; got {:?}",
                self.received.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn read_request(s: &mut impl std::io::Read) -> Option<Received> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(16 << 20)];
    s.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
