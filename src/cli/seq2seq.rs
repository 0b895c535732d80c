//! `recur seq2seq train|eval|summary`: the book's chapter-7 encoder-decoder on `input<TAB>output`
//! pairs (or the built-in addition task), character by character.
//!
//! Training: shuffle the pairs with the seed, hold out `--valid-share` of them, then train on
//! the rest through the engine (`recur::tasks::Seq2seqTask`): per epoch shuffled batches,
//! teacher forcing, clipping, a step; after each epoch the held-out inputs are decoded greedily
//! (until `<eos>` or T_out + 1 symbols) and exact matches counted. The epoch with the highest
//! held-out accuracy is the model kept. Ctrl-C, `--resume`, `--on-nan` are the engine's.
//!
//! Run directory: `config.json` (task, model, layout, data and training settings), `vocab.json`
//! (the symbols as a JSON list: characters may be spaces), `model.safetensors` (the best
//! epoch's weights), `checkpoint.safetensors` (everything `--resume` needs), `metrics.jsonl`
//! (one object per epoch), `accuracy.png` / `.svg` (held-out exact match) and `loss.png` /
//! `.svg` (training and held-out loss).

use super::fit::{fit, resume_state, Describe};
use clap::{Args, Subcommand};
use recur::data::pairs::{self, CharVocab, Layout, Padding, Pair};
use recur::io::checkpoint;
use recur::io::run_dir::{RunDir, TaskKind, METRICS, MODEL};
use recur::io::train_state::CHECKPOINT;
use recur::io::{read_text, write_atomic};
use recur::layers::CellKind;
use recur::models::{LayerSummary, Seq2seq, Seq2seqConfig};
use recur::optim::{LrRule, LrSchedule, Optimizer, OptimizerKind};
use recur::plot::{write_chart, Chart, Series};
use recur::tasks::seq2seq::{decode_all, Seq2seqTask};
use recur::tensor::Rng;
use recur::train::{EpochStats, OnNan, Outcome, Settings as EngineSettings, TrainState};
use recur::{Error, Result};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

const CONFIG: &str = "config.json";
const VOCAB: &str = "vocab.json";
const PLOT_STEM: &str = "accuracy";
/// The command that trains (and resumes) a run.
const TRAIN_COMMAND: &str = "recur seq2seq train";

#[derive(Subcommand, Debug)]
pub enum Seq2seqCommand {
    /// Train an encoder-decoder on `input<TAB>output` lines or the built-in addition task.
    Train(Box<TrainArgs>),
    /// Exact-match accuracy of a trained encoder-decoder (default: on its own held-out pairs).
    Eval(EvalArgs),
    /// Layers, tensor shapes and parameter counts of a trained encoder-decoder.
    Summary(SummaryArgs),
}

pub fn run(cmd: Seq2seqCommand) -> Result<()> {
    match cmd {
        Seq2seqCommand::Train(args) => train(*args),
        Seq2seqCommand::Eval(args) => eval(args),
        Seq2seqCommand::Summary(args) => print_summary_of(&args.model),
    }
}

