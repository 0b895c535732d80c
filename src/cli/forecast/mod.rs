//! `recur forecast train|eval|predict`: time-series forecasting with a recurrent network, compared with
//! the baselines a user checks first (last value, seasonal last value, linear on the window).
//!
//! Data: `--synthetic` (Hands-On ML's two-sine series, 70/20/10 split by series, not rescaled)
//! or `--csv FILE [--column NAME]` (one series; the last `--test-last` values are the test part,
//! the `--valid-last` before them the validation part; optional `--log` and `--diff LAG`, then
//! standardisation fitted on the training part; missing values refused unless `--fill`). Errors:
//! synthetic series in their own units (MSE, comparable with the book); CSV series as RMSE in the
//! file's units. seq2vec forecasts are the linear baseline plus the network (`--linear-path`).
//!
//! Training runs on the engine (`recur::tasks::forecast`): a checkpoint every epoch and on
//! Ctrl-C, `--resume DIR`, a non-finite loss or gradient caught at its batch (`--on-nan`).
//!
//! The run directory: `config.json` (model, data, transform, training settings), `model.safetensors`
//! (PyTorch names; the best validation epoch's weights when there is a validation part),
//! `checkpoint.safetensors`, `metrics.jsonl` (one object per epoch), `result.json` (the table),
//! `loss.png/svg` and `forecast.png/svg` (forecasts against the truth on the test part).
//!
//! ```text
//! mod.rs      the flags, a new run's config, eval, summary
//! config.rs   config.json; the data and the model rebuilt from it
//! session.rs  training on the engine, new or resumed, and the end of a run
//! report.rs   the table, result.json
//! plot.rs     the forecast plot (dates on the x axis, the end zoomed on a long series)
//! predict.rs  `forecast predict`: the steps after the end of the series, with their dates
//! ```

mod plot;
mod predict;
mod report;
mod session;

use super::flags::{ScheduleFlags, TensorboardFlags, CONSTANT};
use clap::{Args, Subcommand};
use recur::data::dates::read_dated_column;
use recur::data::fill::Fill;
use recur::io::run_dir::{RunDir, TaskKind, CONFIG, METRICS, MODEL, RESULT};
use recur::io::train_state::CHECKPOINT;
use recur::layers::CellKind;
use recur::models::{ForecastMode, ForecasterConfig};
use recur::optim::OptimizerKind;
use recur::tasks::forecast::result::{table, ForecastResult};
use recur::tasks::forecast::run::{load_data, DataSource, ForecastRunConfig, ForecastTrainSettings};
use recur::tasks::forecast::selection::Select;
use recur::{Error, Result};
use report::print_table;
use session::{ResumeOverrides, Session};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum ForecastCommand {
    /// Train a forecaster (and the baselines) into a run directory.
    Train(Box<TrainArgs>),
    /// Re-evaluate a forecast run directory: the same table as at the end of training.
    Eval(EvalArgs),
    /// Forecast the steps after the end of a CSV series (one line a step: its date and value).
    Predict(predict::PredictArgs),
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Hands-On ML's synthetic series (two sines with random frequencies and offsets, plus noise).
    #[arg(long, conflicts_with = "csv")]
    synthetic: bool,
    /// Number of synthetic series (split 70% / 20% / 10% into train / valid / test).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    series: usize,
    /// Seed of the synthetic series (independent of --seed, so every model sees the same data).
    #[arg(long, default_value_t = 42)]
    data_seed: u64,
    /// A CSV file with a header row (e.g. `date,value`); beside --resume, where the run's file
    /// is now.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// The column to forecast (default: `value`, else the last numeric column).
    #[arg(long, value_name = "NAME", requires = "csv")]
    column: Option<String>,
    /// CSV: how missing values (empty, NA, NaN) are treated: linear (interpolated between the
    /// known values around the gap), previous (the last known value carried forward) or drop
    /// (the rows removed; the values left are consecutive steps) [default: refused].
    #[arg(long, value_enum, requires = "csv")]
    fill: Option<Fill>,
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
    /// Add the linear baseline (least squares on the training windows, fixed) to the network's
    /// forecast, so the network learns what it misses; the untrained model is scored as epoch 0
    /// [default: true for seq2vec; seq2seq has none].
    #[arg(long, value_name = "BOOL")]
    linear_path: Option<bool>,
    /// With the linear path and a validation part: which weights are kept. best: the best
    /// validation epoch (epoch 0, the linear model, among them); significant: the best epoch
    /// only if it beats the linear model on the validation windows beyond chance (one-sided
    /// Diebold-Mariano test at 5%), else the linear model.
    #[arg(long, value_enum, default_value = "significant")]
    select: Select,
    /// Passes over the training windows [default: 20].
    #[arg(long)]
    epochs: Option<usize>,
    /// Windows per batch (the last one of an epoch may be smaller).
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Optimizer.
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
    #[command(flatten)]
    schedule: ScheduleFlags,
    #[command(flatten)]
    tensorboard: TensorboardFlags,
    /// Continue the run in DIR from its checkpoint (written every epoch and on Ctrl-C). Only
    /// --epochs, --lr, --patience, --on-nan, --tensorboard and --csv (the series' file moved)
    /// may be given beside it.
    #[arg(long, value_name = "DIR", conflicts_with_all = RESUME_CONFLICTS)]
    resume: Option<PathBuf>,
}

