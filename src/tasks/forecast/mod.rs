//! The forecasting task: windows of a series in shuffled mini-batches (Hands-On ML chapter 15's
//! training of a deep RNN on the engine).
//!
//! Every epoch begins with a Fisher-Yates shuffle of the M training windows, drawn from the task's
//! generator (the one that drew the weights, continued); batch i is the windows
//! `order[i B .. (i + 1) B]`, the last batch smaller, each weighted by its windows in the epoch's
//! mean loss. Validation forecasts every validation window (the last step's forecast for seq2seq)
//! and gives `valid_mse` (the network's units) and `valid_error`, the reported error: MSE in the
//! series' own units for synthetic data, RMSE in the file's units for a CSV series, after undoing
//! every transform. The score (the best epoch) is `valid_error`. With the linear path the model
//! before training (the linear model alone) is scored too, as epoch 0.
//!
//! The task's checkpointed state is JSON: the epoch's order and the generator's state after the
//! shuffle, so a run resumed mid-epoch reads the same batches and the next epoch draws the same
//! order. The forecaster carries no state between windows and draws no dropout masks.

pub mod future;
pub mod result;
pub mod run;
pub mod selection;
pub mod significance;

use crate::data::series::{mse, Dataset, LinearForecast, SplitWindows};
use crate::error::Result;
use crate::models::forecaster::forecast;
use crate::models::{ForecastMode, Forecaster, Model};
use crate::tensor::{fit, Real, Rng};
use crate::train::engine::{BatchLoss, Curve, Evaluation, Task, TaskState};
use crate::train::order::SavedOrder;
use ndarray::{Array2, Array3, ArrayD, ArrayView2, ArrayView3, Axis, Ix3};
use std::collections::BTreeMap;

/// Windows per forward pass when forecasting without gradients (validation, test, plots).
pub const EVAL_BATCH: usize = 1000;

/// A forecaster, its training windows, its batch size and generator, and the data set it is
/// validated on if it has a validation part. Borrowed, so the caller keeps the model and the
/// generator between calls.
pub struct ForecastTask<'a, F: Real> {
    /// The forecaster being trained (borrowed: the caller keeps it).
    pub model: &'a mut Forecaster<F>,
    /// (M, W, D) in the network's units.
    inputs: ArrayView3<'a, F>,
    /// (M, 1, k) seq2vec or (M, W, k) seq2seq (see [`train_targets`]).
    targets: ArrayView3<'a, F>,
    batch_size: usize,
    rng: &'a mut Rng,
    /// This epoch's order of the training windows.
    order: Vec<usize>,
    valid: Option<(&'a Dataset, Array3<F>)>,
    xb: Array3<F>,
    tb: Array3<F>,
}

impl<'a, F: Real> ForecastTask<'a, F> {
    /// Trains on `inputs` / `targets` (as [`network_inputs`] and [`train_targets`] give them) in
    /// batches of `batch_size`, shuffled by `rng`.
    pub fn new(
        model: &'a mut Forecaster<F>,
        inputs: ArrayView3<'a, F>,
        targets: ArrayView3<'a, F>,
        batch_size: usize,
        rng: &'a mut Rng,
    ) -> Self {
        let m = inputs.len_of(Axis(0));
        assert_eq!(m, targets.len_of(Axis(0)), "ForecastTask: inputs and targets differ in rows");
        assert!(batch_size > 0, "ForecastTask: batch size 0");
        ForecastTask {
            model,
            inputs,
            targets,
            batch_size,
            rng,
            order: (0..m).collect(),
            valid: None,
            xb: Array3::zeros((0, 0, 0)),
            tb: Array3::zeros((0, 0, 0)),
        }
    }

    /// Validates every epoch on `data`'s validation part, if it has one.
    pub fn validated(mut self, data: &'a Dataset) -> Self {
        if !data.valid.model.is_empty() {
            self.valid = Some((data, network_inputs(&data.valid)));
        }
        self
    }

    fn windows(&self) -> usize {
        self.order.len()
    }
}

