//! `recur forecast train|eval`: time-series forecasting with a recurrent network, compared with
//! the baselines a user checks first (last value, seasonal last value, linear on the window).
//!
//! Data: `--synthetic` (Hands-On ML's two-sine series, 70/20/10 split by series, not rescaled)
//! or `--csv FILE [--column NAME]` (one series; the last `--test-last` values are the test part,
//! the `--valid-last` before them the validation part; optional `--log` and `--diff LAG`, then
//! standardisation fitted on the training part). Errors: synthetic series in their own units
//! (MSE, comparable with the book); CSV series as RMSE in the file's units.
//!
//! The run directory: `config.json` (model, data, transform, training settings), `model.safetensors`
//! (PyTorch names; the best validation epoch's weights when there is a validation part),
//! `metrics.jsonl` (one object per epoch), `result.json` (the table), `loss.png/svg` and
//! `forecast.png/svg` (forecasts against the truth on the test part).

use clap::{Args, Subcommand};
use recur::data::csv::read_column;
use recur::data::series::{
    last_value, mse, seasonal_last_value, Dataset, LinearForecast, SeriesSpec, SplitWindows,
};
use recur::io::{read_text, run_dir::RunDir, write_atomic};
use recur::layers::CellKind;
use recur::models::forecaster::{forecast, train_epoch};
use recur::models::{ForecastMode, Forecaster, ForecasterConfig};
use recur::optim::{Optimizer, OptimizerKind};
use recur::plot::{write_chart, Chart, Series};
use recur::tensor::Rng;
use recur::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

const CONFIG: &str = "config.json";
const MODEL: &str = "model.safetensors";
const METRICS: &str = "metrics.jsonl";
const RESULT: &str = "result.json";
/// Rows per forward pass when evaluating.
const EVAL_BATCH: usize = 1000;

