//! Embedding: row lookup `y[i] = W[ids[i]]`.
//!
//! Shapes: ids (M), W (V, D), y (M, D). Backward scatters: `dW[ids[i]] += dy[i]`, so an id that
//! occurs several times accumulates all its gradients (the book's `np.add.at`), and only the
//! rows that occurred are touched (no (V, D) zero-fill per step).

use crate::params::{ParamId, Params};
use crate::tensor::{fit, Real};
use ndarray::{Array2, ArrayView2, Ix2};

/// Embedding lookup `y[i] = W[ids[i]]`: ids (M), W (V, D), y (M, D).
#[derive(Clone, Debug)]
pub struct Embedding<F: Real> {
    /// W, (V, D): row v is id v's vector.
    pub weight: ParamId,
    ids: Vec<u32>,
    y: Array2<F>, // (M, D)
}

impl<F: Real> Embedding<F> {
    /// Adds `{prefix}.weight` (V, D), zero-filled.
    pub fn new(params: &mut Params<F>, prefix: &str, vocab_size: usize, dim: usize) -> Self {
        let weight = params.add(&format!("{prefix}.weight"), &[vocab_size, dim]);
        Embedding { weight, ids: Vec::new(), y: Array2::zeros((0, 0)) }
    }

    /// Panics if an id is outside the vocabulary: ids are checked where text becomes ids.
    pub fn forward(&mut self, params: &Params<F>, ids: &[u32]) -> ArrayView2<'_, F> {
        let w = params.mat(self.weight);
        fit(&mut self.y, Ix2(ids.len(), w.ncols()));
        for (mut row, &id) in self.y.rows_mut().into_iter().zip(ids) {
            assert!((id as usize) < w.nrows(), "Embedding: id {id} >= vocabulary size {}", w.nrows());
            row.assign(&w.row(id as usize));
        }
        self.ids.clear();
        self.ids.extend_from_slice(ids);
        self.y.view()
    }

    /// `dy` (M, D): adds each row into the gradient row of its id.
    pub fn backward(&mut self, params: &mut Params<F>, dy: ArrayView2<F>) {
        assert_eq!(dy.dim(), self.y.dim(), "Embedding: dy {:?} but output {:?}", dy.dim(), self.y.dim());
        let mut dw = params.grad_mat_mut(self.weight);
        for (row, &id) in dy.rows().into_iter().zip(&self.ids) {
            dw.row_mut(id as usize).scaled_add(F::one(), &row);
        }
    }
}
