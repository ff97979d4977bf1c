//! `update` against real HTTP(S) servers on 127.0.0.1 with an rcgen certificate.

mod common;

use common::server::{TestServer, self_signed};
use common::{first_files, vulndata, zip_of};
use std::sync::Mutex;

use palisade_vulndb::{UpdateOptions, UpdateProgress, VulnDb};

fn osv_zip() -> Vec<u8> {
    zip_of(
        &first_files(&vulndata().join("osv/crates.io"), 30),
        "crates.io",
        &[],
    )
}

#[test]
fn https_download_with_an_explicitly_trusted_ca() {
    let (pem, cert, key) = self_signed();
    let server = TestServer::start(osv_zip(), Some((cert, key)));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let db = VulnDb::open_or_create(&dir.path().join("vuln.db")).unwrap();
    let url = format!("https://127.0.0.1:{}/all.zip", server.port);
    let options = UpdateOptions {
        ca_cert: Some(ca),
        ..UpdateOptions::default()
    };
    let report = db.update(std::slice::from_ref(&url), &options).unwrap();
    assert_eq!(report.records, 30);
    assert_eq!(report.error_count, 0);
    let status = db.status().unwrap();
    assert_eq!(status.advisories, 30);
    assert_eq!(status.sources[0].name, url);
    // The temporary download was removed.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".palisade-download-")),
        "{names:?}"
    );
}

#[test]
fn untrusted_certificate_is_rejected() {
    let (_, cert, key) = self_signed();
    let server = TestServer::start(osv_zip(), Some((cert, key)));
    let dir = tempfile::tempdir().unwrap();
    let db = VulnDb::open_or_create(&dir.path().join("vuln.db")).unwrap();
    let url = format!("https://127.0.0.1:{}/all.zip", server.port);
    let err = db
        .update(&[url], &UpdateOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert_eq!(db.status().unwrap().advisories, 0);
}

#[test]
fn plain_http_only_to_loopback_and_redirects_are_checked() {
    let server = TestServer::start(osv_zip(), None);
    let dir = tempfile::tempdir().unwrap();
    let db = VulnDb::open_or_create(&dir.path().join("vuln.db")).unwrap();
    let report = db
        .update(
            &[format!("http://127.0.0.1:{}/all.zip", server.port)],
            &UpdateOptions::default(),
        )
        .unwrap();
    assert_eq!(report.records, 30);
    let before = server.requests.load(std::sync::atomic::Ordering::SeqCst);
    let err = db
        .update(
            &["http://example.invalid/all.zip".to_string()],
            &UpdateOptions::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("refusing") && err.contains("https"), "{err}");
    let err = db
        .update(
            &[format!("http://127.0.0.1:{}/redirect-plain", server.port)],
            &UpdateOptions::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("redirect"), "{err}");
    assert_eq!(
        server.requests.load(std::sync::atomic::Ordering::SeqCst),
        before + 1,
        "only the redirecting request"
    );
    let err = db
        .update(
            &[format!("http://127.0.0.1:{}/missing.zip", server.port)],
            &UpdateOptions::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("404"), "{err}");
    let small = UpdateOptions {
        max_bytes: 1000,
        ..UpdateOptions::default()
    };
    let err = db
        .update(
            &[format!("http://127.0.0.1:{}/all.zip", server.port)],
            &small,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("limit"), "{err}");
}

/// Records what an update reports.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>, Mutex<u64>);

impl UpdateProgress for Recorder {
    fn download_started(&self, url: &str, length: Option<u64>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("start {url} {length:?}"));
    }
    fn downloaded(&self, bytes: u64) {
        *self.1.lock().unwrap() += bytes;
    }
    fn importing(&self, url: &str) {
        self.0.lock().unwrap().push(format!("import {url}"));
    }
}

#[test]
fn progress_reports_the_announced_length_every_byte_and_the_import() {
    let zip = osv_zip();
    let size = zip.len() as u64;
    let server = TestServer::start(zip, None);
    let dir = tempfile::tempdir().unwrap();
    let db = VulnDb::open_or_create(&dir.path().join("vuln.db")).unwrap();
    let url = format!("http://127.0.0.1:{}/all.zip", server.port);
    let progress = Recorder::default();
    let report = db
        .update_with_progress(
            std::slice::from_ref(&url),
            &UpdateOptions::default(),
            &progress,
        )
        .unwrap();
    assert_eq!(report.records, 30);
    assert_eq!(
        *progress.0.lock().unwrap(),
        [format!("start {url} Some({size})"), format!("import {url}")]
    );
    assert_eq!(*progress.1.lock().unwrap(), size);
}
