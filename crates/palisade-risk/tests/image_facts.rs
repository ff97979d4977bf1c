//! Vulnerability factors from the model's `RegistryFactsTable` (what scan/admission edges learn
//! about images), with points from the documented weights (see `palisade_risk::score`).

use std::collections::BTreeMap;

use palisade_model::{
    RegistryFacts, RegistryFactsTable, Severity, VulnerabilityFacts, VulnerabilityRef,
};
use palisade_rbac::RbacIndex;
use palisade_risk::{Category, ExternalFacts, RiskContext, VulnCounts, assess};
use palisade_testkit::inventory;
use serde_json::json;

fn vref(id: &str, severity: Severity) -> VulnerabilityRef {
    VulnerabilityRef {
        id: id.into(),
        severity,
        package: "log4j-core".into(),
        installed: "2.14.1".into(),
        fixed: Some("2.17.1".into()),
    }
}

#[test]
fn image_facts_table_becomes_vulnerability_factors() {
    let inv = inventory(vec![json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "shop", "namespace": "web"},
               "spec": {"template": {"metadata": {"labels": {"app": "shop"}},
                   "spec": {"containers": [{"name": "app", "image": "registry.example/shop:2"},
                                           {"name": "proxy", "image": "nginx:1.25"}]}}}})]);
    let mut table = RegistryFactsTable::new();
    table.insert(
        "registry.example/shop:2".into(),
        RegistryFacts {
            vulnerabilities: Some(VulnerabilityFacts {
                counts: BTreeMap::from([
                    (Severity::Critical, 1),
                    (Severity::High, 2),
                    (Severity::Medium, 1),
                    (Severity::Low, 3),
                    (Severity::Info, 4),
                ]),
                fixable: vec![vref("CVE-2021-44228", Severity::Critical)],
                notorious: vec![vref("CVE-2021-44228", Severity::Critical)],
            }),
            ..RegistryFacts::default()
        },
    );
    // An image whose packages were not matched adds nothing.
    table.insert("nginx:1.25".into(), RegistryFacts::default());
    let counts = VulnCounts::from_facts(
        table["registry.example/shop:2"]
            .vulnerabilities
            .as_ref()
            .unwrap(),
    );
    assert_eq!(
        counts,
        VulnCounts {
            critical: 1,
            high: 2,
            medium: 1,
            low: 3,
            notorious: 1
        }
    );
    let facts = ExternalFacts::default().with_image_facts(&table);
    assert_eq!(facts.vulnerabilities.len(), 1);
    let rbac = RbacIndex::build(&inv);
    let ranked = assess(&RiskContext {
        inventory: &inv,
        findings: &[],
        rbac: &rbac,
        facts: &facts,
    });
    let vulns: Vec<(i32, &str)> = ranked[0]
        .factors
        .iter()
        .filter(|f| f.category == Category::Vulnerabilities)
        .map(|f| (f.points, f.detail.as_str()))
        .collect();
    // critical 8 + 2 × high 3 + medium 1 = 15; one notorious vulnerability 15.
    assert_eq!(vulns.len(), 2, "{vulns:?}");
    assert_eq!(vulns[0].0, 15);
    assert!(
        vulns[0].1.contains("registry.example/shop:2")
            && vulns[0].1.contains("1 critical, 2 high, 1 medium, 3 low")
    );
    assert_eq!(vulns[1].0, 15);
    assert!(vulns[1].1.contains("1 notorious"));
    assert_eq!(ranked[0].score, 30);
}
