//! Connections and flows per container, from the socket tables of each container's network
//! namespace (`/proc/PID/net/{tcp,tcp6,udp,udp6}` of one of its processes).
//!
//! Every interval the monitor reads the tables of each network namespace that holds a known
//! container (containers sharing the node's own namespace are skipped: their sockets are the
//! node's). A connection not seen in the previous scan becomes a connect event (for rules,
//! with the owning process when its socket inode is found among the container's processes)
//! and a flow (once per distinct flow per re-emit period). Connections that open and close
//! between two scans are not seen.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_model::flow::FlowEndpoint;
use palisade_model::time::Timestamp;
use palisade_runtime::event::{Connection, ContainerInfo, Event, Protocol};
use palisade_runtime::flows::{
    FlowKey, ObservedConnection, connections, container_endpoint, flow_for, flow_key,
    parse_socket_table,
};

use crate::clock::{BootClock, now_ms};
use crate::output::{Output, OutputSender};
use crate::source::InputSender;

/// Most containers tracked.
const MAX_CONTAINERS: usize = 4096;
/// Most PIDs remembered per container.
const MAX_PIDS_PER_CONTAINER: usize = 1024;
/// Most connections remembered per network namespace.
const MAX_CONNECTIONS_PER_NETNS: usize = 65_536;
/// Most distinct flows remembered for re-emission.
const MAX_FLOW_KEYS: usize = 100_000;
/// Largest socket table read per file.
const MAX_TABLE_BYTES: u64 = 32 << 20;

/// The containers the processor has seen and their live processes.
#[derive(Debug, Default)]
pub struct Registry {
    containers: HashMap<String, (ContainerInfo, BTreeSet<u32>)>,
    pid_to_container: HashMap<u32, String>,
}

/// The registry shared by the processor (writer) and the monitor (reader).
pub type SharedRegistry = Arc<Mutex<Registry>>;

impl Registry {
    /// Records that `pid` runs in `info`'s container.
    pub fn add(&mut self, info: &ContainerInfo, pid: u32) {
        if !self.containers.contains_key(&info.id) && self.containers.len() >= MAX_CONTAINERS {
            return;
        }
        let entry = self
            .containers
            .entry(info.id.clone())
            .or_insert_with(|| (info.clone(), BTreeSet::new()));
        if entry.1.len() < MAX_PIDS_PER_CONTAINER {
            entry.1.insert(pid);
            self.pid_to_container.insert(pid, info.id.clone());
        }
    }

    /// Forgets an exited process (and its container when it was the last one known).
    pub fn remove_pid(&mut self, pid: u32) {
        if let Some(id) = self.pid_to_container.remove(&pid)
            && let Some((_, pids)) = self.containers.get_mut(&id)
        {
            pids.remove(&pid);
            if pids.is_empty() {
                self.containers.remove(&id);
            }
        }
    }

    /// Number of containers tracked.
    pub fn len(&self) -> usize {
        self.containers.len()
    }

    /// Whether no container is tracked.
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty()
    }

    fn snapshot(&self) -> Vec<(ContainerInfo, Vec<u32>)> {
        self.containers
            .values()
            .map(|(c, pids)| (c.clone(), pids.iter().copied().collect()))
            .collect()
    }
}

/// Scans socket tables and emits connect events and flows.
pub struct NetMonitor {
    registry: SharedRegistry,
    events: InputSender,
    out: OutputSender,
    flows_enabled: bool,
    ephemeral: std::ops::RangeInclusive<u16>,
    reemit_ms: u64,
    boot: BootClock,
    own_netns: Option<String>,
    known: HashMap<String, HashSet<Connection>>,
    emitted: HashMap<FlowKey, u64>,
}

impl NetMonitor {
    /// A monitor fed by the registry.
    pub fn new(
        registry: SharedRegistry,
        events: InputSender,
        out: OutputSender,
        flows_enabled: bool,
    ) -> NetMonitor {
        NetMonitor {
            registry,
            events,
            out,
            flows_enabled,
            ephemeral: ephemeral_port_range(),
            reemit_ms: 3_600_000,
            boot: BootClock::read(),
            own_netns: netns_of(std::process::id()),
            known: HashMap::new(),
            emitted: HashMap::new(),
        }
    }

