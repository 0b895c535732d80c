//! The training checkpoint of a run (`checkpoint.safetensors`), the same for every task:
//! everything `--resume` needs to go on as if the run had never stopped.
//!
//! One safetensors file, written atomically, so a crash or a `kill -9` at any moment leaves the
//! previous checkpoint or the new one, never a mix:
//!
//! ```text
//! model.<name>             every parameter (the store's names: PyTorch's)
//! best.<name>              the best epoch's weights, for validated runs once there is one
//! optimizer.<buf>.<name>   Momentum's `velocity`, Adam's `m` and `v`
//! task.<name>              the task's own tensors (the language model's carried states)
//! __metadata__             "recur.progress": Progress as JSON (epoch, batch, learning rate,
//!                          best score, dropout generator, the task's JSON state, metrics so far)
//! ```
//!
//! Floats in the JSON round-trip exactly (serde_json's `float_roundtrip`), so a resumed run on
//! one thread repeats the uninterrupted run's numbers digit for digit.

use crate::error::{Error, Result};
use crate::io::checkpoint;
use crate::io::run_dir::RunDir;
use crate::params::Params;
use crate::tensor::{Real, Rng};
use crate::train::engine::{Settings, Task, TrainState, Trainer};
use crate::train::EpochStats;
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// File name of the checkpoint: weights, optimizer state and [`Progress`].
pub const CHECKPOINT: &str = "checkpoint.safetensors";
const PROGRESS_KEY: &str = "recur.progress";
/// 2: one format for every task (1: the language model's alone, before the engine).
const VERSION: u32 = 2;

/// Where training stands. An epoch boundary has `batch == 0`; an interrupted epoch keeps what
/// its finished batches summed, so the resumed epoch's mean is the same number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Format version of the checkpoint (2 now); other versions are refused.
    pub version: u32,
    /// Epochs finished (their lines are in `history`).
    pub epochs_done: usize,
    /// Batches of epoch `epochs_done + 1` already trained.
    pub batch: usize,
    /// Their weighted loss sum and summed weights, how many were skipped (`--on-nan skip`),
    /// and their seconds.
    pub loss_sum: f64,
    /// Sum of the weights of the finished batches (rows or tokens).
    pub weight_sum: f64,
    /// Batches skipped for a non-finite loss or gradient.
    pub skipped: usize,
    /// Seconds those batches took.
    pub seconds: f64,
    /// The rate of the last epoch begun, and whether the epoch before improved validation
    /// (the inputs of the next epoch's learning-rate rule).
    pub lr: f64,
    /// Whether the epoch before improved validation.
    pub improved: bool,
    /// Best validation so far: (epoch, score); its weights are the `best.` tensors.
    pub best: Option<(usize, f64)>,
    /// The model's dropout generator, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropout_rng: Option<[u64; 4]>,
    /// Optimizer steps taken so far (restored into the optimizer on resume, e.g. Adam's bias
    /// correction).
    pub optimizer_steps: u64,
    /// The task's own state (cursors, shuffle order, generators, counters).
    #[serde(default)]
    pub task: serde_json::Value,
    /// One line per finished epoch, as in `metrics.jsonl`.
    pub history: Vec<EpochStats>,
}

impl Progress {
    /// A run about to start epoch 1.
    pub fn start(lr: f64) -> Self {
        Progress {
            version: VERSION,
            epochs_done: 0,
            batch: 0,
            loss_sum: 0.0,
            weight_sum: 0.0,
            skipped: 0,
            seconds: 0.0,
            lr,
            improved: true,
            best: None,
            dropout_rng: None,
            optimizer_steps: 0,
            task: serde_json::Value::Null,
            history: Vec::new(),
        }
    }
}

