//! The language-model task: truncated BPTT over one corpus (the book's `RnnlmTrainer`).
//!
//! Batches come from a [`BpttBatcher`]: `batch_size` streams at evenly spaced offsets, one cursor
//! advancing `time_size` a batch and never reset between epochs, the model's state carried from
//! block to block (forward) and cut at each block (backward). Validation is the book's
//! `eval_perplexity` on the validation ids; the score is the validation perplexity.
//!
//! The task's checkpointed state: the batcher's cursor (JSON) and each layer's carried state
//! (tensors `state.<k>`); the dropout generator is the model's, kept by the engine.

pub mod run;

use crate::error::{Error, Result};
use crate::models::{Lm, Model};
use crate::tensor::Real;
use crate::train::engine::{BatchLoss, Curve, Evaluation, Task, TaskState};
use crate::train::BpttBatcher;
use ndarray::{Array2, ArrayD, Ix2};
use std::collections::BTreeMap;

/// A language model, its training corpus and its batcher, and the validation ids if the run
/// validates. Borrowed, so that the caller keeps the model and the batcher between calls.
pub struct LmTask<'a, F: Real> {
    /// The language model being trained (borrowed: the caller keeps it).
    pub model: &'a mut Lm<F>,
    /// The training ids, one long stream (`<eos>` at line breaks).
    pub corpus: &'a [u32],
    /// Cuts the corpus into (N, T) blocks and keeps the cursor between calls.
    pub batcher: &'a mut BpttBatcher,
    /// Validation ids, read as `eval_batch` x `eval_time` blocks (the book's 10 x 35).
    pub valid: Option<&'a [u32]>,
    /// N of validation blocks (10).
    pub eval_batch: usize,
    /// T of validation blocks (35).
    pub eval_time: usize,
    xs: Array2<u32>, // (N, T) the batch's inputs
    ts: Array2<u32>, // (N, T) its targets
}

impl<'a, F: Real> LmTask<'a, F> {
    /// A task over `corpus` with no validation (see [`LmTask::validated`]).
    pub fn new(model: &'a mut Lm<F>, corpus: &'a [u32], batcher: &'a mut BpttBatcher) -> Self {
        LmTask {
            model,
            corpus,
            batcher,
            valid: None,
            eval_batch: 10,
            eval_time: 35,
            xs: Array2::zeros((0, 0)),
            ts: Array2::zeros((0, 0)),
        }
    }

    /// Validates every epoch on `valid`, in blocks of `batch` x `time`.
    pub fn validated(mut self, valid: &'a [u32], batch: usize, time: usize) -> Self {
        (self.valid, self.eval_batch, self.eval_time) = (Some(valid), batch, time);
        self
    }
}

