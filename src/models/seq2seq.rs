//! The encoder-decoder of the book's chapter 7 (`Seq2seq`, `PeekySeq2seq`), for any cell, with
//! stacked layers and dropout.
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
//! ```
//!
//! With L = 1 and no dropout this is exactly the book's model (same parameters, same draws).
//! Dropout (inverted, `p` = `config.dropout`) applies in training mode only; its masks come from
//! the model's own generator ([`super::Model::dropout_rng`], kept by training checkpoints).
//!
//! Backward: the decoder gives `dh` (L, N, H) = each layer's initial-h gradient, plus, for the top
//! layer when peeky, the sums over t of the peeked columns of the affine's and the first
//! recurrent layer's input gradients; the encoder takes `dh[k]` as the gradient of layer k's
//! final state (`backward_from_final`, dc = 0), its top layer no gradient on its outputs.
//!
//! Parameter names, PyTorch-style (k = 0..L-1): `encoder.embedding.weight` (V, D),
//! `encoder.rnn.{weight_ih_lk, weight_hh_lk, bias_ih_lk, bias_hh_lk}` (`weight_ih_l0` is (G*H, D),
//! the others (G*H, H)), `decoder.embedding.weight` (V, D), `decoder.rnn.*` (`weight_ih_l0` is
//! (G*H, H + D) when peeky), `decoder.head.weight` (V, H) or (V, 2H), `decoder.head.bias` (V).
//! Cells with one bias save a zero `bias_hh_lk`, and loading adds it into `bias_ih_lk`, as
//! [`crate::models::Lm`] does.
//!
//! Greedy decoding ([`Seq2seq::greedy`]) feeds the start symbol, then each step's most likely
//! symbol, one step at a time (every layer's state carried), until every row has produced the
//! end symbol or `max_len` symbols. It never applies dropout.

use super::LayerSummary;
use crate::layers::{CellKind, Dropout};
use crate::params::{fold_hidden_bias, ParamId, Params};
use crate::tensor::{fit, Real, Rng};
use crate::time::{RecurrentLayer, StateMode, TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss};
use ndarray::{s, Array2, Array3, ArrayD, ArrayView2, ArrayView3, ArrayViewD, Axis, Ix3, IxDyn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn one_layer() -> usize {
    1
}

/// Everything needed to rebuild the model (the `model` object of a seq2seq run's `config.json`).
/// `num_layers` and `dropout` came later: configs without them are the book's one layer, no
/// dropout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seq2seqConfig {
    pub cell: CellKind,
    /// V: symbols, shared by the input and the output side.
    pub vocab_size: usize,
    /// D: the width of both embeddings (the book's `wordvec_size`).
    pub embed_size: usize,
    /// H: the hidden width of every recurrent layer.
    pub hidden_size: usize,
    /// The decoder sees the encoder's h at every step (the book's `PeekyDecoder`).
    pub peeky: bool,
    /// L: stacked recurrent layers on each side; decoder layer k starts from encoder layer k.
    #[serde(default = "one_layer")]
    pub num_layers: usize,
    /// Dropout probability on the embeddings, between stacked layers and before the decoder's
    /// affine (0 = none).
    #[serde(default)]
    pub dropout: f64,
}

impl Seq2seqConfig {
    /// The book's model: one layer, no dropout.
    pub fn book(
        cell: CellKind,
        vocab_size: usize,
        embed_size: usize,
        hidden_size: usize,
        peeky: bool,
    ) -> Self {
        Seq2seqConfig { cell, vocab_size, embed_size, hidden_size, peeky, num_layers: 1, dropout: 0.0 }
    }

    /// Why this config cannot be built, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.vocab_size == 0 || self.embed_size == 0 || self.hidden_size == 0 || self.num_layers == 0 {
            return Err(format!(
                "vocab_size, embed_size, hidden_size and num_layers must be at least 1 (got {}, {}, {}, {})",
                self.vocab_size, self.embed_size, self.hidden_size, self.num_layers
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout must be in [0, 1) (got {})", self.dropout));
        }
        Ok(())
    }

