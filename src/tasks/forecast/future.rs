//! Forecasts past the end of a series (`recur forecast predict`): the model reads the last W
//! values of the whole series (its test part included: it is known data), transformed as in
//! training (log, difference, the recorded scaling), forecasts the k steps after the end, and the
//! forecasts are mapped back to the series' units. Beyond k steps the forecasts are appended to
//! the series and the model forecasts again from the new end (recursive, as one feeds a Keras
//! model's predictions back): each round adds up to k values.

use crate::data::series::Transform;
use crate::error::{Error, Result};
use crate::models::forecaster::forecast;
use crate::models::Forecaster;
use crate::tensor::Real;
use ndarray::Array3;

/// The `steps` values after the end of `series` (original units), from windows of `window`
/// values transformed by `transform`. Fails when the series is shorter than the window (plus the
/// difference's lag), or holds a value at or below zero under a log transform.
pub fn forecast_after_end<F: Real>(
    model: &mut Forecaster<F>,
    transform: &Transform,
    window: usize,
    series: &[f64],
    steps: usize,
) -> Result<Vec<f64>> {
    let (lag, len) = (transform.diff, series.len());
    if len < window + lag {
        let diff = if lag > 0 { format!(" plus --diff {lag}") } else { String::new() };
        return Err(Error::msg(format!(
            "the series has {len} values; a forecast from its end reads the last {} (--window {window}{diff})",
            window + lag
        )));
    }
    if transform.log {
        if let Some(i) = series.iter().position(|&v| v <= 0.0) {
            return Err(Error::msg(format!(
                "value {} is {}; the run models the log of the series, which needs values above 0",
                i + 1,
                series[i]
            )));
        }
    }
    let k = model.config.horizon;
    let mut extended = series.to_vec();
    while extended.len() < len + steps {
        let end = extended.len();
        let z = transform.apply(&extended[end - window - lag..]);
        let inputs = Array3::from_shape_fn((1, window, 1), |(_, t, _)| F::of(z[lag + t]));
        let pred: Vec<f64> = forecast(model, inputs.view(), 1).iter().map(|&v| Real::to_f64(v)).collect();
        let values = transform.invert(&extended, end, &pred);
        let take = k.min(len + steps - end);
        extended.extend_from_slice(&values[..take]);
    }
    Ok(extended.split_off(len))
}
