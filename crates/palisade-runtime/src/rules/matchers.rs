//! Small value matchers used by compiled conditions: glob patterns and IP networks.

use std::net::IpAddr;

/// A glob pattern matched against a whole value: `*` matches any run of characters
/// (including `/`), `?` exactly one character; every other character matches itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: Vec<char>,
}

impl Glob {
    /// Compiles a pattern (never fails: every string is a valid pattern).
    pub fn new(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.chars().collect(),
        }
    }

    /// Whether the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        let p = &self.pattern;
        let (mut ti, mut pi) = (0usize, 0usize);
        // Position of the last '*' and the text position it is currently matched up to.
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) && p[pi] != '*' {
                ti += 1;
                pi += 1;
            } else if pi < p.len() && p[pi] == '*' {
                star = Some((pi, ti));
                pi += 1;
            } else if let Some((sp, st)) = star {
                // Let the last '*' swallow one more character and retry.
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|c| *c == '*')
    }
}

/// An IP network (`10.0.0.0/8`, `fd00::/8`) or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `ADDR/PREFIX` or a bare address (a /32 or /128 network). IPv4-mapped IPv6
    /// addresses are taken as IPv4.
    pub fn parse(s: &str) -> Result<IpNet, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("'{s}' is not an IP address or CIDR network"))?;
        let addr = normalize_ip(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{s}': prefix length must be 0 to {max}"))?,
        };
        Ok(IpNet { addr, prefix })
    }

    /// Whether `ip` is inside the network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, normalize_ip(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u32::from(net) & mask) == (u32::from(ip) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u128::from(net) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }
}

/// Turns an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, as `/proc/net/tcp6` shows IPv4
/// peers of dual-stack sockets) into the IPv4 address; other addresses are unchanged.
pub fn normalize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_semantics() {
        let g = Glob::new("python*");
        assert!(g.is_match("python"));
        assert!(g.is_match("python3.11"));
        assert!(!g.is_match("ipython"));
        assert!(Glob::new("*.sh").is_match("/tmp/x.sh"));
        assert!(Glob::new("/usr/*/nc").is_match("/usr/local/bin/nc"));
        assert!(Glob::new("n?").is_match("nc"));
        assert!(!Glob::new("n?").is_match("n"));
        assert!(Glob::new("*a*b*").is_match("xxaxxbxx"));
        assert!(!Glob::new("*a*b").is_match("xxaxxbxx"));
        assert!(Glob::new("").is_match(""));
        assert!(!Glob::new("").is_match("a"));
        assert!(Glob::new("**").is_match(""));
        assert!(Glob::new("ż?w").is_match("żów"));
    }

    #[test]
    fn cidr_membership() {
        let n = IpNet::parse("10.96.0.0/12").unwrap();
        assert!(n.contains("10.96.0.1".parse().unwrap()));
        assert!(n.contains("10.111.255.255".parse().unwrap()));
        assert!(!n.contains("10.112.0.0".parse().unwrap()));
        assert!(n.contains("::ffff:10.96.0.1".parse().unwrap()));
        let one = IpNet::parse("10.96.0.1").unwrap();
        assert!(one.contains("10.96.0.1".parse().unwrap()));
        assert!(!one.contains("10.96.0.2".parse().unwrap()));
        let all = IpNet::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!(!all.contains("::1".parse().unwrap()));
        let v6 = IpNet::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("fe80::1".parse().unwrap()));
        assert!(IpNet::parse("10.0.0.0/33").is_err());
        assert!(IpNet::parse("bogus").is_err());
        assert!(IpNet::parse("::/129").is_err());
        assert!(
            IpNet::parse("::/0")
                .unwrap()
                .contains("2001:db8::1".parse().unwrap())
        );
    }
}
