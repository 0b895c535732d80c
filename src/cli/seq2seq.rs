//! `recur seq2seq train|eval`: the book's chapter-7 encoder-decoder on `input<TAB>output` pairs
//! (or the built-in addition task), character by character.
//!
//! Training: shuffle the pairs with the seed, hold out `--valid-share` of them, then per epoch
//! shuffle the rest into batches, teacher-force the decoder, clip, step; after each epoch decode
//! the held-out inputs greedily (until `<eos>` or T_out + 1 symbols) and count exact matches.
//!
//! Run directory: `config.json` (model, layout, data and training settings), `vocab.json` (the
//! symbols as a JSON list: characters may be spaces), `model.safetensors` (the last epoch's
//! weights, rewritten after every epoch), `metrics.jsonl` (one object per epoch),
//! `accuracy.png` / `accuracy.svg`.

use clap::{Args, Subcommand};
use recur::data::pairs::{self, CharVocab, Layout, Padding, Pair};
use recur::io::checkpoint;
use recur::io::run_dir::{RunDir, MODEL};
use recur::io::{read_text, write_atomic};
use recur::layers::CellKind;
use recur::models::{Seq2seq, Seq2seqConfig};
use recur::optim::{Optimizer, OptimizerKind};
use recur::plot::{write_chart, Chart, Series};
use recur::tensor::Rng;
use recur::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;

const CONFIG: &str = "config.json";
const VOCAB: &str = "vocab.json";
const METRICS: &str = "metrics.jsonl";
const PLOT_STEM: &str = "accuracy";
/// `config.json`'s `task`, which tells a seq2seq run from a language model's.
const TASK: &str = "seq2seq";

#[derive(Subcommand, Debug)]
pub enum Seq2seqCommand {
    /// Train an encoder-decoder on `input<TAB>output` lines or the built-in addition task.
    Train(Box<TrainArgs>),
    /// Exact-match accuracy of a trained encoder-decoder (default: on its own held-out pairs).
    Eval(EvalArgs),
}

pub fn run(cmd: Seq2seqCommand) -> Result<()> {
    match cmd {
        Seq2seqCommand::Train(args) => train(*args),
        Seq2seqCommand::Eval(args) => eval(args),
    }
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("data").required(true).args(["addition", "tsv"])))]
pub struct TrainArgs {
    /// Generate the book's addition task (`a+b` -> sum, a and b in 0..999; no data needed).
    #[arg(long)]
    addition: bool,
    /// Distinct questions to generate with --addition (the book: 50000).
    #[arg(long, default_value_t = 50_000, requires = "addition")]
    examples: usize,
    /// Read `input<TAB>output` lines from this file.
    #[arg(long, value_name = "FILE")]
    tsv: Option<PathBuf>,
    /// Feed the input to the encoder backwards (the book's "reversed input").
    #[arg(long)]
    reverse_input: bool,
    /// Give the encoder's state to every decoder step (the book's "peeky" decoder).
    #[arg(long)]
    peeky: bool,
    /// Recurrent cell of the encoder and the decoder.
    #[arg(long, value_enum, default_value = "lstm")]
    cell: CellKind,
    /// Embedding width (D).
    #[arg(long, default_value_t = 16)]
    wordvec_size: usize,
    /// Hidden-state width (H).
    #[arg(long, default_value_t = 128)]
    hidden_size: usize,
    /// Pairs per batch (N).
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Passes over the training pairs.
    #[arg(long, default_value_t = 25)]
    epochs: usize,
    #[arg(long, value_enum, default_value = "adam")]
    optimizer: OptimizerKind,
    /// Learning rate.
    #[arg(long, default_value_t = 0.001)]
    lr: f64,
    /// Clip the global gradient norm to this (0 = no clipping).
    #[arg(long, default_value_t = 5.0)]
    clip: f64,
    /// Share of the pairs held out to measure accuracy after every epoch.
    #[arg(long, default_value_t = 0.1)]
    valid_share: f64,
    /// Held-out examples printed with their decodings after every epoch.
    #[arg(long, default_value_t = 3)]
    show: usize,
    /// Seed of the data (generation, split, batch order) and of the weights.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run directory to write (default: a new runs/seq2seq-NNN).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Allow --out to name a directory that already holds a trained model (it is replaced).
    #[arg(long)]
    overwrite: bool,
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

/// Where the pairs came from (enough to remake the held-out split).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
enum DataSource {
    Addition { examples: usize },
    Tsv { path: PathBuf },
}

/// How the model was trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Settings {
    data: DataSource,
    train_examples: usize,
    valid_examples: usize,
    valid_share: f64,
    batch_size: usize,
    epochs: usize,
    optimizer: OptimizerKind,
    lr: f64,
    clip: Option<f64>,
    seed: u64,
}

/// `config.json` of a seq2seq run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RunConfig {
    task: String,
    model: Seq2seqConfig,
    layout: Layout,
    train: Settings,
}

/// One line of `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct EpochStats {
    epoch: usize,
    train_loss: f64,
    valid_accuracy: f64,
    valid_correct: usize,
    valid_examples: usize,
    seconds: f64,
    examples_per_s: f64,
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

