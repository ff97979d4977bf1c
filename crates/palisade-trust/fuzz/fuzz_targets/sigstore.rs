//! Fuzz target: the Sigstore keyless parsers on arbitrary bytes — bundle JSON, trusted root
//! JSON, certificates (DER and PEM) and the extensions read from them (identity, issuer, key
//! usage, SCTs), checkpoints, RFC 3161 timestamps, Rekor entry bodies and cosign's classic
//! keyless annotations. Each must return an error, never panic.
//!
//! Signatures stop a mutated input early, so the checks behind them are also called directly:
//! the parts of a bundle that parses (entries, timestamps, certificate) go to the body matcher,
//! the inclusion proof, the SET, the TSA, chain and SCT checks against the public-good root.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_trust::sigstore::bundle::{Bundle, Content, Material};
use palisade_trust::sigstore::{
    Artifact, IdentityPolicy, Matcher, Signer, TrustedRoot, cert, checkpoint, classic_keyless, sct,
    tlog, tsa, verify_bundle,
};

static ROOT: LazyLock<std::sync::Arc<TrustedRoot>> = LazyLock::new(TrustedRoot::production);
static POLICY: LazyLock<IdentityPolicy> = LazyLock::new(|| IdentityPolicy {
    identity: Matcher::regex(".*").expect("a regex"),
    issuer: Matcher::regex(".*").expect("a regex"),
});

/// A time inside the public-good root's validity.
const TIME: i64 = 1_700_000_000;

fn bundle_parts(b: &Bundle, data: &[u8]) {
    let root = &**ROOT;
    let sha: [u8; 32] = [7; 32];
    let signer = match &b.material {
        Material::Certificate { leaf, rest } => {
            if let Ok(l) = cert::parse_leaf(leaf) {
                let _ = l.check_usage();
                let _ = POLICY.check(&l);
            }
            let _ = cert::verify_chain(leaf, &root.certificate_authorities, TIME);
            for ca in &root.certificate_authorities {
                let _ = sct::verify(leaf, &ca.chain[0], root);
            }
            for c in rest {
                let _ = cert::is_root(c);
            }
            leaf.clone()
        }
        Material::PublicKey => data.to_vec(),
    };
    for entry in &b.tlog_entries {
        let expected = tlog::Expected {
            content: &b.content,
            artifact_sha256: &sha,
            signer_der: &signer,
        };
        let _ = tlog::match_body(entry, &expected);
        for log in &root.tlogs {
            let _ = tlog::verify_inclusion(entry, log);
            let _ = tlog::verify_set(entry, log);
        }
    }
    let _ = tsa::verify_all(&b.timestamps, b.content.signature(), root);
    if let Content::Dsse { payload, .. } = &b.content {
        let _ = serde_json::from_slice::<serde_json::Value>(payload);
    }
}

fuzz_target!(|data: &[u8]| {
    let root = &**ROOT;
    let text = String::from_utf8_lossy(data);

    // Whole documents.
    let _ = TrustedRoot::from_json(data);
    if let Ok(b) = Bundle::parse(data) {
        bundle_parts(&b, data);
    }
    let _ = verify_bundle(
        data,
        Artifact::Bytes(data),
        &Signer::Identity(POLICY.clone()),
        root,
    );

    // Certificates as DER, and their extensions.
    if let Ok(leaf) = cert::parse_leaf(data) {
        let _ = leaf.check_usage();
        let _ = POLICY.check(&leaf);
    }
    let _ = cert::is_root(data);
    let _ = cert::verify_chain(data, &root.certificate_authorities, TIME);
    if let Some(ca) = root.certificate_authorities.first() {
        let _ = sct::verify(data, &ca.chain[0], root);
    }

    // Checkpoints and RFC 3161 timestamps.
    for log in &root.tlogs {
        let _ = checkpoint::verify(&text, log);
    }
    let _ = tsa::verify_all(&[data.to_vec()], data, root);

    // cosign's classic keyless annotations: certificate and chain as PEM, the Rekor bundle.
    if let Ok(entry) = classic_keyless::parse_bundle(&text) {
        let content = Content::Message {
            digest: None,
            signature: data.to_vec(),
        };
        let expected = tlog::Expected {
            content: &content,
            artifact_sha256: &[7; 32],
            signer_der: data,
        };
        let _ = tlog::match_body(&entry, &expected);
        for log in &root.tlogs {
            let _ = tlog::verify_set(&entry, log);
        }
    }
    // Three NUL-separated parts: certificate, chain and bundle annotations.
    let mut parts = text.splitn(3, '\0');
    let mut annotations = BTreeMap::new();
    for key in [
        classic_keyless::CERTIFICATE_ANNOTATION,
        classic_keyless::CHAIN_ANNOTATION,
        classic_keyless::BUNDLE_ANNOTATION,
    ] {
        if let Some(part) = parts.next() {
            annotations.insert(key.to_string(), part.to_string());
        }
    }
    if let Ok(Some(k)) = classic_keyless::parse(&annotations) {
        let _ = classic_keyless::verify(data, data, &k, &POLICY, root);
    }
});
