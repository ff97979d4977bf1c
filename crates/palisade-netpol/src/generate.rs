//! Least-privilege NetworkPolicies from observed flows.
//!
//! Algorithm (also in `docs/network-policy.md`):
//! 1. Resolve each flow endpoint to a workload of the inventory (by `namespace` + `workload`
//!    `Kind/name`, else by `namespace` + `pod` name prefix) or, with only an `ip`, to an external
//!    address. Unresolvable flows are skipped and reported.
//! 2. Group workloads of one namespace that have the same *stable* labels (pod-template labels
//!    minus controller-generated keys such as `pod-template-hash`): NetworkPolicies cannot tell
//!    them apart.
//! 3. Give each group a selector that selects exactly its pods among the inventory's workloads:
//!    `matchLabels` = its stable labels, plus `DoesNotExist` on one extra key of every other group
//!    of the namespace whose stable labels are a superset.
//! 4. For every group that appears in a flow, one policy with `policyTypes: [Ingress, Egress]`:
//!    ingress rules from the observed sources, egress rules to the observed destinations, peers
//!    with the same observed port set sharing one rule; ports as numbers, consecutive ports merged
//!    into `port`/`endPort`. Peers in another namespace are selected through
//!    `kubernetes.io/metadata.name`; external addresses as `/32` or `/128` ipBlocks.
//! 5. Optionally an egress rule to the cluster DNS (UDP and TCP 53) in every generated policy,
//!    and a `default-deny` policy (both directions) per namespace that has workloads.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use palisade_model::api::{
    IntOrString, IpBlock, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use palisade_model::flow::{Flow, FlowEndpoint};
use palisade_model::inventory::{NAMESPACE_NAME_LABEL, Resource};
use palisade_model::selector::{LabelSelector, LabelSelectorRequirement};
use palisade_model::{Inventory, Labels, NetworkPolicy, ObjectMeta, SourceLocation, WorkloadId};
use serde::Serialize;

use crate::ports::{PortSet, Protocol};
use crate::universe::Universe;

/// Label keys set by controllers on pods at run time, which change between rollouts and must
/// not be used to select workloads.
pub const VOLATILE_LABEL_KEYS: &[&str] = &[
    "pod-template-hash",
    "controller-revision-hash",
    "pod-template-generation",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "controller-uid",
    "job-name",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
    "batch.kubernetes.io/job-completion-index",
];

/// Where the cluster DNS runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsTarget {
    /// Namespace of the DNS pods.
    pub namespace: String,
    /// Labels selecting the DNS pods.
    pub pod_labels: Labels,
}

impl Default for DnsTarget {
    /// `kube-system`, `k8s-app: kube-dns` (CoreDNS keeps this label).
    fn default() -> Self {
        DnsTarget {
            namespace: "kube-system".into(),
            pod_labels: [("k8s-app".to_string(), "kube-dns".to_string())].into(),
        }
    }
}

/// Options of [`generate`].
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    /// Add `default-deny` policies (ingress and egress) to every namespace with workloads.
    pub default_deny: bool,
    /// Add an egress rule to the cluster DNS to every generated workload policy.
    pub dns: Option<DnsTarget>,
}

/// A generated NetworkPolicy (metadata and a spec in the model's types).
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedPolicy {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// The workloads it selects (empty for default-deny).
    pub selects: Vec<WorkloadId>,
    /// The spec.
    pub spec: NetworkPolicySpec,
}

impl GeneratedPolicy {
    /// The policy as a model object (for feeding it back into an analysis).
    pub fn to_resource(&self, source: SourceLocation) -> NetworkPolicy {
        let mut labels = Labels::new();
        labels.insert(
            "app.kubernetes.io/managed-by".to_string(),
            "palisade".to_string(),
        );
        let meta = ObjectMeta {
            name: self.name.clone(),
            namespace: Some(self.namespace.clone()),
            labels,
            ..Default::default()
        };
        Resource {
            api_version: "networking.k8s.io/v1".into(),
            kind: "NetworkPolicy".into(),
            meta,
            source,
            spec: self.spec.clone(),
            raw: std::sync::Arc::new(self.manifest()),
        }
    }

