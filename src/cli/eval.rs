//! `recur eval`: perplexity on a PTB split or a text file (the book's `eval_perplexity`).

use clap::Args;
use recur::data::corpus::encode_file_counted;
use recur::data::ptb::{self, Split};
use recur::io::run_dir::RunDir;
use recur::tasks::{eval_perplexity, lm::eval_shape};
use recur::{Error, Result};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Run directory written by `recur train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// PTB split to evaluate: train, valid or test.
    #[arg(long, conflicts_with = "text")]
    split: Option<String>,
    /// Folder holding the PTB files (default: $RECUR_DATA/ptb if set, else data/ptb, as
    /// `recur train`).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A text file to evaluate instead of a PTB split.
    #[arg(long, value_name = "FILE")]
    text: Option<PathBuf>,
    /// Streams read in parallel (the book: 10).
    #[arg(long, default_value_t = 10)]
    batch_size: usize,
    /// Time steps per block (the book: 35).
    #[arg(long, default_value_t = 35)]
    time_size: usize,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let mut loaded = RunDir::open(&args.model)?.load_lm()?;
    let (name, ids) = match (&args.split, &args.text) {
        (Some(split), None) => {
            let split = Split::parse(split)?;
            let dir = &recur::data::lm_data::ptb_dir(args.data_dir.as_deref());
            let name = format!("{split:?}").to_lowercase();
            if loaded.config.tokenizer.is_char() {
                let path = ptb::split_path(dir, split);
                (name, encode_file_counted(&path, loaded.config.tokenizer, &loaded.vocab)?.ids)
            } else {
                (name, ptb::load_split(dir, split, &loaded.vocab)?)
            }
        }
        (None, Some(path)) => {
            let encoded = encode_file_counted(path, loaded.config.tokenizer, &loaded.vocab)?;
            if encoded.unknown > 0 {
                println!(
                    "{}: {} of {} tokens are not in the model's vocabulary and are read as <unk>",
                    path.display(),
                    encoded.unknown,
                    encoded.ids.len()
                );
            }
            ("text".to_string(), encoded.ids)
        }
        _ => return Err(Error::msg("give either --split valid|test (PTB, from --data-dir), or --text FILE")),
    };
    if args.batch_size == 0 || args.time_size == 0 {
        return Err(Error::msg("--batch-size and --time-size must be at least 1"));
    }
    let (batch, time) = eval_shape(ids.len(), args.batch_size, args.time_size).ok_or_else(|| {
        Error::msg(format!("{name} has {} tokens: too few to measure a perplexity", ids.len()))
    })?;
    if (batch, time) != (args.batch_size, args.time_size) {
        println!(
            "{name} has {} tokens, too few for {} x {}: measured in blocks of {batch} x {time}",
            ids.len(),
            args.batch_size,
            args.time_size
        );
    }
    let ppl = eval_perplexity(&mut loaded.model, &ids, batch, time)?;
    println!("{} tokens, batch {batch} x {time}", ids.len());
    if loaded.config.tokenizer.is_char() {
        // Bits per character: the mean cross-entropy in bits, log2 of the perplexity.
        println!("{name} perplexity: {ppl:.3}, {:.4} bits per character", ppl.log2());
    } else {
        println!("{name} perplexity: {ppl:.2}");
    }
    Ok(())
}
