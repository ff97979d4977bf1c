//! cosign's classic keyless layout: a keyless signature stored, like a key-based one, as a
//! simple-signing layer of the `sha256-<hex>.sig` manifest, whose annotations carry
//!
//! - `dev.cosignproject.cosign/signature`: the base64 signature over the payload layer;
//! - `dev.sigstore.cosign/certificate`: the Fulcio signing certificate (PEM);
//! - `dev.sigstore.cosign/chain`: the intermediates and root (PEM; not trusted: the chain
//!   comes from the trusted root, as for bundles);
//! - `dev.sigstore.cosign/bundle`: the Rekor entry as cosign received it,
//!   `{"SignedEntryTimestamp": base64, "Payload": {"body": base64 entry, "integratedTime": n,
//!   "logIndex": n, "logID": hex}}`.
//!
//! [`verify`] checks the signature with the certificate's key, the signed entry timestamp (the
//! log's signature over the canonical JSON of `Payload`) with the key of the root's log named
//! by `logID`, that the entry (hashedrekord 0.0.1) names this signature, certificate and
//! payload hash, that the log key is trusted at `integratedTime`, and then the certificate at
//! that time as for bundles ([`crate::sigstore::verify::verify_certificate`]). The payload's
//! claims (type, image digest) are the caller's ([`crate::classic`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::keys::hex;
use crate::sigstore::bundle::{Content, TlogEntry, b64};
use crate::sigstore::cert;
use crate::sigstore::policy::IdentityPolicy;
use crate::sigstore::root::TrustedRoot;
use crate::sigstore::tlog::{self, Expected};
use crate::sigstore::verify::{Verified, verify_certificate};

/// Annotation holding the signing certificate (PEM).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Annotation holding the rest of the certificate chain (PEM).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Annotation holding the Rekor bundle (signed entry timestamp and entry).
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";

