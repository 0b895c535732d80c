//! The truncated-BPTT batcher (the book's chapter-5 loop).
//!
//! Inputs are `corpus[..len-1]`, targets `corpus[1..]`. The data is read as `batch_size`
//! streams starting at evenly spaced offsets `i * jump`, `jump = (len - 1) / batch_size`, each
//! fed in order: one cursor advances `time_size` positions per batch and wraps modulo the data
//! size, and is not reset between epochs. Row i of a batch is stream i's next `time_size`
//! tokens, so a stateful model's carried state continues each stream.

use crate::error::{Error, Result};
use ndarray::Array2;

/// Cuts a token stream into (N, T) input and target blocks for truncated BPTT (see the module
/// header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BpttBatcher {
    batch_size: usize,
    time_size: usize,
    offsets: Vec<usize>,
    /// The book's `time_idx`: positions read so far along each stream.
    cursor: usize,
}

impl BpttBatcher {
    /// Errors if a corpus of `corpus_len` tokens cannot fill one `batch_size` x `time_size` batch.
    pub fn new(corpus_len: usize, batch_size: usize, time_size: usize) -> Result<Self> {
        if batch_size == 0 || time_size == 0 {
            return Err(Error::msg(format!(
                "batch size and time size must be at least 1 (got {batch_size} x {time_size})"
            )));
        }
        let data_size = corpus_len.saturating_sub(1);
        if data_size < batch_size * time_size {
            return Err(Error::msg(format!(
                "a corpus of {corpus_len} tokens cannot fill one batch of {batch_size} x {time_size}: it needs at least {} tokens",
                batch_size * time_size + 1
            )));
        }
        let jump = data_size / batch_size;
        Ok(BpttBatcher {
            batch_size,
            time_size,
            offsets: (0..batch_size).map(|i| i * jump).collect(),
            cursor: 0,
        })
    }

    /// Batches per epoch: `(len - 1) / (batch_size * time_size)`.
    pub fn iters_per_epoch(&self, corpus_len: usize) -> usize {
        (corpus_len - 1) / (self.batch_size * self.time_size)
    }

    /// N: the number of streams (rows of a batch).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// T: the steps of each block.
    pub fn time_size(&self) -> usize {
        self.time_size
    }

    /// Positions read so far along each stream (what a checkpoint saves).
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Puts the cursor where a checkpoint left it.
    pub fn set_cursor(&mut self, cursor: usize) {
        self.cursor = cursor;
    }

    /// Fills `xs` and `ts` (N, T) with the next block of every stream and advances the cursor.
    pub fn next_batch(&mut self, corpus: &[u32], xs: &mut Array2<u32>, ts: &mut Array2<u32>) {
        let data_size = corpus.len() - 1;
        if xs.dim() != (self.batch_size, self.time_size) {
            *xs = Array2::zeros((self.batch_size, self.time_size));
            *ts = Array2::zeros((self.batch_size, self.time_size));
        }
        for t in 0..self.time_size {
            for (i, &offset) in self.offsets.iter().enumerate() {
                let pos = (offset + self.cursor) % data_size;
                xs[[i, t]] = corpus[pos];
                ts[[i, t]] = corpus[pos + 1];
            }
            self.cursor += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_streams_at_even_offsets_and_continue_across_batches() {
        let corpus: Vec<u32> = (0..21).collect(); // data size 20
        let mut b = BpttBatcher::new(corpus.len(), 2, 3).unwrap();
        let (mut xs, mut ts) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        b.next_batch(&corpus, &mut xs, &mut ts);
        assert_eq!(xs, ndarray::arr2(&[[0, 1, 2], [10, 11, 12]]));
        assert_eq!(ts, ndarray::arr2(&[[1, 2, 3], [11, 12, 13]]));
        b.next_batch(&corpus, &mut xs, &mut ts);
        assert_eq!(xs, ndarray::arr2(&[[3, 4, 5], [13, 14, 15]]));
        assert_eq!(b.iters_per_epoch(corpus.len()), 3);
        // The cursor wraps modulo the data size (20), not the corpus length.
        for _ in 0..2 {
            b.next_batch(&corpus, &mut xs, &mut ts);
        }
        assert_eq!(xs.row(1).to_vec(), vec![19, 0, 1]);
        assert_eq!(ts.row(1).to_vec(), vec![20, 1, 2]);
    }

    #[test]
    fn too_small_a_corpus_is_an_error_naming_the_need() {
        let err = BpttBatcher::new(9, 3, 3).unwrap_err();
        assert!(err.message().contains("needs at least 10 tokens"), "{err}");
        assert!(BpttBatcher::new(10, 0, 3).is_err());
    }
}
