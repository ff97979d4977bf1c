//! `palisade image sign` / `palisade image verify` end to end through the real binary, against
//! Debian's docker-registry on loopback with images pushed by skopeo.

#![cfg(feature = "trust")]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use palisade_registry::{PullOptions, Repository};
use palisade_trust::KeyAlgorithm;
use palisade_trust::classic::{self, signature_tag, signatures_in_manifest};
use palisade_trust::private::{ScryptParams, generate_key_pair};

mod support;

use support::cli::{palisade, stderr, stdout};
use support::registry::Registry;

/// A one-file image (`/etc/marker`) pushed to `dest`; its manifest digest.
fn push_image(dest: &str, marker: &str) -> String {
    support::registry::push(dest, &[("etc/marker", marker.as_bytes())])
}

struct Env {
    home: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// Runs palisade with this home's registry credentials and `password` for keys.
    fn run(&self, args: &[&str], password: Option<&str>) -> Output {
        let cmd = palisade(args)
            .env("DOCKER_CONFIG", self.path("docker"))
            .env_remove("COSIGN_PASSWORD")
            .env("NO_COLOR", "1");
        match password {
            Some(p) => cmd.env("COSIGN_PASSWORD", p),
            None => cmd,
        }
        .output()
    }

    /// A cosign key pair under `name.key` / `name.pub`; returns the fingerprint.
    fn key_pair(&self, name: &str, algorithm: KeyAlgorithm, password: &str) -> String {
        let pair = generate_key_pair(
            algorithm,
            password.as_bytes(),
            ScryptParams {
                n: 1024,
                r: 8,
                p: 1,
            },
        )
        .unwrap();
        std::fs::write(self.path(&format!("{name}.key")), &pair.private_pem).unwrap();
        std::fs::write(self.path(&format!("{name}.pub")), &pair.public_pem).unwrap();
        pair.fingerprint
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn sign_then_verify_every_verdict_through_the_binary() {
    let reg = Registry::start();
    let env = Env::new();
    let alice_fp = env.key_pair("alice", KeyAlgorithm::EcdsaP256, "alice-pw");
    let mallory_fp = env.key_pair("mallory", KeyAlgorithm::EcdsaP384, "m");
    let signed = format!("{}/team/app:signed", reg.addr);
    let unsigned = format!("{}/team/app:unsigned", reg.addr);
    let signed_digest = push_image(&signed, "signed");
    let unsigned_digest = push_image(&unsigned, "unsigned");
    let (alice_key, alice_pub) = (env.path("alice.key"), env.path("alice.pub"));

    // Sign (cosign's encrypted key, password from COSIGN_PASSWORD).
    let out = env.run(
        &["image", "sign", &signed, "--key", s(&alice_key)],
        Some("alice-pw"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&alice_fp), "{}", stdout(&out));
    assert!(stdout(&out).contains(&signature_tag(&signed_digest).unwrap()));

    // Wrong password: a usage error naming the cause.
    let out = env.run(
        &["image", "sign", &signed, "--key", s(&alice_key)],
        Some("nope"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("wrong password"), "{}", stderr(&out));

    // Signed + right key: exit 0 with the signer's fingerprint.
    let out = env.run(&["image", "verify", &signed, "--key", s(&alice_pub)], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("verdict: VERIFIED"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains(&format!("signer:  {alice_fp}")));
    let out = env.run(
        &[
            "image",
            "verify",
            &signed,
            "--key",
            s(&alice_pub),
            "--format",
            "json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["verification"]["digest"], signed_digest.as_str());
    assert_eq!(v["verification"]["status"]["status"], "verified");
    assert_eq!(
        v["verification"]["status"]["key_fingerprint"],
        alice_fp.as_str()
    );
    assert_eq!(v["verification"]["checks"][0]["layout"], "classic");

    // Wrong key.
    let out = env.run(
        &[
            "image",
            "verify",
            &signed,
            "--key",
            s(&env.path("mallory.pub")),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("verdict: INVALID"));
    assert!(
        stdout(&out).contains(&format!("does not verify with key {mallory_fp}")),
        "{}",
        stdout(&out)
    );
    // Either of two keys is enough.
    let out = env.run(
        &[
            "image",
            "verify",
            &signed,
            "--key",
            s(&env.path("mallory.pub")),
            "--key",
            s(&alice_pub),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // Unsigned.
    let out = env.run(
        &["image", "verify", &unsigned, "--key", s(&alice_pub)],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("verdict: UNSIGNED"));
    assert!(
        stdout(&out).contains(&format!("no signature for {unsigned_digest}")),
        "{}",
        stdout(&out)
    );

    // The payload the binary wrote verifies with openssl over the bytes in the registry.
    let repo = Repository::connect(&signed, &PullOptions::default(), true).unwrap();
    let tag = signature_tag(&signed_digest).unwrap();
    let sig_manifest = repo.manifest_by_tag(&tag).unwrap().unwrap();
    let sig = &signatures_in_manifest(&sig_manifest.bytes).unwrap()[0];
    let payload = repo.blob(&sig.layer.digest, 1 << 20).unwrap();
    std::fs::write(env.path("payload.json"), &payload).unwrap();
    std::fs::write(env.path("sig.b64"), sig.signature_b64.as_deref().unwrap()).unwrap();
    let decoded = Command::new("openssl")
        .args([
            "base64",
            "-d",
            "-A",
            "-in",
            s(&env.path("sig.b64")),
            "-out",
            s(&env.path("sig.der")),
        ])
        .status()
        .expect("openssl CLI missing");
    assert!(decoded.success());
    let ossl = Command::new("openssl")
        .args([
            "dgst",
            "-sha256",
            "-verify",
            s(&alice_pub),
            "-signature",
            s(&env.path("sig.der")),
            s(&env.path("payload.json")),
        ])
        .output()
        .expect("openssl CLI missing");
    assert!(String::from_utf8_lossy(&ossl.stdout).contains("Verified OK"));

    // Signature for another digest: the signed image's .sig manifest under the unsigned one's tag.
    repo.push_manifest(
        &signature_tag(&unsigned_digest).unwrap(),
        &sig_manifest.bytes,
        classic::OCI_MANIFEST,
    )
    .unwrap();
    let out = env.run(
        &["image", "verify", &unsigned, "--key", s(&alice_pub)],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(&format!(
            "payload digest {signed_digest} does not match image {unsigned_digest}"
        )),
        "{}",
        stdout(&out)
    );

    // Tampered payload: rewritten identity, original signature kept.
    let forged = String::from_utf8(payload)
        .unwrap()
        .replace("team/app", "team/evil")
        .into_bytes();
    let forged_digest = repo.push_blob(&forged).unwrap();
    let mut m: serde_json::Value = serde_json::from_slice(&sig_manifest.bytes).unwrap();
    m["layers"][0]["digest"] = forged_digest.clone().into();
    m["layers"][0]["size"] = forged.len().into();
    repo.push_manifest(
        &tag,
        &serde_json::to_vec(&m).unwrap(),
        classic::OCI_MANIFEST,
    )
    .unwrap();
    let out = env.run(
        &[
            "image",
            "verify",
            &signed,
            "--key",
            s(&alice_pub),
            "-f",
            "json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verification"]["status"]["status"], "invalid");
    assert_eq!(
        v["verification"]["status"]["reasons"][0],
        format!("signature in {forged_digest} does not verify with key {alice_fp}").as_str()
    );

    // Signing again appends to the (now forged) manifest instead of replacing it.
    let out = env.run(
        &[
            "image",
            "sign",
            &signed,
            "--key",
            s(&alice_key),
            "-a",
            "build=42",
        ],
        Some("alice-pw"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let layers =
        signatures_in_manifest(&repo.manifest_by_tag(&tag).unwrap().unwrap().bytes).unwrap();
    assert_eq!(layers.len(), 2);
    let out = env.run(&["image", "verify", &signed, "--key", s(&alice_pub)], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("failed: signature in"),
        "{}",
        stdout(&out)
    );

    // Unreachable registry: exit 3.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = env.run(
        &[
            "image",
            "verify",
            &format!("127.0.0.1:{closed}/x/y:1"),
            "--key",
            s(&alice_pub),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!stderr(&out).is_empty());

    // No key at all: usage error.
    let out = env.run(&["image", "verify", &signed], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bundles_and_policy_through_the_binary() {
    let reg = Registry::start();
    let env = Env::new();
    let fp = env.key_pair("ci", KeyAlgorithm::Ed25519, "");
    let image = format!("{}/payments/api:3", reg.addr);
    let digest = push_image(&image, "api");

    // Bundle via referrers (docker-registry 2.8: tag-schema fallback).
    let out = env.run(
        &[
            "image",
            "sign",
            &image,
            "--key",
            s(&env.path("ci.key")),
            "--bundle",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("referrer sha256:"),
        "{}",
        stdout(&out)
    );
    let out = env.run(
        &[
            "image",
            "verify",
            &image,
            "--key",
            s(&env.path("ci.pub")),
            "-f",
            "json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verification"]["digest"], digest.as_str());
    assert_eq!(v["verification"]["checks"][0]["layout"], "bundle");
    assert_eq!(v["verification"]["status"]["key_fingerprint"], fp.as_str());

    // Policy from a palisade config: keys by path relative to the config file.
    let allowed = format!("{}/payments/*", reg.addr);
    std::fs::write(
        env.path("palisade.yaml"),
        format!("images:\n  allowed_registries: [\"{allowed}\"]\n  signatures:\n    - images: \"{allowed}\"\n      keys: [ci.pub]\n"),
    )
    .unwrap();
    let config = env.path("palisade.yaml");
    let out = env.run(&["image", "verify", &image, "--config", s(&config)], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    // Untrusted registry: the repository is outside images.allowed_registries.
    let elsewhere = format!("{}/random/tool:1", reg.addr);
    push_image(&elsewhere, "tool");
    let out = env.run(
        &["image", "verify", &elsewhere, "--config", s(&config)],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("REFUSED by policy"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains(&format!(
        "{}/random/tool is not in images.allowed_registries",
        reg.addr
    )));

    // Allowed registry but no signature requirement matches: no key can vouch for it.
    std::fs::write(
        env.path("other.yaml"),
        "images:\n  signatures:\n    - images: \"registry.example.com/*\"\n      keys: [ci.pub]\n",
    )
    .unwrap();
    let out = env.run(
        &[
            "image",
            "verify",
            &image,
            "--config",
            s(&env.path("other.yaml")),
            "-f",
            "json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], false);
    assert!(
        v["policy"][0]
            .as_str()
            .unwrap()
            .contains("no images.signatures entry"),
        "{v}"
    );
}
