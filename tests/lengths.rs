//! Variable-length batches: a padded batch gives exactly what running each sequence alone gives.
//!
//! For every cell (RNN, LSTM, GRU) and every recurrent layer built on the one time loop (forward,
//! reverse, a 2-layer stack, bidirectional, a 2-layer bidirectional stack): N = 3 sequences of
//! lengths such as [5, 2, 0] padded to T = 5, with random garbage in the padded inputs, a random
//! initial state, and the loss `L = sum(hs * r) + sum(final * r_final)` with `r` random at the
//! padded positions too (so they must be ignored). Against each sequence run alone (N = 1,
//! T = len): outputs at the real steps equal and exactly zero after; final states equal; the
//! input gradient equal at the real steps and exactly zero after; the initial-state gradient
//! equal; every parameter gradient equal to the SUM of the per-sequence runs' gradients.
//! The arithmetic is the same, so the tolerance is rounding (1e-12). Finite-difference checks of
//! a reverse layer and of the bidirectional wrapper with lengths close the loop.

mod common;

use common::{check_elements, check_params, random_array, randomize};
use ndarray::{s, Array2, Array3, ArrayD, ArrayView3, ArrayViewD, Axis, Ix2, Ix3};
use recur::layers::CellKind;
use recur::params::Params;
use recur::tensor::Rng;
use recur::time::{Bidirectional, Direction, RecurrentLayer, StateMode};

const N: usize = 3;
const T: usize = 5;
const D: usize = 4;
const H: usize = 6;
/// Same arithmetic on both sides: only the summation order of the weight gradients differs.
const TOL: f64 = 1e-12;
const CELLS: [CellKind; 3] = [CellKind::Rnn, CellKind::Lstm, CellKind::Gru];
/// Lengths tried for every layer: one full, one short, one empty; and none reaching T.
const LENGTHS: [[usize; N]; 2] = [[5, 2, 0], [3, 1, 4]];

/// What the comparisons need from a recurrent layer or a stack of them.
trait Net: Clone {
    /// Width of each initial/final state the net keeps (one per layer and direction).
    fn state_sizes(&self) -> Vec<usize>;
    fn output_size(&self) -> usize;
    fn set_states(&mut self, states: &[Array2<f64>]);
    fn run(&mut self, p: &Params<f64>, xs: ArrayView3<f64>, lengths: Option<&[usize]>) -> Array3<f64>;
    fn finals(&self) -> Vec<Array2<f64>>;
    /// Backward from `dhs` and the final states' gradients; returns dxs.
    fn back(&mut self, p: &mut Params<f64>, dhs: ArrayView3<f64>, dfinals: &[Array2<f64>]) -> Array3<f64>;
    fn initial_grads(&self) -> Vec<Array2<f64>>;
}

impl Net for RecurrentLayer<f64> {
    fn state_sizes(&self) -> Vec<usize> {
        vec![self.state_size()]
    }
    fn output_size(&self) -> usize {
        self.hidden_size()
    }
    fn set_states(&mut self, states: &[Array2<f64>]) {
        self.set_state(states[0].view());
    }
    fn run(&mut self, p: &Params<f64>, xs: ArrayView3<f64>, lengths: Option<&[usize]>) -> Array3<f64> {
        self.forward_with_lengths(p, xs, lengths).to_owned()
    }
    fn finals(&self) -> Vec<Array2<f64>> {
        vec![self.final_state().to_owned()]
    }
    fn back(&mut self, p: &mut Params<f64>, dhs: ArrayView3<f64>, dfinals: &[Array2<f64>]) -> Array3<f64> {
        self.backward_from_final(p, dhs, dfinals[0].view()).to_owned()
    }
    fn initial_grads(&self) -> Vec<Array2<f64>> {
        vec![self.initial_state_grad().to_owned()]
    }
}

