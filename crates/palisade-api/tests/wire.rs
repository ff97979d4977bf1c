//! The v1 wire format: JSON shapes as documented, strict about unknown fields in requests.

use palisade_api::{FindingQuery, FindingStatus, Role, Snapshot, TokenCreate};

const SNAPSHOT: &str = r#"{
  "id": "0f6c3b1e",
  "scanned_at": "2026-12-06T10:00:00Z",
  "tool_version": "0.1.0",
  "source": "manifests",
  "workloads": [{
    "id": {"namespace": "shop", "kind": "Deployment", "name": "web"},
    "labels": {"app": "web"},
    "service_account": "default",
    "images": ["nginx:1.27"],
    "risk": {"score": 42, "rank": 1, "factors": ["privileged container"]}
  }],
  "findings": [{
    "fingerprint": "PAL-001|Deployment|shop|web|c|",
    "check_id": "PAL-001",
    "severity": "high",
    "title": "Privileged container",
    "message": "container c runs privileged",
    "object": {"kind": "Deployment", "namespace": "shop", "name": "web"},
    "container": "c"
  }],
  "objects": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}]
}"#;

#[test]
fn a_snapshot_reads_and_writes_the_documented_shape() {
    let s: Snapshot = serde_json::from_str(SNAPSHOT).unwrap();
    assert_eq!(s.workloads[0].id.name, "web");
    assert_eq!(s.findings[0].object.namespace.as_deref(), Some("shop"));
    assert_eq!(s.scanned_at.rfc3339(), "2026-12-06T10:00:00Z");
    assert!(s.images.is_empty() && s.diagnostics.is_empty());
    let again: Snapshot = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(again, s);
}

#[test]
fn unknown_or_mistyped_fields_are_refused_with_their_path() {
    let typo = SNAPSHOT.replace("\"service_account\"", "\"serviceAccount\"");
    let err = serde_json::from_str::<Snapshot>(&typo).unwrap_err();
    assert!(err.to_string().contains("serviceAccount"), "{err}");
    let bad_time = SNAPSHOT.replace("2026-12-06T10:00:00Z", "yesterday");
    let err = serde_json::from_str::<Snapshot>(&bad_time).unwrap_err();
    assert!(err.to_string().contains("yesterday"), "{err}");
    let bad_severity = SNAPSHOT.replace("\"high\"", "\"severe\"");
    assert!(serde_json::from_str::<Snapshot>(&bad_severity).is_err());
}

#[test]
fn roles_and_token_requests() {
    for role in Role::ALL {
        assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
    }
    assert!("root".parse::<Role>().is_err());
    assert!(Role::Sensor.is_cluster_bound() && !Role::Analyst.is_cluster_bound());
    let t: TokenCreate = serde_json::from_str(
        r#"{"name":"ci","role":"sensor","cluster":"prod","expires":"2027-01-31"}"#,
    )
    .unwrap();
    assert_eq!(t.expires.unwrap().to_string(), "2027-01-31");
    assert!(
        serde_json::from_str::<TokenCreate>(
            r#"{"name":"ci","role":"sensor","expires":"2027-02-30"}"#
        )
        .is_err()
    );
}

#[test]
fn queries_serialize_only_what_is_set() {
    let q = FindingQuery {
        cluster: Some("prod".into()),
        status: Some(FindingStatus::New),
        ..FindingQuery::default()
    };
    assert_eq!(
        serde_json::to_string(&q).unwrap(),
        r#"{"cluster":"prod","status":"new"}"#
    );
}
