//! The classify task: a text classifier ([`Classifier`]) trained on shuffled mini-batches of
//! padded texts, validated every epoch, early stopping on the validation loss (the engine's);
//! and the batching and evaluation the command line shares with it.
//!
//! ```text
//! begin_epoch      order = a fresh permutation of the training texts, drawn from the task's Rng
//! train_batch(i)   texts order[i B .. (i + 1) B] (the last batch may be smaller), padded to the
//!                  batch's longest (ids (N, T), lengths (N)); each real word replaced by <unk>
//!                  with probability `word_dropout`, drawn from the same Rng; forward, the batch's
//!                  correct predictions counted, backward. Weight in the epoch's mean: N texts.
//! validate         loss, accuracy (and confusion matrix) on the validation texts; score = loss
//! ```
//!
//! Figures of an epoch: `train_accuracy` (counted over the epoch's batches, the weights changing
//! as they go, dropout on), `valid_loss`, `valid_accuracy`; the engine adds `train_loss`.
//!
//! The checkpointed state (JSON): the Rng, the epoch's order and the accuracy counters, so a run
//! resumed in the middle of an epoch trains the same remaining batches and drops the same words.
//! The model's dropout masks come from the model's own generator, which the engine keeps.
//!
//! In steady state (batches of a shape seen before) a batch allocates nothing: the ids, the
//! lengths and the labels are buffers of the task, the model's are sized once per (N, T).

pub mod baselines;
pub mod cv;
pub mod members;
pub mod pretrained;
pub mod run;
pub mod texts;

use crate::error::{Error, Result};
use crate::models::{Classifier, Model};
use crate::tensor::{Real, Rng};
use crate::train::engine::{self, BatchLoss, Curve, Task, TaskState};
use ndarray::{s, Array2, ArrayD, ArrayView2};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Texts as id sequences with their classes (one split of a data set).
#[derive(Clone, Debug, Default)]
pub struct Labelled {
    /// Each text's word ids (any lengths, at least one word).
    pub seqs: Vec<Vec<u32>>,
    /// Each text's class id, 0..C.
    pub labels: Vec<u32>,
}

impl Labelled {
    /// Number of texts.
    pub fn len(&self) -> usize {
        self.seqs.len()
    }

    /// True when there are no texts.
    pub fn is_empty(&self) -> bool {
        self.seqs.is_empty()
    }

    /// The examples at `rows`, in that order.
    pub fn subset(&self, rows: &[usize]) -> Labelled {
        Labelled {
            seqs: rows.iter().map(|&i| self.seqs[i].clone()).collect(),
            labels: rows.iter().map(|&i| self.labels[i]).collect(),
        }
    }
}

/// Pads `seqs` into ids (N, T) with T the longest length (at least 1); returns the lengths.
/// Padded positions hold id 0, which the recurrent layers never read.
pub fn pad_batch<'a>(seqs: impl IntoIterator<Item = &'a [u32]>, ids: &mut Array2<u32>) -> Vec<usize> {
    let mut lengths = Vec::new();
    let seqs: Vec<&[u32]> = seqs.into_iter().collect();
    pad_into(&seqs, ids, &mut lengths);
    lengths
}

/// [`pad_batch`] into buffers: `ids` is resized only when (N, T) changes, `lengths` reuses its
/// capacity.
fn pad_into(seqs: &[&[u32]], ids: &mut Array2<u32>, lengths: &mut Vec<usize>) {
    lengths.clear();
    lengths.extend(seqs.iter().map(|s| s.len()));
    let t = lengths.iter().copied().max().unwrap_or(0).max(1);
    if ids.dim() == (seqs.len(), t) {
        ids.fill(0);
    } else {
        *ids = Array2::zeros((seqs.len(), t));
    }
    for (mut row, seq) in ids.rows_mut().into_iter().zip(seqs) {
        row.slice_mut(s![..seq.len()]).assign(&ndarray::aview1(seq));
    }
}

