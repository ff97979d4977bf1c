//! CVSS v3.0 / v3.1 base score (FIRST CVSS v3.1 specification, section 7).

use super::{CvssError, CvssScore, CvssVersion, metric_pairs};

const BASE: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];

/// Temporal and environmental metrics and their allowed values (accepted, not scored).
const OPTIONAL: [(&str, &[&str]); 14] = [
    ("E", &["X", "H", "F", "P", "U"]),
    ("RL", &["X", "U", "W", "T", "O"]),
    ("RC", &["X", "C", "R", "U"]),
    ("CR", &["X", "H", "M", "L"]),
    ("IR", &["X", "H", "M", "L"]),
    ("AR", &["X", "H", "M", "L"]),
    ("MAV", &["X", "N", "A", "L", "P"]),
    ("MAC", &["X", "L", "H"]),
    ("MPR", &["X", "N", "L", "H"]),
    ("MUI", &["X", "N", "R"]),
    ("MS", &["X", "U", "C"]),
    ("MC", &["X", "H", "L", "N"]),
    ("MI", &["X", "H", "L", "N"]),
    ("MA", &["X", "H", "L", "N"]),
];

/// Roundup as defined in CVSS v3.1 Appendix A (exact with respect to floating point).
fn roundup_v31(x: f64) -> f64 {
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) as f64 + 1.0) / 10.0
    }
}

/// Roundup as defined in CVSS v3.0: the smallest number with one decimal >= x.
fn roundup_v30(x: f64) -> f64 {
    (x * 10.0).ceil() / 10.0
}

/// Scores a `CVSS:3.0/…` or `CVSS:3.1/…` vector.
pub fn score(vector: &str) -> Result<CvssScore, CvssError> {
    let version = if vector.starts_with("CVSS:3.1/") {
        CvssVersion::V3_1
    } else if vector.starts_with("CVSS:3.0/") {
        CvssVersion::V3_0
    } else {
        return Err(CvssError::new(
            vector,
            "must start with CVSS:3.0/ or CVSS:3.1/",
        ));
    };
    let pairs = metric_pairs(vector, &vector[..9])?;
    let get = |key: &str| -> Result<&str, CvssError> {
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| CvssError::new(vector, format!("missing base metric {key}")))
    };
    for (k, v) in &pairs {
        if BASE.contains(k) {
            continue;
        }
        match OPTIONAL.iter().find(|(name, _)| name == k) {
            Some((_, allowed)) if allowed.contains(v) => {}
            Some(_) => {
                return Err(CvssError::new(
                    vector,
                    format!("invalid value {v:?} for {k}"),
                ));
            }
            None => return Err(CvssError::new(vector, format!("unknown metric {k}"))),
        }
    }
    let bad = |k: &str, v: &str| CvssError::new(vector, format!("invalid value {v:?} for {k}"));
    let scope_changed = match get("S")? {
        "U" => false,
        "C" => true,
        v => return Err(bad("S", v)),
    };
    let av = match get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        v => return Err(bad("AV", v)),
    };
    let ac = match get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        v => return Err(bad("AC", v)),
    };
    let pr = match (get("PR")?, scope_changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        (v, _) => return Err(bad("PR", v)),
    };
    let ui = match get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        v => return Err(bad("UI", v)),
    };
    let cia = |k: &str| -> Result<f64, CvssError> {
        match get(k)? {
            "H" => Ok(0.56),
            "L" => Ok(0.22),
            "N" => Ok(0.0),
            v => Err(bad(k, v)),
        }
    };
    let (c, i, a) = (cia("C")?, cia("I")?, cia("A")?);
    let iss = 1.0 - ((1.0 - c) * (1.0 - i) * (1.0 - a));
    let impact = if scope_changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    let roundup = match version {
        CvssVersion::V3_0 => roundup_v30,
        _ => roundup_v31,
    };
    let score = if impact <= 0.0 {
        0.0
    } else if scope_changed {
        roundup((1.08 * (impact + exploitability)).min(10.0))
    } else {
        roundup((impact + exploitability).min(10.0))
    };
    Ok(CvssScore {
        version,
        vector: vector.to_string(),
        score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> f64 {
        score(v).unwrap().score
    }

    #[test]
    fn first_specification_examples() {
        // Examples from FIRST's "CVSS v3.1 Examples" document.
        // CVE-2014-0160 (Heartbleed)
        assert_eq!(s("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"), 7.5);
        // CVE-2014-6271 (Shellshock)
        assert_eq!(s("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), 9.8);
        // CVE-2013-1937 (phpMyAdmin reflected XSS)
        assert_eq!(s("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"), 6.1);
        // CVE-2013-0375 (MySQL stored SQL injection)
        assert_eq!(s("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N"), 6.4);
        // CVE-2014-3566 (POODLE)
        assert_eq!(s("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"), 3.1);
        // CVE-2012-1516 (VMware guest-to-host escape)
        assert_eq!(s("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H"), 9.9);
        // No impact at all scores 0.
        assert_eq!(s("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"), 0.0);
        // Scope changed with everything high is capped at 10.
        assert_eq!(s("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"), 10.0);
    }

    #[test]
    fn roundup_functions() {
        // v3.1 Roundup avoids floating point artefacts: 4.000000000000001 is 4.0 there...
        assert_eq!(roundup_v31(4.000_000_000_000_001), 4.0);
        // ...while v3.0's plain ceiling rounds it up.
        assert_eq!(roundup_v30(4.000_000_000_000_001), 4.1);
        assert_eq!(roundup_v31(4.02), 4.1);
        assert_eq!(roundup_v31(4.0), 4.0);
    }

    #[test]
    fn temporal_metrics_accepted_but_not_scored() {
        assert_eq!(
            s("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C"),
            9.8
        );
    }

    #[test]
    fn invalid_vectors() {
        for bad in [
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",
            "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ] {
            assert!(score(bad).is_err(), "{bad} should be rejected");
        }
    }
}
