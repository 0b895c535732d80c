//! A forecast training session on the engine: a new run or `--resume`, the epoch lines, and the
//! end (the table on the saved weights, `result.json`, the forecast plot).
//!
//! The epoch loop, checkpoints, Ctrl-C and NaN handling are the engine's (`recur::train`) and
//! `cli::fit`'s, the same for every task. `--resume DIR` rebuilds the data and the model from
//! `config.json`, loads the checkpoint (weights, Adam's moments, the epoch's window order and the
//! shuffling generator) and goes on from the batch after the last one done: on one thread its
//! numbers are the uninterrupted run's, digit for digit (`tests/guarantees_forecast.rs`).

use super::plot::write_forecast_plot;
use super::report::print_table;
use crate::cli::fit::{fit, resume_state, Describe};
use crate::cli::flags::TensorboardFlags;
use recur::data::series::Dataset;
use recur::io::run_dir::RunDir;
use recur::models::Forecaster;
use recur::optim::Optimizer;
use recur::tasks::forecast::result::table;
use recur::tasks::forecast::run::ForecastRunConfig;
use recur::tasks::forecast::selection::{gain_p_value, Select, Selection, ALPHA};
use recur::tasks::forecast::{fit_linear_path, metric_name, network_inputs, train_targets, ForecastTask};
use recur::tensor::Rng;
use recur::train::{EpochStats, Outcome, Overrides, TrainState};
use recur::Result;
use std::path::Path;

/// Everything a run needs, fresh or resumed.
pub struct Session {
    pub run: RunDir,
    pub config: ForecastRunConfig,
    pub data: Dataset,
    /// The weights as drawn (a new run) or to be replaced by the checkpoint's (a resumed one).
    pub model: Forecaster<f32>,
    /// The generator that drew the weights; it shuffles the windows from then on.
    pub rng: Rng,
    /// How a resumed run goes on (None: a new run).
    pub resume: Option<Resumed>,
}

/// A resumed run: `--lr` (the rate from now on), and whether the overrides changed the config
/// (written once the checkpoint has been read).
pub struct Resumed {
    lr: Option<f64>,
    config_changed: bool,
}

/// The flags `--resume` accepts beside it.
pub struct ResumeOverrides<'a> {
    /// The series' file moved.
    pub csv: Option<&'a Path>,
    pub engine: Overrides,
}

impl Session {
    /// A new run: its weights drawn from `Rng::new(seed)`, whose stream then shuffles.
    pub fn start(run: RunDir, config: ForecastRunConfig, data: Dataset) -> Session {
        let mut rng = Rng::new(config.train.seed);
        let mut model = Forecaster::new(config.model.clone(), &mut rng);
        // Refitted on a resumed run too: the same training windows give the same fit.
        fit_linear_path(&mut model, &data);
        Session { run, config, data, model, rng, resume: None }
    }

    /// Rebuilds a run from its directory: config (with the overrides written back), data, model.
    /// The checkpoint is read when training starts ([`Session::train`]).
    pub fn resume(dir: &Path, overrides: ResumeOverrides) -> Result<Session> {
        let run = RunDir::open(dir)?;
        let mut config = ForecastRunConfig::read(&run)?;
        let (data, _) = config.load_data(&run, overrides.csv)?;
        let config_changed = config.override_with(overrides.csv, &overrides.engine);
        let mut session = Session::start(run, config, data);
        session.resume = Some(Resumed { lr: overrides.engine.lr, config_changed });
        Ok(session)
    }

    /// Trains the remaining epochs, then prints and writes the table on the saved weights (the
    /// best validation epoch's where there is a validation part) and the forecast plot.
    pub fn train(mut self, tensorboard: &TensorboardFlags) -> Result<()> {
        let config = &self.config;
        let t = &config.train;
        let settings = t.engine.clone();
        let inputs = network_inputs::<f32>(&self.data.train);
        let targets = train_targets::<f32>(&self.data.train, config.model.mode);
        let optimizer = Optimizer::new(t.optimizer, t.engine.lr, t.momentum);
        let mut task =
            ForecastTask::new(&mut self.model, inputs.view(), targets.view(), t.batch_size, &mut self.rng)
                .validated(&self.data);
        let mut state = match &self.resume {
            Some(resumed) => {
                let state = resume_state(&self.run, &mut task, optimizer, &settings, resumed.lr)?;
                if resumed.config_changed {
                    config.write(&self.run)?;
                }
                state
            }
            None => TrainState::new(optimizer),
        };
        let metric = metric_name(&self.data);
        let line = |e: &EpochStats| epoch_line(e, metric);
        let describe = Describe { command: "recur forecast train", epoch_line: &line, tensorboard };
        let outcome = fit(&settings, &self.run, &mut task, &mut state, &describe)?;
        let Outcome::Finished { best, .. } = outcome else { unreachable!("fit returns only finished runs") };
        // The engine put the best epoch's weights back (validated runs) and saved them.
        let best_epoch = best.map_or(state.progress.epochs_done, |(epoch, _)| epoch);
        let selection = self.select(best_epoch)?;
        let config = &self.config;
        let epoch = selection.as_ref().map_or(best_epoch, |s| s.kept_epoch);
        let mut result = table(config, &self.data, &mut self.model, epoch);
        result.selection = selection;
        print_table(&result, config);
        result.write(&self.run)?;
        write_forecast_plot(&self.run, config, &self.data, &mut self.model)?;
        println!(
            "wrote {} (config, model, metrics, checkpoint, result, loss and forecast plots)",
            self.run.root.display()
        );
        Ok(())
    }
}

impl Session {
    /// `--select significant` on a run with a linear path and a validation part whose best epoch
    /// is not 0: keeps that epoch only if it beats epoch 0 (the linear model, the weights as
    /// drawn, rebuilt from the seed) beyond chance on the validation windows, else puts epoch 0
    /// back and saves it as the run's model.
    fn select(&mut self, best_epoch: usize) -> Result<Option<Selection>> {
        let config = &self.config;
        if config.train.select != Select::Significant
            || !config.model.linear_path
            || self.data.valid.model.is_empty()
            || best_epoch == 0
        {
            return Ok(None);
        }
        let mut start = Forecaster::new(config.model.clone(), &mut Rng::new(config.train.seed));
        fit_linear_path(&mut start, &self.data);
        let p_value = gain_p_value(&self.data, &mut start, &mut self.model, config.model.horizon);
        let best = table(config, &self.data, &mut self.model, best_epoch);
        let network = best.rows.last().expect("the table ends with the network's row");
        let kept_epoch = if p_value.is_some_and(|p| p < ALPHA) { best_epoch } else { 0 };
        if kept_epoch == 0 {
            self.model = start;
            self.run.save_tensors(&self.model.state_dict())?;
        }
        Ok(Some(Selection {
            best_epoch,
            best_valid: network.valid.expect("a validated run has a validation error"),
            best_test: network.test,
            p_value,
            kept_epoch,
        }))
    }
}

/// `| epoch   3 | train MSE 0.012345 | valid RMSE 15.123456 | 1.2 s | 41234 windows/s`
fn epoch_line(e: &EpochStats, metric: &str) -> String {
    format!(
        "| epoch {:3} | train MSE {:.6} |{} {:.1} s | {:.0} windows/s{}",
        e.epoch,
        e.train_loss,
        e.figure("valid_error").map(|v| format!(" valid {metric} {v:.6} |")).unwrap_or_default(),
        e.seconds,
        e.figure("windows_per_s").unwrap_or(f64::NAN),
        if e.skipped > 0 { format!(" | {} batches skipped", e.skipped) } else { String::new() },
    )
}
