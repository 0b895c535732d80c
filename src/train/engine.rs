//! The one training engine: every task (language model, classifier, forecaster,
//! encoder-decoder) trains through [`Trainer::fit`].
//!
//! ```text
//! Task (what differs)                         Trainer (written once)
//!   begin_epoch(epoch): a shuffle, a reset      each batch: zero_grad, task.train_batch (forward +
//!   train_batch(i) -> loss, weight                backward), gradient norm and NaN check (stop or
//!   after_skipped_batch(): forget state           skip), clip, optimizer step, weight decay, stop flag
//!   validate() -> Evaluation (score: lower      each epoch: lr rule, validation, best weights,
//!     is better)                                  early stopping, metrics line, model and checkpoint
//!   save_state / restore_state: cursors,        the end: best weights restored (validated runs) or
//!     shuffle order, generators                   the last ones saved, the metrics plot
//! ```
//!
//! A task supplies only its batches, its forward/backward and its evaluation; the guarantees
//! (resume digit for digit, Ctrl-C, NaN, best weights, early stopping) are the engine's, the same
//! for every task. The engine prints nothing: it reports through an [`Observer`] and returns an
//! [`Outcome`]; the command line draws the progress bar and prints the messages.
//!
//! Where later capabilities plug in: data-parallel training reduces the gradients right after
//! `train_batch` (before the norm), one call in [`Trainer::fit`]'s batch step; only the run that
//! writes files passes a [`RunDir`].

use super::metrics::{resident_mib, EpochStats};
pub use super::observer::{Observer, Silent};
use crate::error::{Error, Result};
use crate::io::run_dir::RunDir;
use crate::io::train_state::{self as checkpoint, Progress};
use crate::models::Model;
use crate::optim::{decay_weights, norm_and_clip_factor, LrRule, Optimizer};
use crate::plot::{epoch_ticks, write_panels, Chart, Mark, Panel, Series};
use crate::tensor::Real;
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What to do with a batch whose loss or gradient norm is NaN or infinite.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum OnNan {
    /// End the run there, before the update, naming the epoch, the batch and the last good
    /// checkpoint (the default, and what runs recorded before the choice existed did).
    #[default]
    Stop,
    /// Leave the weights as they are, let the task forget its carried state, go on.
    Skip,
    /// Apply the update anyway (the book's loop).
    #[cfg_attr(feature = "cli", value(skip))]
    Ignore,
}

/// How the engine trains, the same settings for every task. Each task's run records them in its
/// `config.json` (flattened into its `train` object, so the field names are the same in every
/// run); the fields added after the first runs have defaults, so older runs still load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Passes over the training data.
    pub epochs: usize,
    /// The initial learning rate; `lr_rule` decides each epoch's.
    pub lr: f64,
    /// How the rate changes from epoch to epoch (constant in runs made before it could be chosen).
    #[serde(default = "LrRule::constant")]
    pub lr_rule: LrRule,
    /// Global-norm gradient clipping bound (None = off).
    #[serde(default)]
    pub clip: Option<f64>,
    /// Decoupled weight decay (AdamW's): after each step every weight matrix (not the biases,
    /// not the embeddings' rows alone: every 2-D tensor) is multiplied by `1 - lr * weight_decay`.
    #[serde(default)]
    pub weight_decay: f64,
    /// Stop after this many validated epochs without a lower score (0 = never stop early).
    #[serde(default)]
    pub patience: usize,
    /// What a batch with a non-finite loss or gradient does.
    #[serde(default)]
    pub on_nan: OnNan,
}

/// What `--resume` may change of a run's [`Settings`] (None: keep the recorded value).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Overrides {
    /// The learning rate from now on.
    pub lr: Option<f64>,
    /// The total number of epochs.
    pub epochs: Option<usize>,
    /// Epochs without a better score before the run stops.
    pub patience: Option<usize>,
    /// What a non-finite batch does.
    pub on_nan: Option<OnNan>,
}

