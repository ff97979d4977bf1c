//! Offline verification of a Sigstore bundle for an artifact, against a trusted root.
//!
//! Order of checks (each failure is an error naming the reason):
//! 1. the bundle parses (known media type, well-formed fields);
//! 2. the signer: a certificate for an identity policy, a managed key for `--key`; a chain
//!    carried in the bundle must not contain a root;
//! 3. the signature over the artifact (message signature, with the digest hint matching) or
//!    over the DSSE pre-authentication encoding (the artifact a subject of the statement);
//! 4. every transparency-log entry: from a log of the trusted root, matching the signature,
//!    signer and artifact, included (Merkle proof to a checkpoint signed by the log), its
//!    signed entry timestamp valid (Rekor v1), the log key trusted at the entry's time;
//! 5. the certificate's usage (digitalSignature, code-signing extended key usage), the signing
//!    time (integrated time, or RFC 3161 timestamp) inside its validity, the certificate
//!    chained to an authority trusted at that time (every certificate of the authority's chain
//!    a CA), and its signed certificate timestamp from a CT log of the root;
//! 6. the identity and OIDC issuer policy.

use sha2::{Digest, Sha256};

use crate::bundle::{IN_TOTO_PAYLOAD_TYPE, pae};
use crate::keys::{PublicKey, hex};
use crate::sigstore::bundle::{Bundle, Content, Material};
use crate::sigstore::cert::{self, Leaf};
use crate::sigstore::policy::IdentityPolicy;
use crate::sigstore::root::TrustedRoot;
use crate::sigstore::{sct, tlog, tsa};

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Signer {
    /// A managed key.
    Key(PublicKey),
    /// A Fulcio certificate with this identity.
    Identity(IdentityPolicy),
}

/// The artifact: its bytes, or only its SHA-256 (an image digest).
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// The bytes.
    Bytes(&'a [u8]),
    /// The SHA-256.
    Sha256(&'a [u8; 32]),
}

/// A verified bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The identity that signed (first SAN), or the key's fingerprint.
    pub signer: String,
    /// The OIDC issuer, for certificates.
    pub issuer: Option<String>,
    /// The verified signing time (Unix seconds).
    pub time: i64,
}

fn verify_content(
    content: &Content,
    key: &PublicKey,
    artifact: Artifact<'_>,
    sha: &[u8; 32],
) -> Result<(), String> {
    match content {
        Content::Message { digest, signature } => {
            if let Some(d) = digest
                && d.as_slice() != sha
            {
                return Err(format!(
                    "message digest {} does not match the artifact's sha256 {}",
                    hex(d),
                    hex(sha)
                ));
            }
            let ok = match artifact {
                Artifact::Bytes(b) => key.verify(b, signature),
                Artifact::Sha256(h) => key.verify_prehashed(&[], h, signature),
            };
            if ok {
                Ok(())
            } else {
                Err("signature does not verify over the artifact with the signer's key".into())
            }
        }
        Content::Dsse {
            payload_type,
            payload,
            signature,
        } => {
            if !key.verify(&pae(payload_type, payload), signature) {
                return Err("DSSE signature does not verify with the signer's key".into());
            }
            if payload_type != IN_TOTO_PAYLOAD_TYPE {
                return Err(format!(
                    "DSSE payload type {payload_type:?} is not {IN_TOTO_PAYLOAD_TYPE:?}"
                ));
            }
            let statement: serde_json::Value = serde_json::from_slice(payload)
                .map_err(|e| format!("in-toto statement is not JSON: {e}"))?;
            let want = hex(sha);
            let found = statement["subject"].as_array().is_some_and(|subjects| {
                subjects
                    .iter()
                    .any(|s| s["digest"]["sha256"].as_str() == Some(want.as_str()))
            });
            if found {
                Ok(())
            } else {
                Err(format!(
                    "artifact sha256 {want} is not a subject of the in-toto statement"
                ))
            }
        }
    }
}

