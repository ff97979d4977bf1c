//! Notorious vulnerabilities: widely exploited CVEs that always fail a policy, by name.

/// `(CVE id, common name)` of notorious vulnerabilities.
pub const NOTORIOUS: &[(&str, &str)] = &[
    ("CVE-2021-44228", "Log4Shell"),
    ("CVE-2021-45046", "Log4Shell (incomplete fix)"),
    ("CVE-2022-22965", "Spring4Shell"),
    ("CVE-2022-22963", "Spring Cloud Function SpEL injection"),
    ("CVE-2022-42889", "Text4Shell"),
    ("CVE-2014-0160", "Heartbleed"),
    ("CVE-2014-6271", "Shellshock"),
    ("CVE-2014-7169", "Shellshock (incomplete fix)"),
    ("CVE-2017-5638", "Apache Struts Jakarta RCE"),
    ("CVE-2016-5195", "Dirty COW"),
    ("CVE-2022-0847", "Dirty Pipe"),
    ("CVE-2021-3156", "Baron Samedit (sudo)"),
    ("CVE-2021-4034", "PwnKit (polkit)"),
    ("CVE-2023-4911", "Looney Tunables (glibc)"),
    ("CVE-2015-0235", "GHOST (glibc)"),
    ("CVE-2016-3714", "ImageTragick"),
    ("CVE-2019-5736", "runc container escape"),
    ("CVE-2024-21626", "Leaky Vessels (runc)"),
    ("CVE-2024-3094", "xz backdoor"),
    ("CVE-2024-6387", "regreSSHion (OpenSSH)"),
    ("CVE-2021-41773", "Apache httpd path traversal"),
    (
        "CVE-2021-42013",
        "Apache httpd path traversal (incomplete fix)",
    ),
    ("CVE-2023-44487", "HTTP/2 Rapid Reset"),
    ("CVE-2022-3602", "OpenSSL X.509 punycode overflow"),
    ("CVE-2018-11776", "Apache Struts namespace RCE"),
    ("CVE-2017-9805", "Apache Struts REST XStream RCE"),
];

/// The common name of `id` when it is a notorious vulnerability.
pub fn notorious_name(id: &str) -> Option<&'static str> {
    NOTORIOUS
        .iter()
        .find(|(cve, _)| cve.eq_ignore_ascii_case(id))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup() {
        assert_eq!(notorious_name("CVE-2021-44228"), Some("Log4Shell"));
        assert_eq!(notorious_name("cve-2022-22965"), Some("Spring4Shell"));
        assert_eq!(notorious_name("CVE-2000-0001"), None);
        let mut ids: Vec<&str> = NOTORIOUS.iter().map(|(c, _)| *c).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), NOTORIOUS.len(), "no duplicates");
    }
}