    /// The full object as a JSON value in API form (absent fields omitted), ready to be written
    /// as YAML or JSON by a sink.
    pub fn manifest(&self) -> serde_json::Value {
        let mut spec = serde_json::Map::new();
        spec.insert("podSelector".into(), selector_json(&self.spec.pod_selector));
        if let Some(t) = &self.spec.policy_types {
            spec.insert("policyTypes".into(), serde_json::json!(t));
        }
        if let Some(rules) = &self.spec.ingress {
            let v: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| rule_json("from", r.from.as_deref(), r.ports.as_deref()))
                .collect();
            spec.insert("ingress".into(), serde_json::Value::Array(v));
        }
        if let Some(rules) = &self.spec.egress {
            let v: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| rule_json("to", r.to.as_deref(), r.ports.as_deref()))
                .collect();
            spec.insert("egress".into(), serde_json::Value::Array(v));
        }
        serde_json::json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": "palisade"},
            },
            "spec": spec,
        })
    }
}

fn selector_json(s: &LabelSelector) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    if !s.match_labels.is_empty() {
        m.insert("matchLabels".into(), serde_json::json!(s.match_labels));
    }
    if !s.match_expressions.is_empty() {
        let exprs: Vec<serde_json::Value> = s
            .match_expressions
            .iter()
            .map(|r| {
                let mut e = serde_json::json!({"key": r.key, "operator": r.operator});
                if !r.values.is_empty() {
                    e["values"] = serde_json::json!(r.values);
                }
                e
            })
            .collect();
        m.insert("matchExpressions".into(), serde_json::Value::Array(exprs));
    }
    serde_json::Value::Object(m)
}

fn rule_json(
    peer_field: &str,
    peers: Option<&[NetworkPolicyPeer]>,
    ports: Option<&[NetworkPolicyPort]>,
) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    if let Some(peers) = peers {
        let v: Vec<serde_json::Value> = peers
            .iter()
            .map(|p| {
                let mut o = serde_json::Map::new();
                if let Some(ns) = &p.namespace_selector {
                    o.insert("namespaceSelector".into(), selector_json(ns));
                }
                if let Some(ps) = &p.pod_selector {
                    o.insert("podSelector".into(), selector_json(ps));
                }
                if let Some(b) = &p.ip_block {
                    o.insert("ipBlock".into(), serde_json::json!({"cidr": b.cidr}));
                }
                serde_json::Value::Object(o)
            })
            .collect();
        m.insert(peer_field.into(), serde_json::Value::Array(v));
    }
    if let Some(ports) = ports {
        let v: Vec<serde_json::Value> = ports
            .iter()
            .map(|p| {
                let mut o = serde_json::json!({"protocol": p.protocol, "port": p.port});
                if let Some(e) = p.end_port {
                    o["endPort"] = serde_json::json!(e);
                }
                o
            })
            .collect();
        m.insert("ports".into(), serde_json::Value::Array(v));
    }
    serde_json::Value::Object(m)
}

/// A flow that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedFlow {
    /// 0-based index of the flow in the input.
    pub index: usize,
    /// Why it was skipped.
    pub reason: String,
}

/// Result of [`generate`].
#[derive(Debug, Clone)]
pub struct Generated {
    /// Policies: per-workload policies sorted by namespace and name, then default-deny ones.
    pub policies: Vec<GeneratedPolicy>,
    /// Flows that could not be resolved.
    pub skipped: Vec<SkippedFlow>,
    /// Groups of workloads that policies cannot tell apart (same namespace and stable labels);
    /// each group shares one policy.
    pub merged: Vec<Vec<WorkloadId>>,
}

/// One end of a resolved flow: a group of workloads or an external address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Side {
    Group(usize),
    External(IpAddr),
}

struct Group {
    namespace: String,
    members: Vec<usize>,
    selector: LabelSelector,
}

