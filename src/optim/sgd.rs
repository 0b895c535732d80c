//! Plain stochastic gradient descent: `w -= lr * dw`.

use crate::params::Params;
use crate::tensor::{math, Real};

/// Plain stochastic gradient descent: `w -= lr * dw`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f64,
}

impl Sgd {
    /// SGD at rate `lr`.
    pub fn new(lr: f64) -> Self {
        Sgd { lr }
    }

    /// One update of every parameter: `w -= lr * dw`.
    pub fn step<F: Real>(&self, params: &mut Params<F>) {
        self.step_scaled(params, 1.0);
    }

    /// `w -= lr * grad_scale * dw`.
    pub fn step_scaled<F: Real>(&self, params: &mut Params<F>, grad_scale: f64) {
        let lr = F::of(self.lr * grad_scale);
        for (value, grad) in params.values_and_grads_mut() {
            let (value, grad) =
                (value.as_slice_mut().expect("contiguous"), grad.as_slice().expect("contiguous"));
            math::zip_pieces(value, grad, |w, g| w.iter_mut().zip(g).for_each(|(w, &g)| *w -= lr * g));
        }
    }
}
