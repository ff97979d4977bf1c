//! NetworkPolicies compiled into a validated form with the exact networking.k8s.io/v1 meaning.
//!
//! Rules encoded here (each pinned by a test named in `docs/network-policy.md`):
//! - `policyTypes` absent (or empty): Ingress always, Egress only when `egress` has at least one
//!   rule. Explicit `policyTypes` decide alone; rules of a direction not listed are ignored.
//! - A policy that affects a direction isolates the pods it selects for that direction; its rules
//!   (possibly none) say what is allowed.
//! - `from`/`to` absent or empty: every peer. `ports` absent or empty: every port.
//! - A peer with only `podSelector`: pods of the policy's namespace; only `namespaceSelector`:
//!   every pod of the matching namespaces; both: the intersection. An empty selector `{}` matches
//!   everything, an absent one does not restrict.
//! - `ipBlock`: external addresses in `cidr` and not in any `except`.
//! - Ports: number, `port`..`endPort` range, or a name resolved against the destination pod's
//!   container ports of the same protocol; protocol TCP when absent.
//!
//! Invalid content never stops the analysis: each invalid part is reported as a [`Diagnostic`]
//! and treated as matching nothing (an invalid peer or port entry allows nothing; a policy whose
//! own `podSelector` is invalid selects no pod, as the API server would not have stored it).

use std::collections::HashMap;

use ipnet::IpNet;
use palisade_model::api::{IntOrString, NetworkPolicyPeer, NetworkPolicyPort};
use palisade_model::{Diagnostic, Labels, NetworkPolicy, ObjectRef};

use crate::diagnostics::Reporter;
use crate::ipspace::{IpInterval, parse_cidr};
use crate::ports::{PortSet, Protocol};
use crate::selectors::Selector;
use crate::universe::NamedPorts;

/// Which way traffic flows relative to the selected pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Direction {
    /// Traffic into the selected pod.
    Ingress,
    /// Traffic out of the selected pod.
    Egress,
}

impl Direction {
    /// `ingress` / `egress`: the field name in the policy spec.
    pub fn field(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// Which namespaces a pod peer covers.
#[derive(Debug, Clone)]
pub(crate) enum NamespaceScope {
    /// The policy's own namespace (no `namespaceSelector`).
    Own(String),
    /// Namespaces whose labels match.
    Matching(Selector),
}

/// One compiled peer.
#[derive(Debug, Clone)]
pub(crate) enum Peer {
    /// Pods selected by namespace scope and pod selector (`None` = every pod in scope).
    Pods {
        namespaces: NamespaceScope,
        pods: Option<Selector>,
    },
    /// External addresses: `cidr` minus `except`.
    IpBlock { cidr: IpNet, except: Vec<IpNet> },
    /// An invalid peer: matches nothing.
    Nothing,
}

impl Peer {
    /// Whether a pod with these namespace/pod labels is a member.
    pub(crate) fn matches_pod(
        &self,
        ns_name: &str,
        ns_labels: &Labels,
        pod_labels: &Labels,
    ) -> bool {
        match self {
            Peer::Pods { namespaces, pods } => {
                let ns_ok = match namespaces {
                    NamespaceScope::Own(ns) => ns == ns_name,
                    NamespaceScope::Matching(sel) => sel.matches(ns_labels),
                };
                ns_ok && pods.as_ref().is_none_or(|s| s.matches(pod_labels))
            }
            Peer::IpBlock { .. } | Peer::Nothing => false,
        }
    }

    /// Whether an external address is a member.
    pub(crate) fn matches_ip(&self, ip: std::net::IpAddr) -> bool {
        match self {
            Peer::IpBlock { cidr, except } => {
                IpInterval::of_net(cidr).contains(ip)
                    && !except.iter().any(|e| IpInterval::of_net(e).contains(ip))
            }
            _ => false,
        }
    }
}

/// The peers of a rule.
#[derive(Debug, Clone)]
pub(crate) enum Peers {
    /// `from`/`to` absent or empty: every pod and every external address.
    Any,
    /// Union of the listed peers.
    List(Vec<Peer>),
}

/// One compiled `ports[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum PortMatch {
    /// A number or `port`..`endPort` (or every port of the protocol when `port` is absent).
    Range(Protocol, u16, u16),
    /// A named container port of the destination pod.
    Named(Protocol, String),
    /// An invalid entry: matches nothing.
    Nothing,
}

/// The ports of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Ports {
    /// `ports` absent or empty: every port of every protocol.
    Any,
    /// Union of the listed entries.
    List(Vec<PortMatch>),
}

