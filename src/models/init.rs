//! Weight initialisations shared by the models: Keras' (what the classification and
//! forecasting primers train with). The language model's book, uniform and PyTorch schemes are
//! in `lm.rs` beside its `Init`.

use crate::layers::CellKind;
use crate::params::{ParamId, Params};
use crate::tensor::{Real, Rng};
use crate::time::RecurrentLayer;
use ndarray::{s, Array2};

/// Fills `id` (a 2-D weight) from Glorot's uniform: `U(-l, l)`, `l = sqrt(6 / (fan_in + fan_out))`.
pub fn glorot_uniform<F: Real>(params: &mut Params<F>, id: ParamId, rng: &mut Rng) {
    let shape = params.value(id).shape().to_vec();
    let limit = (6.0 / (shape[0] + shape[1]) as f64).sqrt();
    rng.fill_uniform(params.value_mut(id), limit);
}

/// Keras' recurrent layer: input weights Glorot-uniform, recurrent weights orthogonal, biases
/// zero except the LSTM forget gate's (1). The biases must be zero already (a new store).
pub fn keras_recurrent<F: Real>(params: &mut Params<F>, rnn: &RecurrentLayer<F>, rng: &mut Rng) {
    glorot_uniform(params, rnn.w_ih(), rng);
    let (rows, cols) = params.mat(rnn.w_hh()).dim();
    let q = orthonormal_columns(rows, cols, rng);
    params.value_mut(rnn.w_hh()).assign(&q.mapv(F::of).into_dyn());
    if rnn.cell() == CellKind::Lstm {
        // Gate order i, f, g, o: the forget gate is the second block.
        let h = rnn.hidden_size();
        params.value_mut(rnn.b_ih()).slice_mut(s![h..2 * h]).fill(F::one());
    }
}

/// A (rows, cols) matrix with orthonormal columns (rows >= cols; orthonormal rows otherwise):
/// Gram-Schmidt on standard normal draws, Keras' `Orthogonal` initializer in PyTorch's layout.
pub fn orthonormal_columns(rows: usize, cols: usize, rng: &mut Rng) -> Array2<f64> {
    if rows < cols {
        return orthonormal_columns(cols, rows, rng).reversed_axes();
    }
    let mut q = Array2::<f64>::zeros((rows, cols));
    rng.fill_normal(&mut q, 1.0);
    for j in 0..cols {
        for p in 0..j {
            let dot = q.column(p).dot(&q.column(j));
            let prev = q.column(p).to_owned();
            q.column_mut(j).scaled_add(-dot, &prev);
        }
        let norm = q.column(j).dot(&q.column(j)).sqrt().max(1e-12);
        q.column_mut(j).mapv_inplace(|v| v / norm);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthonormal_columns_are_orthonormal_either_way() {
        let mut rng = Rng::new(3);
        for (rows, cols) in [(7, 4), (4, 7), (5, 5)] {
            let q = orthonormal_columns(rows, cols, &mut rng);
            let gram = if rows >= cols { q.t().dot(&q) } else { q.dot(&q.t()) };
            let eye = Array2::<f64>::eye(gram.nrows());
            assert!((gram - eye).iter().all(|d| d.abs() < 1e-12), "{rows} x {cols}");
        }
    }
}
