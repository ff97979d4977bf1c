//! `palisade admission serve|manifests|review` end to end: the real binary, real HTTPS on
//! loopback (rustls on both sides, rcgen-made certificates), real AdmissionReviews.
//!
//! Expectations follow the Kubernetes documentation of admission webhooks: the response is an
//! `admission.k8s.io/v1` AdmissionReview whose `response.uid` echoes the request, a denial has
//! `allowed: false` and a `status` with code 403 and a message, warnings are plain strings, and
//! audit annotations are a string map.
#![cfg(feature = "admission")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde_json::{Value, json};

mod support;

use support::cli::palisade;

// ---------------------------------------------------------------------------------------------
// Certificates

struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

/// A fresh CA and a leaf certificate it issued for `name` (`client`: with the clientAuth
/// extended key usage).
fn issue(name: &str, client: bool) -> (Pki, rcgen::Certificate) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec![name.to_string()]).unwrap();
    if client {
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    }
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let pki = Pki {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    };
    (pki, cert)
}

fn pki(dns: &str) -> Pki {
    issue(dns, false).0
}

fn write_pki(dir: &Path, p: &Pki) -> (PathBuf, PathBuf) {
    let cert = dir.join("tls.crt");
    let key = dir.join("tls.key");
    // Replace atomically, as a Kubernetes Secret volume does.
    for (path, text) in [(&cert, &p.cert_pem), (&key, &p.key_pem)] {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, path).unwrap();
    }
    (cert, key)
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTPS/1.1 client on rustls

/// A client configuration builder trusting the CA certificates in `cas` (PEM).
fn client_builder(
    cas: &[&str],
) -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in cas {
        for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
}

/// HTTP/1.1 over the configuration.
fn http1(mut config: rustls::ClientConfig) -> Arc<rustls::ClientConfig> {
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

fn client_config(cas: &[&str]) -> Arc<rustls::ClientConfig> {
    http1(client_builder(cas).with_no_client_auth())
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn connect(addr: SocketAddr, config: &Arc<rustls::ClientConfig>, sni: &str) -> Tls {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let conn = rustls::ClientConnection::new(
        config.clone(),
        ServerName::try_from(sni.to_string()).unwrap(),
    )
    .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    tls
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn send(tls: &mut Tls, method: &str, path: &str, body: &[u8]) -> Reply {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).unwrap();
    tls.write_all(body).unwrap();
    tls.flush().unwrap();
    read_reply(tls)
}

fn read_reply(tls: &mut Tls) -> Reply {
    let mut reader = BufReader::new(tls);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("bad status line {line:?}"))
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

// ---------------------------------------------------------------------------------------------
// The webhook process

struct Webhook {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
    client: Arc<rustls::ClientConfig>,
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Webhook {
    fn start(args: &[&str]) -> Webhook {
        Webhook::start_with(args, None)
    }

    fn start_with(args: &[&str], config: Option<&str>) -> Webhook {
        let dir = tempfile::tempdir().unwrap();
        let p = pki("localhost");
        let (cert, key) = write_pki(dir.path(), &p);
        std::fs::write(dir.path().join("ca.pem"), &p.ca_pem).unwrap();
        let mut cmd = palisade(&["admission", "serve", "--addr", "127.0.0.1:0", "--tls-cert"])
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .args(args)
            .env_remove("PALISADE_CONFIG")
            .command();
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        if let Some(text) = config {
            let path = dir.path().join("palisade.yaml");
            std::fs::write(&path, text).unwrap();
            cmd.arg("--config").arg(path);
        }
        let mut child = cmd.spawn().expect("start palisade admission serve");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let lines = stderr.clone();
            let pipe = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("serving https://").nth(1) {
                        let addr = rest.split('/').next().unwrap_or("").to_string();
                        let _ = tx.send(addr);
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a.parse().unwrap(),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "server did not start: {:?}",
                    stderr.lock().unwrap().join("\n")
                );
            }
        };
        Webhook {
            child,
            addr,
            stderr,
            client: client_config(&[&p.ca_pem]),
            dir: dir.path().to_path_buf(),
            _dir: dir,
        }
    }

    fn connect(&self) -> Tls {
        connect(self.addr, &self.client, "localhost")
    }

    fn post(&self, body: &[u8]) -> Reply {
        send(&mut self.connect(), "POST", "/validate", body)
    }

    fn get(&self, path: &str) -> Reply {
        send(&mut self.connect(), "GET", path, b"")
    }

    /// Sends a review and returns the `response` object of the answer.
    fn review(&self, body: &[u8]) -> Value {
        let r = self.post(body);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), Some("application/json"));
        let v = r.json();
        assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(v["kind"], "AdmissionReview");
        v["response"].clone()
    }

    fn metric(&self, series: &str) -> f64 {
        let text = self.get("/metrics").text();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Reviews

fn review_body(uid: &str, operation: &str, namespace: &str, object: &Value) -> Vec<u8> {
    let kind = object["kind"].as_str().unwrap_or("");
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
            "name": object["metadata"]["name"],
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "dev@example.com", "groups": ["system:authenticated"]},
            "object": object,
            "dryRun": false
        }
    })
    .to_string()
    .into_bytes()
}

