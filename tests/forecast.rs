//! Forecasting: the MSE layer's and the whole forecaster's gradients (f64, central differences),
//! the CSV reader's rules and errors, windows, the transform and its inverse, the baselines on
//! series whose answer is known, the synthetic generator's statistics, and `recur forecast` end to
//! end (a tiny run in seconds, its run directory, `eval` giving the same table, bad input).

mod common;

use common::cli::{failure, read_json, recur, stderr, stdout, success, Scratch};
use common::*;
use ndarray::{Array2, Array3, Axis, Ix3};
use recur::data::csv::{parse_column, read_column};
use recur::data::series::{
    last_value, mse, seasonal_last_value, synthetic_series, windows_at, Dataset, LinearForecast, SeriesSpec,
    Transform,
};
use recur::layers::{CellKind, MseLoss};
use recur::models::{ForecastMode, Forecaster, ForecasterConfig};
use recur::tasks::forecast::train_epoch;
use recur::tensor::Rng;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// Gradient checks

#[test]
fn mse_loss_gradient() {
    let mut rng = Rng::new(11);
    let y = random_array(&[2, 3, 4], &mut rng);
    let t = random_array(&[2, 3, 4], &mut rng);
    let mut layer = MseLoss::<f64>::new();
    let loss = layer.forward(y.view(), t.view());
    let want = y.iter().zip(&t).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / 24.0;
    assert!((loss - want).abs() < 1e-12, "loss {loss} vs {want}");
    let dy = layer.backward(0.7).to_owned();
    check_elements("mse dy", &y, dy.view(), |y| 0.7 * MseLoss::new().forward(y.view(), t.view()));
}

/// The whole forecaster, every parameter: N 2, T 3, D 4, H 5, k 2, two layers.
fn check_forecaster(cell: CellKind, mode: ForecastMode, seed: u64) {
    let (n, t, d, h, k) = (2, 3, 4, 5, 2);
    let config = ForecasterConfig {
        cell,
        input_size: d,
        hidden_size: h,
        num_layers: 2,
        horizon: k,
        mode,
        linear_path: false,
    };
    let mut rng = Rng::new(seed);
    let mut model: Forecaster<f64> = Forecaster::new(config, &mut rng);
    randomize(&mut model.params, &mut rng, 0.5);
    let xs = random_array(&[n, t, d], &mut rng).into_dimensionality::<Ix3>().unwrap();
    let t_out = model.output_steps(t);
    let ts = random_array(&[n, t_out, k], &mut rng).into_dimensionality::<Ix3>().unwrap();
    model.params.zero_grad();
    model.forward(xs.view(), ts.view());
    model.backward();
    let mut params = model.params.clone();
    let what = format!("forecaster {cell} {mode:?}");
    check_params(&what, &mut params, |p| {
        let mut probe = model.clone();
        probe.params = p.clone();
        probe.forward(xs.view(), ts.view())
    });
}

#[test]
fn forecaster_rnn_seq2vec() {
    check_forecaster(CellKind::Rnn, ForecastMode::Seq2vec, 21);
}

#[test]
fn forecaster_lstm_seq2vec() {
    check_forecaster(CellKind::Lstm, ForecastMode::Seq2vec, 22);
}

#[test]
fn forecaster_gru_seq2seq() {
    check_forecaster(CellKind::Gru, ForecastMode::Seq2seq, 23);
}

#[test]
fn forecaster_rnn_seq2seq() {
    check_forecaster(CellKind::Rnn, ForecastMode::Seq2seq, 24);
}

