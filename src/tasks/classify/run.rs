//! A classify run's files: `config.json` (`"task": "classify"`, the model, the text encoding,
//! the classes, the training settings), the whole run loaded back for `eval`, `predict` and
//! `summary` (one model, or the members of an ensemble under `member{k}.`), and `result.json`.

use super::Evaluation;
use crate::data::tsv::{Classes, TextEncoding};
use crate::data::{Vocab, UNK};
use crate::io::checkpoint;
use crate::io::read_text;
use crate::io::run_dir::{RunDir, TaskKind, RESULT, VOCAB};
use crate::io::write_atomic;
use crate::models::{Classifier, ClassifierConfig};
use crate::optim::{LrRule, LrSchedule, OptimizerKind};
use crate::tensor::Rng;
use crate::train::OnNan;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The run's configuration file.
pub const CONFIG: &str = "config.json";
/// The cross-validation's figures (`--folds`).
pub const CV: &str = "cv.json";

/// How the model was trained (for the reader and for `--resume`; not needed to rebuild the
/// model). Fields added later have defaults, so older `config.json` files still load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    pub data: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<String>,
    pub valid_split: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    pub folds: usize,
    pub max_vocab: usize,
    pub min_count: usize,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    pub momentum: f64,
    pub batch_size: usize,
    /// At most this many passes over the training texts.
    pub epochs: usize,
    /// Epochs without a lower validation loss before the run stops (0 = never).
    pub patience: usize,
    /// Global-norm gradient clipping (None = off).
    pub clip: Option<f64>,
    /// Decoupled weight decay of the weight matrices, per unit of learning rate.
    pub weight_decay: f64,
    /// The learning-rate rule (constant in runs made before it could be chosen).
    #[serde(default = "constant")]
    pub lr_rule: crate::optim::LrRule,
    /// Each training word becomes `<unk>` with this probability.
    #[serde(default)]
    pub word_dropout: f64,
    /// What a batch with a non-finite loss or gradient does.
    #[serde(default = "stop")]
    pub on_nan: OnNan,
    #[serde(default)]
    pub split_per_member: bool,
    /// `--extra` files: more training texts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<String>,
    pub seed: u64,
}

fn stop() -> OnNan {
    OnNan::Stop
}

fn constant() -> LrRule {
    LrRule { schedule: LrSchedule::Constant, factor: 1.0, decay_after: 0 }
}

impl TrainSettings {
    /// What the engine needs of them.
    pub fn engine(&self) -> crate::train::Settings {
        crate::train::Settings {
            epochs: self.epochs,
            lr: self.lr,
            lr_rule: self.lr_rule,
            clip: self.clip,
            weight_decay: self.weight_decay,
            patience: self.patience,
            on_nan: self.on_nan,
        }
    }

    /// Texts per batch when validating during training.
    pub fn valid_batch(&self) -> usize {
        self.batch_size.max(64)
    }
}

/// `config.json` of a classify run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifyRunConfig {
    /// Always `classify`.
    pub task: TaskKind,
    pub model: ClassifierConfig,
    pub text: TextEncoding,
    /// Class names; class id = position.
    pub classes: Classes,
    /// Models whose class probabilities are averaged (`--ensemble`); their tensors are saved
    /// under `member{k}.` prefixes when there is more than one.
    #[serde(default = "one")]
    pub members: usize,
    pub train: TrainSettings,
}

fn one() -> usize {
    1
}

impl ClassifyRunConfig {
    /// Reads and checks `config.json` of a classify run.
    pub fn read(run: &RunDir) -> Result<Self> {
        run.expect_task(TaskKind::Classify)?;
        let path = run.path(CONFIG);
        let text = read_text(&path)?;
        let config: ClassifyRunConfig = serde_json::from_str(&text).map_err(|e| {
            Error::line(
                &path,
                e.line(),
                format!("{e}; expected the config.json written by `recur classify train`"),
            )
        })?;
        config.model.check().map_err(|m| Error::file(&path, m))?;
        if config.classes.len() != config.model.num_classes {
            return Err(Error::file(
                &path,
                format!(
                    "lists {} classes but the model has {}",
                    config.classes.len(),
                    config.model.num_classes
                ),
            ));
        }
        if config.text.max_len == 0 {
            return Err(Error::file(&path, "text.max_len is 0; expected at least 1"));
        }
        if config.members == 0 {
            return Err(Error::file(&path, "members is 0; expected at least 1"));
        }
        Ok(config)
    }

