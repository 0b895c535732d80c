//! `TimeRecurrent<C>`: a recurrent layer over whole (N, T, D) sequences, for any [`Cell`].
//! This is the one time loop of recur (the book's TimeRNN / TimeLSTM / TimeGRU, written once).
//!
//! Forward, for t = 0..T: `state_t = cell(x_t W_ih^T + b_ih, state_{t-1} W_hh^T (+ b_hh), state_{t-1})`.
//! The input product runs once for all N*T rows before the loop; only the (N, H) x (H, G*H)
//! recurrent product and the gate math run per step.
//!
//! Backward runs t = T-1 down to 0. The gradient reaching step t's state is the one from above
//! (`dhs[:, t]`) plus the one from step t+1; nothing enters from the next block (truncated
//! BPTT). Weight gradients are summed over the block with one product each after the loop. The
//! gradient with respect to the block's initial state is kept ([`TimeRecurrent::initial_state_grad`])
//! for encoder-decoders.
//!
//! State: [`StateMode::Stateful`] carries the final state of one call into the next (truncated
//! BPTT over a long stream); [`StateMode::Stateless`] starts every call from zeros. In both modes
//! [`TimeRecurrent::set_state`] sets the initial state of the next call.
//!
//! Lengths ([`TimeRecurrent::forward_with_lengths`]): sequence n of a padded batch has
//! `len[n] <= T` real steps. At a step `t >= len[n]` its state is carried unchanged
//! (`state_{t+1} = state_t`) and its output is zero, so the final state is the one after its
//! last real step; backward ignores `dhs[n, t]` there, passes the state gradient through
//! unchanged and gives zero pre-activation gradients, so padded steps add nothing to any weight
//! gradient and their input gradient is zero. Padded inputs are never read (they may hold
//! anything). Without lengths the loop does no per-row work at all.
//!
//! Direction: a [`Direction::Reverse`] layer reads each sequence from its last real step back
//! to its first: the input copy made before the loop is reversed within each row's length, the
//! same loop runs, and the outputs are put back in time order (`reverse.rs`). Its final state
//! is the one after reading `x[n, 0]`; its parameters carry PyTorch's `_reverse` suffix.
//!
//! Buffers (all sized once per (N, T)): `xw` (N*T, G*H) rows in (n, t) order, `states`
//! (T+1, N, S*H) with the initial state at index 0, `hw` and `dhw` (T, N, G*H), `cache`
//! (T, N, C*H), output `hs` (N, T, H). `xs`, `states`, `cache`, `hw`, `dxw` and `dhw` are in
//! reading order (reversed for a reverse layer); `hs` and `dxs` are in time order.
//!
//! Files: `mod.rs` the layer and its time loop, `cell_split.rs` a large step's cell on two
//! threads, `cell_step.rs` the one-step layer ([`CellStep`]).

mod cell_split;
mod cell_step;

pub use cell_step::CellStep;

use super::reverse::{reverse_in_place, reverse_into, zero_padding};
use crate::layers::Cell;
use crate::params::{ParamId, Params};
use crate::tensor::{fit, matmul, matmul_bias, matmul_row_sums, Accumulate, PackedRhs, Real};
use cell_split::{cell_backward, cell_forward};
use ndarray::{s, Array2, Array3, ArrayView2, ArrayView3, Axis, Ix2, Ix3};
use std::marker::PhantomData;

/// Whether a recurrent layer carries its final state into the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateMode {
    /// Keep the final state and start the next call from it (language models, truncated BPTT).
    Stateful,
    /// Start every call from zeros (or from a state given by `set_state` for that call).
    Stateless,
}

/// The order in which a recurrent layer reads each sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From x[n, 0] to x[n, len-1].
    Forward,
    /// From x[n, len-1] back to x[n, 0] (the second half of a bidirectional layer).
    Reverse,
}

/// Blocks of at least this many steps pack W_hh for their per-step products; a single step
/// (generation) would pay a whole pass over W_hh for one product.
const PACK_MIN_STEPS: usize = 2;