fn with(mut body: Vec<u8>, f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&body).unwrap();
    f(&mut v);
    body = v.to_string().into_bytes();
    body
}

/// A Deployment that passes every object-local check.
fn hardened() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "owner": "team-shop", "cost-center": "cc-7"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "serviceAccountName": "web",
                    "automountServiceAccountToken": false,
                    "hostUsers": false,
                    "topologySpreadConstraints": [{
                        "maxSkew": 1,
                        "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {"app": "web"}}
                    }],
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "web",
                        "image": "registry.example.com/shop/web@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                        "imagePullPolicy": "Always",
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}}
                    }]
                }
            }
        }
    })
}

fn privileged() -> Value {
    let mut d = hardened();
    d["spec"]["template"]["spec"]["hostPID"] = json!(true);
    d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    d
}

const CONFIG: &str = r#"
admission:
  modes:
    image-not-pinned: audit
  exempt_namespaces: ["kube-*"]
  exempt_labels:
    matchLabels: {palisade.dev/exempt: "true"}
custom_checks:
- id: ACME-001
  title: Workloads carry a cost-center label
  severity: high
  kinds: [Deployment]
  expression: "has(object.metadata.labels) && 'cost-center' in object.metadata.labels"
  message: no cost-center label
  remediation: Add metadata.labels.cost-center.
"#;

#[test]
fn decisions_over_https() {
    let hook = Webhook::start_with(&[], Some(CONFIG));

    // Allowed: nothing to say.
    let r = hook.review(&review_body("uid-allowed", "CREATE", "shop", &hardened()));
    assert_eq!(r["uid"], "uid-allowed");
    assert_eq!(r["allowed"], true);
    assert!(
        r.get("status").is_none() && r.get("warnings").is_none(),
        "{r}"
    );
    assert_eq!(r["auditAnnotations"]["decision"], "allowed");

    // Denied: 403, each violation listed with its remediation.
    let r = hook.review(&review_body("uid-denied", "CREATE", "shop", &privileged()));
    assert_eq!(r["uid"], "uid-denied");
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 403);
    let message = r["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("palisade denied Deployment shop/web: 2 violations"),
        "{message}"
    );
    assert!(
        message.contains("\n- PAL-001 ") && message.contains("\n- PAL-015 "),
        "{message}"
    );
    assert!(
        message.contains("(Remove"),
        "remediation missing: {message}"
    );

    // Warned: a medium finding (mutable `latest` tag) allows with a warning.
    let mut latest = hardened();
    latest["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:latest");
    let r = hook.review(&review_body("uid-warned", "CREATE", "shop", &latest));
    assert_eq!(r["allowed"], true);
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        warnings.iter().any(|w| w.starts_with("PAL-035 ")),
        "{warnings:?}"
    );
    // Audit: image-not-pinned is in audit mode: annotated, not warned.
    assert!(
        r["auditAnnotations"]["audited"]
            .as_str()
            .unwrap()
            .contains("PAL-036"),
        "{r}"
    );
    assert!(
        !warnings.iter().any(|w| w.starts_with("PAL-036 ")),
        "{warnings:?}"
    );

    // Exempt namespace and exempt labels: admitted without evaluation.
    let r = hook.review(&review_body(
        "uid-exempt",
        "CREATE",
        "kube-system",
        &privileged(),
    ));
    assert_eq!(r["allowed"], true);
    assert_eq!(r["auditAnnotations"]["decision"], "exempt");
    let mut labelled = privileged();
    labelled["metadata"]["labels"]["palisade.dev/exempt"] = json!("true");
    let r = hook.review(&review_body("uid-exempt-2", "CREATE", "shop", &labelled));
    assert_eq!(r["auditAnnotations"]["decision"], "exempt");

    // Break-glass: allowed, warned, annotated, and logged.
    let mut glass = privileged();
    glass["metadata"]["annotations"] =
        json!({"palisade.dev/break-glass": "INC-2231 payment outage"});
    let r = hook.review(&review_body("uid-glass", "CREATE", "shop", &glass));
    assert_eq!(r["allowed"], true);
    assert!(
        r["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("break-glass"),
        "{r}"
    );
    assert_eq!(
        r["auditAnnotations"]["break-glass"],
        "INC-2231 payment outage"
    );

    // Dry run: same answer, no audit log line.
    let dry = with(
        review_body("uid-dry-run", "CREATE", "shop", &privileged()),
        |v| v["request"]["dryRun"] = json!(true),
    );
    let r = hook.review(&dry);
    assert_eq!(r["allowed"], false);

    // UPDATE judges the new object.
    let upd = with(
        review_body("uid-update", "UPDATE", "shop", &privileged()),
        |v| v["request"]["oldObject"] = hardened(),
    );
    assert_eq!(hook.review(&upd)["allowed"], false);
    let upd = with(
        review_body("uid-update-2", "UPDATE", "shop", &hardened()),
        |v| v["request"]["oldObject"] = privileged(),
    );
    assert_eq!(hook.review(&upd)["allowed"], true);

    // Unknown kind: allowed, and the annotation says so.
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "shop"}, "spec": {"privileged": true}});
    let r = hook.review(&review_body("uid-crd", "CREATE", "shop", &widget));
    assert_eq!(r["allowed"], true);
    assert!(
        r["auditAnnotations"]["evaluated"]
            .as_str()
            .unwrap()
            .contains("Widget"),
        "{r}"
    );

    // The custom CEL check from --config is enforced (severity high).
    let mut unlabelled = hardened();
    unlabelled["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("cost-center");
    let r = hook.review(&review_body("uid-cel", "CREATE", "shop", &unlabelled));
    assert_eq!(r["allowed"], false);
    assert!(
        r["status"]["message"].as_str().unwrap().contains(
            "- ACME-001 Workloads carry a cost-center label: no cost-center label (Add metadata.labels.cost-center.)"
        ),
        "{r}"
    );

    // The audit log has the denial and the break-glass event, not the dry run. Audit lines are
    // written before the answer, so once the last audited request (the CEL denial, after the
    // dry run) is in, a line for the dry run would be too.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !hook.stderr().contains("uid-cel") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = hook.stderr();
    let events: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "palisade.admission")
        .collect();
    let by_uid = |uid: &str| events.iter().find(|e| e["record"]["uid"] == uid);
    assert_eq!(by_uid("uid-denied").unwrap()["record"]["outcome"], "denied");
    let glass = by_uid("uid-glass").unwrap();
    assert_eq!(glass["record"]["break_glass"], "INC-2231 payment outage");
    assert_eq!(glass["record"]["user"], "dev@example.com");
    assert!(
        by_uid("uid-dry-run").is_none(),
        "dry run left a trace: {log}"
    );

    // Metrics moved.
    assert_eq!(
        hook.metric("palisade_admission_decisions_total{decision=\"break_glass\"}"),
        1.0
    );
    assert_eq!(
        hook.metric("palisade_admission_decisions_total{decision=\"exempt\"}"),
        2.0
    );
    assert_eq!(hook.metric("palisade_admission_dry_run_reviews_total"), 1.0);
    assert!(hook.metric("palisade_admission_review_duration_seconds_count") >= 11.0);
}

