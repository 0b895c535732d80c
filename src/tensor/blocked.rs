//! recur's own f32 GEMM for CPUs with AVX-512: both operands packed, the loops blocked for the
//! caches, a 12 x 32 register tile, the product split over the GEMM threads.
//!
//! Why not the `gemm` crate here: on an AVX-512 machine (AMD Zen 5, 2026-12-01) it ran a
//! 2048^3 product at about 216 GFLOP/s on two cores, under half of their FMA peak (480-494,
//! measured by bench/fma_peak.c), and the medium model's shapes at 180-230. This
//! file is the textbook (BLIS) structure and nothing more; `recur bench gemm` times both.
//!
//! The loops, outer to inner, and what each keeps in which cache:
//! - `jc` over N in blocks of [`NC`] columns; `pc` over K in blocks of at most [`KC`] (equal
//!   blocks, [`depth_block`]): the B block (KC x NC, 8 MiB at most, in L3) is packed into panels
//!   of 32 columns (`panel[p][0..32]`, zero past N);
//! - `ic` over M in blocks of [`MC`] rows: the A block (MC x KC, 384 KiB at most, in L2) is
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
//! `gemm` crate. Results differ from the exact product only by f32 rounding (tested below
//! against it in f64), and never depend on how the product was split between threads.

use super::gemm::PARALLEL_MIN_FLOPS;
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

/// Packs a (rows, kc) into tiles of MR rows, each laid out `[p][r]` with stride MR (the last
/// tile's missing rows are never read).
pub(crate) fn pack_a(dst: &mut [f32], a: ArrayView2<f32>, mut row_sums: Option<&mut [f32]>) {
    let (rows, kc) = a.dim();
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    let src = a.as_ptr();
    let tiles = &mut dst[..rows.div_ceil(MR) * MR * kc];
    // SAFETY (both loops): (r0 + r, p) with r < rows - r0, p < kc is inside a's shape, and
    // t * MR * kc + p * MR + r inside the tiles (t < rows.div_ceil(MR), r < MR).
    if cs == 1 {
        // Row-major a: the rows of a tile read front to back, together.
        for (t, tile) in tiles.chunks_exact_mut(MR * kc).enumerate() {
            let r0 = t * MR;
            let tile_rows = MR.min(rows - r0);
            // A whole tile, eight columns at a time: 12 x 8 values transposed in registers
            // (measured 1.03-1.06x on whole training steps, with the same in pack_b: before, this
            // scalar copy and pack_b's were 6% and 5% of the medium models' time).
            let vector_depth = if tile_rows == MR && cfg!(target_arch = "x86_64") { kc / 8 * 8 } else { 0 };
            #[cfg(target_arch = "x86_64")]
            for p in (0..vector_depth).step_by(8) {
                // SAFETY: rows r0..r0 + 12 and columns p..p + 8 are inside a; the tile's rows
                // p..p + 8 of 12 values inside the tile.
                unsafe {
                    let from = src.offset(r0 as isize * rs).add(p);
                    let to = tile.as_mut_ptr().add(p * MR);
                    transpose_8x8(from, rs, to, MR);
                    transpose_4x8(from.offset(8 * rs), rs, to.add(8), MR);
                }
            }
            for r in 0..tile_rows {
                let row = unsafe { src.offset((r0 + r) as isize * rs) };
                for p in vector_depth..kc {
                    unsafe { *tile.get_unchecked_mut(p * MR + r) = *row.add(p) };
                }
                if let Some(sums) = &mut row_sums {
                    // A second pass over the row, now in L1 (a sum inside the loop above would
                    // chain every copy to the last addition's latency).
                    let row = unsafe { std::slice::from_raw_parts(row, kc) };
                    sums[r0 + r] += super::math::sum_f32(row);
                }
            }
        }
    } else {
        // A transposed view (dW = dY^T X): each column of a is a contiguous row of the stored
        // matrix, read whole across all the tiles; a tile at a time would touch kc rows of a
        // matrix too large for the cache for each 12 values. The rows PACK_AHEAD further on are
        // asked for now.
        for p in 0..kc {
            let column = unsafe { src.offset(p as isize * cs) };
            #[cfg(target_arch = "x86_64")]
            if rs == 1 && p + PACK_AHEAD < kc {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                let ahead = src.wrapping_offset((p + PACK_AHEAD) as isize * cs) as *const i8;
                for byte in (0..rows * 4).step_by(64) {
                    unsafe { _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(byte)) };
                }
                unsafe { _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(rows * 4 - 1)) };
            }
            for (t, tile) in tiles.chunks_exact_mut(MR * kc).enumerate() {
                let r0 = t * MR;
                if rs == 1 && r0 + MR <= rows {
                    // Twelve consecutive values: one fixed-size copy (vector moves), not twelve
                    // scalar ones.
                    let values = unsafe { (column.add(r0) as *const [f32; MR]).read_unaligned() };
                    unsafe { *(tile.as_mut_ptr().add(p * MR) as *mut [f32; MR]) = values };
                    if let Some(sums) = &mut row_sums {
                        sums[r0..r0 + MR].iter_mut().zip(values).for_each(|(s, v)| *s += v);
                    }
                    continue;
                }
                for r in 0..MR.min(rows - r0) {
                    let v = unsafe { *column.offset((r0 + r) as isize * rs) };
                    unsafe { *tile.get_unchecked_mut(p * MR + r) = v };
                    if let Some(sums) = &mut row_sums {
                        sums[r0 + r] += v;
                    }
                }
            }
        }
    }
}

