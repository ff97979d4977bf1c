//! Opening the vulnerability database for matching, one way for every command that matches
//! (`image scan`, `sbom scan`, `scan --registry`): resolve the path, open it, and warn when its
//! data is older than `PALISADE_DB_MAX_AGE` days (default 7; 0 turns the warning off), since
//! stale data silently misses the newest vulnerabilities.

use std::path::{Path, PathBuf};

use palisade_model::time::{Clock, SystemClock, Timestamp};
use palisade_vulndb::VulnDb;

/// The environment variable that sets the age warning's threshold in days.
pub const MAX_AGE_ENV: &str = "PALISADE_DB_MAX_AGE";

/// Days after which the data is called stale when the variable is not set.
const DEFAULT_MAX_AGE_DAYS: i64 = 7;

/// Why no database could be used: the path when one was resolved, and the reason.
pub struct Unavailable {
    /// The resolved path.
    pub path: Option<PathBuf>,
    /// Why.
    pub reason: String,
}

/// Resolves (`--db`, `$PALISADE_DB`, the default) and opens the database, warning on stderr
/// when its last import is too old.
pub fn open_for_matching(explicit: Option<&Path>) -> Result<(PathBuf, VulnDb), Unavailable> {
    let path = palisade_vulndb::resolve_db_path(explicit).map_err(|e| Unavailable {
        path: None,
        reason: e.to_string(),
    })?;
    let db = VulnDb::open_existing(&path).map_err(|e| Unavailable {
        path: Some(path.clone()),
        reason: e.to_string(),
    })?;
    if let Some(warning) = staleness(&db, max_age_days(), &SystemClock) {
        eprintln_safe!("palisade: warning: {warning}");
    }
    Ok((path, db))
}

/// The threshold from the environment (an invalid value is reported and the default used).
fn max_age_days() -> i64 {
    match std::env::var(MAX_AGE_ENV) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln_safe!(
                "palisade: warning: {MAX_AGE_ENV}={v:?} is not a number of days; using {DEFAULT_MAX_AGE_DAYS}"
            );
            DEFAULT_MAX_AGE_DAYS
        }),
        Err(_) => DEFAULT_MAX_AGE_DAYS,
    }
}

/// The warning to give about `db`'s age, if any.
fn staleness(db: &VulnDb, max_age_days: i64, clock: &dyn Clock) -> Option<String> {
    if max_age_days <= 0 {
        return None;
    }
    let status = db.status().ok()?;
    let Some(last) = status
        .last_import_at
        .as_deref()
        .and_then(|t| Timestamp::parse_rfc3339(t).ok())
    else {
        return Some(format!(
            "the vulnerability database {} has never been filled: palisade db update",
            db.path().display()
        ));
    };
    let age = (clock.now().unix_secs() - last.unix_secs()) / 86_400;
    (age > max_age_days).then(|| {
        format!(
            "the vulnerability database was last updated {age} days ago ({}), more than {max_age_days}: newer vulnerabilities are missed; run `palisade db update` ({MAX_AGE_ENV} sets the limit)",
            last.date()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::time::FixedClock;

    #[test]
    fn old_or_empty_data_is_called_stale() {
        let dir = tempfile::tempdir().unwrap();
        let db = VulnDb::open_or_create(&dir.path().join("v.db")).unwrap();
        let empty = staleness(&db, 7, &SystemClock).unwrap();
        assert!(empty.contains("never been filled"), "{empty}");
        let data = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/vulndata/osv/crates.io");
        let report = db.import_paths(&[data]).unwrap();
        assert!(report.records > 0);
        assert_eq!(staleness(&db, 7, &SystemClock), None);
        let later = FixedClock(Timestamp::from_unix_secs(
            SystemClock.now().unix_secs() + 30 * 86_400,
        ));
        let stale = staleness(&db, 7, &later).unwrap();
        assert!(stale.contains("last updated 30 days ago"), "{stale}");
        assert!(stale.contains("palisade db update"), "{stale}");
        assert_eq!(staleness(&db, 0, &later), None, "0 turns the warning off");
        assert_eq!(staleness(&db, 31, &later), None);
    }
}
