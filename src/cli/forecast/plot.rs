//! `forecast.png` / `forecast.svg`: the forecasts against the truth.
//!
//! Synthetic data: the first test series, its truth after the window and the RNN's and the linear
//! forecasts. A CSV series: the whole series with the one-step forecasts over the test part (the
//! seasonal baseline, and for k > 1 the k-step forecast from the test start), dashed lines where
//! the validation and test parts start, and the x axis in the file's dates when it has a date
//! column. On a long series a second panel zooms on the end (the validation and test parts and
//! as much context before them), where the forecasts are a sliver of the whole.

use recur::data::dates::{date_ticks, read_dated_column};
use recur::data::series::{seasonal_last_value, Dataset, LinearForecast};
use recur::io::run_dir::RunDir;
use recur::models::Forecaster;
use recur::plot::{write_panels, Chart, Mark, Panel, Series};
use recur::tasks::forecast::forecast_original;
use recur::tasks::forecast::run::{DataSource, ForecastRunConfig};
use recur::Result;

/// The zoom panel is drawn when the part it shows is at most this fraction of the series.
const ZOOM_AT_MOST: f64 = 1.0 / 3.0;

pub fn write_forecast_plot(
    run: &RunDir,
    config: &ForecastRunConfig,
    data: &Dataset,
    model: &mut Forecaster<f32>,
) -> Result<()> {
    if data.test.model.is_empty() {
        return Ok(());
    }
    if data.series.is_empty() {
        return synthetic_plot(run, config, data, model);
    }
    // x of each row: its date (days since 1970) where the run recorded a date column, else its row.
    let dated = match &config.data {
        DataSource::Csv { path, column, dates: Some(d), fill, .. } => {
            read_dated_column(path, Some(column), Some(&d.column), *fill)?.1
        }
        _ => None,
    };
    let xs: Vec<f64> = match &dated {
        Some(d) => d.stamps.iter().map(|s| s.x()).collect(),
        None => (0..data.series.len()).map(|i| i as f64).collect(),
    };
    let label = |i: usize| match &dated {
        Some(d) => d.stamps[i].format(d.column.format),
        None => format!("row {i}"),
    };
    let test = &data.test;
    let k = config.model.horizon;
    let pred = forecast_original(model, data, test);
    let starts = &test.model.starts;
    let first_step =
        |p: &ndarray::Array2<f64>| starts.iter().enumerate().map(|(n, &t)| (xs[t], p[[n, 0]])).collect();
    let mut series = vec![Series {
        name: "truth".into(),
        points: data.series.iter().enumerate().map(|(i, &v)| (xs[i], v)).collect(),
    }];
    series.push(Series { name: "RNN, 1 step ahead".into(), points: first_step(&pred) });
    if config.season > 0 {
        let seasonal = seasonal_last_value(&test.raw, config.season);
        series.push(Series { name: "seasonal last value".into(), points: first_step(&seasonal) });
    }
    if k > 1 {
        let path = (0..k).map(|j| (xs[starts[0] + j], pred[[0, j]])).collect();
        series.push(Series { name: format!("RNN, {k} steps from the test start"), points: path });
    }
    let mut marks = Vec::new();
    if let Some(&v) = data.valid.model.starts.first() {
        marks.push(Mark { x: xs[v], label: format!("validation from {}", label(v)) });
    }
    marks.push(Mark { x: xs[starts[0]], label: format!("test from {}", label(starts[0])) });

    let x_label = match &dated {
        Some(d) => format!("date (`{}`)", d.column.column),
        None => "time step (row of the CSV)".to_string(),
    };
    let len = data.series.len();
    let first_held_out = data.valid.model.starts.first().unwrap_or(&starts[0]);
    let held_out = len - first_held_out;
    let zoom_from = first_held_out.saturating_sub(config.window.max(held_out));
    let zoom = ((len - zoom_from) as f64) <= ZOOM_AT_MOST * len as f64;
    let whole_title = if zoom {
        "Forecast against the truth: the whole series"
    } else {
        "Forecast against the truth (test part)"
    };
    let zoom_title = format!(
        "The last {} steps: the held-out part and the {} before it",
        len - zoom_from,
        first_held_out - zoom_from
    );

    let ticks_of = |series: &[Series]| match &dated {
        Some(_) => {
            let (lo, hi) = x_range(series);
            date_ticks(lo, hi)
        }
        None => Vec::new(),
    };
    let whole_ticks = ticks_of(&series);
    let chart = |title, series| Chart { title, x_label: &x_label, y_label: "value", log_y: false, series };
    let mut panels = vec![Panel { chart: chart(whole_title, &series), x_ticks: &whole_ticks, marks: &marks }];
    let zoomed: Vec<Series>;
    let zoom_ticks;
    if zoom {
        let from = xs[zoom_from];
        zoomed = series
            .iter()
            .map(|s| Series {
                name: s.name.clone(),
                points: s.points.iter().copied().filter(|p| p.0 >= from).collect(),
            })
            .collect();
        zoom_ticks = ticks_of(&zoomed);
        panels.push(Panel { chart: chart(&zoom_title, &zoomed), x_ticks: &zoom_ticks, marks: &marks });
    }
    write_panels(&run.path("forecast"), &panels).map(|_| ())
}

/// The first test series, its truth after the window and the forecasts.
fn synthetic_plot(
    run: &RunDir,
    config: &ForecastRunConfig,
    data: &Dataset,
    model: &mut Forecaster<f32>,
) -> Result<()> {
    let test = &data.test;
    let pred = forecast_original(model, data, test);
    let linear = LinearForecast::fit(data.train.model.inputs(), data.train.model.targets());
    let lin = data.to_original(test, linear.predict(test.model.inputs()).view());
    let (w, k) = (config.window, config.model.horizon);
    let row = test.raw.values.row(0);
    let points = |range: std::ops::Range<usize>| range.map(|i| (i as f64, row[i])).collect();
    let at = |p: &ndarray::Array2<f64>| (0..k).map(|j| ((w + j) as f64, p[[0, j]])).collect();
    let series = [
        Series { name: "input".into(), points: points(0..w) },
        Series { name: "truth".into(), points: points(w - 1..w + k) },
        Series { name: "RNN forecast".into(), points: at(&pred) },
        Series { name: "linear forecast".into(), points: at(&lin) },
    ];
    let chart = Chart {
        title: "Forecast of the first test series",
        x_label: "time step",
        y_label: "value",
        log_y: false,
        series: &series,
    };
    write_panels(&run.path("forecast"), &[Panel::plain(chart)]).map(|_| ())
}

fn x_range(series: &[Series]) -> (f64, f64) {
    let xs = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    (xs().fold(f64::INFINITY, f64::min), xs().fold(f64::NEG_INFINITY, f64::max))
}
