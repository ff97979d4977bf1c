//! Interoperability with an independent implementation, the openssl CLI: signatures we make
//! verify with `openssl dgst`/`pkeyutl`, signatures openssl makes verify with us, and our key
//! fingerprints equal SHA-256 over the DER openssl exports.

use std::path::Path;
use std::process::Command;

use palisade_trust::payload::simple_signing_payload;
use palisade_trust::private::{ScryptParams, generate_key_pair};
use palisade_trust::{KeyAlgorithm, PublicKey, SigningKey};

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl CLI missing: install the openssl package (scripts/test)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn ok(args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl CLI missing")
        .status
        .success()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct OpensslKey {
    private: std::path::PathBuf,
    public: std::path::PathBuf,
}

fn openssl_key(dir: &Path, name: &str, genpkey: &[&str]) -> OpensslKey {
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    let mut args = vec!["genpkey"];
    args.extend_from_slice(genpkey);
    args.extend_from_slice(&["-out", s(&private)]);
    openssl(&args);
    openssl(&["pkey", "-in", s(&private), "-pubout", "-out", s(&public)]);
    OpensslKey { private, public }
}

const DIGEST: &str = "sha256:4d2c5c3ea0a6e21d1d1e0f4d6ab84b54d7aab6bb6a4f1d0a6b0fba3b0ce1a1f2";

#[test]
fn our_signatures_verify_with_openssl_and_fingerprints_match() {
    let dir = tempfile::tempdir().unwrap();
    let payload = simple_signing_payload("127.0.0.1:5000/team/app", DIGEST, None);
    let payload_path = dir.path().join("payload.json");
    std::fs::write(&payload_path, &payload).unwrap();
    let cases: [(&str, &[&str], KeyAlgorithm); 4] = [
        (
            "p256",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            KeyAlgorithm::EcdsaP256,
        ),
        (
            "p384",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            KeyAlgorithm::EcdsaP384,
        ),
        (
            "rsa",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            KeyAlgorithm::Rsa,
        ),
        ("ed25519", &["-algorithm", "ED25519"], KeyAlgorithm::Ed25519),
    ];
    for (name, genpkey, algorithm) in cases {
        let k = openssl_key(dir.path(), name, genpkey);
        let signing = SigningKey::from_pem(&std::fs::read(&k.private).unwrap(), b"", name).unwrap();
        let public = PublicKey::from_pem(&std::fs::read(&k.public).unwrap(), name).unwrap();
        assert_eq!(public.algorithm(), algorithm);
        assert_eq!(signing.public_key(), &public, "{name}: derived public key");

        // Fingerprint = SHA-256 over the DER SubjectPublicKeyInfo openssl exports.
        let der = openssl(&["pkey", "-pubin", "-in", s(&k.public), "-outform", "DER"]);
        let der_path = dir.path().join(format!("{name}.der"));
        std::fs::write(&der_path, &der).unwrap();
        let digest_line =
            String::from_utf8(openssl(&["dgst", "-sha256", "-r", s(&der_path)])).unwrap();
        let expected = format!("SHA256:{}", digest_line.split_whitespace().next().unwrap());
        assert_eq!(public.fingerprint(), expected, "{name}: fingerprint");

        let sig = signing.sign(&payload);
        let sig_path = dir.path().join(format!("{name}.sig"));
        std::fs::write(&sig_path, &sig).unwrap();
        let verified = match algorithm {
            KeyAlgorithm::Ed25519 => ok(&[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                s(&k.public),
                "-rawin",
                "-in",
                s(&payload_path),
                "-sigfile",
                s(&sig_path),
            ]),
            KeyAlgorithm::EcdsaP384 => ok(&[
                "dgst",
                "-sha384",
                "-verify",
                s(&k.public),
                "-signature",
                s(&sig_path),
                s(&payload_path),
            ]),
            _ => ok(&[
                "dgst",
                "-sha256",
                "-verify",
                s(&k.public),
                "-signature",
                s(&sig_path),
                s(&payload_path),
            ]),
        };
        assert!(verified, "{name}: openssl rejected our signature");
        // And openssl rejects it over other bytes (the check is not vacuous).
        let other = dir.path().join("other.json");
        std::fs::write(&other, b"{}").unwrap();
        if algorithm != KeyAlgorithm::Ed25519 {
            let hash = if algorithm == KeyAlgorithm::EcdsaP384 {
                "-sha384"
            } else {
                "-sha256"
            };
            assert!(!ok(&[
                "dgst",
                hash,
                "-verify",
                s(&k.public),
                "-signature",
                s(&sig_path),
                s(&other)
            ]));
        }
    }
}

#[test]
fn openssl_signatures_verify_with_us() {
    let dir = tempfile::tempdir().unwrap();
    let payload = simple_signing_payload("registry.example/app", DIGEST, None);
    let payload_path = dir.path().join("payload.json");
    std::fs::write(&payload_path, &payload).unwrap();
    let sign = |key: &OpensslKey, extra: &[&str], name: &str| -> Vec<u8> {
        let sig = dir.path().join(format!("{name}.sig"));
        let mut args = vec!["dgst"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-sign", s(&key.private), "-out", s(&sig), s(&payload_path)]);
        openssl(&args);
        std::fs::read(sig).unwrap()
    };
    let public = |key: &OpensslKey| {
        PublicKey::from_pem(&std::fs::read(&key.public).unwrap(), "pub").unwrap()
    };

    let p256 = openssl_key(
        dir.path(),
        "p256",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    assert!(public(&p256).verify(&payload, &sign(&p256, &["-sha256"], "p256")));

    let p384 = openssl_key(
        dir.path(),
        "p384",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
    assert!(public(&p384).verify(&payload, &sign(&p384, &["-sha384"], "p384-384")));
    assert!(public(&p384).verify(&payload, &sign(&p384, &["-sha256"], "p384-256")));
    assert!(!public(&p384).verify(&payload, &sign(&p384, &["-sha512"], "p384-512")));

    let rsa = openssl_key(
        dir.path(),
        "rsa",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    assert!(public(&rsa).verify(&payload, &sign(&rsa, &["-sha256"], "rsa-pkcs1")));
    for salt in ["digest", "max", "auto"] {
        let opt = format!("rsa_pss_saltlen:{salt}");
        let sig = sign(
            &rsa,
            &[
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                &opt,
            ],
            &format!("rsa-pss-{salt}"),
        );
        assert!(public(&rsa).verify(&payload, &sig), "PSS salt {salt}");
    }

    let ed = openssl_key(dir.path(), "ed25519", &["-algorithm", "ED25519"]);
    let sig_path = dir.path().join("ed.sig");
    openssl(&[
        "pkeyutl",
        "-sign",
        "-inkey",
        s(&ed.private),
        "-rawin",
        "-in",
        s(&payload_path),
        "-out",
        s(&sig_path),
    ]);
    let sig = std::fs::read(&sig_path).unwrap();
    assert!(public(&ed).verify(&payload, &sig));
    assert!(!public(&ed).verify(b"other", &sig));
    // A P-256 key does not verify the P-384 key's signature.
    assert!(!public(&p256).verify(&payload, &sign(&p384, &["-sha256"], "cross")));
}

#[test]
fn encrypted_key_pairs_round_trip_and_reject_wrong_passwords() {
    // cosign's real cost parameters once, cheaper ones for the other algorithms.
    let cheap = ScryptParams {
        n: 1024,
        r: 8,
        p: 1,
    };
    for (algorithm, params) in [
        (KeyAlgorithm::EcdsaP256, ScryptParams::COSIGN),
        (KeyAlgorithm::EcdsaP384, cheap),
        (KeyAlgorithm::Ed25519, cheap),
    ] {
        let pair = generate_key_pair(algorithm, b"correct horse", params).unwrap();
        assert!(
            pair.private_pem
                .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
        );
        let key = SigningKey::from_pem(pair.private_pem.as_bytes(), b"correct horse", "cosign.key")
            .unwrap();
        let public = PublicKey::from_pem(pair.public_pem.as_bytes(), "cosign.pub").unwrap();
        assert_eq!(key.public_key(), &public);
        assert_eq!(public.fingerprint(), pair.fingerprint);
        assert!(public.verify(b"m", &key.sign(b"m")));
        let err =
            SigningKey::from_pem(pair.private_pem.as_bytes(), b"wrong", "cosign.key").unwrap_err();
        assert!(err.to_string().contains("wrong password"), "{err}");
        // The body is cosign's JSON envelope.
        let json = pem_body(&pair.private_pem);
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["kdf"]["name"], "scrypt");
        assert_eq!(v["kdf"]["params"]["N"], params.n);
        assert_eq!(v["cipher"]["name"], "nacl/secretbox");
    }
}

fn pem_body(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[test]
fn malformed_keys_get_clear_errors() {
    let e = PublicKey::from_pem(b"hello", "keys/a.pub")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("keys/a.pub: no PEM block"), "{e}");
    let e = PublicKey::from_pem(
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "b.pub",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("b.pub: unsupported or malformed public key"),
        "{e}"
    );
    let e = SigningKey::from_pem(
        b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
        b"",
        "c.key",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("unsupported PEM block RSA PRIVATE KEY"), "{e}");
    // An encrypted key whose scrypt cost would need 16 GiB is refused before deriving.
    use base64::Engine as _;
    let json = br#"{"kdf":{"name":"scrypt","params":{"N":16777216,"r":8,"p":1},"salt":"AAAA"},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AAAA"}"#;
    let pem = format!(
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(json)
    );
    let e = SigningKey::from_pem(pem.as_bytes(), b"", "d.key")
        .unwrap_err()
        .to_string();
    assert!(e.contains("exceed the accepted cost"), "{e}");
}
