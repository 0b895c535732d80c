//! `recur forecast predict --model RUN [--steps N] [--csv FILE]`: the N steps after the end of
//! the run's CSV series (or of a newer version of it), one line a step: the step's date and the
//! forecast in the file's units.
//!
//! The dates continue the date column's step between its last two rows (daily, monthly, yearly or
//! any constant step); without a date column the steps are `+1`, `+2`, ... The model reads the
//! whole series (its test part included) with the run's transform (log, difference, the recorded
//! scaling, not refitted on a newer file); beyond its horizon k its forecasts are fed back
//! (`recur::tasks::forecast::future`).

use clap::Args;
use recur::data::dates::read_dated_column;
use recur::io::run_dir::RunDir;
use recur::tasks::forecast::future::forecast_after_end;
use recur::tasks::forecast::run::{DataSource, ForecastRunConfig};
use recur::{Error, Result};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Run directory written by `recur forecast train --csv`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Steps to forecast after the end of the series [default: the model's horizon k]. Beyond k
    /// the forecasts are fed back as inputs and forecast from again, k steps a round
    /// (recursive forecasting: the errors compound).
    #[arg(long, value_name = "N")]
    steps: Option<usize>,
    /// A newer version of the series (the same column) to forecast from its end, instead of the
    /// run's file.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

pub fn predict(args: PredictArgs) -> Result<()> {
    let run = RunDir::open(&args.model)?;
    let config = ForecastRunConfig::read(&run)?;
    let DataSource::Csv { path, column, dates, fill, .. } = &config.data else {
        return Err(Error::msg(format!(
            "{} was trained on synthetic series: forecast predict continues a CSV series; train with --csv FILE",
            run.root.display()
        )));
    };
    let path = args.csv.as_deref().unwrap_or(path);
    if args.csv.is_none() && !path.exists() {
        return Err(Error::file(path, "not found: the run's series; pass --csv FILE where it is now"));
    }
    let k = config.model.horizon;
    let steps = args.steps.unwrap_or(k);
    if steps == 0 {
        return Err(Error::msg("--steps must be at least 1"));
    }
    // A run records its date column; an older run's file is searched for one.
    let (series, found) =
        read_dated_column(path, Some(column), dates.as_ref().map(|d| d.column.as_str()), *fill)?;
    let mut model = config.load_model(&run)?;
    let values = forecast_after_end(&mut model, &config.transform, config.window, &series.values, steps)
        .map_err(|e| Error::file(path, e.message()))?;

    let dated = found.as_ref().and_then(|d| Some((d, d.step()?, d.after_end(steps)?)));
    let (labels, after): (Vec<String>, String) = match dated {
        Some((d, step, stamps)) => {
            let format = d.column.format;
            let last = d.stamps.last().expect("a date a row").format(format);
            let labels = stamps.iter().map(|s| s.format(format)).collect();
            (labels, format!("{}, {} `{}`", last, step.name(), d.column.column))
        }
        None => {
            ((1..=steps).map(|i| format!("+{i}")).collect(), "no date column: steps +1, +2, ...".to_string())
        }
    };
    let recursive = if steps > k {
        format!("; beyond {k} the forecasts are fed back (recursive)")
    } else {
        String::new()
    };
    eprintln!(
        "forecast of `{}` after its last value ({after}) in {} ({} values){recursive}",
        series.name,
        path.display(),
        series.values.len()
    );
    for (label, value) in labels.iter().zip(&values) {
        println!("{label}  {}", value_text(*value));
    }
    Ok(())
}

/// A value as the result table prints one: 3 decimals, 6 below 1.
fn value_text(v: f64) -> String {
    if v.abs() < 1.0 {
        format!("{v:.6}")
    } else {
        format!("{v:.3}")
    }
}
