//! `recur classify train|eval|predict|summary`: text classification on `text<TAB>label` files.
//!
//! Training: read the file, cut each text into words (`Tokenizer::Text`: lowercase, punctuation
//! split off), keep at most `--max-len` of them (`--keep last|first`), hold out a stratified
//! `--valid-split` (or read `--valid FILE`), build the vocabulary from the training texts only
//! (`<unk>` at id 0, then by count, capped by `--max-vocab` and `--min-count`), train with
//! early stopping on the validation loss and restore the best epoch's weights. With
//! `--folds K` a stratified, seeded K-fold cross-validation runs first: each fold's model is
//! trained on the other folds (minus a validation split for its early stopping, with a
//! vocabulary of its own training texts) and tested once on its fold; the mean and standard
//! deviation of the K test accuracies are the estimate. The saved model is then trained on all
//! the data as in a plain run. `--ensemble M` trains M models wherever one would be trained
//! (each from its own seed, with its own early stopping) and averages their class probabilities.
//!
//! Run directory: `config.json` (`"task": "classify"`, the model, the text encoding, the classes,
//! the training settings), `vocab.txt`, `model.safetensors` (the best epoch's weights; an
//! ensemble's members under `member{k}.`),
//! `metrics.jsonl` (one object per epoch, with `fold` during cross-validation), `result.json`
//! (the saved model's validation and test figures), `cv.json` (with `--folds`).

use clap::{Args, Subcommand};
use recur::data::tsv::{
    build_vocab, read_labelled, stratified_folds, stratified_split, word_ids, Classes, Keep, TextEncoding,
};
use recur::data::{Tokenizer, Vocab, UNK};
use recur::io::checkpoint;
use recur::io::run_dir::{RunDir, MODEL, VOCAB};
use recur::io::{read_text, write_atomic};
use recur::layers::CellKind;
use recur::models::classifier::evaluation_of;
use recur::models::classifier::{
    evaluate, predict_probabilities, train_early_stopping, Classifier, ClassifierConfig, EpochLine,
    Evaluation, FitResult, FitSettings, Labelled, Pool,
};
use recur::models::LayerSummary;
use recur::optim::{Optimizer, OptimizerKind};
use recur::tensor::Rng;
use recur::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

