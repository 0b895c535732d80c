//! Time Embedding: ids (N, T) -> vectors (N, T, D), the one-step [`Embedding`] over N*T rows.

use crate::layers::Embedding;
use crate::params::Params;
use crate::tensor::Real;
use ndarray::{ArrayView2, ArrayView3};

/// An [`Embedding`] applied at every step: ids (N, T) -> vectors (N, T, D).
#[derive(Clone, Debug)]
pub struct TimeEmbedding<F: Real> {
    /// The one-step layer; holds the (V, D) weight id.
    pub inner: Embedding<F>,
    flat_ids: Vec<u32>,
    shape: (usize, usize),
}

impl<F: Real> TimeEmbedding<F> {
    /// Adds `{prefix}.weight` (V, D), zero-filled.
    pub fn new(params: &mut Params<F>, prefix: &str, vocab_size: usize, dim: usize) -> Self {
        TimeEmbedding {
            inner: Embedding::new(params, prefix, vocab_size, dim),
            flat_ids: Vec::new(),
            shape: (0, 0),
        }
    }

    /// ids (N, T) -> vectors (N, T, D). Panics if an id is `>= V`.
    pub fn forward(&mut self, params: &Params<F>, ids: ArrayView2<u32>) -> ArrayView3<'_, F> {
        self.shape = ids.dim();
        self.flat_ids.clear();
        self.flat_ids.extend(ids.iter().copied()); // (n, t) order
        let (n, t) = self.shape;
        let y = self.inner.forward(params, &self.flat_ids);
        let d = y.ncols();
        y.into_shape_with_order((n, t, d)).expect("embedding output is contiguous")
    }

    /// dy (N, T, D): adds each position's gradient into its id's row of the weight gradient.
    pub fn backward(&mut self, params: &mut Params<F>, dy: ArrayView3<F>) {
        let (n, t, d) = dy.dim();
        let dy = dy.to_shape((n * t, d)).expect("(N, T, D) reshapes to (N*T, D)");
        self.inner.backward(params, dy.view());
    }
}
