//! rpm's SQLite database (`rpmdb.sqlite`, table `Packages`): each row holds one package
//! header blob (`il`/`dl` counts, 16-byte index entries, data store), decoded here.

use palisade_model::{Ecosystem, Package, purl};

use super::os::OsInfo;
use super::sqlite::{Database, Value};

const TAG_NAME: i32 = 1000;
const TAG_VERSION: i32 = 1001;
const TAG_RELEASE: i32 = 1002;
const TAG_EPOCH: i32 = 1003;
const TAG_LICENSE: i32 = 1014;
const TAG_ARCH: i32 = 1022;
const TAG_SOURCERPM: i32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// The fields of one package header that the inventory uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpmHeader {
    /// `NAME`.
    pub name: String,
    /// `VERSION`.
    pub version: String,
    /// `RELEASE`.
    pub release: String,
    /// `EPOCH`, when set.
    pub epoch: Option<u32>,
    /// `ARCH`.
    pub arch: Option<String>,
    /// `LICENSE`.
    pub license: Option<String>,
    /// `SOURCERPM` (`name-version-release.src.rpm`).
    pub source_rpm: Option<String>,
}

/// Decodes one header blob as stored in the rpm database.
pub fn parse_header(blob: &[u8]) -> Result<RpmHeader, String> {
    let be32 = |at: usize| -> Result<u32, String> {
        blob.get(at..at + 4)
            .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
            .ok_or_else(|| "header truncated".to_string())
    };
    let il = be32(0)? as usize;
    let dl = be32(4)? as usize;
    let index_end = 8usize
        .checked_add(il.checked_mul(16).ok_or("index too large")?)
        .ok_or("index too large")?;
    let store = blob
        .get(index_end..index_end.checked_add(dl).ok_or("data too large")?)
        .ok_or("header data store truncated")?;
    let string_at = |offset: usize| -> Option<String> {
        let rest = store.get(offset..)?;
        let end = rest.iter().position(|b| *b == 0)?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    };
    let mut h = RpmHeader::default();
    for i in 0..il {
        let e = 8 + i * 16;
        let tag = be32(e)? as i32;
        let ty = be32(e + 4)?;
        let offset = be32(e + 8)? as i32;
        let Ok(offset) = usize::try_from(offset) else {
            continue;
        };
        let text = || match ty {
            TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING => string_at(offset),
            _ => None,
        };
        match tag {
            TAG_NAME => h.name = text().unwrap_or_default(),
            TAG_VERSION => h.version = text().unwrap_or_default(),
            TAG_RELEASE => h.release = text().unwrap_or_default(),
            TAG_ARCH => h.arch = text(),
            TAG_LICENSE => h.license = text(),
            TAG_SOURCERPM => h.source_rpm = text(),
            TAG_EPOCH if ty == TYPE_INT32 => {
                h.epoch = store
                    .get(offset..offset + 4)
                    .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]));
            }
            _ => {}
        }
    }
    if h.name.is_empty() {
        return Err("header has no NAME".into());
    }
    Ok(h)
}

/// Reads every package of an `rpmdb.sqlite` file.
pub fn parse_sqlite_db(data: &[u8], os: Option<&OsInfo>) -> Result<Vec<Package>, String> {
    let db = Database::open(data)?;
    let root = db.table_root("Packages")?;
    let mut out = Vec::new();
    for (rowid, cols) in db.rows(root)? {
        let Some(Value::Blob(blob)) = cols.iter().find(|v| matches!(v, Value::Blob(_))) else {
            continue;
        };
        let h = parse_header(blob).map_err(|e| format!("package row {rowid}: {e}"))?;
        // gpg-pubkey entries are imported keys, not software.
        if h.name == "gpg-pubkey" {
            continue;
        }
        out.push(to_package(&h, os));
    }
    Ok(out)
}

fn to_package(h: &RpmHeader, os: Option<&OsInfo>) -> Package {
    let evr = match h.epoch {
        Some(e) if e > 0 => format!("{e}:{}-{}", h.version, h.release),
        _ => format!("{}-{}", h.version, h.release),
    };
    let mut pkg = Package::new(Ecosystem::Rpm, &h.name, evr.clone());
    let source = h.source_rpm.as_deref().and_then(purl::split_source_rpm);
    let namespace = match os.map(|o| o.id.as_str()) {
        Some("rhel") => "redhat".to_string(),
        Some(id) => id.to_string(),
        None => "rpm".to_string(),
    };
    let distro = os.and_then(OsInfo::purl_distro).unwrap_or_default();
    let epoch = h
        .epoch
        .filter(|e| *e > 0)
        .map(|e| e.to_string())
        .unwrap_or_default();
    pkg.purl = purl::build(
        &Ecosystem::Rpm,
        Some(&namespace),
        &h.name,
        &format!("{}-{}", h.version, h.release),
        &[
            ("arch", h.arch.as_deref().unwrap_or("")),
            ("epoch", &epoch),
            ("distro", &distro),
            ("upstream", h.source_rpm.as_deref().unwrap_or("")),
        ],
    );
    if let Some((name, version)) = source {
        pkg.source_version = (version != format!("{}-{}", h.version, h.release)).then_some(version);
        pkg.source_name = Some(name);
    }
    pkg.licenses.extend(h.license.clone());
    pkg.distro_release = os.and_then(OsInfo::release);
    pkg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_headers_are_errors() {
        assert!(parse_header(&[0, 0, 0, 5, 0, 0, 0, 100]).is_err());
        assert!(parse_header(&[]).is_err());
    }
}