impl<F: Real> Task<F> for ForecastTask<'_, F> {
    fn model(&mut self) -> &mut dyn Model<F> {
        self.model
    }

    fn batches_per_epoch(&self) -> usize {
        self.windows().div_ceil(self.batch_size)
    }

    fn items(&self) -> (&'static str, usize) {
        ("windows", self.batch_size)
    }

    /// A new order from the identity, as every epoch of the loop before the engine drew it.
    fn begin_epoch(&mut self, _epoch: usize) {
        for (i, o) in self.order.iter_mut().enumerate() {
            *o = i;
        }
        for i in (1..self.order.len()).rev() {
            self.order.swap(i, self.rng.below(i + 1)); // Fisher-Yates
        }
    }

    fn train_batch(&mut self, index: usize) -> BatchLoss {
        let start = index * self.batch_size;
        let rows = &self.order[start..(start + self.batch_size).min(self.order.len())];
        gather(&mut self.xb, self.inputs, rows);
        gather(&mut self.tb, self.targets, rows);
        let loss = self.model.forward(self.xb.view(), self.tb.view()).to_f64();
        self.model.backward();
        BatchLoss { loss, weight: rows.len() as f64 }
    }

    fn train_figures(&mut self, _mean_loss: f64) -> BTreeMap<String, f64> {
        BTreeMap::new()
    }

    fn validate(&mut self) -> Result<Option<Evaluation>> {
        let Some((data, inputs)) = &self.valid else { return Ok(None) };
        let pred = forecast(self.model, inputs.view(), EVAL_BATCH).mapv(|v| v.to_f64());
        let valid_mse = mse(pred.view(), data.valid.model.targets());
        let valid_error = error_of(data, &data.valid, pred.view());
        Ok(Some(Evaluation {
            score: valid_error,
            figures: BTreeMap::from([
                ("valid_mse".to_string(), valid_mse),
                ("valid_error".to_string(), valid_error),
            ]),
        }))
    }

    /// With the linear path the untrained forecaster is the linear model: epoch 0 competes.
    fn start_is_candidate(&self) -> bool {
        self.model.config.linear_path
    }

    fn save_state(&mut self) -> TaskState<F> {
        TaskState::of_json(SavedOrder { order: self.order.clone(), rng: self.rng.state() }.to_json())
    }

    fn restore_state(
        &mut self,
        json: &serde_json::Value,
        tensors: BTreeMap<String, ArrayD<F>>,
    ) -> Result<()> {
        let saved = SavedOrder::read(json, self.windows(), "training windows")?;
        TaskState::expect_no_tensors(&tensors, ": a forecaster keeps none")?;
        self.order = saved.order;
        *self.rng = Rng::from_state(saved.rng);
        Ok(())
    }

    fn curve(&self) -> Curve {
        Curve {
            stem: "loss",
            title: match self.model.config.mode {
                ForecastMode::Seq2vec => "Forecaster loss",
                ForecastMode::Seq2seq => "Forecaster loss (train: every step; valid: the last step)",
            },
            y_label: "MSE (network units)",
            train_key: "train_loss",
            valid_key: "valid_mse",
            log_y: true,
        }
    }
}

/// Sets `model`'s linear path, if it has one, to the linear baseline: the least-squares fit on
/// `data`'s training windows (the network's units).
pub fn fit_linear_path<F: Real>(model: &mut Forecaster<F>, data: &Dataset) {
    if model.config.linear_path {
        let linear = LinearForecast::fit(data.train.model.inputs(), data.train.model.targets());
        model.set_linear(linear.weight.view(), linear.bias.view());
    }
}

/// The network's inputs of `split`, (N, W, 1).
pub fn network_inputs<F: Real>(split: &SplitWindows) -> Array3<F> {
    split.model.inputs().insert_axis(Axis(2)).mapv(F::of)
}

/// The training targets of `split` for `mode`: the k values after the window, (N, 1, k)
/// (seq2vec), or the k values after every step, (N, W, k) (seq2seq).
pub fn train_targets<F: Real>(split: &SplitWindows, mode: ForecastMode) -> Array3<F> {
    match mode {
        ForecastMode::Seq2vec => split.model.targets().insert_axis(Axis(1)).mapv(F::of),
        ForecastMode::Seq2seq => split.model.step_targets().mapv(F::of),
    }
}

/// `"MSE"` (synthetic series, their own units) or `"RMSE"` (a CSV series, the file's units).
pub fn metric_name(data: &Dataset) -> &'static str {
    if data.series.is_empty() {
        "MSE"
    } else {
        "RMSE"
    }
}

/// The reported error of network forecasts `pred` (N, k, the network's units) of `split`'s
/// windows: see [`original_error`].
pub fn error_of(data: &Dataset, split: &SplitWindows, pred: ArrayView2<f64>) -> f64 {
    let original = data.to_original(split, pred);
    original_error(data, original.view(), split)
}

/// The reported error of forecasts in original units: MSE (synthetic) or RMSE (CSV) against
/// `split`'s targets.
pub fn original_error(data: &Dataset, original: ArrayView2<f64>, split: &SplitWindows) -> f64 {
    let m = mse(original, split.raw.targets());
    if data.series.is_empty() {
        m
    } else {
        m.sqrt()
    }
}

/// Network forecasts of the k steps after each of `split`'s windows, in original units (N, k).
pub fn forecast_original<F: Real>(
    model: &mut Forecaster<F>,
    data: &Dataset,
    split: &SplitWindows,
) -> Array2<f64> {
    let pred = forecast(model, network_inputs::<F>(split).view(), EVAL_BATCH).mapv(|v| v.to_f64());
    data.to_original(split, pred.view())
}

/// One pass over `inputs` (M, T, D) / `targets` (M, T_out, k) on the engine: shuffled
/// mini-batches of `batch_size` (the last one smaller), each a forward, backward, optional
/// global-norm clip and optimizer step; `on_batch(index, loss)` after each. Returns the mean loss
/// over the windows (NaN if training diverged: every update is applied, as the loop before the
/// engine did).
#[allow(clippy::too_many_arguments)]
pub fn train_epoch<F: Real>(
    model: &mut Forecaster<F>,
    inputs: ArrayView3<F>,
    targets: ArrayView3<F>,
    batch_size: usize,
    optimizer: &mut crate::optim::Optimizer<F>,
    clip: Option<f64>,
    rng: &mut Rng,
    on_batch: &mut dyn FnMut(usize, f64),
) -> f64 {
    let mut task = ForecastTask::new(model, inputs, targets, batch_size.max(1), rng);
    crate::train::engine::train_one_epoch(&mut task, optimizer, clip, on_batch)
}

/// `buf` = the rows `rows` of `src`, in that order.
fn gather<F: Real>(buf: &mut Array3<F>, src: ArrayView3<F>, rows: &[usize]) {
    let (_, t, d) = src.dim();
    fit(buf, Ix3(rows.len(), t, d));
    for (i, &r) in rows.iter().enumerate() {
        buf.index_axis_mut(Axis(0), i).assign(&src.index_axis(Axis(0), r));
    }
}
