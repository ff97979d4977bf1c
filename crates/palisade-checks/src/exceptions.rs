//! Exceptions: findings an owner has accepted, by annotation or by configuration.

use globset::{Glob, GlobMatcher};
use palisade_model::Finding;
use palisade_model::time::Date;
use serde::{Deserialize, Serialize};

/// Annotation listing check IDs or names to ignore on an object (comma-separated, or `*`).
pub const ANNOTATION_IGNORE: &str = "palisade.dev/ignore";
/// Annotation giving the reason for [`ANNOTATION_IGNORE`].
pub const ANNOTATION_IGNORE_REASON: &str = "palisade.dev/ignore-reason";

/// A scoped exception from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// Check IDs or names this exception covers (`*` for all).
    pub checks: Vec<String>,
    /// Namespace glob (absent: any namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Object name glob (absent: any name).
    #[serde(default)]
    pub name: Option<String>,
    /// Object kind (absent: any kind).
    #[serde(default)]
    pub kind: Option<String>,
    /// Image glob: the exception applies to findings on containers whose image matches.
    #[serde(default)]
    pub image: Option<String>,
    /// Why the risk is accepted (required: auditors ask).
    pub reason: String,
    /// Last day the exception is valid (`YYYY-MM-DD`, a day of the calendar); after it, it
    /// stops suppressing.
    #[serde(default)]
    pub expires: Option<Date>,
}

/// Whether an exception is still in force on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExceptionStatus {
    /// In force.
    Active,
    /// Past its expiry date: it no longer suppresses anything.
    Expired,
}

impl Exception {
    /// Status on `today`: expired from the day after `expires` on. Without either date the
    /// exception counts as active.
    pub fn status(&self, today: Option<Date>) -> ExceptionStatus {
        match (self.expires, today) {
            (Some(exp), Some(today)) if today > exp => ExceptionStatus::Expired,
            _ => ExceptionStatus::Active,
        }
    }

    /// Checks the globs, the reason and the check list (the date was checked when parsed).
    pub fn validate(&self) -> Result<(), String> {
        for g in [&self.namespace, &self.name, &self.image]
            .into_iter()
            .flatten()
        {
            Glob::new(g).map_err(|e| format!("invalid glob {g:?}: {e}"))?;
        }
        if self.reason.trim().is_empty() {
            return Err("reason must not be empty".into());
        }
        if self.checks.is_empty() {
            return Err("checks must list at least one check ID, name or *".into());
        }
        Ok(())
    }

    /// Whether this exception covers `finding` (whose container image is `image`, if any).
    pub fn covers(&self, finding: &Finding, check_name: &str, image: Option<&str>) -> bool {
        let check_ok = self
            .checks
            .iter()
            .any(|c| c == "*" || **c == *finding.check_id || c == check_name);
        check_ok
            && self.kind.as_ref().is_none_or(|k| k == &finding.object.kind)
            && glob_ok(
                &self.namespace,
                finding.object.namespace.as_deref().unwrap_or(""),
            )
            && glob_ok(&self.name, &finding.object.name)
            && match &self.image {
                None => true,
                Some(_) => image.is_some_and(|i| glob_ok(&self.image, i)),
            }
    }
}

fn glob_ok(pattern: &Option<String>, value: &str) -> bool {
    match pattern {
        None => true,
        Some(p) => matcher(p).is_some_and(|m| m.is_match(value)),
    }
}

/// Whether `value` matches the glob `pattern` (`*` also crosses `/`); an invalid pattern
/// matches nothing.
pub fn glob_match(pattern: &str, value: &str) -> bool {
    matcher(pattern).is_some_and(|m| m.is_match(value))
}

fn matcher(p: &str) -> Option<GlobMatcher> {
    Glob::new(p).ok().map(|g| g.compile_matcher())
}

/// Parses the ignore annotation value into check IDs/names.
pub(crate) fn ignore_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}
