//! Mean squared error (regression loss): `L = (1/M) sum_i (y_i - t_i)^2` over all M elements.
//!
//! Shapes: y and t of any one shape, (N, k) for a sequence-to-vector forecaster, (N, T, k) for a
//! sequence-to-sequence one (Keras' `"mse"` and PyTorch's `MSELoss(reduction="mean")`).
//! Backward: `dy = dloss * 2 (y - t) / M`. The loss is summed in f64, so a large batch in f32
//! does not lose its last digits.

use crate::tensor::{fit, Real};
use ndarray::{ArrayD, ArrayViewD, Zip};

/// Mean squared error over every element of predictions and targets of one shape; no parameters.
#[derive(Clone, Debug)]
pub struct MseLoss<F: Real> {
    diff: ArrayD<F>, // y - t, the shape of y
    dy: ArrayD<F>,
}

impl<F: Real> Default for MseLoss<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> MseLoss<F> {
    /// A loss with empty buffers (sized on the first forward).
    pub fn new() -> Self {
        MseLoss { diff: ArrayD::zeros(ndarray::IxDyn(&[0])), dy: ArrayD::zeros(ndarray::IxDyn(&[0])) }
    }

    /// Mean of `(y - t)^2` over every element; panics if the shapes differ (a bug in a model).
    pub fn forward(&mut self, y: ArrayViewD<F>, t: ArrayViewD<F>) -> F {
        assert_eq!(y.shape(), t.shape(), "MseLoss: predictions {:?} but targets {:?}", y.shape(), t.shape());
        fit(&mut self.diff, y.raw_dim());
        Zip::from(&mut self.diff).and(&y).and(&t).for_each(|d, &y, &t| *d = y - t);
        let total: f64 = self.diff.iter().map(|&d| d.to_f64() * d.to_f64()).sum();
        F::of(total / self.diff.len().max(1) as f64)
    }

    /// `dloss` (the upstream gradient, 1 for a plain loss) -> dy, the shape of y.
    pub fn backward(&mut self, dloss: F) -> ArrayViewD<'_, F> {
        let scale = F::of(2.0) * dloss / F::of(self.diff.len().max(1) as f64);
        fit(&mut self.dy, self.diff.raw_dim());
        Zip::from(&mut self.dy).and(&self.diff).for_each(|dy, &d| *dy = d * scale);
        self.dy.view()
    }
}
