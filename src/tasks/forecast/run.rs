//! A forecast run's `config.json`, and what is rebuilt from it: the data set (regenerated or
//! re-read and checked against the recorded scaling) and the model with its saved weights.

use crate::data::csv::read_column;
use crate::data::series::{Dataset, SeriesSpec, Transform};
use crate::io::run_dir::{RunDir, TaskKind, CONFIG, MODEL};
use crate::io::{read_text, write_atomic};
use crate::models::{Forecaster, ForecasterConfig};
use crate::optim::{LrRule, LrSchedule, OptimizerKind};
use crate::tensor::Rng;
use crate::train::{OnNan, Settings};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where the series come from (`config.json`'s `data`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum DataSource {
    Synthetic { series: usize, data_seed: u64 },
    Csv { path: PathBuf, column: String, test_last: usize, valid_last: usize, log: bool, diff: usize },
}

/// How the forecaster is trained. `on_nan` came with the engine; older runs read as `stop`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastTrainSettings {
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    pub momentum: f64,
    pub clip: Option<f64>,
    pub seed: u64,
    #[serde(default = "default_on_nan")]
    pub on_nan: OnNan,
    #[serde(default = "constant")]
    pub lr_rule: LrRule,
    #[serde(default)]
    pub weight_decay: f64,
    /// Validated epochs without a lower validation error before the run stops (0 = never).
    #[serde(default)]
    pub patience: usize,
}

fn constant() -> LrRule {
    LrRule { schedule: LrSchedule::Constant, factor: 1.0, decay_after: 0 }
}

fn default_on_nan() -> OnNan {
    OnNan::Stop
}

impl ForecastTrainSettings {
    /// What the engine needs of them.
    pub fn engine(&self) -> Settings {
        Settings {
            epochs: self.epochs,
            lr: self.lr,
            lr_rule: self.lr_rule,
            clip: self.clip,
            weight_decay: self.weight_decay,
            patience: self.patience,
            on_nan: self.on_nan,
        }
    }
}

/// `config.json` of a forecast run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastRunConfig {
    /// Always `forecast`.
    pub task: TaskKind,
    pub model: ForecasterConfig,
    pub data: DataSource,
    pub window: usize,
    pub season: usize,
    /// The fitted transform (identity for synthetic data).
    pub transform: Transform,
    pub train: ForecastTrainSettings,
}

impl ForecastRunConfig {
    pub fn write(&self, run: &RunDir) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("a ForecastRunConfig always serialises");
        write_atomic(&run.path(CONFIG), format!("{json}\n").as_bytes())
    }

    /// The config of a forecast run (one line naming the task and its commands for another
    /// task's run).
    pub fn read(run: &RunDir) -> Result<Self> {
        run.expect_task(TaskKind::Forecast)?;
        let path = run.path(CONFIG);
        let config: ForecastRunConfig = serde_json::from_str(&read_text(&path)?).map_err(|e| {
            Error::line(
                &path,
                e.line(),
                format!("{e}; expected the config.json written by `recur forecast train`"),
            )
        })?;
        config.model.check().map_err(|m| Error::file(&path, m))?;
        if config.model.input_size != 1 {
            return Err(Error::file(
                &path,
                format!("model.input_size is {}; a forecaster of one series has 1", config.model.input_size),
            ));
        }
        Ok(config)
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
