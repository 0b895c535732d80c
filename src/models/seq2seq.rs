//! The encoder-decoder of the book's chapter 7 (`Seq2seq`, `PeekySeq2seq`), for any cell.
//!
//! ```text
//! Encoder:  ids (N, T_in) -> Embedding -> recurrent layer (stateless, from zeros) -> h = last h (N, H)
//! Decoder:  ids (N, T)    -> Embedding (N, T, D) -> recurrent layer, initial state h (LSTM: [h | 0])
//!                         -> Affine (N, T, V) -> softmax-with-loss over the teacher-forced targets
//! Peeky:    the decoder's recurrent input is [h | embedding] (N, T, H + D) and the affine reads
//!           [h | output] (N, T, 2H): the encoder's h at every step (the book's order, h first)
//! ```
//!
//! Backward: the decoder gives `dh` = the gradient of its initial h, plus, when peeky, the sums
//! over t of the peeked columns of the affine's and the recurrent layer's input gradients; the
//! encoder takes `dh` as the gradient of its final state (`backward_from_final`, dc = 0) and no
//! gradient on its other outputs.
//!
//! Parameter names, PyTorch-style: `encoder.embedding.weight` (V, D),
//! `encoder.rnn.{weight_ih_l0 (G*H, D), weight_hh_l0 (G*H, H), bias_ih_l0, bias_hh_l0}`,
//! `decoder.embedding.weight` (V, D), `decoder.rnn.*` (`weight_ih_l0` is (G*H, H + D) when peeky),
//! `decoder.head.weight` (V, H) or (V, 2H), `decoder.head.bias` (V). Cells with one bias save a
//! zero `bias_hh_l0`, and loading adds it into `bias_ih_l0`, as [`crate::models::Lm`] does.
//!
//! Greedy decoding ([`Seq2seq::greedy`]) feeds the start symbol, then each step's most likely
//! symbol, one step at a time, until every row has produced the end symbol or `max_len` symbols.

use crate::layers::CellKind;
use crate::params::{fold_hidden_bias, Params};
use crate::tensor::{fit, Real, Rng};
use crate::time::{RecurrentLayer, StateMode, TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss};
use ndarray::{s, Array2, Array3, ArrayD, ArrayView2, ArrayView3, Axis, Ix2, Ix3, IxDyn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything needed to rebuild the model (the `model` object of a seq2seq run's `config.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seq2seqConfig {
    pub cell: CellKind,
    /// V: symbols, shared by the input and the output side.
    pub vocab_size: usize,
    /// D: the width of both embeddings (the book's `wordvec_size`).
    pub embed_size: usize,
    /// H: the hidden width of both recurrent layers.
    pub hidden_size: usize,
    /// The decoder sees the encoder's h at every step (the book's `PeekyDecoder`).
    pub peeky: bool,
}

impl Seq2seqConfig {
    /// Why this config cannot be built, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.vocab_size == 0 || self.embed_size == 0 || self.hidden_size == 0 {
            return Err(format!(
                "vocab_size, embed_size and hidden_size must be at least 1 (got {}, {}, {})",
                self.vocab_size, self.embed_size, self.hidden_size
            ));
        }
        Ok(())
    }
}

/// Embedding -> recurrent layer; its output is the final h.
#[derive(Clone, Debug)]
pub struct Encoder<F: Real> {
    pub embed: TimeEmbedding<F>,
    pub rnn: RecurrentLayer<F>,
    h: Array2<F>,      // (N, H) the final h
    dhs: Array3<F>,    // (N, T_in, H) zeros: only the final state feeds the decoder
    dfinal: Array2<F>, // (N, S*H) [dh | 0]
    steps: usize,      // T_in of the last forward
}

impl<F: Real> Encoder<F> {
    fn new(params: &mut Params<F>, config: &Seq2seqConfig) -> Self {
        let (v, d, h) = (config.vocab_size, config.embed_size, config.hidden_size);
        Encoder {
            embed: TimeEmbedding::new(params, "encoder.embedding", v, d),
            rnn: RecurrentLayer::new(config.cell, params, "encoder.rnn", 0, d, h, StateMode::Stateless),
            h: Array2::zeros((0, 0)),
            dhs: Array3::zeros((0, 0, 0)),
            dfinal: Array2::zeros((0, 0)),
            steps: 0,
        }
    }

