//! A fixed-size bit set over class or cell indexes.

/// Fixed-capacity bit set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct BitSet {
    words: Vec<u64>,
    len: usize,
}

impl BitSet {
    /// An empty set able to hold `0..len`.
    pub(crate) fn new(len: usize) -> BitSet {
        BitSet {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// Adds `i`.
    pub(crate) fn insert(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    /// Removes `i`.
    pub(crate) fn remove(&mut self, i: usize) {
        self.words[i / 64] &= !(1 << (i % 64));
    }

    /// Whether `i` is present.
    #[cfg(test)]
    pub(crate) fn contains(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Adds every member of `other`.
    pub(crate) fn union_with(&mut self, other: &BitSet) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    /// Members, ascending.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    None
                } else {
                    let t = w.trailing_zeros() as usize;
                    w &= w - 1;
                    Some(wi * 64 + t)
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_operations() {
        let mut b = BitSet::new(130);
        b.insert(0);
        b.insert(64);
        b.insert(129);
        assert!(b.contains(64));
        assert!(!b.contains(65));
        assert!(!b.contains(1000));
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![0, 64, 129]);
        b.remove(64);
        assert_eq!(b.iter().count(), 2);
        let mut f = BitSet::new(130);
        f.insert(5);
        f.union_with(&b);
        assert_eq!(f.iter().collect::<Vec<_>>(), vec![0, 5, 129]);
    }
}
