//! The one matrix product of recur: `C = A B` or `C += A B` on ndarray views of any strides,
//! and its two fused variants for affine layers ([`matmul_bias`], [`matmul_row_sums`]).
//!
//! Transposes are views (`a.t()`), never copies: both backends take row and column strides, so
//! `A^T B` and `A B^T` cost what `A B` costs. f32 on a CPU with AVX-512F goes through recur's
//! own blocked product ([`super::blocked`]); f64 and other CPUs through the `gemm` crate, chosen
//! by measuring it against `matrixmultiply`, `faer` and OpenBLAS on this project's shapes
//! (bench/GEMM.md).
//!
//! Threads: the per-step products of an RNN are tiny (10 x 100 x 100) and get slower with a
//! second thread, so products below [`PARALLEL_MIN_FLOPS`] run on the calling thread.

use super::{blocked, Real};
use gemm::Parallelism;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};
use std::any::TypeId;

/// Whether the product overwrites the destination or adds to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accumulate {
    /// `C = A B`
    Overwrite,
    /// `C += A B` (how every gradient is formed: gradients only add).
    Add,
}

std::thread_local! {
    /// Whether this thread is inside the `gemm` crate (see [`inside_gemm`]).
    static INSIDE_GEMM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the calling thread is inside a product. The `gemm` crate allocates its packing
/// buffers on every call; a counting allocator (tests/allocations.rs) asks this to tell those
/// apart from recur's own allocations. Const-initialised, so it never allocates itself.
pub fn inside_gemm() -> bool {
    INSIDE_GEMM.with(|f| f.get())
}

/// Keeps large freed blocks in the process for reuse instead of returning them to the system.
///
/// The `gemm` crate allocates its packing buffers (up to a few MiB) on every product. glibc
/// serves blocks that large with `mmap` and unmaps them when freed, so every product faulted in
/// fresh zero-filled pages (3-4% of the ch06 training step under `perf`). Fixing glibc's mmap
/// threshold at its maximum (32 MiB) and raising the trim threshold lets freed packing buffers
/// be reused. Peak memory is unchanged: the same buffers are live at the same moments. Call once
/// at start-up (the `recur` binary does); elsewhere than glibc it does nothing.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator tunables; it is called before any threads are started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

/// Products with fewer multiply-adds than this run single-threaded.
pub const PARALLEL_MIN_FLOPS: usize = 4_000_000;

/// `c = a b` or `c += a b`. Shapes: a (M, K), b (K, N), c (M, N); panics naming the shapes if
/// they do not agree (a shape mismatch is a bug in the caller, not a user error).
pub fn matmul<F: Real>(c: ArrayViewMut2<F>, a: ArrayView2<F>, b: ArrayView2<F>, mode: Accumulate) {
    check_shapes("matmul", &c, &a, &b);
    product(c, a, b, mode, blocked::Extras::default());
}

/// `c = a b + 1 bias^T`: an affine layer's output, the bias (length N) added as the product is
/// stored rather than written into `c` first (one pass less over a V-wide output).
pub fn matmul_bias<F: Real>(
    mut c: ArrayViewMut2<F>,
    a: ArrayView2<F>,
    b: ArrayView2<F>,
    bias: ArrayView1<F>,
) {
    check_shapes("matmul_bias", &c, &a, &b);
    let n = c.ncols();
    assert_eq!(bias.len(), n, "matmul_bias: bias of {} for {n} columns", bias.len());
    if let Some(bias32) = bias.as_slice().and_then(as_f32_slice) {
        if fast_path(&c, &a) {
            product(c, a, b, Accumulate::Overwrite, blocked::Extras { bias: Some(bias32), row_sums: None });
            return;
        }
    }
    let shape = c.raw_dim();
    c.assign(&bias.broadcast(shape).expect("a row broadcasts to every row"));
    product(c, a, b, Accumulate::Add, blocked::Extras::default());
}

/// `c = a b` or `c += a b`, and `row_sums[i] += sum_p a[i, p]`: with `a = dy^T` that is an
/// affine layer's `dW` and `db` from one read of `dy` (length M).
pub fn matmul_row_sums<F: Real>(
    c: ArrayViewMut2<F>,
    a: ArrayView2<F>,
    b: ArrayView2<F>,
    mode: Accumulate,
    mut row_sums: ArrayViewMut1<F>,
) {
    check_shapes("matmul_row_sums", &c, &a, &b);
    assert_eq!(row_sums.len(), a.nrows(), "matmul_row_sums: {} sums for {} rows", row_sums.len(), a.nrows());
    if fast_path(&c, &a) {
        if let Some(sums32) = row_sums.as_slice_mut().and_then(as_f32_slice_mut) {
            product(c, a, b, mode, blocked::Extras { bias: None, row_sums: Some(sums32) });
            return;
        }
    }
    product(c, a, b, mode, blocked::Extras::default());
    super::add_row_sums(row_sums, a.t());
}

/// Panics naming the shapes if they do not agree (a shape mismatch is a bug in the caller, not
/// a user error).
fn check_shapes<F: Real>(what: &str, c: &ArrayViewMut2<F>, a: &ArrayView2<F>, b: &ArrayView2<F>) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert!(k == k2 && c.dim() == (m, n), "{what}: a {:?} x b {:?} into c {:?}", a.dim(), b.dim(), c.dim());
}

