//! Time layers: the same computations over whole (N, T, ...) batches of sequences.
//!
//! Only the recurrent layer needs a time loop ([`TimeRecurrent`], generic over the cell). The
//! position-wise layers (embedding, affine, softmax loss) treat the N*T positions as N*T rows of
//! their one-step layer: one product over all rows, no loop over t.

pub mod affine;
pub mod attention;
pub mod bidirectional;
pub mod embedding;
pub mod recurrent;
pub mod recurrent_layer;
mod reverse;
pub mod softmax_loss;

pub use affine::TimeAffine;
pub use attention::TimeAttention;
pub use bidirectional::Bidirectional;
pub use embedding::TimeEmbedding;
pub use recurrent::{CellStep, Direction, StateMode, TimeRecurrent};
pub use recurrent_layer::RecurrentLayer;
pub use softmax_loss::TimeSoftmaxWithLoss;

/// The book's `TimeRNN`: [`TimeRecurrent`] over the tanh cell.
pub type TimeRnn<F> = TimeRecurrent<F, crate::layers::RnnCell>;

/// The book's `TimeLSTM`.
pub type TimeLstm<F> = TimeRecurrent<F, crate::layers::LstmCell>;

/// `TimeGRU` (PyTorch's formulation).
pub type TimeGru<F> = TimeRecurrent<F, crate::layers::GruCell>;
