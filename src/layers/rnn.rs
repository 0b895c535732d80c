//! The Elman RNN cell (PyTorch `nn.RNN`, Keras `SimpleRNN`): `h = tanh(x W_ih^T + h_prev W_hh^T + b)`.
//!
//! The book writes it `h_next = tanh(h_prev Wh + x Wx + b)` with Wx (D, H) = W_ih^T.
//! Backward: `da = dh * (1 - h^2)`; `da` is the gradient of both products (`dxw = dhw = da`),
//! and `h_prev` gets nothing except through `W_hh` (done by the time loop).

use super::cell::Cell;
use crate::tensor::Real;
use ndarray::{ArrayView2, ArrayViewMut2, Zip};

/// The Elman tanh cell (see the module header); G = 1, S = 1.
#[derive(Clone, Copy, Debug, Default)]
pub struct RnnCell;

impl Cell for RnnCell {
    const KIND: &'static str = "rnn";
    const GATES: usize = 1;
    const STATE: usize = 1;
    const CACHE: usize = 0;
    const HIDDEN_BIAS: bool = false;

    #[inline(always)]
    fn forward<F: Real>(
        _hidden: usize,
        xw: ArrayView2<F>,
        hw: ArrayView2<F>,
        _state_prev: ArrayView2<F>,
        mut state: ArrayViewMut2<F>,
        _cache: ArrayViewMut2<F>,
    ) {
        Zip::from(&mut state).and(xw).and(hw).for_each(|h, &a, &b| *h = a + b);
        for mut row in state.rows_mut() {
            F::tanh_inplace(row.as_slice_mut().expect("state rows are contiguous"));
        }
    }

    #[inline(always)]
    fn backward<F: Real>(
        _hidden: usize,
        dstate: ArrayView2<F>,
        _state_prev: ArrayView2<F>,
        state: ArrayView2<F>,
        _cache: ArrayView2<F>,
        _hw: ArrayView2<F>,
        mut dxw: ArrayViewMut2<F>,
        mut dhw: ArrayViewMut2<F>,
        mut dstate_prev: ArrayViewMut2<F>,
    ) {
        Zip::from(&mut dxw).and(&mut dhw).and(dstate).and(state).for_each(|dx, dh_out, &dh, &h| {
            let da = dh * (F::one() - h * h);
            *dx = da;
            *dh_out = da;
        });
        dstate_prev.fill(F::zero());
    }
}
