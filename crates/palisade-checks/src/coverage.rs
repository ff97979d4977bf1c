//! Peer coverage: the peer checks no catalog check maps, each with the reason.
//!
//! The list is data (`tests/data/peers/out-of-scope.txt`, `PEER<TAB>ID<TAB>reason`), embedded
//! at build time so that `palisade checks list --format markdown` writes it into
//! docs/checks.md. `tests/peer_references.rs` holds it to account: every ID of every peer's
//! published list is either referenced by a catalog check or listed here, never both.

/// The embedded list.
const OUT_OF_SCOPE: &str = include_str!("../tests/data/peers/out-of-scope.txt");

/// One peer check that no Palisade check maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfScope {
    /// The peer's list name: `kube-linter`, `checkov`, `polaris`, `kubescape` or `stackrox`.
    pub peer: &'static str,
    /// The peer's check ID or name.
    pub id: &'static str,
    /// Why Palisade does not map it (one line).
    pub reason: &'static str,
}

/// Every out-of-scope peer check, in file order. Lines that are empty, comments or not of
/// the form `PEER<TAB>ID<TAB>reason` are skipped here; the peer-reference test rejects them.
pub fn out_of_scope() -> Vec<OutOfScope> {
    OUT_OF_SCOPE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            Some(OutOfScope {
                peer: parts.next()?,
                id: parts.next()?,
                reason: parts.next()?,
            })
        })
        .collect()
}

/// The raw embedded list (for the test that checks its syntax line by line).
pub fn out_of_scope_text() -> &'static str {
    OUT_OF_SCOPE
}
