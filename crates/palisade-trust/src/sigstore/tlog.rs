//! Transparency-log entries: the entry must describe this signature (body matching), be in
//! the log (inclusion proof against a signed checkpoint) and, for Rekor v1, its signed entry
//! timestamp must verify under the log key.
//!
//! Entry kinds and what is compared with the bundle:
//!
//! | kind / version | artifact | signature | signer |
//! |---|---|---|---|
//! | hashedrekord 0.0.1 | `data.hash` (hex SHA-256) | `signature.content` | `publicKey.content` (PEM) |
//! | hashedrekord 0.0.2 | `data.digest` (SHA-256 of the artifact, or of the DSSE PAE) | `signature.content` | `verifier` (DER) |
//! | dsse 0.0.1 | `payloadHash` (hex) | `signatures[].signature` | `signatures[].verifier` (PEM) |
//! | dsse 0.0.2 | `payloadHash.digest` | `signatures[].content` | `signatures[].verifier` (DER) |
//! | intoto 0.0.2 | `content.payloadHash` (hex) | `envelope.signatures[].sig` (base64 twice) | `publicKey` (PEM) |

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::keys::hex;
use crate::sigstore::bundle::{Content, TlogEntry, b64};
use crate::sigstore::root::LogKey;
use crate::sigstore::{checkpoint, merkle};

/// What the entry must match.
pub struct Expected<'a> {
    /// SHA-256 of the artifact (message signatures) — for DSSE, of the payload.
    pub content: &'a Content,
    /// SHA-256 of the artifact.
    pub artifact_sha256: &'a [u8],
    /// The signer: the leaf certificate DER, or the key's SubjectPublicKeyInfo DER.
    pub signer_der: &'a [u8],
}

fn pem_der(text_b64: &str, what: &str) -> Result<Vec<u8>, String> {
    let pem = b64(text_b64, what)?;
    crate::keys::first_pem_block(&pem, what)
        .map(|(_, der)| der)
        .map_err(|e| e.to_string())
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, String> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("log entry body has no {}", path.join(".")))
}

fn verifier_der(v: &Value) -> Result<Vec<u8>, String> {
    let raw = v
        .pointer("/x509Certificate/rawBytes")
        .or_else(|| v.pointer("/publicKey/rawBytes"))
        .and_then(Value::as_str)
        .ok_or("log entry verifier has neither x509Certificate nor publicKey")?;
    b64(raw, "log entry verifier")
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("log entry {what} does not match the bundle"))
    }
}

