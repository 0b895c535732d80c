//! recur's own f32 GEMM for CPUs with AVX-512: both operands packed, the loops blocked for the
//! caches, a 12 x 32 register tile, the product split over the GEMM threads.
//!
//! Why not the `gemm` crate here: on an AVX-512 machine (AMD Zen 5, 2026-12-01) it ran a
//! 2048^3 product at about 216 GFLOP/s on two cores, under half of their FMA peak (480-494,
//! measured by bench/fma_peak.c), and the medium model's shapes at 180-230. This
//! file is the textbook (BLIS) structure and nothing more; `recur bench gemm` times both.
//!
//! The loops, outer to inner, and what each keeps in which cache:
//! - `jc` over N in blocks of `NC` columns; `pc` over K in blocks of at most `KC` (equal
//!   blocks, `depth_block`): the B block (KC x NC, 8 MiB at most, in L3) is packed into panels
//!   of 32 columns (`panel[p][0..32]`, zero past N);
//! - `ic` over M in blocks of `MC` rows: the A block (MC x KC, 384 KiB at most, in L2) is
//!   packed into tiles of 12 rows (`tile[p][0..12]`), so the kernel's broadcasts read
//!   consecutive addresses;
//! - `jr` over the B panels (one panel, KC x 32 x 4 bytes = 128 KiB at most, in L2 beside the A
//!   block) and `ir` over the A tiles: the kernel forms a 12 x 32 block of C in 24 zmm
//!   accumulators, per step of k two loads of B, twelve broadcasts of A and 24 FMAs.
//!
//! The blocks are deep because C is read and written once per K block: for the decoder's 28 MB
//! of scores that traffic, not the multiply-adds, set the pace at 256 deep (a panel in L1). A
//! panel read from L2 instead is well within its bandwidth: the kernel takes 176 bytes (two B
//! loads, twelve A broadcasts) per 12 cycles of FMAs.
//!
//! The first K block writes or adds to C as asked; later ones add. Threads: products of at least
//! [`PARALLEL_MIN_FLOPS`] multiply-adds are cut in as many parts as the pool has threads, along
//! the longer of M and N (at tile boundaries), each part packing its own operands. The packing
//! buffers are per thread, allocated once at their full size and reused, so a training loop
//! allocates nothing here.
//!
//! Used by [`super::matmul`] for f32 when the CPU has AVX-512F; f64 and other CPUs use the
//! `gemm` crate. Results differ from the exact product only by f32 rounding (tested in
//! `tests.rs` against it in f64), and never depend on how the product was split between threads.
//!
//! Files: `mod.rs` the loops, the threads and the kernel; `pack.rs` the packing of A and B;
//! `tests.rs` the products against the exact ones.

// The SIMD kernels here are x86-64's; on other targets the portable paths run and these parts
// stay compiled but unused.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code, unused_variables))]

mod pack;
#[cfg(test)]
mod tests;

pub(crate) use pack::{pack_a, pack_b};

use super::gemm::PARALLEL_MIN_FLOPS;
// `math` for pack.rs (`super::math::sum_f32`).
use super::math;
use ndarray::{s, ArrayView2, ArrayViewMut2, Axis};
use std::cell::RefCell;

/// Rows of the register tile: 12 x 2 accumulators, 2 B registers and a broadcast use 27 of the
/// 32 zmm registers.
pub(crate) const MR: usize = 12;
/// Columns of the register tile and of a packed B panel: two zmm registers of f32.
pub(crate) const NR: usize = 32;
/// Greatest depth of a block (K is cut into equal blocks of at most this; [`depth_block`]).
/// Measured against 256 (a panel in L1) by alternating the two in one process: 2048^3 1.12-1.14x,
/// the medium models' decoder products 1.07-1.19x, whole training steps 1.04-1.07x.
const KC: usize = 1024;
/// Rows of a packed A block (a multiple of MR): 96 x 1024 floats = 384 KiB, in L2.
const MC: usize = 96;
/// Columns of a packed B block (a multiple of NR): 1024 x 2048 floats = 8 MiB, in L3 (at 4096
/// columns the two threads' blocks outgrew it: the decoder's forward product lost its gain).
const NC: usize = 2048;

/// The depth of K's blocks: equal, at most [`KC`] (700 = one block of 700, not 256 + 256 +
/// 188: the last of unequal blocks would pass over C for few multiply-adds).
fn depth_block(k: usize) -> usize {
    k.div_ceil(k.div_ceil(KC))
}

