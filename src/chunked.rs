//! `Chunked`: an append-only vector whose chunks are shared between its
//! copies. A copy costs one pointer per chunk, and an append after a copy
//! copies at most the last chunk. For what a long-lived reader (the
//! cockpit's screen) keeps while a writer (its client task) grows a copy:
//! the Merkle tree's levels and the cockpit's index of the log.
//!
//! Written here: the persistent-vector crates (`im`, `rpds`) bring trees
//! and structural sharing for inserts anywhere; an append-only log needs
//! only this.

use std::ops::Index;
use std::sync::Arc;

/// Elements per shared chunk.
const CHUNK: usize = 4096;

#[derive(Debug, Clone)]
pub struct Chunked<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> Chunked<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    /// Appends `value`; copies the last chunk first when a copy of this
    /// vector shares it.
    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => Arc::make_mut(chunk).push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(value);
                self.chunks.push(Arc::new(chunk));
            }
        }
        self.len += 1;
    }

    /// Replaces the element at `index` (nothing when there is none); copies
    /// its chunk first when a copy of this vector shares it.
    pub fn set(&mut self, index: usize, value: T) {
        if let Some(chunk) = self.chunks.get_mut(index / CHUNK)
            && index % CHUNK < chunk.len()
        {
            Arc::make_mut(chunk)[index % CHUNK] = value;
        }
    }

    /// Every element, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.iter_from(0)
    }

    /// The elements from `start` on, in order (skipping whole chunks, not
    /// stepping through them).
    pub fn iter_from(&self, start: usize) -> impl DoubleEndedIterator<Item = &T> {
        let first = self
            .chunks
            .get(start / CHUNK)
            .map(|chunk| chunk.get(start % CHUNK..).unwrap_or_default().iter());
        let rest = self.chunks.get(start / CHUNK + 1..).unwrap_or_default();
        first
            .into_iter()
            .flatten()
            .chain(rest.iter().flat_map(|chunk| chunk.iter()))
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    /// As a `Vec`'s index: panics when `index` is not below the length.
    fn index(&self, index: usize) -> &T {
        &self.chunks[index / CHUNK][index % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_shares_what_was_pushed_and_grows_apart() {
        let mut a = Chunked::new();
        for i in 0..(CHUNK * 2 + 3) {
            a.push(i);
        }
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.chunks[0], &b.chunks[0]));
        a.push(usize::MAX);
        assert_eq!((a.len(), b.len()), (CHUNK * 2 + 4, CHUNK * 2 + 3));
        assert_eq!(a.get(CHUNK * 2 + 3), Some(&usize::MAX));
        assert_eq!(b.get(CHUNK * 2 + 2), Some(&(CHUNK * 2 + 2)));
        assert_eq!(b.get(CHUNK * 2 + 3), None);
        // Full chunks stay shared; only the last one was copied.
        assert!(Arc::ptr_eq(&a.chunks[1], &b.chunks[1]));
        assert!(!Arc::ptr_eq(&a.chunks[2], &b.chunks[2]));
        assert_eq!(a[CHUNK + 5], CHUNK + 5);
        assert!(a.iter().copied().take(CHUNK * 2 + 3).eq(b.iter().copied()));
        assert_eq!(a.get(CHUNK * 2 + 4), None);
    }

    #[test]
    fn iterating_from_any_position_is_skipping_to_it() {
        let mut a = Chunked::new();
        for i in 0..(CHUNK * 2 + 3) {
            a.push(i);
        }
        for start in [
            0,
            1,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            CHUNK * 2 + 2,
            CHUNK * 2 + 3,
            CHUNK * 9,
        ] {
            assert!(
                a.iter_from(start)
                    .copied()
                    .eq(a.iter().copied().skip(start)),
                "{start}"
            );
        }
    }
}