impl Ports {
    /// The ports this rule allows towards a destination with these named ports (`None` for an
    /// external address, where names resolve to nothing).
    pub(crate) fn resolve(&self, dst_named: Option<&NamedPorts>) -> PortSet {
        match self {
            Ports::Any => PortSet::all(),
            Ports::List(list) => {
                let mut out = PortSet::empty();
                for m in list {
                    match m {
                        PortMatch::Range(p, s, e) => out.insert_range(*p, *s, *e),
                        PortMatch::Named(p, name) => {
                            for &(proto, port) in
                                dst_named.and_then(|n| n.get(name)).into_iter().flatten()
                            {
                                if proto == *p {
                                    out.insert_range(proto, port, port);
                                }
                            }
                        }
                        PortMatch::Nothing => {}
                    }
                }
                out
            }
        }
    }

    /// Port names this rule refers to.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        let list: &[PortMatch] = match self {
            Ports::Any => &[],
            Ports::List(l) => l,
        };
        list.iter().filter_map(|m| match m {
            PortMatch::Named(_, n) => Some(n.as_str()),
            _ => None,
        })
    }

    /// True when the rule names at least one port by name.
    pub(crate) fn has_names(&self) -> bool {
        self.names().next().is_some()
    }
}

/// One compiled ingress or egress rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) peers: Peers,
    pub(crate) ports: Ports,
}

/// One compiled NetworkPolicy.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// The policy object.
    pub(crate) object: ObjectRef,
    /// Namespace it lives in (and selects pods of).
    pub(crate) namespace: String,
    /// `spec.podSelector`; `None` when invalid (the policy then selects nothing).
    pub(crate) selector: Option<Selector>,
    /// `Some(rules)` when the policy affects ingress.
    pub(crate) ingress: Option<Vec<Rule>>,
    /// `Some(rules)` when the policy affects egress.
    pub(crate) egress: Option<Vec<Rule>>,
}

impl Policy {
    /// Rules of one direction, `None` when the policy does not affect it.
    pub(crate) fn rules(&self, d: Direction) -> Option<&[Rule]> {
        match d {
            Direction::Ingress => self.ingress.as_deref(),
            Direction::Egress => self.egress.as_deref(),
        }
    }
}

/// A rule as written: its peers (`from`/`to`) and ports.
type RawRule<'s> = (
    Option<&'s Vec<NetworkPolicyPeer>>,
    Option<&'s Vec<NetworkPolicyPort>>,
);

const NOTHING_PEER: &str = "this peer matches nothing";
const NOTHING_PORT: &str = "this port entry matches nothing";

/// Compiles every policy of the inventory, collecting diagnostics.
///
/// Two policies with one name in one namespace cannot both exist in a cluster (the second
/// replaces the first when applied): each repetition is a warning, and the analysis, which
/// cannot tell which one the cluster holds, keeps every copy (the union of what they allow).
pub(crate) fn compile_all(policies: &[NetworkPolicy], out: &mut Vec<Diagnostic>) -> Vec<Policy> {
    let mut seen: HashMap<(&str, &str), &NetworkPolicy> = HashMap::new();
    for np in policies {
        let key = (np.namespace().unwrap_or("default"), np.meta.name.as_str());
        match seen.get(&key) {
            None => {
                seen.insert(key, np);
            }
            Some(first) => {
                let object = np.object_ref();
                Reporter {
                    policy: &object,
                    out,
                }
                .warning(
                    "metadata.name",
                    format!(
                        "NetworkPolicy {}/{} is declared more than once (first at {})",
                        key.0, key.1, first.source
                    ),
                    "both copies are analysed, though a cluster holds only one (the last applied)",
                );
            }
        }
    }
    policies.iter().map(|p| compile(p, out)).collect()
}

