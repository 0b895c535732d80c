//! The forecaster: stacked stateless recurrent layers over a window of a series, then an affine
//! head, trained with the mean squared error (Hands-On ML chapter 15's deep RNN).
//!
//! ```text
//! xs (N, T, 1) -> RecurrentLayer x L (each from zeros; inner layers pass every step on)
//!   seq2vec: h of the last step (N, H)   -> Affine -> ys (N, 1, k)  the k steps after the window
//!   seq2seq: h of every step (N*T, H)    -> Affine -> ys (N, T, k)  the k steps after each step
//!   linear path (seq2vec): ys += the window (N, W) -> fixed linear model -> (N, k)
//! loss = MSE(ys, ts) over all elements
//! ```
//!
//! The linear path (LSTNet's autoregressive component, `linear_path` in the config) adds a linear
//! model of the window to the head's output, so the network learns what the linear model misses.
//! It is not a parameter: it is the least-squares fit on the training windows
//! ([`Forecaster::set_linear`]), kept fixed, and saved beside the weights as `linear.weight` (k, W)
//! and `linear.bias` (k), `nn.Linear`'s layout. The head then starts at zero, so the untrained
//! forecaster forecasts what the linear model does.
//!
//! Backward is the forward in reverse: MSE -> head -> (seq2vec: the gradient enters only the last
//! step's h) -> the recurrent layers top to bottom. Parameter names are PyTorch's `nn.RNN` /
//! `nn.LSTM` / `nn.GRU` names under `rnn.` and `nn.Linear`'s under `head.`; the saved file carries a
//! zero `rnn.bias_hh_l{k}` for cells with one bias, so PyTorch loads it strictly.
//!
//! Initialisation is Keras' (what Hands-On ML trains with): input weights Glorot-uniform over the
//! packed gates, recurrent weights orthogonal, biases zero except the LSTM forget gate's (1), head
//! Glorot-uniform.

use super::model::{load_pytorch, one_bias_names, pytorch_state_dict};
use super::{init, LayerSummary};
use crate::layers::{Affine, CellKind, MseLoss};
use crate::params::{ParamId, Params};
use crate::tensor::{fit, Real, Rng};
use crate::time::{RecurrentLayer, StateMode};
use crate::Error;
use ndarray::{s, Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, ArrayView3, Axis, Ix1, Ix2, Ix3};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the head reads the recurrent layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum ForecastMode {
    /// The last step's state predicts the k steps after the window.
    Seq2vec,
    /// Every step predicts the k steps after it (more gradient signal per window).
    Seq2seq,
}

impl ForecastMode {
    /// `"seq2vec"` or `"seq2seq"`, as in configs and flags.
    pub fn name(self) -> &'static str {
        match self {
            ForecastMode::Seq2vec => "seq2vec",
            ForecastMode::Seq2seq => "seq2seq",
        }
    }
}

/// Everything needed to rebuild a forecaster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecasterConfig {
    /// The recurrent cell of every layer.
    pub cell: CellKind,
    /// D: values per time step (1 for a univariate series).
    pub input_size: usize,
    /// H.
    pub hidden_size: usize,
    /// L: stacked recurrent layers.
    pub num_layers: usize,
    /// k: steps forecast at once.
    pub horizon: usize,
    /// Whether only the last step forecasts (seq2vec) or every step does (seq2seq).
    pub mode: ForecastMode,
    /// A fixed linear model of the window added to the output (seq2vec only; older runs: off).
    #[serde(default)]
    pub linear_path: bool,
}

impl ForecasterConfig {
    /// Why this config cannot be built, if it cannot: a zero size, or a linear path outside seq2vec
    /// with one input.
    pub fn check(&self) -> crate::Result<()> {
        if self.input_size == 0 || self.hidden_size == 0 || self.num_layers == 0 || self.horizon == 0 {
            return Err(Error::msg(format!(
                "input_size, hidden_size, num_layers and horizon must be at least 1 (got {}, {}, {}, {})",
                self.input_size, self.hidden_size, self.num_layers, self.horizon
            )));
        }
        if self.linear_path && (self.mode != ForecastMode::Seq2vec || self.input_size != 1) {
            return Err(Error::msg(
                "the linear path forecasts from the whole window of one series: seq2vec with input_size 1 only",
            ));
        }
        Ok(())
    }
}

