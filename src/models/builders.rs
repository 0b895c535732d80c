//! `Default` and `with_*` builders for the model configs and the engine's settings, so a program
//! states only what differs from the defaults:
//!
//! ```
//! use recur::prelude::*;
//!
//! let config = LmConfig::new(10_000).with_cell(CellKind::Gru).with_hidden_size(200);
//! assert_eq!((config.vocab_size, config.embed_size, config.hidden_size), (10_000, 100, 200));
//! assert!(config.check().is_ok());
//! // The sizes of the data have no default: an unset vocabulary is refused by name.
//! assert!(LmConfig::default().check().unwrap_err().to_string().contains("vocab_size"));
//! ```
//!
//! The defaults are the command line's: the book's chapter-6 language model (one LSTM layer of
//! 100, word vectors of 100, the book's initialisation), `classify train`'s classifier (one LSTM
//! layer of 32, dropout 0.3 on the word vectors and 0.5 before the head), `forecast train`'s
//! forecaster (two RNN layers of 20, the next step, seq2vec), the book's chapter-7
//! encoder-decoder (LSTM, word vectors of 16, hidden 128), and Keras' `fit` for the engine (Adam's
//! rate 0.001, ten epochs, no clipping, no early stopping). The sizes that come from the data
//! (`vocab_size`, `num_classes`) are 0 until set, and `check` names them.

use super::{ClassifierConfig, ForecastMode, ForecasterConfig, Init, LmConfig, Pool, Seq2seqConfig};
use crate::layers::attention::ScoreKind;
use crate::layers::CellKind;
use crate::optim::LrRule;
use crate::train::{OnNan, Settings};

/// `with_name(value)` for each listed field: the config with that field set.
macro_rules! builders {
    ($config:ty { $($method:ident => $field:ident: $t:ty),* $(,)? }) => {
        impl $config {
            $(
                #[doc = concat!("This config with `", stringify!($field), "` set to `value`.")]
                #[must_use]
                pub fn $method(mut self, value: $t) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

impl Default for LmConfig {
    fn default() -> Self {
        LmConfig {
            cell: CellKind::Lstm,
            vocab_size: 0,
            embed_size: 100,
            hidden_size: 100,
            num_layers: 1,
            dropout: 0.0,
            tie_weights: false,
            init: Init::Book,
            init_scale: 0.1,
        }
    }
}

impl LmConfig {
    /// The default model (the book's chapter-6 `Rnnlm`) over `vocab_size` words.
    pub fn new(vocab_size: usize) -> Self {
        LmConfig { vocab_size, ..LmConfig::default() }
    }
}

builders!(LmConfig {
    with_cell => cell: CellKind,
    with_vocab_size => vocab_size: usize,
    with_embed_size => embed_size: usize,
    with_hidden_size => hidden_size: usize,
    with_num_layers => num_layers: usize,
    with_dropout => dropout: f64,
    with_tie_weights => tie_weights: bool,
    with_init => init: Init,
    with_init_scale => init_scale: f64,
});

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            cell: CellKind::Lstm,
            vocab_size: 0,
            embed_size: 32,
            hidden_size: 32,
            num_layers: 1,
            bidirectional: false,
            embed_dropout: 0.3,
            dropout: 0.5,
            num_classes: 0,
            pool: Pool::Last,
        }
    }
}

impl ClassifierConfig {
    /// The default classifier of `num_classes` classes over `vocab_size` words.
    pub fn new(vocab_size: usize, num_classes: usize) -> Self {
        ClassifierConfig { vocab_size, num_classes, ..ClassifierConfig::default() }
    }
}

builders!(ClassifierConfig {
    with_cell => cell: CellKind,
    with_vocab_size => vocab_size: usize,
    with_embed_size => embed_size: usize,
    with_hidden_size => hidden_size: usize,
    with_num_layers => num_layers: usize,
    with_bidirectional => bidirectional: bool,
    with_embed_dropout => embed_dropout: f64,
    with_dropout => dropout: f64,
    with_num_classes => num_classes: usize,
    with_pool => pool: Pool,
});

impl Default for ForecasterConfig {
    fn default() -> Self {
        ForecasterConfig {
            cell: CellKind::Rnn,
            input_size: 1,
            hidden_size: 20,
            num_layers: 2,
            horizon: 1,
            mode: ForecastMode::Seq2vec,
            linear_path: false,
        }
    }
}

builders!(ForecasterConfig {
    with_cell => cell: CellKind,
    with_input_size => input_size: usize,
    with_hidden_size => hidden_size: usize,
    with_num_layers => num_layers: usize,
    with_horizon => horizon: usize,
    with_mode => mode: ForecastMode,
    with_linear_path => linear_path: bool,
});

impl Default for Seq2seqConfig {
    fn default() -> Self {
        Seq2seqConfig::book(CellKind::Lstm, 0, 16, 128, false)
    }
}

impl Seq2seqConfig {
    /// The book's chapter-7 model over `vocab_size` symbols.
    pub fn new(vocab_size: usize) -> Self {
        Seq2seqConfig { vocab_size, ..Seq2seqConfig::default() }
    }
}

builders!(Seq2seqConfig {
    with_cell => cell: CellKind,
    with_vocab_size => vocab_size: usize,
    with_embed_size => embed_size: usize,
    with_hidden_size => hidden_size: usize,
    with_peeky => peeky: bool,
    with_num_layers => num_layers: usize,
    with_dropout => dropout: f64,
    with_attention => attention: Option<ScoreKind>,
    with_bidirectional => bidirectional: bool,
    with_mask_padding => mask_padding: bool,
});

impl Default for Settings {
    fn default() -> Self {
        Settings {
            epochs: 10,
            lr: 0.001,
            lr_rule: LrRule::constant(),
            clip: None,
            weight_decay: 0.0,
            patience: 0,
            on_nan: OnNan::default(),
        }
    }
}

builders!(Settings {
    with_epochs => epochs: usize,
    with_lr => lr: f64,
    with_lr_rule => lr_rule: LrRule,
    with_clip => clip: Option<f64>,
    with_weight_decay => weight_decay: f64,
    with_patience => patience: usize,
    with_on_nan => on_nan: OnNan,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_only_the_data_sizes() {
        assert!(LmConfig::new(50).check().is_ok());
        assert!(ClassifierConfig::new(50, 2).check().is_ok());
        assert!(ForecasterConfig::default().check().is_ok());
        assert!(Seq2seqConfig::new(13).check().is_ok());
        assert!(ClassifierConfig::default().check().is_err());
        let s = Settings::default().with_epochs(3).with_clip(Some(5.0));
        assert_eq!((s.epochs, s.clip, s.lr), (3, Some(5.0), 0.001));
        let c = ClassifierConfig::new(9, 3).with_bidirectional(true).with_pool(Pool::Max);
        assert_eq!((c.vocab_size, c.num_classes, c.bidirectional, c.pool), (9, 3, true, Pool::Max));
    }
}
