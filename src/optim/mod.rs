//! Optimizers. They see only the parameter store: values and gradients, never the layers.

pub mod sgd;

pub use sgd::Sgd;
