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

use super::cell::{row, row_mut, Cell};
use crate::tensor::math::on_widest_vectors;
use crate::tensor::Real;
use ndarray::{ArrayView2, ArrayViewMut2};

/// The LSTM cell (see the module header for its equations); G = 4, S = 2.
///
/// ```rust
/// use ndarray::{s, Array2};
/// use recur::layers::{Cell, LstmCell};
///
/// // N = 2 rows, H = 3: pre-activations (N, 4H) in gate order i, f, g, o; state [h | c] (N, 2H).
/// let (n, h) = (2, 3);
/// let xw = Array2::from_shape_fn((n, 4 * h), |(r, j)| 0.1 * (r + j) as f64 - 0.5);
/// let hw = Array2::<f64>::zeros((n, 4 * h));
/// let state_prev = Array2::from_elem((n, 2 * h), 0.2);
/// let mut state = Array2::zeros((n, 2 * h));
/// let mut cache = Array2::zeros((n, LstmCell::CACHE * h));
/// LstmCell::forward(h, xw.view(), hw.view(), state_prev.view(), state.view_mut(), cache.view_mut());
///
/// // c = f * c_prev + i * g and h = o * tanh(c), unit by unit.
/// let sig = |a: f64| 1.0 / (1.0 + (-a).exp());
/// for r in 0..n {
///     for k in 0..h {
///         let (i, f) = (sig(xw[[r, k]]), sig(xw[[r, h + k]]));
///         let (g, o) = (xw[[r, 2 * h + k]].tanh(), sig(xw[[r, 3 * h + k]]));
///         let c = f * 0.2 + i * g;
///         assert!((state[[r, h + k]] - c).abs() < 1e-9);
///         assert!((state[[r, k]] - o * c.tanh()).abs() < 1e-9);
///     }
/// }
///
/// // Backward from dh = 1, dc = 0: both pre-activations get the same gradient, (N, 4H).
/// let mut dstate = Array2::zeros((n, 2 * h));
/// dstate.slice_mut(s![.., ..h]).fill(1.0);
/// let mut dxw = Array2::zeros((n, 4 * h));
/// let mut dhw = Array2::zeros((n, 4 * h));
/// let mut dstate_prev = Array2::zeros((n, 2 * h));
/// LstmCell::backward(
///     h,
///     dstate.view(),
///     state_prev.view(),
///     state.view(),
///     cache.view(),
///     hw.view(),
///     dxw.view_mut(),
///     dhw.view_mut(),
///     dstate_prev.view_mut(),
/// );
/// assert_eq!(dxw, dhw);
/// // The output gate's: dh * tanh(c) * o (1 - o).
/// let o = sig(xw[[0, 3 * h]]);
/// assert!((dxw[[0, 3 * h]] - state[[0, h]].tanh() * o * (1.0 - o)).abs() < 1e-9);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct LstmCell;

impl Cell for LstmCell {
    const KIND: &'static str = "lstm";
    const GATES: usize = 4;
    const STATE: usize = 2;
    const CACHE: usize = 5;
    const HIDDEN_BIAS: bool = false;

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
            let (xw, hw, c_prev) = (row(&xw, n), row(&hw, n), &row(&state_prev, n)[h..2 * h]);
            let (gates, tanh_c) = row_mut(&mut cache, n).split_at_mut(4 * h);
            for ((a, &x), &w) in gates.iter_mut().zip(xw).zip(hw) {
                *a = x + w;
            }
            F::sigmoid_inplace(&mut gates[..2 * h]); // i, f
            F::tanh_inplace(&mut gates[2 * h..3 * h]); // g
            F::sigmoid_inplace(&mut gates[3 * h..]); // o
            let (i, f, g, o) = (&gates[..h], &gates[h..2 * h], &gates[2 * h..3 * h], &gates[3 * h..4 * h]);
            let (h_next, c_next) = row_mut(&mut state, n).split_at_mut(h);
            cell_state([i, f, g, c_prev], c_next, tanh_c);
            F::tanh_inplace(tanh_c);
            for ((h, &o), &tc) in h_next.iter_mut().zip(o).zip(&*tanh_c) {
                *h = o * tc;
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
        _hw: ArrayView2<F>,
        mut dxw: ArrayViewMut2<F>,
        mut dhw: ArrayViewMut2<F>,
        mut dstate_prev: ArrayViewMut2<F>,
    ) {
        for n in 0..dstate.nrows() {
            let (ds, cr) = (row(&dstate, n), row(&cache, n));
            let (dh, dc_next, c_prev) = (&ds[..h], &ds[h..2 * h], &row(&state_prev, n)[h..2 * h]);
            let (i, f, g) = (&cr[..h], &cr[h..2 * h], &cr[2 * h..3 * h]);
            let (o, tc) = (&cr[3 * h..4 * h], &cr[4 * h..5 * h]);
            let dx = row_mut(&mut dxw, n);
            let (di, rest) = dx.split_at_mut(h);
            let (df, rest) = rest.split_at_mut(h);
            let (dg, do_) = rest.split_at_mut(h);
            let (dh_prev, dc_prev) = row_mut(&mut dstate_prev, n).split_at_mut(h);
            gate_gradients([dh, dc_next, c_prev], [i, f, g, o, tc], [di, df, dg, do_, dc_prev]);
            dh_prev.fill(F::zero());
            row_mut(&mut dhw, n).copy_from_slice(row(&dxw.view(), n));
        }
    }
}