/// Whether this CPU runs the kernel (checked once by std, then a load).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

std::thread_local! {
    /// This thread's packing buffers (A block, B block), allocated at first use.
    static BUFFERS: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// What a product does besides `c (+)= a b`, fused into its passes so that a large operand is
/// not read or written once more (the language model's V-wide decoder: 28 MB of scores).
#[derive(Default)]
pub struct Extras<'a> {
    /// `c = a b + 1 bias^T` (with `add` false): the first K block stores its sums plus the bias
    /// instead of the caller filling c with it first. Length N.
    pub bias: Option<&'a [f32]>,
    /// `row_sums[i] += sum_p a[i, p]`, added while A is packed (a bias gradient when
    /// a = dY^T). Length M.
    pub row_sums: Option<&'a mut [f32]>,
}

/// `c = a b` (`add` false) or `c += a b`, with the [`Extras`]; a (M, K), b (K, N), c (M, N),
/// any strides, all dimensions at least 1. The caller checks the shapes and [`available`].
pub fn matmul_f32(c: ArrayViewMut2<f32>, a: ArrayView2<f32>, b: ArrayView2<f32>, add: bool, extras: Extras) {
    let (m, k) = a.dim();
    let n = b.dim().1;
    debug_assert!(
        extras.bias.is_none_or(|b| b.len() == n) && extras.row_sums.as_ref().is_none_or(|s| s.len() == m)
    );
    let parts = if m * n * k >= PARALLEL_MIN_FLOPS { rayon::current_num_threads() } else { 1 };
    product_in_parts(c, a, b, add, extras, parts);
}

/// The product cut into `parts` pieces of C, run in parallel (recursive halving). A cut along N
/// splits the bias, and gives the row sums to the first piece only (both pack the same rows);
/// a cut along M splits the row sums.
fn product_in_parts(
    c: ArrayViewMut2<f32>,
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    add: bool,
    extras: Extras,
    parts: usize,
) {
    let (m, n) = c.dim();
    let first = parts / 2;
    if parts >= 2 && n >= m && n > NR {
        let cut = (n * first / parts).div_ceil(NR) * NR;
        if cut < n {
            let (c1, c2) = c.split_at(Axis(1), cut);
            let (b1, b2) = b.split_at(Axis(1), cut);
            let (bias1, bias2) = match extras.bias {
                Some(bias) => (Some(&bias[..cut]), Some(&bias[cut..])),
                None => (None, None),
            };
            let extras1 = Extras { bias: bias1, row_sums: extras.row_sums };
            let extras2 = Extras { bias: bias2, row_sums: None };
            rayon::join(
                || product_in_parts(c1, a, b1, add, extras1, first),
                || product_in_parts(c2, a, b2, add, extras2, parts - first),
            );
            return;
        }
    } else if parts >= 2 && m > MR {
        let cut = (m * first / parts).div_ceil(MR) * MR;
        if cut < m {
            let (c1, c2) = c.split_at(Axis(0), cut);
            let (a1, a2) = a.split_at(Axis(0), cut);
            let (sums1, sums2) = match extras.row_sums {
                Some(sums) => {
                    let (s1, s2) = sums.split_at_mut(cut);
                    (Some(s1), Some(s2))
                }
                None => (None, None),
            };
            let extras1 = Extras { bias: extras.bias, row_sums: sums1 };
            let extras2 = Extras { bias: extras.bias, row_sums: sums2 };
            rayon::join(
                || product_in_parts(c1, a1, b, add, extras1, first),
                || product_in_parts(c2, a2, b, add, extras2, parts - first),
            );
            return;
        }
    }
    BUFFERS.with(|buffers| {
        let (a_block, b_block) = &mut *buffers.borrow_mut();
        if a_block.is_empty() {
            *a_block = vec![0.0; MC * KC];
            *b_block = vec![0.0; KC * NC];
        }
        blocked_product(c, a, b, add, extras, a_block, b_block);
    });
}

