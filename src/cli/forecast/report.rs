//! What a forecast run reports: the table of every model's validation and test error (printed;
//! computed by `recur::tasks::forecast::result`) and the layer summary; the forecast-against-truth
//! plot is `plot.rs`'s.

use recur::tasks::forecast::result::ForecastResult;
use recur::tasks::forecast::run::ForecastRunConfig;

pub fn print_table(result: &ForecastResult, config: &ForecastRunConfig) {
    let metric = result.metric.to_uppercase();
    let k = config.model.horizon;
    println!(
        "{} of the {k}-step forecast{} (network weights of epoch {}):",
        metric,
        if k == 1 { "" } else { "s" },
        result.epoch
    );
    println!("{:<32} {:>14} {:>14}", "model", format!("valid {metric}"), format!("test {metric}"));
    let cell = |v: Option<f64>| {
        v.map_or("-".to_string(), |v| if v < 1.0 { format!("{v:.6}") } else { format!("{v:.3}") })
    };
    for row in &result.rows {
        println!("{:<32} {:>14} {:>14}", row.model, cell(row.valid), cell(row.test));
    }
    if let Some(selection) = &result.selection {
        println!("{}", selection.describe(&metric));
    }
}