impl Net for Bidirectional<f64> {
    fn state_sizes(&self) -> Vec<usize> {
        vec![self.fwd.state_size(), self.rev.state_size()]
    }
    fn output_size(&self) -> usize {
        Bidirectional::output_size(self)
    }
    fn set_states(&mut self, states: &[Array2<f64>]) {
        self.set_state(states[0].view(), states[1].view());
    }
    fn run(&mut self, p: &Params<f64>, xs: ArrayView3<f64>, lengths: Option<&[usize]>) -> Array3<f64> {
        self.forward_with_lengths(p, xs, lengths).to_owned()
    }
    fn finals(&self) -> Vec<Array2<f64>> {
        let (f, r) = self.final_states();
        vec![f.to_owned(), r.to_owned()]
    }
    fn back(&mut self, p: &mut Params<f64>, dhs: ArrayView3<f64>, dfinals: &[Array2<f64>]) -> Array3<f64> {
        self.backward_from_final(p, dhs, dfinals[0].view(), dfinals[1].view()).to_owned()
    }
    fn initial_grads(&self) -> Vec<Array2<f64>> {
        let (f, r) = self.initial_state_grads();
        vec![f.to_owned(), r.to_owned()]
    }
}

/// Layers one on top of the other, the lengths passed to each.
#[derive(Clone)]
struct Stack<L: Net>(Vec<L>);

impl<L: Net> Stack<L> {
    /// The states of layer k within the flat list.
    fn split<'a, X>(&self, all: &'a [X]) -> Vec<&'a [X]> {
        let mut rest = all;
        self.0
            .iter()
            .map(|l| {
                let (mine, others) = rest.split_at(l.state_sizes().len());
                rest = others;
                mine
            })
            .collect()
    }
}

impl<L: Net> Net for Stack<L> {
    fn state_sizes(&self) -> Vec<usize> {
        self.0.iter().flat_map(|l| l.state_sizes()).collect()
    }
    fn output_size(&self) -> usize {
        self.0.last().unwrap().output_size()
    }
    fn set_states(&mut self, states: &[Array2<f64>]) {
        let parts: Vec<Vec<Array2<f64>>> = self.split(states).into_iter().map(|p| p.to_vec()).collect();
        self.0.iter_mut().zip(&parts).for_each(|(l, s)| l.set_states(s));
    }
    fn run(&mut self, p: &Params<f64>, xs: ArrayView3<f64>, lengths: Option<&[usize]>) -> Array3<f64> {
        let mut x = xs.to_owned();
        for l in &mut self.0 {
            x = l.run(p, x.view(), lengths);
        }
        x
    }
    fn finals(&self) -> Vec<Array2<f64>> {
        self.0.iter().flat_map(|l| l.finals()).collect()
    }
    fn back(&mut self, p: &mut Params<f64>, dhs: ArrayView3<f64>, dfinals: &[Array2<f64>]) -> Array3<f64> {
        let parts: Vec<Vec<Array2<f64>>> = self.split(dfinals).into_iter().map(|p| p.to_vec()).collect();
        let mut d = dhs.to_owned();
        for (l, df) in self.0.iter_mut().zip(&parts).rev() {
            d = l.back(p, d.view(), df);
        }
        d
    }
    fn initial_grads(&self) -> Vec<Array2<f64>> {
        self.0.iter().flat_map(|l| l.initial_grads()).collect()
    }
}

fn layer(cell: CellKind, direction: Direction, params: &mut Params<f64>) -> RecurrentLayer<f64> {
    match direction {
        Direction::Forward => RecurrentLayer::new(cell, params, "rnn", 0, D, H, StateMode::Stateless),
        Direction::Reverse => RecurrentLayer::new_reverse(cell, params, "rnn", 0, D, H, StateMode::Stateless),
    }
}

fn stack(cell: CellKind, params: &mut Params<f64>) -> Stack<RecurrentLayer<f64>> {
    Stack(vec![
        RecurrentLayer::new(cell, params, "rnn", 0, D, H, StateMode::Stateless),
        RecurrentLayer::new(cell, params, "rnn", 1, H, H, StateMode::Stateless),
    ])
}

