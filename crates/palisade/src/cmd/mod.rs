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
    palisade_model::calendar::iso_date((secs / 86_400) as i64)
}

#[cfg(test)]
mod tests {
    use palisade_model::calendar::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_786), (2026, 11, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