/// The order of an epoch's batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// A fresh permutation each epoch (training).
    Shuffled,
    /// The texts as given, batch `i` = texts `i B .. (i + 1) B` (benchmarks: the same batches
    /// every epoch).
    AsGiven,
}

/// A classifier, its training texts and (for validated runs) its validation texts. Borrowed,
/// so the caller keeps the model after training.
pub struct ClassifyTask<'a, F: Real> {
    /// The classifier being trained (borrowed: the caller keeps it).
    pub model: &'a mut Classifier<F>,
    train: &'a Labelled,
    valid: Option<&'a Labelled>,
    /// Texts per training batch (B).
    batch_size: usize,
    /// Texts per batch when measuring the validation texts.
    eval_batch: usize,
    word_dropout: f64,
    order_kind: Order,
    /// The shuffles and the word dropout.
    rng: Rng,
    /// This epoch's order of the training texts.
    order: Vec<usize>,
    /// Correct predictions and texts of the epoch's batches so far (skipped batches left out).
    correct: usize,
    counted: usize,
    /// The last batch's (correct, texts), taken back if the engine skips it.
    last_batch: (usize, usize),
    ids: Array2<u32>,     // (N, T) the batch's padded ids
    lengths: Vec<usize>,  // (N)
    labels: Vec<u32>,     // (N)
    seqs: Vec<&'a [u32]>, // (N) the batch's texts
}

impl<'a, F: Real> ClassifyTask<'a, F> {
    /// Trains `model` on `train` in batches of `batch_size` texts, shuffled by `rng` (which then
    /// also draws the word dropout). Unvalidated until [`ClassifyTask::validated`].
    pub fn new(model: &'a mut Classifier<F>, train: &'a Labelled, batch_size: usize, rng: Rng) -> Self {
        assert!(batch_size > 0, "ClassifyTask: a batch size of 0");
        assert!(!train.is_empty(), "ClassifyTask: no training texts");
        assert_eq!(train.seqs.len(), train.labels.len(), "ClassifyTask: texts and labels differ in number");
        ClassifyTask {
            model,
            train,
            valid: None,
            batch_size,
            eval_batch: batch_size.max(64),
            word_dropout: 0.0,
            order_kind: Order::Shuffled,
            rng,
            order: (0..train.len()).collect(),
            correct: 0,
            counted: 0,
            last_batch: (0, 0),
            ids: Array2::zeros((0, 0)),
            lengths: Vec::with_capacity(batch_size),
            labels: Vec::with_capacity(batch_size),
            seqs: Vec::with_capacity(batch_size),
        }
    }

    /// Measures `valid` after every epoch (the engine's early stopping and best weights), in
    /// batches of `eval_batch` texts.
    pub fn validated(mut self, valid: &'a Labelled, eval_batch: usize) -> Self {
        assert!(!valid.is_empty(), "ClassifyTask: no validation texts");
        (self.valid, self.eval_batch) = (Some(valid), eval_batch.max(1));
        self
    }

    /// Each real word of a training text becomes `<unk>` (id 0) with probability `p`.
    pub fn word_dropout(mut self, p: f64) -> Self {
        assert!((0.0..1.0).contains(&p), "word dropout must be in [0, 1), got {p}");
        self.word_dropout = p;
        self
    }

    /// Sets the order of an epoch's batches (default: shuffled).
    pub fn order(mut self, order: Order) -> Self {
        self.order_kind = order;
        self
    }

    /// The texts of batch `index` of this epoch (B, or fewer for the last).
    fn rows(&self, index: usize) -> std::ops::Range<usize> {
        let start = index * self.batch_size;
        start..(start + self.batch_size).min(self.train.len())
    }
}

