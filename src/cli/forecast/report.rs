//! What a forecast run reports: the table of every model's validation and test error (printed;
//! computed by `recur::tasks::forecast::result`), the forecast-against-truth plot, and the layer
//! summary.

use recur::data::series::{seasonal_last_value, Dataset, LinearForecast};
use recur::io::run_dir::RunDir;
use recur::models::Forecaster;
use recur::plot::{write_chart, Chart, Series};
use recur::tasks::forecast::forecast_original;
use recur::tasks::forecast::result::ForecastResult;
use recur::tasks::forecast::run::ForecastRunConfig;
use recur::Result;

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

/// Synthetic: the first test series, its truth after the window and the forecasts. CSV: the
/// whole series and the one-step-ahead forecasts over the test part (plus, for k > 1, the k-step
/// forecast from the start of the test part).
pub fn write_forecast_plot(
    run: &RunDir,
    config: &ForecastRunConfig,
    data: &Dataset,
    model: &mut Forecaster<f32>,
) -> Result<()> {
    let test = &data.test;
    if test.model.is_empty() {
        return Ok(());
    }
    let pred = forecast_original(model, data, test);
    let linear = LinearForecast::fit(data.train.model.inputs(), data.train.model.targets());
    let lin = data.to_original(test, linear.predict(test.model.inputs()).view());
    let (w, k) = (config.window, config.model.horizon);
    let mut series = Vec::new();
    let (title, x_label) = if data.series.is_empty() {
        let row = test.raw.values.row(0);
        let points = |range: std::ops::Range<usize>| range.map(|i| (i as f64, row[i])).collect();
        series.push(Series { name: "input".into(), points: points(0..w) });
        series.push(Series { name: "truth".into(), points: points(w - 1..w + k) });
        let at = |p: &ndarray::Array2<f64>| (0..k).map(|j| ((w + j) as f64, p[[0, j]])).collect();
        series.push(Series { name: "RNN forecast".into(), points: at(&pred) });
        series.push(Series { name: "linear forecast".into(), points: at(&lin) });
        ("Forecast of the first test series", "time step")
    } else {
        let truth = data.series.iter().enumerate().map(|(i, &v)| (i as f64, v)).collect();
        series.push(Series { name: "truth".into(), points: truth });
        let starts = &test.model.starts;
        let first_step = |p: &ndarray::Array2<f64>| {
            starts.iter().enumerate().map(|(n, &t)| (t as f64, p[[n, 0]])).collect()
        };
        series.push(Series { name: "RNN, 1 step ahead".into(), points: first_step(&pred) });
        if config.season > 0 {
            let seasonal = seasonal_last_value(&test.raw, config.season);
            series.push(Series { name: "seasonal last value".into(), points: first_step(&seasonal) });
        }
        if k > 1 {
            let path = (0..k).map(|j| ((starts[0] + j) as f64, pred[[0, j]])).collect();
            series.push(Series { name: format!("RNN, {k} steps from the test start"), points: path });
        }
        ("Forecast against the truth (test part)", "time step (row of the CSV)")
    };
    let chart = Chart { title, x_label, y_label: "value", log_y: false, series: &series };
    write_chart(&run.path("forecast"), &chart).map(|_| ())
}
