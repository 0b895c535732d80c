//! The language model: Embedding -> [Dropout] -> (recurrent layer -> [Dropout]) x L -> Affine ->
//! Softmax-with-loss, over (N, T) batches of token ids. With one tanh RNN layer it is the book's
//! `SimpleRnnlm` (chapter 5); with LSTM layers its `Rnnlm` (chapter 6) and, with dropout and tied
//! weights, its `BetterRnnlm` and PyTorch's word-language-model `RNNModel`.
//!
//! Parameter names are PyTorch's `RNNModel.state_dict()` names: `encoder.weight` (V, D),
//! `rnn.weight_ih_l{k}`, `rnn.weight_hh_l{k}`, `rnn.bias_ih_l{k}` [, `rnn.bias_hh_l{k}`],
//! `decoder.weight` (V, H), `decoder.bias` (V). Tied weights are one parameter (`encoder.weight`)
//! used by both layers, so its gradient is the sum of both uses; the saved file still carries a
//! `decoder.weight`, as PyTorch's state_dict does.

use super::model::{load_pytorch, one_bias_names, pytorch_state_dict};
use super::LayerSummary;
use crate::layers::{CellKind, Dropout};
use crate::params::{ParamId, Params};
use crate::tensor::{Real, Rng};
use crate::time::{RecurrentLayer, StateMode, TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss};
use crate::Error;
use ndarray::{ArrayD, ArrayView2, ArrayView3, Ix3};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the weights are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// The book's: embedding `randn / 100`, every weight matrix `randn / sqrt(fan_in)`, zero biases.
    Book,
    /// Zaremba et al.'s: every parameter, biases included, uniform in [-init_scale, init_scale].
    Uniform,
    /// The PyTorch example's: embedding and decoder weights uniform in [-init_scale, init_scale],
    /// decoder bias zero, recurrent weights and biases uniform in [-1/sqrt(H), 1/sqrt(H)]
    /// (PyTorch's default for `nn.LSTM`).
    Pytorch,
}

fn default_init_scale() -> f64 {
    0.1
}

/// Everything needed to rebuild a language model (saved as `config.json` in a run directory).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LmConfig {
    /// The recurrent cell of every layer.
    pub cell: CellKind,
    /// V: vocabulary size.
    pub vocab_size: usize,
    /// D: word-vector width (the book's `wordvec_size`).
    pub embed_size: usize,
    /// H: hidden-state width.
    pub hidden_size: usize,
    /// L: stacked recurrent layers.
    pub num_layers: usize,
    /// Dropout probability on the embedding output and after each recurrent layer (0 = none).
    #[serde(default)]
    pub dropout: f64,
    /// The decoder uses the embedding's weight (needs D = H).
    #[serde(default)]
    pub tie_weights: bool,
    /// How the weights are drawn at construction.
    pub init: Init,
    /// The bound of the uniform inits.
    #[serde(default = "default_init_scale")]
    pub init_scale: f64,
}

impl LmConfig {
    /// The book's chapter-5 model: one tanh RNN layer.
    pub fn simple_rnnlm(vocab_size: usize, embed_size: usize, hidden_size: usize) -> Self {
        LmConfig {
            cell: CellKind::Rnn,
            vocab_size,
            embed_size,
            hidden_size,
            num_layers: 1,
            dropout: 0.0,
            tie_weights: false,
            init: Init::Book,
            init_scale: default_init_scale(),
        }
    }

    /// Numbers a training run of this model holds, roughly: the weights five times (value,
    /// gradient, the best epoch's copy, Adam's two moments) and a batch of `n x t` positions'
    /// activations (the V-wide scores twice, each layer's gates and states).
    pub fn training_floats(&self, n: usize, t: usize) -> Option<u128> {
        let positions = (n as u128).checked_mul(t as u128)?;
        let per_position = (2 * self.vocab_size as u128)
            .checked_add((self.num_layers as u128).checked_mul(12)?.checked_mul(self.hidden_size as u128)?)?
            .checked_add(2 * self.embed_size as u128)?;
        self.parameter_count()?.checked_mul(5)?.checked_add(positions.checked_mul(per_position)?)
    }

    /// How many numbers the model's parameters hold (`None` if it overflows 128 bits): computed
    /// from the sizes alone, so a config can be checked against a file before anything is built.
    pub fn parameter_count(&self) -> Option<u128> {
        let (v, d, h) = (self.vocab_size as u128, self.embed_size as u128, self.hidden_size as u128);
        let gates: u128 = match self.cell {
            CellKind::Rnn => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        };
        let biases = if self.cell == CellKind::Gru { 2 } else { 1 };
        let mut total = v.checked_mul(d)?;
        for layer in 0..self.num_layers as u128 {
            let input = if layer == 0 { d } else { h };
            let gh = gates.checked_mul(h)?;
            let layer_params = gh.checked_mul(input.checked_add(h)?.checked_add(biases)?)?;
            total = total.checked_add(layer_params)?;
        }
        let decoder = if self.tie_weights { v } else { v.checked_mul(h)?.checked_add(v)? };
        total.checked_add(decoder)
    }

