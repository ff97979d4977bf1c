//! Property tests over random inventories and policies:
//! - the class-based reachability agrees with the direct per-pair evaluation (`can`);
//! - adding a policy only removes connections of pods it newly isolates, and only adds
//!   connections of pods it selects;
//! - generate -> reach round trip: the generated policies allow exactly the observed flows
//!   (workload and port granularity) and nothing else.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use palisade_model::api::{
    IntOrString, IpBlock, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use palisade_model::flow::{Flow, FlowEndpoint};
use palisade_model::selector::{LabelSelector, LabelSelectorRequirement};
use palisade_model::{Inventory, SourceLocation};
use palisade_netpol::{
    Analysis, Connection, Endpoint, GenerateOptions, IpInterval, Listing, PortSet, Protocol,
    Target, generate,
};
use proptest::prelude::*;
use support::{deployment_object, ns_object, policy_object};

const NAMESPACES: [&str; 3] = ["a", "b", "c"];
const POD_KEYS: [&str; 3] = ["app", "tier", "role"];
const VALUES: [&str; 2] = ["1", "2"];
const NAMED_PORTS: [(&str, u16, &str); 4] = [
    ("http", 80, "TCP"),
    ("http", 8080, "TCP"),
    ("dns", 53, "UDP"),
    ("web", 443, "TCP"),
];
const BLOCKS: [(&str, &[&str]); 5] = [
    ("10.0.0.0/8", &["10.1.0.0/16"]),
    ("192.168.0.0/16", &[]),
    ("0.0.0.0/0", &["10.0.0.0/8"]),
    ("2001:db8::/32", &[]),
    ("8.8.8.0/24", &[]),
];
const PROBE_PORTS: [u16; 6] = [53, 80, 81, 443, 8080, 8500];
const PROBE_IPS: [&str; 7] = [
    "10.0.0.1",
    "10.1.0.1",
    "192.168.1.1",
    "8.8.8.8",
    "1.2.3.4",
    "2001:db8::1",
    "::1",
];

#[derive(Debug, Clone)]
struct WorkloadSpec {
    ns: usize,
    labels: [Option<usize>; 3],
    ports: Vec<usize>,
    pod_template_hash: bool,
}

fn workload() -> impl Strategy<Value = WorkloadSpec> {
    (
        0..3usize,
        [
            prop::option::of(0..2usize),
            prop::option::of(0..2usize),
            prop::option::of(0..2usize),
        ],
        prop::collection::vec(0..4usize, 0..3),
        any::<bool>(),
    )
        .prop_map(|(ns, labels, ports, pod_template_hash)| WorkloadSpec {
            ns,
            labels,
            ports,
            pod_template_hash,
        })
}

fn namespace_labels() -> impl Strategy<Value = (Option<usize>, bool)> {
    (prop::option::of(0..2usize), any::<bool>())
}

fn requirement(
    keys: &'static [&'static str],
    values: &'static [&'static str],
) -> impl Strategy<Value = LabelSelectorRequirement> {
    (
        0..keys.len(),
        0..4usize,
        prop::collection::vec(0..values.len(), 1..3),
    )
        .prop_map(move |(k, op, vals)| {
            let operator = ["In", "NotIn", "Exists", "DoesNotExist"][op];
            LabelSelectorRequirement {
                key: keys[k].into(),
                operator: operator.into(),
                values: if op < 2 {
                    vals.into_iter().map(|v| values[v].to_string()).collect()
                } else {
                    Vec::new()
                },
            }
        })
}

fn selector(
    keys: &'static [&'static str],
    values: &'static [&'static str],
) -> impl Strategy<Value = LabelSelector> {
    (
        prop::collection::btree_map(0..keys.len(), 0..values.len(), 0..2),
        prop::collection::vec(requirement(keys, values), 0..2),
    )
        .prop_map(move |(labels, exprs)| LabelSelector {
            match_labels: labels
                .into_iter()
                .map(|(k, v)| (keys[k].to_string(), values[v].to_string()))
                .collect(),
            match_expressions: exprs,
        })
}

