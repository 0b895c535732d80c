//! `recur bench`: tokens per second of the training step (forward + backward + SGD update).
//! The side-by-side comparison with the NumPy reference is `python3 bench/compare.py`, which runs
//! this command and the reference in one process launch order on the same machine.

use clap::{Args, ValueEnum};
use recur::models::{LmConfig, SimpleRnnlm};
use recur::optim::Sgd;
use recur::tensor::Rng;
use recur::train::{train_epoch, BpttBatcher};
use recur::{Error, Result};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchModel {
    /// The book's chapter-5 SimpleRnnlm: V 418, D = H = 100, batch 10 x 5.
    Ch05,
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
    let BenchModel::Ch05 = args.model;
    let (vocab, batch, time, width, corpus_len) = (418, 10, 5, 100, 1000);
    // A synthetic corpus: speed does not depend on which words are read, only on the sizes.
    let mut rng = Rng::new(1);
    let corpus: Vec<u32> = (0..corpus_len).map(|_| rng.below(vocab) as u32).collect();
    let mut model: SimpleRnnlm<f32> = SimpleRnnlm::new(LmConfig::simple_rnnlm(vocab, width, width), &mut rng);
    let mut batcher = BpttBatcher::new(corpus.len(), batch, time)?;
    let sgd = Sgd::new(0.1);
    let tokens_per_epoch = batcher.iters_per_epoch(corpus.len()) * batch * time;

    let mut timed_run = |budget: Duration| {
        let start = Instant::now();
        let mut tokens = 0;
        while start.elapsed() < budget {
            train_epoch(&mut model, &corpus, &mut batcher, &sgd, &mut |_, _| {});
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
            serde_json::json!({"impl": "recur", "model": "ch05", "tokens_per_s": median, "runs": reported,
                "vocab": vocab, "batch": batch, "time": time, "hidden": width})
        );
    } else {
        println!(
            "ch05 (V {vocab}, D = H = {width}, batch {batch} x {time}): {median:.0} tokens/s (median of {})",
            args.repeats
        );
    }
    Ok(())
}