    /// How many numbers the model's parameters hold (`None` if it overflows 128 bits), computed
    /// without building the model, so a config far larger than its weights file can be refused
    /// before anything is allocated (the file holds at least this many).
    pub fn parameter_count(&self) -> Option<u128> {
        let (v, d, h) = (self.vocab_size as u128, self.embed_size as u128, self.hidden_size as u128);
        let gates: u128 = match self.cell {
            CellKind::Rnn => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        };
        let biases = if self.cell == CellKind::Gru { 2 } else { 1 };
        let peek = if self.peeky { h } else { 0 };
        // One side: its embedding and its layers, the first reading `first_input` values.
        let side = |first_input: u128| -> Option<u128> {
            let mut total = v.checked_mul(d)?;
            for layer in 0..self.num_layers {
                let input = if layer == 0 { first_input } else { h };
                let gh = gates.checked_mul(h)?;
                total = total.checked_add(gh.checked_mul(input.checked_add(h)?.checked_add(biases)?)?)?;
            }
            Some(total)
        };
        let head = v.checked_mul(peek.checked_add(h)?.checked_add(1)?)?;
        side(d)?.checked_add(side(peek.checked_add(d)?)?)?.checked_add(head)
    }
}

/// A dropout layer's (N, T, X) output back in three dimensions.
fn as3<F: Real>(a: ArrayViewD<'_, F>) -> ArrayView3<'_, F> {
    a.into_dimensionality::<Ix3>().expect("dropout keeps the (N, T, X) shape")
}

/// Embedding -> L recurrent layers; its output is each layer's final h.
#[derive(Clone, Debug)]
pub struct Encoder<F: Real> {
    pub embed: TimeEmbedding<F>,
    /// Layer 0 reads the embedding, layer k layer k-1's outputs.
    pub rnns: Vec<RecurrentLayer<F>>,
    /// `dropouts[k]` on the input of layer k (the embedding for k = 0).
    dropouts: Vec<Dropout<F>>,
    dropped: bool,     // whether the last forward applied dropout
    h: Array3<F>,      // (L, N, H) each layer's final h
    dhs: Array3<F>,    // (N, T_in, H) zeros: the top layer's outputs feed nothing
    dfinal: Array2<F>, // (N, S*H) [dh_k | 0]
    steps: usize,      // T_in of the last forward
}

impl<F: Real> Encoder<F> {
    fn new(params: &mut Params<F>, config: &Seq2seqConfig) -> Self {
        let (v, d, h) = (config.vocab_size, config.embed_size, config.hidden_size);
        let embed = TimeEmbedding::new(params, "encoder.embedding", v, d);
        let rnns = (0..config.num_layers)
            .map(|k| {
                let input = if k == 0 { d } else { h };
                RecurrentLayer::new(config.cell, params, "encoder.rnn", k, input, h, StateMode::Stateless)
            })
            .collect();
        Encoder {
            embed,
            rnns,
            dropouts: (0..config.num_layers).map(|_| Dropout::new(config.dropout)).collect(),
            dropped: false,
            h: Array3::zeros((0, 0, 0)),
            dhs: Array3::zeros((0, 0, 0)),
            dfinal: Array2::zeros((0, 0)),
            steps: 0,
        }
    }

    /// ids (N, T_in) -> each layer's final h (L, N, H), starting from zero states. Dropout
    /// applies when `rng` is given.
    pub fn forward(
        &mut self,
        params: &Params<F>,
        ids: ArrayView2<u32>,
        mut rng: Option<&mut Rng>,
    ) -> ArrayView3<'_, F> {
        self.dropped = rng.is_some();
        self.steps = ids.ncols();
        let mut xs = self.embed.forward(params, ids);
        for (rnn, dropout) in self.rnns.iter_mut().zip(&mut self.dropouts) {
            if let Some(rng) = rng.as_deref_mut() {
                xs = as3(dropout.forward(xs.into_dyn(), rng));
            }
            xs = rnn.forward(params, xs);
        }
        let (n, h) = (ids.nrows(), self.rnns[0].hidden_size());
        fit(&mut self.h, Ix3(self.rnns.len(), n, h));
        for (k, rnn) in self.rnns.iter().enumerate() {
            self.h.index_axis_mut(Axis(0), k).assign(&rnn.final_state().slice(s![.., ..h]));
        }
        self.h.view()
    }

    /// dh (L, N, H): the gradient of each layer's final h; adds into the encoder's parameter
    /// gradients.
    pub fn backward(&mut self, params: &mut Params<F>, dh: ArrayView3<F>) {
        let (layers, n, h) = self.h.dim();
        assert_eq!(dh.dim(), (layers, n, h), "Encoder: dh {:?}, h is ({layers}, {n}, {h})", dh.dim());
        fit(&mut self.dhs, Ix3(n, self.steps, h));
        self.dhs.fill(F::zero());
        let mut dxs = self.dhs.view();
        let dropped = self.dropped;
        for (k, (rnn, dropout)) in self.rnns.iter_mut().zip(&mut self.dropouts).enumerate().rev() {
            fit(&mut self.dfinal, ndarray::Ix2(n, rnn.state_size()));
            self.dfinal.fill(F::zero());
            self.dfinal.slice_mut(s![.., ..h]).assign(&dh.index_axis(Axis(0), k));
            dxs = rnn.backward_from_final(params, dxs, self.dfinal.view());
            if dropped {
                dxs = as3(dropout.backward(dxs.into_dyn()));
            }
        }
        self.embed.backward(params, dxs);
    }
}