const NS_KEYS: [&str; 3] = ["env", "team", "kubernetes.io/metadata.name"];
const NS_VALUES: [&str; 4] = ["x", "t", "a", "b"];

fn peer() -> impl Strategy<Value = NetworkPolicyPeer> {
    prop_oneof![
        selector(&POD_KEYS, &VALUES).prop_map(|s| NetworkPolicyPeer {
            pod_selector: Some(s),
            ..Default::default()
        }),
        selector(&NS_KEYS, &NS_VALUES).prop_map(|s| NetworkPolicyPeer {
            namespace_selector: Some(s),
            ..Default::default()
        }),
        (selector(&NS_KEYS, &NS_VALUES), selector(&POD_KEYS, &VALUES)).prop_map(|(n, p)| {
            NetworkPolicyPeer {
                namespace_selector: Some(n),
                pod_selector: Some(p),
                ..Default::default()
            }
        }),
        (0..BLOCKS.len(), any::<bool>()).prop_map(|(b, with_except)| NetworkPolicyPeer {
            ip_block: Some(IpBlock {
                cidr: BLOCKS[b].0.into(),
                except: if with_except {
                    BLOCKS[b].1.iter().map(|s| s.to_string()).collect()
                } else {
                    Vec::new()
                },
            }),
            ..Default::default()
        }),
    ]
}

fn port() -> impl Strategy<Value = NetworkPolicyPort> {
    let number = prop_oneof![Just(53i64), Just(80), Just(443), Just(8080)];
    let protocol = prop::option::of(prop_oneof![Just("TCP"), Just("UDP")]);
    prop_oneof![
        protocol.clone().prop_map(|p| NetworkPolicyPort {
            protocol: p.map(str::to_string),
            port: None,
            end_port: None,
        }),
        (protocol.clone(), number, prop::option::of(0..500i64)).prop_map(|(p, n, e)| {
            NetworkPolicyPort {
                protocol: p.map(str::to_string),
                port: Some(IntOrString::Int(n)),
                end_port: e.map(|e| n + e),
            }
        }),
        (
            protocol,
            prop_oneof![Just("http"), Just("dns"), Just("web")]
        )
            .prop_map(|(p, n)| {
                NetworkPolicyPort {
                    protocol: p.map(str::to_string),
                    port: Some(IntOrString::String(n.into())),
                    end_port: None,
                }
            }),
    ]
}

type RuleParts = (
    Option<Vec<NetworkPolicyPeer>>,
    Option<Vec<NetworkPolicyPort>>,
);

fn rule() -> impl Strategy<Value = RuleParts> {
    (
        prop::option::of(prop::collection::vec(peer(), 0..3)),
        prop::option::of(prop::collection::vec(port(), 0..3)),
    )
}

fn policy() -> impl Strategy<Value = (usize, NetworkPolicySpec)> {
    (
        0..3usize,
        selector(&POD_KEYS, &VALUES),
        prop::option::of(prop_oneof![
            Just(vec!["Ingress"]),
            Just(vec!["Egress"]),
            Just(vec!["Ingress", "Egress"])
        ]),
        prop::option::of(prop::collection::vec(rule(), 0..3)),
        prop::option::of(prop::collection::vec(rule(), 0..3)),
    )
        .prop_map(|(ns, sel, types, ingress, egress)| {
            (
                ns,
                NetworkPolicySpec {
                    pod_selector: sel,
                    policy_types: types.map(|t| t.into_iter().map(str::to_string).collect()),
                    ingress: ingress.map(|rs| {
                        rs.into_iter()
                            .map(|(from, ports)| NetworkPolicyIngressRule { from, ports })
                            .collect()
                    }),
                    egress: egress.map(|rs| {
                        rs.into_iter()
                            .map(|(to, ports)| NetworkPolicyEgressRule { to, ports })
                            .collect()
                    }),
                },
            )
        })
}

