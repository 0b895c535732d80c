//! Time reversal of a padded batch within each sequence's own length: the gather and scatter
//! around the one time loop that make a [`Direction::Reverse`](super::Direction) layer.
//!
//! Row n with length L (`lengths[n]`, or T when no lengths are given) maps step t to L-1-t for
//! t < L; its padded steps t >= L are not part of the sequence. The map is its own inverse, so
//! the same two functions serve forward (reverse the input, un-reverse the output) and backward
//! (reverse the output gradient, un-reverse the input gradient).

use crate::tensor::Real;
use ndarray::{s, ArrayView3, ArrayViewMut3, Zip};

/// `dst[n, t] = src[n, L-1-t]` for t < L and zero for t >= L. dst, src: (N, T, W).
pub(crate) fn reverse_into<F: Real>(
    mut dst: ArrayViewMut3<F>, // (N, T, W)
    src: ArrayView3<F>,        // (N, T, W)
    lengths: Option<&[usize]>,
) {
    assert_eq!(dst.dim(), src.dim(), "reverse_into: destination {:?}, source {:?}", dst.dim(), src.dim());
    let t = src.dim().1;
    for (row, (mut dst, src)) in dst.outer_iter_mut().zip(src.outer_iter()).enumerate() {
        let len = lengths.map_or(t, |l| l[row]);
        dst.slice_mut(s![..len, ..]).assign(&src.slice(s![..len;-1, ..]));
        dst.slice_mut(s![len.., ..]).fill(F::zero());
    }
}

/// Reverses each row's first L steps in place; its padded steps are left as they are.
pub(crate) fn reverse_in_place<F: Real>(
    mut a: ArrayViewMut3<F>, // (N, T, W)
    lengths: Option<&[usize]>,
) {
    let t = a.dim().1;
    for (row, mut seq) in a.outer_iter_mut().enumerate() {
        let len = lengths.map_or(t, |l| l[row]);
        for i in 0..len / 2 {
            let (early, late) = seq.multi_slice_mut((s![i, ..], s![len - 1 - i, ..]));
            Zip::from(early).and(late).for_each(std::mem::swap);
        }
    }
}

/// Zeroes each row's padded steps t >= L.
pub(crate) fn zero_padding<F: Real>(
    mut a: ArrayViewMut3<F>, // (N, T, W)
    lengths: &[usize],
) {
    for (mut seq, &len) in a.outer_iter_mut().zip(lengths) {
        seq.slice_mut(s![len.., ..]).fill(F::zero());
    }
}
