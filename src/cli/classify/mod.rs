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
//! Several models (`recur::tasks::classify::{members, cv}`): with `--folds K` a stratified, seeded K-fold cross-validation
//! runs first (each fold's model trained on the other folds less a validation split, with a
//! vocabulary of its own training texts, tested once on its fold), then the model to keep is
//! trained on all the data as in a plain run; `--ensemble M` trains M models wherever one would
//! be trained and averages their class probabilities. Each of these models is one
//! `Trainer::fit` with no run directory (no checkpoint); an ensemble without folds keeps each
//! member as it finishes (`members::KeptMember`), so `--resume` goes on from the next member,
//! while a cross-validation cannot be resumed.
//! `several.rs` prints what they tell and, with `--tensorboard DIR`, logs each model to a
//! folder of DIR (`fold-1`, `final`, `member-2`, ...).
//!
//! Run directory: `config.json` (`"task": "classify"`, the model, the text encoding, the classes,
//! the training settings), `vocab.txt`, `model.safetensors` (the best epoch's weights; an
//! ensemble's members under `member{k}.`), `metrics.jsonl` (one object per epoch; `fold` and
//! `member` in multi-model runs), `loss.png`/`loss.svg`, `checkpoint.safetensors` (single-model
//! runs), `result.json` (the saved model's validation and test figures), `cv.json` (`--folds`).

mod args;
mod several;
mod train;

use clap::{Args, Subcommand};
use recur::data::tsv::Classes;
use recur::io::read_text;
use recur::tasks::classify::members::{evaluate_members, probabilities_of};
use recur::tasks::classify::run::load;
use recur::tasks::classify::texts::Texts;
use recur::{Error, Result};
use std::path::{Path, PathBuf};

pub use args::TrainArgs;

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

/// Epochs without a lower validation loss before a classifier's run stops, unless --patience
/// says otherwise (the primers' early stopping).
pub const DEFAULT_PATIENCE: usize = 6;
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
        let before = texts.len();
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
        if texts.len() == before {
            return Err(Error::file(
                path,
                "has no texts; expected one text a line (a `text<TAB>label` line's label is ignored)",
            ));
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