/// The keyless material of one classic signature layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyless {
    /// The signing certificate (DER).
    pub leaf: Vec<u8>,
    /// The chain annotation's certificates (DER), if any; not used for trust.
    pub chain: Vec<Vec<u8>>,
    /// The Rekor entry with its signed entry timestamp and integrated time.
    pub entry: TlogEntry,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawBundle {
    signed_entry_timestamp: String,
    payload: RawPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPayload {
    body: String,
    integrated_time: i64,
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

fn hex_decode(text: &str, what: &str) -> Result<Vec<u8>, String> {
    let digit = |c: u8| (c as char).to_digit(16);
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(2) {
        return Err(format!("{what} is not a hex string"));
    }
    bytes
        .chunks(2)
        .map(|p| match (digit(p[0]), digit(p[1])) {
            (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
            _ => Err(format!("{what} is not a hex string")),
        })
        .collect()
}

/// The certificates (DER) of the PEM text `pem`: at least one, every block a `CERTIFICATE`.
fn certificates(pem: &str, what: &str) -> Result<Vec<Vec<u8>>, String> {
    let blocks = crate::keys::pem_blocks(pem, what).map_err(|e| e.to_string())?;
    if blocks.is_empty() {
        return Err(format!("{what} holds no PEM certificate"));
    }
    blocks
        .into_iter()
        .map(|(label, der)| {
            if label == "CERTIFICATE" {
                Ok(der)
            } else {
                Err(format!("{what}: PEM block is {label:?}, not CERTIFICATE"))
            }
        })
        .collect()
}

/// Parses the `dev.sigstore.cosign/bundle` annotation into a log entry (kind and version read
/// from the entry body).
pub fn parse_bundle(text: &str) -> Result<TlogEntry, String> {
    let raw: RawBundle = serde_json::from_str(text)
        .map_err(|e| format!("{BUNDLE_ANNOTATION} annotation is not a Rekor bundle: {e}"))?;
    let p = &raw.payload;
    let body = b64(&p.body, "Rekor bundle Payload.body")?;
    let head: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| format!("Rekor bundle entry body is not JSON: {e}"))?;
    let field = |k: &str| head.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    Ok(TlogEntry {
        log_index: u64::try_from(p.log_index)
            .map_err(|_| format!("Rekor bundle logIndex {} is negative", p.log_index))?,
        log_id: hex_decode(&p.log_id, "Rekor bundle logID")?,
        kind: field("kind").to_string(),
        version: field("apiVersion").to_string(),
        integrated_time: Some(p.integrated_time),
        signed_entry_timestamp: Some(b64(
            &raw.signed_entry_timestamp,
            "Rekor bundle SignedEntryTimestamp",
        )?),
        inclusion_proof: None,
        body_base64: p.body.clone(),
        body,
    })
}

/// The keyless material of a layer's annotations; `Ok(None)` when the layer has no
/// certificate (a key-based signature). A certificate without a bundle is an error: the
/// signature was never logged.
pub fn parse(annotations: &BTreeMap<String, String>) -> Result<Option<Keyless>, String> {
    let Some(cert_pem) = annotations.get(CERTIFICATE_ANNOTATION) else {
        return Ok(None);
    };
    let leaf = certificates(cert_pem, CERTIFICATE_ANNOTATION)?.swap_remove(0);
    let chain = annotations
        .get(CHAIN_ANNOTATION)
        .map(|c| certificates(c, CHAIN_ANNOTATION))
        .transpose()?
        .unwrap_or_default();
    let bundle = annotations.get(BUNDLE_ANNOTATION).ok_or_else(|| {
        format!(
            "keyless signature has no {BUNDLE_ANNOTATION} annotation (no transparency-log entry)"
        )
    })?;
    Ok(Some(Keyless {
        leaf,
        chain,
        entry: parse_bundle(bundle)?,
    }))
}

/// Verifies a classic keyless `signature` over `payload` (the layer bytes) for `policy`
/// against `root`. Returns the signer and the integrated time.
pub fn verify(
    payload: &[u8],
    signature: &[u8],
    keyless: &Keyless,
    policy: &IdentityPolicy,
    root: &TrustedRoot,
) -> Result<Verified, String> {
    let leaf = cert::parse_leaf(&keyless.leaf)?;
    if !leaf.key.verify(payload, signature) {
        return Err("signature does not verify over the payload with the certificate's key".into());
    }
    let entry = &keyless.entry;
    let log = root.tlog(&entry.log_id).ok_or_else(|| {
        format!(
            "signed entry timestamp is from log {} which is not in the trusted root",
            hex(&entry.log_id)
        )
    })?;
    tlog::verify_set(entry, log)?;
    let content = Content::Message {
        digest: None,
        signature: signature.to_vec(),
    };
    tlog::match_body(
        entry,
        &Expected {
            content: &content,
            artifact_sha256: &Sha256::digest(payload),
            signer_der: &leaf.der,
        },
    )?;
    let time = entry
        .integrated_time
        .ok_or("Rekor bundle has no integrated time")?;
    if !log.valid.contains(time) {
        return Err(format!(
            "log {} key is not trusted at time {time}",
            log.base_url
        ));
    }
    verify_certificate(&leaf, &[time], policy, root)?;
    Ok(Verified::by_certificate(&leaf, time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_pem_errors_are_reasons() {
        assert_eq!(hex_decode("0aFf", "x").unwrap(), vec![0x0a, 0xff]);
        for bad in ["", "0", "zz", "é0", "0é"] {
            assert!(hex_decode(bad, "x").is_err(), "{bad:?}");
        }
        assert!(certificates("no pem here", "c").is_err());
        assert!(certificates("-----BEGIN CERTIFICATE-----\nAAAA\n", "c").is_err());
        let key = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(certificates(key, "c").is_err());
    }

    #[test]
    fn a_layer_without_certificate_is_not_keyless() {
        assert_eq!(parse(&BTreeMap::new()).unwrap(), None);
        let only_cert = BTreeMap::from([(
            CERTIFICATE_ANNOTATION.to_string(),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_string(),
        )]);
        let err = parse(&only_cert).unwrap_err();
        assert!(err.contains(BUNDLE_ANNOTATION), "{err}");
    }

    mod with_test_sigstore {
        use rcgen::KeyUsagePurpose;

        use super::super::{BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION};
        use crate::classic::check_keyless;
        use crate::private::SigningKey;
        use crate::sigstore::testing::{ClassicKeyless, ClassicOptions, LeafOptions, TestSigstore};
        use crate::sigstore::{IdentityPolicy, Matcher, TrustedRoot, Verified};
        use crate::{KeyAlgorithm, keys::hex};

        const REPO: &str = "registry.test/payments/api";
        const IDENTITY: &str =
            "https://github.com/acme/payments/.github/workflows/release.yml@refs/heads/main";
        const ISSUER: &str = "https://token.actions.githubusercontent.com";

        fn digest(n: u8) -> String {
            format!("sha256:{}", hex(&[n; 32]))
        }

        fn policy(identity: &str, issuer: &str) -> IdentityPolicy {
            IdentityPolicy {
                identity: Matcher::Exact(identity.into()),
                issuer: Matcher::Exact(issuer.into()),
            }
        }

        fn check_as(
            sigstore: &TestSigstore,
            signed: &ClassicKeyless,
            policy: &IdentityPolicy,
        ) -> Result<Verified, String> {
            let root = TrustedRoot::from_json(sigstore.trusted_root().as_bytes()).unwrap();
            check_keyless(
                &digest(1),
                &signed.signature(),
                &signed.payload,
                policy,
                &root,
            )
        }

        fn check(sigstore: &TestSigstore, signed: &ClassicKeyless) -> Result<Verified, String> {
            check_as(sigstore, signed, &policy(IDENTITY, ISSUER))
        }

        fn with(sigstore: &TestSigstore, options: &ClassicOptions<'_>) -> ClassicKeyless {
            sigstore.classic_with(REPO, &digest(1), IDENTITY, ISSUER, options)
        }

        fn fails(result: Result<Verified, String>, reason: &str) {
            let err = result.expect_err("must not verify");
            assert!(err.contains(reason), "{err:?} does not name {reason:?}");
        }

        /// A signature made as `options` say fails, naming `reason`.
        fn fails_with(sigstore: &TestSigstore, options: &ClassicOptions<'_>, reason: &str) {
            fails(check(sigstore, &with(sigstore, options)), reason);
        }

        #[test]
        fn a_classic_keyless_signature_verifies_for_its_identity_and_issuer() {
            let sigstore = TestSigstore::new();
            let signed = sigstore.classic(REPO, &digest(1), IDENTITY, ISSUER);
            let v = check(&sigstore, &signed).unwrap();
            assert_eq!(v.signer, IDENTITY);
            assert_eq!(v.issuer.as_deref(), Some(ISSUER));
            let re = IdentityPolicy {
                identity: Matcher::regex("https://github.com/acme/.*@refs/heads/main").unwrap(),
                issuer: Matcher::Exact(ISSUER.into()),
            };
            check_as(&sigstore, &signed, &re).unwrap();
        }

        #[test]
        fn wrong_identity_or_issuer_fails_naming_it() {
            let sigstore = TestSigstore::new();
            let signed = sigstore.classic(REPO, &digest(1), IDENTITY, ISSUER);
            fails(
                check_as(
                    &sigstore,
                    &signed,
                    &policy("https://github.com/acme/other", ISSUER),
                ),
                "certificate identity",
            );
            fails(
                check_as(
                    &sigstore,
                    &signed,
                    &policy(IDENTITY, "https://accounts.google.com"),
                ),
                "certificate OIDC issuer",
            );
        }

        #[test]
        fn a_tampered_signed_entry_timestamp_fails() {
            let sigstore = TestSigstore::new();
            let mut signed = sigstore.classic(REPO, &digest(1), IDENTITY, ISSUER);
            let bundle = signed.annotations.get_mut(BUNDLE_ANNOTATION).unwrap();
            let mut v: serde_json::Value = serde_json::from_str(bundle).unwrap();
            // Another integrated time than the one the log signed.
            let t = v["Payload"]["integratedTime"].as_i64().unwrap();
            v["Payload"]["integratedTime"] = (t - 1).into();
            *bundle = v.to_string();
            fails(
                check(&sigstore, &signed),
                "signed entry timestamp does not verify with the log key",
            );
        }

        #[test]
        fn a_set_from_a_log_outside_the_root_fails() {
            let sigstore = TestSigstore::new();
            let foreign = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
            let options = ClassicOptions {
                log: Some(&foreign),
                ..Default::default()
            };
            fails_with(&sigstore, &options, "which is not in the trusted root");
        }

        #[test]
        fn an_integrated_time_outside_the_certificate_validity_fails() {
            let sigstore = TestSigstore::new();
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            for t in [now + 3600, now - 3600] {
                let options = ClassicOptions {
                    integrated_time: Some(t),
                    ..Default::default()
                };
                let reason = format!("signing time {t} is outside the certificate's validity");
                fails_with(&sigstore, &options, &reason);
            }
        }

        #[test]
        fn a_payload_for_another_digest_fails() {
            let sigstore = TestSigstore::new();
            let signed = sigstore.classic(REPO, &digest(2), IDENTITY, ISSUER);
            fails(
                check(&sigstore, &signed),
                &format!(
                    "payload digest {} does not match image {}",
                    digest(2),
                    digest(1)
                ),
            );
        }

        #[test]
        fn the_log_entry_must_name_this_signature() {
            let sigstore = TestSigstore::new();
            let mut signed = sigstore.classic(REPO, &digest(1), IDENTITY, ISSUER);
            let other = sigstore.classic(REPO, &digest(1), IDENTITY, ISSUER);
            // A valid entry, for another signature over the same payload; then also the
            // certificate of that signer, whose key did not make this signature.
            for (annotation, reason) in [
                (BUNDLE_ANNOTATION, "log entry signature does not match"),
                (CERTIFICATE_ANNOTATION, "does not verify over the payload"),
            ] {
                let theirs = other.annotations[annotation].clone();
                signed.annotations.insert(annotation.into(), theirs);
                fails(check(&sigstore, &signed), reason);
            }
            // No bundle: never logged.
            signed.annotations.remove(BUNDLE_ANNOTATION);
            fails(check(&sigstore, &signed), "no transparency-log entry");
        }

        #[test]
        fn a_leaf_without_code_signing_usage_fails_naming_it() {
            let sigstore = TestSigstore::new();
            let options = ClassicOptions {
                leaf: LeafOptions {
                    code_signing: false,
                },
                ..Default::default()
            };
            let reason = "no code-signing extended key usage (1.3.6.1.5.5.7.3.3)";
            fails_with(&sigstore, &options, reason);
        }

        #[test]
        fn a_ca_that_may_not_sign_certificates_is_refused() {
            let sigstore = TestSigstore::with_ca_usages(&[KeyUsagePurpose::CrlSign]);
            let signed = sigstore.classic(REPO, &digest(1), IDENTITY, ISSUER);
            fails(check(&sigstore, &signed), "is not a CA");
        }
    }
}
