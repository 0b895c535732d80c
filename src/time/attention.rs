//! `TimeAttention`: attention for all T decoder steps at once (the book's `TimeAttention`):
//! [`AttentionWeight`] then [`WeightSum`], hs (N, S, E) and h (N, T, Q) -> contexts (N, T, E).
//!
//! Backward: dc (N, T, E) -> (dhs, dh); `dhs` sums the weighted sum's and the score's parts.

use crate::layers::attention::{AttentionWeight, ScoreKind, WeightSum};
use crate::params::{ParamId, Params};
use crate::tensor::{fit, Real};
use ndarray::{Array3, ArrayView2, ArrayView3};

/// Attention over all T decoder steps at once: encoder states hs (N, S, E) and decoder states h (N,
/// T, Q) -> contexts (N, T, E).
#[derive(Clone, Debug)]
pub struct TimeAttention<F: Real> {
    /// The score and softmax: weights a (N, T, S) over the real source steps.
    pub weight: AttentionWeight<F>,
    /// The weighted sum of the encoder states: contexts (N, T, E).
    pub sum: WeightSum<F>,
    dhs: Array3<F>, // (N, S, E)
}

impl<F: Real> TimeAttention<F> {
    /// The score's parameters under `{prefix}.*` (see [`crate::layers::attention::AttentionScore`]).
    pub fn new(
        params: &mut Params<F>,
        prefix: &str,
        kind: ScoreKind,
        enc_size: usize,
        dec_size: usize,
    ) -> Self {
        TimeAttention {
            weight: AttentionWeight::new(params, prefix, kind, enc_size, dec_size),
            sum: WeightSum::new(),
            dhs: Array3::zeros((0, 0, 0)),
        }
    }

    /// Which score function it uses.
    pub fn kind(&self) -> ScoreKind {
        self.weight.score.kind
    }

    /// The score's parameters (none for `dot`).
    pub fn param_ids(&self) -> Vec<ParamId> {
        self.weight.score.param_ids()
    }

    /// hs (N, S, E), h (N, T, Q), mask (N, S) (true at real steps; None: all real) -> c (N, T, E).
    pub fn forward(
        &mut self,
        params: &Params<F>,
        hs: ArrayView3<F>,
        h: ArrayView3<F>,
        mask: Option<ArrayView2<bool>>,
    ) -> ArrayView3<'_, F> {
        let a = self.weight.forward(params, hs, h, mask);
        self.sum.forward(hs, a)
    }

    /// The attention weights of the last forward (N, T, S).
    pub fn weights(&self) -> ArrayView3<'_, F> {
        self.weight.weights()
    }

    /// dc (N, T, E) -> (dhs (N, S, E), dh (N, T, Q)); adds into the score's parameter gradients.
    pub fn backward(
        &mut self,
        params: &mut Params<F>,
        dc: ArrayView3<F>,
    ) -> (ArrayView3<'_, F>, ArrayView3<'_, F>) {
        let (dhs_sum, da) = self.sum.backward(dc);
        fit(&mut self.dhs, dhs_sum.raw_dim());
        self.dhs.assign(&dhs_sum);
        let (dhs_score, dh) = self.weight.backward(params, da);
        self.dhs += &dhs_score;
        (self.dhs.view(), dh)
    }
}
