//! A forecaster trained with recur's engine on the forecast task: two stacked RNN layers read a
//! window of a series and an affine head on the last step forecasts the next value, on top of a
//! fixed least-squares model of the window (the network learns what the linear model misses).
//! Shows windows of a series with its transform (log, then the change from a season back),
//! `ForecastTask` on the `Trainer` (shuffled windows, Adam, the best validation epoch kept), the
//! check `forecast train --select significant` makes (is that epoch better than the linear model
//! beyond chance on the validation windows? a Diebold-Mariano test), and the test error in the
//! file's units next to the baselines (last value, seasonal last value, the linear model alone).
//!
//! Data: `$RECUR_DATA/timeseries/AirPassengers.csv` (monthly passengers 1949-1960; the last 24
//! months are the test part, the 12 before validation), the recipe of recur's README. Without the
//! file it forecasts Hands-On ML's synthetic series (two sine waves and noise, 2,000 series of 51
//! steps, MSE), generated here.
//!
//! Run: `cargo run --release --example forecast` (`--quick`: a few epochs, for CI).

mod common;

use recur::data::csv::read_column;
use recur::data::series::{
    last_value, seasonal_last_value, Dataset, LinearForecast, SeriesSpec, SplitWindows,
};
use recur::models::{ForecastMode, Forecaster, ForecasterConfig};
use recur::optim::{Optimizer, OptimizerKind};
use recur::tasks::forecast::selection::{gain_p_value, ALPHA};
use recur::tasks::forecast::{
    fit_linear_path, forecast_original, metric_name, network_inputs, original_error, train_targets,
    ForecastTask,
};
use recur::tensor::Rng;
use recur::train::{EpochLines, Settings, TrainState, Trainer};

fn main() {
    let quick = common::quick();
    let (data, season, epochs) =
        match common::data_file("timeseries/AirPassengers.csv", "forecasting the synthetic series instead") {
            Some(path) => {
                let column = common::or_exit(read_column(&path, None));
                println!("{}: {} monthly values of `{}`", path.display(), column.values.len(), column.name);
                let spec =
                    SeriesSpec { window: 24, horizon: 1, test_last: 24, valid_last: 12, log: true, diff: 12 };
                (
                    common::or_exit(Dataset::from_series(&column.values, &spec)),
                    12,
                    if quick { 5 } else { 200 },
                )
            }
            None => {
                let count = if quick { 200 } else { 2_000 };
                println!("synthetic series: {count} series of 50 steps and the next value");
                (common::or_exit(Dataset::synthetic(count, 50, 1, 42)), 0, if quick { 2 } else { 20 })
            }
        };
    let metric = metric_name(&data);
    println!(
        "windows: {} training, {} validation, {} test",
        data.train.model.len(),
        data.valid.model.len(),
        data.test.model.len()
    );

    // `forecast train`'s default: two RNN layers of 20, the next step, on the linear path.
    let config = ForecasterConfig::default().with_linear_path(true);
    let mut rng = Rng::new(1);
    let mut model: Forecaster<f32> = Forecaster::new(config.clone(), &mut rng);
    // Before training the network's head is zero, so the model is the least-squares fit alone.
    fit_linear_path(&mut model, &data);

    let inputs = network_inputs::<f32>(&data.train); // (M, W, 1)
    let targets = train_targets::<f32>(&data.train, ForecastMode::Seq2vec); // (M, 1, 1)
    let settings = Settings::default().with_epochs(epochs).with_lr(0.001);
    let mut task =
        ForecastTask::new(&mut model, inputs.view(), targets.view(), 32, &mut rng).validated(&data);
    let mut state = TrainState::new(Optimizer::new(OptimizerKind::Adam, settings.lr, 0.0));
    // About ten lines: the first epoch, every tenth of the run, the last.
    println!(
        "train_loss: MSE of the transformed series; valid_mse the same on validation, valid_error its {metric} \
         in the series' own units"
    );
    let mut observer = EpochLines::new(std::io::stdout()).every((epochs / 10).max(1));
    let mut trainer = Trainer { settings: &settings, run: None, stop: None, observer: &mut observer };
    println!("{:?}", common::or_exit(trainer.fit(&mut task, &mut state)));

    // The model holds the best validation epoch's weights. Errors in the series' own units.
    let test = &data.test;
    let error = |pred: ndarray::Array2<f64>, split: &SplitWindows| original_error(&data, pred.view(), split);
    let linear = LinearForecast::fit(data.train.model.inputs(), data.train.model.targets());
    println!("test {metric}:");
    println!("  last value            {:10.4}", error(last_value(&test.raw), test));
    if season > 0 {
        println!("  seasonal last value   {:10.4}", error(seasonal_last_value(&test.raw, season), test));
    }
    let linear_pred = data.to_original(test, linear.predict(test.model.inputs()).view());
    println!("  linear on the window  {:10.4}", error(linear_pred, test));
    println!("  linear + 2 x RNN 20   {:10.4}", error(forecast_original(&mut model, &data, test), test));

    // `--select significant`: the untrained model (the same seed draws the same weights) is the
    // linear model; keep the trained one only if the validation windows say it is better beyond
    // chance. The test part is reported, never used to choose.
    let mut start: Forecaster<f32> = Forecaster::new(config, &mut Rng::new(1));
    fit_linear_path(&mut start, &data);
    match gain_p_value(&data, &mut start, &mut model, 1) {
        Some(p) if p < ALPHA => println!("kept: the trained network (Diebold-Mariano p = {p:.3} < {ALPHA})"),
        p => {
            let p = p.map_or("no test".to_string(), |p| format!("p = {p:.3}"));
            let kept = error(forecast_original(&mut start, &data, test), test);
            println!("kept: the linear model, {kept:.4} (the network's gain is within chance: Diebold-Mariano {p})");
        }
    }
}
