//! recur against PyTorch on shared weights: the fixtures in tests/fixtures/ were written by
//! `tests/fixtures/make_fixtures.py` (PyTorch `RNNModel`: nn.Embedding -> nn.RNN -> nn.Linear,
//! cross-entropy averaged over N*T). Regenerate with
//! `python3 tests/fixtures/make_fixtures.py` (needs PyTorch; see tests/fixtures/README.md).
//!
//! Compared, in f64: logits, loss, final hidden state, every parameter gradient and the gradient
//! of the carried initial state, for a first batch from zero state and a second batch whose
//! state is carried (truncated BPTT); then three SGD steps. Tolerance `1e-9 + 1e-7 * |ref|`.
//! In f32 the loss agrees with PyTorch's f32 loss to 1e-5 relative.

use ndarray::{Array2, ArrayD, IxDyn};
use recur::layers::CellKind;
use recur::models::{Init, Lm, LmConfig};
use recur::optim::Sgd;
use recur::tensor::{Real, Rng};
use serde_json::Value;
use std::collections::BTreeMap;

const ATOL: f64 = 1e-9;
const RTOL: f64 = 1e-7;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; regenerate with python3 tests/fixtures/make_fixtures.py"));
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("a list of numbers").iter().map(|x| x.as_f64().expect("a number")).collect()
}

fn ids(v: &Value) -> Array2<u32> {
    let rows: Vec<Vec<u32>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect())
        .collect();
    Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j])
}

fn assert_close(what: &str, ours: impl IntoIterator<Item = f64>, theirs: &[f64]) {
    let ours: Vec<f64> = ours.into_iter().collect();
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            (a - b).abs() <= ATOL + RTOL * b.abs(),
            "{what}[{i}]: recur {a:e} vs PyTorch {b:e}; if the model changed on purpose, regenerate the fixtures with python3 tests/fixtures/make_fixtures.py"
        );
    }
}

fn build<F: Real>(fx: &Value) -> Lm<F> {
    let cell = match fx["cell"].as_str().unwrap() {
        "rnn_tanh" => CellKind::Rnn,
        "lstm" => CellKind::Lstm,
        "gru" => CellKind::Gru,
        other => panic!("unknown fixture cell {other}"),
    };
    let config = LmConfig {
        cell,
        vocab_size: fx["vocab_size"].as_u64().unwrap() as usize,
        embed_size: fx["embed_size"].as_u64().unwrap() as usize,
        hidden_size: fx["hidden_size"].as_u64().unwrap() as usize,
        num_layers: fx["num_layers"].as_u64().unwrap() as usize,
        dropout: 0.0,
        tie_weights: fx["tied"].as_bool().unwrap_or(false),
        init: Init::Book,
        init_scale: 0.1,
    };
    let mut model = Lm::new(config, &mut Rng::new(0));
    let mut tensors = BTreeMap::new();
    for (name, t) in fx["weights"].as_object().unwrap() {
        let shape: Vec<usize> =
            t["shape"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
        let data: Vec<F> = floats(&t["data"]).into_iter().map(F::of).collect();
        tensors.insert(name.clone(), ArrayD::from_shape_vec(IxDyn(&shape), data).unwrap());
    }
    model.load_state_dict(tensors).expect("fixture weights load");
    model
}

/// PyTorch keeps b_ih and b_hh; recur's RNN cell has one bias, their sum, whose gradient equals
/// each of PyTorch's two bias gradients.
fn reference_grad<'a>(grads: &'a Value, name: &str) -> &'a Value {
    &grads[name]
}

