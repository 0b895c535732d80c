//! `recur forecast predict`: the steps after the end of a series with their dates, the model's own
//! forecasts for the steps it predicts directly, the recursive steps beyond, and its errors; the
//! dated forecast plot and the saved-epoch mark of loss.svg. The AirPassengers and temperature
//! tests need `RECUR_DATA` (they print SKIPPED without it).

mod common;

use common::cli::{failure, read_json, recur, stderr, success, Scratch};
use recur::data::csv::read_column;
use recur::data::series::{Dataset, SeriesSpec};
use recur::models::{Forecaster, ForecasterConfig};
use recur::tasks::forecast::forecast_original;
use recur::tensor::Rng;
use std::path::{Path, PathBuf};

fn data_file(name: &str) -> Option<PathBuf> {
    let Some(data) = std::env::var_os("RECUR_DATA") else {
        println!("SKIPPED: set RECUR_DATA=<path to shared/data> to run");
        return None;
    };
    let path = Path::new(&data).join("timeseries").join(name);
    assert!(path.exists(), "{} missing (RECUR_DATA must hold timeseries/)", path.display());
    Some(path)
}

/// (label, value) of each stdout line.
fn lines(out: &str) -> Vec<(String, f64)> {
    out.lines()
        .map(|l| {
            let (label, value) =
                l.split_once("  ").unwrap_or_else(|| panic!("`{l}`: expected `label  value`"));
            (label.to_string(), value.trim().parse().unwrap_or_else(|e| panic!("`{l}`: {e}")))
        })
        .collect()
}

fn predict(s: &Scratch, run: &Path, extra: &[&str]) -> Vec<(String, f64)> {
    let mut args = vec!["forecast", "predict", "--model", run.to_str().unwrap()];
    args.extend_from_slice(extra);
    lines(&success("forecast predict", &recur(&s.root, &args)))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

/// The run's model with its saved weights.
fn load_model(run: &Path) -> Forecaster<f32> {
    let config = read_json(&run.join("config.json"));
    let model: ForecasterConfig = serde_json::from_value(config["model"].clone()).unwrap();
    let mut forecaster = Forecaster::new(model, &mut Rng::new(0));
    let tensors = recur::io::checkpoint::load::<f32>(&run.join("model.safetensors")).unwrap();
    forecaster.load_state_dict(tensors).unwrap();
    forecaster
}

#[test]
fn air_passengers_continues_monthly_with_the_models_own_forecasts() {
    let Some(air) = data_file("AirPassengers.csv") else { return };
    let s = Scratch::new("predict-air");
    let run = s.path("air");
    let (air_s, run_s) = (air.to_str().unwrap(), run.to_str().unwrap());
    let spec = SeriesSpec { window: 24, horizon: 3, test_last: 24, valid_last: 12, log: true, diff: 12 };
    let train = [
        "forecast",
        "train",
        "--csv",
        air_s,
        "--window",
        "24",
        "--horizon",
        "3",
        "--season",
        "12",
        "--test-last",
        "24",
        "--valid-last",
        "12",
        "--log",
        "--diff",
        "12",
        "--epochs",
        "4",
        "--out",
        run_s,
    ];
    success("forecast train", &recur(&s.root, train));
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["data"]["dates"], serde_json::json!({"column": "date", "format": "YYYY-MM-DD"}));

    // The default is the horizon; the dates go on monthly from 1961-01.
    let direct = predict(&s, &run, &[]);
    let dates: Vec<&str> = direct.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(dates, ["1961-01-01", "1961-02-01", "1961-03-01"]);
    let long = predict(&s, &run, &["--steps", "14"]);
    assert_eq!(long.len(), 14);
    assert_eq!(long[12].0, "1962-01-01");
    assert_eq!(long[13].0, "1962-02-01");
    for (a, b) in direct.iter().zip(&long) {
        assert_eq!(a, b, "the first k steps are the direct forecast either way");
    }

    // The model's own forecast of the first test window (the eval path: windows, transform, the
    // batch forecast mapped back) is what predict gives from the series cut before that window.
    let series = read_column(&air, None).unwrap().values;
    let data = Dataset::from_series(&series, &spec).unwrap();
    let mut model = load_model(&run);
    let own = forecast_original(&mut model, &data, &data.test);
    let tau = data.test.model.starts[0];
    let text = std::fs::read_to_string(&air).unwrap();
    let prefix: String = text.lines().take(1 + tau).map(|l| format!("{l}\n")).collect();
    let cut = s.file("cut.csv", prefix);
    let from_cut = predict(&s, &run, &["--csv", cut.to_str().unwrap()]);
    assert_eq!(from_cut[0].0, "1959-01-01");
    for j in 0..3 {
        assert!(close(from_cut[j].1, own[[0, j]], 1e-5), "step {j}: {} vs {}", from_cut[j].1, own[[0, j]]);
    }

    // Steps beyond k are the forecast from the series with the first k forecasts appended.
    let mut fed = text.clone();
    for (date, value) in &long[..3] {
        fed.push_str(&format!("{date},{value}\n"));
    }
    let fed = s.file("fed.csv", fed);
    let next = predict(&s, &run, &["--csv", fed.to_str().unwrap(), "--steps", "3"]);
    for j in 0..3 {
        assert_eq!(next[j].0, long[3 + j].0);
        assert!(close(next[j].1, long[3 + j].1, 1e-4), "step {}: {} vs {}", 4 + j, next[j].1, long[3 + j].1);
    }
    assert!(long.iter().all(|(_, v)| (300.0..800.0).contains(v)), "{long:?}");

    // The note on stderr says what was forecast and that it went recursive.
    let out = recur(&s.root, ["forecast", "predict", "--model", run_s, "--steps", "5"]);
    let note = stderr(&out);
    assert!(note.contains("1960-12-01") && note.contains("monthly") && note.contains("recursive"), "{note}");
}

