//! Signatures in a real registry (Debian's docker-registry 2.8 on loopback): signing in the
//! classic layout and with bundles, then verification verdicts for signed, unsigned, tampered,
//! other-digest and wrong-key cases, and the verdict cache.

mod support;

use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use palisade_model::SignatureStatus;
use palisade_registry::{PullOptions, Repository};
use palisade_trust::classic::{self, signature_tag, signatures_in_manifest};
use palisade_trust::remote::{BundleKind, RepositorySource, attach_bundle, sign_classic};
use palisade_trust::verify::{Layout, verify_image};
use palisade_trust::{KeyAlgorithm, PublicKey, SigningKey, Verifier};
use support::{Registry, push_image, run};

fn key(alg: KeyAlgorithm) -> SigningKey {
    SigningKey::generate(alg).unwrap()
}

fn verdict(reference: &str, keys: &[PublicKey]) -> palisade_trust::Verification {
    Verifier::new(PullOptions::default())
        .verify(reference, keys)
        .unwrap()
}

#[test]
fn classic_signatures_give_the_right_verdicts() {
    let reg = Registry::start();
    let signed = format!("{}/team/app:signed", reg.addr);
    let unsigned = format!("{}/team/app:unsigned", reg.addr);
    let signed_digest = push_image(&signed, "signed");
    let unsigned_digest = push_image(&unsigned, "unsigned");
    let alice = key(KeyAlgorithm::EcdsaP256);
    let mallory = key(KeyAlgorithm::EcdsaP256);
    let options = PullOptions::default();

    let out = sign_classic(&signed, &alice, &options, None).unwrap();
    assert_eq!(out.digest, signed_digest);
    assert_eq!(out.location, signature_tag(&signed_digest).unwrap());

    // Signed, right key.
    let v = verdict(&signed, std::slice::from_ref(alice.public_key()));
    assert_eq!(v.digest, signed_digest);
    assert_eq!(
        v.status,
        SignatureStatus::Verified {
            key_fingerprint: alice.public_key().fingerprint()
        }
    );

    // Signed, wrong key.
    let v = verdict(&signed, std::slice::from_ref(mallory.public_key()));
    let SignatureStatus::Invalid { reasons } = &v.status else {
        panic!("{v:?}")
    };
    assert_eq!(reasons.len(), 1);
    assert!(
        reasons[0].contains(&format!(
            "does not verify with key {}",
            mallory.public_key().fingerprint()
        )),
        "{reasons:?}"
    );

    // Unsigned.
    let v = verdict(&unsigned, std::slice::from_ref(alice.public_key()));
    assert_eq!(v.status, SignatureStatus::Unsigned);
    assert_eq!(
        palisade_trust::verify::describe(&v),
        format!("no signature for {unsigned_digest}")
    );

    // The payload our signer wrote verifies with openssl over the exact bytes in the registry.
    let repo = Repository::connect(&signed, &options, false).unwrap();
    let sig_manifest = repo.manifest_by_tag(&out.location).unwrap().unwrap();
    let sigs = signatures_in_manifest(&sig_manifest.bytes).unwrap();
    assert_eq!(sigs.len(), 1);
    let payload = repo.blob(&sigs[0].layer.digest, 1 << 20).unwrap();
    let claims = palisade_trust::payload::parse_payload(&payload).unwrap();
    assert_eq!(claims.manifest_digest, signed_digest);
    assert_eq!(claims.docker_reference, format!("{}/team/app", reg.addr));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("payload.json"), &payload).unwrap();
    std::fs::write(
        dir.path().join("sig.der"),
        B64.decode(sigs[0].signature_b64.as_deref().unwrap())
            .unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("pub.pem"), alice.public_key().to_pem()).unwrap();
    let out = run(Command::new("openssl").current_dir(dir.path()).args([
        "dgst",
        "-sha256",
        "-verify",
        "pub.pem",
        "-signature",
        "sig.der",
        "payload.json",
    ]));
    assert!(out.contains("Verified OK"), "{out}");

    // Signature for another digest: the signed image's .sig manifest copied to the unsigned
    // image's signature tag.
    let other_tag = signature_tag(&unsigned_digest).unwrap();
    repo.push_manifest(&other_tag, &sig_manifest.bytes, classic::OCI_MANIFEST)
        .unwrap();
    let v = verdict(&unsigned, std::slice::from_ref(alice.public_key()));
    assert_eq!(
        v.status,
        SignatureStatus::Invalid {
            reasons: vec![format!(
                "payload digest {signed_digest} does not match image {unsigned_digest}"
            )]
        }
    );
}