    /// Why this config cannot be built, if it cannot: a zero size, a dropout outside [0, 1),
    /// tied weights with D != H, or a bad `init_scale`.
    pub fn check(&self) -> crate::Result<()> {
        if self.vocab_size == 0 || self.embed_size == 0 || self.hidden_size == 0 || self.num_layers == 0 {
            return Err(Error::msg(format!(
                "vocab_size, embed_size, hidden_size and num_layers must be at least 1 (got {}, {}, {}, {})",
                self.vocab_size, self.embed_size, self.hidden_size, self.num_layers
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::msg(format!("dropout must be in [0, 1) (got {})", self.dropout)));
        }
        if self.tie_weights && self.embed_size != self.hidden_size {
            return Err(Error::msg(format!(
                "tied weights need embed_size = hidden_size (got {} and {})",
                self.embed_size, self.hidden_size
            )));
        }
        if !(self.init_scale.is_finite() && self.init_scale > 0.0) {
            return Err(Error::msg(format!(
                "init_scale must be a positive number (got {})",
                self.init_scale
            )));
        }
        Ok(())
    }
}

/// A language model.
///
/// ```rust
/// use ndarray::Array2;
/// use recur::layers::CellKind;
/// use recur::models::{Lm, LmConfig};
/// use recur::tensor::Rng;
///
/// let v = 50;
/// let config = LmConfig { cell: CellKind::Lstm, num_layers: 2, ..LmConfig::simple_rnnlm(v, 8, 16) };
/// let mut lm = Lm::<f32>::new(config, &mut Rng::new(1));
/// let xs = Array2::from_shape_fn((4, 6), |(n, t)| ((7 * n + t) % v) as u32); // (N, T) ids
/// let ts = Array2::from_shape_fn((4, 6), |(n, t)| ((7 * n + t + 1) % v) as u32); // the next ids
/// let loss = lm.forward(xs.view(), ts.view());
/// // The initial weights predict nearly uniformly: a loss of about ln V.
/// assert!((loss as f64 - (v as f64).ln()).abs() < 0.05, "loss {loss}");
/// lm.backward();
/// assert!(lm.params.grad(lm.embed.inner.weight).iter().any(|&g| g != 0.0));
/// ```
#[derive(Clone, Debug)]
pub struct Lm<F: Real> {
    /// The sizes it was built from (saved as `config.json`'s `"model"`).
    pub config: LmConfig,
    /// Every weight and gradient of the model.
    pub params: Params<F>,
    /// Word ids (N, T) -> vectors (N, T, D).
    pub embed: TimeEmbedding<F>,
    /// The L recurrent layers: layer 0 reads (N, T, D), the others (N, T, H); each gives (N, T, H).
    pub rnns: Vec<RecurrentLayer<F>>,
    /// Top layer's hs (N, T, H) -> scores (N, T, V).
    pub decoder: TimeAffine<F>,
    /// Softmax cross-entropy of the scores against the next ids, mean over the N*T positions.
    pub loss: TimeSoftmaxWithLoss<F>,
    /// `dropouts[0]` after the embedding, `dropouts[k + 1]` after recurrent layer k.
    dropouts: Vec<Dropout<F>>,
    /// Draws the dropout masks.
    dropout_rng: Rng,
    /// Dropout is applied only in training mode.
    training: bool,
    /// Whether the last forward applied dropout (so backward applies the same masks).
    dropped: bool,
}

/// The book's chapter-5 model (one tanh RNN layer; see [`LmConfig::simple_rnnlm`]).
pub type SimpleRnnlm<F> = Lm<F>;

impl<F: Real> Lm<F> {
    /// Builds the layers and draws the weights (then the dropout generator's seed) from `rng`.
    /// Panics on a config that [`LmConfig::check`] rejects.
    pub fn new(config: LmConfig, rng: &mut Rng) -> Self {
        if let Err(message) = config.check() {
            panic!("invalid LmConfig: {message}");
        }
        let (v, d, h) = (config.vocab_size, config.embed_size, config.hidden_size);
        let mut params = Params::new();
        let embed = TimeEmbedding::new(&mut params, "encoder", v, d);
        let rnns = (0..config.num_layers)
            .map(|k| {
                let input = if k == 0 { d } else { h };
                RecurrentLayer::new(config.cell, &mut params, "rnn", k, input, h, StateMode::Stateful)
            })
            .collect();
        let decoder = if config.tie_weights {
            TimeAffine::with_weight(&mut params, "decoder", embed.inner.weight)
        } else {
            TimeAffine::new(&mut params, "decoder", h, v)
        };
        let dropouts = (0..=config.num_layers).map(|_| Dropout::new(config.dropout)).collect();
        let mut model = Lm {
            config,
            params,
            embed,
            rnns,
            decoder,
            loss: TimeSoftmaxWithLoss::new(),
            dropouts,
            dropout_rng: Rng::new(0),
            training: true,
            dropped: false,
        };
        model.init_weights(rng);
        model.dropout_rng = Rng::new(rng.next_u64());
        model
    }

    fn init_weights(&mut self, rng: &mut Rng) {
        let scale = self.config.init_scale;
        let tied = self.config.tie_weights;
        match self.config.init {
            Init::Book => {
                // Draw order follows the book: embedding, then each layer's Wx and Wh, then the
                // output weight (none when tied: BetterRnnlm reuses the embedding). Biases zero.
                rng.fill_normal(self.params.value_mut(self.embed.inner.weight), 0.01);
                for rnn in &self.rnns {
                    let fan_in = rnn.input_size() as f64;
                    let h = rnn.hidden_size() as f64;
                    rng.fill_normal(self.params.value_mut(rnn.w_ih()), 1.0 / fan_in.sqrt());
                    rng.fill_normal(self.params.value_mut(rnn.w_hh()), 1.0 / h.sqrt());
                }
                if !tied {
                    let h = self.config.hidden_size as f64;
                    rng.fill_normal(self.params.value_mut(self.decoder.inner.weight), 1.0 / h.sqrt());
                }
            }
            Init::Uniform => {
                let ids: Vec<_> = self.params.ids().collect();
                for id in ids {
                    rng.fill_uniform(self.params.value_mut(id), scale);
                }
            }
            Init::Pytorch => {
                rng.fill_uniform(self.params.value_mut(self.embed.inner.weight), scale);
                for rnn in &self.rnns {
                    let bound = 1.0 / (rnn.hidden_size() as f64).sqrt();
                    for id in rnn.param_ids() {
                        rng.fill_uniform(self.params.value_mut(id), bound);
                    }
                }
                if !tied {
                    rng.fill_uniform(self.params.value_mut(self.decoder.inner.weight), scale);
                }
            }
        }
    }

    /// Training mode applies dropout; evaluation mode does not. Models start in training mode.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// Whether the model is in training mode (dropout applied).
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// The generator of the dropout masks (its state is part of a resumable run).
    pub fn dropout_rng_mut(&mut self) -> &mut Rng {
        &mut self.dropout_rng
    }

    /// Logits (N, T, V) for ids (N, T), carrying the recurrent state.
    pub fn scores(&mut self, xs: ArrayView2<u32>) -> ArrayView3<'_, F> {
        self.dropped = self.training && self.config.dropout > 0.0;
        let rng = self.dropped.then_some(&mut self.dropout_rng);
        chain(&self.params, &mut self.embed, &mut self.dropouts, &mut self.rnns, &mut self.decoder, rng, xs)
    }

    /// Mean cross-entropy of predicting `ts` (N, T) from `xs` (N, T).
    pub fn forward(&mut self, xs: ArrayView2<u32>, ts: ArrayView2<u32>) -> F {
        self.dropped = self.training && self.config.dropout > 0.0;
        let rng = self.dropped.then_some(&mut self.dropout_rng);
        let (n, t) = xs.dim();
        chain(&self.params, &mut self.embed, &mut self.dropouts, &mut self.rnns, &mut self.decoder, rng, xs);
        // The loss takes the decoder's (N*T, V) scores buffer rather than copying it.
        self.loss.forward_taking(self.decoder.inner.output_mut(), (n, t), ts)
    }

    /// Softmax probabilities (N, T, V) of the last `forward`.
    pub fn probs(&self) -> ArrayView3<'_, F> {
        self.loss.probs()
    }

