//! The external IP space, cut into the cells that the ipBlocks of all policies induce.
//!
//! Every `cidr` and `except` boundary of every ipBlock splits the IPv4 space (0.0.0.0/0) and the
//! IPv6 space (::/0) into contiguous intervals. Inside one interval every ipBlock either contains
//! every address or none, so the interval is an equivalence class of external endpoints. Output
//! names each cell by the smallest list of CIDRs that covers it exactly.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Serialize, Serializer};

/// Address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Family {
    /// IPv4.
    #[serde(rename = "IPv4")]
    V4,
    /// IPv6.
    #[serde(rename = "IPv6")]
    V6,
}

impl Family {
    fn max(self) -> u128 {
        match self {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }

    fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    fn addr(self, v: u128) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::from(v as u32)),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(v)),
        }
    }
}

/// An inclusive interval of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpInterval {
    /// Family.
    pub family: Family,
    /// First address as an integer.
    pub first: u128,
    /// Last address as an integer (inclusive).
    pub last: u128,
}

impl IpInterval {
    /// The interval a CIDR covers (host bits are ignored, as `net.ParseCIDR` does).
    pub fn of_net(net: &IpNet) -> IpInterval {
        match net.trunc() {
            IpNet::V4(n) => IpInterval {
                family: Family::V4,
                first: u128::from(u32::from(n.network())),
                last: u128::from(u32::from(n.broadcast())),
            },
            IpNet::V6(n) => IpInterval {
                family: Family::V6,
                first: u128::from(n.network()),
                last: u128::from(n.broadcast()),
            },
        }
    }

    /// The interval of one address.
    pub fn of_addr(ip: IpAddr) -> IpInterval {
        let (family, v) = addr_value(ip);
        IpInterval {
            family,
            first: v,
            last: v,
        }
    }

    /// Whether `ip` lies in the interval.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (family, v) = addr_value(ip);
        family == self.family && self.first <= v && v <= self.last
    }

    /// Whether `other` lies entirely inside `self`.
    pub fn covers(&self, other: &IpInterval) -> bool {
        self.family == other.family && self.first <= other.first && other.last <= self.last
    }

    /// First address.
    pub fn first_addr(&self) -> IpAddr {
        self.family.addr(self.first)
    }

    /// Last address.
    pub fn last_addr(&self) -> IpAddr {
        self.family.addr(self.last)
    }

    /// The fewest CIDRs whose union is exactly this interval, ascending.
    pub fn cidrs(&self) -> Vec<IpNet> {
        let bits = self.family.bits();
        let mut out = Vec::new();
        let mut cur = self.first;
        loop {
            // Largest aligned block starting at `cur` that does not pass `last`.
            let align = if cur == 0 {
                u32::from(bits)
            } else {
                cur.trailing_zeros().min(u32::from(bits))
            };
            let span = self.last - cur; // block size - 1 must be <= span
            let fit = if span == u128::MAX {
                128
            } else {
                127 - (span + 1).leading_zeros()
            };
            let size_bits = align.min(fit);
            let prefix = bits - size_bits as u8;
            out.push(make_net(self.family, cur, prefix));
            let block_last = if size_bits >= 128 {
                u128::MAX
            } else {
                cur + ((1u128 << size_bits) - 1)
            };
            if block_last >= self.last {
                break;
            }
            cur = block_last + 1;
        }
        out
    }
}

impl fmt::Display for IpInterval {
    /// One CIDR when the interval is one, else `first-last`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cidrs = self.cidrs();
        if cidrs.len() == 1 {
            write!(f, "{}", cidrs[0])
        } else {
            write!(f, "{}-{}", self.first_addr(), self.last_addr())
        }
    }
}

impl Serialize for IpInterval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        IpRangeView::from(self).serialize(s)
    }
}

/// Serialized form of an external IP range: `{"family","first","last","cidrs"}`.
#[derive(Serialize)]
struct IpRangeView {
    family: Family,
    first: String,
    last: String,
    cidrs: Vec<String>,
}

impl From<&IpInterval> for IpRangeView {
    fn from(i: &IpInterval) -> Self {
        IpRangeView {
            family: i.family,
            first: i.first_addr().to_string(),
            last: i.last_addr().to_string(),
            cidrs: i.cidrs().iter().map(ToString::to_string).collect(),
        }
    }
}

fn make_net(family: Family, v: u128, prefix: u8) -> IpNet {
    match family {
        // Prefix lengths are computed within the family's width, so these cannot fail.
        Family::V4 => IpNet::V4(
            Ipv4Net::new(Ipv4Addr::from(v as u32), prefix).unwrap_or_else(|_| Ipv4Net::default()),
        ),
        Family::V6 => IpNet::V6(
            Ipv6Net::new(Ipv6Addr::from(v), prefix).unwrap_or_else(|_| Ipv6Net::default()),
        ),
    }
}

fn addr_value(ip: IpAddr) -> (Family, u128) {
    match ip {
        IpAddr::V4(a) => (Family::V4, u128::from(u32::from(a))),
        IpAddr::V6(a) => (Family::V6, u128::from(a)),
    }
}

/// Parses a CIDR the way the API server accepts it in `ipBlock.cidr` / `except`: an address, a
/// slash and a prefix length. A bare address is rejected.
pub fn parse_cidr(s: &str) -> Result<IpNet, String> {
    if !s.contains('/') {
        return Err(format!("{s:?} is not a CIDR (missing /prefix)"));
    }
    s.parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| format!("{s:?} is not a valid CIDR"))
}

