//! Time series for forecasting: the Hands-On ML synthetic generator, windows, the transform of a
//! real series (optional log, optional seasonal or first difference, standardisation fitted on the
//! training part only), and the baselines a forecaster is compared with.
//!
//! A window is W + k consecutive values: the first W are the input, the last k the targets (the
//! k steps after the window). For a sequence-to-sequence model every step t < W also has targets,
//! the k values after it: `ys[n, t, j] = window[n, t + 1 + j]`, so the last step's are the window's.
//!
//! Splits of one real series of length L (`--test-last`, `--valid-last`): a window belongs to the
//! split its k targets lie in, so training windows see nothing of the validation or test values as
//! targets, and the standardisation uses only the values before the validation part. Inputs of a
//! validation or test window are true past values (rolling-origin, one-step-or-k-step forecasts).

use crate::tensor::Rng;
use crate::Error;
use ndarray::{s, Array1, Array2, Array3, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Hands-On ML's `generate_time_series(count, steps)`: per series `freq1, freq2, offset1, offset2
/// ~ U(0, 1)`, `t = linspace(0, 1, steps)`, `x = 0.5 sin((t - offset1)(10 freq1 + 10)) +
/// 0.2 sin((t - offset2)(20 freq2 + 20)) + 0.1 (U(0, 1) - 0.5)`. Draw order as NumPy's: the four
/// (count) vectors, then the noise row by row. Returns (count, steps).
pub fn synthetic_series(count: usize, steps: usize, rng: &mut Rng) -> Array2<f64> {
    let mut draw = |n: usize| (0..n).map(|_| rng.uniform()).collect::<Vec<f64>>();
    let (freq1, freq2, offset1, offset2) = (draw(count), draw(count), draw(count), draw(count));
    let noise = draw(count * steps);
    let denom = steps.saturating_sub(1).max(1) as f64;
    Array2::from_shape_fn((count, steps), |(n, i)| {
        let t = if steps == 1 { 0.0 } else { i as f64 / denom };
        0.5 * ((t - offset1[n]) * (freq1[n] * 10.0 + 10.0)).sin()
            + 0.2 * ((t - offset2[n]) * (freq2[n] * 20.0 + 20.0)).sin()
            + 0.1 * (noise[n * steps + i] - 0.5)
    })
}

/// Rows of W + k consecutive values, and where each row's targets start in its series.
#[derive(Clone, Debug, PartialEq)]
pub struct Windows {
    /// Each row: W inputs, then k targets, (N, W + k).
    pub values: Array2<f64>, // (N, W + k)
    /// W: the number of input steps a row begins with.
    pub window: usize,
    /// k: the number of target steps a row ends with.
    pub horizon: usize,
    /// Index of each row's first target in the original series (CSV); the row number (synthetic).
    pub starts: Vec<usize>,
}

impl Windows {
    /// N: the number of rows.
    pub fn len(&self) -> usize {
        self.values.nrows()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.values.nrows() == 0
    }

    /// The inputs, (N, W).
    pub fn inputs(&self) -> ArrayView2<'_, f64> {
        self.values.slice(s![.., ..self.window])
    }

    /// The k values after each window, (N, k).
    pub fn targets(&self) -> ArrayView2<'_, f64> {
        self.values.slice(s![.., self.window..])
    }

    /// Sequence-to-sequence targets: the k values after every step, (N, W, k).
    pub fn step_targets(&self) -> Array3<f64> {
        let (w, k) = (self.window, self.horizon);
        Array3::from_shape_fn((self.len(), w, k), |(n, t, j)| self.values[[n, t + 1 + j]])
    }

    fn rows(&self, range: std::ops::Range<usize>) -> Windows {
        Windows {
            values: self.values.slice(s![range.clone(), ..]).to_owned(),
            window: self.window,
            horizon: self.horizon,
            starts: self.starts[range].to_vec(),
        }
    }
}

/// The windows of `series` whose first target index `tau` is in `taus`: `series[tau - W .. tau + k]`.
pub fn windows_at(series: &[f64], taus: &[usize], window: usize, horizon: usize) -> Windows {
    let values = Array2::from_shape_fn((taus.len(), window + horizon), |(n, i)| series[taus[n] - window + i]);
    Windows { values, window, horizon, starts: taus.to_vec() }
}