/// The blocked loops on one thread.
fn blocked_product(
    mut c: ArrayViewMut2<f32>,
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    add: bool,
    mut extras: Extras,
    a_block: &mut [f32],
    b_block: &mut [f32],
) {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    let c_ptr = c.as_mut_ptr();
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        // The first K block of a write adds the bias; later blocks add to what is there.
        let bias = match extras.bias {
            Some(bias) if !add => bias[jc..].as_ptr(),
            _ => std::ptr::null(),
        };
        let depth = depth_block(k);
        for pc in (0..k).step_by(depth) {
            let kc = depth.min(k - pc);
            pack_b(b_block, b.slice(s![pc..pc + kc, jc..jc + nc]));
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                // Each element of A is packed once per column block: sum it on the first.
                let sums = match &mut extras.row_sums {
                    Some(sums) if jc == 0 => Some(&mut sums[ic..ic + mc]),
                    _ => None,
                };
                pack_a(a_block, a.slice(s![ic..ic + mc, pc..pc + kc]), sums);
                // SAFETY: the block (ic.., jc..) of mc x nc lies inside c (ranges from its shape).
                let c_block = unsafe { c_ptr.offset(ic as isize * c_rs + jc as isize * c_cs) };
                let first = pc == 0 && !add;
                let out = Out {
                    c: c_block,
                    rs: c_rs,
                    cs: c_cs,
                    cols: nc,
                    add: !first,
                    bias: if first { bias } else { std::ptr::null() },
                };
                // SAFETY: as above; the blocks were packed from (mc, kc) and (kc, nc); the bias,
                // where given, holds nc values from jc.
                unsafe { block_product(out, mc, a_block, b_block, kc) };
            }
        }
    }
}

/// `out` (`rows` x `out.cols`) (+)= packed A tiles times packed B panels, kc deep: the kernel
/// over every (panel, tile) pair, panels outer so that each panel stays in L1 across the tiles.
///
/// SAFETY: `out` covers `rows` x `out.cols` of C (and its bias, if not null, `out.cols` values);
/// `tiles` holds `rows.div_ceil(MR)` tiles and `panels` `out.cols.div_ceil(NR)` panels, kc
/// deep; the CPU has AVX-512F.
pub(crate) unsafe fn block_product(out: Out, rows: usize, tiles: &[f32], panels: &[f32], kc: usize) {
    for jr in (0..out.cols).step_by(NR) {
        let panel = &panels[jr * kc..(jr + NR) * kc];
        for ir in (0..rows).step_by(MR) {
            let tile = &tiles[ir * kc..(ir + MR) * kc];
            let c = out.c.wrapping_offset(ir as isize * out.rs + jr as isize * out.cs);
            let bias = if out.bias.is_null() { out.bias } else { out.bias.wrapping_add(jr) };
            let cols = NR.min(out.cols - jr);
            // SAFETY: the caller's guarantees, restricted to this tile and panel.
            unsafe { kernel(MR.min(rows - ir), tile, panel, kc, Out { c, cols, bias, ..out }) };
        }
    }
}

/// Where a kernel's block of C goes: its first element, strides, real columns, add or write.
#[derive(Clone, Copy)]
pub(crate) struct Out {
    pub c: *mut f32,
    pub rs: isize,
    pub cs: isize,
    pub cols: usize,
    pub add: bool,
    /// Null, or the `cols` values added to every row when writing (not adding).
    pub bias: *const f32,
}

