//! A map by digest (the fold's promotions and decisions) whose values may
//! still be the bytes a saved replay holds them as (`client::cache`): each
//! is decoded the first time it is read. A cached start that folds a few new
//! entries (an incremental sync) then decodes the few values they touch, not
//! the whole fold; one that shows everything (`status`, the cockpit) decodes
//! them on every core as it evaluates them. Values the fold puts in are
//! plain values.
//!
//! The bytes were checked against the signed cache manifest (sha256) when
//! the saved replay was read. A value that still fails to decode can only
//! come from a bug in this build's own encoding: it reads as absent, which
//! the fold refuses loudly (an entry about an unknown promotion inside a
//! verified log is an ALARM), never as something made up.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Index, Range};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::digest::Digest;

/// Digest → value, some values possibly still encoded (see the module doc).
///
/// Values are shared (`Arc`), written copy-on-write: a map node holds eleven
/// slots, and a promotion is some 500 bytes, so inline values made every
/// node ten times larger than the keys and pointers it orders; and a copy
/// of the map (each evaluation of the state starts from one) shares every
/// value, decoded once, instead of copying or decoding it again.
pub struct SavedMap<V> {
    map: BTreeMap<Digest, Slot<V>>,
}

enum Slot<V> {
    Plain(Arc<V>),
    Saved(Saved<V>),
}

/// A value as a saved replay holds it: MessagePack (with field names) at
/// `range` of `bytes`, decoded once.
struct Saved<V> {
    bytes: Arc<[u8]>,
    range: Range<usize>,
    value: OnceLock<Option<Arc<V>>>,
}

impl<V: DeserializeOwned> Saved<V> {
    fn value(&self) -> Option<&V> {
        self.value
            .get_or_init(|| {
                let decoded = self
                    .bytes
                    .get(self.range.clone())
                    .and_then(|raw| rmp_serde::from_slice(raw).ok())
                    .map(Arc::new);
                if decoded.is_none() {
                    tracing::error!(
                        at = self.range.start,
                        "a value of the saved replay does not decode"
                    );
                }
                decoded
            })
            .as_deref()
    }

    fn into_value(self) -> Option<Arc<V>> {
        self.value();
        self.value.into_inner().flatten()
    }

    fn raw(&self) -> &[u8] {
        self.bytes.get(self.range.clone()).unwrap_or_default()
    }
}

impl<V: DeserializeOwned> Slot<V> {
    fn get(&self) -> Option<&V> {
        match self {
            Self::Plain(value) => Some(&**value),
            Self::Saved(saved) => saved.value(),
        }
    }

    /// Decodes a saved value in place; `false` when it does not decode.
    fn make_plain(&mut self) -> bool {
        if let Self::Saved(saved) = self {
            let placeholder = Saved {
                bytes: Arc::clone(&saved.bytes),
                range: 0..0,
                value: OnceLock::new(),
            };
            match std::mem::replace(saved, placeholder).into_value() {
                Some(value) => *self = Self::Plain(value),
                None => return false,
            }
        }
        true
    }
}

impl<V> Default for SavedMap<V> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
        }
    }
}

