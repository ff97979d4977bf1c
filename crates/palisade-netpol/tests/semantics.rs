//! One test per networking.k8s.io/v1 rule, written from the Kubernetes NetworkPolicy
//! documentation (concepts/services-networking/network-policies and the API reference). Every
//! test asserts allowed AND denied connections, through both the class-based reachability and
//! the direct `can` evaluation (see `support::verdict`).

mod support;

use palisade_model::Inventory;
use support::{allows, denies, deployment, docs, inventory, namespace};

/// Three namespaces and six workloads used by most tests.
fn world(policies: &str) -> Inventory {
    let mut parts = vec![
        namespace("shop", &[("team", "shop")]),
        namespace("ops", &[("team", "ops"), ("env", "prod")]),
        namespace("dev", &[("env", "dev")]),
        deployment(
            "shop",
            "web",
            &[("app", "web"), ("tier", "frontend")],
            &["http:8080/TCP"],
        ),
        deployment(
            "shop",
            "db",
            &[("app", "db"), ("tier", "backend")],
            &["pg:5432/TCP"],
        ),
        deployment(
            "shop",
            "cache",
            &[("app", "cache"), ("tier", "backend")],
            &["redis:6379/TCP"],
        ),
        deployment(
            "ops",
            "monitor",
            &[("app", "monitor")],
            &["metrics:9090/TCP"],
        ),
        deployment(
            "ops",
            "web",
            &[("app", "web"), ("tier", "frontend")],
            &["http:8080/TCP"],
        ),
        deployment("dev", "tester", &[("app", "tester")], &[]),
    ];
    if !policies.trim().is_empty() {
        parts.push(policies.to_string());
    }
    inventory(&docs(&parts))
}

// ---------------------------------------------------------------- defaults and isolation

#[test]
fn no_policy_allows_everything() {
    let inv = world("");
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "dev/tester", "shop/db", "1/UDP");
    allows(&inv, "shop/db", "8.8.8.8", "53/UDP");
    allows(&inv, "203.0.113.9", "ops/monitor", "9090/SCTP");
    // Denied only where a policy exists: sanity that the harness can deny at all.
    let inv = world(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}}\n",
    );
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
}

#[test]
fn default_deny_ingress_isolates_every_pod_of_the_namespace_for_ingress_only() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"#,
    );
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
    denies(&inv, "ops/monitor", "shop/web", "8080/TCP");
    denies(&inv, "198.51.100.1", "shop/web", "8080/TCP");
    // Egress of the isolated pods is untouched.
    allows(&inv, "shop/web", "ops/monitor", "9090/TCP");
    allows(&inv, "shop/db", "1.1.1.1", "443/TCP");
    // Other namespaces are untouched.
    allows(&inv, "dev/tester", "ops/web", "8080/TCP");
}

#[test]
fn allow_all_ingress_with_one_empty_rule() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - {}
"#,
    );
    allows(&inv, "dev/tester", "shop/web", "8080/TCP");
    allows(&inv, "192.0.2.7", "shop/web", "1/SCTP");
    denies(&inv, "dev/tester", "shop/db", "5432/TCP");
}

#[test]
fn default_deny_egress_isolates_egress_only() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
"#,
    );
    denies(&inv, "shop/web", "ops/monitor", "9090/TCP");
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
    denies(&inv, "shop/db", "8.8.8.8", "53/UDP");
    allows(&inv, "ops/monitor", "shop/web", "8080/TCP");
    allows(&inv, "ops/monitor", "dev/tester", "80/TCP");
}

#[test]
fn allow_all_egress_with_one_empty_rule() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  egress: [{}]
  policyTypes: [Egress]
"#,
    );
    allows(&inv, "shop/web", "8.8.8.8", "53/UDP");
    allows(&inv, "shop/web", "dev/tester", "22/TCP");
    denies(&inv, "shop/db", "dev/tester", "22/TCP");
}

#[test]
fn default_deny_all_traffic_both_directions() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-all, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"#,
    );
    denies(&inv, "shop/web", "ops/monitor", "9090/TCP");
    denies(&inv, "ops/monitor", "shop/web", "8080/TCP");
    denies(&inv, "shop/web", "shop/web", "8080/TCP");
    allows(&inv, "ops/monitor", "dev/tester", "80/TCP");
}

