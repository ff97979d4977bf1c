//! Sigstore bundles v0.1, v0.2 and v0.3 (`application/vnd.dev.sigstore.bundle+json;version=0.N`
//! and `application/vnd.dev.sigstore.bundle.v0.3+json`) parsed into plain values: the
//! verification material (certificate, chain or key hint), the signed content (message
//! signature or DSSE envelope), the transparency-log entries and the RFC 3161 timestamps.
//! Nothing is verified here; every malformed field is an error naming the field.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

/// Bundle format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// v0.1.
    V01,
    /// v0.2.
    V02,
    /// v0.3.
    V03,
}

/// What the signature is checked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Material {
    /// A signing certificate (DER), and for v0.1/v0.2 the rest of the chain the bundle carried.
    Certificate {
        /// The leaf certificate.
        leaf: Vec<u8>,
        /// Further chain certificates (not trusted: trust comes from the trusted root).
        rest: Vec<Vec<u8>>,
    },
    /// A managed key, identified by a hint; the key itself is given by the verifier.
    PublicKey,
}

/// The signed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A signature over the artifact bytes.
    Message {
        /// The claimed SHA-256 of the artifact, if given (an unauthenticated hint).
        digest: Option<Vec<u8>>,
        /// The signature.
        signature: Vec<u8>,
    },
    /// A DSSE envelope (one signature).
    Dsse {
        /// `payloadType`.
        payload_type: String,
        /// The decoded payload.
        payload: Vec<u8>,
        /// The signature over the pre-authentication encoding.
        signature: Vec<u8>,
    },
}

impl Content {
    /// The signature bytes.
    pub fn signature(&self) -> &[u8] {
        match self {
            Content::Message { signature, .. } | Content::Dsse { signature, .. } => signature,
        }
    }
}

/// A Merkle inclusion proof with its checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// Index of the entry in the tree the proof is for.
    pub log_index: u64,
    /// Root hash of that tree.
    pub root_hash: Vec<u8>,
    /// Size of that tree.
    pub tree_size: u64,
    /// Audit path, leaf to root.
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint (note format), if any.
    pub checkpoint: Option<String>,
}

/// A transparency-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogEntry {
    /// Global log index.
    pub log_index: u64,
    /// The log's ID.
    pub log_id: Vec<u8>,
    /// Entry kind (`hashedrekord`, `dsse`, `intoto`).
    pub kind: String,
    /// Entry version (`0.0.1`, `0.0.2`).
    pub version: String,
    /// Time the log integrated the entry (Rekor v1); `None` for Rekor v2.
    pub integrated_time: Option<i64>,
    /// The signed entry timestamp (Rekor v1 promise).
    pub signed_entry_timestamp: Option<Vec<u8>>,
    /// The inclusion proof.
    pub inclusion_proof: Option<InclusionProof>,
    /// The canonicalized entry body, as the base64 text in the bundle.
    pub body_base64: String,
    /// The decoded body.
    pub body: Vec<u8>,
}

/// A parsed bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Format version.
    pub version: Version,
    /// Verification material.
    pub material: Material,
    /// Signed content.
    pub content: Content,
    /// Transparency-log entries.
    pub tlog_entries: Vec<TlogEntry>,
    /// DER RFC 3161 timestamp responses over the signature.
    pub timestamps: Vec<Vec<u8>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Int {
    Text(String),
    Number(i64),
}

impl Int {
    fn value(&self, what: &str) -> Result<i64, String> {
        match self {
            Int::Number(n) => Ok(*n),
            Int::Text(t) => t
                .trim()
                .parse()
                .map_err(|_| format!("{what} {t:?} is not an integer")),
        }
    }

