//! The cell of one large step on two threads, half the rows each ([`cell_forward`],
//! [`cell_backward`]): rows are independent, so the numbers are the same as on one thread.

use crate::layers::Cell;
use crate::tensor::math::on_widest_vectors;
use crate::tensor::Real;
use ndarray::{ArrayView2, ArrayViewMut2, Axis};

/// Steps with at least this many gate values (N x G*H) run their cell on two threads, half the
/// rows each. The medium model's 20 x 2,600 take tens of microseconds a step, during which the
/// other core, done with its half of the step's product, would wait; the book's 20 x 400 take
/// less than a hand-off.
const CELL_SPLIT_MIN: usize = 1 << 15;

/// [`Cell::forward`] on two threads for large steps (rows are independent: same numbers).
pub(super) fn cell_forward<C: Cell, F: Real>(
    hidden: usize,
    xw: ArrayView2<F>,
    hw: ArrayView2<F>,
    state_prev: ArrayView2<F>,
    state: ArrayViewMut2<F>,
    cache: ArrayViewMut2<F>,
) {
    let n = xw.nrows();
    if n < 2 || n * hw.ncols() < CELL_SPLIT_MIN {
        return on_widest_vectors!(C::forward(hidden, xw, hw, state_prev, state, cache));
    }
    let half = n / 2;
    let ((xw1, xw2), (hw1, hw2)) = (xw.split_at(Axis(0), half), hw.split_at(Axis(0), half));
    let (prev1, prev2) = state_prev.split_at(Axis(0), half);
    let ((state1, state2), (cache1, cache2)) = (state.split_at(Axis(0), half), cache.split_at(Axis(0), half));
    rayon::join(
        || on_widest_vectors!(C::forward(hidden, xw1, hw1, prev1, state1, cache1)),
        || on_widest_vectors!(C::forward(hidden, xw2, hw2, prev2, state2, cache2)),
    );
}

/// [`Cell::backward`] on two threads for large steps, like [`cell_forward`].
#[allow(clippy::too_many_arguments)]
pub(super) fn cell_backward<C: Cell, F: Real>(
    hidden: usize,
    dstate: ArrayView2<F>,
    state_prev: ArrayView2<F>,
    state: ArrayView2<F>,
    cache: ArrayView2<F>,
    hw: ArrayView2<F>,
    dxw: ArrayViewMut2<F>,
    dhw: ArrayViewMut2<F>,
    dstate_prev: ArrayViewMut2<F>,
) {
    let n = dstate.nrows();
    if n < 2 || n * hw.ncols() < CELL_SPLIT_MIN {
        return on_widest_vectors!({
            C::backward(hidden, dstate, state_prev, state, cache, hw, dxw, dhw, dstate_prev)
        });
    }
    let half = n / 2;
    let (ds1, ds2) = dstate.split_at(Axis(0), half);
    let ((prev1, prev2), (state1, state2)) =
        (state_prev.split_at(Axis(0), half), state.split_at(Axis(0), half));
    let ((cache1, cache2), (hw1, hw2)) = (cache.split_at(Axis(0), half), hw.split_at(Axis(0), half));
    let ((dxw1, dxw2), (dhw1, dhw2)) = (dxw.split_at(Axis(0), half), dhw.split_at(Axis(0), half));
    let (dprev1, dprev2) = dstate_prev.split_at(Axis(0), half);
    rayon::join(
        || on_widest_vectors!(C::backward(hidden, ds1, prev1, state1, cache1, hw1, dxw1, dhw1, dprev1)),
        || on_widest_vectors!(C::backward(hidden, ds2, prev2, state2, cache2, hw2, dxw2, dhw2, dprev2)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{GruCell, LstmCell, RnnCell};
    use crate::tensor::Rng;
    use ndarray::Array2;

    type ForwardFn =
        fn(usize, ArrayView2<f32>, ArrayView2<f32>, ArrayView2<f32>, ArrayViewMut2<f32>, ArrayViewMut2<f32>);
    type BackwardFn = fn(
        usize,
        ArrayView2<f32>,
        ArrayView2<f32>,
        ArrayView2<f32>,
        ArrayView2<f32>,
        ArrayView2<f32>,
        ArrayViewMut2<f32>,
        ArrayViewMut2<f32>,
        ArrayViewMut2<f32>,
    );

    /// A step above [`CELL_SPLIT_MIN`], with an odd batch (uneven halves): the cell on two
    /// threads gives exactly the numbers of the cell on all rows at once.
    fn split_cell_matches_the_whole<C: Cell>() {
        let n = 5;
        let h = CELL_SPLIT_MIN.div_ceil(n * C::GATES);
        let (gh, sh, ch) = (C::GATES * h, C::STATE * h, C::CACHE * h);
        let mut rng = Rng::new(7);
        let mut random =
            |rows, cols| Array2::<f32>::from_shape_fn((rows, cols), |_| rng.uniform() as f32 - 0.5);
        let (xw, hw, prev, dstate) = (random(n, gh), random(n, gh), random(n, sh), random(n, sh));
        let forward = |split: bool| {
            let (mut state, mut cache) = (Array2::zeros((n, sh)), Array2::zeros((n, ch)));
            let step: ForwardFn = if split { cell_forward::<C, f32> } else { C::forward::<f32> };
            step(h, xw.view(), hw.view(), prev.view(), state.view_mut(), cache.view_mut());
            (state, cache)
        };
        let (state, cache) = forward(false);
        assert_eq!((state.clone(), cache.clone()), forward(true), "forward, {}", std::any::type_name::<C>());
        let backward = |split: bool| {
            let (mut dxw, mut dhw, mut dprev) =
                (Array2::zeros((n, gh)), Array2::zeros((n, gh)), Array2::zeros((n, sh)));
            let step: BackwardFn = if split { cell_backward::<C, f32> } else { C::backward::<f32> };
            let (hv, sv, cv) = (hw.view(), state.view(), cache.view());
            step(h, dstate.view(), prev.view(), sv, cv, hv, dxw.view_mut(), dhw.view_mut(), dprev.view_mut());
            (dxw, dhw, dprev)
        };
        assert_eq!(backward(false), backward(true), "backward, {}", std::any::type_name::<C>());
    }

    #[test]
    fn a_large_step_split_between_threads_gives_the_same_numbers() {
        crate::tensor::threads::on_pool(2, || {
            split_cell_matches_the_whole::<RnnCell>();
            split_cell_matches_the_whole::<LstmCell>();
            split_cell_matches_the_whole::<GruCell>();
        })
        .unwrap();
    }
}
