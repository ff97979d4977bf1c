//! CVSS base scores computed from vector strings, per the FIRST specifications.
//!
//! - [`v3`]: CVSS v3.0 and v3.1 base score (v3.0 and v3.1 differ only in the Roundup function).
//! - [`v4`]: CVSS v4.0 score (macrovector lookup plus severity-distance interpolation).
//!
//! [`score_vector`] recognizes the version from the `CVSS:x.y/` prefix.

use palisade_model::Severity;

pub mod v3;
pub mod v4;
mod v4_lookup;

/// CVSS version of a vector.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum CvssVersion {
    /// CVSS v3.0
    V3_0,
    /// CVSS v3.1
    V3_1,
    /// CVSS v4.0
    V4_0,
}

/// A computed CVSS score.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CvssScore {
    /// CVSS version.
    pub version: CvssVersion,
    /// The vector the score was computed from.
    pub vector: String,
    /// The score, 0.0 to 10.0, one decimal.
    pub score: f64,
}

impl CvssScore {
    /// The qualitative rating of the score.
    pub fn severity(&self) -> Severity {
        rating(self.score)
    }
}

/// Why a vector could not be scored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CVSS vector {vector:?}: {reason}")]
pub struct CvssError {
    /// The vector (truncated to 200 characters).
    pub vector: String,
    /// What is wrong with it.
    pub reason: String,
}

impl CvssError {
    pub(crate) fn new(vector: &str, reason: impl Into<String>) -> Self {
        CvssError {
            vector: vector.chars().take(200).collect(),
            reason: reason.into(),
        }
    }
}

/// The CVSS qualitative severity rating scale (same bands in v3.x and v4.0): 0.0 none
/// (reported as [`Severity::Info`]), 0.1–3.9 low, 4.0–6.9 medium, 7.0–8.9 high, 9.0–10.0 critical.
pub fn rating(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

/// Scores a CVSS v3.0, v3.1 or v4.0 vector string.
pub fn score_vector(vector: &str) -> Result<CvssScore, CvssError> {
    let v = vector.trim();
    if v.starts_with("CVSS:3.") {
        v3::score(v)
    } else if v.starts_with("CVSS:4.0/") {
        v4::score(v)
    } else {
        Err(CvssError::new(
            vector,
            "unsupported CVSS version (expected CVSS:3.0, CVSS:3.1 or CVSS:4.0)",
        ))
    }
}

/// Splits `CVSS:x.y/K:V/...` into its metric pairs, rejecting duplicates and malformed parts.
pub(crate) fn metric_pairs<'a>(
    vector: &'a str,
    prefix: &str,
) -> Result<Vec<(&'a str, &'a str)>, CvssError> {
    if vector.len() > 512 {
        return Err(CvssError::new(vector, "vector is too long"));
    }
    let body = vector
        .strip_prefix(prefix)
        .ok_or_else(|| CvssError::new(vector, format!("must start with {prefix}")))?;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for part in body.split('/') {
        let (k, v) = part
            .split_once(':')
            .ok_or_else(|| CvssError::new(vector, format!("metric {part:?} is not KEY:VALUE")))?;
        if pairs.iter().any(|(seen, _)| *seen == k) {
            return Err(CvssError::new(vector, format!("metric {k} appears twice")));
        }
        pairs.push((k, v));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_bands() {
        assert_eq!(rating(0.0), Severity::Info);
        assert_eq!(rating(0.1), Severity::Low);
        assert_eq!(rating(3.9), Severity::Low);
        assert_eq!(rating(4.0), Severity::Medium);
        assert_eq!(rating(6.9), Severity::Medium);
        assert_eq!(rating(7.0), Severity::High);
        assert_eq!(rating(8.9), Severity::High);
        assert_eq!(rating(9.0), Severity::Critical);
        assert_eq!(rating(10.0), Severity::Critical);
    }

    #[test]
    fn dispatch_and_errors() {
        assert_eq!(
            score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
                .unwrap()
                .version,
            CvssVersion::V3_1
        );
        assert_eq!(
            score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
                .unwrap()
                .version,
            CvssVersion::V4_0
        );
        assert!(score_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P").is_err());
        assert!(score_vector("CVSS:5.0/AV:N").is_err());
    }
}
