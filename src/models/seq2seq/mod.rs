//! The encoder-decoder of the book's chapter 7 (`Seq2seq`, `PeekySeq2seq`) and chapter 8
//! (`AttentionSeq2seq`, optionally with a bidirectional encoder), for any cell, with stacked
//! layers and dropout.
//!
//! ```text
//! Encoder:  ids (N, T_in) -> Embedding -> [Dropout] -> (recurrent layer -> [Dropout]) x L
//!           (stateless, from zeros; no dropout after the top layer, whose outputs feed nothing)
//!           -> h = each layer's last h (L, N, H)
//! Decoder:  ids (N, T) -> Embedding (N, T, D) -> [Dropout] -> (recurrent layer -> [Dropout]) x L
//!           -> Affine (N, T, V) -> softmax-with-loss over the teacher-forced targets;
//!           layer k starts from the encoder's layer k: h_k (LSTM: [h_k | 0], the book's c = 0)
//! Peeky:    the decoder's first recurrent layer reads [h | embedding] (N, T, H + D) and the
//!           affine reads [h | top output] (N, T, 2H), h being the encoder's top layer's (the
//!           book's order, h first); dropout applies to the embedding and the output, not to h
//! Attention: the encoder also hands on its top layer's outputs hs (N, T_in, E); the decoder's
//!           top output h (N, T, E) (after dropout) scores every source step (dot, general or
//!           additive), a = softmax over the real steps (ids other than `<pad>`; padding gets
//!           weight exactly 0), context c = sum_s a_s hs_s, and the affine reads [c | h]
//!           (N, T, 2E), the book's order. Not combined with peeky.
//! Bidirectional: each encoder layer runs both ways, outputs [fwd | rev] (E = 2H); the decoder
//!           is E wide and layer k starts from [fwd final h | rev final h] of encoder layer k.
//! ```
//!
//! With L = 1 and no dropout this is exactly the book's model (same parameters, same draws).
//! Dropout (inverted, `p` = `config.dropout`) applies in training mode only; its masks come from
//! the model's own generator ([`super::Model::dropout_rng`], kept by training checkpoints).
//!
//! Backward: the decoder gives `dh` (L, N, H) = each layer's initial-h gradient, plus, for the top
//! layer when peeky, the sums over t of the peeked columns of the affine's and the first
//! recurrent layer's input gradients; the encoder takes `dh[k]` as the gradient of layer k's
//! final state (`backward_from_final`, dc = 0), its top layer no gradient on its outputs, or,
//! with attention, the attention's gradient of hs (the weighted sum's and the score's).
//!
//! Parameter names, PyTorch-style (k = 0..L-1): `encoder.embedding.weight` (V, D),
//! `encoder.rnn.{weight_ih_lk, weight_hh_lk, bias_ih_lk, bias_hh_lk}` (`weight_ih_l0` is (G*H, D),
//! the others (G*H, H)), `decoder.embedding.weight` (V, D), `decoder.rnn.*` (`weight_ih_l0` is
//! (G*H, H + D) when peeky), `decoder.head.weight` (V, H) or (V, 2H), `decoder.head.bias` (V).
//! Bidirectional: `encoder.rnn.*_lk_reverse` beside each `encoder.rnn.*_lk`, the decoder's
//! tensors E = 2H wide. Attention: `decoder.attention.W` (E, E) (general), or
//! `decoder.attention.W1` (E, E), `decoder.attention.W2` (E, E), `decoder.attention.v` (E)
//! (additive); none for dot; `decoder.head.weight` (V, 2E).
//! Cells with one bias save a zero `bias_hh_lk`, and loading adds it into `bias_ih_lk`, as
//! [`crate::models::Lm`] does.
//!
//! Greedy decoding ([`Seq2seq::greedy`], `greedy.rs`) feeds the start symbol, then each step's most likely
//! symbol, one step at a time (every layer's state carried), until every row has produced the
//! end symbol or `max_len` symbols. It never applies dropout.
//!
//! ```text
//! mod.rs      Seq2seq: the two halves, the loss, greedy decoding, state_dict, Model
//! config.rs   Seq2seqConfig
//! encoder.rs  Encoder
//! decoder.rs  Decoder, Source (what the attention reads)
//! greedy.rs   greedy decoding, with the attention weights
//! ```

mod beam;
mod config;
mod decoder;
mod encoder;
mod greedy;

pub use config::Seq2seqConfig;
pub use decoder::{Decoder, Source};
pub use encoder::Encoder;

use super::model::{load_pytorch, one_bias_names, pytorch_state_dict};
use super::LayerSummary;
use crate::data::pairs::CharVocab;
use crate::params::{ParamId, Params};
use crate::tensor::{Real, Rng};
use crate::time::{RecurrentLayer, TimeSoftmaxWithLoss};
use ndarray::{Array2, ArrayD, ArrayView2, ArrayView3, ArrayViewD, Ix3};
use std::collections::BTreeMap;