/// How a real series is turned into what the network sees, and back: optional natural log,
/// optional difference at `diff` steps (`z_t - z_{t-diff}`), then `(v - mean) / std` with the
/// mean and standard deviation of the training part only. The identity for synthetic data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    /// Whether the natural log is taken first (positive series only).
    pub log: bool,
    /// Lag of the difference (0 = none, 1 = first difference, the season = seasonal difference).
    pub diff: usize,
    /// Mean of the training values after log and difference, subtracted.
    pub mean: f64,
    /// Standard deviation of the same values, divided by (1 for a constant series).
    pub std: f64,
}

impl Transform {
    /// The transform that changes nothing (synthetic data).
    pub fn identity() -> Self {
        Transform { log: false, diff: 0, mean: 0.0, std: 1.0 }
    }

    /// Fits the standardisation on the transformed values at indices `diff..fit_end`.
    pub fn fit(series: &[f64], log: bool, diff: usize, fit_end: usize) -> crate::Result<Self> {
        if log {
            if let Some(i) = series.iter().position(|&v| v <= 0.0) {
                return Err(Error::msg(format!(
                    "--log needs positive values; value {} is {}",
                    i + 1,
                    series[i]
                )));
            }
        }
        let mut t = Transform { log, diff, mean: 0.0, std: 1.0 };
        let z = t.apply(series);
        let part = &z[diff.min(fit_end)..fit_end];
        if part.len() < 2 {
            return Err(Error::msg(format!(
                "the training part has {} usable values; at least 2 are needed",
                part.len()
            )));
        }
        let mean = part.iter().sum::<f64>() / part.len() as f64;
        let var = part.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / part.len() as f64;
        t.mean = mean;
        // A constant part (to rounding) keeps the unit scale rather than magnifying rounding noise.
        t.std = if var.sqrt() > 1e-12 * mean.abs().max(1.0) { var.sqrt() } else { 1.0 };
        Ok(t)
    }

    /// The transformed series, same length; the first `diff` values (no lagged value) are NaN.
    pub fn apply(&self, series: &[f64]) -> Vec<f64> {
        let z: Vec<f64> = series.iter().map(|&v| if self.log { v.ln() } else { v }).collect();
        (0..z.len())
            .map(|i| match self.diff {
                0 => (z[i] - self.mean) / self.std,
                d if i >= d => (z[i] - z[i - d] - self.mean) / self.std,
                _ => f64::NAN,
            })
            .collect()
    }

    /// Forecasts in original units of `series[tau .. tau + k]` from the network's `pred` (k values,
    /// transformed units), given the true values before `tau`. A difference is undone step by
    /// step: `z_{tau+j} = z_{tau+j-diff} + d_{tau+j}`, with earlier forecasts where the lag
    /// reaches past `tau`.
    pub fn invert(&self, series: &[f64], tau: usize, pred: &[f64]) -> Vec<f64> {
        let zt = |v: f64| if self.log { v.ln() } else { v };
        let mut z: Vec<f64> = Vec::with_capacity(pred.len());
        for (j, &p) in pred.iter().enumerate() {
            let d = p * self.std + self.mean;
            let v = match self.diff {
                0 => d,
                lag if j >= lag => z[j - lag] + d,
                lag => zt(series[tau + j - lag]) + d,
            };
            z.push(v);
        }
        z.into_iter().map(|v| if self.log { v.exp() } else { v }).collect()
    }
}

/// One split: the windows the network sees (transformed units) and the same windows in original
/// units (baselines and reported errors). Identical for synthetic data.
#[derive(Clone, Debug)]
pub struct SplitWindows {
    /// The windows in the network's units (after the transform).
    pub model: Windows,
    /// The same windows in the series' own units.
    pub raw: Windows,
}

/// A forecasting data set: train, validation and test windows and the transform between them.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The transform from original units to the network's, fitted on the training part.
    pub transform: Transform,
    /// Training windows.
    pub train: SplitWindows,
    /// Validation windows (may be empty).
    pub valid: SplitWindows,
    /// Test windows.
    pub test: SplitWindows,
    /// The whole original series (CSV); empty for synthetic data (each row is its own series).
    pub series: Vec<f64>,
}

