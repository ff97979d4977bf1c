//! Keyless (Sigstore) image signatures end to end: a test Fulcio-like CA, Rekor-like log and
//! CT log made in the test (`palisade_trust::sigstore::testing`), a keyless bundle attached to
//! an image in Debian's docker-registry on loopback as an OCI referrer (docker-registry 2.8 has
//! no referrers API, so it is found through the `sha256-<hex>` tag-schema fallback), or a
//! keyless signature in cosign's classic layout (a `sha256-<hex>.sig` layer with certificate,
//! chain and Rekor bundle annotations), then `palisade image verify --certificate-identity …`
//! and `palisade scan --registry` with a `keyless:` requirement through the real binary.

#![cfg(feature = "registry-facts")]

use std::path::Path;

use palisade_registry::PullOptions;
use palisade_trust::remote::{append_classic_with, attach_bundle_with};
use serde_json::Value;

mod support;

use palisade_trust::sigstore::testing::TestSigstore;
use support::cli::{Palisade, palisade};
use support::registry::{Registry, push};

const IDENTITY: &str =
    "https://github.com/acme/payments/.github/workflows/release.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn in_home(home: &Path, args: &[&str]) -> Palisade {
    palisade(args)
        .env("DOCKER_CONFIG", home.join("docker"))
        .env("HOME", home)
        .env("NO_COLOR", "1")
}

fn verify(home: &Path, image: &str, extra: &[&str]) -> (i32, Value, String) {
    let root = home.join("trusted_root.json");
    let mut args = vec![
        "image",
        "verify",
        image,
        "--trusted-root",
        root.to_str().unwrap(),
        "-f",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = in_home(home, &args).output();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (out.status.code().unwrap_or(-1), v, stderr)
}

/// A home holding `trusted_root.json` of `sigstore`.
fn home_trusting(sigstore: &TestSigstore) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("trusted_root.json"),
        sigstore.trusted_root(),
    )
    .unwrap();
    home
}

/// A registry, the test Sigstore and a home trusting it.
fn setup() -> (Registry, tempfile::TempDir, TestSigstore) {
    let sigstore = TestSigstore::new();
    (Registry::start(), home_trusting(&sigstore), sigstore)
}

