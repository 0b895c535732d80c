//! [`Encoder`]: embedding -> L recurrent layers (one direction, or both: the book's 8.4.1) from
//! zero states; its outputs are each layer's final h, which the decoder starts from, and the top
//! layer's outputs at every step, which an attention decoder reads.
//!
//! Bidirectional: layer k is a forward and a reverse layer over the same input, its outputs
//! `[fwd | rev]` (N, T_in, 2H) (layer k + 1 reads 2H), its final h `[fwd final h | rev final h]`
//! (N, 2H): the forward direction after the last step, the reverse one after the first.

use super::{as3, Seq2seqConfig};
use crate::data::pairs::CharVocab;
use crate::layers::Dropout;
use crate::models::classifier::StackLayer;
use crate::params::Params;
use crate::tensor::{fit, Real, Rng};
use crate::time::{Bidirectional, RecurrentLayer, StateMode, TimeEmbedding};
use ndarray::{s, Array2, Array3, ArrayView2, ArrayView3, Axis, Ix2, Ix3};

/// Embedding -> L recurrent layers; its outputs are each layer's final h and the top layer's hs.
#[derive(Clone, Debug)]
pub struct Encoder<F: Real> {
    /// Symbol ids (N, T_in) -> vectors (N, T_in, D).
    pub embed: TimeEmbedding<F>,
    /// Layer 0 reads the embedding, layer k layer k-1's outputs.
    pub rnns: Vec<StackLayer<F>>,
    /// `dropouts[k]` on the input of layer k (the embedding for k = 0).
    dropouts: Vec<Dropout<F>>,
    dropped: bool,          // whether the last forward applied dropout
    mask_padding: bool,     // skip each row's trailing padding, or read it (the book's)
    lengths: Vec<usize>,    // each row's real steps, or T_in for every row
    h: Array3<F>,           // (L, N, E) each layer's final h, E = H or 2H
    hs: Array3<F>,          // (N, T_in, E) the top layer's outputs
    dhs: Array3<F>,         // (N, T_in, E) zeros, when nothing reads the top layer's outputs
    dfinal: [Array2<F>; 2], // (N, S*H) [dh_k | 0] of each direction
}

impl<F: Real> Encoder<F> {
    pub(super) fn new(params: &mut Params<F>, config: &Seq2seqConfig) -> Self {
        let (v, d, h) = (config.vocab_size, config.embed_size, config.hidden_size);
        let embed = TimeEmbedding::new(params, "encoder.embedding", v, d);
        let width = config.encoder_width();
        let rnns = (0..config.num_layers)
            .map(|k| {
                let input = if k == 0 { d } else { width };
                let (cell, mode, prefix) = (config.cell, StateMode::Stateless, "encoder.rnn");
                if config.bidirectional {
                    StackLayer::Bi(Bidirectional::new(cell, params, prefix, k, input, h, mode))
                } else {
                    StackLayer::Uni(RecurrentLayer::new(cell, params, prefix, k, input, h, mode))
                }
            })
            .collect();
        Encoder {
            embed,
            rnns,
            dropouts: (0..config.num_layers).map(|_| Dropout::new(config.dropout)).collect(),
            dropped: false,
            mask_padding: config.mask_padding,
            lengths: Vec::new(),
            h: Array3::zeros((0, 0, 0)),
            hs: Array3::zeros((0, 0, 0)),
            dhs: Array3::zeros((0, 0, 0)),
            dfinal: [Array2::zeros((0, 0)), Array2::zeros((0, 0))],
        }
    }

    /// ids (N, T_in) -> (each layer's final h (L, N, E), the top layer's outputs (N, T_in, E)),
    /// starting from zero states. Dropout applies when `rng` is given.
    pub fn forward(
        &mut self,
        params: &Params<F>,
        ids: ArrayView2<u32>,
        mut rng: Option<&mut Rng>,
    ) -> (ArrayView3<'_, F>, ArrayView3<'_, F>) {
        self.dropped = rng.is_some();
        self.lengths.clear();
        if self.mask_padding {
            // The padding is trailing (the layout's `mask_padding`): a row's length is its count
            // of other ids.
            self.lengths.extend(
                ids.rows().into_iter().map(|row| row.iter().filter(|&&id| id != CharVocab::PAD).count()),
            );
        } else {
            self.lengths.resize(ids.nrows(), ids.ncols());
        }
        let mut xs = self.embed.forward(params, ids);
        for (rnn, dropout) in self.rnns.iter_mut().zip(&mut self.dropouts) {
            if let Some(rng) = rng.as_deref_mut() {
                xs = as3(dropout.forward(xs.into_dyn(), rng));
            }
            xs = rnn.forward(params, xs, &self.lengths);
        }
        fit(&mut self.hs, xs.raw_dim());
        self.hs.assign(&xs);
        let (n, width) = (ids.nrows(), self.rnns[0].output_size());
        fit(&mut self.h, Ix3(self.rnns.len(), n, width));
        for (k, rnn) in self.rnns.iter().enumerate() {
            rnn.final_h(self.h.index_axis_mut(Axis(0), k));
        }
        (self.h.view(), self.hs.view())
    }

    /// dh (L, N, E): the gradient of each layer's final h; `dhs` (N, T_in, E): of the top
    /// layer's outputs (None: zero). Adds into the encoder's parameter gradients.
    pub fn backward(&mut self, params: &mut Params<F>, dh: ArrayView3<F>, dhs: Option<ArrayView3<F>>) {
        let (layers, n, width) = self.h.dim();
        assert_eq!(dh.dim(), (layers, n, width), "Encoder: dh {:?}, h is ({layers}, {n}, {width})", dh.dim());
        let mut dxs = match dhs {
            Some(dhs) => dhs,
            None => {
                fit(&mut self.dhs, self.hs.raw_dim());
                self.dhs.fill(F::zero());
                self.dhs.view()
            }
        };
        let dropped = self.dropped;
        let dfinal = &mut self.dfinal;
        for (k, (rnn, dropout)) in self.rnns.iter_mut().zip(&mut self.dropouts).enumerate().rev() {
            let dh = dh.index_axis(Axis(0), k);
            dxs = match rnn {
                StackLayer::Uni(rnn) => {
                    set_final_grad(&mut dfinal[0], rnn, dh);
                    rnn.backward_from_final(params, dxs, dfinal[0].view())
                }
                StackLayer::Bi(bi) => {
                    let h = bi.hidden_size();
                    let [fwd, rev] = dfinal;
                    set_final_grad(fwd, &bi.fwd, dh.slice(s![.., ..h]));
                    set_final_grad(rev, &bi.rev, dh.slice(s![.., h..]));
                    bi.backward_from_final(params, dxs, fwd.view(), rev.view())
                }
            };
            if dropped {
                dxs = as3(dropout.backward(dxs.into_dyn()));
            }
        }
        self.embed.backward(params, dxs);
    }
}

/// `out` (N, S*H) = `[dh | 0]`: the gradient of a layer's final state from that of its h.
fn set_final_grad<F: Real>(out: &mut Array2<F>, rnn: &RecurrentLayer<F>, dh: ArrayView2<F>) {
    fit(out, Ix2(dh.nrows(), rnn.state_size()));
    out.fill(F::zero());
    out.slice_mut(s![.., ..dh.ncols()]).assign(&dh);
}