#[test]
fn forecaster_weights_round_trip_under_pytorch_names() {
    let config = ForecasterConfig {
        cell: CellKind::Lstm,
        input_size: 1,
        hidden_size: 3,
        num_layers: 2,
        horizon: 2,
        mode: ForecastMode::Seq2vec,
        linear_path: false,
    };
    let a: Forecaster<f64> = Forecaster::new(config.clone(), &mut Rng::new(1));
    let names: Vec<String> = a.state_dict().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "head.bias",
            "head.weight",
            "rnn.bias_hh_l0",
            "rnn.bias_hh_l1",
            "rnn.bias_ih_l0",
            "rnn.bias_ih_l1",
            "rnn.weight_hh_l0",
            "rnn.weight_hh_l1",
            "rnn.weight_ih_l0",
            "rnn.weight_ih_l1"
        ]
    );
    let mut b: Forecaster<f64> = Forecaster::new(config, &mut Rng::new(2));
    b.load_state_dict(a.state_dict().into_iter().collect()).unwrap();
    for id in a.params.ids() {
        assert_eq!(a.params.value(id), b.params.value(id), "{}", a.params.name(id));
    }
    // Keras' init: the recurrent weights have orthonormal columns, the forget bias is 1.
    let w_hh = a.params.mat(a.rnns[0].w_hh());
    let gram = w_hh.t().dot(&w_hh);
    assert!((&gram - &Array2::<f64>::eye(3)).iter().all(|v| v.abs() < 1e-12), "{gram}");
    let b_ih = a.params.vec(a.rnns[0].b_ih());
    assert_eq!(b_ih.to_vec(), [0., 0., 0., 1., 1., 1., 0., 0., 0., 0., 0., 0.]);
}

#[test]
fn training_lowers_the_loss_on_a_sine() {
    let config = ForecasterConfig {
        cell: CellKind::Gru,
        input_size: 1,
        hidden_size: 8,
        num_layers: 1,
        horizon: 1,
        mode: ForecastMode::Seq2vec,
        linear_path: false,
    };
    let mut rng = Rng::new(3);
    let mut model: Forecaster<f32> = Forecaster::new(config, &mut rng);
    let series: Vec<f64> = (0..200).map(|i| (i as f64 * 0.3).sin()).collect();
    let w = windows_at(&series, &(10..200).collect::<Vec<_>>(), 10, 1);
    let xs = w.inputs().insert_axis(Axis(2)).mapv(|v| v as f32);
    let ts = w.targets().insert_axis(Axis(1)).mapv(|v| v as f32);
    let mut opt = recur::optim::Optimizer::new(recur::optim::OptimizerKind::Adam, 0.01, 0.0);
    let epoch = |model: &mut Forecaster<f32>, opt: &mut _, rng: &mut Rng| {
        train_epoch(model, xs.view(), ts.view(), 16, opt, None, rng, &mut |_, _| {})
    };
    let first = epoch(&mut model, &mut opt, &mut rng);
    let mut last = first;
    for _ in 0..30 {
        last = epoch(&mut model, &mut opt, &mut rng);
    }
    assert!(last < first / 20.0 && last < 0.005, "loss {first} -> {last}");
}

// ---------------------------------------------------------------------------------------------
// CSV reader

fn parse(text: &str, column: Option<&str>) -> recur::Result<recur::data::csv::Column> {
    parse_column(text, Path::new("data.csv"), column)
}

#[test]
fn csv_quoted_header_crlf_and_blank_lines() {
    let col = parse(
        "\u{feff}\"date\",\"value\"\r\n1949-01-01,112\r\n\r\n1949-02-01,118\r\n   \n1949-03-01,132",
        None,
    )
    .unwrap();
    assert_eq!(col.name, "value");
    assert_eq!(col.values, [112.0, 118.0, 132.0]);
    assert_eq!(col.labels.unwrap(), ["1949-01-01", "1949-02-01", "1949-03-01"]);
}

#[test]
fn csv_column_choice() {
    let text = "Date,Temp,Rain\n1981-01-01,20.7,0\n1981-01-02,17.9,1.5\n";
    assert_eq!(parse(text, None).unwrap().name, "Rain"); // no `value`: the last numeric column
    assert_eq!(parse(text, Some("Temp")).unwrap().values, [20.7, 17.9]);
    assert_eq!(parse(text, Some("temp")).unwrap().name, "Temp"); // one case-insensitive match
    assert_eq!(parse("a,VALUE,b\n1,2,3\n", None).unwrap().values, [2.0]);
    let err = parse(text, Some("Wind")).unwrap_err();
    assert!(
        err.message().starts_with("data.csv:1:") && err.message().contains("`Date`, `Temp`, `Rain`"),
        "{err}"
    );
    let err = parse("date,name\n2020-01,x\n", None).unwrap_err();
    assert!(err.message().contains("no numeric column"), "{err}");
}

