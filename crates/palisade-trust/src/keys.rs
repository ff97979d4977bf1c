//! Public keys as cosign uses them: PEM `PUBLIC KEY` blocks (X.509 SubjectPublicKeyInfo) holding
//! ECDSA P-256 / P-384, RSA or Ed25519 keys, and signature verification with cosign's algorithm
//! for each key type.
//!
//! | key | signature | hash |
//! |---|---|---|
//! | ECDSA P-256 | ASN.1 DER (r, s) | SHA-256 |
//! | ECDSA P-384 | ASN.1 DER (r, s) | SHA-384 (cosign's default), SHA-256 also accepted |
//! | RSA | PKCS #1 v1.5, or PSS (salt length = hash length or auto) | SHA-256 |
//! | Ed25519 | 64 bytes, pure Ed25519 over the message | — |
//!
//! The **fingerprint** of a key is `SHA256:` followed by the lower-case hex SHA-256 of its DER
//! SubjectPublicKeyInfo — the same bytes as `openssl pkey -pubin -outform DER | sha256sum`.

use std::fmt;
use std::path::{Path, PathBuf};

use ecdsa::signature::Verifier as _;
use ecdsa::signature::hazmat::PrehashVerifier as _;
use sha2::{Digest, Sha256};
use spki::DecodePublicKey;

use crate::TrustError;

/// The algorithm family of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    /// ECDSA over NIST P-256.
    EcdsaP256,
    /// ECDSA over NIST P-384.
    EcdsaP384,
    /// RSA (PKCS #1 v1.5 or PSS signatures).
    Rsa,
    /// Ed25519.
    Ed25519,
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
            KeyAlgorithm::EcdsaP384 => "ECDSA P-384",
            KeyAlgorithm::Rsa => "RSA",
            KeyAlgorithm::Ed25519 => "Ed25519",
        })
    }
}

#[derive(Clone)]
enum Inner {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Rsa(Box<rsa::PublicKey>),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// A public key that verifies cosign signatures.
#[derive(Clone)]
pub struct PublicKey {
    inner: Inner,
    spki_der: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm())
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der == other.spki_der
    }
}

impl Eq for PublicKey {}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `sha256:<hex>` of `bytes` (an OCI digest).
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// Finds the first PEM block in `text` and returns its label and decoded bytes. Text before
/// and after the block (comments, other blocks) is ignored.
pub(crate) fn first_pem_block(text: &[u8], what: &str) -> Result<(String, Vec<u8>), TrustError> {
    let s = std::str::from_utf8(text)
        .map_err(|_| TrustError::key(what, "not PEM text (invalid UTF-8)"))?;
    next_pem_block(s, what)?
        .map(|(label, der, _)| (label, der))
        .ok_or_else(|| TrustError::key(what, "no PEM block (-----BEGIN …-----) found"))
}

/// Every PEM block of `text` in order (label, decoded bytes); text between blocks is ignored.
pub(crate) fn pem_blocks(text: &str, what: &str) -> Result<Vec<(String, Vec<u8>)>, TrustError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some((label, der, next)) = next_pem_block(rest, what)? {
        out.push((label, der));
        rest = &rest[next..];
    }
    Ok(out)
}

