//! CVSS v4.0 score (FIRST CVSS v4.0 specification, section 8 "CVSS v4.0 Scoring").
//!
//! The vector is reduced to a macrovector of six equivalence classes (EQ1…EQ6) whose score
//! comes from the specification's lookup table; the score is then lowered inside the
//! macrovector by the vector's mean proportional severity distance from the highest-severity
//! vectors of its class, and rounded to one decimal. Threat and environmental metrics, when
//! present, take part as the specification defines (`E:X` counts as `A`, `CR/IR/AR:X` as `H`,
//! modified base metrics override base metrics).

use super::v4_lookup::MACROVECTOR_SCORES;
use super::{CvssError, CvssScore, CvssVersion, metric_pairs};

const PREFIX: &str = "CVSS:4.0/";

/// Every metric and its allowed values; the first eleven are the mandatory base metrics.
const METRICS: [(&str, &[&str]); 32] = [
    ("AV", &["N", "A", "L", "P"]),
    ("AC", &["L", "H"]),
    ("AT", &["N", "P"]),
    ("PR", &["N", "L", "H"]),
    ("UI", &["N", "P", "A"]),
    ("VC", &["H", "L", "N"]),
    ("VI", &["H", "L", "N"]),
    ("VA", &["H", "L", "N"]),
    ("SC", &["H", "L", "N"]),
    ("SI", &["H", "L", "N"]),
    ("SA", &["H", "L", "N"]),
    ("E", &["X", "A", "P", "U"]),
    ("CR", &["X", "H", "M", "L"]),
    ("IR", &["X", "H", "M", "L"]),
    ("AR", &["X", "H", "M", "L"]),
    ("MAV", &["X", "N", "A", "L", "P"]),
    ("MAC", &["X", "L", "H"]),
    ("MAT", &["X", "N", "P"]),
    ("MPR", &["X", "N", "L", "H"]),
    ("MUI", &["X", "N", "P", "A"]),
    ("MVC", &["X", "H", "L", "N"]),
    ("MVI", &["X", "H", "L", "N"]),
    ("MVA", &["X", "H", "L", "N"]),
    ("MSC", &["X", "H", "L", "N"]),
    ("MSI", &["X", "S", "H", "L", "N"]),
    ("MSA", &["X", "S", "H", "L", "N"]),
    ("S", &["X", "N", "P"]),
    ("AU", &["X", "N", "Y"]),
    ("R", &["X", "A", "U", "I"]),
    ("V", &["X", "D", "C"]),
    ("RE", &["X", "L", "M", "H"]),
    ("U", &["X", "Clear", "Green", "Amber", "Red"]),
];

/// The parsed metrics of a vector.
struct Metrics<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Metrics<'a> {
    fn raw(&self, key: &str) -> &'a str {
        self.pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("X", |(_, v)| *v)
    }

    /// The effective value of a metric used for scoring.
    fn m(&self, key: &str) -> &'a str {
        let selected = self.raw(key);
        match (key, selected) {
            ("E", "X") => return "A",
            ("CR" | "IR" | "AR", "X") => return "H",
            _ => {}
        }
        let modified = match key {
            "AV" => "MAV",
            "AC" => "MAC",
            "AT" => "MAT",
            "PR" => "MPR",
            "UI" => "MUI",
            "VC" => "MVC",
            "VI" => "MVI",
            "VA" => "MVA",
            "SC" => "MSC",
            "SI" => "MSI",
            "SA" => "MSA",
            _ => return selected,
        };
        match self.raw(modified) {
            "X" => selected,
            value => value,
        }
    }
}

fn lookup(macrovector: &[u8; 6]) -> Option<f64> {
    let key: String = macrovector.iter().map(|d| char::from(b'0' + d)).collect();
    MACROVECTOR_SCORES
        .binary_search_by(|(k, _)| (*k).cmp(key.as_str()))
        .ok()
        .map(|i| MACROVECTOR_SCORES[i].1)
}