impl Settings {
    /// These settings with `overrides` applied.
    pub fn override_with(&mut self, overrides: &Overrides) {
        if let Some(lr) = overrides.lr {
            self.lr = lr;
        }
        if let Some(epochs) = overrides.epochs {
            self.epochs = epochs;
        }
        if let Some(patience) = overrides.patience {
            self.patience = patience;
        }
        if let Some(on_nan) = overrides.on_nan {
            self.on_nan = on_nan;
        }
    }
}

/// One batch's result: its mean loss and the weight it carries in the epoch's mean (1 for
/// equal batches; the number of examples when the last batch is smaller).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchLoss {
    /// The batch's mean loss (per token, text or window), in the loss's units (nats, MSE).
    pub loss: f64,
    /// Its weight in the epoch's mean.
    pub weight: f64,
}

/// A model's figures on held-out data. `score` picks the best epoch (lower is better);
/// `figures` are the named numbers that go into `metrics.jsonl` (e.g. `valid_ppl`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// What early stopping and the best epoch compare: lower is better (perplexity, loss, error).
    pub score: f64,
    /// Named figures for the epoch's metrics line (`valid_loss`, `valid_ppl`, `valid_accuracy`).
    pub figures: BTreeMap<String, f64>,
}

/// What a task keeps in a checkpoint beyond the weights and the optimizer: JSON (cursors,
/// orders, generators, counters) and tensors (a carried state).
#[derive(Clone, Debug, Default)]
pub struct TaskState<F: Real> {
    /// Cursors, orders, generators and counters (the checkpoint's `task` JSON object).
    pub json: serde_json::Value,
    /// Named tensors, saved as `task.<name>` in the checkpoint (e.g. a carried state).
    pub tensors: Vec<(String, ArrayD<F>)>,
}

impl<F: Real> TaskState<F> {
    /// The state of a task that keeps JSON only (no tensors).
    pub fn of_json(json: serde_json::Value) -> Self {
        TaskState { json, tensors: Vec::new() }
    }

    /// Errors if a checkpoint holds task tensors for a task that keeps none: ``unexpected tensor
    /// `task.NAME` `` and then `after` (e.g. ` for a seq2seq run`).
    pub fn expect_no_tensors(tensors: &BTreeMap<String, ArrayD<F>>, after: &str) -> Result<()> {
        match tensors.keys().next() {
            Some(name) => Err(Error::msg(format!("unexpected tensor `task.{name}`{after}"))),
            None => Ok(()),
        }
    }
}

/// How the training figures are drawn at the end (`<stem>.png` and `.svg`).
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// The file name without its extension (`perplexity`, `loss`, `accuracy`).
    pub stem: &'static str,
    /// The chart's title.
    pub title: &'static str,
    /// The y axis's label.
    pub y_label: &'static str,
    /// The keys of `metrics.jsonl` drawn: training, and validation where the run validates.
    pub train_key: &'static str,
    /// The validation figure's key.
    pub valid_key: &'static str,
    /// A logarithmic y axis.
    pub log_y: bool,
}

