//! The language model: Embedding -> L recurrent layers -> Affine -> Softmax-with-loss, over
//! (N, T) batches of token ids. With one tanh RNN layer it is the book's `SimpleRnnlm`
//! (chapter 5); with LSTM layers it is its `Rnnlm` (chapter 6) and PyTorch's `RNNModel`.
//!
//! Parameter names are PyTorch's `RNNModel.state_dict()` names: `encoder.weight` (V, D),
//! `rnn.weight_ih_l{k}`, `rnn.weight_hh_l{k}`, `rnn.bias_ih_l{k}` [, `rnn.bias_hh_l{k}`],
//! `decoder.weight` (V, H), `decoder.bias` (V).

use super::LayerSummary;
use crate::layers::{Cell, RnnCell};
use crate::params::Params;
use crate::tensor::{Real, Rng};
use crate::time::{StateMode, TimeAffine, TimeEmbedding, TimeRecurrent, TimeSoftmaxWithLoss};
use ndarray::{ArrayD, ArrayView2, ArrayView3, IxDyn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the weights are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// The book's: embedding `randn / 100`, every weight matrix `randn / sqrt(fan_in)`, zero biases.
    Book,
}

/// Everything needed to rebuild a language model (saved as `config.json` in a run directory).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LmConfig {
    /// `"rnn"` (tanh).
    pub cell: String,
    /// V: vocabulary size.
    pub vocab_size: usize,
    /// D: word-vector width (the book's `wordvec_size`).
    pub embed_size: usize,
    /// H: hidden-state width.
    pub hidden_size: usize,
    /// L: stacked recurrent layers.
    pub num_layers: usize,
    pub init: Init,
}

impl LmConfig {
    /// The book's chapter-5 model: one tanh RNN layer.
    pub fn simple_rnnlm(vocab_size: usize, embed_size: usize, hidden_size: usize) -> Self {
        LmConfig {
            cell: RnnCell::KIND.into(),
            vocab_size,
            embed_size,
            hidden_size,
            num_layers: 1,
            init: Init::Book,
        }
    }
}

/// A language model over cell `C`.
#[derive(Clone, Debug)]
pub struct Lm<F: Real, C: Cell> {
    pub config: LmConfig,
    pub params: Params<F>,
    pub embed: TimeEmbedding<F>,
    pub rnns: Vec<TimeRecurrent<F, C>>,
    pub decoder: TimeAffine<F>,
    pub loss: TimeSoftmaxWithLoss<F>,
}

/// The book's chapter-5 model.
pub type SimpleRnnlm<F> = Lm<F, RnnCell>;

impl<F: Real, C: Cell> Lm<F, C> {
    /// Builds the layers and draws the weights from `rng`.
    pub fn new(config: LmConfig, rng: &mut Rng) -> Self {
        assert_eq!(
            config.cell,
            C::KIND,
            "LmConfig names cell `{}` but the model is built over `{}`",
            config.cell,
            C::KIND
        );
        let (v, d, h) = (config.vocab_size, config.embed_size, config.hidden_size);
        let mut params = Params::new();
        let embed = TimeEmbedding::new(&mut params, "encoder", v, d);
        let rnns = (0..config.num_layers)
            .map(|k| {
                TimeRecurrent::new(&mut params, "rnn", k, if k == 0 { d } else { h }, h, StateMode::Stateful)
            })
            .collect();
        let decoder = TimeAffine::new(&mut params, "decoder", h, v);
        let mut model = Lm { config, params, embed, rnns, decoder, loss: TimeSoftmaxWithLoss::new() };
        model.init_weights(rng);
        model
    }

    fn init_weights(&mut self, rng: &mut Rng) {
        match self.config.init {
            Init::Book => {
                // Draw order follows the book: embedding, then each layer's Wx and Wh, then the
                // output weight. Biases stay zero.
                rng.fill_normal(self.params.value_mut(self.embed.inner.weight), 0.01);
                for rnn in &self.rnns {
                    let fan_in = rnn.input_size() as f64;
                    let h = rnn.hidden_size() as f64;
                    rng.fill_normal(self.params.value_mut(rnn.w_ih), 1.0 / fan_in.sqrt());
                    rng.fill_normal(self.params.value_mut(rnn.w_hh), 1.0 / h.sqrt());
                }
                let h = self.config.hidden_size as f64;
                rng.fill_normal(self.params.value_mut(self.decoder.inner.weight), 1.0 / h.sqrt());
            }
        }
    }

