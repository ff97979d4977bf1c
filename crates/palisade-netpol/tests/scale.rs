//! The shapes the scaling work relies on, checked against direct evaluation: many policies whose
//! rules admit the same peers (one team's namespaces) share one evaluated atom, allow policies
//! select by a label every namespace repeats (`app: app-000`), some namespaces deny all egress,
//! some allow egress only to a team, others leave it open. Exposure counts (workloads and
//! namespaces, the workload itself excluded) must equal what `can` says pair by pair.

mod support;

use palisade_model::Inventory;
use palisade_model::api::NetworkPolicySpec;
use palisade_netpol::{Analysis, Protocol, Target};
use support::{deployment_object, ns_object, policy_object};

const NAMESPACES: usize = 12;
const PER_NAMESPACE: usize = 5;
const TEAMS: usize = 3;

fn spec(value: serde_json::Value) -> NetworkPolicySpec {
    serde_json::from_value(value).expect("valid NetworkPolicy spec")
}

fn team_peer(team: usize) -> serde_json::Value {
    serde_json::json!([{"namespaceSelector": {"matchLabels": {"team": format!("t{team}")}}}])
}

fn cluster() -> Inventory {
    let mut inv = Inventory::default();
    for n in 0..NAMESPACES {
        let ns = format!("team-{n:02}");
        let team = format!("t{}", n % TEAMS);
        inv.namespaces.push(ns_object(&ns, &[("team", &team)]));
        let types = match n % 4 {
            0 => serde_json::json!(["Ingress", "Egress"]), // nothing may leave
            2 => serde_json::json!(["Ingress"]),
            _ => serde_json::json!([]),
        };
        if n % 2 == 0 {
            inv.network_policies.push(policy_object(
                &ns,
                "default-deny",
                spec(serde_json::json!({"podSelector": {}, "policyTypes": types})),
            ));
        }
        if n % 4 == 2 {
            // Egress only to team t1's namespaces.
            inv.network_policies.push(policy_object(
                &ns,
                "egress-to-t1",
                spec(serde_json::json!({
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": team_peer(1)}]
                })),
            ));
        }
        for i in 0..PER_NAMESPACE {
            let name = format!("app-{i:03}");
            inv.workloads.push(deployment_object(
                &ns,
                &name,
                &[("app", &name)],
                &[("http", 8080, "TCP")],
            ));
            if i % 2 == 0 {
                inv.network_policies.push(policy_object(
                    &ns,
                    &format!("allow-{name}"),
                    spec(serde_json::json!({
                        "podSelector": {"matchLabels": {"app": name}},
                        "ingress": [{"from": team_peer((n + i) % TEAMS), "ports": [{"port": "http"}]}]
                    })),
                ));
            }
        }
    }
    inv.finalize();
    inv
}

#[test]
fn exposure_counts_equal_direct_evaluation_pair_by_pair() {
    let inv = cluster();
    let a = Analysis::new(&inv);
    let reach = a.reachability();
    let exposure = a.exposure(&reach);
    let members = &a.universe().members;
    assert_eq!(members.len(), NAMESPACES * PER_NAMESPACE);
    let can = |s: usize, d: usize| {
        a.can(
            Target::Workload(s),
            Target::Workload(d),
            8080,
            Protocol::Tcp,
        )
        .expect("valid query")
        .allowed
    };
    let mut some_reach = false;
    for (m, member) in members.iter().enumerate() {
        let from: Vec<usize> = (0..members.len())
            .filter(|&o| o != m && can(o, m))
            .collect();
        let to: Vec<usize> = (0..members.len())
            .filter(|&o| o != m && can(m, o))
            .collect();
        let namespaces = |list: &[usize]| {
            let mut ns: Vec<usize> = list.iter().map(|&o| members[o].namespace).collect();
            ns.sort_unstable();
            ns.dedup();
            ns.len()
        };
        let got = exposure
            .workloads
            .iter()
            .find(|w| w.workload == member.id)
            .expect("every workload has an exposure");
        assert_eq!(
            (
                got.reachable_from_workloads,
                got.reachable_from_namespaces,
                got.can_reach_workloads,
                got.can_reach_namespaces
            ),
            (from.len(), namespaces(&from), to.len(), namespaces(&to)),
            "exposure of {}",
            member.id
        );
        some_reach |= !from.is_empty() && !to.is_empty();
    }
    assert!(some_reach, "the fixture must allow some connections");
}

#[test]
fn facts_count_workloads_and_default_denies_per_namespace() {
    let inv = cluster();
    let facts = palisade_netpol::facts(&inv);
    assert_eq!(facts.namespaces.len(), NAMESPACES);
    for (n, ns) in facts.namespaces.iter().enumerate() {
        assert_eq!(ns.namespace.name, format!("team-{n:02}"));
        assert_eq!(ns.workloads, PER_NAMESPACE);
        let names = |refs: &[palisade_model::ObjectRef]| -> Vec<String> {
            refs.iter().map(|r| r.name.clone()).collect()
        };
        let (ingress, egress): (Vec<&str>, Vec<&str>) = match n % 4 {
            0 => (vec!["default-deny"], vec!["default-deny"]),
            2 => (vec!["default-deny"], vec!["egress-to-t1"]),
            _ => (vec![], vec![]),
        };
        assert_eq!(names(&ns.default_deny_ingress), ingress, "{n}");
        assert_eq!(names(&ns.default_deny_egress), egress, "{n}");
    }
    // Odd namespaces: allow policies isolate every other workload for ingress, none for egress.
    let unprotected_in_odd = facts
        .unprotected_workloads
        .iter()
        .filter(|u| u.workload.namespace.as_deref() == Some("team-01"))
        .count();
    assert_eq!(unprotected_in_odd, PER_NAMESPACE);
}