fn bidirectional(cell: CellKind, params: &mut Params<f64>) -> Bidirectional<f64> {
    Bidirectional::new(cell, params, "rnn", 0, D, H, StateMode::Stateless)
}

fn bidirectional_stack(cell: CellKind, params: &mut Params<f64>) -> Stack<Bidirectional<f64>> {
    Stack(vec![
        Bidirectional::new(cell, params, "rnn", 0, D, H, StateMode::Stateless),
        Bidirectional::new(cell, params, "rnn", 1, 2 * H, H, StateMode::Stateless),
    ])
}

fn arr3(shape: [usize; 3], rng: &mut Rng) -> Array3<f64> {
    random_array(&shape, rng).into_dimensionality::<Ix3>().unwrap()
}

fn arr2(shape: [usize; 2], rng: &mut Rng) -> Array2<f64> {
    random_array(&shape, rng).into_dimensionality::<Ix2>().unwrap()
}

fn dot<'a>(a: impl IntoIterator<Item = &'a f64>, b: impl IntoIterator<Item = &'a f64>) -> f64 {
    a.into_iter().zip(b).map(|(x, y)| x * y).sum()
}

fn assert_close(what: &str, got: ArrayViewD<f64>, want: ArrayViewD<f64>) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert!((g - w).abs() <= TOL * (1.0 + w.abs()), "{what}[{i}]: padded batch {g:e}, alone {w:e}");
    }
}

fn assert_zero(what: &str, a: ArrayViewD<f64>) {
    assert!(a.iter().all(|&v| v == 0.0), "{what}: should be exactly zero, is {a}");
}

/// The random inputs of one comparison: xs (garbage in the padding), initial states, and the
/// upstream gradients of the outputs and of the final states.
#[derive(Clone)]
struct Case {
    xs: Array3<f64>,
    states: Vec<Array2<f64>>,
    r: Array3<f64>,
    r_finals: Vec<Array2<f64>>,
}

impl Case {
    fn new<L: Net>(net: &L, rng: &mut Rng) -> Case {
        Case {
            xs: arr3([N, T, D], rng),
            states: net.state_sizes().iter().map(|&w| arr2([N, w], rng)).collect(),
            r: arr3([N, T, net.output_size()], rng),
            r_finals: net.state_sizes().iter().map(|&w| arr2([N, w], rng)).collect(),
        }
    }

    /// Row `n`'s first `len` steps as a batch of one.
    fn alone(&self, n: usize, len: usize) -> Case {
        Case {
            xs: self.xs.slice(s![n..n + 1, ..len, ..]).to_owned(),
            states: self.states.iter().map(|a| a.slice(s![n..n + 1, ..]).to_owned()).collect(),
            r: self.r.slice(s![n..n + 1, ..len, ..]).to_owned(),
            r_finals: self.r_finals.iter().map(|a| a.slice(s![n..n + 1, ..]).to_owned()).collect(),
        }
    }

    fn loss<L: Net>(&self, net: &mut L, p: &Params<f64>, lengths: Option<&[usize]>) -> f64 {
        net.set_states(&self.states);
        let hs = net.run(p, self.xs.view(), lengths);
        let finals = net.finals();
        dot(&hs, &self.r) + finals.iter().zip(&self.r_finals).map(|(f, r)| dot(f, r)).sum::<f64>()
    }
}

struct Run {
    hs: Array3<f64>,
    finals: Vec<Array2<f64>>,
    dxs: Array3<f64>,
    initial_grads: Vec<Array2<f64>>,
}

/// Forward (loss) then backward; gradients add into `p`.
fn run<L: Net>(net: &mut L, p: &mut Params<f64>, case: &Case, lengths: Option<&[usize]>) -> Run {
    net.set_states(&case.states);
    let hs = net.run(p, case.xs.view(), lengths);
    let finals = net.finals();
    let dxs = net.back(p, case.r.view(), &case.r_finals);
    Run { hs, finals, dxs, initial_grads: net.initial_grads() }
}

