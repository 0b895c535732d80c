//! `recur score`: the log-probability of each sentence by the chain rule,
//! `log P(w_1..w_n) = sum_t log P(w_t | <eos>, w_1..w_{t-1})`, best first.

use clap::Args;
use recur::data::EOS;
use recur::io::read_text;
use recur::io::run_dir::RunDir;
use recur::{Error, Result};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// Run directory written by `recur train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// A file of sentences to score, one a line (blank lines skipped).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Sentences to score (quote each one).
    #[arg(value_name = "SENTENCE")]
    sentences: Vec<String>,
}

pub fn run(args: ScoreArgs) -> Result<()> {
    let mut sentences = args.sentences.clone();
    if let Some(path) = &args.file {
        let before = sentences.len();
        sentences.extend(read_text(path)?.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from));
        if sentences.len() == before {
            return Err(Error::file(path, "has no sentences; expected one sentence a line"));
        }
    }
    if sentences.is_empty() {
        return Err(Error::msg("nothing to score: give sentences as arguments or --file FILE (one a line)"));
    }
    let mut loaded = RunDir::open(&args.model)?.load_lm()?;
    let start = loaded.vocab.id(EOS);
    let mut scored = Vec::new();
    let mut unknown = 0;
    for sentence in &sentences {
        let words = loaded.config.tokenizer.words(sentence);
        let mut ids = Vec::with_capacity(words.len() + 1);
        ids.extend(start); // condition the first word on a sentence start when the vocabulary has one
        for w in &words {
            unknown += usize::from(loaded.vocab.id(w).is_none());
            ids.push(
                loaded.vocab.id_or_unk(w).map_err(|m| Error::msg(format!("sentence {sentence:?}: {m}")))?,
            );
        }
        if ids.len() < 2 {
            return Err(Error::msg(format!(
                "sentence {sentence:?}: needs at least {} word(s) to score",
                if start.is_some() { 1 } else { 2 }
            )));
        }
        let n = ids.len() - 1;
        let xs = ndarray::Array2::from_shape_vec((1, n), ids[..n].to_vec()).expect("1 x n");
        let ts = ndarray::Array2::from_shape_vec((1, n), ids[1..].to_vec()).expect("1 x n");
        loaded.model.reset_state();
        let mean_loss = loaded.model.forward(xs.view(), ts.view()) as f64;
        scored.push((-mean_loss * n as f64, mean_loss.exp(), n, sentence));
    }
    let unit = if loaded.config.tokenizer.is_char() { "character" } else { "word" };
    if unknown > 0 {
        println!("{unknown} {unit}(s) not in the model's vocabulary are read as <unk>");
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (logp, ppl, n, sentence) in scored {
        println!("log P = {logp:9.3}  per-{unit} perplexity = {ppl:9.2}  ({n} {unit}s)  {sentence}");
    }
    Ok(())
}