/// A dropout layer's (N, T, X) output back in three dimensions.
fn as3<F: Real>(a: ArrayViewD<'_, F>) -> ArrayView3<'_, F> {
    a.into_dimensionality::<Ix3>().expect("dropout keeps the (N, T, X) shape")
}

/// The encoder-decoder with its parameters and its loss.
#[derive(Clone, Debug)]
pub struct Seq2seq<F: Real> {
    /// The sizes it was built from (saved as the run's `"model"`).
    pub config: Seq2seqConfig,
    /// Every weight and gradient of the model.
    pub params: Params<F>,
    /// Reads the input ids (N, T_in); hands its final states (and outputs) to the decoder.
    pub encoder: Encoder<F>,
    /// Teacher-forced over the decoder inputs (N, T_out + 1): scores (N, T_out + 1, V).
    pub decoder: Decoder<F>,
    /// Softmax cross-entropy against the targets, `IGNORE` on padding.
    pub loss: TimeSoftmaxWithLoss<F>,
    /// Draws the dropout masks.
    dropout_rng: Rng,
    /// Dropout applies only in training mode (the mode models start in).
    training: bool,
    /// (N, T_in) which input steps are real, for the attention.
    mask: Array2<bool>,
}

impl<F: Real> Seq2seq<F> {
    /// Builds the layers and draws the weights from `rng` with the book's initialisation:
    /// embeddings `N(0, 0.01^2)`, every weight matrix `N(0, 1/fan_in)`, biases zero; then, only
    /// when the model has dropout, the seed of its dropout generator (so a model without dropout
    /// leaves `rng` where the book's model does). Panics on a config that
    /// [`Seq2seqConfig::check`] rejects.
    pub fn new(config: Seq2seqConfig, rng: &mut Rng) -> Self {
        if let Err(message) = config.check() {
            panic!("invalid Seq2seqConfig: {message}");
        }
        let mut params = Params::new();
        let encoder = Encoder::new(&mut params, &config);
        let decoder = Decoder::new(&mut params, &config);
        let mut model = Seq2seq {
            config,
            params,
            encoder,
            decoder,
            loss: TimeSoftmaxWithLoss::new(),
            dropout_rng: Rng::new(0),
            training: true,
            mask: Array2::from_elem((0, 0), true),
        };
        model.init_weights(rng);
        if model.config.dropout > 0.0 {
            model.dropout_rng = Rng::new(rng.next_u64());
        }
        model
    }

    /// Draw order: the encoder's embedding, each of its layers' W_ih and W_hh (forward then
    /// reverse direction), then the decoder's the same way, then the affine (the book's order for
    /// one layer), then the attention's matrices and `v`, each `N(0, 1/fan_in)` (`v`: 1/Q).
    fn init_weights(&mut self, rng: &mut Rng) {
        let p = &mut self.params;
        let encoder: Vec<_> = self.encoder.rnns.iter().flat_map(|l| l.directions()).collect();
        let decoder: Vec<_> = self.decoder.rnns.iter().collect();
        for (embed, rnns) in [(&self.encoder.embed, encoder), (&self.decoder.embed, decoder)] {
            rng.fill_normal(p.value_mut(embed.inner.weight), 0.01);
            for rnn in rnns {
                rng.fill_normal(p.value_mut(rnn.w_ih()), 1.0 / (rnn.input_size() as f64).sqrt());
                rng.fill_normal(p.value_mut(rnn.w_hh()), 1.0 / (rnn.hidden_size() as f64).sqrt());
            }
        }
        let head = self.decoder.head.inner.weight;
        let fan_in = p.mat(head).ncols() as f64;
        rng.fill_normal(p.value_mut(head), 1.0 / fan_in.sqrt());
        for id in self.decoder.attention.iter().flat_map(|a| a.param_ids()) {
            let fan_in = *p.value(id).shape().last().expect("a weight has a shape") as f64;
            rng.fill_normal(p.value_mut(id), 1.0 / fan_in.sqrt());
        }
    }

    /// Training mode applies dropout; evaluation mode does not.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// Whether the model is in training mode (dropout applied).
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// Mean cross-entropy over the non-ignored targets: inputs (N, T_in), teacher-forced
    /// decoder inputs (N, T) and targets (N, T). Dropout applies in training mode.
    pub fn forward(
        &mut self,
        inputs: ArrayView2<u32>,
        decoder_inputs: ArrayView2<u32>,
        targets: ArrayView2<u32>,
    ) -> F {
        let dropped = self.training && self.config.dropout > 0.0;
        let mut rng = dropped.then_some(&mut self.dropout_rng);
        let (h, hs) = self.encoder.forward(&self.params, inputs, rng.as_deref_mut());
        let source = self.config.attention.map(|_| {
            fill_mask(&mut self.mask, inputs);
            Source { hs, mask: self.mask.view() }
        });
        let scores = self.decoder.forward(&self.params, decoder_inputs, h, source, rng);
        self.loss.forward(scores, targets)
    }

    /// Adds the gradient of the last `forward`'s loss into `params`' gradients.
    pub fn backward(&mut self) {
        let dscores = self.loss.backward(F::one());
        let (dh, dsource) = self.decoder.backward(&mut self.params, dscores);
        self.encoder.backward(&mut self.params, dh, dsource);
    }

    /// Each layer with its tensors (PyTorch names and shapes) and parameter count.
    pub fn summary(&self) -> Vec<LayerSummary> {
        let entry = |layer: String, ids: Vec<ParamId>| LayerSummary::of(&self.params, layer, &ids);
        let p = self.config.dropout;
        let dropout = || entry(format!("TimeDropout({p})"), vec![]);
        let cell = self.config.cell.name().to_uppercase();
        let mut rows = vec![entry("encoder TimeEmbedding".into(), vec![self.encoder.embed.inner.weight])];
        let both = if self.config.bidirectional { " (both directions)" } else { "" };
        for (k, rnn) in self.encoder.rnns.iter().enumerate() {
            if p > 0.0 {
                rows.push(dropout());
            }
            rows.push(entry(format!("encoder Time{cell}[{k}]{both}"), rnn.param_ids()));
        }
        rows.push(entry("decoder TimeEmbedding".into(), vec![self.decoder.embed.inner.weight]));
        if p > 0.0 {
            rows.push(dropout());
        }
        let peeky = self.config.peeky;
        for (k, rnn) in self.decoder.rnns.iter().enumerate() {
            let note = if peeky && k == 0 { " (reads [h | embedding])" } else { "" };
            rows.push(entry(format!("decoder Time{cell}[{k}]{note}"), rnn.param_ids()));
            if p > 0.0 {
                rows.push(dropout());
            }
        }
        if let Some(attention) = &self.decoder.attention {
            rows.push(entry(format!("decoder TimeAttention({})", attention.kind()), attention.param_ids()));
        }
        let head = &self.decoder.head.inner;
        let note = match (peeky, self.config.attention.is_some()) {
            (true, _) => " (reads [h | output])",
            (_, true) => " (reads [context | output])",
            _ => "",
        };
        rows.push(entry(format!("decoder TimeAffine{note}"), vec![head.weight, head.bias]));
        rows
    }

    /// The tensors to save, sorted by name (see the module header).
    pub fn state_dict(&self) -> Vec<(String, ArrayD<F>)> {
        pytorch_state_dict(&self.params, &self.one_bias())
    }

    /// Sets every parameter from `tensors` (names as in [`Seq2seq::state_dict`]); a cell with one
    /// bias takes `bias_ih + bias_hh`. Errors name the missing, extra or misshapen tensor.
    pub fn load_state_dict(&mut self, tensors: BTreeMap<String, ArrayD<F>>) -> crate::Result<()> {
        let one_bias = self.one_bias();
        load_pytorch(&mut self.params, &one_bias, tensors)
    }

    fn one_bias(&self) -> Vec<String> {
        one_bias_names(&self.params, self.rnns().into_iter().map(|(_, _, rnn)| rnn))
    }

    /// Every recurrent layer with its name prefix and index.
    fn rnns(&self) -> Vec<(&'static str, usize, &RecurrentLayer<F>)> {
        let encoder = (self.encoder.rnns.iter().enumerate())
            .flat_map(|(k, l)| l.directions().into_iter().map(move |r| ("encoder.rnn", k, r)));
        let decoder = self.decoder.rnns.iter().enumerate().map(|(k, r)| ("decoder.rnn", k, r));
        encoder.chain(decoder).collect()
    }
}

crate::impl_model!(Seq2seq, dropout);

/// `mask` (N, T_in) = which input ids are real (not [`CharVocab::PAD`]).
fn fill_mask(mask: &mut Array2<bool>, inputs: ArrayView2<u32>) {
    if mask.dim() != inputs.dim() {
        *mask = Array2::from_elem(inputs.dim(), true);
    }
    mask.zip_mut_with(&inputs, |m, &id| *m = id != CharVocab::PAD);
}

/// The index of the largest value (the first, on ties).
fn argmax<F: Real>(values: impl Iterator<Item = F>) -> u32 {
    let mut best = (0u32, F::neg_infinity());
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i as u32, v);
        }
    }
    best.0
}
