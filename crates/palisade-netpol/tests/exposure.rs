//! Exposure, blast radius and scan facts on hand-checked fixtures.

mod support;

use palisade_model::Inventory;
use palisade_netpol::{Analysis, Breadth, Direction, PortSet, Protocol, WorkloadExposure, facts};
use support::{deployment, docs, inventory, namespace};

/// shop/web is open to the Internet on 8080 and may only talk to shop/db on 5432; shop/db only
/// admits web; ops/monitor and dev/tester have no policy at all.
fn fixture() -> Inventory {
    inventory(&docs(&[
        namespace("shop", &[]),
        namespace("ops", &[]),
        namespace("dev", &[]),
        deployment("shop", "web", &[("app", "web")], &["http:8080/TCP"]),
        deployment("shop", "db", &[("app", "db")], &["pg:5432/TCP"]),
        deployment("ops", "monitor", &[("app", "monitor")], &[]),
        deployment("dev", "tester", &[("app", "tester")], &[]),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: 8080}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: shop-egress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {app: db}}}], ports: [{port: 5432}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-svc, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: web, port: 80, targetPort: 8080}, {name: other, port: 81, targetPort: 9999}]
---
apiVersion: v1
kind: Service
metadata: {name: db-debug, namespace: shop}
spec:
  type: NodePort
  selector: {app: db}
  ports: [{port: 5432, nodePort: 30432}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  rules:
    - host: shop.example
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: web-svc, port: {name: web}}}
"#
        .to_string(),
    ]))
}

/// (policy, direction, rule, peer, breadth, excepts, port restricted)
type BroadRow<'a> = (
    &'a str,
    Direction,
    usize,
    Option<usize>,
    Breadth,
    usize,
    bool,
);

fn find<'a>(e: &'a [WorkloadExposure], name: &str) -> &'a WorkloadExposure {
    e.iter()
        .find(|w| w.workload.name == name)
        .expect("workload")
}

#[test]
fn exposure_counts_reachability_in_both_directions_and_excludes_self() {
    let inv = fixture();
    let e = palisade_netpol::exposure(&inv);
    assert_eq!(e.workloads_total, 4);
    assert_eq!(e.namespaces_total, 3);
    let web = find(&e.workloads, "web");
    assert!(web.ingress_isolated && web.egress_isolated);
    assert_eq!(web.reachable_from_workloads, 0);
    assert_eq!((web.can_reach_workloads, web.can_reach_namespaces), (1, 1));
    let db = find(&e.workloads, "db");
    assert!(db.ingress_isolated && db.egress_isolated);
    assert_eq!(
        (db.reachable_from_workloads, db.reachable_from_namespaces),
        (1, 1)
    );
    assert_eq!(db.can_reach_workloads, 0);
    // monitor and tester reach each other; monitor reaching itself is not counted.
    let monitor = find(&e.workloads, "monitor");
    assert!(!monitor.ingress_isolated && !monitor.egress_isolated);
    assert_eq!(
        (
            monitor.reachable_from_workloads,
            monitor.reachable_from_namespaces
        ),
        (1, 1)
    );
    assert_eq!(
        (monitor.can_reach_workloads, monitor.can_reach_namespaces),
        (1, 1)
    );
}

#[test]
fn connection_count_matches_the_expanded_rows() {
    let inv = fixture();
    let a = Analysis::new(&inv);
    let r = a.reachability();
    let mut all = 0u64;
    a.for_each_connection(&r, None, |_| all += 1);
    assert_eq!(a.connection_count(&r, None), all);
    for m in 0..a.universe().members.len() {
        let mut n = 0u64;
        a.for_each_connection(&r, Some(m), |_| n += 1);
        assert_eq!(a.connection_count(&r, Some(m)), n);
    }
}

#[test]
fn exposure_reports_external_ranges_with_ports() {
    let inv = fixture();
    let e = palisade_netpol::exposure(&inv);
    let web = find(&e.workloads, "web");
    assert_eq!(web.external_ingress.len(), 1);
    assert_eq!(web.external_ingress[0].range.to_string(), "0.0.0.0/0");
    assert_eq!(
        web.external_ingress[0].ports,
        PortSet::single(Protocol::Tcp, 8080)
    );
    assert!(web.external_egress.is_empty());
    let monitor = find(&e.workloads, "monitor");
    let ranges: Vec<String> = monitor
        .external_egress
        .iter()
        .map(|x| x.range.to_string())
        .collect();
    assert_eq!(ranges, ["0.0.0.0/0", "::/0"]);
    assert!(monitor.external_egress.iter().all(|x| x.ports.is_all()));
    let db = find(&e.workloads, "db");
    assert!(db.external_ingress.is_empty());
}