#[test]
fn bad_requests_get_clear_http_errors() {
    let hook = Webhook::start(&["--max-body-bytes", "65536"]);

    let r = hook.post(b"{\"apiVersion\": \"admission.k8s.io/v1\", ");
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("not a valid AdmissionReview"),
        "{}",
        r.text()
    );

    let r = hook.post(br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}"#);
    assert_eq!(r.status, 400);
    assert!(
        r.text()
            .contains("expected admission.k8s.io/v1 AdmissionReview"),
        "{}",
        r.text()
    );

    let r = hook.post(br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","kind":{},"resource":{},"operation":"CREATE","object":{"kind":7}}}"#);
    assert_eq!(
        r.status, 200,
        "a readable review with a broken object is answered, not rejected"
    );
    assert_eq!(r.json()["response"]["allowed"], false);

    // Oversized, announced by Content-Length: refused before reading.
    // The server may answer and close before the body is written: tolerate write errors and
    // read what it sent.
    let mut tls = hook.connect();
    let _ = tls
        .write_all(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 70000\r\n\r\n")
        .and_then(|()| tls.write_all(&vec![b' '; 70_000]))
        .and_then(|()| tls.flush());
    let answer = String::from_utf8_lossy(&read_without_writing(&mut tls)).to_string();
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(
        answer.contains("request body of 70000 bytes exceeds the limit of 65536 bytes"),
        "{answer}"
    );

    // Oversized, chunked (no Content-Length): refused while reading.
    let mut tls = hook.connect();
    tls.write_all(
        b"POST /validate HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .unwrap();
    for _ in 0..20 {
        let chunk = vec![b' '; 8192];
        if tls
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .is_err()
            || tls.write_all(&chunk).is_err()
            || tls.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let _ = tls.write_all(b"0\r\n\r\n");
    let answer = String::from_utf8_lossy(&read_without_writing(&mut tls)).to_string();
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");

    assert_eq!(hook.get("/validate").status, 405);
    assert_eq!(hook.get("/validate").header("allow"), Some("POST"));
    assert_eq!(hook.get("/nope").status, 404);
    let h = hook.get("/healthz");
    assert_eq!((h.status, h.text().as_str()), (200, "ok\n"));
    assert_eq!(hook.get("/readyz").status, 200);
    let m = hook.get("/metrics");
    assert!(
        m.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert_eq!(
        hook.metric("palisade_admission_http_requests_total{path=\"/validate\",code=\"413\"}"),
        2.0
    );
    assert_eq!(
        hook.metric("palisade_admission_http_requests_total{path=\"/validate\",code=\"400\"}"),
        2.0
    );
}

/// Reads plaintext until the server closes, without ever writing (a plain read on a rustls
/// stream first flushes queued records, which fails once the server has closed).
fn read_without_writing(tls: &mut Tls) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        match tls.conn.read_tls(&mut tls.sock) {
            Ok(0) | Err(_) => return out,
            Ok(_) => {}
        }
        if tls.conn.process_new_packets().is_err() {
            return out;
        }
        let mut buf = [0u8; 4096];
        loop {
            match tls.conn.reader().read(&mut buf) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => return out,
            }
        }
    }
}

/// Waits for the server to close `tls`: Ok when it did, Err when it kept it open.
fn closed_by_server(tls: &mut Tls) -> Result<Vec<u8>, String> {
    tls.sock
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = Vec::new();
    match tls.read_to_end(&mut buf) {
        Ok(_) => Ok(buf),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Err(format!("still open after 30 s: {e}"))
        }
        // A TCP reset or an EOF without close_notify is a close too.
        Err(_) => Ok(buf),
    }
}

