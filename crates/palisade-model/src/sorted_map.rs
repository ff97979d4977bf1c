//! [`SortedMap`]: a map stored as one vector of entries sorted by key.
//!
//! The inventory holds several small maps per object (labels, annotations, selectors, resource
//! quantities), nearly all with a handful of entries. A `BTreeMap` allocates a whole leaf
//! (eleven key and value slots) for even one entry; a `SortedMap` allocates exactly its entries.
//! Lookups are binary searches; insertion and removal shift the entries after the position,
//! which is cheap for the small maps it is meant for.
//!
//! It behaves as a `BTreeMap` where both have the operation: iteration in key order, a later
//! insertion of a key replaces the value (keeping the first key), equality and ordering by the
//! sorted entries, `Debug` and serde as a map.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::iter::FusedIterator;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A map kept as a vector of `(key, value)` entries sorted by key, keys unique.
///
/// Built whole (from an iterator, a `BTreeMap`, an array, or by deserializing) it holds exactly
/// its entries with no spare capacity. Equality, ordering and hashing are those of the sorted
/// entries, as for `BTreeMap`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SortedMap<K, V> {
    /// Sorted by key; no two keys equal.
    entries: Vec<(K, V)>,
}

impl<K, V> SortedMap<K, V> {
    /// An empty map (allocates nothing).
    pub const fn new() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the map has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry and frees the storage.
    pub fn clear(&mut self) {
        self.entries = Vec::new();
    }

    /// The entries, sorted by key.
    pub fn as_slice(&self) -> &[(K, V)] {
        &self.entries
    }

    /// The entries in key order, as `(&key, &value)`.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter(self.entries.iter())
    }

    /// The entries in key order, values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut(self.entries.iter_mut())
    }

    /// The keys in order.
    pub fn keys(&self) -> Keys<'_, K, V> {
        Keys(self.entries.iter())
    }

    /// The values in key order.
    pub fn values(&self) -> Values<'_, K, V> {
        Values(self.entries.iter())
    }

    /// The entry with the smallest key.
    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    /// The entry with the largest key.
    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    /// Keeps only the entries for which `keep` returns true (visited in key order).
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// Releases spare capacity (left by [`SortedMap::insert`] or [`SortedMap::remove`]).
    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// Where `key` is (`Ok`) or would be inserted (`Err`).
    fn search<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// The value of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.search(key).ok().map(|i| &self.entries[i].1)
    }

    /// The stored key equal to `key`, and its value.
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.search(key).ok().map(|i| {
            let (k, v) = &self.entries[i];
            (k, v)
        })
    }

    /// The value of `key`, mutable.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.search(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// Whether the map has an entry for `key`.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.search(key).is_ok()
    }

    /// Sets the value of `key`, returning the previous value. As with `BTreeMap`, an existing
    /// key is kept and only its value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.search(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes the entry of `key`, returning its value.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Removes the entry of `key`, returning the stored key and its value.
    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.search(key).ok().map(|i| self.entries.remove(i))
    }

    /// A map of `entries` in any order: sorted by key, and of equal keys the first key is kept
    /// with the last value (what inserting them one by one into a `BTreeMap` gives). No spare
    /// capacity is left.
    fn from_entries(mut entries: Vec<(K, V)>) -> Self {
        if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
            // Stable: equal keys stay in their order, so the last one is the latest value.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            // `dedup_by` keeps the first of a run and drops each later one (`later`); the later
            // value moves into the kept entry first, so the run ends with the last value.
            entries.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(&mut later.1, &mut kept.1);
                }
                same
            });
        }
        entries.shrink_to_fit();
        SortedMap { entries }
    }
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap::new()
    }
}

impl<K, V, Q> std::ops::Index<&Q> for SortedMap<K, V>
where
    K: Borrow<Q> + Ord,
    Q: ?Sized + Ord,
{
    type Output = V;

    /// The value of `key`.
    ///
    /// # Panics
    ///
    /// When the map has no entry for `key` (as `BTreeMap` does).
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry found for key")
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SortedMap<K, V> {
    /// As a map, like `BTreeMap`: `{"a": 1, "b": 2}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    /// Of equal keys the last value wins, as when inserting into a `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        SortedMap::from_entries(iter.into_iter().collect())
    }
}

