//! Decision tests: real AdmissionReview documents through the real engine and catalog.
//! Expectations follow the Kubernetes admission webhook documentation (response fields,
//! warnings, status code 403 for a denial) and the check catalog's documented semantics.

use palisade_checks::Catalog;
use palisade_config::Config;
use palisade_model::time::Date;
use serde_json::{Value, json};

use crate::review::parse_review;
use crate::{Admission, Decision, Outcome, Prepared, StaticRegistryFacts};

fn admission(config_yaml: &str) -> Admission {
    let catalog = Catalog::builtin();
    let config = Config::from_yaml(config_yaml, &catalog).expect("test config is valid");
    Admission::new(&config, catalog, Some(Date::parse("2026-01-15").unwrap()))
        .expect("policy builds")
}

fn review(operation: &str, namespace: &str, object: Value) -> Vec<u8> {
    let kind = object["kind"].as_str().unwrap_or("").to_string();
    let api_version = object["apiVersion"].as_str().unwrap_or("v1").to_string();
    let (group, version) = api_version
        .split_once('/')
        .map(|(g, v)| (g.to_string(), v.to_string()))
        .unwrap_or((String::new(), api_version.clone()));
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "0df28fbd-5f5f-4e10-9a43-0d6ba57f3b5f",
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
            "name": name,
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "alice", "groups": ["dev", "system:authenticated"]},
            "object": object,
            "dryRun": false
        }
    })
    .to_string()
    .into_bytes()
}

fn decide(a: &Admission, body: &[u8]) -> Decision {
    a.decide(parse_review(body).expect("valid review"))
}

/// A Deployment hardened against every object-local built-in check.
fn hardened() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "owner": "team-shop"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "serviceAccountName": "web",
                    "automountServiceAccountToken": false,
                    "hostUsers": false,
                    "topologySpreadConstraints": [{
                        "maxSkew": 1,
                        "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {"app": "web"}}
                    }],
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "web",
                        "image": "registry.example.com/shop/web@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                        "imagePullPolicy": "Always",
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "capabilities": {"drop": ["ALL"]}
                        },
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "128Mi"},
                            "limits": {"cpu": "500m", "memory": "256Mi"}
                        },
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}}
                    }]
                }
            }
        }
    })
}

fn privileged() -> Value {
    let mut d = hardened();
    d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    d
}

fn annotations(d: &Decision) -> &std::collections::BTreeMap<String, String> {
    &d.response.audit_annotations
}

#[test]
fn a_hardened_deployment_is_allowed_without_warnings() {
    let d = decide(&Admission::builtin(), &review("CREATE", "shop", hardened()));
    assert!(d.response.allowed, "{:?}", d.response);
    assert!(d.response.status.is_none());
    assert!(d.response.warnings.is_empty(), "{:?}", d.response.warnings);
    assert_eq!(d.outcome, Outcome::Allowed);
    assert_eq!(d.response.uid, "0df28fbd-5f5f-4e10-9a43-0d6ba57f3b5f");
    assert_eq!(annotations(&d)["decision"], "allowed");
    assert!(d.record.is_none());
}

