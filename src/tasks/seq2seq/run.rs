//! A seq2seq run's files read and written: `config.json` (the data source, the model, the
//! layout and the training settings), `vocab.json`, and the whole run loaded back for `eval` and
//! `summary`; the pairs of a data source, shuffled and split as the run split them.

#![warn(missing_docs)]

use crate::data::pairs::{self, data_hash, CharVocab, Layout, Padding, Pair};
use crate::io::checkpoint;
use crate::io::run_dir::{RunDir, TaskKind, MODEL};
use crate::io::{read_text, write_atomic};
use crate::models::{Seq2seq, Seq2seqConfig};
use crate::optim::OptimizerKind;
use crate::tensor::Rng;
use crate::train::Settings as EngineSettings;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The run's configuration file.
pub const CONFIG: &str = "config.json";
/// The run's symbols, a JSON list.
pub const VOCAB: &str = "vocab.json";

/// Where the pairs came from (enough to remake the held-out split).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum DataSource {
    /// The book's addition task, generated.
    Addition {
        /// Questions generated.
        examples: usize,
    },
    /// `input<TAB>output` lines of a file.
    Tsv {
        /// The file.
        path: PathBuf,
    },
}

fn default_momentum() -> f64 {
    0.9
}

/// How the model was trained. Fields added with the training engine have defaults, so the
/// config.json of older runs still loads (for `eval` and `summary`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Where the pairs came from.
    pub data: DataSource,
    /// Pairs trained on.
    pub train_examples: usize,
    /// Pairs held out.
    pub valid_examples: usize,
    /// The held-out share.
    pub valid_share: f64,
    /// Pairs per batch.
    pub batch_size: usize,
    /// The engine's settings: epochs, lr, lr_rule, clip, weight_decay, patience, on_nan.
    #[serde(flatten)]
    pub engine: EngineSettings,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// Seed of the shuffle, the split, the weights and the batch order.
    pub seed: u64,
    #[serde(default = "default_momentum")]
    /// Momentum coefficient (`momentum` optimizer).
    pub momentum: f64,
    /// SHA-256 of the pairs (training then held out, `input\toutput\n` each), so `--resume`
    /// can tell that the data is the run's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_sha256: Option<String>,
}

/// `config.json` of a seq2seq run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Always `seq2seq`.
    pub task: TaskKind,
    /// The network.
    pub model: Seq2seqConfig,
    /// Input and output lengths and padding.
    pub layout: Layout,
    /// How the model was trained.
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

/// Writes `config.json` (atomically).
pub fn write_config(run: &RunDir, config: &RunConfig) -> Result<()> {
    run.write_json(CONFIG, config)
}

/// The run directory and its `config.json`, which must be a seq2seq run's.
pub fn read_config(dir: &Path) -> Result<(RunDir, RunConfig)> {
    let run = RunDir::open(dir)?;
    let config: RunConfig = run.read_task_config(TaskKind::Seq2seq)?;
    config.model.check().map_err(|m| Error::file(&run.path(CONFIG), m))?;
    // The encoder finds each row's length by its trailing padding, which only the layout's
    // `mask_padding` writes: the two must agree.
    if config.model.mask_padding != config.layout.mask_padding {
        return Err(Error::file(
            &run.path(CONFIG),
            format!(
                "model.mask_padding is {} but layout.mask_padding is {}; expected the same value in both",
                config.model.mask_padding, config.layout.mask_padding
            ),
        ));
    }
    Ok((run, config))
}

/// Writes `vocab.json`: the symbols, a JSON list in id order (atomically).
pub fn write_vocab(run: &RunDir, vocab: &CharVocab) -> Result<()> {
    let symbols = serde_json::to_string(vocab.symbols()).expect("a list of strings serialises") + "\n";
    write_atomic(&run.path(VOCAB), symbols.as_bytes())
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
    /// The run directory.
    pub run: RunDir,
    /// Its `config.json`.
    pub config: RunConfig,
    /// Its `vocab.json`.
    pub vocab: CharVocab,
    /// The trained model.
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

/// The pairs a run trained on, loaded again from its data source (with the seed's shuffle and
/// split) and checked against what the run recorded: the counts, the SHA-256, the symbols of
/// `vocab.json` and the layout. Returns the vocabulary, the training and held-out pairs, and the
/// generator, which then draws the model's weights.
pub fn recorded_pairs(run: &RunDir, config: &RunConfig) -> Result<(CharVocab, Vec<Pair>, Vec<Pair>, Rng)> {
    let settings = &config.train;
    let mut rng = Rng::new(settings.seed);
    let (train_pairs, valid_pairs) = load_pairs(&settings.data, settings.valid_share, &mut rng)?;
    let data_name = match &settings.data {
        DataSource::Addition { examples } => format!("the addition task ({examples} questions)"),
        DataSource::Tsv { path } => path.display().to_string(),
    };
    let changed = |what: String| {
        Error::msg(format!(
            "{data_name}: {what}; the data changed since the run started, so it cannot be resumed"
        ))
    };
    if (train_pairs.len(), valid_pairs.len()) != (settings.train_examples, settings.valid_examples) {
        return Err(changed(format!(
            "{} training and {} held-out pairs, the run had {} and {}",
            train_pairs.len(),
            valid_pairs.len(),
            settings.train_examples,
            settings.valid_examples
        )));
    }
    if let Some(recorded) = &settings.data_sha256 {
        if *recorded != data_hash(&train_pairs, &valid_pairs) {
            return Err(changed("the pairs differ from the run's (SHA-256)".into()));
        }
    }
    let vocab = read_vocab(run, &config.model)?;
    let all: Vec<Pair> = train_pairs.iter().chain(&valid_pairs).cloned().collect();
    if CharVocab::from_pairs(&all).symbols() != vocab.symbols() {
        return Err(changed(format!("its symbols differ from {}", run.path(VOCAB).display())));
    }
    if pairs::max_lengths(&all) != (config.layout.max_input_len, config.layout.max_output_len) {
        return Err(changed(format!("its longest input or output differs from {CONFIG}'s layout")));
    }
    Ok((vocab, train_pairs, valid_pairs, rng))
}
