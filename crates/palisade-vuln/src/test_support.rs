//! Test-only constructors shared by this crate's unit tests.

use palisade_model::{Ecosystem, Severity};

use crate::matching::VulnMatch;

/// A Maven match of `package` 1.0 with one advisory `id`, the given severity and fixed
/// version, marked notorious under `notorious` when given.
pub(crate) fn vuln_match(
    id: &str,
    package: &str,
    severity: Option<Severity>,
    fixed: Option<&str>,
    notorious: Option<&str>,
) -> VulnMatch {
    VulnMatch {
        id: id.into(),
        aliases: Vec::new(),
        advisories: vec![id.into()],
        package: package.into(),
        ecosystem: Ecosystem::Maven,
        installed_version: "1.0".into(),
        source_package: None,
        fixed_version: fixed.map(String::from),
        severity,
        cvss_score: None,
        cvss_vector: None,
        notorious: notorious.is_some(),
        notorious_name: notorious.map(String::from),
        summary: None,
        path: None,
    }
}
