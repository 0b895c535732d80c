//! `recur generate`: text from a trained language model, primed with start words.

use clap::Args;
use recur::data::{EOS, UNK};
use recur::io::run_dir::RunDir;
use recur::models::{beam_generate, generate, Sampling};
use recur::tensor::Rng;
use recur::{Error, Result};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Run directory written by `recur train` (or a PyTorch model in the same layout).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Words that prime the state (default: the sentence start `<eos>`).
    #[arg(long, default_value = "")]
    start: String,
    /// Tokens to generate (words, or characters for a character-level model).
    #[arg(long, default_value_t = 100)]
    words: usize,
    /// Softmax temperature (0 = always the most likely word).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    temperature: f64,
    /// Sample among the K most likely words only (0 = all).
    #[arg(long, default_value_t = 0, value_name = "K")]
    top_k: usize,
    /// Words never generated, comma-separated [default: <unk>, when the vocabulary has it].
    #[arg(long, value_delimiter = ',')]
    skip: Option<Vec<String>>,
    /// Seed of the sampling (the same seed gives the same text).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Instead of sampling, the most likely continuation as a whole, by a beam search keeping K
    /// hypotheses (1 = greedy, the same as --temperature 0); its log-probability goes to stderr.
    #[arg(long, value_name = "K", conflicts_with_all = ["temperature", "top_k"])]
    beam: Option<usize>,
}

pub fn run(args: GenerateArgs) -> Result<()> {
    if !(args.temperature.is_finite() && args.temperature >= 0.0) {
        return Err(Error::msg(format!("--temperature must be 0 or positive (got {})", args.temperature)));
    }
    let mut loaded = RunDir::open(&args.model)?.load_lm()?;
    let vocab = &loaded.vocab;
    let words = loaded.config.tokenizer.words(&args.start);
    let mut start = Vec::with_capacity(words.len() + 1);
    // Prime from a sentence start, as the model saw every sentence in training.
    start.extend(vocab.id(EOS));
    let mut unknown = Vec::new();
    for w in &words {
        if vocab.id(w).is_none() {
            unknown.push(w.as_str());
        }
        start.push(vocab.id_or_unk(w).map_err(|m| Error::msg(format!("--start: {m}")))?);
    }
    if !unknown.is_empty() {
        eprintln!("note: --start words not in the model's vocabulary, read as <unk>: {}", unknown.join(", "));
    }
    if start.is_empty() {
        return Err(Error::msg(format!(
            "--start is empty and the vocabulary has no {EOS}: give start words"
        )));
    }
    let skip = match &args.skip {
        None => vocab.id(UNK).into_iter().collect(),
        Some(words) => words
            .iter()
            .map(|w| {
                vocab.id(w.trim()).ok_or_else(|| {
                    Error::msg(format!(
                        "--skip: `{}` is not in the model's vocabulary ({} words), so it could never be generated",
                        w.trim(),
                        vocab.len()
                    ))
                })
            })
            .collect::<Result<Vec<u32>>>()?,
    };
    let ids = match args.beam {
        Some(0) => return Err(Error::msg("--beam must be at least 1 (1 = greedy)")),
        Some(width) => {
            let best = beam_generate(&mut loaded.model, &start, args.words, &skip, width);
            eprintln!(
                "beam search of width {width}: log P = {:.3} over {} tokens",
                best.log_prob,
                best.tokens.len()
            );
            best.tokens
        }
        None => {
            let sampling = Sampling { temperature: args.temperature, top_k: args.top_k, skip };
            generate(&mut loaded.model, &start, args.words, &sampling, &mut Rng::new(args.seed))
        }
    };
    let tokenizer = loaded.config.tokenizer;
    let generated = ids.iter().map(|&id| vocab.word(id));
    let text = tokenizer.join(words.iter().map(String::as_str).chain(generated));
    println!("{text}");
    Ok(())
}