#[test]
fn slow_clients_are_cut_off_and_others_are_served() {
    let hook = Webhook::start(&[
        "--read-timeout",
        "1",
        "--handshake-timeout",
        "1",
        "--workers",
        "1",
    ]);
    // A TCP client that never starts TLS.
    let mut silent = TcpStream::connect(hook.addr).unwrap();
    // A TLS client that trickles its headers.
    let mut trickle_head = hook.connect();
    trickle_head
        .write_all(b"POST /validate HTTP/1.1\r\nHost: loc")
        .unwrap();
    // A TLS client that sends its headers and then trickles the body.
    let mut trickle_body = hook.connect();
    let body = review_body("uid-slow", "CREATE", "shop", &hardened());
    trickle_body
        .write_all(
            format!(
                "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    let trickler = std::thread::spawn(move || {
        for b in body.iter().take(30) {
            if trickle_body
                .write_all(&[*b])
                .and_then(|()| trickle_body.flush())
                .is_err()
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // The server may have answered and closed while bytes were still queued: read what it
        // sent without writing again.
        String::from_utf8_lossy(&read_without_writing(&mut trickle_body)).to_string()
    });

    // Meanwhile, with a single worker thread, everybody else is answered.
    for i in 0..20 {
        let r = hook.review(&review_body(
            &format!("uid-fast-{i}"),
            "CREATE",
            "shop",
            &privileged(),
        ));
        assert_eq!(r["allowed"], false);
    }
    let slow = trickler.join().unwrap();
    assert!(slow.starts_with("HTTP/1.1 408 "), "{slow}");
    assert!(
        slow.contains("request body not received within 1s"),
        "{slow}"
    );
    closed_by_server(&mut trickle_head).expect("slow headers must be cut off");
    silent
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = [0u8; 16];
    match silent.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("unexpected {n} bytes to a client that never said hello"),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "a client that never starts TLS was kept open: {e}"
        ),
    }
    assert!(hook.metric("palisade_admission_tls_handshake_failures_total") >= 1.0);
}

