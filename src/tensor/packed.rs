//! A right-hand matrix packed once for many products with few rows: the recurrent weight of a
//! Time layer, used by every step of a block (`h_{t-1} W_hh^T` forward, `dG_t W_hh` backward).
//!
//! A general GEMM packs both operands on every call, and with M = the batch size (20) the
//! packing and its thread hand-offs cost as much as the arithmetic: on an AVX2 machine the
//! `gemm` crate ran the medium model's per-step products at 71-93 GFLOP/s where the AVX2 tile
//! here ran them at 125-177; on an AVX-512 machine `blocked`'s kernel over panels packed once
//! ran them at 350-430 against 140-250 for a product that packs each time (`recur bench gemm`;
//! bench/README.md, "Optimisations, judged one by one").
//!
//! B is laid out once per block for the best kernel the CPU has (`Kernel`):
//! - AVX-512F: panels of 32 columns for [`blocked`]'s 12 x 32 kernel over the whole depth; each
//!   product packs its few rows of A into tiles (a few KiB) and runs the kernel;
//! - AVX2 + FMA: panels of 16 columns (`panel[k][0..16]`, zero-padded past N) and a tile of up
//!   to 5 rows x 16 columns: 10 accumulators, two loads of B and five broadcasts of A per step
//!   of k, A read in place;
//! - otherwise (f64 gradient checks, other CPUs) a plain copy, and the product goes through
//!   [`matmul`].
//!
//! The panels are split between two threads when the product is large enough to pay for the
//! hand-off, and packed by two threads when the matrix is large (the medium model's W_hh).
//! Results agree with [`matmul`] to rounding (tested below for every kernel the CPU runs).

// The SIMD kernels here are x86-64's; on other targets the portable paths run and these parts
// stay compiled but unused.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code, unused_variables))]

use super::blocked;
use super::gemm::{as_f32, as_f32_mut, matmul, Accumulate, PARALLEL_MIN_FLOPS};
use super::Real;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

/// Columns per panel: two AVX2 registers of f32.
const NR: usize = 16;
/// Rows per tile: 5 x 2 accumulators, 2 B registers and a broadcast fit the 16 AVX2 registers.
const MR: usize = 5;
/// Matrices of at least this many values are packed by two threads. Chosen, not tuned: the
/// medium model's W_hh (1.7 M values) is above it, the book's ch06 (40 K) below.
const PARALLEL_MIN_PACK: usize = 1 << 18;

/// Where N columns of 32-column panels are cut in two for two threads (packing or product):
/// the first part takes the larger half of the panels.
fn half_of_panels(n: usize) -> usize {
    n.div_ceil(blocked::NR).div_ceil(2) * blocked::NR
}

/// B (K, N) packed for [`PackedRhs::matmul`].
#[derive(Clone, Debug)]
pub struct PackedRhs<F: Real> {
    /// Panel layout (f32 fast path) or a plain copy of B (every other case).
    storage: Storage<F>,
    k: usize,
    n: usize,
}

#[derive(Clone, Debug)]
enum Storage<F: Real> {
    /// 32-column panels for the AVX-512 kernel of [`blocked`] (the whole depth in one block).
    Wide(Vec<f32>),
    /// 16-column panels for the AVX2 tile below.
    Panels(Vec<f32>),
    Plain(Array2<F>),
}

