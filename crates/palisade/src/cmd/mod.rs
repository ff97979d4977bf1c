//! One module per subcommand.

#[cfg(feature = "admission")]
pub mod admission;
#[cfg(all(feature = "agent", target_os = "linux"))]
pub mod agent;
pub mod checks;
#[cfg(feature = "vuln")]
pub mod db;
#[cfg(feature = "image")]
pub mod image;
#[cfg(feature = "trust")]
pub mod image_trust;
#[cfg(feature = "visibility")]
pub mod inventory;
#[cfg(feature = "netpol")]
pub mod netpol;
#[cfg(feature = "visibility")]
pub mod rbac;
#[cfg(feature = "visibility")]
pub mod risk;
#[cfg(feature = "image")]
pub mod sbom;
pub mod scan;
#[cfg(feature = "vuln")]
pub mod version;

/// Today's date in UTC as `YYYY-MM-DD` (for exception expiry).
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a 400-year era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_786), (2026, 11, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