const CONFIG: &str = "config.json";
const METRICS: &str = "metrics.jsonl";
const RESULT: &str = "result.json";
const CV: &str = "cv.json";
/// `config.json`'s `task`, which tells a classifier's run from a language model's.
const TASK: &str = "classify";
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
        ClassifyCommand::Train(args) => train(*args),
        ClassifyCommand::Eval(args) => eval(args),
        ClassifyCommand::Predict(args) => predict(args),
        ClassifyCommand::Summary(args) => summary(args),
    }
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Labelled texts, one `text<TAB>label` a line (the label is what follows the last tab).
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// Validation texts for early stopping (default: --valid-split of --data).
    #[arg(long, value_name = "FILE")]
    valid: Option<PathBuf>,
    /// Share of the training texts held out (per class) for early stopping when there is no --valid.
    #[arg(long, default_value_t = 0.1, value_name = "SHARE")]
    valid_split: f64,
    /// More labelled texts (e.g. another domain's) added to the training texts of every model,
    /// cross-validation folds included; never validated or tested on. Repeatable.
    #[arg(long, value_name = "FILE")]
    extra: Vec<PathBuf>,
    /// Test texts, measured once on the saved model's weights at the end.
    #[arg(long, value_name = "FILE")]
    test: Option<PathBuf>,
    /// K-fold cross-validation (stratified, seeded) before the final model; 0 = none.
    #[arg(long, default_value_t = 0, value_name = "K")]
    folds: usize,
    /// Recurrent cell.
    #[arg(long, value_enum, default_value = "lstm")]
    cell: CellKind,
    /// Stacked recurrent layers (inner ones pass every step on, the last its final state).
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// Word-vector width (D).
    #[arg(long, default_value_t = 32)]
    embed_size: usize,
    /// Hidden width of each direction (H).
    #[arg(long, default_value_t = 32)]
    hidden_size: usize,
    /// Read each text both ways; the head sees [forward final | reverse final].
    #[arg(long)]
    bidirectional: bool,
    /// What the head reads of the last layer: its final state, or its outputs pooled over the
    /// text's steps (max or mean).
    #[arg(long, value_enum, default_value = "last")]
    pool: Pool,
    /// Dropout on the word vectors.
    #[arg(long, default_value_t = 0.3)]
    embed_dropout: f64,
    /// Dropout between recurrent layers and on the final state.
    #[arg(long, default_value_t = 0.5)]
    dropout: f64,
    /// Each training word becomes `<unk>` with this probability, anew each epoch.
    #[arg(long, default_value_t = 0.0)]
    word_dropout: f64,
    /// Largest vocabulary, `<unk>` included (0 = no cap); other words become `<unk>`.
    #[arg(long, default_value_t = 10_000)]
    max_vocab: usize,
    /// Words seen fewer times in the training texts become `<unk>`.
    #[arg(long, default_value_t = 2)]
    min_count: usize,
    /// Longest text in words; longer ones are truncated (see --keep).
    #[arg(long, default_value_t = 100)]
    max_len: usize,
    /// Which words a truncated text keeps.
    #[arg(long, value_enum, default_value = "last")]
    keep: Keep,
    /// Texts per batch (each batch is padded to its longest text).
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, value_enum, default_value = "adam")]
    optimizer: OptimizerKind,
    /// Learning rate.
    #[arg(long, default_value_t = 0.005)]
    lr: f64,
    /// Momentum coefficient (--optimizer momentum).
    #[arg(long, default_value_t = 0.9)]
    momentum: f64,
    /// Clip the global gradient norm to this (0 = no clipping).
    #[arg(long, default_value_t = 5.0)]
    clip: f64,
    /// Decoupled weight decay of the weight matrices (AdamW's), per unit of learning rate.
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Most passes over the training texts.
    #[arg(long, default_value_t = 40)]
    epochs: usize,
    /// Stop after this many epochs without a lower validation loss (0 = run every epoch); the
    /// best epoch's weights are kept either way.
    #[arg(long, default_value_t = 6)]
    patience: usize,
    /// Average the class probabilities of this many models, each from its own seed and with its
    /// own early stopping (1 = one model).
    #[arg(long, default_value_t = 1, value_name = "M")]
    ensemble: usize,
    /// Each ensemble member holds out its own stratified --valid-split for its early stopping,
    /// so that together the members train on every text (default: one split for all members).
    #[arg(long)]
    split_per_member: bool,
    /// Seed of the splits, the folds, the weights, the batch order and the dropout masks.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run directory to write (default: a new runs/run-NNN).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Allow --out to name a directory that already holds a trained model (it is replaced).
    #[arg(long)]
    overwrite: bool,
}

/// How the model was trained (for the reader; not needed to rebuild the model).
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
    #[serde(flatten)]
    pub fit: FitSettings,
    #[serde(default)]
    pub split_per_member: bool,
    /// `--extra` files: more training texts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<String>,
    pub seed: u64,
}

/// `config.json` of a classify run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifyRunConfig {
    /// Always `"classify"`.
    pub task: String,
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

/// One fold of a cross-validation (`cv.json`).
#[derive(Clone, Debug, Serialize)]
struct FoldResult {
    fold: usize,
    train_texts: usize,
    valid_texts: usize,
    test_texts: usize,
    vocab_size: usize,
    /// One per ensemble member.
    best_epochs: Vec<usize>,
    valid_loss: f64,
    valid_accuracy: f64,
    test_loss: f64,
    test_accuracy: f64,
    /// `[true class][predicted class]` on the fold's test texts.
    confusion: Vec<Vec<usize>>,
}

