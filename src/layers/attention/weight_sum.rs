//! `WeightSum`: the context vectors `c[n, t] = sum_s a[n, t, s] hs[n, s]` (the book's).
//!
//! Shapes: hs (N, S, E), a (N, T, S), c (N, T, E), one (T, S) x (S, E) product per row n.
//! Backward: `da[n] = dc[n] hs[n]^T`, `dhs[n] = a[n]^T dc[n]`.

use crate::tensor::{fit, matmul, Accumulate, Real};
use ndarray::{Array3, ArrayView3, Axis, Ix3};

/// Context vectors `c[n, t] = sum_s a[n, t, s] hs[n, s]`: hs (N, S, E), a (N, T, S), c (N, T, E);
/// no parameters.
#[derive(Clone, Debug)]
pub struct WeightSum<F: Real> {
    hs: Array3<F>,  // (N, S, E)
    a: Array3<F>,   // (N, T, S)
    c: Array3<F>,   // (N, T, E)
    da: Array3<F>,  // (N, T, S)
    dhs: Array3<F>, // (N, S, E)
}

impl<F: Real> Default for WeightSum<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> WeightSum<F> {
    /// A layer with empty buffers (sized on the first forward).
    pub fn new() -> Self {
        let empty = || Array3::zeros((0, 0, 0));
        WeightSum { hs: empty(), a: empty(), c: empty(), da: empty(), dhs: empty() }
    }

    /// hs (N, S, E), a (N, T, S) -> c (N, T, E).
    pub fn forward(&mut self, hs: ArrayView3<F>, a: ArrayView3<F>) -> ArrayView3<'_, F> {
        let ((n, s, e), (an, t, as_)) = (hs.dim(), a.dim());
        assert!(an == n && as_ == s, "WeightSum: hs {:?} but weights {:?}", hs.dim(), a.dim());
        fit(&mut self.hs, hs.raw_dim());
        self.hs.assign(&hs);
        fit(&mut self.a, a.raw_dim());
        self.a.assign(&a);
        fit(&mut self.c, Ix3(n, t, e));
        for row in 0..n {
            let c = self.c.index_axis_mut(Axis(0), row);
            matmul(
                c,
                self.a.index_axis(Axis(0), row),
                self.hs.index_axis(Axis(0), row),
                Accumulate::Overwrite,
            );
        }
        self.c.view()
    }

    /// dc (N, T, E) -> (dhs (N, S, E), da (N, T, S)).
    pub fn backward(&mut self, dc: ArrayView3<F>) -> (ArrayView3<'_, F>, ArrayView3<'_, F>) {
        assert_eq!(dc.dim(), self.c.dim(), "WeightSum: dc {:?} but c {:?}", dc.dim(), self.c.dim());
        fit(&mut self.da, self.a.raw_dim());
        fit(&mut self.dhs, self.hs.raw_dim());
        for row in 0..dc.dim().0 {
            let (dc, hs, a) = (
                dc.index_axis(Axis(0), row),
                self.hs.index_axis(Axis(0), row),
                self.a.index_axis(Axis(0), row),
            );
            matmul(self.da.index_axis_mut(Axis(0), row), dc, hs.t(), Accumulate::Overwrite);
            matmul(self.dhs.index_axis_mut(Axis(0), row), a.t(), dc, Accumulate::Overwrite);
        }
        (self.dhs.view(), self.da.view())
    }
}
