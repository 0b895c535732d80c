//! The training checkpoint of a language-model run (`checkpoint.safetensors`): everything
//! `recur train --resume` needs to go on as if it had never stopped.
//!
//! One safetensors file, written atomically, so a crash or a `kill -9` at any moment leaves the
//! previous checkpoint or the new one, never a mix:
//!
//! ```text
//! model.<name>             every parameter (the store's names: PyTorch's)
//! best.<name>              the best epoch's weights, for validated runs once there is one
//! optimizer.<buf>.<name>   Momentum's `velocity`, Adam's `m` and `v`
//! state.<k>                recurrent layer k's carried state (absent: zeros)
//! __metadata__             "recur.progress": Progress as JSON (epoch, batch, learning rate,
//!                          best score, batcher cursor, dropout generator, metrics so far)
//! ```
//!
//! Floats in the JSON round-trip exactly (serde_json's `float_roundtrip`), so a resumed run on
//! one thread repeats the uninterrupted run's numbers digit for digit.

use crate::error::{Error, Result};
use crate::io::checkpoint;
use crate::models::Lm;
use crate::optim::Optimizer;
use crate::params::Params;
use crate::tensor::{Real, Rng};
use crate::train::{BpttBatcher, EpochStats};
use ndarray::{ArrayD, Ix2};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

pub const CHECKPOINT: &str = "checkpoint.safetensors";
const PROGRESS_KEY: &str = "recur.progress";
const VERSION: u32 = 1;

/// Where training stands. An epoch boundary has `batch == 0`; an interrupted epoch keeps what
/// its finished batches summed, so the resumed epoch's mean is the same number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub version: u32,
    /// Epochs finished (their lines are in `history`).
    pub epochs_done: usize,
    /// Batches of epoch `epochs_done + 1` already trained.
    pub batch: usize,
    /// Their summed loss, how many of them were skipped (`--on-nan skip`), and their seconds.
    pub loss_sum: f64,
    pub skipped: usize,
    pub seconds: f64,
    /// The rate of the last epoch begun, and whether the epoch before improved validation
    /// (the inputs of the next epoch's learning-rate rule).
    pub lr: f64,
    pub improved: bool,
    /// Best validation so far: (epoch, perplexity); its weights are the `best.` tensors.
    pub best: Option<(usize, f64)>,
    pub batcher_cursor: usize,
    pub dropout_rng: [u64; 4],
    pub optimizer_steps: u64,
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
            skipped: 0,
            seconds: 0.0,
            lr,
            improved: true,
            best: None,
            batcher_cursor: 0,
            dropout_rng: [0; 4],
            optimizer_steps: 0,
            history: Vec::new(),
        }
    }
}

/// Writes the checkpoint: `progress` completed with the batcher's cursor, the dropout
/// generator and the optimizer's step count, and every tensor listed in the module docs.
pub fn save<F: Real>(
    path: &Path,
    progress: &Progress,
    model: &mut Lm<F>,
    optimizer: &Optimizer<F>,
    batcher: &BpttBatcher,
    best_weights: Option<&[ArrayD<F>]>,
) -> Result<()> {
    let (buffers, steps) = optimizer.state();
    let progress = Progress {
        batcher_cursor: batcher.cursor(),
        dropout_rng: model.dropout_rng_mut().state(),
        optimizer_steps: steps,
        ..progress.clone()
    };
    let params = &model.params;
    let named = |prefix: &str, id| format!("{prefix}.{}", params.name(id));
    let mut tensors: Vec<(String, ArrayD<F>)> =
        params.ids().map(|id| (named("model", id), params.value(id).to_owned())).collect();
    if let Some(best) = best_weights {
        tensors.extend(params.ids().zip(best).map(|(id, w)| (named("best", id), w.clone())));
    }
    for (buf, values) in buffers {
        tensors.extend(params.ids().zip(values).map(|(id, v)| (named(&format!("optimizer.{buf}"), id), v)));
    }
    for (k, state) in model.carried_states().into_iter().enumerate() {
        if let Some(s) = state {
            tensors.push((format!("state.{k}"), s.into_dyn()));
        }
    }
    let json = serde_json::to_string(&progress).expect("Progress always serialises");
    checkpoint::save_with_metadata(path, &tensors, &[(PROGRESS_KEY, json)])
}

