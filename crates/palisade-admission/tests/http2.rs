//! The server over HTTP/2 (negotiated by ALPN, as the API server does) and over HTTP/1.1, in
//! process: real TLS on loopback, real reviews, graceful shutdown.
#![cfg(feature = "server")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use palisade_admission::Admission;
use palisade_admission::certs::generate_today;
use palisade_admission::server::{Server, ServerOptions};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde_json::{Value, json};

fn review(uid: &str, privileged: bool) -> Vec<u8> {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "shop",
            "operation": "CREATE",
            "object": {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": "shop"},
                "spec": {"containers": [{"name": "c", "image": "registry.example.com/c:1.0",
                    "securityContext": if privileged {
                        json!({"privileged": true})
                    } else {
                        json!({"allowPrivilegeEscalation": false})
                    }}]}
            }
        }
    })
    .to_string()
    .into_bytes()
}

async fn tls_connect(
    addr: std::net::SocketAddr,
    ca_pem: &str,
    alpn: &[u8],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    connector
        .connect(ServerName::try_from("webhook.test.svc").unwrap(), tcp)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_over_http2_and_http1_then_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let certs = generate_today(&["webhook.test.svc".into()], 30).unwrap();
    let cert = dir.path().join("tls.crt");
    let key = dir.path().join("tls.key");
    std::fs::write(&cert, &certs.cert_pem).unwrap();
    std::fs::write(&key, &certs.key_pem).unwrap();
    let options = ServerOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        cert,
        key,
        ..ServerOptions::default()
    };
    let audited = Arc::new(AtomicUsize::new(0));
    let counter = audited.clone();
    let server = Server::bind(options, Admission::builtin())
        .await
        .unwrap()
        .with_audit_sink(Arc::new(move |record| {
            if record.outcome == palisade_admission::Outcome::Denied {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }));
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));

    // HTTP/2: several concurrent streams on one connection.
    let tls = tls_connect(addr, &certs.ca_pem, b"h2").await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let mut sender = sender.clone();
        tasks.push(tokio::spawn(async move {
            let uid = format!("h2-{i}");
            let req = Request::post("https://webhook.test.svc/validate")
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(review(&uid, i % 2 == 0))))
                .unwrap();
            let resp = sender.send_request(req).await.unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.version(), hyper::Version::HTTP_2);
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["response"]["uid"], uid.as_str());
            assert_eq!(v["response"]["allowed"], i % 2 != 0, "{v}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Eight denials were recorded.
    assert_eq!(audited.load(Ordering::SeqCst), 8);

    // HTTP/1.1 on another connection.
    let tls = tls_connect(addr, &certs.ca_pem, b"http/1.1").await;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::get("/metrics")
        .header("host", "webhook.test.svc")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains("palisade_admission_decisions_total{decision=\"denied\"} 8"),
        "{text}"
    );

    // Shutdown: run() returns and the port stops accepting.
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
