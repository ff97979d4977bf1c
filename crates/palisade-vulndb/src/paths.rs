//! Where the database file lives: `--db`, else `PALISADE_DB`, else the XDG data directory
//! (`$XDG_DATA_HOME/palisade/vuln.db`, default `~/.local/share/palisade/vuln.db`).

use std::path::{Path, PathBuf};

use crate::DbError;

/// Environment variable naming the database file.
pub const DB_ENV: &str = "PALISADE_DB";

/// File name of the database inside the data directory.
pub const DB_FILE_NAME: &str = "vuln.db";

/// The default path from explicit environment values (testable without touching the
/// process environment): `PALISADE_DB`, then `XDG_DATA_HOME`, then `HOME`.
pub fn default_path_from(
    palisade_db: Option<&str>,
    xdg_data_home: Option<&str>,
    home: Option<&str>,
) -> Option<PathBuf> {
    if let Some(p) = palisade_db.filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    if let Some(x) = xdg_data_home.filter(|x| Path::new(x).is_absolute()) {
        return Some(Path::new(x).join("palisade").join(DB_FILE_NAME));
    }
    home.filter(|h| !h.is_empty()).map(|h| {
        Path::new(h)
            .join(".local/share/palisade")
            .join(DB_FILE_NAME)
    })
}

/// The database path every command uses: the explicit `--db` value when given, else
/// `PALISADE_DB`, else the XDG data directory.
pub fn resolve_db_path(explicit: Option<&Path>) -> Result<PathBuf, DbError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let var = |k: &str| std::env::var(k).ok();
    default_path_from(
        var(DB_ENV).as_deref(),
        var("XDG_DATA_HOME").as_deref(),
        var("HOME").as_deref(),
    )
    .ok_or_else(|| DbError::NoDefaultPath)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        assert_eq!(
            default_path_from(Some("/x/db"), Some("/data"), Some("/home/u")),
            Some(PathBuf::from("/x/db"))
        );
        assert_eq!(
            default_path_from(None, Some("/data"), Some("/home/u")),
            Some(PathBuf::from("/data/palisade/vuln.db"))
        );
        assert_eq!(
            default_path_from(Some(""), Some("relative"), Some("/home/u")),
            Some(PathBuf::from("/home/u/.local/share/palisade/vuln.db"))
        );
        assert_eq!(default_path_from(None, None, None), None);
    }
}