/// Writes the checkpoint: the progress completed with the dropout generator, the optimizer's
/// step count and the task's state, and every tensor listed in the module docs.
pub fn save<F: Real>(path: &Path, task: &mut dyn Task<F>, state: &TrainState<F>) -> Result<()> {
    let task_state = task.save_state();
    let (buffers, steps) = state.optimizer.state();
    let model = task.model();
    let progress = Progress {
        dropout_rng: model.dropout_rng().map(|r| r.state()),
        optimizer_steps: steps,
        task: task_state.json,
        ..state.progress.clone()
    };
    let params = model.params();
    let named = |prefix: &str, id| format!("{prefix}.{}", params.name(id));
    let mut tensors: Vec<(String, ArrayD<F>)> =
        params.ids().map(|id| (named("model", id), params.value(id).to_owned())).collect();
    if let Some(best) = &state.best_weights {
        tensors.extend(params.ids().zip(best).map(|(id, w)| (named("best", id), w.clone())));
    }
    for (buf, values) in buffers {
        tensors.extend(params.ids().zip(values).map(|(id, v)| (named(&format!("optimizer.{buf}"), id), v)));
    }
    tensors.extend(task_state.tensors.into_iter().map(|(name, t)| (format!("task.{name}"), t)));
    let json = serde_json::to_string(&progress).expect("Progress always serialises");
    checkpoint::save_with_metadata(path, &tensors, &[(PROGRESS_KEY, json)])
}

/// The training state to go on with the run in `run`, from its checkpoint, for `task` (built
/// from the run's config): refuses a run with no checkpoint, one whose epochs are all done or
/// that early stopping ended. `lr` replaces the rate from now on.
pub fn resume<F: Real>(
    run: &RunDir,
    task: &mut dyn Task<F>,
    optimizer: crate::optim::Optimizer<F>,
    settings: &Settings,
    lr: Option<f64>,
) -> Result<TrainState<F>> {
    let checkpoint = run.path(CHECKPOINT);
    if !checkpoint.exists() {
        return Err(Error::file(
            &checkpoint,
            "not found: this run has no checkpoint to resume from (runs made before checkpoints existed, or by other tools, cannot be resumed)",
        ));
    }
    let mut state = restore(&checkpoint, task, optimizer)?;
    let iters = task.batches_per_epoch();
    if state.progress.batch >= iters {
        return Err(Error::file(
            &checkpoint,
            format!("batch {} of an epoch of {iters} batches; expected fewer", state.progress.batch),
        ));
    }
    let trainer = Trainer { settings, run: None, stop: None, observer: &mut crate::train::Silent };
    if let Some(why) = trainer.finished_reason(&state) {
        return Err(Error::msg(format!("{}: {why}", run.root.display())));
    }
    if let Some(lr) = lr {
        state.progress.lr = lr;
    }
    Ok(state)
}

/// Reads a checkpoint into `task` (its model built from the run's config) and returns the
/// training state, checking every tensor against the model before changing anything but the
/// task's own state.
pub fn restore<F: Real>(
    path: &Path,
    task: &mut dyn Task<F>,
    mut optimizer: crate::optim::Optimizer<F>,
) -> Result<TrainState<F>> {
    let progress = read_progress(path)?;
    let mut tensors = checkpoint::load::<F>(path)?;
    let model = task.model();
    let weights = take_group(path, &mut tensors, "model", model.params())?
        .ok_or_else(|| Error::file(path, "no `model.` tensors; expected the weights of the run's model"))?;
    let best = take_group(path, &mut tensors, "best", model.params())?;
    if best.is_some() != progress.best.is_some() {
        return Err(Error::file(path, "the best weights and the progress's best epoch disagree"));
    }
    let mut lists = BTreeMap::new();
    for buf in ["velocity", "m", "v"] {
        if let Some(list) = take_group(path, &mut tensors, &format!("optimizer.{buf}"), model.params())? {
            lists.insert(buf, list);
        }
    }
    let task_tensors: BTreeMap<String, ArrayD<F>> = std::mem::take(&mut tensors)
        .into_iter()
        .map(|(name, t)| match name.strip_prefix("task.") {
            Some(rest) => Ok((rest.to_string(), t)),
            None => Err(Error::file(path, format!("unexpected tensor `{name}` for this run's model"))),
        })
        .collect::<Result<_>>()?;
    if model.dropout_rng().is_some() != progress.dropout_rng.is_some() {
        return Err(Error::file(path, "the dropout generator does not fit the run's model"));
    }
    task.restore_state(&progress.task, task_tensors).map_err(|e| Error::file(path, e))?;

    let model = task.model();
    model.restore_snapshot(&weights);
    if let (Some(rng), Some(state)) = (model.dropout_rng(), progress.dropout_rng) {
        *rng = Rng::from_state(state);
    }
    let mut take = |buf: &str| lists.remove(buf).unwrap_or_default();
    optimizer.set_state(&mut take, progress.optimizer_steps);
    optimizer.set_lr(progress.lr);
    Ok(TrainState { progress, optimizer, best_weights: best })
}

