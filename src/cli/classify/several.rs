//! What a run of several models (`--folds`, `--ensemble`) prints and logs: the final members'
//! epoch lines, each fold's line, and with `--tensorboard DIR` one TensorBoard run a model,
//! `DIR/<folder>` (`fold-1`, `fold-1/member-2`, `final`, `member-2`: `ModelOf::folder`), so
//! that TensorBoard draws them side by side.

use super::train::{epoch_line, print_fold};
use crate::cli::flags::TensorboardFlags;
use recur::tasks::classify::cv::FoldResult;
use recur::tasks::classify::members::{MembersObserver, ModelOf};
use recur::train::{EpochStats, Observer, TensorboardLog};
use recur::Result;

/// `RECUR_STOP_AFTER_MEMBERS=K`: a final ensemble's run exits (code 130) once member K is kept,
/// for the tests of `--resume`.
const STOP_AFTER_MEMBERS_ENV: &str = "RECUR_STOP_AFTER_MEMBERS";

/// The command line's observer of a run of several models.
pub(super) struct Several<'a> {
    /// The run's folds (0: none), for the fold lines.
    folds: usize,
    tensorboard: &'a TensorboardFlags,
    /// The TensorBoard log of the model training now.
    log: Option<TensorboardLog>,
    /// Whether the model training now prints its epochs (the final model's do; the folds'
    /// models are summed up by their fold's line).
    lines: bool,
}

impl<'a> Several<'a> {
    pub(super) fn new(folds: usize, tensorboard: &'a TensorboardFlags) -> Self {
        Several { folds, tensorboard, log: None, lines: false }
    }
}

impl Observer for Several<'_> {
    fn started(&mut self, epochs: usize, batches_per_epoch: usize, done: usize) {
        self.log.started(epochs, batches_per_epoch, done);
    }

    fn epoch_started(&mut self, epoch: usize) {
        self.log.epoch_started(epoch);
    }

    fn batch_done(&mut self, epoch: usize, index: usize, loss: f64, grad_norm: Option<f64>) {
        self.log.batch_done(epoch, index, loss, grad_norm);
    }

    fn epoch_done(&mut self, stats: &EpochStats) {
        if self.lines {
            println!("{}", epoch_line(stats));
        }
        self.log.epoch_done(stats);
    }
}

impl MembersObserver for Several<'_> {
    fn model_started(&mut self, model: &ModelOf) -> Result<()> {
        self.lines = model.fold.is_none();
        if self.lines && model.members > 1 {
            println!("ensemble member {}/{}", model.member, model.members);
        }
        if let Some(dir) = &self.tensorboard.tensorboard {
            self.log =
                Some(TensorboardLog::create(&dir.join(model.folder()), self.tensorboard.tensorboard_every)?);
        }
        Ok(())
    }

    fn model_done(&mut self, model: &ModelOf) {
        if let Some(e) = self.log.take().as_mut().and_then(TensorboardLog::take_error) {
            // The model trained; only its TensorBoard log stopped.
            eprintln!("warning: the TensorBoard log of {} stopped: {e}", model.folder());
        }
        // Tests stop an ensemble at a chosen member, as Ctrl-C would somewhere.
        let stop_after = std::env::var(STOP_AFTER_MEMBERS_ENV).ok().and_then(|v| v.parse::<usize>().ok());
        if model.fold.is_none() && model.members > 1 && stop_after == Some(model.member) {
            println!("stopped after ensemble member {} ({STOP_AFTER_MEMBERS_ENV})", model.member);
            std::process::exit(130);
        }
    }

    fn model_kept(&mut self, model: &ModelOf, best_epoch: usize) {
        println!(
            "ensemble member {}/{}: kept by the interrupted run (best epoch {best_epoch})",
            model.member, model.members
        );
    }

    fn fold_done(&mut self, fold: &FoldResult) {
        print_fold(fold, self.folds);
    }
}