#[test]
fn policy_types_absent_means_ingress_only_when_there_are_no_egress_rules() {
    // No policyTypes, no rules at all: Ingress only.
    let inv = world(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec: {podSelector: {matchLabels: {app: db}}}\n",
    );
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "shop/db", "shop/web", "8080/TCP");
    // `egress: []` is no rule: still Ingress only.
    let inv = world(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec: {podSelector: {matchLabels: {app: db}}, egress: []}\n",
    );
    allows(&inv, "shop/db", "shop/web", "8080/TCP");
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
    // An empty policyTypes list is defaulted the same way.
    let inv = world(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec: {podSelector: {matchLabels: {app: db}}, policyTypes: []}\n",
    );
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "shop/db", "shop/web", "8080/TCP");
}

#[test]
fn policy_types_absent_with_egress_rules_isolates_egress_too() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  egress:
    - to: [{podSelector: {matchLabels: {app: cache}}}]
"#,
    );
    // Ingress isolated (no ingress rules) and egress isolated (only to cache).
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "shop/db", "shop/cache", "6379/TCP");
    denies(&inv, "shop/db", "shop/web", "8080/TCP");
}

#[test]
fn explicit_policy_types_egress_only_ignores_ingress_rules() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Egress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
  egress:
    - to: [{podSelector: {matchLabels: {app: cache}}}]
"#,
    );
    // Not isolated for ingress: everyone may connect, not only web.
    allows(&inv, "dev/tester", "shop/db", "5432/TCP");
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "shop/db", "shop/cache", "6379/TCP");
    denies(&inv, "shop/db", "shop/web", "8080/TCP");
    let a = palisade_netpol::Analysis::new(&inv);
    assert!(
        a.diagnostics()
            .iter()
            .any(|d| d.level == palisade_model::DiagnosticLevel::Warning
                && d.field() == Some("spec.ingress")),
        "{:?}",
        a.diagnostics()
    );
}

#[test]
fn isolation_is_per_pod_and_per_direction() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
"#,
    );
    // Only db is isolated, only for ingress.
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "shop/web", "shop/cache", "6379/TCP");
    allows(&inv, "shop/db", "shop/cache", "6379/TCP");
}

#[test]
fn connection_needs_both_source_egress_and_destination_ingress() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: db}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: cache}}}]
"#,
    );
    // web's egress allows db, but db's ingress only admits cache.
    let v = support::verdict(&inv, "shop/web", "shop/db", "5432/TCP");
    assert!(!v.allowed);
    assert!(v.egress.allowed);
    assert!(!v.ingress.allowed);
    allows(&inv, "shop/cache", "shop/db", "5432/TCP");
    denies(&inv, "shop/web", "shop/cache", "6379/TCP");
}

#[test]
fn policies_selecting_one_pod_are_a_union() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 5432}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-monitor, namespace: shop}
spec:
  podSelector: {matchLabels: {tier: backend}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {team: ops}}, podSelector: {matchLabels: {app: monitor}}}]
      ports: [{port: 9187}]
"#,
    );
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "ops/monitor", "shop/db", "9187/TCP");
    denies(&inv, "ops/monitor", "shop/db", "5432/TCP");
    denies(&inv, "shop/web", "shop/db", "9187/TCP");
    denies(&inv, "shop/cache", "shop/db", "5432/TCP");
    // cache is selected only by from-monitor.
    allows(&inv, "ops/monitor", "shop/cache", "9187/TCP");
    denies(&inv, "shop/web", "shop/cache", "6379/TCP");
    let v = support::verdict(&inv, "ops/monitor", "shop/db", "9187/TCP");
    assert_eq!(v.ingress.policies.len(), 2);
    assert_eq!(v.ingress.allowing_rules.len(), 1);
    assert_eq!(v.ingress.allowing_rules[0].policy.name, "from-monitor");
    assert_eq!(v.ingress.allowing_rules[0].rule, 0);
}

// ---------------------------------------------------------------- absent vs empty

#[test]
fn ingress_absent_or_empty_list_allows_nothing() {
    for spec in [
        "{podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress]}",
        "{podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress], ingress: []}",
    ] {
        let inv = world(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: shop}}\nspec: {spec}\n"
        ));
        denies(&inv, "shop/web", "shop/db", "5432/TCP");
        denies(&inv, "203.0.113.1", "shop/db", "5432/TCP");
        allows(&inv, "shop/web", "shop/cache", "6379/TCP");
    }
}

