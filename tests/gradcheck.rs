//! Every layer's backward against central finite differences, in f64.
//!
//! Loss `L = sum(y * r)` with a fixed random upstream `r`, so `dy = r`. Sizes are tiny and
//! pairwise different (N 2, T 3, D 4, H 5, V 7) so that a transposed index cannot pass by
//! symmetry. Tolerance: see `common::REL_TOL` (1e-6 relative) and `ABS_TOL` (1e-9 absolute).

mod common;

use common::*;
use ndarray::{Array2, Array3, ArrayD, Ix1, Ix2, Ix3};
use recur::layers::CellKind;
use recur::layers::{Affine, Embedding, RnnCell, SigmoidWithLoss, SoftmaxWithLoss, IGNORE};
use recur::models::{Init, Lm, LmConfig, SimpleRnnlm};
use recur::params::Params;
use recur::tensor::Rng;
use recur::time::{CellStep, StateMode, TimeAffine, TimeEmbedding, TimeRnn, TimeSoftmaxWithLoss};

const N: usize = 2;
const T: usize = 3;
const D: usize = 4;
const H: usize = 5;
const V: usize = 7;

fn dot(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn affine() {
    let mut rng = Rng::new(1);
    let mut params = Params::new();
    let mut layer = Affine::new(&mut params, "fc", D, H);
    randomize(&mut params, &mut rng, 0.5);
    let x = random_array(&[N, D], &mut rng);
    let r = random_array(&[N, H], &mut rng);
    let x2 = x.view().into_dimensionality::<Ix2>().unwrap();
    layer.forward(&params, x2);
    let dx =
        layer.backward(&mut params, r.view().into_dimensionality::<Ix2>().unwrap()).to_owned().into_dyn();
    let mut probe = layer.clone();
    check_elements("affine dx", &x, dx.view(), |x| {
        dot(&probe.forward(&params, x.view().into_dimensionality().unwrap()).to_owned().into_dyn(), &r)
    });
    check_params("affine", &mut params, |p| dot(&layer.clone().forward(p, x2).to_owned().into_dyn(), &r));
}

#[test]
fn embedding_accumulates_repeated_ids() {
    let mut rng = Rng::new(2);
    let mut params = Params::new();
    let mut layer = Embedding::new(&mut params, "emb", V, D);
    randomize(&mut params, &mut rng, 1.0);
    let ids = [1u32, 3, 1, 6, 3, 1];
    let r = random_array(&[ids.len(), D], &mut rng);
    layer.forward(&params, &ids);
    layer.backward(&mut params, r.view().into_dimensionality().unwrap());
    // Row 1 occurs three times: its gradient is the sum of three rows of r.
    let g = params.grad(layer.weight).into_dimensionality::<Ix2>().unwrap().to_owned();
    let r2 = r.view().into_dimensionality::<Ix2>().unwrap();
    let want = &r2.row(0) + &r2.row(2) + r2.row(5);
    assert!((&g.row(1) - &want).iter().all(|d| d.abs() < 1e-12));
    assert!(g.row(2).iter().all(|&v| v == 0.0), "rows of absent ids stay zero");
    check_params("embedding", &mut params, |p| {
        dot(&layer.clone().forward(p, &ids).to_owned().into_dyn(), &r)
    });
}

/// One step of a cell (the book's `RNN` / `LSTM` classes): input, previous state `h` or
/// `[h | c]`, every weight; upstream gradient on the whole new state.
fn check_cell_step<C: recur::layers::Cell>(seed: u64) {
    let mut rng = Rng::new(seed);
    let mut params = Params::new();
    let mut cell: CellStep<f64, C> = CellStep::new(&mut params, "rnn", D, H);
    randomize(&mut params, &mut rng, 0.5);
    let x = random_array(&[N, D], &mut rng);
    let state_prev = random_array(&[N, C::STATE * H], &mut rng);
    let r = random_array(&[N, C::STATE * H], &mut rng);
    let as2 = |a: &ArrayD<f64>| a.view().into_dimensionality::<Ix2>().unwrap().to_owned();
    cell.forward(&params, as2(&x).view(), as2(&state_prev).view());
    let (dx, dstate_prev) = cell.backward(&mut params, as2(&r).view());
    let (dx, dstate_prev) = (dx.to_owned().into_dyn(), dstate_prev.to_owned().into_dyn());
    let mut probe = cell.clone();
    let kind = C::KIND;
    check_elements(&format!("{kind} cell dx"), &x, dx.view(), |x| {
        dot(&probe.forward(&params, as2(x).view(), as2(&state_prev).view()).to_owned().into_dyn(), &r)
    });
    check_elements(&format!("{kind} cell dstate_prev"), &state_prev, dstate_prev.view(), |s| {
        dot(&probe.forward(&params, as2(&x).view(), as2(s).view()).to_owned().into_dyn(), &r)
    });
    check_params(&format!("{kind} cell"), &mut params, |p| {
        dot(&cell.clone().forward(p, as2(&x).view(), as2(&state_prev).view()).to_owned().into_dyn(), &r)
    });
}

#[test]
fn rnn_cell_step() {
    check_cell_step::<RnnCell>(3);
}

#[test]
fn lstm_cell_step() {
    check_cell_step::<recur::layers::LstmCell>(31);
}

#[test]
fn gru_cell_step() {
    check_cell_step::<recur::layers::GruCell>(32);
}

#[test]
fn softmax_with_loss_ignores_marked_rows() {
    let mut rng = Rng::new(4);
    let x = random_array(&[4, V], &mut rng) * 3.0;
    let targets = [2u32, IGNORE, 6, 0];
    let mut layer = SoftmaxWithLoss::<f64>::new();
    layer.forward(x.view().into_dimensionality().unwrap(), &targets);
    let dx = layer.backward(0.7).to_owned().into_dyn();
    assert!(dx.view().into_dimensionality::<Ix2>().unwrap().row(1).iter().all(|&v| v == 0.0));
    check_elements("softmax-with-loss dx", &x, dx.view(), |x| {
        0.7 * SoftmaxWithLoss::new().forward(x.view().into_dimensionality().unwrap(), &targets)
    });
}

#[test]
fn sigmoid_with_loss() {
    let mut rng = Rng::new(5);
    let x = random_array(&[6], &mut rng) * 2.0;
    let t = ndarray::arr1(&[1.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    let mut layer = SigmoidWithLoss::<f64>::new();
    layer.forward(x.view().into_dimensionality::<Ix1>().unwrap(), t.view());
    let dx = layer.backward(1.0).to_owned().into_dyn();
    check_elements("sigmoid-with-loss dx", &x, dx.view(), |x| {
        SigmoidWithLoss::new().forward(x.view().into_dimensionality().unwrap(), t.view())
    });
}

#[test]
fn time_embedding_and_time_affine() {
    let mut rng = Rng::new(6);
    let mut params = Params::new();
    let mut emb = TimeEmbedding::new(&mut params, "emb", V, D);
    let mut fc = TimeAffine::new(&mut params, "fc", D, H);
    randomize(&mut params, &mut rng, 0.5);
    let ids = ndarray::arr2(&[[1u32, 3, 1], [6, 0, 3]]);
    let r = random_array(&[N, T, H], &mut rng);
    let y = emb.forward(&params, ids.view()).to_owned();
    fc.forward(&params, y.view());
    let dy = fc.backward(&mut params, r.view().into_dimensionality::<Ix3>().unwrap()).to_owned();
    emb.backward(&mut params, dy.view());
    check_params("time embedding + affine", &mut params, |p| {
        let y = emb.clone().forward(p, ids.view()).to_owned();
        dot(&fc.clone().forward(p, y.view()).to_owned().into_dyn(), &r)
    });
}

#[test]
fn time_softmax_with_loss() {
    let mut rng = Rng::new(7);
    let x = random_array(&[N, T, V], &mut rng);
    let ts = ndarray::arr2(&[[1u32, IGNORE, 6], [0, 3, 2]]);
    let mut layer = TimeSoftmaxWithLoss::<f64>::new();
    layer.forward(x.view().into_dimensionality().unwrap(), ts.view());
    let dx = layer.backward(1.0).to_owned().into_dyn();
    check_elements("time softmax-with-loss dx", &x, dx.view(), |x| {
        TimeSoftmaxWithLoss::new().forward(x.view().into_dimensionality().unwrap(), ts.view())
    });
}

/// The Time RNN over a whole sequence: input, every weight, and the initial state (given with
/// `set_state`), plus the gradient into the final state through `backward_from_final`.
#[test]
fn time_rnn_with_initial_and_final_state() {
    let mut rng = Rng::new(8);
    let mut params = Params::new();
    let mut rnn: TimeRnn<f64> = TimeRnn::new(&mut params, "rnn", 0, D, H, StateMode::Stateless);
    randomize(&mut params, &mut rng, 0.5);
    let xs = random_array(&[N, T, D], &mut rng);
    let h0 = random_array(&[N, H], &mut rng);
    let r = random_array(&[N, T, H], &mut rng);
    let r_final = random_array(&[N, H], &mut rng);
    let as3 = |a: &ArrayD<f64>| a.view().into_dimensionality::<Ix3>().unwrap().to_owned();
    let as2 = |a: &ArrayD<f64>| a.view().into_dimensionality::<Ix2>().unwrap().to_owned();
    let loss = |rnn: &mut TimeRnn<f64>, p: &Params<f64>, xs: &Array3<f64>, h0: &Array2<f64>| {
        rnn.set_state(h0.view());
        let hs = rnn.forward(p, xs.view()).to_owned().into_dyn();
        dot(&hs, &r) + dot(&rnn.final_state().to_owned().into_dyn(), &r_final)
    };
    loss(&mut rnn, &params, &as3(&xs), &as2(&h0));
    let dxs =
        rnn.backward_from_final(&mut params, as3(&r).view(), as2(&r_final).view()).to_owned().into_dyn();
    let dh0 = rnn.initial_state_grad().to_owned().into_dyn();
    let mut probe = rnn.clone();
    check_elements("time rnn dxs", &xs, dxs.view(), |x| loss(&mut probe, &params, &as3(x), &as2(&h0)));
    check_elements("time rnn dh0", &h0, dh0.view(), |h| loss(&mut probe, &params, &as3(&xs), &as2(h)));
    check_params("time rnn", &mut params, |p| loss(&mut rnn.clone(), p, &as3(&xs), &as2(&h0)));
}

/// A stateful second batch: its gradient treats the carried state as a constant (truncated
/// BPTT), so it must equal the finite difference with the first batch's state held fixed.
#[test]
fn time_rnn_stateful_second_batch() {
    let mut rng = Rng::new(9);
    let mut params = Params::new();
    let mut rnn: TimeRnn<f64> = TimeRnn::new(&mut params, "rnn", 0, D, H, StateMode::Stateful);
    randomize(&mut params, &mut rng, 0.5);
    let first = random_array(&[N, T, D], &mut rng).into_dimensionality::<Ix3>().unwrap();
    let second = random_array(&[N, T, D], &mut rng);
    let r = random_array(&[N, T, H], &mut rng);
    rnn.forward(&params, first.view());
    let carried = rnn.final_state().to_owned();
    let hs = rnn.forward(&params, second.view().into_dimensionality().unwrap()).to_owned();
    assert!(hs.iter().all(|v| v.is_finite()));
    rnn.backward(&mut params, r.view().into_dimensionality().unwrap());
    check_params("stateful time rnn, second batch", &mut params, |p| {
        let mut probe = rnn.clone();
        probe.set_state(carried.view());
        dot(&probe.forward(p, second.view().into_dimensionality().unwrap()).to_owned().into_dyn(), &r)
    });
}

/// The whole chapter-5 model: every parameter, on a stateful second batch.
#[test]
fn simple_rnnlm_whole_model() {
    let mut rng = Rng::new(10);
    let mut model: SimpleRnnlm<f64> = SimpleRnnlm::new(LmConfig::simple_rnnlm(V, D, H), &mut rng);
    randomize(&mut model.params, &mut rng, 0.5);
    let xs1 = ndarray::arr2(&[[1u32, 3, 1], [6, 0, 3]]);
    let xs2 = ndarray::arr2(&[[2u32, 2, 5], [4, 1, 0]]);
    let ts2 = ndarray::arr2(&[[2u32, 5, 4], [1, 0, 6]]);
    model.forward(xs1.view(), xs1.view());
    let carried = model.rnns[0].final_state().to_owned();
    model.forward(xs2.view(), ts2.view());
    model.params.zero_grad();
    model.backward();
    let mut params = model.params.clone();
    check_params("simple rnnlm", &mut params, |p| {
        let mut probe = model.clone();
        probe.params = p.clone();
        probe.rnns[0].set_state(carried.view());
        probe.forward(xs2.view(), ts2.view())
    });
}

/// LSTM and GRU through the same time loop: input, every weight, the initial state `[h | c]`.
fn check_time_cell<C: recur::layers::Cell>(seed: u64) {
    let mut rng = Rng::new(seed);
    let mut params = Params::new();
    let mut rnn: recur::time::TimeRecurrent<f64, C> =
        recur::time::TimeRecurrent::new(&mut params, "rnn", 0, D, H, StateMode::Stateless);
    randomize(&mut params, &mut rng, 0.5);
    let xs = random_array(&[N, T, D], &mut rng);
    let s0 = random_array(&[N, C::STATE * H], &mut rng);
    let r = random_array(&[N, T, H], &mut rng);
    let as3 = |a: &ArrayD<f64>| a.view().into_dimensionality::<Ix3>().unwrap().to_owned();
    let as2 = |a: &ArrayD<f64>| a.view().into_dimensionality::<Ix2>().unwrap().to_owned();
    let loss = |rnn: &mut recur::time::TimeRecurrent<f64, C>,
                p: &Params<f64>,
                xs: &Array3<f64>,
                s0: &Array2<f64>| {
        rnn.set_state(s0.view());
        dot(&rnn.forward(p, xs.view()).to_owned().into_dyn(), &r)
    };
    loss(&mut rnn, &params, &as3(&xs), &as2(&s0));
    let dxs = rnn.backward(&mut params, as3(&r).view()).to_owned().into_dyn();
    let ds0 = rnn.initial_state_grad().to_owned().into_dyn();
    let mut probe = rnn.clone();
    check_elements(&format!("time {} dxs", C::KIND), &xs, dxs.view(), |x| {
        loss(&mut probe, &params, &as3(x), &as2(&s0))
    });
    check_elements(&format!("time {} dstate0", C::KIND), &s0, ds0.view(), |s| {
        loss(&mut probe, &params, &as3(&xs), &as2(s))
    });
    check_params(&format!("time {}", C::KIND), &mut params, |p| {
        loss(&mut rnn.clone(), p, &as3(&xs), &as2(&s0))
    });
}

#[test]
fn time_lstm() {
    check_time_cell::<recur::layers::LstmCell>(11);
}

#[test]
fn time_gru() {
    check_time_cell::<recur::layers::GruCell>(12);
}

/// A whole 2-layer language model with tied weights (one `encoder.weight`, used by the
/// embedding and the decoder): every parameter, on a stateful second batch. With `dropout`,
/// the dropout generator is rewound before every forward so each sees the same masks.
fn check_lm(cell: CellKind, dropout: f64, seed: u64) {
    let config = LmConfig {
        cell,
        vocab_size: V,
        embed_size: H,
        hidden_size: H,
        num_layers: 2,
        dropout,
        tie_weights: true,
        init: Init::Uniform,
        init_scale: 0.5,
    };
    let mut rng = Rng::new(seed);
    let mut model: Lm<f64> = Lm::new(config, &mut rng);
    let xs1 = ndarray::arr2(&[[1u32, 3, 1], [6, 0, 3]]);
    let xs2 = ndarray::arr2(&[[2u32, 2, 5], [4, 1, 0]]);
    let ts2 = ndarray::arr2(&[[2u32, 5, 4], [1, 0, 6]]);
    model.forward(xs1.view(), xs1.view());
    let carried: Vec<_> = model.rnns.iter().map(|r| r.final_state().to_owned()).collect();
    let masks = model.dropout_rng_mut().state();
    model.forward(xs2.view(), ts2.view());
    model.params.zero_grad();
    model.backward();
    let what = format!("2-layer tied {cell} lm, dropout {dropout}");
    let mut params = model.params.clone();
    check_params(&what, &mut params, |p| {
        let mut probe = model.clone();
        probe.params = p.clone();
        *probe.dropout_rng_mut() = Rng::from_state(masks);
        probe.rnns.iter_mut().zip(&carried).for_each(|(r, s)| r.set_state(s.view()));
        probe.forward(xs2.view(), ts2.view())
    });
}

#[test]
fn lstm_lm_two_layers_tied() {
    check_lm(CellKind::Lstm, 0.0, 21);
}

#[test]
fn gru_lm_two_layers_tied() {
    check_lm(CellKind::Gru, 0.0, 22);
}

#[test]
fn lstm_lm_two_layers_tied_with_dropout() {
    check_lm(CellKind::Lstm, 0.3, 23);
}
