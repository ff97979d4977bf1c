//! `vulnerability_facts`: packages of an image → the model's `VulnerabilityFacts`, through a
//! real database filled with real advisories. Expectations come from the advisory files.

mod common;

use common::vulndata;
use palisade_model::{Ecosystem, Package, Severity};
use palisade_vulndb::{VulnDb, vulnerability_facts};

#[test]
fn image_packages_reduce_to_policy_facts() {
    let dir = tempfile::tempdir().unwrap();
    let db = VulnDb::open_or_create(&dir.path().join("vuln.db")).unwrap();
    let pypi = vulndata().join("osv/PyPI");
    let report = db
        .import_paths(&[pypi.join("werkzeug"), pypi.join("httpie")])
        .unwrap();
    assert_eq!(report.error_count, 0, "{:?}", report.errors);
    let packages = [
        Package::new(Ecosystem::PyPI, "Werkzeug", "2.2.2"),
        Package::new(Ecosystem::PyPI, "httpie", "3.2.2"),
        // Not affected by any werkzeug advisory (all fixed by 3.0.1).
        Package::new(Ecosystem::PyPI, "werkzeug", "3.0.1"),
    ];
    let facts = vulnerability_facts(&db, &packages, &["CVE-2023-23934".to_string()]).unwrap();
    // werkzeug 2.2.2 is listed in the `versions` of PYSEC-2023-221 (CVE-2023-46136, fixed
    // 2.3.8, CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H = 7.5 high), PYSEC-2023-57
    // (CVE-2023-23934, fixed 2.2.3, no severity) and PYSEC-2023-58 (CVE-2023-25577, fixed
    // 2.2.3, no severity). httpie 3.2.2 is listed in PYSEC-2023-242 (CVE-2023-48052, no fix,
    // CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N = 7.4 high).
    assert_eq!(facts.counts.get(&Severity::High), Some(&2));
    assert_eq!(facts.counts.get(&Severity::Info), Some(&2), "no severity");
    assert_eq!(facts.counts.values().sum::<usize>(), 4);
    let fixable: Vec<(&str, Severity, Option<&str>)> = facts
        .fixable
        .iter()
        .map(|r| (r.id.as_str(), r.severity, r.fixed.as_deref()))
        .collect();
    assert_eq!(
        fixable,
        [
            ("CVE-2023-46136", Severity::High, Some("2.3.8")),
            ("CVE-2023-23934", Severity::Info, Some("2.2.3")),
            ("CVE-2023-25577", Severity::Info, Some("2.2.3")),
        ]
    );
    assert!(fixable.iter().all(|f| f.0 != "CVE-2023-48052"));
    let notorious: Vec<&str> = facts.notorious.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(notorious, ["CVE-2023-23934"], "from the extra list");
    assert_eq!(facts.fixable[0].installed, "2.2.2");
}