/// The padded batch against each sequence alone: outputs, final states, input and initial-state
/// gradients row by row; parameter gradients against the sum over the sequences.
fn check_padded_batch<L: Net>(what: &str, build: impl Fn(&mut Params<f64>) -> L, seed: u64) {
    for lengths in LENGTHS {
        let what = format!("{what}, lengths {lengths:?}");
        let mut rng = Rng::new(seed);
        let mut params = Params::new();
        let mut net = build(&mut params);
        randomize(&mut params, &mut rng, 0.5);
        let case = Case::new(&net, &mut rng);
        let mut alone_params = params.clone();
        let padded = run(&mut net, &mut params, &case, Some(&lengths));

        for (n, &len) in lengths.iter().enumerate() {
            let row = |name: &str| format!("{what}: {name} of sequence {n} (length {len})");
            assert_zero(&row("outputs past the end"), padded.hs.slice(s![n, len.., ..]).into_dyn());
            assert_zero(&row("input gradient past the end"), padded.dxs.slice(s![n, len.., ..]).into_dyn());
            if len == 0 {
                // Nothing read: the final state is the initial one, and its gradient goes straight back.
                for k in 0..case.states.len() {
                    assert_eq!(padded.finals[k].row(n), case.states[k].row(n), "{}", row("final state"));
                    assert_eq!(padded.initial_grads[k].row(n), case.r_finals[k].row(n), "{}", row("dstate0"));
                }
                continue;
            }
            let alone = run(&mut build(&mut Params::new()), &mut alone_params, &case.alone(n, len), None);
            let cmp =
                |name: &str, got: ArrayViewD<f64>, want: ArrayViewD<f64>| assert_close(&row(name), got, want);
            cmp(
                "outputs",
                padded.hs.slice(s![n, ..len, ..]).into_dyn(),
                alone.hs.index_axis(Axis(0), 0).into_dyn(),
            );
            cmp(
                "input gradient",
                padded.dxs.slice(s![n, ..len, ..]).into_dyn(),
                alone.dxs.index_axis(Axis(0), 0).into_dyn(),
            );
            for k in 0..case.states.len() {
                cmp(
                    &format!("final state {k}"),
                    padded.finals[k].row(n).into_dyn(),
                    alone.finals[k].row(0).into_dyn(),
                );
                let (got, want) = (padded.initial_grads[k].row(n), alone.initial_grads[k].row(0));
                cmp(&format!("initial state {k} gradient"), got.into_dyn(), want.into_dyn());
            }
        }
        for id in params.ids() {
            let name = params.name(id);
            assert!(params.grad(id).iter().any(|g| g.abs() > 1e-8), "{what}: d{name} is all zero");
            assert_close(
                &format!("{what}: d{name} vs the sum over sequences"),
                params.grad(id),
                alone_params.grad(id),
            );
        }
    }
}

#[test]
fn rnn_padded_batch_equals_each_sequence_alone() {
    check_padded_batch("rnn", |p| layer(CellKind::Rnn, Direction::Forward, p), 1);
}

#[test]
fn lstm_padded_batch_equals_each_sequence_alone() {
    check_padded_batch("lstm", |p| layer(CellKind::Lstm, Direction::Forward, p), 2);
}

#[test]
fn gru_padded_batch_equals_each_sequence_alone() {
    check_padded_batch("gru", |p| layer(CellKind::Gru, Direction::Forward, p), 3);
}

#[test]
fn reverse_layers_padded_batch_equals_each_sequence_alone() {
    for (i, cell) in CELLS.into_iter().enumerate() {
        check_padded_batch(&format!("reverse {cell}"), |p| layer(cell, Direction::Reverse, p), 10 + i as u64);
    }
}

#[test]
fn two_layer_stacks_padded_batch_equals_each_sequence_alone() {
    for (i, cell) in CELLS.into_iter().enumerate() {
        check_padded_batch(&format!("2-layer {cell}"), |p| stack(cell, p), 20 + i as u64);
    }
}

