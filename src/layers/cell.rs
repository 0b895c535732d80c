//! The recurrent cell interface: what one time step computes, apart from the matrix products.
//!
//! The time loop ([`TimeRecurrent`](crate::time::TimeRecurrent)) is written once for every cell.
//! It computes the products itself: the input product `xw = x W_ih^T + b_ih` for all T steps at
//! once before the loop, the recurrent product `hw = h_prev W_hh^T (+ b_hh)` per step, and in
//! backward `dh_prev += dhw W_hh` per step and the weight gradients once per block. A cell only
//! does the element-wise gate math of one step, forward and back.
//!
//! Packed layouts, PyTorch's: the G gate blocks of width H are side by side in the G*H columns of
//! `xw` and `hw`, in PyTorch's gate order. The state is `[h | c]` (S = 2) for LSTM and `h` (S = 1)
//! otherwise; `h` is always the first H columns.

use crate::tensor::Real;
use ndarray::{ArrayView2, ArrayViewMut2};
use std::fmt::Debug;

/// Row `n` of `a` as a slice (see [`Cell::forward`]: rows are contiguous).
pub(crate) fn row<'a, F>(a: &'a ArrayView2<F>, n: usize) -> &'a [F] {
    a.row(n).to_slice().expect("a cell's rows are contiguous")
}

/// Row `n` of `a` as a mutable slice.
pub(crate) fn row_mut<'a, F>(a: &'a mut ArrayViewMut2<F>, n: usize) -> &'a mut [F] {
    a.row_mut(n).into_slice().expect("a cell's rows are contiguous")
}

/// The element-wise math of one step of a recurrent cell, forward and backward, given the
/// pre-activations `xw = x W_ih^T + b_ih` and `hw = h_prev W_hh^T (+ b_hh)`;
/// the products themselves are the time loop's. Implemented by [`RnnCell`](crate::layers::RnnCell),
/// [`LstmCell`](crate::layers::LstmCell) and [`GruCell`](crate::layers::GruCell).
pub trait Cell: Clone + Copy + Debug + Default + Send + Sync + 'static {
    /// `"rnn"`, `"lstm"` or `"gru"`: the name in configs and summaries.
    const KIND: &'static str;
    /// Gate blocks in the packed products: RNN 1, GRU 3, LSTM 4.
    const GATES: usize;
    /// State width in units of H: 1 (`h`) or 2 (`[h | c]`).
    const STATE: usize;
    /// Per-step values kept for backward beyond the states, in units of H.
    const CACHE: usize;
    /// Whether the recurrent product has its own bias `b_hh` that cannot be folded into `b_ih`
    /// (GRU: the reset gate multiplies `h W_hn^T + b_hn`). Otherwise one bias `b_ih` serves.
    const HIDDEN_BIAS: bool;

    /// One step forward. `xw`, `hw`: (N, G*H); `state_prev`: (N, S*H). Writes `state` (N, S*H)
    /// and `cache` (N, C*H). Every argument's rows are contiguous (the time loop's buffers are),
    /// so a cell may read them as slices, which its loops need to vectorise: indexing the views,
    /// they stayed scalar (a 20 x 650 step on one thread, forward and backward: GRU 65 us then,
    /// 24 now; LSTM 76 and 28, with the 16-lane sigmoid and tanh of `tensor::math`).
    fn forward<F: Real>(
        hidden: usize,
        xw: ArrayView2<F>,
        hw: ArrayView2<F>,
        state_prev: ArrayView2<F>,
        state: ArrayViewMut2<F>,
        cache: ArrayViewMut2<F>,
    );

    /// One step back. `dstate` (N, S*H) is the gradient of the loss with respect to this step's
    /// state (from the layer above and from the next step). Writes the gradients of the two
    /// pre-activations `dxw`, `dhw` (N, G*H) and `dstate_prev` (N, S*H), the part of the previous
    /// state's gradient that does not go through `W_hh` (the loop adds `dhw W_hh` to its h part).
    #[allow(clippy::too_many_arguments)]
    fn backward<F: Real>(
        hidden: usize,
        dstate: ArrayView2<F>,
        state_prev: ArrayView2<F>,
        state: ArrayView2<F>,
        cache: ArrayView2<F>,
        hw: ArrayView2<F>,
        dxw: ArrayViewMut2<F>,
        dhw: ArrayViewMut2<F>,
        dstate_prev: ArrayViewMut2<F>,
    );
}

/// The cell of a recurrent layer, chosen at run time (a config's `"cell"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// Elman RNN with tanh (PyTorch `RNN(nonlinearity="tanh")`, Keras `SimpleRNN`).
    Rnn,
    /// LSTM (PyTorch `LSTM`, gates i, f, g, o; state `[h | c]`).
    Lstm,
    /// GRU in PyTorch's formulation (gates r, z, n; reset gate after the recurrent product).
    Gru,
}

impl CellKind {
    /// The name in configs (`rnn`, `lstm`, `gru`).
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Rnn => crate::layers::RnnCell::KIND,
            CellKind::Lstm => crate::layers::LstmCell::KIND,
            CellKind::Gru => crate::layers::GruCell::KIND,
        }
    }
}

impl std::fmt::Display for CellKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