fn build(
    ns_labels: &[(Option<usize>, bool)],
    workloads: &[WorkloadSpec],
    policies: &[(usize, NetworkPolicySpec)],
) -> Inventory {
    let mut inv = Inventory::default();
    for (i, (env, team)) in ns_labels.iter().enumerate() {
        let mut labels = Vec::new();
        if let Some(e) = env {
            labels.push(("env", ["x", "y"][*e]));
        }
        if *team {
            labels.push(("team", "t"));
        }
        inv.namespaces.push(ns_object(NAMESPACES[i], &labels));
    }
    for (i, w) in workloads.iter().enumerate() {
        let mut labels: Vec<(&str, &str)> = w
            .labels
            .iter()
            .enumerate()
            .filter_map(|(k, v)| v.map(|v| (POD_KEYS[k], VALUES[v])))
            .collect();
        if w.pod_template_hash {
            labels.push(("pod-template-hash", "5d8f7c"));
        }
        let ports: Vec<(&str, u16, &str)> = w.ports.iter().map(|&p| NAMED_PORTS[p]).collect();
        inv.workloads.push(deployment_object(
            NAMESPACES[w.ns],
            &format!("w{i}"),
            &labels,
            &ports,
        ));
    }
    for (i, (ns, spec)) in policies.iter().enumerate() {
        inv.network_policies.push(policy_object(
            NAMESPACES[*ns],
            &format!("p{i}"),
            spec.clone(),
        ));
    }
    inv.finalize();
    inv
}

fn all_targets(a: &Analysis<'_>) -> Vec<Target> {
    let mut t: Vec<Target> = (0..a.universe().members.len())
        .map(Target::Workload)
        .collect();
    t.extend(PROBE_IPS.iter().map(|ip| Target::Ip(ip.parse().unwrap())));
    t
}

/// Every (src, dst, port, protocol) probe with at least one workload end.
fn probes(a: &Analysis<'_>) -> Vec<(Target, Target, u16, Protocol)> {
    let targets = all_targets(a);
    let mut out = Vec::new();
    for &s in &targets {
        for &d in &targets {
            if matches!((s, d), (Target::Ip(_), Target::Ip(_))) {
                continue;
            }
            for &p in &PROBE_PORTS {
                for proto in [Protocol::Tcp, Protocol::Udp] {
                    out.push((s, d, p, proto));
                }
            }
        }
    }
    out
}

/// Namespace labels, workloads and policies, as [`build`] takes them.
type ClusterParts = (
    Vec<(Option<usize>, bool)>,
    Vec<WorkloadSpec>,
    Vec<(usize, NetworkPolicySpec)>,
);