#[test]
fn bidirectional_padded_batch_equals_each_sequence_alone() {
    for (i, cell) in CELLS.into_iter().enumerate() {
        check_padded_batch(&format!("bidirectional {cell}"), |p| bidirectional(cell, p), 30 + i as u64);
    }
}

#[test]
fn two_layer_bidirectional_padded_batch_equals_each_sequence_alone() {
    for (i, cell) in CELLS.into_iter().enumerate() {
        check_padded_batch(
            &format!("2-layer bidirectional {cell}"),
            |p| bidirectional_stack(cell, p),
            40 + i as u64,
        );
    }
}

/// A reverse layer on x equals a forward layer with the same weights on x read backwards: its
/// outputs, final state, input gradient (read backwards) and weight gradients.
#[test]
fn reverse_layer_is_the_forward_layer_on_the_reversed_sequence() {
    for cell in CELLS {
        let mut rng = Rng::new(50);
        let mut params = Params::new();
        let mut rev = layer(cell, Direction::Reverse, &mut params);
        randomize(&mut params, &mut rng, 0.5);
        let mut fwd_params = Params::new();
        let mut fwd = layer(cell, Direction::Forward, &mut fwd_params);
        for id in fwd_params.ids().collect::<Vec<_>>() {
            let name = format!("{}_reverse", fwd_params.name(id));
            let value = params.value(params.find(&name).expect("reverse names end in _reverse")).to_owned();
            fwd_params.value_mut(id).assign(&value);
        }
        let xs = arr3([N, T, D], &mut rng);
        let r = arr3([N, T, H], &mut rng);
        let backwards = |a: &Array3<f64>| a.slice(s![.., ..;-1, ..]).to_owned();

        let hs = rev.forward(&params, xs.view()).to_owned();
        let want = fwd.forward(&fwd_params, backwards(&xs).view()).to_owned();
        assert_close(
            &format!("reverse {cell} outputs"),
            hs.view().into_dyn(),
            backwards(&want).view().into_dyn(),
        );
        assert_close(
            &format!("reverse {cell} final"),
            rev.final_state().into_dyn(),
            fwd.final_state().into_dyn(),
        );
        let dxs = rev.backward(&mut params, r.view()).to_owned();
        let want = fwd.backward(&mut fwd_params, backwards(&r).view()).to_owned();
        assert_close(
            &format!("reverse {cell} dxs"),
            dxs.view().into_dyn(),
            backwards(&want).view().into_dyn(),
        );
        for id in fwd_params.ids() {
            let name = fwd_params.name(id);
            let got = params.grad(params.find(&format!("{name}_reverse")).unwrap());
            assert_close(&format!("reverse {cell} d{name}"), got, fwd_params.grad(id));
        }
    }
}

/// The wrapper's output is [forward | reverse] (PyTorch's order), each equal to its layer run on
/// its own; its input gradient is the sum of theirs.
#[test]
fn bidirectional_is_forward_then_reverse_side_by_side() {
    let lengths = [5, 2, 0];
    for cell in CELLS {
        let mut rng = Rng::new(60);
        let mut params = Params::new();
        let mut bi = bidirectional(cell, &mut params);
        randomize(&mut params, &mut rng, 0.5);
        // The same two layers built on their own, in the same order: the same names and ids.
        let mut own = Params::new();
        let mut fwd = layer(cell, Direction::Forward, &mut own);
        let mut rev = layer(cell, Direction::Reverse, &mut own);
        assert_eq!(own.ids().map(|id| own.name(id).to_string()).collect::<Vec<_>>(), {
            params.ids().map(|id| params.name(id).to_string()).collect::<Vec<_>>()
        });
        let mut own = params.clone();
        let xs = arr3([N, T, D], &mut rng);
        let r = arr3([N, T, 2 * H], &mut rng);

        let hs = bi.forward_with_lengths(&params, xs.view(), Some(&lengths)).to_owned();
        assert_eq!(hs.slice(s![.., .., ..H]), fwd.forward_with_lengths(&own, xs.view(), Some(&lengths)));
        assert_eq!(hs.slice(s![.., .., H..]), rev.forward_with_lengths(&own, xs.view(), Some(&lengths)));
        let dxs = bi.backward(&mut params, r.view()).to_owned();
        let dxs_fwd = fwd.backward(&mut own, r.slice(s![.., .., ..H])).to_owned();
        let dxs_rev = rev.backward(&mut own, r.slice(s![.., .., H..])).to_owned();
        assert_eq!(dxs, dxs_fwd + dxs_rev);
        for id in params.ids() {
            assert_eq!(params.grad(id), own.grad(id), "{}", params.name(id));
        }
    }
}