    /// Logits (N, T, V) for ids (N, T), carrying the recurrent state.
    pub fn scores(&mut self, xs: ArrayView2<u32>) -> ArrayView3<'_, F> {
        chain(&self.params, &mut self.embed, &mut self.rnns, &mut self.decoder, xs)
    }

    /// Mean cross-entropy of predicting `ts` (N, T) from `xs` (N, T).
    pub fn forward(&mut self, xs: ArrayView2<u32>, ts: ArrayView2<u32>) -> F {
        let scores = chain(&self.params, &mut self.embed, &mut self.rnns, &mut self.decoder, xs);
        self.loss.forward(scores, ts)
    }

    /// Softmax probabilities (N, T, V) of the last `forward`.
    pub fn probs(&self) -> ArrayView3<'_, F> {
        self.loss.probs()
    }

    /// Adds the gradient of the last `forward`'s loss into `params`' gradients.
    pub fn backward(&mut self) {
        let dscores = self.loss.backward(F::one());
        let mut dhs = self.decoder.backward(&mut self.params, dscores);
        for rnn in self.rnns.iter_mut().rev() {
            dhs = rnn.backward(&mut self.params, dhs);
        }
        self.embed.backward(&mut self.params, dhs);
    }

    /// Starts the next call from zero states.
    pub fn reset_state(&mut self) {
        self.rnns.iter_mut().for_each(|r| r.reset_state());
    }

    /// Each layer with its tensors (PyTorch names and shapes) and parameter count.
    pub fn summary(&self) -> Vec<LayerSummary> {
        let entry = |layer: String, ids: Vec<crate::params::ParamId>| LayerSummary {
            params: ids.iter().map(|&id| self.params.value(id).len()).sum(),
            tensors: ids
                .iter()
                .map(|&id| (self.params.name(id).to_string(), self.params.value(id).shape().to_vec()))
                .collect(),
            layer,
        };
        let mut rows = vec![entry("TimeEmbedding".into(), vec![self.embed.inner.weight])];
        for (k, rnn) in self.rnns.iter().enumerate() {
            let mut ids = vec![rnn.w_ih, rnn.w_hh, rnn.b_ih];
            ids.extend(rnn.b_hh);
            rows.push(entry(format!("Time{}[{k}]", C::KIND.to_uppercase()), ids));
        }
        rows.push(entry("TimeAffine".into(), vec![self.decoder.inner.weight, self.decoder.inner.bias]));
        rows
    }

    /// The tensors to save, under PyTorch's `RNNModel.state_dict()` names. Cells with one bias
    /// also get a zero `rnn.bias_hh_l{k}`, so PyTorch's strict `load_state_dict` accepts the file.
    pub fn state_dict(&self) -> Vec<(String, ArrayD<F>)> {
        let mut out: Vec<(String, ArrayD<F>)> = self
            .params
            .ids()
            .map(|id| (self.params.name(id).to_string(), self.params.value(id).to_owned()))
            .collect();
        if !C::HIDDEN_BIAS {
            for (k, rnn) in self.rnns.iter().enumerate() {
                let len = self.params.value(rnn.b_ih).len();
                out.push((format!("rnn.bias_hh_l{k}"), ArrayD::zeros(IxDyn(&[len]))));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Sets every parameter from `tensors` (names as in [`Lm::state_dict`]). A cell with one bias
    /// takes `bias_ih + bias_hh` (what PyTorch computes). Errors name the missing, extra or
    /// misshapen tensor.
    pub fn load_state_dict(&mut self, mut tensors: BTreeMap<String, ArrayD<F>>) -> Result<(), String> {
        if !C::HIDDEN_BIAS {
            for (k, rnn) in self.rnns.iter().enumerate() {
                let name = format!("rnn.bias_hh_l{k}");
                let b_hh = tensors.remove(&name).ok_or_else(|| format!("missing tensor `{name}`"))?;
                let ih_name = self.params.name(rnn.b_ih).to_string();
                let b_ih = tensors.get_mut(&ih_name).ok_or_else(|| format!("missing tensor `{ih_name}`"))?;
                if b_ih.shape() != b_hh.shape() {
                    return Err(format!(
                        "`{name}` has shape {:?} but `{ih_name}` has {:?}",
                        b_hh.shape(),
                        b_ih.shape()
                    ));
                }
                *b_ih += &b_hh;
            }
        }
        let ids: Vec<_> = self.params.ids().collect();
        for id in ids {
            let name = self.params.name(id).to_string();
            let value = tensors.remove(&name).ok_or_else(|| format!("missing tensor `{name}`"))?;
            let want = self.params.value(id).shape().to_vec();
            if value.shape() != want.as_slice() {
                return Err(format!(
                    "tensor `{name}` has shape {:?}, the config needs {want:?}",
                    value.shape()
                ));
            }
            self.params.value_mut(id).assign(&value);
        }
        if let Some(extra) = tensors.keys().next() {
            return Err(format!("unexpected tensor `{extra}` (the config describes no such layer)"));
        }
        Ok(())
    }
}

/// Embedding -> recurrent layers -> decoder: the forward chain shared by `scores` and `forward`
/// (a free function over the fields, so the loss layer can be borrowed beside its result).
fn chain<'a, F: Real, C: Cell>(
    params: &Params<F>,
    embed: &'a mut TimeEmbedding<F>,
    rnns: &'a mut [TimeRecurrent<F, C>],
    decoder: &'a mut TimeAffine<F>,
    xs: ArrayView2<u32>,
) -> ArrayView3<'a, F> {
    let mut hs = embed.forward(params, xs);
    for rnn in rnns.iter_mut() {
        hs = rnn.forward(params, hs);
    }
    decoder.forward(params, hs)
}
