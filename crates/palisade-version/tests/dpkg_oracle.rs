//! The Debian comparator checked against the real `dpkg --compare-versions` over every fixed
//! version in the shared Debian security tracker lists plus generated tricky versions.

use std::cmp::Ordering;
use std::path::PathBuf;
use std::process::Command;

use palisade_model::Ecosystem;
use palisade_version::compare;

fn vulndata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

/// Asks dpkg for the ordering of `a` and `b`.
fn dpkg_order(a: &str, b: &str) -> Ordering {
    let check = |op: &str| {
        let status = Command::new("dpkg")
            .args(["--compare-versions", a, op, b])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run dpkg (run scripts/test on a Debian machine): {e}")
            });
        match status.code() {
            Some(0) => true,
            Some(1) => false,
            other => panic!("dpkg --compare-versions {a:?} {op} {b:?} failed with {other:?}"),
        }
    };
    if check("lt") {
        Ordering::Less
    } else if check("eq") {
        Ordering::Equal
    } else {
        Ordering::Greater
    }
}

/// Every fixed version (`[release] - package VERSION`) in the DSA and DLA lists.
fn tracker_versions() -> Vec<String> {
    let mut versions = Vec::new();
    for list in ["debian/DSA-list", "debian/DLA-list"] {
        let path = vulndata().join(list);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for line in text.lines() {
            let line = line.trim();
            if !line.starts_with('[') || !line.contains("] - ") {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let Some(v) = fields.get(3)
                && !v.starts_with('<')
            {
                versions.push((*v).to_string());
            }
        }
    }
    versions.sort();
    versions.dedup();
    versions
}

fn tricky_versions() -> Vec<String> {
    let mut out = Vec::new();
    for base in [
        "1.0", "1.0~rc1", "1.0~~", "1.0~", "1.0a", "1.0+", "1.0.0", "1:1.0",
    ] {
        for rev in ["", "-1", "-0", "-1~bpo1", "-1+deb11u1", "-a"] {
            out.push(format!("{base}{rev}"));
        }
    }
    out.extend(
        [
            "1.0-1-1",
            "2.30-2+b1",
            "1.2.3+dfsg-1",
            "1.2.3+dfsg1-1",
            "1.2.3~dfsg-1",
            "9.9",
            "10",
            "1a",
            "1A",
            "1:0",
            "1.00",
            "1.0.",
            "0:1.0-1",
            "1.0z",
            "1.0Z",
            "1.0-+",
            "1.0-~",
        ]
        .map(String::from),
    );
    out
}

#[test]
fn sorted_tracker_versions_agree_with_dpkg_pairwise() {
    let mut versions = tracker_versions();
    assert!(
        versions.len() > 5000,
        "expected thousands of tracker versions, got {}",
        versions.len()
    );
    versions.sort_by(|a, b| compare(&Ecosystem::Debian, a, b).unwrap());
    // If every adjacent pair agrees with dpkg, the whole order does (dpkg's order is total).
    let pairs: Vec<(&String, &String)> = versions.windows(2).map(|w| (&w[0], &w[1])).collect();
    let half = pairs.len() / 2;
    std::thread::scope(|scope| {
        for chunk in [&pairs[..half], &pairs[half..]] {
            scope.spawn(move || {
                for (a, b) in chunk {
                    let ours = compare(&Ecosystem::Debian, a, b).unwrap();
                    assert_eq!(ours, dpkg_order(a, b), "{a} vs {b}");
                }
            });
        }
    });
}

#[test]
fn random_tracker_pairs_agree_with_dpkg() {
    let versions = tracker_versions();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    for _ in 0..600 {
        let a = &versions[next() % versions.len()];
        let b = &versions[next() % versions.len()];
        assert_eq!(
            compare(&Ecosystem::Debian, a, b).unwrap(),
            dpkg_order(a, b),
            "{a} vs {b}"
        );
    }
}

#[test]
fn tricky_versions_agree_with_dpkg_all_pairs() {
    let versions = tricky_versions();
    for (i, a) in versions.iter().enumerate() {
        for b in &versions[i + 1..] {
            assert_eq!(
                compare(&Ecosystem::Debian, a, b).unwrap(),
                dpkg_order(a, b),
                "{a} vs {b}"
            );
        }
    }
}
