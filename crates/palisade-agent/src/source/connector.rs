//! The netlink proc connector: the kernel multicasts a message for every fork, exec and exit
//! (needs root in the initial PID and network namespaces).
//!
//! The socket is read directly (no netlink library): one `recv` per datagram into a reused
//! buffer, messages parsed in place from their fixed C layout, nothing allocated per event.
//! After each blocking read the socket is drained without blocking, so a burst is handed on
//! as one batch.
//!
//! Lost events are counted two ways: the socket reports `ENOBUFS` when its receive buffer
//! overflowed, and every message carries a per-CPU sequence number whose gaps are events
//! the agent never received.

use std::collections::HashMap;
use std::io;
use std::time::Duration;

use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

use super::RawEvent;
use crate::stats::Stats;

/// Receive buffer requested for the socket. As root it is forced past `net.core.rmem_max`
/// (each queued message costs about 1 KiB of kernel memory: this absorbs ~30,000 events).
pub const RECV_BUFFER_BYTES: usize = 32 << 20;
/// How long a blocking read waits before the owner checks its stop flag.
const READ_TIMEOUT: Duration = Duration::from_millis(200);

/// `CN_IDX_PROC` / `CN_VAL_PROC` (`linux/connector.h`).
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
/// `PROC_CN_MCAST_LISTEN` (`linux/cn_proc.h`).
const PROC_CN_MCAST_LISTEN: u32 = 1;
/// `NLMSG_DONE`, the message type the connector uses.
const NLMSG_DONE: u16 = 3;
/// `struct nlmsghdr` and `struct cn_msg` sizes (both already 4-byte aligned).
const NLMSG_HDR: usize = 16;
const CN_MSG_HDR: usize = 20;
/// `enum proc_cn_event` values.
const PROC_EVENT_FORK: u32 = 0x0000_0001;
const PROC_EVENT_EXEC: u32 = 0x0000_0002;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// An open, subscribed proc connector socket.
pub struct ProcConnector {
    fd: OwnedFd,
    buf: Vec<u8>,
    last_seq: HashMap<u32, u32>,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_ne_bytes)
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_ne_bytes)
}

/// One proc connector message, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectorMessage {
    /// The connector's sequence number (per CPU).
    pub seq: u32,
    /// The CPU that sent it.
    pub cpu: u32,
    /// The event, when it is one the agent uses (process fork, exec, exit; thread events
    /// and other kinds are `None`).
    pub event: Option<RawEvent>,
}

/// Decodes one netlink datagram from the proc connector (`nlmsghdr`, `cn_msg`,
/// `proc_event`, in the kernel's native byte order). `None` when it is not a proc
/// connector message or is truncated.
pub fn parse_message(b: &[u8]) -> Option<ConnectorMessage> {
    let nl_len = u32_at(b, 0)? as usize;
    if nl_len > b.len() || nl_len < NLMSG_HDR + CN_MSG_HDR {
        return None;
    }
    let b = &b[..nl_len];
    let cn = NLMSG_HDR;
    if u32_at(b, cn)? != CN_IDX_PROC || u32_at(b, cn + 4)? != CN_VAL_PROC {
        return None;
    }
    let seq = u32_at(b, cn + 8)?;
    // struct proc_event: what u32, cpu u32, timestamp_ns u64, then the event's union.
    let ev = cn + CN_MSG_HDR;
    let what = u32_at(b, ev)?;
    let cpu = u32_at(b, ev + 4)?;
    let ts_ns = u64_at(b, ev + 8)?;
    let data = ev + 16;
    let field = |i: usize| u32_at(b, data + 4 * i);
    let event = match what {
        // exec: process_pid, process_tgid
        PROC_EVENT_EXEC => Some(RawEvent::Exec {
            pid: field(1)?,
            ts_ns,
        }),
        // fork: parent_pid, parent_tgid, child_pid, child_tgid (threads have pid != tgid)
        PROC_EVENT_FORK => {
            let (child_pid, child_tgid) = (field(2)?, field(3)?);
            (child_pid == child_tgid).then_some(RawEvent::Fork {
                parent: field(1)?,
                child: child_tgid,
            })
        }
        // exit: process_pid, process_tgid, exit_code, exit_signal
        PROC_EVENT_EXIT => {
            let (pid, tgid) = (field(0)?, field(1)?);
            (pid == tgid).then_some(RawEvent::Exit { pid: tgid })
        }
        _ => None,
    };
    Some(ConnectorMessage { seq, cpu, event })
}