/// What differs between tasks. See the module docs for the data flow.
pub trait Task<F: Real> {
    /// The network being trained.
    fn model(&mut self) -> &mut dyn Model<F>;
    /// Batches in one epoch.
    fn batches_per_epoch(&self) -> usize;
    /// What one batch counts for the throughput (`tokens`, `texts`, ...) and how many.
    fn items(&self) -> (&'static str, usize);
    /// Called before the first batch of every epoch (never when a run resumes mid-epoch).
    fn begin_epoch(&mut self, _epoch: usize) {}
    /// Forward and backward of batch `index` of the epoch, the gradients added into the model's
    /// store (the engine zeroed them). In training mode.
    fn train_batch(&mut self, index: usize) -> BatchLoss;
    /// A batch was skipped for a non-finite loss or gradient: forget what may hold the NaN.
    fn after_skipped_batch(&mut self) {}
    /// Figures of the epoch's training side from its mean loss (e.g. `train_ppl`) and anything
    /// the task counted over the epoch (e.g. `train_accuracy`).
    fn train_figures(&mut self, mean_loss: f64) -> BTreeMap<String, f64>;
    /// Figures on the validation data after an epoch, or None if the task has none. The
    /// engine puts the model in evaluation mode first; the task must leave no carried state.
    fn validate(&mut self) -> Result<Option<Evaluation>>;
    /// Whether the untrained model is a candidate for the best epoch: a new validated run then
    /// scores it as epoch 0 and keeps it unless an epoch does better (a model that starts as a
    /// fitted baseline is never saved worse than it on the validation data).
    fn start_is_candidate(&self) -> bool {
        false
    }
    /// Everything besides weights and optimizer that decides the next batch's numbers.
    fn save_state(&mut self) -> TaskState<F>;
    /// Puts back what `save_state` returned (checked before anything changes).
    fn restore_state(&mut self, json: &serde_json::Value, tensors: BTreeMap<String, ArrayD<F>>)
        -> Result<()>;
    /// The plot of the run.
    fn curve(&self) -> Curve;
}

/// How [`Trainer::fit`] ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every epoch ran, or early stopping ended the run. A validated run's model holds its best
    /// epoch's weights (`best`: epoch and score); an unvalidated one its last.
    Finished {
        /// The best epoch and its score (validated runs).
        best: Option<(usize, f64)>,
        /// Whether early stopping ended the run before its last epoch.
        stopped_early: bool,
    },
    /// The stop flag was set: the checkpoint holds everything up to batch `batch` of epoch
    /// `epoch` (`batch` 0: the epoch has not begun).
    Interrupted {
        /// The epoch the stop came in (from 1).
        epoch: usize,
        /// Batches of it done and in the checkpoint.
        batch: usize,
        /// Batches an epoch.
        batches_per_epoch: usize,
    },
    /// A non-finite loss or gradient: the run stopped before applying it. `place` names the
    /// epoch (and batch); the checkpoint is the last epoch end (`epochs_done`), if any.
    Diverged {
        /// Where: `epoch 3, batch 120/1327`, or `epoch 3` (every batch skipped, or validation).
        place: String,
        /// What was not finite, and what the run did about it.
        what: String,
        /// Epochs completed before it.
        epochs_done: usize,
        /// Whether a checkpoint of the last completed epoch exists.
        checkpoint: bool,
    },
}

/// The state a run carries between epochs and between processes (a checkpoint's content).
pub struct TrainState<F: Real> {
    /// Epochs and batches done, the learning rate now, the best score, the history.
    pub progress: Progress,
    /// The optimizer with its moments or velocities.
    pub optimizer: Optimizer<F>,
    /// The best epoch's weights in store order (validated runs, once there is one).
    pub best_weights: Option<Vec<ArrayD<F>>>,
}

impl<F: Real> TrainState<F> {
    /// A run about to start epoch 1.
    pub fn new(optimizer: Optimizer<F>) -> Self {
        TrainState { progress: Progress::start(optimizer.lr()), optimizer, best_weights: None }
    }
}

/// The engine. `run`: where the checkpoint, the metrics, the model and the plot go (None: no
/// files, for tests and benchmarks); `stop`: read before every batch.
pub struct Trainer<'a> {
    /// Epochs, learning rate and its rule, clipping, weight decay, patience, NaN handling.
    pub settings: &'a Settings,
    /// The run directory the files go to (None: none written).
    pub run: Option<&'a RunDir>,
    /// Set (e.g. by Ctrl-C) to stop after the current batch with a checkpoint.
    pub stop: Option<&'a AtomicBool>,
    /// Told of every batch and epoch.
    pub observer: &'a mut dyn Observer,
}

