//! `generate`: least-privilege policies from observed flows.

mod support;

use palisade_model::flow::Flow;
use palisade_model::{Inventory, SourceLocation};
use palisade_netpol::{Analysis, DnsTarget, GenerateOptions, generate};
use support::{allows, denies, deployment, docs, inventory, load, namespace};

fn flows(lines: &str) -> Vec<Flow> {
    lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("flow line"))
        .collect()
}

fn cluster() -> Inventory {
    inventory(&docs(&[
        namespace("shop", &[]),
        namespace("kube-system", &[]),
        deployment("shop", "web", &[("app", "web")], &[]),
        deployment("shop", "web-canary", &[("app", "web"), ("track", "canary")], &[]),
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: db}}\n    spec: {containers: [{name: c, image: x}]}\n".to_string(),
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: backup, namespace: shop}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        metadata: {labels: {app: backup}}\n        spec: {containers: [{name: c, image: x}]}\n".to_string(),
        deployment("kube-system", "coredns", &[("k8s-app", "kube-dns")], &[]),
    ]))
}

/// Flows identified only by pod names (as a runtime agent without owner data would emit them),
/// by owning ReplicaSet/Job, and by IP.
const FLOWS: &str = r#"
{"timestamp":"2026-01-01T00:00:00Z","src":{"namespace":"shop","pod":"web-7d9f8c-abcde"},"dst":{"namespace":"shop","pod":"db-0"},"port":5432,"protocol":"TCP"}
{"timestamp":"2026-01-01T00:00:01Z","src":{"namespace":"shop","workload":"ReplicaSet/web-7d9f8c"},"dst":{"namespace":"shop","pod":"db-1"},"port":5433,"protocol":"TCP"}
{"timestamp":"2026-01-01T00:00:02Z","src":{"namespace":"shop","workload":"Job/backup-28391520"},"dst":{"namespace":"shop","workload":"StatefulSet/db"},"port":5432,"protocol":"TCP"}
{"timestamp":"2026-01-01T00:00:03Z","src":{"ip":"203.0.113.10"},"dst":{"namespace":"shop","pod":"web-canary-5c4b-xyz12"},"port":8080,"protocol":"TCP"}
{"timestamp":"2026-01-01T00:00:04Z","src":{"namespace":"shop","pod":"backup-28391520-q7k2p"},"dst":{"ip":"2001:db8::5"},"port":443,"protocol":"TCP"}
{"timestamp":"2026-01-01T00:00:05Z","src":{"namespace":"shop","pod":"ghost-1"},"dst":{"ip":"1.1.1.1"},"port":53,"protocol":"UDP"}
{"timestamp":"2026-01-01T00:00:06Z","src":{"ip":"1.1.1.1"},"dst":{"ip":"8.8.8.8"},"port":53,"protocol":"UDP"}
{"timestamp":"2026-01-01T00:00:07Z","src":{"namespace":"shop","pod":"db-0"},"dst":{"namespace":"kube-system","pod":"coredns-6f6b-abcde"},"port":53,"protocol":"ICMP"}
"#;

fn with_generated(inv: &Inventory, g: &palisade_netpol::Generated) -> Inventory {
    let mut out = inv.clone();
    for p in &g.policies {
        out.network_policies
            .push(p.to_resource(SourceLocation::new("generated.yaml", 0)));
    }
    out.finalize();
    out
}

#[test]
fn flows_resolve_by_pod_name_owner_and_ip_and_bad_ones_are_skipped() {
    let inv = cluster();
    let g = generate(&flows(FLOWS), &inv, &GenerateOptions::default());
    let skipped: Vec<(usize, &str)> = g
        .skipped
        .iter()
        .map(|s| (s.index, s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert_eq!(skipped[0].0, 5);
    assert!(skipped[0].1.contains("ghost-1"), "{}", skipped[0].1);
    assert_eq!(skipped[1], (6, "both ends are outside the cluster"));
    assert_eq!(skipped[2].0, 7);
    assert!(skipped[2].1.contains("ICMP"));
    let names: Vec<(&str, &str)> = g
        .policies
        .iter()
        .map(|p| (p.namespace.as_str(), p.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("shop", "allow-cronjob-backup"),
            ("shop", "allow-deployment-web"),
            ("shop", "allow-deployment-web-canary"),
            ("shop", "allow-statefulset-db"),
        ]
    );
}

#[test]
fn generated_policies_allow_exactly_the_observed_flows() {
    let inv = cluster();
    let g = generate(
        &flows(FLOWS),
        &inv,
        &GenerateOptions {
            default_deny: true,
            dns: None,
        },
    );
    let all = with_generated(&inv, &g);
    assert!(Analysis::new(&all).diagnostics().is_empty());
    allows(&all, "shop/web", "shop/db", "5432/TCP");
    allows(&all, "shop/web", "shop/db", "5433/TCP");
    denies(&all, "shop/web", "shop/db", "5434/TCP");
    denies(&all, "shop/web", "shop/db", "5432/UDP");
    allows(&all, "shop/backup", "shop/db", "5432/TCP");
    denies(&all, "shop/backup", "shop/db", "5433/TCP");
    // web-canary has web's labels plus track=canary: the two are told apart.
    denies(&all, "shop/web-canary", "shop/db", "5432/TCP");
    allows(&all, "203.0.113.10", "shop/web-canary", "8080/TCP");
    denies(&all, "203.0.113.10", "shop/web", "8080/TCP");
    denies(&all, "203.0.113.11", "shop/web-canary", "8080/TCP");
    allows(&all, "shop/backup", "2001:db8::5", "443/TCP");
    denies(&all, "shop/backup", "2001:db8::6", "443/TCP");
    // Default deny everywhere else, DNS included since it was not requested.
    denies(&all, "shop/db", "shop/web", "80/TCP");
    denies(&all, "shop/web", "kube-system/coredns", "53/UDP");
    denies(&all, "kube-system/coredns", "shop/db", "5432/TCP");
}

#[test]
fn superset_labels_are_excluded_with_does_not_exist_and_ranges_are_merged() {
    let inv = cluster();
    let g = generate(&flows(FLOWS), &inv, &GenerateOptions::default());
    let web = g
        .policies
        .iter()
        .find(|p| p.name == "allow-deployment-web")
        .expect("web policy");
    let sel = &web.spec.pod_selector;
    assert_eq!(sel.match_labels.get("app").map(String::as_str), Some("web"));
    assert_eq!(sel.match_expressions.len(), 1);
    assert_eq!(sel.match_expressions[0].key, "track");
    assert_eq!(sel.match_expressions[0].operator, "DoesNotExist");
    // web -> db on 5432 and 5433: one rule with port 5432, endPort 5433.
    let egress = web.spec.egress.as_ref().expect("egress");
    assert_eq!(egress.len(), 1);
    let ports = egress[0].ports.as_ref().expect("ports");
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0].end_port, Some(5433));
    assert_eq!(web.spec.ingress.as_ref().map(Vec::len), Some(0));
}