/// The subscription request: `nlmsghdr` + `cn_msg` + `PROC_CN_MCAST_LISTEN`.
fn listen_request(port: u32) -> Vec<u8> {
    let len = (NLMSG_HDR + CN_MSG_HDR + 4) as u32;
    let mut m = Vec::with_capacity(len as usize);
    m.extend_from_slice(&len.to_ne_bytes());
    m.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&port.to_ne_bytes());
    m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&0u32.to_ne_bytes()); // ack
    m.extend_from_slice(&4u16.to_ne_bytes()); // len
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&PROC_CN_MCAST_LISTEN.to_ne_bytes());
    m
}

impl ProcConnector {
    /// Opens the socket and subscribes to process events.
    pub fn open() -> io::Result<ProcConnector> {
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            Some(rustix::net::netlink::CONNECTOR),
        )?;
        // Port 0: the kernel assigns one. Group CN_IDX_PROC: the proc events.
        rustix::net::bind(&fd, &SocketAddrNetlink::new(0, CN_IDX_PROC))?;
        // Best effort: a larger buffer absorbs bursts (forced past rmem_max as root).
        if rustix::net::sockopt::set_socket_recv_buffer_size_force(&fd, RECV_BUFFER_BYTES).is_err()
        {
            let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&fd, RECV_BUFFER_BYTES);
        }
        rustix::net::sockopt::set_socket_timeout(
            &fd,
            rustix::net::sockopt::Timeout::Recv,
            Some(READ_TIMEOUT),
        )?;
        let request = listen_request(rustix::process::getpid().as_raw_nonzero().get() as u32);
        rustix::net::sendto(
            &fd,
            &request,
            SendFlags::empty(),
            &SocketAddrNetlink::new(0, 0),
        )?;
        Ok(ProcConnector {
            fd,
            buf: vec![0u8; 8192],
            last_seq: HashMap::new(),
        })
    }

    /// Reads what the kernel has queued: waits up to 200 ms for the first message, then
    /// takes up to `max` more without waiting. Events go to `batch`; losses are counted.
    /// Returns the number of messages read (0 after a timeout).
    pub fn read_batch(&mut self, batch: &mut Vec<RawEvent>, max: usize, stats: &Stats) -> usize {
        let mut read = 0;
        let mut flags = RecvFlags::empty();
        while read < max {
            match rustix::net::recv(&self.fd, &mut self.buf[..], flags) {
                Ok((n, _)) => {
                    read += 1;
                    flags = RecvFlags::DONTWAIT;
                    let Some(msg) = parse_message(&self.buf[..n]) else {
                        continue;
                    };
                    self.account(&msg, stats);
                    if let Some(ev) = msg.event {
                        batch.push(ev);
                    }
                }
                Err(Errno::NOBUFS) => {
                    // The kernel dropped messages; the sequence gaps count them.
                    Stats::inc(&stats.source_overruns);
                    flags = RecvFlags::DONTWAIT;
                }
                Err(Errno::INTR) => {}
                // Nothing (more) queued, or the read timed out.
                Err(Errno::AGAIN) => break,
                Err(e) => {
                    tracing::warn!("proc connector receive failed: {e}");
                    break;
                }
            }
        }
        read
    }

    fn account(&mut self, msg: &ConnectorMessage, stats: &Stats) {
        if let Some(prev) = self.last_seq.insert(msg.cpu, msg.seq) {
            let gap = msg.seq.wrapping_sub(prev).wrapping_sub(1);
            if gap > 0 && gap < u32::MAX / 2 {
                Stats::add(&stats.events_lost_kernel, u64::from(gap));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A proc connector datagram as the kernel lays it out.
    fn datagram(seq: u32, what: u32, cpu: u32, ts: u64, data: &[u32]) -> Vec<u8> {
        let mut ev = Vec::new();
        ev.extend_from_slice(&what.to_ne_bytes());
        ev.extend_from_slice(&cpu.to_ne_bytes());
        ev.extend_from_slice(&ts.to_ne_bytes());
        for d in data {
            ev.extend_from_slice(&d.to_ne_bytes());
        }
        let mut m = Vec::new();
        let len = (NLMSG_HDR + CN_MSG_HDR + ev.len()) as u32;
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
        m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&(ev.len() as u16).to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&ev);
        m
    }

    #[test]
    fn decodes_exec_fork_and_exit_as_laid_out_in_cn_proc_h() {
        let exec = datagram(7, PROC_EVENT_EXEC, 1, 99, &[4711, 4711]);
        assert_eq!(
            parse_message(&exec),
            Some(ConnectorMessage {
                seq: 7,
                cpu: 1,
                event: Some(RawEvent::Exec {
                    pid: 4711,
                    ts_ns: 99
                })
            })
        );
        let fork = datagram(8, PROC_EVENT_FORK, 0, 1, &[100, 100, 200, 200]);
        assert_eq!(
            parse_message(&fork).unwrap().event,
            Some(RawEvent::Fork {
                parent: 100,
                child: 200
            })
        );
        // A new thread (pid != tgid) is not a process.
        let thread = datagram(9, PROC_EVENT_FORK, 0, 1, &[100, 100, 201, 200]);
        assert_eq!(parse_message(&thread).unwrap().event, None);
        let exit = datagram(10, PROC_EVENT_EXIT, 0, 1, &[200, 200, 0, 17, 100, 100]);
        assert_eq!(
            parse_message(&exit).unwrap().event,
            Some(RawEvent::Exit { pid: 200 })
        );
        let thread_exit = datagram(11, PROC_EVENT_EXIT, 0, 1, &[201, 200, 0, 17]);
        assert_eq!(parse_message(&thread_exit).unwrap().event, None);
        // Other kinds (uid change) keep their sequence number but carry no event.
        let uid = datagram(12, 0x4, 0, 1, &[1, 1, 0, 0]);
        assert_eq!(parse_message(&uid).unwrap().event, None);
        assert_eq!(parse_message(&uid).unwrap().seq, 12);
    }

    #[test]
    fn rejects_truncated_and_foreign_messages() {
        let exec = datagram(7, PROC_EVENT_EXEC, 1, 99, &[4711, 4711]);
        assert_eq!(parse_message(&exec[..exec.len() - 1]), None);
        assert_eq!(parse_message(&exec[..20]), None);
        assert_eq!(parse_message(&[]), None);
        let mut foreign = exec.clone();
        foreign[NLMSG_HDR..NLMSG_HDR + 4].copy_from_slice(&5u32.to_ne_bytes());
        assert_eq!(parse_message(&foreign), None);
    }

    #[test]
    fn sequence_gaps_count_as_kernel_losses() {
        let stats = Stats::default();
        let mut c = ProcConnector {
            fd: rustix::net::socket(AddressFamily::UNIX, SocketType::DGRAM, None).unwrap(),
            buf: Vec::new(),
            last_seq: HashMap::new(),
        };
        for (seq, cpu) in [(1, 0), (2, 0), (5, 0), (10, 1), (11, 1)] {
            let msg = ConnectorMessage {
                seq,
                cpu,
                event: None,
            };
            c.account(&msg, &stats);
        }
        assert_eq!(
            stats
                .events_lost_kernel
                .load(std::sync::atomic::Ordering::Relaxed),
            2
        );
    }
}
