//! The training epoch and perplexity evaluation, for any [`LanguageModel`].
//!
//! Perplexity is `exp(mean cross-entropy)`: over an epoch, the mean of the batch losses (the
//! book's `exp(total_loss / loss_count)`).

use super::BpttBatcher;
use crate::error::Result;
use crate::models::Lm;
use crate::optim::{norm_and_clip_factor, Optimizer};
use crate::params::Params;
use crate::tensor::Real;
use ndarray::{Array2, ArrayView2};
use std::sync::atomic::{AtomicBool, Ordering};

/// What the trainer needs of a model.
pub trait LanguageModel<F: Real> {
    /// Mean cross-entropy of predicting `ts` from `xs`, both (N, T); carries the state.
    fn forward(&mut self, xs: ArrayView2<u32>, ts: ArrayView2<u32>) -> F;
    /// Adds the gradient of the last forward's loss into the parameter store.
    fn backward(&mut self);
    fn params_mut(&mut self) -> &mut Params<F>;
    fn reset_state(&mut self);
    /// Training mode (dropout on) or evaluation mode (off).
    fn set_training(&mut self, training: bool);
    fn is_training(&self) -> bool;
}

impl<F: Real> LanguageModel<F> for Lm<F> {
    fn forward(&mut self, xs: ArrayView2<u32>, ts: ArrayView2<u32>) -> F {
        Lm::forward(self, xs, ts)
    }
    fn backward(&mut self) {
        Lm::backward(self)
    }
    fn params_mut(&mut self) -> &mut Params<F> {
        &mut self.params
    }
    fn reset_state(&mut self) {
        Lm::reset_state(self)
    }
    fn set_training(&mut self, training: bool) {
        Lm::set_training(self, training)
    }
    fn is_training(&self) -> bool {
        Lm::is_training(self)
    }
}

/// One epoch's figures (a line of `metrics.jsonl`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochStats {
    pub epoch: usize,
    pub train_ppl: f64,
    /// Validation perplexity after the epoch, when the run validates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_ppl: Option<f64>,
    pub seconds: f64,
    pub tokens_per_s: f64,
    pub lr: f64,
    /// Batches skipped for a non-finite loss or gradient (`--on-nan skip`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped: usize,
    /// The process's resident set size at the end of the epoch, in MiB (where the system says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_mib: Option<f64>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The resident set size of this process in MiB (Linux: `VmRSS` of /proc/self/status).
pub fn resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// One epoch of truncated BPTT: `iters_per_epoch` batches of forward, backward, gradient
/// clipping to global norm `clip` (if given), optimizer step. The model's state carries across
/// batches and epochs (the book's `RnnlmTrainer`). Calls `on_batch(batch_index, loss)` after each
/// batch. Returns the mean batch loss (NaN or infinite if training diverged: see
/// [`train_epoch_from`] for a loop that stops or skips instead).
pub fn train_epoch<F: Real, M: LanguageModel<F>>(
    model: &mut M,
    corpus: &[u32],
    batcher: &mut BpttBatcher,
    optimizer: &mut Optimizer<F>,
    clip: Option<f64>,
    on_batch: &mut dyn FnMut(usize, f64),
) -> f64 {
    let options = EpochOptions { clip, on_nan: OnNan::Ignore, stop: None };
    match train_epoch_from(model, corpus, batcher, optimizer, &options, EpochCursor::default(), on_batch) {
        EpochEnd::Finished { mean_loss, .. } => mean_loss,
        EpochEnd::Stopped(_) | EpochEnd::Diverged { .. } => unreachable!("no stop flag, NaN ignored"),
    }
}

/// What to do with a batch whose loss or gradient norm is NaN or infinite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OnNan {
    /// End the epoch there, before the update ([`EpochEnd::Diverged`]).
    Stop,
    /// Leave the weights as they are, forget the carried state (it may hold the NaN), go on.
    Skip,
    /// Apply the update anyway (the book's loop; the plain [`train_epoch`]).
    #[value(skip)]
    Ignore,
}