/// `c = f c_prev + i g`, written to the state and to the cache (where tanh then applies), all
/// H long; separate arguments for the reason given at [`gate_gradients`].
#[inline(never)]
fn cell_state<F: Real>([i, f, g, c_prev]: [&[F]; 4], c: &mut [F], tanh_c: &mut [F]) {
    on_widest_vectors!(cell_state_lanes([i, f, g, c_prev], c, tanh_c))
}

/// [`cell_state`]'s loop, inlined into the widest vectors' function.
#[inline(always)]
fn cell_state_lanes<F: Real>([i, f, g, c_prev]: [&[F]; 4], c: &mut [F], tanh_c: &mut [F]) {
    let h = i.len();
    let (f, g, c_prev, c, tanh_c) = (&f[..h], &g[..h], &c_prev[..h], &mut c[..h], &mut tanh_c[..h]);
    for j in 0..h {
        c[j] = f[j] * c_prev[j] + i[j] * g[j];
        tanh_c[j] = c[j];
    }
}

/// One row's gate gradients, every slice H long. The slices are separate arguments, cut to H
/// here: the compiler may then assume that the outputs overlap nothing and drop the bounds
/// checks, and it vectorises the loop (cut from the rows inside the caller it stayed scalar: a
/// 20 x 650 step took 29-34 us on one thread, against 8).
#[inline(never)]
fn gate_gradients<F: Real>(
    [dh, dc_next, c_prev]: [&[F]; 3],
    [i, f, g, o, tc]: [&[F]; 5],
    [di, df, dg, do_, dc_prev]: [&mut [F]; 5],
) {
    on_widest_vectors!({
        gate_gradients_lanes([dh, dc_next, c_prev], [i, f, g, o, tc], [di, df, dg, do_, dc_prev])
    })
}

/// [`gate_gradients`]'s loop, inlined into the widest vectors' function.
#[inline(always)]
fn gate_gradients_lanes<F: Real>(
    [dh, dc_next, c_prev]: [&[F]; 3],
    [i, f, g, o, tc]: [&[F]; 5],
    [di, df, dg, do_, dc_prev]: [&mut [F]; 5],
) {
    let h = dh.len();
    let (dc_next, c_prev, i, f, g, o, tc) =
        (&dc_next[..h], &c_prev[..h], &i[..h], &f[..h], &g[..h], &o[..h], &tc[..h]);
    let (di, df, dg, do_, dc_prev) =
        (&mut di[..h], &mut df[..h], &mut dg[..h], &mut do_[..h], &mut dc_prev[..h]);
    let one = F::one();
    for j in 0..h {
        let dc = dc_next[j] + dh[j] * o[j] * (one - tc[j] * tc[j]);
        di[j] = dc * g[j] * i[j] * (one - i[j]);
        df[j] = dc * c_prev[j] * f[j] * (one - f[j]);
        dg[j] = dc * i[j] * (one - g[j] * g[j]);
        do_[j] = dh[j] * tc[j] * o[j] * (one - o[j]);
        dc_prev[j] = dc * f[j];
    }
}