#[test]
fn daily_temperatures_continue_on_1991_01_01_and_plot_dates() {
    let Some(temps) = data_file("daily-min-temperatures.csv") else { return };
    let s = Scratch::new("predict-temps");
    let run = s.path("temps");
    let train = [
        "forecast",
        "train",
        "--csv",
        temps.to_str().unwrap(),
        "--window",
        "20",
        "--test-last",
        "24",
        "--epochs",
        "1",
        "--out",
        run.to_str().unwrap(),
    ];
    success("forecast train", &recur(&s.root, train));
    let out = predict(&s, &run, &["--steps", "3"]);
    let dates: Vec<&str> = out.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(dates, ["1991-01-01", "1991-01-02", "1991-01-03"]);
    assert!(out.iter().all(|(_, v)| (-5.0..35.0).contains(v)), "{out:?}");

    // The forecast plot: dates on the x axis, where the test part starts, the end zoomed.
    let svg = std::fs::read_to_string(run.join("forecast.svg")).unwrap();
    for needle in ["1984", "1988", "test from 1990-12-08", "date (`Date`)", "The last "] {
        assert!(svg.contains(needle), "forecast.svg lacks {needle}");
    }
    // No validation: the saved weights are the last epoch's, and the curve says so.
    let loss = std::fs::read_to_string(run.join("loss.svg")).unwrap();
    assert!(loss.contains("saved: epoch 1"), "loss.svg lacks the saved epoch");
}

#[test]
fn without_dates_steps_are_numbered_and_errors_are_one_line() {
    let s = Scratch::new("predict-plain");
    let mut text = String::from("n,value\n");
    for i in 0..80 {
        text.push_str(&format!("{i},{}\n", 10.0 + (i as f64 * 0.5).sin()));
    }
    let csv = s.file("plain.csv", text);
    let run = s.path("plain");
    let train = [
        "forecast",
        "train",
        "--csv",
        csv.to_str().unwrap(),
        "--window",
        "8",
        "--horizon",
        "2",
        "--test-last",
        "8",
        "--valid-last",
        "8",
        "--epochs",
        "3",
        "--out",
        run.to_str().unwrap(),
    ];
    success("forecast train", &recur(&s.root, train));
    assert!(read_json(&run.join("config.json"))["data"].get("dates").is_none());
    let out = predict(&s, &run, &["--steps", "5"]);
    let labels: Vec<&str> = out.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(labels, ["+1", "+2", "+3", "+4", "+5"]);
    // The validated run marks its best epoch.
    let epoch = read_json(&run.join("result.json"))["epoch"].as_u64().unwrap();
    let loss = std::fs::read_to_string(run.join("loss.svg")).unwrap();
    assert!(loss.contains(&format!("saved: epoch {epoch}")), "loss.svg lacks the saved epoch {epoch}");

    let run_s = run.to_str().unwrap();
    let out = recur(&s.root, ["forecast", "predict", "--model", run_s, "--steps", "0"]);
    failure("--steps 0", &out, &["--steps"]);
    let short = s.file("short.csv", "n,value\n1,2\n2,3\n");
    let out = recur(&s.root, ["forecast", "predict", "--model", run_s, "--csv", short.to_str().unwrap()]);
    failure("a series shorter than the window", &out, &["short.csv", "2 values", "--window 8"]);
    let other = s.file("other.csv", "date,x\n2000-01-01,1\n");
    let out = recur(&s.root, ["forecast", "predict", "--model", run_s, "--csv", other.to_str().unwrap()]);
    failure("the column missing", &out, &["other.csv", "value"]);

    let syn = s.path("syn");
    let train = [
        "forecast",
        "train",
        "--synthetic",
        "--series",
        "20",
        "--window",
        "5",
        "--epochs",
        "1",
        "--out",
        syn.to_str().unwrap(),
    ];
    success("synthetic train", &recur(&s.root, train));
    let out = recur(&s.root, ["forecast", "predict", "--model", syn.to_str().unwrap()]);
    failure("a synthetic run", &out, &["synthetic", "CSV"]);

    let lm = s.path("lm");
    std::fs::create_dir_all(&lm).unwrap();
    std::fs::write(lm.join("config.json"), r#"{"task": "classify"}"#).unwrap();
    let out = recur(&s.root, ["forecast", "predict", "--model", lm.to_str().unwrap()]);
    failure("another task's run", &out, &["classify"]);
}