impl Dataset {
    /// Hands-On ML's setup: `count` series of W + k steps drawn from `Rng::new(seed)`, the first
    /// 70% for training, the next 20% for validation, the last 10% for test (7,000 / 2,000 / 1,000).
    pub fn synthetic(count: usize, window: usize, horizon: usize, seed: u64) -> crate::Result<Self> {
        if count < 10 {
            return Err(Error::msg(format!("--series must be at least 10 (got {count})")));
        }
        let values = synthetic_series(count, window + horizon, &mut Rng::new(seed));
        let all = Windows { values, window, horizon, starts: (0..count).collect() };
        let (a, b) = (count * 7 / 10, count * 9 / 10);
        let split = |r: std::ops::Range<usize>| {
            let w = all.rows(r);
            SplitWindows { model: w.clone(), raw: w }
        };
        Ok(Dataset {
            transform: Transform::identity(),
            train: split(0..a),
            valid: split(a..b),
            test: split(b..count),
            series: Vec::new(),
        })
    }

    /// Windows of one real series: test = windows whose targets lie in the last `test_last`
    /// values, validation = those in the `valid_last` values before, training = the rest; the
    /// transform is fitted on the values before the validation part.
    pub fn from_series(series: &[f64], spec: &SeriesSpec) -> crate::Result<Self> {
        let (w, k, len) = (spec.window, spec.horizon, series.len());
        let test_start = len
            .checked_sub(spec.test_last)
            .ok_or_else(|| Error::msg("--test-last is longer than the series"))?;
        let train_end = test_start
            .checked_sub(spec.valid_last)
            .ok_or_else(|| Error::msg("--valid-last + --test-last exceed the series"))?;
        if spec.test_last < k {
            return Err(Error::msg(format!(
                "--test-last ({}) must be at least --horizon ({k})",
                spec.test_last
            )));
        }
        if spec.valid_last != 0 && spec.valid_last < k {
            return Err(Error::msg(format!(
                "--valid-last ({}) must be 0 or at least --horizon ({k})",
                spec.valid_last
            )));
        }
        let transform = Transform::fit(series, spec.log, spec.diff, train_end)?;
        let first = spec.diff + w; // the first tau whose inputs are all defined
        let taus = |lo: usize, hi: usize| (lo.max(first)..=hi.saturating_sub(k)).collect::<Vec<usize>>();
        let train_taus = if train_end >= first + k { taus(0, train_end) } else { Vec::new() };
        if train_taus.is_empty() {
            return Err(Error::msg(format!(
                "the training part ({train_end} values) is too short for --window {w}{} and --horizon {k}",
                if spec.diff > 0 { format!(" after --diff {}", spec.diff) } else { String::new() }
            )));
        }
        let valid_taus = if spec.valid_last > 0 { taus(train_end, test_start) } else { Vec::new() };
        let test_taus = taus(test_start, len);
        let z = transform.apply(series);
        let split =
            |t: &[usize]| SplitWindows { model: windows_at(&z, t, w, k), raw: windows_at(series, t, w, k) };
        Ok(Dataset {
            train: split(&train_taus),
            valid: split(&valid_taus),
            test: split(&test_taus),
            transform,
            series: series.to_vec(),
        })
    }

    /// Network outputs (N, k) for `split`'s windows, in original units.
    pub fn to_original(&self, split: &SplitWindows, pred: ArrayView2<f64>) -> Array2<f64> {
        if self.series.is_empty() {
            return pred.to_owned();
        }
        let mut out = Array2::zeros(pred.raw_dim());
        for (n, &tau) in split.model.starts.iter().enumerate() {
            let row = self.transform.invert(&self.series, tau, &pred.row(n).to_vec());
            out.row_mut(n).assign(&Array1::from(row));
        }
        out
    }
}

/// Windowing of one real series (see [`Dataset::from_series`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesSpec {
    /// W: input steps a window.
    pub window: usize,
    /// k: steps forecast at once.
    pub horizon: usize,
    /// The series' last `test_last` values are the test targets (at least k).
    pub test_last: usize,
    /// The `valid_last` values before them are the validation targets (0 = none, else at least k).
    pub valid_last: usize,
    /// Take the natural log before anything else.
    pub log: bool,
    /// Difference lag (0 = none).
    pub diff: usize,
}

