//! `RecurrentLayer`: a [`TimeRecurrent`] whose cell is chosen at run time (from a config), so
//! models are written once for every cell. Each method forwards to the one time loop; the enum
//! only picks the monomorphised copy, once per call, never per step.

use super::{Direction, StateMode, TimeRecurrent};
use crate::layers::{CellKind, GruCell, LstmCell, RnnCell};
use crate::params::{ParamId, Params};
use crate::tensor::Real;
use ndarray::{ArrayView2, ArrayView3};

/// A [`TimeRecurrent`] whose cell is chosen at run time: every method forwards to the one time
/// loop.
///
/// ```rust
/// use ndarray::{s, Array3};
/// use recur::layers::CellKind;
/// use recur::params::Params;
/// use recur::tensor::Rng;
/// use recur::time::{RecurrentLayer, StateMode};
///
/// let (n, t, d, h) = (2, 5, 3, 4);
/// let mut params = Params::<f64>::new();
/// let mut lstm = RecurrentLayer::new(CellKind::Lstm, &mut params, "rnn", 0, d, h, StateMode::Stateless);
/// assert_eq!(params.name(lstm.w_ih()), "rnn.weight_ih_l0");
/// assert_eq!(params.value(lstm.w_ih()).shape(), &[4 * h, d]); // (G*H, D)
/// let mut rng = Rng::new(0);
/// for id in lstm.param_ids() {
///     rng.fill_uniform(params.value_mut(id), 0.5);
/// }
///
/// let mut xs = Array3::zeros((n, t, d));
/// rng.fill_normal(&mut xs, 1.0);
/// let hs = lstm.forward(&params, xs.view()).to_owned();
/// assert_eq!(hs.dim(), (n, t, h));
/// // The final state is [h | c], (N, 2H); its h is the last step's output.
/// let last = lstm.final_state();
/// assert_eq!(last.dim(), (n, 2 * h));
/// assert_eq!(last.slice(s![.., ..h]), hs.slice(s![.., t - 1, ..]));
///
/// // Backward from dL/dhs = 1: the input gradient is (N, T, D); the weights get theirs.
/// let dxs = lstm.backward(&mut params, Array3::ones((n, t, h)).view());
/// assert_eq!(dxs.dim(), (n, t, d));
/// assert!(params.grad(lstm.w_hh()).iter().any(|&g| g != 0.0));
/// ```
#[derive(Clone, Debug)]
pub enum RecurrentLayer<F: Real> {
    /// Elman tanh cell (G = 1, S = 1).
    Rnn(TimeRecurrent<F, RnnCell>),
    /// LSTM cell (G = 4, S = 2: state `[h | c]`).
    Lstm(TimeRecurrent<F, LstmCell>),
    /// GRU cell (G = 3, S = 1, separate recurrent bias).
    Gru(TimeRecurrent<F, GruCell>),
}

/// Runs `$body` with `$layer` bound to the inner `TimeRecurrent`, whatever its cell.
macro_rules! each_cell {
    ($self:expr, $layer:ident => $body:expr) => {
        match $self {
            RecurrentLayer::Rnn($layer) => $body,
            RecurrentLayer::Lstm($layer) => $body,
            RecurrentLayer::Gru($layer) => $body,
        }
    };
}

impl<F: Real> RecurrentLayer<F> {
    /// Adds the layer's parameters under PyTorch's names (see [`TimeRecurrent::new`]).
    pub fn new(
        cell: CellKind,
        params: &mut Params<F>,
        prefix: &str,
        layer: usize,
        input_size: usize,
        hidden_size: usize,
        mode: StateMode,
    ) -> Self {
        match cell {
            CellKind::Rnn => {
                Self::Rnn(TimeRecurrent::new(params, prefix, layer, input_size, hidden_size, mode))
            }
            CellKind::Lstm => {
                Self::Lstm(TimeRecurrent::new(params, prefix, layer, input_size, hidden_size, mode))
            }
            CellKind::Gru => {
                Self::Gru(TimeRecurrent::new(params, prefix, layer, input_size, hidden_size, mode))
            }
        }
    }

    /// A reverse-direction layer (see [`TimeRecurrent::new_reverse`]): parameters named
    /// `{prefix}.weight_ih_l{layer}_reverse` and so on.
    pub fn new_reverse(
        cell: CellKind,
        params: &mut Params<F>,
        prefix: &str,
        layer: usize,
        input_size: usize,
        hidden_size: usize,
        mode: StateMode,
    ) -> Self {
        match cell {
            CellKind::Rnn => {
                Self::Rnn(TimeRecurrent::new_reverse(params, prefix, layer, input_size, hidden_size, mode))
            }
            CellKind::Lstm => {
                Self::Lstm(TimeRecurrent::new_reverse(params, prefix, layer, input_size, hidden_size, mode))
            }
            CellKind::Gru => {
                Self::Gru(TimeRecurrent::new_reverse(params, prefix, layer, input_size, hidden_size, mode))
            }
        }
    }