/// Whether the blocked AVX-512 product takes these operands (shapes checked): f32, a CPU that
/// has it, no empty dimension.
fn fast_path<F: Real>(c: &ArrayViewMut2<F>, a: &ArrayView2<F>) -> bool {
    TypeId::of::<F>() == TypeId::of::<f32>() && blocked::available() && !c.is_empty() && a.ncols() > 0
}

/// The product with its extras: the blocked kernel where [`fast_path`] holds (the extras fused),
/// else the `gemm` crate (callers apply the extras themselves there).
fn product<F: Real>(
    mut c: ArrayViewMut2<F>,
    a: ArrayView2<F>,
    b: ArrayView2<F>,
    mode: Accumulate,
    extras: blocked::Extras,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if mode == Accumulate::Overwrite {
            c.fill(F::zero());
        }
        return;
    }
    if fast_path(&c, &a) {
        let (c32, a32, b32) = (as_f32_mut(c).expect("f32"), as_f32(a).expect("f32"), as_f32(b).expect("f32"));
        blocked::matmul_f32(c32, a32, b32, mode == Accumulate::Add, extras);
        return;
    }
    gemm_crate_product(c, a, b, mode);
}

/// The product through the `gemm` crate (f64 everywhere, f32 without AVX-512); shapes checked,
/// none zero.
fn gemm_crate_product<F: Real>(
    mut c: ArrayViewMut2<F>,
    a: ArrayView2<F>,
    b: ArrayView2<F>,
    mode: Accumulate,
) {
    let ((m, k), n) = (a.dim(), b.dim().1);
    let threads = if m * n * k >= PARALLEL_MIN_FLOPS { Parallelism::Rayon(0) } else { Parallelism::None };
    // Strides copied out as plain numbers (no allocation: this runs every time step).
    let (cs, as_, bs) = (
        [c.strides()[0], c.strides()[1]],
        [a.strides()[0], a.strides()[1]],
        [b.strides()[0], b.strides()[1]],
    );
    // SAFETY: the pointers and strides come from live ndarray views whose shapes were checked
    // above; `c` is a unique (mutable) view, so it cannot alias `a` or `b`.
    INSIDE_GEMM.with(|f| f.set(true));
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            cs[1],
            cs[0],
            mode == Accumulate::Add,
            a.as_ptr(),
            as_[1],
            as_[0],
            b.as_ptr(),
            bs[1],
            bs[0],
            F::one(), // gemm's alpha scales the old destination
            F::one(), // gemm's beta scales the product
            false,
            false,
            false,
            threads,
        );
    }
    INSIDE_GEMM.with(|f| f.set(false));
}

/// The f32 view of an array of `F` (None for f64): the fast kernels are for f32 only.
pub(crate) fn as_f32<F: Real>(x: ArrayView2<'_, F>) -> Option<ArrayView2<'_, f32>> {
    if TypeId::of::<F>() != TypeId::of::<f32>() {
        return None;
    }
    // SAFETY: F is f32 (checked above), so the view is reinterpreted as itself.
    Some(unsafe { std::mem::transmute::<ArrayView2<'_, F>, ArrayView2<'_, f32>>(x) })
}

/// [`as_f32`] for a slice.
fn as_f32_slice<F: Real>(x: &[F]) -> Option<&[f32]> {
    // SAFETY: F is f32 where this returns Some, so the slice is reinterpreted as itself.
    (TypeId::of::<F>() == TypeId::of::<f32>())
        .then(|| unsafe { std::slice::from_raw_parts(x.as_ptr().cast(), x.len()) })
}

/// [`as_f32`] for a mutable slice.
fn as_f32_slice_mut<F: Real>(x: &mut [F]) -> Option<&mut [f32]> {
    // SAFETY: as in as_f32_slice.
    (TypeId::of::<F>() == TypeId::of::<f32>())
        .then(|| unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast(), x.len()) })
}