    /// ids (N, T_in) -> h (N, H), starting from a zero state.
    pub fn forward(&mut self, params: &Params<F>, ids: ArrayView2<u32>) -> ArrayView2<'_, F> {
        let xs = self.embed.forward(params, ids);
        self.rnn.forward(params, xs);
        let (n, h) = (ids.nrows(), self.rnn.hidden_size());
        self.steps = ids.ncols();
        fit(&mut self.h, Ix2(n, h));
        self.h.assign(&self.rnn.final_state().slice(s![.., ..h]));
        self.h.view()
    }

    /// dh (N, H): the gradient of the final h; adds into the encoder's parameter gradients.
    pub fn backward(&mut self, params: &mut Params<F>, dh: ArrayView2<F>) {
        let (n, t, h) = (self.h.nrows(), self.steps, self.rnn.hidden_size());
        assert_eq!(dh.dim(), (n, h), "Encoder: dh {:?}, h is ({n}, {h})", dh.dim());
        fit(&mut self.dhs, Ix3(n, t, h));
        self.dhs.fill(F::zero());
        fit(&mut self.dfinal, Ix2(n, self.rnn.state_size()));
        self.dfinal.fill(F::zero());
        self.dfinal.slice_mut(s![.., ..h]).assign(&dh);
        let dxs = self.rnn.backward_from_final(params, self.dhs.view(), self.dfinal.view());
        self.embed.backward(params, dxs);
    }
}

/// Embedding -> recurrent layer (initial h from the encoder) -> Affine, optionally peeky.
#[derive(Clone, Debug)]
pub struct Decoder<F: Real> {
    pub embed: TimeEmbedding<F>,
    pub rnn: RecurrentLayer<F>,
    pub head: TimeAffine<F>,
    pub peeky: bool,
    x: Array3<F>,  // (N, T, H + D) peeky: [h | embedding]
    y: Array3<F>,  // (N, T, 2H) peeky: [h | output]
    dh: Array2<F>, // (N, H) gradient of the encoder's h
}

impl<F: Real> Decoder<F> {
    fn new(params: &mut Params<F>, config: &Seq2seqConfig) -> Self {
        let (v, d, h) = (config.vocab_size, config.embed_size, config.hidden_size);
        let peek = if config.peeky { h } else { 0 };
        Decoder {
            embed: TimeEmbedding::new(params, "decoder.embedding", v, d),
            rnn: RecurrentLayer::new(
                config.cell,
                params,
                "decoder.rnn",
                0,
                peek + d,
                h,
                StateMode::Stateless,
            ),
            head: TimeAffine::new(params, "decoder.head", peek + h, v),
            peeky: config.peeky,
            x: Array3::zeros((0, 0, 0)),
            y: Array3::zeros((0, 0, 0)),
            dh: Array2::zeros((0, 0)),
        }
    }

    /// The recurrent layer's initial state for an encoder h (N, H): h, or `[h | 0]` for LSTM.
    pub fn initial_state(&self, h: ArrayView2<F>) -> Array2<F> {
        let mut state = Array2::zeros((h.nrows(), self.rnn.state_size()));
        state.slice_mut(s![.., ..h.ncols()]).assign(&h);
        state
    }

    /// Teacher forcing: ids (N, T) and the encoder's h (N, H) -> scores (N, T, V).
    pub fn forward(
        &mut self,
        params: &Params<F>,
        ids: ArrayView2<u32>,
        h: ArrayView2<F>,
    ) -> ArrayView3<'_, F> {
        let state = self.initial_state(h);
        self.run(params, ids, h, state.view())
    }

    /// The decoder from a given recurrent state (N, S*H); `h` (N, H) is what a peeky decoder peeks.
    fn run(
        &mut self,
        params: &Params<F>,
        ids: ArrayView2<u32>,
        h: ArrayView2<F>,
        state: ArrayView2<F>,
    ) -> ArrayView3<'_, F> {
        self.rnn.set_state(state);
        let emb = self.embed.forward(params, ids); // (N, T, D)
        if !self.peeky {
            let hs = self.rnn.forward(params, emb);
            return self.head.forward(params, hs);
        }
        let (n, t, d) = emb.dim();
        let hw = h.ncols();
        let peek = h.insert_axis(Axis(1));
        let peek = peek.broadcast((n, t, hw)).expect("(N, 1, H) broadcasts over T");
        fit(&mut self.x, Ix3(n, t, hw + d));
        self.x.slice_mut(s![.., .., ..hw]).assign(&peek);
        self.x.slice_mut(s![.., .., hw..]).assign(&emb);
        let hs = self.rnn.forward(params, self.x.view());
        fit(&mut self.y, Ix3(n, t, 2 * hw));
        self.y.slice_mut(s![.., .., ..hw]).assign(&peek);
        self.y.slice_mut(s![.., .., hw..]).assign(&hs);
        self.head.forward(params, self.y.view())
    }

    /// dscores (N, T, V) -> dh (N, H), the gradient of the encoder's h; adds into the decoder's
    /// parameter gradients.
    pub fn backward(&mut self, params: &mut Params<F>, dscores: ArrayView3<F>) -> ArrayView2<'_, F> {
        let (n, _, _) = dscores.dim();
        let h = self.rnn.hidden_size();
        fit(&mut self.dh, Ix2(n, h));
        let dy = self.head.backward(params, dscores); // (N, T, H) or (N, T, 2H)
        let dhs = if self.peeky {
            self.dh.assign(&dy.slice(s![.., .., ..h]).sum_axis(Axis(1)));
            dy.slice_move(s![.., .., h..])
        } else {
            self.dh.fill(F::zero());
            dy
        };
        let dx = self.rnn.backward(params, dhs); // (N, T, D) or (N, T, H + D)
        let demb = if self.peeky {
            self.dh.scaled_add(F::one(), &dx.slice(s![.., .., ..h]).sum_axis(Axis(1)));
            dx.slice_move(s![.., .., h..])
        } else {
            dx
        };
        self.embed.backward(params, demb);
        self.dh.scaled_add(F::one(), &self.rnn.initial_state_grad().slice(s![.., ..h]));
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
}

