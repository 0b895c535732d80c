//! Models: a config, the layers as named fields, `forward` and `backward` (the forward in
//! reverse), and the mapping to PyTorch's state_dict names.

pub mod classifier;
pub mod forecaster;
pub mod generate;
pub mod init;
pub mod lm;
pub mod model;
pub mod seq2seq;

pub use classifier::{Classifier, ClassifierConfig, Pool};
pub use forecaster::{ForecastMode, Forecaster, ForecasterConfig};
pub use generate::{generate, Sampling};
pub use lm::{Init, Lm, LmConfig, SimpleRnnlm};
pub use model::Model;
pub use seq2seq::{Seq2seq, Seq2seqConfig, Source};

/// One line of a model summary (Keras' `summary()`): a layer, its tensors, its parameter count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSummary {
    pub layer: String,
    pub tensors: Vec<(String, Vec<usize>)>,
    pub params: usize,
}