#[test]
fn csv_errors_name_the_file_the_line_and_what_was_expected() {
    let err = parse("date,value\n2020-01,1\n\n2020-02,abc\n", None).unwrap_err();
    assert_eq!(err.message(), "data.csv:4: column `value`: expected a number, found `abc`");
    let err = parse("date,value\n2020-01,1\n2020-02,\n", None).unwrap_err();
    assert!(err.message().starts_with("data.csv:3: column `value`: expected a number, found an empty field"));
    let err = parse("date,value\n2020-01,1,7\n", None).unwrap_err();
    assert!(err.message().starts_with("data.csv:2: expected 2 comma-separated fields"), "{err}");
    let err = parse("date,value\n2020-01,inf\n", None).unwrap_err();
    assert!(err.message().contains("expected a number, found `inf`"), "{err}");
    let err = parse("date,value\r\n\r\n", None).unwrap_err();
    assert_eq!(err.message(), "data.csv: no data rows after the header; expected one value per line");
    let err = parse("\n\n", None).unwrap_err();
    assert!(err.message().starts_with("data.csv: empty file"), "{err}");
    let err = parse("date,value\n\"2020-01,1\n", None).unwrap_err();
    assert!(err.message().starts_with("data.csv:2: a quoted field is not closed"), "{err}");
    let err = read_column(Path::new("/nonexistent/air.csv"), None).unwrap_err();
    assert!(err.message().starts_with("/nonexistent/air.csv: cannot read"), "{err}");
}

#[test]
fn air_passengers_reads_144_months() {
    let Some(dir) = shared_data("air_passengers_reads_144_months", "timeseries/AirPassengers.csv") else {
        return;
    };
    let col = read_column(&dir.join("timeseries/AirPassengers.csv"), None).unwrap();
    assert_eq!((col.name.as_str(), col.values.len()), ("value", 144));
    assert_eq!((col.values[0], col.values[143]), (112.0, 432.0));
}

// ---------------------------------------------------------------------------------------------
// Windows, transform, baselines

#[test]
fn windows_and_step_targets() {
    let series: Vec<f64> = (0..20).map(|i| i as f64).collect();
    let w = windows_at(&series, &[5, 9], 5, 3);
    assert_eq!(w.inputs().row(1).to_vec(), [4., 5., 6., 7., 8.]);
    assert_eq!(w.targets().row(1).to_vec(), [9., 10., 11.]);
    let ys: Array3<f64> = w.step_targets(); // (N, W, k): the k values after every step
    assert_eq!(ys.dim(), (2, 5, 3));
    assert_eq!(ys.slice(ndarray::s![0, 0, ..]).to_vec(), [1., 2., 3.]);
    assert_eq!(ys.index_axis(Axis(1), 4), w.targets());
}

#[test]
fn baselines_are_exact_where_they_should_be() {
    // A pure sine of period 12: one season back is exact, at every horizon up to two seasons.
    let sine: Vec<f64> = (0..120).map(|i| (i as f64 * std::f64::consts::TAU / 12.0).sin()).collect();
    let taus: Vec<usize> = (24..100).collect();
    let w = windows_at(&sine, &taus, 24, 18);
    assert!(mse(seasonal_last_value(&w, 12).view(), w.targets()) < 1e-28);
    assert!(mse(last_value(&w).view(), w.targets()) > 0.1);
    // A sine obeys x_t = 2 cos(w) x_{t-1} - x_{t-2}: linear regression on the window is exact.
    let w1 = windows_at(&sine, &taus, 24, 1);
    let lin = LinearForecast::fit(w1.inputs(), w1.targets());
    assert!(mse(lin.predict(w1.inputs()).view(), w1.targets()) < 1e-12);
    // A constant series: the last value is exact.
    let flat = vec![3.5; 40];
    let wf = windows_at(&flat, &(10..39).collect::<Vec<_>>(), 10, 1);
    assert_eq!(mse(last_value(&wf).view(), wf.targets()), 0.0);
    let lin = LinearForecast::fit(wf.inputs(), wf.targets());
    assert!(mse(lin.predict(wf.inputs()).view(), wf.targets()) < 1e-20);
}