/// The flags `--resume` refuses: the run's config.json decides what they would.
const RESUME_CONFLICTS: [&str; 29] = [
    "synthetic",
    "select",
    "series",
    "data_seed",
    "column",
    "fill",
    "linear_path",
    "window",
    "horizon",
    "mode",
    "cell",
    "layers",
    "hidden_size",
    "batch_size",
    "optimizer",
    "momentum",
    "clip",
    "seed",
    "test_last",
    "valid_last",
    "log",
    "diff",
    "season",
    "out",
    "overwrite",
    "lr_schedule",
    "lr_factor",
    "decay_after",
    "weight_decay",
];

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Run directory written by `recur forecast train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Read the series from this CSV file instead of the path recorded in the run.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

pub fn run(command: ForecastCommand) -> Result<()> {
    match command {
        ForecastCommand::Train(args) => train(*args),
        ForecastCommand::Eval(args) => eval(args),
        ForecastCommand::Predict(args) => predict::predict(args),
    }
}

fn epochs(args: &TrainArgs) -> usize {
    args.epochs.unwrap_or(20)
}

fn check(args: &TrainArgs) -> Result<()> {
    let sizes = [args.window, args.horizon, args.layers, args.hidden_size, epochs(args), args.batch_size];
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
    if args.mode == ForecastMode::Seq2seq && args.linear_path == Some(true) {
        return Err(Error::msg(
            "--linear-path true needs --mode seq2vec: the linear model forecasts from the whole window, \
             a seq2seq step sees only the steps up to it",
        ));
    }
    if args.season > args.window {
        return Err(Error::msg(format!(
            "--season {} is longer than --window {}: the seasonal baseline reads a season back inside the window",
            args.season, args.window
        )));
    }
    if !args.synthetic && args.csv.is_none() {
        return Err(Error::msg(
            "no series to train on: give --csv FILE (a column of a CSV file, see --column) or --synthetic \
             (Hands-On ML's generated series)",
        ));
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

fn train(args: TrainArgs) -> Result<()> {
    args.tensorboard.check()?;
    let session = match &args.resume {
        Some(dir) => {
            let overrides = ResumeOverrides {
                csv: args.csv.as_deref(),
                engine: args.schedule.overrides(args.lr, args.epochs),
            };
            Session::resume(dir, overrides)?
        }
        None => start(&args)?,
    };
    session.train(&args.tensorboard)
}

/// A new run: the data, the config, the run directory, the model drawn.
fn start(args: &TrainArgs) -> Result<Session> {
    check(args)?;
    let lr = args.lr.unwrap_or(match args.mode {
        ForecastMode::Seq2vec => 0.001,
        ForecastMode::Seq2seq => 0.01,
    });
    let source = match &args.csv {
        Some(path) => {
            let (column, dates) = read_dated_column(path, args.column.as_deref(), None, args.fill)?;
            DataSource::Csv {
                path: path.clone(),
                column: column.name,
                test_last: args.test_last.unwrap_or(24),
                valid_last: args.valid_last.unwrap_or(0),
                log: args.log,
                diff: args.diff.unwrap_or(0),
                dates: dates.map(|d| d.column),
                fill: args.fill,
            }
        }
        None => DataSource::Synthetic { series: args.series, data_seed: args.data_seed },
    };
    let (data, what) = load_data(&source, args.window, args.horizon, None)?;
    let config = ForecastRunConfig {
        task: TaskKind::Forecast,
        model: ForecasterConfig {
            cell: args.cell,
            input_size: 1,
            hidden_size: args.hidden_size,
            num_layers: args.layers,
            horizon: args.horizon,
            mode: args.mode,
            linear_path: args.linear_path.unwrap_or(args.mode == ForecastMode::Seq2vec),
        },
        data: source,
        window: args.window,
        season: args.season,
        transform: data.transform.clone(),
        train: ForecastTrainSettings {
            engine: args.schedule.engine(epochs(args), lr, args.clip, CONSTANT, 0)?,
            batch_size: args.batch_size,
            optimizer: args.optimizer,
            momentum: args.momentum,
            seed: args.seed,
            select: args.select,
        },
    };
    let run = RunDir::create(&super::choose_out_dir(args.out.as_deref(), args.overwrite, "forecast")?)?;
    // Another task's run keeps files a forecast run does not replace (a vocabulary, ...).
    if run.path(CONFIG).exists() && run.task().is_ok_and(|task| task != TaskKind::Forecast) {
        let refusal = run.expect_task(TaskKind::Forecast).expect_err("the run is of another task");
        return Err(Error::msg(format!("{}; choose another --out", refusal.message())));
    }
    // A run being replaced (--overwrite) loses its outputs before the new config is written, so
    // a failed new run never leaves the old weights beside a config they do not fit.
    run.remove_replaced(&[
        MODEL,
        METRICS,
        RESULT,
        CHECKPOINT,
        "loss.png",
        "loss.svg",
        "forecast.png",
        "forecast.svg",
    ])?;
    config.write(&run)?;
    let session = Session::start(run, config, data);
    let (m, t, data) = (&session.config.model, &session.config.train, &session.data);
    println!(
        "forecasting {} step{} from {} with {}{} x {} {} ({}, {} parameters)",
        m.horizon,
        if m.horizon == 1 { "" } else { "s" },
        what,
        if m.linear_path { "the linear model + " } else { "" },
        m.num_layers,
        m.cell.name().to_uppercase(),
        m.hidden_size,
        m.mode.name(),
        session.model.params.num_elements()
    );
    println!(
        "windows of {}: {} train, {} valid, {} test; batch {}, {:?} lr {}{}, {} epochs",
        session.config.window,
        data.train.model.len(),
        data.valid.model.len(),
        data.test.model.len(),
        t.batch_size,
        t.optimizer,
        t.engine.lr,
        t.engine.clip.map(|c| format!(", clip {c}")).unwrap_or_default(),
        t.engine.epochs
    );
    Ok(session)
}

fn eval(args: EvalArgs) -> Result<()> {
    let run = RunDir::open(&args.model)?;
    let config = ForecastRunConfig::read(&run)?;
    let (data, what) = config.load_data(&run, args.csv.as_deref())?;
    let mut model = config.load_model(&run)?;
    let saved = ForecastResult::read(&run);
    let epoch = saved.as_ref().map_or(config.train.engine.epochs, |r| r.epoch);
    println!("{what}");
    let mut result = table(&config, &data, &mut model, epoch);
    result.selection = saved.and_then(|r| r.selection);
    print_table(&result, &config);
    Ok(())
}

/// `recur summary --model DIR` of a forecast run: each layer, its tensors and parameter counts.
pub(super) fn print_summary_of(dir: &Path) -> Result<()> {
    let run = RunDir::open(dir)?;
    let config = ForecastRunConfig::read(&run)?;
    let model = config.load_model(&run)?;
    super::summary::print_table(&model.summary(), 1);
    Ok(())
}