#[test]
fn a_privileged_container_is_denied_with_a_403_listing_the_violation() {
    let mut obj = privileged();
    obj["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
    let d = decide(&Admission::builtin(), &review("CREATE", "shop", obj));
    assert!(!d.response.allowed);
    assert_eq!(d.outcome, Outcome::Denied);
    let status = d
        .response
        .status
        .as_ref()
        .expect("a denial carries a status");
    assert_eq!(status.code, 403);
    assert_eq!(status.reason, "Forbidden");
    let m = &status.message;
    assert!(
        m.starts_with("palisade denied Deployment shop/web: "),
        "{m}"
    );
    let catalog = Catalog::builtin();
    for name in ["privileged-container", "host-network"] {
        let c = catalog.get(name).unwrap();
        let line = m
            .lines()
            .find(|l| l.starts_with(&format!("- {} ", c.id)))
            .unwrap_or_else(|| panic!("{name} not listed in {m}"));
        assert!(line.contains(&c.title), "{line}");
        assert!(line.contains(c.remediation.trim()), "{line}");
    }
    assert_eq!(d.counts.enforce, 2);
    assert!(annotations(&d)["enforced"].contains("PAL-001"));
    assert_eq!(d.record.as_ref().unwrap().outcome, Outcome::Denied);
}

#[test]
fn medium_findings_warn_but_allow() {
    let mut obj = hardened();
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:latest");
    let d = decide(&Admission::builtin(), &review("CREATE", "shop", obj));
    assert!(d.response.allowed);
    assert_eq!(d.outcome, Outcome::Warned);
    let latest = Catalog::builtin()
        .get("image-latest-tag")
        .unwrap()
        .id
        .clone();
    assert!(
        d.response.warnings.iter().any(|w| w.starts_with(&latest)),
        "{:?}",
        d.response.warnings
    );
    assert!(annotations(&d)["warned"].contains(&latest));
}

#[test]
fn audit_mode_allows_silently_and_records() {
    let a = admission("admission:\n  modes: {image-latest-tag: audit, image-not-pinned: audit}\n");
    let mut obj = hardened();
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:latest");
    let d = decide(&a, &review("CREATE", "shop", obj));
    assert!(d.response.allowed);
    assert!(d.response.warnings.is_empty(), "{:?}", d.response.warnings);
    assert_eq!(d.outcome, Outcome::Allowed);
    assert!(annotations(&d)["audited"].contains("PAL-035"));
    let record = d.record.expect("audit findings are recorded");
    assert!(record.audited.contains(&"PAL-035".to_string()));
}

#[test]
fn per_check_enforce_mode_denies_a_medium_finding() {
    let a = admission("admission:\n  modes: {PAL-035: enforce}\n");
    let mut obj = hardened();
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:latest");
    let d = decide(&a, &review("CREATE", "shop", obj));
    assert!(!d.response.allowed);
    assert!(d.response.status.unwrap().message.contains("- PAL-035 "));
}

#[test]
fn severity_overrides_of_the_shared_config_apply() {
    // The same `checks.severity` that `palisade scan` honours: critical → medium means warn.
    let a = admission("checks:\n  severity: {privileged-container: medium}\n");
    let d = decide(&a, &review("CREATE", "shop", privileged()));
    assert!(d.response.allowed, "{:?}", d.response.status);
    assert!(
        d.response
            .warnings
            .iter()
            .any(|w| w.starts_with("PAL-001 "))
    );
}

#[test]
fn skipped_checks_and_exceptions_of_the_shared_config_apply() {
    let a = admission(
        "exceptions:\n- checks: [privileged-container]\n  namespace: shop\n  name: web\n  reason: CNI agent (SEC-1)\n",
    );
    let d = decide(&a, &review("CREATE", "shop", privileged()));
    assert!(d.response.allowed);
    assert_eq!(annotations(&d)["suppressed"], "PAL-001:config");
    let a = admission("checks:\n  skip: [PAL-001]\n");
    assert!(
        decide(&a, &review("CREATE", "shop", privileged()))
            .response
            .allowed
    );
}

#[test]
fn exempt_namespaces_and_labels_skip_evaluation() {
    let a = admission(
        "admission:\n  exempt_namespaces: [kube-*]\n  exempt_labels:\n    matchLabels: {palisade.dev/exempt: \"true\"}\n",
    );
    let d = decide(&a, &review("CREATE", "kube-system", privileged()));
    assert!(d.response.allowed);
    assert_eq!(d.outcome, Outcome::Exempt);
    assert!(annotations(&d)["reason"].contains("kube-system"));

    let mut obj = privileged();
    obj["metadata"]["labels"]["palisade.dev/exempt"] = json!("true");
    let d = decide(&a, &review("CREATE", "shop", obj));
    assert_eq!(d.outcome, Outcome::Exempt);
    assert!(d.response.allowed);

    let mut obj = privileged();
    obj["metadata"]["labels"]["palisade.dev/exempt"] = json!("false");
    assert!(!decide(&a, &review("CREATE", "shop", obj)).response.allowed);
    assert!(
        !decide(&a, &review("CREATE", "shop", privileged()))
            .response
            .allowed
    );
}

#[test]
fn break_glass_allows_warns_and_records() {
    let mut obj = privileged();
    obj["metadata"]["annotations"] =
        json!({"palisade.dev/break-glass": "INC-4711 restore payments"});
    let d = decide(&Admission::builtin(), &review("CREATE", "shop", obj));
    assert!(d.response.allowed);
    assert_eq!(d.outcome, Outcome::BreakGlass);
    assert!(d.response.warnings[0].starts_with("break-glass (palisade.dev/break-glass)"));
    assert!(d.response.warnings[0].contains("INC-4711"));
    assert!(
        d.response
            .warnings
            .iter()
            .any(|w| w.starts_with("[break-glass] PAL-001 "))
    );
    assert_eq!(annotations(&d)["break-glass"], "INC-4711 restore payments");
    let record = d.record.expect("break-glass is recorded");
    assert_eq!(
        record.break_glass.as_deref(),
        Some("INC-4711 restore payments")
    );
    assert_eq!(record.user, "alice");
}

#[test]
fn break_glass_needs_a_reason_an_allowed_group_and_the_policy() {
    let mut empty = privileged();
    empty["metadata"]["annotations"] = json!({"palisade.dev/break-glass": " "});
    let d = decide(&Admission::builtin(), &review("CREATE", "shop", empty));
    assert!(!d.response.allowed);
    assert!(
        d.response
            .status
            .unwrap()
            .message
            .contains("break-glass not honoured")
    );

    let mut obj = privileged();
    obj["metadata"]["annotations"] = json!({"palisade.dev/break-glass": "INC-1"});
    let groups = admission("admission:\n  break_glass_groups: [sre]\n");
    let d = decide(&groups, &review("CREATE", "shop", obj.clone()));
    assert!(!d.response.allowed);
    assert!(d.response.status.unwrap().message.contains("alice"));

    let mut body: Value = serde_json::from_slice(&review("CREATE", "shop", obj.clone())).unwrap();
    body["request"]["userInfo"]["groups"] = json!(["sre"]);
    let d = decide(&groups, body.to_string().as_bytes());
    assert!(d.response.allowed);

    let off = admission("admission:\n  allow_break_glass: false\n");
    let d = decide(&off, &review("CREATE", "shop", obj));
    assert!(!d.response.allowed);
    assert!(
        d.response
            .status
            .unwrap()
            .message
            .contains("disabled by policy")
    );
}

#[test]
fn dry_run_decides_the_same_and_is_flagged() {
    let mut body: Value = serde_json::from_slice(&review("CREATE", "shop", privileged())).unwrap();
    body["request"]["dryRun"] = json!(true);
    let d = decide(&Admission::builtin(), body.to_string().as_bytes());
    assert!(!d.response.allowed);
    assert!(d.dry_run);
    assert!(d.record.unwrap().dry_run);
}

#[test]
fn update_judges_the_new_object() {
    let mut body: Value = serde_json::from_slice(&review("UPDATE", "shop", hardened())).unwrap();
    body["request"]["oldObject"] = privileged();
    assert!(
        decide(&Admission::builtin(), body.to_string().as_bytes())
            .response
            .allowed
    );

    let mut body: Value = serde_json::from_slice(&review("UPDATE", "shop", privileged())).unwrap();
    body["request"]["oldObject"] = hardened();
    assert!(
        !decide(&Admission::builtin(), body.to_string().as_bytes())
            .response
            .allowed
    );
}

#[test]
fn delete_connect_and_status_updates_are_not_evaluated() {
    let a = Admission::builtin();
    let mut body: Value = serde_json::from_slice(&review("DELETE", "shop", privileged())).unwrap();
    body["request"]["oldObject"] = body["request"]["object"].take();
    let d = decide(&a, body.to_string().as_bytes());
    assert!(d.response.allowed);
    assert_eq!(d.outcome, Outcome::NotEvaluated);

    let mut body: Value = serde_json::from_slice(&review("UPDATE", "shop", privileged())).unwrap();
    body["request"]["subResource"] = json!("status");
    let d = decide(&a, body.to_string().as_bytes());
    assert_eq!(d.outcome, Outcome::NotEvaluated);
    assert!(annotations(&d)["reason"].contains("status"));

    let mut obj = privileged();
    obj["metadata"]["deletionTimestamp"] = json!("2026-01-15T10:00:00Z");
    let d = decide(&a, &review("UPDATE", "shop", obj));
    assert!(d.response.allowed);
    assert_eq!(d.outcome, Outcome::NotEvaluated);
}

#[test]
fn ephemeral_containers_are_judged_as_part_of_the_pod() {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {
            "containers": [{"name": "api", "image": "registry.example.com/api:1.0"}],
            "ephemeralContainers": [{"name": "debugger", "image": "busybox:1.36", "securityContext": {"privileged": true}}]
        }
    });
    let mut body: Value = serde_json::from_slice(&review("UPDATE", "shop", pod)).unwrap();
    body["request"]["subResource"] = json!("ephemeralcontainers");
    let d = decide(&Admission::builtin(), body.to_string().as_bytes());
    assert!(!d.response.allowed);
    assert!(d.response.status.unwrap().message.contains("debugger"));
}