/// Embedding -> L recurrent layers (initial states from the encoder) -> Affine, optionally peeky.
#[derive(Clone, Debug)]
pub struct Decoder<F: Real> {
    pub embed: TimeEmbedding<F>,
    /// Layer 0 reads the embedding ([h | embedding] when peeky), layer k layer k-1's outputs.
    pub rnns: Vec<RecurrentLayer<F>>,
    pub head: TimeAffine<F>,
    pub peeky: bool,
    /// `dropouts[0]` on the embedding, `dropouts[k + 1]` on layer k's outputs.
    dropouts: Vec<Dropout<F>>,
    dropped: bool,
    x: Array3<F>,  // (N, T, H + D) peeky: [h | embedding]
    y: Array3<F>,  // (N, T, 2H) peeky: [h | output]
    dh: Array3<F>, // (L, N, H) gradient of the encoder's h
}

impl<F: Real> Decoder<F> {
    fn new(params: &mut Params<F>, config: &Seq2seqConfig) -> Self {
        let (v, d, h) = (config.vocab_size, config.embed_size, config.hidden_size);
        let peek = if config.peeky { h } else { 0 };
        let rnns = (0..config.num_layers)
            .map(|k| {
                let input = if k == 0 { peek + d } else { h };
                RecurrentLayer::new(config.cell, params, "decoder.rnn", k, input, h, StateMode::Stateless)
            })
            .collect();
        Decoder {
            embed: TimeEmbedding::new(params, "decoder.embedding", v, d),
            rnns,
            head: TimeAffine::new(params, "decoder.head", peek + h, v),
            peeky: config.peeky,
            dropouts: (0..=config.num_layers).map(|_| Dropout::new(config.dropout)).collect(),
            dropped: false,
            x: Array3::zeros((0, 0, 0)),
            y: Array3::zeros((0, 0, 0)),
            dh: Array3::zeros((0, 0, 0)),
        }
    }

    /// Each recurrent layer's initial state for the encoder's h (L, N, H): h_k, or `[h_k | 0]`
    /// for LSTM.
    pub fn initial_states(&self, h: ArrayView3<F>) -> Vec<Array2<F>> {
        (self.rnns.iter().zip(h.outer_iter()))
            .map(|(rnn, h)| {
                let mut state = Array2::zeros((h.nrows(), rnn.state_size()));
                state.slice_mut(s![.., ..h.ncols()]).assign(&h);
                state
            })
            .collect()
    }

