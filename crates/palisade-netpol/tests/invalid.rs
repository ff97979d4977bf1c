//! Bad input: each invalid part of a policy yields a diagnostic naming the policy (namespace,
//! name, file:line) and the field; the analysis continues without that part.

mod support;

use palisade_model::{Diagnostic, DiagnosticLevel as Level, Inventory, ObjectRef};
use palisade_netpol::Analysis;
use support::{allows, denies, deployment, docs, load, namespace};

/// `shop` with web, db and a client; the policy under test goes last (document 5, so the
/// policy's first line is known).
fn with_policy(policy: &str) -> Inventory {
    load(
        "policies/shop.yaml",
        &docs(&[
            namespace("shop", &[]),
            deployment("shop", "web", &[("app", "web")], &["http:8080/TCP"]),
            deployment("shop", "db", &[("app", "db")], &["pg:5432/TCP"]),
            deployment("shop", "client", &[("app", "client")], &[]),
            policy.to_string(),
        ]),
    )
}

fn diagnostics(inv: &Inventory) -> Vec<Diagnostic> {
    Analysis::new(inv).diagnostics().to_vec()
}

/// The policy a diagnostic is about.
fn policy(d: &Diagnostic) -> &ObjectRef {
    d.object_ref()
        .expect("a policy diagnostic names its policy")
}

fn single_error(inv: &Inventory) -> Diagnostic {
    let d = diagnostics(inv);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].level, Level::Error);
    assert_eq!(policy(&d[0]).name, "bad");
    assert_eq!(policy(&d[0]).namespace.as_deref(), Some("shop"));
    assert_eq!(&*policy(&d[0]).source.file, "policies/shop.yaml");
    assert!(policy(&d[0]).source.line > 1, "{:?}", policy(&d[0]).source);
    d[0].clone()
}

#[test]
fn invalid_cidr_is_reported_and_only_that_peer_matches_nothing() {
    let inv = with_policy(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from:
        - ipBlock: {cidr: 10.0.0.0/33}
        - podSelector: {matchLabels: {app: web}}
"#,
    );
    let d = single_error(&inv);
    assert_eq!(d.field(), Some("spec.ingress[0].from[0].ipBlock.cidr"));
    assert!(d.message.contains("10.0.0.0/33"), "{d}");
    assert_eq!(d.effect.as_deref(), Some("this peer matches nothing"));
    let text = d.to_string();
    assert!(
        text.starts_with("policies/shop.yaml:") && text.contains("NetworkPolicy shop/bad"),
        "{text}"
    );
    // The other peer of the same rule still works; the broken block admits nothing.
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    denies(&inv, "10.0.0.1", "shop/db", "5432/TCP");
    denies(&inv, "shop/client", "shop/db", "5432/TCP");
}

#[test]
fn bare_address_and_except_outside_cidr_are_invalid() {
    let inv = with_policy(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{ipBlock: {cidr: 192.0.2.0/24, except: [198.51.100.0/24]}}]
    - from: [{ipBlock: {cidr: 203.0.113.7}}]
    - from: [{ipBlock: {cidr: 100.64.0.0/10}}]
"#,
    );
    let d = diagnostics(&inv);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(
        d[0].field(),
        Some("spec.ingress[0].from[0].ipBlock.except[0]")
    );
    assert_eq!(d[1].field(), Some("spec.ingress[1].from[0].ipBlock.cidr"));
    denies(&inv, "192.0.2.1", "shop/db", "5432/TCP");
    denies(&inv, "203.0.113.7", "shop/db", "5432/TCP");
    allows(&inv, "100.64.0.1", "shop/db", "5432/TCP");
}

#[test]
fn unknown_protocol_is_reported_and_that_port_entry_matches_nothing() {
    let inv = with_policy(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - ports: [{port: 5432, protocol: ICMP}, {port: 5433}]
    - ports: [{port: 22, protocol: tcp}]
"#,
    );
    let d = diagnostics(&inv);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(d[0].field(), Some("spec.ingress[0].ports[0].protocol"));
    assert!(d[0].message.contains("ICMP"));
    assert_eq!(d[1].field(), Some("spec.ingress[1].ports[0].protocol"));
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "shop/web", "shop/db", "5433/TCP");
    // A rule whose only port entry is invalid allows nothing (never "every port").
    denies(&inv, "shop/web", "shop/db", "22/TCP");
}

