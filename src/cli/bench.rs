//! `recur bench`: tokens per second of the training step (forward + backward + SGD update).
//! The side-by-side comparison with the NumPy reference is `python3 bench/compare.py`, which runs
//! this command and the reference in one process launch order on the same machine.

use clap::{Args, ValueEnum};
use recur::layers::CellKind;
use recur::models::{Lm, LmConfig};
use recur::optim::{Optimizer, OptimizerKind};
use recur::tensor::Rng;
use recur::train::{train_epoch, BpttBatcher};
use recur::{Error, Result};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchModel {
    /// The book's chapter-5 SimpleRnnlm: V 418, D = H = 100, batch 10 x 5, no clipping.
    Ch05,
    /// The book's chapter-6 Rnnlm: LSTM 100, V 10,000, batch 20 x 35, clip 0.25.
    Ch06,
    /// Zaremba's small model: 2 x LSTM 200, V 10,000, batch 20 x 20, clip 0.25.
    Small,
    /// 2 x LSTM 650, tied, V 10,000, batch 20 x 35, clip 0.25 (dropout off: the products are the cost).
    Medium,
    /// `medium` with GRU cells.
    GruMedium,
}

/// (config, batch, time, clip) of a benchmark model.
fn setup(model: BenchModel) -> (LmConfig, usize, usize, Option<f64>) {
    let lm = |cell, v, width, layers, tied| LmConfig {
        num_layers: layers,
        tie_weights: tied,
        cell,
        ..LmConfig::simple_rnnlm(v, width, width)
    };
    match model {
        BenchModel::Ch05 => (lm(CellKind::Rnn, 418, 100, 1, false), 10, 5, None),
        BenchModel::Ch06 => (lm(CellKind::Lstm, 10_000, 100, 1, false), 20, 35, Some(0.25)),
        BenchModel::Small => (lm(CellKind::Lstm, 10_000, 200, 2, false), 20, 20, Some(0.25)),
        BenchModel::Medium => (lm(CellKind::Lstm, 10_000, 650, 2, true), 20, 35, Some(0.25)),
        BenchModel::GruMedium => (lm(CellKind::Gru, 10_000, 650, 2, true), 20, 35, Some(0.25)),
    }
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[arg(value_enum, default_value = "ch05")]
    model: BenchModel,
    /// Timed runs; the median is reported.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Length of each timed run.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Print one JSON line instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchArgs) -> Result<()> {
    if args.repeats == 0 || args.seconds.is_nan() || args.seconds <= 0.0 {
        return Err(Error::msg("--repeats and --seconds must be positive"));
    }
    let (config, batch, time, clip) = setup(args.model);
    let (vocab, width) = (config.vocab_size, config.hidden_size);
    let name = args.model.to_possible_value().expect("listed").get_name().to_string();
    // A synthetic corpus: speed does not depend on which words are read, only on the sizes.
    // The book's 1000 words for ch05; 10 batches for the others.
    let corpus_len = if args.model == BenchModel::Ch05 { 1000 } else { 10 * batch * time + 1 };
    let mut rng = Rng::new(1);
    let corpus: Vec<u32> = (0..corpus_len).map(|_| rng.below(vocab) as u32).collect();
    let layers = config.num_layers;
    let cell = config.cell;
    let mut model: Lm<f32> = Lm::new(config, &mut rng);
    let mut batcher = BpttBatcher::new(corpus.len(), batch, time)?;
    let mut sgd = Optimizer::new(OptimizerKind::Sgd, 0.1, 0.0);
    let tokens_per_epoch = batcher.iters_per_epoch(corpus.len()) * batch * time;

    let mut timed_run = |budget: Duration| {
        let start = Instant::now();
        let mut tokens = 0;
        while start.elapsed() < budget {
            train_epoch(&mut model, &corpus, &mut batcher, &mut sgd, clip, &mut |_, _| {});
            tokens += tokens_per_epoch;
        }
        tokens as f64 / start.elapsed().as_secs_f64()
    };
    timed_run(Duration::from_secs_f64(1.0)); // warm-up: caches, buffers, the thread pool
    let mut runs: Vec<f64> =
        (0..args.repeats).map(|_| timed_run(Duration::from_secs_f64(args.seconds))).collect();
    let reported = runs.clone();
    runs.sort_by(f64::total_cmp);
    let median = runs[runs.len() / 2];
    if args.json {
        println!(
            "{}",
            serde_json::json!({"impl": "recur", "model": name, "tokens_per_s": median, "runs": reported,
                "vocab": vocab, "batch": batch, "time": time, "hidden": width, "layers": layers,
                "cell": cell.name()})
        );
    } else {
        println!(
            "{name} ({layers} x {cell} {width}, V {vocab}, batch {batch} x {time}): {median:.0} tokens/s (median of {})",
            args.repeats
        );
    }
    Ok(())
}