impl<F: Real> Task<F> for ClassifyTask<'_, F> {
    fn model(&mut self) -> &mut dyn Model<F> {
        self.model
    }

    fn batches_per_epoch(&self) -> usize {
        self.train.len().div_ceil(self.batch_size)
    }

    /// The mean batch, rounded (the engine counts `batches x items` an epoch): within half a
    /// text a batch of the epoch's true count when the last batch is smaller.
    fn items(&self) -> (&'static str, usize) {
        let batches = self.batches_per_epoch();
        ("texts", (self.train.len() + batches / 2) / batches)
    }

    fn begin_epoch(&mut self, _epoch: usize) {
        self.order.clear();
        self.order.extend(0..self.train.len());
        if self.order_kind == Order::Shuffled {
            crate::data::tsv::shuffle(&mut self.order, &mut self.rng);
        }
        (self.correct, self.counted) = (0, 0);
    }

    fn train_batch(&mut self, index: usize) -> BatchLoss {
        let rows = self.rows(index);
        let train = self.train;
        self.seqs.clear();
        self.seqs.extend(self.order[rows.clone()].iter().map(|&i| train.seqs[i].as_slice()));
        pad_into(&self.seqs, &mut self.ids, &mut self.lengths);
        if self.word_dropout > 0.0 {
            for (mut row, &len) in self.ids.rows_mut().into_iter().zip(&self.lengths) {
                for id in row.slice_mut(s![..len]).iter_mut() {
                    if self.rng.uniform() < self.word_dropout {
                        *id = 0;
                    }
                }
            }
        }
        self.labels.clear();
        self.labels.extend(self.order[rows].iter().map(|&i| train.labels[i]));
        let loss = self.model.forward(self.ids.view(), &self.lengths, &self.labels).to_f64();
        let correct = self.model.count_correct(&self.labels);
        self.model.backward();
        let n = self.labels.len();
        self.last_batch = (correct, n);
        (self.correct, self.counted) = (self.correct + correct, self.counted + n);
        BatchLoss { loss, weight: n as f64 }
    }

    fn after_skipped_batch(&mut self) {
        let (correct, n) = std::mem::take(&mut self.last_batch);
        (self.correct, self.counted) = (self.correct - correct, self.counted - n);
    }

    fn train_figures(&mut self, _mean_loss: f64) -> BTreeMap<String, f64> {
        let accuracy = self.correct as f64 / self.counted.max(1) as f64;
        BTreeMap::from([("train_accuracy".to_string(), accuracy)])
    }

    fn validate(&mut self) -> Result<Option<engine::Evaluation>> {
        let Some(valid) = self.valid else { return Ok(None) };
        let e = evaluate(self.model, valid, self.eval_batch);
        Ok(Some(engine::Evaluation {
            score: e.loss,
            figures: BTreeMap::from([
                ("valid_loss".to_string(), e.loss),
                ("valid_accuracy".to_string(), e.accuracy),
            ]),
        }))
    }

    fn save_state(&mut self) -> TaskState<F> {
        let state = SavedState {
            rng: self.rng.state(),
            order: self.order.clone(),
            correct: self.correct,
            counted: self.counted,
        };
        TaskState::of_json(serde_json::to_value(state).expect("the task state serialises"))
    }

    fn restore_state(
        &mut self,
        json: &serde_json::Value,
        tensors: BTreeMap<String, ArrayD<F>>,
    ) -> Result<()> {
        let state: SavedState = serde_json::from_value(json.clone()).map_err(|e| {
            Error::msg(format!(
                "the task state is not a classifier's ({e}); expected `rng`, `order`, `correct`, `counted`"
            ))
        })?;
        TaskState::expect_no_tensors(&tensors, " for a classifier's run")?;
        let n = self.train.len();
        let permutation = crate::train::order::is_permutation(&state.order, n);
        if !permutation {
            return Err(Error::msg(format!(
                "the task's order holds {} texts, not a permutation of the {n} training texts: the data changed \
                 since the run started",
                state.order.len()
            )));
        }
        if state.counted > n || state.correct > state.counted {
            return Err(Error::msg(format!(
                "the task's counters ({} correct of {}) do not fit {n} training texts",
                state.correct, state.counted
            )));
        }
        self.rng = Rng::from_state(state.rng);
        self.order = state.order;
        (self.correct, self.counted) = (state.correct, state.counted);
        Ok(())
    }

    fn curve(&self) -> Curve {
        Curve {
            stem: "loss",
            title: "Cross-entropy",
            y_label: "loss",
            train_key: "train_loss",
            valid_key: "valid_loss",
            log_y: false,
        }
    }
}