/// `cv.json`.
#[derive(Clone, Debug, Serialize)]
struct CvResult {
    folds: usize,
    mean_accuracy: f64,
    /// Population standard deviation of the fold accuracies (NumPy's `std`).
    std_accuracy: f64,
    min_accuracy: f64,
    max_accuracy: f64,
    /// Summed over the folds: every text tested once.
    confusion: Vec<Vec<usize>>,
    per_fold: Vec<FoldResult>,
}

/// Loss, accuracy, confusion matrix (`result.json`).
#[derive(Clone, Debug, Serialize)]
struct Measured {
    texts: usize,
    loss: f64,
    accuracy: f64,
    confusion: Vec<Vec<usize>>,
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

impl Measured {
    fn of(e: &Evaluation) -> Self {
        let texts = e.confusion.iter().flatten().sum();
        Measured { texts, loss: e.loss, accuracy: e.accuracy, confusion: e.confusion.clone() }
    }
}

/// Tokenised texts with their class ids.
struct Texts {
    words: Vec<Vec<String>>,
    labels: Vec<u32>,
}

impl Texts {
    /// Reads a labelled file; with `classes`, its labels must be among them.
    fn read(path: &Path, encoding: &TextEncoding, classes: &Classes) -> Result<Self> {
        let examples = read_labelled(path)?;
        let labels = classes.ids_of(path, &examples)?;
        let words = examples.iter().map(|e| encoding.words(&e.text)).collect();
        Ok(Texts { words, labels })
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
            seqs: self.words.iter().map(|w| word_ids(w, vocab)).collect(),
            labels: self.labels.clone(),
        }
    }
}