fn check_lm(file: &str) {
    let fx = fixture(file);
    let mut model: Lm<f64> = build(&fx);
    let inputs = fx["inputs"].as_array().unwrap();
    let targets = fx["targets"].as_array().unwrap();
    for (b, batch) in fx["batches"].as_array().unwrap().iter().enumerate() {
        let (xs, ts) = (ids(&inputs[b]), ids(&targets[b]));
        let loss = model.forward(xs.view(), ts.view());
        assert_close(&format!("{file} batch {b} loss"), [loss], &[batch["loss"].as_f64().unwrap()]);
        let (n, t) = xs.dim();
        // Logits: recompute through the layers from the same initial state.
        let mut probe = model.clone();
        if b > 0 {
            probe
                .rnns
                .iter_mut()
                .zip(model_initial_states(&fx, &model, b))
                .for_each(|(r, s)| r.set_state(s.view()));
        } else {
            probe.reset_state();
        }
        let logits = probe.scores(xs.view()).to_owned();
        assert_eq!(logits.dim().0 * logits.dim().1, n * t);
        assert_close(&format!("{file} batch {b} logits"), logits.iter().copied(), &floats(&batch["logits"]));
        let final_h: Vec<f64> = model
            .rnns
            .iter()
            .flat_map(|r| r.final_state().column_slice_h(model.config.hidden_size))
            .collect();
        assert_close(&format!("{file} batch {b} final h"), final_h, &floats(&batch["final_h"]));

        model.params.zero_grad();
        model.backward();
        for id in model.params.ids().collect::<Vec<_>>() {
            let name = model.params.name(id).to_string();
            let want = reference_grad(&batch["grads"], &name);
            assert_close(
                &format!("{file} batch {b} d{name}"),
                model.params.grad(id).iter().copied(),
                &floats(want),
            );
        }
        for (k, rnn) in model.rnns.iter().enumerate().filter(|(_, r)| !r.has_hidden_bias()) {
            {
                let want = &batch["grads"][format!("rnn.bias_hh_l{k}")];
                assert_close(
                    &format!("{file} batch {b} drnn.bias_hh_l{k}"),
                    model.params.grad(rnn.b_ih()).iter().copied(),
                    &floats(want),
                );
            }
        }
        if b > 0 {
            let dh0: Vec<f64> = model
                .rnns
                .iter()
                .flat_map(|r| r.initial_state_grad().column_slice_h(model.config.hidden_size))
                .collect();
            assert_close(&format!("{file} batch {b} d initial h"), dh0, &floats(&batch["grad_initial_h"]));
        }
        // f32: the same weights in single precision give PyTorch's f32 loss to 1e-5.
        if b == 0 {
            let mut model32: Lm<f32> = build(&fx);
            let loss32 = model32.forward(xs.view(), ts.view()) as f64;
            let want = batch["loss_f32"].as_f64().unwrap();
            assert!((loss32 - want).abs() <= 1e-5 * want.abs(), "{file} f32 loss {loss32} vs PyTorch {want}");
            // And f32 gradients (the fast paths: packed W_hh, vectorised exp) agree with
            // PyTorch's to f32 accuracy, relative to each tensor's largest entry.
            model32.params.zero_grad();
            model32.backward();
            for id in model32.params.ids().collect::<Vec<_>>() {
                let name = model32.params.name(id).to_string();
                let want = floats(reference_grad(&batch["grads"], &name));
                let scale = want.iter().fold(1e-12f64, |m, w| m.max(w.abs()));
                let worst = model32
                    .params
                    .grad(id)
                    .iter()
                    .zip(&want)
                    .fold(0.0f64, |m, (&g, w)| m.max((g as f64 - w).abs()));
                assert!(
                    worst <= 1e-4 * scale,
                    "{file} f32 d{name}: worst difference {worst:e}, largest entry {scale:e}"
                );
            }
        }
    }

    // SGD: losses of three steps, state carried (and cut) between them.
    let sgd = &fx["sgd"];
    let lr = sgd["lr"].as_f64().unwrap();
    let order: Vec<usize> =
        sgd["batch_order"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
    let mut model: Lm<f64> = build(&fx);
    let optimizer = Sgd::new(lr);
    let mut losses = Vec::new();
    for &b in &order {
        let loss = model.forward(ids(&inputs[b]).view(), ids(&targets[b]).view());
        model.params.zero_grad();
        model.backward();
        optimizer.step(&mut model.params);
        losses.push(loss);
    }
    assert_close(&format!("{file} sgd losses"), losses, &floats(&sgd["sgd_losses"]));
}

/// The states each layer started batch `b` from: the final states of batch `b - 1`, which the
/// model carried. Rebuilt by replaying batch `b - 1` from batch 0.
fn model_initial_states(fx: &Value, model: &Lm<f64>, b: usize) -> Vec<Array2<f64>> {
    let mut replay = model.clone();
    replay.reset_state();
    let inputs = fx["inputs"].as_array().unwrap();
    for prev in inputs.iter().take(b) {
        replay.scores(ids(prev).view());
    }
    replay.rnns.iter().map(|r| r.final_state().to_owned()).collect()
}

trait HiddenColumns {
    fn column_slice_h(&self, h: usize) -> Vec<f64>;
}

impl HiddenColumns for ndarray::ArrayView2<'_, f64> {
    /// The `h` part (first H columns) of a state, row-major.
    fn column_slice_h(&self, h: usize) -> Vec<f64> {
        self.slice(ndarray::s![.., ..h]).iter().copied().collect()
    }
}

#[test]
fn rnn_tanh_language_model_matches_pytorch() {
    check_lm("rnn_tanh_l1.json");
}

#[test]
fn lstm_two_layer_language_model_matches_pytorch() {
    check_lm("lstm_l2.json");
}

#[test]
fn gru_two_layer_language_model_matches_pytorch() {
    check_lm("gru_l2.json");
}

/// Tied weights: PyTorch's one shared Parameter has one gradient, the sum of the embedding's and
/// the decoder's; recur's one `encoder.weight` must have the same.
#[test]
fn tied_lstm_language_model_matches_pytorch() {
    check_lm("lstm_l2_tied.json");
}
