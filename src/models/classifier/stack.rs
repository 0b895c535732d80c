//! One layer of the classifier's stack: a recurrent layer over padded batches, one direction or
//! both (`[fwd | rev]`), with the final state's `h` the head reads.

use crate::params::{ParamId, Params};
use crate::tensor::Real;
use crate::time::{Bidirectional, RecurrentLayer};
use ndarray::{s, ArrayView3, ArrayViewMut2};

/// One layer of the stack: one direction, or both.
// A model holds a handful of these, built once: boxing the larger variant would only add an
// indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum StackLayer<F: Real> {
    /// One direction: hs (N, T, H).
    Uni(RecurrentLayer<F>),
    /// Both directions, outputs concatenated `[fwd | rev]`: hs (N, T, 2H).
    Bi(Bidirectional<F>),
}

impl<F: Real> StackLayer<F> {
    /// The recurrent layers inside (one, or forward then reverse).
    pub fn directions(&self) -> Vec<&RecurrentLayer<F>> {
        match self {
            StackLayer::Uni(l) => vec![l],
            StackLayer::Bi(b) => vec![&b.fwd, &b.rev],
        }
    }

    /// The ids of every parameter of the layer (both directions when bidirectional).
    pub fn param_ids(&self) -> Vec<ParamId> {
        match self {
            StackLayer::Uni(l) => l.param_ids(),
            StackLayer::Bi(b) => b.param_ids(),
        }
    }

    /// H or 2H.
    pub fn output_size(&self) -> usize {
        match self {
            StackLayer::Uni(l) => l.hidden_size(),
            StackLayer::Bi(b) => b.output_size(),
        }
    }

    /// xs (N, T, D) -> hs (N, T, H or 2H), row n `lengths[n]` steps long.
    pub fn forward(&mut self, params: &Params<F>, xs: ArrayView3<F>, lengths: &[usize]) -> ArrayView3<'_, F> {
        match self {
            StackLayer::Uni(l) => l.forward_with_lengths(params, xs, Some(lengths)),
            StackLayer::Bi(b) => b.forward_with_lengths(params, xs, Some(lengths)),
        }
    }

    /// dhs (N, T, H or 2H) -> dxs (N, T, D), adding the weight gradients into `params`.
    pub fn backward(&mut self, params: &mut Params<F>, dhs: ArrayView3<F>) -> ArrayView3<'_, F> {
        match self {
            StackLayer::Uni(l) => l.backward(params, dhs),
            StackLayer::Bi(b) => b.backward(params, dhs),
        }
    }

    /// `h` of the final state(s) into `out` (N, H or 2H): `[fwd | rev]` when bidirectional.
    pub fn final_h(&self, mut out: ArrayViewMut2<F>) {
        match self {
            StackLayer::Uni(l) => {
                let h = l.hidden_size();
                out.assign(&l.final_state().slice(s![.., ..h]));
            }
            StackLayer::Bi(b) => {
                let h = b.hidden_size();
                let (fwd, rev) = b.final_states();
                out.slice_mut(s![.., ..h]).assign(&fwd.slice(s![.., ..h]));
                out.slice_mut(s![.., h..]).assign(&rev.slice(s![.., ..h]));
            }
        }
    }
}
