//! Greedy decoding: the start symbol, then each step's most likely symbol fed back, one step at a
//! time (every layer's state carried), until every row has produced the end symbol or `max_len`
//! symbols. Never applies dropout. An attention decoder also gives, for each output symbol, its
//! attention weights over the encoder's steps (what the book's figure 8-26 draws).

use super::decoder::Source;
use super::{argmax, fill_mask, Seq2seq};
use crate::tensor::Real;
use ndarray::{Array1, Array2, ArrayView2, Axis};

impl<F: Real> Seq2seq<F> {
    /// Greedy decoding of inputs (N, T_in): from `start`, each step feeds back its most likely
    /// symbol; a row ends at `end` (not included) or after `max_len` symbols.
    pub fn greedy(&mut self, inputs: ArrayView2<u32>, start: u32, end: u32, max_len: usize) -> Vec<Vec<u32>> {
        self.decode(inputs, start, end, max_len).into_iter().map(|(ids, _)| ids).collect()
    }

    /// [`Seq2seq::greedy`] with each row's attention weights (steps, T_in): row i holds the
    /// weights that produced output symbol i, and a last row those that produced `end` when the
    /// row ended (steps = outputs + 1; outputs when `max_len` cut it), over the input steps in
    /// the order the encoder read them (reversed when the layout reverses inputs). Without
    /// attention the arrays have no rows.
    pub fn greedy_with_attention(
        &mut self,
        inputs: ArrayView2<u32>,
        start: u32,
        end: u32,
        max_len: usize,
    ) -> Vec<(Vec<u32>, Array2<F>)> {
        self.decode(inputs, start, end, max_len)
    }

    fn decode(
        &mut self,
        inputs: ArrayView2<u32>,
        start: u32,
        end: u32,
        max_len: usize,
    ) -> Vec<(Vec<u32>, Array2<F>)> {
        let n = inputs.nrows();
        let (h, hs) = self.encoder.forward(&self.params, inputs, None);
        let (h, hs) = (h.to_owned(), hs.to_owned());
        fill_mask(&mut self.mask, inputs);
        let mut states = self.decoder.initial_states(h.view());
        let peek = h.index_axis(Axis(0), h.dim().0 - 1);
        let mut ids = Array2::from_elem((n, 1), start);
        let mut out = vec![Vec::new(); n];
        let mut weights: Vec<Vec<Array1<F>>> = vec![Vec::new(); n];
        let mut done = vec![false; n];
        for _ in 0..max_len {
            let source = self.config.attention.map(|_| Source { hs: hs.view(), mask: self.mask.view() });
            let scores = self.decoder.run(&self.params, ids.view(), peek, &states, source, None); // (N, 1, V)
            for (row, scores) in scores.index_axis(Axis(1), 0).rows().into_iter().enumerate() {
                ids[[row, 0]] = argmax(scores.iter().copied());
            }
            for row in 0..n {
                let best = ids[[row, 0]];
                if done[row] {
                    continue;
                }
                if let Some(attention) = &self.decoder.attention {
                    weights[row].push(attention.weights().slice(ndarray::s![row, 0, ..]).to_owned());
                }
                if best == end {
                    done[row] = true;
                } else {
                    out[row].push(best);
                }
            }
            if done.iter().all(|&d| d) {
                break;
            }
            for (state, rnn) in states.iter_mut().zip(&self.decoder.rnns) {
                state.assign(&rnn.final_state());
            }
        }
        let steps = inputs.ncols();
        out.into_iter()
            .zip(weights)
            .map(|(ids, rows)| {
                let mut a = Array2::zeros((rows.len(), steps));
                for (mut to, from) in a.rows_mut().into_iter().zip(&rows) {
                    to.assign(from);
                }
                (ids, a)
            })
            .collect()
    }
}
