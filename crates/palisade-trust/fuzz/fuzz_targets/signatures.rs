//! Fuzz target: what a registry serves as signatures — classic signature manifests, simple-
//! signing payloads, Sigstore bundles — and key files, as arbitrary bytes. Verification must
//! give a verdict with a reason, never panic. Inputs that are JSON are also signed with a real
//! key, so the payload checks that follow a valid signature see arbitrary JSON too.
//!
//! Only JSON inputs are signed: signing and verifying with P-256 took about 85% of the time of
//! an execution (perf, 2026-12-07, without ASan), and for bytes that are not JSON the checks
//! after a valid signature stop at the first byte ("payload is not JSON", a unit test in
//! `payload.rs`), so those signatures bought no coverage.
#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use palisade_trust::keys::sha256_digest;
use palisade_trust::{KeyAlgorithm, PublicKey, SigningKey, bundle, classic, payload};

static KEY: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("a key"));

const IMAGE: &str = "sha256:0d5b1c4ba0a1f5b4c9ee8d4bfa5e5c3d2f1e0a9b8c7d6e5f4a3b2c1d0e9f8a7b";

fuzz_target!(|data: &[u8]| {
    let keys = [KEY.public_key().clone()];
    let _ = payload::parse_payload(data);
    let _ = PublicKey::from_pem(data, "fuzz");
    let _ = PublicKey::from_spki_der(data, "fuzz");
    if let Ok(signatures) = classic::signatures_in_manifest(data) {
        for s in &signatures {
            let _ = classic::check_signature(IMAGE, s, data, &keys);
        }
    }
    let _ = bundle::check_bundle(IMAGE, data, data, &keys);
    if serde_json::from_slice::<serde_json::Value>(data).is_err() {
        return;
    }
    // A valid signature over an arbitrary JSON payload, in a well-formed signature manifest.
    let signature = base64::engine::general_purpose::STANDARD.encode(KEY.sign(data));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256_digest(b"{}"), "size": 2},
        "layers": [{
            "mediaType": classic::SIMPLE_SIGNING_MEDIA_TYPE,
            "digest": sha256_digest(data),
            "size": data.len(),
            "annotations": {classic::SIGNATURE_ANNOTATION: signature},
        }],
    });
    let signatures = classic::signatures_in_manifest(manifest.to_string().as_bytes())
        .expect("our own manifest parses");
    let verdict = classic::check_signature(IMAGE, &signatures[0], data, &keys);
    // Only a payload that names this image's digest may verify.
    if verdict.is_ok() {
        let claims = payload::parse_payload(data).expect("a verified payload parses");
        let _ = claims;
    }
});
