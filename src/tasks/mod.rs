//! The tasks recur trains, each what the engine (`crate::train::Trainer`) needs of it: its
//! batches, one forward/backward, its evaluation and its own checkpointed state.
//!
//! - `lm`: language models by truncated BPTT (the book's chapters 5-6, PyTorch's word LM).
//! - `forecast`: forecasters on shuffled windows of a series (Hands-On ML chapter 15).

pub mod forecast;
pub mod lm;

pub use lm::{eval_perplexity, train_epoch, LmTask};