    /// The layer's cell kind.
    pub fn cell(&self) -> CellKind {
        match self {
            Self::Rnn(_) => CellKind::Rnn,
            Self::Lstm(_) => CellKind::Lstm,
            Self::Gru(_) => CellKind::Gru,
        }
    }

    /// `w_ih`, `w_hh`, `b_ih` and, for GRU, `b_hh`.
    pub fn param_ids(&self) -> Vec<ParamId> {
        each_cell!(self, l => {
            let mut ids = vec![l.w_ih, l.w_hh, l.b_ih];
            ids.extend(l.b_hh);
            ids
        })
    }

    /// Whether the layer keeps a separate recurrent bias `b_hh` (GRU).
    pub fn has_hidden_bias(&self) -> bool {
        each_cell!(self, l => l.b_hh.is_some())
    }

    /// W_ih's id, (G*H, D).
    pub fn w_ih(&self) -> ParamId {
        each_cell!(self, l => l.w_ih)
    }

    /// W_hh's id, (G*H, H).
    pub fn w_hh(&self) -> ParamId {
        each_cell!(self, l => l.w_hh)
    }

    /// b_ih's id, (G*H).
    pub fn b_ih(&self) -> ParamId {
        each_cell!(self, l => l.b_ih)
    }

    /// D: the input width.
    pub fn input_size(&self) -> usize {
        each_cell!(self, l => l.input_size())
    }

    /// H: the hidden width.
    pub fn hidden_size(&self) -> usize {
        each_cell!(self, l => l.hidden_size())
    }

    /// Which way the layer reads each sequence.
    pub fn direction(&self) -> Direction {
        each_cell!(self, l => l.direction())
    }

    /// The last forward's sequence lengths; `None` when every sequence filled its T steps.
    pub fn lengths(&self) -> Option<&[usize]> {
        each_cell!(self, l => l.lengths())
    }

    /// State width: H, or 2H (`[h | c]`) for LSTM.
    pub fn state_size(&self) -> usize {
        match self {
            Self::Lstm(l) => 2 * l.hidden_size(),
            _ => self.hidden_size(),
        }
    }

    /// Sets the initial state of the next call, (N, S*H): `h`, or `[h | c]` for LSTM.
    pub fn set_state(&mut self, state: ArrayView2<F>) {
        each_cell!(self, l => l.set_state(state))
    }

    /// Forgets the carried state: the next call starts from zeros.
    pub fn reset_state(&mut self) {
        each_cell!(self, l => l.reset_state())
    }

    /// The state the next call starts from, if any (carried or set); `None` means zeros.
    pub fn carried_state(&self) -> Option<ArrayView2<'_, F>> {
        each_cell!(self, l => l.carried_state())
    }

    /// The state after the last call's last real step of each sequence, (N, S*H).
    pub fn final_state(&self) -> ArrayView2<'_, F> {
        each_cell!(self, l => l.final_state())
    }

    /// Gradient of the loss with respect to the last call's initial state, (N, S*H).
    pub fn initial_state_grad(&self) -> ArrayView2<'_, F> {
        each_cell!(self, l => l.initial_state_grad())
    }

    /// xs (N, T, D) -> hs (N, T, H), every sequence T steps long.
    pub fn forward(&mut self, params: &Params<F>, xs: ArrayView3<F>) -> ArrayView3<'_, F> {
        each_cell!(self, l => l.forward(params, xs))
    }

    /// A padded batch: see [`TimeRecurrent::forward_with_lengths`].
    pub fn forward_with_lengths(
        &mut self,
        params: &Params<F>,
        xs: ArrayView3<F>,
        lengths: Option<&[usize]>,
    ) -> ArrayView3<'_, F> {
        each_cell!(self, l => l.forward_with_lengths(params, xs, lengths))
    }

    /// dhs (N, T, H) -> dxs (N, T, D); adds into the weight and bias gradients (the final state
    /// feeds nothing else).
    pub fn backward(&mut self, params: &mut Params<F>, dhs: ArrayView3<F>) -> ArrayView3<'_, F> {
        each_cell!(self, l => l.backward(params, dhs))
    }

    /// Like [`RecurrentLayer::backward`], when the final state also feeds something else: `dfinal`
    /// (N, S*H) is its gradient.
    pub fn backward_from_final(
        &mut self,
        params: &mut Params<F>,
        dhs: ArrayView3<F>,
        dfinal: ArrayView2<F>,
    ) -> ArrayView3<'_, F> {
        each_cell!(self, l => l.backward_from_final(params, dhs, dfinal))
    }
}