/// How many stored rows ahead the transposed packing of A prefetches. Each stored row gives
/// only MC values (384 bytes) to a block, and the next block's come one block later, so the
/// hardware prefetcher sees hundreds of short streams and the reads waited on memory. Measured
/// against no prefetch in alternating slices: ch06's dW (10,000 x 700 x 100) 1.47x and 1.61x,
/// medium's decoder dW 1.13x, the GRU's gate dW 1.07x; 4 and 32 rows ahead gave 1.41x and
/// 1.56x on ch06's dW. Training steps: ch06 1.12x, gru-medium 1.03x, medium 1.02x.
const PACK_AHEAD: usize = 16;

/// Packs b (kc, cols) into panels of NR columns, each laid out `[p][q]`, zero past the last
/// column (the kernel computes whole panels and stores only the real columns).
pub(crate) fn pack_b(dst: &mut [f32], b: ArrayView2<f32>) {
    let (kc, cols) = b.dim();
    let (rs, cs) = (b.strides()[0], b.strides()[1]);
    let src = b.as_ptr();
    for (j, panel) in dst[..cols.div_ceil(NR) * NR * kc].chunks_exact_mut(NR * kc).enumerate() {
        let q0 = j * NR;
        let q_n = NR.min(cols - q0);
        if q_n < NR {
            panel.fill(0.0);
        }
        // SAFETY: (p, q0 + q) with p < kc, q < q_n is inside b's shape.
        unsafe {
            if cs == 1 && q_n == NR {
                // A fixed-size copy is a few vector moves; a copy of q_n values is a call to
                // memmove per row (measured: 1-2% of the medium model's step in that call).
                for p in 0..kc {
                    let row = src.offset(p as isize * rs + q0 as isize) as *const [f32; NR];
                    (panel.as_mut_ptr().add(p * NR) as *mut [f32; NR]).write(row.read_unaligned());
                }
            } else if cs == 1 {
                for p in 0..kc {
                    let row = src.offset(p as isize * rs + q0 as isize);
                    std::ptr::copy_nonoverlapping(row, panel.as_mut_ptr().add(p * NR), q_n);
                }
            } else if rs == 1 && q_n == NR && cfg!(target_arch = "x86_64") {
                // b's columns are contiguous (W^T, a transposed view of a row-major W): blocks
                // of 8 x 8 transposed in registers, the rest of the depth copied one by one.
                let vector_depth = kc / 8 * 8;
                for q in (0..NR).step_by(8) {
                    let col = src.offset((q0 + q) as isize * cs);
                    #[cfg(target_arch = "x86_64")]
                    for p in (0..vector_depth).step_by(8) {
                        transpose_8x8(col.add(p), cs, panel.as_mut_ptr().add(p * NR + q), NR);
                    }
                    for qq in q..q + 8 {
                        let col = src.offset((q0 + qq) as isize * cs);
                        for p in vector_depth..kc {
                            *panel.get_unchecked_mut(p * NR + qq) = *col.add(p);
                        }
                    }
                }
            } else {
                for q in 0..q_n {
                    let col = src.offset((q0 + q) as isize * cs);
                    for p in 0..kc {
                        *panel.get_unchecked_mut(p * NR + q) = *col.offset(p as isize * rs);
                    }
                }
            }
        }
    }
}