/// Checks that the entry body describes the bundle's signature, signer and artifact.
pub fn match_body(entry: &TlogEntry, exp: &Expected<'_>) -> Result<(), String> {
    let body: Value = serde_json::from_slice(&entry.body)
        .map_err(|e| format!("log entry body is not JSON: {e}"))?;
    let kind = body["kind"].as_str().unwrap_or_default();
    let api = body["apiVersion"].as_str().unwrap_or_default();
    if kind != entry.kind || api != entry.version {
        return Err(format!(
            "log entry body is {kind} {api}, but the bundle says {} {}",
            entry.kind, entry.version
        ));
    }
    let spec = &body["spec"];
    let sig = exp.content.signature();
    match (&*entry.kind, &*entry.version, exp.content) {
        ("hashedrekord", "0.0.1", Content::Message { .. }) => {
            check(
                str_at(spec, &["data", "hash", "algorithm"])? == "sha256"
                    && str_at(spec, &["data", "hash", "value"])? == hex(exp.artifact_sha256),
                "artifact hash",
            )?;
            check(
                b64(
                    str_at(spec, &["signature", "content"])?,
                    "log entry signature",
                )? == sig,
                "signature",
            )?;
            check(
                pem_der(
                    str_at(spec, &["signature", "publicKey", "content"])?,
                    "log entry key",
                )? == exp.signer_der,
                "certificate or key",
            )
        }
        ("hashedrekord", "0.0.2", content) => {
            let h = &spec["hashedRekordV002"];
            let digest = match content {
                Content::Message { .. } => exp.artifact_sha256.to_vec(),
                Content::Dsse {
                    payload_type,
                    payload,
                    ..
                } => Sha256::digest(crate::bundle::pae(payload_type, payload)).to_vec(),
            };
            check(
                str_at(h, &["data", "algorithm"])? == "SHA2_256"
                    && b64(str_at(h, &["data", "digest"])?, "log entry digest")? == digest,
                "artifact digest",
            )?;
            check(
                b64(str_at(h, &["signature", "content"])?, "log entry signature")? == sig,
                "signature",
            )?;
            check(
                verifier_der(&h["signature"]["verifier"])? == exp.signer_der,
                "certificate or key",
            )
        }
        ("dsse", "0.0.1", Content::Dsse { payload, .. }) => {
            check(
                str_at(spec, &["payloadHash", "value"])? == hex(&Sha256::digest(payload)),
                "payload hash",
            )?;
            let sigs = spec["signatures"].as_array().cloned().unwrap_or_default();
            let found = sigs.iter().any(|s| {
                s["signature"]
                    .as_str()
                    .and_then(|t| b64(t, "sig").ok())
                    .is_some_and(|t| t == sig)
                    && s["verifier"]
                        .as_str()
                        .and_then(|t| pem_der(t, "verifier").ok())
                        .is_some_and(|d| d == exp.signer_der)
            });
            check(sigs.len() == 1 && found, "DSSE signature")
        }
        ("dsse", "0.0.2", Content::Dsse { payload, .. }) => {
            let d = &spec["dsseV002"];
            check(
                b64(str_at(d, &["payloadHash", "digest"])?, "payload hash")?
                    == Sha256::digest(payload).as_slice(),
                "payload hash",
            )?;
            let sigs = d["signatures"].as_array().cloned().unwrap_or_default();
            let found = sigs.iter().any(|s| {
                s["content"]
                    .as_str()
                    .and_then(|t| b64(t, "sig").ok())
                    .is_some_and(|t| t == sig)
                    && verifier_der(&s["verifier"]).is_ok_and(|v| v == exp.signer_der)
            });
            check(sigs.len() == 1 && found, "DSSE signature")
        }
        ("intoto", "0.0.2", Content::Dsse { payload, .. }) => {
            let c = &spec["content"];
            check(
                str_at(c, &["payloadHash", "value"])? == hex(&Sha256::digest(payload)),
                "payload hash",
            )?;
            let sigs = c["envelope"]["signatures"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let found = sigs.iter().any(|s| {
                s["sig"]
                    .as_str()
                    .and_then(|t| b64(t, "sig").ok())
                    .and_then(|t| String::from_utf8(t).ok())
                    .and_then(|t| b64(&t, "sig").ok())
                    .is_some_and(|t| t == sig)
                    && s["publicKey"]
                        .as_str()
                        .and_then(|t| pem_der(t, "publicKey").ok())
                        .is_some_and(|d| d == exp.signer_der)
            });
            check(sigs.len() == 1 && found, "DSSE signature")
        }
        (kind, version, _) => Err(format!(
            "log entry kind {kind} {version} does not fit the bundle's content"
        )),
    }
}

/// Verifies the entry's inclusion proof against its checkpoint, signed by `log`.
pub fn verify_inclusion(entry: &TlogEntry, log: &LogKey) -> Result<(), String> {
    let proof = entry
        .inclusion_proof
        .as_ref()
        .ok_or("log entry has no inclusion proof")?;
    let note = proof
        .checkpoint
        .as_deref()
        .ok_or("log entry inclusion proof has no checkpoint")?;
    let cp = checkpoint::verify(note, log)?;
    if cp.size != proof.tree_size || cp.root_hash != proof.root_hash {
        return Err("checkpoint does not match the inclusion proof's tree size and root".into());
    }
    if !merkle::verify_inclusion(
        proof.log_index,
        proof.tree_size,
        &merkle::leaf_hash(&entry.body),
        &proof.hashes,
        &proof.root_hash,
    ) {
        return Err("inclusion proof does not lead to the checkpoint's root hash".into());
    }
    Ok(())
}

/// Verifies the Rekor v1 signed entry timestamp (a signature over the canonical JSON of body,
/// integrated time, log ID and index).
pub fn verify_set(entry: &TlogEntry, log: &LogKey) -> Result<(), String> {
    let set = entry
        .signed_entry_timestamp
        .as_deref()
        .ok_or("log entry has no signed entry timestamp")?;
    let time = entry
        .integrated_time
        .ok_or("log entry has a signed entry timestamp but no integrated time")?;
    let payload = format!(
        r#"{{"body":{},"integratedTime":{time},"logID":"{}","logIndex":{}}}"#,
        Value::String(entry.body_base64.clone()),
        hex(&log.key_id),
        entry.log_index
    );
    if log.key.verify(payload.as_bytes(), set) {
        Ok(())
    } else {
        Err("signed entry timestamp does not verify with the log key".into())
    }
}
