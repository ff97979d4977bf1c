//! Published cosign / Sigstore test vectors (see tests/fixtures/README.md for provenance).

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use palisade_trust::classic::{
    ClassicSignature, Descriptor, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, check_signature,
};
use palisade_trust::keys::sha256_digest;
use palisade_trust::{KeyAlgorithm, PublicKey, SigningKey, bundle};

fn fixture(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn b64_file(path: &str) -> Vec<u8> {
    B64.decode(String::from_utf8(fixture(path)).unwrap().trim())
        .unwrap()
}

fn classic(payload: &[u8], sig_b64: &str) -> ClassicSignature {
    ClassicSignature {
        layer: Descriptor {
            media_type: SIMPLE_SIGNING_MEDIA_TYPE.into(),
            digest: sha256_digest(payload),
            size: payload.len() as u64,
            annotations: [(SIGNATURE_ANNOTATION.to_string(), sig_b64.to_string())].into(),
        },
        signature_b64: Some(sig_b64.to_string()),
    }
}

#[test]
fn sigstore_rs_key_based_image_signature_verifies() {
    let key = PublicKey::from_pem(&fixture("sigstore-rs-image/cosign.pub"), "cosign.pub").unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::EcdsaP256);
    let payload = fixture("sigstore-rs-image/payload.json");
    let sig = String::from_utf8(fixture("sigstore-rs-image/signature.b64")).unwrap();
    let digest = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";
    let got = check_signature(
        digest,
        &classic(&payload, sig.trim()),
        &payload,
        std::slice::from_ref(&key),
    );
    assert_eq!(got, Ok(key.fingerprint()));

    // The same signature checked against another image digest: the payload names the wrong image.
    let other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let err = check_signature(
        other,
        &classic(&payload, sig.trim()),
        &payload,
        std::slice::from_ref(&key),
    )
    .unwrap_err();
    assert_eq!(
        err,
        format!("payload digest {digest} does not match image {other}")
    );

    // One byte changed in the payload: the signature no longer verifies.
    let mut tampered = payload.clone();
    let pos = tampered.iter().position(|b| *b == b'b').unwrap();
    tampered[pos] = b'B';
    let err = check_signature(
        digest,
        &classic(&tampered, sig.trim()),
        &tampered,
        std::slice::from_ref(&key),
    )
    .unwrap_err();
    assert!(
        err.contains(&format!("does not verify with key {}", key.fingerprint())),
        "{err}"
    );
}

#[test]
fn sigstore_rs_keyless_signature_verifies_with_the_certificate_key_only() {
    let cert_key =
        PublicKey::from_pem(&fixture("sigstore-rs-fulcio/cert-public.pem"), "cert").unwrap();
    let payload = fixture("sigstore-rs-fulcio/payload.json");
    let sig = b64_file("sigstore-rs-fulcio/signature.b64");
    assert!(cert_key.verify(&payload, &sig));
    let other =
        PublicKey::from_pem(&fixture("sigstore-rs-image/cosign.pub"), "cosign.pub").unwrap();
    assert!(!other.verify(&payload, &sig));
    // A certificate is not a public key block: the error says what was found.
    let err = PublicKey::from_pem(&fixture("sigstore-rs-fulcio/cert.pem"), "cert.pem").unwrap_err();
    assert!(err.to_string().contains("found CERTIFICATE"), "{err}");
}

#[test]
fn constellation_cosign_generated_key_decrypts_to_the_published_public_key() {
    let private = SigningKey::from_pem(
        &fixture("constellation-cosign/cosign.key"),
        b"",
        "cosign.key",
    )
    .unwrap();
    let public =
        PublicKey::from_pem(&fixture("constellation-cosign/cosign.pub"), "cosign.pub").unwrap();
    assert_eq!(private.public_key(), &public);
    // Both cosign sign-blob signatures verify over the exact file bytes.
    for (file, sig) in [
        (
            "constellation-cosign/measurements.json",
            "constellation-cosign/measurements.json.sig",
        ),
        (
            "constellation-cosign/content.txt",
            "constellation-cosign/content.txt.sig",
        ),
    ] {
        assert!(public.verify(&fixture(file), &b64_file(sig)), "{file}");
    }
    // The published SHA-256 of the measurements file (wantSHA in the source test).
    assert_eq!(
        sha256_digest(&fixture("constellation-cosign/measurements.json")),
        "sha256:7269a1e8c6a379b86af605f993352df1d4a289bbf79fe655fd78338bd7549d52"
    );
    // A signature we make with the decrypted key verifies with the published public key.
    let ours = private.sign(b"palisade");
    assert!(public.verify(b"palisade", &ours));
    // A wrong password is refused with a clear message.
    let err = SigningKey::from_pem(
        &fixture("constellation-cosign/cosign.key"),
        b"nope",
        "cosign.key",
    )
    .unwrap_err();
    assert!(err.to_string().contains("wrong password"), "{err}");
}

#[test]
fn sigstore_label_key_with_n_65536_decrypts() {
    let key = SigningKey::from_pem(
        &fixture("sigstore-rs-keys/cosign_generated_encrypted_empty_private.key"),
        b"",
        "key",
    )
    .unwrap();
    assert_eq!(key.public_key().algorithm(), KeyAlgorithm::EcdsaP256);
    let sig = key.sign(b"message");
    assert!(key.public_key().verify(b"message", &sig));
}

#[test]
fn cosign3_bundle_verifies_against_its_image_digest() {
    let key = PublicKey::from_pem(&fixture("kubewarden-bundle/signer.pub"), "signer.pub").unwrap();
    let b = fixture("kubewarden-bundle/bundle.sigstore.json");
    let digest = "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172";
    assert_eq!(
        bundle::check_bundle(digest, b"", &b, std::slice::from_ref(&key)),
        Ok(key.fingerprint())
    );
    let other = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    assert_eq!(
        bundle::check_bundle(other, b"", &b, std::slice::from_ref(&key)).unwrap_err(),
        format!("statement subject digest {digest} does not match image {other}")
    );
    let wrong = PublicKey::from_pem(&fixture("sigstore-rs-image/cosign.pub"), "k").unwrap();
    let err = bundle::check_bundle(digest, b"", &b, std::slice::from_ref(&wrong)).unwrap_err();
    assert_eq!(
        err,
        format!(
            "DSSE signature does not verify with key {}",
            wrong.fingerprint()
        )
    );
}
