//! The training epoch and perplexity evaluation, for any [`LanguageModel`].
//!
//! Perplexity is `exp(mean cross-entropy)`: over an epoch, the mean of the batch losses (the
//! book's `exp(total_loss / loss_count)`).

use super::BpttBatcher;
use crate::error::Result;
use crate::models::Lm;
use crate::optim::{clip_grad_norm, Optimizer};
use crate::params::Params;
use crate::tensor::Real;
use ndarray::{Array2, ArrayView2};

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
}

/// One epoch of truncated BPTT: `iters_per_epoch` batches of forward, backward, gradient
/// clipping to global norm `clip` (if given), optimizer step. The model's state carries across
/// batches and epochs (the book's `RnnlmTrainer`). Calls `on_batch(batch_index, loss)` after each
/// batch. Returns the mean batch loss.
pub fn train_epoch<F: Real, M: LanguageModel<F>>(
    model: &mut M,
    corpus: &[u32],
    batcher: &mut BpttBatcher,
    optimizer: &mut Optimizer<F>,
    clip: Option<f64>,
    on_batch: &mut dyn FnMut(usize, f64),
) -> f64 {
    let iters = batcher.iters_per_epoch(corpus.len());
    let (mut xs, mut ts) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
    let mut total = 0.0;
    for iter in 0..iters {
        batcher.next_batch(corpus, &mut xs, &mut ts);
        let loss = model.forward(xs.view(), ts.view()).to_f64();
        model.params_mut().zero_grad();
        model.backward();
        if let Some(max_norm) = clip {
            clip_grad_norm(model.params_mut(), max_norm);
        }
        optimizer.step(model.params_mut());
        total += loss;
        on_batch(iter, loss);
    }
    total / iters as f64
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
