//! The forecaster's linear path (LSTNet's autoregressive component): the gradients of the combined
//! model (f64, central differences), the untrained model forecasting exactly what the linear
//! baseline does, its weights saved and loaded, and, end to end, a run in which no epoch beats
//! the linear model keeping epoch 0 (the linear model) as its saved weights.

mod common;

use common::cli::{failure, read_json, recur, success, Scratch};
use common::*;
use ndarray::{Array2, Ix3};
use recur::data::series::{Dataset, LinearForecast, SeriesSpec};
use recur::layers::CellKind;
use recur::models::forecaster::forecast;
use recur::models::{ForecastMode, Forecaster, ForecasterConfig};
use recur::tasks::forecast::{fit_linear_path, network_inputs};
use recur::tensor::Rng;

fn config(cell: CellKind, h: usize, k: usize) -> ForecasterConfig {
    ForecasterConfig {
        cell,
        input_size: 1,
        hidden_size: h,
        num_layers: 2,
        horizon: k,
        mode: ForecastMode::Seq2vec,
        linear_path: true,
    }
}

fn check_combined(cell: CellKind, seed: u64) {
    let (n, t, h, k) = (3, 4, 5, 2);
    let mut rng = Rng::new(seed);
    let mut model: Forecaster<f64> = Forecaster::new(config(cell, h, k), &mut rng);
    randomize(&mut model.params, &mut rng, 0.5);
    let weight = random_array(&[t, k], &mut rng).into_dimensionality().unwrap();
    let bias = random_array(&[k], &mut rng).into_dimensionality().unwrap();
    model.set_linear(ndarray::ArrayView2::from(&weight), ndarray::ArrayView1::from(&bias));
    let xs = random_array(&[n, t, 1], &mut rng).into_dimensionality::<Ix3>().unwrap();
    let ts = random_array(&[n, 1, k], &mut rng).into_dimensionality::<Ix3>().unwrap();
    model.params.zero_grad();
    model.forward(xs.view(), ts.view());
    model.backward();
    let mut params = model.params.clone();
    check_params(&format!("forecaster {cell} + linear path"), &mut params, |p| {
        let mut probe = model.clone();
        probe.params = p.clone();
        probe.forward(xs.view(), ts.view())
    });
}

#[test]
fn gradients_of_the_combined_model_rnn() {
    check_combined(CellKind::Rnn, 31);
}

#[test]
fn gradients_of_the_combined_model_lstm() {
    check_combined(CellKind::Lstm, 32);
}

/// A trending seasonal series with noise: 120 values.
fn series() -> Vec<f64> {
    let mut rng = Rng::new(5);
    (0..120).map(|i| 50.0 + 0.5 * i as f64 + 8.0 * (i as f64 * 0.5).sin() + rng.uniform()).collect()
}

#[test]
fn untrained_forecaster_is_the_linear_baseline_and_saves_it() {
    let spec = SeriesSpec { window: 10, horizon: 3, test_last: 20, valid_last: 20, log: false, diff: 0 };
    let data = Dataset::from_series(&series(), &spec).unwrap();
    let mut model: Forecaster<f64> = Forecaster::new(config(CellKind::Gru, 6, 3), &mut Rng::new(1));
    fit_linear_path(&mut model, &data);
    let linear = LinearForecast::fit(data.train.model.inputs(), data.train.model.targets());
    for split in [&data.valid, &data.test] {
        let want = linear.predict(split.model.inputs());
        let got = forecast(&mut model, network_inputs::<f64>(split).view(), 7);
        let diff = (&got - &want).mapv(f64::abs).fold(0.0, |a: f64, &b| a.max(b));
        assert!(diff < 1e-12, "untrained forecast differs from the linear baseline by {diff}");
    }
    // The saved tensors carry the path; a forecaster loaded from them forecasts the same.
    let mut loaded: Forecaster<f64> = Forecaster::new(config(CellKind::Gru, 6, 3), &mut Rng::new(9));
    loaded.load_state_dict(model.state_dict().into_iter().collect()).unwrap();
    let xs = network_inputs::<f64>(&data.test);
    assert_eq!(forecast(&mut loaded, xs.view(), 100), forecast(&mut model, xs.view(), 100));
    let mut missing: std::collections::BTreeMap<_, _> = model.state_dict().into_iter().collect();
    missing.remove("linear.bias");
    let err = loaded.load_state_dict(missing).unwrap_err();
    assert!(err.message().contains("linear.bias"), "{err}");
    // A linear weight (k, W) as nn.Linear lays it out.
    assert_eq!(model.linear().0.dim(), (3, 10));
    let w: Array2<f64> = linear.weight.t().to_owned();
    assert!(model.linear().0.iter().zip(&w).all(|(a, b)| a == b));
}