/// Flags left out take the default in brackets (a new run) or the run's setting (`--resume`).
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("data").args(["addition", "tsv"])))]
pub struct TrainArgs {
    /// Generate the book's addition task (`a+b` -> sum, a and b in 0..999; no data needed).
    #[arg(long)]
    addition: bool,
    /// Distinct questions to generate with --addition (the book: 50000) [default: 50000].
    #[arg(long, requires = "addition")]
    examples: Option<usize>,
    /// Read `input<TAB>output` lines from this file (with --resume: where the run's file is now).
    #[arg(long, value_name = "FILE")]
    tsv: Option<PathBuf>,
    /// Feed the input to the encoder backwards (the book's "reversed input").
    #[arg(long)]
    reverse_input: bool,
    /// Give the encoder's state to every decoder step (the book's "peeky" decoder).
    #[arg(long)]
    peeky: bool,
    /// Recurrent cell of the encoder and the decoder [default: lstm].
    #[arg(long, value_enum)]
    cell: Option<CellKind>,
    /// Stacked recurrent layers on each side; decoder layer k starts from encoder layer k's
    /// final state [default: 1].
    #[arg(long)]
    layers: Option<usize>,
    /// Embedding width (D) [default: 16].
    #[arg(long)]
    wordvec_size: Option<usize>,
    /// Hidden-state width (H) [default: 128].
    #[arg(long)]
    hidden_size: Option<usize>,
    /// Dropout probability on the embeddings, between stacked layers and before the decoder's
    /// affine, in training only [default: 0].
    #[arg(long)]
    dropout: Option<f64>,
    /// Pairs per batch (N) [default: 128].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Passes over the training pairs [default: 25].
    #[arg(long)]
    epochs: Option<usize>,
    /// Optimizer [default: adam].
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerKind>,
    /// Learning rate (with --resume: the rate from now on) [default: 0.001].
    #[arg(long)]
    lr: Option<f64>,
    /// Momentum coefficient (--optimizer momentum) [default: 0.9].
    #[arg(long)]
    momentum: Option<f64>,
    /// Clip the global gradient norm to this (0 = no clipping) [default: 5].
    #[arg(long)]
    clip: Option<f64>,
    /// Learning-rate rule between epochs; plateau divides after an epoch whose held-out
    /// accuracy is not the best so far [default: constant].
    #[arg(long, value_enum)]
    lr_schedule: Option<LrSchedule>,
    /// Plateau: divide the rate by this; zaremba: multiply it by this each epoch [default: 4
    /// for plateau, 0.5 for zaremba].
    #[arg(long)]
    lr_factor: Option<f64>,
    /// Zaremba: epochs at the initial rate before the decay starts [default: 0].
    #[arg(long)]
    decay_after: Option<usize>,
    /// Decoupled weight decay (AdamW's): each step multiplies every weight matrix (the
    /// embeddings too, not the biases) by 1 - lr * this [default: 0].
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Stop after this many epochs without a better held-out accuracy (0 = never) [default: 0].
    #[arg(long)]
    patience: Option<usize>,
    /// What a batch with a NaN or infinite loss or gradient does: stop the run (naming the
    /// epoch, the batch and the last good checkpoint) or skip the batch [default: stop].
    #[arg(long, value_enum)]
    on_nan: Option<OnNan>,
    /// Share of the pairs held out to measure accuracy after every epoch [default: 0.1].
    #[arg(long)]
    valid_share: Option<f64>,
    /// Held-out examples printed with their decodings after every epoch [default: 3].
    #[arg(long)]
    show: Option<usize>,
    /// Seed of the data (generation, split, batch order) and of the weights [default: 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Run directory to write (default: a new runs/seq2seq-NNN).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Allow --out to name a directory that already holds a trained model (it is replaced).
    #[arg(long)]
    overwrite: bool,
    /// Continue the run in DIR from its checkpoint (written every epoch and on Ctrl-C). Only
    /// --epochs, --lr, --patience, --on-nan, --show and --tsv (the data file moved) may be
    /// given beside it.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
}

impl TrainArgs {
    /// `--resume` takes everything from the run; other flags would be silently ignored.
    fn check_resume_flags(&self) -> Result<()> {
        let given = [
            ("--addition", self.addition),
            ("--examples", self.examples.is_some()),
            ("--reverse-input", self.reverse_input),
            ("--peeky", self.peeky),
            ("--cell", self.cell.is_some()),
            ("--layers", self.layers.is_some()),
            ("--wordvec-size", self.wordvec_size.is_some()),
            ("--hidden-size", self.hidden_size.is_some()),
            ("--dropout", self.dropout.is_some()),
            ("--batch-size", self.batch_size.is_some()),
            ("--optimizer", self.optimizer.is_some()),
            ("--momentum", self.momentum.is_some()),
            ("--clip", self.clip.is_some()),
            ("--lr-schedule", self.lr_schedule.is_some()),
            ("--lr-factor", self.lr_factor.is_some()),
            ("--decay-after", self.decay_after.is_some()),
            ("--weight-decay", self.weight_decay.is_some()),
            ("--valid-share", self.valid_share.is_some()),
            ("--seed", self.seed.is_some()),
            ("--out", self.out.is_some()),
            ("--overwrite", self.overwrite),
        ];
        let clashing: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(f, _)| *f).collect();
        if !clashing.is_empty() {
            return Err(Error::msg(format!(
                "--resume continues a run with the settings in its config.json; {} cannot change them \
                 (only --epochs, --lr, --patience, --on-nan, --show and --tsv can)",
                clashing.join(", ")
            )));
        }
        Ok(())
    }
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Run directory written by `recur seq2seq train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Pairs to evaluate (default: the run's held-out pairs, remade from its data and seed).
    #[arg(long, value_name = "FILE")]
    tsv: Option<PathBuf>,
    /// Examples printed with their decodings.
    #[arg(long, default_value_t = 5)]
    show: usize,
    /// Pairs decoded at once.
    #[arg(long, default_value_t = 500)]
    batch_size: usize,
}

#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// Run directory written by `recur seq2seq train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
}

