//! SGD with momentum (the book's `Momentum`): `v = momentum * v - lr * dw; w += v`.

use crate::params::Params;
use crate::tensor::math::on_widest_vectors;
use crate::tensor::Real;
use ndarray::ArrayD;

/// SGD with momentum (the book's `Momentum`): `v = momentum * v - lr * dw; w += v`.
#[derive(Clone, Debug)]
pub struct Momentum<F: Real> {
    /// Learning rate.
    pub lr: f64,
    /// Share of the velocity kept from step to step, in [0, 1) (0.9 is usual).
    pub momentum: f64,
    /// One velocity per parameter, in store order; created at the first step.
    velocity: Vec<ArrayD<F>>,
}

impl<F: Real> Momentum<F> {
    /// An optimizer with no velocity yet (zero at the first step).
    pub fn new(lr: f64, momentum: f64) -> Self {
        Momentum { lr, momentum, velocity: Vec::new() }
    }

    /// One update of every parameter: `v = momentum * v - lr * dw; w += v`.
    pub fn step(&mut self, params: &mut Params<F>) {
        self.step_scaled(params, 1.0);
    }

    /// A step on the gradients times `grad_scale`.
    pub fn step_scaled(&mut self, params: &mut Params<F>, grad_scale: f64) {
        if self.velocity.is_empty() {
            self.velocity = params.grads_mut().map(|g| ArrayD::zeros(g.raw_dim())).collect();
        }
        let (lr, mu) = (F::of(self.lr * grad_scale), F::of(self.momentum));
        for ((value, grad), v) in params.values_and_grads_mut().zip(&mut self.velocity) {
            on_widest_vectors!({
                ndarray::Zip::from(&mut *v).and(grad).for_each(|v, &g| *v = mu * *v - lr * g);
                *value += &*v;
            });
        }
    }

    /// The velocities, in parameter-store order (optimizer state for checkpoints).
    pub fn state(&self) -> &[ArrayD<F>] {
        &self.velocity
    }

    /// Restores velocities taken from [`Momentum::state`] (empty: none yet).
    pub fn set_state(&mut self, velocity: Vec<ArrayD<F>>) {
        self.velocity = velocity;
    }
}
