//! `recur seq2seq attend`: an attention run's answer for one input and its attention map (which
//! input character each output character read), drawn like the book's figure 8-26: the input's
//! characters across (in reading order, whatever order the encoder read them in), the output's
//! down (the last row the step that wrote `<eos>`), each cell the weight (white 1, black 0). Writes `--out` (a PNG, default `attention.png`
//! in the current folder) and the SVG beside it.

use super::AttendArgs;
use recur::data::pairs::CharVocab;
use recur::plot::{write_heatmap, HeatMap};
use recur::tasks::seq2seq::run::{load, Loaded};
use recur::{Error, Result};
use std::path::PathBuf;

pub(super) fn attend(args: AttendArgs) -> Result<()> {
    let Loaded { run, config, vocab, mut model } = load(&args.model)?;
    if config.model.attention.is_none() {
        return Err(Error::msg(format!(
            "{} was trained without attention; `recur seq2seq attend` needs a run trained with --attention",
            run.root.display()
        )));
    }
    let layout = &config.layout;
    let mut text_ids = layout.check_input(&vocab, &args.input)?;
    let len = text_ids.len();
    if layout.input_eos {
        text_ids.push(CharVocab::EOS);
    }
    let inputs = layout.encode_inputs(&vocab, std::iter::once(args.input.as_str()))?;
    let decoded =
        model.greedy_with_attention(inputs.view(), CharVocab::GO, CharVocab::EOS, layout.max_output_len + 1);
    let (ids, weights) = decoded.into_iter().next().expect("one input, one output");
    let answer = vocab.decode(&ids);
    println!("{}\t{answer}", args.input);
    let values: Vec<Vec<f64>> = weights
        .rows()
        .into_iter()
        .map(|row| {
            (0..text_ids.len()).map(|i| f64::from(row[layout.input_step(i, len)]).clamp(0.0, 1.0)).collect()
        })
        .collect();
    let label = |s: String| if s == " " { "\u{2423}".to_string() } else { s };
    let columns: Vec<String> = text_ids.iter().map(|&id| label(vocab.decode(&[id]))).collect();
    let mut rows: Vec<String> = ids.iter().map(|&id| label(vocab.decode(&[id]))).collect();
    if weights.nrows() > ids.len() {
        rows.push(vocab.decode(&[CharVocab::EOS])); // the step that ended the output
    }
    let title = format!("attention: {} -> {answer}", args.input);
    let map = HeatMap {
        title: &title,
        x_label: "input",
        y_label: "output",
        columns: &columns,
        rows: &rows,
        values: &values,
    };
    let (png, svg) = write_heatmap(&stem(args.out), &map)?;
    println!("wrote {} and {}", png.display(), svg.display());
    Ok(())
}

/// `--out` without its `.png` (or `.svg`) extension: the two images' common stem.
fn stem(out: PathBuf) -> PathBuf {
    match out.extension().and_then(|e| e.to_str()) {
        Some("png" | "svg") => out.with_extension(""),
        _ => out,
    }
}