/// Compiles one policy.
pub(crate) fn compile(np: &NetworkPolicy, out: &mut Vec<Diagnostic>) -> Policy {
    let object = np.object_ref();
    let namespace = np.namespace().unwrap_or("default").to_string();
    let mut rep = Reporter {
        policy: &object,
        out,
    };
    let spec = &np.spec;
    let selector = match Selector::compile(&spec.pod_selector) {
        Ok(s) => Some(s),
        Err(e) => {
            rep.error(
                "spec.podSelector",
                e.to_string(),
                "the policy selects no pod and has no effect (the API server would reject it)",
            );
            None
        }
    };

    let (affects_ingress, affects_egress) = policy_types(np, &mut rep);
    let mut compile_dir = |dir: Direction, affects: bool| -> Option<Vec<Rule>> {
        let rules: Vec<RawRule<'_>> = match dir {
            Direction::Ingress => spec
                .ingress
                .iter()
                .flatten()
                .map(|r| (r.from.as_ref(), r.ports.as_ref()))
                .collect(),
            Direction::Egress => spec
                .egress
                .iter()
                .flatten()
                .map(|r| (r.to.as_ref(), r.ports.as_ref()))
                .collect(),
        };
        if !affects {
            if !rules.is_empty() {
                rep.warning(
                    format!("spec.{}", dir.field()),
                    format!(
                        "{} rules are present but policyTypes does not include {:?}",
                        dir.field(),
                        dir
                    ),
                    "these rules are ignored (as Kubernetes does)",
                );
            }
            return None;
        }
        let peer_field = match dir {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        Some(
            rules
                .into_iter()
                .enumerate()
                .map(|(ri, (peers, ports))| {
                    let base = format!("spec.{}[{ri}]", dir.field());
                    Rule {
                        peers: compile_peers(
                            peers,
                            &format!("{base}.{peer_field}"),
                            &namespace,
                            &mut rep,
                        ),
                        ports: compile_ports(ports, &format!("{base}.ports"), &mut rep),
                    }
                })
                .collect(),
        )
    };
    let ingress = compile_dir(Direction::Ingress, affects_ingress);
    let egress = compile_dir(Direction::Egress, affects_egress);
    Policy {
        object: object.clone(),
        namespace,
        selector,
        ingress,
        egress,
    }
}

/// Effective policy types: (affects ingress, affects egress).
fn policy_types(np: &NetworkPolicy, rep: &mut Reporter<'_>) -> (bool, bool) {
    let spec = &np.spec;
    let mut ingress = false;
    let mut egress = false;
    let mut any_valid = false;
    for (i, t) in spec.policy_types.iter().flatten().enumerate() {
        match t.as_str() {
            "Ingress" => {
                ingress = true;
                any_valid = true;
            }
            "Egress" => {
                egress = true;
                any_valid = true;
            }
            other => rep.error(
                format!("spec.policyTypes[{i}]"),
                format!("unknown policy type {other:?} (expected Ingress or Egress)"),
                "this entry is ignored",
            ),
        }
    }
    if any_valid {
        (ingress, egress)
    } else {
        // Defaulting (also for an empty list): Ingress always, Egress when egress rules exist.
        let has_egress_rules = spec.egress.as_ref().is_some_and(|e| !e.is_empty());
        (true, has_egress_rules)
    }
}

fn compile_peers(
    peers: Option<&Vec<NetworkPolicyPeer>>,
    field: &str,
    namespace: &str,
    rep: &mut Reporter<'_>,
) -> Peers {
    match peers {
        None => Peers::Any,
        Some(list) if list.is_empty() => Peers::Any,
        Some(list) => Peers::List(
            list.iter()
                .enumerate()
                .map(|(i, p)| compile_peer(p, &format!("{field}[{i}]"), namespace, rep))
                .collect(),
        ),
    }
}

fn compile_peer(
    p: &NetworkPolicyPeer,
    field: &str,
    namespace: &str,
    rep: &mut Reporter<'_>,
) -> Peer {
    if let Some(block) = &p.ip_block {
        if p.pod_selector.is_some() || p.namespace_selector.is_some() {
            rep.error(
                field,
                "ipBlock cannot be combined with podSelector or namespaceSelector",
                NOTHING_PEER,
            );
            return Peer::Nothing;
        }
        let cidr = match parse_cidr(&block.cidr) {
            Ok(c) => c,
            Err(e) => {
                rep.error(format!("{field}.ipBlock.cidr"), e, NOTHING_PEER);
                return Peer::Nothing;
            }
        };
        let outer = IpInterval::of_net(&cidr);
        let mut except = Vec::new();
        for (i, e) in block.except.iter().enumerate() {
            let efield = format!("{field}.ipBlock.except[{i}]");
            match parse_cidr(e) {
                Ok(n) => {
                    let inner = IpInterval::of_net(&n);
                    if !outer.covers(&inner) || n.prefix_len() <= cidr.prefix_len() {
                        rep.error(
                            efield,
                            format!("{n} is not a strict subset of cidr {cidr}"),
                            NOTHING_PEER,
                        );
                        return Peer::Nothing;
                    }
                    except.push(n);
                }
                Err(msg) => {
                    rep.error(efield, msg, NOTHING_PEER);
                    return Peer::Nothing;
                }
            }
        }
        return Peer::IpBlock { cidr, except };
    }
    let pods = match &p.pod_selector {
        None => None,
        Some(s) => match Selector::compile(s) {
            Ok(s) => Some(s),
            Err(e) => {
                rep.error(format!("{field}.podSelector"), e.to_string(), NOTHING_PEER);
                return Peer::Nothing;
            }
        },
    };
    let namespaces = match &p.namespace_selector {
        None => NamespaceScope::Own(namespace.to_string()),
        Some(s) => match Selector::compile(s) {
            Ok(s) => NamespaceScope::Matching(s),
            Err(e) => {
                rep.error(
                    format!("{field}.namespaceSelector"),
                    e.to_string(),
                    NOTHING_PEER,
                );
                return Peer::Nothing;
            }
        },
    };
    if p.pod_selector.is_none() && p.namespace_selector.is_none() {
        rep.error(
            field,
            "a peer must set podSelector, namespaceSelector or ipBlock",
            NOTHING_PEER,
        );
        return Peer::Nothing;
    }
    Peer::Pods { namespaces, pods }
}

