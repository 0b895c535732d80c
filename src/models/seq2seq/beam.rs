//! Beam-search decoding ([`crate::models::beam`]): for each input, the K most likely outputs
//! kept at every step, one decoder row per hypothesis (the input's encoding repeated K times).
//! K = 1 is [`Seq2seq::greedy`].

use super::decoder::Source;
use super::{fill_mask, Seq2seq};
use crate::models::beam::{beam_search, log_softmax, Beam, Hypothesis, Stepper};
use crate::tensor::Real;
use ndarray::{Array2, Array3, ArrayView2, Axis};

impl<F: Real> Seq2seq<F> {
    /// For each row of `inputs` (N, T_in), the best output of a beam search of `width`
    /// hypotheses from `start`, ending at `end` (not included) or after `max_len` symbols;
    /// `length_norm` ranks finished outputs by their mean log-probability per symbol.
    pub fn beam(
        &mut self,
        inputs: ArrayView2<u32>,
        start: u32,
        end: u32,
        max_len: usize,
        width: usize,
        length_norm: bool,
    ) -> Vec<Hypothesis> {
        let beam = Beam { width, max_len, end: Some(end), skip: Vec::new(), length_norm };
        inputs
            .rows()
            .into_iter()
            .map(|row| {
                let input = row.insert_axis(Axis(0)).to_owned();
                let (h, hs) = self.encoder.forward(&self.params, input.view(), None);
                let (h, hs) = (h.to_owned(), hs.to_owned());
                let states = self.decoder.initial_states(h.view());
                let mut stepper = Seq2seqStepper {
                    model: &mut *self,
                    input,
                    h,
                    hs,
                    states,
                    rows: (0, Array3::zeros((0, 0, 0)), Array2::zeros((0, 0))),
                };
                beam_search(&mut stepper, start, &beam)
            })
            .collect()
    }
}

/// One input's decoder, a row per hypothesis.
struct Seq2seqStepper<'a, F: Real> {
    model: &'a mut Seq2seq<F>,
    /// The input (1, T_in), its encoder's final h (L, 1, E) and outputs (1, T_in, E).
    input: Array2<u32>,
    h: Array3<F>,
    hs: Array3<F>,
    /// Each decoder layer's state, a row per hypothesis.
    states: Vec<Array2<F>>,
    /// The encoding repeated for K rows (K, the outputs (K, T_in, E), the peeked h (K, E)):
    /// remade only when the number of hypotheses changes, not every step.
    rows: (usize, Array3<F>, Array2<F>),
}

impl<F: Real> Stepper for Seq2seqStepper<'_, F> {
    fn step(&mut self, last: &[u32]) -> Vec<Vec<f64>> {
        let k = last.len();
        if self.rows.0 != k {
            let inputs = self.input.broadcast((k, self.input.ncols())).expect("one row").to_owned();
            fill_mask(&mut self.model.mask, inputs.view());
            let (t, e) = (self.hs.dim().1, self.hs.dim().2);
            let hs = self.hs.broadcast((k, t, e)).expect("one row").to_owned();
            let top = self.h.index_axis(Axis(0), self.h.dim().0 - 1);
            self.rows = (k, hs, top.broadcast((k, top.ncols())).expect("one row").to_owned());
        }
        let (_, hs, peek) = &self.rows;
        let ids = Array2::from_shape_vec((k, 1), last.to_vec()).expect("K x 1");
        let model = &mut *self.model;
        let source = model.config.attention.map(|_| Source { hs: hs.view(), mask: model.mask.view() });
        let scores = model.decoder.run(&model.params, ids.view(), peek.view(), &self.states, source, None);
        let log_probs = scores
            .index_axis(Axis(1), 0)
            .rows()
            .into_iter()
            .map(|r| log_softmax(r.iter().map(|&x| Real::to_f64(x))))
            .collect();
        for (state, rnn) in self.states.iter_mut().zip(&model.decoder.rnns) {
            *state = rnn.final_state().to_owned();
        }
        log_probs
    }

    fn keep(&mut self, rows: &[usize]) {
        for state in &mut self.states {
            *state = state.select(Axis(0), rows);
        }
    }
}