#[test]
fn unknown_kinds_are_allowed_and_say_so() {
    let crd = json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "namespace": "shop"},
        "spec": {"privileged": true}
    });
    let d = decide(&Admission::builtin(), &review("CREATE", "shop", crd));
    assert!(d.response.allowed);
    assert!(d.response.warnings.is_empty());
    assert!(
        annotations(&d)["evaluated"].contains("Widget"),
        "{:?}",
        annotations(&d)
    );
}

#[test]
fn custom_cel_checks_are_enforced() {
    let a = admission(
        r#"
custom_checks:
- id: ACME-001
  title: Workloads carry a cost-center label
  severity: high
  kinds: [Deployment]
  expression: "has(object.metadata.labels) && 'cost-center' in object.metadata.labels"
  message: no cost-center label
  remediation: Add metadata.labels.cost-center.
"#,
    );
    let d = decide(&a, &review("CREATE", "shop", hardened()));
    assert!(!d.response.allowed);
    let m = d.response.status.unwrap().message;
    assert!(
        m.contains("- ACME-001 Workloads carry a cost-center label: no cost-center label (Add metadata.labels.cost-center.)"),
        "{m}"
    );
    let mut obj = hardened();
    obj["metadata"]["labels"]["cost-center"] = json!("cc-12");
    assert!(decide(&a, &review("CREATE", "shop", obj)).response.allowed);
}