fn train(args: TrainArgs) -> Result<()> {
    if args.epochs == 0 || args.batch_size == 0 || args.hidden_size == 0 || args.wordvec_size == 0 {
        return Err(Error::msg(
            "--epochs, --batch-size, --hidden-size and --wordvec-size must be at least 1",
        ));
    }
    if !(args.lr.is_finite() && args.lr > 0.0) {
        return Err(Error::msg(format!("--lr must be a positive number (got {})", args.lr)));
    }
    if !(args.clip.is_finite() && args.clip >= 0.0) {
        return Err(Error::msg(format!("--clip must be 0 (off) or a positive number (got {})", args.clip)));
    }
    if !(args.valid_share > 0.0 && args.valid_share < 1.0) {
        return Err(Error::msg(format!("--valid-share must be between 0 and 1 (got {})", args.valid_share)));
    }
    let source = match &args.tsv {
        Some(path) => DataSource::Tsv { path: path.clone() },
        None => DataSource::Addition { examples: args.examples },
    };
    let mut rng = Rng::new(args.seed);
    let (train_pairs, valid_pairs) = load_pairs(&source, args.valid_share, &mut rng)?;
    let all: Vec<Pair> = train_pairs.iter().chain(&valid_pairs).cloned().collect();
    let vocab = CharVocab::from_pairs(&all);
    let (max_input_len, max_output_len) = pairs::max_lengths(&all);
    let layout = Layout { max_input_len, max_output_len, reverse_input: args.reverse_input };
    let model_config = Seq2seqConfig {
        cell: args.cell,
        vocab_size: vocab.len(),
        embed_size: args.wordvec_size,
        hidden_size: args.hidden_size,
        peeky: args.peeky,
    };
    let settings = Settings {
        data: source,
        train_examples: train_pairs.len(),
        valid_examples: valid_pairs.len(),
        valid_share: args.valid_share,
        batch_size: args.batch_size,
        epochs: args.epochs,
        optimizer: args.optimizer,
        lr: args.lr,
        clip: (args.clip > 0.0).then_some(args.clip),
        seed: args.seed,
    };
    let config =
        RunConfig { task: TASK.into(), model: model_config.clone(), layout, train: settings.clone() };

    let run = RunDir::create(&super::choose_out_dir(args.out.as_deref(), args.overwrite, "seq2seq")?)?;
    // A run being replaced (--overwrite) loses its outputs before the new config is written, so
    // a failed new run never leaves the old weights beside a config they do not fit.
    for stale in [MODEL, METRICS, "accuracy.png", "accuracy.svg"] {
        let path = run.path(stale);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, "remove the replaced run's file", e))?;
        }
    }
    write_atomic(
        &run.path(CONFIG),
        (serde_json::to_string_pretty(&config).expect("serialises") + "\n").as_bytes(),
    )?;
    let symbols = serde_json::to_string(vocab.symbols()).expect("serialises") + "\n";
    write_atomic(&run.path(VOCAB), symbols.as_bytes())?;

    let mut model: Seq2seq<f32> = Seq2seq::new(model_config.clone(), &mut rng);
    let mut optimizer = Optimizer::<f32>::new(settings.optimizer, settings.lr, 0.9);
    println!(
        "training seq2seq {}{}{} (V {}, D {}, H {}, {} parameters) on {} pairs, {} held out; \
         input up to {} symbols, output up to {}",
        model_config.cell.name().to_uppercase(),
        if args.peeky { ", peeky" } else { "" },
        if args.reverse_input { ", reversed input" } else { "" },
        model_config.vocab_size,
        model_config.embed_size,
        model_config.hidden_size,
        model.params.num_elements(),
        train_pairs.len(),
        valid_pairs.len(),
        max_input_len,
        max_output_len,
    );
    let mut history: Vec<EpochStats> = Vec::new();
    let mut order: Vec<usize> = (0..train_pairs.len()).collect();
    for epoch in 1..=settings.epochs {
        let start = Instant::now();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let (mut loss_sum, mut batches) = (0.0f64, 0usize);
        for chunk in order.chunks(settings.batch_size) {
            let batch: Vec<&Pair> = chunk.iter().map(|&i| &train_pairs[i]).collect();
            let batch = layout.encode_batch(&vocab, &batch).map_err(Error::msg)?;
            let loss = model.forward(batch.inputs.view(), batch.decoder_inputs.view(), batch.targets.view());
            model.params.zero_grad();
            model.backward();
            optimizer.clipped_step(&mut model.params, settings.clip);
            loss_sum += loss as f64;
            batches += 1;
        }
        let train_loss = loss_sum / batches as f64;
        if !train_loss.is_finite() {
            return Err(Error::msg(format!(
                "epoch {epoch}: the training loss is not finite; lower --lr (now {}) or set --clip",
                settings.lr
            )));
        }
        let train_seconds = start.elapsed().as_secs_f64();
        let decoded = decode_all(&mut model, &vocab, &layout, &valid_pairs, 500).map_err(Error::msg)?;
        let correct = decoded.iter().zip(&valid_pairs).filter(|(d, p)| **d == p.output).count();
        let stats = EpochStats {
            epoch,
            train_loss,
            valid_accuracy: correct as f64 / valid_pairs.len() as f64,
            valid_correct: correct,
            valid_examples: valid_pairs.len(),
            seconds: start.elapsed().as_secs_f64(),
            examples_per_s: train_pairs.len() as f64 / train_seconds,
        };
        println!(
            "| epoch {epoch:3} | train loss {train_loss:.4} | held-out accuracy {:.4} ({correct}/{}) | {:.1} s | {:.0} pairs/s",
            stats.valid_accuracy,
            valid_pairs.len(),
            stats.seconds,
            stats.examples_per_s
        );
        print_examples(&valid_pairs, &decoded, args.show);
        history.push(stats);
        // Small models: saving every epoch is cheap, and a stopped run keeps its latest weights.
        checkpoint::save(&run.path(MODEL), &model.state_dict())?;
        write_metrics(&run, &history)?;
    }
    let series = [Series {
        name: "held-out exact match".into(),
        points: history.iter().map(|e| (e.epoch as f64, e.valid_accuracy)).collect(),
    }];
    let chart =
        Chart { title: "Accuracy", x_label: "epoch", y_label: "accuracy", log_y: false, series: &series };
    let (png, svg) = write_chart(&run.path(PLOT_STEM), &chart)?;
    let last = history.last().expect("at least one epoch");
    println!("held-out accuracy {:.4} after {} epochs", last.valid_accuracy, last.epoch);
    println!(
        "wrote {} (model, config, vocab, metrics) and {}, {}",
        run.root.display(),
        png.display(),
        svg.display()
    );
    Ok(())
}