#[derive(Subcommand, Debug)]
pub enum ForecastCommand {
    /// Train a forecaster (and the baselines) into a run directory.
    Train(Box<TrainArgs>),
    /// Re-evaluate a forecast run directory: the same table as at the end of training.
    Eval(EvalArgs),
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Hands-On ML's synthetic series (two sines with random frequencies and offsets, plus noise).
    #[arg(long, conflicts_with = "csv", required_unless_present = "csv")]
    synthetic: bool,
    /// Number of synthetic series (split 70% / 20% / 10% into train / valid / test).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    series: usize,
    /// Seed of the synthetic series (independent of --seed, so every model sees the same data).
    #[arg(long, default_value_t = 42)]
    data_seed: u64,
    /// A CSV file with a header row (e.g. `date,value`).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// The column to forecast (default: `value`, else the last numeric column).
    #[arg(long, value_name = "NAME", requires = "csv")]
    column: Option<String>,
    /// Input steps per window (W).
    #[arg(long, default_value_t = 50)]
    window: usize,
    /// Steps forecast at once (k).
    #[arg(long, default_value_t = 1)]
    horizon: usize,
    /// seq2vec: the last step forecasts the k steps after the window; seq2seq: every step
    /// forecasts the k steps after it (errors are measured on the last step's).
    #[arg(long, value_enum, default_value = "seq2vec")]
    mode: ForecastMode,
    #[arg(long, value_enum, default_value = "rnn")]
    cell: CellKind,
    /// Stacked recurrent layers.
    #[arg(long, default_value_t = 2)]
    layers: usize,
    /// Hidden-state width (H).
    #[arg(long, default_value_t = 20)]
    hidden_size: usize,
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, value_enum, default_value = "adam")]
    optimizer: OptimizerKind,
    /// Learning rate [default: 0.001 for seq2vec (Keras' default), 0.01 for seq2seq: Hands-On
    /// ML's settings for each].
    #[arg(long)]
    lr: Option<f64>,
    /// Momentum coefficient (--optimizer momentum).
    #[arg(long, default_value_t = 0.9)]
    momentum: f64,
    /// Clip the global gradient norm to this (0 = no clipping).
    #[arg(long, default_value_t = 0.0)]
    clip: f64,
    /// Seed of the weights and the batch order.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// CSV: values at the end held out as the test part [default: 24].
    #[arg(long, value_name = "N")]
    test_last: Option<usize>,
    /// CSV: values before the test part held out for validation (best epoch kept) [default: 0].
    #[arg(long, value_name = "N")]
    valid_last: Option<usize>,
    /// CSV: model the natural log of the series (multiplicative seasonality, exponential trend).
    #[arg(long)]
    log: bool,
    /// CSV: model the difference at this lag (1: change from the last value; the season:
    /// change from a season back); forecasts are summed back [default: 0 = none].
    #[arg(long, value_name = "LAG")]
    diff: Option<usize>,
    /// Season length for the seasonal last-value baseline (0 = no seasonal baseline).
    #[arg(long, default_value_t = 0)]
    season: usize,
    /// Run directory to write (default: a new runs/forecast-NNN).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Allow --out to name a directory that already holds a trained model (it is replaced).
    #[arg(long)]
    overwrite: bool,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Run directory written by `recur forecast train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Read the series from this CSV file instead of the path recorded in the run.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

/// Where the series come from (`config.json`'s `data`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum DataSource {
    Synthetic { series: usize, data_seed: u64 },
    Csv { path: PathBuf, column: String, test_last: usize, valid_last: usize, log: bool, diff: usize },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastTrainSettings {
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    pub momentum: f64,
    pub clip: Option<f64>,
    pub seed: u64,
}

/// `config.json` of a forecast run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastRunConfig {
    /// Always `"forecast"` (tells these directories from language-model runs).
    pub task: String,
    pub model: ForecasterConfig,
    pub data: DataSource,
    pub window: usize,
    pub season: usize,
    /// The fitted transform (identity for synthetic data).
    pub transform: recur::data::series::Transform,
    pub train: ForecastTrainSettings,
}

/// One line of `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct EpochLine {
    epoch: usize,
    /// Mean training loss (MSE in the network's units; every step's targets for seq2seq).
    train_mse: f64,
    /// Validation MSE of the last step's forecasts, in the network's units.
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_mse: Option<f64>,
    /// The reported validation error (MSE synthetic, RMSE in the file's units for CSV).
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_error: Option<f64>,
    seconds: f64,
}

/// One row of the result table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Row {
    model: String,
    valid: Option<f64>,
    test: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ForecastResult {
    /// `"mse"` (synthetic, own units) or `"rmse"` (CSV, the file's units).
    metric: String,
    /// The epoch whose weights were saved.
    epoch: usize,
    rows: Vec<Row>,
}

pub fn run(command: ForecastCommand) -> Result<()> {
    match command {
        ForecastCommand::Train(args) => train(*args),
        ForecastCommand::Eval(args) => eval(args),
    }
}

fn check(args: &TrainArgs) -> Result<()> {
    let sizes = [args.window, args.horizon, args.layers, args.hidden_size, args.epochs, args.batch_size];
    if sizes.contains(&0) {
        return Err(Error::msg(
            "--window, --horizon, --layers, --hidden-size, --epochs and --batch-size must be at least 1",
        ));
    }
    if let Some(lr) = args.lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
        return Err(Error::msg(format!("--lr must be a positive number (got {lr})")));
    }
    if !(args.clip.is_finite() && args.clip >= 0.0) {
        return Err(Error::msg(format!("--clip must be 0 (off) or a positive number (got {})", args.clip)));
    }
    if args.season > args.window {
        return Err(Error::msg(format!(
            "--season {} is longer than --window {}: the seasonal baseline reads a season back inside the window",
            args.season, args.window
        )));
    }
    if args.synthetic
        && (args.test_last.is_some() || args.valid_last.is_some() || args.log || args.diff.is_some())
    {
        return Err(Error::msg(
            "--test-last, --valid-last, --log and --diff apply to --csv; synthetic data is split 70/20/10 by series",
        ));
    }
    Ok(())
}

