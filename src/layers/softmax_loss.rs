//! Softmax with cross-entropy loss, fused: `loss = mean_i -log softmax(x_i)[t_i]`.
//!
//! Shapes: scores x (M, V), targets t (M). The mean runs over the rows whose target is not
//! [`IGNORE`] (the book's label -1). Backward with upstream `dloss`:
//! `dx_i = dloss * (softmax(x_i) - onehot(t_i)) / count`, and zero on ignored rows.
//! The probabilities are computed in place in one buffer that backward turns into `dx`.

use crate::tensor::math::{max_of, on_widest_vectors};
use crate::tensor::{fit, Real};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// A target that contributes nothing to the loss or the gradient (the book's -1).
pub const IGNORE: u32 = u32::MAX;

/// Softmax and cross-entropy, fused: scores (M, V) and targets (M) give the mean loss over the rows
/// whose target is not [`IGNORE`].
#[derive(Clone, Debug)]
pub struct SoftmaxWithLoss<F: Real> {
    probs: Array2<F>, // (M, V) softmax of the last scores; turned into dx by backward
    targets: Vec<u32>,
    count: usize,
    /// (loss sum, counted rows) of each block of rows; kept to reuse its allocation.
    block_sums: Vec<(f64, usize)>,
}

impl<F: Real> Default for SoftmaxWithLoss<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> SoftmaxWithLoss<F> {
    /// A loss with empty buffers (sized on the first forward).
    pub fn new() -> Self {
        SoftmaxWithLoss {
            probs: Array2::zeros((0, 0)),
            targets: Vec::new(),
            count: 0,
            block_sums: Vec::new(),
        }
    }

    /// Mean cross-entropy over the non-ignored rows (0 if every row is ignored). Copies `scores`;
    /// [`SoftmaxWithLoss::forward_taking`] is the same without the copy.
    pub fn forward(&mut self, scores: ArrayView2<F>, targets: &[u32]) -> F {
        fit(&mut self.probs, scores.raw_dim());
        self.probs.assign(&scores);
        self.forward_in_place(targets)
    }

    /// [`SoftmaxWithLoss::forward`] on a score buffer it takes instead of copying: `scores` and
    /// the layer's probability buffer are swapped, so `scores` comes back holding the previous
    /// call's buffer (same shape in a training loop) for the producer to overwrite next time.
    /// A V-wide language model's scores are never copied.
    pub fn forward_taking(&mut self, scores: &mut Array2<F>, targets: &[u32]) -> F {
        std::mem::swap(&mut self.probs, scores);
        self.forward_in_place(targets)
    }

    /// Softmax and loss of the scores now in `self.probs`.
    fn forward_in_place(&mut self, targets: &[u32]) -> F {
        assert_eq!(
            self.probs.nrows(),
            targets.len(),
            "SoftmaxWithLoss: {} rows but {} targets",
            self.probs.nrows(),
            targets.len()
        );
        let vocab = self.probs.ncols();
        if let Some(&t) = targets.iter().find(|&&t| t != IGNORE && t as usize >= vocab) {
            panic!("SoftmaxWithLoss: target {t} >= {vocab} classes");
        }
        // Rows are independent: large batches (a 10,000-word vocabulary) are split into fixed
        // blocks of rows run on both cores. The blocks' sums are added in block order, so the
        // loss does not depend on the number of threads.
        let (block, width) = (rows_per_block(vocab), vocab.max(1));
        let probs = self.probs.as_slice_mut().expect("probs are contiguous");
        let per_block = &mut self.block_sums;
        if probs.len() >= PARALLEL_MIN_ELEMENTS {
            probs
                .par_chunks_mut(block * width)
                .zip(targets.par_chunks(block))
                .map(|(p, t)| softmax_loss_rows(p, t, width))
                .collect_into_vec(per_block);
        } else {
            per_block.clear();
            per_block.extend(
                probs
                    .chunks_mut(block * width)
                    .zip(targets.chunks(block))
                    .map(|(p, t)| softmax_loss_rows(p, t, width)),
            );
        }
        let (total, count) = per_block.iter().fold((0.0, 0), |(s, c), &(bs, bc)| (s + bs, c + bc));
        self.targets.clear();
        self.targets.extend_from_slice(targets);
        self.count = count;
        F::of(if count == 0 { 0.0 } else { total / count as f64 })
    }

