//! Optimizers, gradient clipping and learning-rate rules. They see only the parameter store:
//! values and gradients, never the layers.

pub mod adam;
pub mod clip;
pub mod momentum;
pub mod schedule;
pub mod sgd;

pub use adam::Adam;
pub use clip::{clip_grad_norm, grad_norm};
pub use momentum::Momentum;
pub use schedule::{LrRule, LrSchedule};
pub use sgd::Sgd;

use crate::params::Params;
use crate::tensor::Real;
use ndarray::ArrayD;

/// Which optimizer (a config's `"optimizer"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    Sgd,
    Momentum,
    Adam,
}

/// One of an optimizer's per-parameter tensor lists, by name (`velocity`, `m`, `v`).
pub type StateBuffer<F> = (&'static str, Vec<ArrayD<F>>);

/// An optimizer chosen at run time.
#[derive(Clone, Debug)]
pub enum Optimizer<F: Real> {
    Sgd(Sgd),
    Momentum(Momentum<F>),
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

    pub fn step(&mut self, params: &mut Params<F>) {
        match self {
            Optimizer::Sgd(o) => o.step(params),
            Optimizer::Momentum(o) => o.step(params),
            Optimizer::Adam(o) => o.step(params),
        }
    }

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

    pub fn set_lr(&mut self, lr: f64) {
        match self {
            Optimizer::Sgd(o) => o.lr = lr,
            Optimizer::Momentum(o) => o.lr = lr,
            Optimizer::Adam(o) => o.lr = lr,
        }
    }
}