impl<V: DeserializeOwned + Serialize + Send + Sync + Clone> SavedMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The values saved at `ranges` of `bytes`, decoded when first read.
    pub fn saved(
        bytes: &Arc<[u8]>,
        ranges: impl IntoIterator<Item = (Digest, Range<usize>)>,
    ) -> Self {
        Self {
            map: ranges
                .into_iter()
                .map(|(key, range)| {
                    (
                        key,
                        Slot::Saved(Saved {
                            bytes: Arc::clone(bytes),
                            range,
                            value: OnceLock::new(),
                        }),
                    )
                })
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn contains_key(&self, key: &Digest) -> bool {
        self.map.contains_key(key)
    }

    pub fn get(&self, key: &Digest) -> Option<&V> {
        self.map.get(key)?.get()
    }

    pub fn get_mut(&mut self, key: &Digest) -> Option<&mut V> {
        let slot = self.map.get_mut(key)?;
        if !slot.make_plain() {
            return None;
        }
        match slot {
            Slot::Plain(value) => Some(Arc::make_mut(value)),
            Slot::Saved(_) => None,
        }
    }

    pub fn insert(&mut self, key: Digest, value: V) -> Option<V> {
        match self.map.insert(key, Slot::Plain(Arc::new(value)))? {
            Slot::Plain(old) => Some(Arc::unwrap_or_clone(old)),
            Slot::Saved(saved) => saved.into_value().map(Arc::unwrap_or_clone),
        }
    }

    pub fn remove(&mut self, key: &Digest) -> Option<V> {
        match self.map.remove(key)? {
            Slot::Plain(value) => Some(Arc::unwrap_or_clone(value)),
            Slot::Saved(saved) => saved.into_value().map(Arc::unwrap_or_clone),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &Digest> {
        self.map.keys()
    }

    /// Every value in key order (saved ones decoded as they are reached).
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().filter_map(Slot::get)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Digest, &V)> {
        self.map
            .iter()
            .filter_map(|(key, slot)| slot.get().map(|value| (key, value)))
    }

    /// Every value, mutable; the saved ones are decoded first, and the
    /// shared ones copied, on every core.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Digest, &mut V)> {
        let mut slots: Vec<&mut Slot<V>> = self.map.values_mut().collect();
        slots.par_iter_mut().for_each(|slot| {
            if slot.make_plain()
                && let Slot::Plain(value) = slot
            {
                Arc::make_mut(value);
            }
        });
        self.map.iter_mut().filter_map(|(key, slot)| match slot {
            Slot::Plain(value) => Some((key, Arc::make_mut(value))),
            Slot::Saved(_) => None,
        })
    }

    /// Decodes every saved value where it is held, on every core, so that
    /// copies of this map made afterwards share the decoded values instead
    /// of each decoding them again.
    pub fn decode_all(&self) {
        let slots: Vec<&Slot<V>> = self.map.values().collect();
        slots.par_iter().for_each(|slot| {
            slot.get();
        });
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.iter_mut().map(|(_, value)| value)
    }

    /// Each value as its saved bytes (copied, never re-encoded, when it was
    /// read but not changed), in key order: `(key, bytes)`; on every core.
    pub fn encoded(&self) -> Result<Vec<(Digest, Vec<u8>)>, rmp_serde::encode::Error> {
        let slots: Vec<(&Digest, &Slot<V>)> = self.map.iter().collect();
        slots
            .par_iter()
            .map(|(key, slot)| {
                let bytes = match slot {
                    Slot::Saved(saved) => saved.raw().to_vec(),
                    Slot::Plain(value) => encode(value)?,
                };
                Ok((**key, bytes))
            })
            .collect()
    }
}

/// One value as [`SavedMap::saved`] reads it back.
pub fn encode<V: Serialize>(value: &V) -> Result<Vec<u8>, rmp_serde::encode::Error> {
    let mut out = Vec::with_capacity(256);
    value.serialize(&mut rmp_serde::Serializer::new(&mut out).with_struct_map())?;
    Ok(out)
}

impl<V: DeserializeOwned + Serialize + Send + Sync + Clone> Index<&Digest> for SavedMap<V> {
    type Output = V;

    /// As a `BTreeMap`'s index: panics when the key is absent.
    #[allow(clippy::panic)]
    fn index(&self, key: &Digest) -> &V {
        self.get(key)
            .unwrap_or_else(|| panic!("no value for {key} in the map"))
    }
}

impl<V: DeserializeOwned + Serialize + Send + Sync + Clone> FromIterator<(Digest, V)>
    for SavedMap<V>
{
    fn from_iter<I: IntoIterator<Item = (Digest, V)>>(iter: I) -> Self {
        Self {
            map: iter
                .into_iter()
                .map(|(key, value)| (key, Slot::Plain(Arc::new(value))))
                .collect(),
        }
    }
}

/// Shares every value: the copy writes its own value only when it changes
/// it (copy-on-write).
impl<V> Clone for SavedMap<V> {
    fn clone(&self) -> Self {
        Self {
            map: self
                .map
                .iter()
                .map(|(key, slot)| {
                    let slot = match slot {
                        Slot::Plain(value) => Slot::Plain(Arc::clone(value)),
                        Slot::Saved(saved) => Slot::Saved(Saved {
                            bytes: Arc::clone(&saved.bytes),
                            range: saved.range.clone(),
                            value: saved.value.clone(),
                        }),
                    };
                    (*key, slot)
                })
                .collect(),
        }
    }
}

impl<V: DeserializeOwned + PartialEq> PartialEq for SavedMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.map.len() == other.map.len()
            && self
                .map
                .iter()
                .zip(&other.map)
                .all(|((a, x), (b, y))| a == b && x.get() == y.get())
    }
}

