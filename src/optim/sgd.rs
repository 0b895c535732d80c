//! Plain stochastic gradient descent: `w -= lr * dw`.

use crate::params::Params;
use crate::tensor::{math, Real};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    pub lr: f64,
}

impl Sgd {
    pub fn new(lr: f64) -> Self {
        Sgd { lr }
    }

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