/// Reads a checkpoint into `model`, `optimizer` and `batcher` (built from the run's config),
/// checking every tensor against them. Returns the progress and the best weights (store order).
pub fn restore<F: Real>(
    path: &Path,
    model: &mut Lm<F>,
    optimizer: &mut Optimizer<F>,
    batcher: &mut BpttBatcher,
) -> Result<(Progress, Option<Vec<ArrayD<F>>>)> {
    let progress = read_progress(path)?;
    let mut tensors = checkpoint::load::<F>(path)?;
    let weights = take_group(path, &mut tensors, "model", &model.params)?
        .ok_or_else(|| Error::file(path, "no `model.` tensors; expected the weights of the run's model"))?;
    let best = take_group(path, &mut tensors, "best", &model.params)?;
    if best.is_some() != progress.best.is_some() {
        return Err(Error::file(path, "the best weights and the progress's best epoch disagree"));
    }
    let mut lists = BTreeMap::new();
    for buf in ["velocity", "m", "v"] {
        if let Some(list) = take_group(path, &mut tensors, &format!("optimizer.{buf}"), &model.params)? {
            lists.insert(buf, list);
        }
    }
    let mut states = Vec::with_capacity(model.rnns.len());
    for (k, rnn) in model.rnns.iter().enumerate() {
        let state = match tensors.remove(&format!("state.{k}")) {
            None => None,
            Some(s) => {
                let s = s.into_dimensionality::<Ix2>().ok().filter(|s| s.ncols() == rnn.state_size());
                let s = s.ok_or_else(|| {
                    Error::file(
                        path,
                        format!("`state.{k}` is not (batch, {}) as layer {k} needs", rnn.state_size()),
                    )
                })?;
                if s.nrows() != batcher.batch_size() {
                    return Err(Error::file(
                        path,
                        format!(
                            "`state.{k}` has {} rows; the run's batch size is {}",
                            s.nrows(),
                            batcher.batch_size()
                        ),
                    ));
                }
                Some(s)
            }
        };
        states.push(state);
    }
    if let Some(extra) = tensors.keys().next() {
        return Err(Error::file(path, format!("unexpected tensor `{extra}` for this run's model")));
    }

    // Everything checked: now change the model.
    let ids: Vec<_> = model.params.ids().collect();
    for (id, w) in ids.iter().zip(weights) {
        model.params.value_mut(*id).assign(&w);
    }
    let mut take = |buf: &str| lists.remove(buf).unwrap_or_default();
    optimizer.set_state(&mut take, progress.optimizer_steps);
    model.set_carried_states(&states);
    *model.dropout_rng_mut() = Rng::from_state(progress.dropout_rng);
    batcher.set_cursor(progress.batcher_cursor);
    Ok((progress, best))
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
    let json = header
        .get("__metadata__")
        .and_then(|m| m.get(PROGRESS_KEY))
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            Error::file(
                path,
                format!("no `{PROGRESS_KEY}` in the header; expected a checkpoint written by `recur train`"),
            )
        })?;
    let progress: Progress = serde_json::from_str(json)
        .map_err(|e| Error::file(path, format!("`{PROGRESS_KEY}` is not a training progress ({e})")))?;
    if progress.history.len() != progress.epochs_done {
        return Err(Error::file(path, "the progress's metrics do not match its epoch count"));
    }
    if progress.version != VERSION {
        return Err(Error::file(
            path,
            format!("checkpoint version {}; this recur reads version {VERSION}", progress.version),
        ));
    }
    Ok(progress)
}