#[test]
fn transform_inverts_and_fits_on_the_training_part_only() {
    let x: Vec<f64> = (0..60).map(|i| 100.0 * 1.01f64.powi(i) * (2.0 + (i as f64 * 0.5).sin())).collect();
    let t = Transform::fit(&x, true, 12, 40).unwrap();
    let z = t.apply(&x);
    assert!(z[..12].iter().all(|v| v.is_nan()) && z[12..].iter().all(|v| v.is_finite()));
    let mean = z[12..40].iter().sum::<f64>() / 28.0;
    assert!(mean.abs() < 1e-12, "standardised on the training part: mean {mean}");
    // Feeding the true transformed values back gives the true series (k = 15 > the lag).
    let back = t.invert(&x, 41, &z[41..56]);
    for (a, b) in back.iter().zip(&x[41..56]) {
        assert!((a - b).abs() < 1e-9 * b, "{a} vs {b}");
    }
    // The transform ignores everything after the fitted part.
    let mut y = x.clone();
    y[45] = 1e6;
    assert_eq!(Transform::fit(&y, true, 12, 40).unwrap(), t);
    assert!(Transform::fit(&[1.0, -2.0, 3.0], true, 0, 3).unwrap_err().message().contains("positive"));
}

#[test]
fn series_splits_keep_targets_apart() {
    let x: Vec<f64> = (0..144).map(|i| 100.0 + i as f64 + 10.0 * (i as f64 * 0.5).sin()).collect();
    let spec = SeriesSpec { window: 24, horizon: 3, test_last: 24, valid_last: 12, log: false, diff: 1 };
    let ds = Dataset::from_series(&x, &spec).unwrap();
    let (train_end, test_start) = (144 - 36, 144 - 24);
    assert!(ds.train.model.starts.iter().all(|&t| t + 3 <= train_end));
    assert_eq!(ds.train.model.starts[0], 25); // diff 1 + window 24
    assert_eq!(ds.valid.model.starts, (train_end..=test_start - 3).collect::<Vec<_>>());
    assert_eq!(ds.test.model.starts, (test_start..=141).collect::<Vec<_>>());
    assert_eq!(ds.test.raw.targets().row(0).to_vec(), x[120..123].to_vec());
    // The network's own targets, mapped back, are the raw targets.
    let back = ds.to_original(&ds.test, ds.test.model.targets());
    assert!((&back - &ds.test.raw.targets()).iter().all(|d| d.abs() < 1e-9));
    let short = SeriesSpec { window: 130, ..spec };
    assert!(Dataset::from_series(&x, &short).unwrap_err().message().contains("too short"));
}

#[test]
fn synthetic_series_statistics() {
    let xs = synthetic_series(2000, 60, &mut Rng::new(42));
    assert_eq!(xs.dim(), (2000, 60));
    assert_eq!(xs, synthetic_series(2000, 60, &mut Rng::new(42)), "a seed gives the same series");
    let n = xs.len() as f64;
    let mean = xs.sum() / n;
    let var = xs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    // 0.5^2/2 + 0.2^2/2 + 0.1^2/12 = 0.1458 for phases spread evenly; close to it here.
    assert!(mean.abs() < 0.03, "mean {mean}");
    assert!((0.12..0.17).contains(&var), "variance {var}");
    assert!(xs.iter().all(|v| v.abs() <= 0.75), "amplitudes 0.5 + 0.2 + noise 0.05");
    // Hands-On ML's naive forecast (the last value) scores about 0.020 on these series.
    let ds = Dataset::synthetic(2000, 50, 1, 42).unwrap();
    assert_eq!((ds.train.model.len(), ds.valid.model.len(), ds.test.model.len()), (1400, 400, 200));
    let naive = mse(last_value(&ds.valid.raw).view(), ds.valid.raw.targets());
    assert!((0.015..0.025).contains(&naive), "naive MSE {naive}");
}

// ---------------------------------------------------------------------------------------------
// The command line

fn table_lines(out: &str) -> Vec<String> {
    out.lines()
        .skip_while(|l| !l.starts_with("model "))
        .take_while(|l| !l.starts_with("wrote"))
        .map(String::from)
        .collect()
}

