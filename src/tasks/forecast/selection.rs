//! Which weights a forecast run keeps (`--select`) when the linear path makes the untrained
//! model, epoch 0, the linear baseline.
//!
//! The best validation epoch is the minimum of one noisy figure over every epoch, and on a short
//! series a handful of validation windows decides it: on sunspotarea (10 validation years) each
//! of five seeds beat the linear model on validation by 4-13% and lost to it on the test years by
//! 6-33%. `significant` keeps the best epoch only when its gain over epoch 0 is beyond chance on
//! the validation windows, by a one-sided Diebold-Mariano test at 5%
//! ([`super::significance::diebold_mariano`]); otherwise it keeps epoch 0, the linear model, as
//! a forecaster compares a model with its benchmark before using it.

#![warn(missing_docs)]

use super::forecast_original;
use super::significance::diebold_mariano;
use crate::data::series::Dataset;
use crate::models::Forecaster;
use crate::tensor::Real;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

/// The significance level of `--select significant`.
pub const ALPHA: f64 = 0.05;

/// How a run with a linear path and a validation part picks the weights it keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Select {
    /// The best validation epoch, epoch 0 (the linear model) among them (Keras'
    /// `ModelCheckpoint(save_best_only=True)`).
    Best,
    /// The best epoch if its validation forecasts beat epoch 0's beyond chance (a one-sided
    /// Diebold-Mariano test at 5%), else epoch 0: the linear model.
    Significant,
}

impl Select {
    /// What a run written before `--select` existed did: keep the best epoch.
    pub fn absent_in_older_runs() -> Select {
        Select::Best
    }

    /// `"best"` or `"significant"`, as in configs and flags.
    pub fn name(self) -> &'static str {
        match self {
            Select::Best => "best",
            Select::Significant => "significant",
        }
    }
}

/// What `--select significant` found (`result.json`'s `selection`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// The best validation epoch.
    pub best_epoch: usize,
    /// Its validation error (the reported metric).
    pub best_valid: f64,
    /// Its test error (reported, never used to choose), if there is a test part.
    pub best_test: Option<f64>,
    /// The one-sided p-value of "the best epoch forecasts the validation windows better than the
    /// linear model" (None: too few windows to test, and epoch 0 is kept).
    pub p_value: Option<f64>,
    /// The epoch whose weights were kept: `best_epoch` or 0.
    pub kept_epoch: usize,
}

impl Selection {
    /// One line saying what was kept and why.
    pub fn describe(&self, metric: &str) -> String {
        let p = match self.p_value {
            None => "no test: fewer than two validation windows".to_string(),
            Some(p) if p < 0.001 => "p < 0.001".to_string(),
            Some(p) => format!("p = {p:.3}"),
        };
        // As the table prints them: six decimals under 1 (MSE of small series), else three.
        let figure = |v: f64| if v < 1.0 { format!("{v:.6}") } else { format!("{v:.3}") };
        let best_test = self.best_test.map(|t| format!(", test {}", figure(t))).unwrap_or_default();
        if self.kept_epoch == self.best_epoch {
            format!(
                "kept epoch {}: it beats the linear model on the validation windows beyond chance (Diebold-Mariano {p}, \
                 needs < {ALPHA})",
                self.best_epoch
            )
        } else {
            format!(
                "kept the linear model (epoch 0): the best epoch, {} (valid {metric} {}{best_test}), does not beat it \
                 on the validation windows beyond chance (Diebold-Mariano {p}, needs < {ALPHA}); --select best keeps it",
                self.best_epoch,
                figure(self.best_valid)
            )
        }
    }
}

/// Each window's loss: its squared error, averaged over the k steps (N, k: forecasts and truth).
pub fn window_losses(forecasts: ArrayView2<f64>, truth: ArrayView2<f64>) -> Vec<f64> {
    forecasts
        .rows()
        .into_iter()
        .zip(truth.rows())
        .map(|(f, t)| f.iter().zip(t).map(|(f, t)| (f - t) * (f - t)).sum::<f64>() / f.len().max(1) as f64)
        .collect()
}

/// The p-value that `trained`'s validation forecasts beat `start`'s (the linear model, epoch 0).
/// A CSV series' consecutive windows overlap for k > 1 steps, so the test allows for
/// autocorrelation up to lag k - 1; synthetic windows are separate series.
pub fn gain_p_value<F: Real>(
    data: &Dataset,
    start: &mut Forecaster<F>,
    trained: &mut Forecaster<F>,
    horizon: usize,
) -> Option<f64> {
    let split = &data.valid;
    let truth = split.raw.targets();
    let linear = window_losses(forecast_original(start, data, split).view(), truth);
    let network = window_losses(forecast_original(trained, data, split).view(), truth);
    let lags = if data.series.is_empty() { 1 } else { horizon };
    diebold_mariano(&linear, &network, lags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn window_losses_average_the_steps() {
        let f = array![[1.0, 2.0], [0.0, 0.0]];
        let t = array![[1.0, 4.0], [3.0, -1.0]];
        assert_eq!(window_losses(f.view(), t.view()), vec![2.0, 5.0]);
    }

    #[test]
    fn the_line_names_what_was_kept() {
        let kept =
            Selection { best_epoch: 7, best_valid: 1.0, best_test: None, p_value: Some(0.01), kept_epoch: 7 };
        assert!(kept.describe("RMSE").starts_with("kept epoch 7:"));
        let linear = Selection { kept_epoch: 0, p_value: Some(0.31), best_test: Some(2.5), ..kept };
        let line = linear.describe("RMSE");
        assert!(line.starts_with("kept the linear model (epoch 0)"), "{line}");
        assert!(line.contains("p = 0.310") && line.contains("test 2.500"), "{line}");
    }
}