impl<V: DeserializeOwned + fmt::Debug> fmt::Debug for SavedMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.map.iter().map(|(key, slot)| (key, slot.get())))
            .finish()
    }
}

impl<V: DeserializeOwned + Serialize> Serialize for SavedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.map
                .iter()
                .filter_map(|(key, slot)| slot.get().map(|value| (key, value))),
        )
    }
}

impl<'de, V: DeserializeOwned + Serialize + Send + Sync + Clone> Deserialize<'de> for SavedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<Digest, V>::deserialize(deserializer).map(|map| map.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn saved(values: &[(Digest, String)]) -> (Arc<[u8]>, SavedMap<String>) {
        let mut bytes = vec![0xc1]; // never a value: ranges start after it
        let mut ranges = Vec::new();
        for (key, value) in values {
            let start = bytes.len();
            bytes.extend(encode(value).unwrap());
            ranges.push((*key, start..bytes.len()));
        }
        let bytes: Arc<[u8]> = bytes.into();
        let map = SavedMap::saved(&bytes, ranges);
        (bytes, map)
    }

    #[test]
    fn saved_values_read_change_and_save_back_as_plain_ones_do() {
        let (a, b, c) = (Digest::of(b"a"), Digest::of(b"b"), Digest::of(b"c"));
        let (bytes, mut map) = saved(&[(a, "one".into()), (b, "two".into())]);
        let plain: SavedMap<String> = [(a, "one".into()), (b, "two".into())].into_iter().collect();
        assert_eq!(map, plain);
        assert_eq!(map.get(&a).map(String::as_str), Some("one"));
        assert_eq!(map[&b], "two");
        assert!(map.get(&c).is_none());

        // Unchanged values are saved as the bytes they came from.
        let encoded = map.encoded().unwrap();
        let (_, raw) = encoded.iter().find(|(key, _)| *key == a).unwrap();
        assert_eq!(raw[..], bytes[1..=raw.len()]);

        map.get_mut(&b).unwrap().push('!');
        assert_eq!(map.insert(c, "three".into()), None);
        assert_eq!(map.insert(a, "uno".into()).as_deref(), Some("one"));
        let values: Vec<&str> = map.values().map(String::as_str).collect();
        let mut expected = [(a, "uno"), (b, "two!"), (c, "three")];
        expected.sort_by_key(|(key, _)| *key);
        assert_eq!(values, expected.map(|(_, v)| v));

        // Saved and read back: the same map.
        let encoded = map.encoded().unwrap();
        let decoded: Vec<(Digest, String)> = encoded
            .iter()
            .map(|(key, raw)| (*key, rmp_serde::from_slice(raw).unwrap()))
            .collect();
        let (_, again) = saved(&decoded);
        assert_eq!(again, map);
    }

    #[test]
    fn a_value_that_does_not_decode_reads_as_absent() {
        let a = Digest::of(b"a");
        let bytes: Arc<[u8]> = vec![0xc1, 0xc1].into();
        let mut map: SavedMap<String> = SavedMap::saved(&bytes, [(a, 0..2)]);
        assert!(map.contains_key(&a));
        assert!(map.get(&a).is_none());
        assert!(map.get_mut(&a).is_none());
        assert_eq!(map.values().count(), 0);
    }
}
