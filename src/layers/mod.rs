//! One-step layers, each with an explicit `forward` that caches what its `backward` needs.
//!
//! Conventions (the textbook's): N batch rows, D input width, H hidden width, V vocabulary.
//! `forward` returns a view of the layer's own output buffer, sized once per shape and reused;
//! `backward` adds parameter gradients into the [`Params`](crate::params::Params) store and
//! returns a view of the input gradient.

pub mod affine;
pub mod attention;
pub mod cell;
pub mod dropout;
pub mod embedding;
pub mod gru;
pub mod lstm;
pub mod mse_loss;
pub mod rnn;
pub mod sigmoid_loss;
pub mod softmax_loss;

pub use affine::Affine;
pub use cell::{Cell, CellKind};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use gru::GruCell;
pub use lstm::LstmCell;
pub use mse_loss::MseLoss;
pub use rnn::RnnCell;
pub use sigmoid_loss::SigmoidWithLoss;
pub use softmax_loss::{SoftmaxWithLoss, IGNORE};
