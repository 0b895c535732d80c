//! `Bidirectional`: a forward and a reverse recurrent layer over the same input, their outputs
//! side by side (PyTorch's `bidirectional=True`, Keras' `Bidirectional(merge_mode="concat")`).
//!
//! ```text
//! hs[n, t] = [ h_fwd[n, t] | h_rev[n, t] ]      (N, T, 2H), the forward direction first
//! ```
//! `h_fwd[n, t]` has read `x[n, 0..=t]`, `h_rev[n, t]` has read `x[n, t..len[n]]`. With lengths
//! (see [`TimeRecurrent::forward_with_lengths`](super::TimeRecurrent::forward_with_lengths)) the
//! forward layer stops and the reverse layer starts at each sequence's last real step, and both
//! output zeros past it. Backward sends `dhs[.., .., ..H]` to the forward layer and
//! `dhs[.., .., H..]` to the reverse one and adds their input gradients.
//!
//! Parameters under PyTorch's names: `{prefix}.weight_ih_l{k}`, `{prefix}.weight_hh_l{k}`,
//! `{prefix}.bias_ih_l{k}` (and `bias_hh_l{k}` for GRU), then the same with `_reverse`. A stack's
//! layer k > 0 reads the 2H-wide output of layer k - 1 (`input_size` = 2H).

use super::{RecurrentLayer, StateMode};
use crate::layers::CellKind;
use crate::params::{ParamId, Params};
use crate::tensor::{fit, Real};
use ndarray::{s, Array3, ArrayView2, ArrayView3, Ix3};

/// A forward and a reverse recurrent layer over the same (N, T, D) input, outputs side by side
/// `[fwd | rev]`, (N, T, 2H).
#[derive(Clone, Debug)]
pub struct Bidirectional<F: Real> {
    /// Reads each sequence from its first step.
    pub fwd: RecurrentLayer<F>,
    /// Reads each sequence from its last real step ([`Direction::Reverse`](super::Direction)).
    pub rev: RecurrentLayer<F>,
    hs: Array3<F>,  // (N, T, 2H)
    dxs: Array3<F>, // (N, T, D)
}

impl<F: Real> Bidirectional<F> {
    /// Adds both directions' parameters (zero-filled; the model initialises them). `mode`
    /// applies to both: a stateful reverse layer carries the state it reached at `x[n, 0]`.
    pub fn new(
        cell: CellKind,
        params: &mut Params<F>,
        prefix: &str,
        layer: usize,
        input_size: usize,
        hidden_size: usize,
        mode: StateMode,
    ) -> Self {
        let fwd = RecurrentLayer::new(cell, params, prefix, layer, input_size, hidden_size, mode);
        let rev = RecurrentLayer::new_reverse(cell, params, prefix, layer, input_size, hidden_size, mode);
        Bidirectional { fwd, rev, hs: Array3::zeros((0, 0, 0)), dxs: Array3::zeros((0, 0, 0)) }
    }

    /// The cell of both directions.
    pub fn cell(&self) -> CellKind {
        self.fwd.cell()
    }

    /// D: the input width both directions read.
    pub fn input_size(&self) -> usize {
        self.fwd.input_size()
    }

    /// H of each direction.
    pub fn hidden_size(&self) -> usize {
        self.fwd.hidden_size()
    }

    /// Output width: 2H.
    pub fn output_size(&self) -> usize {
        2 * self.fwd.hidden_size()
    }

    /// The forward direction's parameters, then the reverse direction's (PyTorch's order).
    pub fn param_ids(&self) -> Vec<ParamId> {
        let mut ids = self.fwd.param_ids();
        ids.extend(self.rev.param_ids());
        ids
    }

    /// Sets the initial states of the next call, each (N, S*H).
    pub fn set_state(&mut self, forward: ArrayView2<F>, reverse: ArrayView2<F>) {
        self.fwd.set_state(forward);
        self.rev.set_state(reverse);
    }

    /// Forgets both carried states: the next call starts from zeros.
    pub fn reset_state(&mut self) {
        self.fwd.reset_state();
        self.rev.reset_state();
    }

    /// (forward, reverse) final states, each (N, S*H): the forward one after each sequence's
    /// last real step, the reverse one after reading `x[n, 0]`.
    pub fn final_states(&self) -> (ArrayView2<'_, F>, ArrayView2<'_, F>) {
        (self.fwd.final_state(), self.rev.final_state())
    }

    /// (forward, reverse) gradients with respect to the last call's initial states.
    pub fn initial_state_grads(&self) -> (ArrayView2<'_, F>, ArrayView2<'_, F>) {
        (self.fwd.initial_state_grad(), self.rev.initial_state_grad())
    }

    /// xs (N, T, D) -> hs (N, T, 2H), every sequence T steps long.
    pub fn forward(&mut self, params: &Params<F>, xs: ArrayView3<F>) -> ArrayView3<'_, F> {
        self.forward_with_lengths(params, xs, None)
    }

    /// xs (N, T, D) -> hs (N, T, 2H) for a padded batch (sequence n is `lengths[n]` steps long).
    pub fn forward_with_lengths(
        &mut self,
        params: &Params<F>,
        xs: ArrayView3<F>,
        lengths: Option<&[usize]>,
    ) -> ArrayView3<'_, F> {
        let (n, t, _) = xs.dim();
        let h = self.hidden_size();
        fit(&mut self.hs, Ix3(n, t, 2 * h));
        let out = self.fwd.forward_with_lengths(params, xs, lengths);
        self.hs.slice_mut(s![.., .., ..h]).assign(&out);
        let out = self.rev.forward_with_lengths(params, xs, lengths);
        self.hs.slice_mut(s![.., .., h..]).assign(&out);
        self.hs.view()
    }

    /// dhs (N, T, 2H) -> dxs (N, T, D); adds into both directions' parameter gradients.
    pub fn backward(&mut self, params: &mut Params<F>, dhs: ArrayView3<F>) -> ArrayView3<'_, F> {
        self.backward_impl(params, dhs, None)
    }

    /// Like [`Bidirectional::backward`], with the gradients of both final states (N, S*H).
    pub fn backward_from_final(
        &mut self,
        params: &mut Params<F>,
        dhs: ArrayView3<F>,
        dfinal_forward: ArrayView2<F>,
        dfinal_reverse: ArrayView2<F>,
    ) -> ArrayView3<'_, F> {
        self.backward_impl(params, dhs, Some((dfinal_forward, dfinal_reverse)))
    }

    fn backward_impl(
        &mut self,
        params: &mut Params<F>,
        dhs: ArrayView3<F>,
        dfinal: Option<(ArrayView2<F>, ArrayView2<F>)>,
    ) -> ArrayView3<'_, F> {
        assert_eq!(
            dhs.dim(),
            self.hs.dim(),
            "Bidirectional: dhs {:?} but output {:?}",
            dhs.dim(),
            self.hs.dim()
        );
        let h = self.hidden_size();
        let (dh_fwd, dh_rev) = (dhs.slice(s![.., .., ..h]), dhs.slice(s![.., .., h..]));
        let dxs = match dfinal {
            Some((dfinal, _)) => self.fwd.backward_from_final(params, dh_fwd, dfinal),
            None => self.fwd.backward(params, dh_fwd),
        };
        fit(&mut self.dxs, dxs.raw_dim());
        self.dxs.assign(&dxs);
        let dxs = match dfinal {
            Some((_, dfinal)) => self.rev.backward_from_final(params, dh_rev, dfinal),
            None => self.rev.backward(params, dh_rev),
        };
        self.dxs += &dxs;
        self.dxs.view()
    }
}
