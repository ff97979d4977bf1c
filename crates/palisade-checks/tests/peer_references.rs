//! The catalog's cross-references to peer tools name checks that exist.
//!
//! `tests/data/peers/<peer>.txt` keeps a copy of each peer's published check IDs (one
//! `ID<TAB>description` a line, `#` comments naming the source repository, path, commit and
//! licence). Every peer reference in `catalog.yaml` must be one of them, and every check must
//! either reference a peer or say in `no_peer` why none asks its question. Every ID of those
//! lists is either referenced by a check or listed, with a reason, in
//! `tests/data/peers/out-of-scope.txt` (`PEER<TAB>ID<TAB>reason`), never both.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use palisade_checks::{Catalog, PEERS, out_of_scope, out_of_scope_text};

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

/// The peer list's file name for a catalog key (`kube_linter` -> `kube-linter`).
fn list_name(key: &str) -> String {
    key.replace('_', "-")
}

#[test]
fn out_of_scope_lines_are_well_formed_and_unique() {
    let mut seen = HashSet::new();
    for (n, line) in out_of_scope_text().lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split('\t').collect();
        assert!(
            parts.len() == 3 && parts.iter().all(|p| !p.trim().is_empty()),
            "out-of-scope.txt:{}: expected PEER<TAB>ID<TAB>reason, found {line:?}",
            n + 1
        );
        assert!(
            seen.insert((parts[0], parts[1])),
            "out-of-scope.txt:{}: {} {} is listed twice",
            n + 1,
            parts[0],
            parts[1]
        );
    }
    assert_eq!(seen.len(), out_of_scope().len());
}

#[test]
fn every_peer_check_is_mapped_or_out_of_scope_and_never_both() {
    let catalog = Catalog::builtin();
    let peers: Vec<String> = PEERS.iter().map(|(key, _)| list_name(key)).collect();
    let mut errors = String::new();
    for entry in out_of_scope() {
        if !peers.iter().any(|p| p == entry.peer) {
            let _ = writeln!(errors, "out of scope: unknown peer {:?}", entry.peer);
        }
    }
    for (key, _) in PEERS {
        let name = list_name(key);
        let published = peer_ids(key);
        let referenced: BTreeSet<&str> = catalog
            .checks()
            .iter()
            .flat_map(|c| c.references.peers())
            .filter(|(peer, _)| *peer == key)
            .flat_map(|(_, refs)| refs.iter().map(|r| r.id.as_str()))
            .collect();
        let listed: BTreeSet<&str> = out_of_scope()
            .into_iter()
            .filter(|e| e.peer == name)
            .map(|e| e.id)
            .collect();
        let mut ids: Vec<&String> = published.iter().collect();
        ids.sort();
        for id in ids {
            match (
                referenced.contains(id.as_str()),
                listed.contains(id.as_str()),
            ) {
                (false, false) => {
                    let _ = writeln!(
                        errors,
                        "{name} {id}: neither referenced by a check nor out of scope"
                    );
                }
                (true, true) => {
                    let _ = writeln!(
                        errors,
                        "{name} {id}: referenced by a check and listed out of scope"
                    );
                }
                _ => {}
            }
        }
        for id in &listed {
            if !published.contains(*id) {
                let _ = writeln!(
                    errors,
                    "{name} {id}: out of scope but not in {}",
                    peer_file(key).display()
                );
            }
        }
    }
    assert!(errors.is_empty(), "peer coverage:\n{errors}");
}
