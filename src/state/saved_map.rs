//! A map by digest (the fold's promotions and decisions) whose values may
//! still be the bytes a saved replay holds them as (`client::cache`): each
//! is decoded the first time it is read. A cached start that folds a few new
//! entries (an incremental sync) then decodes the few values they touch, not
//! the whole fold; one that shows everything (`status`, the cockpit) decodes
//! them on every core as it evaluates them. Values the fold puts in are
//! plain values.
//!
//! The bytes stay where they were saved ([`SavedBytes`]: the cache's state
//! file), and are read and checked against what the signed cache manifest
//! commits to each time a value is decoded; a whole map is decoded a span of
//! neighbouring values at a time. A value whose bytes fail that check or do
//! not decode reads as absent (the file changed after it was loaded, or
//! this build's own encoding has a bug), which the fold refuses loudly (an
//! entry about an unknown promotion inside a verified log is an ALARM),
//! never as something made up.

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

/// Where saved values are read from: the bytes at a range, checked (the
/// cache's state file checks them against its signed manifest).
pub trait SavedBytes: Send + Sync {
    /// The bytes at `range`; `Err` says why they cannot be read or trusted.
    fn read(&self, range: Range<u64>) -> Result<Vec<u8>, String>;
}

/// Bytes in memory (tests, and values encoded in this process).
impl SavedBytes for Vec<u8> {
    fn read(&self, range: Range<u64>) -> Result<Vec<u8>, String> {
        usize::try_from(range.start)
            .ok()
            .zip(usize::try_from(range.end).ok())
            .and_then(|(start, end)| self.get(start..end))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("bytes {range:?} are beyond the {} held", self.len()))
    }
}

/// A slot with its saved bytes, when they were read again.
type SlotRead<'a, V> = (&'a Digest, &'a Slot<V>, Option<Vec<u8>>);

/// Neighbouring values read with one [`SavedBytes::read`] when a whole map
/// is decoded (one check of the bytes under them, not one per value).
const SPAN: u64 = 1 << 20;

/// A value as a saved replay holds it: MessagePack (with field names) at
/// `range` of `bytes`, decoded once.
struct Saved<V> {
    bytes: Arc<dyn SavedBytes>,
    range: Range<u64>,
    value: OnceLock<Option<Arc<V>>>,
}

impl<V: DeserializeOwned> Saved<V> {
    fn value(&self) -> Option<&V> {
        self.value
            .get_or_init(|| {
                let raw = self.bytes.read(self.range.clone());
                self.decode(raw.as_deref())
            })
            .as_deref()
    }

    /// Decodes this value from `raw` (its bytes, or why they are missing).
    fn decode(&self, raw: Result<&[u8], &String>) -> Option<Arc<V>> {
        match raw {
            Ok(raw) => {
                let decoded = rmp_serde::from_slice(raw).ok().map(Arc::new);
                if decoded.is_none() {
                    tracing::error!(
                        at = self.range.start,
                        "a value of the saved replay does not decode"
                    );
                }
                decoded
            }
            Err(problem) => {
                tracing::error!(at = self.range.start, %problem, "a value of the saved replay cannot be read");
                None
            }
        }
    }

    fn into_value(self) -> Option<Arc<V>> {
        self.value();
        self.value.into_inner().flatten()
    }
}

/// Consecutive saved values whose bytes lie one after another in one
/// source, no more than [`SPAN`] bytes from the first one's start to the
/// last one's end: read together.
fn spans<'a, V>(saved: &[&'a Saved<V>]) -> Vec<Vec<&'a Saved<V>>> {
    let mut out: Vec<Vec<&Saved<V>>> = Vec::new();
    for &value in saved {
        let joins = out
            .last()
            .and_then(|span| span.first().zip(span.last()))
            .is_some_and(|(first, last)| {
                Arc::ptr_eq(&first.bytes, &value.bytes)
                    && value.range.start >= last.range.end
                    && value.range.end.saturating_sub(first.range.start) <= SPAN
            });
        match out.last_mut() {
            Some(span) if joins => span.push(value),
            _ => out.push(vec![value]),
        }
    }
    out
}