impl<F: Real> Task<F> for LmTask<'_, F> {
    fn model(&mut self) -> &mut dyn Model<F> {
        self.model
    }

    fn batches_per_epoch(&self) -> usize {
        self.batcher.iters_per_epoch(self.corpus.len())
    }

    fn items(&self) -> (&'static str, usize) {
        ("tokens", self.batcher.batch_size() * self.batcher.time_size())
    }

    fn train_batch(&mut self, _index: usize) -> BatchLoss {
        self.batcher.next_batch(self.corpus, &mut self.xs, &mut self.ts);
        let loss = self.model.forward(self.xs.view(), self.ts.view()).to_f64();
        self.model.backward();
        BatchLoss { loss, weight: 1.0 }
    }

    /// The carried state may hold the NaN.
    fn after_skipped_batch(&mut self) {
        self.model.reset_state();
    }

    fn train_figures(&mut self, mean_loss: f64) -> BTreeMap<String, f64> {
        BTreeMap::from([("train_ppl".to_string(), mean_loss.exp())])
    }

    fn validate(&mut self) -> Result<Option<Evaluation>> {
        let Some(valid) = self.valid else { return Ok(None) };
        let ppl = eval_perplexity(self.model, valid, self.eval_batch, self.eval_time)?;
        Ok(Some(Evaluation {
            score: ppl,
            figures: BTreeMap::from([("valid_loss".to_string(), ppl.ln()), ("valid_ppl".to_string(), ppl)]),
        }))
    }

    fn save_state(&mut self) -> TaskState<F> {
        let tensors = (self.model.carried_states().into_iter().enumerate())
            .filter_map(|(k, s)| Some((format!("state.{k}"), s?.into_dyn())))
            .collect();
        TaskState { json: serde_json::json!({ "batcher_cursor": self.batcher.cursor() }), tensors }
    }

    fn restore_state(
        &mut self,
        json: &serde_json::Value,
        mut tensors: BTreeMap<String, ArrayD<F>>,
    ) -> Result<()> {
        let cursor = json.get("batcher_cursor").and_then(|c| c.as_u64()).ok_or_else(|| {
            Error::msg("the task state has no `batcher_cursor`; expected a language model's")
        })?;
        let mut states = Vec::with_capacity(self.model.rnns.len());
        for (k, rnn) in self.model.rnns.iter().enumerate() {
            let state = match tensors.remove(&format!("state.{k}")) {
                None => None,
                Some(s) => {
                    let s = s.into_dimensionality::<Ix2>().ok().filter(|s| s.ncols() == rnn.state_size());
                    let s = s.ok_or_else(|| {
                        Error::msg(format!(
                            "`task.state.{k}` is not (batch, {}) as layer {k} needs",
                            rnn.state_size()
                        ))
                    })?;
                    if s.nrows() != self.batcher.batch_size() {
                        return Err(Error::msg(format!(
                            "`task.state.{k}` has {} rows; the run's batch size is {}",
                            s.nrows(),
                            self.batcher.batch_size()
                        )));
                    }
                    Some(s)
                }
            };
            states.push(state);
        }
        if let Some(extra) = tensors.keys().next() {
            return Err(Error::msg(format!("unexpected tensor `task.{extra}` for this run's model")));
        }
        self.model.set_carried_states(&states);
        self.batcher.set_cursor(cursor as usize);
        Ok(())
    }

    fn curve(&self) -> Curve {
        Curve {
            stem: "perplexity",
            title: "Perplexity",
            y_label: "perplexity",
            train_key: "train_ppl",
            valid_key: "valid_ppl",
            log_y: true,
        }
    }
}

/// The blocks (streams, steps) in which a text of `tokens` tokens is measured: `batch` x `time`
/// when it fills them, else fewer streams, else one shorter stream; None below 2 tokens.
pub fn eval_shape(tokens: usize, batch: usize, time: usize) -> Option<(usize, usize)> {
    let data = tokens.checked_sub(1).filter(|&d| d >= 1)?;
    Some(if data >= batch * time {
        (batch, time)
    } else if data >= time {
        (data / time, time)
    } else {
        (1, data)
    })
}

/// The book's `eval_perplexity`: evaluation mode (no dropout), state reset, the corpus read as
/// `batch_size` contiguous streams in blocks of `time_size`, perplexity = exp(mean block loss).
/// The state is reset again and the mode restored after, so evaluation leaves no trace.
pub fn eval_perplexity<F: Real>(
    model: &mut Lm<F>,
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

/// One epoch of the book's loop on the engine: forward, backward, clipping to global norm
/// `clip` (if given), optimizer step; the state carried across batches and calls. Calls
/// `on_batch(batch_index, loss)` after each batch. Returns the mean batch loss (NaN if training
/// diverged: the book's loop applies every update).
pub fn train_epoch<F: Real>(
    model: &mut Lm<F>,
    corpus: &[u32],
    batcher: &mut BpttBatcher,
    optimizer: &mut crate::optim::Optimizer<F>,
    clip: Option<f64>,
    on_batch: &mut dyn FnMut(usize, f64),
) -> f64 {
    let mut task = LmTask::new(model, corpus, batcher);
    crate::train::engine::train_one_epoch(&mut task, optimizer, clip, on_batch)
}
