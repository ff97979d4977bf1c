//! A `palisade central serve` process for tests: started on a free loopback port with its own
//! data directory (or a PostgreSQL URL), its address and admin token read from what it prints,
//! its logs collected, and an HTTPS client trusting the CA it generated.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::cli::palisade;

/// A running central.
pub struct Central {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Its data directory.
    pub data: PathBuf,
    /// What it printed on stdout.
    pub stdout: Arc<Mutex<Vec<String>>>,
    /// What it logged on stderr.
    pub stderr: Arc<Mutex<Vec<String>>>,
    client: reqwest::blocking::Client,
}

/// An answer: status and JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body as JSON.
    pub json: Value,
    /// Body as text.
    pub text: String,
}

fn collect(
    pipe: impl std::io::Read + Send + 'static,
    lines: Arc<Mutex<Vec<String>>>,
    tx: Option<std::sync::mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(tx) = &tx
                && let Some(addr) = line.strip_prefix("palisade central listening on https://")
            {
                let _ = tx.send(addr.to_string());
            }
            lines.lock().unwrap().push(line);
        }
    });
}

impl Reply {
    /// Fails the test unless the status is `status`; returns the reply.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status, status, "{}", self.text);
        self
    }
}

impl Central {
    /// Starts central on `data` (SQLite inside unless `database` is given) with `extra`
    /// arguments; returns once it accepts connections.
    pub fn start(data: &Path, database: Option<&str>, extra: &[&str]) -> Central {
        Central::start_trusting(data, database, extra, &data.join("tls/ca.pem"))
    }

    /// [`Central::start`] with clients trusting the CA in `ca` (for `--tls-cert`).
    pub fn start_trusting(
        data: &Path,
        database: Option<&str>,
        extra: &[&str],
        ca: &Path,
    ) -> Central {
        Central::start_at("127.0.0.1:0", data, database, extra, ca)
    }

    /// Starts central again on the data directory (SQLite) and address of one that was killed.
    pub fn restart(data: &Path, addr: &str) -> Central {
        Central::start_at(addr, data, None, &[], &data.join("tls/ca.pem"))
    }

    fn start_at(
        addr: &str,
        data: &Path,
        database: Option<&str>,
        extra: &[&str],
        ca: &Path,
    ) -> Central {
        let mut cmd = palisade(&["central", "serve", "--addr", addr, "--data"])
            .arg(data)
            .args(extra)
            .env_remove("PALISADE_DATABASE_URL")
            .env_remove("RUST_LOG")
            .command();
        if let Some(url) = database {
            cmd.arg("--database").arg(url);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start palisade central serve");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        collect(child.stdout.take().unwrap(), stdout.clone(), Some(tx));
        collect(child.stderr.take().unwrap(), stderr.clone(), None);
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "central did not start:\n{}\n{}",
                    stdout.lock().unwrap().join("\n"),
                    stderr.lock().unwrap().join("\n")
                );
            }
        };
        let ca = std::fs::read(ca).expect("the CA clients trust");
        let client = reqwest::blocking::Client::builder()
            .tls_certs_only(reqwest::Certificate::from_pem_bundle(&ca).unwrap())
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        Central {
            child,
            addr,
            data: data.to_path_buf(),
            stdout,
            stderr,
            client,
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The CA file clients trust.
    pub fn ca(&self) -> PathBuf {
        self.data.join("tls/ca.pem")
    }

    /// The admin token of this data directory.
    pub fn admin(&self) -> String {
        std::fs::read_to_string(self.data.join("admin.token"))
            .expect("admin token file")
            .trim()
            .to_string()
    }

    fn send(&self, request: reqwest::blocking::RequestBuilder, token: Option<&str>) -> Reply {
        let request = match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        let response = request.send().expect("request to central");
        let status = response.status().as_u16();
        let text = response.text().unwrap_or_default();
        Reply {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    /// `GET path` with `token`.
    pub fn get(&self, token: Option<&str>, path: &str) -> Reply {
        self.send(self.client.get(format!("{}{path}", self.url())), token)
    }

    /// `DELETE path` with `token`.
    pub fn delete(&self, token: Option<&str>, path: &str) -> Reply {
        self.send(self.client.delete(format!("{}{path}", self.url())), token)
    }

    /// `POST path` with a snapshot stream (`application/x-ndjson`), sent chunked.
    pub fn post_stream(&self, token: Option<&str>, path: &str, body: &str) -> Reply {
        let request = self
            .client
            .post(format!("{}{path}", self.url()))
            .header("content-type", "application/x-ndjson")
            .body(reqwest::blocking::Body::new(std::io::Cursor::new(
                body.as_bytes().to_vec(),
            )));
        self.send(request, token)
    }

    /// `POST path` with a JSON body, gzip-compressed when `gzip`.
    pub fn post(&self, token: Option<&str>, path: &str, body: &[u8], gzip: bool) -> Reply {
        let mut request = self
            .client
            .post(format!("{}{path}", self.url()))
            .header("content-type", "application/json");
        let body = if gzip {
            request = request.header("content-encoding", "gzip");
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(body).unwrap();
            encoder.finish().unwrap()
        } else {
            body.to_vec()
        };
        self.send(request.body(body), token)
    }

    /// `POST path` with a JSON value.
    pub fn post_json(&self, token: Option<&str>, path: &str, body: &Value) -> Reply {
        self.post(token, path, body.to_string().as_bytes(), false)
    }

    /// Sends only the head of `POST path` (HTTP/1.1, `token`, a declared body of
    /// `content_length` bytes, none of them sent) and returns the status central answers
    /// with; panics when no answer comes within 30 s (central waiting for the body).
    pub fn post_head_only(&self, token: &str, path: &str, content_length: u64) -> u16 {
        use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
        let ca = std::fs::read(self.ca()).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(CertificateDer::pem_slice_iter(&ca).map(Result::unwrap));
        let mut config = rustls::ClientConfig::builder_with_provider(
            rustls::crypto::aws_lc_rs::default_provider().into(),
        )
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .expect("TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tcp = std::net::TcpStream::connect(&self.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let host = self.addr.rsplit_once(':').unwrap().0.to_string();
        let conn =
            rustls::ClientConnection::new(Arc::new(config), ServerName::try_from(host).unwrap())
                .unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        write!(
            tls,
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n",
            self.addr
        )
        .unwrap();
        tls.flush().unwrap();
        let mut status_line = String::new();
        BufReader::new(tls)
            .read_line(&mut status_line)
            .unwrap_or_else(|e| panic!("no answer to the head of POST {path}: {e}"));
        status_line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP status line: {status_line:?}"))
    }

    /// Creates a token through the API with the admin token; returns the secret.
    pub fn token(&self, role: &str, cluster: Option<&str>, name: &str) -> String {
        let mut body = serde_json::json!({"name": name, "role": role});
        if let Some(c) = cluster {
            body["cluster"] = c.into();
        }
        let r = self.post_json(Some(&self.admin()), "/api/v1/tokens", &body);
        assert_eq!(r.status, 201, "{}", r.text);
        r.json["token"].as_str().unwrap().to_string()
    }

    /// Everything logged so far.
    pub fn logs(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Everything printed so far.
    pub fn printed(&self) -> String {
        self.stdout.lock().unwrap().join("\n")
    }

    /// SIGKILL, no shutdown.
    pub fn kill9(mut self) {
        self.child.kill().expect("kill central");
        self.child.wait().expect("reap central");
    }
}

impl Drop for Central {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
