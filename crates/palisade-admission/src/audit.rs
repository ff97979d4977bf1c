//! The audit record of a notable decision, bounded in size whatever the request.
//!
//! A Deployment with 46,000 containers has hundreds of thousands of findings; listing each
//! finding's check ID made one record several megabytes. A record lists at most
//! [`MAX_AUDIT_IDS`] distinct check IDs per mode (in finding order), counts every finding in
//! [`AuditCounts`] and says `"truncated": true` when IDs were left out. Every text taken from the
//! request (uid, object, user, break-glass reason, error) is cut to a fixed length, so a record
//! is some tens of kilobytes at most (a few hundred bytes in practice).

use palisade_model::Finding;
use serde::Serialize;

use crate::decide::Outcome;
use crate::message::{MAX_MESSAGE_BYTES, truncate};

/// Most distinct check IDs listed per mode in one record.
pub const MAX_AUDIT_IDS: usize = 20;
/// Largest request text (uid, object, user, break-glass reason) in a record, in bytes.
pub const MAX_AUDIT_TEXT_BYTES: usize = 512;
/// Largest `ID:by` entry of the suppressed list, in bytes.
const MAX_SUPPRESSED_ENTRY_BYTES: usize = 256;

/// A record of a notable decision (denial, break-glass, audit-mode findings, invalid request),
/// for the server's audit log. The server does not write it for dry-run requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// Request UID.
    pub uid: String,
    /// Operation.
    pub operation: &'static str,
    /// `Kind namespace/name`.
    pub object: String,
    /// Requesting user.
    pub user: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Whether the request was a dry run.
    pub dry_run: bool,
    /// Break-glass reason, when the annotation admitted the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<String>,
    /// Distinct check IDs of enforced violations (at most [`MAX_AUDIT_IDS`]).
    pub enforced: Vec<String>,
    /// Distinct check IDs of warned findings (at most [`MAX_AUDIT_IDS`]).
    pub warned: Vec<String>,
    /// Distinct check IDs of audit-mode findings (at most [`MAX_AUDIT_IDS`]).
    pub audited: Vec<String>,
    /// Distinct check IDs suppressed by exceptions (`ID:by`, at most [`MAX_AUDIT_IDS`]).
    pub suppressed: Vec<String>,
    /// How many findings each list stands for.
    pub counts: AuditCounts,
    /// Whether some list left distinct IDs out.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Why the request was invalid, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Findings behind each list of an [`AuditRecord`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AuditCounts {
    /// Enforced violations.
    pub enforced: usize,
    /// Warned findings.
    pub warned: usize,
    /// Audit-mode findings.
    pub audited: usize,
    /// Suppressed findings.
    pub suppressed: usize,
}

/// Who asked for what, as a record names it.
pub(crate) struct Subject<'a> {
    pub uid: &'a str,
    pub operation: &'static str,
    pub object: &'a str,
    pub user: &'a str,
    pub dry_run: bool,
}

impl AuditRecord {
    /// A record without findings.
    pub(crate) fn new(subject: Subject<'_>, outcome: Outcome) -> AuditRecord {
        AuditRecord {
            uid: truncate(subject.uid, MAX_AUDIT_TEXT_BYTES),
            operation: subject.operation,
            object: truncate(subject.object, MAX_AUDIT_TEXT_BYTES),
            user: truncate(subject.user, MAX_AUDIT_TEXT_BYTES),
            outcome,
            dry_run: subject.dry_run,
            break_glass: None,
            enforced: Vec::new(),
            warned: Vec::new(),
            audited: Vec::new(),
            suppressed: Vec::new(),
            counts: AuditCounts::default(),
            truncated: false,
            error: None,
        }
    }

    /// With the break-glass reason.
    pub(crate) fn with_break_glass(mut self, reason: Option<String>) -> AuditRecord {
        self.break_glass = reason.map(|r| truncate(&r, MAX_AUDIT_TEXT_BYTES));
        self
    }

    /// With the error of an invalid request.
    pub(crate) fn with_error(mut self, error: &str) -> AuditRecord {
        self.error = Some(truncate(error, MAX_MESSAGE_BYTES));
        self
    }

    /// With the findings per mode and the suppressed `ID:by` entries, capped.
    pub(crate) fn with_findings(
        mut self,
        enforced: &[&Finding],
        warned: &[&Finding],
        audited: &[&Finding],
        suppressed: &[String],
    ) -> AuditRecord {
        let ids = |list: &[&Finding]| capped(list.iter().map(|f| &*f.check_id));
        let mut truncated = false;
        for (slot, (list, cut)) in [
            (&mut self.enforced, ids(enforced)),
            (&mut self.warned, ids(warned)),
            (&mut self.audited, ids(audited)),
            (
                &mut self.suppressed,
                capped(suppressed.iter().map(String::as_str)),
            ),
        ] {
            *slot = list;
            truncated |= cut;
        }
        self.counts = AuditCounts {
            enforced: enforced.len(),
            warned: warned.len(),
            audited: audited.len(),
            suppressed: suppressed.len(),
        };
        self.truncated = truncated;
        self
    }
}

/// The first [`MAX_AUDIT_IDS`] distinct IDs in order, each bounded, and whether more existed.
fn capped<'a>(ids: impl Iterator<Item = &'a str>) -> (Vec<String>, bool) {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = truncate(id, MAX_SUPPRESSED_ENTRY_BYTES);
        if out.contains(&id) {
            continue;
        }
        if out.len() == MAX_AUDIT_IDS {
            return (out, true);
        }
        out.push(id);
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_the_first_distinct_ids_and_say_when_they_were_cut() {
        let many: Vec<String> = (0..100).map(|i| format!("PAL-{:03}", i % 30)).collect();
        let (ids, cut) = capped(many.iter().map(String::as_str));
        assert_eq!(ids.len(), MAX_AUDIT_IDS);
        assert_eq!(ids[0], "PAL-000");
        assert_eq!(ids[19], "PAL-019");
        assert!(cut);
        let (ids, cut) = capped(["A", "B", "A"].into_iter());
        assert_eq!((ids, cut), (vec!["A".to_string(), "B".to_string()], false));
    }

    #[test]
    fn hostile_texts_are_cut() {
        let long = "x".repeat(100_000);
        let record = AuditRecord::new(
            Subject {
                uid: &long,
                operation: "CREATE",
                object: &long,
                user: &long,
                dry_run: false,
            },
            Outcome::Invalid,
        )
        .with_break_glass(Some(long.clone()))
        .with_error(&long)
        .with_findings(&[], &[], &[], &vec![long.clone(); 1000]);
        let size = serde_json::to_vec(&record).unwrap().len();
        assert!(size < 16 * 1024, "{size}");
        assert_eq!(record.counts.suppressed, 1000);
    }
}
