//! The encoder-decoder task: teacher-forced batches of `input -> output` pairs, greedy decoding
//! of the held-out pairs after every epoch (the book's chapter 7).
//!
//! Batches: every training pair is encoded once (inputs padded to T_in, decoder inputs `<go>`
//! then the output, targets the output then `<eos>`, the rest ignored); each epoch shuffles the
//! order of the pairs with the task's own generator (Fisher-Yates, the order carried from epoch
//! to epoch) and cuts it into batches of `batch_size`, the last one smaller. A batch's loss is
//! the mean over its real target positions; its weight in the epoch's mean is its number of
//! pairs.
//!
//! Validation: the held-out pairs are decoded greedily (until `<eos>` or T_out + 1 symbols) and
//! compared whole with their outputs: `valid_accuracy` (exact match), `valid_correct`,
//! `valid_examples`; `valid_loss` is the teacher-forced cross-entropy per target position on the
//! same pairs. The score that picks the best epoch (lower is better) is `1 - valid_accuracy`:
//! the saved model is the epoch with the highest held-out exact-match accuracy, the figure
//! `recur seq2seq eval` reports (on a tie the earlier epoch stays).
//!
//! The task's checkpointed state: the order of the pairs and the shuffling generator (JSON), so a
//! run stopped mid-epoch resumes with the same batches in the same order.

pub mod run;

use crate::data::pairs::{Batch, CharVocab, Layout, Pair};
use crate::error::{Error, Result};
use crate::layers::IGNORE;
use crate::models::{Model, Seq2seq};
use crate::tensor::{fit, Real, Rng};
use crate::train::engine::{BatchLoss, Curve, Evaluation, Task, TaskState};
use crate::train::order::SavedOrder;
use ndarray::{s, Array2, ArrayD, Ix2};
use std::collections::BTreeMap;

/// Held-out pairs decoded at once.
pub const EVAL_BATCH: usize = 500;

/// Called after each validation with the held-out pairs and their decodings (the command line
/// prints a few).
pub type OnValidated<'a> = Box<dyn FnMut(&[Pair], &[String]) + 'a>;

/// An encoder-decoder, its training pairs (encoded once), its held-out pairs, and the order
/// and generator of the batches. Borrows the model, so the caller keeps it.
pub struct Seq2seqTask<'a, F: Real> {
    /// The encoder-decoder being trained (borrowed: the caller keeps it).
    pub model: &'a mut Seq2seq<F>,
    vocab: &'a CharVocab,
    layout: Layout,
    train: Batch,
    valid_pairs: &'a [Pair],
    valid: Batch,
    batch_size: usize,
    /// The pairs' order in this epoch: batch i is `order[i * batch_size..]`.
    order: Vec<usize>,
    /// Shuffles `order` at the start of every epoch.
    rng: Rng,
    /// The batch being trained: its rows of `train`, kept from batch to batch.
    batch: Batch,
    on_validated: Option<OnValidated<'a>>,
}

impl<'a, F: Real> Seq2seqTask<'a, F> {
    /// `rng` shuffles the batches (a new run passes the generator that drew the data and the
    /// weights, as the book's code does; a resumed run gets it back from the checkpoint). The
    /// first epoch starts from the pairs' order as given. Errors if a pair does not fit the
    /// vocabulary or the layout.
    pub fn new(
        model: &'a mut Seq2seq<F>,
        vocab: &'a CharVocab,
        layout: Layout,
        train: &[Pair],
        valid: &'a [Pair],
        batch_size: usize,
        rng: Rng,
    ) -> Result<Self> {
        if train.is_empty() || valid.is_empty() || batch_size == 0 {
            return Err(Error::msg(format!(
                "a seq2seq task needs training and held-out pairs and a batch size (got {}, {}, {batch_size})",
                train.len(),
                valid.len()
            )));
        }
        let encode = |pairs: &[Pair], what: &str| {
            let refs: Vec<&Pair> = pairs.iter().collect();
            layout.encode_batch(vocab, &refs).map_err(|m| Error::msg(format!("{what} pairs: {m}")))
        };
        Ok(Seq2seqTask {
            model,
            vocab,
            layout,
            train: encode(train, "training")?,
            valid_pairs: valid,
            valid: encode(valid, "held-out")?,
            batch_size,
            order: (0..train.len()).collect(),
            rng,
            batch: Batch {
                inputs: Array2::zeros((0, 0)),
                decoder_inputs: Array2::zeros((0, 0)),
                targets: Array2::zeros((0, 0)),
            },
            on_validated: None,
        })
    }

    /// Calls `f` after every validation with the held-out pairs and their decodings.
    pub fn on_validated(mut self, f: impl FnMut(&[Pair], &[String]) + 'a) -> Self {
        self.on_validated = Some(Box::new(f));
        self
    }

    fn pairs(&self) -> usize {
        self.order.len()
    }
}

