//! The GRU cell in PyTorch's formulation (`nn.GRU`, gate order r, z, n; the reset gate applied
//! after the recurrent product, Keras' `reset_after=True`):
//!
//! ```text
//! r = σ(x W_ir^T + b_ir + h_prev W_hr^T + b_hr)
//! z = σ(x W_iz^T + b_iz + h_prev W_hz^T + b_hz)
//! n = tanh(x W_in^T + b_in + r * (h_prev W_hn^T + b_hn))
//! h = (1 - z) * n + z * h_prev
//! ```
//! Two biases (`b_hn` sits inside the reset gate, so it cannot be folded into `b_in`). State `h`
//! (S = 1); cache `[r | z | n]` (C = 3); `hw` (which holds `h_prev W_hn^T + b_hn`) is kept by
//! the loop. Backward: `dn = dh (1 - z)`, `dz = dh (h_prev - n)`, `dh_prev = dh z` (direct part),
//! `da_n = dn (1 - n^2)`; the input product gets `da_n`, the recurrent one `da_n * r`, and
//! `dr = da_n * hw_n`.

use super::cell::Cell;
use crate::tensor::Real;
use ndarray::{ArrayView2, ArrayViewMut2};

#[derive(Clone, Copy, Debug, Default)]
pub struct GruCell;

impl Cell for GruCell {
    const KIND: &'static str = "gru";
    const GATES: usize = 3;
    const STATE: usize = 1;
    const CACHE: usize = 3;
    const HIDDEN_BIAS: bool = true;

    fn forward<F: Real>(
        h: usize,
        xw: ArrayView2<F>,
        hw: ArrayView2<F>,
        state_prev: ArrayView2<F>,
        mut state: ArrayViewMut2<F>,
        mut cache: ArrayViewMut2<F>,
    ) {
        for n in 0..xw.nrows() {
            let (xw, hw, h_prev) = (xw.row(n), hw.row(n), state_prev.row(n));
            let mut cache_row = cache.row_mut(n);
            let cr = cache_row.as_slice_mut().expect("cache rows are contiguous");
            for j in 0..2 * h {
                cr[j] = xw[j] + hw[j];
            }
            F::sigmoid_inplace(&mut cr[..2 * h]); // r, z
            for j in 0..h {
                cr[2 * h + j] = xw[2 * h + j] + cr[j] * hw[2 * h + j];
            }
            F::tanh_inplace(&mut cr[2 * h..3 * h]); // n
            let mut state_row = state.row_mut(n);
            for j in 0..h {
                let (z, nn) = (cr[h + j], cr[2 * h + j]);
                state_row[j] = (F::one() - z) * nn + z * h_prev[j];
            }
        }
    }

    fn backward<F: Real>(
        h: usize,
        dstate: ArrayView2<F>,
        state_prev: ArrayView2<F>,
        _state: ArrayView2<F>,
        cache: ArrayView2<F>,
        hw: ArrayView2<F>,
        mut dxw: ArrayViewMut2<F>,
        mut dhw: ArrayViewMut2<F>,
        mut dstate_prev: ArrayViewMut2<F>,
    ) {
        let one = F::one();
        for n in 0..dstate.nrows() {
            let (dh, h_prev, cr, hw) = (dstate.row(n), state_prev.row(n), cache.row(n), hw.row(n));
            let (mut dx, mut dhr, mut dprev) = (dxw.row_mut(n), dhw.row_mut(n), dstate_prev.row_mut(n));
            for j in 0..h {
                let (r, z, nn) = (cr[j], cr[h + j], cr[2 * h + j]);
                let da_n = dh[j] * (one - z) * (one - nn * nn);
                let da_z = dh[j] * (h_prev[j] - nn) * z * (one - z);
                let da_r = da_n * hw[2 * h + j] * r * (one - r);
                dx[j] = da_r;
                dx[h + j] = da_z;
                dx[2 * h + j] = da_n;
                dhr[j] = da_r;
                dhr[h + j] = da_z;
                dhr[2 * h + j] = da_n * r;
                dprev[j] = dh[j] * z;
            }
        }
    }
}