std::thread_local! {
    /// The left operand packed into the AVX-512 kernel's row tiles, per calling thread.
    static A_TILES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl<F: Real> Default for PackedRhs<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> PackedRhs<F> {
    /// An empty packing (call `pack` before use).
    pub fn new() -> Self {
        PackedRhs { storage: Storage::Plain(Array2::zeros((0, 0))), k: 0, n: 0 }
    }

    /// Packs `b` (K, N), any strides (a transposed view packs as cheaply as a plain one),
    /// reusing the previous buffer when the size is unchanged.
    pub fn pack(&mut self, b: ArrayView2<F>) {
        self.pack_for(b, Kernel::best());
    }

    /// [`PackedRhs::pack`] for a given kernel (tests run every kernel the CPU has).
    fn pack_for(&mut self, b: ArrayView2<F>, kernel: Kernel) {
        let (k, n) = b.dim();
        (self.k, self.n) = (k, n);
        let b32 = match (as_f32(b), kernel) {
            (Some(b32), Kernel::Avx512 | Kernel::Avx2) => b32,
            _ => {
                match &mut self.storage {
                    Storage::Plain(copy) if copy.dim() == (k, n) => copy.assign(&b),
                    storage => *storage = Storage::Plain(b.to_owned()),
                }
                return;
            }
        };
        if kernel == Kernel::Avx512 {
            let len = n.div_ceil(blocked::NR) * blocked::NR * k;
            if !matches!(&self.storage, Storage::Wide(p) if p.len() == len) {
                self.storage = Storage::Wide(vec![0.0; len]);
            }
            let Storage::Wide(packed) = &mut self.storage else { unreachable!() };
            if k * n >= PARALLEL_MIN_PACK && n > blocked::NR {
                // Half the panels each on two threads: this runs once per block per layer and
                // direction, between products that keep both cores busy.
                let half = half_of_panels(n);
                let (p1, p2) = packed.split_at_mut(half * k);
                let (b1, b2) = b32.split_at(ndarray::Axis(1), half);
                rayon::join(|| blocked::pack_b(p1, b1), || blocked::pack_b(p2, b2));
            } else {
                blocked::pack_b(packed, b32);
            }
            return;
        }
        let panels = n.div_ceil(NR);
        let len = panels * k * NR;
        if !matches!(&self.storage, Storage::Panels(p) if p.len() == len) {
            self.storage = Storage::Panels(vec![0.0; len]);
        }
        let Storage::Panels(packed) = &mut self.storage else { unreachable!() };
        for (j, panel) in packed.chunks_exact_mut(k * NR).enumerate() {
            let cols = NR.min(n - j * NR);
            for (p, dst) in panel.chunks_exact_mut(NR).enumerate() {
                for (q, d) in dst.iter_mut().enumerate() {
                    *d = if q < cols { b32[[p, j * NR + q]] } else { 0.0 };
                }
            }
        }
    }

    /// (K, N) of the packed matrix.
    pub fn dim(&self) -> (usize, usize) {
        (self.k, self.n)
    }

    /// `c = a B` or `c += a B`: a (M, K), c (M, N), any strides.
    pub fn matmul(&self, c: ArrayViewMut2<F>, a: ArrayView2<F>, mode: Accumulate) {
        let (m, k) = a.dim();
        assert!(
            k == self.k && c.dim() == (m, self.n),
            "PackedRhs::matmul: a {:?} x packed {:?} into c {:?}",
            a.dim(),
            (self.k, self.n),
            c.dim()
        );
        match &self.storage {
            Storage::Plain(b) => matmul(c, a, b.view(), mode),
            Storage::Wide(panels) => {
                let (a, c) = (as_f32(a).expect("panels are packed for f32"), as_f32_mut(c).expect("f32"));
                wide_product(c, a, panels, mode == Accumulate::Add);
            }
            Storage::Panels(panels) => {
                let (a, c) = (as_f32(a).expect("panels are packed for f32"), as_f32_mut(c).expect("f32"));
                let add = mode == Accumulate::Add;
                if m * self.n * k >= PARALLEL_MIN_FLOPS && self.n > NR {
                    // Two halves of the panels, one per core.
                    let half = self.n.div_ceil(NR).div_ceil(2) * NR;
                    let (c1, c2) = c.split_at(ndarray::Axis(1), half);
                    let (p1, p2) = panels.split_at(half / NR * k * NR);
                    rayon::join(|| panel_product(c1, a, p1, k, add), || panel_product(c2, a, p2, k, add));
                } else {
                    panel_product(c, a, panels, k, add);
                }
            }
        }
    }
}

/// Which product the packed matrix is laid out for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    /// [`blocked`]'s 12 x 32 AVX-512 kernel over 32-column panels.
    Avx512,
    /// The 5 x 16 AVX2/FMA tile below over 16-column panels.
    Avx2,
    /// A plain copy through [`matmul`] (f64, other CPUs).
    Plain,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    fn best() -> Kernel {
        if blocked::available() {
            Kernel::Avx512
        } else if avx2_available() {
            Kernel::Avx2
        } else {
            Kernel::Plain
        }
    }
}

fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// c (M, N) (+)= a (M, K) times the 32-column panels: a packed into row tiles once, then the
/// panels split between two threads when the product is large enough to pay for the hand-off.
fn wide_product(c: ArrayViewMut2<f32>, a: ArrayView2<f32>, panels: &[f32], add: bool) {
    let ((m, k), n) = (a.dim(), c.dim().1);
    A_TILES.with(|tiles| {
        let mut tiles = tiles.borrow_mut();
        let len = m.div_ceil(blocked::MR) * blocked::MR * k;
        if tiles.len() < len {
            tiles.resize(len, 0.0);
        }
        blocked::pack_a(&mut tiles, a, None);
        let tiles: &[f32] = &tiles;
        let run = |mut c: ArrayViewMut2<f32>, panels: &[f32]| {
            let (rs, cs) = (c.strides()[0], c.strides()[1]);
            let out =
                blocked::Out { c: c.as_mut_ptr(), rs, cs, cols: c.dim().1, add, bias: std::ptr::null() };
            // SAFETY: out covers c; the tiles were packed from a (m, k) and the panels from the
            // packed matrix's (k, n) columns; Wide panels exist only where the kernel runs.
            unsafe { blocked::block_product(out, m, tiles, panels, k) };
        };
        if m * n * k >= PARALLEL_MIN_FLOPS && n > blocked::NR {
            let half = half_of_panels(n);
            let (c1, c2) = c.split_at(ndarray::Axis(1), half);
            let (p1, p2) = panels.split_at(half * k);
            rayon::join(|| run(c1, p1), || run(c2, p2));
        } else {
            run(c, panels);
        }
    });
}

/// c (M, n) (+)= a (M, K) times the panels (n.div_ceil(16) of them, each K x 16).
fn panel_product(mut c: ArrayViewMut2<f32>, a: ArrayView2<f32>, panels: &[f32], k: usize, add: bool) {
    let (m, n) = c.dim();
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    for (j, panel) in panels.chunks_exact(k * NR).enumerate() {
        let cols = NR.min(n - j * NR);
        for row in (0..m).step_by(MR) {
            let rows = MR.min(m - row);
            // SAFETY: rows `row..row + rows` of a and c and columns `j*16..j*16 + cols` of c exist
            // (bounds from the views' shapes); the panel holds k x 16 values; the kernel was
            // checked available when these panels were packed.
            unsafe {
                let a_ptr = a.as_ptr().offset(row as isize * a_rs);
                let c_ptr = c.as_mut_ptr().offset(row as isize * c_rs + (j * NR) as isize * c_cs);
                let tile =
                    Tile { a: a_ptr, a_rs, a_cs, b: panel.as_ptr(), k, c: c_ptr, c_rs, c_cs, cols, add };
                match rows {
                    5 => tile.run::<5>(),
                    4 => tile.run::<4>(),
                    3 => tile.run::<3>(),
                    2 => tile.run::<2>(),
                    _ => tile.run::<1>(),
                }
            }
        }
    }
}

/// One R x 16 block of c from R rows of a and one panel.
struct Tile {
    a: *const f32,
    a_rs: isize,
    a_cs: isize,
    b: *const f32,
    k: usize,
    c: *mut f32,
    c_rs: isize,
    c_cs: isize,
    cols: usize,
    add: bool,
}

