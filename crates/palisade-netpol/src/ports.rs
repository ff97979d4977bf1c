//! Protocols and port sets: sorted, disjoint, non-adjacent port intervals per protocol.
//!
//! Every reachability result is a [`PortSet`]: which destination ports of which protocol a
//! connection may use. Port numbers run from 1 to 65535.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Lowest port number a NetworkPolicy can name.
pub const MIN_PORT: u16 = 1;
/// Highest port number.
pub const MAX_PORT: u16 = u16::MAX;

/// A transport protocol NetworkPolicies can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Protocol {
    /// TCP (the default when a rule names none).
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
    /// SCTP.
    #[serde(rename = "SCTP")]
    Sctp,
}

impl Protocol {
    /// All protocols, in output order.
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    /// The API spelling (`TCP`, `UDP`, `SCTP`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    fn index(self) -> usize {
        match self {
            Protocol::Tcp => 0,
            Protocol::Udp => 1,
            Protocol::Sctp => 2,
        }
    }

    /// Parses the exact API spelling; the API server rejects every other value, including
    /// lower case.
    pub fn parse_api(s: &str) -> Option<Protocol> {
        match s {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a protocol name that is not `TCP`, `UDP` or `SCTP`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol {0:?} (expected TCP, UDP or SCTP)")]
pub struct UnknownProtocol(pub String);

impl FromStr for Protocol {
    type Err = UnknownProtocol;
    /// Case-insensitive, for command lines (`80/tcp`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protocol::parse_api(&s.to_ascii_uppercase()).ok_or_else(|| UnknownProtocol(s.to_string()))
    }
}

/// One inclusive port interval of one protocol, as it appears in output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortRange {
    /// Protocol.
    pub protocol: Protocol,
    /// First port.
    pub start: u16,
    /// Last port (inclusive).
    pub end: u16,
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == MIN_PORT && self.end == MAX_PORT {
            write!(f, "all/{}", self.protocol)
        } else if self.start == self.end {
            write!(f, "{}/{}", self.start, self.protocol)
        } else {
            write!(f, "{}-{}/{}", self.start, self.end, self.protocol)
        }
    }
}

/// A set of (protocol, port) pairs, stored as sorted disjoint intervals per protocol.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PortSet {
    by_protocol: [Vec<(u16, u16)>; 3],
}

impl PortSet {
    /// The empty set.
    pub fn empty() -> PortSet {
        PortSet::default()
    }

    /// Every port of every protocol.
    pub fn all() -> PortSet {
        let full = vec![(MIN_PORT, MAX_PORT)];
        PortSet {
            by_protocol: [full.clone(), full.clone(), full],
        }
    }

    /// Every port of one protocol.
    pub fn all_of(protocol: Protocol) -> PortSet {
        PortSet::range(protocol, MIN_PORT, MAX_PORT)
    }

    /// One interval (empty when `start > end`; port 0 is clamped to 1).
    pub fn range(protocol: Protocol, start: u16, end: u16) -> PortSet {
        let mut s = PortSet::empty();
        let start = start.max(MIN_PORT);
        if start <= end {
            s.by_protocol[protocol.index()].push((start, end));
        }
        s
    }

    /// One port.
    pub fn single(protocol: Protocol, port: u16) -> PortSet {
        PortSet::range(protocol, port, port)
    }

    /// Builds a set from arbitrary (possibly overlapping) ranges.
    pub fn from_ranges(ranges: impl IntoIterator<Item = PortRange>) -> PortSet {
        let mut s = PortSet::empty();
        for r in ranges {
            s.insert_range(r.protocol, r.start, r.end);
        }
        s
    }

    /// Adds an interval.
    pub fn insert_range(&mut self, protocol: Protocol, start: u16, end: u16) {
        let add = PortSet::range(protocol, start, end);
        if !add.is_empty() {
            *self = self.union(&add);
        }
    }

    /// True when no port is in the set.
    pub fn is_empty(&self) -> bool {
        self.by_protocol.iter().all(Vec::is_empty)
    }

    /// True when every port of every protocol is in the set.
    pub fn is_all(&self) -> bool {
        self.by_protocol
            .iter()
            .all(|v| v.as_slice() == [(MIN_PORT, MAX_PORT)])
    }