impl<K: Ord, V> Extend<(K, V)> for SortedMap<K, V> {
    /// Inserts every entry in order: the last value of a key wins.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        let mut entries = std::mem::take(&mut self.entries);
        entries.extend(iter);
        *self = SortedMap::from_entries(entries);
    }
}

impl<K, V> From<BTreeMap<K, V>> for SortedMap<K, V> {
    /// The same entries (already sorted and unique).
    fn from(map: BTreeMap<K, V>) -> Self {
        SortedMap {
            entries: map.into_iter().collect(),
        }
    }
}

impl<K: Ord, V> From<SortedMap<K, V>> for BTreeMap<K, V> {
    /// The same entries.
    fn from(map: SortedMap<K, V>) -> Self {
        map.entries.into_iter().collect()
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for SortedMap<K, V> {
    /// Of equal keys the last value wins, as with `BTreeMap::from`.
    fn from(entries: [(K, V); N]) -> Self {
        SortedMap::from_entries(Vec::from(entries))
    }
}

impl<'a, K, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<'a, K, V> IntoIterator for &'a mut SortedMap<K, V> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;

    fn into_iter(self) -> IterMut<'a, K, V> {
        self.iter_mut()
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    /// The entries in key order.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// Iterator over the entries of a [`SortedMap`] in key order: `(&key, &value)`.
#[derive(Debug, Clone)]
pub struct Iter<'a, K, V>(std::slice::Iter<'a, (K, V)>);

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}
impl<K, V> FusedIterator for Iter<'_, K, V> {}

/// Iterator over the entries of a [`SortedMap`] in key order, values mutable.
#[derive(Debug)]
pub struct IterMut<'a, K, V>(std::slice::IterMut<'a, (K, V)>);

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&*k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for IterMut<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (&*k, v))
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}
impl<K, V> FusedIterator for IterMut<'_, K, V> {}

/// Iterator over the keys of a [`SortedMap`] in order.
#[derive(Debug, Clone)]
pub struct Keys<'a, K, V>(std::slice::Iter<'a, (K, V)>);

impl<'a, K, V> Iterator for Keys<'a, K, V> {
    type Item = &'a K;

    fn next(&mut self) -> Option<&'a K> {
        self.0.next().map(|(k, _)| k)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Keys<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, _)| k)
    }
}

impl<K, V> ExactSizeIterator for Keys<'_, K, V> {}
impl<K, V> FusedIterator for Keys<'_, K, V> {}

/// Iterator over the values of a [`SortedMap`] in key order.
#[derive(Debug, Clone)]
pub struct Values<'a, K, V>(std::slice::Iter<'a, (K, V)>);

impl<'a, K, V> Iterator for Values<'a, K, V> {
    type Item = &'a V;

    fn next(&mut self) -> Option<&'a V> {
        self.0.next().map(|(_, v)| v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Values<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(_, v)| v)
    }
}

impl<K, V> ExactSizeIterator for Values<'_, K, V> {}
impl<K, V> FusedIterator for Values<'_, K, V> {}