impl Trainer<'_> {
    /// Trains `task` from where `state` stands to the last epoch, early stopping, the stop flag
    /// or a divergence.
    pub fn fit<F: Real>(&mut self, task: &mut dyn Task<F>, state: &mut TrainState<F>) -> Result<Outcome> {
        let s = self.settings;
        let iters = task.batches_per_epoch();
        let (_, items) = task.items();
        self.observer.started(s.epochs, iters, state.progress.epochs_done * iters + state.progress.batch);
        let mut last_save = Instant::now();
        let mut stopped_early = false;
        let p = &state.progress;
        if task.start_is_candidate() && p.epochs_done == 0 && p.batch == 0 && p.best.is_none() {
            task.model().set_training(false);
            if let Some(v) = task.validate()? {
                state.progress.best = Some((0, v.score));
                state.best_weights = Some(task.model().snapshot());
                self.save_model(task.model())?;
            }
        }
        for epoch in state.progress.epochs_done + 1..=s.epochs {
            let p = &mut state.progress;
            if p.batch == 0 {
                p.lr = s.lr_rule.rate(epoch, s.lr, p.lr, p.improved);
                task.begin_epoch(epoch);
            }
            state.optimizer.set_lr(p.lr);
            self.observer.epoch_started(epoch);
            let start = Instant::now();
            task.model().set_training(true);
            while state.progress.batch < iters {
                if self.stop.is_some_and(|f| f.load(Ordering::SeqCst)) {
                    state.progress.seconds += start.elapsed().as_secs_f64();
                    return self.interrupt(task, state, epoch, iters);
                }
                let index = state.progress.batch;
                let model = task.model();
                model.params_mut().zero_grad();
                let batch = task.train_batch(index);
                let model = task.model();
                let (norm, grad_scale) =
                    norm_and_clip_factor(model.params_mut(), s.clip, s.on_nan != OnNan::Ignore);
                let bad = if !batch.loss.is_finite() {
                    Some(format!("the loss is {}", batch.loss))
                } else if !norm.is_finite() {
                    Some(format!("the gradient norm is {norm} (loss {:.4e})", batch.loss))
                } else {
                    None
                };
                let p = &mut state.progress;
                match (bad, s.on_nan) {
                    (Some(what), OnNan::Stop) => {
                        self.write_metrics(&p.history)?;
                        return Ok(Outcome::Diverged {
                            place: format!("epoch {epoch}, batch {}/{iters}", index + 1),
                            what: format!(
                                "{what}; training stopped before applying this batch (--on-nan skip would skip such batches)"
                            ),
                            epochs_done: p.epochs_done,
                            checkpoint: self.has_checkpoint(),
                        });
                    }
                    (Some(_), OnNan::Skip) => {
                        task.after_skipped_batch();
                        p.skipped += 1;
                    }
                    (None, _) | (Some(_), OnNan::Ignore) => {
                        state.optimizer.step_scaled(model.params_mut(), grad_scale);
                        if s.weight_decay > 0.0 {
                            decay_weights(model.params_mut(), p.lr * s.weight_decay);
                        }
                        p.loss_sum += batch.loss * batch.weight;
                        p.weight_sum += batch.weight;
                    }
                }
                p.batch += 1;
                let norm_known = s.clip.is_some() || s.on_nan != OnNan::Ignore;
                self.observer.batch_done(epoch, index, batch.loss, norm_known.then_some(norm));
            }

            // The epoch's end.
            let p = &mut state.progress;
            let seconds = p.seconds + start.elapsed().as_secs_f64();
            let mean_loss = if p.weight_sum > 0.0 { p.loss_sum / p.weight_sum } else { f64::NAN };
            let skipped = p.skipped;
            if !mean_loss.is_finite() {
                self.write_metrics(&p.history)?;
                let what = if skipped == iters {
                    "every batch was skipped (--on-nan skip): no batch gives a finite loss and gradient any more"
                        .to_string()
                } else {
                    format!("the mean training loss is {mean_loss}")
                };
                return Ok(Outcome::Diverged {
                    place: format!("epoch {epoch}"),
                    what,
                    epochs_done: p.epochs_done,
                    checkpoint: self.has_checkpoint(),
                });
            }
            let mut figures = task.train_figures(mean_loss);
            task.model().set_training(false);
            let valid = task.validate()?;
            task.model().set_training(true);
            if let Some(v) = &valid {
                figures.extend(v.figures.iter().map(|(k, x)| (k.clone(), *x)));
            }
            let (unit, _) = task.items();
            figures.insert(format!("{unit}_per_s"), (iters * items) as f64 / seconds);
            let stats = EpochStats {
                epoch,
                train_loss: mean_loss,
                lr: p.lr,
                seconds,
                skipped,
                rss_mib: resident_mib(),
                figures,
            };
            p.history.push(stats.clone());
            p.epochs_done = epoch;
            (p.batch, p.loss_sum, p.weight_sum, p.skipped, p.seconds) = (0, 0.0, 0.0, 0, 0.0);
            match &valid {
                Some(v) => {
                    let improved = p.best.is_none_or(|(_, b)| v.score < b);
                    p.improved = improved;
                    if improved {
                        p.best = Some((epoch, v.score));
                        state.best_weights = Some(task.model().snapshot());
                        self.save_model(task.model())?;
                    } else if s.patience > 0 && epoch - p.best.map_or(0, |b| b.0) >= s.patience {
                        stopped_early = true;
                    }
                }
                // Long unvalidated runs save the model as they go; short ones only at the end.
                None if last_save.elapsed() > Duration::from_secs(30) => {
                    self.save_model(task.model())?;
                    last_save = Instant::now();
                }
                None => {}
            }
            self.save_checkpoint(task, state)?;
            self.write_metrics(&state.progress.history)?;
            self.observer.epoch_done(&stats);
            if stopped_early {
                break;
            }
            if self.stop.is_some_and(|f| f.load(Ordering::SeqCst)) && epoch < s.epochs {
                return self.interrupt(task, state, epoch + 1, iters);
            }
        }
        let best = state.progress.best;
        match &state.best_weights {
            Some(weights) => task.model().restore_snapshot(weights),
            None => self.save_model(task.model())?,
        }
        // The weights model.safetensors holds: the best validated epoch's, else the last one's.
        let saved = best.map_or(state.progress.epochs_done, |(epoch, _)| epoch);
        // Epoch 0 is marked only where it was scored (a start that is a candidate).
        let marked = (saved > 0 || best.is_some()).then_some(saved);
        self.write_plot(&task.curve(), &state.progress.history, marked)?;
        Ok(Outcome::Finished { best, stopped_early })
    }

    /// Why `state` cannot be trained further with these settings, if it cannot: every epoch
    /// done, or early stopping already ended it.
    pub fn finished_reason<F: Real>(&self, state: &TrainState<F>) -> Option<String> {
        let p = &state.progress;
        if p.epochs_done >= self.settings.epochs {
            return Some(format!(
                "it finished its {} epochs; pass --epochs N (more than {}) to train it further",
                p.epochs_done, p.epochs_done
            ));
        }
        let patience = self.settings.patience;
        match p.best {
            Some((best, _)) if patience > 0 && p.batch == 0 && p.epochs_done - best >= patience => Some(format!(
                "early stopping ended it after epoch {} ({patience} epochs without a better validation score than \
                 epoch {best}'s); pass a larger --patience (or 0) to train it further",
                p.epochs_done
            )),
            _ => None,
        }
    }

    fn interrupt<F: Real>(
        &mut self,
        task: &mut dyn Task<F>,
        state: &mut TrainState<F>,
        epoch: usize,
        iters: usize,
    ) -> Result<Outcome> {
        self.save_checkpoint(task, state)?;
        self.write_metrics(&state.progress.history)?;
        if state.best_weights.is_none() {
            self.save_model(task.model())?;
        }
        Ok(Outcome::Interrupted { epoch, batch: state.progress.batch, batches_per_epoch: iters })
    }

    fn has_checkpoint(&self) -> bool {
        self.run.is_some_and(|r| r.path(checkpoint::CHECKPOINT).exists())
    }

    fn save_checkpoint<F: Real>(&self, task: &mut dyn Task<F>, state: &mut TrainState<F>) -> Result<()> {
        match self.run {
            Some(run) => checkpoint::save(&run.path(checkpoint::CHECKPOINT), task, state),
            None => Ok(()),
        }
    }

    fn save_model<F: Real>(&self, model: &mut dyn Model<F>) -> Result<()> {
        match self.run {
            Some(run) => run.save_tensors(&model.state_dict()),
            None => Ok(()),
        }
    }

    fn write_metrics(&self, history: &[EpochStats]) -> Result<()> {
        match self.run {
            Some(run) => run.write_metrics(history),
            None => Ok(()),
        }
    }

    /// The curves against epochs, with a dashed line at the `saved` epoch (`saved: epoch N`).
    fn write_plot(&self, curve: &Curve, history: &[EpochStats], saved: Option<usize>) -> Result<()> {
        let Some(run) = self.run else { return Ok(()) };
        let points = |key: &str| -> Vec<(f64, f64)> {
            history.iter().filter_map(|e| Some((e.epoch as f64, e.figure(key)?))).collect()
        };
        let mut series = vec![Series { name: "train".into(), points: points(curve.train_key) }];
        let valid = points(curve.valid_key);
        if !valid.is_empty() {
            series.push(Series { name: "valid".into(), points: valid });
        }
        let chart = Chart {
            title: curve.title,
            x_label: "epoch",
            y_label: curve.y_label,
            log_y: curve.log_y,
            series: &series,
        };
        let marks: Vec<Mark> = saved
            .map(|e| Mark {
                x: e as f64,
                label: format!("saved: epoch {e}{}", if e == 0 { " (the start)" } else { "" }),
            })
            .into_iter()
            .collect();
        let ticks = epoch_ticks(history.last().map_or(1, |e| e.epoch));
        write_panels(&run.path(curve.stem), &[Panel { chart, x_ticks: &ticks, marks: &marks }])?;
        Ok(())
    }
}