    /// Scans every `interval` until `stop` is set.
    pub fn run(mut self, interval: Duration, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Relaxed) {
            if !self.scan_once() {
                return;
            }
            sleep_unless_stopped(interval, &stop);
        }
    }

    /// One scan; returns false when the processor is gone.
    pub fn scan_once(&mut self) -> bool {
        let containers = match self.registry.lock() {
            Ok(r) => r.snapshot(),
            Err(_) => return false,
        };
        // Group containers by network namespace.
        let mut by_netns: HashMap<String, Vec<(ContainerInfo, Vec<u32>, u32)>> = HashMap::new();
        for (info, pids) in containers {
            let Some((ns, pid)) = pids.iter().find_map(|p| netns_of(*p).map(|ns| (ns, *p))) else {
                continue;
            };
            if Some(&ns) == self.own_netns.as_ref() {
                continue;
            }
            by_netns.entry(ns).or_default().push((info, pids, pid));
        }
        // Addresses of every watched namespace, to name peers that are known pods.
        let mut peers: HashMap<IpAddr, FlowEndpoint> = HashMap::new();
        for members in by_netns.values() {
            let (info, _, pid) = &members[0];
            for ip in local_addresses(*pid) {
                peers.insert(ip, container_endpoint(info));
            }
        }
        let now = now_ms();
        let mut still_present = HashSet::new();
        for (ns, members) in &by_netns {
            still_present.insert(ns.clone());
            let (_, _, pid) = &members[0];
            let current = read_connections(*pid, &self.ephemeral);
            let known = self.known.entry(ns.clone()).or_default();
            let fresh: Vec<ObservedConnection> = current
                .iter()
                .filter(|c| !known.contains(&c.connection))
                .cloned()
                .collect();
            *known = current.into_iter().map(|c| c.connection).collect();
            if known.len() > MAX_CONNECTIONS_PER_NETNS {
                known.clear();
            }
            for c in fresh {
                let (owner, process) = owner_of(c.inode, ns, members, &self.boot);
                if self.flows_enabled {
                    let local = container_endpoint(owner);
                    let resolve = |ip: IpAddr| peers.get(&ip).cloned();
                    let flow = flow_for(
                        &c.connection,
                        &local,
                        &resolve,
                        Timestamp::from_unix_ms(now).rfc3339_ms(),
                    );
                    let key = flow_key(&flow);
                    let due = self
                        .emitted
                        .get(&key)
                        .is_none_or(|t| now.saturating_sub(*t) >= self.reemit_ms);
                    if due {
                        if self.emitted.len() >= MAX_FLOW_KEYS {
                            self.emitted.clear();
                        }
                        self.emitted.insert(key, now);
                        self.out.send(Output::Flow(Box::new(flow)));
                    }
                }
                let ev = Event::connect(now, c.connection, process, Some(owner.clone()));
                if !self.events.send_connect(ev) {
                    return false;
                }
            }
        }
        self.known.retain(|ns, _| still_present.contains(ns));
        true
    }
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(50);
    let mut left = total;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let d = left.min(step);
        std::thread::sleep(d);
        left = left.saturating_sub(d);
    }
}

/// The network namespace of a process (`net:[4026531992]`).
pub fn netns_of(pid: u32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/net"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

fn read_bounded(path: &str) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut s = String::new();
    f.take(MAX_TABLE_BYTES).read_to_string(&mut s).ok()?;
    Some(s)
}

/// The kernel's ephemeral (client) port range, `net.ipv4.ip_local_port_range`
/// (32768-60999 when unreadable).
pub fn ephemeral_port_range() -> std::ops::RangeInclusive<u16> {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|v| v.parse::<u16>().ok());
            Some(it.next()??..=it.next()??)
        })
        .unwrap_or(32768..=60999)
}

/// The connections of the network namespace `pid` lives in.
pub fn read_connections(
    pid: u32,
    ephemeral: &std::ops::RangeInclusive<u16>,
) -> Vec<ObservedConnection> {
    let mut rows = Vec::new();
    for (file, proto) in [
        ("tcp", Protocol::Tcp),
        ("tcp6", Protocol::Tcp),
        ("udp", Protocol::Udp),
        ("udp6", Protocol::Udp),
    ] {
        if let Some(text) = read_bounded(&format!("/proc/{pid}/net/{file}")) {
            rows.extend(parse_socket_table(&text, proto).0);
        }
    }
    connections(&rows, ephemeral)
}

fn holds_socket(pid: u32, wanted: &str) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|t| t.as_os_str().to_string_lossy() == wanted)
    })
}

/// Finds the container and process holding a socket inode: first among the namespace's
/// known processes, then among every process in that network namespace (a process that
/// started since the processor last registered it). Falls back to the first member without
/// a process.
fn owner_of<'a>(
    inode: u64,
    netns: &str,
    members: &'a [(ContainerInfo, Vec<u32>, u32)],
    boot: &BootClock,
) -> (&'a ContainerInfo, Option<palisade_runtime::ProcessInfo>) {
    if inode == 0 {
        return (&members[0].0, None);
    }
    let wanted = format!("socket:[{inode}]");
    for (info, pids, _) in members {
        for pid in pids.iter().take(256) {
            if holds_socket(*pid, &wanted) {
                return (info, crate::procinfo::read_process(*pid, boot));
            }
        }
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return (&members[0].0, None);
    };
    for e in entries.flatten().take(65_536) {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if netns_of(pid).as_deref() != Some(netns) || !holds_socket(pid, &wanted) {
            continue;
        }
        let id = crate::enrich::cgroup_of(pid).map(|a| a.container_id);
        let info = members
            .iter()
            .find(|(c, _, _)| Some(&c.id) == id.as_ref())
            .map_or(&members[0].0, |(c, _, _)| c);
        return (info, crate::procinfo::read_process(pid, boot));
    }
    (&members[0].0, None)
}