impl<K: Serialize, V: Serialize> Serialize for SortedMap<K, V> {
    /// As a map in key order (what a `BTreeMap` writes).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

/// Most bytes preallocated from a map's announced length, which the input controls.
const MAX_PREALLOCATION_BYTES: usize = 4096;

impl<'de, K, V> Deserialize<'de> for SortedMap<K, V>
where
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de>,
{
    /// From a map; of equal keys the last value wins, as for `BTreeMap`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<fn() -> (K, V)>);

        impl<'de, K, V> Visitor<'de> for MapVisitor<K, V>
        where
            K: Deserialize<'de> + Ord,
            V: Deserialize<'de>,
        {
            type Value = SortedMap<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // The words serde uses for a `BTreeMap`: error messages stay the same.
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let cap = MAX_PREALLOCATION_BYTES / size_of::<(K, V)>().max(1);
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(cap));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(SortedMap::from_entries(entries))
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

/// Compares with a `BTreeMap` holding the same entries (tests and callers converting).
impl<K: PartialEq, V: PartialEq> PartialEq<BTreeMap<K, V>> for SortedMap<K, V> {
    fn eq(&self, other: &BTreeMap<K, V>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<K: PartialOrd, V: PartialOrd> PartialOrd<BTreeMap<K, V>> for SortedMap<K, V> {
    fn partial_cmp(&self, other: &BTreeMap<K, V>) -> Option<Ordering> {
        self.iter().partial_cmp(other.iter())
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{DefaultHasher, Hash, Hasher};

    use super::*;

    /// xorshift64*: deterministic, good enough to pick operations.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn key(&mut self) -> String {
            // Few distinct keys, so that inserts collide and removes hit.
            format!("k{}", self.below(24))
        }
    }

    fn assert_same(s: &SortedMap<String, u64>, b: &BTreeMap<String, u64>) {
        assert_eq!(s.len(), b.len());
        assert_eq!(s.is_empty(), b.is_empty());
        assert!(s.iter().eq(b.iter()));
        assert!(s.iter().rev().eq(b.iter().rev()));
        assert!(s.keys().eq(b.keys()));
        assert!(s.values().eq(b.values()));
        assert!(s.keys().rev().eq(b.keys().rev()));
        assert!(s.values().rev().eq(b.values().rev()));
        assert_eq!(s.iter().len(), b.len());
        assert_eq!(s.first_key_value(), b.first_key_value());
        assert_eq!(s.last_key_value(), b.last_key_value());
        assert_eq!(format!("{s:?}"), format!("{b:?}"));
        assert!(s == b);
        assert!(s.clone().into_iter().eq(b.clone()));
    }

    #[test]
    fn random_operations_behave_as_btreemap() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..200 {
            let mut s = SortedMap::new();
            let mut b = BTreeMap::new();
            for _ in 0..rng.below(60) {
                let key = rng.key();
                match rng.below(7) {
                    0..=2 => {
                        let v = rng.below(1000);
                        assert_eq!(s.insert(key.clone(), v), b.insert(key, v));
                    }
                    3 => assert_eq!(s.remove(&key), b.remove(&key)),
                    4 => {
                        assert_eq!(s.get(key.as_str()), b.get(key.as_str()));
                        assert_eq!(s.contains_key(&key), b.contains_key(&key));
                        assert_eq!(s.get_key_value(&key), b.get_key_value(&key));
                    }
                    5 => {
                        let more: Vec<(String, u64)> = (0..rng.below(6))
                            .map(|_| (rng.key(), rng.below(1000)))
                            .collect();
                        s.extend(more.clone());
                        b.extend(more);
                    }
                    _ => {
                        if let (Some(x), Some(y)) = (s.get_mut(&key), b.get_mut(&key)) {
                            *x += 1;
                            *y += 1;
                        }
                        let m = rng.below(5);
                        s.retain(|_, v| *v % 5 != m);
                        b.retain(|_, v| *v % 5 != m);
                    }
                }
                assert_same(&s, &b);
            }
        }
    }

    #[test]
    fn collecting_keeps_the_last_value_and_exact_capacity() {
        let mut rng = Rng(42);
        for _ in 0..300 {
            let entries: Vec<(String, u64)> = (0..rng.below(40))
                .map(|_| (rng.key(), rng.below(1000)))
                .collect();
            let s: SortedMap<String, u64> = entries.iter().cloned().collect();
            let b: BTreeMap<String, u64> = entries.iter().cloned().collect();
            assert_same(&s, &b);
            assert_eq!(s.entries.capacity(), s.len());
            assert_eq!(SortedMap::from(b.clone()), s);
        }
        let arr = SortedMap::from([("b", 1), ("a", 2), ("b", 3)]);
        assert_eq!(arr, BTreeMap::from([("b", 1), ("a", 2), ("b", 3)]));
        assert_eq!(arr.as_slice(), &[("a", 2), ("b", 3)]);
    }

    #[test]
    fn equality_ordering_and_hash_follow_btreemap() {
        let mut rng = Rng(7);
        let maps: Vec<BTreeMap<String, u64>> = (0..60)
            .map(|_| {
                (0..rng.below(4))
                    .map(|_| (format!("k{}", rng.below(3)), rng.below(3)))
                    .collect()
            })
            .collect();
        let hash = |m: &SortedMap<String, u64>| {
            let mut h = DefaultHasher::new();
            m.hash(&mut h);
            h.finish()
        };
        for a in &maps {
            for b in &maps {
                let (sa, sb) = (SortedMap::from(a.clone()), SortedMap::from(b.clone()));
                assert_eq!(sa == sb, a == b);
                assert_eq!(sa.cmp(&sb), a.cmp(b), "{a:?} {b:?}");
                assert_eq!(sa.partial_cmp(&sb), a.partial_cmp(b));
                assert_eq!(sa.partial_cmp(b), a.partial_cmp(b));
                if sa == sb {
                    assert_eq!(hash(&sa), hash(&sb));
                }
            }
        }
    }

    #[test]
    fn serde_is_that_of_btreemap() {
        let text = r#"{"b": "2", "a": "1", "c": "3"}"#;
        let s: SortedMap<String, String> = serde_json::from_str(text).unwrap();
        let b: BTreeMap<String, String> = serde_json::from_str(text).unwrap();
        assert_eq!(s, b);
        assert_eq!(s.entries.capacity(), 3);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"a":"1","b":"2","c":"3"}"#
        );
        let back: SortedMap<String, String> =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);

