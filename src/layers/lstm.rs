//! The LSTM cell (PyTorch `nn.LSTM`, gate order i, f, g, o):
//!
//! ```text
//! a = x W_ih^T + h_prev W_hh^T + b          (N, 4H)
//! i = σ(a_i)  f = σ(a_f)  g = tanh(a_g)  o = σ(a_o)
//! c = f * c_prev + i * g                     h = o * tanh(c)
//! ```
//! State `[h | c]` (S = 2). Cache per step: `[i | f | g | o | tanh(c)]` (C = 5).
//! Backward: `dc = dc_next + dh * o * (1 - tanh(c)^2)`; `di = dc g`, `df = dc c_prev`,
//! `dg = dc i`, `do = dh tanh(c)`, each times its activation's derivative; `dc_prev = dc f`.
//! The gradient of both products is the same `da` (`dxw = dhw`).

use super::cell::Cell;
use crate::tensor::Real;
use ndarray::{ArrayView2, ArrayViewMut2};

#[derive(Clone, Copy, Debug, Default)]
pub struct LstmCell;

impl Cell for LstmCell {
    const KIND: &'static str = "lstm";
    const GATES: usize = 4;
    const STATE: usize = 2;
    const CACHE: usize = 5;
    const HIDDEN_BIAS: bool = false;

    fn forward<F: Real>(
        h: usize,
        xw: ArrayView2<F>,
        hw: ArrayView2<F>,
        state_prev: ArrayView2<F>,
        mut state: ArrayViewMut2<F>,
        mut cache: ArrayViewMut2<F>,
    ) {
        for n in 0..xw.nrows() {
            let (xw, hw) = (xw.row(n), hw.row(n));
            let c_prev = state_prev.row(n);
            let mut cache_row = cache.row_mut(n);
            let cr = cache_row.as_slice_mut().expect("cache rows are contiguous");
            for j in 0..4 * h {
                cr[j] = xw[j] + hw[j];
            }
            F::sigmoid_inplace(&mut cr[..2 * h]); // i, f
            F::tanh_inplace(&mut cr[2 * h..3 * h]); // g
            F::sigmoid_inplace(&mut cr[3 * h..4 * h]); // o
            let mut state_row = state.row_mut(n);
            let sr = state_row.as_slice_mut().expect("state rows are contiguous");
            for j in 0..h {
                let c = cr[h + j] * c_prev[h + j] + cr[j] * cr[2 * h + j];
                sr[h + j] = c;
                cr[4 * h + j] = c;
            }
            F::tanh_inplace(&mut cr[4 * h..5 * h]);
            for j in 0..h {
                sr[j] = cr[3 * h + j] * cr[4 * h + j];
            }
        }
    }

    fn backward<F: Real>(
        h: usize,
        dstate: ArrayView2<F>,
        state_prev: ArrayView2<F>,
        _state: ArrayView2<F>,
        cache: ArrayView2<F>,
        _hw: ArrayView2<F>,
        mut dxw: ArrayViewMut2<F>,
        mut dhw: ArrayViewMut2<F>,
        mut dstate_prev: ArrayViewMut2<F>,
    ) {
        let one = F::one();
        for n in 0..dstate.nrows() {
            let (ds, c_prev, cr) = (dstate.row(n), state_prev.row(n), cache.row(n));
            let (mut dx, mut dprev) = (dxw.row_mut(n), dstate_prev.row_mut(n));
            for j in 0..h {
                let (i, f, g, o, tc) = (cr[j], cr[h + j], cr[2 * h + j], cr[3 * h + j], cr[4 * h + j]);
                let dh = ds[j];
                let dc = ds[h + j] + dh * o * (one - tc * tc);
                dx[j] = dc * g * i * (one - i);
                dx[h + j] = dc * c_prev[h + j] * f * (one - f);
                dx[2 * h + j] = dc * i * (one - g * g);
                dx[3 * h + j] = dh * tc * o * (one - o);
                dprev[j] = F::zero();
                dprev[h + j] = dc * f;
            }
            dhw.row_mut(n).assign(&dx);
        }
    }
}