#[test]
fn bidirectional_parameters_have_pytorchs_names() {
    let mut params = Params::<f64>::new();
    let bi = Bidirectional::new(CellKind::Gru, &mut params, "rnn", 1, 2 * H, H, StateMode::Stateless);
    let names: Vec<_> = bi.param_ids().iter().map(|&id| params.name(id).to_string()).collect();
    let one = ["weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"];
    let want: Vec<_> = one
        .iter()
        .map(|n| format!("rnn.{n}"))
        .chain(one.iter().map(|n| format!("rnn.{n}_reverse")))
        .collect();
    assert_eq!(names, want);
    let all: Vec<_> = params.ids().map(|id| params.name(id).to_string()).collect();
    assert_eq!(all, want, "the store holds them in PyTorch's state_dict order");
    assert_eq!(params.value(params.find("rnn.weight_ih_l1_reverse").unwrap()).shape(), &[3 * H, 2 * H]);
    assert_eq!(bi.rev.direction(), Direction::Reverse);
    assert_eq!(bi.fwd.direction(), Direction::Forward);
}

/// Lengths that are all T change nothing, bit for bit, forward and backward.
#[test]
fn full_lengths_equal_no_lengths() {
    for cell in CELLS {
        for direction in [Direction::Forward, Direction::Reverse] {
            let mut rng = Rng::new(70);
            let mut params = Params::new();
            let mut a = layer(cell, direction, &mut params);
            randomize(&mut params, &mut rng, 0.5);
            let mut b = a.clone();
            let mut params_b = params.clone();
            let xs = arr3([N, T, D], &mut rng);
            let r = arr3([N, T, H], &mut rng);
            let hs = a.forward(&params, xs.view()).to_owned();
            assert_eq!(hs, b.forward_with_lengths(&params_b, xs.view(), Some(&[T; N])));
            assert_eq!(b.lengths(), None);
            assert_eq!(a.backward(&mut params, r.view()), b.backward(&mut params_b, r.view()));
            for id in params.ids() {
                assert_eq!(params.grad(id), params_b.grad(id));
            }
        }
    }
}

/// Padded inputs are never read: NaN there gives exactly what zeros give, finite everywhere.
#[test]
fn padded_inputs_are_never_read() {
    let lengths = [5, 2, 0];
    for cell in CELLS {
        for direction in [Direction::Forward, Direction::Reverse] {
            let mut rng = Rng::new(75);
            let mut params = Params::new();
            let mut net = layer(cell, direction, &mut params);
            randomize(&mut params, &mut rng, 0.5);
            let mut zeros = Case::new(&net, &mut rng);
            let mut nans = zeros.clone();
            for (n, &len) in lengths.iter().enumerate() {
                zeros.xs.slice_mut(s![n, len.., ..]).fill(0.0);
                nans.xs.slice_mut(s![n, len.., ..]).fill(f64::NAN);
            }
            let mut nan_params = params.clone();
            let want = run(&mut net.clone(), &mut params, &zeros, Some(&lengths));
            let got = run(&mut net, &mut nan_params, &nans, Some(&lengths));
            assert!(got.hs.iter().chain(&got.dxs).all(|v| v.is_finite()), "{cell} {direction:?}: NaN leaked");
            assert_eq!(
                (got.hs, got.dxs, got.finals),
                (want.hs, want.dxs, want.finals),
                "{cell} {direction:?}"
            );
            for id in params.ids() {
                assert_eq!(nan_params.grad(id), params.grad(id), "{cell} {direction:?}: {}", params.name(id));
            }
        }
    }
}