fn compile_ports(
    ports: Option<&Vec<NetworkPolicyPort>>,
    field: &str,
    rep: &mut Reporter<'_>,
) -> Ports {
    match ports {
        None => Ports::Any,
        Some(list) if list.is_empty() => Ports::Any,
        Some(list) => Ports::List(
            list.iter()
                .enumerate()
                .map(|(i, p)| compile_port(p, &format!("{field}[{i}]"), rep))
                .collect(),
        ),
    }
}

fn compile_port(p: &NetworkPolicyPort, field: &str, rep: &mut Reporter<'_>) -> PortMatch {
    let protocol = match p.protocol.as_deref() {
        None => Protocol::Tcp,
        Some(s) => match Protocol::parse_api(s) {
            Some(p) => p,
            None => {
                rep.error(
                    format!("{field}.protocol"),
                    format!("unknown protocol {s:?} (expected TCP, UDP or SCTP)"),
                    NOTHING_PORT,
                );
                return PortMatch::Nothing;
            }
        },
    };
    match (&p.port, p.end_port) {
        (None, None) => PortMatch::Range(protocol, crate::ports::MIN_PORT, crate::ports::MAX_PORT),
        (None, Some(_)) => {
            rep.error(
                format!("{field}.endPort"),
                "endPort may not be set without port",
                NOTHING_PORT,
            );
            PortMatch::Nothing
        }
        (Some(IntOrString::Int(n)), end) => {
            let Some(start) = valid_port(*n) else {
                rep.error(
                    format!("{field}.port"),
                    format!("port {n} is outside 1-65535"),
                    NOTHING_PORT,
                );
                return PortMatch::Nothing;
            };
            match end {
                None => PortMatch::Range(protocol, start, start),
                Some(e) => match valid_port(e) {
                    Some(end) if end >= start => PortMatch::Range(protocol, start, end),
                    _ => {
                        rep.error(
                            format!("{field}.endPort"),
                            format!("endPort {e} must be between port {start} and 65535"),
                            NOTHING_PORT,
                        );
                        PortMatch::Nothing
                    }
                },
            }
        }
        (Some(IntOrString::String(name)), end) => {
            if end.is_some() {
                rep.error(
                    format!("{field}.endPort"),
                    "endPort may only be used with a numeric port",
                    NOTHING_PORT,
                );
                return PortMatch::Nothing;
            }
            if !is_iana_svc_name(name) {
                rep.error(
                    format!("{field}.port"),
                    format!(
                        "{name:?} is neither a port number nor a valid port name (IANA_SVC_NAME: 1-15 lower-case letters, digits and single hyphens, at least one letter)"
                    ),
                    NOTHING_PORT,
                );
                return PortMatch::Nothing;
            }
            PortMatch::Named(protocol, name.clone())
        }
    }
}

fn valid_port(n: i64) -> Option<u16> {
    u16::try_from(n).ok().filter(|&p| p >= 1)
}

/// RFC 6335 service name, as Kubernetes validates named ports.
pub(crate) fn is_iana_svc_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names() {
        assert!(is_iana_svc_name("http"));
        assert!(is_iana_svc_name("web-8080"));
        assert!(!is_iana_svc_name("80"));
        assert!(!is_iana_svc_name("HTTP"));
        assert!(!is_iana_svc_name("a--b"));
        assert!(!is_iana_svc_name("-a"));
        assert!(!is_iana_svc_name("averyveryverylongname"));
    }
}