fn macrovector(m: &Metrics) -> [u8; 6] {
    let (av, pr, ui) = (m.m("AV"), m.m("PR"), m.m("UI"));
    let eq1 = if av == "N" && pr == "N" && ui == "N" {
        0
    } else if (av == "N" || pr == "N" || ui == "N") && av != "P" {
        1
    } else {
        2
    };
    let eq2 = if m.m("AC") == "L" && m.m("AT") == "N" {
        0
    } else {
        1
    };
    let (vc, vi, va) = (m.m("VC"), m.m("VI"), m.m("VA"));
    let eq3 = if vc == "H" && vi == "H" {
        0
    } else if vc == "H" || vi == "H" || va == "H" {
        1
    } else {
        2
    };
    let eq4 = if m.m("MSI") == "S" || m.m("MSA") == "S" {
        0
    } else if m.m("SC") == "H" || m.m("SI") == "H" || m.m("SA") == "H" {
        1
    } else {
        2
    };
    let eq5 = match m.m("E") {
        "A" => 0,
        "P" => 1,
        _ => 2,
    };
    let eq6 = if (m.m("CR") == "H" && vc == "H")
        || (m.m("IR") == "H" && vi == "H")
        || (m.m("AR") == "H" && va == "H")
    {
        0
    } else {
        1
    };
    [eq1, eq2, eq3, eq4, eq5, eq6]
}

/// Highest-severity vectors of each EQ level (as `KEY:VALUE/` fragments).
fn max_fragments(eq: usize, level: u8, eq6: u8) -> &'static [&'static str] {
    match (eq, level, eq6) {
        (1, 0, _) => &["AV:N/PR:N/UI:N/"],
        (1, 1, _) => &["AV:A/PR:N/UI:N/", "AV:N/PR:L/UI:N/", "AV:N/PR:N/UI:P/"],
        (1, _, _) => &["AV:P/PR:N/UI:N/", "AV:A/PR:L/UI:P/"],
        (2, 0, _) => &["AC:L/AT:N/"],
        (2, _, _) => &["AC:H/AT:N/", "AC:L/AT:P/"],
        (3, 0, 0) => &["VC:H/VI:H/VA:H/CR:H/IR:H/AR:H/"],
        (3, 0, _) => &[
            "VC:H/VI:H/VA:L/CR:M/IR:M/AR:H/",
            "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M/",
        ],
        (3, 1, 0) => &[
            "VC:L/VI:H/VA:H/CR:H/IR:H/AR:H/",
            "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H/",
        ],
        (3, 1, _) => &[
            "VC:L/VI:H/VA:L/CR:H/IR:M/AR:H/",
            "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M/",
            "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M/",
            "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H/",
            "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M/",
        ],
        (3, _, _) => &["VC:L/VI:L/VA:L/CR:H/IR:H/AR:H/"],
        (4, 0, _) => &["SC:H/SI:S/SA:S/"],
        (4, 1, _) => &["SC:H/SI:H/SA:H/"],
        (4, _, _) => &["SC:L/SI:L/SA:L/"],
        (5, 0, _) => &["E:A/"],
        (5, 1, _) => &["E:P/"],
        _ => &["E:U/"],
    }
}

/// Depth (in 0.1 steps) of each EQ level, used to scale the severity distance.
fn max_severity_depth(eq: usize, level: u8, eq6: u8) -> f64 {
    let steps = match (eq, level, eq6) {
        (1, 0, _) => 1,
        (1, 1, _) => 4,
        (1, _, _) => 5,
        (2, 0, _) => 1,
        (2, _, _) => 2,
        (3, 0, 0) => 7,
        (3, 0, _) => 6,
        (3, 1, _) => 8,
        (3, _, _) => 10,
        (4, 0, _) => 6,
        (4, 1, _) => 5,
        (4, _, _) => 4,
        _ => 1,
    };
    f64::from(steps) * 0.1
}