#[test]
fn from_absent_or_empty_allows_every_source() {
    for rule in [
        "{ports: [{port: 5432}]}",
        "{from: [], ports: [{port: 5432}]}",
    ] {
        let inv = world(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: shop}}\nspec: {{podSelector: {{matchLabels: {{app: db}}}}, ingress: [{rule}]}}\n"
        ));
        allows(&inv, "dev/tester", "shop/db", "5432/TCP");
        allows(&inv, "203.0.113.1", "shop/db", "5432/TCP");
        denies(&inv, "dev/tester", "shop/db", "5433/TCP");
    }
}

#[test]
fn to_absent_or_empty_allows_every_destination() {
    for rule in [
        "{ports: [{port: 53, protocol: UDP}]}",
        "{to: [], ports: [{port: 53, protocol: UDP}]}",
    ] {
        let inv = world(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: shop}}\nspec: {{podSelector: {{}}, policyTypes: [Egress], egress: [{rule}]}}\n"
        ));
        allows(&inv, "shop/web", "8.8.8.8", "53/UDP");
        allows(&inv, "shop/web", "ops/monitor", "53/UDP");
        denies(&inv, "shop/web", "ops/monitor", "53/TCP");
        denies(&inv, "shop/web", "8.8.8.8", "443/TCP");
    }
}

#[test]
fn ports_absent_or_empty_allow_every_port_and_protocol() {
    for rule in [
        "{from: [{podSelector: {matchLabels: {app: web}}}]}",
        "{from: [{podSelector: {matchLabels: {app: web}}}], ports: []}",
    ] {
        let inv = world(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: shop}}\nspec: {{podSelector: {{matchLabels: {{app: db}}}}, ingress: [{rule}]}}\n"
        ));
        allows(&inv, "shop/web", "shop/db", "1/TCP");
        allows(&inv, "shop/web", "shop/db", "65535/UDP");
        allows(&inv, "shop/web", "shop/db", "9/SCTP");
        denies(&inv, "shop/cache", "shop/db", "5432/TCP");
    }
}

#[test]
fn empty_pod_selector_peer_matches_every_pod_of_the_policy_namespace() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {}}]
"#,
    );
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "shop/cache", "shop/db", "5432/TCP");
    denies(&inv, "ops/web", "shop/db", "5432/TCP");
    denies(&inv, "192.0.2.1", "shop/db", "5432/TCP");
}

#[test]
fn empty_namespace_selector_peer_matches_every_pod_of_every_namespace() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{namespaceSelector: {}}]
"#,
    );
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "dev/tester", "shop/db", "5432/TCP");
    allows(&inv, "ops/monitor", "shop/db", "5432/TCP");
    // Pods only: external addresses are not pods.
    denies(&inv, "192.0.2.1", "shop/db", "5432/TCP");
}

#[test]
fn pod_selector_peer_is_limited_to_the_policy_namespace() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {tier: frontend}}}]
"#,
    );
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    // ops/web has the same labels but lives in another namespace.
    denies(&inv, "ops/web", "shop/db", "5432/TCP");
}

#[test]
fn namespace_selector_peer_covers_all_pods_of_matching_namespaces() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {team: ops}}}]
"#,
    );
    allows(&inv, "ops/monitor", "shop/db", "5432/TCP");
    allows(&inv, "ops/web", "shop/db", "5432/TCP");
    denies(&inv, "dev/tester", "shop/db", "5432/TCP");
    // The policy's own namespace is not implied.
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
}

#[test]
fn namespace_and_pod_selector_in_one_peer_intersect() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: ops}}
          podSelector: {matchLabels: {app: monitor}}
"#,
    );
    allows(&inv, "ops/monitor", "shop/db", "5432/TCP");
    denies(&inv, "ops/web", "shop/db", "5432/TCP");
    denies(&inv, "dev/tester", "shop/db", "5432/TCP");
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
}

#[test]
fn namespace_and_pod_selector_as_separate_peers_union() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: ops}}
        - podSelector: {matchLabels: {app: web}}
