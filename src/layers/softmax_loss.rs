//! Softmax with cross-entropy loss, fused: `loss = mean_i -log softmax(x_i)[t_i]`.
//!
//! Shapes: scores x (M, V), targets t (M). The mean runs over the rows whose target is not
//! [`IGNORE`] (the book's label -1). Backward with upstream `dloss`:
//! `dx_i = dloss * (softmax(x_i) - onehot(t_i)) / count`, and zero on ignored rows.
//! The probabilities are computed in place in one buffer that backward turns into `dx`.

use crate::tensor::{fit, Real};
use ndarray::{Array2, ArrayView2};

/// A target that contributes nothing to the loss or the gradient (the book's -1).
pub const IGNORE: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub struct SoftmaxWithLoss<F: Real> {
    probs: Array2<F>, // (M, V) softmax of the last scores; turned into dx by backward
    targets: Vec<u32>,
    count: usize,
}

impl<F: Real> Default for SoftmaxWithLoss<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> SoftmaxWithLoss<F> {
    pub fn new() -> Self {
        SoftmaxWithLoss { probs: Array2::zeros((0, 0)), targets: Vec::new(), count: 0 }
    }

    /// Mean cross-entropy over the non-ignored rows (0 if every row is ignored).
    pub fn forward(&mut self, scores: ArrayView2<F>, targets: &[u32]) -> F {
        assert_eq!(
            scores.nrows(),
            targets.len(),
            "SoftmaxWithLoss: {} rows but {} targets",
            scores.nrows(),
            targets.len()
        );
        fit(&mut self.probs, scores.raw_dim());
        self.probs.assign(&scores);
        let vocab = scores.ncols();
        let mut total = 0.0f64;
        let mut count = 0;
        for (mut row, &t) in self.probs.rows_mut().into_iter().zip(targets) {
            // -log softmax(x)[t] = log(sum_j exp(x_j - max)) - (x_t - max), exact in the limit
            // where the target's probability underflows (no log(0), no +1e-7 fudge).
            let shifted_target = shift_by_max(row.as_slice_mut().expect("rows are contiguous"), t);
            let sum = exp_normalize(row.as_slice_mut().expect("rows are contiguous"));
            if t == IGNORE {
                continue;
            }
            assert!((t as usize) < vocab, "SoftmaxWithLoss: target {t} >= {vocab} classes");
            total += sum.to_f64().ln() - shifted_target.to_f64();
            count += 1;
        }
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
        for (mut row, &t) in self.probs.rows_mut().into_iter().zip(&self.targets) {
            if t == IGNORE {
                row.fill(F::zero());
            } else {
                row[t as usize] -= F::one();
                row.mapv_inplace(|p| p * scale);
            }
        }
        self.probs.view()
    }
}

/// Row-wise softmax, in place, stable (the row maximum is subtracted before exp).
pub fn softmax_rows_inplace<F: Real>(x: &mut Array2<F>) {
    for mut row in x.rows_mut() {
        let slice = row.as_slice_mut().expect("softmax rows are contiguous");
        shift_by_max(slice, IGNORE);
        exp_normalize(slice);
    }
}

/// Subtracts the row maximum; returns the shifted value at `target` (0 if it is `IGNORE`).
fn shift_by_max<F: Real>(row: &mut [F], target: u32) -> F {
    let max = row.iter().fold(F::neg_infinity(), |m, &v| m.max(v));
    row.iter_mut().for_each(|v| *v -= max);
    row.get(target as usize).copied().unwrap_or(F::zero())
}

/// `row = exp(row) / sum(exp(row))`; returns the sum before normalising.
fn exp_normalize<F: Real>(row: &mut [F]) -> F {
    F::exp_inplace(row);
    let sum: F = row.iter().copied().sum();
    let inv = F::one() / sum;
    row.iter_mut().for_each(|v| *v *= inv);
    sum
}
