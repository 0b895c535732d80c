//! The benchmark harness behind `recur bench`: the training step (forward + backward + clip +
//! update) of the benchmark models timed through the library's own engine, one batch a step,
//! and (`gemm.rs`) the GEMM rate of the machine. It measures and returns; the command prints.
//!
//!
//! FLOP counts are of the matrix products only, at 2 M N K per (M x K) (K x N) product. The
//! backward pass of a product `Y = X W` forms `dX = dY W^T` and `dW = X^T dY`, two products of
//! the forward's size, so forward + backward = 3 x the forward's products. Element-wise work
//! (gates, softmax, the embedding's scatter, the optimizer) is not counted.

#![warn(missing_docs)]

pub mod gemm;

use crate::layers::CellKind;
use crate::models::{Classifier, ClassifierConfig, Lm, LmConfig, Pool};
use crate::optim::{LrRule, Optimizer, OptimizerKind};
use crate::tasks::classify::{ClassifyTask, Labelled, Order};
use crate::tasks::LmTask;
use crate::tensor::{Real, Rng};
use crate::train::{BpttBatcher, Observer, OnNan, Outcome, Settings, Task, TrainState, Trainer};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A benchmark `recur bench` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
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
    /// The character model of PTB: embedding 128, 2 x LSTM 512, V 51, batch 32 x 100, Adam
    /// lr 0.002, clip 5.
    Char,
    /// Text classifier: embedding 100 + LSTM 128, final state -> sigmoid, V 10,000, padded
    /// batches of 64 texts of 1 to 100 words, Adam (lr 0.005), clip 5.
    Classify,
    /// One large f32 product (2048^3) and the medium model's own shapes through recur's matmul (the per-step ones also through the packed W_hh)
    Gemm,
}

/// The language-model benchmarks: (config, batch, time, clip). Plain SGD, lr 0.1, except
/// `char` (see [`lm_optimizer`]).
fn lm_setup(model: BenchModel) -> (LmConfig, usize, usize, Option<f64>) {
    let lm = |cell, v, width, layers, tied| LmConfig {
        num_layers: layers,
        tie_weights: tied,
        cell,
        ..LmConfig::simple_rnnlm(v, width, width)
    };
    match model {
        BenchModel::Char => {
            (LmConfig { embed_size: 128, ..lm(CellKind::Lstm, 51, 512, 2, false) }, 32, 100, Some(5.0))
        }
        BenchModel::Ch05 => (lm(CellKind::Rnn, 418, 100, 1, false), 10, 5, None),
        BenchModel::Ch06 => (lm(CellKind::Lstm, 10_000, 100, 1, false), 20, 35, Some(0.25)),
        BenchModel::Small => (lm(CellKind::Lstm, 10_000, 200, 2, false), 20, 20, Some(0.25)),
        BenchModel::Medium => (lm(CellKind::Lstm, 10_000, 650, 2, true), 20, 35, Some(0.25)),
        BenchModel::GruMedium => (lm(CellKind::Gru, 10_000, 650, 2, true), 20, 35, Some(0.25)),
        BenchModel::Classify | BenchModel::Gemm => unreachable!("not a language model"),
    }
}

/// The optimizer a language-model benchmark trains with: the character model's recipe is Adam
/// lr 0.002 (the PyTorch twin uses `torch.optim.Adam`), the word models' plain SGD lr 0.1.
fn lm_optimizer(model: BenchModel) -> (OptimizerKind, f64) {
    match model {
        BenchModel::Char => (OptimizerKind::Adam, 0.002),
        _ => (OptimizerKind::Sgd, 0.1),
    }
}

/// The classifier benchmark's sizes (the PyTorch twin in bench/pytorch/models.py uses the same).
const CLS_VOCAB: usize = 10_000;
const CLS_EMBED: usize = 100;
const CLS_HIDDEN: usize = 128;
const CLS_BATCH: usize = 64;
const CLS_MAX_LEN: usize = 100;
/// Batches in the synthetic data set, cycled through.
const CLS_BATCHES: usize = 10;
const CLS_LR: f64 = 0.005;
const CLS_CLIP: f64 = 5.0;