        // Duplicate keys: the last value wins for both.
        let dup = r#"{"x": 1, "a": 2, "x": 3, "a": 4, "m": 5}"#;
        let s: SortedMap<String, u64> = serde_json::from_str(dup).unwrap();
        let b: BTreeMap<String, u64> = serde_json::from_str(dup).unwrap();
        assert_eq!(s, b);
        assert_eq!(s.get("x"), Some(&3));

        // Through a `serde_json::Value` (document order kept, duplicates already merged).
        let v: serde_json::Value = serde_json::from_str(dup).unwrap();
        let s: SortedMap<String, u64> = serde_json::from_value(v.clone()).unwrap();
        let b: BTreeMap<String, u64> = serde_json::from_value(v).unwrap();
        assert_eq!(s, b);

        // Errors read the same.
        let se = serde_json::from_str::<SortedMap<String, u64>>("[1]").unwrap_err();
        let be = serde_json::from_str::<BTreeMap<String, u64>>("[1]").unwrap_err();
        assert_eq!(se.to_string(), be.to_string());
        let se = serde_json::from_str::<SortedMap<String, u64>>(r#"{"a": "x"}"#).unwrap_err();
        let be = serde_json::from_str::<BTreeMap<String, u64>>(r#"{"a": "x"}"#).unwrap_err();
        assert_eq!(se.to_string(), be.to_string());

        let empty: SortedMap<String, String> = serde_json::from_str("{}").unwrap();
        assert!(empty.is_empty());
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
    }

    #[test]
    fn a_large_announced_length_preallocates_little() {
        struct Lying;
        impl<'de> MapAccess<'de> for Lying {
            type Error = serde::de::value::Error;
            fn next_key_seed<S: serde::de::DeserializeSeed<'de>>(
                &mut self,
                _: S,
            ) -> Result<Option<S::Value>, Self::Error> {
                Ok(None)
            }
            fn next_value_seed<S: serde::de::DeserializeSeed<'de>>(
                &mut self,
                _: S,
            ) -> Result<S::Value, Self::Error> {
                unreachable!()
            }
            fn size_hint(&self) -> Option<usize> {
                Some(usize::MAX)
            }
        }
        let d = serde::de::value::MapAccessDeserializer::new(Lying);
        let s = SortedMap::<String, String>::deserialize(d).unwrap();
        assert!(s.is_empty());
        assert_eq!(s.entries.capacity(), 0);
    }
}