"#,
    );
    allows(&inv, "ops/monitor", "shop/db", "5432/TCP");
    allows(&inv, "ops/web", "shop/db", "5432/TCP");
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    denies(&inv, "shop/cache", "shop/db", "5432/TCP");
    denies(&inv, "dev/tester", "shop/db", "5432/TCP");
}

#[test]
fn namespace_selector_with_empty_pod_selector_equals_namespace_selector_alone() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {env: dev}}, podSelector: {}}]
"#,
    );
    allows(&inv, "dev/tester", "shop/db", "5432/TCP");
    denies(&inv, "ops/monitor", "shop/db", "5432/TCP");
}

#[test]
fn match_expressions_operators_in_notin_exists_doesnotexist() {
    let base = |expr: &str| {
        world(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: shop}}\nspec:\n  podSelector: {{matchExpressions: [{expr}]}}\n  policyTypes: [Ingress]\n"
        ))
    };
    // In: selects web and cache (isolated), db untouched.
    let inv = base("{key: app, operator: In, values: [web, cache]}");
    denies(&inv, "dev/tester", "shop/web", "8080/TCP");
    denies(&inv, "dev/tester", "shop/cache", "6379/TCP");
    allows(&inv, "dev/tester", "shop/db", "5432/TCP");
    // NotIn: everything except web.
    let inv = base("{key: app, operator: NotIn, values: [web]}");
    allows(&inv, "dev/tester", "shop/web", "8080/TCP");
    denies(&inv, "dev/tester", "shop/db", "5432/TCP");
    // Exists: pods with a tier label (all three in shop).
    let inv = base("{key: tier, operator: Exists}");
    denies(&inv, "dev/tester", "shop/web", "8080/TCP");
    denies(&inv, "dev/tester", "shop/db", "5432/TCP");
    // DoesNotExist: none of the shop pods lacks tier.
    let inv = base("{key: tier, operator: DoesNotExist}");
    allows(&inv, "dev/tester", "shop/web", "8080/TCP");
    allows(&inv, "dev/tester", "shop/db", "5432/TCP");
    // NotIn matches pods without the key.
    let inv = base("{key: color, operator: NotIn, values: [red]}");
    denies(&inv, "dev/tester", "shop/web", "8080/TCP");
}

#[test]
fn match_labels_and_match_expressions_are_anded_in_peers() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from:
        - namespaceSelector:
            matchLabels: {team: ops}
            matchExpressions: [{key: env, operator: In, values: [prod]}]
          podSelector:
            matchExpressions: [{key: app, operator: NotIn, values: [web]}]
"#,
    );
    allows(&inv, "ops/monitor", "shop/db", "5432/TCP");
    denies(&inv, "ops/web", "shop/db", "5432/TCP");
    denies(&inv, "dev/tester", "shop/db", "5432/TCP");
}

#[test]
fn namespaces_are_selected_by_the_automatic_name_label() {
    // `dev` is declared without any label, `extra` is never declared (implied by its workload).
    let inv = inventory(&docs(&[
        namespace("shop", &[]),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: dev}\n".to_string(),
        deployment("shop", "db", &[("app", "db")], &[]),
        deployment("dev", "tester", &[("app", "tester")], &[]),
        deployment("extra", "job", &[("app", "job")], &[]),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: dev}}
        - namespaceSelector:
            matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [extra]}]
"#
        .to_string(),
    ]));
    allows(&inv, "dev/tester", "shop/db", "5432/TCP");
    allows(&inv, "extra/job", "shop/db", "5432/TCP");
    denies(&inv, "shop/db", "shop/db", "5432/TCP");
}

// ---------------------------------------------------------------- ipBlock

#[test]
fn ip_block_with_except_ipv4() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress:
    - from: [{ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}}]
  egress:
    - to: [{ipBlock: {cidr: 10.0.0.0/24}}]
"#,
    );
    allows(&inv, "172.17.0.1", "shop/web", "8080/TCP");
    allows(&inv, "172.17.255.255", "shop/web", "8080/TCP");
    denies(&inv, "172.17.1.9", "shop/web", "8080/TCP");
    denies(&inv, "172.18.0.1", "shop/web", "8080/TCP");
    allows(&inv, "shop/web", "10.0.0.255", "443/TCP");
    denies(&inv, "shop/web", "10.0.1.0", "443/TCP");
    // ipBlocks never match pods.
    denies(&inv, "shop/db", "shop/web", "8080/TCP");
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
}

