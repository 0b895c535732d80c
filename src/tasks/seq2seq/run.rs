//! A seq2seq run's files read and written: `config.json` (the data source, the model, the
//! layout and the training settings), `vocab.json`, and the whole run loaded back for `eval` and
//! `summary`; the pairs of a data source, shuffled and split as the run split them.

use crate::data::pairs::{self, CharVocab, Layout, Padding, Pair};
use crate::io::checkpoint;
use crate::io::run_dir::{RunDir, TaskKind, MODEL};
use crate::io::{read_text, write_atomic};
use crate::models::{Seq2seq, Seq2seqConfig};
use crate::optim::{LrRule, LrSchedule, OptimizerKind};
use crate::tensor::Rng;
use crate::train::{OnNan, Settings as EngineSettings};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const CONFIG: &str = "config.json";
pub const VOCAB: &str = "vocab.json";

/// Where the pairs came from (enough to remake the held-out split).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum DataSource {
    Addition { examples: usize },
    Tsv { path: PathBuf },
}

fn default_momentum() -> f64 {
    0.9
}

fn constant_rate() -> LrRule {
    LrRule { schedule: LrSchedule::Constant, factor: 1.0, decay_after: 0 }
}

fn stop() -> OnNan {
    OnNan::Stop
}

/// How the model was trained. Fields added with the training engine have defaults, so the
/// config.json of older runs still loads (for `eval` and `summary`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub data: DataSource,
    pub train_examples: usize,
    pub valid_examples: usize,
    pub valid_share: f64,
    pub batch_size: usize,
    pub epochs: usize,
    pub optimizer: OptimizerKind,
    /// The initial learning rate.
    pub lr: f64,
    pub clip: Option<f64>,
    pub seed: u64,
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    #[serde(default = "constant_rate")]
    pub lr_rule: LrRule,
    #[serde(default)]
    pub weight_decay: f64,
    /// Epochs without a better held-out accuracy before the run stops (0 = never).
    #[serde(default)]
    pub patience: usize,
    #[serde(default = "stop")]
    pub on_nan: OnNan,
    /// SHA-256 of the pairs (training then held out, `input\toutput\n` each), so `--resume`
    /// can tell that the data is the run's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_sha256: Option<String>,
}

impl Settings {
    pub fn engine(&self) -> EngineSettings {
        EngineSettings {
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

/// `config.json` of a seq2seq run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub task: TaskKind,
    pub model: Seq2seqConfig,
    pub layout: Layout,
    pub train: Settings,
}

/// The pairs of a data source, shuffled and split with `rng`: (train, held out).
pub fn load_pairs(source: &DataSource, share: f64, rng: &mut Rng) -> Result<(Vec<Pair>, Vec<Pair>)> {
    let all = match source {
        DataSource::Addition { examples } => pairs::addition(*examples, rng, Padding::None)?,
        DataSource::Tsv { path } => pairs::read_pairs(path)?,
    };
    let (train, valid) = pairs::shuffle_split(all, share, rng);
    if train.is_empty() || valid.is_empty() {
        let name = match source {
            DataSource::Addition { examples } => format!("--examples {examples}"),
            DataSource::Tsv { path } => path.display().to_string(),
        };
        return Err(Error::msg(format!(
            "{name}: {} training and {} held-out pairs; --valid-share must leave at least one of each",
            train.len(),
            valid.len()
        )));
    }
    Ok((train, valid))
}

pub fn write_config(run: &RunDir, config: &RunConfig) -> Result<()> {
    write_atomic(
        &run.path(CONFIG),
        (serde_json::to_string_pretty(config).expect("serialises") + "\n").as_bytes(),
    )
}

/// The run directory and its `config.json`, which must be a seq2seq run's.
pub fn read_config(dir: &Path) -> Result<(RunDir, RunConfig)> {
    let run = RunDir::open(dir)?;
    run.expect_task(TaskKind::Seq2seq)?;
    let config_path = run.path(CONFIG);
    let config: RunConfig = serde_json::from_str(&read_text(&config_path)?).map_err(|e| {
        Error::line(
            &config_path,
            e.line(),
            format!("{e}; expected the config.json written by `recur seq2seq train`"),
        )
    })?;
    config.model.check().map_err(|m| Error::file(&config_path, m))?;
    Ok((run, config))
}

/// `vocab.json`, checked against the model's vocabulary size.
pub fn read_vocab(run: &RunDir, model: &Seq2seqConfig) -> Result<CharVocab> {
    let vocab_path = run.path(VOCAB);
    let symbols: Vec<String> = serde_json::from_str(&read_text(&vocab_path)?)
        .map_err(|e| Error::line(&vocab_path, e.line(), format!("{e}; expected a JSON list of symbols")))?;
    let vocab = CharVocab::from_symbols(symbols).map_err(|m| Error::file(&vocab_path, m))?;
    if vocab.len() != model.vocab_size {
        return Err(Error::file(
            &vocab_path,
            format!("has {} symbols but {CONFIG} says vocab_size {}", vocab.len(), model.vocab_size),
        ));
    }
    Ok(vocab)
}

/// A trained run read back: its config, its vocabulary and its model (evaluation mode).
pub struct Loaded {
    pub run: RunDir,
    pub config: RunConfig,
    pub vocab: CharVocab,
    pub model: Seq2seq<f32>,
}

/// Reads `config.json`, `vocab.json` and `model.safetensors`, checking that they agree.
pub fn load(dir: &Path) -> Result<Loaded> {
    let (run, config) = read_config(dir)?;
    let vocab = read_vocab(&run, &config.model)?;
    let model_path = run.path(MODEL);
    let tensors = checkpoint::load::<f32>(&model_path)?;
    // A config may describe a model far larger than the file (a broken or hostile one): refuse
    // it before building, which would allocate all of it.
    let in_file: u128 = tensors.values().map(|t| t.len() as u128).sum();
    match config.model.parameter_count() {
        Some(needed) if needed <= in_file => {}
        needed => {
            return Err(Error::file(
                &model_path,
                format!(
                "holds {in_file} numbers but {CONFIG} describes a model of {} parameters; the file does not \
                     match {CONFIG}",
                needed.map_or("more than 2^128".to_string(), |n| n.to_string())
            ),
            ))
        }
    }
    let mut model: Seq2seq<f32> = Seq2seq::new(config.model.clone(), &mut Rng::new(0));
    model.set_training(false);
    model
        .load_state_dict(tensors)
        .map_err(|m| Error::file(&model_path, format!("{m}; the file does not match {CONFIG}")))?;
    Ok(Loaded { run, config, vocab, model })
}