#[test]
fn tampered_payloads_and_appended_signatures() {
    let reg = Registry::start();
    let image = format!("{}/shop/web:1.0", reg.addr);
    let digest = push_image(&image, "web");
    let alice = key(KeyAlgorithm::EcdsaP256);
    let bob = key(KeyAlgorithm::Ed25519);
    let options = PullOptions::default();
    sign_classic(&image, &alice, &options, None).unwrap();
    // A second signature is appended, not replacing the first.
    let mut note = serde_json::Map::new();
    note.insert("team".into(), "web".into());
    sign_classic(&image, &bob, &options, Some(&note)).unwrap();
    let repo = Repository::connect(&image, &options, true).unwrap();
    let tag = signature_tag(&digest).unwrap();
    let manifest = repo.manifest_by_tag(&tag).unwrap().unwrap();
    assert_eq!(signatures_in_manifest(&manifest.bytes).unwrap().len(), 2);
    for k in [&alice, &bob] {
        let v = verdict(&image, std::slice::from_ref(k.public_key()));
        assert_eq!(
            v.status,
            SignatureStatus::Verified {
                key_fingerprint: k.public_key().fingerprint()
            }
        );
    }

    // Tampered payload: a rewritten payload pushed with the original signatures.
    let mut m: serde_json::Value = serde_json::from_slice(&manifest.bytes).unwrap();
    let first = m["layers"][0]["digest"].as_str().unwrap().to_string();
    let payload = repo.blob(&first, 1 << 20).unwrap();
    let forged = String::from_utf8(payload)
        .unwrap()
        .replace("/shop/web", "/shop/evil")
        .into_bytes();
    let forged_digest = repo.push_blob(&forged).unwrap();
    m["layers"][0]["digest"] = forged_digest.clone().into();
    m["layers"][0]["size"] = forged.len().into();
    m["layers"].as_array_mut().unwrap().truncate(1);
    repo.push_manifest(
        &tag,
        &serde_json::to_vec(&m).unwrap(),
        classic::OCI_MANIFEST,
    )
    .unwrap();
    let v = verdict(&image, std::slice::from_ref(alice.public_key()));
    assert_eq!(
        v.status,
        SignatureStatus::Invalid {
            reasons: vec![format!(
                "signature in {forged_digest} does not verify with key {}",
                alice.public_key().fingerprint()
            )]
        }
    );

    // Tampered blob in storage: the payload no longer matches its layer digest.
    let alice_layer = first;
    m["layers"][0]["digest"] = alice_layer.clone().into();
    m["layers"][0]["size"] = 0.into();
    repo.push_manifest(
        &tag,
        &serde_json::to_vec(&m).unwrap(),
        classic::OCI_MANIFEST,
    )
    .unwrap();
    let path = support::blob_path(&reg.storage, &alice_layer);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let err = Verifier::new(options.clone())
        .verify(&image, std::slice::from_ref(alice.public_key()))
        .unwrap_err();
    assert!(err.to_string().contains(&alice_layer), "{err}");
}

#[test]
fn bundles_attached_as_referrers_verify_through_the_tag_schema_fallback() {
    let reg = Registry::start();
    let image = format!("{}/team/api:2", reg.addr);
    let digest = push_image(&image, "api");
    let options = PullOptions::default();
    let p384 = key(KeyAlgorithm::EcdsaP384);
    let ed = key(KeyAlgorithm::Ed25519);
    let out = attach_bundle(&image, &p384, &options, BundleKind::Dsse).unwrap();
    assert_eq!(out.digest, digest);
    attach_bundle(&image, &ed, &options, BundleKind::MessageSignature).unwrap();

    // docker-registry 2.8 has no referrers API: the listing came from the sha256-<hex> tag.
    let repo = Repository::connect(&image, &options, false).unwrap();
    let index = repo
        .manifest_by_tag(&digest.replacen(':', "-", 1))
        .unwrap()
        .unwrap();
    let index: serde_json::Value = serde_json::from_slice(&index.bytes).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
    assert_eq!(repo.referrers(&digest).unwrap().len(), 2);

    for k in [&p384, &ed] {
        let v = verdict(&image, std::slice::from_ref(k.public_key()));
        assert_eq!(
            v.status,
            SignatureStatus::Verified {
                key_fingerprint: k.public_key().fingerprint()
            }
        );
        assert!(v.checks.iter().all(|c| c.layout == Layout::Bundle));
    }
    let stranger = key(KeyAlgorithm::EcdsaP256);
    let v = verdict(&image, std::slice::from_ref(stranger.public_key()));
    let SignatureStatus::Invalid { reasons } = v.status else {
        panic!()
    };
    assert_eq!(reasons.len(), 2);
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("DSSE signature does not verify with key"))
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("message signature over the image manifest does not verify"))
    );

    // A bundle made for another image, attached to this one: the statement names the wrong digest.
    let other = format!("{}/team/api:other", reg.addr);
    let other_digest = push_image(&other, "other");
    let bundle = palisade_trust::bundle::sign_dsse_bundle(&other_digest, &p384).unwrap();
    let image_manifest = repo.resolve().unwrap();
    let src = RepositorySource(&repo);
    let checks = palisade_trust::bundle::check_bundle(
        &digest,
        &image_manifest.bytes,
        &bundle,
        std::slice::from_ref(p384.public_key()),
    );
    assert_eq!(
        checks,
        Err(format!(
            "statement subject digest {other_digest} does not match image {digest}"
        ))
    );
    let v = verify_image(
        &src,
        &digest,
        &image_manifest.bytes,
        std::slice::from_ref(p384.public_key()),
    )
    .unwrap();
    assert!(matches!(v.status, SignatureStatus::Verified { .. }));
}

#[test]
fn verdicts_are_cached_by_digest() {
    let mut reg = Registry::start();
    let image = format!("{}/cache/app:1", reg.addr);
    let digest = push_image(&image, "cache");
    let alice = key(KeyAlgorithm::EcdsaP256);
    sign_classic(&image, &alice, &PullOptions::default(), None).unwrap();
    let verifier = Verifier::new(PullOptions::default());
    let keys = std::slice::from_ref(alice.public_key());
    let by_tag = verifier.verify(&image, keys).unwrap();
    assert_eq!(verifier.cached(), 1);
    let pinned = format!("{}/cache/app@{digest}", reg.addr);
    // With the registry gone, the pinned reference is still answered from the cache…
    reg.stop();
    assert_eq!(verifier.verify(&pinned, keys).unwrap(), by_tag);
    // …but another key set is not, and the failure is an error, not a verdict.
    let other = key(KeyAlgorithm::EcdsaP256);
    let err = verifier
        .verify(&pinned, std::slice::from_ref(other.public_key()))
        .unwrap_err();
    assert!(!err.to_string().is_empty());
}
