//! The netlink proc connector: the kernel multicasts a message for every fork, exec and exit
//! (needs root in the initial PID and network namespaces).
//!
//! Lost events are counted two ways: the socket reports `ENOBUFS` when its receive buffer
//! overflowed, and every message carries a per-CPU sequence number whose gaps are events
//! the agent never received.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use neli::connector::{CnMsg, CnMsgBuilder, ProcEvent, ProcEventHeader};
use neli::consts::connector::{CnMsgIdx, CnMsgVal, ProcCnMcastOp};
use neli::consts::nl::{NlmF, Nlmsg};
use neli::consts::socket::NlFamily;
use neli::err::SocketError;
use neli::nl::{NlPayload, NlmsghdrBuilder};
use neli::socket::synchronous::NlSocketHandle;
use neli::utils::Groups;

use super::{EventSender, RawEvent};
use crate::stats::Stats;

/// Receive buffer requested for the socket (the kernel caps it at `net.core.rmem_max`).
const RECV_BUFFER_BYTES: usize = 8 << 20;

/// An open, subscribed proc connector socket.
pub struct ProcConnector {
    socket: NlSocketHandle,
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl ProcConnector {
    /// Opens the socket and subscribes to process events.
    pub fn open() -> io::Result<ProcConnector> {
        let socket = NlSocketHandle::connect(
            NlFamily::Connector,
            None,
            Groups::new_bitmask(CnMsgIdx::Proc.into()),
        )
        .map_err(io_err)?;
        // Best effort: a larger buffer absorbs bursts.
        let _ = socket.set_recv_buffer_size(RECV_BUFFER_BYTES);
        let subscribe = NlmsghdrBuilder::default()
            .nl_type(Nlmsg::Done)
            .nl_flags(NlmF::empty())
            .nl_pid(socket.pid())
            .nl_payload(NlPayload::Payload(
                CnMsgBuilder::default()
                    .idx(CnMsgIdx::Proc)
                    .val(CnMsgVal::Proc)
                    .payload(ProcCnMcastOp::Listen)
                    .build()
                    .map_err(io_err)?,
            ))
            .build()
            .map_err(io_err)?;
        socket.send(&subscribe).map_err(io_err)?;
        Ok(ProcConnector { socket })
    }

    /// Reads events until `stop` is set (checked after each message) or the queue's
    /// receiver is gone.
    pub fn run(self, out: EventSender, stop: Arc<AtomicBool>) {
        let mut last_seq: HashMap<u32, u32> = HashMap::new();
        while !stop.load(Ordering::Relaxed) {
            let batch = match self.socket.recv::<Nlmsg, CnMsg<ProcEventHeader>>() {
                Ok((iter, _)) => iter,
                Err(SocketError::Io(e)) if e.raw_os_error() == Some(105) => {
                    // ENOBUFS: the kernel dropped messages; the sequence gaps count them.
                    Stats::inc(&out.stats().source_overruns);
                    continue;
                }
                Err(SocketError::Io(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::warn!("proc connector receive failed: {e}");
                    continue;
                }
            };
            for msg in batch {
                let Ok(msg) = msg else { continue };
                let Some(cn) = msg.get_payload() else {
                    continue;
                };
                let seq = *cn.seq();
                let header = cn.payload();
                if let Some(prev) = last_seq.insert(header.cpu, seq) {
                    let gap = seq.wrapping_sub(prev).wrapping_sub(1);
                    if gap > 0 && gap < u32::MAX / 2 {
                        Stats::add(&out.stats().events_lost_kernel, u64::from(gap));
                    }
                }
                let ev = match header.event {
                    ProcEvent::Exec { process_tgid, .. } => RawEvent::Exec {
                        pid: process_tgid as u32,
                        ts_ns: header.timestamp_ns,
                    },
                    ProcEvent::Fork {
                        parent_tgid,
                        child_pid,
                        child_tgid,
                        ..
                    } if child_pid == child_tgid => RawEvent::Fork {
                        parent: parent_tgid as u32,
                        child: child_tgid as u32,
                    },
                    ProcEvent::Exit {
                        process_pid,
                        process_tgid,
                        ..
                    } if process_pid == process_tgid => RawEvent::Exit {
                        pid: process_tgid as u32,
                    },
                    _ => continue,
                };
                if !out.send(ev) {
                    return;
                }
            }
        }
    }
}
