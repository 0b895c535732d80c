//! `recur seq2seq summary` (and `recur summary` on a seq2seq run): the model's layers, tensor
//! shapes and parameter counts.

use super::config::load;
use recur::models::LayerSummary;
use recur::Result;
use std::path::Path;

/// Prints the layers, tensors and parameter counts of the encoder-decoder in `dir` (`recur
/// summary` and `recur seq2seq summary`).
pub(crate) fn print_summary_of(dir: &Path) -> Result<()> {
    let loaded = load(dir)?;
    let c = &loaded.config.model;
    println!(
        "{}: seq2seq, {} x {}{}{}, V {}, D {}, H {}",
        loaded.run.root.display(),
        c.num_layers,
        c.cell.name().to_uppercase(),
        if c.peeky { ", peeky" } else { "" },
        if loaded.config.layout.reverse_input { ", reversed input" } else { "" },
        c.vocab_size,
        c.embed_size,
        c.hidden_size
    );
    print_rows(&loaded.model.summary());
    Ok(())
}

fn print_rows(rows: &[LayerSummary]) {
    let width = rows.iter().map(|r| r.layer.len()).max().unwrap_or(5).max(16);
    let rule = "-".repeat(width + 58);
    println!("{:<width$} {:<28} {:>14} {:>12}", "layer", "tensor", "shape", "params");
    println!("{rule}");
    for row in rows {
        if row.tensors.is_empty() {
            println!("{:<width$} {:<28} {:>14} {:>12}", row.layer, "(no parameters)", "", 0);
            continue;
        }
        for (i, (name, shape)) in row.tensors.iter().enumerate() {
            let layer = if i == 0 { row.layer.as_str() } else { "" };
            let count: usize = shape.iter().product();
            println!("{layer:<width$} {name:<28} {:>14} {:>12}", format!("{shape:?}"), group(count));
        }
        println!("{:<width$} {:<28} {:>14} {:>12}", "", "", "layer total", group(row.params));
    }
    println!("{rule}");
    println!("Total params: {}", group(rows.iter().map(|r| r.params).sum()));
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
