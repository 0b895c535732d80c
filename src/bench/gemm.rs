//! The GEMM rate of the machine: `recur bench gemm`'s shapes (2048^3 and the medium model's own)
//! through `tensor::matmul`, the per-step ones also through `PackedRhs`, and the rate a model's
//! benchmark takes its share of.

#![warn(missing_docs)]

use super::{median, time_steps, Timing};
use crate::tensor::{matmul, Accumulate, PackedRhs, Rng};

/// A product to time: (name, M, K, N, A stored transposed, B stored transposed).
/// (name, M, K, N, A stored transposed, B stored transposed, B through [`PackedRhs`]).
pub type Shape = (&'static str, usize, usize, usize, bool, bool, bool);

/// The reference product first; then the medium model's own (700 rows = batch 20 x time 35,
/// H 650, V 10,000), laid out as recur's layers lay them out (weights (out, in), used as W^T).
/// The per-step products run both through the general product and through the packed W_hh
/// the Time layers use, to show what packing buys.
pub const SHAPES: [Shape; 9] = [
    ("square 2048", 2048, 2048, 2048, false, false, false),
    ("medium decoder forward: (700x650)(650x10000), B = W^T", 700, 650, 10_000, false, true, false),
    ("medium decoder dX: (700x10000)(10000x650)", 700, 10_000, 650, false, false, false),
    ("medium decoder dW: (10000x700)(700x650), A = dY^T", 10_000, 700, 650, true, false, false),
    ("medium LSTM input: (700x650)(650x2600), B = W^T", 700, 650, 2600, false, true, false),
    ("medium LSTM step: (20x650)(650x2600), B = W^T", 20, 650, 2600, false, true, false),
    ("medium LSTM step, packed W^T: (20x650)(650x2600)", 20, 650, 2600, false, true, true),
    ("medium LSTM step back: (20x2600)(2600x650), B = W", 20, 2600, 650, false, false, false),
    ("medium LSTM step back, packed W: (20x2600)(2600x650)", 20, 2600, 650, false, false, true),
];

/// The GEMM rate (`recur bench gemm`'s first shape, 2048^3) measured in the model's own launch
/// right after its runs, median of `repeats` runs of half a second. A model's share of it is then
/// not skewed by the machine's speed drifting between launches: within one suite run here the
/// separate GEMM launches measured 238 to 350 GFLOP/s.
pub fn same_launch_gemm_rate(repeats: usize) -> f64 {
    let (_, m, k, n, ..) = SHAPES[0];
    let mut rng = Rng::new(1);
    let (mut a, mut b) = (ndarray::Array2::<f32>::zeros((m, k)), ndarray::Array2::<f32>::zeros((k, n)));
    rng.fill_uniform(&mut a, 1.0);
    rng.fill_uniform(&mut b, 1.0);
    let mut c = ndarray::Array2::<f32>::zeros((m, n));
    let mut step = || {
        matmul(c.view_mut(), a.view(), b.view(), Accumulate::Overwrite);
        1
    };
    let runs = time_steps(&Timing { warmup: 0.1, repeats, seconds: 0.5 }, &mut step);
    median(&runs) * (2 * m * n * k) as f64 / 1e9
}

/// One shape's rate: its name, sizes, each timed run's GFLOP/s and their median.
#[derive(Clone, Debug)]
pub struct ShapeRate {
    /// What the product is.
    pub name: &'static str,
    /// Rows of A and C.
    pub m: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// Columns of B and C.
    pub n: usize,
    /// The median of `runs`.
    pub gflops: f64,
    /// GFLOP/s of each timed run.
    pub runs: Vec<f64>,
}

/// Times every shape of [`SHAPES`] in turn; `each` is told of each as it is measured.
pub fn shape_rates(timing: &Timing, each: &mut dyn FnMut(&ShapeRate)) -> Vec<ShapeRate> {
    let mut rng = Rng::new(1);
    let mut rates = Vec::new();
    for &(name, m, k, n, a_t, b_t, packed) in &SHAPES {
        let mut a = ndarray::Array2::<f32>::zeros(if a_t { (k, m) } else { (m, k) });
        let mut b = ndarray::Array2::<f32>::zeros(if b_t { (n, k) } else { (k, n) });
        rng.fill_uniform(&mut a, 1.0);
        rng.fill_uniform(&mut b, 1.0);
        let mut c = ndarray::Array2::<f32>::zeros((m, n));
        let flops = 2 * m * n * k;
        let mut packed_b = PackedRhs::new();
        if packed {
            packed_b.pack(if b_t { b.t() } else { b.view() });
        }
        // "Tokens" here are products; the rate is products/s x 2 M N K.
        let mut step = || {
            let av = if a_t { a.t() } else { a.view() };
            let bv = if b_t { b.t() } else { b.view() };
            if packed {
                packed_b.matmul(c.view_mut(), av, Accumulate::Overwrite);
            } else {
                matmul(c.view_mut(), av, bv, Accumulate::Overwrite);
            }
            1
        };
        let runs: Vec<f64> =
            time_steps(timing, &mut step).into_iter().map(|per_s| per_s * flops as f64 / 1e9).collect();
        let rate = ShapeRate { name, m, k, n, gflops: median(&runs), runs };
        each(&rate);
        rates.push(rate);
    }
    rates
}