#[test]
fn concurrent_load_is_answered_correctly() {
    let hook = Arc::new(Webhook::start(&[]));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let hook = hook.clone();
            std::thread::spawn(move || {
                let mut tls = hook.connect();
                for i in 0..25 {
                    let uid = format!("uid-{t}-{i}");
                    let deny = (t + i) % 2 == 0;
                    let object = if deny { privileged() } else { hardened() };
                    let r = send(
                        &mut tls,
                        "POST",
                        "/validate",
                        &review_body(&uid, "CREATE", "shop", &object),
                    );
                    assert_eq!(r.status, 200);
                    let v = r.json();
                    assert_eq!(v["response"]["uid"], uid.as_str());
                    assert_eq!(v["response"]["allowed"], !deny, "{uid}: {v}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a load thread failed");
    }
    assert_eq!(
        hook.metric("palisade_admission_decisions_total{decision=\"denied\"}"),
        100.0
    );
    assert_eq!(
        hook.metric("palisade_admission_decisions_total{decision=\"allowed\"}"),
        100.0
    );
    assert_eq!(
        hook.metric("palisade_admission_http_requests_total{path=\"/validate\",code=\"200\"}"),
        200.0
    );
    assert_eq!(
        hook.metric("palisade_admission_review_duration_seconds_count"),
        200.0
    );
    assert_eq!(
        hook.metric("palisade_admission_findings_total{mode=\"enforce\"}"),
        200.0
    );
}

fn peer_cert(tls: &Tls) -> Vec<u8> {
    tls.conn.peer_certificates().unwrap()[0].to_vec()
}

fn pem_der(pem: &str) -> Vec<u8> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()
        .unwrap()
        .unwrap()
        .to_vec()
}

#[test]
fn certificate_files_are_hot_reloaded() {
    let hook = Webhook::start(&["--cert-reload-interval", "0.2"]);
    let first = hook.connect();
    let original = peer_cert(&first);

    // A broken replacement is refused; the server keeps its certificate.
    std::fs::write(hook.dir.join("tls.crt"), "not a certificate").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while hook.metric("palisade_admission_tls_reloads_total{result=\"failure\"}") < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the broken file was never noticed: {}",
            hook.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(peer_cert(&hook.connect()), original);
    assert!(hook.stderr().contains("keeping the previous one"));

    // A new pair from another CA: new connections see it.
    let next = pki("localhost");
    write_pki(&hook.dir, &next);
    // This client trusts only the new CA: its handshakes fail until the new pair is served.
    let fresh = client_config(&[&next.ca_pem]);
    let expected = pem_der(&next.cert_pem);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let tcp = TcpStream::connect(hook.addr).unwrap();
        let conn = rustls::ClientConnection::new(
            fresh.clone(),
            ServerName::try_from("localhost").unwrap(),
        )
        .unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut ok = true;
        while tls.conn.is_handshaking() {
            if tls.conn.complete_io(&mut tls.sock).is_err() {
                ok = false; // still the old certificate, unknown to this client
                break;
            }
        }
        if ok && peer_cert(&tls) == expected {
            let r = send(&mut tls, "GET", "/healthz", b"");
            assert_eq!(r.status, 200);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served: {}",
            hook.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(hook.metric("palisade_admission_tls_reloads_total{result=\"success\"}") >= 1.0);
    drop(first);
}

/// The server's start-up reaches the log collector: one JSON line on stderr with the address,
/// TLS and a configuration summary, and no key material.
#[test]
fn start_up_is_logged_as_json_on_stderr() {
    let hook = Webhook::start(&[]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let found = hook
            .stderr()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| {
                v["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("serving https://"))
            });
        match found {
            Some(line) => break line,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            None => panic!("no JSON start-up line on stderr: {}", hook.stderr()),
        }
    };
    assert_eq!(line["level"], "INFO", "{line}");
    assert_eq!(line["addr"], hook.addr.to_string(), "{line}");
    assert_eq!(line["tls"], true, "{line}");
    assert_eq!(line["client_auth"], "none", "{line}");
    assert!(line["checks"].as_u64().unwrap() > 0, "{line}");
    let time = line["timestamp"].as_str().unwrap();
    assert!(time.len() == 24 && time.ends_with('Z'), "{line}");
    assert!(!hook.stderr().contains("PRIVATE KEY"));
}

#[cfg(unix)]
#[test]
fn sigterm_drains_open_requests_and_exits_cleanly() {
    let mut hook = Webhook::start(&["--shutdown-grace", "20"]);
    let body = review_body("uid-inflight", "CREATE", "shop", &privileged());
    let mut tls = hook.connect();
    // `Expect: 100-continue` (RFC 9110 §10.1.1): the server answers 100 only once it is reading
    // the body, so when the signal arrives the request is certainly in flight, not merely
    // sitting unread in a socket buffer (an idle connection may rightly be closed).
    tls.write_all(
        format!(
            "POST /validate HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    tls.flush().unwrap();
    assert_eq!(read_reply(&mut tls).status, 100);
    let status = Command::new("kill")
        .args(["-TERM", &hook.child.id().to_string()])
        .status()
        .expect("kill is available");
    assert!(status.success());
    // The body arrives after the server has begun shutting down, which it has once it stops
    // accepting connections.
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(hook.addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting after SIGTERM: {}",
            hook.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    tls.write_all(&body).unwrap();
    tls.flush().unwrap();
    let r = read_reply(&mut tls);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["response"]["uid"], "uid-inflight");
    drop(tls);
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(s) = hook.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(code.success(), "exit status {code:?}: {}", hook.stderr());
    assert!(
        TcpStream::connect(hook.addr).is_err(),
        "still accepting after shutdown"
    );
}

/// Standard base64 (RFC 4648, with padding), to check `caBundle`.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn manifests_generate_working_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let out = palisade(&[
        "admission",
        "manifests",
        "--namespace",
        "guard",
        "--failure-policy",
        "ignore",
        "--timeout-seconds",
        "5",
        "--generate-certs",
    ])
    .arg(&certs)
    .output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    let ca = std::fs::read_to_string(certs.join("ca.crt")).unwrap();
    let expected = base64(ca.as_bytes());
    assert!(yaml.contains(&format!("caBundle: {expected}")), "{yaml}");
    assert!(yaml.contains("failurePolicy: Ignore") && yaml.contains("timeoutSeconds: 5"));
    assert!(yaml.contains("sideEffects: None"));
    assert!(yaml.contains("values: [\"guard\"]"), "{yaml}");

    // The generated pair serves TLS that verifies against the CA for the Service name.
    let mut child = palisade(&["admission", "serve", "--addr", "127.0.0.1:0", "--tls-cert"])
        .arg(certs.join("tls.crt"))
        .arg("--tls-key")
        .arg(certs.join("tls.key"))
        .command()
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .split("serving https://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("{line}"))
        .parse()
        .unwrap();
    let mut tls = connect(addr, &client_config(&[&ca]), "palisade-admission.guard.svc");
    let r = send(&mut tls, "GET", "/healthz", b"");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(r.status, 200);

    // Existing certificates are never overwritten.
    let again = palisade(&["admission", "manifests", "--generate-certs"])
        .arg(&certs)
        .output();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwritten"));
}

#[test]
fn review_command_decides_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.json");
    std::fs::write(
        &path,
        review_body("uid-file", "CREATE", "shop", &privileged()),
    )
    .unwrap();
    let out = palisade(&["admission", "review"])
        .arg(&path)
        .env_remove("PALISADE_CONFIG")
        .output();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["response"]["uid"], "uid-file");
    assert_eq!(v["response"]["status"]["code"], 403);
    std::fs::write(&path, "{").unwrap();
    let out = palisade(&["admission", "review"]).arg(&path).output();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid AdmissionReview"));
}