fn train(args: TrainArgs) -> Result<()> {
    check_args(&args)?;
    let examples = read_labelled(&args.data)?;
    let classes = Classes::from_labels(examples.iter().map(|e| e.label.as_str()));
    if classes.len() < 2 {
        return Err(Error::file(
            &args.data,
            format!("every line has the label `{}`; expected at least two classes", classes.name(0)),
        ));
    }
    let encoding = TextEncoding { tokenizer: Tokenizer::Text, max_len: args.max_len, keep: args.keep };
    let all = Texts::read(&args.data, &encoding, &classes)?;
    let valid_file = args.valid.as_deref().map(|p| Texts::read(p, &encoding, &classes)).transpose()?;
    let test_file = args.test.as_deref().map(|p| Texts::read(p, &encoding, &classes)).transpose()?;
    let mut extra = Texts { words: Vec::new(), labels: Vec::new() };
    for path in &args.extra {
        extra = extra.with(&Texts::read(path, &encoding, &classes)?);
    }
    let settings = TrainSettings {
        data: args.data.display().to_string(),
        valid: args.valid.as_ref().map(|p| p.display().to_string()),
        valid_split: args.valid_split,
        test: args.test.as_ref().map(|p| p.display().to_string()),
        folds: args.folds,
        max_vocab: args.max_vocab,
        min_count: args.min_count,
        optimizer: args.optimizer,
        lr: args.lr,
        momentum: args.momentum,
        fit: FitSettings {
            batch_size: args.batch_size,
            epochs: args.epochs,
            patience: args.patience,
            clip: (args.clip > 0.0).then_some(args.clip),
            weight_decay: args.weight_decay,
            word_dropout: args.word_dropout,
        },
        split_per_member: args.split_per_member,
        extra: args.extra.iter().map(|p| p.display().to_string()).collect(),
        seed: args.seed,
    };

    let run = RunDir::create(&super::choose_out_dir(args.out.as_deref(), args.overwrite, "run")?)?;
    // A replaced run loses its outputs first, so a failed new run never leaves old weights
    // beside a config they do not fit.
    for stale in [MODEL, METRICS, RESULT, CV, VOCAB, CONFIG] {
        let path = run.path(stale);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, "remove the replaced run's file", e))?;
        }
    }
    let sizes = |n: usize| format!("{n} texts, {} classes ({})", classes.len(), classes.names().join(", "));
    println!("{}: {}", args.data.display(), sizes(all.labels.len()));
    let mut history: Vec<EpochLine> = Vec::new();
    let mut seeds = Rng::new(args.seed);

    if args.folds >= 2 {
        let cv = cross_validate(&args, &settings, &all, &extra, &classes, &mut seeds, &run, &mut history)?;
        let json = serde_json::to_string_pretty(&cv).expect("a CvResult always serialises");
        write_atomic(&run.path(CV), format!("{json}\n").as_bytes())?;
    }

    // The model to keep: all the texts but the validation ones (with --split-per-member, each
    // member's own).
    let per_member = args.split_per_member && valid_file.is_none();
    let (fit_texts, valid_texts) = match valid_file {
        Some(valid) => (all, valid),
        None if per_member => {
            let rows: Vec<usize> = (0..all.labels.len()).collect();
            let (_, held) = stratified_split(&rows, &all.labels, args.valid_split, &mut seeds.clone());
            check_split(&all, &all.subset(&held), &args)?;
            (all, Texts { words: Vec::new(), labels: Vec::new() })
        }
        None => {
            let rows: Vec<usize> = (0..all.labels.len()).collect();
            let (kept, held) = stratified_split(&rows, &all.labels, args.valid_split, &mut seeds);
            (all.subset(&kept), all.subset(&held))
        }
    };
    if !per_member {
        check_split(&fit_texts, &valid_texts, &args)?;
    }
    let fit_texts = fit_texts.with(&extra);
    let vocab = vocabulary(&fit_texts, &args);
    let model_config = model_config(&args, vocab.len(), classes.len());
    let config = ClassifyRunConfig {
        task: TASK.into(),
        model: model_config.clone(),
        text: encoding.clone(),
        classes: classes.clone(),
        members: args.ensemble,
        train: settings.clone(),
    };
    let json = serde_json::to_string_pretty(&config).expect("a ClassifyRunConfig always serialises");
    write_atomic(&run.path(CONFIG), format!("{json}\n").as_bytes())?;
    run.write_vocab(&vocab)?;

    if per_member {
        println!(
            "training on {} texts, each member holding out its own {} for validation (vocabulary {} words, <unk> \
             included)",
            fit_texts.labels.len(),
            args.valid_split,
            vocab.len()
        );
    } else {
        println!(
            "training on {} texts, validating on {} (vocabulary {} words, <unk> included)",
            fit_texts.labels.len(),
            valid_texts.labels.len(),
            vocab.len()
        );
    }
    print_summary(&Classifier::<f32>::new(model_config.clone(), &mut Rng::new(0)).summary(), args.ensemble);
    println!(
        "batch {}, {:?} lr {}{}{}, up to {} epochs, early stopping after {} without a lower validation loss",
        settings.fit.batch_size,
        settings.optimizer,
        settings.lr,
        settings.fit.clip.map(|c| format!(", clip {c}")).unwrap_or_default(),
        if args.weight_decay > 0.0 { format!(", weight decay {}", args.weight_decay) } else { String::new() },
        settings.fit.epochs,
        settings.fit.patience,
    );
    let (train_set, valid_set) = (fit_texts.encode(&vocab), valid_texts.encode(&vocab));
    let holdout = if per_member {
        Holdout::PerMember { pool: &train_set, share: args.valid_split }
    } else {
        Holdout::Shared { fit: &train_set, valid: &valid_set }
    };
    let (mut models, results) =
        train_members(&args, &settings, &model_config, &holdout, &mut seeds, Verbose::Epochs)?;
    for result in &results {
        history.extend(result.history.iter().cloned());
    }
    write_metrics(&run, &history)?;
    run.save_tensors(&state_dict_of(&models))?;

    let valid = holdout_figures(&mut models, &holdout, &results);
    let best_epochs: Vec<usize> = results.iter().map(|r| r.best_epoch).collect();
    println!(
        "best epoch{} {best_epochs:?}: valid loss {:.4}, accuracy {:.4}{}; {} saved",
        if best_epochs.len() > 1 { "s (one per member)" } else { "" },
        valid.loss,
        valid.accuracy,
        if per_member { " (the mean of each member's own validation texts)" } else { "" },
        if best_epochs.len() > 1 { "their weights are" } else { "its weights are" }
    );
    print_confusion("validation", &classes, &valid.confusion);
    let test = test_file.map(|test| {
        let e = evaluate_members(&mut models, &test.encode(&vocab));
        println!("test: loss {:.4}, accuracy {:.4} ({} texts)", e.loss, e.accuracy, test.labels.len());
        print_confusion("test", &classes, &e.confusion);
        Measured::of(&e)
    });
    let result = RunResult { best_epochs, valid: Measured::of(&valid), test };
    let json = serde_json::to_string_pretty(&result).expect("a RunResult always serialises");
    write_atomic(&run.path(RESULT), format!("{json}\n").as_bytes())?;
    println!(
        "wrote {} (config, vocab, model, metrics, result{})",
        run.root.display(),
        if args.folds >= 2 { ", cv" } else { "" }
    );
    Ok(())
}

