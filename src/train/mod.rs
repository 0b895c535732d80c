//! Training: the one engine every task runs on ([`Trainer`] over a [`Task`]), the truncated-BPTT
//! batcher, the metrics of an epoch, what observes a run (the epoch lines, TensorBoard; the
//! command line draws its progress bar with the same [`Observer`]).

pub mod bptt;
pub mod engine;
pub mod epoch_lines;
pub mod metrics;
pub mod observer;
pub mod order;
pub mod tensorboard;

pub use bptt::BpttBatcher;
pub use engine::{
    BatchLoss, Curve, Evaluation, Observer, OnNan, Outcome, Overrides, Settings, Silent, Task, TaskState,
    TrainState, Trainer,
};
pub use epoch_lines::EpochLines;
pub use metrics::{resident_mib, EpochStats};
pub use tensorboard::TensorboardLog;