/// Non-loopback addresses of the network namespace `pid` lives in (IPv4 from
/// `/proc/PID/net/fib_trie`, IPv6 from `/proc/PID/net/if_inet6`).
pub fn local_addresses(pid: u32) -> Vec<IpAddr> {
    let mut out = Vec::new();
    if let Some(t) = read_bounded(&format!("/proc/{pid}/net/fib_trie")) {
        out.extend(parse_fib_trie_locals(&t).into_iter().map(IpAddr::V4));
    }
    if let Some(t) = read_bounded(&format!("/proc/{pid}/net/if_inet6")) {
        out.extend(parse_if_inet6(&t).into_iter().map(IpAddr::V6));
    }
    out.retain(|ip| !ip.is_loopback());
    out.sort();
    out.dedup();
    out
}

/// Local (`/32 host LOCAL`) IPv4 addresses listed in a `fib_trie` dump.
pub fn parse_fib_trie_locals(text: &str) -> Vec<Ipv4Addr> {
    let mut out = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(ip) = t.strip_prefix("|-- ") {
            last = ip.trim().parse().ok();
        } else if t.starts_with("/32 host LOCAL")
            && let Some(ip) = last
            && !out.contains(&ip)
        {
            out.push(ip);
        }
    }
    out
}

/// Addresses listed in `/proc/net/if_inet6` (first column: 32 hex digits, network order).
pub fn parse_if_inet6(text: &str) -> Vec<Ipv6Addr> {
    text.lines()
        .filter_map(|l| {
            let hex = l.split_whitespace().next()?;
            if hex.len() != 32 {
                return None;
            }
            let mut bytes = [0u8; 16];
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
            }
            Some(Ipv6Addr::from(bytes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_runtime::event::ContainerRuntime;

    #[test]
    fn fib_trie_locals() {
        let t = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n     +-- 10.88.0.0/16 2 0 2\n        |-- 10.88.0.0\n           /16 link UNICAST\n        |-- 10.88.0.5\n           /32 host LOCAL\n     |-- 127.0.0.1\n        /32 host LOCAL\nLocal:\n        |-- 10.88.0.5\n           /32 host LOCAL\n";
        assert_eq!(
            parse_fib_trie_locals(t),
            vec![Ipv4Addr::new(10, 88, 0, 5), Ipv4Addr::new(127, 0, 0, 1)]
        );
    }

    #[test]
    fn if_inet6_addresses() {
        let t = "00000000000000000000000000000001 01 80 10 80       lo\nfd000000000000000000000000000005 02 40 00 80     eth0\nshort 01\n";
        assert_eq!(
            parse_if_inet6(t),
            vec![
                "::1".parse::<Ipv6Addr>().unwrap(),
                "fd00::5".parse::<Ipv6Addr>().unwrap()
            ]
        );
    }

    #[test]
    fn registry_forgets_containers_with_their_last_process() {
        let mut r = Registry::default();
        let c = ContainerInfo::bare(ContainerRuntime::Podman, "a".repeat(64));
        r.add(&c, 10);
        r.add(&c, 11);
        r.remove_pid(10);
        assert_eq!(r.len(), 1);
        r.remove_pid(11);
        assert!(r.is_empty());
        r.remove_pid(12);
    }

    #[test]
    fn reads_this_namespaces_real_sockets() {
        // A real listener and a real connection on loopback in the test's own namespace.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let conns = read_connections(std::process::id(), &ephemeral_port_range());
        let client_port = client.local_addr().unwrap().port();
        let outbound = conns
            .iter()
            .find(|c| c.connection.local.port() == client_port)
            .expect("client socket listed");
        assert_eq!(
            outbound.connection.direction,
            palisade_runtime::Direction::Outbound
        );
        assert_eq!(outbound.connection.remote.port(), port);
        let inbound = conns
            .iter()
            .find(|c| {
                c.connection.local.port() == port && c.connection.remote.port() == client_port
            })
            .expect("accepted socket listed");
        assert_eq!(
            inbound.connection.direction,
            palisade_runtime::Direction::Inbound
        );
        assert!(inbound.inode != 0);
    }
}