#[test]
fn dns_egress_and_default_deny_policies_are_added_on_request() {
    let inv = cluster();
    let g = generate(
        &flows(FLOWS),
        &inv,
        &GenerateOptions {
            default_deny: true,
            dns: Some(DnsTarget::default()),
        },
    );
    let deny: Vec<&str> = g
        .policies
        .iter()
        .filter(|p| p.name == "default-deny")
        .map(|p| p.namespace.as_str())
        .collect();
    assert_eq!(deny, ["kube-system", "shop"]);
    // coredns itself is default-denied (it had no observed clients), so admit DNS clients for
    // this check the way an operator would: allow all ingress to coredns on 53.
    let mut all = with_generated(&inv, &g);
    all.network_policies.extend(
        inventory("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: dns, namespace: kube-system}\nspec:\n  podSelector: {matchLabels: {k8s-app: kube-dns}}\n  ingress: [{ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]}]\n")
            .network_policies,
    );
    allows(&all, "shop/web", "kube-system/coredns", "53/UDP");
    allows(&all, "shop/db", "kube-system/coredns", "53/TCP");
    denies(&all, "shop/web", "kube-system/coredns", "54/UDP");
    denies(&all, "shop/web", "1.1.1.1", "53/UDP");
}

#[test]
fn identical_stable_labels_share_one_policy_and_are_reported() {
    let inv = inventory(&docs(&[
        deployment("shop", "blue", &[("app", "web")], &[]),
        deployment(
            "shop",
            "green",
            &[("app", "web"), ("pod-template-hash", "abc")],
            &[],
        ),
        deployment("shop", "db", &[("app", "db")], &[]),
    ]));
    let f = flows(
        r#"{"timestamp":"t","src":{"namespace":"shop","workload":"Deployment/blue"},"dst":{"namespace":"shop","workload":"Deployment/db"},"port":5432,"protocol":"TCP"}"#,
    );
    let g = generate(&f, &inv, &GenerateOptions::default());
    assert_eq!(g.merged.len(), 1);
    let merged: Vec<&str> = g.merged[0].iter().map(|w| w.name.as_str()).collect();
    assert_eq!(merged, ["blue", "green"]);
    let web = g
        .policies
        .iter()
        .find(|p| p.name == "allow-deployment-blue")
        .expect("policy named after the first member");
    assert_eq!(web.selects.len(), 2);
    assert!(web.spec.pod_selector.match_expressions.is_empty());
    assert!(
        !web.spec
            .pod_selector
            .match_labels
            .contains_key("pod-template-hash")
    );
}

#[test]
fn manifest_is_clean_api_yaml_that_reads_back_to_the_same_spec() {
    let inv = cluster();
    let g = generate(
        &flows(FLOWS),
        &inv,
        &GenerateOptions {
            default_deny: true,
            dns: Some(DnsTarget::default()),
        },
    );
    for p in &g.policies {
        let m = p.manifest();
        let text = serde_json::to_string(&m).unwrap();
        assert!(!text.contains("null"), "{text}");
        assert_eq!(
            m["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "palisade"
        );
        let yaml = serde_saphyr::to_string(&m).unwrap();
        let back = load("generated.yaml", &yaml);
        assert_eq!(back.network_policies.len(), 1, "{yaml}");
        assert_eq!(back.network_policies[0].spec, p.spec, "{yaml}");
        assert_eq!(back.network_policies[0].meta.name, p.name);
    }
}