/// One epoch of `task` with the book's loop: forward, backward, clipping to global norm `clip`
/// (if given), `optimizer`'s step at its rate; every update applied, NaN or not. Calls
/// `on_batch(batch_index, loss)` after each batch. Returns the epoch's mean loss (NaN if training
/// diverged). The convenience under `tasks::{lm, forecast}::train_epoch`.
pub fn train_one_epoch<F: Real>(
    task: &mut dyn Task<F>,
    optimizer: &mut Optimizer<F>,
    clip: Option<f64>,
    on_batch: &mut dyn FnMut(usize, f64),
) -> f64 {
    struct Calls<'c>(&'c mut dyn FnMut(usize, f64));
    impl Observer for Calls<'_> {
        fn batch_done(&mut self, _epoch: usize, index: usize, loss: f64, _grad_norm: Option<f64>) {
            (self.0)(index, loss)
        }
    }
    let settings = Settings {
        epochs: 1,
        lr: optimizer.lr(),
        lr_rule: LrRule::CONSTANT,
        clip,
        weight_decay: 0.0,
        patience: 0,
        on_nan: OnNan::Ignore,
    };
    let placeholder = Optimizer::new(crate::optim::OptimizerKind::Sgd, 0.0, 0.0);
    let mut state = TrainState::new(std::mem::replace(optimizer, placeholder));
    let mut observer = Calls(on_batch);
    let mut trainer = Trainer { settings: &settings, run: None, stop: None, observer: &mut observer };
    let outcome = trainer.fit(task, &mut state);
    *optimizer = state.optimizer;
    match outcome {
        Ok(Outcome::Finished { .. }) => state.progress.history[0].train_loss,
        Ok(Outcome::Diverged { .. }) => f64::NAN,
        Ok(Outcome::Interrupted { .. }) => unreachable!("no stop flag"),
        Err(e) => panic!("an epoch without files or validation failed: {e}"),
    }
}

/// The error of a diverged run, in the words of the command that resumes it (`resume`: e.g.
/// `recur classify train`, to which `--resume DIR --lr X` is added).
pub fn diverged_error(outcome: &Outcome, run: &RunDir, resume: &str, lr: f64) -> Error {
    let Outcome::Diverged { place, what, epochs_done, checkpoint } = outcome else {
        panic!("diverged_error of {outcome:?}");
    };
    let path = run.path(checkpoint::CHECKPOINT);
    let last_good = if *checkpoint {
        format!(
            "the last good checkpoint is {} (end of epoch {epochs_done}); resume from it with a lower rate: \
             {resume} --resume {} --lr {}",
            path.display(),
            run.root.display(),
            short(lr / 10.0)
        )
    } else {
        "there is no checkpoint yet (it diverged in the first epoch): start again with a lower --lr or with --clip"
            .to_string()
    };
    Error::msg(format!("{place}: {what}; {last_good}"))
}

/// A number for a message: plain when moderate, in exponent form when huge or tiny.
pub fn short(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e6).contains(&x.abs()) {
        format!("{x:.3e}")
    } else {
        format!("{x}")
    }
}