    fn unsigned(&self, what: &str) -> Result<u64, String> {
        let v = self.value(what)?;
        u64::try_from(v).map_err(|_| format!("{what} {v} is negative"))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(default)]
    media_type: String,
    verification_material: Option<RawMaterial>,
    message_signature: Option<RawMessage>,
    dsse_envelope: Option<RawEnvelope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMaterial {
    certificate: Option<RawBytes>,
    x509_certificate_chain: Option<RawChain>,
    public_key: Option<serde_json::Value>,
    #[serde(default)]
    tlog_entries: Vec<RawEntry>,
    timestamp_verification_data: Option<RawTimestamps>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    #[serde(default)]
    raw_bytes: String,
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default)]
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestamps {
    #[serde(default)]
    rfc3161_timestamps: Vec<RawTimestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestamp {
    signed_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    log_index: Int,
    log_id: RawLogId,
    kind_version: RawKindVersion,
    integrated_time: Option<Int>,
    inclusion_promise: Option<RawPromise>,
    inclusion_proof: Option<RawProof>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct RawKindVersion {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPromise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProof {
    log_index: Int,
    root_hash: String,
    tree_size: Int,
    #[serde(default)]
    hashes: Vec<String>,
    checkpoint: Option<RawCheckpoint>,
}

#[derive(Deserialize)]
struct RawCheckpoint {
    #[serde(default)]
    envelope: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    message_digest: Option<RawDigest>,
    #[serde(default)]
    signature: String,
}

#[derive(Deserialize)]
struct RawDigest {
    #[serde(default)]
    algorithm: String,
    #[serde(default)]
    digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelope {
    payload: String,
    payload_type: String,
    #[serde(default)]
    signatures: Vec<RawSig>,
}

#[derive(Deserialize)]
struct RawSig {
    sig: String,
}

/// Decodes standard base64 (padding optional, line breaks ignored), naming `what` on error.
pub(crate) fn b64(text: &str, what: &str) -> Result<Vec<u8>, String> {
    let t: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let t = t.as_str();
    B64.decode(t)
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(t.trim_end_matches('='))
        })
        .map_err(|e| format!("{what} is not valid base64: {e}"))
}

/// The bundle version named by `media_type`.
pub fn version(media_type: &str) -> Result<Version, String> {
    match media_type {
        "application/vnd.dev.sigstore.bundle+json;version=0.1" => Ok(Version::V01),
        "application/vnd.dev.sigstore.bundle+json;version=0.2" => Ok(Version::V02),
        "application/vnd.dev.sigstore.bundle+json;version=0.3"
        | "application/vnd.dev.sigstore.bundle.v0.3+json" => Ok(Version::V03),
        other => Err(format!("unsupported bundle media type {other:?}")),
    }
}

fn entry(raw: &RawEntry, i: usize) -> Result<TlogEntry, String> {
    let what = format!("tlogEntries[{i}]");
    let proof = raw
        .inclusion_proof
        .as_ref()
        .map(|p| -> Result<InclusionProof, String> {
            Ok(InclusionProof {
                log_index: p
                    .log_index
                    .unsigned(&format!("{what} inclusionProof.logIndex"))?,
                root_hash: b64(&p.root_hash, &format!("{what} inclusionProof.rootHash"))?,
                tree_size: p
                    .tree_size
                    .unsigned(&format!("{what} inclusionProof.treeSize"))?,
                hashes: p
                    .hashes
                    .iter()
                    .map(|h| b64(h, &format!("{what} inclusionProof.hashes")))
                    .collect::<Result<_, _>>()?,
                checkpoint: p
                    .checkpoint
                    .as_ref()
                    .map(|c| c.envelope.clone())
                    .filter(|e| !e.is_empty()),
            })
        })
        .transpose()?;
    Ok(TlogEntry {
        log_index: raw.log_index.unsigned(&format!("{what} logIndex"))?,
        log_id: b64(&raw.log_id.key_id, &format!("{what} logId"))?,
        kind: raw.kind_version.kind.clone(),
        version: raw.kind_version.version.clone(),
        integrated_time: raw
            .integrated_time
            .as_ref()
            .map(|t| t.value(&format!("{what} integratedTime")))
            .transpose()?
            .filter(|t| *t != 0),
        signed_entry_timestamp: raw
            .inclusion_promise
            .as_ref()
            .map(|p| {
                b64(
                    &p.signed_entry_timestamp,
                    &format!("{what} signedEntryTimestamp"),
                )
            })
            .transpose()?,
        inclusion_proof: proof,
        body_base64: raw.canonicalized_body.clone(),
        body: b64(
            &raw.canonicalized_body,
            &format!("{what} canonicalizedBody"),
        )?,
    })
}

fn material(raw: &RawMaterial) -> Result<Material, String> {
    if let Some(cert) = &raw.certificate {
        let leaf = b64(&cert.raw_bytes, "certificate")?;
        if leaf.is_empty() {
            return Err("bundle certificate is empty".into());
        }
        return Ok(Material::Certificate {
            leaf,
            rest: Vec::new(),
        });
    }
    if let Some(chain) = &raw.x509_certificate_chain {
        let mut certs = chain
            .certificates
            .iter()
            .map(|c| b64(&c.raw_bytes, "x509CertificateChain certificate"))
            .collect::<Result<Vec<_>, _>>()?;
        if certs.is_empty() || certs[0].is_empty() {
            return Err("bundle has an empty certificate chain".into());
        }
        let leaf = certs.remove(0);
        return Ok(Material::Certificate { leaf, rest: certs });
    }
    if raw.public_key.is_some() {
        return Ok(Material::PublicKey);
    }
    Err("bundle verification material has no certificate, chain or public key".into())
}

impl Bundle {
    /// Parses bundle JSON.
    pub fn parse(bytes: &[u8]) -> Result<Bundle, String> {
        let raw: Raw =
            serde_json::from_slice(bytes).map_err(|e| format!("bundle is not valid JSON: {e}"))?;
        let version = version(&raw.media_type)?;
        let vm = raw
            .verification_material
            .as_ref()
            .ok_or("bundle has no verificationMaterial")?;
        let material = material(vm)?;
        let content = match (&raw.message_signature, &raw.dsse_envelope) {
            (Some(m), None) => Content::Message {
                digest: m
                    .message_digest
                    .as_ref()
                    .map(|d| {
                        if d.algorithm != "SHA2_256" {
                            return Err(format!(
                                "messageDigest algorithm {:?} is not SHA2_256",
                                d.algorithm
                            ));
                        }
                        b64(&d.digest, "messageDigest")
                    })
                    .transpose()?,
                signature: b64(&m.signature, "messageSignature signature")?,
            },
            (None, Some(e)) => {
                let [sig] = e.signatures.as_slice() else {
                    return Err(format!(
                        "DSSE envelope has {} signatures, expected exactly one",
                        e.signatures.len()
                    ));
                };
                Content::Dsse {
                    payload_type: e.payload_type.clone(),
                    payload: b64(&e.payload, "DSSE payload")?,
                    signature: b64(&sig.sig, "DSSE signature")?,
                }
            }
            (Some(_), Some(_)) => {
                return Err("bundle has both messageSignature and dsseEnvelope".into());
            }
            (None, None) => {
                return Err("bundle has neither messageSignature nor dsseEnvelope".into());
            }
        };
        if content.signature().is_empty() {
            return Err("bundle signature is empty".into());
        }
        let tlog_entries = vm
            .tlog_entries
            .iter()
            .enumerate()
            .map(|(i, e)| entry(e, i))
            .collect::<Result<Vec<_>, _>>()?;
        let timestamps = vm
            .timestamp_verification_data
            .as_ref()
            .map(|t| {
                t.rfc3161_timestamps
                    .iter()
                    .map(|ts| b64(&ts.signed_timestamp, "rfc3161 signedTimestamp"))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Bundle {
            version,
            material,
            content,
            tlog_entries,
            timestamps,
        })
    }
}
