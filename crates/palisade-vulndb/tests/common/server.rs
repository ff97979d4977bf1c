//! A small real HTTP(S) server on 127.0.0.1 for the update tests: serves `/all.zip` and any
//! `/…/all.zip` (the given body, as osv.dev's bucket lays out ecosystems), `/redirect-plain` (a
//! redirect to a non-loopback plain-http URL) and 404 otherwise; records the paths asked for.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running server; stops when dropped.
pub struct TestServer {
    /// Port on 127.0.0.1.
    pub port: u16,
    /// Requests answered so far.
    pub requests: Arc<AtomicUsize>,
    /// The paths asked for, in order.
    pub paths: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate PEM, cert DER, key DER).
pub fn self_signed() -> (String, Vec<u8>, Vec<u8>) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    (
        ck.cert.pem(),
        ck.cert.der().to_vec(),
        ck.signing_key.serialize_der(),
    )
}

fn respond(stream: &mut dyn ReadWrite, body: &[u8], paths: &Mutex<Vec<String>>) {
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&req);
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    paths.lock().unwrap().push(path.clone());
    let response: Vec<u8> = match path.as_str() {
        p if p.ends_with("/all.zip") => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(body);
            r
        }
        "/redirect-plain" => b"HTTP/1.1 302 Found\r\nLocation: http://example.invalid/all.zip\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&response);
    let _ = stream.flush();
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

impl TestServer {
    /// Starts a server; with `tls = Some((cert_der, key_der))` it speaks HTTPS.
    pub fn start(body: Vec<u8>, tls: Option<(Vec<u8>, Vec<u8>)>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let config = tls.map(|(cert, key)| {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            Arc::new(
                rustls::ServerConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_no_client_auth()
                    .with_single_cert(
                        vec![rustls::pki_types::CertificateDer::from(cert)],
                        rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
                    )
                    .unwrap(),
            )
        });
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (stop2, requests2, paths2) = (stop.clone(), requests.clone(), paths.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = conn else { continue };
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                requests2.fetch_add(1, Ordering::SeqCst);
                match &config {
                    Some(cfg) => {
                        let Ok(server) = rustls::ServerConnection::new(cfg.clone()) else {
                            continue;
                        };
                        let mut tls = rustls::StreamOwned::new(server, tcp);
                        respond(&mut tls, &body, &paths2);
                        tls.conn.send_close_notify();
                        let _ = tls.flush();
                    }
                    None => {
                        let mut tcp = tcp;
                        respond(&mut tcp, &body, &paths2);
                    }
                }
            }
        });
        TestServer {
            port,
            requests,
            paths,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