impl Tile {
    /// SAFETY: the caller guarantees the pointers cover R rows of a (k deep), the k x 16 panel
    /// and R x `cols` of c, and that the CPU has AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run<const R: usize>(&self) {
        use std::arch::x86_64::*;
        let mut acc = [[_mm256_setzero_ps(); 2]; R];
        for p in 0..self.k {
            let b0 = _mm256_loadu_ps(self.b.add(p * NR));
            let b1 = _mm256_loadu_ps(self.b.add(p * NR + 8));
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_ps(*self.a.offset(r as isize * self.a_rs + p as isize * self.a_cs));
                acc[0] = _mm256_fmadd_ps(av, b0, acc[0]);
                acc[1] = _mm256_fmadd_ps(av, b1, acc[1]);
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let c = self.c.offset(r as isize * self.c_rs);
            if self.cols == NR && self.c_cs == 1 {
                let (mut lo, mut hi) = (acc[0], acc[1]);
                if self.add {
                    lo = _mm256_add_ps(lo, _mm256_loadu_ps(c));
                    hi = _mm256_add_ps(hi, _mm256_loadu_ps(c.add(8)));
                }
                _mm256_storeu_ps(c, lo);
                _mm256_storeu_ps(c.add(8), hi);
            } else {
                let mut row = [0.0f32; NR];
                _mm256_storeu_ps(row.as_mut_ptr(), acc[0]);
                _mm256_storeu_ps(row.as_mut_ptr().add(8), acc[1]);
                for (q, &v) in row.iter().enumerate().take(self.cols) {
                    let dst = c.offset(q as isize * self.c_cs);
                    *dst = if self.add { *dst + v } else { v };
                }
            }
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn run<const R: usize>(&self) {
        unreachable!("panels are only packed on x86_64")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Rng;

    fn random(rng: &mut Rng, shape: (usize, usize)) -> Array2<f32> {
        let mut x = Array2::zeros(shape);
        x.iter_mut().for_each(|v| *v = rng.uniform() as f32 - 0.5);
        x
    }

    #[test]
    fn agrees_with_matmul_for_every_tile_edge_stride_and_mode() {
        let mut rng = Rng::new(3);
        // Rows: multiples of 5 and every remainder; columns: whole and partial panels; B stored
        // transposed (forward's W_hh^T) and row-major (backward's W_hh); a large case to take
        // the two-thread splits of the product and of the packing.
        for (m, k, n) in [(1, 3, 1), (4, 7, 15), (5, 16, 16), (7, 9, 17), (20, 65, 260), (20, 650, 520)] {
            let a = random(&mut rng, (m, k));
            let w = random(&mut rng, (n, k)); // stored (N, K) like W_hh: B = w^T
            let w_t = w.t().as_standard_layout().into_owned(); // B stored (K, N), row-major
            for (kernel, b) in
                kernels().into_iter().flat_map(|kernel| [(kernel, w.t()), (kernel, w_t.view())])
            {
                let mut packed = PackedRhs::new();
                packed.pack_for(b, kernel);
                for mode in [Accumulate::Overwrite, Accumulate::Add] {
                    let start = random(&mut rng, (m, n));
                    let (mut want, mut got) = (start.clone(), start.clone());
                    matmul(want.view_mut(), a.view(), w.t(), mode);
                    packed.matmul(got.view_mut(), a.view(), mode);
                    let worst = (&want - &got).iter().fold(0.0f32, |m, d| m.max(d.abs()));
                    assert!(worst < 1e-4, "({m}, {k}, {n}) {mode:?} {kernel:?}: worst difference {worst}");
                    // A strided destination and source (a column slice of a wider state).
                    let wide = random(&mut rng, (m, 2 * k));
                    let mut got_t = Array2::<f32>::zeros((n, m));
                    packed.matmul(
                        got_t.view_mut().reversed_axes(),
                        wide.slice(ndarray::s![.., ..k]),
                        Accumulate::Overwrite,
                    );
                    let mut want_t = Array2::<f32>::zeros((m, n));
                    matmul(want_t.view_mut(), wide.slice(ndarray::s![.., ..k]), w.t(), Accumulate::Overwrite);
                    assert!((&want_t - &got_t.t()).iter().all(|d| d.abs() < 1e-4), "{kernel:?}");
                }
            }
        }
    }

    /// Every kernel this CPU runs, saying which are missing (their test cannot run here).
    fn kernels() -> Vec<Kernel> {
        let mut kernels = vec![Kernel::Plain];
        for (kernel, available) in [(Kernel::Avx2, avx2_available()), (Kernel::Avx512, blocked::available())]
        {
            if available {
                kernels.push(kernel);
            } else {
                eprintln!("SKIPPED: this CPU cannot run the {kernel:?} kernel; its packed product is not tested here");
            }
        }
        kernels
    }

    #[test]
    fn f64_falls_back_to_an_exact_plain_product() {
        let a = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 * 0.5);
        let b = Array2::from_shape_fn((4, 18), |(i, j)| i as f64 - j as f64 * 0.25);
        let mut packed = PackedRhs::new();
        packed.pack(b.view());
        let (mut want, mut got) = (Array2::zeros((3, 18)), Array2::zeros((3, 18)));
        matmul(want.view_mut(), a.view(), b.view(), Accumulate::Overwrite);
        packed.matmul(got.view_mut(), a.view(), Accumulate::Overwrite);
        assert_eq!(want, got);
    }
}
