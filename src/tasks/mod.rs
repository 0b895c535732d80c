//! The tasks recur trains, each what the engine (`crate::train::Trainer`) needs of it: its
//! batches, one forward/backward, its evaluation and its own checkpointed state.
//!
//! - `lm`: language models by truncated BPTT (the book's chapters 5-6, PyTorch's word LM).
//! - `classify`: text classifiers on shuffled mini-batches of padded texts.

pub mod classify;
pub mod lm;

pub use classify::ClassifyTask;
pub use lm::{eval_perplexity, train_epoch, LmTask};