/// Generates least-privilege policies for the workloads of `inventory` from observed `flows`.
pub fn generate(flows: &[Flow], inventory: &Inventory, options: &GenerateOptions) -> Generated {
    let universe = Universe::new(inventory);
    let (groups, group_of) = build_groups(&universe);
    let mut skipped = Vec::new();
    // (src, dst) -> ports
    let mut observed: BTreeMap<(Side, Side), PortSet> = BTreeMap::new();
    for (i, f) in flows.iter().enumerate() {
        let resolved = resolve(&universe, &f.src, "src")
            .and_then(|s| resolve(&universe, &f.dst, "dst").map(|d| (s, d)))
            .and_then(|(s, d)| {
                let proto: Protocol = f.protocol.parse().map_err(|e| format!("{e}"))?;
                if f.port == 0 {
                    return Err("port 0".to_string());
                }
                Ok((s, d, proto))
            });
        match resolved {
            Ok((Resolved::Ip(_), Resolved::Ip(_), _)) => skipped.push(SkippedFlow {
                index: i,
                reason: "both ends are outside the cluster".into(),
            }),
            Ok((s, d, proto)) => {
                let side = |r: Resolved| match r {
                    Resolved::Member(m) => Side::Group(group_of[m]),
                    Resolved::Ip(ip) => Side::External(ip),
                };
                observed
                    .entry((side(s), side(d)))
                    .or_default()
                    .insert_range(proto, f.port, f.port);
            }
            Err(reason) => skipped.push(SkippedFlow { index: i, reason }),
        }
    }

    let mut ingress: BTreeMap<usize, BTreeMap<Side, PortSet>> = BTreeMap::new();
    let mut egress: BTreeMap<usize, BTreeMap<Side, PortSet>> = BTreeMap::new();
    for ((s, d), ports) in &observed {
        if let Side::Group(g) = d {
            ingress.entry(*g).or_default().insert(*s, ports.clone());
            egress.entry(*g).or_default();
        }
        if let Side::Group(g) = s {
            egress.entry(*g).or_default().insert(*d, ports.clone());
            ingress.entry(*g).or_default();
        }
    }
    let mut policies = Vec::new();
    for (&g, sources) in &ingress {
        let group = &groups[g];
        let first = &universe.members[group.members[0]].id;
        let mut egress_rules: Vec<NetworkPolicyEgressRule> =
            rules_by_ports(egress.get(&g).into_iter().flatten(), group, &groups)
                .into_iter()
                .map(|(to, ports)| NetworkPolicyEgressRule {
                    to: Some(to),
                    ports: Some(ports),
                })
                .collect();
        if let Some(dns) = &options.dns {
            egress_rules.push(dns_rule(dns, &group.namespace));
        }
        let ingress_rules: Vec<NetworkPolicyIngressRule> =
            rules_by_ports(sources.iter(), group, &groups)
                .into_iter()
                .map(|(from, ports)| NetworkPolicyIngressRule {
                    from: Some(from),
                    ports: Some(ports),
                })
                .collect();
        policies.push(GeneratedPolicy {
            name: policy_name(first),
            namespace: group.namespace.clone(),
            selects: group
                .members
                .iter()
                .map(|&m| universe.members[m].id.clone())
                .collect(),
            spec: NetworkPolicySpec {
                pod_selector: group.selector.clone(),
                policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
                ingress: Some(ingress_rules),
                egress: Some(egress_rules),
            },
        });
    }
    policies.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    if options.default_deny {
        let namespaces: BTreeSet<&str> = universe
            .members
            .iter()
            .map(|m| m.id.namespace.as_str())
            .collect();
        for ns in namespaces {
            policies.push(GeneratedPolicy {
                name: "default-deny".into(),
                namespace: ns.to_string(),
                selects: Vec::new(),
                spec: NetworkPolicySpec {
                    pod_selector: LabelSelector::default(),
                    policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
                    ingress: None,
                    egress: None,
                },
            });
        }
    }
    let merged = groups
        .iter()
        .filter(|g| g.members.len() > 1)
        .map(|g| {
            g.members
                .iter()
                .map(|&m| universe.members[m].id.clone())
                .collect()
        })
        .collect();
    Generated {
        policies,
        skipped,
        merged,
    }
}