/// Builds the data set a run describes; `csv` overrides the recorded path.
fn load_data(
    source: &DataSource,
    window: usize,
    horizon: usize,
    csv: Option<&Path>,
) -> Result<(Dataset, String)> {
    match source {
        DataSource::Synthetic { series, data_seed } => {
            let ds = Dataset::synthetic(*series, window, horizon, *data_seed).map_err(Error::msg)?;
            Ok((ds, format!("{series} synthetic series (data seed {data_seed})")))
        }
        DataSource::Csv { path, column, test_last, valid_last, log, diff } => {
            let path = csv.unwrap_or(path);
            let col = read_column(path, Some(column))?;
            let spec = SeriesSpec {
                window,
                horizon,
                test_last: *test_last,
                valid_last: *valid_last,
                log: *log,
                diff: *diff,
            };
            let ds = Dataset::from_series(&col.values, &spec).map_err(|m| Error::file(path, m))?;
            Ok((ds, format!("{} values of `{}` in {}", col.values.len(), col.name, path.display())))
        }
    }
}

fn train(args: TrainArgs) -> Result<()> {
    check(&args)?;
    let lr = args.lr.unwrap_or(match args.mode {
        ForecastMode::Seq2vec => 0.001,
        ForecastMode::Seq2seq => 0.01,
    });
    let source = match &args.csv {
        Some(path) => {
            let column = read_column(path, args.column.as_deref())?.name;
            DataSource::Csv {
                path: path.clone(),
                column,
                test_last: args.test_last.unwrap_or(24),
                valid_last: args.valid_last.unwrap_or(0),
                log: args.log,
                diff: args.diff.unwrap_or(0),
            }
        }
        None => DataSource::Synthetic { series: args.series, data_seed: args.data_seed },
    };
    let (data, what) = load_data(&source, args.window, args.horizon, None)?;
    let model_config = ForecasterConfig {
        cell: args.cell,
        input_size: 1,
        hidden_size: args.hidden_size,
        num_layers: args.layers,
        horizon: args.horizon,
        mode: args.mode,
    };
    let config = ForecastRunConfig {
        task: "forecast".into(),
        model: model_config.clone(),
        data: source,
        window: args.window,
        season: args.season,
        transform: data.transform.clone(),
        train: ForecastTrainSettings {
            epochs: args.epochs,
            batch_size: args.batch_size,
            optimizer: args.optimizer,
            lr,
            momentum: args.momentum,
            clip: (args.clip > 0.0).then_some(args.clip),
            seed: args.seed,
        },
    };
    let run = RunDir::create(&super::choose_out_dir(args.out.as_deref(), args.overwrite, "forecast")?)?;
    for stale in [MODEL, METRICS, RESULT, "loss.png", "loss.svg", "forecast.png", "forecast.svg"] {
        let path = run.path(stale);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, "remove the replaced run's file", e))?;
        }
    }
    let json = serde_json::to_string_pretty(&config).expect("a ForecastRunConfig always serialises");
    write_atomic(&run.path(CONFIG), format!("{json}\n").as_bytes())?;

    let mut rng = Rng::new(args.seed);
    let mut model: Forecaster<f32> = Forecaster::new(model_config.clone(), &mut rng);
    let inputs = network_inputs(&data.train);
    let targets = match args.mode {
        ForecastMode::Seq2vec => data.train.model.targets().insert_axis(ndarray::Axis(1)).mapv(|v| v as f32),
        ForecastMode::Seq2seq => data.train.model.step_targets().mapv(|v| v as f32),
    };
    let valid_inputs = network_inputs(&data.valid);
    let has_valid = !data.valid.model.is_empty();
    println!(
        "forecasting {} step{} from {} with {} x {} {} ({}, {} parameters)",
        args.horizon,
        if args.horizon == 1 { "" } else { "s" },
        what,
        args.layers,
        args.cell.name().to_uppercase(),
        args.hidden_size,
        args.mode.name(),
        model.params.num_elements()
    );
    println!(
        "windows of {}: {} train, {} valid, {} test; batch {}, {:?} lr {}{}, {} epochs",
        args.window,
        data.train.model.len(),
        data.valid.model.len(),
        data.test.model.len(),
        args.batch_size,
        args.optimizer,
        lr,
        config.train.clip.map(|c| format!(", clip {c}")).unwrap_or_default(),
        args.epochs
    );
    let metric = metric_name(&data);
    let mut optimizer = Optimizer::new(args.optimizer, lr, args.momentum);
    let mut history: Vec<EpochLine> = Vec::new();
    let mut best: Option<(usize, f64, Vec<ndarray::ArrayD<f32>>)> = None;
    for epoch in 1..=args.epochs {
        let start = Instant::now();
        let train_mse = train_epoch(
            &mut model,
            inputs.view(),
            targets.view(),
            args.batch_size,
            &mut optimizer,
            config.train.clip,
            &mut rng,
        );
        if !train_mse.is_finite() {
            return Err(Error::msg(format!(
                "epoch {epoch}: the training loss is not finite ({train_mse}); lower --lr (now {lr}) or set --clip"
            )));
        }
        let (valid_mse, valid_error) = if has_valid {
            let pred = forecast(&mut model, valid_inputs.view(), EVAL_BATCH).mapv(|v| v as f64);
            let scaled = mse(pred.view(), data.valid.model.targets());
            (Some(scaled), Some(error_of(&data, &data.valid, pred.view())))
        } else {
            (None, None)
        };
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "| epoch {epoch:3} | train MSE {train_mse:.6} |{} {seconds:.1} s",
            valid_error.map(|v| format!(" valid {metric} {v:.6} |")).unwrap_or_default()
        );
        history.push(EpochLine { epoch, train_mse, valid_mse, valid_error, seconds });
        if let Some(v) = valid_error {
            if best.as_ref().is_none_or(|(_, b, _)| v < *b) {
                let weights = model.params.ids().map(|id| model.params.value(id).to_owned()).collect();
                best = Some((epoch, v, weights));
            }
        }
        write_metrics(&run, &history)?;
    }
    let epoch = match best {
        Some((epoch, _, weights)) => {
            let ids: Vec<_> = model.params.ids().collect();
            for (id, w) in ids.into_iter().zip(weights) {
                model.params.value_mut(id).assign(&w);
            }
            epoch
        }
        None => args.epochs,
    };
    run.save_tensors(&model.state_dict())?;
    write_loss_plot(&run, &history, args.mode)?;
    let result = table(&config, &data, &mut model, epoch);
    print_table(&result, &config);
    let json = serde_json::to_string_pretty(&result).expect("a result always serialises");
    write_atomic(&run.path(RESULT), format!("{json}\n").as_bytes())?;
    write_forecast_plot(&run, &config, &data, &mut model)?;
    println!("wrote {} (config, model, metrics, result, loss and forecast plots)", run.root.display());
    Ok(())
}

