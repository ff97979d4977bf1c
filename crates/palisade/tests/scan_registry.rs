//! `palisade scan --registry` end to end: manifests reference images in a real docker-registry
//! on loopback; the scan resolves them, verifies the signatures the config requires and matches
//! their packages against a database imported from ../shared/vulndata, and the image policy
//! checks (PAL-094 signature, PAL-095 fixable vulnerabilities, PAL-096 notorious ones) decide on
//! those facts.

#![cfg(feature = "registry-facts")]

use std::path::{Path, PathBuf};

use palisade_trust::KeyAlgorithm;
use palisade_trust::private::{ScryptParams, generate_key_pair};
use serde_json::Value;

mod support;

use support::cli::{Palisade, palisade};
use support::registry::{Registry, push};

/// The binary with `home` as its whole environment of credentials, keys and databases.
fn in_home(home: &Path, args: &[&str]) -> Palisade {
    palisade(args)
        .env("DOCKER_CONFIG", home.join("docker"))
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("COSIGN_PASSWORD", "test-password")
        .env("NO_COLOR", "1")
        .env_remove("PALISADE_DB")
}

fn vulndata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

/// Debian 10 with sudo 1.8.27-1+deb10u2: CVE-2021-3156 ("Baron Samedit", on the notorious
/// list) is fixed in 1.8.27-1+deb10u3 by DSA-4839-1.
const OS_RELEASE: &[u8] =
    b"NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"10\"\nVERSION_CODENAME=buster\nID=debian\n";
const DPKG_STATUS: &[u8] = b"Package: sudo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.8.27-1+deb10u2\nDescription: Provide limited super user privileges to specific users\n";

fn findings_of<'a>(report: &'a Value, check: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == check)
        .collect()
}

#[test]
fn registry_facts_drive_signature_and_vulnerability_checks() {
    let registry = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();

    // Two images: `api` carries vulnerable sudo and stays unsigned; `web` is clean and signed.
    let api = format!("{}/shop/api:1.0", registry.addr);
    let web = format!("{}/shop/web:1.0", registry.addr);
    push(
        &api,
        &[
            ("etc/os-release", OS_RELEASE),
            ("var/lib/dpkg/status", DPKG_STATUS),
        ],
    );
    let web_digest = push(&web, &[("etc/os-release", OS_RELEASE)]);

    let pair = generate_key_pair(
        KeyAlgorithm::EcdsaP256,
        b"test-password",
        ScryptParams {
            n: 1024,
            r: 8,
            p: 1,
        },
    )
    .unwrap();
    std::fs::write(h.join("cosign.key"), &pair.private_pem).unwrap();
    std::fs::write(h.join("cosign.pub"), &pair.public_pem).unwrap();
    let key = h.join("cosign.key");
    let out = in_home(h, &["image", "sign", &web, "--key", key.to_str().unwrap()]).output();
    assert!(
        out.status.success(),
        "sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The vulnerability database: the Debian security tracker lists.
    let db = h.join("vuln.db");
    let data = vulndata();
    let out = in_home(
        h,
        &[
            "db",
            "import",
            "--db",
            db.to_str().unwrap(),
            data.join("debian/DSA-list").to_str().unwrap(),
        ],
    )
    .output();
    assert!(
        out.status.success(),
        "db import: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let manifests = h.join("manifests");
    std::fs::create_dir(&manifests).unwrap();
    std::fs::write(
        manifests.join("shop.yaml"),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {{app: shop}}\n  template:\n    metadata:\n      labels: {{app: shop}}\n    spec:\n      containers:\n        - name: api\n          image: {api}\n        - name: web\n          image: {web}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        h.join("palisade.yaml"),
        "images:\n  signatures:\n    - images: \"127.0.0.1:*/shop/*\"\n      keys: [cosign.pub]\n",
    )
    .unwrap();

    let config = h.join("palisade.yaml");
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            manifests.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
            "--check",
            "PAL-094,PAL-095,PAL-096",
        ];
        args.extend_from_slice(extra);
        let out = in_home(h, &args).output();
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out, report)
    };

    // Offline (no --registry): no facts, so the fact-based checks stay silent.
    let (out, offline) = scan(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(offline["summary"]["findings"], 0, "{offline:#}");
    assert!(offline.get("images").is_none());

    let (out, report) = scan(&["--registry", "--db", db.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");

    // Facts: both images resolved; web verified with our key, api unsigned.
    let images = &report["images"];
    assert_eq!(images[&web]["digest"], web_digest.as_str(), "{images:#}");
    assert_eq!(images[&web]["signature"]["status"], "verified");
    assert_eq!(
        images[&web]["signature"]["key_fingerprint"],
        pair.fingerprint.as_str()
    );
    assert_eq!(images[&api]["signature"]["status"], "unsigned");
    assert!(
        images[&api]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );

    // PAL-094 fires for api only.
    let unsigned = findings_of(&report, "PAL-094");
    assert_eq!(unsigned.len(), 1, "{report:#}");
    assert_eq!(unsigned[0]["container"], "api");
    assert!(
        unsigned[0]["message"]
            .as_str()
            .unwrap()
            .contains("no signature found")
    );

    // PAL-096: Baron Samedit in api's sudo, with its fixed version.
    let notorious = findings_of(&report, "PAL-096");
    assert_eq!(notorious.len(), 1, "{report:#}");
    let message = notorious[0]["message"].as_str().unwrap();
    assert!(message.contains("CVE-2021-3156"), "{message}");
    assert!(message.contains("1.8.27-1+deb10u3"), "{message}");

    // PAL-095 decides on severities: the Debian tracker lists carry none, so no fixable
    // vulnerability of api reaches the default blocking severities (critical, high).
    assert!(findings_of(&report, "PAL-095").is_empty(), "{report:#}");
    // web has no vulnerable package at all.
    assert!(
        images[&web]["vulnerabilities"]["fixable"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