/// A recurrent layer over whole (N, T, D) sequences with cell `C`: the one time loop (see the
/// module header).
#[derive(Clone, Debug)]
pub struct TimeRecurrent<F: Real, C: Cell> {
    /// W_ih, (G*H, D): the input weights of the G gate blocks (PyTorch's `weight_ih_l{k}`).
    pub w_ih: ParamId, // (G*H, D)
    /// W_hh, (G*H, H): the recurrent weights (PyTorch's `weight_hh_l{k}`).
    pub w_hh: ParamId, // (G*H, H)
    /// b_ih, (G*H): the input bias; holds `b_ih + b_hh` when the cell has no separate recurrent
    /// bias.
    pub b_ih: ParamId, // (G*H)
    /// b_hh, (G*H): the recurrent bias, only for cells with `HIDDEN_BIAS` (GRU).
    pub b_hh: Option<ParamId>, // (G*H), only for cells with `HIDDEN_BIAS`
    input_size: usize,
    hidden_size: usize,
    mode: StateMode,
    direction: Direction,
    /// The last forward's sequence lengths, kept for its backward; empty unless `masked`.
    lengths: Vec<usize>,
    /// Whether some sequence of the last forward ended before T (only then is any row masked).
    masked: bool,
    /// The initial state of the next call: carried (stateful) or given by `set_state`.
    next_initial: Option<Array2<F>>, // (N, S*H)
    /// The buffer of a state given by `set_state` once its call has run (or it was reset), kept
    /// for the next `set_state` of the same shape.
    spare_initial: Array2<F>,
    xs: Array2<F>,     // (N*T, D) the last input
    xw: Array2<F>,     // (N*T, G*H)
    hw: Array3<F>,     // (T, N, G*H)
    states: Array3<F>, // (T+1, N, S*H)
    cache: Array3<F>,  // (T, N, C*H)
    hs: Array3<F>,     // (N, T, H)
    dxw: Array2<F>,    // (N*T, G*H)
    dhw: Array3<F>,    // (T, N, G*H)
    dstate: Array2<F>, // (N, S*H) gradient flowing back through time
    dstate_prev: Array2<F>,
    dxs: Array2<F>,     // (N*T, D)
    dhs_rev: Array3<F>, // (N, T, H) reverse layers: dhs in reading order
    /// W_hh^T (H, G*H) and W_hh (G*H, H) packed once per block for the per-step products.
    w_hh_t_packed: PackedRhs<F>,
    w_hh_packed: PackedRhs<F>,
    _cell: PhantomData<C>,
}

impl<F: Real, C: Cell> TimeRecurrent<F, C> {
    /// Adds the layer's parameters under PyTorch's names: `{prefix}.weight_ih_l{layer}` (G*H, D),
    /// `{prefix}.weight_hh_l{layer}` (G*H, H), `{prefix}.bias_ih_l{layer}` (G*H) and, for cells
    /// with a separate recurrent bias, `{prefix}.bias_hh_l{layer}`. All zero-filled: the model
    /// initialises them.
    pub fn new(
        params: &mut Params<F>,
        prefix: &str,
        layer: usize,
        input_size: usize,
        hidden_size: usize,
        mode: StateMode,
    ) -> Self {
        Self::with_direction(params, prefix, layer, input_size, hidden_size, mode, Direction::Forward)
    }

    /// A [`Direction::Reverse`] layer, its parameters named as PyTorch's reverse direction:
    /// `{prefix}.weight_ih_l{layer}_reverse` and so on.
    pub fn new_reverse(
        params: &mut Params<F>,
        prefix: &str,
        layer: usize,
        input_size: usize,
        hidden_size: usize,
        mode: StateMode,
    ) -> Self {
        Self::with_direction(params, prefix, layer, input_size, hidden_size, mode, Direction::Reverse)
    }