/// K-fold cross-validation: one model per fold, tested once on its fold.
#[allow(clippy::too_many_arguments)]
fn cross_validate(
    args: &TrainArgs,
    settings: &TrainSettings,
    all: &Texts,
    extra: &Texts,
    classes: &Classes,
    seeds: &mut Rng,
    run: &RunDir,
    history: &mut Vec<EpochLine>,
) -> Result<CvResult> {
    let k = args.folds;
    let n = all.labels.len();
    let num_classes = classes.len();
    let fold_of = stratified_folds(&all.labels, k, seeds);
    println!(
        "{k}-fold cross-validation (stratified, seed {}): each fold's model trains on the other folds \
         less {} for early stopping",
        args.seed, args.valid_split
    );
    let mut per_fold = Vec::with_capacity(k);
    let mut confusion = vec![vec![0; num_classes]; num_classes];
    for fold in 0..k {
        let start = Instant::now();
        let test_rows: Vec<usize> = (0..n).filter(|&i| fold_of[i] == fold).collect();
        let rest: Vec<usize> = (0..n).filter(|&i| fold_of[i] != fold).collect();
        let (kept, held) = stratified_split(&rest, &all.labels, args.valid_split, seeds);
        let (fit_texts, valid_texts, test_texts) =
            (all.subset(&kept), all.subset(&held), all.subset(&test_rows));
        check_split(&fit_texts, &valid_texts, args)?;
        // With a split per member, the fold's members share every training text between them.
        let fit_texts = if args.split_per_member { all.subset(&rest) } else { fit_texts }.with(extra);
        if test_texts.labels.is_empty() {
            return Err(Error::msg(format!("--folds {k}: fold {} has no texts (only {n} texts)", fold + 1)));
        }
        let vocab = vocabulary(&fit_texts, args);
        let config = model_config(args, vocab.len(), num_classes);
        let (train_set, valid_set) = (fit_texts.encode(&vocab), valid_texts.encode(&vocab));
        let holdout = if args.split_per_member {
            Holdout::PerMember { pool: &train_set, share: args.valid_split }
        } else {
            Holdout::Shared { fit: &train_set, valid: &valid_set }
        };
        let (mut models, results) = train_members(args, settings, &config, &holdout, seeds, Verbose::Quiet)?;
        let valid = holdout_figures(&mut models, &holdout, &results);
        let test = evaluate_members(&mut models, &test_texts.encode(&vocab));
        let best_epochs: Vec<usize> = results.iter().map(|r| r.best_epoch).collect();
        println!(
            "fold {:2}/{k}: {} train, {} valid, {} test texts, vocabulary {}; best epoch {best_epochs:?}: valid loss \
             {:.4}, accuracy {:.3}; test loss {:.4}, accuracy {:.3} ({:.1} s)",
            fold + 1,
            fit_texts.labels.len(),
            valid_texts.labels.len(),
            test_texts.labels.len(),
            vocab.len(),
            valid.loss,
            valid.accuracy,
            test.loss,
            test.accuracy,
            start.elapsed().as_secs_f64()
        );
        for (row, fold_row) in confusion.iter_mut().zip(&test.confusion) {
            row.iter_mut().zip(fold_row).for_each(|(a, b)| *a += b);
        }
        for result in &results {
            history.extend(result.history.iter().map(|e| EpochLine { fold: Some(fold + 1), ..e.clone() }));
        }
        write_metrics(run, history)?;
        per_fold.push(FoldResult {
            fold: fold + 1,
            train_texts: fit_texts.labels.len(),
            valid_texts: valid_texts.labels.len(),
            test_texts: test_texts.labels.len(),
            vocab_size: vocab.len(),
            best_epochs,
            valid_loss: valid.loss,
            valid_accuracy: valid.accuracy,
            test_loss: test.loss,
            test_accuracy: test.accuracy,
            confusion: test.confusion,
        });
    }
    let accs: Vec<f64> = per_fold.iter().map(|f| f.test_accuracy).collect();
    let mean = accs.iter().sum::<f64>() / k as f64;
    let std = (accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / k as f64).sqrt();
    let min = accs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = accs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let valid_mean = per_fold.iter().map(|f| f.valid_accuracy).sum::<f64>() / k as f64;
    println!(
        "{k}-fold cross-validated accuracy: {mean:.4} +- {std:.4} (mean +- std over folds; min {min:.3}, max {max:.3}; \
         mean validation accuracy {valid_mean:.4})"
    );
    print_confusion("every fold's test texts", classes, &confusion);
    Ok(CvResult {
        folds: k,
        mean_accuracy: mean,
        std_accuracy: std,
        min_accuracy: min,
        max_accuracy: max,
        confusion,
        per_fold,
    })
}

