//! The blocked product against the exact one (in f64): every edge, stride, mode and split
//! between threads; the fused bias and row sums applied exactly once.

use super::*;
use crate::tensor::Rng;
use ndarray::Array2;

fn random(rng: &mut Rng, shape: (usize, usize)) -> Array2<f32> {
    let mut x = Array2::zeros(shape);
    x.iter_mut().for_each(|v| *v = rng.uniform() as f32 - 0.5);
    x
}

/// The product in f64, one dot product per element.
fn exact(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f64> {
    let (m, k) = a.dim();
    Array2::from_shape_fn((m, b.dim().1), |(i, j)| (0..k).map(|p| a[[i, p]] as f64 * b[[p, j]] as f64).sum())
}

#[test]
fn agrees_with_the_exact_product_for_every_edge_stride_mode_and_split() {
    if !available() {
        eprintln!("SKIPPED: this CPU has no AVX-512F, so the blocked kernel cannot run here");
        return;
    }
    let mut rng = Rng::new(5);
    // Tiles (12) and panels (32) whole and partial; K in one block, two and three (1024
    // at most); M across a block edge (96); N across a block edge (2048); large enough to
    // split over threads.
    let shapes = [
        (1, 1, 1),
        (5, 7, 9),
        (7, 40, 52),
        (12, 32, 32),
        (13, 257, 33),
        (25, 1030, 40),
        (14, 2100, 64),
        (20, 650, 520),
        (241, 300, 70),
        (30, 20, 4100),
        (700, 65, 1000),
    ];
    for (m, k, n) in shapes {
        let a = random(&mut rng, (m, k));
        let bt = random(&mut rng, (n, k)); // B stored transposed, like W^T
        let b = bt.t().to_owned(); // and row-major
        let want = exact(a.view(), b.view());
        for (name, b_view) in [("B", b.view()), ("W^T", bt.t())] {
            for add in [false, true] {
                let start = random(&mut rng, (m, n));
                let mut got = start.clone();
                matmul_f32(got.view_mut(), a.view(), b_view, add, Extras::default());
                // A transposed destination and A^T source (how dW = dY^T X is formed).
                let mut got_t = Array2::<f32>::zeros((n, m));
                let at = a.t().to_owned();
                matmul_f32(got_t.view_mut().reversed_axes(), at.t(), b_view, false, Extras::default());
                let tolerance = 1e-5 * k as f64;
                for ((i, j), &w) in want.indexed_iter() {
                    let base = if add { start[[i, j]] as f64 } else { 0.0 };
                    let d = (got[[i, j]] as f64 - base - w).abs();
                    let d_t = (got_t[[j, i]] as f64 - w).abs();
                    assert!(
                        d < tolerance && d_t < tolerance,
                        "({m}, {k}, {n}) {name} add {add} at ({i}, {j}): {d} {d_t}"
                    );
                }
            }
        }
    }
}

#[test]
fn fuses_the_bias_and_the_row_sums_exactly_once_per_element() {
    if !available() {
        eprintln!("SKIPPED: this CPU has no AVX-512F, so the blocked kernel cannot run here");
        return;
    }
    let mut rng = Rng::new(7);
    // K over several blocks (the bias must be added once, the sums taken once); N over a
    // column block (4096) and a thread split; M over a row block (240) and a thread split.
    for (m, k, n) in [(3, 5, 7), (30, 600, 100), (700, 65, 4200), (1000, 300, 40)] {
        let a = random(&mut rng, (m, k));
        let b = random(&mut rng, (k, n));
        let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.01 - 1.0).collect();
        let want = exact(a.view(), b.view());
        let mut got = random(&mut rng, (m, n)); // overwritten
        let mut sums = vec![0.5f32; m];
        let extras = Extras { bias: Some(&bias), row_sums: Some(&mut sums) };
        matmul_f32(got.view_mut(), a.view(), b.view(), false, extras);
        let tolerance = 1e-5 * k as f64;
        for ((i, j), &w) in want.indexed_iter() {
            let d = (got[[i, j]] as f64 - bias[j] as f64 - w).abs();
            assert!(d < tolerance, "({m}, {k}, {n}) bias at ({i}, {j}): {d}");
        }
        for (i, &sum) in sums.iter().enumerate() {
            let want: f64 = 0.5 + a.row(i).iter().map(|&v| v as f64).sum::<f64>();
            assert!((sum as f64 - want).abs() < tolerance, "({m}, {k}, {n}) row sum {i}: {sum} vs {want}");
        }
        // The transposed A of a weight gradient (a = dY^T), adding to c; the bias is only
        // for a write and is ignored here.
        let dy = a.t().to_owned();
        let mut sums_t = vec![0.0f32; m];
        let start = random(&mut rng, (m, n));
        let mut got_t = start.clone();
        let extras = Extras { bias: Some(&bias), row_sums: Some(&mut sums_t) };
        matmul_f32(got_t.view_mut(), dy.t(), b.view(), true, extras);
        for ((i, j), &w) in want.indexed_iter() {
            let d = (got_t[[i, j]] as f64 - start[[i, j]] as f64 - w).abs();
            assert!(d < tolerance, "({m}, {k}, {n}) dY^T at ({i}, {j}): {d}");
        }
        for (i, &sum) in sums_t.iter().enumerate() {
            let want: f64 = a.row(i).iter().map(|&v| v as f64).sum();
            assert!((sum as f64 - want).abs() < tolerance, "({m}, {k}, {n}) dY^T row sum {i}");
        }
    }
}
