//! `recur summary`: each layer, its tensors and parameter counts (Keras' `summary()`).

use clap::Args;
use recur::io::run_dir::{RunDir, TaskKind};
use recur::models::LayerSummary;
use recur::Result;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// Run directory written by `recur train` (or `recur classify train`).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
}

pub fn run(args: SummaryArgs) -> Result<()> {
    let run = RunDir::open(&args.model)?;
    match run.task()? {
        TaskKind::Forecast => return super::forecast::print_summary_of(&args.model),
        TaskKind::Seq2seq => return super::seq2seq::print_summary_of(&args.model),
        TaskKind::Classify => return super::classify::print_summary_of(&args.model),
        TaskKind::Lm => {}
    }
    let loaded = run.load_lm()?;
    let rows = loaded.model.summary();
    print_table(&rows, 1);
    Ok(())
}

/// Each layer, its tensors (PyTorch names and shapes) and parameter counts, and the total, the
/// table every task's summary prints (Keras' `summary()`). An ensemble's `members` are alike, so
/// one is shown and the total counts them all.
pub(crate) fn print_table(rows: &[LayerSummary], members: usize) {
    let layer_width = rows.iter().map(|r| r.layer.len()).max().unwrap_or(5).max(16);
    let rule = "-".repeat(layer_width + 58);
    println!("{:<layer_width$} {:<28} {:>14} {:>12}", "layer", "tensor", "shape", "params");
    println!("{rule}");
    for row in rows {
        if row.tensors.is_empty() {
            println!("{:<layer_width$} {:<28} {:>14} {:>12}", row.layer, "(no parameters)", "", 0);
            continue;
        }
        for (i, (name, shape)) in row.tensors.iter().enumerate() {
            let count: usize = shape.iter().product();
            let layer = if i == 0 { row.layer.as_str() } else { "" };
            println!("{layer:<layer_width$} {name:<28} {:>14} {:>12}", format!("{shape:?}"), group(count));
        }
        println!("{:<layer_width$} {:<28} {:>14} {:>12}", "", "", "layer total", group(row.params));
    }
    println!("{rule}");
    let total: usize = rows.iter().map(|r| r.params).sum();
    if members > 1 {
        println!("Total params: {} ({members} ensemble members of {})", group(members * total), group(total));
    } else {
        println!("Total params: {}", group(total));
    }
}

/// 1234567 -> "1,234,567".
pub(crate) fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