    /// Teacher forcing: ids (N, T) and the encoder's h (L, N, H) -> scores (N, T, V). Dropout
    /// applies when `rng` is given.
    pub fn forward(
        &mut self,
        params: &Params<F>,
        ids: ArrayView2<u32>,
        h: ArrayView3<F>,
        rng: Option<&mut Rng>,
    ) -> ArrayView3<'_, F> {
        let states = self.initial_states(h);
        let top = h.index_axis(Axis(0), h.dim().0 - 1);
        self.run(params, ids, top, &states, rng)
    }

    /// The decoder from given recurrent states (one (N, S*H) per layer); `peek` (N, H) is what
    /// a peeky decoder peeks (the encoder's top h).
    fn run(
        &mut self,
        params: &Params<F>,
        ids: ArrayView2<u32>,
        peek: ArrayView2<F>,
        states: &[Array2<F>],
        mut rng: Option<&mut Rng>,
    ) -> ArrayView3<'_, F> {
        self.dropped = rng.is_some();
        for (rnn, state) in self.rnns.iter_mut().zip(states) {
            rnn.set_state(state.view());
        }
        let (first, after_layers) = self.dropouts.split_first_mut().expect("a dropout for the embedding");
        let mut xs = self.embed.forward(params, ids); // (N, T, D)
        if let Some(rng) = rng.as_deref_mut() {
            xs = as3(first.forward(xs.into_dyn(), rng));
        }
        let (n, t, d) = xs.dim();
        let hw = peek.ncols();
        let peek = peek.insert_axis(Axis(1));
        let peek = peek.broadcast((n, t, hw)).expect("(N, 1, H) broadcasts over T");
        if self.peeky {
            fit(&mut self.x, Ix3(n, t, hw + d));
            self.x.slice_mut(s![.., .., ..hw]).assign(&peek);
            self.x.slice_mut(s![.., .., hw..]).assign(&xs);
            xs = self.x.view();
        }
        for (rnn, dropout) in self.rnns.iter_mut().zip(after_layers) {
            xs = rnn.forward(params, xs);
            if let Some(rng) = rng.as_deref_mut() {
                xs = as3(dropout.forward(xs.into_dyn(), rng));
            }
        }
        if self.peeky {
            fit(&mut self.y, Ix3(n, t, 2 * hw));
            self.y.slice_mut(s![.., .., ..hw]).assign(&peek);
            self.y.slice_mut(s![.., .., hw..]).assign(&xs);
            xs = self.y.view();
        }
        self.head.forward(params, xs)
    }

    /// dscores (N, T, V) -> dh (L, N, H), the gradient of the encoder's h; adds into the
    /// decoder's parameter gradients.
    pub fn backward(&mut self, params: &mut Params<F>, dscores: ArrayView3<F>) -> ArrayView3<'_, F> {
        let (n, _, _) = dscores.dim();
        let (layers, h) = (self.rnns.len(), self.rnns[0].hidden_size());
        fit(&mut self.dh, Ix3(layers, n, h));
        self.dh.fill(F::zero());
        let dy = self.head.backward(params, dscores); // (N, T, H) or (N, T, 2H)
        let mut dhs = if self.peeky {
            let mut top = self.dh.index_axis_mut(Axis(0), layers - 1);
            top.scaled_add(F::one(), &dy.slice(s![.., .., ..h]).sum_axis(Axis(1)));
            dy.slice_move(s![.., .., h..])
        } else {
            dy
        };
        let dropped = self.dropped;
        let (first, after_layers) = self.dropouts.split_first_mut().expect("a dropout for the embedding");
        for (rnn, dropout) in self.rnns.iter_mut().zip(after_layers).rev() {
            if dropped {
                dhs = as3(dropout.backward(dhs.into_dyn()));
            }
            dhs = rnn.backward(params, dhs); // layer 0: (N, T, D) or (N, T, H + D)
        }
        let mut demb = if self.peeky {
            let mut top = self.dh.index_axis_mut(Axis(0), layers - 1);
            top.scaled_add(F::one(), &dhs.slice(s![.., .., ..h]).sum_axis(Axis(1)));
            dhs.slice_move(s![.., .., h..])
        } else {
            dhs
        };
        if dropped {
            demb = as3(first.backward(demb.into_dyn()));
        }
        self.embed.backward(params, demb);
        for (k, rnn) in self.rnns.iter().enumerate() {
            let grad = rnn.initial_state_grad();
            self.dh.index_axis_mut(Axis(0), k).scaled_add(F::one(), &grad.slice(s![.., ..h]));
        }
        self.dh.view()
    }
}

