//! The simple-signing payload cosign signs for an image (the "cosign container image
//! signature" format):
//!
//! ```json
//! {"critical":{"identity":{"docker-reference":"registry/repo"},
//!              "image":{"docker-manifest-digest":"sha256:…"},
//!              "type":"cosign container image signature"},
//!  "optional":null}
//! ```
//!
//! Signatures are made and verified over the exact payload bytes; the writer here produces the
//! same bytes as cosign (Go's `encoding/json` with fields in this order, no whitespace).

use serde::Serialize;
use serde_json::Value;

/// `critical.type` of a cosign image signature.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

#[derive(Serialize)]
struct Payload<'a> {
    critical: Critical<'a>,
    optional: Option<&'a serde_json::Map<String, Value>>,
}

#[derive(Serialize)]
struct Critical<'a> {
    identity: Identity<'a>,
    image: Image<'a>,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct Identity<'a> {
    #[serde(rename = "docker-reference")]
    docker_reference: &'a str,
}

#[derive(Serialize)]
struct Image<'a> {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: &'a str,
}

/// The payload for `digest` of the repository `docker_reference` (`registry/repository`, as
/// cosign writes it), with optional annotations (`None` writes `"optional":null`).
pub fn simple_signing_payload(
    docker_reference: &str,
    digest: &str,
    annotations: Option<&serde_json::Map<String, Value>>,
) -> Vec<u8> {
    let p = Payload {
        critical: Critical {
            identity: Identity { docker_reference },
            image: Image {
                docker_manifest_digest: digest,
            },
            kind: COSIGN_SIGNATURE_TYPE,
        },
        optional: annotations,
    };
    serde_json::to_vec(&p).unwrap_or_default()
}

/// The fields of a payload that verification checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadClaims {
    /// `critical.type`.
    pub kind: String,
    /// `critical.image.docker-manifest-digest`.
    pub manifest_digest: String,
    /// `critical.identity.docker-reference` (may be empty).
    pub docker_reference: String,
}

/// Looks a key up case-insensitively, as Go's `encoding/json` (which cosign uses) matches
/// struct fields.
fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Parses a payload; the error names the missing or malformed field.
pub fn parse_payload(bytes: &[u8]) -> Result<PayloadClaims, String> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("payload is not JSON: {e}"))?;
    let critical = field(&v, "critical").ok_or("payload has no critical section")?;
    let kind = field(critical, "type")
        .and_then(Value::as_str)
        .ok_or("payload has no critical.type")?;
    let digest = field(critical, "image")
        .and_then(|i| field(i, "docker-manifest-digest"))
        .and_then(Value::as_str)
        .ok_or("payload has no critical.image.docker-manifest-digest")?;
    let reference = field(critical, "identity")
        .and_then(|i| field(i, "docker-reference"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(PayloadClaims {
        kind: kind.to_string(),
        manifest_digest: digest.to_string(),
        docker_reference: reference.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_bytes_match_cosign_layout() {
        let p = simple_signing_payload(
            "registry-testing.svc.lan/busybox",
            "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b",
            None,
        );
        assert_eq!(
            String::from_utf8(p).unwrap(),
            r#"{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#
        );
    }

    #[test]
    fn parse_is_case_insensitive_like_go() {
        let claims = parse_payload(br#"{"critical":{"identity":{"docker-reference":"r/x"},"image":{"Docker-manifest-digest":"sha256:ab"},"type":"atomic container signature"}}"#).unwrap();
        assert_eq!(claims.manifest_digest, "sha256:ab");
        assert_eq!(claims.kind, "atomic container signature");
        assert!(parse_payload(b"{}").unwrap_err().contains("critical"));
        assert!(
            parse_payload(br#"{"critical":{"type":"x"}}"#)
                .unwrap_err()
                .contains("docker-manifest-digest")
        );
        assert!(parse_payload(b"not json").unwrap_err().contains("not JSON"));
    }
}
