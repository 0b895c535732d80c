//! Packing the operands for the kernel: A into tiles of [`MR`] rows (`[p][r]`), B into panels of
//! [`NR`] columns (`[p][q]`, zero past the last column), with the 8 x 8 and 4 x 8 register
//! transposes that the strided cases use.

// The SIMD kernels here are x86-64's; on other targets the portable paths run and these parts
// stay compiled but unused.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code, unused_variables))]

use super::{MR, NR};
use ndarray::ArrayView2;

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
