//! What a forecast run reports: the table of every model's validation and test error (printed,
//! and `result.json`); the forecast-against-truth plot is `plot.rs`'s.

use super::config::ForecastRunConfig;
use recur::data::series::{last_value, seasonal_last_value, Dataset, LinearForecast, SplitWindows};
use recur::io::run_dir::{RunDir, RESULT};
use recur::io::{read_text, write_atomic};
use recur::models::Forecaster;
use recur::tasks::forecast::{forecast_original, metric_name, original_error};
use recur::Result;
use serde::{Deserialize, Serialize};

/// One row of the result table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub model: String,
    pub valid: Option<f64>,
    pub test: Option<f64>,
}

/// `result.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastResult {
    /// `"mse"` (synthetic, own units) or `"rmse"` (CSV, the file's units).
    pub metric: String,
    /// The epoch whose weights were saved.
    pub epoch: usize,
    pub rows: Vec<Row>,
}

impl ForecastResult {
    pub fn write(&self, run: &RunDir) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("a result always serialises");
        write_atomic(&run.path(RESULT), format!("{json}\n").as_bytes())
    }

    /// The saved epoch as `result.json` records it, if it can be read.
    pub fn saved_epoch(run: &RunDir) -> Option<usize> {
        let text = read_text(&run.path(RESULT)).ok()?;
        serde_json::from_str::<ForecastResult>(&text).ok().map(|r| r.epoch)
    }
}

/// Every model's error on the validation and test windows.
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
    let name = format!("{} x {} {} ({mode})", m.num_layers, m.cell.name().to_uppercase(), m.hidden_size);
    push(name, score(&mut |s| forecast_original(model, data, s)));
    let metric = metric_name(data).to_lowercase();
    ForecastResult { metric, epoch, rows }
}

pub fn print_table(result: &ForecastResult, config: &ForecastRunConfig) {
    let metric = result.metric.to_uppercase();
    let k = config.model.horizon;
    println!(
        "{} of the {k}-step forecast{} (network weights of epoch {}):",
        metric,
        if k == 1 { "" } else { "s" },
        result.epoch
    );
    println!("{:<32} {:>14} {:>14}", "model", format!("valid {metric}"), format!("test {metric}"));
    let cell = |v: Option<f64>| {
        v.map_or("-".to_string(), |v| if v < 1.0 { format!("{v:.6}") } else { format!("{v:.3}") })
    };
    for row in &result.rows {
        println!("{:<32} {:>14} {:>14}", row.model, cell(row.valid), cell(row.test));
    }
}
