//! The JSON Schemas derived for the wire types (central's OpenAPI document) accept exactly what
//! serde writes and reads: every field, the flattened and untagged diagnostic locations, the
//! string forms of times and severities — and refuse what serde refuses.

use std::sync::Arc;

use palisade_api::{
    AlertBatch, AlertRecord, FindingRecord, ImageRecord, ObjectKey, RiskRecord, Snapshot,
    VulnerabilityRecord, WorkloadRecord,
};
use palisade_model::finding::Severity;
use palisade_model::meta::{ObjectRef, SourceLocation};
use palisade_model::time::Timestamp;
use palisade_model::{Diagnostic, DiagnosticLevel, WorkloadId};
use serde_json::{Value, json};

fn validator<T: schemars::JsonSchema>() -> jsonschema::Validator {
    let schema = schemars::schema_for!(T);
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema.to_value())
        .expect("a valid 2020-12 schema")
}

fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn snapshot() -> Snapshot {
    let cluster: Arc<str> = Arc::from("prod");
    let live = ObjectRef {
        api_version: "networking.k8s.io/v1".into(),
        kind: "NetworkPolicy".into(),
        namespace: Some("shop".into()),
        name: "allow-web".into(),
        source: SourceLocation::live(&cluster, "4711"),
    };
    Snapshot {
        id: "snap-1".into(),
        scanned_at: Timestamp::from_unix_ms(1_765_000_000_123_i64),
        tool_version: "0.1.0".into(),
        source: "cluster".into(),
        workloads: vec![WorkloadRecord {
            id: WorkloadId::new("shop", "Deployment", "web"),
            labels: [("app".to_string(), "web".to_string())].into(),
            service_account: Some("web".into()),
            images: vec!["registry.example/web:1".into()],
            risk: Some(RiskRecord {
                score: 870,
                rank: 1,
                factors: vec!["privileged container".into()],
            }),
            owner: None,
        }],
        findings: vec![FindingRecord {
            fingerprint: "f1".into(),
            check_id: "PAL-001".into(),
            severity: Severity::High,
            title: "Privileged container".into(),
            message: "container app runs privileged".into(),
            object: ObjectKey {
                kind: "Deployment".into(),
                namespace: Some("shop".into()),
                name: "web".into(),
            },
            container: Some("app".into()),
            path: None,
        }],
        images: vec![ImageRecord {
            reference: "registry.example/web:1".into(),
            digest: None,
            vulnerabilities: vec![VulnerabilityRecord {
                id: "CVE-2024-0001".into(),
                package: "openssl".into(),
                version: "3.0.1".into(),
                fixed: Some("3.0.2".into()),
                severity: Severity::Critical,
            }],
        }],
        objects: vec![json!({"kind": "Namespace", "metadata": {"name": "shop"}}).into()],
        diagnostics: vec![
            Diagnostic::input(DiagnosticLevel::Error, "bad.yaml", 3, 7, "not YAML"),
            Diagnostic::object(
                DiagnosticLevel::Warning,
                live,
                Some("spec.ingress[0]".into()),
                "peer matches nothing",
            ),
        ],
    }
}

#[test]
fn a_full_snapshot_matches_its_schema_and_a_broken_one_does_not() {
    let v = validator::<Snapshot>();
    let good = serde_json::to_value(snapshot()).unwrap();
    assert_eq!(errors(&v, &good), Vec::<String>::new(), "{good:#}");

    for (path, bad) in [
        ("/scanned_at", json!("yesterday")),
        ("/findings/0/severity", json!("severe")),
        ("/workloads/0/risk/score", json!(-1)),
        ("/diagnostics/0/level", json!("fatal")),
        ("/surprise", json!(true)),
    ] {
        let mut broken = good.clone();
        let (parent, leaf) = path.rsplit_once('/').unwrap();
        broken
            .pointer_mut(if parent.is_empty() { "" } else { parent })
            .unwrap()[leaf] = bad;
        assert!(!errors(&v, &broken).is_empty(), "{path} must be refused");
        assert!(
            serde_json::from_value::<Snapshot>(broken).is_err(),
            "serde refuses {path} too"
        );
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("findings");
    assert!(!errors(&v, &missing).is_empty());
}

#[test]
fn an_alert_batch_matches_its_schema() {
    let batch = AlertBatch {
        alerts: vec![AlertRecord {
            id: "a1".into(),
            time: Timestamp::from_unix_ms(1_765_000_000_000_i64),
            node: Some("node-1".into()),
            workload: Some(WorkloadId::new("shop", "Deployment", "web")),
            container: Some("app".into()),
            rule: "shell-in-container".into(),
            severity: Severity::Critical,
            message: "sh spawned by nginx".into(),
            detail: json!({"process": {"pid": 42}}),
        }],
    };
    let value = serde_json::to_value(batch).unwrap();
    assert_eq!(
        errors(&validator::<AlertBatch>(), &value),
        Vec::<String>::new()
    );
}

#[test]
fn a_response_batch_and_view_match_their_schemas() {
    use palisade_api::{ResponseBatch, ResponseRecord, ResponseView};
    let record = ResponseRecord {
        id: "node-1-1765000000000-3".into(),
        time: Timestamp::from_unix_ms(1_765_000_000_000_i64),
        node: Some("node-1".into()),
        rule: "shell-in-container".into(),
        action: "restart-workload".into(),
        target: "pod shop/web-5d4-x2k9q".into(),
        outcome: "failed".into(),
        detail: "PATCH /apis/apps/v1/namespaces/shop/deployments/web: forbidden (403): …".into(),
    };
    let batch = serde_json::to_value(ResponseBatch {
        responses: vec![record.clone()],
    })
    .unwrap();
    let v = validator::<ResponseBatch>();
    assert_eq!(errors(&v, &batch), Vec::<String>::new());
    let mut extra = batch.clone();
    extra["responses"][0]["surprise"] = json!(1);
    assert!(!errors(&v, &extra).is_empty());
    let view = serde_json::to_value(ResponseView {
        cluster: "prod".into(),
        received_at: Timestamp::from_unix_ms(1_765_000_001_000_i64),
        response: record,
    })
    .unwrap();
    assert_eq!(view["outcome"], "failed");
    assert_eq!(
        errors(&validator::<ResponseView>(), &view),
        Vec::<String>::new()
    );
}