/// `dst[j * dst_stride + i] = src[i * src_stride + j]` for i, j < 8: eight rows of eight values
/// become eight rows of eight, through registers (24 shuffles instead of 64 scalar moves).
///
/// SAFETY: the 8 x 8 values at `src` and at `dst` (with their strides) are inside their
/// allocations and do not overlap; the CPU has AVX2 (every CPU with AVX-512F has).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_8x8(src: *const f32, src_stride: isize, dst: *mut f32, dst_stride: usize) {
    use std::arch::x86_64::*;
    let row = |i: isize| _mm256_loadu_ps(src.offset(i * src_stride));
    // Pairs of rows interleaved, then pairs of pairs: columns j and j + 4 of four rows in the
    // two halves of each u; the 128-bit halves of rows 0-3 and 4-7 then make whole columns.
    let (t0, t1) = (_mm256_unpacklo_ps(row(0), row(1)), _mm256_unpackhi_ps(row(0), row(1)));
    let (t2, t3) = (_mm256_unpacklo_ps(row(2), row(3)), _mm256_unpackhi_ps(row(2), row(3)));
    let (t4, t5) = (_mm256_unpacklo_ps(row(4), row(5)), _mm256_unpackhi_ps(row(4), row(5)));
    let (t6, t7) = (_mm256_unpacklo_ps(row(6), row(7)), _mm256_unpackhi_ps(row(6), row(7)));
    let low = [
        _mm256_shuffle_ps::<0x44>(t0, t2),
        _mm256_shuffle_ps::<0xEE>(t0, t2),
        _mm256_shuffle_ps::<0x44>(t1, t3),
        _mm256_shuffle_ps::<0xEE>(t1, t3),
    ];
    let high = [
        _mm256_shuffle_ps::<0x44>(t4, t6),
        _mm256_shuffle_ps::<0xEE>(t4, t6),
        _mm256_shuffle_ps::<0x44>(t5, t7),
        _mm256_shuffle_ps::<0xEE>(t5, t7),
    ];
    for (j, (&low, &high)) in low.iter().zip(&high).enumerate() {
        _mm256_storeu_ps(dst.add(j * dst_stride), _mm256_permute2f128_ps::<0x20>(low, high));
        _mm256_storeu_ps(dst.add((j + 4) * dst_stride), _mm256_permute2f128_ps::<0x31>(low, high));
    }
}

/// [`transpose_8x8`] for four rows of eight: eight rows of four out.
///
/// SAFETY: as [`transpose_8x8`], for 4 x 8 values at `src` and 8 x 4 at `dst`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_4x8(src: *const f32, src_stride: isize, dst: *mut f32, dst_stride: usize) {
    use std::arch::x86_64::*;
    let row = |i: isize| _mm256_loadu_ps(src.offset(i * src_stride));
    let (t0, t1) = (_mm256_unpacklo_ps(row(0), row(1)), _mm256_unpackhi_ps(row(0), row(1)));
    let (t2, t3) = (_mm256_unpacklo_ps(row(2), row(3)), _mm256_unpackhi_ps(row(2), row(3)));
    let columns = [
        _mm256_shuffle_ps::<0x44>(t0, t2),
        _mm256_shuffle_ps::<0xEE>(t0, t2),
        _mm256_shuffle_ps::<0x44>(t1, t3),
        _mm256_shuffle_ps::<0xEE>(t1, t3),
    ];
    for (j, &column) in columns.iter().enumerate() {
        _mm_storeu_ps(dst.add(j * dst_stride), _mm256_castps256_ps128(column));
        _mm_storeu_ps(dst.add((j + 4) * dst_stride), _mm256_extractf128_ps::<1>(column));
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

#[cfg(test)]
mod tests {
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
        Array2::from_shape_fn((m, b.dim().1), |(i, j)| {
            (0..k).map(|p| a[[i, p]] as f64 * b[[p, j]] as f64).sum()
        })
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
                assert!(
                    (sum as f64 - want).abs() < tolerance,
                    "({m}, {k}, {n}) row sum {i}: {sum} vs {want}"
                );
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
}