/// Severity level of a metric value (lower is more severe), in 0.1 steps.
fn level(key: &str, value: &str) -> f64 {
    let steps = match (key, value) {
        ("AV", "N") | ("PR", "N") | ("UI", "N") | ("AC", "L") | ("AT", "N") => 0,
        ("AV", "A") | ("PR", "L") | ("UI", "P") | ("AC", "H") | ("AT", "P") => 1,
        ("AV", "L") | ("PR", "H") | ("UI", "A") => 2,
        ("AV", "P") => 3,
        ("VC" | "VI" | "VA", "H") => 0,
        ("VC" | "VI" | "VA", "L") => 1,
        ("VC" | "VI" | "VA", "N") => 2,
        ("SC", "H") => 1,
        ("SC", "L") => 2,
        ("SC", "N") => 3,
        ("SI" | "SA", "S") => 0,
        ("SI" | "SA", "H") => 1,
        ("SI" | "SA", "L") => 2,
        ("SI" | "SA", "N") => 3,
        ("CR" | "IR" | "AR", "H") => 0,
        ("CR" | "IR" | "AR", "M") => 1,
        ("CR" | "IR" | "AR", "L") => 2,
        _ => 0,
    };
    f64::from(steps) * 0.1
}

fn fragment_value<'a>(fragment: &'a str, key: &str) -> Option<&'a str> {
    fragment
        .split('/')
        .filter_map(|p| p.split_once(':'))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

const DISTANCE_METRICS: [&str; 14] = [
    "AV", "PR", "UI", "AC", "AT", "VC", "VI", "VA", "SC", "SI", "SA", "CR", "IR", "AR",
];

