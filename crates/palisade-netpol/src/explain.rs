//! `can`: is one connection allowed, and which policies and rules decide it.
//!
//! This evaluates the policies directly on the two endpoints' labels (not on equivalence
//! classes), so it doubles as an independent check of [`crate::Analysis::reachability`].

use palisade_model::ObjectRef;
use serde::Serialize;

use crate::analysis::Analysis;
use crate::connectivity::{Endpoint, Target};
use crate::policy::{Direction, Peers, Policy};
use crate::ports::Protocol;

/// A rule of a policy: `spec.<direction>[rule]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RuleRef {
    /// The policy.
    pub policy: ObjectRef,
    /// `Ingress` or `Egress`.
    pub direction: Direction,
    /// Index in `spec.ingress` / `spec.egress`.
    pub rule: usize,
}

/// Why one side lets the connection through or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SideState {
    /// The endpoint is an external address: no policy applies to it.
    External,
    /// No policy selects the workload for this direction: everything is allowed.
    NotIsolated,
    /// Policies select the workload: only what their rules allow passes.
    Isolated,
}

/// The verdict of one side (the source's egress or the destination's ingress).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideVerdict {
    /// Direction (`Egress` for the source side, `Ingress` for the destination side).
    pub direction: Direction,
    /// Whether this side restricts traffic.
    pub state: SideState,
    /// Policies that select the workload for this direction.
    pub policies: Vec<ObjectRef>,
    /// Rules that allow this connection.
    pub allowing_rules: Vec<RuleRef>,
    /// Whether this side allows the connection.
    pub allowed: bool,
}

/// The answer to "can SRC reach DST on PORT/PROTO?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Source.
    pub src: Endpoint,
    /// Destination.
    pub dst: Endpoint,
    /// Destination port.
    pub port: u16,
    /// Protocol.
    pub protocol: Protocol,
    /// Both sides allow it.
    pub allowed: bool,
    /// The source's egress side.
    pub egress: SideVerdict,
    /// The destination's ingress side.
    pub ingress: SideVerdict,
}

/// Errors of a `can` query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Both ends are IP addresses: traffic between external addresses is not modelled.
    #[error("at least one of SRC and DST must be a workload (NAMESPACE/NAME)")]
    BothExternal,
    /// Port 0.
    #[error("port must be between 1 and 65535")]
    PortZero,
}

impl Analysis<'_> {
    /// Whether `src` may open a connection to `dst` on `port`/`protocol`, with the policies and
    /// rules responsible.
    pub fn can(
        &self,
        src: Target,
        dst: Target,
        port: u16,
        protocol: Protocol,
    ) -> Result<Verdict, QueryError> {
        if matches!((src, dst), (Target::Ip(_), Target::Ip(_))) {
            return Err(QueryError::BothExternal);
        }
        if port == 0 {
            return Err(QueryError::PortZero);
        }
        let egress = self.side(Direction::Egress, src, dst, port, protocol);
        let ingress = self.side(Direction::Ingress, dst, src, port, protocol);
        Ok(Verdict {
            src: self.target_endpoint(src),
            dst: self.target_endpoint(dst),
            port,
            protocol,
            allowed: egress.allowed && ingress.allowed,
            egress,
            ingress,
        })
    }

    fn target_endpoint(&self, t: Target) -> Endpoint {
        match t {
            Target::Workload(m) => self.endpoint(m),
            Target::Ip(ip) => Endpoint::External(crate::ipspace::IpInterval::of_addr(ip)),
        }
    }

    /// Policies (indexes) that select workload `m` and affect `dir`, evaluated on its labels.
    pub(crate) fn selecting_policies(&self, m: usize, dir: Direction) -> Vec<usize> {
        let member = &self.universe.members[m];
        self.policies
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.rules(dir).is_some()
                    && p.namespace == member.id.namespace
                    && p.selector
                        .as_ref()
                        .is_some_and(|s| s.matches(member.labels))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// One side: `own` is the endpoint whose policies apply, `peer` the other end.
    fn side(
        &self,
        dir: Direction,
        own: Target,
        peer: Target,
        port: u16,
        protocol: Protocol,
    ) -> SideVerdict {
        let Target::Workload(m) = own else {
            return SideVerdict {
                direction: dir,
                state: SideState::External,
                policies: Vec::new(),
                allowing_rules: Vec::new(),
                allowed: true,
            };
        };
        let selecting = self.selecting_policies(m, dir);
        if selecting.is_empty() {
            return SideVerdict {
                direction: dir,
                state: SideState::NotIsolated,
                policies: Vec::new(),
                allowing_rules: Vec::new(),
                allowed: true,
            };
        }
        // Named ports resolve against the destination of the connection.
        let dst_named = match (dir, peer) {
            (Direction::Ingress, _) => Some(&self.universe.members[m].named_ports),
            (Direction::Egress, Target::Workload(d)) => Some(&self.universe.members[d].named_ports),
            (Direction::Egress, Target::Ip(_)) => None,
        };
        let mut allowing = Vec::new();
        for &pi in &selecting {
            let p: &Policy = &self.policies[pi];
            for (ri, rule) in p.rules(dir).unwrap_or(&[]).iter().enumerate() {
                if self.peer_matches(&rule.peers, peer)
                    && rule.ports.resolve(dst_named).contains(protocol, port)
                {
                    allowing.push(RuleRef {
                        policy: p.object.clone(),
                        direction: dir,
                        rule: ri,
                    });
                }
            }
        }
        SideVerdict {
            direction: dir,
            state: SideState::Isolated,
            policies: selecting
                .iter()
                .map(|&pi| self.policies[pi].object.clone())
                .collect(),
            allowed: !allowing.is_empty(),
            allowing_rules: allowing,
        }
    }

    fn peer_matches(&self, peers: &Peers, peer: Target) -> bool {
        let Peers::List(list) = peers else {
            return true;
        };
        match peer {
            Target::Workload(m) => {
                let member = &self.universe.members[m];
                let ns = &self.universe.namespaces[member.namespace];
                list.iter()
                    .any(|p| p.matches_pod(&ns.name, &ns.labels, member.labels))
            }
            Target::Ip(ip) => list.iter().any(|p| p.matches_ip(ip)),
        }
    }
}
