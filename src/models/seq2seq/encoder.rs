//! [`Encoder`]: embedding -> L recurrent layers from zero states; its output is each layer's
//! final h, which the decoder starts from.

use super::{as3, Seq2seqConfig};
use crate::layers::Dropout;
use crate::params::Params;
use crate::tensor::{fit, Real, Rng};
use crate::time::{RecurrentLayer, StateMode, TimeEmbedding};
use ndarray::{s, Array2, Array3, ArrayView2, ArrayView3, Axis, Ix3};

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
    pub(super) fn new(params: &mut Params<F>, config: &Seq2seqConfig) -> Self {
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
