//! The catalog's cross-references to peer tools name checks that exist.
//!
//! `tests/data/peers/<peer>.txt` keeps a copy of each peer's published check IDs (one
//! `ID<TAB>description` a line, `#` comments naming the source repository, path, commit and
//! licence). Every peer reference in `catalog.yaml` must be one of them, and every check must
//! either reference a peer or say in `no_peer` why none asks its question.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use palisade_checks::{Catalog, PEERS};

fn peer_file(key: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/peers")
        .join(format!("{}.txt", key.replace('_', "-")))
}

/// The IDs listed in one peer's file; panics on a malformed line or a duplicate ID.
fn peer_ids(key: &str) -> HashSet<String> {
    let path = peer_file(key);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text.lines()
            .any(|l| l.starts_with('#') && l.contains("Licen")),
        "{}: the header must name the source's licence",
        path.display()
    );
    let mut ids = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (id, description) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("{}:{}: expected ID<TAB>description", path.display(), n + 1));
        assert!(
            !id.trim().is_empty() && !description.trim().is_empty(),
            "{}:{}: empty ID or description",
            path.display(),
            n + 1
        );
        assert!(
            ids.insert(id.to_string()),
            "{}:{}: duplicate ID {id:?}",
            path.display(),
            n + 1
        );
    }
    ids
}

#[test]
fn every_peer_reference_exists_in_the_peers_published_catalog() {
    let catalog = Catalog::builtin();
    let known: Vec<(&str, HashSet<String>)> =
        PEERS.iter().map(|(key, _)| (*key, peer_ids(key))).collect();
    let mut errors = String::new();
    for check in catalog.checks() {
        for ((key, ids), (peer, refs)) in known.iter().zip(check.references.peers()) {
            assert_eq!(*key, peer, "PEERS and References::peers disagree");
            for r in refs {
                if !ids.contains(&r.id) {
                    let _ = writeln!(
                        errors,
                        "{}: {peer} ID {:?} is not in {}",
                        check.id,
                        r.id,
                        peer_file(peer).display()
                    );
                }
            }
        }
    }
    assert!(errors.is_empty(), "unknown peer IDs:\n{errors}");
}

#[test]
fn every_check_references_a_peer_or_says_why_none() {
    let catalog = Catalog::builtin();
    let missing: Vec<&str> = catalog
        .checks()
        .iter()
        .filter(|c| !c.references.has_peer() && c.references.no_peer.is_none())
        .map(|c| c.id.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "checks with neither a peer reference nor a no_peer reason: {missing:?}"
    );
}

/// `out-of-scope-control-plane.txt` lists peer checks Palisade does not map (`PEER<TAB>ID<TAB>
/// reason`): each names a peer ID that exists and that no check references.
#[test]
fn out_of_scope_peer_ids_exist_and_are_not_mapped() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/peers/out-of-scope-control-plane.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let catalog = Catalog::builtin();
    let mut errors = String::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [peer, id, reason] = fields[..] else {
            let _ = writeln!(errors, "line {}: expected PEER<TAB>ID<TAB>reason", n + 1);
            continue;
        };
        if reason.trim().is_empty() || !PEERS.iter().any(|(key, _)| *key == peer) {
            let _ = writeln!(
                errors,
                "line {}: unknown peer {peer:?} or empty reason",
                n + 1
            );
            continue;
        }
        if !peer_ids(peer).contains(id) {
            let _ = writeln!(errors, "line {}: {peer} has no check {id}", n + 1);
        }
        for check in catalog.checks() {
            let refs = check.references.peers();
            if refs
                .iter()
                .any(|(p, r)| *p == peer && r.iter().any(|r| r.id == id))
            {
                let _ = writeln!(errors, "line {}: {id} is referenced by {}", n + 1, check.id);
            }
        }
    }
    assert!(errors.is_empty(), "{}:\n{errors}", path.display());
}
