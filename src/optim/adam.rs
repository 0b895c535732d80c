//! Adam (Kingma & Ba), in the book's form: the bias corrections folded into the step size,
//! `lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)`, `m += (1 - beta1)(g - m)`,
//! `v += (1 - beta2)(g^2 - v)`, `w -= lr_t * m / (sqrt(v) + eps)`.

use crate::params::Params;
use crate::tensor::math::{on_widest_vectors, PARALLEL_MIN_VALUES, PIECE};
use crate::tensor::Real;
use ndarray::ArrayD;
use rayon::prelude::*;

/// Adam, its bias corrections folded into the step size (see the module header).
#[derive(Clone, Debug)]
pub struct Adam<F: Real> {
    /// Learning rate (before the bias correction).
    pub lr: f64,
    /// Decay of the first moment's running mean (0.9).
    pub beta1: f64,
    /// Decay of the second moment's running mean (0.999).
    pub beta2: f64,
    /// Added to `sqrt(v)` so a zero moment does not divide by zero (1e-7).
    pub eps: f64,
    /// Steps taken (t).
    pub steps: u64,
    m: Vec<ArrayD<F>>,
    v: Vec<ArrayD<F>>,
}

impl<F: Real> Adam<F> {
    /// The book's defaults: beta1 0.9, beta2 0.999, eps 1e-7.
    pub fn new(lr: f64) -> Self {
        Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-7, steps: 0, m: Vec::new(), v: Vec::new() }
    }

    /// One update of every parameter: the moments, then `w -= lr_t * m / (sqrt(v) + eps)`.
    pub fn step(&mut self, params: &mut Params<F>) {
        self.step_scaled(params, 1.0);
    }

    /// A step on the gradients times `grad_scale`.
    pub fn step_scaled(&mut self, params: &mut Params<F>, grad_scale: f64) {
        if self.m.is_empty() {
            self.m = params.grads_mut().map(|g| ArrayD::zeros(g.raw_dim())).collect();
            self.v = self.m.clone();
        }
        self.steps += 1;
        let t = self.steps as i32;
        let lr_t = self.lr * (1.0 - self.beta2.powi(t)).sqrt() / (1.0 - self.beta1.powi(t));
        let (lr_t, b1, b2, eps) = (F::of(lr_t), F::of(self.beta1), F::of(self.beta2), F::of(self.eps));
        let (one, scale) = (F::one(), F::of(grad_scale));
        let update = |w: &mut [F], g: &[F], m: &mut [F], v: &mut [F]| {
            on_widest_vectors!({
                for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m).zip(v) {
                    let g = g * scale;
                    *m += (one - b1) * (g - *m);
                    *v += (one - b2) * (g * g - *v);
                    *w -= lr_t * *m / (v.sqrt() + eps);
                }
            })
        };
        for (((value, grad), m), v) in params.values_and_grads_mut().zip(&mut self.m).zip(&mut self.v) {
            let contiguous = "parameters and moments are contiguous";
            let (w, g) = (value.as_slice_mut().expect(contiguous), grad.as_slice().expect(contiguous));
            let (m, v) = (m.as_slice_mut().expect(contiguous), v.as_slice_mut().expect(contiguous));
            if w.len() < PARALLEL_MIN_VALUES {
                update(w, g, m, v);
            } else {
                // Element-wise: the pieces on the pool's threads give the same numbers.
                let moments = m.par_chunks_mut(PIECE).zip(v.par_chunks_mut(PIECE));
                w.par_chunks_mut(PIECE)
                    .zip(g.par_chunks(PIECE))
                    .zip(moments)
                    .for_each(|((w, g), (m, v))| update(w, g, m, v));
            }
        }
    }

    /// First and second moments, in parameter-store order (optimizer state for checkpoints).
    pub fn state(&self) -> (&[ArrayD<F>], &[ArrayD<F>]) {
        (&self.m, &self.v)
    }

    /// Restores moments taken from [`Adam::state`] after `steps` steps (empty: none yet).
    pub fn set_state(&mut self, m: Vec<ArrayD<F>>, v: Vec<ArrayD<F>>, steps: u64) {
        (self.m, self.v, self.steps) = (m, v, steps);
    }
}