    fn with_direction(
        params: &mut Params<F>,
        prefix: &str,
        layer: usize,
        input_size: usize,
        hidden_size: usize,
        mode: StateMode,
        direction: Direction,
    ) -> Self {
        let gh = C::GATES * hidden_size;
        let sfx = match direction {
            Direction::Forward => "",
            Direction::Reverse => "_reverse",
        };
        let w_ih = params.add(&format!("{prefix}.weight_ih_l{layer}{sfx}"), &[gh, input_size]);
        let w_hh = params.add(&format!("{prefix}.weight_hh_l{layer}{sfx}"), &[gh, hidden_size]);
        let b_ih = params.add(&format!("{prefix}.bias_ih_l{layer}{sfx}"), &[gh]);
        let b_hh = C::HIDDEN_BIAS.then(|| params.add(&format!("{prefix}.bias_hh_l{layer}{sfx}"), &[gh]));
        let e2 = || Array2::zeros((0, 0));
        let e3 = || Array3::zeros((0, 0, 0));
        TimeRecurrent {
            w_ih,
            w_hh,
            b_ih,
            b_hh,
            input_size,
            hidden_size,
            mode,
            direction,
            lengths: Vec::new(),
            masked: false,
            next_initial: None,
            spare_initial: e2(),
            xs: e2(),
            xw: e2(),
            hw: e3(),
            states: e3(),
            cache: e3(),
            hs: e3(),
            dxw: e2(),
            dhw: e3(),
            dstate: e2(),
            dstate_prev: e2(),
            w_hh_t_packed: PackedRhs::new(),
            w_hh_packed: PackedRhs::new(),
            dxs: e2(),
            dhs_rev: e3(),
            _cell: PhantomData,
        }
    }

    /// D: the input width.
    pub fn input_size(&self) -> usize {
        self.input_size
    }

    /// H: the hidden width.
    pub fn hidden_size(&self) -> usize {
        self.hidden_size
    }

    /// Whether the final state is carried into the next call.
    pub fn mode(&self) -> StateMode {
        self.mode
    }

    /// Which way the layer reads each sequence.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The last forward's sequence lengths; `None` when every sequence filled its T steps.
    pub fn lengths(&self) -> Option<&[usize]> {
        self.masked.then_some(self.lengths.as_slice())
    }

    /// Sets the initial state of the next call, (N, S*H): `h`, or `[h | c]` for LSTM.
    pub fn set_state(&mut self, state: ArrayView2<F>) {
        assert_eq!(
            state.ncols(),
            C::STATE * self.hidden_size,
            "set_state: state has {} columns, the {} cell needs {}",
            state.ncols(),
            C::KIND,
            C::STATE * self.hidden_size
        );
        // Into the buffer of the state before it (a decoder given one every batch allocates
        // nothing once the batch's shape has been seen).
        let mut buf = match self.next_initial.take() {
            Some(buf) => buf,
            None => std::mem::replace(&mut self.spare_initial, Array2::zeros((0, 0))),
        };
        fit(&mut buf, state.raw_dim());
        buf.assign(&state);
        self.next_initial = Some(buf);
    }

    /// Forgets the carried state: the next call starts from zeros.
    pub fn reset_state(&mut self) {
        self.retire_initial();
    }

    /// No initial state for the next call; its buffer is kept for the next `set_state`.
    fn retire_initial(&mut self) {
        if let Some(buf) = self.next_initial.take() {
            self.spare_initial = buf;
        }
    }