impl<F: Real> Seq2seq<F> {
    /// Builds the layers and draws the weights from `rng` with the book's initialisation:
    /// embeddings `N(0, 0.01^2)`, every weight matrix `N(0, 1/fan_in)`, biases zero. Panics on a
    /// config that [`Seq2seqConfig::check`] rejects.
    pub fn new(config: Seq2seqConfig, rng: &mut Rng) -> Self {
        if let Err(message) = config.check() {
            panic!("invalid Seq2seqConfig: {message}");
        }
        let mut params = Params::new();
        let encoder = Encoder::new(&mut params, &config);
        let decoder = Decoder::new(&mut params, &config);
        let mut model = Seq2seq { config, params, encoder, decoder, loss: TimeSoftmaxWithLoss::new() };
        model.init_weights(rng);
        model
    }

    fn init_weights(&mut self, rng: &mut Rng) {
        let p = &mut self.params;
        for (embed, rnn) in
            [(&self.encoder.embed, &self.encoder.rnn), (&self.decoder.embed, &self.decoder.rnn)]
        {
            rng.fill_normal(p.value_mut(embed.inner.weight), 0.01);
            rng.fill_normal(p.value_mut(rnn.w_ih()), 1.0 / (rnn.input_size() as f64).sqrt());
            rng.fill_normal(p.value_mut(rnn.w_hh()), 1.0 / (rnn.hidden_size() as f64).sqrt());
        }
        let head = self.decoder.head.inner.weight;
        let fan_in = p.mat(head).ncols() as f64;
        rng.fill_normal(p.value_mut(head), 1.0 / fan_in.sqrt());
    }

    /// Mean cross-entropy over the non-ignored targets: inputs (N, T_in), teacher-forced
    /// decoder inputs (N, T) and targets (N, T).
    pub fn forward(
        &mut self,
        inputs: ArrayView2<u32>,
        decoder_inputs: ArrayView2<u32>,
        targets: ArrayView2<u32>,
    ) -> F {
        let h = self.encoder.forward(&self.params, inputs);
        let scores = self.decoder.forward(&self.params, decoder_inputs, h);
        self.loss.forward(scores, targets)
    }

    /// Adds the gradient of the last `forward`'s loss into `params`' gradients.
    pub fn backward(&mut self) {
        let dscores = self.loss.backward(F::one());
        let dh = self.decoder.backward(&mut self.params, dscores);
        self.encoder.backward(&mut self.params, dh);
    }

    /// Greedy decoding of inputs (N, T_in): from `start`, each step feeds back its most likely
    /// symbol; a row ends at `end` (not included) or after `max_len` symbols.
    pub fn greedy(&mut self, inputs: ArrayView2<u32>, start: u32, end: u32, max_len: usize) -> Vec<Vec<u32>> {
        let n = inputs.nrows();
        let h = self.encoder.forward(&self.params, inputs).to_owned();
        let mut state = self.decoder.initial_state(h.view());
        let mut ids = Array2::from_elem((n, 1), start);
        let mut out = vec![Vec::new(); n];
        let mut done = vec![false; n];
        for _ in 0..max_len {
            let scores = self.decoder.run(&self.params, ids.view(), h.view(), state.view()); // (N, 1, V)
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
            state.assign(&self.decoder.rnn.final_state());
        }
        out
    }

    /// The tensors to save, sorted by name (see the module header).
    pub fn state_dict(&self) -> Vec<(String, ArrayD<F>)> {
        let mut out: Vec<(String, ArrayD<F>)> = self
            .params
            .ids()
            .map(|id| (self.params.name(id).to_string(), self.params.value(id).to_owned()))
            .collect();
        for (prefix, rnn) in self.rnns() {
            if !rnn.has_hidden_bias() {
                let len = self.params.value(rnn.b_ih()).len();
                out.push((format!("{prefix}.bias_hh_l0"), ArrayD::zeros(IxDyn(&[len]))));
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
            .filter(|(_, rnn)| !rnn.has_hidden_bias())
            .map(|(prefix, rnn)| (format!("{prefix}.bias_hh_l0"), self.params.name(rnn.b_ih()).to_string()))
            .collect();
        for (name, ih_name) in single_bias {
            fold_hidden_bias(&mut tensors, &ih_name, &name)?;
        }
        self.params.load(tensors)
    }

    fn rnns(&self) -> [(&'static str, &RecurrentLayer<F>); 2] {
        [("encoder.rnn", &self.encoder.rnn), ("decoder.rnn", &self.decoder.rnn)]
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