    /// Whether `port` of `protocol` is in the set.
    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        let v = &self.by_protocol[protocol.index()];
        let i = v.partition_point(|&(_, end)| end < port);
        v.get(i).is_some_and(|&(start, _)| start <= port)
    }

    /// Intervals of one protocol.
    pub fn intervals(&self, protocol: Protocol) -> &[(u16, u16)] {
        &self.by_protocol[protocol.index()]
    }

    /// All intervals, TCP first, then UDP, then SCTP, ascending.
    pub fn ranges(&self) -> impl Iterator<Item = PortRange> + '_ {
        Protocol::ALL.into_iter().flat_map(move |p| {
            self.by_protocol[p.index()]
                .iter()
                .map(move |&(start, end)| PortRange {
                    protocol: p,
                    start,
                    end,
                })
        })
    }

    /// Number of (protocol, port) pairs in the set.
    pub fn len(&self) -> u64 {
        self.ranges()
            .map(|r| u64::from(r.end - r.start) + 1)
            .sum::<u64>()
    }

    /// Set union.
    pub fn union(&self, other: &PortSet) -> PortSet {
        let mut out = PortSet::empty();
        for p in 0..3 {
            out.by_protocol[p] = union_intervals(&self.by_protocol[p], &other.by_protocol[p]);
        }
        out
    }

    /// Set intersection.
    pub fn intersection(&self, other: &PortSet) -> PortSet {
        let mut out = PortSet::empty();
        for p in 0..3 {
            out.by_protocol[p] = intersect_intervals(&self.by_protocol[p], &other.by_protocol[p]);
        }
        out
    }

    /// Ports in `self` and not in `other`.
    pub fn difference(&self, other: &PortSet) -> PortSet {
        let mut out = PortSet::empty();
        for p in 0..3 {
            let complement = complement_intervals(&other.by_protocol[p]);
            out.by_protocol[p] = intersect_intervals(&self.by_protocol[p], &complement);
        }
        out
    }
}

impl fmt::Display for PortSet {
    /// `80/TCP, 8000-8080/TCP, 53/UDP`, `all/TCP`, `all` for every port, `none` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        if self.is_all() {
            return f.write_str("all");
        }
        let mut first = true;
        for r in self.ranges() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl Serialize for PortSet {
    /// A list of `{"protocol","start","end"}` objects (see `docs/network-policy.md`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.ranges())
    }
}

impl<'de> Deserialize<'de> for PortSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ranges = Vec::<PortRange>::deserialize(d)?;
        Ok(PortSet::from_ranges(ranges))
    }
}

fn union_intervals(a: &[(u16, u16)], b: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut all: Vec<(u16, u16)> = a.iter().chain(b).copied().collect();
    all.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(all.len());
    for (s, e) in all {
        match out.last_mut() {
            // Merge overlapping and adjacent intervals so the representation is canonical.
            Some(last) if u32::from(s) <= u32::from(last.1) + 1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn intersect_intervals(a: &[(u16, u16)], b: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let s = a[i].0.max(b[j].0);
        let e = a[i].1.min(b[j].1);
        if s <= e {
            out.push((s, e));
        }
        if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
    }
    out
}

fn complement_intervals(a: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    let mut next = u32::from(MIN_PORT);
    for &(s, e) in a {
        if u32::from(s) > next {
            out.push((next as u16, s - 1));
        }
        next = u32::from(e) + 1;
    }
    if next <= u32::from(MAX_PORT) {
        out.push((next as u16, MAX_PORT));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_merges_adjacent_and_overlapping() {
        let a = PortSet::range(Protocol::Tcp, 80, 90);
        let b = PortSet::range(Protocol::Tcp, 91, 100);
        let c = PortSet::range(Protocol::Tcp, 95, 120);
        let u = a.union(&b).union(&c);
        assert_eq!(u.intervals(Protocol::Tcp), &[(80, 120)]);
        assert!(u.contains(Protocol::Tcp, 80));
        assert!(u.contains(Protocol::Tcp, 120));
        assert!(!u.contains(Protocol::Tcp, 121));
        assert!(!u.contains(Protocol::Udp, 100));
    }

    #[test]
    fn intersection_and_difference() {
        let a = PortSet::range(Protocol::Tcp, 1, 100).union(&PortSet::single(Protocol::Udp, 53));
        let b = PortSet::range(Protocol::Tcp, 50, 200);
        assert_eq!(
            a.intersection(&b).ranges().collect::<Vec<_>>(),
            vec![PortRange {
                protocol: Protocol::Tcp,
                start: 50,
                end: 100
            }]
        );
        let d = a.difference(&b);
        assert!(d.contains(Protocol::Tcp, 49));
        assert!(!d.contains(Protocol::Tcp, 50));
        assert!(d.contains(Protocol::Udp, 53));
        assert_eq!(PortSet::all().difference(&PortSet::all()), PortSet::empty());
        assert!(PortSet::all().is_all());
        assert_eq!(PortSet::all().len(), 3 * 65535);
    }

    #[test]
    fn display_is_compact() {
        let s = PortSet::single(Protocol::Tcp, 443)
            .union(&PortSet::range(Protocol::Tcp, 8000, 8080))
            .union(&PortSet::all_of(Protocol::Udp));
        assert_eq!(s.to_string(), "443/TCP, 8000-8080/TCP, all/UDP");
        assert_eq!(PortSet::all().to_string(), "all");
        assert_eq!(PortSet::empty().to_string(), "none");
    }

    #[test]
    fn protocol_parsing_is_exact_for_the_api_and_loose_for_the_cli() {
        assert_eq!(Protocol::parse_api("TCP"), Some(Protocol::Tcp));
        assert_eq!(Protocol::parse_api("tcp"), None);
        assert_eq!("sctp".parse::<Protocol>(), Ok(Protocol::Sctp));
        assert!("ICMP".parse::<Protocol>().is_err());
    }
}
