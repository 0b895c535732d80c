//! `recur classify train|eval|predict|summary`: text classification on `text<TAB>label` files.
//!
//! Training (`train.rs`, its flags in `args.rs`): read the file, cut each text into words (`Tokenizer::Text`: lowercase,
//! punctuation split off), keep at most `--max-len` of them (`--keep last|first`), hold out a
//! stratified `--valid-split` (or read `--valid FILE`), build the vocabulary from the training
//! texts only (`<unk>` at id 0, then by count, capped by `--max-vocab` and `--min-count`), and
//! train through the engine (`recur::train::Trainer` over `recur::tasks::ClassifyTask`): early
//! stopping on the validation loss, the best epoch's weights restored. A single model's run is
//! the engine's like every task's: a checkpoint every epoch, Ctrl-C that writes one and prints
//! the resume line, `--resume DIR`, a NaN that stops the run naming where.
//!
//! Several models (`members.rs`): with `--folds K` a stratified, seeded K-fold cross-validation
//! runs first (each fold's model trained on the other folds less a validation split, with a
//! vocabulary of its own training texts, tested once on its fold), then the model to keep is
//! trained on all the data as in a plain run; `--ensemble M` trains M models wherever one would
//! be trained and averages their class probabilities. Each of these models is one
//! `Trainer::fit` with no run directory (no checkpoint): such runs cannot be resumed.
//!
//! Run directory: `config.json` (`"task": "classify"`, the model, the text encoding, the classes,
//! the training settings), `vocab.txt`, `model.safetensors` (the best epoch's weights; an
//! ensemble's members under `member{k}.`), `metrics.jsonl` (one object per epoch; `fold` and
//! `member` in multi-model runs), `loss.png`/`loss.svg`, `checkpoint.safetensors` (single-model
//! runs), `result.json` (the saved model's validation and test figures), `cv.json` (`--folds`).

mod args;
mod members;
mod train;

use clap::{Args, Subcommand};
use recur::data::tsv::{read_labelled, Classes, TextEncoding};
use recur::data::{Vocab, UNK};
use recur::io::checkpoint;
use recur::io::read_text;
use recur::io::run_dir::{RunDir, TaskKind, VOCAB};
use recur::models::{Classifier, ClassifierConfig};
use recur::optim::OptimizerKind;
use recur::tasks::classify::{evaluate, evaluation_of, predict_probabilities, Evaluation, Labelled};
use recur::tensor::Rng;
use recur::train::OnNan;
use recur::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use args::TrainArgs;

const CONFIG: &str = "config.json";
/// Texts per batch when only measuring (no gradients).
const EVAL_BATCH: usize = 256;

#[derive(Subcommand, Debug)]
pub enum ClassifyCommand {
    /// Train a classifier on `text<TAB>label` lines (with --folds K, K-fold cross-validation first).
    Train(Box<TrainArgs>),
    /// Loss, accuracy and confusion matrix of a trained classifier on a labelled file.
    Eval(EvalArgs),
    /// Class probabilities of new sentences.
    Predict(PredictArgs),
    /// Layers, tensor shapes and parameter counts of a trained classifier.
    Summary(SummaryArgs),
}

pub fn run(cmd: ClassifyCommand) -> Result<()> {
    match cmd {
        ClassifyCommand::Train(args) => train::run(*args),
        ClassifyCommand::Eval(args) => eval(args),
        ClassifyCommand::Predict(args) => predict(args),
        ClassifyCommand::Summary(args) => summary(args),
    }
}

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
    pub lr_rule: recur::optim::LrRule,
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

fn constant() -> recur::optim::LrRule {
    crate::cli::flags::CONSTANT
}

/// Epochs without a lower validation loss before a classifier's run stops, unless --patience
/// says otherwise (the primers' early stopping).
pub const DEFAULT_PATIENCE: usize = 6;

