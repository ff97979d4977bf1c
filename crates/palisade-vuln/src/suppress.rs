//! Accepted vulnerabilities: an ignore file of expiring, reasoned entries, and OpenVEX
//! statements that a vulnerability does not affect a product. A suppressed match is not shown,
//! not counted and does not fail `--fail-on`, but the report lists it with the reason
//! (suppression is never silent). Pure: the caller reads the files and passes their text.
//!
//! Ignore file (YAML, `--ignore-file`):
//!
//! ```yaml
//! vulnerabilities:
//!   - id: CVE-2024-1234          # or any alias (GHSA-…, DSA-…)
//!     reason: the parser is never given untrusted input here
//!     expires: 2027-03-31         # required: the entry stops applying after that day
//!     package: openssl            # optional: only this package
//! ```
//!
//! OpenVEX (<https://openvex.dev>, v0.2.0 JSON, `--vex`): statements with status `not_affected`
//! or `fixed` suppress; `affected` and `under_investigation` do not. A statement applies to a
//! match when its vulnerability name (or one of its aliases) is the match's id or an alias, and
//! it names no product or a product (or subcomponent) whose package URL is the matched package
//! (ecosystem and name, and version when the URL has one).

use palisade_model::purl::package_from_purl;
use palisade_model::time::Date;
use serde::{Deserialize, Serialize};

use crate::matching::VulnMatch;

/// Why an ignore file or VEX document could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SuppressError {
    /// The ignore file is not valid.
    #[error("ignore file: {0}")]
    IgnoreFile(String),
    /// The VEX document is not valid OpenVEX.
    #[error("OpenVEX: {0}")]
    Vex(String),
}

/// One entry of an ignore file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRule {
    /// Vulnerability id or alias.
    pub id: String,
    /// Why the risk is accepted (required, non-empty).
    pub reason: String,
    /// Last day the entry applies.
    pub expires: Date,
    /// Only this package (by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreFile {
    #[serde(default)]
    vulnerabilities: Vec<IgnoreRule>,
}

/// Parses an ignore file (YAML).
pub fn parse_ignore_file(text: &str) -> Result<Vec<IgnoreRule>, SuppressError> {
    let file: IgnoreFile =
        serde_saphyr::from_str(text).map_err(|e| SuppressError::IgnoreFile(e.to_string()))?;
    for (i, rule) in file.vulnerabilities.iter().enumerate() {
        if rule.id.trim().is_empty() {
            return Err(SuppressError::IgnoreFile(format!(
                "vulnerabilities[{i}].id is empty"
            )));
        }
        if rule.reason.trim().is_empty() {
            return Err(SuppressError::IgnoreFile(format!(
                "vulnerabilities[{i}] ({}): a reason is required",
                rule.id
            )));
        }
    }
    Ok(file.vulnerabilities)
}

/// An OpenVEX status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    /// The product is not affected (suppresses).
    NotAffected,
    /// The product contains a fix (suppresses).
    Fixed,
    /// The product is affected.
    Affected,
    /// Not known yet.
    UnderInvestigation,
}

impl VexStatus {
    /// The OpenVEX name (`not_affected`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Fixed => "fixed",
            VexStatus::Affected => "affected",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }
}

/// One OpenVEX statement, as much of it as matching needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VexStatement {
    /// The vulnerability's name and aliases.
    pub vulnerability: Vec<String>,
    /// Package URLs of the products and subcomponents (empty: every product).
    pub products: Vec<String>,
    /// Status.
    pub status: VexStatus,
    /// The justification label (`vulnerable_code_not_in_execute_path`, …).
    pub justification: Option<String>,
    /// The free-text impact statement.
    pub impact_statement: Option<String>,
    /// The document it came from (`@id`).
    pub document: Option<String>,
}

#[derive(Deserialize)]
struct VexDocument {
    #[serde(rename = "@context")]
    context: String,
    #[serde(rename = "@id", default)]
    id: Option<String>,
    statements: Vec<RawStatement>,
}

#[derive(Deserialize)]
struct RawStatement {
    vulnerability: RawVulnerability,
    #[serde(default)]
    products: Vec<RawProduct>,
    status: VexStatus,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
}

/// OpenVEX 0.2 names the vulnerability with an object; 0.0.x used a plain string.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawVulnerability {
    Name(String),
    Object {
        name: String,
        #[serde(default)]
        aliases: Vec<String>,
    },
}

#[derive(Deserialize)]
struct RawProduct {
    #[serde(rename = "@id", default)]
    id: Option<String>,
    #[serde(default)]
    identifiers: Option<Identifiers>,
    #[serde(default)]
    subcomponents: Vec<RawProduct>,
}

