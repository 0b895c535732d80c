//! Affine (PyTorch's `Linear`): `y = x W^T + b`.
//!
//! Shapes: x (M, D), W (O, D) in PyTorch's layout, b (O), y (M, O).
//! Backward: `dx = dy W`, `dW += dy^T x`, `db += sum over rows of dy`.

use crate::params::{ParamId, Params};
use crate::tensor::{fit, matmul, matmul_bias, matmul_row_sums, Accumulate, Real};
use ndarray::{Array2, ArrayView2, Ix2};

/// Affine layer `y = x W^T + b` (PyTorch's `Linear`); x (M, D), W (O, D), b (O), y (M, O).
#[derive(Clone, Debug)]
pub struct Affine<F: Real> {
    /// W, (O, D): row o holds output o's weights over the D inputs.
    pub weight: ParamId,
    /// b, (O): one bias an output.
    pub bias: ParamId,
    x: Array2<F>,  // (M, D) the last input, for dW
    y: Array2<F>,  // (M, O)
    dx: Array2<F>, // (M, D)
}

impl<F: Real> Affine<F> {
    /// Adds `{prefix}.weight` (O, D) and `{prefix}.bias` (O), zero-filled, to `params`.
    pub fn new(params: &mut Params<F>, prefix: &str, in_size: usize, out_size: usize) -> Self {
        let weight = params.add(&format!("{prefix}.weight"), &[out_size, in_size]);
        Self::with_weight(params, prefix, weight)
    }

    /// An affine layer whose weight is an existing parameter (weight tying); adds only the bias.
    pub fn with_weight(params: &mut Params<F>, prefix: &str, weight: ParamId) -> Self {
        let out_size = params.mat(weight).nrows();
        let bias = params.add(&format!("{prefix}.bias"), &[out_size]);
        Affine { weight, bias, x: Array2::zeros((0, 0)), y: Array2::zeros((0, 0)), dx: Array2::zeros((0, 0)) }
    }

    /// `y = x W^T + b` for x (M, D), a view of the layer's (M, O) output; keeps x for backward.
    /// Panics if x is not D wide.
    pub fn forward(&mut self, params: &Params<F>, x: ArrayView2<F>) -> ArrayView2<'_, F> {
        let w = params.mat(self.weight); // (O, D)
        assert_eq!(x.ncols(), w.ncols(), "Affine: input width {} but weight {:?}", x.ncols(), w.dim());
        fit(&mut self.x, x.raw_dim());
        self.x.assign(&x);
        fit(&mut self.y, Ix2(x.nrows(), w.nrows()));
        matmul_bias(self.y.view_mut(), x, w.t(), params.vec(self.bias));
        self.y.view()
    }

    /// The output buffer of the last forward, for a consumer that takes it instead of copying
    /// it ([`crate::layers::SoftmaxWithLoss::forward_taking`]) and may leave another in its place.
    pub fn output_mut(&mut self) -> &mut Array2<F> {
        &mut self.y
    }

    /// `dy` (M, O) -> dx (M, D); adds into the weight and bias gradients.
    pub fn backward(&mut self, params: &mut Params<F>, dy: ArrayView2<F>) -> ArrayView2<'_, F> {
        let out = (self.x.nrows(), params.mat(self.weight).nrows());
        assert_eq!(dy.dim(), out, "Affine: dy {:?} but output {:?}", dy.dim(), out);
        fit(&mut self.dx, self.x.raw_dim());
        matmul(self.dx.view_mut(), dy, params.mat(self.weight), Accumulate::Overwrite);
        // dW and db from one read of dy (V-wide in a language model's decoder).
        let (dw, db) = params.weight_and_bias_grads_mut(self.weight, self.bias);
        matmul_row_sums(dw, dy.t(), self.x.view(), Accumulate::Add, db);
        self.dx.view()
    }
}