fn sine_csv(s: &Scratch) -> std::path::PathBuf {
    let mut text = String::from("date,value\n");
    for i in 0..96 {
        let v = 200.0 + i as f64 + 30.0 * (i as f64 * std::f64::consts::TAU / 12.0).sin();
        text.push_str(&format!("{}-{:02}-01,{v}\n", 2000 + i / 12, i % 12 + 1));
    }
    s.file("sine.csv", text)
}

#[test]
fn cli_keeps_epoch_0_when_no_epoch_beats_the_linear_model() {
    let s = Scratch::new("forecast-linear-path");
    let csv = sine_csv(&s);
    let dir = s.path("run");
    // Seasonal differencing makes the series a constant 12: the linear model is exact, so every
    // epoch of training can only move away from it.
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "forecast",
            "train",
            "--csv",
            csv.to_str().unwrap(),
            "--window",
            "24",
            "--season",
            "12",
            "--test-last",
            "12",
            "--valid-last",
            "12",
            "--diff",
            "12",
            "--hidden-size",
            "4",
            "--layers",
            "1",
            "--epochs",
            "2",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        a.extend(extra.iter().map(|a| a.to_string()));
        a
    };
    let out = success("train", &recur(&s.root, args(&["--out", dir.to_str().unwrap()])));
    assert!(out.contains("network weights of epoch 0"), "{out}");
    let config = read_json(&dir.join("config.json"));
    assert_eq!(config["model"]["linear_path"], true);
    let result = read_json(&dir.join("result.json"));
    assert_eq!(result["epoch"], 0);
    let rows = result["rows"].as_array().unwrap();
    assert_eq!(rows[2]["model"], "linear on the window");
    assert_eq!(rows[3]["model"], "linear + 1 x RNN 4 (seq2vec)");
    for part in ["valid", "test"] {
        let (linear, network) = (rows[2][part].as_f64().unwrap(), rows[3][part].as_f64().unwrap());
        assert!((linear - network).abs() < 1e-3, "{part}: linear {linear}, network {network}");
    }
    let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 2, "two epochs trained, epoch 0 only scored");
    // Eval and predict read the path from model.safetensors.
    let eval = success("eval", &recur(&s.root, ["forecast", "eval", "--model", dir.to_str().unwrap()]));
    assert!(eval.contains("linear + 1 x RNN 4"), "{eval}");
    success("predict", &recur(&s.root, ["forecast", "predict", "--model", dir.to_str().unwrap()]));
    let summary = success("summary", &recur(&s.root, ["summary", "--model", dir.to_str().unwrap()]));
    assert!(summary.contains("Linear path (fixed)") && summary.contains("linear.weight"), "{summary}");

    // --linear-path false: the network alone, as before the path; an old config (no key) loads.
    let off = s.path("off");
    success("train off", &recur(&s.root, args(&["--linear-path", "false", "--out", off.to_str().unwrap()])));
    let mut config = read_json(&off.join("config.json"));
    assert_eq!(config["model"]["linear_path"], false);
    config["model"].as_object_mut().unwrap().remove("linear_path");
    std::fs::write(off.join("config.json"), config.to_string()).unwrap();
    let eval = success("eval old", &recur(&s.root, ["forecast", "eval", "--model", off.to_str().unwrap()]));
    assert!(eval.contains("\n1 x RNN 4 (seq2vec)"), "{eval}");
    let out =
        recur(&s.root, ["forecast", "train", "--synthetic", "--mode", "seq2seq", "--linear-path", "true"]);
    failure("seq2seq with the path", &out, &["--linear-path true", "seq2vec"]);
}
