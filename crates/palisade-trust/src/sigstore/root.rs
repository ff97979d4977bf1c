//! The Sigstore trusted root (`trusted_root.json`, media type
//! `application/vnd.dev.sigstore.trustedroot+json;version=0.1`): Fulcio certificate
//! authorities, Rekor transparency-log keys, CT log keys and timestamp authorities, each with
//! the interval in which it is trusted.
//!
//! The public-good root ships with the binary ([`PRODUCTION_TRUSTED_ROOT`], see
//! `data/sigstore/README.md` for its origin, licence and how to refresh it); a file given by
//! the caller replaces it ([`TrustedRoot::from_json`]). This module reads no files.

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use palisade_model::time::Timestamp;
use serde::Deserialize;

use crate::keys::PublicKey;

/// The Sigstore public-good trusted root embedded in the binary.
pub const PRODUCTION_TRUSTED_ROOT: &str =
    include_str!("../../data/sigstore/trusted_root.production.json");

/// A closed interval of Unix seconds in which a key or authority is trusted (no end: open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// First trusted second.
    pub start: i64,
    /// Last trusted second (inclusive), if any.
    pub end: Option<i64>,
}

impl Validity {
    /// Whether `time` (Unix seconds) lies inside the interval, ends included.
    pub fn contains(&self, time: i64) -> bool {
        time >= self.start && self.end.is_none_or(|end| time <= end)
    }
}

/// A transparency log (Rekor) or certificate-transparency log and its key.
#[derive(Debug, Clone)]
pub struct LogKey {
    /// The log's URL (`https://rekor.sigstore.dev`).
    pub base_url: String,
    /// The log ID (SHA-256 of the key for Rekor v1 and CT logs).
    pub key_id: Vec<u8>,
    /// The key that signs checkpoints, signed entry timestamps or SCTs.
    pub key: PublicKey,
    /// When the key is trusted.
    pub valid: Validity,
}