/// A recurrent forecaster: L recurrent layers over (N, T, D) values, then an affine head to k
/// values.
#[derive(Clone, Debug)]
pub struct Forecaster<F: Real> {
    /// The sizes it was built from (saved as the run's `"model"`).
    pub config: ForecasterConfig,
    /// Every weight and gradient of the model.
    pub params: Params<F>,
    /// The L recurrent layers, layer 0 reading the (N, T, D) inputs.
    pub rnns: Vec<RecurrentLayer<F>>,
    /// Top layer's h (N, H) or hs (N, T, H) -> k forecasts a row or a step.
    pub head: Affine<F>,
    /// The linear path's weight (k, W) and bias (k); W is 0 until it is set.
    linear: (Array2<F>, Array1<F>),
    loss: MseLoss<F>,
    ys: Array3<F>,  // (N, 1, k) or (N, T, k)
    dhs: Array3<F>, // (N, T, H) gradient into the top layer's outputs
    steps: usize,   // T of the last forward
}

impl<F: Real> Forecaster<F> {
    /// Builds the layers and draws the weights from `rng`. Panics on a config that
    /// [`ForecasterConfig::check`] rejects.
    pub fn new(config: ForecasterConfig, rng: &mut Rng) -> Self {
        if let Err(message) = config.check() {
            panic!("invalid ForecasterConfig: {message}");
        }
        let (d, h) = (config.input_size, config.hidden_size);
        let mut params = Params::new();
        let rnns = (0..config.num_layers)
            .map(|k| {
                let input = if k == 0 { d } else { h };
                RecurrentLayer::new(config.cell, &mut params, "rnn", k, input, h, StateMode::Stateless)
            })
            .collect();
        let head = Affine::new(&mut params, "head", h, config.horizon);
        let linear = (Array2::zeros((config.horizon, 0)), Array1::zeros(config.horizon));
        let mut model = Forecaster {
            config,
            params,
            rnns,
            head,
            linear,
            loss: MseLoss::new(),
            ys: Array3::zeros((0, 0, 0)),
            dhs: Array3::zeros((0, 0, 0)),
            steps: 0,
        };
        model.init_weights(rng);
        model
    }

    fn init_weights(&mut self, rng: &mut Rng) {
        for rnn in &self.rnns {
            init::keras_recurrent(&mut self.params, rnn, rng);
        }
        init::glorot_uniform(&mut self.params, self.head.weight, rng);
        if self.config.linear_path {
            // Drawn all the same, so the recurrent weights and the generator's stream are the
            // ones a run without the path gets.
            self.params.value_mut(self.head.weight).fill(F::zero());
        }
    }

    /// Sets the linear path to `y = x weight + bias` (weight (W, k), bias (k), as
    /// `data::series::LinearForecast` fits them). Panics on a forecaster without the path.
    pub fn set_linear(&mut self, weight: ArrayView2<f64>, bias: ArrayView1<f64>) {
        assert!(self.config.linear_path, "set_linear on a forecaster without a linear path");
        assert_eq!(
            (weight.ncols(), bias.len()),
            (self.config.horizon, self.config.horizon),
            "linear path: k"
        );
        self.linear = (weight.t().mapv(F::of), bias.mapv(F::of));
    }

    /// The linear path's weight (k, W) and bias (k).
    pub fn linear(&self) -> (ArrayView2<'_, F>, ArrayView1<'_, F>) {
        (self.linear.0.view(), self.linear.1.view())
    }