/// `--registry`: the webhook asks the registry before deciding (the same collector as
/// `palisade scan --registry`): an unsigned image under a signature policy is denied (PAL-094
/// is high, enforced by default); an image no policy covers is admitted.
#[cfg(feature = "registry-facts")]
#[test]
fn registry_facts_enforce_signatures_at_admission() {
    use palisade_trust::KeyAlgorithm;
    use palisade_trust::private::{ScryptParams, generate_key_pair};
    let registry = support::registry::Registry::start();
    let signed_policy = format!("{}/shop/web:1.0", registry.addr);
    let uncovered = format!("{}/tools/app:1.0", registry.addr);
    support::registry::push(&signed_policy, &[("etc/marker", b"web")]);
    support::registry::push(&uncovered, &[("etc/marker", b"app")]);
    let pair = generate_key_pair(
        KeyAlgorithm::EcdsaP256,
        b"unused",
        ScryptParams {
            n: 1024,
            r: 8,
            p: 1,
        },
    )
    .unwrap();
    let key: String = pair
        .public_pem
        .lines()
        .map(|l| format!("          {l}\n"))
        .collect();
    let config = format!(
        "images:\n  signatures:\n    - images: \"127.0.0.1:*/shop/*\"\n      keys:\n        - |\n{key}"
    );
    let hook = Webhook::start_with(
        &["--registry", "--db", "/nonexistent/vuln.db"],
        Some(&config),
    );
    let with_image = |image: &str| {
        let mut obj = hardened();
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
        review_body(
            "4b0e4a1c-3a0a-4c57-9a39-5f1ad3c1e2f0",
            "CREATE",
            "shop",
            &obj,
        )
    };
    let r = hook.review(&with_image(&signed_policy));
    assert_eq!(r["allowed"], false, "{r:#}");
    let message = r["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("PAL-094") && message.contains("no signature found"),
        "{message}"
    );
    let r = hook.review(&with_image(&uncovered));
    assert_eq!(r["allowed"], true, "{r:#}");
}

// ---------------------------------------------------------------------------------------------
// Client certificates

/// A client CA and a client certificate (EKU clientAuth) it issued, as PEM.
fn client_pki(
    name: &str,
) -> (
    String,
    Vec<CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
) {
    let (pki, cert) = issue(name, true);
    let key_der = rustls::pki_types::PrivateKeyDer::from_pem_slice(pki.key_pem.as_bytes()).unwrap();
    (pki.ca_pem, vec![cert.der().clone()], key_der)
}

/// The webhook's client configuration, presenting `cert` and `key`.
fn client_config_with_cert(
    server_ca: &str,
    cert: Vec<CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
) -> Arc<rustls::ClientConfig> {
    http1(
        client_builder(&[server_ca])
            .with_client_auth_cert(cert, key)
            .unwrap(),
    )
}

