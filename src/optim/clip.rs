//! Global-norm gradient clipping (the book's `clip_grads`, PyTorch's `clip_grad_norm_`):
//! if the norm of all gradients together exceeds `max_norm`, scale every gradient by
//! `max_norm / (norm + 1e-6)`.

use crate::params::Params;
use crate::tensor::Real;

/// Clips in place; returns the norm before clipping (summed in f64).
pub fn clip_grad_norm<F: Real>(params: &mut Params<F>, max_norm: f64) -> f64 {
    let norm = grad_norm(params);
    let rate = max_norm / (norm + 1e-6);
    if rate < 1.0 {
        let rate = F::of(rate);
        params.grads_mut().for_each(|g| g.mapv_inplace(|x| x * rate));
    }
    norm
}

/// The L2 norm of all gradients as one vector.
pub fn grad_norm<F: Real>(params: &mut Params<F>) -> f64 {
    params.grads_mut().map(|g| g.iter().map(|&x| x.to_f64() * x.to_f64()).sum::<f64>()).sum::<f64>().sqrt()
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
