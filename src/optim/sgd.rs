//! Plain stochastic gradient descent: `w -= lr * dw`.

use crate::params::Params;
use crate::tensor::Real;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    pub lr: f64,
}

impl Sgd {
    pub fn new(lr: f64) -> Self {
        Sgd { lr }
    }

    pub fn step<F: Real>(&self, params: &mut Params<F>) {
        let lr = F::of(self.lr);
        for (value, grad) in params.values_and_grads_mut() {
            value.scaled_add(-lr, grad);
        }
    }
}