#[derive(Deserialize)]
struct Identifiers {
    #[serde(default)]
    purl: Option<String>,
}

impl RawProduct {
    fn purls(&self, out: &mut Vec<String>) {
        let own = self
            .identifiers
            .as_ref()
            .and_then(|i| i.purl.clone())
            .or_else(|| self.id.clone().filter(|id| id.starts_with("pkg:")));
        out.extend(own);
        for s in &self.subcomponents {
            s.purls(out);
        }
    }
}

/// Parses an OpenVEX JSON document.
pub fn parse_openvex(text: &str) -> Result<Vec<VexStatement>, SuppressError> {
    let doc: VexDocument =
        serde_json::from_str(text).map_err(|e| SuppressError::Vex(e.to_string()))?;
    if !doc.context.starts_with("https://openvex.dev/ns") {
        return Err(SuppressError::Vex(format!(
            "@context {:?} is not an OpenVEX context (https://openvex.dev/ns/…)",
            doc.context
        )));
    }
    let mut statements = Vec::with_capacity(doc.statements.len());
    for (i, s) in doc.statements.into_iter().enumerate() {
        let vulnerability = match s.vulnerability {
            RawVulnerability::Name(n) => vec![n],
            RawVulnerability::Object { name, aliases } => {
                std::iter::once(name).chain(aliases).collect()
            }
        };
        if s.status == VexStatus::NotAffected
            && s.justification.is_none()
            && s.impact_statement.is_none()
        {
            return Err(SuppressError::Vex(format!(
                "statements[{i}]: not_affected needs a justification or an impact_statement"
            )));
        }
        let mut products = Vec::new();
        for p in &s.products {
            p.purls(&mut products);
        }
        statements.push(VexStatement {
            vulnerability,
            products,
            status: s.status,
            justification: s.justification,
            impact_statement: s.impact_statement,
            document: doc.id.clone(),
        });
    }
    Ok(statements)
}

/// Why a match is not shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Suppression {
    /// An ignore-file entry.
    IgnoreFile {
        /// Its reason.
        reason: String,
        /// Its last day.
        expires: Date,
    },
    /// An OpenVEX statement.
    Vex {
        /// `not_affected` or `fixed`.
        status: VexStatus,
        /// Justification label.
        #[serde(skip_serializing_if = "Option::is_none")]
        justification: Option<String>,
        /// Impact statement.
        #[serde(skip_serializing_if = "Option::is_none")]
        impact_statement: Option<String>,
        /// The document's `@id`.
        #[serde(skip_serializing_if = "Option::is_none")]
        document: Option<String>,
    },
}

/// The accepted vulnerabilities of one report.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    /// Ignore-file entries.
    pub ignores: Vec<IgnoreRule>,
    /// VEX statements.
    pub vex: Vec<VexStatement>,
}

impl Suppressions {
    /// Whether there is nothing to suppress with.
    pub fn is_empty(&self) -> bool {
        self.ignores.is_empty() && self.vex.is_empty()
    }

    /// Ignore-file entries past their last day on `today` (they no longer apply).
    pub fn expired(&self, today: Date) -> impl Iterator<Item = &IgnoreRule> {
        self.ignores.iter().filter(move |r| r.expires < today)
    }

    /// Why `m` is suppressed on `today`, if it is.
    pub fn why(&self, m: &VulnMatch, today: Date) -> Option<Suppression> {
        let names_it = |id: &str| m.id == id || m.aliases.iter().any(|a| a == id);
        if let Some(rule) = self.ignores.iter().find(|r| {
            r.expires >= today
                && names_it(&r.id)
                && r.package.as_ref().is_none_or(|p| *p == m.package)
        }) {
            return Some(Suppression::IgnoreFile {
                reason: rule.reason.clone(),
                expires: rule.expires,
            });
        }
        let statement = self.vex.iter().find(|s| {
            matches!(s.status, VexStatus::NotAffected | VexStatus::Fixed)
                && s.vulnerability.iter().any(|v| names_it(v))
                && (s.products.is_empty() || s.products.iter().any(|p| purl_names(p, m)))
        })?;
        Some(Suppression::Vex {
            status: statement.status,
            justification: statement.justification.clone(),
            impact_statement: statement.impact_statement.clone(),
            document: statement.document.clone(),
        })
    }
}

