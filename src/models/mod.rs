//! Models: a config, the layers as named fields, `forward` and `backward` (the forward in
//! reverse), and the mapping to PyTorch's state_dict names.

pub mod beam;
mod builders;
pub mod classifier;
pub mod forecaster;
pub mod generate;
pub mod init;
pub mod lm;
pub mod model;
pub mod seq2seq;

pub use beam::{beam_search, Beam, Hypothesis, Stepper};
pub use classifier::{Classifier, ClassifierConfig, Pool};
pub use forecaster::{ForecastMode, Forecaster, ForecasterConfig};
pub use generate::{beam_generate, generate, Sampling};
pub use lm::{Init, Lm, LmConfig, SimpleRnnlm};
pub use model::Model;
pub use seq2seq::{Seq2seq, Seq2seqConfig, Source};

/// One line of a model summary (Keras' `summary()`): a layer, its tensors, its parameter count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSummary {
    /// The layer's name (its tensors' common prefix, e.g. `rnn.0`), or its kind for a layer without
    /// weights.
    pub layer: String,
    /// Each tensor's name and shape, in store order.
    pub tensors: Vec<(String, Vec<usize>)>,
    /// Total numbers in those tensors.
    pub params: usize,
}

impl LayerSummary {
    /// The line of `layer`, whose tensors are `ids` in `params` (none for a layer without weights).
    pub fn of<F: crate::tensor::Real>(
        params: &crate::params::Params<F>,
        layer: String,
        ids: &[crate::params::ParamId],
    ) -> Self {
        LayerSummary {
            params: ids.iter().map(|&id| params.value(id).len()).sum(),
            tensors: ids
                .iter()
                .map(|&id| (params.name(id).to_string(), params.value(id).shape().to_vec()))
                .collect(),
            layer,
        }
    }
}