/// Naive forecast: the window's last value for each of the k steps, (N, k).
pub fn last_value(windows: &Windows) -> Array2<f64> {
    let w = windows.window;
    Array2::from_shape_fn((windows.len(), windows.horizon), |(n, _)| windows.values[[n, w - 1]])
}

/// Seasonal naive forecast: each target's value one season back (`season` steps, or whole
/// seasons more for targets beyond the first season), (N, k). Needs `1 <= season <= W`.
pub fn seasonal_last_value(windows: &Windows, season: usize) -> Array2<f64> {
    assert!(season >= 1 && season <= windows.window, "season {season} outside 1..={}", windows.window);
    let w = windows.window;
    Array2::from_shape_fn((windows.len(), windows.horizon), |(n, j)| {
        let back = season * (j / season + 1);
        windows.values[[n, w + j - back]]
    })
}

/// Linear regression on the window: `y = x B + b`, x the W inputs, y the k targets, fitted by
/// least squares in closed form (centred normal equations, Cholesky; a ridge of 1e-9 times the
/// mean variance keeps constant windows solvable).
#[derive(Clone, Debug, PartialEq)]
pub struct LinearForecast {
    /// B, (W, k): each target's weight on each input step.
    pub weight: Array2<f64>, // (W, k)
    /// b, (k): each target's intercept.
    pub bias: Array1<f64>, // (k)
}

impl LinearForecast {
    /// Least squares of `targets` (N, k) on `inputs` (N, W). Panics if their row counts differ.
    pub fn fit(inputs: ArrayView2<f64>, targets: ArrayView2<f64>) -> Self {
        assert_eq!(inputs.nrows(), targets.nrows(), "LinearForecast: inputs and targets differ in rows");
        assert!(inputs.nrows() > 0, "LinearForecast: no training windows");
        let x_mean = inputs.mean_axis(Axis(0)).expect("rows > 0");
        let y_mean = targets.mean_axis(Axis(0)).expect("rows > 0");
        let xc = &inputs - &x_mean;
        let yc = &targets - &y_mean;
        let mut gram = xc.t().dot(&xc); // (W, W)
        let w = gram.nrows();
        let ridge = 1e-9 * (gram.diag().sum() / w as f64).max(1e-12);
        gram.diag_mut().mapv_inplace(|v| v + ridge);
        let rhs = xc.t().dot(&yc); // (W, k)
        let weight = cholesky_solve(gram, rhs);
        let bias = &y_mean - &x_mean.dot(&weight);
        LinearForecast { weight, bias }
    }

    /// inputs (N, W) -> forecasts (N, k).
    pub fn predict(&self, inputs: ArrayView2<f64>) -> Array2<f64> {
        inputs.dot(&self.weight) + &self.bias
    }
}

/// Solves `A X = B` for a symmetric positive-definite A (W, W) and B (W, k).
fn cholesky_solve(a: Array2<f64>, b: Array2<f64>) -> Array2<f64> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|p| l[[i, p]] * l[[j, p]]).sum();
            if i == j {
                l[[i, i]] = (a[[i, i]] - sum).max(1e-300).sqrt();
            } else {
                l[[i, j]] = (a[[i, j]] - sum) / l[[j, j]];
            }
        }
    }
    let mut x = b;
    for c in 0..x.ncols() {
        for i in 0..n {
            let sum: f64 = (0..i).map(|p| l[[i, p]] * x[[p, c]]).sum();
            x[[i, c]] = (x[[i, c]] - sum) / l[[i, i]];
        }
        for i in (0..n).rev() {
            let sum: f64 = (i + 1..n).map(|p| l[[p, i]] * x[[p, c]]).sum();
            x[[i, c]] = (x[[i, c]] - sum) / l[[i, i]];
        }
    }
    x
}

/// Mean squared error over every element.
pub fn mse(pred: ArrayView2<f64>, truth: ArrayView2<f64>) -> f64 {
    assert_eq!(pred.dim(), truth.dim(), "mse: shapes differ");
    let n = pred.len().max(1) as f64;
    pred.iter().zip(truth).map(|(p, t)| (p - t).powi(2)).sum::<f64>() / n
}