#[test]
fn invalid_operator_in_a_peer_selector_is_reported_and_that_peer_matches_nothing() {
    let inv = with_policy(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from:
        - podSelector: {matchExpressions: [{key: app, operator: Equals, values: [web]}]}
        - podSelector: {matchLabels: {app: client}}
"#,
    );
    let d = single_error(&inv);
    assert_eq!(d.field(), Some("spec.ingress[0].from[0].podSelector"));
    assert!(d.message.contains("Equals"), "{d}");
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "shop/client", "shop/db", "5432/TCP");
}

#[test]
fn invalid_policy_pod_selector_makes_the_policy_select_nothing() {
    let inv = with_policy(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {matchExpressions: [{key: app, operator: In}]}
  policyTypes: [Ingress, Egress]
"#,
    );
    let d = single_error(&inv);
    assert_eq!(d.field(), Some("spec.podSelector"));
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "shop/db", "shop/web", "8080/TCP");
}

#[test]
fn invalid_ports_are_reported_and_match_nothing() {
    let inv = with_policy(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - ports:
        - {port: 70000}
        - {port: http, endPort: 9000}
        - {port: 9000, endPort: 8000}
        - {endPort: 100}
        - {port: "80"}
        - {port: 6000, endPort: 6001}
"#,
    );
    let d = diagnostics(&inv);
    let fields: Vec<&str> = d.iter().map(|d| d.field().unwrap_or_default()).collect();
    assert_eq!(
        fields,
        [
            "spec.ingress[0].ports[0].port",
            "spec.ingress[0].ports[1].endPort",
            "spec.ingress[0].ports[2].endPort",
            "spec.ingress[0].ports[3].endPort",
            "spec.ingress[0].ports[4].port",
        ]
    );
    denies(&inv, "shop/web", "shop/db", "80/TCP");
    denies(&inv, "shop/web", "shop/db", "8500/TCP");
    allows(&inv, "shop/web", "shop/db", "6001/TCP");
}

#[test]
fn empty_peer_and_ip_block_mixed_with_selectors_are_invalid() {
    let inv = with_policy(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from:
        - {}
        - ipBlock: {cidr: 10.0.0.0/8}
          podSelector: {matchLabels: {app: web}}
        - podSelector: {matchLabels: {app: client}}
"#,
    );
    let d = diagnostics(&inv);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(d[0].field(), Some("spec.ingress[0].from[0]"));
    assert_eq!(d[1].field(), Some("spec.ingress[0].from[1]"));
    denies(&inv, "shop/web", "shop/db", "5432/TCP");
    denies(&inv, "10.1.1.1", "shop/db", "5432/TCP");
    allows(&inv, "shop/client", "shop/db", "5432/TCP");
}

#[test]
fn unknown_policy_type_is_ignored_and_reported() {
    let inv = with_policy(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Egress, Sideways]
"#,
    );
    let d = single_error(&inv);
    assert_eq!(d.field(), Some("spec.policyTypes[1]"));
    denies(&inv, "shop/db", "shop/web", "8080/TCP");
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
}

#[test]
fn one_bad_policy_does_not_disturb_the_others() {
    let inv = load(
        "multi.yaml",
        &docs(&[
            namespace("shop", &[]),
            deployment("shop", "web", &[("app", "web")], &[]),
            deployment("shop", "db", &[("app", "db")], &[]),
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: broken, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  egress: [{to: [{ipBlock: {cidr: nonsense}}]}]\n".to_string(),
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: good, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]\n".to_string(),
        ]),
    );
    let d = diagnostics(&inv);
    assert_eq!(d.len(), 1);
    assert_eq!(policy(&d[0]).name, "broken");
    // Namespace: 5 lines, each Deployment: 16 lines, plus one `---` line after each document.
    assert_eq!(
        policy(&d[0]).source.line,
        1 + (5 + 1) + 2 * (16 + 1),
        "{}",
        d[0]
    );
    // broken (no policyTypes, egress rules present: Ingress and Egress) isolates web in both
    // directions; its only egress rule lost its peer and allows nothing.
    denies(&inv, "shop/web", "shop/db", "80/TCP");
    denies(&inv, "shop/web", "8.8.8.8", "53/UDP");
    denies(&inv, "shop/db", "shop/web", "80/TCP");
    // good still admits web into db, and db's own egress is open.
    allows(&inv, "shop/db", "8.8.8.8", "53/UDP");
    denies(&inv, "shop/db", "shop/db", "80/TCP");
}