/// The task's checkpointed state (see the module docs).
#[derive(Serialize, Deserialize)]
struct SavedState {
    rng: [u64; 4],
    order: Vec<usize>,
    correct: usize,
    counted: usize,
}

/// Loss, accuracy and confusion matrix of a model on labelled texts.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy a text, in nats.
    pub loss: f64,
    /// Share of texts whose predicted class is the true one, in [0, 1].
    pub accuracy: f64,
    /// `confusion[true class][predicted class]` counts.
    pub confusion: Vec<Vec<usize>>,
}

/// Loss, accuracy and confusion matrix on `data`, in evaluation mode (the mode is restored).
pub fn evaluate<F: Real>(model: &mut Classifier<F>, data: &Labelled, batch_size: usize) -> Evaluation {
    let was_training = model.is_training();
    model.set_training(false);
    let c = model.config.num_classes;
    let mut confusion = vec![vec![0; c]; c];
    let mut ids = Array2::zeros((0, 0));
    let mut total = 0.0;
    let rows: Vec<usize> = (0..data.len()).collect();
    for chunk in rows.chunks(batch_size.max(1)) {
        let lengths = pad_batch(chunk.iter().map(|&i| data.seqs[i].as_slice()), &mut ids);
        let labels: Vec<u32> = chunk.iter().map(|&i| data.labels[i]).collect();
        total += model.forward(ids.view(), &lengths, &labels).to_f64() * chunk.len() as f64;
        for (&p, &l) in model.predicted().iter().zip(&labels) {
            confusion[l as usize][p as usize] += 1;
        }
    }
    model.set_training(was_training);
    let m = data.len().max(1) as f64;
    let correct: usize = (0..c).map(|i| confusion[i][i]).sum();
    Evaluation { loss: total / m, accuracy: correct as f64 / m, confusion }
}

/// Loss (mean cross-entropy), accuracy and confusion matrix of class probabilities (M, C)
/// against `labels` (M): the prediction is the most probable class (the first of equals).
/// For averaged probabilities (an ensemble).
pub fn evaluation_of(probs: ArrayView2<f64>, labels: &[u32]) -> Evaluation {
    assert_eq!(
        probs.nrows(),
        labels.len(),
        "evaluation_of: {} rows but {} labels",
        probs.nrows(),
        labels.len()
    );
    let c = probs.ncols();
    let mut confusion = vec![vec![0; c]; c];
    let mut total = 0.0;
    for (row, &label) in probs.rows().into_iter().zip(labels) {
        let best = (0..c).fold(0, |b, j| if row[j] > row[b] { j } else { b });
        confusion[label as usize][best] += 1;
        total -= row[label as usize].max(f64::MIN_POSITIVE).ln();
    }
    let m = labels.len().max(1) as f64;
    let correct: usize = (0..c).map(|i| confusion[i][i]).sum();
    Evaluation { loss: total / m, accuracy: correct as f64 / m, confusion }
}

/// Class probabilities (M, C) of `seqs`, in evaluation mode (the mode is restored).
pub fn predict_probabilities<F: Real>(
    model: &mut Classifier<F>,
    seqs: &[Vec<u32>],
    batch_size: usize,
) -> Array2<f64> {
    let was_training = model.is_training();
    model.set_training(false);
    let mut out = Array2::zeros((seqs.len(), model.config.num_classes));
    let mut ids = Array2::zeros((0, 0));
    for (b, chunk) in seqs.chunks(batch_size.max(1)).enumerate() {
        let lengths = pad_batch(chunk.iter().map(Vec::as_slice), &mut ids);
        model.scores(ids.view(), &lengths);
        let start = b * batch_size.max(1);
        out.slice_mut(s![start..start + chunk.len(), ..]).assign(&model.probabilities());
    }
    model.set_training(was_training);
    out
}