    /// Softmax probabilities of the last forward (M, V); valid until `backward` runs.
    pub fn probs(&self) -> ArrayView2<'_, F> {
        self.probs.view()
    }

    /// dx (M, V) for an upstream gradient `dloss` (1 for a loss at the top).
    pub fn backward(&mut self, dloss: F) -> ArrayView2<'_, F> {
        let scale = if self.count == 0 { F::zero() } else { dloss / F::of(self.count as f64) };
        let vocab = self.probs.ncols().max(1);
        let block = rows_per_block(vocab);
        let probs = self.probs.as_slice_mut().expect("probs are contiguous");
        let rows = |(p, t): (&mut [F], &[u32])| {
            on_widest_vectors!({
                for (row, &t) in p.chunks_mut(vocab).zip(t) {
                    if t == IGNORE {
                        row.fill(F::zero());
                    } else {
                        // One pass: scale * (p - onehot) = scale * p, then the target's -scale.
                        row.iter_mut().for_each(|p| *p *= scale);
                        row[t as usize] -= scale;
                    }
                }
            })
        };
        if probs.len() >= PARALLEL_MIN_ELEMENTS {
            probs.par_chunks_mut(block * vocab).zip(self.targets.par_chunks(block)).for_each(rows);
        } else {
            probs.chunks_mut(block * vocab).zip(self.targets.chunks(block)).for_each(rows);
        }
        self.probs.view()
    }
}

/// Below this many scores the rows run on the calling thread (a thread hand-off costs more).
const PARALLEL_MIN_ELEMENTS: usize = 1 << 20;

/// Rows per block of parallel work: about 64k scores, at least one row.
fn rows_per_block(vocab: usize) -> usize {
    (65_536 / vocab.max(1)).max(1)
}

/// Softmax in place over consecutive rows of width `vocab`; returns the summed cross-entropy
/// of the non-ignored rows and their count. Three passes over each row (max; exp and sum;
/// normalise), the row staying in cache between them.
fn softmax_loss_rows<F: Real>(probs: &mut [F], targets: &[u32], vocab: usize) -> (f64, usize) {
    on_widest_vectors!(softmax_loss_rows_as_built(probs, targets, vocab))
}

#[inline(always)]
fn softmax_loss_rows_as_built<F: Real>(probs: &mut [F], targets: &[u32], vocab: usize) -> (f64, usize) {
    let (mut total, mut count) = (0.0, 0);
    for (row, &t) in probs.chunks_mut(vocab).zip(targets) {
        // -log softmax(x)[t] = log(sum_j exp(x_j - max)) - (x_t - max), exact in the limit
        // where the target's probability underflows (no log(0), no +1e-7 fudge).
        let max = max_of(row);
        let target_score = row.get(t as usize).copied().unwrap_or(max);
        let sum = normalized_exp(row, max);
        if t != IGNORE {
            total += sum.to_f64().ln() - (target_score - max).to_f64();
            count += 1;
        }
    }
    (total, count)
}

/// Row-wise softmax, in place, stable (the row maximum is subtracted before exp).
pub fn softmax_rows_inplace<F: Real>(x: &mut Array2<F>) {
    for mut row in x.rows_mut() {
        let slice = row.as_slice_mut().expect("softmax rows are contiguous");
        normalized_exp(slice, max_of(slice));
    }
}

/// `row = exp(row - max) / sum(exp(row - max))`; returns the sum before normalising.
#[inline]
fn normalized_exp<F: Real>(row: &mut [F], max: F) -> F {
    let sum = F::exp_shifted_sum(row, max);
    let inv = F::one() / sum;
    row.iter_mut().for_each(|v| *v *= inv);
    sum
}