fn eval(args: EvalArgs) -> Result<()> {
    let run = RunDir::open(&args.model)?;
    let path = run.path(CONFIG);
    let text = read_text(&path)?;
    let task = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v.get("task").cloned());
    if task != Some(serde_json::Value::from("forecast")) {
        return Err(Error::file(
            &path,
            "not a forecast run (no `\"task\": \"forecast\"`); expected a directory written by `recur forecast train`",
        ));
    }
    let config: ForecastRunConfig = serde_json::from_str(&text).map_err(|e| {
        Error::line(
            &path,
            e.line(),
            format!("{e}; expected the config.json written by `recur forecast train`"),
        )
    })?;
    config.model.check().map_err(|m| Error::file(&path, m))?;
    let (data, what) = load_data(&config.data, config.window, config.model.horizon, args.csv.as_deref())?;
    let t = &config.transform;
    let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    if !(same(data.transform.mean, t.mean) && same(data.transform.std, t.std)) {
        return Err(Error::file(
            &path,
            format!(
                "the series' training part has mean {} and std {} (transformed), the run was trained with {} and {}; \
                 expected the same data",
                data.transform.mean, data.transform.std, t.mean, t.std
            ),
        ));
    }
    let mut model: Forecaster<f32> = Forecaster::new(config.model.clone(), &mut Rng::new(0));
    let tensors = recur::io::checkpoint::load::<f32>(&run.path(MODEL))?;
    model
        .load_state_dict(tensors)
        .map_err(|m| Error::file(&run.path(MODEL), format!("{m}; the file does not match {CONFIG}")))?;
    let epoch = read_text(&run.path(RESULT))
        .ok()
        .and_then(|t| serde_json::from_str::<ForecastResult>(&t).ok())
        .map_or(config.train.epochs, |r| r.epoch);
    println!("{what}");
    let result = table(&config, &data, &mut model, epoch);
    print_table(&result, &config);
    Ok(())
}

