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

/// Which optimizer (a config's `"optimizer"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    Sgd,
    Momentum,
    Adam,
}

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

    pub fn set_lr(&mut self, lr: f64) {
        match self {
            Optimizer::Sgd(o) => o.lr = lr,
            Optimizer::Momentum(o) => o.lr = lr,
            Optimizer::Adam(o) => o.lr = lr,
        }
    }
}
