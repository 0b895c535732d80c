//! Command-line interface: flags (clap) and one function per subcommand. Library errors come
//! back as `recur::Error`; `main` prints them on one line and exits with code 2.

mod bench;
mod classify;
mod data;
mod eval;
mod fit;
mod flags;
mod forecast;
mod generate;
mod presets;
mod score;
mod seq2seq;
mod summary;
mod train;

use clap::{Parser, Subcommand};
use recur::io::run_dir::MODEL;
use recur::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "recur",
    version,
    about = "Recurrent neural networks with explicit forward and backward passes"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a language model (default: the book's chapter-5 RNN LM on the built-in corpus).
    Train(Box<train::TrainArgs>),
    /// Perplexity of a trained model on a PTB split or a text file.
    Eval(eval::EvalArgs),
    /// Log-probability of sentences under a trained model, best first.
    Score(score::ScoreArgs),
    /// Generate text from a trained language model.
    Generate(generate::GenerateArgs),
    /// Layers, tensor shapes and parameter counts of a trained model.
    Summary(summary::SummaryArgs),
    /// Encoder-decoder on `input<TAB>output` pairs or the built-in addition task (train, eval).
    #[command(subcommand)]
    Seq2seq(seq2seq::Seq2seqCommand),
    /// Time-series forecasting: an RNN against the baselines, on a CSV column or synthetic series.
    #[command(subcommand)]
    Forecast(forecast::ForecastCommand),
    /// Text classification on `text<TAB>label` files (train, eval, predict, summary).
    #[command(subcommand)]
    Classify(classify::ClassifyCommand),
    /// Download datasets.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Time training steps (tokens/s, FLOP rate and its share of the GEMM rate, peak memory) or the GEMM; bench/suite.py runs the references beside it.
    Bench(bench::BenchArgs),
}

/// Runs the command on a worker of the GEMM's thread pool (`recur::tensor::threads` says why):
/// `bench --threads N` sets its size, every other command gets one thread per core.
pub fn run(cli: Cli) -> Result<()> {
    let threads = match &cli.command {
        Command::Bench(args) => args.threads,
        _ => 0,
    };
    recur::tensor::threads::on_pool(threads, || command(cli.command))?
}

fn command(command: Command) -> Result<()> {
    match command {
        Command::Train(args) => train::run(*args),
        Command::Eval(args) => eval::run(args),
        Command::Score(args) => score::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Summary(args) => summary::run(args),
        Command::Seq2seq(cmd) => seq2seq::run(cmd),
        Command::Forecast(cmd) => forecast::run(cmd),
        Command::Classify(cmd) => classify::run(cmd),
        Command::Data(cmd) => data::run(cmd),
        Command::Bench(args) => bench::run(args),
    }
}

/// `--out` if given (refusing to replace a trained model unless `--overwrite`), else the first
/// free `runs/<stem>-NNN`.
pub(crate) fn choose_out_dir(out: Option<&Path>, overwrite: bool, stem: &str) -> Result<PathBuf> {
    if let Some(dir) = out {
        let model = dir.join(MODEL);
        if model.exists() && !overwrite {
            return Err(Error::file(
                &model,
                "a trained model is already here; choose another --out or pass --overwrite",
            ));
        }
        return Ok(dir.to_path_buf());
    }
    (1..10_000)
        .map(|i| PathBuf::from(format!("runs/{stem}-{i:03}")))
        .find(|p| !p.exists())
        .ok_or_else(|| Error::msg(format!("runs/ holds 9999 {stem} directories already; pass --out DIR")))
}
