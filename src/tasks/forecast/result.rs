//! A forecast run's result: every model's error on the validation and test windows (the
//! baselines and the network), `result.json`.

#![warn(missing_docs)]

use super::run::ForecastRunConfig;
use super::selection::Selection;
use super::{forecast_original, metric_name, original_error};
use crate::data::series::{last_value, seasonal_last_value, Dataset, LinearForecast, SplitWindows};
use crate::io::read_text;
use crate::io::run_dir::{RunDir, RESULT};
use crate::models::Forecaster;
use crate::Result;
use serde::{Deserialize, Serialize};

/// One row of the result table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The model or baseline.
    pub model: String,
    /// Its error on the validation windows (none without a validation part).
    pub valid: Option<f64>,
    /// Its error on the test windows (none without a test part).
    pub test: Option<f64>,
}

/// `result.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastResult {
    /// `"mse"` (synthetic, own units) or `"rmse"` (CSV, the file's units).
    pub metric: String,
    /// The epoch whose weights were saved.
    pub epoch: usize,
    /// The baselines, then the network.
    pub rows: Vec<Row>,
    /// What `--select significant` decided (absent with `--select best`, without a linear path
    /// or a validation part, when the best epoch is 0, and in older runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
}

impl ForecastResult {
    /// Writes `result.json` (atomically).
    pub fn write(&self, run: &RunDir) -> Result<()> {
        run.write_json(RESULT, self)
    }

    /// `result.json`, if it can be read.
    pub fn read(run: &RunDir) -> Option<ForecastResult> {
        let text = read_text(&run.path(RESULT)).ok()?;
        serde_json::from_str::<ForecastResult>(&text).ok()
    }

    /// The saved epoch as `result.json` records it, if it can be read.
    pub fn saved_epoch(run: &RunDir) -> Option<usize> {
        Self::read(run).map(|r| r.epoch)
    }
}

/// Every model's error on the validation and test windows (`epoch`: the weights' epoch).
pub fn table(
    config: &ForecastRunConfig,
    data: &Dataset,
    model: &mut Forecaster<f32>,
    epoch: usize,
) -> ForecastResult {
    let linear = LinearForecast::fit(data.train.model.inputs(), data.train.model.targets());
    let splits = [&data.valid, &data.test];
    let score = |f: &mut dyn FnMut(&SplitWindows) -> ndarray::Array2<f64>| -> [Option<f64>; 2] {
        splits.map(|s| (!s.model.is_empty()).then(|| original_error(data, f(s).view(), s)))
    };
    let mut rows = Vec::new();
    let mut push =
        |name: String, [valid, test]: [Option<f64>; 2]| rows.push(Row { model: name, valid, test });
    push("last value".into(), score(&mut |s| last_value(&s.raw)));
    if config.season > 0 {
        push(
            format!("seasonal last value ({})", config.season),
            score(&mut |s| seasonal_last_value(&s.raw, config.season)),
        );
    }
    push(
        "linear on the window".into(),
        score(&mut |s| data.to_original(s, linear.predict(s.model.inputs()).view())),
    );
    let m = &config.model;
    let mode = m.mode.name();
    let path = if m.linear_path { "linear + " } else { "" };
    let name =
        format!("{path}{} x {} {} ({mode})", m.num_layers, m.cell.name().to_uppercase(), m.hidden_size);
    push(name, score(&mut |s| forecast_original(model, data, s)));
    let metric = metric_name(data).to_lowercase();
    ForecastResult { metric, epoch, rows, selection: None }
}
