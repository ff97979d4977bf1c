//! Cross-references of a check to benchmarks and peer tools.
//!
//! A peer reference names the peer's check ID and, where the peer asks a coarser or different
//! question, a note saying how it differs. In the catalog a reference is either a bare ID
//! (`CKV_K8S_16`) or `{id: CKV_K8S_23, note: "..."}`; it is written back the same way, so a
//! reference without a note stays a plain string in JSON.

use serde::{Deserialize, Serialize};

/// One peer tool's check that asks the same question as ours, or a related one (see `note`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "PeerRefRepr", into = "PeerRefRepr")]
pub struct PeerRef {
    /// The peer's check ID or name, exactly as the peer publishes it.
    pub id: String,
    /// How the peer's check differs from ours (coarser, narrower, different scope), if it does.
    pub note: Option<String>,
}

/// The two spellings of a [`PeerRef`] in catalog documents.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum PeerRefRepr {
    Id(String),
    Noted(NotedRef),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotedRef {
    id: String,
    note: String,
}

impl From<PeerRefRepr> for PeerRef {
    fn from(r: PeerRefRepr) -> Self {
        match r {
            PeerRefRepr::Id(id) => PeerRef { id, note: None },
            PeerRefRepr::Noted(NotedRef { id, note }) => PeerRef {
                id,
                note: Some(note),
            },
        }
    }
}

impl From<PeerRef> for PeerRefRepr {
    fn from(r: PeerRef) -> Self {
        match r.note {
            None => PeerRefRepr::Id(r.id),
            Some(note) => PeerRefRepr::Noted(NotedRef { id: r.id, note }),
        }
    }
}

impl std::fmt::Display for PeerRef {
    /// `ID`, or `ID (note)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.note {
            None => f.write_str(&self.id),
            Some(note) => write!(f, "{} ({note})", self.id),
        }
    }
}

/// Cross-references of a check to the benchmarks and tools users already know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct References {
    /// CIS Kubernetes Benchmark section(s).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cis: Vec<String>,
    /// NSA/CISA Kubernetes Hardening Guide section(s).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nsa: Vec<String>,
    /// kube-linter check name(s).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kube_linter: Vec<PeerRef>,
    /// Checkov check ID(s) (CKV_K8S_*).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checkov: Vec<PeerRef>,
    /// Polaris check ID(s).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub polaris: Vec<PeerRef>,
    /// Kubescape control ID(s) (C-xxxx).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kubescape: Vec<PeerRef>,
    /// StackRox (Red Hat ACS) policy name(s).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stackrox: Vec<PeerRef>,
    /// Why no peer tool is referenced: the peers have no check asking this question (or only
    /// a different one). Only allowed when no peer is referenced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_peer: Option<String>,
}

/// The peer tools, in the order they are shown: (key in the catalog, display name).
pub const PEERS: [(&str, &str); 5] = [
    ("kube_linter", "kube-linter"),
    ("checkov", "Checkov"),
    ("polaris", "Polaris"),
    ("kubescape", "Kubescape"),
    ("stackrox", "StackRox"),
];

impl References {
    /// The references to each peer tool, keyed as in [`PEERS`] (catalog key first).
    pub fn peers(&self) -> [(&'static str, &[PeerRef]); 5] {
        [
            (PEERS[0].0, &self.kube_linter),
            (PEERS[1].0, &self.checkov),
            (PEERS[2].0, &self.polaris),
            (PEERS[3].0, &self.kubescape),
            (PEERS[4].0, &self.stackrox),
        ]
    }

    /// The non-empty references, labelled (`CIS`, `NSA/CISA`, then each peer tool's name), each
    /// list joined with ", " (a noted reference as `ID (note)`), and `No peer` with its reason.
    pub fn labelled(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = [("CIS", &self.cis), ("NSA/CISA", &self.nsa)]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, v.join(", ")))
            .collect();
        for ((_, name), (_, refs)) in PEERS.iter().zip(self.peers()) {
            if !refs.is_empty() {
                let ids: Vec<String> = refs.iter().map(ToString::to_string).collect();
                out.push((name, ids.join(", ")));
            }
        }
        if let Some(reason) = &self.no_peer {
            out.push(("No peer", reason.clone()));
        }
        out
    }

    /// Whether any peer tool is referenced.
    pub fn has_peer(&self) -> bool {
        self.peers().iter().any(|(_, refs)| !refs.is_empty())
    }

    /// Checks the references' own consistency: no empty ID, note or `no_peer` reason, and
    /// `no_peer` only when no peer is referenced.
    pub fn validate(&self) -> Result<(), String> {
        for (peer, refs) in self.peers() {
            for r in refs {
                if r.id.trim().is_empty() {
                    return Err(format!("empty {peer} reference"));
                }
                if r.note.as_ref().is_some_and(|n| n.trim().is_empty()) {
                    return Err(format!("{peer} reference {}: empty note", r.id));
                }
            }
        }
        match &self.no_peer {
            Some(reason) if reason.trim().is_empty() => Err("empty no_peer reason".into()),
            Some(_) if self.has_peer() => {
                Err("no_peer is given but peer references are too; keep one".into())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<References, String> {
        serde_saphyr::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn bare_and_noted_references_round_trip() {
        let r = parse("checkov: [CKV_K8S_16, {id: CKV_K8S_23, note: also fires when unset}]\n")
            .unwrap();
        assert_eq!(r.checkov[0].note, None);
        assert_eq!(
            r.checkov[1].to_string(),
            "CKV_K8S_23 (also fires when unset)"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"checkov": ["CKV_K8S_16", {"id": "CKV_K8S_23", "note": "also fires when unset"}]})
        );
    }

    #[test]
    fn unknown_fields_in_a_reference_are_rejected() {
        assert!(parse("checkov: [{id: CKV_K8S_23, nose: x}]\n").is_err());
        assert!(parse("checkov: [{id: CKV_K8S_23}]\n").is_err());
        assert!(parse("nopeer: x\n").is_err());
    }

    #[test]
    fn no_peer_excludes_peer_references() {
        let r = parse("checkov: [CKV_K8S_16]\nno_peer: nobody has it\n").unwrap();
        assert!(r.validate().is_err());
        let r = parse("cis: [\"5.1.1\"]\nno_peer: nobody has it\n").unwrap();
        assert!(r.validate().is_ok());
        let r = parse("no_peer: \" \"\n").unwrap();
        assert!(r.validate().is_err());
    }
}
