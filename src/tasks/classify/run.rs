//! A classify run's files: `config.json` (`"task": "classify"`, the model, the text encoding,
//! the classes, the training settings), the whole run loaded back for `eval`, `predict` and
//! `summary` (one model, or the members of an ensemble under `member{k}.`), and `result.json`.

#![warn(missing_docs)]

use super::baselines::BaselineScores;
use super::Evaluation;
use crate::data::tsv::{Classes, TextEncoding};
use crate::data::{Vocab, UNK};
use crate::io::checkpoint;
use crate::io::run_dir::{RunDir, TaskKind, RESULT, VOCAB};
use crate::models::{Classifier, ClassifierConfig};
use crate::optim::OptimizerKind;
use crate::tensor::Rng;
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
    /// The labelled texts (`--data`).
    pub data: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// A validation file (`--valid`), instead of a split of the data.
    pub valid: Option<String>,
    /// The share of the texts held out for early stopping (`--valid-share`).
    pub valid_split: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Test texts, measured once at the end.
    pub test: Option<String>,
    /// Cross-validation folds (0 = none).
    pub folds: usize,
    /// Largest vocabulary, `<unk>` included (0 = no cap).
    pub max_vocab: usize,
    /// Words seen fewer times become `<unk>`.
    pub min_count: usize,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// The engine's settings: epochs, lr, lr_rule, clip, weight_decay, patience, on_nan.
    #[serde(flatten)]
    pub engine: crate::train::Settings,
    /// Momentum coefficient (`momentum` optimizer).
    pub momentum: f64,
    /// Texts per batch.
    pub batch_size: usize,
    /// Each training word becomes `<unk>` with this probability.
    #[serde(default)]
    pub word_dropout: f64,
    #[serde(default)]
    /// Each ensemble member holds out its own split.
    pub split_per_member: bool,
    /// `--extra` files: more training texts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<String>,
    /// `--init-from`: the language model run whose embedding, recurrent layers and vocabulary
    /// the classifier starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<String>,
    /// `--vectors`: pretrained word vectors (GloVe's text format) the embedding starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<String>,
    /// Seed of the splits, folds, weights, batch order and dropout.
    pub seed: u64,
}

impl TrainSettings {
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
    /// The network.
    pub model: ClassifierConfig,
    /// How a text becomes word ids.
    pub text: TextEncoding,
    /// Class names; class id = position.
    pub classes: Classes,
    /// Models whose class probabilities are averaged (`--ensemble`); their tensors are saved
    /// under `member{k}.` prefixes when there is more than one.
    #[serde(default = "one")]
    pub members: usize,
    /// How the model was trained.
    pub train: TrainSettings,
}

fn one() -> usize {
    1
}

impl ClassifyRunConfig {
    /// Reads and checks `config.json` of a classify run.
    pub fn read(run: &RunDir) -> Result<Self> {
        let config: ClassifyRunConfig = run.read_task_config(TaskKind::Classify)?;
        let path = run.path(CONFIG);
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
        run.write_json(CONFIG, self)
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

/// The baselines fitted on the saved model's training texts (`result.json`'s `baselines`).
#[derive(Clone, Debug, Serialize)]
pub struct SplitBaselines {
    /// On its validation texts (none when each member holds out its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid: Option<BaselineScores>,
    /// On the `--test` texts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<BaselineScores>,
}

/// `result.json`: the saved model's figures.
#[derive(Clone, Debug, Serialize)]
struct RunResult {
    /// One per ensemble member.
    best_epochs: Vec<usize>,
    valid: Measured,
    #[serde(skip_serializing_if = "Option::is_none")]
    test: Option<Measured>,
    baselines: SplitBaselines,
}

/// Writes `result.json`: the saved model's best epochs, validation figures, test figures and
/// the baselines on the same texts.
pub fn write_result(
    run: &RunDir,
    best_epochs: &[usize],
    valid: &Evaluation,
    test: Option<&Evaluation>,
    baselines: &SplitBaselines,
) -> Result<()> {
    let result = RunResult {
        best_epochs: best_epochs.to_vec(),
        valid: Measured::of(valid),
        test: test.map(Measured::of),
        baselines: baselines.clone(),
    };
    run.write_json(RESULT, &result)
}