/// [`as_f32`] for a mutable view.
pub(crate) fn as_f32_mut<F: Real>(x: ArrayViewMut2<'_, F>) -> Option<ArrayViewMut2<'_, f32>> {
    if TypeId::of::<F>() != TypeId::of::<f32>() {
        return None;
    }
    // SAFETY: F is f32 (checked above).
    Some(unsafe { std::mem::transmute::<ArrayViewMut2<'_, F>, ArrayViewMut2<'_, f32>>(x) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    fn naive(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        let (m, k) = a.dim();
        let n = b.dim().1;
        Array2::from_shape_fn((m, n), |(i, j)| (0..k).map(|p| a[[i, p]] * b[[p, j]]).sum())
    }

    #[test]
    fn matches_naive_product_for_plain_and_transposed_views() {
        let a = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 * 0.5 - 2.0);
        let b = Array2::from_shape_fn((4, 5), |(i, j)| (i as f64 - j as f64) * 0.25);
        let want = naive(&a, &b);
        let mut c = Array2::zeros((3, 5));
        matmul(c.view_mut(), a.view(), b.view(), Accumulate::Overwrite);
        assert!((&c - &want).iter().all(|d| d.abs() < 1e-12));
        // A^T B with A stored transposed; and accumulate on top.
        let at = a.t().to_owned();
        matmul(c.view_mut(), at.t(), b.view(), Accumulate::Add);
        assert!((&c - &(&want * 2.0)).iter().all(|d| d.abs() < 1e-12));
        // Write into a transposed destination.
        let mut ct = Array2::zeros((5, 3));
        matmul(ct.view_mut().reversed_axes(), a.view(), b.view(), Accumulate::Overwrite);
        assert!((&ct.t() - &want).iter().all(|d| d.abs() < 1e-12));
    }

    #[test]
    fn the_gemm_crate_path_matches_the_exact_product_in_f32() {
        // On a CPU with AVX-512, matmul takes the blocked kernel for f32 (tested in blocked/tests.rs);
        // the crate's f32 path, taken elsewhere, is checked here against the f64 product.
        let a = Array2::from_shape_fn((30, 70), |(i, j)| ((i * 7 + j * 3) % 11) as f32 * 0.1 - 0.5);
        let b = Array2::from_shape_fn((70, 45), |(i, j)| ((i * 5 + j) % 13) as f32 * 0.1 - 0.6);
        let want = naive(&a.mapv(f64::from), &b.mapv(f64::from));
        let mut c = Array2::from_elem((30, 45), 1.0f32);
        gemm_crate_product(c.view_mut(), a.view(), b.view(), Accumulate::Add);
        assert!(c.iter().zip(&want).all(|(&g, &w)| (g as f64 - 1.0 - w).abs() < 1e-4));
    }

    #[test]
    fn bias_and_row_sums_match_the_unfused_steps_in_f64_and_f32() {
        let a = Array2::from_shape_fn((9, 6), |(i, j)| ((i * 7 + j * 3) % 11) as f64 * 0.1 - 0.5);
        let b = Array2::from_shape_fn((6, 40), |(i, j)| ((i * 5 + j) % 13) as f64 * 0.1 - 0.6);
        let bias = Array1::from_shape_fn(40, |j| j as f64 * 0.5);
        let product = naive(&a, &b);
        let want = &product + &bias;
        let want_sums: Array1<f64> = a.sum_axis(ndarray::Axis(1)) + 1.0;
        // f64: the gemm crate and the separate steps.
        let mut c = Array2::zeros((9, 40));
        matmul_bias(c.view_mut(), a.view(), b.view(), bias.view());
        assert!((&c - &want).iter().all(|d| d.abs() < 1e-12));
        let (mut c, mut sums) = (Array2::zeros((9, 40)), Array1::from_elem(9, 1.0));
        matmul_row_sums(c.view_mut(), a.view(), b.view(), Accumulate::Overwrite, sums.view_mut());
        assert!((&c - &product).iter().all(|d| d.abs() < 1e-12));
        assert!((&sums - &want_sums).iter().all(|d| d.abs() < 1e-12));
        // f32: the blocked kernel where the CPU has AVX-512 (fused), else the same steps.
        let (a32, b32, bias32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32), bias.mapv(|v| v as f32));
        let mut c = Array2::from_elem((9, 40), 7.0f32);
        matmul_bias(c.view_mut(), a32.view(), b32.view(), bias32.view());
        assert!(c.iter().zip(&want).all(|(&g, &w)| (g as f64 - w).abs() < 1e-4));
        let (mut c, mut sums) = (Array2::zeros((9, 40)), Array1::from_elem(9, 1.0f32));
        matmul_row_sums(c.view_mut(), a32.view(), b32.view(), Accumulate::Overwrite, sums.view_mut());
        assert!(c.iter().zip(&product).all(|(&g, &w)| (g as f64 - w).abs() < 1e-4));
        assert!(sums.iter().zip(&want_sums).all(|(&g, &w)| (g as f64 - w).abs() < 1e-4));
    }

    #[test]
    #[should_panic(expected = "matmul: a")]
    fn mismatched_shapes_panic_with_both_shapes() {
        let a = Array2::<f32>::zeros((2, 3));
        let b = Array2::<f32>::zeros((4, 2));
        let mut c = Array2::<f32>::zeros((2, 2));
        matmul(c.view_mut(), a.view(), b.view(), Accumulate::Overwrite);
    }
}