fn check_args(args: &TrainArgs) -> Result<()> {
    let sizes = [
        args.epochs,
        args.layers,
        args.hidden_size,
        args.embed_size,
        args.batch_size,
        args.max_len,
        args.ensemble,
    ];
    if sizes.contains(&0) {
        return Err(Error::msg(
            "--epochs, --layers, --hidden-size, --embed-size, --batch-size, --max-len and --ensemble must be at least 1",
        ));
    }
    if !(args.lr.is_finite() && args.lr > 0.0) {
        return Err(Error::msg(format!("--lr must be a positive number (got {})", args.lr)));
    }
    for (flag, value) in [("--clip", args.clip), ("--weight-decay", args.weight_decay)] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(Error::msg(format!("{flag} must be 0 (off) or a positive number (got {value})")));
        }
    }
    for (flag, p) in [
        ("--dropout", args.dropout),
        ("--embed-dropout", args.embed_dropout),
        ("--word-dropout", args.word_dropout),
    ] {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::msg(format!("{flag} must be in [0, 1) (got {p})")));
        }
    }
    let split_needed = args.valid.is_none() || args.folds >= 2;
    if split_needed && !(args.valid_split > 0.0 && args.valid_split < 1.0) {
        return Err(Error::msg(format!(
            "--valid-split must be between 0 and 1 (got {}): early stopping needs validation texts",
            args.valid_split
        )));
    }
    if args.folds == 1 {
        return Err(Error::msg("--folds must be 0 (no cross-validation) or at least 2"));
    }
    Ok(())
}

fn check_split(fit: &Texts, valid: &Texts, args: &TrainArgs) -> Result<()> {
    if fit.labels.is_empty() || valid.labels.is_empty() {
        return Err(Error::msg(format!(
            "{}: too few texts to hold out --valid-split {} and still train (got {} for training, {} for validation)",
            args.data.display(),
            args.valid_split,
            fit.labels.len(),
            valid.labels.len()
        )));
    }
    Ok(())
}

