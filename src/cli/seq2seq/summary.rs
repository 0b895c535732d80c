//! `recur seq2seq summary` (and `recur summary` on a seq2seq run): the model's layers, tensor
//! shapes and parameter counts.

use recur::tasks::seq2seq::run::load;
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
        c.variant(),
        loaded.config.layout.describe(),
        c.vocab_size,
        c.embed_size,
        c.hidden_size
    );
    crate::cli::summary::print_table(&loaded.model.summary(), 1);
    Ok(())
}