impl TrainSettings {
    /// What the engine needs of them.
    pub fn engine(&self) -> recur::train::Settings {
        recur::train::Settings {
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
    fn read(run: &RunDir) -> Result<Self> {
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

    fn write(&self, run: &RunDir) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("a ClassifyRunConfig always serialises");
        recur::io::write_atomic(&run.path(CONFIG), format!("{json}\n").as_bytes())
    }
}

/// Tokenised texts with their class ids.
#[derive(Clone, Debug, Default)]
struct Texts {
    words: Vec<Vec<String>>,
    labels: Vec<u32>,
}

impl Texts {
    /// Reads a labelled file; its labels must be among `classes`.
    fn read(path: &Path, encoding: &TextEncoding, classes: &Classes) -> Result<Self> {
        let examples = read_labelled(path)?;
        let labels = classes.ids_of(path, &examples)?;
        let words = examples.iter().map(|e| encoding.words(&e.text)).collect();
        Ok(Texts { words, labels })
    }

    fn len(&self) -> usize {
        self.labels.len()
    }

    /// These texts followed by `more`'s.
    fn with(mut self, more: &Texts) -> Texts {
        self.words.extend(more.words.iter().cloned());
        self.labels.extend(&more.labels);
        self
    }

    fn subset(&self, rows: &[usize]) -> Texts {
        Texts {
            words: rows.iter().map(|&i| self.words[i].clone()).collect(),
            labels: rows.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    fn encode(&self, vocab: &Vocab) -> Labelled {
        Labelled {
            seqs: self.words.iter().map(|w| recur::data::tsv::word_ids(w, vocab)).collect(),
            labels: self.labels.clone(),
        }
    }
}

/// `confusion[true][predicted]` as a table, rows the true classes.
fn print_confusion(what: &str, classes: &Classes, confusion: &[Vec<usize>]) {
    let width = classes
        .names()
        .iter()
        .map(|n| n.chars().count())
        .chain(confusion.iter().flatten().map(|c| c.to_string().len()))
        .max()
        .unwrap_or(1)
        .max(5);
    println!("confusion matrix, {what} (rows: true class, columns: predicted class)");
    let mut header = format!("{:>width$}", "");
    for name in classes.names() {
        header.push_str(&format!("  {name:>width$}"));
    }
    println!("{header}");
    for (name, row) in classes.names().iter().zip(confusion) {
        let mut line = format!("{name:>width$}");
        for count in row {
            line.push_str(&format!("  {count:>width$}"));
        }
        println!("{line}");
    }
}

/// Class probabilities (M, C) of `seqs`: the mean over the members.
fn probabilities_of(models: &mut [Classifier<f32>], seqs: &[Vec<u32>]) -> ndarray::Array2<f64> {
    let mut sum = predict_probabilities(&mut models[0], seqs, EVAL_BATCH);
    for model in &mut models[1..] {
        sum += &predict_probabilities(model, seqs, EVAL_BATCH);
    }
    sum / models.len() as f64
}

/// Loss, accuracy and confusion matrix of one model or of the members' mean probabilities.
fn evaluate_members(models: &mut [Classifier<f32>], data: &Labelled) -> Evaluation {
    match models {
        [model] => evaluate(model, data, EVAL_BATCH),
        _ => evaluation_of(probabilities_of(models, &data.seqs).view(), &data.labels),
    }
}

/// The tensors to save: one model's, or each member's under `member{k}.`.
fn state_dict_of(models: &[Classifier<f32>]) -> Vec<(String, ndarray::ArrayD<f32>)> {
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
struct Loaded {
    config: ClassifyRunConfig,
    vocab: Vocab,
    /// One model, or the members of an ensemble.
    models: Vec<Classifier<f32>>,
}

/// Reads `config.json`, `vocab.txt` and `model.safetensors`, checking that they agree.
fn load(dir: &Path) -> Result<Loaded> {
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

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Run directory written by `recur classify train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Labelled texts, one `text<TAB>label` a line; the labels must be the model's classes.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
}

fn eval(args: EvalArgs) -> Result<()> {
    let mut loaded = load(&args.model)?;
    let texts = Texts::read(&args.data, &loaded.config.text, &loaded.config.classes)?;
    let e = evaluate_members(&mut loaded.models, &texts.encode(&loaded.vocab));
    let correct: usize = (0..e.confusion.len()).map(|i| e.confusion[i][i]).sum();
    println!("{}: {} texts, loss {:.4}", args.data.display(), texts.labels.len(), e.loss);
    print_confusion(&args.data.display().to_string(), &loaded.config.classes, &e.confusion);
    println!("accuracy: {:.4} ({correct}/{})", e.accuracy, texts.labels.len());
    Ok(())
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Run directory written by `recur classify train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// A file of texts, one a line (for `text<TAB>label` lines the label is ignored).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Sentences to classify.
    sentences: Vec<String>,
}

fn predict(args: PredictArgs) -> Result<()> {
    let mut loaded = load(&args.model)?;
    let mut texts: Vec<String> = Vec::new();
    for (i, s) in args.sentences.iter().enumerate() {
        if loaded.config.text.words(s).is_empty() {
            return Err(Error::msg(format!("sentence {} is empty; expected words to classify", i + 1)));
        }
        texts.push(s.clone());
    }
    if let Some(path) = &args.file {
        for (i, line) in read_text(path)?.lines().enumerate() {
            let text = line.rsplit_once('\t').map_or(line, |(t, _)| t).trim();
            if text.is_empty() {
                continue;
            }
            if loaded.config.text.words(text).is_empty() {
                return Err(Error::line(path, i + 1, "expected words to classify"));
            }
            texts.push(text.to_string());
        }
    }
    if texts.is_empty() {
        return Err(Error::msg("nothing to classify: give sentences as arguments or --file FILE"));
    }
    let seqs: Vec<Vec<u32>> = texts.iter().map(|t| loaded.config.text.ids(t, &loaded.vocab)).collect();
    let probs = probabilities_of(&mut loaded.models, &seqs);
    let classes = &loaded.config.classes;
    let width = classes.names().iter().map(|n| n.chars().count()).max().unwrap_or(1).max(5);
    let mut header = format!("{:<width$}", "class");
    for name in classes.names() {
        let label = format!("p({name})");
        header.push_str(&format!("  {label:>8}"));
    }
    println!("{header}  text");
    for (text, row) in texts.iter().zip(probs.rows()) {
        let best = (0..row.len()).fold(0, |b, j| if row[j] > row[b] { j } else { b });
        let mut line = format!("{:<width$}", classes.name(best as u32));
        for p in row {
            line.push_str(&format!("  {p:>8.4}"));
        }
        println!("{line}  {text}");
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// Run directory written by `recur classify train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
}

fn summary(args: SummaryArgs) -> Result<()> {
    print_summary_of(&args.model)
}

/// Prints the layers, tensors and parameter counts of the classifier in `dir` (what `recur
/// summary` can call for a classifier's run).
pub(super) fn print_summary_of(dir: &Path) -> Result<()> {
    let loaded = load(dir)?;
    crate::cli::summary::print_table(&loaded.models[0].summary(), loaded.models.len());
    Ok(())
}
