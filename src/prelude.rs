//! The names most programs written against recur need, in one `use`:
//!
//! ```
//! use recur::prelude::*;
//! ```
//!
//! The layers (the book's, each with its forward and backward), the Time layers over (N, T, ...)
//! batches, the four models and their configs, the optimizers, the training engine with the
//! tasks it trains, run directories, the corpus and vocabulary types, and the crate's `Error`
//! and `Result`. Everything else stays under its module (`recur::data::series`, ...).

pub use crate::data::demo::demo_corpus;
pub use crate::data::{Corpus, Tokenizer, Vocab, EOS, UNK};
pub use crate::error::{Error, Result};
pub use crate::io::run_dir::RunDir;
pub use crate::layers::{
    Affine, Cell, CellKind, Dropout, Embedding, GruCell, LstmCell, MseLoss, RnnCell, SigmoidWithLoss,
    SoftmaxWithLoss,
};
pub use crate::models::{
    Classifier, ClassifierConfig, ForecastMode, Forecaster, ForecasterConfig, Init, Lm, LmConfig, Model,
    Pool, Seq2seq, Seq2seqConfig, SimpleRnnlm,
};
pub use crate::optim::{LrRule, Optimizer, OptimizerKind};
pub use crate::params::{ParamId, Params};
pub use crate::tasks::{eval_perplexity, ClassifyTask, ForecastTask, LmTask, Seq2seqTask};
pub use crate::tensor::{Real, Rng};
pub use crate::time::{
    Bidirectional, RecurrentLayer, StateMode, TimeAffine, TimeEmbedding, TimeRecurrent, TimeSoftmaxWithLoss,
};
pub use crate::train::{
    BpttBatcher, EpochLines, EpochStats, Observer, OnNan, Outcome, Settings, Silent, Task, TrainState,
    Trainer,
};