/// The encoder-decoder with its parameters and its loss.
#[derive(Clone, Debug)]
pub struct Seq2seq<F: Real> {
    pub config: Seq2seqConfig,
    pub params: Params<F>,
    pub encoder: Encoder<F>,
    pub decoder: Decoder<F>,
    pub loss: TimeSoftmaxWithLoss<F>,
    /// Draws the dropout masks.
    dropout_rng: Rng,
    /// Dropout applies only in training mode (the mode models start in).
    training: bool,
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
        };
        model.init_weights(rng);
        if model.config.dropout > 0.0 {
            model.dropout_rng = Rng::new(rng.next_u64());
        }
        model
    }

    /// Draw order: the encoder's embedding, each of its layers' W_ih and W_hh, then the
    /// decoder's the same way, then the affine (the book's order for one layer).
    fn init_weights(&mut self, rng: &mut Rng) {
        let p = &mut self.params;
        for (embed, rnns) in
            [(&self.encoder.embed, &self.encoder.rnns), (&self.decoder.embed, &self.decoder.rnns)]
        {
            rng.fill_normal(p.value_mut(embed.inner.weight), 0.01);
            for rnn in rnns {
                rng.fill_normal(p.value_mut(rnn.w_ih()), 1.0 / (rnn.input_size() as f64).sqrt());
                rng.fill_normal(p.value_mut(rnn.w_hh()), 1.0 / (rnn.hidden_size() as f64).sqrt());
            }
        }
        let head = self.decoder.head.inner.weight;
        let fan_in = p.mat(head).ncols() as f64;
        rng.fill_normal(p.value_mut(head), 1.0 / fan_in.sqrt());
    }

    /// Training mode applies dropout; evaluation mode does not.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

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
        let h = self.encoder.forward(&self.params, inputs, rng.as_deref_mut());
        let scores = self.decoder.forward(&self.params, decoder_inputs, h, rng);
        self.loss.forward(scores, targets)
    }

    /// Adds the gradient of the last `forward`'s loss into `params`' gradients.
    pub fn backward(&mut self) {
        let dscores = self.loss.backward(F::one());
        let dh = self.decoder.backward(&mut self.params, dscores);
        self.encoder.backward(&mut self.params, dh);
    }

    /// Greedy decoding of inputs (N, T_in): from `start`, each step feeds back its most likely
    /// symbol; a row ends at `end` (not included) or after `max_len` symbols. No dropout.
    pub fn greedy(&mut self, inputs: ArrayView2<u32>, start: u32, end: u32, max_len: usize) -> Vec<Vec<u32>> {
        let n = inputs.nrows();
        let h = self.encoder.forward(&self.params, inputs, None).to_owned();
        let mut states = self.decoder.initial_states(h.view());
        let peek = h.index_axis(Axis(0), h.dim().0 - 1);
        let mut ids = Array2::from_elem((n, 1), start);
        let mut out = vec![Vec::new(); n];
        let mut done = vec![false; n];
        for _ in 0..max_len {
            let scores = self.decoder.run(&self.params, ids.view(), peek, &states, None); // (N, 1, V)
            for (row, scores) in scores.index_axis(Axis(1), 0).rows().into_iter().enumerate() {
                let best = argmax(scores.iter().copied());
                ids[[row, 0]] = best;
                if !done[row] {
                    if best == end {
                        done[row] = true;
                    } else {
                        out[row].push(best);
                    }
                }
            }
            if done.iter().all(|&d| d) {
                break;
            }
            for (state, rnn) in states.iter_mut().zip(&self.decoder.rnns) {
                state.assign(&rnn.final_state());
            }
        }
        out
    }

    /// Each layer with its tensors (PyTorch names and shapes) and parameter count.
    pub fn summary(&self) -> Vec<LayerSummary> {
        let entry = |layer: String, ids: Vec<ParamId>| LayerSummary {
            params: ids.iter().map(|&id| self.params.value(id).len()).sum(),
            tensors: ids
                .iter()
                .map(|&id| (self.params.name(id).to_string(), self.params.value(id).shape().to_vec()))
                .collect(),
            layer,
        };
        let p = self.config.dropout;
        let dropout = || entry(format!("TimeDropout({p})"), vec![]);
        let cell = self.config.cell.name().to_uppercase();
        let mut rows = vec![entry("encoder TimeEmbedding".into(), vec![self.encoder.embed.inner.weight])];
        for (k, rnn) in self.encoder.rnns.iter().enumerate() {
            if p > 0.0 {
                rows.push(dropout());
            }
            rows.push(entry(format!("encoder Time{cell}[{k}]"), rnn.param_ids()));
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
        let head = &self.decoder.head.inner;
        let note = if peeky { " (reads [h | output])" } else { "" };
        rows.push(entry(format!("decoder TimeAffine{note}"), vec![head.weight, head.bias]));
        rows
    }

    /// The tensors to save, sorted by name (see the module header).
    pub fn state_dict(&self) -> Vec<(String, ArrayD<F>)> {
        let mut out: Vec<(String, ArrayD<F>)> = self
            .params
            .ids()
            .map(|id| (self.params.name(id).to_string(), self.params.value(id).to_owned()))
            .collect();
        for (prefix, k, rnn) in self.rnns() {
            if !rnn.has_hidden_bias() {
                let len = self.params.value(rnn.b_ih()).len();
                out.push((format!("{prefix}.bias_hh_l{k}"), ArrayD::zeros(IxDyn(&[len]))));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Sets every parameter from `tensors` (names as in [`Seq2seq::state_dict`]); a cell with one
    /// bias takes `bias_ih + bias_hh`. Errors name the missing, extra or misshapen tensor.
    pub fn load_state_dict(&mut self, mut tensors: BTreeMap<String, ArrayD<F>>) -> Result<(), String> {
        let single_bias: Vec<(String, String)> = self
            .rnns()
            .into_iter()
            .filter(|(_, _, rnn)| !rnn.has_hidden_bias())
            .map(|(prefix, k, rnn)| {
                (format!("{prefix}.bias_hh_l{k}"), self.params.name(rnn.b_ih()).to_string())
            })
            .collect();
        for (name, ih_name) in single_bias {
            fold_hidden_bias(&mut tensors, &ih_name, &name)?;
        }
        self.params.load(tensors)
    }

    /// Every recurrent layer with its name prefix and index.
    fn rnns(&self) -> Vec<(&'static str, usize, &RecurrentLayer<F>)> {
        let encoder = self.encoder.rnns.iter().enumerate().map(|(k, r)| ("encoder.rnn", k, r));
        let decoder = self.decoder.rnns.iter().enumerate().map(|(k, r)| ("decoder.rnn", k, r));
        encoder.chain(decoder).collect()
    }
}

impl<F: Real> super::Model<F> for Seq2seq<F> {
    fn params(&self) -> &Params<F> {
        &self.params
    }
    fn params_mut(&mut self) -> &mut Params<F> {
        &mut self.params
    }
    fn set_training(&mut self, training: bool) {
        Seq2seq::set_training(self, training)
    }
    fn state_dict(&self) -> Vec<(String, ArrayD<F>)> {
        Seq2seq::state_dict(self)
    }
    fn load_state_dict(&mut self, tensors: BTreeMap<String, ArrayD<F>>) -> crate::Result<()> {
        Seq2seq::load_state_dict(self, tensors).map_err(crate::Error::msg)
    }
    fn summary(&self) -> Vec<LayerSummary> {
        Seq2seq::summary(self)
    }
    /// Drawn from only when the model has dropout; kept by checkpoints either way.
    fn dropout_rng(&mut self) -> Option<&mut Rng> {
        Some(&mut self.dropout_rng)
    }
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