/// Reads a span's bytes once and hands each value its own part of them.
fn read_span<V>(span: &[&Saved<V>], mut each: impl FnMut(&Saved<V>, Result<&[u8], &String>)) {
    let (Some(first), Some(last)) = (span.first(), span.last()) else {
        return;
    };
    let start = first.range.start;
    let read = first.bytes.read(start..last.range.end);
    for value in span {
        let part = read.as_ref().map(|bytes| {
            let from = usize::try_from(value.range.start - start).unwrap_or(usize::MAX);
            let to = usize::try_from(value.range.end - start).unwrap_or(usize::MAX);
            bytes.get(from..to).unwrap_or_default()
        });
        each(value, part);
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

    /// The values saved at `ranges` of `bytes`, read and decoded when
    /// first read.
    pub fn saved(
        bytes: &Arc<dyn SavedBytes>,
        ranges: impl IntoIterator<Item = (Digest, Range<u64>)>,
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

    /// Inserts `value`, dropping what was under `key` (unlike
    /// [`Self::insert`], a value another copy shares is not copied out).
    pub fn put(&mut self, key: Digest, value: V) {
        self.map.insert(key, Slot::Plain(Arc::new(value)));
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

    /// Every value in key order (saved ones read and decoded first, a span
    /// at a time: see [`Self::decode_all`]).
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.decode_all();
        self.map.values().filter_map(Slot::get)
    }

    /// Every key and value in key order (saved ones read and decoded first).
    pub fn iter(&self) -> impl Iterator<Item = (&Digest, &V)> {
        self.decode_all();
        self.map
            .iter()
            .filter_map(|(key, slot)| slot.get().map(|value| (key, value)))
    }

    /// Every value, mutable; the saved ones are decoded first, and the
    /// shared ones copied, on every core.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Digest, &mut V)> {
        self.decode_all();
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
        let saved: Vec<&Saved<V>> = self
            .map
            .values()
            .filter_map(|slot| match slot {
                Slot::Saved(saved) if saved.value.get().is_none() => Some(saved),
                _ => None,
            })
            .collect();
        spans(&saved).par_iter().for_each(|span| {
            read_span(span, |value, raw| {
                value.value.get_or_init(|| value.decode(raw));
            });
        });
    }

    /// Every value, in key order, decoded where the map holds it (as
    /// [`Self::values`]) and shared.
    pub fn shared_values(&self) -> Vec<Arc<V>> {
        self.decode_all();
        self.map
            .values()
            .filter_map(|slot| match slot {
                Slot::Plain(value) => Some(Arc::clone(value)),
                Slot::Saved(saved) => saved.value.get().cloned().flatten(),
            })
            .collect()
    }

    /// Every value, `batch` keys at a time in key order: a saved value
    /// not decoded yet is decoded for its batch only (a span at a time, on
    /// every core) and dropped with it, so the map goes on holding it
    /// saved. A value that cannot be read or decoded is left out, as
    /// [`Self::get`] leaves it out.
    pub fn batches(&self, batch: usize) -> impl Iterator<Item = Vec<(Digest, Arc<V>)>> + '_ {
        let slots: Vec<(&Digest, &Slot<V>)> = self.map.iter().collect();
        let size = batch.max(1);
        (0..slots.len().div_ceil(size)).map(move |i| {
            let end = (i * size + size).min(slots.len());
            Self::decoded(&slots[i * size..end])
        })
    }

    /// The values of `slots`, those saved decoded here.
    fn decoded(slots: &[(&Digest, &Slot<V>)]) -> Vec<(Digest, Arc<V>)> {
        let saved: Vec<&Saved<V>> = slots
            .iter()
            .filter_map(|(_, slot)| match slot {
                Slot::Saved(saved) if saved.value.get().is_none() => Some(saved),
                _ => None,
            })
            .collect();
        // Decoded here, matched back to their slots by their source and
        // where their bytes start there.
        let at = |saved: &Saved<V>| {
            (
                Arc::as_ptr(&saved.bytes).cast::<()>() as usize,
                saved.range.start,
            )
        };
        let mut decoded: BTreeMap<(usize, u64), Arc<V>> = spans(&saved)
            .par_iter()
            .flat_map_iter(|span| {
                let mut out = Vec::with_capacity(span.len());
                read_span(span, |value, raw| {
                    if let Some(v) = value.decode(raw) {
                        out.push((at(value), v));
                    }
                });
                out
            })
            .collect();
        slots
            .iter()
            .filter_map(|(key, slot)| {
                let value = match slot {
                    Slot::Plain(value) => Some(Arc::clone(value)),
                    Slot::Saved(saved) => match saved.value.get() {
                        Some(value) => value.clone(),
                        None => decoded.remove(&at(saved)),
                    },
                };
                value.map(|v| (**key, v))
            })
            .collect()
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.iter_mut().map(|(_, value)| value)
    }

    /// Each value as its saved bytes (copied, never re-encoded, when it was
    /// read but not changed), in key order: `(key, bytes)`; on every core.
    pub fn encoded(&self) -> Result<Vec<(Digest, Vec<u8>)>, rmp_serde::encode::Error> {
        // The saved ones a span at a time; a value whose bytes cannot be
        // read again is encoded from its decoded value instead.
        let saved: Vec<&Saved<V>> = self
            .map
            .values()
            .filter_map(|slot| match slot {
                Slot::Saved(saved) => Some(saved),
                Slot::Plain(_) => None,
            })
            .collect();
        let raw: Vec<Option<Vec<u8>>> = spans(&saved)
            .par_iter()
            .flat_map_iter(|span| {
                let mut out = Vec::with_capacity(span.len());
                read_span(span, |_, raw| out.push(raw.ok().map(<[u8]>::to_vec)));
                out
            })
            .collect();
        let mut raw = raw.into_iter();
        let slots: Vec<SlotRead<'_, V>> = self
            .map
            .iter()
            .map(|(key, slot)| {
                let bytes = match slot {
                    Slot::Saved(_) => raw.next().flatten(),
                    Slot::Plain(_) => None,
                };
                (key, slot, bytes)
            })
            .collect();
        slots
            .into_par_iter()
            .map(|(key, slot, bytes)| {
                let bytes = match (bytes, slot) {
                    (Some(bytes), _) => bytes,
                    (None, Slot::Plain(value)) => encode(value)?,
                    (None, Slot::Saved(saved)) => match saved.value() {
                        Some(value) => encode(value)?,
                        None => {
                            return Err(rmp_serde::encode::Error::Syntax(format!(
                                "the saved value {key} can no longer be read"
                            )));
                        }
                    },
                };
                Ok((*key, bytes))
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

impl<V: DeserializeOwned + Serialize + Send + Sync + Clone> Serialize for SavedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.decode_all();
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

    fn saved(values: &[(Digest, String)]) -> (Vec<u8>, SavedMap<String>) {
        let mut bytes = vec![0xc1]; // never a value: ranges start after it
        let mut ranges = Vec::new();
        for (key, value) in values {
            let start = bytes.len() as u64;
            bytes.extend(encode(value).unwrap());
            ranges.push((*key, start..bytes.len() as u64));
        }
        let source: Arc<dyn SavedBytes> = Arc::new(bytes.clone());
        let map = SavedMap::saved(&source, ranges);
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
        let bytes: Arc<dyn SavedBytes> = Arc::new(vec![0xc1, 0xc1]);
        let mut map: SavedMap<String> = SavedMap::saved(&bytes, [(a, 0..2)]);
        assert!(map.contains_key(&a));
        assert!(map.get(&a).is_none());
        assert!(map.get_mut(&a).is_none());
        assert_eq!(map.values().count(), 0);
    }

    /// Counts the reads, and refuses every read once `broken`.
    struct Counted {
        bytes: Vec<u8>,
        reads: std::sync::atomic::AtomicUsize,
        broken: std::sync::atomic::AtomicBool,
    }

    impl SavedBytes for Counted {
        fn read(&self, range: Range<u64>) -> Result<Vec<u8>, String> {
            use std::sync::atomic::Ordering::SeqCst;
            self.reads.fetch_add(1, SeqCst);
            if self.broken.load(SeqCst) {
                return Err("changed since it was loaded".to_owned());
            }
            self.bytes.read(range)
        }
    }

    #[test]
    fn a_whole_map_is_read_a_span_at_a_time_and_unreadable_bytes_read_as_absent() {
        use std::sync::atomic::Ordering::SeqCst;
        // In key order, as a state file holds them.
        let mut values: Vec<(Digest, String)> = (0..300u32)
            .map(|i| (Digest::of(&i.to_be_bytes()), format!("value {i}")))
            .collect();
        values.sort();
        let (bytes, plain) = saved(&values);
        let source = Arc::new(Counted {
            bytes,
            reads: 0.into(),
            broken: false.into(),
        });
        let shared: Arc<dyn SavedBytes> = Arc::clone(&source) as Arc<dyn SavedBytes>;
        let mut ranges: Vec<(Digest, Range<u64>)> = Vec::new();
        let mut at = 1;
        for (key, value) in &values {
            let len = encode(value).unwrap().len() as u64;
            ranges.push((*key, at..at + len));
            at += len;
        }
        let map: SavedMap<String> = SavedMap::saved(&shared, ranges.clone());
        map.decode_all();
        assert_eq!(source.reads.load(SeqCst), 1, "one read for neighbours");
        let reads = 1;
        assert_eq!(map, plain);
        // Decoded once: reading again reads nothing.
        assert_eq!(map.values().count(), 300);
        assert_eq!(source.reads.load(SeqCst), reads);

        // Visited in batches: every value, in key order, a span read per
        // batch, and none of them kept decoded by the map.
        let visiting: SavedMap<String> = SavedMap::saved(&shared, ranges.clone());
        let mut seen: Vec<(Digest, String)> = Vec::new();
        for batch in visiting.batches(128) {
            seen.extend(batch.into_iter().map(|(k, v)| (k, (*v).clone())));
        }
        assert_eq!(seen, values);
        assert_eq!(source.reads.load(SeqCst), reads + 3, "one read per batch");
        assert!(
            visiting.map.values().all(|slot| match slot {
                Slot::Saved(saved) => saved.value.get().is_none(),
                Slot::Plain(_) => false,
            }),
            "a visit keeps nothing decoded"
        );

        // Bytes that can no longer be read are never made up.
        source.broken.store(true, SeqCst);
        assert_eq!(visiting.batches(128).map(|b| b.len()).sum::<usize>(), 0);
        let fresh: SavedMap<String> = SavedMap::saved(&shared, ranges);
        assert!(fresh.get(&values[0].0).is_none());
        fresh.decode_all();
        assert_eq!(fresh.values().count(), 0);
    }
}
