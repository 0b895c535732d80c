//! Global-norm gradient clipping (the book's `clip_grads`, PyTorch's `clip_grad_norm_`):
//! if the norm of all gradients together exceeds `max_norm`, scale every gradient by
//! `max_norm / (norm + 1e-6)`.

use crate::params::Params;
use crate::tensor::math::sum_of_squares_split;
use crate::tensor::Real;

/// Clips in place; returns the norm before clipping (summed in f64).
pub fn clip_grad_norm<F: Real>(params: &mut Params<F>, max_norm: f64) -> f64 {
    let norm = grad_norm(params);
    let rate = clip_factor(norm, max_norm);
    if rate < 1.0 {
        let rate = F::of(rate);
        params.grads_mut().for_each(|g| g.mapv_inplace(|x| x * rate));
    }
    norm
}

/// What clipping to `max_norm` multiplies every gradient by when their norm is `norm`:
/// `max_norm / (norm + 1e-6)` above the bound, 1 below it. The training loops hand it to
/// [`crate::optim::Optimizer::step_scaled`], which applies it as it reads each gradient,
/// instead of rewriting every gradient first.
pub fn clip_factor(norm: f64, max_norm: f64) -> f64 {
    let rate = max_norm / (norm + 1e-6);
    if rate < 1.0 {
        rate
    } else {
        1.0
    }
}

/// The gradients' global norm and the factor clipping to `clip` multiplies them by (1 without
/// `clip`). The norm is computed only when `clip` is given or `want_norm` (0 otherwise): a
/// pass over every gradient that an unclipped step does not need.
pub fn norm_and_clip_factor<F: Real>(
    params: &mut Params<F>,
    clip: Option<f64>,
    want_norm: bool,
) -> (f64, f64) {
    match clip {
        Some(max_norm) => {
            let norm = grad_norm(params);
            (norm, clip_factor(norm, max_norm))
        }
        None if want_norm => (grad_norm(params), 1.0),
        None => (0.0, 1.0),
    }
}

/// The L2 norm of all gradients as one vector.
pub fn grad_norm<F: Real>(params: &mut Params<F>) -> f64 {
    params
        .grads_mut()
        .map(|g| sum_of_squares_split(g.as_slice().expect("gradients are contiguous")))
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_to_max_norm_only_when_above() {
        let mut params = Params::<f64>::new();
        let a = params.add("a", &[2]);
        let b = params.add("b", &[1]);
        params.grad_mut(a).assign(&ndarray::arr1(&[3.0, 0.0]).into_dyn());
        params.grad_mut(b).assign(&ndarray::arr1(&[4.0]).into_dyn());
        assert!((clip_grad_norm(&mut params, 10.0) - 5.0).abs() < 1e-12);
        assert_eq!(params.grad(a)[[0]], 3.0); // below the bound: untouched
        assert!((clip_grad_norm(&mut params, 1.0) - 5.0).abs() < 1e-12);
        assert!((grad_norm(&mut params) - 1.0).abs() < 1e-6);
        assert!((params.grad(b)[[0]] - 0.8).abs() < 1e-6);
    }
}