#[test]
fn cluster_context_checks_do_not_fire_on_a_lone_object() {
    // Seen alone, no NetworkPolicy selects the Deployment, its ServiceAccount is unknown and no
    // LimitRange is visible: none of that may turn into a warning or a denial.
    let mut obj = hardened();
    obj["spec"]["replicas"] = json!(1);
    obj["spec"]["template"]["spec"]["containers"][0]
        .as_object_mut()
        .unwrap()
        .remove("resources");
    obj["spec"]["template"]["spec"]
        .as_object_mut()
        .unwrap()
        .remove("automountServiceAccountToken");
    obj["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("owner");
    let d = decide(&Admission::builtin(), &review("CREATE", "shop", obj));
    assert!(d.response.allowed);
    assert!(d.response.warnings.is_empty(), "{:?}", d.response.warnings);
    let active = Admission::builtin().active_checks().join(",");
    for cluster in ["PAL-039", "PAL-089", "PAL-091", "PAL-027", "PAL-044"] {
        assert!(!active.split(',').any(|c| c == cluster), "{cluster} active");
    }
    assert!(active.split(',').any(|c| c == "PAL-001"));
}

#[test]
fn namespace_and_name_come_from_the_request_when_the_object_omits_them() {
    let mut obj = hardened();
    obj["metadata"].as_object_mut().unwrap().remove("namespace");
    let d = decide(
        &Admission::builtin(),
        &review("CREATE", "shop", obj.clone()),
    );
    // In namespace `shop`, not `default`: no default-namespace warning.
    assert!(d.response.warnings.is_empty(), "{:?}", d.response.warnings);
    let d = decide(&Admission::builtin(), &review("CREATE", "", obj));
    let default_ns = Catalog::builtin()
        .get("default-namespace")
        .unwrap()
        .id
        .clone();
    assert!(
        d.response
            .warnings
            .iter()
            .any(|w| w.starts_with(&default_ns)),
        "{:?}",
        d.response.warnings
    );
}

#[test]
fn generate_name_pods_are_named_in_the_denial() {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": "web-7d4b9-", "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "securityContext": {"privileged": true}}]}
    });
    let d = decide(&Admission::builtin(), &review("CREATE", "shop", pod));
    let m = d.response.status.unwrap().message;
    assert!(
        m.starts_with("palisade denied Pod shop/web-7d4b9-*:"),
        "{m}"
    );
}

#[test]
fn a_request_without_an_object_is_invalid() {
    let mut body: Value = serde_json::from_slice(&review("CREATE", "shop", hardened())).unwrap();
    body["request"].as_object_mut().unwrap().remove("object");
    let d = decide(&Admission::builtin(), body.to_string().as_bytes());
    assert!(!d.response.allowed);
    assert_eq!(d.outcome, Outcome::Invalid);
    let status = d.response.status.unwrap();
    assert_eq!(status.code, 400);
    assert!(status.message.contains("request.object"));

    let mut body: Value = serde_json::from_slice(&review("CREATE", "shop", hardened())).unwrap();
    body["request"]["object"] = json!("text");
    assert_eq!(
        decide(&Admission::builtin(), body.to_string().as_bytes()).outcome,
        Outcome::Invalid
    );
}

