//! `palisade vercmp` end to end with the real binary.
#![cfg(feature = "vuln")]

mod support;

use support::cli::palisade;

#[test]
fn single_comparisons_per_ecosystem() {
    // Expected orderings from each ecosystem's rules.
    for (eco, a, b, want) in [
        ("Debian", "1:1.0-1", "2.0-1", ">"),
        ("Debian", "1.0~rc1", "1.0", "<"),
        ("ubuntu", "2.30-0ubuntu2", "2.30-0ubuntu10", "<"),
        ("Alpine", "1.2.3_rc1-r0", "1.2.3-r0", "<"),
        ("Alpine", "1.2.3_p1-r0", "1.2.3-r0", ">"),
        ("RPM", "1.0-1.el8", "1.0-1.el8", "="),
        ("RPM", "1.0^git1", "1.0", ">"),
        ("PyPI", "2.7", "2.7.0", "="),
        ("PyPI", "1.0.dev1", "1.0a1", "<"),
        ("npm", "1.0.0-beta.11", "1.0.0-beta.2", ">"),
        ("crates.io", "0.0.0-0", "0.0.0", "<"),
        ("Go", "v1.2.3+incompatible", "v1.2.3", "="),
        ("Go", "v0.0.0-20200101000000-abcdefabcdef", "v0.0.1", "<"),
        ("Maven", "1.0-SNAPSHOT", "1.0", "<"),
        ("Maven", "1.0.RELEASE", "1", "="),
    ] {
        let (code, out, err) = palisade(&["vercmp", eco, a, b]).run();
        assert_eq!(code, 0, "{eco} {a} {b}: {err}");
        assert_eq!(out, format!("{want}\n"), "{eco} {a} {b}");
    }
}

#[test]
fn batch_mode_answers_line_by_line() {
    let input = "1.0~rc1 1.0\n\n1:0.1 9.9\n1.0 1.0-0\n";
    let (code, out, err) = palisade(&["vercmp", "Debian", "--batch"])
        .stdin(input)
        .run();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "<\n>\n=\n");
    let (code, out, err) = palisade(&["vercmp", "npm", "--batch"])
        .stdin("1.0.0 2.0.0\n1.0 1.0.0\nonly-one\n2.0.0 1.0.0\n")
        .run();
    assert_eq!(code, 2);
    assert_eq!(out, "<\n?\n?\n>\n");
    assert!(err.contains("line 2") && err.contains("\"1.0\""), "{err}");
    assert!(
        err.contains("line 3") && err.contains("two versions"),
        "{err}"
    );
}

#[test]
fn errors_are_clear() {
    let (code, _, err) = palisade(&["vercmp", "Hex", "1", "2"]).run();
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown ecosystem") && err.contains("crates.io"),
        "{err}"
    );
    let (code, _, err) = palisade(&["vercmp", "Alpine", "1.0-1", "1.0-r1"]).run();
    assert_eq!(code, 2);
    assert!(err.contains("invalid Alpine version \"1.0-1\""), "{err}");
    let (code, _, _) = palisade(&["vercmp", "Debian", "1.0"]).run();
    assert_eq!(code, 2, "one version without --batch is a usage error");
}
