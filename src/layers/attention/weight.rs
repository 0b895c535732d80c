//! `AttentionWeight`: the attention weights `a[n, t, .] = softmax_s score(hs[n, s], h[n, t])`
//! over the real source steps (the book's `AttentionWeight`, with any [`ScoreKind`] and a mask).
//!
//! A masked (padded) step gets weight exactly 0 and no gradient; a row whose steps are all
//! masked gets all-zero weights (its context is zero). Backward of the softmax:
//! `de = a * (da - sum_s a * da)`, then the score's backward.

use super::{AttentionScore, ScoreKind};
use crate::params::Params;
use crate::tensor::{fit, Real};
use ndarray::{Array2, Array3, ArrayView2, ArrayView3};

/// Attention weights: the score, then a softmax over each row's real (unmasked) source steps; a (N,
/// T, S) output.
#[derive(Clone, Debug)]
pub struct AttentionWeight<F: Real> {
    /// The score layer feeding the softmax (holds the parameters).
    pub score: AttentionScore<F>,
    mask: Array2<bool>, // (N, S) true at real steps
    a: Array3<F>,       // (N, T, S)
    de: Array3<F>,      // (N, T, S)
}

impl<F: Real> AttentionWeight<F> {
    /// The score's parameters under `{prefix}.*` (see [`AttentionScore::new`]).
    pub fn new(
        params: &mut Params<F>,
        prefix: &str,
        kind: ScoreKind,
        enc_size: usize,
        dec_size: usize,
    ) -> Self {
        AttentionWeight {
            score: AttentionScore::new(params, prefix, kind, enc_size, dec_size),
            mask: Array2::from_elem((0, 0), true),
            a: Array3::zeros((0, 0, 0)),
            de: Array3::zeros((0, 0, 0)),
        }
    }

    /// hs (N, S, E), h (N, T, Q), mask (N, S) (None: every step real) -> a (N, T, S).
    pub fn forward(
        &mut self,
        params: &Params<F>,
        hs: ArrayView3<F>,
        h: ArrayView3<F>,
        mask: Option<ArrayView2<bool>>,
    ) -> ArrayView3<'_, F> {
        let (n, s, _) = hs.dim();
        if self.mask.dim() != (n, s) {
            self.mask = Array2::from_elem((n, s), true);
        }
        match mask {
            Some(mask) => {
                assert_eq!(
                    mask.dim(),
                    (n, s),
                    "AttentionWeight: mask {:?} but hs {:?}",
                    mask.dim(),
                    hs.dim()
                );
                self.mask.assign(&mask);
            }
            None => self.mask.fill(true),
        }
        let e = self.score.forward(params, hs, h);
        fit(&mut self.a, e.raw_dim());
        self.a.assign(&e);
        for (mut a, mask) in self.a.outer_iter_mut().zip(self.mask.outer_iter()) {
            for mut row in a.rows_mut() {
                softmax_masked(
                    row.as_slice_mut().expect("rows are contiguous"),
                    mask.as_slice().expect("mask rows"),
                );
            }
        }
        self.a.view()
    }

    /// The weights of the last forward (N, T, S).
    pub fn weights(&self) -> ArrayView3<'_, F> {
        self.a.view()
    }

    /// da (N, T, S) -> (dhs (N, S, E), dh (N, T, Q)); adds into the score's parameter gradients.
    pub fn backward(
        &mut self,
        params: &mut Params<F>,
        da: ArrayView3<F>,
    ) -> (ArrayView3<'_, F>, ArrayView3<'_, F>) {
        assert_eq!(da.dim(), self.a.dim(), "AttentionWeight: da {:?} but a {:?}", da.dim(), self.a.dim());
        fit(&mut self.de, self.a.raw_dim());
        for ((mut de, a), da) in self.de.outer_iter_mut().zip(self.a.outer_iter()).zip(da.outer_iter()) {
            for ((mut de, a), da) in de.rows_mut().into_iter().zip(a.rows()).zip(da.rows()) {
                let dot: F = a.iter().zip(da.iter()).map(|(&a, &d)| a * d).sum();
                // A masked step has a = 0, so its de is 0.
                for ((de, &a), &d) in de.iter_mut().zip(a.iter()).zip(da.iter()) {
                    *de = a * (d - dot);
                }
            }
        }
        self.score.backward(params, self.de.view())
    }

    /// The mask of the last forward (N, S).
    pub fn mask(&self) -> ArrayView2<'_, bool> {
        self.mask.view()
    }
}

/// `row = softmax(row)` over the entries where `real`; the others (and every entry when none
/// is real) become exactly 0.
fn softmax_masked<F: Real>(row: &mut [F], real: &[bool]) {
    let max = row.iter().zip(real).filter(|(_, &r)| r).map(|(&v, _)| v).fold(F::neg_infinity(), F::max);
    if max == F::neg_infinity() {
        row.fill(F::zero());
        return;
    }
    let mut sum = F::zero();
    for (v, &r) in row.iter_mut().zip(real) {
        *v = if r { (*v - max).exp() } else { F::zero() };
        sum += *v;
    }
    for v in row.iter_mut() {
        *v /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::softmax_masked;

    #[test]
    fn masked_steps_get_exactly_zero_and_the_rest_sums_to_one() {
        let mut row = [1.0f64, 2.0, f64::NAN, 3.0];
        softmax_masked(&mut row, &[true, true, false, true]);
        assert_eq!(row[2], 0.0);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let mut all_masked = [1.0f64, 2.0];
        softmax_masked(&mut all_masked, &[false, false]);
        assert_eq!(all_masked, [0.0, 0.0]);
    }
}
