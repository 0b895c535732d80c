//! Bags of words: the training texts' words numbered in the order first seen, and a text as the
//! sorted (word, count) pairs of the words it shares with them.

#![warn(missing_docs)]

use std::collections::{BTreeMap, HashMap};

/// A text as sorted `(feature, value)` pairs; features not listed are 0.
pub type SparseRow = Vec<(u32, f64)>;

/// Every word of the training texts, numbered in the order first seen (no cap, no minimum
/// count: a practitioner's `CountVectorizer` over the same tokens).
#[derive(Clone, Debug, Default)]
pub struct WordIndex {
    ids: HashMap<String, u32>,
}

impl WordIndex {
    /// The words of `texts`.
    pub fn of(texts: &[Vec<String>]) -> Self {
        let mut ids = HashMap::new();
        for word in texts.iter().flatten() {
            let next = ids.len() as u32;
            ids.entry(word.clone()).or_insert(next);
        }
        WordIndex { ids }
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no word was seen.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// `words` as sorted (word id, count) pairs; words not in the index are dropped.
    pub fn counts(&self, words: &[String]) -> SparseRow {
        let mut counts: BTreeMap<u32, f64> = BTreeMap::new();
        for id in words.iter().filter_map(|w| self.ids.get(w)) {
            *counts.entry(*id).or_insert(0.0) += 1.0;
        }
        counts.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn counts_sorted_and_unknown_words_dropped() {
        let index = WordIndex::of(&[words("b a b"), words("c a")]);
        assert_eq!(index.len(), 3);
        // b = 0, a = 1, c = 2.
        assert_eq!(index.counts(&words("a z b b c a")), vec![(0, 2.0), (1, 2.0), (2, 1.0)]);
        assert_eq!(index.counts(&words("z y")), vec![]);
    }
}