#[test]
fn exposure_lists_node_ports_load_balancers_and_ingresses() {
    let inv = fixture();
    let e = palisade_netpol::exposure(&inv);
    let web = find(&e.workloads, "web");
    let kinds: Vec<(&str, &str)> = web
        .published
        .iter()
        .map(|p| (p.kind.as_str(), p.via.name.as_str()))
        .collect();
    assert_eq!(kinds, [("LoadBalancer", "web-lb"), ("Ingress", "shop")]);
    // The LoadBalancer's named targetPort resolves to the container port.
    assert_eq!(
        web.published[0].target_ports,
        PortSet::single(Protocol::Tcp, 8080)
    );
    assert!(web.published[0].admitted_by_policy);
    // The Ingress uses only the `web` port of web-svc (80 -> 8080), not `other`.
    assert_eq!(web.published[1].service.as_deref(), Some("web-svc"));
    assert_eq!(
        web.published[1].target_ports,
        PortSet::single(Protocol::Tcp, 8080)
    );
    let db = find(&e.workloads, "db");
    assert_eq!(db.published.len(), 1);
    assert_eq!(db.published[0].kind, "NodePort");
    assert_eq!(
        db.published[0].target_ports,
        PortSet::single(Protocol::Tcp, 5432)
    );
    // db's ingress admits only web: the NodePort is not reachable from outside.
    assert!(!db.published[0].admitted_by_policy);
    assert!(find(&e.workloads, "tester").published.is_empty());
}

#[test]
fn facts_report_default_deny_unprotected_workloads_and_broad_rules() {
    let mut inv = fixture();
    let extra = inventory(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ops-default, namespace: ops}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ops-out, namespace: ops}
spec:
  podSelector: {matchLabels: {app: monitor}}
  policyTypes: [Egress]
  egress: [{ports: [{port: 443}]}, {to: [{ipBlock: {cidr: "::/0", except: ["fd00::/8"]}}]}]
"#,
    );
    inv.network_policies.extend(extra.network_policies);
    inv.finalize();
    let f = facts(&inv);
    let ns: Vec<(&str, usize, usize)> = f
        .namespaces
        .iter()
        .map(|n| {
            (
                n.namespace.name.as_str(),
                n.default_deny_ingress.len(),
                n.default_deny_egress.len(),
            )
        })
        .collect();
    assert_eq!(ns, [("dev", 0, 0), ("ops", 1, 0), ("shop", 0, 1)]);
    assert_eq!(f.namespaces[2].default_deny_egress[0].name, "shop-egress");
    let unprotected: Vec<(&str, bool, bool)> = f
        .unprotected_workloads
        .iter()
        .map(|u| {
            (
                u.workload.name.as_str(),
                u.ingress_isolated,
                u.egress_isolated,
            )
        })
        .collect();
    assert_eq!(unprotected, [("tester", false, false)]);
    let broad: Vec<BroadRow<'_>> = f
        .broad_rules
        .iter()
        .map(|b| {
            (
                b.policy.name.as_str(),
                b.direction,
                b.rule,
                b.peer,
                b.breadth,
                b.excepts,
                b.port_restricted,
            )
        })
        .collect();
    assert_eq!(
        broad,
        [
            (
                "web-ingress",
                Direction::Ingress,
                0,
                Some(0),
                Breadth::AllIpv4,
                0,
                true
            ),
            (
                "ops-default",
                Direction::Ingress,
                0,
                Some(0),
                Breadth::AllNamespaces,
                0,
                false
            ),
            (
                "ops-out",
                Direction::Egress,
                0,
                None,
                Breadth::AnyPeer,
                0,
                true
            ),
            (
                "ops-out",
                Direction::Egress,
                1,
                Some(0),
                Breadth::AllIpv6,
                1,
                false
            ),
        ]
    );
    // The namespace reference of an implied namespace still names it.
    let a = Analysis::new(&inv);
    assert!(a.diagnostics().is_empty());
}