    /// Adds the gradient of the last `forward`'s loss into `params`' gradients.
    pub fn backward(&mut self) {
        let dscores = self.loss.backward(F::one());
        let mut dhs = self.decoder.backward(&mut self.params, dscores);
        for (k, rnn) in self.rnns.iter_mut().enumerate().rev() {
            if self.dropped {
                dhs = as3(self.dropouts[k + 1].backward(dhs.into_dyn()));
            }
            dhs = rnn.backward(&mut self.params, dhs);
        }
        if self.dropped {
            dhs = as3(self.dropouts[0].backward(dhs.into_dyn()));
        }
        self.embed.backward(&mut self.params, dhs);
    }

    /// Starts the next call from zero states.
    pub fn reset_state(&mut self) {
        self.rnns.iter_mut().for_each(|r| r.reset_state());
    }

    /// Each layer's state for the next call (`None`: zeros), for training checkpoints.
    pub fn carried_states(&self) -> Vec<Option<ndarray::Array2<F>>> {
        self.rnns.iter().map(|r| r.carried_state().map(|s| s.to_owned())).collect()
    }

    /// Restores what [`Lm::carried_states`] returned.
    pub fn set_carried_states(&mut self, states: &[Option<ndarray::Array2<F>>]) {
        for (rnn, state) in self.rnns.iter_mut().zip(states) {
            match state {
                Some(s) => rnn.set_state(s.view()),
                None => rnn.reset_state(),
            }
        }
    }