/// The network's inputs (N, W, 1) in f32.
fn network_inputs(split: &SplitWindows) -> ndarray::Array3<f32> {
    split.model.inputs().insert_axis(ndarray::Axis(2)).mapv(|v| v as f32)
}

fn metric_name(data: &Dataset) -> &'static str {
    if data.series.is_empty() {
        "MSE"
    } else {
        "RMSE"
    }
}

/// The reported error of forecasts `pred` (N, k, network units) on `split`: MSE in the series'
/// units (synthetic) or RMSE in the file's units (CSV).
fn error_of(data: &Dataset, split: &SplitWindows, pred: ndarray::ArrayView2<f64>) -> f64 {
    let original = data.to_original(split, pred);
    original_error(data, original.view(), split)
}

fn original_error(data: &Dataset, original: ndarray::ArrayView2<f64>, split: &SplitWindows) -> f64 {
    let m = mse(original, split.raw.targets());
    if data.series.is_empty() {
        m
    } else {
        m.sqrt()
    }
}

/// Every model's error on the validation and test windows.
fn table(
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
    push(
        name,
        score(&mut |s| {
            let pred = forecast(model, network_inputs(s).view(), EVAL_BATCH).mapv(|v| v as f64);
            data.to_original(s, pred.view())
        }),
    );
    let metric = metric_name(data).to_lowercase();
    ForecastResult { metric, epoch, rows }
}

fn print_table(result: &ForecastResult, config: &ForecastRunConfig) {
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

fn write_metrics(run: &RunDir, history: &[EpochLine]) -> Result<()> {
    let text: String =
        history.iter().map(|e| serde_json::to_string(e).expect("an epoch line serialises") + "\n").collect();
    write_atomic(&run.path(METRICS), text.as_bytes())
}

fn write_loss_plot(run: &RunDir, history: &[EpochLine], mode: ForecastMode) -> Result<()> {
    let train_name = match mode {
        ForecastMode::Seq2vec => "train",
        ForecastMode::Seq2seq => "train (every step)",
    };
    let mut series = vec![Series {
        name: train_name.into(),
        points: history.iter().map(|e| (e.epoch as f64, e.train_mse)).collect(),
    }];
    let valid: Vec<_> = history.iter().filter_map(|e| Some((e.epoch as f64, e.valid_mse?))).collect();
    if !valid.is_empty() {
        series.push(Series { name: "valid (last step)".into(), points: valid });
    }
    let log_y = series.iter().all(|s| s.points.iter().all(|p| p.1 > 0.0));
    let chart = Chart {
        title: "Forecaster loss",
        x_label: "epoch",
        y_label: "MSE (network units)",
        log_y,
        series: &series,
    };
    write_chart(&run.path("loss"), &chart).map(|_| ())
}

/// Synthetic: the first test series, its truth after the window and the forecasts. CSV: the
/// whole series and the one-step-ahead forecasts over the test part (plus, for k > 1, the k-step
/// forecast from the start of the test part).
fn write_forecast_plot(
    run: &RunDir,
    config: &ForecastRunConfig,
    data: &Dataset,
    model: &mut Forecaster<f32>,
) -> Result<()> {
    let test = &data.test;
    if test.model.is_empty() {
        return Ok(());
    }
    let pred = forecast(model, network_inputs(test).view(), EVAL_BATCH).mapv(|v| v as f64);
    let pred = data.to_original(test, pred.view());
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