/// Issue 20 §4: label syntax as the API server checks it (a qualified-name key, a label
/// value); an invalid one in a peer selector makes that peer match nothing, said with a
/// diagnostic.
#[test]
fn invalid_label_key_or_value_in_a_selector_is_reported() {
    // Policy `shop/bad` with the given podSelector and ingress rules (flow style).
    let bad = |pods: &str, ingress: &[&str]| {
        with_policy(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: bad, namespace: shop}}\nspec: {{podSelector: {pods}, ingress: [{}]}}\n",
            ingress.join(", ")
        ))
    };
    let from = |selector: &str| format!("{{from: [{{podSelector: {selector}}}]}}");
    let (key, value, web) = (
        from(r#"{matchLabels: {"app@b": web}}"#),
        from(r#"{matchExpressions: [{key: app, operator: In, values: ["$x"]}]}"#),
        from("{matchLabels: {app: web}}"),
    );
    let inv = bad("{matchLabels: {app: db}}", &[&key, &value, &web]);
    let d = diagnostics(&inv);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert!(d.iter().all(|x| x.level == Level::Error));
    assert_eq!(d[0].field(), Some("spec.ingress[0].from[0].podSelector"));
    assert!(
        d[0].message.contains("app@b") && d[0].message.contains("label key"),
        "{}",
        d[0]
    );
    assert_eq!(d[1].field(), Some("spec.ingress[1].from[0].podSelector"));
    assert!(
        d[1].message.contains("$x") && d[1].message.contains("label value"),
        "{}",
        d[1]
    );
    assert_eq!(d[0].effect.as_deref(), Some("this peer matches nothing"));
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    denies(&inv, "shop/client", "shop/db", "5432/TCP");

    // In the policy's own podSelector: the policy selects nothing.
    let inv = bad(r#"{matchLabels: {app: "$x"}}"#, &[]);
    let d = single_error(&inv);
    assert_eq!(d.field(), Some("spec.podSelector"));
    allows(&inv, "shop/client", "shop/db", "5432/TCP");
}

/// A second NetworkPolicy with the same namespace and name is a warning on the repetition;
/// both copies are analysed.
#[test]
fn duplicate_policy_name_is_reported() {
    let policy = r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: twice, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
"#;
    let inv = with_policy(&docs(&[
        policy.to_string(),
        policy.replace("app: web", "app: client"),
    ]));
    let d = diagnostics(&inv);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].level, Level::Warning);
    assert_eq!(d[0].field(), Some("metadata.name"));
    let text = d[0].to_string();
    assert!(
        text.contains("shop/twice") && text.contains("policies/shop.yaml:"),
        "{text}"
    );
    assert!(text.contains("both copies are analysed"), "{text}");
    allows(&inv, "shop/web", "shop/db", "5432/TCP");
    allows(&inv, "shop/client", "shop/db", "5432/TCP");
}

/// A Namespace declared twice with different labels is a warning; the same labels twice is not.
#[test]
fn namespace_declared_twice_with_different_labels_is_reported() {
    let twice = |name: &str, first: &str, second: &str| {
        [("team", first), ("team", second)].map(|l| namespace(name, &[l]))
    };
    let [a, b] = twice("shop", "a", "b");
    let [c, d] = twice("tools", "a", "a");
    let d = diagnostics(&load("ns.yaml", &docs(&[a, b, c, d])));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].level, Level::Warning);
    assert_eq!(d[0].object_ref().map(|o| o.name.as_str()), Some("shop"));
    assert_eq!(d[0].field(), Some("metadata.labels"));
    assert!(d[0].to_string().contains("merged labels"), "{}", d[0]);
}
