//! What the engine tells as training goes: the [`Observer`] trait, and the ways to combine
//! observers (the progress bar and a TensorBoard log together, an optional one).

use super::metrics::EpochStats;

/// Told as training goes (the command line draws its progress bar with it).
pub trait Observer {
    /// Before the first batch: epochs, batches per epoch, batches already done (a resumed run).
    fn started(&mut self, _epochs: usize, _batches_per_epoch: usize, _done: usize) {}
    /// Epoch `epoch` (from 1) is about to begin.
    fn epoch_started(&mut self, _epoch: usize) {}
    /// After every batch (skipped ones included), with its loss and its gradients' global norm
    /// before clipping (None where the engine did not compute it: no clipping and `OnNan::Ignore`).
    fn batch_done(&mut self, _epoch: usize, _index: usize, _loss: f64, _grad_norm: Option<f64>) {}
    /// After an epoch and its validation, with its figures (the metrics line).
    fn epoch_done(&mut self, _stats: &EpochStats) {}
}

/// The observer that does nothing.
pub struct Silent;
impl Observer for Silent {}

/// Two observers told the same things, the first first (the progress bar and a TensorBoard log).
impl<A: Observer + ?Sized, B: Observer + ?Sized> Observer for (&mut A, &mut B) {
    fn started(&mut self, epochs: usize, batches_per_epoch: usize, done: usize) {
        self.0.started(epochs, batches_per_epoch, done);
        self.1.started(epochs, batches_per_epoch, done);
    }
    fn epoch_started(&mut self, epoch: usize) {
        self.0.epoch_started(epoch);
        self.1.epoch_started(epoch);
    }
    fn batch_done(&mut self, epoch: usize, index: usize, loss: f64, grad_norm: Option<f64>) {
        self.0.batch_done(epoch, index, loss, grad_norm);
        self.1.batch_done(epoch, index, loss, grad_norm);
    }
    fn epoch_done(&mut self, stats: &EpochStats) {
        self.0.epoch_done(stats);
        self.1.epoch_done(stats);
    }
}

/// An observer that may be absent (`--tensorboard` not given).
impl<T: Observer> Observer for Option<T> {
    fn started(&mut self, epochs: usize, batches_per_epoch: usize, done: usize) {
        if let Some(o) = self {
            o.started(epochs, batches_per_epoch, done);
        }
    }
    fn epoch_started(&mut self, epoch: usize) {
        if let Some(o) = self {
            o.epoch_started(epoch);
        }
    }
    fn batch_done(&mut self, epoch: usize, index: usize, loss: f64, grad_norm: Option<f64>) {
        if let Some(o) = self {
            o.batch_done(epoch, index, loss, grad_norm);
        }
    }
    fn epoch_done(&mut self, stats: &EpochStats) {
        if let Some(o) = self {
            o.epoch_done(stats);
        }
    }
}
