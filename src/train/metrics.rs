//! One epoch's figures: a line of `metrics.jsonl`, the same shape for every task.
//!
//! The fixed fields are the engine's (epoch, mean training loss, learning rate, time, skipped
//! batches, memory); `figures` are the task's, flattened into the same JSON object: the language
//! model's `train_ppl` and `valid_ppl`, the classifier's `valid_accuracy`, the throughput
//! `tokens_per_s` (or `texts_per_s`, ...).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One epoch's figures: a line of `metrics.jsonl`, the engine's fixed fields and the task's
/// `figures`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// The epoch's number, from 1.
    pub epoch: usize,
    /// The mean training loss of the epoch (batches skipped for a NaN left out).
    pub train_loss: f64,
    /// The epoch's learning rate.
    pub lr: f64,
    /// Wall-clock seconds of the epoch (an interrupted epoch's parts added).
    pub seconds: f64,
    /// Batches skipped for a non-finite loss or gradient (`--on-nan skip`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped: usize,
    /// The process's resident set size at the end of the epoch, in MiB (where the system says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_mib: Option<f64>,
    /// The task's figures (`train_ppl`, `valid_loss`, `valid_accuracy`, `tokens_per_s`, ...).
    #[serde(flatten)]
    pub figures: BTreeMap<String, f64>,
}

impl EpochStats {
    /// A figure by its `metrics.jsonl` key, the fixed fields included.
    pub fn figure(&self, key: &str) -> Option<f64> {
        match key {
            "train_loss" => Some(self.train_loss),
            "lr" => Some(self.lr),
            "seconds" => Some(self.seconds),
            _ => self.figures.get(key).copied(),
        }
    }
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
