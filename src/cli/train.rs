//! `recur train`: truncated-BPTT training of a language model into a run directory.

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use recur::data::{demo, ptb, Corpus, Tokenizer};
use recur::io::run_dir::{RunConfig, RunDir, TrainSettings, METRICS, MODEL, PLOT_STEM};
use recur::models::{LmConfig, SimpleRnnlm};
use recur::optim::Sgd;
use recur::plot::{write_chart, Chart, Series};
use recur::tensor::Rng;
use recur::train::{train_epoch, BpttBatcher, EpochStats};
use recur::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CorpusKind {
    /// The built-in demo text (no data, no network needed).
    Demo,
    /// Penn Treebank: ptb.train.txt in --data-dir.
    Ptb,
    /// A plain text file (--text), one sentence per line.
    Text,
}

/// Defaults are the book's chapter-5 experiment (SimpleRnnlm, train_custom_loop.py).
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Which corpus to train on.
    #[arg(long, value_enum, default_value = "demo")]
    corpus: CorpusKind,
    /// Folder holding ptb.train.txt (for --corpus ptb).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Text file to train on (for --corpus text).
    #[arg(long, value_name = "FILE")]
    text: Option<PathBuf>,
    /// Keep only the first N tokens of the corpus (0 = all; the book uses 1000 for PTB).
    #[arg(long, default_value_t = 0, value_name = "N")]
    corpus_size: usize,
    /// Sequences per batch (N).
    #[arg(long, default_value_t = 10)]
    batch_size: usize,
    /// Time steps per truncated-BPTT block (T).
    #[arg(long, default_value_t = 5)]
    time_size: usize,
    /// Word-vector width (D).
    #[arg(long, default_value_t = 100)]
    wordvec_size: usize,
    /// Hidden-state width (H).
    #[arg(long, default_value_t = 100)]
    hidden_size: usize,
    /// SGD learning rate.
    #[arg(long, default_value_t = 0.1)]
    lr: f64,
    /// Passes over the corpus.
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// Seed of the weight initialisation.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run directory to write (default: a new runs/run-NNN).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Start from the weights in this safetensors file (PyTorch names) instead of drawing them;
    /// e.g. `bench/numpy_ch05.py train --save-init FILE`, to follow the NumPy reference exactly.
    #[arg(long, value_name = "FILE")]
    init_from: Option<PathBuf>,
    /// Allow --out to name a directory that already holds a trained model (it is replaced).
    #[arg(long)]
    overwrite: bool,
}