/// The first PEM block of `s`: label, decoded bytes and the offset just after the block;
/// `None` when `s` has no `-----BEGIN ` line.
fn next_pem_block(s: &str, what: &str) -> Result<Option<(String, Vec<u8>, usize)>, TrustError> {
    const BEGIN: &str = "-----BEGIN ";
    let Some(start) = s.find(BEGIN) else {
        return Ok(None);
    };
    let rest = &s[start..];
    let label_end = rest[BEGIN.len()..]
        .find("-----")
        .ok_or_else(|| TrustError::key(what, "malformed PEM header"))?;
    let label = &rest[BEGIN.len()..BEGIN.len() + label_end];
    let body_start = BEGIN.len() + label_end + 5;
    let end_marker = format!("-----END {label}-----");
    let end = rest[body_start..]
        .find(&end_marker)
        .ok_or_else(|| TrustError::key(what, format!("PEM block {label} has no END line")))?
        + body_start;
    // Normalise line endings and wrap width so that PEM written by any tool decodes.
    let body: String = rest[body_start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut wrapped = format!("{BEGIN}{label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        wrapped.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        wrapped.push('\n');
    }
    wrapped.push_str(&end_marker);
    wrapped.push('\n');
    let (_, der) = pem_rfc7468::decode_vec(wrapped.as_bytes())
        .map_err(|e| TrustError::key(what, format!("PEM block {label}: {e}")))?;
    Ok(Some((
        label.to_string(),
        der,
        start + end + end_marker.len(),
    )))
}

impl PublicKey {
    /// Parses a PEM `PUBLIC KEY` block (the format of `cosign.pub`). `what` names the source
    /// (a file path, a config entry) in errors.
    pub fn from_pem(pem: &[u8], what: &str) -> Result<PublicKey, TrustError> {
        let (label, der) = first_pem_block(pem, what)?;
        if label != "PUBLIC KEY" {
            return Err(TrustError::key(
                what,
                format!("expected a PEM PUBLIC KEY block, found {label}"),
            ));
        }
        PublicKey::from_spki_der(&der, what)
    }

    /// Parses the keys of a signature requirement (`images.signatures[].keys`): each entry is
    /// PEM text (contains `-----BEGIN`) or a path relative to `base_dir` (the configuration
    /// file's directory). This crate reads no files: `read` is called with each key file's path
    /// and returns its bytes (the caller passes `std::fs::read`, or a lookup in fetched data).
    /// Errors name the entry (`keys[1] (inline PEM)`) or the file.
    pub fn from_entries(
        entries: &[String],
        base_dir: &Path,
        mut read: impl FnMut(PathBuf) -> std::io::Result<Vec<u8>>,
    ) -> Result<Vec<PublicKey>, TrustError> {
        entries
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                if entry.contains("-----BEGIN") {
                    PublicKey::from_pem(entry.as_bytes(), &format!("keys[{i}] (inline PEM)"))
                } else {
                    let path = base_dir.join(entry);
                    let what = path.display().to_string();
                    let bytes = read(path).map_err(|e| TrustError::key(&what, e.to_string()))?;
                    PublicKey::from_pem(&bytes, &what)
                }
            })
            .collect()
    }

    /// Parses a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8], what: &str) -> Result<PublicKey, TrustError> {
        let inner = if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            Inner::P256(k)
        } else if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            Inner::P384(k)
        } else if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            Inner::Ed25519(k)
        } else if let Ok(k) = rsa::PublicKey::from_public_key_der(der) {
            Inner::Rsa(Box::new(k))
        } else {
            return Err(TrustError::key(
                what,
                "unsupported or malformed public key (expected ECDSA P-256/P-384, RSA or Ed25519 SubjectPublicKeyInfo)",
            ));
        };
        Ok(PublicKey {
            inner,
            spki_der: der.to_vec(),
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.inner {
            Inner::P256(_) => KeyAlgorithm::EcdsaP256,
            Inner::P384(_) => KeyAlgorithm::EcdsaP384,
            Inner::Rsa(_) => KeyAlgorithm::Rsa,
            Inner::Ed25519(_) => KeyAlgorithm::Ed25519,
        }
    }

    /// `SHA256:<hex of SHA-256 over the DER SubjectPublicKeyInfo>`.
    pub fn fingerprint(&self) -> String {
        format!("SHA256:{}", hex(&Sha256::digest(&self.spki_der)))
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The key as a PEM `PUBLIC KEY` block.
    pub fn to_pem(&self) -> String {
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &self.spki_der)
            .unwrap_or_default()
    }

    /// Whether `signature` (ASN.1 DER) is a valid ECDSA signature over the digest `prehash`
    /// (for X.509 and RFC 3161 signatures, whose hash the signature algorithm names). For
    /// RSA (PKCS #1 v1.5, SHA-256) and Ed25519 keys `message` is verified as in
    /// [`PublicKey::verify`].
    pub fn verify_prehashed(&self, message: &[u8], prehash: &[u8], signature: &[u8]) -> bool {
        match &self.inner {
            Inner::P256(k) => p256::ecdsa::DerSignature::try_from(signature)
                .is_ok_and(|sig| k.verify_prehash(prehash, &sig).is_ok()),
            Inner::P384(k) => p384::ecdsa::DerSignature::try_from(signature)
                .is_ok_and(|sig| k.verify_prehash(prehash, &sig).is_ok()),
            Inner::Rsa(_) | Inner::Ed25519(_) => self.verify(message, signature),
        }
    }

    /// Whether `signature` is a valid signature of `message` under this key, with cosign's
    /// algorithm for the key type (see the module documentation).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.inner {
            Inner::P256(k) => p256::ecdsa::DerSignature::try_from(signature)
                .is_ok_and(|sig| k.verify(message, &sig).is_ok()),
            Inner::P384(k) => p384::ecdsa::DerSignature::try_from(signature).is_ok_and(|sig| {
                k.verify(message, &sig).is_ok()
                    || k.verify_prehash(&Sha256::digest(message), &sig).is_ok()
            }),
            Inner::Rsa(k) => {
                let pkcs1 = rsa::pkcs1v15::Signature::try_from(signature).is_ok_and(|sig| {
                    rsa::pkcs1v15::VerifyingKey::<Sha256>::new((**k).clone())
                        .verify(message, &sig)
                        .is_ok()
                });
                pkcs1
                    || rsa::pss::Signature::try_from(signature).is_ok_and(|sig| {
                        rsa::pss::VerifyingKey::<Sha256>::new((**k).clone())
                            .verify(message, &sig)
                            .is_ok()
                            || rsa::pss::VerifyingKey::<Sha256>::new_with_auto_salt_len(
                                (**k).clone(),
                            )
                            .verify(message, &sig)
                            .is_ok()
                    })
            }
            Inner::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| k.verify_strict(message, &sig).is_ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;

    #[test]
    fn an_end_line_inside_the_header_is_an_error_not_a_panic() {
        // The END marker used to be searched from the BEGIN line, so one overlapping the
        // header gave a body range that ended before it started.
        for text in [
            "-----BEGIN X-----END X-----",
            "-----BEGIN X-----END X-----\n",
        ] {
            let err = PublicKey::from_pem(text.as_bytes(), "k").unwrap_err();
            assert!(err.to_string().contains("has no END line"), "{err}");
        }
        let two = format!(
            "{0}{0}",
            SigningKey::generate(KeyAlgorithm::EcdsaP256)
                .unwrap()
                .public_key()
                .to_pem()
        );
        assert_eq!(pem_blocks(&two, "k").unwrap().len(), 2);
    }

    #[test]
    fn key_entries_are_inline_pem_or_paths_read_through_the_caller() {
        let inline = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let file = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let file_pem = file.public_key().to_pem();
        let entries = [inline.public_key().to_pem(), "keys/team.pub".to_string()];
        let mut asked = Vec::new();
        let keys = PublicKey::from_entries(&entries, Path::new("/etc/palisade"), |path| {
            asked.push(path.clone());
            Ok(file_pem.clone().into_bytes())
        })
        .unwrap();
        assert_eq!(asked, [PathBuf::from("/etc/palisade/keys/team.pub")]);
        assert_eq!(
            keys,
            [inline.public_key().clone(), file.public_key().clone()]
        );

        let missing = PublicKey::from_entries(&entries[1..], Path::new("/etc/palisade"), |_| {
            Err(std::io::Error::from(std::io::ErrorKind::NotFound))
        })
        .unwrap_err();
        assert_eq!(
            missing.to_string(),
            "/etc/palisade/keys/team.pub: entity not found"
        );
        let bad = PublicKey::from_entries(
            &["-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----".into()],
            Path::new("."),
            |_| unreachable!("inline PEM is not read"),
        )
        .unwrap_err();
        assert!(
            bad.to_string().starts_with("keys[0] (inline PEM): "),
            "{bad}"
        );
    }
}
