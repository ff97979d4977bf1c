//! Verification throughput: classic signature checks (payload digest, signature, claims) per
//! key type, and the cost of decrypting a cosign key (scrypt N=32768).
//!
//! `cargo run --release -p palisade-trust --no-default-features --example bench_verify`

use std::time::Instant;

use palisade_trust::classic::{append_signature, check_signature, signatures_in_manifest};
use palisade_trust::payload::simple_signing_payload;
use palisade_trust::private::{ScryptParams, generate_key_pair};
use palisade_trust::{KeyAlgorithm, SigningKey};

fn main() {
    let digest = "sha256:4d2c5c3ea0a6e21d1d1e0f4d6ab84b54d7aab6bb6a4f1d0a6b0fba3b0ce1a1f2";
    let payload = simple_signing_payload("registry.example/team/app", digest, None);
    for alg in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::Ed25519,
    ] {
        let key = SigningKey::generate(alg).expect("key");
        let art = append_signature(None, &payload, &key.sign(&payload)).expect("manifest");
        let sig = signatures_in_manifest(&art.manifest)
            .expect("parse")
            .remove(0);
        let keys = [key.public_key().clone()];
        let n = 2000;
        let start = Instant::now();
        for _ in 0..n {
            check_signature(digest, &sig, &payload, &keys).expect("verifies");
        }
        let per = start.elapsed() / n;
        println!("{alg}: {n} classic signature checks, {per:?} each");
    }
    let pair =
        generate_key_pair(KeyAlgorithm::EcdsaP256, b"pw", ScryptParams::COSIGN).expect("pair");
    let start = Instant::now();
    SigningKey::from_pem(pair.private_pem.as_bytes(), b"pw", "k").expect("decrypt");
    println!(
        "decrypt cosign key (scrypt N=32768 r=8 p=1): {:?}",
        start.elapsed()
    );
}