pub fn run(args: TrainArgs) -> Result<()> {
    let (mut corpus, tokenizer, corpus_name) = load_corpus(&args)?;
    corpus.truncate(args.corpus_size)?;
    let mut batcher = BpttBatcher::new(corpus.ids.len(), args.batch_size, args.time_size)?;
    if args.epochs == 0 || args.hidden_size == 0 || args.wordvec_size == 0 {
        return Err(Error::msg("--epochs, --hidden-size and --wordvec-size must be at least 1"));
    }
    if !(args.lr.is_finite() && args.lr > 0.0) {
        return Err(Error::msg(format!("--lr must be a positive number (got {})", args.lr)));
    }

    let run = RunDir::create(&choose_out_dir(args.out.as_deref(), args.overwrite)?)?;
    let model_config = LmConfig::simple_rnnlm(corpus.vocab.len(), args.wordvec_size, args.hidden_size);
    let config = RunConfig {
        model: model_config.clone(),
        tokenizer,
        train: TrainSettings {
            corpus: corpus_name,
            corpus_size: corpus.ids.len(),
            batch_size: args.batch_size,
            time_size: args.time_size,
            lr: args.lr,
            epochs: args.epochs,
            seed: args.seed,
        },
    };
    // A run being replaced (--overwrite) loses its outputs before the new config is written, so
    // a failed new run never leaves the old weights beside a config they do not fit.
    for stale in [MODEL, METRICS, "perplexity.png", "perplexity.svg"] {
        let path = run.path(stale);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, "remove the replaced run's file", e))?;
        }
    }
    run.write_config(&config)?;
    run.write_vocab(&corpus.vocab)?;

    let mut rng = Rng::new(args.seed);
    let mut model: SimpleRnnlm<f32> = SimpleRnnlm::new(model_config, &mut rng);
    if let Some(path) = &args.init_from {
        let tensors = recur::io::checkpoint::load::<f32>(path)?;
        model
            .load_state_dict(tensors)
            .map_err(|m| Error::file(path, format!("{m}; expected weights for this corpus and sizes")))?;
    }
    let optimizer = Sgd::new(args.lr);
    let iters = batcher.iters_per_epoch(corpus.ids.len());
    let tokens_per_epoch = (iters * args.batch_size * args.time_size) as f64;
    println!(
        "training SimpleRnnlm (V {}, D {}, H {}) on {} tokens of {}: batch {} x {}, {} batches an epoch, lr {}",
        corpus.vocab.len(),
        args.wordvec_size,
        args.hidden_size,
        corpus.ids.len(),
        config.train.corpus,
        args.batch_size,
        args.time_size,
        iters,
        args.lr
    );

    let bar = ProgressBar::new((iters * args.epochs) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} batches  epoch {msg}  {per_sec}  eta {eta}")
            .expect("the progress template is valid"),
    );
    let mut history = Vec::with_capacity(args.epochs);
    let mut last_save = Instant::now();
    for epoch in 1..=args.epochs {
        bar.set_message(format!("{epoch}/{}", args.epochs));
        let start = Instant::now();
        let loss = train_epoch(&mut model, &corpus.ids, &mut batcher, &optimizer, &mut |_, _| bar.inc(1));
        let seconds = start.elapsed().as_secs_f64();
        let stats = EpochStats {
            epoch,
            train_ppl: loss.exp(),
            seconds,
            tokens_per_s: tokens_per_epoch / seconds,
            lr: args.lr,
        };
        if !stats.train_ppl.is_finite() {
            bar.abandon();
            return Err(Error::msg(format!(
                "epoch {epoch}: the training loss is not finite ({loss}); lower --lr (now {})",
                args.lr
            )));
        }
        let line = format!(
            "| epoch {epoch:3} | perplexity {:9.2} | {:.2} s | {:.0} tokens/s",
            stats.train_ppl, seconds, stats.tokens_per_s
        );
        // Without a terminal the bar is hidden and so would be its println.
        if bar.is_hidden() {
            println!("{line}");
        } else {
            bar.println(line);
        }
        history.push(stats);
        // Long runs are saved as they go; short ones only at the end (each save syncs to disk).
        if last_save.elapsed() > Duration::from_secs(30) {
            save(&run, &model, &history)?;
            last_save = Instant::now();
        }
    }
    bar.finish_and_clear();
    save(&run, &model, &history)?;
    let (png, svg) = write_plot(&run, &history)?;
    let last = history.last().expect("at least one epoch");
    println!("final perplexity {:.2} after {} epochs", last.train_ppl, last.epoch);
    println!(
        "wrote {} (model, config, vocab, metrics) and {}, {}",
        run.root.display(),
        png.display(),
        svg.display()
    );
    Ok(())
}

fn load_corpus(args: &TrainArgs) -> Result<(Corpus, Tokenizer, String)> {
    match args.corpus {
        CorpusKind::Demo => Ok((demo::demo_corpus(), Tokenizer::Text, "demo".into())),
        CorpusKind::Ptb => {
            let dir = args.data_dir.as_deref().ok_or_else(|| {
                Error::msg("--corpus ptb needs --data-dir DIR (the folder holding ptb.train.txt)")
            })?;
            Ok((ptb::load_train(dir)?, ptb::TOKENIZER, format!("ptb:{}", dir.display())))
        }
        CorpusKind::Text => {
            let path = args.text.as_deref().ok_or_else(|| Error::msg("--corpus text needs --text FILE"))?;
            Ok((Corpus::read(path, Tokenizer::Text)?, Tokenizer::Text, format!("text:{}", path.display())))
        }
    }
}

/// `--out` if given (refusing to replace a trained model unless `--overwrite`), else the first
/// free `runs/run-NNN`.
fn choose_out_dir(out: Option<&Path>, overwrite: bool) -> Result<PathBuf> {
    if let Some(dir) = out {
        let model = dir.join(recur::io::run_dir::MODEL);
        if model.exists() && !overwrite {
            return Err(Error::file(
                &model,
                "a trained model is already here; choose another --out or pass --overwrite",
            ));
        }
        return Ok(dir.to_path_buf());
    }
    (1..10_000)
        .map(|i| PathBuf::from(format!("runs/run-{i:03}")))
        .find(|p| !p.exists())
        .ok_or_else(|| Error::msg("runs/ holds 9999 runs already; pass --out DIR"))
}

fn save(run: &RunDir, model: &SimpleRnnlm<f32>, history: &[EpochStats]) -> Result<()> {
    run.save_tensors(&model.state_dict())?;
    run.write_metrics(history)
}

fn write_plot(run: &RunDir, history: &[EpochStats]) -> Result<(PathBuf, PathBuf)> {
    let train = Series {
        name: "train".into(),
        points: history.iter().map(|e| (e.epoch as f64, e.train_ppl)).collect(),
    };
    let chart = Chart {
        title: "Perplexity",
        x_label: "epoch",
        y_label: "perplexity",
        log_y: true,
        series: std::slice::from_ref(&train),
    };
    write_chart(&run.path(PLOT_STEM), &chart)
}