/// How an epoch runs.
pub struct EpochOptions<'a> {
    pub clip: Option<f64>,
    pub on_nan: OnNan,
    /// Checked after every batch: when set, the epoch ends there ([`EpochEnd::Stopped`]).
    pub stop: Option<&'a AtomicBool>,
}

/// Where an epoch stands: batches done, their summed loss (skipped ones left out), how many
/// were skipped. A resumed epoch starts from the cursor its interruption returned.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EpochCursor {
    pub batch: usize,
    pub loss_sum: f64,
    pub skipped: usize,
}

/// How an epoch ended.
#[derive(Clone, Debug, PartialEq)]
pub enum EpochEnd {
    /// Every batch ran; the mean loss of the batches not skipped (NaN if all were).
    Finished { mean_loss: f64, skipped: usize },
    /// The stop flag was set; the cursor says how far the epoch got.
    Stopped(EpochCursor),
    /// Batch `batch` (0-based) gave a non-finite loss or gradient; it was not applied.
    Diverged { batch: usize, what: String },
}

/// [`train_epoch`] from `cursor` (0 for a new epoch), with a stop flag and a NaN policy.
/// Calls `on_batch(batch_index, loss)` after each batch, skipped ones included.
pub fn train_epoch_from<F: Real, M: LanguageModel<F>>(
    model: &mut M,
    corpus: &[u32],
    batcher: &mut BpttBatcher,
    optimizer: &mut Optimizer<F>,
    options: &EpochOptions,
    mut cursor: EpochCursor,
    on_batch: &mut dyn FnMut(usize, f64),
) -> EpochEnd {
    let iters = batcher.iters_per_epoch(corpus.len());
    let (mut xs, mut ts) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
    while cursor.batch < iters {
        if options.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            return EpochEnd::Stopped(cursor);
        }
        let iter = cursor.batch;
        batcher.next_batch(corpus, &mut xs, &mut ts);
        let loss = model.forward(xs.view(), ts.view()).to_f64();
        model.params_mut().zero_grad();
        model.backward();
        // Clipping is applied by the optimizer as it reads the gradients (one pass, not two).
        let (norm, grad_scale) =
            norm_and_clip_factor(model.params_mut(), options.clip, options.on_nan != OnNan::Ignore);
        let bad = if !loss.is_finite() {
            Some(format!("the loss is {loss}"))
        } else if !norm.is_finite() {
            Some(format!("the gradient norm is {norm} (loss {loss:.4e})"))
        } else {
            None
        };
        match (bad, options.on_nan) {
            (Some(what), OnNan::Stop) => return EpochEnd::Diverged { batch: iter, what },
            (Some(_), OnNan::Skip) => {
                model.reset_state();
                cursor.skipped += 1;
            }
            (None, _) | (Some(_), OnNan::Ignore) => {
                optimizer.step_scaled(model.params_mut(), grad_scale);
                cursor.loss_sum += loss;
            }
        }
        cursor.batch += 1;
        on_batch(iter, loss);
    }
    let counted = iters - cursor.skipped;
    let mean_loss = if counted == 0 { f64::NAN } else { cursor.loss_sum / counted as f64 };
    EpochEnd::Finished { mean_loss, skipped: cursor.skipped }
}

/// The book's `eval_perplexity`: evaluation mode (no dropout), state reset, the corpus read as
/// `batch_size` contiguous streams in blocks of `time_size`, perplexity = exp(mean block loss).
/// The state is reset again and the mode restored after, so evaluation leaves no trace.
pub fn eval_perplexity<F: Real, M: LanguageModel<F>>(
    model: &mut M,
    corpus: &[u32],
    batch_size: usize,
    time_size: usize,
) -> Result<f64> {
    let mut batcher = BpttBatcher::new(corpus.len(), batch_size, time_size)?;
    let iters = batcher.iters_per_epoch(corpus.len());
    let (mut xs, mut ts) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
    let was_training = model.is_training();
    model.set_training(false);
    model.reset_state();
    let mut total = 0.0;
    for _ in 0..iters {
        batcher.next_batch(corpus, &mut xs, &mut ts);
        total += model.forward(xs.view(), ts.view()).to_f64();
    }
    model.reset_state();
    model.set_training(was_training);
    Ok((total / iters as f64).exp())
}
