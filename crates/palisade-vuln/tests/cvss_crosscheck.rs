//! Palisade's CVSS scoring cross-checked with RustSec's `cvss` crate (an independent
//! implementation of the FIRST specifications): every CVSS vector found in
//! ../shared/vulndata (v3.0, v3.1 and v4.0; the data holds no v2 vector, and Palisade does not
//! score v2) must get the same base score from both.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn vulndata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every `CVSS:x.y/…` vector in `text` (ends at a quote, whitespace or a comma).
fn vectors(text: &str, out: &mut BTreeSet<String>) {
    let mut rest = text;
    while let Some(i) = rest.find("CVSS:") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ']' | '}'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
}

#[test]
fn every_vector_in_the_shared_data_scores_as_the_cvss_crate_scores_it() {
    let mut paths = Vec::new();
    files(&vulndata().join("osv"), &mut paths);
    let mut found = BTreeSet::new();
    for p in &paths {
        vectors(
            &String::from_utf8_lossy(&std::fs::read(p).unwrap()),
            &mut found,
        );
    }
    let mut compared = [0usize; 3];
    let mut mismatches = Vec::new();
    for v in &found {
        let ours = palisade_vuln::cvss::score_vector(v);
        let theirs = v.parse::<cvss::Cvss>();
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => {
                let slot = match ours.version {
                    palisade_vuln::cvss::CvssVersion::V3_0 => 0,
                    palisade_vuln::cvss::CvssVersion::V3_1 => 1,
                    palisade_vuln::cvss::CvssVersion::V4_0 => 2,
                };
                compared[slot] += 1;
                if ours.score != theirs.score() {
                    mismatches.push(format!(
                        "{v}: palisade {} cvss {}",
                        ours.score,
                        theirs.score()
                    ));
                }
            }
            (Err(e), Ok(_)) => mismatches.push(format!("{v}: only cvss scores it ({e})")),
            (Ok(_), Err(e)) => mismatches.push(format!("{v}: only palisade scores it ({e})")),
            (Err(_), Err(_)) => {}
        }
    }
    let total: usize = compared.iter().sum();
    println!(
        "compared {total} distinct vectors (v3.0 {}, v3.1 {}, v4.0 {})",
        compared[0], compared[1], compared[2]
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // 164 distinct vectors in the data as of this writing: 12 v3.0, 113 v3.1, 39 v4.0.
    assert!(
        compared.iter().all(|n| *n >= 10) && total >= 150,
        "{compared:?}"
    );
}