/// Verifies `bundle` for `artifact` with `signer` against `root`.
pub fn verify_bundle(
    bundle: &[u8],
    artifact: Artifact<'_>,
    signer: &Signer,
    root: &TrustedRoot,
) -> Result<Verified, String> {
    let b = Bundle::parse(bundle)?;
    let sha: [u8; 32] = match artifact {
        Artifact::Bytes(bytes) => Sha256::digest(bytes).into(),
        Artifact::Sha256(h) => *h,
    };
    let (leaf, key): (Option<Leaf>, PublicKey) = match (&b.material, signer) {
        (Material::Certificate { leaf, rest }, Signer::Identity(_)) => {
            if rest.iter().any(|c| cert::is_root(c)) {
                return Err("bundle certificate chain contains a root certificate".into());
            }
            let leaf = cert::parse_leaf(leaf)?;
            let key = leaf.key.clone();
            (Some(leaf), key)
        }
        (Material::PublicKey, Signer::Key(k)) => (None, k.clone()),
        (Material::PublicKey, Signer::Identity(_)) => {
            return Err(
                "bundle is signed with a managed key, not a certificate: a key is needed (--key)"
                    .into(),
            );
        }
        (Material::Certificate { .. }, Signer::Key(_)) => {
            return Err(
                "bundle is signed with a certificate: verify it with a certificate identity, not a key"
                    .into(),
            );
        }
    };
    verify_content(&b.content, &key, artifact, &sha)?;
    let signer_der = leaf
        .as_ref()
        .map_or_else(|| key.spki_der().to_vec(), |l| l.der.clone());

    if b.tlog_entries.is_empty() {
        return Err("bundle has no transparency-log entry".into());
    }
    let stamped = tsa::verify_all(&b.timestamps, b.content.signature(), root)?;
    let mut times = stamped.clone();
    for entry in &b.tlog_entries {
        let log = root.tlog(&entry.log_id).ok_or_else(|| {
            format!(
                "log entry is from log {} which is not in the trusted root",
                hex(&entry.log_id)
            )
        })?;
        tlog::match_body(
            entry,
            &tlog::Expected {
                content: &b.content,
                artifact_sha256: &sha,
                signer_der: &signer_der,
            },
        )?;
        tlog::verify_inclusion(entry, log)?;
        if entry.signed_entry_timestamp.is_some() {
            tlog::verify_set(entry, log)?;
        }
        let entry_times: Vec<i64> = match entry.integrated_time {
            Some(t) => vec![t],
            None => stamped.clone(),
        };
        if let Some(t) = entry_times.iter().find(|t| !log.valid.contains(**t)) {
            return Err(format!(
                "log {} key is not trusted at time {t}",
                log.base_url
            ));
        }
        times.extend(entry.integrated_time);
    }
    if times.is_empty() {
        return Err(
            "no verified signing time: the log entries have no integrated time and the bundle no trusted RFC 3161 timestamp"
                .into(),
        );
    }
    let time = times[0];
    let Some(leaf) = leaf else {
        return Ok(Verified {
            signer: key.fingerprint(),
            issuer: None,
            time,
        });
    };
    let Signer::Identity(policy) = signer else {
        unreachable!("certificates are only accepted with an identity policy")
    };
    verify_certificate(&leaf, &times, policy, root)?;
    Ok(Verified::by_certificate(&leaf, time))
}

impl Verified {
    /// The verdict for a signature made with the certificate `leaf` at `time`.
    pub fn by_certificate(leaf: &Leaf, time: i64) -> Verified {
        Verified {
            signer: leaf.identities().next().unwrap_or_default().to_string(),
            issuer: leaf.issuer.clone(),
            time,
        }
    }
}

/// Checks a signing certificate against the root and the policy at each verified signing time:
/// code-signing usage, the time inside the certificate's validity, the chain to a Fulcio CA
/// trusted at that time, an SCT from a CT log of the root, then identity and issuer. Shared by
/// bundles and cosign's classic keyless layout.
pub fn verify_certificate(
    leaf: &Leaf,
    times: &[i64],
    policy: &IdentityPolicy,
    root: &TrustedRoot,
) -> Result<(), String> {
    leaf.check_usage()?;
    for t in times {
        if *t < leaf.not_before || *t > leaf.not_after {
            return Err(format!(
                "signing time {t} is outside the certificate's validity ({} to {})",
                leaf.not_before, leaf.not_after
            ));
        }
        let ca = cert::verify_chain(&leaf.der, &root.certificate_authorities, *t)?;
        sct::verify(&leaf.der, &ca.chain[0], root)?;
    }
    policy.check(leaf)
}