#[test]
fn ip_block_ipv6() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:bad::/48"]}}]
"#,
    );
    allows(&inv, "shop/web", "2001:db8::1", "443/TCP");
    denies(&inv, "shop/web", "2001:db8:bad::1", "443/TCP");
    denies(&inv, "shop/web", "2001:db9::1", "443/TCP");
    // An IPv6 block does not cover IPv4.
    denies(&inv, "shop/web", "32.1.13.184", "443/TCP");
}

#[test]
fn ip_block_zero_slash_zero_covers_every_ipv4_address_but_no_ipv6() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
"#,
    );
    allows(&inv, "shop/web", "8.8.8.8", "53/UDP");
    allows(&inv, "shop/web", "255.255.255.255", "53/UDP");
    denies(&inv, "shop/web", "10.2.3.4", "53/UDP");
    denies(&inv, "shop/web", "::1", "53/UDP");
}

// ---------------------------------------------------------------- ports and protocols

#[test]
fn numeric_port_and_default_protocol_tcp() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - ports: [{port: 5432}]
"#,
    );
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    denies(&inv, "shop/web", "shop/db", "5432/UDP");
    denies(&inv, "shop/web", "shop/db", "5433/TCP");
}

#[test]
fn protocols_udp_and_sctp_and_protocol_without_port() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - ports: [{port: 53, protocol: UDP}, {protocol: SCTP}]
"#,
    );
    allows(&inv, "shop/web", "shop/db", "53/UDP");
    denies(&inv, "shop/web", "shop/db", "53/TCP");
    allows(&inv, "shop/web", "shop/db", "1/SCTP");
    allows(&inv, "shop/web", "shop/db", "65535/SCTP");
    denies(&inv, "shop/web", "shop/db", "54/UDP");
}

#[test]
fn end_port_defines_an_inclusive_range() {
    let inv = world(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 10.0.0.0/24}}]
      ports: [{protocol: TCP, port: 32000, endPort: 32768}]
"#,
    );
    allows(&inv, "shop/web", "10.0.0.1", "32000/TCP");
    allows(&inv, "shop/web", "10.0.0.1", "32768/TCP");
    allows(&inv, "shop/web", "10.0.0.1", "32400/TCP");
    denies(&inv, "shop/web", "10.0.0.1", "31999/TCP");
    denies(&inv, "shop/web", "10.0.0.1", "32769/TCP");
    denies(&inv, "shop/web", "10.0.0.1", "32000/UDP");
}

#[test]
fn named_ingress_port_resolves_against_the_selected_destination() {
    // `http` is 8080 on shop/web and 9000 on a second workload selected by the same policy.
    let inv = inventory(&docs(&[
        namespace("shop", &[]),
        deployment("shop", "web", &[("tier", "frontend")], &["http:8080/TCP"]),
        deployment(
            "shop",
            "api",
            &[("tier", "frontend"), ("app", "api")],
            &["http:9000/TCP", "admin:9001/TCP"],
        ),
        deployment("shop", "client", &[("app", "client")], &[]),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {tier: frontend}}
  ingress:
    - ports: [{port: http}]
"#
        .to_string(),
    ]));
    allows(&inv, "shop/client", "shop/web", "8080/TCP");
    denies(&inv, "shop/client", "shop/web", "9000/TCP");
    allows(&inv, "shop/client", "shop/api", "9000/TCP");
    denies(&inv, "shop/client", "shop/api", "8080/TCP");
    denies(&inv, "shop/client", "shop/api", "9001/TCP");
}