/// Three namespaces, one to six workloads and up to three policies.
fn cluster() -> impl Strategy<Value = ClusterParts> {
    (
        prop::collection::vec(namespace_labels(), 3),
        prop::collection::vec(workload(), 1..7),
        prop::collection::vec(policy(), 0..4),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn class_reachability_agrees_with_direct_evaluation(
        (ns_labels, workloads, policies) in cluster(),
    ) {
        let inv = build(&ns_labels, &workloads, &policies);
        let a = Analysis::new(&inv);
        let reach = a.reachability();
        for (s, d, p, proto) in probes(&a) {
            let v = a.can(s, d, p, proto).unwrap();
            let by_class = a.allowed_ports(&reach, s, d).contains(proto, p);
            prop_assert_eq!(v.allowed, by_class, "{:?} -> {:?} {}/{}: {:#?}", s, d, p, proto, v);
        }
    }

    #[test]
    fn the_streamed_listing_is_the_sorted_connectivity_list(
        inv in cluster().prop_map(|(ns_labels, workloads, policies)| build(&ns_labels, &workloads, &policies)),
    ) {
        let a = Analysis::new(&inv);
        let reach = a.reachability();
        let focuses = std::iter::once(None).chain((0..a.universe().members.len()).map(Some));
        for focus in focuses {
            let listing = Listing::new(&a, &reach, focus);
            let mut streamed = Vec::new();
            listing
                .for_each_row(|r| {
                    streamed.push(Connection {
                        src: listing.endpoint(r.src),
                        dst: listing.endpoint(r.dst),
                        ports: listing.port_set(r.ports).clone(),
                    });
                    Ok::<(), ()>(())
                })
                .unwrap();
            prop_assert_eq!(streamed.len() as u64, listing.row_count());
            // Blocks of sources, in order, give the same rows.
            let mut by_blocks = 0;
            for (sources, rows) in listing.source_blocks(3) {
                let mut n = 0;
                listing
                    .for_each_row_in(sources, |r| {
                        prop_assert_eq!(&streamed[by_blocks + n].src, &listing.endpoint(r.src));
                        prop_assert_eq!(&streamed[by_blocks + n].dst, &listing.endpoint(r.dst));
                        n += 1;
                        Ok(())
                    })?;
                prop_assert_eq!(n as u64, rows);
                by_blocks += n;
            }
            prop_assert_eq!(by_blocks, streamed.len());
            prop_assert_eq!(&streamed, &a.connectivity(&reach, focus).connections);
            if focus.is_none() {
                // The grouped listing covers the same rows, each once.
                let mut expanded = Vec::new();
                listing
                    .for_each_class_pair(|p| {
                        for &s in p.src {
                            for &d in p.dst {
                                expanded.push((s, d, p.ports));
                            }
                        }
                        Ok::<(), ()>(())
                    })
                    .unwrap();
                expanded.sort_unstable();
                let mut rows = Vec::new();
                listing.for_each_row(|r| { rows.push((r.src, r.dst, r.ports)); Ok::<(), ()>(()) }).unwrap();
                prop_assert_eq!(expanded, rows);
            }
        }
    }

    #[test]
    fn adding_a_policy_only_restricts_pods_it_newly_isolates(
        ns_labels in prop::collection::vec(namespace_labels(), 3),
        workloads in prop::collection::vec(workload(), 1..7),
        policies in prop::collection::vec(policy(), 0..3),
        extra in policy(),
    ) {
        let before_inv = build(&ns_labels, &workloads, &policies);
        let mut all = policies.clone();
        all.push(extra.clone());
        let after_inv = build(&ns_labels, &workloads, &all);
        let before = Analysis::new(&before_inv);
        let after = Analysis::new(&after_inv);
        let extra_index = all.len() - 1;
        let extra_name = format!("p{extra_index}");
        let selects = |m: usize, dir: palisade_netpol::Direction| {
            let v = after.can(Target::Workload(m), Target::Workload(m), 80, Protocol::Tcp).unwrap();
            let side = match dir {
                palisade_netpol::Direction::Ingress => &v.ingress,
                palisade_netpol::Direction::Egress => &v.egress,
            };
            side.policies.iter().any(|p| p.name == extra_name)
        };
        for (s, d, p, proto) in probes(&before) {
            let b = before.can(s, d, p, proto).unwrap().allowed;
            let a = after.can(s, d, p, proto).unwrap().allowed;
            if b && !a {
                let newly_ingress = matches!(d, Target::Workload(m)
                    if !before.is_isolated(m, palisade_netpol::Direction::Ingress)
                        && selects(m, palisade_netpol::Direction::Ingress));
                let newly_egress = matches!(s, Target::Workload(m)
                    if !before.is_isolated(m, palisade_netpol::Direction::Egress)
                        && selects(m, palisade_netpol::Direction::Egress));
                prop_assert!(newly_ingress || newly_egress,
                    "{:?} -> {:?} {}/{} lost without new isolation", s, d, p, proto);
            }
            if !b && a {
                let responsible = matches!(d, Target::Workload(m) if selects(m, palisade_netpol::Direction::Ingress))
                    || matches!(s, Target::Workload(m) if selects(m, palisade_netpol::Direction::Egress));
                prop_assert!(responsible, "{:?} -> {:?} {}/{} gained without the new policy selecting an end", s, d, p, proto);
            }
        }
    }

    #[test]
    fn generate_then_reach_allows_exactly_the_observed_flows(
        ns_labels in prop::collection::vec(namespace_labels(), 3),
        workloads in prop::collection::vec(workload(), 1..7)
            .prop_filter("stable labels distinct per namespace", |ws| distinct_stable_labels(ws)),
        flows in prop::collection::vec(
            (0..13usize, 0..13usize, prop::sample::select(vec![53u16, 80, 81, 443, 8080]),
             prop_oneof![Just("TCP"), Just("UDP")]),
            0..12),
    ) {
        let inv = build(&ns_labels, &workloads, &[]);
        let n = workloads.len();
        let endpoint = |i: usize| -> Option<FlowEndpoint> {
            if i < 6 {
                (i < n).then(|| FlowEndpoint {
                    namespace: Some(NAMESPACES[workloads[i].ns].into()),
                    workload: Some(format!("Deployment/w{i}")),
                    pod: Some(format!("w{i}-5d8f7c-abcde")),
                    ip: Some(format!("10.244.0.{i}")),
                })
            } else {
                Some(FlowEndpoint { ip: Some(PROBE_IPS[i - 6].into()), ..Default::default() })
            }
        };
        let mut flow_list = Vec::new();
        let mut expected: HashMap<(Endpoint, Endpoint), PortSet> = HashMap::new();
        let as_endpoint = |i: usize| -> Endpoint {
            if i < 6 {
                Endpoint::Workload(palisade_model::WorkloadId {
                    namespace: NAMESPACES[workloads[i].ns].into(),
                    kind: "Deployment".into(),
                    name: format!("w{i}"),
                })
            } else {
                Endpoint::External(IpInterval::of_addr(PROBE_IPS[i - 6].parse::<IpAddr>().unwrap()))
            }
        };
        for (s, d, port, proto) in flows {
            let (Some(src), Some(dst)) = (endpoint(s), endpoint(d)) else { continue };
            if s >= 6 && d >= 6 {
                continue;
            }
            flow_list.push(Flow {
                timestamp: "2026-01-01T00:00:00Z".into(),
                src, dst, port, protocol: proto.into(),
            });
            expected
                .entry((as_endpoint(s), as_endpoint(d)))
                .or_default()
                .insert_range(proto.parse().unwrap(), port, port);
        }
        let generated = generate(&flow_list, &inv, &GenerateOptions { default_deny: true, dns: None });
        prop_assert!(generated.skipped.is_empty(), "{:?}", generated.skipped);
        prop_assert!(generated.merged.is_empty());
        let mut combined = inv.clone();
        for p in &generated.policies {
            combined.network_policies.push(p.to_resource(SourceLocation::new("generated.yaml", 0)));
        }
        combined.finalize();
        let a = Analysis::new(&combined);
        prop_assert!(a.diagnostics().is_empty(), "{:?}", a.diagnostics());
        let reach = a.reachability();
        let got: HashMap<(Endpoint, Endpoint), PortSet> = a
            .connectivity(&reach, None)
            .connections
            .into_iter()
            .map(|c| ((c.src, c.dst), c.ports))
            .collect();
        prop_assert_eq!(got, expected);
    }
}

fn distinct_stable_labels(ws: &[WorkloadSpec]) -> bool {
    let mut seen: BTreeMap<(usize, [Option<usize>; 3]), ()> = BTreeMap::new();
    ws.iter()
        .all(|w| seen.insert((w.ns, w.labels), ()).is_none())
}
