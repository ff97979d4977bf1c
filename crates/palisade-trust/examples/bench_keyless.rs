//! Keyless verification time (docs/benchmarks.md): full offline verification of conformance
//! bundles (real Fulcio chains), a cached verdict lookup, and parsing the embedded root.
//!
//! `cargo run --release -p palisade-trust --no-default-features --example bench_keyless`

use std::path::PathBuf;
use std::time::Instant;

use palisade_model::SignatureStatus;
use palisade_trust::sigstore::{
    Artifact, IdentityPolicy, Matcher, Signer, TrustedRoot, verify_bundle,
};
use palisade_trust::verify::{Requirements, Verification, VerificationCache};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";

fn suite() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/sigstore-conformance")
}

fn main() {
    let artifact = std::fs::read(suite().join("a.txt")).unwrap();
    let policy = IdentityPolicy {
        identity: Matcher::Exact(IDENTITY.into()),
        issuer: Matcher::Exact("https://token.actions.githubusercontent.com".into()),
    };
    let signer = Signer::Identity(policy.clone());
    for case in [
        "happy-path-v0.3",
        "happy-path-intoto-in-dsse-v3",
        "rekor2-happy-path",
    ] {
        let dir = suite().join("bundle-verify").join(case);
        let root = match std::fs::read(dir.join("trusted_root.json")) {
            Ok(bytes) => std::sync::Arc::new(TrustedRoot::from_json(&bytes).unwrap()),
            Err(_) => TrustedRoot::production(),
        };
        let bundle = std::fs::read(dir.join("bundle.sigstore.json")).unwrap();
        verify_bundle(&bundle, Artifact::Bytes(&artifact), &signer, &root).unwrap();
        let n = 300;
        let start = Instant::now();
        for _ in 0..n {
            verify_bundle(&bundle, Artifact::Bytes(&artifact), &signer, &root).unwrap();
        }
        let per = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        println!("{case}: full offline verification {per:.0} µs per bundle");
    }
    // The verdict cache (what scan and admission hit for a digest seen before).
    let cache = VerificationCache::default();
    let req = Requirements {
        keys: Vec::new(),
        keyless: vec![policy],
        root: TrustedRoot::production(),
    };
    let digest = "sha256:".to_string() + &"ab".repeat(32);
    cache.insert(
        "registry.example/app",
        &req,
        &Verification {
            digest: digest.clone(),
            status: SignatureStatus::Unsigned,
            checks: Vec::new(),
            keys: req.describe(),
        },
    );
    let n = 100_000;
    let start = Instant::now();
    for _ in 0..n {
        assert!(cache.get("registry.example/app", &digest, &req).is_some());
    }
    let per = start.elapsed().as_secs_f64() * 1e9 / f64::from(n);
    println!("cached verdict: {per:.0} ns per lookup");
    let start = Instant::now();
    for _ in 0..100 {
        TrustedRoot::from_json(palisade_trust::sigstore::root::PRODUCTION_TRUSTED_ROOT.as_bytes())
            .unwrap();
    }
    println!(
        "trusted root parse: {:.0} µs (once per process)",
        start.elapsed().as_secs_f64() * 1e6 / 100.0
    );
}