/// Weight-matrix columns per hidden unit: the gates of a cell.
fn gates(cell: CellKind) -> usize {
    match cell {
        CellKind::Rnn => 1,
        CellKind::Lstm => 4,
        CellKind::Gru => 3,
    }
}

/// FLOPs per token of a language model's forward + backward:
/// 3 x [ sum over layers l of 2 G H (I_l + H)  +  2 H V ]
/// with G the gates (RNN 1, GRU 3, LSTM 4), I_0 = D and I_l = H above, V the vocabulary: per
/// token each layer multiplies its input (I_l) and its previous state (H) into G H gate inputs,
/// and the decoder multiplies H into V scores. The embedding is a lookup (no products); its
/// gradient is a scatter of the first layer's input gradient (which the 3 x does count).
pub fn lm_flops_per_token(config: &LmConfig) -> f64 {
    let (g, d, h, v) = (gates(config.cell), config.embed_size, config.hidden_size, config.vocab_size);
    let layers: usize = (0..config.num_layers).map(|l| 2 * g * h * (if l == 0 { d } else { h } + h)).sum();
    3.0 * (layers + 2 * h * v) as f64
}

/// FLOPs of one classifier batch's forward + backward, counting real words only (not padding):
/// 3 x [ words x 2 G H (D + H)  +  texts x 2 H O ], O = 1 output (sigmoid head).
fn classifier_flops(words: usize, texts: usize) -> f64 {
    let g = gates(CellKind::Lstm);
    3.0 * (words * 2 * g * CLS_HIDDEN * (CLS_EMBED + CLS_HIDDEN) + texts * 2 * CLS_HIDDEN) as f64
}

/// How long to time: untimed `warmup` seconds (at least one step), then `repeats` runs of
/// `seconds` each.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Untimed seconds first: caches, buffers, the thread pool.
    pub warmup: f64,
    /// Timed runs; a benchmark reports their median.
    pub repeats: usize,
    /// The length of each timed run.
    pub seconds: f64,
}

/// A line of /proc/self/status in MiB (`VmHWM`: peak resident set, `VmRSS`: resident now).
pub fn status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Calls `step` (one training step, returning the tokens it trained on) for `timing.warmup` s,
/// then for `timing.repeats` runs of `timing.seconds` each; returns each run's tokens per second. A run
/// ends at the first step boundary past its budget, so every run holds at least one step.
pub fn time_steps(timing: &Timing, step: &mut dyn FnMut() -> usize) -> Vec<f64> {
    let mut run = |budget: f64| {
        let start = Instant::now();
        let mut tokens = 0;
        loop {
            tokens += step();
            let elapsed = start.elapsed().as_secs_f64();
            if elapsed >= budget {
                return tokens as f64 / elapsed;
            }
        }
    };
    if timing.warmup > 0.0 {
        run(timing.warmup);
    }
    (0..timing.repeats).map(|_| run(timing.seconds)).collect()
}