    /// Each layer with its tensors (PyTorch names and shapes) and parameter count. A tied
    /// decoder lists only its bias: its weight is the embedding's, counted once.
    pub fn summary(&self) -> Vec<LayerSummary> {
        let entry = |layer: String, ids: Vec<ParamId>| LayerSummary::of(&self.params, layer, &ids);
        let mut rows = vec![entry("TimeEmbedding".into(), vec![self.embed.inner.weight])];
        let p = self.config.dropout;
        if p > 0.0 {
            rows.push(entry(format!("TimeDropout({p})"), vec![]));
        }
        for (k, rnn) in self.rnns.iter().enumerate() {
            rows.push(entry(format!("Time{}[{k}]", rnn.cell().name().to_uppercase()), rnn.param_ids()));
            if p > 0.0 {
                rows.push(entry(format!("TimeDropout({p})"), vec![]));
            }
        }
        let (layer, ids) = if self.config.tie_weights {
            ("TimeAffine (weight tied to encoder.weight)", vec![self.decoder.inner.bias])
        } else {
            ("TimeAffine", vec![self.decoder.inner.weight, self.decoder.inner.bias])
        };
        rows.push(entry(layer.into(), ids));
        rows
    }

    /// The tensors to save, under PyTorch's `RNNModel.state_dict()` names. Cells with one bias
    /// also get a zero `rnn.bias_hh_l{k}`, and a tied model a `decoder.weight` equal to
    /// `encoder.weight`, so PyTorch's strict `load_state_dict` accepts the file.
    pub fn state_dict(&self) -> Vec<(String, ArrayD<F>)> {
        let mut out = pytorch_state_dict(&self.params, &one_bias_names(&self.params, &self.rnns));
        if self.config.tie_weights {
            out.push(("decoder.weight".into(), self.params.value(self.embed.inner.weight).to_owned()));
            out.sort_by(|a, b| a.0.cmp(&b.0));
        }
        out
    }

    /// Sets every parameter from `tensors` (names as in [`Lm::state_dict`]). A cell with one bias
    /// takes `bias_ih + bias_hh` (what PyTorch computes). A tied model checks that
    /// `decoder.weight`, if present, equals `encoder.weight`. Errors name the missing, extra or
    /// misshapen tensor.
    pub fn load_state_dict(&mut self, mut tensors: BTreeMap<String, ArrayD<F>>) -> crate::Result<()> {
        if self.config.tie_weights {
            if let Some(decoder) = tensors.remove("decoder.weight") {
                if tensors.get("encoder.weight") != Some(&decoder) {
                    return Err(Error::msg(
                        "`decoder.weight` differs from `encoder.weight`, but the config says \
                                tie_weights: the file holds an untied model",
                    ));
                }
            }
        }
        let one_bias = one_bias_names(&self.params, &self.rnns);
        load_pytorch(&mut self.params, &one_bias, tensors)
    }
}

/// The forward chain shared by `scores` and `forward` (a free function over the fields, so the
/// loss layer can be borrowed beside its result). Dropout applies when `rng` is given.
fn chain<'a, F: Real>(
    params: &Params<F>,
    embed: &'a mut TimeEmbedding<F>,
    dropouts: &'a mut [Dropout<F>],
    rnns: &'a mut [RecurrentLayer<F>],
    decoder: &'a mut TimeAffine<F>,
    mut rng: Option<&mut Rng>,
    xs: ArrayView2<u32>,
) -> ArrayView3<'a, F> {
    let (first, after_layers) = dropouts.split_first_mut().expect("one dropout per layer and the embedding");
    let mut hs = embed.forward(params, xs);
    if let Some(rng) = rng.as_deref_mut() {
        hs = as3(first.forward(hs.into_dyn(), rng));
    }
    for (rnn, dropout) in rnns.iter_mut().zip(after_layers) {
        hs = rnn.forward(params, hs);
        if let Some(rng) = rng.as_deref_mut() {
            hs = as3(dropout.forward(hs.into_dyn(), rng));
        }
    }
    decoder.forward(params, hs)
}

fn as3<F: Real>(a: ndarray::ArrayViewD<'_, F>) -> ArrayView3<'_, F> {
    a.into_dimensionality::<Ix3>().expect("dropout keeps the (N, T, H) shape")
}

crate::impl_model!(Lm, dropout);
