//! [`Decoder`]: embedding -> L recurrent layers started from the encoder's states -> affine,
//! optionally peeky (the encoder's top h beside the embedding and beside the top output) or
//! with attention (the book's `AttentionDecoder`: the context over all the encoder's outputs
//! beside the top output, `[context | h]`, the book's order).

use super::{as3, Seq2seqConfig};
use crate::layers::Dropout;
use crate::params::Params;
use crate::tensor::{fit, Real, Rng};
use crate::time::{RecurrentLayer, StateMode, TimeAffine, TimeAttention, TimeEmbedding};
use ndarray::{s, Array2, Array3, ArrayView2, ArrayView3, Axis, Ix2, Ix3};

/// What an attention decoder reads: the encoder's top outputs (N, T_in, E) and which source
/// steps are real (N, T_in).
#[derive(Clone, Copy, Debug)]
pub struct Source<'a, F> {
    /// The encoder's top-layer outputs, (N, T_in, E), E = H or 2H.
    pub hs: ArrayView3<'a, F>,
    /// True at each row's real source steps, (N, T_in); padding is false.
    pub mask: ArrayView2<'a, bool>,
}

/// Embedding -> L recurrent layers (initial states from the encoder) -> \[attention\] -> Affine,
/// optionally peeky.
#[derive(Clone, Debug)]
pub struct Decoder<F: Real> {
    /// Symbol ids (N, T) -> vectors (N, T, D).
    pub embed: TimeEmbedding<F>,
    /// Layer 0 reads the embedding ([h | embedding] when peeky), layer k layer k-1's outputs.
    pub rnns: Vec<RecurrentLayer<F>>,
    /// Top output (N, T, H), or `[context | output]` (N, T, 2H), or peeky `[h | output]` -> scores
    /// (N, T, V).
    pub head: TimeAffine<F>,
    /// Peeky (the book's PeekyDecoder): the encoder's h is fed to every layer-0 step and to the
    /// head.
    pub peeky: bool,
    /// Reads the encoder's outputs; the affine then reads `[context | top output]`.
    pub attention: Option<TimeAttention<F>>,
    /// `dropouts[0]` on the embedding, `dropouts[k + 1]` on layer k's outputs.
    dropouts: Vec<Dropout<F>>,
    dropped: bool,
    x: Array3<F>,        // (N, T, H + D) peeky: [h | embedding]
    y: Array3<F>,        // (N, T, 2H) peeky: [h | output]
    attended: Array3<F>, // (N, T, 2H) attention: [context | output]
    dh: Array3<F>,       // (L, N, H) gradient of the encoder's h
    dtop: Array3<F>,     // (N, T, H) attention: the top output's gradient, head's and query's
    /// Each layer's initial state (N, S*H) of the last teacher-forced forward.
    states: Vec<Array2<F>>,
    dpeek: Array2<F>, // (N, H) peeky: a sum over t of the peeked columns' gradient
}

impl<F: Real> Decoder<F> {
    pub(super) fn new(params: &mut Params<F>, config: &Seq2seqConfig) -> Self {
        let (v, d, h) = (config.vocab_size, config.embed_size, config.encoder_width());
        let peek = if config.peeky { h } else { 0 };
        let context = if config.attention.is_some() { h } else { 0 };
        let rnns = (0..config.num_layers)
            .map(|k| {
                let input = if k == 0 { peek + d } else { h };
                RecurrentLayer::new(config.cell, params, "decoder.rnn", k, input, h, StateMode::Stateless)
            })
            .collect();
        Decoder {
            embed: TimeEmbedding::new(params, "decoder.embedding", v, d),
            rnns,
            head: TimeAffine::new(params, "decoder.head", peek + context + h, v),
            peeky: config.peeky,
            attention: config
                .attention
                .map(|kind| TimeAttention::new(params, "decoder.attention", kind, h, h)),
            dropouts: (0..=config.num_layers).map(|_| Dropout::new(config.dropout)).collect(),
            dropped: false,
            x: Array3::zeros((0, 0, 0)),
            y: Array3::zeros((0, 0, 0)),
            attended: Array3::zeros((0, 0, 0)),
            dh: Array3::zeros((0, 0, 0)),
            dtop: Array3::zeros((0, 0, 0)),
            states: (0..config.num_layers).map(|_| Array2::zeros((0, 0))).collect(),
            dpeek: Array2::zeros((0, 0)),
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

    /// Teacher forcing: ids (N, T) and the encoder's h (L, N, H) -> scores (N, T, V); an
    /// attention decoder needs the `source`. Dropout applies when `rng` is given.
    pub fn forward(
        &mut self,
        params: &Params<F>,
        ids: ArrayView2<u32>,
        h: ArrayView3<F>,
        source: Option<Source<F>>,
        rng: Option<&mut Rng>,
    ) -> ArrayView3<'_, F> {
        // `initial_states` into buffers kept from batch to batch.
        for ((state, rnn), h) in self.states.iter_mut().zip(&mut self.rnns).zip(h.outer_iter()) {
            fit(state, Ix2(h.nrows(), rnn.state_size()));
            state.fill(F::zero());
            state.slice_mut(s![.., ..h.ncols()]).assign(&h);
            rnn.set_state(state.view());
        }
        let top = h.index_axis(Axis(0), h.dim().0 - 1);
        self.run_from_set_states(params, ids, top, source, rng)
    }

    /// The decoder from given recurrent states (one (N, S*H) per layer); `peek` (N, H) is what
    /// a peeky decoder peeks (the encoder's top h).
    pub(super) fn run(
        &mut self,
        params: &Params<F>,
        ids: ArrayView2<u32>,
        peek: ArrayView2<F>,
        states: &[Array2<F>],
        source: Option<Source<F>>,
        rng: Option<&mut Rng>,
    ) -> ArrayView3<'_, F> {
        for (rnn, state) in self.rnns.iter_mut().zip(states) {
            rnn.set_state(state.view());
        }
        self.run_from_set_states(params, ids, peek, source, rng)
    }