/// The partition of IPv4 and IPv6 space into cells. Cells are numbered IPv4 first, ascending.
#[derive(Debug, Clone)]
pub struct IpPartition {
    /// Start of every IPv4 cell, ascending; the first is 0.
    v4_starts: Vec<u128>,
    /// Start of every IPv6 cell, ascending; the first is 0.
    v6_starts: Vec<u128>,
}

impl IpPartition {
    /// The partition induced by `nets` (both families always have at least one cell).
    pub fn new<'a>(nets: impl IntoIterator<Item = &'a IpNet>) -> IpPartition {
        let mut v4 = vec![0u128];
        let mut v6 = vec![0u128];
        for n in nets {
            let i = IpInterval::of_net(n);
            let starts = match i.family {
                Family::V4 => &mut v4,
                Family::V6 => &mut v6,
            };
            starts.push(i.first);
            if i.last < i.family.max() {
                starts.push(i.last + 1);
            }
        }
        v4.sort_unstable();
        v4.dedup();
        v6.sort_unstable();
        v6.dedup();
        IpPartition {
            v4_starts: v4,
            v6_starts: v6,
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.v4_starts.len() + self.v6_starts.len()
    }

    /// Always false: both families have at least one cell.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The interval of cell `i`.
    pub fn cell(&self, i: usize) -> IpInterval {
        let (family, starts, j) = if i < self.v4_starts.len() {
            (Family::V4, &self.v4_starts, i)
        } else {
            (Family::V6, &self.v6_starts, i - self.v4_starts.len())
        };
        let last = match starts.get(j + 1) {
            Some(next) => next - 1,
            None => family.max(),
        };
        IpInterval {
            family,
            first: starts[j],
            last,
        }
    }

    /// The cell that contains `ip`.
    pub fn cell_of(&self, ip: IpAddr) -> usize {
        let (family, v) = addr_value(ip);
        self.cell_index(family, v)
    }

    fn cell_index(&self, family: Family, v: u128) -> usize {
        match family {
            Family::V4 => self.v4_starts.partition_point(|&s| s <= v) - 1,
            Family::V6 => self.v4_starts.len() + self.v6_starts.partition_point(|&s| s <= v) - 1,
        }
    }

    /// The cells a CIDR covers: a contiguous range, exact when the CIDR took part in building
    /// the partition.
    pub fn cells_of(&self, net: &IpNet) -> Range<usize> {
        let i = IpInterval::of_net(net);
        self.cell_index(i.family, i.first)..self.cell_index(i.family, i.last) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        parse_cidr(s).unwrap()
    }

    #[test]
    fn partition_of_block_with_except() {
        let nets = [net("10.0.0.0/8"), net("10.1.0.0/16")];
        let p = IpPartition::new(&nets);
        // v4: [0,10.0.0.0) [10/8 before 10.1) [10.1/16] [after 10.1 .. 10.255] [11.0.0.0..] + v6
        assert_eq!(p.len(), 5 + 1);
        let inside = p.cells_of(&net("10.0.0.0/8"));
        assert_eq!(inside.len(), 3);
        let except = p.cells_of(&net("10.1.0.0/16"));
        assert_eq!(except.len(), 1);
        assert_eq!(p.cell(except.start).to_string(), "10.1.0.0/16");
        assert_eq!(p.cell_of("10.1.2.3".parse().unwrap()), except.start);
        assert_eq!(
            p.cell(p.cell_of("::1".parse().unwrap())).to_string(),
            "::/0"
        );
    }

    #[test]
    fn cells_decompose_into_exact_cidrs() {
        let i = IpInterval::of_net(&net("0.0.0.0/0"));
        assert_eq!(i.cidrs(), vec![net("0.0.0.0/0")]);
        let i6 = IpInterval::of_net(&net("::/0"));
        assert_eq!(i6.cidrs(), vec![net("::/0")]);
        // 11.0.0.0 - 172.15.255.255
        let i = IpInterval {
            family: Family::V4,
            first: u128::from(u32::from(Ipv4Addr::new(11, 0, 0, 0))),
            last: u128::from(u32::from(Ipv4Addr::new(172, 15, 255, 255))),
        };
        let cidrs: Vec<String> = i.cidrs().iter().map(ToString::to_string).collect();
        assert_eq!(
            cidrs,
            [
                "11.0.0.0/8",
                "12.0.0.0/6",
                "16.0.0.0/4",
                "32.0.0.0/3",
                "64.0.0.0/2",
                "128.0.0.0/3",
                "160.0.0.0/5",
                "168.0.0.0/6",
                "172.0.0.0/12"
            ]
        );
        assert_eq!(i.to_string(), "11.0.0.0-172.15.255.255");
        let top = IpInterval {
            family: Family::V6,
            first: u128::MAX,
            last: u128::MAX,
        };
        assert_eq!(top.cidrs().len(), 1);
        assert_eq!(top.cidrs()[0].prefix_len(), 128);
    }

    #[test]
    fn cidr_parsing_matches_the_api() {
        assert!(parse_cidr("10.0.0.1").is_err());
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("banana/8").is_err());
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(
            parse_cidr("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
    }
}
