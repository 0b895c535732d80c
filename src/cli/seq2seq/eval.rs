//! `recur seq2seq eval`: a trained run's exact-match accuracy on its held-out pairs or a TSV file,
//! with a few examples and their decodings (the lines training prints after each epoch too).

use super::{EvalArgs, PredictArgs};
use recur::data::pairs::{self, Pair};
use recur::io::read_text;
use recur::tasks::seq2seq::decode_all;
use recur::tasks::seq2seq::run::{load, load_pairs, Loaded};
use recur::tensor::Rng;
use recur::{Error, Result};

/// A few held-out examples with their decodings, one line each.
pub(super) fn examples(pairs: &[Pair], decoded: &[String], count: usize) -> Vec<String> {
    pairs
        .iter()
        .zip(decoded)
        .take(count)
        .map(|(pair, got)| {
            if *got == pair.output {
                format!("    ok    {:?} -> {got:?}", pair.input)
            } else {
                format!("    wrong {:?} -> {got:?} (expected {:?})", pair.input, pair.output)
            }
        })
        .collect()
}

pub(super) fn eval(args: EvalArgs) -> Result<()> {
    if args.batch_size == 0 {
        return Err(Error::msg("--batch-size must be at least 1"));
    }
    let Loaded { config, vocab, mut model, .. } = load(&args.model)?;
    let (name, pairs) = match &args.tsv {
        Some(path) => {
            let numbered = pairs::read_numbered_pairs(path)?;
            for (line, pair) in &numbered {
                config.layout.check_input(&vocab, &pair.input).map_err(|m| Error::line(path, *line, m))?;
            }
            (path.display().to_string(), numbered.into_iter().map(|(_, p)| p).collect())
        }
        None => {
            let mut rng = Rng::new(config.train.seed);
            let (_, valid) = load_pairs(&config.train.data, config.train.valid_share, &mut rng)?;
            ("the held-out pairs".to_string(), valid)
        }
    };
    let decoded =
        decode_all(&mut model, &vocab, &config.layout, &pairs, args.batch_size, args.search.search()?)?;
    let correct = decoded.iter().zip(&pairs).filter(|(d, p)| **d == p.output).count();
    for line in examples(&pairs, &decoded, args.show) {
        println!("{line}");
    }
    println!("{} pairs of {name}", pairs.len());
    println!("accuracy: {:.4} ({correct}/{})", correct as f64 / pairs.len() as f64, pairs.len());
    Ok(())
}

/// `recur seq2seq predict`: each input and the model's output (greedy, or `--beam K`), one line
/// each.
pub(super) fn predict(args: PredictArgs) -> Result<()> {
    let Loaded { config, vocab, mut model, .. } = load(&args.model)?;
    let mut pairs: Vec<Pair> = Vec::new();
    for (i, input) in args.inputs.iter().enumerate() {
        config.layout.check_input(&vocab, input).map_err(|m| Error::msg(format!("input {}: {m}", i + 1)))?;
        pairs.push(Pair { input: input.clone(), output: String::new() });
    }
    if let Some(path) = &args.file {
        for (i, line) in read_text(path)?.lines().enumerate() {
            let input = line.split('\t').next().unwrap_or("");
            if input.trim().is_empty() {
                continue;
            }
            config.layout.check_input(&vocab, input).map_err(|m| Error::line(path, i + 1, m))?;
            pairs.push(Pair { input: input.to_string(), output: String::new() });
        }
    }
    if pairs.is_empty() {
        return Err(Error::msg("nothing to decode: give inputs as arguments or --file FILE (one a line)"));
    }
    let decoded = decode_all(&mut model, &vocab, &config.layout, &pairs, 500, args.search.search()?)?;
    for (pair, output) in pairs.iter().zip(decoded) {
        println!("{}\t{output}", pair.input);
    }
    Ok(())
}
