//! Optimizers, gradient clipping and learning-rate rules. They see only the parameter store:
//! values and gradients, never the layers.

pub mod adam;
pub mod clip;
pub mod momentum;
pub mod schedule;
pub mod sgd;

pub use adam::Adam;
pub use clip::{clip_factor, clip_grad_norm, grad_norm, norm_and_clip_factor};
pub use momentum::Momentum;
pub use schedule::{LrRule, LrSchedule};
pub use sgd::Sgd;

use crate::params::Params;
use crate::tensor::Real;
use ndarray::ArrayD;

/// Which optimizer (a config's `"optimizer"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// Plain SGD: `w -= lr * dw`.
    Sgd,
    /// SGD with momentum: `v = momentum * v - lr * dw; w += v`.
    Momentum,
    /// Adam with the book's defaults (beta1 0.9, beta2 0.999, eps 1e-7).
    Adam,
}

impl OptimizerKind {
    /// The name a config and the command line use.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Momentum => "momentum",
            OptimizerKind::Adam => "adam",
        }
    }
}

/// One of an optimizer's per-parameter tensor lists, by name (`velocity`, `m`, `v`).
pub type StateBuffer<F> = (&'static str, Vec<ArrayD<F>>);

/// An optimizer chosen at run time.
#[derive(Clone, Debug)]
pub enum Optimizer<F: Real> {
    /// Plain SGD (no state).
    Sgd(Sgd),
    /// SGD with momentum (a velocity per parameter).
    Momentum(Momentum<F>),
    /// Adam (two moments per parameter and a step count).
    Adam(Adam<F>),
}

impl<F: Real> Optimizer<F> {
    /// `momentum` is used by [`OptimizerKind::Momentum`] only.
    pub fn new(kind: OptimizerKind, lr: f64, momentum: f64) -> Self {
        match kind {
            OptimizerKind::Sgd => Optimizer::Sgd(Sgd::new(lr)),
            OptimizerKind::Momentum => Optimizer::Momentum(Momentum::new(lr, momentum)),
            OptimizerKind::Adam => Optimizer::Adam(Adam::new(lr)),
        }
    }

    /// One update of every parameter from its gradient.
    pub fn step(&mut self, params: &mut Params<F>) {
        self.step_scaled(params, 1.0);
    }

    /// A step after clipping the gradients to global norm `clip` (if given), the clipping
    /// applied as the step reads them; returns the norm before clipping (0 without `clip`).
    pub fn clipped_step(&mut self, params: &mut Params<F>, clip: Option<f64>) -> f64 {
        let (norm, scale) = norm_and_clip_factor(params, clip, false);
        self.step_scaled(params, scale);
        norm
    }

    /// A step on the gradients multiplied by `grad_scale` (a clipping factor from
    /// [`clip_factor`]), applied as each gradient is read: one pass over the weights instead of
    /// a pass to rescale the gradients and another to update.
    pub fn step_scaled(&mut self, params: &mut Params<F>, grad_scale: f64) {
        match self {
            Optimizer::Sgd(o) => o.step_scaled(params, grad_scale),
            Optimizer::Momentum(o) => o.step_scaled(params, grad_scale),
            Optimizer::Adam(o) => o.step_scaled(params, grad_scale),
        }
    }

    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            Optimizer::Sgd(o) => o.lr,
            Optimizer::Momentum(o) => o.lr,
            Optimizer::Adam(o) => o.lr,
        }
    }

    /// The optimizer's own tensors, each a list in parameter-store order (empty before the first
    /// step), and its step count: what a training checkpoint must keep.
    pub fn state(&self) -> (Vec<StateBuffer<F>>, u64) {
        match self {
            Optimizer::Sgd(_) => (Vec::new(), 0),
            Optimizer::Momentum(o) => (vec![("velocity", o.state().to_vec())], 0),
            Optimizer::Adam(o) => {
                let (m, v) = o.state();
                (vec![("m", m.to_vec()), ("v", v.to_vec())], o.steps)
            }
        }
    }

    /// Restores what [`Optimizer::state`] returned; `buffers` looks a state list up by name.
    pub fn set_state(&mut self, mut buffers: impl FnMut(&str) -> Vec<ArrayD<F>>, steps: u64) {
        match self {
            Optimizer::Sgd(_) => {}
            Optimizer::Momentum(o) => o.set_state(buffers("velocity")),
            Optimizer::Adam(o) => {
                let (m, v) = (buffers("m"), buffers("v"));
                o.set_state(m, v, steps)
            }
        }
    }

    /// Sets the learning rate of the following steps (the state is kept).
    pub fn set_lr(&mut self, lr: f64) {
        match self {
            Optimizer::Sgd(o) => o.lr = lr,
            Optimizer::Momentum(o) => o.lr = lr,
            Optimizer::Adam(o) => o.lr = lr,
        }
    }
}

/// Decoupled weight decay (AdamW's, after the step): every 2-D tensor (the weight matrices and
/// embeddings; not the biases) is multiplied by `1 - rate`, `rate = lr * weight_decay`.
pub fn decay_weights<F: Real>(params: &mut Params<F>, rate: f64) {
    let keep = F::of(1.0 - rate);
    for (value, _) in params.values_and_grads_mut().filter(|(v, _)| v.ndim() == 2) {
        value.mapv_inplace(|w| w * keep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store with two parameters and gradients of norm 5 (3, 0 | 4).
    fn store() -> Params<f64> {
        let mut params = Params::<f64>::new();
        let a = params.add("a", &[2]);
        let b = params.add("b", &[1]);
        params.value_mut(a).assign(&ndarray::arr1(&[1.0, -2.0]).into_dyn());
        params.value_mut(b).assign(&ndarray::arr1(&[0.5]).into_dyn());
        params.grad_mut(a).assign(&ndarray::arr1(&[3.0, 0.0]).into_dyn());
        params.grad_mut(b).assign(&ndarray::arr1(&[4.0]).into_dyn());
        params
    }

    #[test]
    fn clipped_step_equals_clipping_then_stepping_for_every_optimizer() {
        for kind in [OptimizerKind::Sgd, OptimizerKind::Momentum, OptimizerKind::Adam] {
            for clip in [None, Some(1.0), Some(10.0)] {
                let (mut fused, mut plain) = (store(), store());
                let (mut o1, mut o2) = (Optimizer::new(kind, 0.1, 0.9), Optimizer::new(kind, 0.1, 0.9));
                for _ in 0..3 {
                    let norm = o1.clipped_step(&mut fused, clip);
                    if let Some(max_norm) = clip {
                        assert!((clip_grad_norm(&mut plain, max_norm) - norm).abs() < 1e-12);
                    }
                    o2.step(&mut plain);
                    plain.grads_mut().zip(store().grads_mut()).for_each(|(g, g0)| g.assign(g0));
                }
                for id in fused.ids() {
                    let (x, y) = (fused.value(id), plain.value(id));
                    assert!(
                        x.iter().zip(y.iter()).all(|(x, y)| (x - y).abs() < 1e-12),
                        "{kind:?} {clip:?}: {x} vs {y}"
                    );
                }
            }
        }
    }
}