impl LogKey {
    /// The host (and port) of [`LogKey::base_url`], the name the log signs checkpoints with.
    pub fn host(&self) -> &str {
        let rest = self
            .base_url
            .split_once("://")
            .map_or(self.base_url.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }
}

/// A certificate authority (Fulcio) or timestamp authority: its chain, leaf-most first.
#[derive(Debug, Clone)]
pub struct Authority {
    /// The authority's URI.
    pub uri: String,
    /// DER certificates, the issuing certificate first, the root last.
    pub chain: Vec<Vec<u8>>,
    /// When the authority is trusted.
    pub valid: Validity,
}

/// A parsed trusted root.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    /// Rekor logs.
    pub tlogs: Vec<LogKey>,
    /// Certificate-transparency logs.
    pub ctlogs: Vec<LogKey>,
    /// Fulcio certificate authorities.
    pub certificate_authorities: Vec<Authority>,
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: Vec<Authority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawAuthority>,
    #[serde(default)]
    timestamp_authorities: Vec<RawAuthority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    base_url: String,
    public_key: RawPublicKey,
    log_id: RawLogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPublicKey {
    #[serde(default)]
    raw_bytes: String,
    #[serde(default)]
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct RawValidity {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuthority {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    #[serde(default)]
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default)]
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    raw_bytes: String,
}

fn time(text: &str, what: &str) -> Result<i64, String> {
    Timestamp::parse_rfc3339(text)
        .map(Timestamp::unix_secs)
        .map_err(|e| format!("{what}: {e}"))
}

fn validity(raw: Option<&RawValidity>, what: &str) -> Result<Validity, String> {
    let raw = raw.ok_or_else(|| format!("{what} has no validFor"))?;
    let start = raw
        .start
        .as_deref()
        .ok_or_else(|| format!("{what} validFor has no start"))?;
    Ok(Validity {
        start: time(start, what)?,
        end: raw.end.as_deref().map(|e| time(e, what)).transpose()?,
    })
}

fn b64(text: &str, what: &str) -> Result<Vec<u8>, String> {
    B64.decode(text.trim())
        .map_err(|e| format!("{what} is not base64: {e}"))
}

/// A log of the root; `None` when its key is of a kind this crate does not verify with (a
/// PKCS #1 RSA key, say): such a log cannot vouch for anything, as if it were absent.
fn log(raw: &RawLog, what: &str) -> Result<Option<LogKey>, String> {
    let what = format!("{what} {}", raw.base_url);
    let der = b64(&raw.public_key.raw_bytes, &what)?;
    let valid = validity(raw.public_key.valid_for.as_ref(), &what)?;
    let Ok(key) = PublicKey::from_spki_der(&der, &what) else {
        return Ok(None);
    };
    Ok(Some(LogKey {
        base_url: raw.base_url.clone(),
        key_id: b64(&raw.log_id.key_id, &what)?,
        key,
        valid,
    }))
}

fn logs(raw: &[RawLog], what: &str) -> Result<Vec<LogKey>, String> {
    Ok(raw
        .iter()
        .map(|l| log(l, what))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect())
}

fn authority(raw: &RawAuthority, what: &str) -> Result<Authority, String> {
    let what = format!("{what} {}", raw.uri);
    let chain = raw
        .cert_chain
        .certificates
        .iter()
        .map(|c| b64(&c.raw_bytes, &what))
        .collect::<Result<Vec<_>, _>>()?;
    if chain.is_empty() {
        return Err(format!("{what} has an empty certificate chain"));
    }
    Ok(Authority {
        uri: raw.uri.clone(),
        chain,
        valid: validity(raw.valid_for.as_ref(), &what)?,
    })
}

impl TrustedRoot {
    /// Parses a trusted root in the `trusted_root.json` form. Every log key needs a
    /// `validFor.start` (a missing start is an error, not "always"); logs with keys of
    /// unsupported kinds are left out.
    pub fn from_json(bytes: &[u8]) -> Result<TrustedRoot, String> {
        let raw: RawRoot = serde_json::from_slice(bytes)
            .map_err(|e| format!("trusted root is not valid JSON: {e}"))?;
        if !raw.media_type.is_empty()
            && !raw
                .media_type
                .starts_with("application/vnd.dev.sigstore.trustedroot")
        {
            return Err(format!("trusted root has media type {:?}", raw.media_type));
        }
        Ok(TrustedRoot {
            tlogs: logs(&raw.tlogs, "trusted root tlog")?,
            ctlogs: logs(&raw.ctlogs, "trusted root ctlog")?,
            certificate_authorities: raw
                .certificate_authorities
                .iter()
                .map(|a| authority(a, "trusted root certificate authority"))
                .collect::<Result<_, _>>()?,
            timestamp_authorities: raw
                .timestamp_authorities
                .iter()
                .map(|a| authority(a, "trusted root timestamp authority"))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The embedded Sigstore public-good root (parsed once per process).
    pub fn production() -> Arc<TrustedRoot> {
        static ROOT: OnceLock<Arc<TrustedRoot>> = OnceLock::new();
        ROOT.get_or_init(|| {
            // The embedded file is checked by a unit test.
            Arc::new(
                TrustedRoot::from_json(PRODUCTION_TRUSTED_ROOT.as_bytes())
                    .expect("the embedded trusted root parses"),
            )
        })
        .clone()
    }

    /// The Rekor log with ID `key_id`.
    pub fn tlog(&self, key_id: &[u8]) -> Option<&LogKey> {
        self.tlogs.iter().find(|l| l.key_id == key_id)
    }

    /// The CT log with ID `key_id`.
    pub fn ctlog(&self, key_id: &[u8]) -> Option<&LogKey> {
        self.ctlogs.iter().find(|l| l.key_id == key_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_production_root_parses() {
        let root = TrustedRoot::production();
        assert_eq!(root.tlogs.len(), 2);
        assert_eq!(root.tlogs[0].host(), "rekor.sigstore.dev");
        assert!(root.tlog(&root.tlogs[1].key_id).is_some());
        assert_eq!(root.certificate_authorities.len(), 2);
        assert!(!root.ctlogs.is_empty());
        assert!(!root.timestamp_authorities.is_empty());
    }

    #[test]
    fn a_log_without_validity_start_is_rejected() {
        let text =
            PRODUCTION_TRUSTED_ROOT.replacen("\"start\": \"2021-01-12T11:53:27Z\"", "\"x\": 1", 1);
        assert_ne!(text, PRODUCTION_TRUSTED_ROOT);
        let err = TrustedRoot::from_json(text.as_bytes()).unwrap_err();
        assert!(err.contains("validFor has no start"), "{err}");
    }

    #[test]
    fn validity_ends_are_inclusive() {
        let v = Validity {
            start: 10,
            end: Some(20),
        };
        assert!(v.contains(10) && v.contains(20) && !v.contains(21) && !v.contains(9));
    }
}
