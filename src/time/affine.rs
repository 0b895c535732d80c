//! Time Affine: (N, T, D) -> (N, T, O), the one-step [`Affine`] as one product over N*T rows.

use crate::layers::Affine;
use crate::params::{ParamId, Params};
use crate::tensor::Real;
use ndarray::ArrayView3;

/// An [`Affine`] applied at every step: x (N, T, D) -> y (N, T, O), as one product over N*T rows.
#[derive(Clone, Debug)]
pub struct TimeAffine<F: Real> {
    /// The one-step layer; holds the (O, D) weight and (O) bias ids.
    pub inner: Affine<F>,
}

impl<F: Real> TimeAffine<F> {
    /// Adds `{prefix}.weight` (O, D) and `{prefix}.bias` (O), zero-filled.
    pub fn new(params: &mut Params<F>, prefix: &str, in_size: usize, out_size: usize) -> Self {
        TimeAffine { inner: Affine::new(params, prefix, in_size, out_size) }
    }

    /// Weight tying: the (O, D) weight is an existing parameter (an embedding's).
    pub fn with_weight(params: &mut Params<F>, prefix: &str, weight: ParamId) -> Self {
        TimeAffine { inner: Affine::with_weight(params, prefix, weight) }
    }

    /// x (N, T, D) -> y (N, T, O); keeps x for backward.
    pub fn forward(&mut self, params: &Params<F>, x: ArrayView3<F>) -> ArrayView3<'_, F> {
        let (n, t, d) = x.dim();
        let x = x.to_shape((n * t, d)).expect("(N, T, D) reshapes to (N*T, D)");
        let y = self.inner.forward(params, x.view());
        let o = y.ncols();
        y.into_shape_with_order((n, t, o)).expect("affine output is contiguous")
    }

    /// dy (N, T, O) -> dx (N, T, D); adds into the weight and bias gradients.
    pub fn backward(&mut self, params: &mut Params<F>, dy: ArrayView3<F>) -> ArrayView3<'_, F> {
        let (n, t, o) = dy.dim();
        let dy = dy.to_shape((n * t, o)).expect("(N, T, O) reshapes to (N*T, O)");
        let dx = self.inner.backward(params, dy.view());
        let d = dx.ncols();
        dx.into_shape_with_order((n, t, d)).expect("affine dx is contiguous")
    }
}
