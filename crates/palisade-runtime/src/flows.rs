//! From socket tables to connections and flows.
//!
//! The agent reads `/proc/PID/net/{tcp,tcp6,udp,udp6}` of one process per network namespace
//! (they list the sockets of the whole namespace) and hands the rows here.
//!
//! Direction: a TCP connection whose local port has a listening socket in the same namespace
//! (on the same address or a wildcard one) was accepted here (inbound). Without a listener
//! (a server that accepted once and closed its listening socket), the ephemeral port range
//! decides: a local port inside it and a remote port outside it mean outbound, the reverse
//! inbound. Everything else, and every connected UDP socket, was opened here (outbound).
//! Listening and unconnected sockets are not connections.
//!
//! Flows are [`palisade_model::flow::Flow`] values: the side that opened the connection is
//! `src`, the side that accepted it `dst`, and `port` is the accepting side's port. The local
//! side carries the container's pod identity; a loopback peer is the same pod; any other
//! peer is identified by a caller-supplied resolver (other containers on the node) or by its
//! IP alone.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

use palisade_model::flow::{Flow, FlowEndpoint};

use crate::event::{Connection, ContainerInfo, Direction, Protocol};
use crate::rules::normalize_ip;

/// Socket state, as the kernel's TCP state numbers in `/proc/net/tcp` name them (UDP uses
/// 1 for connected and 7 for unconnected sockets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketState {
    /// 01.
    Established,
    /// 02.
    SynSent,
    /// 03.
    SynRecv,
    /// 04.
    FinWait1,
    /// 05.
    FinWait2,
    /// 06.
    TimeWait,
    /// 07 (also an unconnected UDP socket).
    Close,
    /// 08.
    CloseWait,
    /// 09.
    LastAck,
    /// 0A.
    Listen,
    /// 0B.
    Closing,
    /// 0C (TCP_NEW_SYN_RECV) and anything newer.
    Other,
}

impl SocketState {
    /// From the hexadecimal `st` column value.
    pub fn from_code(code: u8) -> SocketState {
        match code {
            0x01 => SocketState::Established,
            0x02 => SocketState::SynSent,
            0x03 => SocketState::SynRecv,
            0x04 => SocketState::FinWait1,
            0x05 => SocketState::FinWait2,
            0x06 => SocketState::TimeWait,
            0x07 => SocketState::Close,
            0x08 => SocketState::CloseWait,
            0x09 => SocketState::LastAck,
            0x0A => SocketState::Listen,
            0x0B => SocketState::Closing,
            _ => SocketState::Other,
        }
    }
}

/// One row of a socket table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SocketEntry {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Local address.
    pub local: SocketAddr,
    /// Remote address (`0.0.0.0:0` / `[::]:0` when unconnected).
    pub remote: SocketAddr,
    /// State.
    pub state: SocketState,
    /// Socket inode (matches `/proc/PID/fd/N -> socket:[INODE]`); 0 for TIME_WAIT rows.
    pub inode: u64,
}

/// Parses one `/proc/PID/net/{tcp,tcp6,udp,udp6}` table (the header line is skipped).
/// Returns the rows and the number of malformed lines, which are skipped.
///
/// Addresses are printed by the kernel as native-endian 32-bit words in hex (one word for
/// IPv4, four for IPv6), ports as 16-bit numbers in hex, the state in hex.
pub fn parse_socket_table(text: &str, protocol: Protocol) -> (Vec<SocketEntry>, usize) {
    let mut rows = Vec::new();
    let mut malformed = 0;
    for line in text.lines().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        match parse_socket_line(line, protocol) {
            Some(r) => rows.push(r),
            None => malformed += 1,
        }
    }
    (rows, malformed)
}

fn parse_socket_line(line: &str, protocol: Protocol) -> Option<SocketEntry> {
    let cols: Vec<&str> = line.split_whitespace().collect();
    if cols.len() < 10 || !cols[0].ends_with(':') {
        return None;
    }
    let state = u8::from_str_radix(cols[3], 16).ok()?;
    Some(SocketEntry {
        protocol,
        local: parse_hex_addr(cols[1])?,
        remote: parse_hex_addr(cols[2])?,
        state: SocketState::from_code(state),
        inode: cols[9].parse().ok()?,
    })
}

