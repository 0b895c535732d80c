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

use super::cell::{row, row_mut, Cell};
use crate::tensor::math::on_widest_vectors;
use crate::tensor::Real;
use ndarray::{ArrayView2, ArrayViewMut2};

/// The GRU cell (see the module header for its equations); G = 3, S = 1.
#[derive(Clone, Copy, Debug, Default)]
pub struct GruCell;

impl Cell for GruCell {
    const KIND: &'static str = "gru";
    const GATES: usize = 3;
    const STATE: usize = 1;
    const CACHE: usize = 3;
    const HIDDEN_BIAS: bool = true;

    #[inline(always)]
    fn forward<F: Real>(
        h: usize,
        xw: ArrayView2<F>,
        hw: ArrayView2<F>,
        state_prev: ArrayView2<F>,
        mut state: ArrayViewMut2<F>,
        mut cache: ArrayViewMut2<F>,
    ) {
        for n in 0..xw.nrows() {
            let (xw, hw, h_prev) = (row(&xw, n), row(&hw, n), &row(&state_prev, n)[..h]);
            let (rz, new) = row_mut(&mut cache, n).split_at_mut(2 * h);
            for ((a, &x), &w) in rz.iter_mut().zip(&xw[..2 * h]).zip(&hw[..2 * h]) {
                *a = x + w;
            }
            F::sigmoid_inplace(rz);
            let (r, z) = rz.split_at(h);
            for (((a, &x), &w), &r) in new.iter_mut().zip(&xw[2 * h..3 * h]).zip(&hw[2 * h..3 * h]).zip(r) {
                *a = x + r * w;
            }
            F::tanh_inplace(new);
            for (((hn, &z), &nn), &hp) in row_mut(&mut state, n).iter_mut().zip(z).zip(&*new).zip(h_prev) {
                *hn = (F::one() - z) * nn + z * hp;
            }
        }
    }

    #[inline(always)]
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
        for n in 0..dstate.nrows() {
            let (dh, h_prev, cr) = (row(&dstate, n), row(&state_prev, n), row(&cache, n));
            let (r, z, nn, hw_n) = (&cr[..h], &cr[h..2 * h], &cr[2 * h..3 * h], &row(&hw, n)[2 * h..3 * h]);
            let (dx_r, dx) = row_mut(&mut dxw, n).split_at_mut(h);
            let (dx_z, dx_n) = dx.split_at_mut(h);
            let (dh_r, dhr) = row_mut(&mut dhw, n).split_at_mut(h);
            let (dh_z, dh_n) = dhr.split_at_mut(h);
            let dprev = row_mut(&mut dstate_prev, n);
            gate_gradients(
                [&dh[..h], &h_prev[..h], hw_n],
                [r, z, nn],
                [dx_r, dx_z, dx_n],
                [dh_r, dh_z, dh_n],
                dprev,
            );
        }
    }
}

/// One row's gate gradients, every slice H long: the inputs `(dh, h_prev, hw_n)` and `(r, z,
/// n)`, the outputs `d(xw)` and `d(hw)` by gate, and `dh_prev`'s direct part. Separate `&mut`
/// slices, cut to H here, let the compiler assume that the outputs overlap nothing and drop the
/// bounds checks, so the loop vectorises (as LSTM's `gate_gradients`).
#[inline(never)]
fn gate_gradients<F: Real>(
    [dh, h_prev, hw_n]: [&[F]; 3],
    [r, z, nn]: [&[F]; 3],
    [dx_r, dx_z, dx_n]: [&mut [F]; 3],
    [dh_r, dh_z, dh_n]: [&mut [F]; 3],
    dprev: &mut [F],
) {
    on_widest_vectors!({
        gate_gradients_lanes([dh, h_prev, hw_n], [r, z, nn], [dx_r, dx_z, dx_n], [dh_r, dh_z, dh_n], dprev)
    })
}

/// [`gate_gradients`]'s loop, inlined into the widest vectors' function.
#[inline(always)]
fn gate_gradients_lanes<F: Real>(
    [dh, h_prev, hw_n]: [&[F]; 3],
    [r, z, nn]: [&[F]; 3],
    [dx_r, dx_z, dx_n]: [&mut [F]; 3],
    [dh_r, dh_z, dh_n]: [&mut [F]; 3],
    dprev: &mut [F],
) {
    let h = dh.len();
    let (h_prev, hw_n, r, z, nn) = (&h_prev[..h], &hw_n[..h], &r[..h], &z[..h], &nn[..h]);
    let (dx_r, dx_z, dx_n) = (&mut dx_r[..h], &mut dx_z[..h], &mut dx_n[..h]);
    let (dh_r, dh_z, dh_n, dprev) = (&mut dh_r[..h], &mut dh_z[..h], &mut dh_n[..h], &mut dprev[..h]);
    let one = F::one();
    for j in 0..h {
        let da_n = dh[j] * (one - z[j]) * (one - nn[j] * nn[j]);
        let da_z = dh[j] * (h_prev[j] - nn[j]) * z[j] * (one - z[j]);
        let da_r = da_n * hw_n[j] * r[j] * (one - r[j]);
        dx_r[j] = da_r;
        dx_z[j] = da_z;
        dx_n[j] = da_n;
        dh_r[j] = da_r;
        dh_z[j] = da_z;
        dh_n[j] = da_n * r[j];
        dprev[j] = dh[j] * z[j];
    }
}