/// A request over a fresh connection, or the TLS error that ended it.
fn try_send(
    addr: SocketAddr,
    config: &Arc<rustls::ClientConfig>,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Reply, String> {
    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let conn = rustls::ClientConnection::new(
        config.clone(),
        ServerName::try_from("localhost".to_string()).unwrap(),
    )
    .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes())
        .and_then(|()| tls.write_all(body))
        .and_then(|()| tls.flush())
        .map_err(|e| e.to_string())?;
    let mut first = [0u8; 1];
    tls.read_exact(&mut first).map_err(|e| e.to_string())?;
    let mut rest = Vec::new();
    let _ = tls.read_to_end(&mut rest);
    let mut all = first.to_vec();
    all.extend(rest);
    let text = String::from_utf8_lossy(&all).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad reply {text:?}"))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok(Reply {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    })
}

#[test]
fn a_client_ca_gates_validate_and_metrics_but_not_probes() {
    let (client_ca, cert, key) = client_pki("kube-apiserver");
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("client-ca.pem");
    std::fs::write(&ca_path, &client_ca).unwrap();
    let hook = Webhook::start(&["--client-ca", ca_path.to_str().unwrap()]);
    let review = review_body("uid-mtls", "CREATE", "shop", &privileged());

    // No client certificate: probes answer, the review and the metrics do not.
    let anonymous = hook.client.clone();
    let close = |r: Result<Reply, String>| r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        close(try_send(hook.addr, &anonymous, "GET", "/healthz", b"")).status,
        200
    );
    assert_eq!(
        close(try_send(hook.addr, &anonymous, "GET", "/readyz", b"")).status,
        200
    );
    let r = close(try_send(
        hook.addr,
        &anonymous,
        "POST",
        "/validate",
        &review,
    ));
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.text().contains("client certificate"), "{}", r.text());
    assert_eq!(
        close(try_send(hook.addr, &anonymous, "GET", "/metrics", b"")).status,
        401
    );

    // A certificate from the client CA: served.
    let server_ca = std::fs::read_to_string(hook.dir.join("ca.pem")).unwrap();
    let trusted = client_config_with_cert(&server_ca, cert, key);
    let r = close(try_send(hook.addr, &trusted, "POST", "/validate", &review));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["response"]["uid"], "uid-mtls");
    assert_eq!(r.json()["response"]["allowed"], false);
    assert_eq!(
        close(try_send(hook.addr, &trusted, "GET", "/metrics", b"")).status,
        200
    );

    // A certificate from another CA: the handshake itself is refused (with TLS 1.3 the client
    // may see the server's alert or only the closed connection), and the server counts it.
    let handshake_failures = || {
        let text = close(try_send(hook.addr, &trusted, "GET", "/metrics", b"")).text();
        text.lines()
            .find_map(|l| {
                l.strip_prefix("palisade_admission_tls_handshake_failures_total ")?
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or(0.0)
    };
    let before = handshake_failures();
    let (_, other_cert, other_key) = client_pki("intruder");
    let untrusted = client_config_with_cert(&server_ca, other_cert, other_key);
    let result = try_send(hook.addr, &untrusted, "POST", "/validate", &review);
    assert!(result.is_err(), "served: {:?}", result.map(|r| r.text()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while handshake_failures() < before + 1.0 {
        assert!(
            Instant::now() < deadline,
            "the refused handshake was not counted"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// Overload and a bounded audit log (issue 24, items 3 and 4)

/// A Deployment with `n` privileged containers: each one a finding of several checks.
fn crowded(n: usize) -> Value {
    let mut d = privileged();
    let one = d["spec"]["template"]["spec"]["containers"][0].clone();
    d["spec"]["template"]["spec"]["containers"] = (0..n)
        .map(|i| {
            let mut c = one.clone();
            c["name"] = json!(format!("c{i}"));
            c
        })
        .collect();
    d
}

/// Waits until `metric` reaches `value` (polling /metrics).
fn await_metric(hook: &Webhook, series: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while hook.metric(series) < value {
        assert!(Instant::now() < deadline, "{series} never reached {value}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_full_decision_queue_answers_503_with_retry_after() {
    let hook = Arc::new(Webhook::start(&[
        "--decision-threads",
        "1",
        "--decision-queue",
        "0",
        "--review-timeout",
        "300",
    ]));
    let heavy = review_body("uid-heavy", "CREATE", "shop", &crowded(5000));
    let busy = {
        let hook = hook.clone();
        std::thread::spawn(move || hook.post(&heavy))
    };
    // The heavy review holds the only decision thread; nothing may wait.
    await_metric(&hook, "palisade_admission_reviews_in_flight", 1.0);
    let r = hook.post(&review_body(
        "uid-turned-away",
        "CREATE",
        "shop",
        &hardened(),
    ));
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.text().contains("decision queue is full"), "{}", r.text());
    // Probes are answered meanwhile.
    assert_eq!(hook.get("/healthz").status, 200);
    let heavy = busy.join().unwrap();
    assert_eq!(heavy.status, 200, "{}", heavy.text());
    assert_eq!(heavy.json()["response"]["allowed"], false);
    assert_eq!(
        hook.metric("palisade_admission_overload_rejections_total{reason=\"queue_full\"}"),
        1.0
    );
    assert_eq!(
        hook.metric("palisade_admission_http_requests_total{path=\"/validate\",code=\"503\"}"),
        1.0
    );
    // Once the thread is free, reviews are decided again.
    assert_eq!(
        hook.review(&review_body("uid-after", "CREATE", "shop", &hardened()))["allowed"],
        true
    );
}

/// A flood of denials is rate limited in the audit log: records over `--audit-rate` are
/// dropped, and a warning on stderr counts them once records are written again.
#[test]
fn audit_records_over_the_audit_rate_are_dropped_and_counted() {
    let logs = tempfile::tempdir().unwrap();
    let path = logs.path().join("audit.jsonl");
    let hook = Webhook::start(&["--audit-file", path.to_str().unwrap(), "--audit-rate", "1"]);
    let flood = 12;
    for i in 0..flood {
        let denied = review_body(&format!("flood-{i}"), "CREATE", "shop", &privileged());
        assert_eq!(hook.review(&denied)["allowed"], false, "flood-{i}");
    }
    // One token a second: after a pause the next record is written.
    std::thread::sleep(Duration::from_millis(1100));
    let last = review_body("after-pause", "CREATE", "shop", &privileged());
    assert_eq!(hook.review(&last)["allowed"], false);
    let uids: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["record"]["uid"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(uids.first().map(String::as_str), Some("flood-0"));
    assert_eq!(uids.last().map(String::as_str), Some("after-pause"));
    // Each flood record written took a token a second of the flood's own duration gave back.
    assert!(
        uids.len() < flood,
        "{} records written: {uids:?}",
        uids.len()
    );
    let dropped = flood + 1 - uids.len();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !hook
        .stderr()
        .contains("audit records over the audit rate were dropped")
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = hook.stderr();
    assert!(
        log.contains("audit records come faster than the audit rate"),
        "{log}"
    );
    assert!(log.contains(&format!("\"dropped\":{dropped},")), "{log}");
}

#[test]
fn audit_records_are_capped_and_the_audit_file_rotates_by_size() {
    let logs = tempfile::tempdir().unwrap();
    let path = logs.path().join("audit.jsonl");
    let hook = Webhook::start(&[
        "--audit-file",
        path.to_str().unwrap(),
        "--audit-max-bytes",
        "4096",
        "--audit-max-files",
        "1",
        "--review-timeout",
        "300",
    ]);
    let lines = |name: &str| -> Vec<Value> {
        std::fs::read_to_string(logs.path().join(name))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };

    // A review with thousands of violations: one short record with counts. The record is
    // written before the answer is sent.
    let r = hook.review(&review_body("uid-huge", "CREATE", "shop", &crowded(3000)));
    assert_eq!(r["allowed"], false);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.len() < 2048, "record of {} bytes: {text}", text.len());
    let record = &lines("audit.jsonl")[0]["record"];
    assert_eq!(record["uid"], "uid-huge");
    assert!(
        record["counts"]["enforced"].as_u64().unwrap() >= 3000,
        "{record}"
    );
    assert!(
        record["enforced"].as_array().unwrap().len() <= 20,
        "{record}"
    );
    assert!(
        record["enforced"]
            .as_array()
            .unwrap()
            .contains(&json!("PAL-001"))
    );
    assert!(
        !hook.stderr().contains("uid-huge"),
        "audit records went to stderr"
    );

    // Many denials: the file is rotated, one old file kept, each under the bound.
    let uids: Vec<String> = (0..40).map(|i| format!("uid-{i}")).collect();
    for uid in &uids {
        let denied = review_body(uid, "CREATE", "shop", &privileged());
        assert_eq!(hook.review(&denied)["allowed"], false, "{uid}");
    }
    for name in ["audit.jsonl", "audit.jsonl.1"] {
        let size = std::fs::metadata(logs.path().join(name)).unwrap().len();
        assert!(size <= 4096, "{name}: {size} bytes");
        assert!(
            lines(name)
                .iter()
                .all(|l| l["event"] == "palisade.admission")
        );
    }
    assert!(!logs.path().join("audit.jsonl.2").exists());
    let newest = lines("audit.jsonl");
    assert_eq!(newest.last().unwrap()["record"]["uid"], "uid-39");

    // The flags are documented.
    let (_, help, _) = palisade(&["admission", "serve", "--help"]).run();
    for flag in [
        "--audit-file",
        "--audit-max-bytes",
        "--audit-max-files",
        "--decision-threads",
        "--decision-queue",
        "--audit-rate",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}