#[test]
fn cli_synthetic_train_then_eval_gives_the_same_table() {
    let s = Scratch::new("forecast-synthetic");
    let dir = s.path("run");
    let args = [
        "forecast",
        "train",
        "--synthetic",
        "--series",
        "60",
        "--window",
        "12",
        "--horizon",
        "3",
        "--mode",
        "seq2seq",
        "--cell",
        "gru",
        "--layers",
        "2",
        "--hidden-size",
        "4",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--lr",
        "0.01",
        "--season",
        "4",
        "--out",
    ];
    let out = success("forecast train", &recur(&s.root, args.iter().copied().chain([dir.to_str().unwrap()])));
    for file in
        ["config.json", "model.safetensors", "metrics.jsonl", "result.json", "loss.png", "forecast.png"]
    {
        assert!(dir.join(file).exists(), "{file} missing\n{out}");
    }
    let config = read_json(&dir.join("config.json"));
    assert_eq!(config["task"], "forecast");
    assert_eq!(config["model"]["mode"], "seq2seq");
    assert_eq!(config["data"]["source"], "synthetic");
    let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 2);
    let result = read_json(&dir.join("result.json"));
    let names: Vec<&str> =
        result["rows"].as_array().unwrap().iter().map(|r| r["model"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["last value", "seasonal last value (4)", "linear on the window", "2 x GRU 4 (seq2seq)"]
    );
    let train_table = table_lines(&out);
    assert_eq!(train_table.len(), 5, "{out}");
    let eval =
        success("forecast eval", &recur(&s.root, ["forecast", "eval", "--model", dir.to_str().unwrap()]));
    assert_eq!(table_lines(&eval), train_table, "eval reproduces the training table\n{eval}");
    // `recur summary` reads a forecast run: its layers under PyTorch's names and the total.
    let summary = success("summary", &recur(&s.root, ["summary", "--model", dir.to_str().unwrap()]));
    assert!(summary.contains("rnn.weight_hh_l1") && summary.contains("head.weight"), "{summary}");
    // 2 GRU layers of 4 (input 1, then 4; bias_ih and bias_hh) and a head of 4 -> 3.
    let params = 3 * 4 * (1 + 4 + 2) + 3 * 4 * (4 + 4 + 2) + (3 * 4 + 3);
    assert!(summary.contains(&format!("Total params: {params}")), "{params}\n{summary}");
    // The metrics: the engine's fields and the task's figures, one line an epoch.
    let first: serde_json::Value = serde_json::from_str(metrics.lines().next().unwrap()).unwrap();
    for key in ["epoch", "train_loss", "lr", "seconds", "valid_mse", "valid_error", "windows_per_s"] {
        assert!(first.get(key).is_some(), "no {key} in {first}");
    }
    assert_eq!(first["valid_mse"], first["valid_error"], "synthetic series: MSE in their own units");
    let out = recur(&s.root, ["forecast", "eval", "--model", dir.to_str().unwrap(), "--csv", "x.csv"]);
    failure("--csv of a synthetic run", &out, &["--csv x.csv", "synthetic series"]);
    // An existing model is not replaced without --overwrite.
    let again = recur(&s.root, args.iter().copied().chain([dir.to_str().unwrap()]));
    failure("second train", &again, &["model.safetensors", "--overwrite"]);
}

fn sine_csv(s: &Scratch) -> std::path::PathBuf {
    let mut text = String::from("\"date\",\"value\"\r\n");
    for i in 0..96 {
        let v = 200.0 + i as f64 + 30.0 * (i as f64 * std::f64::consts::TAU / 12.0).sin();
        text.push_str(&format!("{}-{:02}-01,{v}\r\n", 2000 + i / 12, i % 12 + 1));
    }
    s.file("sine.csv", text)
}