/// The median of `runs` (the mean of the middle two for an even count).
pub fn median(runs: &[f64]) -> f64 {
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// What a model's benchmark measured.
pub struct Measured {
    /// Tokens per second of each timed run.
    pub runs: Vec<f64>,
    /// Multiply-add FLOPs of a token's forward + backward (products only).
    pub flops_per_token: f64,
    /// The model in words, for the text line.
    pub label: String,
    /// The model's sizes, for the JSON line.
    pub extra: serde_json::Value,
}

/// Times the training step of `model` (not `Gemm`, which is [`gemm::shape_rates`]).
pub fn measure(model: BenchModel, timing: &Timing) -> Measured {
    match model {
        BenchModel::Gemm => unreachable!("the GEMM is measured by gemm::shape_rates"),
        BenchModel::Classify => classify(timing),
        _ => language_model(model, timing),
    }
}

fn language_model(model: BenchModel, timing: &Timing) -> Measured {
    let (config, batch, time, clip) = lm_setup(model);
    let (optimizer, lr) = lm_optimizer(model);
    let flops_per_token = lm_flops_per_token(&config);
    let (vocab, embed, width, layers, cell, tied) = (
        config.vocab_size,
        config.embed_size,
        config.hidden_size,
        config.num_layers,
        config.cell,
        config.tie_weights,
    );
    // A synthetic corpus: speed does not depend on which words are read, only on the sizes.
    // The book's 1000 words for ch05; 10 batches for the others.
    let corpus_len = if model == BenchModel::Ch05 { 1000 } else { 10 * batch * time + 1 };
    let mut rng = Rng::new(1);
    let corpus: Vec<u32> = (0..corpus_len).map(|_| rng.below(vocab) as u32).collect();
    let mut model: Lm<f32> = Lm::new(config, &mut rng);
    let mut batcher = BpttBatcher::new(corpus.len(), batch, time).expect("the corpus fills a batch");
    let mut task = LmTask::new(&mut model, &corpus, &mut batcher);
    let mut step = one_batch_steps(&mut task, Optimizer::new(optimizer, lr, 0.0), clip);
    let mut step = || {
        step();
        batch * time
    };
    let runs = time_steps(timing, &mut step);
    let tied_label = if tied { ", tied" } else { "" };
    Measured {
        runs,
        flops_per_token,
        label: format!(
            "{layers} x {cell} {width}{tied_label}, D {embed}, V {vocab}, batch {batch} x {time}, {optimizer} lr {lr}",
            cell = cell.name(),
            optimizer = optimizer.name(),
        ),
        extra: json!({"vocab": vocab, "batch": batch, "time": time, "embed": embed, "hidden": width,
            "layers": layers, "cell": cell.name(), "tied": tied, "clip": clip,
            "optimizer": optimizer.name(), "lr": lr, "tokens_per_step": batch * time}),
    }
}

/// SplitMix64 of `x`: the lengths and labels of the classifier's synthetic texts, so that the
/// PyTorch twin (bench/pytorch/models.py) draws exactly the same ones.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The classifier benchmark's texts: text i has `1 + splitmix64(2i) % 100` words and label
/// `splitmix64(2i + 1) % 2`; the words are uniform over ids 1..V (0 is `<unk>`).
pub fn classifier_texts(count: usize, rng: &mut Rng) -> Labelled {
    let (mut seqs, mut labels) = (Vec::new(), Vec::new());
    for i in 0..count as u64 {
        let len = 1 + (splitmix64(2 * i) % CLS_MAX_LEN as u64) as usize;
        seqs.push((0..len).map(|_| 1 + rng.below(CLS_VOCAB - 1) as u32).collect());
        labels.push((splitmix64(2 * i + 1) % 2) as u32);
    }
    Labelled { seqs, labels }
}

fn classify(timing: &Timing) -> Measured {
    let config = ClassifierConfig {
        cell: CellKind::Lstm,
        vocab_size: CLS_VOCAB,
        embed_size: CLS_EMBED,
        hidden_size: CLS_HIDDEN,
        num_layers: 1,
        bidirectional: false,
        embed_dropout: 0.0,
        dropout: 0.0,
        num_classes: 2,
        pool: Pool::Last,
    };
    let mut rng = Rng::new(1);
    let texts = classifier_texts(CLS_BATCHES * CLS_BATCH, &mut rng);
    let batches = || texts.seqs.chunks(CLS_BATCH);
    let words: Vec<usize> = batches().map(|b| b.iter().map(Vec::len).sum()).collect();
    let padded: usize = batches().map(|b| b.len() * b.iter().map(Vec::len).max().unwrap_or(0)).sum();
    let total_words: usize = words.iter().sum();
    let flops_per_token = classifier_flops(total_words, texts.len()) / total_words as f64;
    let mut model: Classifier<f32> = Classifier::new(config, &mut rng);
    let adam = Optimizer::new(OptimizerKind::Adam, CLS_LR, 0.0);
    // One step = one batch of 64 texts through the engine, as `recur classify train` trains:
    // pad to the longest, forward, backward, clip, Adam. The texts in their given order, so
    // step k trains batch k % 10, the same 64 texts as the PyTorch twin's.
    let mut task = ClassifyTask::new(&mut model, &texts, CLS_BATCH, rng).order(Order::AsGiven);
    let mut train_one = one_batch_steps(&mut task, adam, Some(CLS_CLIP));
    let mut k = 0;
    let mut step = || {
        train_one();
        k += 1;
        words[(k - 1) % CLS_BATCHES]
    };
    let runs = time_steps(timing, &mut step);
    Measured {
        runs,
        flops_per_token,
        label: format!(
            "embedding {CLS_EMBED} + LSTM {CLS_HIDDEN}, V {CLS_VOCAB}, batches of {CLS_BATCH} texts of 1-{CLS_MAX_LEN} words; tokens = real words"
        ),
        extra: json!({"vocab": CLS_VOCAB, "embed": CLS_EMBED, "hidden": CLS_HIDDEN, "batch": CLS_BATCH,
            "max_len": CLS_MAX_LEN, "cell": "lstm", "optimizer": "adam", "lr": CLS_LR, "clip": CLS_CLIP,
            "words_per_step": total_words as f64 / CLS_BATCHES as f64,
            "padded_share": 1.0 - total_words as f64 / padded as f64}),
    }
}

/// A step function that trains one batch of `task` through the engine each call: the stop flag,
/// set after every batch, ends each `fit` there, and the next call goes on from the state.
fn one_batch_steps<'t, F: Real>(
    task: &'t mut dyn Task<F>,
    optimizer: Optimizer<F>,
    clip: Option<f64>,
) -> impl FnMut() + 't {
    struct StopAfterEach<'s>(&'s AtomicBool);
    impl Observer for StopAfterEach<'_> {
        fn batch_done(&mut self, _: usize, _: usize, _: f64, _: Option<f64>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let settings = Settings {
        epochs: usize::MAX,
        lr: optimizer.lr(),
        lr_rule: LrRule::CONSTANT,
        clip,
        weight_decay: 0.0,
        patience: 0,
        on_nan: OnNan::Ignore,
    };
    let mut state = TrainState::new(optimizer);
    let stop = AtomicBool::new(false);
    move || {
        stop.store(false, Ordering::SeqCst);
        let mut observer = StopAfterEach(&stop);
        let mut trainer =
            Trainer { settings: &settings, run: None, stop: Some(&stop), observer: &mut observer };
        let outcome = trainer.fit(&mut *task, &mut state).expect("no files are written");
        assert!(matches!(outcome, Outcome::Interrupted { .. }), "a benchmark step ends at its stop flag");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flop_counts() {
        // medium: 3 x [2 x 2 x 4 x 650 x 1300 + 2 x 650 x 10,000] = 79.56 MFLOP per token
        let (medium, ..) = lm_setup(BenchModel::Medium);
        assert_eq!(lm_flops_per_token(&medium), 79_560_000.0);
        // GRU: 3 gates instead of 4
        let (gru, ..) = lm_setup(BenchModel::GruMedium);
        assert_eq!(
            lm_flops_per_token(&gru),
            3.0 * (2.0 * 2.0 * 3.0 * 650.0 * 1300.0 + 2.0 * 650.0 * 10_000.0)
        );
        // ch05: 3 x [2 x 100 x 200 + 2 x 100 x 418]
        let (ch05, ..) = lm_setup(BenchModel::Ch05);
        assert_eq!(lm_flops_per_token(&ch05), 3.0 * (40_000.0 + 83_600.0));
        assert_eq!(classifier_flops(10, 2), 3.0 * (10.0 * 2.0 * 512.0 * 228.0 + 2.0 * 2.0 * 128.0));
    }

    #[test]
    fn classifier_texts_are_fixed() {
        // The PyTorch twin computes the same lengths and labels (bench/pytorch/models.py).
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        let texts = classifier_texts(640, &mut Rng::new(1));
        assert!(texts.seqs.iter().all(|s| (1..=CLS_MAX_LEN).contains(&s.len())));
        assert!(texts.seqs.iter().flatten().all(|&w| w >= 1 && (w as usize) < CLS_VOCAB));
        let words: usize = texts.seqs.iter().map(Vec::len).sum();
        assert!((25_000..40_000).contains(&words), "{words}");
    }
}