/// Whether package URL `purl` names the matched package: same ecosystem and name, and the same
/// version when the URL has one.
fn purl_names(purl: &str, m: &VulnMatch) -> bool {
    let end = purl.find(['?', '#']).unwrap_or(purl.len());
    let versioned = purl[..end].contains('@');
    // The purl parser wants a version: give an unversioned URL a placeholder, not compared.
    let parsed = if versioned {
        package_from_purl(purl)
    } else {
        package_from_purl(&format!("{}@0{}", &purl[..end], &purl[end..]))
    };
    let Some(p) = parsed else {
        return false;
    };
    p.ecosystem == m.ecosystem
        && p.name == m.package
        && (!versioned || p.version == m.installed_version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vuln_match;
    use palisade_model::Ecosystem;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn ignore_entries_need_a_reason_and_stop_at_their_expiry() {
        let rules = parse_ignore_file(
            "vulnerabilities:\n- id: CVE-2024-1\n  reason: not reachable\n  expires: 2027-01-31\n- id: GHSA-xxxx\n  reason: vendored copy unused\n  expires: 2026-01-01\n  package: lodash\n",
        )
        .unwrap();
        let s = Suppressions {
            ignores: rules,
            vex: Vec::new(),
        };
        let m = vuln_match("CVE-2024-1", "openssl", None, None, None);
        assert!(matches!(
            s.why(&m, day("2027-01-31")),
            Some(Suppression::IgnoreFile { .. })
        ));
        assert_eq!(s.why(&m, day("2027-02-01")), None);
        let mut aliased = vuln_match("CVE-2020-9", "lodash", None, None, None);
        aliased.aliases = vec!["GHSA-xxxx".into()];
        assert_eq!(s.why(&aliased, day("2026-06-01")), None, "expired");
        assert_eq!(
            s.expired(day("2026-06-01"))
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>(),
            ["GHSA-xxxx"]
        );
        let err = parse_ignore_file(
            "vulnerabilities:\n- id: CVE-1\n  reason: ''\n  expires: 2027-01-01\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("a reason is required"), "{err}");
        assert!(parse_ignore_file("vulnerabilities:\n- id: CVE-1\n  reason: x\n").is_err());
        assert!(
            parse_ignore_file(
                "vulnerabilities:\n- id: CVE-1\n  reason: x\n  expires: 2027-02-30\n"
            )
            .is_err()
        );
    }

    #[test]
    fn openvex_not_affected_and_fixed_suppress_for_the_named_products() {
        let doc = r#"{
          "@context": "https://openvex.dev/ns/v0.2.0",
          "@id": "https://example.com/vex/1",
          "author": "Example",
          "timestamp": "2026-11-01T00:00:00Z",
          "version": 1,
          "statements": [
            {"vulnerability": {"name": "CVE-2024-1", "aliases": ["GHSA-aaaa"]},
             "products": [{"@id": "pkg:oci/app@sha256:abc", "subcomponents": [{"@id": "pkg:pypi/requests@2.31.0"}]}],
             "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
            {"vulnerability": {"name": "CVE-2024-2"}, "status": "under_investigation"},
            {"vulnerability": "CVE-2024-3", "status": "fixed"}
          ]}"#;
        let s = Suppressions {
            ignores: Vec::new(),
            vex: parse_openvex(doc).unwrap(),
        };
        let today = day("2026-12-06");
        let mut requests = vuln_match("GHSA-aaaa", "requests", None, None, None);
        requests.ecosystem = Ecosystem::parse("PyPI");
        requests.installed_version = "2.31.0".into();
        match s.why(&requests, today) {
            Some(Suppression::Vex {
                status,
                justification,
                document,
                ..
            }) => {
                assert_eq!(status, VexStatus::NotAffected);
                assert_eq!(
                    justification.as_deref(),
                    Some("vulnerable_code_not_in_execute_path")
                );
                assert_eq!(document.as_deref(), Some("https://example.com/vex/1"));
            }
            other => panic!("{other:?}"),
        }
        let unversioned = parse_openvex(r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"GHSA-aaaa"},"products":[{"@id":"pkg:pypi/requests?repository_url=x"}],"status":"fixed"}]}"#).unwrap();
        let any_version = Suppressions {
            ignores: Vec::new(),
            vex: unversioned,
        };
        assert!(any_version.why(&requests, today).is_some());
        let mut other_version = requests.clone();
        other_version.installed_version = "2.30.0".into();
        assert_eq!(s.why(&other_version, today), None);
        assert_eq!(
            s.why(&vuln_match("CVE-2024-2", "x", None, None, None), today),
            None
        );
        assert!(
            s.why(&vuln_match("CVE-2024-3", "x", None, None, None), today)
                .is_some()
        );

        let bad = parse_openvex(r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"not_affected"}]}"#).unwrap_err();
        assert!(bad.to_string().contains("justification"), "{bad}");
        let csaf = parse_openvex(r#"{"@context":"https://example.com/csaf","statements":[]}"#)
            .unwrap_err();
        assert!(
            csaf.to_string().contains("not an OpenVEX context"),
            "{csaf}"
        );
    }
}