impl<F: Real> Task<F> for Seq2seqTask<'_, F> {
    fn model(&mut self) -> &mut dyn Model<F> {
        self.model
    }

    fn batches_per_epoch(&self) -> usize {
        self.pairs().div_ceil(self.batch_size)
    }

    fn items(&self) -> (&'static str, usize) {
        ("examples", self.batch_size)
    }

    fn begin_epoch(&mut self, _epoch: usize) {
        for i in (1..self.order.len()).rev() {
            self.order.swap(i, self.rng.below(i + 1));
        }
    }

    fn train_batch(&mut self, index: usize) -> BatchLoss {
        let start = index * self.batch_size;
        let rows = &self.order[start..(start + self.batch_size).min(self.pairs())];
        let batch = &mut self.batch;
        select_into(&mut batch.inputs, &self.train.inputs, rows);
        select_into(&mut batch.decoder_inputs, &self.train.decoder_inputs, rows);
        select_into(&mut batch.targets, &self.train.targets, rows);
        let loss = self
            .model
            .forward(batch.inputs.view(), batch.decoder_inputs.view(), batch.targets.view())
            .to_f64();
        self.model.backward();
        BatchLoss { loss, weight: rows.len() as f64 }
    }

    fn train_figures(&mut self, _mean_loss: f64) -> BTreeMap<String, f64> {
        BTreeMap::new()
    }

    fn validate(&mut self) -> Result<Option<Evaluation>> {
        let decoded =
            decode_all(self.model, self.vocab, &self.layout, self.valid_pairs, EVAL_BATCH, Search::Greedy)?;
        let correct = decoded.iter().zip(self.valid_pairs).filter(|(d, p)| **d == p.output).count();
        let total = self.valid_pairs.len();
        let accuracy = correct as f64 / total as f64;
        // Teacher-forced loss, weighted by each block's real target positions.
        let (mut loss_sum, mut positions) = (0.0, 0usize);
        for start in (0..total).step_by(EVAL_BATCH) {
            let rows = s![start..(start + EVAL_BATCH).min(total), ..];
            let targets = self.valid.targets.slice(rows);
            let count = targets.iter().filter(|&&t| t != IGNORE).count();
            let loss = self.model.forward(
                self.valid.inputs.slice(rows),
                self.valid.decoder_inputs.slice(rows),
                targets,
            );
            loss_sum += loss.to_f64() * count as f64;
            positions += count;
        }
        if let Some(f) = self.on_validated.as_mut() {
            f(self.valid_pairs, &decoded);
        }
        Ok(Some(Evaluation {
            score: 1.0 - accuracy,
            figures: BTreeMap::from([
                ("valid_accuracy".to_string(), accuracy),
                ("valid_correct".to_string(), correct as f64),
                ("valid_examples".to_string(), total as f64),
                ("valid_loss".to_string(), loss_sum / positions as f64),
            ]),
        }))
    }

    fn save_state(&mut self) -> TaskState<F> {
        TaskState::of_json(SavedOrder { order: self.order.clone(), rng: self.rng.state() }.to_json())
    }

    fn restore_state(
        &mut self,
        json: &serde_json::Value,
        tensors: BTreeMap<String, ArrayD<F>>,
    ) -> Result<()> {
        TaskState::expect_no_tensors(&tensors, " for a seq2seq run")?;
        let saved = SavedOrder::read(json, self.pairs(), "training pairs")?;
        self.order = saved.order;
        self.rng = Rng::from_state(saved.rng);
        Ok(())
    }

    /// The losses (teacher-forced, per target position); `accuracy.png` is the command line's.
    fn curve(&self) -> Curve {
        Curve {
            stem: "loss",
            title: "Loss",
            y_label: "cross-entropy per symbol",
            train_key: "train_loss",
            valid_key: "valid_loss",
            log_y: false,
        }
    }
}

/// `dst` = `src.select(Axis(0), rows)`, into a buffer reallocated only when the shape changes.
fn select_into(dst: &mut Array2<u32>, src: &Array2<u32>, rows: &[usize]) {
    fit(dst, Ix2(rows.len(), src.ncols()));
    for (mut to, &row) in dst.rows_mut().into_iter().zip(rows) {
        to.assign(&src.row(row));
    }
}

/// How outputs are decoded: the most likely symbol at each step, or a beam search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Search {
    /// Each step's most likely symbol fed back ([`Seq2seq::greedy`]).
    Greedy,
    /// The `width` most likely outputs kept at each step ([`Seq2seq::beam`]); `length_norm`
    /// ranks finished ones by their mean log-probability per symbol.
    Beam {
        /// Hypotheses kept.
        width: usize,
        /// Rank by the mean, not the sum, of the log-probabilities.
        length_norm: bool,
    },
}

/// The decodings of every pair's input, as strings (special symbols by name), `batch_size`
/// pairs at a time. Errors (plain message) on an input the layout or the vocabulary cannot read.
pub fn decode_all<F: Real>(
    model: &mut Seq2seq<F>,
    vocab: &CharVocab,
    layout: &Layout,
    pairs: &[Pair],
    batch_size: usize,
    search: Search,
) -> crate::Result<Vec<String>> {
    let mut out = Vec::with_capacity(pairs.len());
    let max_len = layout.max_output_len + 1;
    for chunk in pairs.chunks(batch_size.max(1)) {
        let inputs = layout.encode_inputs(vocab, chunk.iter().map(|p| p.input.as_str()))?;
        match search {
            Search::Greedy => {
                let ids = model.greedy(inputs.view(), CharVocab::GO, CharVocab::EOS, max_len);
                out.extend(ids.iter().map(|ids| vocab.decode(ids)));
            }
            Search::Beam { width, length_norm } => {
                let best =
                    model.beam(inputs.view(), CharVocab::GO, CharVocab::EOS, max_len, width, length_norm);
                out.extend(best.iter().map(|h| vocab.decode(&h.tokens)));
            }
        }
    }
    Ok(out)
}