    /// Writes `config.json` (atomically).
    pub fn write(&self, run: &RunDir) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("a ClassifyRunConfig always serialises");
        write_atomic(&run.path(CONFIG), format!("{json}\n").as_bytes())
    }
}

/// The tensors to save: one model's, or each member's under `member{k}.`.
pub fn state_dict_of(models: &[Classifier<f32>]) -> Vec<(String, ndarray::ArrayD<f32>)> {
    match models {
        [model] => model.state_dict(),
        _ => models
            .iter()
            .enumerate()
            .flat_map(|(k, m)| m.state_dict().into_iter().map(move |(n, v)| (format!("member{k}.{n}"), v)))
            .collect(),
    }
}

/// A trained classifier read back from its run directory.
pub struct Loaded {
    /// The run's configuration.
    pub config: ClassifyRunConfig,
    /// The training texts' vocabulary.
    pub vocab: Vocab,
    /// One model, or the members of an ensemble.
    pub models: Vec<Classifier<f32>>,
}

/// Reads `config.json`, `vocab.txt` and `model.safetensors`, checking that they agree.
pub fn load(dir: &Path) -> Result<Loaded> {
    let run = RunDir::open(dir)?;
    let config = ClassifyRunConfig::read(&run)?;
    let vocab = run.read_vocab()?;
    if vocab.len() != config.model.vocab_size || vocab.id(UNK) != Some(0) {
        return Err(Error::file(
            &run.path(VOCAB),
            format!(
                "has {} words{}; {CONFIG} says vocab_size {} with {UNK} first",
                vocab.len(),
                if vocab.id(UNK) == Some(0) { "" } else { " and no <unk> first" },
                config.model.vocab_size
            ),
        ));
    }
    let mut tensors = checkpoint::load::<f32>(&run.model_path())?;
    let mut models = Vec::with_capacity(config.members);
    for k in 0..config.members {
        let mine = if config.members == 1 {
            std::mem::take(&mut tensors)
        } else {
            let prefix = format!("member{k}.");
            let names: Vec<String> = tensors.keys().filter(|n| n.starts_with(&prefix)).cloned().collect();
            names
                .into_iter()
                .map(|n| {
                    let value = tensors.remove(&n).expect("listed above");
                    (n[prefix.len()..].to_string(), value)
                })
                .collect()
        };
        // The weights are replaced below; the generator only fills the initial values.
        let mut model = Classifier::new(config.model.clone(), &mut Rng::new(0));
        model.set_training(false);
        model.load_state_dict(mine).map_err(|m| {
            let member = if config.members > 1 { format!(" (ensemble member {k})") } else { String::new() };
            Error::file(&run.model_path(), format!("{m}{member}; the file does not match {CONFIG}"))
        })?;
        models.push(model);
    }
    if let Some(extra) = tensors.keys().next() {
        return Err(Error::file(
            &run.model_path(),
            format!("unexpected tensor `{extra}` ({CONFIG} says {} members)", config.members),
        ));
    }
    Ok(Loaded { config, vocab, models })
}

/// Loss, accuracy, confusion matrix (`result.json`).
#[derive(Clone, Debug, Serialize)]
struct Measured {
    texts: usize,
    loss: f64,
    accuracy: f64,
    confusion: Vec<Vec<usize>>,
}

impl Measured {
    fn of(e: &Evaluation) -> Self {
        let texts = e.confusion.iter().flatten().sum();
        Measured { texts, loss: e.loss, accuracy: e.accuracy, confusion: e.confusion.clone() }
    }
}

/// `result.json`: the saved model's figures.
#[derive(Clone, Debug, Serialize)]
struct RunResult {
    /// One per ensemble member.
    best_epochs: Vec<usize>,
    valid: Measured,
    #[serde(skip_serializing_if = "Option::is_none")]
    test: Option<Measured>,
}

/// Writes `result.json`: the saved model's best epochs, validation figures and test figures.
pub fn write_result(
    run: &RunDir,
    best_epochs: &[usize],
    valid: &Evaluation,
    test: Option<&Evaluation>,
) -> Result<()> {
    let result = RunResult {
        best_epochs: best_epochs.to_vec(),
        valid: Measured::of(valid),
        test: test.map(Measured::of),
    };
    let json = serde_json::to_string_pretty(&result).expect("a RunResult always serialises");
    write_atomic(&run.path(RESULT), format!("{json}\n").as_bytes())
}