/// Where the pairs came from (enough to remake the held-out split).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
enum DataSource {
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
struct Settings {
    data: DataSource,
    train_examples: usize,
    valid_examples: usize,
    valid_share: f64,
    batch_size: usize,
    epochs: usize,
    optimizer: OptimizerKind,
    /// The initial learning rate.
    lr: f64,
    clip: Option<f64>,
    seed: u64,
    #[serde(default = "default_momentum")]
    momentum: f64,
    #[serde(default = "constant_rate")]
    lr_rule: LrRule,
    #[serde(default)]
    weight_decay: f64,
    /// Epochs without a better held-out accuracy before the run stops (0 = never).
    #[serde(default)]
    patience: usize,
    #[serde(default = "stop")]
    on_nan: OnNan,
    /// SHA-256 of the pairs (training then held out, `input\toutput\n` each), so `--resume`
    /// can tell that the data is the run's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_sha256: Option<String>,
}

impl Settings {
    fn engine(&self) -> EngineSettings {
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
struct RunConfig {
    task: TaskKind,
    model: Seq2seqConfig,
    layout: Layout,
    train: Settings,
}

/// The pairs of a data source, shuffled and split with `rng`: (train, held out).
fn load_pairs(source: &DataSource, share: f64, rng: &mut Rng) -> Result<(Vec<Pair>, Vec<Pair>)> {
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

/// SHA-256 (hex) of the pairs in order, each `input\toutput\n`.
fn data_hash(train: &[Pair], valid: &[Pair]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for pair in train.iter().chain(valid) {
        hasher.update(pair.input.as_bytes());
        hasher.update(b"\t");
        hasher.update(pair.output.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything a run trains with, fresh or resumed.
struct Session {
    run: RunDir,
    config: RunConfig,
    vocab: CharVocab,
    train_pairs: Vec<Pair>,
    valid_pairs: Vec<Pair>,
    model: Seq2seq<f32>,
    /// The batches' generator of a new run (a resumed run's comes from the checkpoint).
    shuffle_rng: Rng,
    /// Set when the run goes on from its checkpoint.
    resuming: Option<Resuming>,
}

/// A run going on from its checkpoint: `--lr` if given, and the config as it was on disk (the
/// one written back if `--resume`'s flags changed it).
struct Resuming {
    lr: Option<f64>,
    recorded: RunConfig,
}

fn train(args: TrainArgs) -> Result<()> {
    let mut session = match &args.resume {
        Some(dir) => {
            args.check_resume_flags()?;
            resume(dir, &args)?
        }
        None => start(&args)?,
    };
    session.train(args.show.unwrap_or(3))
}

/// A new run: the settings, the data, the run directory, a freshly drawn model.
fn start(args: &TrainArgs) -> Result<Session> {
    let (epochs, batch_size) = (args.epochs.unwrap_or(25), args.batch_size.unwrap_or(128));
    let (layers, hidden_size, wordvec_size) =
        (args.layers.unwrap_or(1), args.hidden_size.unwrap_or(128), args.wordvec_size.unwrap_or(16));
    if epochs == 0 || batch_size == 0 || layers == 0 || hidden_size == 0 || wordvec_size == 0 {
        return Err(Error::msg(
            "--epochs, --batch-size, --layers, --hidden-size and --wordvec-size must be at least 1",
        ));
    }
    let lr = args.lr.unwrap_or(0.001);
    let schedule = args.lr_schedule.unwrap_or(LrSchedule::Constant);
    let lr_factor = args.lr_factor.unwrap_or(match schedule {
        LrSchedule::Constant => 1.0,
        LrSchedule::Plateau => 4.0,
        LrSchedule::Zaremba => 0.5,
    });
    for (flag, value) in [("--lr", lr), ("--lr-factor", lr_factor)] {
        if !(value.is_finite() && value > 0.0) {
            return Err(Error::msg(format!("{flag} must be a positive number (got {value})")));
        }
    }
    let (clip, momentum, weight_decay) =
        (args.clip.unwrap_or(5.0), args.momentum.unwrap_or(0.9), args.weight_decay.unwrap_or(0.0));
    for (flag, value, what) in [
        ("--clip", clip, "0 (off) or a positive number"),
        ("--momentum", momentum, "0 or a positive number"),
        ("--weight-decay", weight_decay, "0 (off) or a positive number"),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(Error::msg(format!("{flag} must be {what} (got {value})")));
        }
    }
    let dropout = args.dropout.unwrap_or(0.0);
    if !(0.0..1.0).contains(&dropout) {
        return Err(Error::msg(format!("--dropout must be in [0, 1) (got {dropout})")));
    }
    let valid_share = args.valid_share.unwrap_or(0.1);
    if !(valid_share > 0.0 && valid_share < 1.0) {
        return Err(Error::msg(format!("--valid-share must be between 0 and 1 (got {valid_share})")));
    }
    let source = match (&args.tsv, args.addition) {
        (Some(path), _) => DataSource::Tsv { path: path.clone() },
        (None, true) => DataSource::Addition { examples: args.examples.unwrap_or(50_000) },
        (None, false) => return Err(Error::msg(
            "give the data: --addition (the built-in task) or --tsv FILE (or --resume DIR to continue a run)",
        )),
    };
    let seed = args.seed.unwrap_or(1);
    let mut rng = Rng::new(seed);
    let (train_pairs, valid_pairs) = load_pairs(&source, valid_share, &mut rng)?;
    let all: Vec<Pair> = train_pairs.iter().chain(&valid_pairs).cloned().collect();
    let vocab = CharVocab::from_pairs(&all);
    let (max_input_len, max_output_len) = pairs::max_lengths(&all);
    let layout = Layout { max_input_len, max_output_len, reverse_input: args.reverse_input };
    let model_config = Seq2seqConfig {
        cell: args.cell.unwrap_or(CellKind::Lstm),
        vocab_size: vocab.len(),
        embed_size: wordvec_size,
        hidden_size,
        peeky: args.peeky,
        num_layers: layers,
        dropout,
    };
    model_config.check().map_err(Error::msg)?;
    let settings = Settings {
        data: source,
        train_examples: train_pairs.len(),
        valid_examples: valid_pairs.len(),
        valid_share,
        batch_size,
        epochs,
        optimizer: args.optimizer.unwrap_or(OptimizerKind::Adam),
        lr,
        clip: (clip > 0.0).then_some(clip),
        seed,
        momentum,
        lr_rule: LrRule { schedule, factor: lr_factor, decay_after: args.decay_after.unwrap_or(0) },
        weight_decay,
        patience: args.patience.unwrap_or(0),
        on_nan: args.on_nan.unwrap_or(OnNan::Stop),
        data_sha256: Some(data_hash(&train_pairs, &valid_pairs)),
    };
    let config = RunConfig { task: TaskKind::Seq2seq, model: model_config.clone(), layout, train: settings };

    let run = RunDir::create(&super::choose_out_dir(args.out.as_deref(), args.overwrite, "seq2seq")?)?;
    // A run being replaced (--overwrite) loses its outputs before the new config is written, so
    // a failed new run never leaves the old weights beside a config they do not fit.
    for stale in [MODEL, METRICS, CHECKPOINT, "accuracy.png", "accuracy.svg", "loss.png", "loss.svg"] {
        let path = run.path(stale);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, "remove the replaced run's file", e))?;
        }
    }
    write_config(&run, &config)?;
    let symbols = serde_json::to_string(vocab.symbols()).expect("serialises") + "\n";
    write_atomic(&run.path(VOCAB), symbols.as_bytes())?;

    let model: Seq2seq<f32> = Seq2seq::new(model_config.clone(), &mut rng);
    println!(
        "training seq2seq {}{}{}{} (V {}, D {}, H {}{}, {} parameters) on {} pairs, {} held out; \
         input up to {} symbols, output up to {}",
        if layers > 1 { format!("{layers} x ") } else { String::new() },
        model_config.cell.name().to_uppercase(),
        if args.peeky { ", peeky" } else { "" },
        if args.reverse_input { ", reversed input" } else { "" },
        model_config.vocab_size,
        model_config.embed_size,
        model_config.hidden_size,
        if dropout > 0.0 { format!(", dropout {dropout}") } else { String::new() },
        model.params.num_elements(),
        train_pairs.len(),
        valid_pairs.len(),
        max_input_len,
        max_output_len,
    );
    Ok(Session { run, config, vocab, train_pairs, valid_pairs, model, shuffle_rng: rng, resuming: None })
}

/// Rebuilds a run from its directory: config (with the flags `--resume` accepts applied), the
/// same pairs (checked against the run's), the model; the checkpoint is read by `train`.
fn resume(dir: &Path, args: &TrainArgs) -> Result<Session> {
    let (run, recorded) = read_config(dir)?;
    let mut config = recorded.clone();
    let settings = &mut config.train;
    if let Some(epochs) = args.epochs {
        settings.epochs = epochs;
    }
    if let Some(lr) = args.lr {
        settings.lr = lr;
    }
    if let Some(patience) = args.patience {
        settings.patience = patience;
    }
    if let Some(on_nan) = args.on_nan {
        settings.on_nan = on_nan;
    }
    if let Some(path) = &args.tsv {
        match &mut settings.data {
            DataSource::Tsv { path: recorded } => *recorded = path.clone(),
            DataSource::Addition { .. } => {
                return Err(Error::msg(format!(
                    "{} trained on the generated addition task; --tsv cannot replace its data",
                    run.root.display()
                )))
            }
        }
    }
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
    let vocab = read_vocab(&run, &config.model)?;
    let all: Vec<Pair> = train_pairs.iter().chain(&valid_pairs).cloned().collect();
    if CharVocab::from_pairs(&all).symbols() != vocab.symbols() {
        return Err(changed(format!("its symbols differ from {}", run.path(VOCAB).display())));
    }
    if pairs::max_lengths(&all) != (config.layout.max_input_len, config.layout.max_output_len) {
        return Err(changed(format!("its longest input or output differs from {CONFIG}'s layout")));
    }
    let model: Seq2seq<f32> = Seq2seq::new(config.model.clone(), &mut rng);
    let resuming = Some(Resuming { lr: args.lr, recorded });
    Ok(Session { run, config, vocab, train_pairs, valid_pairs, model, shuffle_rng: rng, resuming })
}

impl Session {
    /// Trains the remaining epochs through the engine, then draws the accuracy and says which
    /// epoch's weights were kept.
    fn train(&mut self, show: usize) -> Result<()> {
        let settings = self.config.train.clone();
        let engine = settings.engine();
        let shown: RefCell<Vec<String>> = RefCell::new(Vec::new());
        let schedule = settings.lr_rule.schedule;
        let epoch_line = |e: &EpochStats| {
            let fig = |k: &str| e.figure(k).unwrap_or(f64::NAN);
            let mut line = format!(
                "| epoch {:3} |{} train loss {:.4} | held-out accuracy {:.4} ({}/{}) | valid loss {:.4} | {:.1} s | {:.0} pairs/s{}",
                e.epoch,
                if schedule == LrSchedule::Constant { String::new() } else { format!(" lr {:.3e} |", e.lr) },
                e.train_loss,
                fig("valid_accuracy"),
                fig("valid_correct"),
                fig("valid_examples"),
                fig("valid_loss"),
                e.seconds,
                fig("examples_per_s"),
                if e.skipped > 0 { format!(" | {} batches skipped", e.skipped) } else { String::new() },
            );
            for example in shown.borrow().iter() {
                line.push('\n');
                line.push_str(example);
            }
            line
        };
        let task = Seq2seqTask::new(
            &mut self.model,
            &self.vocab,
            self.config.layout,
            &self.train_pairs,
            &self.valid_pairs,
            settings.batch_size,
            self.shuffle_rng.clone(),
        )?;
        let mut task = task.on_validated(|pairs, decoded| {
            *shown.borrow_mut() = examples(pairs, decoded, show);
        });
        let optimizer = Optimizer::new(settings.optimizer, settings.lr, settings.momentum);
        // A resumed run's task takes back its batch order and generator here, with the weights.
        let mut state = match &self.resuming {
            Some(resuming) => {
                let state = resume_state(&self.run, &mut task, optimizer, &engine, resuming.lr)?;
                if resuming.recorded != self.config {
                    write_config(&self.run, &self.config)?;
                }
                state
            }
            None => TrainState::new(optimizer),
        };
        let describe = Describe { command: TRAIN_COMMAND, epoch_line: &epoch_line };
        let outcome = fit(&engine, &self.run, &mut task, &mut state, &describe)?;
        drop(task);
        let Outcome::Finished { best, stopped_early } = outcome else {
            unreachable!("fit returns only finished runs")
        };
        let history = &state.progress.history;
        let series = [Series {
            name: "held-out exact match".into(),
            points: history
                .iter()
                .filter_map(|e| Some((e.epoch as f64, e.figure("valid_accuracy")?)))
                .collect(),
        }];
        let chart =
            Chart { title: "Accuracy", x_label: "epoch", y_label: "accuracy", log_y: false, series: &series };
        let (png, svg) = write_chart(&self.run.path(PLOT_STEM), &chart)?;
        let last = history.last().expect("at least one epoch");
        let accuracy = |e: &EpochStats| e.figure("valid_accuracy").unwrap_or(f64::NAN);
        if stopped_early {
            println!(
                "early stopping after epoch {}: {} epochs without a better held-out accuracy",
                last.epoch, settings.patience
            );
        }
        if let Some((best_epoch, _)) = best {
            let best_stats = &history[best_epoch - 1];
            println!(
                "best held-out accuracy {:.4} (epoch {best_epoch}): its weights are the model saved; the last \
                 epoch's ({}) {:.4}",
                accuracy(best_stats),
                last.epoch,
                accuracy(last)
            );
        }
        println!(
            "wrote {} (model, config, vocab, metrics, checkpoint) and {}, {}, {}",
            self.run.root.display(),
            png.display(),
            svg.display(),
            self.run.path("loss.png").display()
        );
        Ok(())
    }
}

/// A few held-out examples with their decodings, one line each.
fn examples(pairs: &[Pair], decoded: &[String], count: usize) -> Vec<String> {
    pairs
        .iter()
        .zip(decoded)
        .take(count)
        .map(|(pair, got)| {
            if *got == pair.output {
                format!("    ok    {:?} -> {got:?}", pair.input)
            } else {
                format!("    wrong {:?} -> {got:?} (expected {:?})", pair.input, pair.output)
            }
        })
        .collect()
}

fn write_config(run: &RunDir, config: &RunConfig) -> Result<()> {
    write_atomic(
        &run.path(CONFIG),
        (serde_json::to_string_pretty(config).expect("serialises") + "\n").as_bytes(),
    )
}

/// The run directory and its `config.json`, which must be a seq2seq run's.
fn read_config(dir: &Path) -> Result<(RunDir, RunConfig)> {
    let run = RunDir::open(dir)?;
    run.expect_task(TaskKind::Seq2seq)?;
    let config_path = run.path(CONFIG);
    let config: RunConfig = serde_json::from_str(&read_text(&config_path)?).map_err(|e| {
        Error::line(
            &config_path,
            e.line(),
            format!("{e}; expected the config.json written by `{TRAIN_COMMAND}`"),
        )
    })?;
    config.model.check().map_err(|m| Error::file(&config_path, m))?;
    Ok((run, config))
}

/// `vocab.json`, checked against the model's vocabulary size.
fn read_vocab(run: &RunDir, model: &Seq2seqConfig) -> Result<CharVocab> {
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
struct Loaded {
    run: RunDir,
    config: RunConfig,
    vocab: CharVocab,
    model: Seq2seq<f32>,
}

/// Reads `config.json`, `vocab.json` and `model.safetensors`, checking that they agree.
fn load(dir: &Path) -> Result<Loaded> {
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

fn eval(args: EvalArgs) -> Result<()> {
    if args.batch_size == 0 {
        return Err(Error::msg("--batch-size must be at least 1"));
    }
    let Loaded { config, vocab, mut model, .. } = load(&args.model)?;
    let (name, pairs) = match &args.tsv {
        Some(path) => {
            let numbered = pairs::read_numbered_pairs(path)?;
            for (line, pair) in &numbered {
                config.layout.check_input(&vocab, &pair.input).map_err(|m| Error::line(path, *line, m))?;
            }
            (path.display().to_string(), numbered.into_iter().map(|(_, p)| p).collect())
        }
        None => {
            let mut rng = Rng::new(config.train.seed);
            let (_, valid) = load_pairs(&config.train.data, config.train.valid_share, &mut rng)?;
            ("the held-out pairs".to_string(), valid)
        }
    };
    let decoded =
        decode_all(&mut model, &vocab, &config.layout, &pairs, args.batch_size).map_err(Error::msg)?;
    let correct = decoded.iter().zip(&pairs).filter(|(d, p)| **d == p.output).count();
    for line in examples(&pairs, &decoded, args.show) {
        println!("{line}");
    }
    println!("{} pairs of {name}", pairs.len());
    println!("accuracy: {:.4} ({correct}/{})", correct as f64 / pairs.len() as f64, pairs.len());
    Ok(())
}

/// Prints the layers, tensors and parameter counts of the encoder-decoder in `dir` (`recur
/// summary` and `recur seq2seq summary`).
pub(super) fn print_summary_of(dir: &Path) -> Result<()> {
    let loaded = load(dir)?;
    let c = &loaded.config.model;
    println!(
        "{}: seq2seq, {} x {}{}{}, V {}, D {}, H {}",
        loaded.run.root.display(),
        c.num_layers,
        c.cell.name().to_uppercase(),
        if c.peeky { ", peeky" } else { "" },
        if loaded.config.layout.reverse_input { ", reversed input" } else { "" },
        c.vocab_size,
        c.embed_size,
        c.hidden_size
    );
    print_rows(&loaded.model.summary());
    Ok(())
}

fn print_rows(rows: &[LayerSummary]) {
    let width = rows.iter().map(|r| r.layer.len()).max().unwrap_or(5).max(16);
    let rule = "-".repeat(width + 58);
    println!("{:<width$} {:<28} {:>14} {:>12}", "layer", "tensor", "shape", "params");
    println!("{rule}");
    for row in rows {
        if row.tensors.is_empty() {
            println!("{:<width$} {:<28} {:>14} {:>12}", row.layer, "(no parameters)", "", 0);
            continue;
        }
        for (i, (name, shape)) in row.tensors.iter().enumerate() {
            let layer = if i == 0 { row.layer.as_str() } else { "" };
            let count: usize = shape.iter().product();
            println!("{layer:<width$} {name:<28} {:>14} {:>12}", format!("{shape:?}"), group(count));
        }
        println!("{:<width$} {:<28} {:>14} {:>12}", "", "", "layer total", group(row.params));
    }
    println!("{rule}");
    println!("Total params: {}", group(rows.iter().map(|r| r.params).sum()));
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