/// Scores a `CVSS:4.0/…` vector.
pub fn score(vector: &str) -> Result<CvssScore, CvssError> {
    let pairs = metric_pairs(vector, PREFIX)?;
    for (k, v) in &pairs {
        match METRICS.iter().find(|(name, _)| name == k) {
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
    for (k, _) in &METRICS[..11] {
        if !pairs.iter().any(|(seen, _)| seen == k) {
            return Err(CvssError::new(vector, format!("missing base metric {k}")));
        }
    }
    let m = Metrics { pairs };
    let value = compute(&m);
    Ok(CvssScore {
        version: CvssVersion::V4_0,
        vector: vector.to_string(),
        score: value,
    })
}

fn compute(m: &Metrics) -> f64 {
    if ["VC", "VI", "VA", "SC", "SI", "SA"]
        .iter()
        .all(|k| m.m(k) == "N")
    {
        return 0.0;
    }
    let mv = macrovector(m);
    let Some(value) = lookup(&mv) else {
        return 0.0;
    };
    let [eq1, eq2, eq3, eq4, eq5, eq6] = mv;
    let with = |i: usize, d: u8| {
        let mut v = mv;
        v[i] += d;
        v
    };
    let lower_eq1 = lookup(&with(0, 1));
    let lower_eq2 = lookup(&with(1, 1));
    let lower_eq3eq6 = match (eq3, eq6) {
        (1, 1) | (0, 1) => lookup(&with(2, 1)),
        (1, 0) => lookup(&with(5, 1)),
        (0, 0) => match (lookup(&with(5, 1)), lookup(&with(2, 1))) {
            (Some(a), Some(b)) => Some(a.max(b)),
            // A missing neighbour makes the maximum undefined (NaN in the reference).
            _ => None,
        },
        _ => {
            let mut v = mv;
            v[2] += 1;
            v[5] += 1;
            lookup(&v)
        }
    };
    let lower_eq4 = lookup(&with(3, 1));
    let lower_eq5 = lookup(&with(4, 1));

    // Find the first highest-severity vector of the class that the vector does not exceed.
    let mut candidates = Vec::new();
    for a in max_fragments(1, eq1, eq6) {
        for b in max_fragments(2, eq2, eq6) {
            for c in max_fragments(3, eq3, eq6) {
                for d in max_fragments(4, eq4, eq6) {
                    for e in max_fragments(5, eq5, eq6) {
                        candidates.push(format!("{a}{b}{c}{d}{e}"));
                    }
                }
            }
        }
    }
    let mut distances = [0.0f64; 14];
    for max_vector in &candidates {
        for (i, key) in DISTANCE_METRICS.iter().enumerate() {
            let max_value = fragment_value(max_vector, key).unwrap_or("X");
            distances[i] = level(key, m.m(key)) - level(key, max_value);
        }
        if distances.iter().all(|d| *d >= 0.0) {
            break;
        }
    }
    let d = |key: &str| {
        DISTANCE_METRICS
            .iter()
            .position(|k| *k == key)
            .map_or(0.0, |i| distances[i])
    };
    let current_eq1 = d("AV") + d("PR") + d("UI");
    let current_eq2 = d("AC") + d("AT");
    let current_eq3eq6 = d("VC") + d("VI") + d("VA") + d("CR") + d("IR") + d("AR");
    let current_eq4 = d("SC") + d("SI") + d("SA");

    let mut existing_lower = 0u32;
    let mut total = 0.0;
    let mut add = |lower: Option<f64>, current: f64, depth: Option<f64>| {
        if let Some(lower) = lower {
            let available = value - lower;
            if available >= 0.0 {
                existing_lower += 1;
                if let Some(depth) = depth {
                    total += available * (current / depth);
                }
            }
        }
    };
    add(
        lower_eq1,
        current_eq1,
        Some(max_severity_depth(1, eq1, eq6)),
    );
    add(
        lower_eq2,
        current_eq2,
        Some(max_severity_depth(2, eq2, eq6)),
    );
    add(
        lower_eq3eq6,
        current_eq3eq6,
        Some(max_severity_depth(3, eq3, eq6)),
    );
    add(
        lower_eq4,
        current_eq4,
        Some(max_severity_depth(4, eq4, eq6)),
    );
    // EQ5 has no intra-class distance: it counts as an existing neighbour with 0 distance.
    add(lower_eq5, 0.0, None);
    let mean = if existing_lower == 0 {
        0.0
    } else {
        total / f64::from(existing_lower)
    };
    let adjusted = (value - mean).clamp(0.0, 10.0);
    // Round half up to one decimal, with an epsilon against binary floating point error.
    ((adjusted + 1e-6) * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> f64 {
        score(v).unwrap().score
    }

    #[test]
    fn highest_macrovector_scores() {
        // Network, no privileges, no interaction, full impact on the vulnerable system.
        assert_eq!(
            s("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            9.3
        );
        // Adding full subsequent-system impact reaches the maximum.
        assert_eq!(
            s("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"),
            10.0
        );
        // No impact anywhere is 0.
        assert_eq!(
            s("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N"),
            0.0
        );
    }

    #[test]
    fn lookup_table_is_sorted_and_complete() {
        assert_eq!(MACROVECTOR_SCORES.len(), 270);
        assert!(MACROVECTOR_SCORES.windows(2).all(|w| w[0].0 < w[1].0));
        // EQ1 in 0..=2, EQ2 0..=1, EQ3 0..=2, EQ4 0..=2, EQ5 0..=2, EQ6 0..=1, minus the
        // impossible EQ3=2/EQ6=0 combinations: 3*2*3*3*3*2 - 3*2*3*3 = 324 - 54 = 270.
        assert_eq!(lookup(&[0, 0, 0, 0, 0, 0]), Some(10.0));
        assert_eq!(lookup(&[0, 0, 2, 0, 0, 0]), None);
    }

    #[test]
    fn threat_metric_lowers_score() {
        let base = s("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
        let unreported = s("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U");
        assert!(unreported < base);
        // E:X is the same as E:A.
        assert_eq!(
            s("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X"),
            base
        );
    }

    #[test]
    fn invalid_vectors() {
        for bad in [
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:R/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/XX:Y",
        ] {
            assert!(score(bad).is_err(), "{bad} should be rejected");
        }
    }
}
