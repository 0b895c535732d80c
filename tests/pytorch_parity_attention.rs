//! recur's attention encoder-decoder against its PyTorch twin on shared weights: the fixtures
//! `tests/fixtures/attention_*.json` were written by `tests/fixtures/make_attention_fixture.py`
//! (regenerate with `python3 tests/fixtures/make_attention_fixture.py`, needs PyTorch). One case
//! per score: LSTM dot; GRU general, bidirectional encoder; 2 x LSTM additive, bidirectional.
//! The inputs hold padding, so the mask is compared too.
//!
//! Compared, in f64: the logits, the loss and every parameter's gradient (PyTorch's `bias_hh`
//! of an LSTM is folded into recur's one bias: its gradient is the same as `bias_ih`'s).
//! Tolerance `1e-9 + 1e-7 * |ref|`.

use ndarray::{Array2, ArrayD, IxDyn};
use recur::layers::attention::ScoreKind;
use recur::layers::CellKind;
use recur::models::{Seq2seq, Seq2seqConfig, Source};
use recur::tensor::Rng;
use serde_json::Value;
use std::collections::BTreeMap;

const ATOL: f64 = 1e-9;
const RTOL: f64 = 1e-7;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/attention_{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{path}: {e}; regenerate with python3 tests/fixtures/make_attention_fixture.py")
    });
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("a list of numbers").iter().map(|x| x.as_f64().expect("a number")).collect()
}

/// Ids, -1 (PyTorch's ignore_index) as recur's IGNORE.
fn ids(v: &Value) -> Array2<u32> {
    let rows: Vec<Vec<u32>> = (v.as_array().unwrap().iter())
        .map(|r| r.as_array().unwrap().iter().map(|x| x.as_i64().unwrap() as u32).collect())
        .collect();
    Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j])
}

fn assert_close(what: &str, ours: impl IntoIterator<Item = f64>, theirs: &[f64]) {
    let ours: Vec<f64> = ours.into_iter().collect();
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            (a - b).abs() <= ATOL + RTOL * b.abs(),
            "{what}[{i}]: recur {a:e} vs PyTorch {b:e}; if the model changed on purpose, regenerate with python3 tests/fixtures/make_attention_fixture.py"
        );
    }
}

fn check(name: &str) {
    let fx = fixture(name);
    let cell: CellKind = serde_json::from_value(fx["cell"].clone()).unwrap();
    let attention: ScoreKind = serde_json::from_value(fx["attention"].clone()).unwrap();
    let size = |key: &str| fx[key].as_u64().unwrap() as usize;
    let config = Seq2seqConfig {
        num_layers: size("layers"),
        attention: Some(attention),
        bidirectional: fx["bidirectional"].as_bool().unwrap(),
        ..Seq2seqConfig::book(cell, size("vocab_size"), size("embed_size"), size("hidden_size"), false)
    };
    let mut model: Seq2seq<f64> = Seq2seq::new(config, &mut Rng::new(0));
    let tensors: BTreeMap<String, ArrayD<f64>> = (fx["params"].as_object().unwrap().iter())
        .map(|(name, p)| {
            let shape: Vec<usize> =
                p["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
            (name.clone(), ArrayD::from_shape_vec(IxDyn(&shape), floats(&p["values"])).unwrap())
        })
        .collect();
    model.load_state_dict(tensors).unwrap();
    let (inputs, decoder_inputs, targets) =
        (ids(&fx["inputs"]), ids(&fx["decoder_inputs"]), ids(&fx["targets"]));

    // Logits: the two halves run by hand, the mask from the padding (id 0).
    let (h, hs) = model.encoder.forward(&model.params, inputs.view(), None);
    let (h, hs) = (h.to_owned(), hs.to_owned());
    let mask = inputs.mapv(|id| id != 0);
    let source = Source { hs: hs.view(), mask: mask.view() };
    let logits = model.decoder.forward(&model.params, decoder_inputs.view(), h.view(), Some(source), None);
    assert_close(&format!("{name}: logits"), logits.iter().copied(), &floats(&fx["logits"]));

    let loss = model.forward(inputs.view(), decoder_inputs.view(), targets.view());
    assert_close(&format!("{name}: loss"), [loss], &[fx["loss"].as_f64().unwrap()]);
    model.params.zero_grad();
    model.backward();
    let grads = fx["grads"].as_object().unwrap();
    let mut compared = 0;
    for id in model.params.ids() {
        let ours = model.params.name(id).to_string();
        let theirs = grads.get(&ours).unwrap_or_else(|| panic!("{name}: no PyTorch gradient for {ours}"));
        assert_close(&format!("{name}: d{ours}"), model.params.grad(id).iter().copied(), &floats(theirs));
        compared += 1;
    }
    // Every PyTorch tensor is compared, bar an LSTM's bias_hh (recur keeps one bias).
    let folded = grads.keys().filter(|k| cell == CellKind::Lstm && k.contains(".bias_hh_")).count();
    assert_eq!(compared + folded, grads.len(), "{name}: every PyTorch gradient compared");
}

#[test]
fn lstm_dot_attention_matches_pytorch() {
    check("lstm_dot");
}

#[test]
fn gru_general_attention_bidirectional_matches_pytorch() {
    check("gru_general_bidirectional");
}

#[test]
fn two_layer_lstm_additive_attention_bidirectional_matches_pytorch() {
    check("lstm_additive_bidirectional_l2");
}