    /// Output steps per window: 1 (seq2vec) or T (seq2seq).
    pub fn output_steps(&self, steps: usize) -> usize {
        match self.config.mode {
            ForecastMode::Seq2vec => 1,
            ForecastMode::Seq2seq => steps,
        }
    }

    /// xs (N, T, D) -> ys (N, 1, k) (seq2vec) or (N, T, k) (seq2seq).
    pub fn predict(&mut self, xs: ArrayView3<F>) -> ArrayView3<'_, F> {
        let (n, t, _) = xs.dim();
        let (k, mode) = (self.config.horizon, self.config.mode);
        self.steps = t;
        let mut hs = xs;
        for rnn in self.rnns.iter_mut() {
            hs = rnn.forward(&self.params, hs);
        }
        let h = hs.dim().2;
        match mode {
            ForecastMode::Seq2vec => {
                fit(&mut self.ys, Ix3(n, 1, k));
                let y = self.head.forward(&self.params, hs.index_axis(Axis(1), t - 1));
                self.ys.index_axis_mut(Axis(1), 0).assign(&y);
                if self.config.linear_path {
                    let (weight, bias) = &self.linear;
                    let w = weight.ncols();
                    assert!(w > 0 && t >= w, "linear path: set for windows of {w}, given {t} steps");
                    // W * k multiply-adds a window: a loop, no product or allocation needed.
                    for (mut y, x) in self.ys.outer_iter_mut().zip(xs.outer_iter()) {
                        let x = x.slice(s![t - w.., 0]);
                        for (out, (row, &b)) in y.row_mut(0).iter_mut().zip(weight.outer_iter().zip(bias)) {
                            *out += b + row.iter().zip(x).fold(F::zero(), |acc, (&a, &v)| acc + a * v);
                        }
                    }
                }
            }
            ForecastMode::Seq2seq => {
                fit(&mut self.ys, Ix3(n, t, k));
                let flat = hs.to_shape((n * t, h)).expect("(N, T, H) reshapes to (N*T, H)");
                let y = self.head.forward(&self.params, flat.view());
                self.ys.assign(&y.into_shape_with_order((n, t, k)).expect("head output is contiguous"));
            }
        }
        self.ys.view()
    }

    /// Mean squared error of predicting `ts` (shaped as [`Forecaster::predict`]'s output).
    pub fn forward(&mut self, xs: ArrayView3<F>, ts: ArrayView3<F>) -> F {
        self.predict(xs);
        self.loss.forward(self.ys.view().into_dyn(), ts.into_dyn())
    }

    /// Adds the gradient of the last `forward`'s loss into `params`' gradients.
    pub fn backward(&mut self) {
        let (n, _, k) = self.ys.dim();
        let (t, h) = (self.steps, self.config.hidden_size);
        let dys = self.loss.backward(F::one());
        fit(&mut self.dhs, Ix3(n, t, h));
        match self.config.mode {
            ForecastMode::Seq2vec => {
                let dy = dys.into_shape_with_order(Ix2(n, k)).expect("dys is (N, 1, k)");
                let dh = self.head.backward(&mut self.params, dy);
                self.dhs.fill(F::zero());
                self.dhs.index_axis_mut(Axis(1), t - 1).assign(&dh);
            }
            ForecastMode::Seq2seq => {
                let dy = dys.into_shape_with_order(Ix2(n * t, k)).expect("dys is (N, T, k)");
                let dh = self.head.backward(&mut self.params, dy);
                self.dhs.assign(&dh.into_shape_with_order((n, t, h)).expect("dh is contiguous"));
            }
        }
        let mut dhs = self.dhs.view();
        for rnn in self.rnns.iter_mut().rev() {
            dhs = rnn.backward(&mut self.params, dhs);
        }
    }

    /// Each layer with its tensors and parameter count.
    pub fn summary(&self) -> Vec<LayerSummary> {
        let entry = |layer: String, ids: Vec<ParamId>| LayerSummary::of(&self.params, layer, &ids);
        let mut rows: Vec<LayerSummary> = self
            .rnns
            .iter()
            .enumerate()
            .map(|(k, rnn)| entry(format!("Time{}[{k}]", rnn.cell().name().to_uppercase()), rnn.param_ids()))
            .collect();
        rows.push(entry("Affine (head)".into(), vec![self.head.weight, self.head.bias]));
        if self.config.linear_path {
            // Fitted by least squares before training and never trained, but saved with the
            // weights: listed (and counted) so the summary accounts for every tensor of the file.
            let (weight, bias) = &self.linear;
            rows.push(LayerSummary {
                layer: "Linear path (fixed)".into(),
                tensors: vec![
                    (LINEAR_WEIGHT.to_string(), weight.shape().to_vec()),
                    (LINEAR_BIAS.to_string(), bias.shape().to_vec()),
                ],
                params: weight.len() + bias.len(),
            });
        }
        rows
    }

    /// No dropout: both modes compute the same (for the `Model` contract).
    pub fn set_training(&mut self, _training: bool) {}

    /// The tensors to save, under PyTorch's names, with a zero `bias_hh` for one-bias cells.
    pub fn state_dict(&self) -> Vec<(String, ArrayD<F>)> {
        let mut tensors = pytorch_state_dict(&self.params, &one_bias_names(&self.params, &self.rnns));
        if self.config.linear_path {
            tensors.push((LINEAR_WEIGHT.to_string(), self.linear.0.clone().into_dyn()));
            tensors.push((LINEAR_BIAS.to_string(), self.linear.1.clone().into_dyn()));
        }
        tensors
    }

    /// Sets every parameter from `tensors` (names as in [`Forecaster::state_dict`]); a one-bias
    /// cell takes `bias_ih + bias_hh`. Errors name the missing, extra or misshapen tensor.
    pub fn load_state_dict(&mut self, mut tensors: BTreeMap<String, ArrayD<F>>) -> crate::Result<()> {
        if self.config.linear_path {
            let k = self.config.horizon;
            let (Some(weight), Some(bias)) = (tensors.remove(LINEAR_WEIGHT), tensors.remove(LINEAR_BIAS))
            else {
                return Err(Error::msg(format!(
                    "the linear path's `{LINEAR_WEIGHT}` and `{LINEAR_BIAS}` are missing"
                )));
            };
            let weight = weight.into_dimensionality::<Ix2>().ok().filter(|w| w.nrows() == k && w.ncols() > 0);
            let bias = bias.into_dimensionality::<Ix1>().ok().filter(|b| b.len() == k);
            let (Some(weight), Some(bias)) = (weight, bias) else {
                return Err(Error::msg(format!(
                    "`{LINEAR_WEIGHT}` must be (k = {k}, W) and `{LINEAR_BIAS}` (k)"
                )));
            };
            self.linear = (weight, bias);
        }
        let one_bias = one_bias_names(&self.params, &self.rnns);
        load_pytorch(&mut self.params, &one_bias, tensors)
    }
}

crate::impl_model!(Forecaster);

/// The saved names of the linear path's weight and bias.
const LINEAR_WEIGHT: &str = "linear.weight";
const LINEAR_BIAS: &str = "linear.bias";

/// Forecasts of the k steps after each window, (M, k): the last output step, in batches.
pub fn forecast<F: Real>(model: &mut Forecaster<F>, inputs: ArrayView3<F>, batch_size: usize) -> Array2<F> {
    let (m, k) = (inputs.len_of(Axis(0)), model.config.horizon);
    let mut out = Array2::zeros((m, k));
    let batch = batch_size.max(1);
    for start in (0..m).step_by(batch) {
        let end = (start + batch).min(m);
        let ys = model.predict(inputs.slice(s![start..end, .., ..]));
        let last = ys.len_of(Axis(1)) - 1;
        out.slice_mut(s![start..end, ..]).assign(&ys.index_axis(Axis(1), last));
    }
    out
}
