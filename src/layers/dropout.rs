//! Inverted dropout: in training each element is kept with probability `1 - p` and scaled by
//! `1 / (1 - p)`, so evaluation needs no rescaling (PyTorch's `Dropout`, the book's BetterRnnlm).
//!
//! Shape-agnostic: it works on the flat elements of any contiguous buffer, so the same layer
//! serves one step and whole (N, T, H) sequences. `backward` multiplies by the same mask.

use crate::tensor::{fit, Real, Rng};
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// Inverted dropout over the flat elements of any buffer; the mask comes from the caller's
/// [`Rng`].
#[derive(Clone, Debug)]
pub struct Dropout<F: Real> {
    /// Probability of zeroing an element in training, in [0, 1) (0 = the layer does nothing).
    pub p: f64,
    /// `0` or `1 / (1 - p)` per element of the last training forward.
    mask: Vec<F>,
    y: ArrayD<F>,
    dx: ArrayD<F>,
}

impl<F: Real> Dropout<F> {
    /// A dropout layer of probability `p`. Panics unless `0 <= p < 1`.
    pub fn new(p: f64) -> Self {
        assert!((0.0..1.0).contains(&p), "dropout probability must be in [0, 1), got {p}");
        Dropout { p, mask: Vec::new(), y: ArrayD::zeros(IxDyn(&[0])), dx: ArrayD::zeros(IxDyn(&[0])) }
    }

    /// Whether the layer changes anything in training (p > 0).
    pub fn is_active(&self) -> bool {
        self.p > 0.0
    }

    /// `x * mask` with a fresh mask drawn from `rng`.
    pub fn forward(&mut self, x: ArrayViewD<F>, rng: &mut Rng) -> ArrayViewD<'_, F> {
        let keep = 1.0 - self.p;
        let scale = F::of(1.0 / keep);
        self.mask.clear();
        self.mask.extend((0..x.len()).map(|_| if rng.uniform() < keep { scale } else { F::zero() }));
        fit(&mut self.y, x.raw_dim());
        for ((y, &x), &m) in self.y.iter_mut().zip(x.iter()).zip(&self.mask) {
            *y = x * m;
        }
        self.y.view()
    }

    /// `dy * mask` (the mask of the last forward).
    pub fn backward(&mut self, dy: ArrayViewD<F>) -> ArrayViewD<'_, F> {
        assert_eq!(dy.len(), self.mask.len(), "Dropout: backward without a matching forward");
        fit(&mut self.dx, dy.raw_dim());
        for ((dx, &dy), &m) in self.dx.iter_mut().zip(dy.iter()).zip(&self.mask) {
            *dx = dy * m;
        }
        self.dx.view()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array;

    #[test]
    fn keeps_the_expected_share_scaled_and_backward_uses_the_same_mask() {
        let mut layer = Dropout::<f64>::new(0.25);
        let x = Array::from_elem(IxDyn(&[100, 100]), 1.0);
        let mut rng = Rng::new(3);
        let y = layer.forward(x.view(), &mut rng).to_owned();
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / 10_000.0;
        assert!((kept - 0.75).abs() < 0.02, "kept {kept}");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-12));
        let dx = layer.backward(x.view()).to_owned();
        assert_eq!(dx, y);
    }
}