/// A `rows` x 32 block of C from a packed A tile (`[p][MR]`) and a packed B panel (`[p][32]`).
///
/// SAFETY: `rows` <= MR; `tile` holds kc x MR values and `panel` kc x 32; `out` covers `rows` x
/// `out.cols` of C; the CPU has AVX-512F ([`available`]).
pub(crate) unsafe fn kernel(rows: usize, tile: &[f32], panel: &[f32], kc: usize, out: Out) {
    debug_assert!(rows <= MR && tile.len() >= (kc - 1) * MR + rows && panel.len() >= kc * NR);
    #[cfg(target_arch = "x86_64")]
    unsafe {
        let (a, b) = (tile.as_ptr(), panel.as_ptr());
        if out.cols > 16 {
            rows_product::<2>(rows, a, b, kc, out)
        } else {
            // The last panel of a product whose N is 16 or less past a multiple of 32 (the
            // book's H = 100): half the multiply-adds.
            rows_product::<1>(rows, a, b, kc, out)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("the AVX-512 kernel runs only on x86_64 ({rows}, {kc}, {})", out.cols);
}

/// [`kernel`] for W zmm registers of columns (1 or 2).
#[cfg(target_arch = "x86_64")]
unsafe fn rows_product<const W: usize>(rows: usize, a: *const f32, b: *const f32, kc: usize, out: Out) {
    // SAFETY: the caller's ([`kernel`]'s) guarantees.
    unsafe {
        match rows {
            12 => tile_product::<12, W>(a, b, kc, out),
            11 => tile_product::<11, W>(a, b, kc, out),
            10 => tile_product::<10, W>(a, b, kc, out),
            9 => tile_product::<9, W>(a, b, kc, out),
            8 => tile_product::<8, W>(a, b, kc, out),
            7 => tile_product::<7, W>(a, b, kc, out),
            6 => tile_product::<6, W>(a, b, kc, out),
            5 => tile_product::<5, W>(a, b, kc, out),
            4 => tile_product::<4, W>(a, b, kc, out),
            3 => tile_product::<3, W>(a, b, kc, out),
            2 => tile_product::<2, W>(a, b, kc, out),
            _ => tile_product::<1, W>(a, b, kc, out),
        }
    }
}

/// R rows x 16 W columns of C: R x W accumulators.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn tile_product<const R: usize, const W: usize>(a: *const f32, b: *const f32, kc: usize, out: Out) {
    use std::arch::x86_64::*;
    // The C block is read (adding) or written only after the loop: ask for its lines now, so
    // that they arrive during the multiply-adds instead of stalling the stores (measured 1.09-1.18x
    // on the products whose C is too large for L2 and is passed once per K block).
    if out.cs == 1 {
        for r in 0..R {
            // A row's 16 W floats, unaligned: the lines of its first and last value, and for
            // W = 2 the one between.
            let row = out.c.wrapping_offset(r as isize * out.rs) as *const i8;
            _mm_prefetch::<_MM_HINT_T0>(row);
            _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(64 * W - 4));
            if W == 2 {
                _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(64));
            }
        }
    }
    // (For R > 8 LLVM zeroes this 1.5 KiB array with a memset call before promoting it to
    // registers for the loop; one array per column register avoided the call but measured
    // 10-15% slower on the large products, and starting the sums with a multiply instead of
    // zeros measured no faster, so it stays.)
    let mut acc = [[_mm512_setzero_ps(); 2]; R];
    for p in 0..kc {
        let b0 = _mm512_loadu_ps(b.add(p * NR));
        let b1 = if W == 2 { _mm512_loadu_ps(b.add(p * NR + 16)) } else { b0 };
        for (r, acc) in acc.iter_mut().enumerate() {
            let av = _mm512_set1_ps(*a.add(p * MR + r));
            acc[0] = _mm512_fmadd_ps(av, b0, acc[0]);
            if W == 2 {
                acc[1] = _mm512_fmadd_ps(av, b1, acc[1]);
            }
        }
    }
    if out.cs == 1 {
        // Masked loads and stores touch only the real columns (masked-off lanes never fault).
        let mask = |from: usize| -> __mmask16 {
            let n = out.cols.saturating_sub(from).min(16);
            ((1u32 << n) - 1) as __mmask16
        };
        let (lo_mask, hi_mask) = (mask(0), mask(16));
        for (r, acc) in acc.iter().enumerate() {
            let lo_at = out.c.wrapping_offset(r as isize * out.rs);
            let hi_at = lo_at.wrapping_add(16);
            let (mut lo, mut hi) = (acc[0], acc[1]);
            if out.add {
                lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(lo_mask, lo_at));
                hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(hi_mask, hi_at));
            } else if !out.bias.is_null() {
                lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(lo_mask, out.bias));
                hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(hi_mask, out.bias.wrapping_add(16)));
            }
            _mm512_mask_storeu_ps(lo_at, lo_mask, lo);
            _mm512_mask_storeu_ps(hi_at, hi_mask, hi);
        }
    } else {
        let mut row = [0.0f32; NR];
        for (r, acc) in acc.iter().enumerate() {
            _mm512_storeu_ps(row.as_mut_ptr(), acc[0]);
            _mm512_storeu_ps(row.as_mut_ptr().add(16), acc[1]);
            for (q, &v) in row.iter().enumerate().take(out.cols) {
                let dst = out.c.offset(r as isize * out.rs + q as isize * out.cs);
                *dst = match (out.add, out.bias.is_null()) {
                    (true, _) => *dst + v,
                    (false, true) => v,
                    (false, false) => v + *out.bias.add(q),
                };
            }
        }
    }
}