fn eval(args: EvalArgs) -> Result<()> {
    if args.batch_size == 0 {
        return Err(Error::msg("--batch-size must be at least 1"));
    }
    let run = RunDir::open(&args.model)?;
    let config_path = run.path(CONFIG);
    let config: RunConfig = serde_json::from_str(&read_text(&config_path)?).map_err(|e| {
        Error::line(
            &config_path,
            e.line(),
            format!("{e}; expected the config.json written by `recur seq2seq train`"),
        )
    })?;
    if config.task != TASK {
        return Err(Error::file(&config_path, format!("task is {:?}; expected \"{TASK}\"", config.task)));
    }
    config.model.check().map_err(|m| Error::file(&config_path, m))?;
    let vocab_path = run.path(VOCAB);
    let symbols: Vec<String> = serde_json::from_str(&read_text(&vocab_path)?)
        .map_err(|e| Error::line(&vocab_path, e.line(), format!("{e}; expected a JSON list of symbols")))?;
    let vocab = CharVocab::from_symbols(symbols).map_err(|m| Error::file(&vocab_path, m))?;
    if vocab.len() != config.model.vocab_size {
        return Err(Error::file(
            &vocab_path,
            format!("has {} symbols but {CONFIG} says vocab_size {}", vocab.len(), config.model.vocab_size),
        ));
    }
    let mut model: Seq2seq<f32> = Seq2seq::new(config.model.clone(), &mut Rng::new(0));
    let tensors = checkpoint::load::<f32>(&run.path(MODEL))?;
    model
        .load_state_dict(tensors)
        .map_err(|m| Error::file(&run.path(MODEL), format!("{m}; the file does not match {CONFIG}")))?;

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
    print_examples(&pairs, &decoded, args.show);
    println!("{} pairs of {name}", pairs.len());
    println!("accuracy: {:.4} ({correct}/{})", correct as f64 / pairs.len() as f64, pairs.len());
    Ok(())
}

/// Greedy decodings of every pair's input, as strings (special symbols by name).
fn decode_all(
    model: &mut Seq2seq<f32>,
    vocab: &CharVocab,
    layout: &Layout,
    pairs: &[Pair],
    batch_size: usize,
) -> std::result::Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch_size) {
        let inputs = layout.encode_inputs(vocab, chunk.iter().map(|p| p.input.as_str()))?;
        let ids = model.greedy(inputs.view(), CharVocab::GO, CharVocab::EOS, layout.max_output_len + 1);
        out.extend(ids.iter().map(|ids| vocab.decode(ids)));
    }
    Ok(out)
}

fn print_examples(pairs: &[Pair], decoded: &[String], count: usize) {
    for (pair, got) in pairs.iter().zip(decoded).take(count) {
        if *got == pair.output {
            println!("    ok    {:?} -> {got:?}", pair.input);
        } else {
            println!("    wrong {:?} -> {got:?} (expected {:?})", pair.input, pair.output);
        }
    }
}

fn write_metrics(run: &RunDir, history: &[EpochStats]) -> Result<()> {
    let text: String =
        history.iter().map(|e| serde_json::to_string(e).expect("EpochStats serialises") + "\n").collect();
    write_atomic(&run.path(METRICS), text.as_bytes())
}
