//! `recur summary`: each layer, its tensors and parameter counts (Keras' `summary()`).

use clap::Args;
use recur::io::run_dir::{RunDir, TaskKind};
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
    println!("{:<16} {:<28} {:>14} {:>12}", "layer", "tensor", "shape", "params");
    println!("{}", "-".repeat(73));
    for row in &rows {
        if row.tensors.is_empty() {
            println!("{:<16} {:<28} {:>14} {:>12}", row.layer, "(no parameters)", "", 0);
            continue;
        }
        for (i, (name, shape)) in row.tensors.iter().enumerate() {
            let count: usize = shape.iter().product();
            let layer = if i == 0 { row.layer.as_str() } else { "" };
            println!("{layer:<16} {name:<28} {:>14} {:>12}", format!("{shape:?}"), group(count));
        }
        println!("{:<16} {:<28} {:>14} {:>12}", "", "", "layer total", group(row.params));
    }
    println!("{}", "-".repeat(73));
    println!("Total params: {}", group(rows.iter().map(|r| r.params).sum()));
    Ok(())
}

/// 1234567 -> "1,234,567".
fn group(n: usize) -> String {
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
