//! A forecast run's `config.json`, and what is rebuilt from it: the data set (regenerated or
//! re-read and checked against the recorded scaling) and the model with its saved weights.

#![warn(missing_docs)]

use super::selection::Select;
use crate::data::csv::read_column_filled;
use crate::data::dates::DateColumn;
use crate::data::fill::Fill;
use crate::data::series::{Dataset, SeriesSpec, Transform};
use crate::io::run_dir::{RunDir, TaskKind, CONFIG, MODEL};
use crate::models::{Forecaster, ForecasterConfig};
use crate::optim::OptimizerKind;
use crate::tensor::Rng;
use crate::train::{Overrides, Settings};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where the series come from (`config.json`'s `data`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum DataSource {
    /// Hands-On ML's generated series.
    Synthetic {
        /// How many series.
        series: usize,
        /// The generator's seed.
        data_seed: u64,
    },
    /// One column of a CSV file.
    Csv {
        /// The file.
        path: PathBuf,
        /// The column's name.
        column: String,
        /// Values at the end kept for testing.
        test_last: usize,
        /// Values before those kept for validation.
        valid_last: usize,
        /// The series was log-transformed.
        log: bool,
        /// Times the series was differenced.
        diff: usize,
        /// The date column and its format (absent when the file has none, and in older runs).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dates: Option<DateColumn>,
        /// How missing values were filled (absent: none were accepted, as in older runs).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fill: Option<Fill>,
    },
}

/// How the forecaster is trained. `on_nan` came with the engine; older runs read as `stop`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastTrainSettings {
    /// The engine's settings: epochs, lr, lr_rule, clip, weight_decay, patience, on_nan.
    #[serde(flatten)]
    pub engine: Settings,
    /// Windows per batch.
    pub batch_size: usize,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// Momentum coefficient (`momentum` optimizer).
    pub momentum: f64,
    /// Seed of the weights and the window order.
    pub seed: u64,
    /// Which weights are kept with a linear path and a validation part (absent in older runs:
    /// the best epoch).
    #[serde(default = "Select::absent_in_older_runs")]
    pub select: Select,
}

/// `config.json` of a forecast run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastRunConfig {
    /// Always `forecast`.
    pub task: TaskKind,
    /// The network.
    pub model: ForecasterConfig,
    /// Where the series come from.
    pub data: DataSource,
    /// Input steps of a window.
    pub window: usize,
    /// Season length of the seasonal baseline (0 = none).
    pub season: usize,
    /// The fitted transform (identity for synthetic data).
    pub transform: Transform,
    /// How the model was trained.
    pub train: ForecastTrainSettings,
}

impl ForecastRunConfig {
    /// Writes `config.json` (atomically).
    pub fn write(&self, run: &RunDir) -> Result<()> {
        run.write_json(CONFIG, self)
    }

    /// The config of a forecast run (one line naming the task and its commands for another
    /// task's run).
    pub fn read(run: &RunDir) -> Result<Self> {
        let config: ForecastRunConfig = run.read_task_config(TaskKind::Forecast)?;
        let path = run.path(CONFIG);
        config.model.check().map_err(|m| Error::file(&path, m))?;
        if config.model.input_size != 1 {
            return Err(Error::file(
                &path,
                format!("model.input_size is {}; a forecaster of one series has 1", config.model.input_size),
            ));
        }
        Ok(config)
    }

    /// The config of a run going on: `overrides` applied, and `csv` recorded as the series'
    /// place (it moved). Returns whether that changed it.
    pub fn override_with(&mut self, csv: Option<&Path>, overrides: &Overrides) -> bool {
        let recorded = self.clone();
        self.train.engine.override_with(overrides);
        if let (Some(csv), DataSource::Csv { path, .. }) = (csv, &mut self.data) {
            *path = csv.to_path_buf();
        }
        *self != recorded
    }

    /// The data set the run describes; `csv` replaces the recorded path. A CSV series must give
    /// the recorded scaling on its training part (the same data).
    pub fn load_data(&self, run: &RunDir, csv: Option<&Path>) -> Result<(Dataset, String)> {
        if let (Some(csv), DataSource::Synthetic { .. }) = (csv, &self.data) {
            return Err(Error::msg(format!(
                "--csv {}: {} was trained on synthetic series, which are generated again, not read",
                csv.display(),
                run.root.display()
            )));
        }
        if let (None, DataSource::Csv { path, .. }) = (csv, &self.data) {
            if !path.exists() {
                return Err(Error::file(
                    path,
                    "not found: the run's series; pass --csv FILE where it is now",
                ));
            }
        }
        let (data, what) = load_data(&self.data, self.window, self.model.horizon, csv)?;
        let (t, found) = (&self.transform, &data.transform);
        let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        if !(same(found.mean, t.mean) && same(found.std, t.std)) {
            return Err(Error::file(
                &run.path(CONFIG),
                format!(
                    "the series' training part has mean {} and std {} (transformed), the run was trained with {} and {}; \
                     expected the same data",
                    found.mean, found.std, t.mean, t.std
                ),
            ));
        }
        Ok((data, what))
    }

    /// The model with the run's saved weights (`model.safetensors`).
    pub fn load_model(&self, run: &RunDir) -> Result<Forecaster<f32>> {
        // The weights are replaced below; the generator only fills the initial values.
        let mut model: Forecaster<f32> = Forecaster::new(self.model.clone(), &mut Rng::new(0));
        let tensors = crate::io::checkpoint::load::<f32>(&run.path(MODEL))?;
        model
            .load_state_dict(tensors)
            .map_err(|m| Error::file(&run.path(MODEL), format!("{m}; the file does not match {CONFIG}")))?;
        Ok(model)
    }
}

/// Builds the data set `source` describes; `csv` overrides the recorded path.
pub fn load_data(
    source: &DataSource,
    window: usize,
    horizon: usize,
    csv: Option<&Path>,
) -> Result<(Dataset, String)> {
    match source {
        DataSource::Synthetic { series, data_seed } => {
            let ds = Dataset::synthetic(*series, window, horizon, *data_seed)?;
            Ok((ds, format!("{series} synthetic series (data seed {data_seed})")))
        }
        DataSource::Csv { path, column, test_last, valid_last, log, diff, fill, .. } => {
            let path = csv.unwrap_or(path);
            let col = read_column_filled(path, Some(column), *fill)?;
            let spec = SeriesSpec {
                window,
                horizon,
                test_last: *test_last,
                valid_last: *valid_last,
                log: *log,
                diff: *diff,
            };
            let ds = Dataset::from_series(&col.values, &spec).map_err(|m| Error::file(path, m))?;
            let filled = match (fill, col.missing) {
                (Some(fill), n) if n > 0 => format!(" ({n} missing, --fill {})", fill.name()),
                _ => String::new(),
            };
            Ok((ds, format!("{} values of `{}` in {}{filled}", col.values.len(), col.name, path.display())))
        }
    }
}