fn parse_hex_addr(s: &str) -> Option<SocketAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |hex: &str| u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes);
    let ip = match addr.len() {
        8 => IpAddr::from(word(addr)?),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(addr.get(i * 8..i * 8 + 8)?)?);
            }
            IpAddr::from(bytes)
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

fn normalize(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(normalize_ip(addr.ip()), addr.port())
}

/// A connection with the socket inode it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObservedConnection {
    /// The connection.
    pub connection: Connection,
    /// The socket inode (0 when the kernel shows none, as for TIME_WAIT).
    pub inode: u64,
}

/// Derives the connections of one network namespace from its socket rows. `ephemeral` is
/// the kernel's client port range (`net.ipv4.ip_local_port_range`, 32768-60999 by default).
pub fn connections(
    entries: &[SocketEntry],
    ephemeral: &std::ops::RangeInclusive<u16>,
) -> Vec<ObservedConnection> {
    let listeners: HashSet<(IpAddr, u16)> = entries
        .iter()
        .filter(|e| e.protocol == Protocol::Tcp && e.state == SocketState::Listen)
        .map(|e| (normalize_ip(e.local.ip()), e.local.port()))
        .collect();
    let listening_on = |local: SocketAddr| {
        let ip = normalize_ip(local.ip());
        let port = local.port();
        listeners.contains(&(ip, port))
            || listeners.iter().any(|(lip, lport)| {
                *lport == port
                    && lip.is_unspecified()
                    && (lip.is_ipv4() == ip.is_ipv4() || lip.is_ipv6())
            })
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for e in entries {
        if e.remote.port() == 0 {
            continue;
        }
        let connected = match e.protocol {
            Protocol::Tcp => !matches!(
                e.state,
                SocketState::Listen | SocketState::Close | SocketState::Other
            ),
            Protocol::Udp => e.state == SocketState::Established,
        };
        if !connected {
            continue;
        }
        let direction = if e.protocol != Protocol::Tcp {
            Direction::Outbound
        } else if listening_on(e.local)
            || (ephemeral.contains(&e.remote.port()) && !ephemeral.contains(&e.local.port()))
        {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        let connection = Connection {
            protocol: e.protocol,
            local: normalize(e.local),
            remote: normalize(e.remote),
            direction,
        };
        if seen.insert(connection.clone()) {
            out.push(ObservedConnection {
                connection,
                inode: e.inode,
            });
        }
    }
    out
}

/// The flow endpoint of a container (namespace, pod, workload; no IP).
pub fn container_endpoint(c: &ContainerInfo) -> FlowEndpoint {
    FlowEndpoint {
        namespace: c.namespace.clone(),
        pod: c.pod.clone(),
        workload: c.workload.clone(),
        ip: None,
    }
}

/// Builds the flow of a connection observed in a network namespace whose own identity is
/// `local` (its `ip` is ignored). `resolve` names remote peers that are known workloads.
pub fn flow_for(
    connection: &Connection,
    local: &FlowEndpoint,
    resolve: &dyn Fn(IpAddr) -> Option<FlowEndpoint>,
    timestamp: String,
) -> Flow {
    let local_ip = normalize_ip(connection.local.ip());
    let remote_ip = normalize_ip(connection.remote.ip());
    let here = FlowEndpoint {
        ip: Some(local_ip.to_string()),
        ..local.clone()
    };
    let there = if remote_ip.is_loopback() || remote_ip == local_ip {
        FlowEndpoint {
            ip: Some(remote_ip.to_string()),
            ..local.clone()
        }
    } else {
        let mut e = resolve(remote_ip).unwrap_or_default();
        e.ip = Some(remote_ip.to_string());
        e
    };
    let (src, dst) = match connection.direction {
        Direction::Outbound => (here, there),
        Direction::Inbound => (there, here),
    };
    Flow {
        timestamp,
        src,
        dst,
        port: connection.service_port(),
        protocol: connection.protocol.as_str().to_string(),
    }
}

/// What makes two flows the same, regardless of when they were seen.
pub type FlowKey = (FlowEndpoint, FlowEndpoint, u16, String);

/// The identity of a flow without its timestamp.
pub fn flow_key(f: &Flow) -> FlowKey {
    (f.src.clone(), f.dst.clone(), f.port, f.protocol.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPH: std::ops::RangeInclusive<u16> = 32768..=60999;

    fn row(p: Protocol, local: &str, remote: &str, st: u8) -> SocketEntry {
        SocketEntry {
            protocol: p,
            local: local.parse().unwrap(),
            remote: remote.parse().unwrap(),
            state: SocketState::from_code(st),
            inode: 1,
        }
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_kernel_socket_tables() {
        // Rows as a little-endian kernel prints them: a listener on 0.0.0.0:8080, a
        // connection 127.0.0.1:45000 -> 127.0.0.1:8080, and an IPv6 listener on [::1]:5432.
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 81234 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:AFC8 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 81240 1 0000000000000000 20 4 30 10 -1\n   2: garbage\n";
        let (rows, bad) = parse_socket_table(tcp, Protocol::Tcp);
        assert_eq!(bad, 1);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].local, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(rows[0].state, SocketState::Listen);
        assert_eq!(rows[0].inode, 81234);
        assert_eq!(rows[1].local, "127.0.0.1:45000".parse().unwrap());
        assert_eq!(rows[1].remote, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(rows[1].state, SocketState::Established);
        let tcp6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000000000000000000001000000:1538 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 5555 1 0000000000000000 100 0 0 10 0\n   1: 0000000000000000FFFF00000500010A:9C40 0000000000000000FFFF00000900010A:1538 01 00000000:00000000 00:00000000 00000000   999        0 5556 1 0000000000000000 100 0 0 10 0\n";
        let (rows, bad) = parse_socket_table(tcp6, Protocol::Tcp);
        assert_eq!(bad, 0);
        assert_eq!(rows[0].local, "[::1]:5432".parse().unwrap());
        assert_eq!(rows[1].local, "[::ffff:10.1.0.5]:40000".parse().unwrap());
        assert_eq!(rows[1].remote, "[::ffff:10.1.0.9]:5432".parse().unwrap());
    }

    #[test]
    fn loopback_client_and_server_in_one_namespace_give_one_flow() {
        // `nc -l -p 8080` and `nc 127.0.0.1 8080` inside one pod.
        let rows = vec![
            row(Protocol::Tcp, "0.0.0.0:8080", "0.0.0.0:0", 0x0A),
            row(Protocol::Tcp, "127.0.0.1:8080", "127.0.0.1:45000", 0x01),
            row(Protocol::Tcp, "127.0.0.1:45000", "127.0.0.1:8080", 0x01),
        ];
        let conns = connections(&rows, &EPH);
        assert_eq!(conns.len(), 2);
        assert_eq!(conns[0].connection.direction, Direction::Inbound);
        assert_eq!(conns[1].connection.direction, Direction::Outbound);
        let me = FlowEndpoint {
            namespace: Some("shop".into()),
            pod: Some("web-1".into()),
            workload: Some("Deployment/web".into()),
            ip: None,
        };
        let flows: Vec<Flow> = conns
            .iter()
            .map(|c| flow_for(&c.connection, &me, &|_| None, "t".into()))
            .collect();
        assert_eq!(flow_key(&flows[0]), flow_key(&flows[1]));
        assert_eq!(flows[0].port, 8080);
        assert_eq!(flows[0].protocol, "TCP");
        assert_eq!(flows[0].src.pod.as_deref(), Some("web-1"));
        assert_eq!(flows[0].dst.ip.as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn outbound_to_an_external_ip_has_only_the_ip_on_the_far_side() {
        let rows = vec![row(
            Protocol::Tcp,
            "10.1.0.5:40000",
            "93.184.216.34:443",
            0x01,
        )];
        let conns = connections(&rows, &EPH);
        let me = FlowEndpoint {
            namespace: Some("shop".into()),
            pod: Some("web-1".into()),
            workload: None,
            ip: None,
        };
        let f = flow_for(
            &conns[0].connection,
            &me,
            &|_| None,
            "2026-11-29T10:00:00Z".into(),
        );
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(
            json,
            r#"{"timestamp":"2026-11-29T10:00:00Z","src":{"namespace":"shop","pod":"web-1","ip":"10.1.0.5"},"dst":{"ip":"93.184.216.34"},"port":443,"protocol":"TCP"}"#
        );
    }

    #[test]
    fn inbound_from_a_known_peer_uses_the_resolver() {
        let rows = vec![
            row(Protocol::Tcp, "[::]:5432", "[::]:0", 0x0A),
            row(
                Protocol::Tcp,
                "[::ffff:10.1.0.9]:5432",
                "[::ffff:10.1.0.5]:40000",
                0x01,
            ),
        ];
        let conns = connections(&rows, &EPH);
        assert_eq!(conns.len(), 1);
        assert_eq!(conns[0].connection.direction, Direction::Inbound);
        assert_eq!(conns[0].connection.local.ip().to_string(), "10.1.0.9");
        let db = FlowEndpoint {
            namespace: Some("shop".into()),
            pod: Some("db-0".into()),
            workload: Some("StatefulSet/db".into()),
            ip: None,
        };
        let resolve = |ip: IpAddr| {
            (ip.to_string() == "10.1.0.5").then(|| FlowEndpoint {
                namespace: Some("shop".into()),
                pod: Some("web-1".into()),
                workload: Some("Deployment/web".into()),
                ip: None,
            })
        };
        let f = flow_for(&conns[0].connection, &db, &resolve, "t".into());
        assert_eq!(f.src.pod.as_deref(), Some("web-1"));
        assert_eq!(f.src.ip.as_deref(), Some("10.1.0.5"));
        assert_eq!(f.dst.workload.as_deref(), Some("StatefulSet/db"));
        assert_eq!(f.port, 5432);
    }

    #[test]
    fn listeners_unconnected_udp_and_closed_rows_are_not_connections() {
        let rows = vec![
            row(Protocol::Tcp, "0.0.0.0:22", "0.0.0.0:0", 0x0A),
            row(Protocol::Udp, "0.0.0.0:53", "0.0.0.0:0", 0x07),
            row(Protocol::Tcp, "10.0.0.1:1", "10.0.0.2:2", 0x07),
        ];
        assert!(connections(&rows, &EPH).is_empty());
        let rows = vec![
            row(Protocol::Udp, "10.0.0.1:5353", "10.96.0.10:53", 0x01),
            row(Protocol::Tcp, "10.0.0.1:40001", "10.0.0.2:80", 0x06),
            row(Protocol::Tcp, "10.0.0.1:40002", "10.0.0.2:80", 0x02),
        ];
        let conns = connections(&rows, &EPH);
        assert_eq!(conns.len(), 3);
        assert!(
            conns
                .iter()
                .all(|c| c.connection.direction == Direction::Outbound)
        );
        assert_eq!(conns[0].connection.service_port(), 53);
    }

    #[test]
    fn without_a_listener_the_ephemeral_range_decides() {
        // busybox `nc -l` closes its listener after one accept.
        let rows = vec![
            row(Protocol::Tcp, "127.0.0.1:8080", "127.0.0.1:45000", 0x01),
            row(Protocol::Tcp, "127.0.0.1:45000", "127.0.0.1:8080", 0x01),
        ];
        let conns = connections(&rows, &EPH);
        assert_eq!(conns[0].connection.direction, Direction::Inbound);
        assert_eq!(conns[0].connection.service_port(), 8080);
        assert_eq!(conns[1].connection.direction, Direction::Outbound);
        assert_eq!(conns[1].connection.service_port(), 8080);
        // Both ports outside the range: outbound is assumed.
        let rows = vec![row(Protocol::Tcp, "10.0.0.1:1000", "10.0.0.2:2000", 0x01)];
        assert_eq!(
            connections(&rows, &EPH)[0].connection.direction,
            Direction::Outbound
        );
    }

    #[test]
    fn listener_on_another_address_does_not_make_a_connection_inbound() {
        let rows = vec![
            row(Protocol::Tcp, "127.0.0.1:8080", "0.0.0.0:0", 0x0A),
            row(Protocol::Tcp, "10.0.0.1:8080", "10.0.0.2:80", 0x01),
        ];
        assert_eq!(
            connections(&rows, &EPH)[0].connection.direction,
            Direction::Outbound
        );
    }
}
