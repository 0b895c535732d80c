//! `--tensorboard DIR`: a run's figures as TensorBoard scalars, through the [`Observer`] calls.
//!
//! The step of every scalar is the number of batches done since the run began (a resumed run
//! goes on counting where its checkpoint stopped). Tags:
//!
//! ```text
//! every N batches  batch/loss, batch/grad_norm          (the batch's, before clipping)
//! every epoch      train/loss, train/grad_norm (the mean of the epoch's batch norms), lr,
//!                  every figure of the metrics line: train_X -> train/X, valid_X -> valid/X
//!                  (valid/loss, valid/ppl, valid/accuracy, ...), others under epoch/
//!                  (epoch/seconds, epoch/tokens_per_s, epoch/rss_mib, epoch/skipped)
//! ```
//!
//! An observer cannot fail the run: the first write error stops the log and is kept for
//! [`TensorboardLog::take_error`].

use super::metrics::EpochStats;
use super::observer::Observer;
use crate::error::{Error, Result};
use crate::io::tensorboard::EventWriter;
use std::path::Path;

/// Writes a run's scalars to an event file.
pub struct TensorboardLog {
    writer: Option<EventWriter>,
    /// Batch scalars every this many batches.
    every: usize,
    batches_per_epoch: usize,
    /// The gradient norms of the epoch's batches seen by this process.
    norm_sum: f64,
    norms: usize,
    error: Option<Error>,
}

impl TensorboardLog {
    /// A new event file in `dir`; batch scalars every `every` batches (at least 1).
    pub fn create(dir: &Path, every: usize) -> Result<TensorboardLog> {
        if every == 0 {
            return Err(Error::msg(
                "--tensorboard-every must be at least 1 (batches between two batch scalars)",
            ));
        }
        Ok(TensorboardLog {
            writer: Some(EventWriter::create(dir)?),
            every,
            batches_per_epoch: 0,
            norm_sum: 0.0,
            norms: 0,
            error: None,
        })
    }

    /// The first write error, if writing failed (nothing was written after it).
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }

    fn write(&mut self, step: usize, scalars: &[(String, f64)]) {
        let Some(writer) = &mut self.writer else { return };
        if let Err(e) = writer.scalars(step as i64, scalars) {
            self.error = Some(e);
            self.writer = None;
        }
    }
}

/// The scalars of an epoch's metrics line, by tag.
pub fn epoch_scalars(stats: &EpochStats) -> Vec<(String, f64)> {
    let mut scalars = vec![
        ("train/loss".to_string(), stats.train_loss),
        ("lr".to_string(), stats.lr),
        ("epoch/seconds".to_string(), stats.seconds),
    ];
    if stats.skipped > 0 {
        scalars.push(("epoch/skipped".into(), stats.skipped as f64));
    }
    if let Some(rss) = stats.rss_mib {
        scalars.push(("epoch/rss_mib".into(), rss));
    }
    for (key, &value) in &stats.figures {
        scalars.push((tag_of(key), value));
    }
    scalars
}

/// `valid_ppl` -> `valid/ppl`, `train_accuracy` -> `train/accuracy`, `tokens_per_s` ->
/// `epoch/tokens_per_s`: TensorBoard groups the charts by what comes before the slash.
fn tag_of(key: &str) -> String {
    for split in ["train", "valid", "test"] {
        if let Some(name) = key.strip_prefix(split).and_then(|k| k.strip_prefix('_')) {
            return format!("{split}/{name}");
        }
    }
    format!("epoch/{key}")
}

impl Observer for TensorboardLog {
    fn started(&mut self, _epochs: usize, batches_per_epoch: usize, _done: usize) {
        self.batches_per_epoch = batches_per_epoch;
    }

    fn epoch_started(&mut self, _epoch: usize) {
        (self.norm_sum, self.norms) = (0.0, 0);
    }

    fn batch_done(&mut self, epoch: usize, index: usize, loss: f64, grad_norm: Option<f64>) {
        if let Some(norm) = grad_norm.filter(|n| n.is_finite()) {
            self.norm_sum += norm;
            self.norms += 1;
        }
        let step = (epoch - 1) * self.batches_per_epoch + index + 1;
        if step.is_multiple_of(self.every) {
            let mut scalars = vec![("batch/loss".to_string(), loss)];
            if let Some(norm) = grad_norm {
                scalars.push(("batch/grad_norm".into(), norm));
            }
            self.write(step, &scalars);
        }
    }

    fn epoch_done(&mut self, stats: &EpochStats) {
        let mut scalars = epoch_scalars(stats);
        if self.norms > 0 {
            scalars.push(("train/grad_norm".into(), self.norm_sum / self.norms as f64));
        }
        self.write(stats.epoch * self.batches_per_epoch, &scalars);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn figures_are_grouped_by_split() {
        assert_eq!(tag_of("valid_ppl"), "valid/ppl");
        assert_eq!(tag_of("train_accuracy"), "train/accuracy");
        assert_eq!(tag_of("tokens_per_s"), "epoch/tokens_per_s");
        assert_eq!(tag_of("trainee"), "epoch/trainee");
        let stats = EpochStats {
            epoch: 2,
            train_loss: 1.5,
            lr: 0.1,
            seconds: 3.0,
            skipped: 0,
            rss_mib: None,
            figures: BTreeMap::from([("valid_loss".to_string(), 1.25)]),
        };
        let tags: Vec<String> = epoch_scalars(&stats).into_iter().map(|(t, _)| t).collect();
        assert_eq!(tags, ["train/loss", "lr", "epoch/seconds", "valid/loss"]);
    }
}