    /// [`Decoder::run`] once the recurrent layers' initial states are set.
    fn run_from_set_states(
        &mut self,
        params: &Params<F>,
        ids: ArrayView2<u32>,
        peek: ArrayView2<F>,
        source: Option<Source<F>>,
        mut rng: Option<&mut Rng>,
    ) -> ArrayView3<'_, F> {
        self.dropped = rng.is_some();
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
        if let Some(attention) = self.attention.as_mut() {
            let source = source.expect("an attention decoder runs with the encoder's outputs");
            let context = attention.forward(params, source.hs, xs, Some(source.mask));
            let e = context.dim().2;
            fit(&mut self.attended, Ix3(n, t, e + xs.dim().2));
            self.attended.slice_mut(s![.., .., ..e]).assign(&context);
            self.attended.slice_mut(s![.., .., e..]).assign(&xs);
            xs = self.attended.view();
        }
        self.head.forward(params, xs)
    }

    /// dscores (N, T, V) -> (dh (L, N, H), the gradient of the encoder's h, and with attention
    /// that of its outputs (N, T_in, H)); adds into the decoder's parameter gradients.
    pub fn backward(
        &mut self,
        params: &mut Params<F>,
        dscores: ArrayView3<F>,
    ) -> (ArrayView3<'_, F>, Option<ArrayView3<'_, F>>) {
        let (n, _, _) = dscores.dim();
        let (layers, h) = (self.rnns.len(), self.rnns[0].hidden_size());
        fit(&mut self.dh, Ix3(layers, n, h));
        self.dh.fill(F::zero());
        let dy = self.head.backward(params, dscores); // (N, T, H) or (N, T, 2H)
        let mut dsource = None;
        let mut dhs = if let Some(attention) = self.attention.as_mut() {
            let (dcontext, dy_h) = (dy.slice(s![.., .., ..h]), dy.slice(s![.., .., h..]));
            let (dhs_source, dquery) = attention.backward(params, dcontext);
            fit(&mut self.dtop, dquery.raw_dim());
            self.dtop.assign(&dy_h);
            self.dtop += &dquery;
            dsource = Some(dhs_source);
            self.dtop.view()
        } else if self.peeky {
            add_peeked(&mut self.dh, &mut self.dpeek, dy.slice(s![.., .., ..h]));
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
            add_peeked(&mut self.dh, &mut self.dpeek, dhs.slice(s![.., .., ..h]));
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
        (self.dh.view(), dsource)
    }
}

/// `dh[L - 1] += ` the sum over t of `dpeeked` (N, T, H), the gradient of the peeked h at every
/// step: summed in `sum` (N, H) from zero in step order, then added, the arithmetic of
/// `sum_axis(Axis(1))` without its temporary.
fn add_peeked<F: Real>(dh: &mut Array3<F>, sum: &mut Array2<F>, dpeeked: ArrayView3<F>) {
    let (n, _, h) = dpeeked.dim();
    fit(sum, Ix2(n, h));
    sum.fill(F::zero());
    for step in dpeeked.axis_iter(Axis(1)) {
        *sum += &step;
    }
    let layers = dh.dim().0;
    dh.index_axis_mut(Axis(0), layers - 1).scaled_add(F::one(), sum);
}