#[test]
fn named_egress_port_resolves_against_the_destination_not_the_source() {
    let inv = inventory(&docs(&[
        namespace("shop", &[]),
        // The source declares `pg` as 7777; the destination as 5432.
        deployment("shop", "app", &[("app", "app")], &["pg:7777/TCP"]),
        deployment("shop", "db", &[("app", "db")], &["pg:5432/TCP"]),
        deployment("shop", "other", &[("app", "other")], &[]),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: app}}
  policyTypes: [Egress]
  egress:
    - ports: [{port: pg}]
"#
        .to_string(),
    ]));
    allows(&inv, "shop/app", "shop/db", "5432/TCP");
    denies(&inv, "shop/app", "shop/db", "7777/TCP");
    // `other` has no port named pg: nothing is allowed to it, not even 5432.
    denies(&inv, "shop/app", "shop/other", "5432/TCP");
    // A named port never matches an external address.
    denies(&inv, "shop/app", "8.8.8.8", "5432/TCP");
    // The source's own pg (7777) is reachable only because it is the destination here.
    allows(&inv, "shop/app", "shop/app", "7777/TCP");
}

#[test]
fn named_port_protocol_must_match_the_container_port_protocol() {
    let inv = inventory(&docs(&[
        namespace("net", &[]),
        deployment(
            "net",
            "dns",
            &[("app", "dns")],
            &["dns:53/UDP", "dns-tcp:53/TCP"],
        ),
        deployment("net", "client", &[("app", "client")], &[]),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: net}
spec:
  podSelector: {matchLabels: {app: dns}}
  ingress:
    - ports: [{port: dns, protocol: UDP}, {port: dns-tcp}, {port: dns, protocol: SCTP}]
"#
        .to_string(),
    ]));
    allows(&inv, "net/client", "net/dns", "53/UDP");
    allows(&inv, "net/client", "net/dns", "53/TCP");
    denies(&inv, "net/client", "net/dns", "53/SCTP");
    denies(&inv, "net/client", "net/dns", "54/UDP");
}

// ---------------------------------------------------------------- workloads

#[test]
fn workloads_of_every_kind_are_selected_through_their_pod_templates() {
    let tmpl = |kind: &str, api: &str, name: &str| {
        format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}, namespace: apps}}\nspec:\n  template:\n    metadata: {{labels: {{role: {name}}}}}\n    spec: {{containers: [{{name: c, image: x}}]}}\n"
        )
    };
    let inv = inventory(&docs(&[
        tmpl("Deployment", "apps/v1", "deploy"),
        tmpl("StatefulSet", "apps/v1", "sts"),
        tmpl("DaemonSet", "apps/v1", "ds"),
        tmpl("ReplicaSet", "apps/v1", "rs"),
        tmpl("Job", "batch/v1", "job"),
        tmpl("ReplicationController", "v1", "rc"),
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cron, namespace: apps}\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        metadata: {labels: {role: cron}}\n        spec: {containers: [{name: c, image: x}]}\n".to_string(),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: bare, namespace: apps, labels: {role: bare}}\nspec: {containers: [{name: c, image: x}]}\n".to_string(),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: apps, labels: {role: client}}\nspec: {containers: [{name: c, image: x}]}\n".to_string(),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: apps}
spec:
  podSelector:
    matchExpressions: [{key: role, operator: In, values: [deploy, sts, ds, rs, job, rc, cron, bare]}]
  ingress:
    - from: [{podSelector: {matchLabels: {role: deploy}}}]
"#
        .to_string(),
    ]));
    for target in [
        "apps/Deployment/deploy",
        "apps/StatefulSet/sts",
        "apps/DaemonSet/ds",
        "apps/ReplicaSet/rs",
        "apps/Job/job",
        "apps/ReplicationController/rc",
        "apps/CronJob/cron",
        "apps/Pod/bare",
    ] {
        denies(&inv, "apps/client", target, "80/TCP");
        allows(&inv, "apps/deploy", target, "80/TCP");
    }
    allows(&inv, "apps/deploy", "apps/client", "80/TCP");
}

#[test]
fn workloads_owned_by_listed_workloads_are_represented_by_their_owner() {
    let inv = inventory(&docs(&[
        deployment("shop", "web", &[("app", "web")], &[]),
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-5d8f7\n  namespace: shop\n  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}]\nspec:\n  template:\n    metadata: {labels: {app: web, pod-template-hash: 5d8f7}}\n    spec: {containers: [{name: c, image: x}]}\n".to_string(),
    ]));
    let a = palisade_netpol::Analysis::new(&inv);
    let ids: Vec<String> = a
        .universe()
        .members
        .iter()
        .map(|m| m.id.namespace_first().to_string())
        .collect();
    assert_eq!(ids, vec!["shop/Deployment/web"]);
}
