//! The tasks recur trains, each what the engine (`crate::train::Trainer`) needs of it: its
//! batches, one forward/backward, its evaluation and its own checkpointed state.
//!
//! - `lm`: language models by truncated BPTT (the book's chapters 5-6, PyTorch's word LM).
//! - `classify`: text classifiers on shuffled mini-batches of padded texts.
//! - `forecast`: forecasters on shuffled windows of a series (Hands-On ML chapter 15).
//! - `seq2seq`: the encoder-decoder on `input -> output` pairs (the book's chapter 7).

pub mod classify;
pub mod forecast;
pub mod lm;
pub mod seq2seq;

pub use classify::ClassifyTask;
pub use forecast::ForecastTask;
pub use lm::{eval_perplexity, train_epoch, LmTask};
pub use seq2seq::Seq2seqTask;