fn check_finite(result: &FitResult) -> Result<()> {
    match result.history.iter().find(|e| !e.train_loss.is_finite()) {
        Some(e) => Err(Error::msg(format!(
            "epoch {}: the training loss is not finite ({}); lower --lr or set --clip",
            e.epoch, e.train_loss
        ))),
        None => Ok(()),
    }
}

fn vocabulary(texts: &Texts, args: &TrainArgs) -> Vocab {
    build_vocab(texts.words.iter().map(Vec::as_slice), args.max_vocab, args.min_count)
}

fn model_config(args: &TrainArgs, vocab_size: usize, num_classes: usize) -> ClassifierConfig {
    ClassifierConfig {
        cell: args.cell,
        vocab_size,
        embed_size: args.embed_size,
        hidden_size: args.hidden_size,
        num_layers: args.layers,
        bidirectional: args.bidirectional,
        embed_dropout: args.embed_dropout,
        dropout: args.dropout,
        num_classes,
        pool: args.pool,
    }
}

fn write_metrics(run: &RunDir, history: &[EpochLine]) -> Result<()> {
    let mut text = String::new();
    for e in history {
        text.push_str(&serde_json::to_string(e).expect("an EpochLine always serialises"));
        text.push('\n');
    }
    write_atomic(&run.path(METRICS), text.as_bytes())
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

/// The summary table of `recur summary`, with a wider layer column; an ensemble's members are
/// alike, so one is shown and the total counts them all.
fn print_summary(rows: &[LayerSummary], members: usize) {
    let layer_width = rows.iter().map(|r| r.layer.len()).max().unwrap_or(5).max(16);
    let rule = "-".repeat(layer_width + 58);
    println!("{:<layer_width$} {:<28} {:>14} {:>12}", "layer", "tensor", "shape", "params");
    println!("{rule}");
    for row in rows {
        if row.tensors.is_empty() {
            println!("{:<layer_width$} {:<28} {:>14} {:>12}", row.layer, "(no parameters)", "", 0);
            continue;
        }
        for (i, (name, shape)) in row.tensors.iter().enumerate() {
            let count: usize = shape.iter().product();
            let layer = if i == 0 { row.layer.as_str() } else { "" };
            println!("{layer:<layer_width$} {name:<28} {:>14} {:>12}", format!("{shape:?}"), group(count));
        }
        println!("{:<layer_width$} {:<28} {:>14} {:>12}", "", "", "layer total", group(row.params));
    }
    println!("{rule}");
    let total: usize = rows.iter().map(|r| r.params).sum();
    if members > 1 {
        println!("Total params: {} ({members} ensemble members of {})", group(members * total), group(total));
    } else {
        println!("Total params: {}", group(total));
    }
}

/// Whether `train_members` prints every epoch.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verbose {
    Epochs,
    Quiet,
}

/// The texts each ensemble member trains on and stops early on.
enum Holdout<'a> {
    /// Every member trains on `fit` and stops on `valid` (a --valid file, or one split).
    Shared { fit: &'a Labelled, valid: &'a Labelled },
    /// Each member holds out its own stratified `share` of `pool` (--split-per-member).
    PerMember { pool: &'a Labelled, share: f64 },
}

/// The validation figures of trained members: the ensemble's on the shared texts, or, when each
/// member had its own, the mean of the members' best-epoch figures (confusions summed).
fn holdout_figures(models: &mut [Classifier<f32>], holdout: &Holdout, results: &[FitResult]) -> Evaluation {
    match holdout {
        Holdout::Shared { valid, .. } => evaluate_members(models, valid),
        Holdout::PerMember { .. } => {
            let m = results.len() as f64;
            let mut confusion = results[0].best.confusion.clone();
            for r in &results[1..] {
                for (row, add) in confusion.iter_mut().zip(&r.best.confusion) {
                    row.iter_mut().zip(add).for_each(|(a, b)| *a += b);
                }
            }
            Evaluation {
                loss: results.iter().map(|r| r.best.loss).sum::<f64>() / m,
                accuracy: results.iter().map(|r| r.best.accuracy).sum::<f64>() / m,
                confusion,
            }
        }
    }
}