    /// The state the next call starts from, if any (carried or set); `None` means zeros.
    pub fn carried_state(&self) -> Option<ArrayView2<'_, F>> {
        self.next_initial.as_ref().map(|s| s.view())
    }

    /// The state after the last step of the last call, (N, S*H): for each sequence, the state
    /// after its last real step (a reverse layer: after reading `x[n, 0]`).
    pub fn final_state(&self) -> ArrayView2<'_, F> {
        let t = self.states.len_of(Axis(0)) - 1;
        self.states.index_axis(Axis(0), t)
    }

    /// Gradient of the loss with respect to the last call's initial state, (N, S*H).
    pub fn initial_state_grad(&self) -> ArrayView2<'_, F> {
        self.dstate.view()
    }

    /// xs (N, T, D) -> hs (N, T, H), every sequence T steps long.
    pub fn forward(&mut self, params: &Params<F>, xs: ArrayView3<F>) -> ArrayView3<'_, F> {
        self.forward_with_lengths(params, xs, None)
    }

    /// xs (N, T, D) -> hs (N, T, H) for a padded batch: sequence n is `lengths[n]` steps long
    /// (0 to T), `None` meaning all T. Past its end its outputs are zero and its state stays the
    /// one after its last real step; the matching backward gives padded steps no gradient.
    /// Panics unless there are N lengths, each at most T.
    pub fn forward_with_lengths(
        &mut self,
        params: &Params<F>,
        xs: ArrayView3<F>,
        lengths: Option<&[usize]>,
    ) -> ArrayView3<'_, F> {
        let (n, t, d) = xs.dim();
        assert_eq!(d, self.input_size, "TimeRecurrent: input width {d}, layer expects {}", self.input_size);
        self.set_lengths(n, t, lengths);
        let (h, gh, sh) = (self.hidden_size, C::GATES * self.hidden_size, C::STATE * self.hidden_size);
        fit(&mut self.xs, Ix2(n * t, d));
        fit(&mut self.xw, Ix2(n * t, gh));
        fit(&mut self.hw, Ix3(t, n, gh));
        fit(&mut self.states, Ix3(t + 1, n, sh));
        fit(&mut self.cache, Ix3(t, n, C::CACHE * h));
        fit(&mut self.hs, Ix3(n, t, h));

        // The input in reading order. Padded steps read zeros, so nothing in the padding (not even
        // a NaN) reaches a product.
        let lengths = self.masked.then_some(self.lengths.as_slice());
        match self.direction {
            Direction::Forward => {
                self.xs.assign(&xs.to_shape((n * t, d)).expect("(N, T, D) reshapes to (N*T, D)"));
                if let Some(lengths) = lengths {
                    zero_padding(self.xs.view_mut().into_shape_with_order((n, t, d)).unwrap(), lengths);
                }
            }
            Direction::Reverse => {
                let xs_rev = self.xs.view_mut().into_shape_with_order((n, t, d)).expect("xs is contiguous");
                reverse_into(xs_rev, xs, lengths);
            }
        }

        // Input product for every step at once: xw = X W_ih^T + b_ih.
        matmul_bias(self.xw.view_mut(), self.xs.view(), params.mat(self.w_ih).t(), params.vec(self.b_ih));

        // Initial state: carried, given, or zeros.
        let mut initial = self.states.index_axis_mut(Axis(0), 0);
        match self.next_initial.as_ref() {
            Some(state) => {
                assert_eq!(
                    state.dim(),
                    (n, sh),
                    "TimeRecurrent: the carried state is {:?} but the batch has {n} rows; call reset_state() when the batch size changes",
                    state.dim()
                );
                initial.assign(state);
            }
            None => initial.fill(F::zero()),
        }

        let w_hh = params.mat(self.w_hh);
        let b_hh = self.b_hh.map(|id| params.vec(id));
        // The recurrent weight is packed once for the block's T products (not for one step).
        let packed = t >= PACK_MIN_STEPS;
        if packed {
            self.w_hh_t_packed.pack(w_hh.t());
        }
        for step in 0..t {
            let (prev, mut next) = self.states.multi_slice_mut((s![step, .., ..], s![step + 1, .., ..]));
            let mut hw = self.hw.index_axis_mut(Axis(0), step);
            let mode = match b_hh {
                Some(b) => {
                    hw.assign(&b.broadcast((n, gh)).unwrap());
                    Accumulate::Add
                }
                None => Accumulate::Overwrite,
            };
            let h_prev = prev.slice(s![.., ..h]);
            if packed {
                self.w_hh_t_packed.matmul(hw.view_mut(), h_prev, mode);
            } else {
                matmul(hw.view_mut(), h_prev, w_hh.t(), mode);
            }
            let xw_t = self.xw.slice(s![step..;t, ..]); // rows n*T + step
            cell_forward::<C, F>(
                h,
                xw_t,
                hw.view(),
                prev.view(),
                next.view_mut(),
                self.cache.index_axis_mut(Axis(0), step),
            );
            self.hs.index_axis_mut(Axis(1), step).assign(&next.slice(s![.., ..h]));
            if let Some(lengths) = lengths {
                // Sequences that have ended keep their state and output zeros.
                for (row, _) in lengths.iter().enumerate().filter(|&(_, &len)| len <= step) {
                    next.row_mut(row).assign(&prev.row(row));
                    self.hs.slice_mut(s![row, step, ..]).fill(F::zero());
                }
            }
        }
        if self.direction == Direction::Reverse {
            reverse_in_place(self.hs.view_mut(), lengths);
        }
        // The next call's initial state: this call's last (stateful), reusing the buffer, or
        // zeros (a state given by `set_state` is for one call only).
        let last = self.states.index_axis(Axis(0), t);
        match (&mut self.next_initial, self.mode) {
            (Some(carry), StateMode::Stateful) if carry.dim() == last.dim() => carry.assign(&last),
            (slot, StateMode::Stateful) => *slot = Some(last.to_owned()),
            _ => self.retire_initial(),
        }
        self.hs.view()
    }

    /// Checks and keeps the lengths of the batch about to run (N sequences of at most T steps).
    fn set_lengths(&mut self, n: usize, t: usize, lengths: Option<&[usize]>) {
        self.lengths.clear();
        self.masked = false;
        if let Some(lengths) = lengths {
            assert_eq!(
                lengths.len(),
                n,
                "TimeRecurrent: {} lengths for a batch of {n} sequences",
                lengths.len()
            );
            if let Some((row, len)) = lengths.iter().enumerate().find(|&(_, &len)| len > t) {
                panic!("TimeRecurrent: sequence {row} has length {len}, more than the batch's {t} steps");
            }
            self.masked = lengths.iter().any(|&len| len < t);
            self.lengths.extend_from_slice(lengths);
        }
    }

    /// dhs (N, T, H) -> dxs (N, T, D); adds into the weight and bias gradients. The final state
    /// is taken to feed nothing but the outputs (truncated BPTT: the next block sends nothing back).
    /// With lengths, `dhs` at padded steps is ignored and `dxs` there is zero.
    pub fn backward(&mut self, params: &mut Params<F>, dhs: ArrayView3<F>) -> ArrayView3<'_, F> {
        self.backward_impl(params, dhs, None)
    }

    /// Like [`TimeRecurrent::backward`], when the final state (N, S*H) also feeds something else
    /// (an encoder's state handed to a decoder, a classifier head): `dfinal` is its gradient.
    pub fn backward_from_final(
        &mut self,
        params: &mut Params<F>,
        dhs: ArrayView3<F>,
        dfinal: ArrayView2<F>,
    ) -> ArrayView3<'_, F> {
        self.backward_impl(params, dhs, Some(dfinal))
    }

    fn backward_impl(
        &mut self,
        params: &mut Params<F>,
        dhs: ArrayView3<F>,
        dfinal: Option<ArrayView2<F>>,
    ) -> ArrayView3<'_, F> {
        assert_eq!(
            dhs.dim(),
            self.hs.dim(),
            "TimeRecurrent: dhs {:?} but output {:?}",
            dhs.dim(),
            self.hs.dim()
        );
        let (n, t, h) = dhs.dim();
        let (d, gh, sh) = (self.input_size, C::GATES * h, C::STATE * h);
        fit(&mut self.dxw, Ix2(n * t, gh));
        fit(&mut self.dhw, Ix3(t, n, gh));
        fit(&mut self.dstate, Ix2(n, sh));
        fit(&mut self.dstate_prev, Ix2(n, sh));
        fit(&mut self.dxs, Ix2(n * t, d));
        let lengths = self.masked.then_some(self.lengths.as_slice());
        let dhs = match self.direction {
            Direction::Forward => dhs,
            Direction::Reverse => {
                fit(&mut self.dhs_rev, Ix3(n, t, h));
                reverse_into(self.dhs_rev.view_mut(), dhs, lengths);
                self.dhs_rev.view()
            }
        };

        match dfinal {
            Some(dfinal) => {
                assert_eq!(
                    dfinal.dim(),
                    (n, sh),
                    "TimeRecurrent: dfinal {:?}, state is ({n}, {sh})",
                    dfinal.dim()
                );
                self.dstate.assign(&dfinal);
            }
            // Nothing flows in from the next block: truncated BPTT cuts here.
            None => self.dstate.fill(F::zero()),
        }
        {
            let w_hh = params.mat(self.w_hh);
            let packed = t >= PACK_MIN_STEPS;
            if packed {
                self.w_hh_packed.pack(w_hh);
            }
            for step in (0..t).rev() {
                let dhs_t = dhs.index_axis(Axis(1), step);
                match lengths {
                    None => self.dstate.slice_mut(s![.., ..h]).scaled_add(F::one(), &dhs_t),
                    // A sequence that has ended by this step takes nothing from above.
                    Some(lengths) => {
                        for (row, _) in lengths.iter().enumerate().filter(|&(_, &len)| step < len) {
                            self.dstate.slice_mut(s![row, ..h]).scaled_add(F::one(), &dhs_t.row(row));
                        }
                    }
                }
                let mut dhw = self.dhw.index_axis_mut(Axis(0), step);
                cell_backward::<C, F>(
                    h,
                    self.dstate.view(),
                    self.states.index_axis(Axis(0), step),
                    self.states.index_axis(Axis(0), step + 1),
                    self.cache.index_axis(Axis(0), step),
                    self.hw.index_axis(Axis(0), step),
                    self.dxw.slice_mut(s![step..;t, ..]),
                    dhw.view_mut(),
                    self.dstate_prev.view_mut(),
                );
                if let Some(lengths) = lengths {
                    // Past its end a sequence's state was copied: its gradient passes through
                    // unchanged and nothing reaches the products.
                    for (row, _) in lengths.iter().enumerate().filter(|&(_, &len)| len <= step) {
                        self.dxw.row_mut(row * t + step).fill(F::zero());
                        dhw.row_mut(row).fill(F::zero());
                        self.dstate_prev.row_mut(row).assign(&self.dstate.row(row));
                    }
                }
                let dh_prev = self.dstate_prev.slice_mut(s![.., ..h]);
                if packed {
                    self.w_hh_packed.matmul(dh_prev, dhw.view(), Accumulate::Add);
                } else {
                    matmul(dh_prev, dhw.view(), w_hh, Accumulate::Add);
                }
                std::mem::swap(&mut self.dstate, &mut self.dstate_prev);
            }
        }

        // Weight gradients for the whole block, one product each.
        let h_prev = self.states.slice(s![..t, .., ..h]); // (T, N, H): each step's previous h
        let h_prev = h_prev.to_shape((t * n, h)).expect("states are contiguous in (T, N)");
        let dhw = self.dhw.view().into_shape_with_order((t * n, gh)).expect("dhw is contiguous");
        // Each bias gradient is summed while its product packs dG^T (one read of it, not two).
        match self.b_hh {
            Some(b_hh) => {
                let (dw, db) = params.weight_and_bias_grads_mut(self.w_hh, b_hh);
                matmul_row_sums(dw, dhw.t(), h_prev.view(), Accumulate::Add, db);
            }
            None => matmul(params.grad_mat_mut(self.w_hh), dhw.t(), h_prev.view(), Accumulate::Add),
        }
        let (dw, db) = params.weight_and_bias_grads_mut(self.w_ih, self.b_ih);
        matmul_row_sums(dw, self.dxw.t(), self.xs.view(), Accumulate::Add, db);
        matmul(self.dxs.view_mut(), self.dxw.view(), params.mat(self.w_ih), Accumulate::Overwrite);
        if self.direction == Direction::Reverse {
            let dxs = self.dxs.view_mut().into_shape_with_order((n, t, d)).expect("dxs is contiguous");
            reverse_in_place(dxs, lengths);
        }
        self.dxs.view().into_shape_with_order((n, t, d)).expect("dxs is contiguous")
    }
}
