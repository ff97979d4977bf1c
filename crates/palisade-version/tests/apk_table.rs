//! The Alpine comparator against a table of version pairs with apk's published ordering
//! (`tests/data/apk-version-pairs.txt`: pairs from apk-tools' own test file, plus pairs built
//! from its tokenizer rules for a number right after a letter, `6.6.2p1-r0`).

use std::cmp::Ordering;

use palisade_model::Ecosystem;
use palisade_version::{compare, parse};

const TABLE: &str = include_str!("data/apk-version-pairs.txt");

/// One line of the table: `A OP B`, and whether it is marked `# invalid`.
fn pairs() -> Vec<(usize, &'static str, Ordering, &'static str, bool)> {
    let mut out = Vec::new();
    for (n, line) in TABLE.lines().enumerate() {
        let (body, comment) = line.split_once('#').unwrap_or((line, ""));
        let fields: Vec<&str> = body.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let [a, op, b] = fields[..] else {
            panic!("line {}: expected `A OP B`: {line:?}", n + 1);
        };
        let want = match op {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            other => panic!("line {}: unknown operator {other:?}", n + 1),
        };
        out.push((n + 1, a, want, b, comment.trim() == "invalid"));
    }
    out
}

#[test]
fn apk_orders_every_pair_of_the_table() {
    let mut compared = 0;
    let mut failures = Vec::new();
    for (line, a, want, b, invalid) in pairs() {
        if invalid {
            let refused =
                parse(&Ecosystem::Alpine, a).is_err() || parse(&Ecosystem::Alpine, b).is_err();
            if !refused {
                failures.push(format!(
                    "line {line}: {a} or {b} should be refused as invalid"
                ));
            }
            continue;
        }
        compared += 1;
        match compare(&Ecosystem::Alpine, a, b) {
            Ok(got) if got == want => {}
            Ok(got) => failures.push(format!(
                "line {line}: {a} vs {b}: want {want:?}, got {got:?}"
            )),
            Err(e) => failures.push(format!("line {line}: {e}")),
        }
        // The reverse pair orders the other way round.
        match compare(&Ecosystem::Alpine, b, a) {
            Ok(got) if got == want.reverse() => {}
            Ok(got) => failures.push(format!("line {line} reversed: {b} vs {a}: got {got:?}")),
            Err(e) => failures.push(format!("line {line} reversed: {e}")),
        }
    }
    assert!(compared > 650, "only {compared} pairs compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_number_right_after_a_letter_is_a_version_component() {
    for v in [
        "6.6.2p1-r0",
        "1.7.4p6-r1",
        "6.6.1p1-r1",
        "8.1p1-r0",
        "1.0a1b",
    ] {
        assert!(parse(&Ecosystem::Alpine, v).is_ok(), "{v} should parse");
    }
    assert_eq!(
        compare(&Ecosystem::Alpine, "6.6.1p1-r1", "6.6.2p1-r0").unwrap(),
        Ordering::Less
    );
}
