//! RFC 6962 / RFC 9162 Merkle trees: leaf and node hashes and the inclusion-proof check
//! (RFC 9162 §2.1.3.2).

use sha2::{Digest, Sha256};

/// The hash of a leaf: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Whether `proof` proves that the leaf with hash `leaf` is at `index` in the tree of
/// `size` leaves with root `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &[u8; 32],
    proof: &[Vec<u8>],
    root: &[u8],
) -> bool {
    if index >= size || proof.iter().any(|p| p.len() != 32) {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r.as_slice() == root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_of_a_three_leaf_tree() {
        let leaves: Vec<[u8; 32]> = [b"a", b"b", b"c"].iter().map(|d| leaf_hash(*d)).collect();
        let ab = node_hash(&leaves[0], &leaves[1]);
        let root = node_hash(&ab, &leaves[2]);
        assert!(verify_inclusion(
            0,
            3,
            &leaves[0],
            &[leaves[1].to_vec(), leaves[2].to_vec()],
            &root
        ));
        assert!(verify_inclusion(2, 3, &leaves[2], &[ab.to_vec()], &root));
        assert!(!verify_inclusion(2, 3, &leaves[1], &[ab.to_vec()], &root));
        assert!(!verify_inclusion(3, 3, &leaves[2], &[ab.to_vec()], &root));
        assert!(verify_inclusion(0, 1, &leaves[0], &[], &leaves[0]));
    }
}
