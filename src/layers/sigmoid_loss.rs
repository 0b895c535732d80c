//! Sigmoid with binary cross-entropy loss, fused: `loss = mean_i -[t log y + (1-t) log(1-y)]`,
//! `y = sigmoid(x)`.
//!
//! Shapes: x (M), t (M) with values in [0, 1]. Backward: `dx = dloss * (y - t) / M`.

use crate::tensor::{fit, Real};
use ndarray::{Array1, ArrayView1, Zip};

/// Sigmoid and binary cross-entropy, fused: scores x (M) and targets t (M) in [0, 1] give the mean
/// loss.
#[derive(Clone, Debug)]
pub struct SigmoidWithLoss<F: Real> {
    y: Array1<F>, // (M) sigmoid(x)
    t: Array1<F>, // (M)
    dx: Array1<F>,
}

impl<F: Real> Default for SigmoidWithLoss<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> SigmoidWithLoss<F> {
    /// A loss with empty buffers (sized on the first forward).
    pub fn new() -> Self {
        SigmoidWithLoss { y: Array1::zeros(0), t: Array1::zeros(0), dx: Array1::zeros(0) }
    }

    /// Mean binary cross-entropy of `sigmoid(x)` against `t`, both (M), computed through softplus
    /// (exact for large |x|). Panics if the lengths differ.
    pub fn forward(&mut self, x: ArrayView1<F>, t: ArrayView1<F>) -> F {
        assert_eq!(x.len(), t.len(), "SigmoidWithLoss: {} scores but {} targets", x.len(), t.len());
        // Buffers sized once per batch size (no allocation while it repeats).
        fit(&mut self.y, x.raw_dim());
        self.y.assign(&x);
        F::sigmoid_inplace(self.y.as_slice_mut().expect("owned array is contiguous"));
        fit(&mut self.t, t.raw_dim());
        self.t.assign(&t);
        // -[t log y + (1-t) log(1-y)] = t softplus(-x) + (1-t) softplus(x), computed from x
        // so that it stays exact where y rounds to 0 or 1.
        let total: f64 = x
            .iter()
            .zip(t)
            .map(|(&x, &t)| {
                let (x, t) = (x.to_f64(), t.to_f64());
                t * softplus(-x) + (1.0 - t) * softplus(x)
            })
            .sum();
        F::of(total / x.len().max(1) as f64)
    }

    /// Probabilities of the last forward (M).
    pub fn probs(&self) -> ArrayView1<'_, F> {
        self.y.view()
    }

    /// `dx = dloss * (sigmoid(x) - t) / M`, (M), for the last forward.
    pub fn backward(&mut self, dloss: F) -> ArrayView1<'_, F> {
        let scale = dloss / F::of(self.y.len().max(1) as f64);
        fit(&mut self.dx, self.y.raw_dim());
        Zip::from(&mut self.dx).and(&self.y).and(&self.t).for_each(|dx, &y, &t| *dx = (y - t) * scale);
        self.dx.view()
    }
}

/// log(1 + exp(x)) without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}
