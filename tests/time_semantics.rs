//! What a Time recurrent layer promises about time: T single steps equal one Time forward; a
//! stateful layer called on two halves equals one call on the whole; `reset_state` and a
//! stateless layer start from zeros; the gradient of a block stops at its start.

mod common;

use common::{random_array, randomize};
use ndarray::{s, Array2, Array3, Axis, Ix3};
use recur::layers::RnnCell;
use recur::params::Params;
use recur::tensor::Rng;
use recur::time::{CellStep, StateMode, TimeRnn};

const N: usize = 2;
const T: usize = 6;
const D: usize = 4;
const H: usize = 5;

fn setup(mode: StateMode) -> (Params<f64>, TimeRnn<f64>, Array3<f64>) {
    let mut rng = Rng::new(21);
    let mut params = Params::new();
    let rnn = TimeRnn::new(&mut params, "rnn", 0, D, H, mode);
    randomize(&mut params, &mut rng, 0.5);
    let xs = random_array(&[N, T, D], &mut rng).into_dimensionality::<Ix3>().unwrap();
    (params, rnn, xs)
}

fn max_diff(a: &Array3<f64>, b: &Array3<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn t_single_steps_equal_one_time_forward() {
    let (params, mut rnn, xs) = setup(StateMode::Stateless);
    let hs = rnn.forward(&params, xs.view()).to_owned();
    // A CellStep built on the same parameter names: copy the values across.
    let mut step_params = Params::new();
    let mut step: CellStep<f64, RnnCell> = CellStep::new(&mut step_params, "rnn", D, H);
    for id in step_params.ids().collect::<Vec<_>>() {
        let name = step_params.name(id).to_string();
        step_params.value_mut(id).assign(&params.value(params.find(&name).unwrap()));
    }
    let mut h = Array2::zeros((N, H));
    for t in 0..T {
        h = step.forward(&step_params, xs.index_axis(Axis(1), t), h.view()).to_owned();
        let diff = (&h - &hs.index_axis(Axis(1), t)).iter().map(|d| d.abs()).fold(0.0, f64::max);
        assert!(diff < 1e-12, "step {t}: {diff}");
    }
}

#[test]
fn stateful_halves_equal_one_long_call_and_reset_restarts() {
    let (params, mut whole, xs) = setup(StateMode::Stateful);
    let hs = whole.forward(&params, xs.view()).to_owned();
    let (_, mut halves, _) = setup(StateMode::Stateful);
    let first = halves.forward(&params, xs.slice(s![.., ..T / 2, ..])).to_owned();
    let second = halves.forward(&params, xs.slice(s![.., T / 2.., ..])).to_owned();
    let joined = ndarray::concatenate(Axis(1), &[first.view(), second.view()]).unwrap();
    assert!(max_diff(&hs, &joined) < 1e-12);

    // After reset_state the next call starts from zeros: it equals the first half again.
    halves.reset_state();
    let again = halves.forward(&params, xs.slice(s![.., ..T / 2, ..])).to_owned();
    assert_eq!(again, first);
    // Without reset the carried state changes the result.
    let carried = halves.forward(&params, xs.slice(s![.., ..T / 2, ..])).to_owned();
    assert!(max_diff(&carried, &first) > 1e-6);
}

#[test]
fn stateless_layer_starts_every_call_from_zeros() {
    let (params, mut rnn, xs) = setup(StateMode::Stateless);
    let a = rnn.forward(&params, xs.view()).to_owned();
    let b = rnn.forward(&params, xs.view()).to_owned();
    assert_eq!(a, b);
    // set_state applies to the next call only.
    rnn.set_state(Array2::from_elem((N, H), 0.3).view());
    let c = rnn.forward(&params, xs.view()).to_owned();
    assert!(max_diff(&a, &c) > 1e-6);
    let d = rnn.forward(&params, xs.view()).to_owned();
    assert_eq!(a, d);
}

#[test]
fn no_gradient_crosses_the_truncation_boundary() {
    // The second block's weight gradient is the same whether or not a first block ran before
    // with the same carried state given explicitly: nothing from block 1 enters block 2's backward.
    let (mut params, mut rnn, xs) = setup(StateMode::Stateful);
    let mut rng = Rng::new(5);
    let dhs = random_array(&[N, T / 2, H], &mut rng).into_dimensionality::<Ix3>().unwrap();
    rnn.forward(&params, xs.slice(s![.., ..T / 2, ..]));
    let carried = rnn.final_state().to_owned();
    rnn.forward(&params, xs.slice(s![.., T / 2.., ..]));
    params.zero_grad();
    rnn.backward(&mut params, dhs.view());
    let grads: Vec<_> = params.ids().map(|id| params.grad(id).to_owned()).collect();

    let (mut params2, mut fresh, _) = setup(StateMode::Stateful);
    fresh.set_state(carried.view());
    fresh.forward(&params2, xs.slice(s![.., T / 2.., ..]));
    params2.zero_grad();
    fresh.backward(&mut params2, dhs.view());
    for (id, g) in params2.ids().zip(&grads) {
        assert_eq!(&params2.grad(id).to_owned(), g, "{}", params2.name(id));
    }
    assert_eq!(rnn.initial_state_grad(), fresh.initial_state_grad());
}