#[test]
fn cli_csv_run_reports_rmse_against_the_seasonal_baseline() {
    let s = Scratch::new("forecast-csv");
    let csv = sine_csv(&s);
    let dir = s.path("run");
    let out = success(
        "forecast train --csv",
        &recur(
            &s.root,
            [
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
                "--out",
                dir.to_str().unwrap(),
            ],
        ),
    );
    assert!(out.contains("valid RMSE") && out.contains("test RMSE"), "{out}");
    let result = read_json(&dir.join("result.json"));
    assert_eq!(result["metric"], "rmse");
    // The series rises by 12 a season: the seasonal last value is off by exactly 12.
    let seasonal = &result["rows"][1];
    assert_eq!(seasonal["model"], "seasonal last value (12)");
    assert!((seasonal["test"].as_f64().unwrap() - 12.0).abs() < 1e-9, "{seasonal}");
    // Seasonal differencing turns that series into a constant 12: the linear model is exact.
    assert!(result["rows"][2]["test"].as_f64().unwrap() < 1e-6, "{result}");
    let eval =
        success("forecast eval", &recur(&s.root, ["forecast", "eval", "--model", dir.to_str().unwrap()]));
    assert_eq!(table_lines(&eval), table_lines(&out));
    // Another series in place of the run's: its training part scales differently, so eval refuses.
    let other = s.file("other.csv", std::fs::read_to_string(&csv).unwrap().replace(",2", ",3"));
    let args = ["forecast", "eval", "--model", dir.to_str().unwrap(), "--csv", other.to_str().unwrap()];
    failure("eval on other data", &recur(&s.root, args), &["config.json", "expected the same data"]);
}

#[test]
fn cli_bad_input_is_one_line_naming_the_problem() {
    let s = Scratch::new("forecast-errors");
    let bad = s.file("bad.csv", "date,value\n2020-01,1\n2020-02,x\n");
    let out = recur(&s.root, ["forecast", "train", "--csv", bad.to_str().unwrap(), "--out", "r"]);
    failure("non-number", &out, &["bad.csv:3:", "expected a number, found `x`"]);
    let csv = sine_csv(&s);
    let out =
        recur(&s.root, ["forecast", "train", "--csv", csv.to_str().unwrap(), "--window", "90", "--out", "r"]);
    failure("window too long", &out, &["sine.csv", "too short for --window 90"]);
    let out = recur(&s.root, ["forecast", "train", "--synthetic", "--season", "60", "--out", "r"]);
    failure("season beyond window", &out, &["--season 60", "--window 50"]);
    let out = recur(&s.root, ["forecast", "train", "--synthetic", "--log", "--out", "r"]);
    failure("csv-only flag", &out, &["--log"]);
    let out = recur(&s.root, ["forecast", "eval", "--model", "nowhere"]);
    failure("missing run", &out, &["nowhere"]);
    std::fs::create_dir_all(s.path("lm")).unwrap();
    s.file("lm/config.json", r#"{"model": {}, "tokenizer": "whitespace"}"#);
    let out = recur(&s.root, ["forecast", "eval", "--model", "lm"]);
    failure("language-model run", &out, &["lm is a lm run: use recur eval"]);
    // Another task's run: eval, --resume and --out each refuse it in one line naming its commands.
    std::fs::create_dir_all(s.path("cls")).unwrap();
    s.file("cls/config.json", r#"{"task": "classify", "model": {}}"#);
    let out = recur(&s.root, ["forecast", "eval", "--model", "cls"]);
    failure("eval of a classify run", &out, &["cls is a classify run: use recur classify eval"]);
    let out = recur(&s.root, ["forecast", "train", "--resume", "cls"]);
    failure("resume of a classify run", &out, &["cls is a classify run", "recur classify train --resume"]);
    let out = recur(&s.root, ["forecast", "train", "--resume", "lm"]);
    failure("resume of a language model", &out, &["lm is a lm run", "recur train --resume"]);
    let out = recur(&s.root, ["forecast", "train", "--synthetic", "--out", "cls", "--overwrite"]);
    failure("--out of a classify run", &out, &["cls is a classify run", "choose another --out"]);
    let out = recur(&s.root, ["forecast", "train", "--resume", "nowhere"]);
    failure("resume of nothing", &out, &["nowhere: not a run directory"]);
    // --resume takes the run's settings: the flags that would change them are refused.
    let out = recur(&s.root, ["forecast", "train", "--resume", "cls", "--window", "5"]);
    assert_eq!(out.status.code(), Some(2), "--resume with --window\n{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("--resume") && err.contains("--window"), "{err}");
    let out = recur(&s.root, ["forecast", "train", "--window", "5"]);
    assert_eq!(out.status.code(), Some(2), "neither --synthetic nor --csv\n{}", stdout(&out));
}