#[test]
fn keyless_bundles_verify_by_identity_through_the_binary() {
    let (registry, home, sigstore) = setup();
    let h = home.path();

    let image = format!("{}/payments/api:1", registry.addr);
    let digest = push(&image, &[("etc/marker", b"api")]);
    let (_, signed, _) = attach_bundle_with(&image, &PullOptions::default(), |d, _| {
        Ok(sigstore.image_bundle(d, IDENTITY, ISSUER))
    })
    .unwrap();
    assert_eq!(signed, digest);

    // The right identity and issuer: verified, by the keyless signer.
    let (code, v, err) = verify(
        h,
        &image,
        &[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code, 0, "{v:#} {err}");
    assert_eq!(v["verification"]["digest"], digest.as_str());
    assert_eq!(v["verification"]["checks"][0]["layout"], "bundle");
    assert_eq!(
        v["verification"]["status"]["key_fingerprint"],
        format!("keyless {IDENTITY} (issuer {ISSUER})")
    );
    // A regular expression over the identity also matches.
    let (code, _, err) = verify(
        h,
        &image,
        &[
            "--certificate-identity-regexp",
            "https://github.com/acme/.*@refs/heads/main",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code, 0, "{err}");

    // A wrong identity or issuer: invalid, with the reason.
    let (code, v, _) = verify(
        h,
        &image,
        &[
            "--certificate-identity",
            "https://github.com/acme/other/.github/workflows/release.yml@refs/heads/main",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code, 1);
    let reasons = v["verification"]["status"]["reasons"].to_string();
    assert!(reasons.contains("certificate identity"), "{reasons}");
    let (code, v, _) = verify(
        h,
        &image,
        &[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            "https://accounts.google.com",
        ],
    );
    assert_eq!(code, 1);
    let reasons = v["verification"]["status"]["reasons"].to_string();
    assert!(reasons.contains("OIDC issuer"), "{reasons}");

    // A tampered image: another image carrying the bundle made for the first one.
    let other = format!("{}/payments/api:2", registry.addr);
    let other_digest = push(&other, &[("etc/marker", b"tampered")]);
    attach_bundle_with(&other, &PullOptions::default(), |_, _| {
        Ok(sigstore.image_bundle(&digest, IDENTITY, ISSUER))
    })
    .unwrap();
    let (code, v, _) = verify(
        h,
        &other,
        &[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["verification"]["digest"], other_digest.as_str());
    let reasons = v["verification"]["status"]["reasons"].to_string();
    assert!(
        reasons.contains("is not a subject of the in-toto statement"),
        "{reasons}"
    );

    // A trusted root without this CA: the same bundle is refused.
    let (code, v, _) = {
        let elsewhere = home_trusting(&TestSigstore::new());
        verify(
            elsewhere.path(),
            &image,
            &[
                "--certificate-identity",
                IDENTITY,
                "--certificate-oidc-issuer",
                ISSUER,
            ],
        )
    };
    assert_eq!(code, 1, "{v:#}");

    // palisade.yaml: a keyless requirement, enforced by image verify and scan --registry.
    std::fs::write(
        h.join("palisade.yaml"),
        format!(
            "images:\n  trusted_root: trusted_root.json\n  signatures:\n    - images: \"127.0.0.1:*/payments/*\"\n      keyless:\n        identity_regexp: \"https://github.com/acme/payments/.*\"\n        issuer: {ISSUER}\n"
        ),
    )
    .unwrap();
    let config = h.join("palisade.yaml");
    let (code, _, err) = verify(h, &image, &["--config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = verify(h, &other, &["--config", config.to_str().unwrap()]);
    assert_eq!(code, 1);

    let manifests = h.join("manifests");
    std::fs::create_dir(&manifests).unwrap();
    std::fs::write(
        manifests.join("pay.yaml"),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: pay\n  namespace: pay\nspec:\n  containers:\n    - name: good\n      image: {image}\n    - name: bad\n      image: {other}\n"
        ),
    )
    .unwrap();
    let out = in_home(
        h,
        &[
            "scan",
            manifests.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
            "--check",
            "PAL-094",
            "--registry",
        ],
    )
    .output();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(
        report["images"][&image]["signature"]["status"], "verified",
        "{report:#}"
    );
    assert_eq!(
        report["images"][&other]["signature"]["status"], "invalid",
        "{report:#}"
    );
    let findings: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == "PAL-094")
        .collect();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["container"], "bad");
}

#[test]
fn classic_keyless_signatures_verify_by_identity_through_the_binary() {
    let (registry, home, sigstore) = setup();
    let h = home.path();
    let identity = ["--certificate-identity", IDENTITY];
    let issuer = ["--certificate-oidc-issuer", ISSUER];
    let args = |id: &[&'static str; 2], iss: &[&'static str; 2]| [id[0], id[1], iss[0], iss[1]];

    let image = format!("{}/payments/web:1", registry.addr);
    let digest = push(&image, &[("etc/marker", b"web")]);
    let (_, signed, tag) = append_classic_with(&image, &PullOptions::default(), |repo, d| {
        let s = sigstore.classic(repo, d, IDENTITY, ISSUER);
        Ok((s.payload, s.annotations))
    })
    .unwrap();
    assert_eq!(signed, digest);
    assert_eq!(tag, format!("{}.sig", digest.replacen(':', "-", 1)));

    // The right identity and issuer: verified from the classic layout.
    let (code, v, err) = verify(h, &image, &args(&identity, &issuer));
    assert_eq!(code, 0, "{v:#} {err}");
    assert_eq!(v["verification"]["checks"][0]["layout"], "classic");
    assert_eq!(
        v["verification"]["status"]["key_fingerprint"],
        format!("keyless {IDENTITY} (issuer {ISSUER})")
    );

    // A wrong identity or issuer: invalid, naming it.
    let other_identity = ["--certificate-identity", "https://github.com/acme/other"];
    let (code, v, _) = verify(h, &image, &args(&other_identity, &issuer));
    assert_eq!(code, 1, "{v:#}");
    let reasons = v["verification"]["status"]["reasons"].to_string();
    assert!(reasons.contains("certificate identity"), "{reasons}");
    let other_issuer = ["--certificate-oidc-issuer", "https://accounts.google.com"];
    let (code, v, _) = verify(h, &image, &args(&identity, &other_issuer));
    assert_eq!(code, 1, "{v:#}");
    let reasons = v["verification"]["status"]["reasons"].to_string();
    assert!(reasons.contains("OIDC issuer"), "{reasons}");

    // A tampered image: another image carrying the signature made for the first one.
    let other = format!("{}/payments/web:2", registry.addr);
    let other_digest = push(&other, &[("etc/marker", b"tampered")]);
    append_classic_with(&other, &PullOptions::default(), |repo, _| {
        let s = sigstore.classic(repo, &digest, IDENTITY, ISSUER);
        Ok((s.payload, s.annotations))
    })
    .unwrap();
    let (code, v, _) = verify(h, &other, &args(&identity, &issuer));
    assert_eq!(code, 1, "{v:#}");
    let reasons = v["verification"]["status"]["reasons"].to_string();
    assert!(
        reasons.contains(&format!(
            "payload digest {digest} does not match image {other_digest}"
        )),
        "{reasons}"
    );

    // A trusted root of other authorities: refused.
    let elsewhere = home_trusting(&TestSigstore::new());
    let (code, v, _) = verify(elsewhere.path(), &image, &args(&identity, &issuer));
    assert_eq!(code, 1, "{v:#}");
    let reasons = v["verification"]["status"]["reasons"].to_string();
    assert!(reasons.contains("not in the trusted root"), "{reasons}");
}