/// `args.ensemble` models, each from its own seed (drawn from `seeds`), trained with early
/// stopping as `holdout` says.
fn train_members(
    args: &TrainArgs,
    settings: &TrainSettings,
    config: &ClassifierConfig,
    holdout: &Holdout,
    seeds: &mut Rng,
    verbose: Verbose,
) -> Result<(Vec<Classifier<f32>>, Vec<FitResult>)> {
    let (mut models, mut results) = (Vec::new(), Vec::new());
    for member in 1..=args.ensemble {
        let mut rng = Rng::new(seeds.next_u64());
        let own_split;
        let (train, valid) = match *holdout {
            Holdout::Shared { fit, valid } => (fit, valid),
            Holdout::PerMember { pool, share } => {
                let rows: Vec<usize> = (0..pool.len()).collect();
                let (kept, held) = stratified_split(&rows, &pool.labels, share, &mut rng);
                own_split = (pool.subset(&kept), pool.subset(&held));
                (&own_split.0, &own_split.1)
            }
        };
        let mut model: Classifier<f32> = Classifier::new(config.clone(), &mut rng);
        let mut optimizer = Optimizer::new(settings.optimizer, settings.lr, settings.momentum);
        if verbose == Verbose::Epochs && args.ensemble > 1 {
            println!("ensemble member {member}/{}", args.ensemble);
        }
        let mut result = train_early_stopping(
            &mut model,
            train,
            valid,
            &settings.fit,
            &mut optimizer,
            &mut rng,
            |e| {
                if verbose == Verbose::Epochs {
                    println!(
                        "| epoch {:3} | train loss {:.4} accuracy {:.3} | valid loss {:.4} accuracy {:.3} | {:.1} s",
                        e.epoch, e.train_loss, e.train_accuracy, e.valid_loss, e.valid_accuracy, e.seconds
                    )
                }
            },
        );
        check_finite(&result)?;
        if args.ensemble > 1 {
            result.history.iter_mut().for_each(|e| e.member = Some(member));
        }
        models.push(model);
        results.push(result);
    }
    Ok((models, results))
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

/// 1234567 -> "1,234,567".
fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A trained classifier read back from its run directory.
struct Loaded {
    config: ClassifyRunConfig,
    vocab: Vocab,
    /// One model, or the members of an ensemble.
    models: Vec<Classifier<f32>>,
}

/// Whether `dir/config.json` says `"task": "classify"` (what `recur summary` can ask to tell a
/// classifier's run from a language model's).
pub(super) fn is_classifier_run(dir: &Path) -> bool {
    read_text(&dir.join(CONFIG))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|v| v.get("task").and_then(|t| t.as_str()) == Some(TASK))
}

/// Reads `config.json`, `vocab.txt` and `model.safetensors`, checking that they agree.
fn load(dir: &Path) -> Result<Loaded> {
    let run = RunDir::open(dir)?;
    let path = run.path(CONFIG);
    let text = read_text(&path)?;
    if !is_classifier_run(dir) {
        return Err(Error::file(
            &path,
            "not a classifier's run (expected \"task\": \"classify\", as `recur classify train` writes)",
        ));
    }
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
            format!("lists {} classes but the model has {}", config.classes.len(), config.model.num_classes),
        ));
    }
    if config.text.max_len == 0 {
        return Err(Error::file(&path, "text.max_len is 0; expected at least 1"));
    }
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
    if config.members == 0 {
        return Err(Error::file(&path, "members is 0; expected at least 1"));
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
    print_summary(&loaded.models[0].summary(), loaded.models.len());
    Ok(())
}
