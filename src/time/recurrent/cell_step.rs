//! [`CellStep`]: one recurrent step as a layer, the T = 1 case of [`TimeRecurrent`].

use super::{StateMode, TimeRecurrent};
use crate::layers::Cell;
use crate::params::Params;
use crate::tensor::Real;
use ndarray::{Array3, ArrayView2, Axis};

/// One recurrent step as a layer of its own (the book's `RNN` class): the T = 1 case of
/// [`TimeRecurrent`], so the step math exists once. Stateless: each call gets its `state_prev`.
#[derive(Clone, Debug)]
pub struct CellStep<F: Real, C: Cell> {
    /// The time loop it runs with T = 1.
    pub inner: TimeRecurrent<F, C>,
}

impl<F: Real, C: Cell> CellStep<F, C> {
    /// Adds the step's parameters under PyTorch's names for layer 0 (see [`TimeRecurrent::new`]).
    pub fn new(params: &mut Params<F>, prefix: &str, input_size: usize, hidden_size: usize) -> Self {
        CellStep {
            inner: TimeRecurrent::new(params, prefix, 0, input_size, hidden_size, StateMode::Stateless),
        }
    }

    /// x (N, D), state_prev (N, S*H) -> state (N, S*H) (for RNN and GRU the state is `h`).
    pub fn forward(
        &mut self,
        params: &Params<F>,
        x: ArrayView2<F>,
        state_prev: ArrayView2<F>,
    ) -> ArrayView2<'_, F> {
        self.inner.set_state(state_prev);
        self.inner.forward(params, x.insert_axis(Axis(1))); // (N, 1, D)
        self.inner.final_state()
    }

    /// dstate (N, S*H) -> (dx (N, D), dstate_prev (N, S*H)); adds into the parameter gradients.
    pub fn backward(
        &mut self,
        params: &mut Params<F>,
        dstate: ArrayView2<F>,
    ) -> (ArrayView2<'_, F>, ArrayView2<'_, F>) {
        let (n, h) = (dstate.nrows(), self.inner.hidden_size);
        let no_output_grad = Array3::zeros((n, 1, h));
        self.inner.backward_from_final(params, no_output_grad.view(), dstate);
        (self.inner.dxs.view(), self.inner.dstate.view())
    }
}