fn policy_name(id: &WorkloadId) -> String {
    let mut name = format!("allow-{}-{}", id.kind.to_ascii_lowercase(), id.name);
    name.truncate(253);
    name
}

/// Stable labels: pod labels minus controller-generated keys.
fn stable_labels(labels: &Labels) -> Labels {
    labels
        .iter()
        .filter(|(k, _)| !VOLATILE_LABEL_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Groups workloads by (namespace, stable labels) and builds each group's exact selector.
fn build_groups(u: &Universe<'_>) -> (Vec<Group>, Vec<usize>) {
    let mut key_to_group: BTreeMap<(String, Labels), usize> = BTreeMap::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut stable_of: Vec<Labels> = Vec::new();
    let mut group_of = vec![0; u.members.len()];
    for (i, m) in u.members.iter().enumerate() {
        let stable = stable_labels(m.labels);
        let key = (m.id.namespace.clone(), stable.clone());
        let g = *key_to_group.entry(key).or_insert_with(|| {
            groups.push(Group {
                namespace: m.id.namespace.clone(),
                members: Vec::new(),
                selector: LabelSelector::from_labels(stable.clone()),
            });
            stable_of.push(stable);
            groups.len() - 1
        });
        groups[g].members.push(i);
        group_of[i] = g;
    }
    // Exclude other groups of the namespace whose stable labels are a strict superset.
    for g in 0..groups.len() {
        let mine = &stable_of[g];
        let mut exclude: BTreeSet<String> = BTreeSet::new();
        for o in 0..groups.len() {
            if o == g || groups[o].namespace != groups[g].namespace {
                continue;
            }
            let theirs = &stable_of[o];
            let superset = mine.iter().all(|(k, v)| theirs.get(k) == Some(v));
            if !superset {
                continue;
            }
            // Already excluded by a key chosen for another group?
            if theirs.keys().any(|k| exclude.contains(k)) {
                continue;
            }
            if let Some(k) = theirs.keys().find(|k| !mine.contains_key(*k)) {
                exclude.insert(k.clone());
            }
        }
        groups[g].selector.match_expressions = exclude
            .into_iter()
            .map(|key| LabelSelectorRequirement {
                key,
                operator: "DoesNotExist".into(),
                values: Vec::new(),
            })
            .collect();
    }
    (groups, group_of)
}

enum Resolved {
    Member(usize),
    Ip(IpAddr),
}

/// Resolves a flow endpoint to a workload of the universe or an external address.
fn resolve(u: &Universe<'_>, ep: &FlowEndpoint, side: &str) -> Result<Resolved, String> {
    let Some(ns) = ep.namespace.as_deref() else {
        return match ep.ip.as_deref() {
            Some(ip) => ip
                .parse::<IpAddr>()
                .map(Resolved::Ip)
                .map_err(|_| format!("{side}.ip {ip:?} is not an IP address")),
            None => Err(format!("{side} has neither namespace nor ip")),
        };
    };
    let in_ns = || {
        u.members
            .iter()
            .enumerate()
            .filter(move |(_, m)| m.id.namespace == ns)
    };
    if let Some(w) = ep.workload.as_deref() {
        let (kind, name) = w
            .split_once('/')
            .ok_or_else(|| format!("{side}.workload {w:?} is not Kind/name"))?;
        if let Some((i, _)) = in_ns().find(|(_, m)| m.id.kind == kind && m.id.name == name) {
            return Ok(Resolved::Member(i));
        }
        // A ReplicaSet of a listed Deployment, a Job of a listed CronJob.
        let owner_kind = match kind {
            "ReplicaSet" => Some("Deployment"),
            "Job" => Some("CronJob"),
            _ => None,
        };
        if let (Some(ok), Some((owner, _))) = (owner_kind, name.rsplit_once('-'))
            && let Some((i, _)) = in_ns().find(|(_, m)| m.id.kind == ok && m.id.name == owner)
        {
            return Ok(Resolved::Member(i));
        }
    }
    if let Some(pod) = ep.pod.as_deref() {
        // The workload whose name is the longest prefix of the pod name.
        let best = in_ns()
            .filter(|(_, m)| {
                pod == m.id.name
                    || pod
                        .strip_prefix(m.id.name.as_str())
                        .is_some_and(|rest| rest.starts_with('-'))
            })
            .max_by_key(|(_, m)| m.id.name.len());
        if let Some((i, _)) = best {
            return Ok(Resolved::Member(i));
        }
    }
    Err(format!(
        "{side} {ns}/{} matches no workload of the inventory",
        ep.workload
            .as_deref()
            .or(ep.pod.as_deref())
            .unwrap_or("<unnamed>")
    ))
}

/// Rules for one policy: peers with the same observed port set share a rule. Sorted.
fn rules_by_ports<'s>(
    peers: impl Iterator<Item = (&'s Side, &'s PortSet)>,
    own: &Group,
    groups: &[Group],
) -> Vec<(Vec<NetworkPolicyPeer>, Vec<NetworkPolicyPort>)> {
    let mut by_ports: HashMap<&PortSet, Vec<&Side>> = HashMap::new();
    for (side, ports) in peers {
        by_ports.entry(ports).or_default().push(side);
    }
    let mut rules: Vec<(Vec<&Side>, &PortSet)> = by_ports
        .into_iter()
        .map(|(p, mut s)| {
            s.sort();
            (s, p)
        })
        .collect();
    rules.sort();
    rules
        .into_iter()
        .map(|(sides, ports)| {
            (
                sides.into_iter().map(|s| peer(s, own, groups)).collect(),
                port_entries(ports),
            )
        })
        .collect()
}

fn peer(side: &Side, own: &Group, groups: &[Group]) -> NetworkPolicyPeer {
    match side {
        Side::External(ip) => NetworkPolicyPeer {
            ip_block: Some(IpBlock {
                cidr: match ip {
                    IpAddr::V4(a) => format!("{a}/32"),
                    IpAddr::V6(a) => format!("{a}/128"),
                },
                except: Vec::new(),
            }),
            ..Default::default()
        },
        Side::Group(g) => {
            let other = &groups[*g];
            NetworkPolicyPeer {
                pod_selector: Some(other.selector.clone()),
                namespace_selector: (other.namespace != own.namespace)
                    .then(|| namespace_name_selector(&other.namespace)),
                ip_block: None,
            }
        }
    }
}

fn namespace_name_selector(ns: &str) -> LabelSelector {
    LabelSelector::from_labels([(NAMESPACE_NAME_LABEL.to_string(), ns.to_string())].into())
}

fn dns_rule(dns: &DnsTarget, _own_ns: &str) -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule {
        to: Some(vec![NetworkPolicyPeer {
            namespace_selector: Some(namespace_name_selector(&dns.namespace)),
            pod_selector: Some(LabelSelector::from_labels(dns.pod_labels.clone())),
            ip_block: None,
        }]),
        ports: Some(vec![
            NetworkPolicyPort {
                protocol: Some("UDP".into()),
                port: Some(IntOrString::Int(53)),
                end_port: None,
            },
            NetworkPolicyPort {
                protocol: Some("TCP".into()),
                port: Some(IntOrString::Int(53)),
                end_port: None,
            },
        ]),
    }
}

/// Port entries for a port set: one per interval, `endPort` for ranges.
fn port_entries(ports: &PortSet) -> Vec<NetworkPolicyPort> {
    ports
        .ranges()
        .map(|r| NetworkPolicyPort {
            protocol: Some(r.protocol.as_str().to_string()),
            port: Some(IntOrString::Int(i64::from(r.start))),
            end_port: (r.end != r.start).then_some(i64::from(r.end)),
        })
        .collect()
}