#[test]
fn rbac_and_services_are_judged() {
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "anon"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "name": "system:anonymous", "apiGroup": "rbac.authorization.k8s.io"}]
    });
    let d = decide(&Admission::builtin(), &review("CREATE", "", binding));
    assert!(!d.response.allowed, "{:?}", d.response);
    assert!(
        d.response
            .status
            .unwrap()
            .message
            .starts_with("palisade denied ClusterRoleBinding anon:")
    );

    let svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}
    });
    let d = decide(&Admission::builtin(), &review("CREATE", "shop", svc));
    assert!(d.response.allowed);
    assert!(
        d.response
            .warnings
            .iter()
            .any(|w| w.starts_with("PAL-041 ")),
        "{:?}",
        d.response.warnings
    );
}

#[test]
fn images_are_offered_to_a_facts_source() {
    let a = Admission::builtin();
    let Prepared::Evaluate(ev) =
        a.prepare(parse_review(&review("CREATE", "shop", privileged())).unwrap())
    else {
        panic!("a Deployment is evaluated");
    };
    assert_eq!(
        ev.images(),
        [
            "registry.example.com/shop/web@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
        ]
    );
    use crate::RegistryFactsSource;
    let facts = StaticRegistryFacts(
        [(
            ev.images()[0].clone(),
            palisade_model::RegistryFacts::default(),
        )]
        .into(),
    )
    .facts(ev.images());
    let d = a.evaluate(*ev, Some(std::sync::Arc::new(facts)));
    assert!(!d.response.allowed);
}

#[test]
fn registry_facts_decide_signature_and_vulnerability_policy() {
    use crate::RegistryFactsSource;
    use palisade_model::{RegistryFacts, SignatureStatus, VulnerabilityFacts, VulnerabilityRef};
    let a = Admission::builtin();
    let evaluate = |facts: RegistryFacts| {
        let Prepared::Evaluate(ev) =
            a.prepare(parse_review(&review("CREATE", "shop", hardened())).unwrap())
        else {
            panic!("a Deployment is evaluated");
        };
        let table = StaticRegistryFacts(
            ev.images()
                .iter()
                .map(|i| (i.clone(), facts.clone()))
                .collect(),
        )
        .facts(ev.images());
        a.evaluate(*ev, Some(std::sync::Arc::new(table)))
    };
    let digest =
        Some("sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae".to_string());

    // Verified: the hardened Deployment stays allowed.
    let d = evaluate(RegistryFacts {
        digest: digest.clone(),
        signature: Some(SignatureStatus::Verified {
            key_fingerprint: "SHA256:ab".into(),
        }),
        ..Default::default()
    });
    assert!(d.response.allowed, "{:?}", d.response);

    // Unsigned: PAL-094 is high, and high is enforced by default.
    let d = evaluate(RegistryFacts {
        digest: digest.clone(),
        signature: Some(SignatureStatus::Unsigned),
        ..Default::default()
    });
    assert!(!d.response.allowed);
    let m = &d.response.status.as_ref().unwrap().message;
    assert!(
        m.contains("PAL-094") && m.contains("no signature found"),
        "{m}"
    );

    // A notorious vulnerability (PAL-096, critical) denies even when signed.
    let log4shell = VulnerabilityRef {
        id: "CVE-2021-44228".into(),
        severity: palisade_model::Severity::Critical,
        package: "org.apache.logging.log4j:log4j-core".into(),
        installed: "2.14.1".into(),
        fixed: Some("2.15.0".into()),
    };
    let d = evaluate(RegistryFacts {
        digest,
        signature: Some(SignatureStatus::Verified {
            key_fingerprint: "SHA256:ab".into(),
        }),
        vulnerabilities: Some(VulnerabilityFacts {
            counts: [(palisade_model::Severity::Critical, 1)].into(),
            fixable: vec![log4shell.clone()],
            notorious: vec![log4shell],
        }),
        ..Default::default()
    });
    assert!(!d.response.allowed);
    let m = &d.response.status.as_ref().unwrap().message;
    assert!(m.contains("PAL-096") && m.contains("CVE-2021-44228"), "{m}");
    assert!(m.contains("PAL-095"), "fixable critical also blocks: {m}");
}