/// The tensors `prefix.<name>` for every parameter of `params`, in store order, removed from
/// `tensors`; `None` if there are none. Errors on a missing one or a wrong shape.
fn take_group<F: Real>(
    path: &Path,
    tensors: &mut BTreeMap<String, ArrayD<F>>,
    prefix: &str,
    params: &Params<F>,
) -> Result<Option<Vec<ArrayD<F>>>> {
    let head = format!("{prefix}.");
    let any = tensors.keys().any(|k| k.strip_prefix(&head).is_some_and(|rest| params.find(rest).is_some()));
    if !any {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(params.len());
    for id in params.ids() {
        let name = format!("{head}{}", params.name(id));
        let t = tensors
            .remove(&name)
            .ok_or_else(|| Error::file(path, format!("missing tensor `{name}` for this run's model")))?;
        if t.shape() != params.value(id).shape() {
            return Err(Error::file(
                path,
                format!(
                    "tensor `{name}` has shape {:?}; the run's model needs {:?}",
                    t.shape(),
                    params.value(id).shape()
                ),
            ));
        }
        out.push(t);
    }
    Ok(Some(out))
}

/// The progress JSON from the file's header, read without loading the tensors.
pub fn read_progress(path: &Path) -> Result<Progress> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let size = file.metadata().map_err(|e| Error::io(path, "read", e))?.len();
    let mut len = [0u8; 8];
    file.read_exact(&mut len).map_err(|_| Error::file(path, "too short for a safetensors header"))?;
    let len = u64::from_le_bytes(len);
    if len > size.saturating_sub(8) || len > 100 << 20 {
        return Err(Error::file(path, format!("header length {len} does not fit the file ({size} bytes)")));
    }
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header).map_err(|e| Error::io(path, "read", e))?;
    let header: serde_json::Value = serde_json::from_slice(&header)
        .map_err(|e| Error::file(path, format!("the safetensors header is not JSON ({e})")))?;
    let json =
        header.get("__metadata__").and_then(|m| m.get(PROGRESS_KEY)).and_then(|v| v.as_str()).ok_or_else(
            || {
                Error::file(
                    path,
                    format!(
                    "no `{PROGRESS_KEY}` in the header; expected a checkpoint written by a `recur ... train`"
                ),
                )
            },
        )?;
    let version =
        serde_json::from_str::<serde_json::Value>(json).ok().and_then(|v| v.get("version")?.as_u64());
    if version != Some(VERSION as u64) {
        return Err(Error::file(
            path,
            format!(
                "checkpoint version {}; this recur reads version {VERSION} (a run checkpointed by an older recur \
                 cannot be resumed; its model.safetensors still loads)",
                version.map_or("unknown".to_string(), |v| v.to_string())
            ),
        ));
    }
    let progress: Progress = serde_json::from_str(json)
        .map_err(|e| Error::file(path, format!("`{PROGRESS_KEY}` is not a training progress ({e})")))?;
    if progress.history.len() != progress.epochs_done {
        return Err(Error::file(path, "the progress's metrics do not match its epoch count"));
    }
    Ok(progress)
}
