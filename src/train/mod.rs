//! Training and evaluation of language models: the truncated-BPTT batcher, the epoch loop,
//! perplexity.

pub mod bptt;
pub mod trainer;

pub use bptt::BpttBatcher;
pub use trainer::{
    eval_perplexity, resident_mib, train_epoch, train_epoch_from, EpochCursor, EpochEnd, EpochOptions,
    EpochStats, LanguageModel, OnNan,
};