/// A stateful layer carries each sequence's state at its last real step into the next call.
#[test]
fn stateful_layer_carries_each_sequences_last_real_state() {
    let mut rng = Rng::new(80);
    let mut params = Params::new();
    let mut stateful = RecurrentLayer::new(CellKind::Lstm, &mut params, "rnn", 0, D, H, StateMode::Stateful);
    randomize(&mut params, &mut rng, 0.5);
    let (first, second) = (arr3([N, T, D], &mut rng), arr3([N, T, D], &mut rng));
    stateful.forward_with_lengths(&params, first.view(), Some(&[5, 2, 0]));
    assert_eq!(stateful.lengths(), Some(&[5, 2, 0][..]));
    let last_real = stateful.final_state().to_owned();
    assert!(last_real.row(2).iter().all(|&v| v == 0.0), "length 0 keeps the (zero) initial state");
    let carried = stateful.forward(&params, second.view()).to_owned();
    let mut fresh = stateful.clone();
    fresh.set_state(last_real.view());
    assert_eq!(carried, fresh.forward(&params, second.view()));
}

#[test]
#[should_panic(expected = "TimeRecurrent: 2 lengths for a batch of 3 sequences")]
fn lengths_must_be_one_per_sequence() {
    let mut params = Params::new();
    let mut l = layer(CellKind::Gru, Direction::Forward, &mut params);
    l.forward_with_lengths(&params, Array3::zeros((N, T, D)).view(), Some(&[1, 2]));
}

#[test]
#[should_panic(expected = "TimeRecurrent: sequence 1 has length 6, more than the batch's 5 steps")]
fn lengths_must_not_exceed_the_batch() {
    let mut params = Params::new();
    let mut l = layer(CellKind::Rnn, Direction::Reverse, &mut params);
    l.forward_with_lengths(&params, Array3::zeros((N, T, D)).view(), Some(&[1, 6, 0]));
}

/// Finite differences with lengths: every parameter, the input (padded positions included: both
/// gradients are zero there) and each initial state.
fn gradcheck<L: Net>(what: &str, mut net: L, params: &mut Params<f64>, seed: u64) {
    let lengths = [5, 2, 3];
    let mut rng = Rng::new(seed);
    randomize(params, &mut rng, 0.5);
    let case = Case::new(&net, &mut rng);
    let got = run(&mut net, params, &case, Some(&lengths));
    let mut probe = net.clone();
    let xs = case.xs.clone().into_dyn();
    check_elements(&format!("{what} dxs"), &xs, got.dxs.view().into_dyn(), |x| {
        let case = Case { xs: x.view().into_dimensionality().unwrap().to_owned(), ..case.clone() };
        case.loss(&mut probe, params, Some(&lengths))
    });
    for k in 0..case.states.len() {
        let s0: ArrayD<f64> = case.states[k].clone().into_dyn();
        check_elements(&format!("{what} dstate0[{k}]"), &s0, got.initial_grads[k].view().into_dyn(), |s| {
            let mut case = case.clone();
            case.states[k] = s.view().into_dimensionality().unwrap().to_owned();
            case.loss(&mut probe, params, Some(&lengths))
        });
    }
    check_params(what, params, |p| case.loss(&mut net.clone(), p, Some(&lengths)));
}

#[test]
fn gradcheck_reverse_layer_with_lengths() {
    for (i, cell) in CELLS.into_iter().enumerate() {
        let mut params = Params::new();
        let net = layer(cell, Direction::Reverse, &mut params);
        gradcheck(&format!("reverse {cell}, lengths"), net, &mut params, 90 + i as u64);
    }
}

#[test]
fn gradcheck_bidirectional_with_lengths() {
    for (i, cell) in CELLS.into_iter().enumerate() {
        let mut params = Params::new();
        let net = bidirectional(cell, &mut params);
        gradcheck(&format!("bidirectional {cell}, lengths"), net, &mut params, 100 + i as u64);
    }
}
