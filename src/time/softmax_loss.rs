//! Time Softmax-with-loss: scores (N, T, V) and targets (N, T) -> the mean cross-entropy over
//! the N*T positions whose target is not [`IGNORE`](crate::layers::IGNORE).

use crate::layers::SoftmaxWithLoss;
use crate::tensor::Real;
use ndarray::{Array2, ArrayView2, ArrayView3};

/// Softmax cross-entropy at every step: scores (N, T, V) and targets (N, T) -> the mean loss over
/// the non-ignored positions.
#[derive(Clone, Debug)]
pub struct TimeSoftmaxWithLoss<F: Real> {
    /// The one-step loss over the N*T flattened rows.
    pub inner: SoftmaxWithLoss<F>,
    flat_targets: Vec<u32>,
    shape: (usize, usize, usize),
}

impl<F: Real> Default for TimeSoftmaxWithLoss<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> TimeSoftmaxWithLoss<F> {
    /// A loss with empty buffers (sized on the first forward).
    pub fn new() -> Self {
        TimeSoftmaxWithLoss { inner: SoftmaxWithLoss::new(), flat_targets: Vec::new(), shape: (0, 0, 0) }
    }

    /// Mean cross-entropy over the N*T positions whose target is not `IGNORE`; panics if targets
    /// are not (N, T).
    pub fn forward(&mut self, scores: ArrayView3<F>, targets: ArrayView2<u32>) -> F {
        let (n, t, v) = scores.dim();
        assert_eq!(
            targets.dim(),
            (n, t),
            "TimeSoftmaxWithLoss: scores {:?} but targets {:?}",
            scores.dim(),
            targets.dim()
        );
        self.keep_targets((n, t, v), targets);
        let scores = scores.to_shape((n * t, v)).expect("(N, T, V) reshapes to (N*T, V)");
        self.inner.forward(scores.view(), &self.flat_targets)
    }

    /// [`TimeSoftmaxWithLoss::forward`] on (N*T, V) scores it takes instead of copying (see
    /// [`SoftmaxWithLoss::forward_taking`]): `scores` comes back holding the previous buffer.
    pub fn forward_taking(
        &mut self,
        scores: &mut Array2<F>,
        (n, t): (usize, usize),
        targets: ArrayView2<u32>,
    ) -> F {
        let v = scores.ncols();
        assert_eq!(
            (scores.nrows(), targets.dim()),
            (n * t, (n, t)),
            "TimeSoftmaxWithLoss: scores {:?} for (N, T) = {:?} but targets {:?}",
            scores.dim(),
            (n, t),
            targets.dim()
        );
        self.keep_targets((n, t, v), targets);
        self.inner.forward_taking(scores, &self.flat_targets)
    }

    /// The (N, T, V) shape and the targets flattened to N*T rows, for both forwards.
    fn keep_targets(&mut self, shape: (usize, usize, usize), targets: ArrayView2<u32>) {
        self.shape = shape;
        self.flat_targets.clear();
        self.flat_targets.extend(targets.iter().copied());
    }

    /// Softmax probabilities of the last forward, (N, T, V).
    pub fn probs(&self) -> ArrayView3<'_, F> {
        self.inner.probs().into_shape_with_order(self.shape).expect("probs are contiguous")
    }

    /// dscores (N, T, V) for the last forward, scaled by `dloss`; ignored positions get zero.
    pub fn backward(&mut self, dloss: F) -> ArrayView3<'_, F> {
        let shape = self.shape;
        self.inner.backward(dloss).into_shape_with_order(shape).expect("dx is contiguous")
    }
}
